//! What [`render`](crate::render) needs to know about one container app instance, as the API
//! knows it. Plain data, deserialisable from JSON (unknown fields are refused, so a typo is
//! an error rather than a silently dropped setting); [`render`](crate::render) checks it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One container app instance, to be rendered as Kubernetes objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderInput {
    /// Plaza's instance id, e.g. `inst-9a3f`: becomes the `plaza.dev/instance` label exactly,
    /// so it must be a valid label value (1–63 of letters, digits, `-`, `_`, `.`).
    pub instance_id: String,
    /// The instance's SPIFFE ID, e.g.
    /// `spiffe://plaza.local/org/acme/team/payments/app/com.example.where2eat/instance/inst-9a3f`.
    pub spiffe_id: String,
    /// Slug of the org that owns the instance.
    pub org: String,
    /// Slug of the team that installed the instance.
    pub team: String,
    /// Reverse-DNS app id, e.g. `com.example.where2eat`.
    pub app_id: String,
    /// The app version, e.g. `1.2.0`.
    pub version: String,
    /// The container image, pinned by digest: `registry/repo@sha256:<64 hex>`.
    pub image: String,
    /// Namespace of every object; `plaza-<team>` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Memory, as the manifest's `resources.memory` (a Kubernetes quantity such as `128Mi`);
    /// both request and limit.
    pub memory: String,
    /// CPU in millicores (the manifest's `resources.cpu`, normalised); both request and limit.
    pub cpu_millis: u32,
    /// The port the container listens on; 8080 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The egress the instance was granted (not merely requested).
    #[serde(default)]
    pub egress: Vec<EgressTarget>,
    /// The instance's tags (cost center, product, …): labels (sanitised) and an annotation
    /// (as given).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Name of the Secret that holds the capability token; `<name>-capability-token` when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_secret_name: Option<String>,
}

/// One granted egress destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressTarget {
    /// The host as granted: `api.example.com`, `*.example.com` or an IP address `10.0.0.5`.
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// The host's addresses, resolved by the caller at render time; may be empty. Must be
    /// empty (or the address itself) when `host` is an IP address.
    #[serde(default)]
    pub addresses: Vec<IpAddr>,
}
