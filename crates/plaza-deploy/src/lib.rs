//! Renders the Kubernetes objects of a Plaza *container* app instance as deterministic,
//! multi-document YAML (Kubernetes 1.31 API): a ServiceAccount, the Secret that will hold the
//! capability token, a locked-down Deployment of the image pinned by digest, and a
//! NetworkPolicy that lets out only DNS and the granted egress.
//!
//! ```
//! use plaza_deploy::{render, RenderInput};
//!
//! let input: RenderInput = serde_json::from_str(r#"{
//!   "instance_id": "inst-9a3f",
//!   "spiffe_id": "spiffe://plaza.local/org/acme/team/payments/app/com.example.where2eat/instance/inst-9a3f",
//!   "org": "acme", "team": "payments",
//!   "app_id": "com.example.where2eat", "version": "1.2.0",
//!   "image": "ghcr.io/acme/where2eat@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
//!   "memory": "128Mi", "cpu_millis": 250
//! }"#).unwrap();
//! let yaml = render(&input).unwrap();
//! assert!(yaml.contains("kind: Deployment"));
//! assert!(yaml.contains("  namespace: plaza-payments\n"));
//! ```
//!
//! Pure: no network, no cluster, no clock. Resolving egress hosts to addresses is the caller's
//! job (see [`EgressTarget::addresses`]); the same input always renders the same bytes.
//!
//! The pipeline: [`RenderInput`] → `check` (every problem at once, as a [`RenderError`], or a
//! plan with defaults filled in) → `objects` / `netpol` (JSON values) → `yaml` (text).

pub mod error;
pub mod image;
pub mod input;
pub mod labels;
pub mod names;
pub mod netpol;
pub mod objects;
pub mod yaml;

mod check;

pub use check::DEFAULT_PORT;
pub use error::RenderError;
pub use input::{EgressTarget, RenderInput};

use serde_json::Value;

/// The first line of every rendering.
const HEADER: &str = "# Rendered by Plaza (plaza-deploy). Change the instance in Plaza and render again; do not edit.\n";

/// The objects of `input`, in apply order: ServiceAccount, Secret, Deployment, NetworkPolicy.
pub fn render_documents(input: &RenderInput) -> Result<Vec<Value>, RenderError> {
    let plan = check::check(input)?;
    Ok(vec![
        objects::service_account(&plan),
        objects::token_secret(&plan),
        objects::deployment(&plan),
        netpol::network_policy(&plan),
    ])
}

/// The objects of `input` as one multi-document YAML text, each document after a `---` line.
pub fn render(input: &RenderInput) -> Result<String, RenderError> {
    let mut out = String::from(HEADER);
    for doc in render_documents(input)? {
        out.push_str("---\n");
        out.push_str(&yaml::to_yaml(&doc));
    }
    Ok(out)
}
