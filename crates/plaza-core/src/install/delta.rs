//! The permission delta between what an instance was granted and what another version asks
//! for: scopes, egress hosts, resources and runtime. A delta that widens anything needs consent
//! again; an equal or narrower one may be applied without asking.

use super::{Grant, PermissionRequest};
use crate::ids::UserId;
use chrono::{DateTime, Utc};
use plaza_manifest::quantity::format_memory;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One resource limit that changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    /// `memory`, `cpu` or `timeout`.
    pub resource: String,
    /// The granted value, in words (`128Mi`, `500m`, `30000 ms`).
    pub from: String,
    /// The requested value.
    pub to: String,
    /// Whether it grows.
    pub widens: bool,
}

/// What moving from a grant to another version's request changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionDelta {
    /// The granted version.
    pub from_version: String,
    /// The requested version.
    pub to_version: String,
    /// Scopes the new version would hold that the grant does not have.
    pub added_scopes: Vec<String>,
    /// Granted scopes the new version no longer asks for.
    pub removed_scopes: Vec<String>,
    /// Egress entries the new version adds.
    pub added_egress: Vec<String>,
    /// Granted egress entries the new version drops.
    pub removed_egress: Vec<String>,
    /// Resource limits that change.
    pub resources: Vec<ResourceChange>,
    /// `(from, to)` when the runtime or its version changes.
    pub runtime: Option<(String, String)>,
    /// Whether anything widens: an added scope or host, a larger limit, another runtime.
    pub widens: bool,
}

impl PermissionDelta {
    /// The delta from `granted` to `request`, and the grant the instance would hold after it:
    /// optional scopes refused before stay refused.
    pub fn between(
        granted: &Grant,
        request: &PermissionRequest,
        granted_by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> (PermissionDelta, Grant) {
        let still_optional = request.optional_scopes();
        let refused: Vec<String> = granted
            .refused_scopes
            .iter()
            .filter(|s| still_optional.contains(*s))
            .cloned()
            .collect();
        let proposed = match request.grant(&refused, granted_by.clone(), at) {
            Ok(g) => g,
            // `refused` holds only optional scopes of `request`, so this cannot refuse a
            // required one; fall back to granting everything asked, which the delta shows.
            Err(_) => Grant {
                version: request.version.clone(),
                scopes: request
                    .required_scopes()
                    .into_iter()
                    .chain(still_optional)
                    .collect(),
                refused_scopes: Vec::new(),
                egress: request.egress.clone(),
                resources: request.resources.clone(),
                runtime: request.runtime.clone(),
                granted_by,
                granted_at: at,
            },
        };
        (Self::of_grants(granted, &proposed), proposed)
    }

    /// The delta between two grants.
    pub fn of_grants(from: &Grant, to: &Grant) -> PermissionDelta {
        let diff = |a: &[String], b: &[String]| -> Vec<String> {
            let b: BTreeSet<&String> = b.iter().collect();
            let mut out: Vec<String> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
            out.sort();
            out.dedup();
            out
        };
        let mut resources = Vec::new();
        let mut change = |resource: &str, a: u64, b: u64, words: &dyn Fn(u64) -> String| {
            if a != b {
                resources.push(ResourceChange {
                    resource: resource.to_owned(),
                    from: words(a),
                    to: words(b),
                    widens: b > a,
                });
            }
        };
        let (f, t) = (&from.resources, &to.resources);
        change("memory", f.memory_bytes, t.memory_bytes, &format_memory);
        change("cpu", f.cpu_millis, t.cpu_millis, &|m| format!("{m}m"));
        change("timeout", f.timeout_ms, t.timeout_ms, &|ms| {
            format!("{ms} ms")
        });
        let runtime =
            (from.runtime != to.runtime).then(|| (from.runtime.clone(), to.runtime.clone()));
        let added_scopes = diff(&to.scopes, &from.scopes);
        let added_egress = diff(&to.egress, &from.egress);
        let widens = !added_scopes.is_empty()
            || !added_egress.is_empty()
            || resources.iter().any(|r| r.widens)
            || runtime.is_some();
        PermissionDelta {
            from_version: from.version.clone(),
            to_version: to.version.clone(),
            removed_scopes: diff(&from.scopes, &to.scopes),
            removed_egress: diff(&from.egress, &to.egress),
            added_scopes,
            added_egress,
            resources,
            runtime,
            widens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(
        version: &str,
        scopes: &[&str],
        optional: &[&str],
        egress: &[&str],
        memory: &str,
    ) -> PermissionRequest {
        PermissionRequest::from_manifest(&json!({
            "id": "com.example.app", "version": version, "name": "App",
            "entry": "/app.wasm", "runtime": "wasm", "runtimeVersion": "wasip2",
            "permissions": [{"name": "cal", "type": "oauth2", "scopes": scopes, "optionalScopes": optional}],
            "egress": egress, "resources": {"memory": memory},
        }))
        .unwrap()
    }

    fn granted(r: &PermissionRequest, refused: &[&str]) -> Grant {
        let refused: Vec<String> = refused.iter().map(|s| s.to_string()).collect();
        r.grant(&refused, None, Utc::now()).unwrap()
    }

    #[test]
    fn the_same_permissions_do_not_widen() {
        let v1 = request(
            "1.0.0",
            &["calendar.read"],
            &[],
            &["api.example.com"],
            "128Mi",
        );
        let v2 = request(
            "1.1.0",
            &["calendar.read"],
            &[],
            &["api.example.com"],
            "128Mi",
        );
        let (delta, grant) = PermissionDelta::between(&granted(&v1, &[]), &v2, None, Utc::now());
        assert!(!delta.widens, "{delta:?}");
        assert_eq!(grant.version, "1.1.0");
        assert_eq!(
            (delta.from_version.as_str(), delta.to_version.as_str()),
            ("1.0.0", "1.1.0")
        );
    }

    #[test]
    fn fewer_scopes_hosts_and_memory_narrow() {
        let v1 = request(
            "1.0.0",
            &["calendar.read", "mail.send"],
            &[],
            &["a.example.com", "b.example.com"],
            "256Mi",
        );
        let v2 = request(
            "1.1.0",
            &["calendar.read"],
            &[],
            &["a.example.com"],
            "128Mi",
        );
        let (delta, _) = PermissionDelta::between(&granted(&v1, &[]), &v2, None, Utc::now());
        assert!(!delta.widens);
        assert_eq!(delta.removed_scopes, ["mail.send"]);
        assert_eq!(delta.removed_egress, ["b.example.com"]);
        assert_eq!(delta.resources[0].from, "256Mi");
        assert!(!delta.resources[0].widens);
    }

    #[test]
    fn a_new_scope_host_or_more_memory_widens() {
        let v1 = request("1.0.0", &["calendar.read"], &[], &[], "128Mi");
        for v2 in [
            request(
                "2.0.0",
                &["calendar.read", "calendar.events.create"],
                &[],
                &[],
                "128Mi",
            ),
            request(
                "2.0.0",
                &["calendar.read"],
                &[],
                &["api.example.com"],
                "128Mi",
            ),
            request("2.0.0", &["calendar.read"], &[], &[], "256Mi"),
            request(
                "2.0.0",
                &["calendar.read"],
                &["calendar.events.create"],
                &[],
                "128Mi",
            ),
        ] {
            let (delta, _) = PermissionDelta::between(&granted(&v1, &[]), &v2, None, Utc::now());
            assert!(delta.widens, "{delta:?}");
        }
    }

    #[test]
    fn a_refused_optional_scope_stays_refused() {
        let v1 = request(
            "1.0.0",
            &["calendar.read"],
            &["calendar.events.create"],
            &[],
            "128Mi",
        );
        let v2 = request(
            "1.1.0",
            &["calendar.read"],
            &["calendar.events.create"],
            &[],
            "128Mi",
        );
        let (delta, grant) = PermissionDelta::between(
            &granted(&v1, &["calendar.events.create"]),
            &v2,
            None,
            Utc::now(),
        );
        assert!(!delta.widens, "{delta:?}");
        assert_eq!(grant.scopes, ["calendar.read"]);
        assert_eq!(grant.refused_scopes, ["calendar.events.create"]);
    }
}
