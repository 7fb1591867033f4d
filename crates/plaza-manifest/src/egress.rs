//! Egress allowlist rules: `host[:port]`.
//!
//! ```text
//! rule     = host [ ":" port ]          ; port 1–65535; port 443 when omitted
//! host     = name / "*." name           ; the wildcard covers every subdomain, not name itself
//! name     = label *( "." label )       ; lowercase; IPv4 addresses are names of digits
//! label    = 1*63( lower / digit / "-" ), not starting or ending with "-"
//! ```
//!
//! A wildcard must leave at least two labels (`*.example.com`, not `*.com`); a bare `*` is never
//! allowed. No scheme, no path, no IPv6 literals.

use crate::error::Invalid;

/// The port a rule without `:port` allows.
pub const DEFAULT_PORT: u16 = 443;

/// Which hosts a rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    /// Exactly this host.
    Exact(String),
    /// Any strict subdomain of this domain (`*.example.com` → `example.com`).
    Subdomains(String),
}

/// A parsed egress rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EgressRule {
    /// The host or host pattern.
    pub host: HostPattern,
    /// The port, when one is given.
    pub port: Option<u16>,
}

impl EgressRule {
    /// Parses `host[:port]`.
    pub fn parse(s: &str) -> Result<EgressRule, Invalid> {
        parse(s)
    }

    /// The port this rule allows ([`DEFAULT_PORT`] when none is written).
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }

    /// Whether a connection to `host:port` is allowed by this rule.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        if port != self.effective_port() {
            return false;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        match &self.host {
            HostPattern::Exact(h) => *h == host,
            HostPattern::Subdomains(d) => host
                .strip_suffix(d.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        }
    }
}

fn parse(s: &str) -> Result<EgressRule, Invalid> {
    let example = "write `host` or `host:port`, e.g. `api.example.com` or `db.example.com:5432`";
    if s.is_empty() {
        return Err(Invalid::new("egress rule is empty").hint(example));
    }
    if let Some((_, rest)) = s.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        return Err(
            Invalid::new(format!("egress rule `{s}` includes a URL scheme"))
                .hint(format!("write only the host: `{host}`")),
        );
    }
    if s.starts_with('[') || s.matches(':').count() > 1 {
        return Err(Invalid::new(format!(
            "egress rule `{s}` looks like an IPv6 address, which is not supported"
        ))
        .hint("use a host name"));
    }
    if let Some((host, _)) = s.split_once(['/', '?', '#']) {
        return Err(Invalid::new(format!("egress rule `{s}` includes a path"))
            .hint(format!("egress is per host, not per path: `{host}`")));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(parse_port(s, p)?)),
        None => (s, None),
    };
    if host == "*" {
        return Err(Invalid::new(format!("egress rule `{s}` would allow every host"))
            .hint("list each host the app talks to; `*.example.com` allows the subdomains of one domain"));
    }
    if host.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(
            Invalid::new(format!("egress host `{host}` contains uppercase letters")).hint(format!(
                "write it in lowercase: `{}`",
                s.to_ascii_lowercase()
            )),
        );
    }
    if host.ends_with('.') {
        return Err(
            Invalid::new(format!("egress host `{host}` ends with a dot")).hint(format!(
                "remove the trailing dot: `{}`",
                host.trim_end_matches('.')
            )),
        );
    }
    let pattern = if let Some(domain) = host.strip_prefix("*.") {
        check_name(s, domain)?;
        if domain.split('.').count() < 2 {
            return Err(
                Invalid::new(format!("wildcard `{host}` covers a whole top-level domain"))
                    .hint("a wildcard needs at least two labels after `*.`, e.g. `*.example.com`"),
            );
        }
        HostPattern::Subdomains(domain.to_owned())
    } else {
        if host.contains('*') {
            return Err(Invalid::new(format!(
                "egress host `{host}` has a wildcard that is not the whole leftmost label"
            ))
            .hint("only `*.` at the start is allowed, e.g. `*.example.com`"));
        }
        check_name(s, host)?;
        HostPattern::Exact(host.to_owned())
    };
    Ok(EgressRule {
        host: pattern,
        port,
    })
}

fn parse_port(rule: &str, p: &str) -> Result<u16, Invalid> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::new(format!(
            "egress rule `{rule}` has port `{p}`, which is not a number"
        ))
        .hint("a port is a number from 1 to 65535; omit it to allow port 443"));
    }
    match p.parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        _ => Err(Invalid::new(format!(
            "egress rule `{rule}` has port {p}, outside 1–65535"
        ))
        .hint("a port is a number from 1 to 65535; omit it to allow port 443")),
    }
}

fn check_name(rule: &str, name: &str) -> Result<(), Invalid> {
    if name.is_empty() {
        return Err(Invalid::new(format!("egress rule `{rule}` has no host")));
    }
    if name.len() > 253 {
        return Err(Invalid::new(format!(
            "egress host in `{rule}` is longer than 253 characters"
        )));
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(Invalid::new(format!(
                "egress rule `{rule}` has an invalid host label `{label}`"
            ))
            .hint("host labels are 1–63 lowercase letters, digits or hyphens, not starting or ending with a hyphen"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules() {
        let r = EgressRule::parse("api.example.com").unwrap();
        assert_eq!(r.host, HostPattern::Exact("api.example.com".into()));
        assert_eq!(r.port, None);
        assert!(r.allows("api.example.com", 443));
        assert!(!r.allows("api.example.com", 80));
        let r = EgressRule::parse("*.example.com:8443").unwrap();
        assert!(r.allows("a.example.com", 8443));
        assert!(r.allows("a.b.example.com", 8443));
        assert!(!r.allows("example.com", 8443));
        assert!(!r.allows("badexample.com", 8443));
        assert!(EgressRule::parse("10.0.0.1:5432").is_ok());
        assert!(EgressRule::parse("localhost:8080").is_ok());
    }

    #[test]
    fn rejects_bad_rules() {
        for s in [
            "",
            "*",
            "*:443",
            "https://api.example.com",
            "api.example.com/v1",
            "API.example.com",
            "*.com",
            "api.*.com",
            "a*.example.com",
            "x.com:0",
            "x.com:65536",
            "x.com:http",
            "[::1]:443",
            "-a.com",
            "a..com",
            "x.com.",
        ] {
            assert!(EgressRule::parse(s).is_err(), "{s}");
        }
        assert_eq!(
            EgressRule::parse("https://api.example.com/v1")
                .unwrap_err()
                .hint
                .as_deref(),
            Some("write only the host: `api.example.com`")
        );
    }
}
