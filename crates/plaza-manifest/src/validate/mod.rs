//! Validation: from the node tree to a typed, normalised [`Manifest`], with every problem
//! reported as a [`Diagnostic`].

mod license;
mod manifest;
mod reader;
mod sections;
mod suggest;
mod text;

pub use license::{COMMON_EXCEPTIONS, COMMON_LICENSES};
pub use text::{IDENTITY_PROVIDERS, SBOM_SCHEMES};

use crate::diagnostic::Diagnostic;
use crate::node::{Node, Path};
use crate::schema::Manifest;

/// Validates a parsed document. Returns the normalised manifest when there is no error, and
/// all diagnostics (errors and warnings) in the order they were found.
pub fn validate(file: &str, root: &Node) -> (Option<Manifest>, Vec<Diagnostic>) {
    let mut cx = reader::Cx::new(file);
    reader::duplicate_keys(&mut cx, root, &Path::root());
    let manifest = manifest::read(&mut cx, root);
    let manifest = if cx.has_errors() { None } else { manifest };
    (manifest, cx.diags)
}
