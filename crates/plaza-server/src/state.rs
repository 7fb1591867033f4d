//! What every handler can reach: the domain services, metrics, SSO and settings.

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::oidc::{OidcError, OidcVerifier};
use plaza_core::service::Services;
use std::sync::Arc;

/// Shared state of the server, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Domain services over the configured store.
    pub services: Services,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// SSO verifier, when configured.
    pub oidc: Option<Arc<OidcVerifier>>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Blob storage of the OCI registry.
    pub blobs: Arc<dyn plaza_registry::BlobStore>,
    /// The wasm host that serves `/apps/<instance>/…`, when the server runs apps.
    pub wasm: Option<Arc<crate::wasm::WasmHost>>,
}

impl AppState {
    /// State for `services` under `config`, with the registry's blobs in `blobs` (loads the OIDC
    /// keys when SSO is configured).
    pub fn new(
        services: Services,
        config: ServerConfig,
        blobs: Arc<dyn plaza_registry::BlobStore>,
    ) -> Result<Self, OidcError> {
        let oidc = match &config.oidc {
            Some(c) => Some(Arc::new(OidcVerifier::new(c.clone())?)),
            None => None,
        };
        Ok(Self {
            services,
            metrics: Arc::default(),
            oidc,
            config: Arc::new(config),
            blobs,
            wasm: None,
        })
    }

    /// The same state, serving wasm apps with `host`.
    pub fn with_wasm_host(mut self, host: Arc<crate::wasm::WasmHost>) -> Self {
        self.wasm = Some(host);
        self
    }
}
