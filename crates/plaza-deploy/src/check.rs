//! Checks a [`RenderInput`] field by field, collecting every problem, and resolves the
//! defaults: the result, a [`Plan`], is what the object builders read.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::error::RenderError;
use crate::image::check_image;
use crate::input::RenderInput;
use crate::names::{
    is_dns1123_label, is_dns1123_subdomain, is_label_value, object_name, MAX_LABEL,
};

/// The container port when the input names none.
pub const DEFAULT_PORT: u16 = 8080;

/// A checked input with its defaults filled in.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub input: &'a RenderInput,
    /// Name of the ServiceAccount and Deployment, and `app.kubernetes.io/instance`.
    pub name: String,
    pub namespace: String,
    pub secret_name: String,
    pub port: u16,
    /// Granted egress, sorted by host and port, duplicates merged.
    pub egress: Vec<Egress>,
}

/// One granted destination, ready for the NetworkPolicy.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Egress {
    pub host: String,
    pub port: u16,
    /// Sorted, without duplicates; empty when the host could not be resolved.
    pub addresses: Vec<IpAddr>,
}

/// Collects problems with their field paths.
#[derive(Default)]
struct Problems(Vec<RenderError>);

impl Problems {
    fn empty(&mut self, field: impl Into<String>, hint: impl Into<String>) {
        self.0.push(RenderError::Empty {
            field: field.into(),
            hint: hint.into(),
        });
    }
    fn invalid(
        &mut self,
        field: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.0.push(RenderError::Invalid {
            field: field.into(),
            value: value.into(),
            reason: reason.into(),
            hint: hint.into(),
        });
    }
}

/// Checks every field of `input`; on success, the plan to render.
pub(crate) fn check(input: &RenderInput) -> Result<Plan<'_>, RenderError> {
    let mut p = Problems::default();
    check_instance_id(&input.instance_id, &mut p);
    check_spiffe_id(&input.spiffe_id, &mut p);
    check_slug("org", &input.org, "acme", &mut p);
    check_slug("team", &input.team, "payments", &mut p);
    check_app_id(&input.app_id, &mut p);
    check_version(&input.version, &mut p);
    if let Err(e) = check_image(&input.image) {
        p.0.push(e);
    }
    let namespace = input
        .namespace
        .clone()
        .unwrap_or_else(|| format!("plaza-{}", input.team));
    check_namespace(input, &namespace, &mut p);
    check_memory(&input.memory, &mut p);
    if input.cpu_millis == 0 {
        p.invalid(
            "cpu_millis",
            "0",
            "a container needs some CPU",
            "give the manifest's `resources.cpu` in millicores, e.g. 250 for `250m`",
        );
    }
    if input.port == Some(0) {
        p.invalid(
            "port",
            "0",
            "0 is not a port",
            "give the port the container listens on (1-65535), or leave it out for 8080",
        );
    }
    let egress = check_egress(input, &mut p);
    for key in input.tags.keys() {
        if key.trim().is_empty() {
            p.empty(
                format!("tags[{key:?}]"),
                "a tag needs a name; drop the tag or name it (e.g. `cost-center`)",
            );
        }
    }
    let name = object_name(&input.app_id, &input.instance_id);
    let secret_name = match &input.token_secret_name {
        Some(s) => {
            if s.is_empty() {
                p.empty(
                    "token_secret_name",
                    format!("leave it out for the default `{name}-capability-token`"),
                );
            } else if !is_dns1123_subdomain(s) {
                p.invalid(
                    "token_secret_name",
                    s,
                    "a Secret name is a DNS-1123 subdomain (at most 253 of lowercase letters, \
                     digits, `-` and `.`, each part starting and ending with a letter or digit)",
                    format!("use e.g. `{name}-capability-token`, or leave it out for that default"),
                );
            }
            s.clone()
        }
        None => format!("{name}-capability-token"),
    };
    if let Some(e) = RenderError::from_problems(p.0) {
        return Err(e);
    }
    Ok(Plan {
        input,
        name,
        namespace,
        secret_name,
        port: input.port.unwrap_or(DEFAULT_PORT),
        egress,
    })
}

fn check_instance_id(id: &str, p: &mut Problems) {
    if id.is_empty() {
        p.empty(
            "instance_id",
            "give the id Plaza issued the instance, e.g. `inst-9a3f`",
        );
    } else if !is_label_value(id) {
        p.invalid(
            "instance_id",
            id,
            "it becomes the `plaza.dev/instance` label as written, so it must be a label value: \
             1-63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit",
            "use the id Plaza issued the instance, e.g. `inst-9a3f`",
        );
    }
}

/// A SPIFFE ID as the SPIFFE standard writes it: `spiffe://` trust-domain path, where the trust
/// domain is lowercase letters, digits, `.`, `-`, `_` and the path is non-empty segments of
/// letters, digits, `.`, `-`, `_` (not `.` or `..`).
fn check_spiffe_id(id: &str, p: &mut Problems) {
    const HINT: &str = "use the instance's SPIFFE ID as Plaza issued it, e.g. \
                        `spiffe://plaza.local/org/acme/team/payments/app/com.example.where2eat/instance/inst-9a3f`";
    if id.is_empty() {
        p.empty("spiffe_id", HINT);
        return;
    }
    let reason = match id.strip_prefix("spiffe://") {
        None => Some("a SPIFFE ID starts with `spiffe://`"),
        Some(rest) => {
            let (domain, path) = rest.split_once('/').unwrap_or((rest, ""));
            let domain_ok = !domain.is_empty()
                && domain.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
                });
            let path_ok = !path.is_empty()
                && path.split('/').all(|seg| {
                    !seg.is_empty()
                        && seg != "."
                        && seg != ".."
                        && seg
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
                });
            if id.len() > 2048 {
                Some("a SPIFFE ID is at most 2048 bytes")
            } else if !domain_ok {
                Some("the trust domain must be lowercase letters, digits, `.`, `-` and `_`")
            } else if !path_ok {
                Some(
                    "the path must be `/`-separated non-empty segments of letters, digits, `.`, \
                     `-` and `_` (no `.` or `..` segment, no trailing `/`)",
                )
            } else {
                None
            }
        }
    };
    if let Some(reason) = reason {
        p.invalid("spiffe_id", id, reason, HINT);
    }
}

fn check_slug(field: &str, s: &str, example: &str, p: &mut Problems) {
    let hint = format!("use the {field}'s slug, e.g. `{example}`");
    if s.is_empty() {
        p.empty(field, hint);
    } else if !is_dns1123_label(s) {
        p.invalid(
            field,
            s,
            "a slug is 1-63 lowercase letters, digits and `-`, starting and ending with a letter \
             or digit",
            hint,
        );
    }
}

fn check_app_id(id: &str, p: &mut Problems) {
    const HINT: &str = "use the manifest's `id`, e.g. `com.example.where2eat`";
    if id.is_empty() {
        p.empty("app_id", HINT);
        return;
    }
    let labels_ok = id.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if id.len() > 255 || !id.contains('.') || !labels_ok {
        p.invalid(
            "app_id",
            id,
            "an app id is reverse-DNS: at most 255 characters, two or more `.`-separated parts \
             of lowercase letters, digits and `-`",
            HINT,
        );
    }
}

fn check_version(v: &str, p: &mut Problems) {
    const HINT: &str = "use the manifest's `version`, e.g. `1.2.0`";
    if v.is_empty() {
        p.empty("version", HINT);
    } else if v.len() > 128
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
    {
        p.invalid(
            "version",
            v,
            "a version is at most 128 letters, digits, `.`, `-` and `+` (SemVer)",
            HINT,
        );
    }
}

fn check_namespace(input: &RenderInput, namespace: &str, p: &mut Problems) {
    match &input.namespace {
        Some(ns) if ns.is_empty() => p.empty(
            "namespace",
            format!("leave it out for the default `plaza-{}`", input.team),
        ),
        Some(ns) if !is_dns1123_label(ns) => p.invalid(
            "namespace",
            ns,
            "a namespace name is a DNS-1123 label: 1-63 lowercase letters, digits and `-`, \
             starting and ending with a letter or digit",
            "name an existing namespace, e.g. `plaza-payments`",
        ),
        None if namespace.len() > MAX_LABEL && is_dns1123_label(&input.team) => p.invalid(
            "namespace",
            namespace,
            "the default namespace `plaza-<team>` would be longer than 63 characters",
            "name the namespace explicitly (`--namespace NS`)",
        ),
        _ => {}
    }
}

/// A Kubernetes quantity for memory: a positive decimal number with an optional binary
/// (`Ki`…`Ei`) or decimal (`k`…`E`) suffix.
fn check_memory(m: &str, p: &mut Problems) {
    const HINT: &str = "use the manifest's `resources.memory`, e.g. `128Mi` or `1Gi`";
    if m.is_empty() {
        p.empty("memory", HINT);
        return;
    }
    let number_end = m
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(m.len());
    let (number, suffix) = m.split_at(number_end);
    let number_ok = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.matches('.').count() <= 1
        && number.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let suffix_ok = matches!(
        suffix,
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "k" | "M" | "G" | "T" | "P" | "E"
    );
    if !number_ok || !suffix_ok {
        p.invalid(
            "memory",
            m,
            "memory is a positive Kubernetes quantity: a number and one of the suffixes Ki, Mi, \
             Gi, Ti, Pi, Ei (powers of 1024) or k, M, G, T, P, E (powers of 1000)",
            HINT,
        );
    }
}

fn check_egress(input: &RenderInput, p: &mut Problems) -> Vec<Egress> {
    let mut merged: BTreeMap<(String, u16), Vec<IpAddr>> = BTreeMap::new();
    for (i, t) in input.egress.iter().enumerate() {
        let at = |f: &str| format!("egress[{i}].{f}");
        if t.port == 0 {
            p.invalid(
                at("port"),
                "0",
                "0 is not a port",
                "use the port that was granted (443 when the rule names none)",
            );
        }
        let literal = t.host.parse::<IpAddr>().ok();
        if t.host.is_empty() {
            p.empty(at("host"), "drop the entry or give the granted host");
        } else if literal.is_none() && !is_egress_host(&t.host) {
            p.invalid(
                at("host"),
                &t.host,
                "a host is an IP address, a lowercase DNS name (`api.example.com`) or a wildcard \
                 over a domain of two or more labels (`*.example.com`)",
                "use the host exactly as the egress grant names it",
            );
        }
        for (j, a) in t.addresses.iter().enumerate() {
            if a.is_unspecified() {
                p.invalid(
                    format!("egress[{i}].addresses[{j}]"),
                    a.to_string(),
                    "the unspecified address is not an address a host resolves to",
                    "drop it",
                );
            } else if literal.is_some_and(|l| l.to_canonical() != a.to_canonical()) {
                p.invalid(
                    format!("egress[{i}].addresses[{j}]"),
                    a.to_string(),
                    format!("the host `{}` is itself an address", t.host),
                    "leave `addresses` empty for an IP-address host",
                );
            }
        }
        let addresses = match literal {
            Some(l) => vec![l],
            None => t.addresses.clone(),
        };
        merged
            .entry((t.host.clone(), t.port))
            .or_default()
            .extend(addresses.into_iter().map(|a| a.to_canonical()));
    }
    merged
        .into_iter()
        .map(|((host, port), mut addresses)| {
            addresses.sort();
            addresses.dedup();
            Egress {
                host,
                port,
                addresses,
            }
        })
        .collect()
}

/// `name` or `*.name`: lowercase DNS labels, at most 253 characters; a wildcard's domain has
/// at least two labels.
fn is_egress_host(host: &str) -> bool {
    let (name, wildcard) = match host.strip_prefix("*.") {
        Some(n) => (n, true),
        None => (host, false),
    };
    name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= MAX_LABEL
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && (!wildcard || name.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::EgressTarget;

    pub(crate) fn sample() -> RenderInput {
        RenderInput {
            instance_id: "inst-9a3f".into(),
            spiffe_id: "spiffe://plaza.local/org/acme/team/payments/app/com.example.where2eat/instance/inst-9a3f".into(),
            org: "acme".into(),
            team: "payments".into(),
            app_id: "com.example.where2eat".into(),
            version: "1.2.0".into(),
            image: "ghcr.io/acme/where2eat@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            namespace: None,
            memory: "128Mi".into(),
            cpu_millis: 250,
            port: None,
            egress: vec![],
            tags: BTreeMap::new(),
            token_secret_name: None,
        }
    }

    #[test]
    fn defaults_are_filled_in() {
        let input = sample();
        let plan = check(&input).unwrap();
        assert_eq!(plan.name, "where2eat-inst-9a3f");
        assert_eq!(plan.namespace, "plaza-payments");
        assert_eq!(plan.secret_name, "where2eat-inst-9a3f-capability-token");
        assert_eq!(plan.port, 8080);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut input = sample();
        input.instance_id = String::new();
        input.spiffe_id = "spiffe://Plaza/x".into();
        input.org = "Acme".into();
        input.memory = "128MB".into();
        input.cpu_millis = 0;
        input.namespace = Some("Prod".into());
        input.image = "ghcr.io/acme/where2eat:1.2.0".into();
        input.egress = vec![EgressTarget {
            host: "10.0.0.5".into(),
            port: 0,
            addresses: vec!["10.0.0.6".parse().unwrap()],
        }];
        let err = check(&input).unwrap_err();
        let fields: Vec<&str> = err.problems().iter().filter_map(|e| e.field()).collect();
        assert_eq!(
            fields,
            [
                "instance_id",
                "spiffe_id",
                "org",
                "image",
                "namespace",
                "memory",
                "cpu_millis",
                "egress[0].port",
                "egress[0].addresses[0]",
            ]
        );
        let text = err.to_string();
        assert!(
            text.starts_with("9 problems in the render input:"),
            "{text}"
        );
    }

    #[test]
    fn memory_quantities() {
        for ok in ["128Mi", "1Gi", "512M", "1.5Gi", "1000000", "64k"] {
            let mut p = Problems::default();
            check_memory(ok, &mut p);
            assert!(p.0.is_empty(), "{ok}");
        }
        for bad in [
            "0", "0Mi", "128MB", "128mi", "Mi", "1..5Gi", ".5Gi", "-1Gi", "100m", " 1Gi",
        ] {
            let mut p = Problems::default();
            check_memory(bad, &mut p);
            assert_eq!(p.0.len(), 1, "{bad}");
        }
    }

    #[test]
    fn egress_hosts() {
        for ok in ["api.example.com", "*.example.com", "localhost", "a-b.c"] {
            assert!(is_egress_host(ok), "{ok}");
        }
        for bad in [
            "*",
            "*.com",
            "API.example.com",
            "a..b",
            "-a.b",
            "https://a.b",
            "a.b:443",
        ] {
            assert!(!is_egress_host(bad), "{bad}");
        }
    }

    #[test]
    fn egress_is_sorted_and_merged() {
        let mut input = sample();
        input.egress = vec![
            EgressTarget {
                host: "b.example.com".into(),
                port: 443,
                addresses: vec![
                    "203.0.113.9".parse().unwrap(),
                    "2001:db8::1".parse().unwrap(),
                ],
            },
            EgressTarget {
                host: "a.example.com".into(),
                port: 443,
                addresses: vec![],
            },
            EgressTarget {
                host: "b.example.com".into(),
                port: 443,
                addresses: vec![
                    "203.0.113.1".parse().unwrap(),
                    "::ffff:203.0.113.9".parse().unwrap(),
                ],
            },
        ];
        let plan = check(&input).unwrap();
        let got: Vec<(&str, Vec<String>)> = plan
            .egress
            .iter()
            .map(|e| {
                (
                    e.host.as_str(),
                    e.addresses.iter().map(|a| a.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a.example.com", vec![]),
                (
                    "b.example.com",
                    vec![
                        "203.0.113.1".into(),
                        "203.0.113.9".into(),
                        "2001:db8::1".into()
                    ]
                ),
            ]
        );
    }
}
