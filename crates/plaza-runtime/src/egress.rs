//! The egress policy: which outgoing requests an invocation may make and to which addresses.
//!
//! A request is allowed when
//! 1. its scheme is `http` or `https` and its authority is `host[:port]` (port defaults to 80 for
//!    `http`, 443 for `https`);
//! 2. a granted entry matches it (`plaza_manifest::egress::EgressRule`: exact host or
//!    `*.domain`, the entry's port or 443 when it names none);
//! 3. the invocation has connections left (`max_connections`) and bytes left (`max_bytes`);
//! 4. the address it connects to is public — unless the authority is an operator-configured
//!    internal host (fixed address, no check) or the grant has `allow_private`. Names are
//!    resolved here, every resolved address must pass, and the connection goes to the checked
//!    address (no second lookup, so no DNS rebinding). IP literals are checked the same way.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use plaza_manifest::egress::EgressRule;

use crate::usage::DenialReason;

/// The outgoing access granted to one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressGrant {
    /// Granted manifest egress entries: `host[:port]` (port 443 when omitted) or `*.domain[:port]`.
    pub hosts: Vec<String>,
    /// Allow private, loopback and link-local addresses (for trusted on-premises apps).
    pub allow_private: bool,
    /// Request plus response body bytes per invocation.
    pub max_bytes: u64,
    /// Outgoing connections (one per request) per invocation.
    pub max_connections: u32,
}

impl Default for EgressGrant {
    /// Nothing granted.
    fn default() -> Self {
        EgressGrant {
            hosts: Vec::new(),
            allow_private: false,
            max_bytes: 10 * 1024 * 1024,
            max_connections: 16,
        }
    }
}

/// Where an allowed request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `host:port`, normalised (lowercase, no trailing dot).
    pub(crate) authority: String,
    /// The host name (or IP literal, without brackets).
    pub(crate) host: String,
    /// The port.
    pub(crate) port: u16,
    /// The fixed address of an internal host, which skips resolution and the address check.
    pub(crate) internal: Option<SocketAddr>,
}

/// The grant of one invocation, parsed once.
#[derive(Debug)]
pub(crate) struct EgressPolicy {
    rules: Vec<EgressRule>,
    pub(crate) allow_private: bool,
    pub(crate) max_bytes: u64,
    pub(crate) max_connections: u32,
}

impl EgressPolicy {
    /// Parses the granted entries; an entry that does not parse is logged and grants nothing.
    pub(crate) fn new(grant: &EgressGrant) -> Self {
        let rules = grant
            .hosts
            .iter()
            .filter_map(|entry| match EgressRule::parse(entry) {
                Ok(rule) => Some(rule),
                Err(e) => {
                    tracing::warn!(entry, error = %e.message, "ignoring an egress grant entry that does not parse");
                    None
                }
            })
            .collect();
        EgressPolicy {
            rules,
            allow_private: grant.allow_private,
            max_bytes: grant.max_bytes,
            max_connections: grant.max_connections,
        }
    }

    /// Steps 1 and 2: is this scheme and authority granted? Internal hosts get their address.
    pub(crate) fn authorize(
        &self,
        https: bool,
        authority: &str,
        internal: &HashMap<String, SocketAddr>,
    ) -> Result<Target, DenialReason> {
        let default_port = if https { 443 } else { 80 };
        let normalized = normalize_authority(authority, default_port)
            .ok_or_else(|| DenialReason::BadRequest(format!("bad authority `{authority}`")))?;
        let (host, port) = split_host_port(&normalized)
            .ok_or_else(|| DenialReason::BadRequest(format!("bad authority `{authority}`")))?;
        if !self.rules.iter().any(|rule| rule.allows(&host, port)) {
            return Err(DenialReason::NotGranted);
        }
        Ok(Target {
            internal: internal.get(&normalized).copied(),
            authority: normalized,
            host,
            port,
        })
    }
}

/// `Host[:port]` → `host:port` (lowercase, trailing dot dropped, default port filled in);
/// `None` for userinfo, empty hosts or bad ports.
pub(crate) fn normalize_authority(authority: &str, default_port: u16) -> Option<String> {
    if authority.is_empty() || authority.contains(['@', '/', '?', '#', ' ']) {
        return None;
    }
    let lower = authority.to_ascii_lowercase();
    let (host, port) = if let Some(rest) = lower.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        v6.parse::<Ipv6Addr>().ok()?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse::<u16>().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        (format!("[{v6}]"), port)
    } else {
        match lower.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse::<u16>().ok()?),
            None => (lower.clone(), default_port),
        }
    };
    let host = host.trim_end_matches('.');
    if host.is_empty() || port == 0 {
        return None;
    }
    Some(format!("{host}:{port}"))
}

/// `host:port` (normalised) → (host without brackets, port).
fn split_host_port(authority: &str) -> Option<(String, u16)> {
    let (host, port) = authority.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_owned(), port.parse().ok()?))
}

/// Why an address is not public, or `None` when apps may connect to it.
pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg = v6.segments();
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some("unique local (fc00::/7)")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("link-local (fe80::/10)")
            } else if seg[0] & 0xffc0 == 0xfec0 {
                Some("site-local (fec0::/10)")
            } else if seg[0] & 0xff00 == 0xff00 {
                Some("multicast")
            } else if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || seg[..6] == [0; 6] {
                // NAT64 (64:ff9b::/96) and IPv4-compatible (::/96) embed an IPv4 address.
                let v4 = Ipv4Addr::new(
                    (seg[6] >> 8) as u8,
                    seg[6] as u8,
                    (seg[7] >> 8) as u8,
                    seg[7] as u8,
                );
                forbidden_v4(v4)
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if o[0] == 0 {
        Some("unspecified (0.0.0.0/8)")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private (RFC 1918)")
    } else if ip.is_link_local() {
        Some("link-local (169.254.0.0/16, incl. cloud metadata)")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared address space / CGNAT (100.64.0.0/10)")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol assignments (192.0.0.0/24)")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("benchmarking (198.18.0.0/15)")
    } else if ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        Some("multicast, broadcast or reserved")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str]) -> EgressPolicy {
        EgressPolicy::new(&EgressGrant {
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..EgressGrant::default()
        })
    }

    #[test]
    fn authorities_match_grants_with_scheme_default_ports() {
        let p = policy(&[
            "api.example.com",
            "plaza.internal:80",
            "*.cdn.example.org:8443",
        ]);
        let none = HashMap::new();
        assert_eq!(
            p.authorize(true, "api.example.com", &none)
                .unwrap()
                .authority,
            "api.example.com:443"
        );
        assert_eq!(
            p.authorize(true, "API.example.com.:443", &none)
                .unwrap()
                .host,
            "api.example.com"
        );
        assert_eq!(
            p.authorize(false, "api.example.com", &none),
            Err(DenialReason::NotGranted)
        );
        assert!(p.authorize(false, "plaza.internal", &none).is_ok());
        assert!(p.authorize(true, "plaza.internal", &none).is_err());
        assert!(p.authorize(true, "a.cdn.example.org:8443", &none).is_ok());
        assert!(p.authorize(true, "cdn.example.org:8443", &none).is_err());
        assert!(p.authorize(true, "evil.com", &none).is_err());
        assert!(matches!(
            p.authorize(true, "user@api.example.com", &none),
            Err(DenialReason::BadRequest(_))
        ));
        assert!(p.authorize(true, "[::1]:443", &none).is_err());
    }

    #[test]
    fn internal_hosts_get_their_address() {
        let p = policy(&["plaza.internal:80"]);
        let addr: SocketAddr = "127.0.0.1:9999".parse().unwrap();
        let internal = HashMap::from([("plaza.internal:80".to_owned(), addr)]);
        assert_eq!(
            p.authorize(false, "plaza.internal", &internal)
                .unwrap()
                .internal,
            Some(addr)
        );
    }

    #[test]
    fn classifies_addresses() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(
                forbidden_address(bad.parse().unwrap()).is_some(),
                "{bad} should be refused"
            );
        }
        for good in [
            "93.184.215.14",
            "1.1.1.1",
            "100.128.0.1",
            "2606:4700::1111",
            "172.32.0.1",
        ] {
            assert!(
                forbidden_address(good.parse().unwrap()).is_none(),
                "{good} should be allowed"
            );
        }
    }
}
