//! The org's runtime policy: the caps an org's policy settings (`data.plaza.org`, the built-in
//! bundle's `resource_caps` and `allow_private_egress`) put on what any instance may use when
//! it runs. The gate refuses manifests over the caps at submission; the host applies them again
//! at run time, so a cap lowered later also binds versions published before.

use super::ResourceLimits;
use plaza_manifest::quantity::{parse_cpu, parse_memory};
use serde_json::Value;

/// Caps on instances' resources and egress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimePolicy {
    /// Memory cap in bytes.
    pub memory_bytes: u64,
    /// CPU cap in millicores.
    pub cpu_millis: u64,
    /// Wall-time cap in milliseconds.
    pub timeout_ms: u64,
    /// Whether apps may reach private, loopback and link-local addresses.
    pub allow_private_egress: bool,
}

impl RuntimePolicy {
    /// Reads the caps from the org's effective settings (the bundle's defaults merged with the
    /// org's own); a missing or unreadable cap falls back to the bundle's default.
    pub fn from_settings(settings: &Value) -> Self {
        let caps = &settings["resource_caps"];
        RuntimePolicy {
            memory_bytes: caps["memory"]
                .as_str()
                .and_then(|m| parse_memory(m).ok())
                .unwrap_or(1 << 30),
            cpu_millis: caps["cpu"]
                .as_str()
                .and_then(|c| parse_cpu(c).ok())
                .unwrap_or(2000),
            timeout_ms: caps["timeout_ms"].as_u64().unwrap_or(300_000),
            allow_private_egress: settings["allow_private_egress"].as_bool().unwrap_or(false),
        }
    }

    /// `granted`, capped.
    pub fn cap(&self, granted: &ResourceLimits) -> ResourceLimits {
        ResourceLimits {
            memory_bytes: granted.memory_bytes.min(self.memory_bytes),
            cpu_millis: granted.cpu_millis.min(self.cpu_millis),
            timeout_ms: granted.timeout_ms.min(self.timeout_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn caps_come_from_the_settings_and_bind_the_grant() {
        let p = RuntimePolicy::from_settings(&json!({
            "resource_caps": {"memory": "64Mi", "cpu": "250m", "timeout_ms": 1000},
            "allow_private_egress": true,
        }));
        assert_eq!(
            p,
            RuntimePolicy {
                memory_bytes: 64 << 20,
                cpu_millis: 250,
                timeout_ms: 1000,
                allow_private_egress: true
            }
        );
        let granted = ResourceLimits {
            memory_bytes: 128 << 20,
            cpu_millis: 100,
            timeout_ms: 30_000,
        };
        assert_eq!(
            p.cap(&granted),
            ResourceLimits {
                memory_bytes: 64 << 20,
                cpu_millis: 100,
                timeout_ms: 1000
            }
        );
        let default = RuntimePolicy::from_settings(&json!({}));
        assert_eq!(default.memory_bytes, 1 << 30);
        assert!(!default.allow_private_egress);
    }
}
