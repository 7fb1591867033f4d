//! The crate's error type: what can go wrong outside an invocation (set-up and preparation).

/// Errors from [`crate::Runtime::new`] and [`crate::Runtime::prepare`]. Invocation problems are
/// not errors but [`crate::InvocationFailure`]s inside an [`crate::Invoked`].
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The wasmtime engine could not be configured (e.g. the pool does not fit in memory).
    #[error("cannot configure the wasm engine: {0}")]
    Engine(String),
    /// The linker could not be built.
    #[error("cannot link the WASI host interfaces: {0}")]
    Link(String),
    /// The artifact digest is not `sha256:<64 hex>` or `sha512:<128 hex>`.
    #[error("artifact digest `{0}` is not sha256:<hex> or sha512:<hex>")]
    BadDigest(String),
    /// The bytes do not hash to the digest given.
    #[error("artifact bytes do not match digest {expected} (they hash to {actual})")]
    DigestMismatch {
        /// The digest the caller gave.
        expected: String,
        /// The digest of the bytes.
        actual: String,
    },
    /// A core module (WASI 0.1 / `wasip1`), not a component.
    #[error("artifact {digest} is a core wasm module (wasip1), not a component; HTTP apps must be wasi:http/proxy components (build for wasm32-wasip2)")]
    CoreModule {
        /// The artifact digest.
        digest: String,
    },
    /// Not WebAssembly at all.
    #[error("artifact {digest} is not WebAssembly")]
    NotWasm {
        /// The artifact digest.
        digest: String,
    },
    /// The component failed to compile.
    #[error("component {digest} does not compile: {message}")]
    Compile {
        /// The artifact digest.
        digest: String,
        /// Wasmtime's message.
        message: String,
    },
    /// The component imports something the host does not provide, or does not export
    /// `wasi:http/incoming-handler`.
    #[error("component {digest} is not a wasi:http/proxy component this host can run: {message}")]
    NotProxy {
        /// The artifact digest.
        digest: String,
        /// Wasmtime's message.
        message: String,
    },
    /// The cache directory could not be created.
    #[error("cache directory {path}: {source}")]
    CacheDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The internal host configuration is invalid.
    #[error("internal host `{0}`: write host:port, e.g. plaza.internal:80")]
    BadInternalHost(String),
}
