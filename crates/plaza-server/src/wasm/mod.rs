//! Running wasm apps: the glue between an installed instance and `plaza-runtime`. The
//! [`WasmHost`] keeps one prepared component per app version (loaded from the registry,
//! compiled once, cached on disk by the runtime), turns an instance's grant into the
//! invocation's limits, environment and egress grant, hands the app a fresh capability token
//! per request, and meters every invocation ([`meter::HostMeter`]).

pub mod component;
pub mod meter;
pub mod smoke;

use plaza_core::install::Instance;
use plaza_runtime::{EgressGrant, Invocation, Limits, PreparedApp, Runtime};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Settings of the wasm host (`[server]` keys `app_*`).
#[derive(Clone, Debug)]
pub struct WasmSettings {
    /// Most requests one app version runs at once.
    pub max_concurrent: u32,
    /// Largest response body an app may send.
    pub max_response_bytes: u64,
    /// Largest request body an app is given.
    pub max_request_bytes: u64,
    /// Bytes an invocation may send and receive over egress.
    pub egress_max_bytes: u64,
    /// Outgoing connections an invocation may open.
    pub egress_max_connections: u32,
    /// Upper bound of an invocation's wall time (the server's request timeout, less a margin).
    pub max_wall: Duration,
    /// The authority apps reach Plaza's own API at.
    pub internal_url: String,
}

/// The wasm host of a server.
pub struct WasmHost {
    runtime: Runtime,
    prepared: Mutex<HashMap<String, PreparedApp>>,
    /// Usage of the invocations, flushed to metering.
    pub meter: Arc<meter::HostMeter>,
    settings: WasmSettings,
}

impl WasmHost {
    /// A host over `runtime`.
    pub fn new(runtime: Runtime, settings: WasmSettings) -> Self {
        Self {
            runtime,
            prepared: Mutex::default(),
            meter: Arc::default(),
            settings,
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The prepared component of an app version, if it was prepared before.
    pub fn cached(&self, key: &str) -> Option<PreparedApp> {
        self.prepared.lock().ok()?.get(key).cloned()
    }

    /// Keeps a prepared component for later requests.
    pub fn keep(&self, key: String, app: PreparedApp) {
        if let Ok(mut map) = self.prepared.lock() {
            map.insert(key, app);
        }
    }

    /// The invocation for `instance`: limits from its grant, capped by the org's runtime policy
    /// and the host's settings; private egress only if the org's policy allows it;
    /// only the environment Plaza passes, and the granted egress hosts.
    pub fn invocation(
        &self,
        instance: &Instance,
        token: &str,
        policy: &plaza_core::install::RuntimePolicy,
    ) -> Invocation {
        let r = &policy.cap(&instance.grant.resources);
        let wall = Duration::from_millis(r.timeout_ms).min(self.settings.max_wall);
        // The CPU budget is the instance's share of a core over its wall time.
        let cpu = wall
            .mul_f64(r.cpu_millis as f64 / 1000.0)
            .max(Duration::from_millis(1));
        Invocation {
            instance_id: instance.id.to_string(),
            env: vec![
                ("PLAZA_INSTANCE_ID".into(), instance.id.to_string()),
                ("PLAZA_APP_ID".into(), instance.app_id.clone()),
                ("PLAZA_APP_VERSION".into(), instance.version.clone()),
                ("PLAZA_TOKEN".into(), token.to_owned()),
                ("PLAZA_URL".into(), self.settings.internal_url.clone()),
            ],
            limits: Limits {
                memory_bytes: r.memory_bytes,
                cpu_time: cpu,
                wall_timeout: wall,
                max_request_bytes: self.settings.max_request_bytes,
                max_response_bytes: self.settings.max_response_bytes,
                max_concurrent: self.settings.max_concurrent,
            },
            egress: EgressGrant {
                hosts: instance.grant.egress.clone(),
                allow_private: policy.allow_private_egress,
                max_bytes: self.settings.egress_max_bytes,
                max_connections: self.settings.egress_max_connections,
            },
        }
    }
}
