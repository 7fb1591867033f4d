//! What an app version asks for, read from its normalised manifest and said in plain words for
//! the consent screen, and how a consent (the optional scopes refused) becomes a [`Grant`].

use super::{Grant, ResourceLimits};
use crate::ids::UserId;
use chrono::{DateTime, Utc};
use plaza_manifest::quantity::{format_memory, parse_cpu, parse_memory};
use plaza_manifest::Manifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One credential of the manifest's `permissions`, with its scopes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedCredential {
    /// The permission's name (`user_calendar`).
    pub name: String,
    /// Its type (`oauth2`, `platform`, `api-key`).
    pub kind: String,
    /// Why the app needs it, as the author wrote it.
    pub description: Option<String>,
    /// Scopes the app cannot work without.
    pub required: Vec<String>,
    /// Scopes an admin may refuse.
    pub optional: Vec<String>,
}

/// Everything a version asks to be allowed, for the consent screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionRequest {
    /// The app.
    pub app_id: String,
    /// The version.
    pub version: String,
    /// Credentials and their scopes.
    pub credentials: Vec<RequestedCredential>,
    /// Outbound hosts (`host[:port]`).
    pub egress: Vec<String>,
    /// Resource limits.
    pub resources: ResourceLimits,
    /// `runtime/runtimeVersion`.
    pub runtime: String,
    /// The request in plain words, one line per item.
    pub summary: Vec<String>,
}

/// Why a consent cannot be turned into a grant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// Required scopes were refused: the app cannot be installed without them.
    #[error(
        "the app cannot work without {}: required scopes cannot be refused; grant them or do not \
         install this version",
        .0.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
    )]
    RequiredRefused(Vec<String>),
    /// Refused scopes the version does not ask for.
    #[error(
        "this version does not ask for {}; refuse only optional scopes it requests",
        .0.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
    )]
    NotRequested(Vec<String>),
}

impl PermissionRequest {
    /// Reads the request of a version from its normalised manifest (as stored with the version).
    pub fn from_manifest(manifest: &serde_json::Value) -> Result<Self, String> {
        let m: Manifest = serde_json::from_value(manifest.clone())
            .map_err(|e| format!("the stored manifest is not a valid manifest: {e}"))?;
        let resources = ResourceLimits {
            memory_bytes: parse_memory(&m.resources.memory).map_err(|e| e.message)?,
            cpu_millis: parse_cpu(&m.resources.cpu).map_err(|e| e.message)?,
            timeout_ms: m.resources.timeout_ms,
        };
        let credentials: Vec<RequestedCredential> = m
            .permissions
            .iter()
            .map(|p| RequestedCredential {
                name: p.name.clone(),
                kind: json_name(&p.kind),
                description: p.description.clone(),
                required: p.scopes.clone(),
                optional: p.optional_scopes.clone(),
            })
            .collect();
        let runtime = format!("{}/{}", json_name(&m.runtime), m.runtime_version);
        let mut request = PermissionRequest {
            app_id: m.id,
            version: m.version,
            credentials,
            egress: m.egress,
            resources,
            runtime,
            summary: Vec::new(),
        };
        request.summary = request.plain_words();
        Ok(request)
    }

    /// Every required scope, sorted.
    pub fn required_scopes(&self) -> BTreeSet<String> {
        self.credentials
            .iter()
            .flat_map(|c| c.required.iter().cloned())
            .collect()
    }

    /// Every optional scope that is not also required, sorted.
    pub fn optional_scopes(&self) -> BTreeSet<String> {
        let required = self.required_scopes();
        self.credentials
            .iter()
            .flat_map(|c| c.optional.iter().cloned())
            .filter(|s| !required.contains(s))
            .collect()
    }

    /// The grant when an admin consents, refusing the optional scopes in `refused`.
    pub fn grant(
        &self,
        refused: &[String],
        granted_by: Option<UserId>,
        granted_at: DateTime<Utc>,
    ) -> Result<Grant, ConsentError> {
        let required = self.required_scopes();
        let optional = self.optional_scopes();
        let refused: BTreeSet<String> = refused.iter().cloned().collect();
        let required_refused: Vec<String> = refused.intersection(&required).cloned().collect();
        if !required_refused.is_empty() {
            return Err(ConsentError::RequiredRefused(required_refused));
        }
        let unknown: Vec<String> = refused.difference(&optional).cloned().collect();
        if !unknown.is_empty() {
            return Err(ConsentError::NotRequested(unknown));
        }
        let scopes = required
            .into_iter()
            .chain(optional.difference(&refused).cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut egress = self.egress.clone();
        egress.sort();
        egress.dedup();
        Ok(Grant {
            version: self.version.clone(),
            scopes,
            refused_scopes: refused.into_iter().collect(),
            egress,
            resources: self.resources.clone(),
            runtime: self.runtime.clone(),
            granted_by,
            granted_at,
        })
    }

    fn plain_words(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for c in &self.credentials {
            let mut parts: Vec<String> = c
                .required
                .iter()
                .map(|s| format!("{} (`{s}`, required)", describe_scope(s)))
                .collect();
            parts.extend(
                c.optional
                    .iter()
                    .map(|s| format!("{} (`{s}`, optional: you may refuse it)", describe_scope(s))),
            );
            let why = c
                .description
                .as_deref()
                .map(|d| format!(" Why: {d}"))
                .unwrap_or_default();
            lines.push(format!(
                "Use the {} credential `{}` to {}.{why}",
                c.kind,
                c.name,
                parts.join("; ")
            ));
        }
        if self.credentials.is_empty() {
            lines.push("Use no credentials: it reaches none of your data.".to_owned());
        }
        if self.egress.is_empty() {
            lines.push("Make no outbound network connections.".to_owned());
        } else {
            lines.push(format!(
                "Connect out to these hosts only: {}.",
                self.egress.join(", ")
            ));
        }
        lines.push(format!(
            "Use up to {} of memory and {} millicores of CPU, at most {} ms per request.",
            format_memory(self.resources.memory_bytes),
            self.resources.cpu_millis,
            self.resources.timeout_ms
        ));
        lines.push(format!("Run as `{}`.", self.runtime));
        lines
    }
}

/// The wire name of a manifest enum (`Runtime::Wasm` → `wasm`).
fn json_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A scope in plain words: `calendar.read` → "read calendar", `calendar.events.create` →
/// "create calendar events", `admin:*` → "do anything under admin".
pub fn describe_scope(scope: &str) -> String {
    const VERBS: [&str; 12] = [
        "read", "write", "create", "update", "delete", "list", "manage", "send", "view", "admin",
        "execute", "publish",
    ];
    let segments: Vec<&str> = scope.split(['.', ':']).collect();
    match segments.split_last() {
        Some((&"*", rest)) => format!("do anything under {}", rest.join(" ")),
        Some((last, rest)) if VERBS.contains(last) && !rest.is_empty() => {
            format!("{last} {}", rest.join(" ").replace(['_', '-'], " "))
        }
        _ => format!("use {}", segments.join(" ").replace(['_', '-'], " ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(permissions: serde_json::Value) -> serde_json::Value {
        json!({
            "id": "com.example.where2eat", "version": "1.2.0", "name": "Where2Eat",
            "entry": "/app/index.wasm", "runtime": "wasm", "runtimeVersion": "wasi-1.0",
            "permissions": permissions, "egress": ["plaza.internal:80"],
        })
    }

    fn seed() -> PermissionRequest {
        PermissionRequest::from_manifest(&manifest(json!([{
            "name": "user_calendar", "type": "oauth2",
            "scopes": ["calendar.read"], "optionalScopes": ["calendar.events.create"],
        }])))
        .unwrap()
    }

    #[test]
    fn scopes_read_as_plain_words() {
        assert_eq!(describe_scope("calendar.read"), "read calendar");
        assert_eq!(
            describe_scope("calendar.events.create"),
            "create calendar events"
        );
        assert_eq!(describe_scope("admin:*"), "do anything under admin");
        assert_eq!(describe_scope("repo:status"), "use repo status");
    }

    #[test]
    fn the_request_is_summarised_in_plain_words() {
        let r = seed();
        assert_eq!(r.runtime, "wasm/wasi-1.0");
        assert_eq!(r.resources.memory_bytes, 128 << 20);
        assert_eq!(r.resources.cpu_millis, 500);
        assert!(r.summary[0].contains("read calendar (`calendar.read`, required)"));
        assert!(r.summary[0].contains("create calendar events"));
        assert_eq!(
            r.summary[1],
            "Connect out to these hosts only: plaza.internal:80."
        );
        assert!(r.summary[2].starts_with("Use up to 128Mi of memory"));
    }

    #[test]
    fn a_consent_may_refuse_only_optional_scopes() {
        let r = seed();
        let now = Utc::now();
        let all = r.grant(&[], None, now).unwrap();
        assert_eq!(all.scopes, ["calendar.events.create", "calendar.read"]);
        let narrowed = r
            .grant(&["calendar.events.create".into()], None, now)
            .unwrap();
        assert_eq!(narrowed.scopes, ["calendar.read"]);
        assert_eq!(narrowed.refused_scopes, ["calendar.events.create"]);
        assert_eq!(
            r.grant(&["calendar.read".into()], None, now).unwrap_err(),
            ConsentError::RequiredRefused(vec!["calendar.read".into()])
        );
        assert_eq!(
            r.grant(&["mail.send".into()], None, now).unwrap_err(),
            ConsentError::NotRequested(vec!["mail.send".into()])
        );
    }

    #[test]
    fn an_app_without_permissions_reaches_no_data() {
        let r = PermissionRequest::from_manifest(&manifest(json!([]))).unwrap();
        assert_eq!(
            r.summary[0],
            "Use no credentials: it reaches none of your data."
        );
    }
}
