//! Secret scanning of artifact contents: the manifest and other files as bytes, Wasm modules and
//! components (data segments and custom sections, nested modules included), and container image
//! layers (tar and tar+gzip, files deleted by whiteouts included).
//!
//! A [`Scanner`] runs a rule set ([`builtin_rules`]: over 60 credential types) with a keyword
//! prefilter, per-rule regexes and entropy thresholds, resolves overlaps, redacts, and applies an
//! [`AllowList`]. Findings carry a location and a redacted preview plus a fingerprint, never the
//! secret itself, so printing, logging or serialising a [`ScanReport`] cannot leak a secret.
//!
//! ```
//! use plaza_supply::secrets::Scanner;
//! let scanner = Scanner::with_defaults().unwrap();
//! let report = scanner.scan_bytes("micro-app.yaml", b"name: hello\n");
//! assert!(report.is_clean());
//! ```

mod allow;
mod entropy;
mod error;
mod layers;
mod prefilter;
mod redaction;
mod rules;
mod scanner;
mod wasm;

pub use allow::{
    AllowList, AllowListConfig, AllowReason, AllowedFinding, INLINE_MARKER, KNOWN_EXAMPLES,
};
pub use entropy::shannon_entropy;
pub use error::SecretsError;
pub use layers::LayerInput;
pub use redaction::{fingerprint, redact, Finding, Location};
pub use rules::{builtin_rules, Check, Rule, SecretPart, DEFAULT_WINDOW};
pub use scanner::{ScanConfig, ScanReport, Scanner, Truncation, Whiteout};
