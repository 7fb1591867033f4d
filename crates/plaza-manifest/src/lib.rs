//! Plaza manifest v1: read a micro-app manifest (YAML or JSON), validate it against the v1
//! schema reporting every problem at once with its line, column and JSON pointer, and produce
//! the normalised, typed [`Manifest`].
//!
//! ```
//! let yaml = b"id: com.example.hello\nversion: 1.0.0\nname: Hello\nentry: /app/index.wasm\nruntime: wasm\nruntimeVersion: wasip2\n";
//! let v = plaza_manifest::load("micro-app.yaml", yaml);
//! assert!(v.is_valid());
//! assert_eq!(v.manifest.unwrap().manifest_version, "v1");
//! print!("{}", plaza_manifest::render_text(&v.diagnostics)); // warnings, e.g. no description
//! ```
//!
//! The pipeline is `source` (size, UTF-8, format) → `yaml`/`json` (spanned [`node`] tree) →
//! `validate` (typed [`Manifest`] + [`Diagnostic`]s). The CLI and the server call the same
//! [`load`].

pub mod diagnostic;
pub mod egress;
pub mod error;
mod json;
mod json_schema;
pub mod limits;
mod locate;
pub mod node;
pub mod quantity;
pub mod schema;
pub mod scope;
mod source;
pub mod template;
pub mod units;
mod validate;
mod yaml;

use std::path::Path;

pub use diagnostic::{render_text, Code, Diagnostic, Location, Severity};
pub use error::{Error, Invalid, ParseError};
pub use json_schema::{json_schema, SCHEMA_ID};
pub use locate::locate;
pub use schema::{
    Billing, Category, Contact, Healthcheck, Keyword, Manifest, Metric, Permission, PermissionType,
    Plan, Provenance, Resources, Runtime, Visibility,
};
pub use source::{detect as detect_format, Format};
pub use validate::{COMMON_EXCEPTIONS, COMMON_LICENSES, IDENTITY_PROVIDERS, SBOM_SCHEMES};

/// The result of [`load`]: the normalised manifest (only when valid) and every diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The normalised manifest (defaults filled); `Some` only when there is no error.
    pub manifest: Option<Manifest>,
    /// Every problem found, errors and warnings, ordered by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validated {
    /// True when no diagnostic has error severity.
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The error-severity diagnostics.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warning-severity diagnostics.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
}

/// Reads, validates and normalises a manifest. `file_name` is used for format detection
/// (`.json`, `.yaml`, `.yml`; otherwise by content) and in diagnostics.
pub fn load(file_name: &str, bytes: &[u8]) -> Validated {
    let root = match source::parse(file_name, bytes) {
        Ok(root) => root,
        Err(e) => {
            let d = Diagnostic::new(
                e.code(),
                e.to_string(),
                file_name,
                e.pos(),
                &node::Path::root(),
            )
            .with_hint(e.hint());
            return Validated {
                manifest: None,
                diagnostics: vec![d],
            };
        }
    };
    let (manifest, mut diagnostics) = validate::validate(file_name, &root);
    diagnostics.sort_by_key(|d| (d.location.line, d.location.column));
    Validated {
        manifest,
        diagnostics,
    }
}

/// Reads a manifest file from disk and [`load`]s it; diagnostics name the file as given.
pub fn load_file(path: &Path) -> Result<Validated, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(load(&path.display().to_string(), &bytes))
}
