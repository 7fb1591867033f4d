//! The NetworkPolicy of an instance (`networking.k8s.io/v1`): nothing in or out but what the
//! instance was granted.
//!
//! - Ingress: the container port, from pods of the same namespace only (a `podSelector`
//!   without a `namespaceSelector` means "this namespace").
//! - Egress: DNS (UDP and TCP 53) to kube-dns in `kube-system`, and for each granted target its
//!   TCP port to an `ipBlock` (`/32`, `/128`) per address. An IP-address host is its own
//!   address.
//!
//! A plain NetworkPolicy cannot name a host, only addresses. The caller resolves each granted
//! host at render time and passes its addresses; a host with none (a wildcard, or a name that
//! did not resolve) gets no rule at all, so it stays blocked, and is listed in the annotation
//! `plaza.dev/egress-unresolved`. Re-render when addresses change, or use a CNI with FQDN
//! policies (Cilium, Calico Enterprise) for such hosts.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use crate::check::{Egress, Plan};
use crate::labels::INSTANCE_LABEL;
use crate::objects::metadata;

/// The annotation that lists granted `host:port`s the policy could not allow.
pub const UNRESOLVED_ANNOTATION: &str = "plaza.dev/egress-unresolved";
/// The annotation that records the granted egress and the addresses it was rendered with.
pub const EGRESS_ANNOTATION: &str = "plaza.dev/egress";

/// The NetworkPolicy document.
pub(crate) fn network_policy(plan: &Plan<'_>) -> Value {
    let mut pod_selector = Map::new();
    pod_selector.insert(INSTANCE_LABEL.into(), plan.input.instance_id.clone().into());
    let mut egress = vec![dns_rule()];
    egress.extend(plan.egress.iter().filter_map(egress_rule));
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(plan, &plan.name, &extra_annotations(&plan.egress)),
        "spec": {
            "podSelector": {"matchLabels": pod_selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{
                "from": [{"podSelector": {}}],
                "ports": [{"protocol": "TCP", "port": plan.port}],
            }],
            "egress": egress,
        },
    })
}

fn extra_annotations(egress: &[Egress]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !egress.is_empty() {
        let granted: Vec<Value> = egress
            .iter()
            .map(|e| {
                let addresses: Vec<String> = e.addresses.iter().map(IpAddr::to_string).collect();
                json!({"host": e.host, "port": e.port, "addresses": addresses})
            })
            .collect();
        out.push((EGRESS_ANNOTATION, Value::Array(granted).to_string()));
    }
    let unresolved: Vec<String> = egress
        .iter()
        .filter(|e| e.addresses.is_empty())
        .map(|e| format!("{}:{}", e.host, e.port))
        .collect();
    if !unresolved.is_empty() {
        out.push((UNRESOLVED_ANNOTATION, unresolved.join(",")));
    }
    out
}

/// DNS to the cluster's resolver only.
fn dns_rule() -> Value {
    json!({
        "to": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }],
        "ports": [
            {"protocol": "UDP", "port": 53},
            {"protocol": "TCP", "port": 53},
        ],
    })
}

/// The rule for one granted target; none when it has no address.
fn egress_rule(e: &Egress) -> Option<Value> {
    if e.addresses.is_empty() {
        return None;
    }
    let to: Vec<Value> = e
        .addresses
        .iter()
        .map(|a| json!({"ipBlock": {"cidr": cidr(*a)}}))
        .collect();
    Some(json!({"to": to, "ports": [{"protocol": "TCP", "port": e.port}]}))
}

/// The one-address CIDR of `a`.
pub fn cidr(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v4) => format!("{v4}/32"),
        IpAddr::V6(v6) => format!("{v6}/128"),
    }
}
