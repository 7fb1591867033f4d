//! [`parse_sbom`]: bytes in, an [`Sbom`] out, whatever the format. The format is told by the
//! document's own fields: `bomFormat` (CycloneDX) or `spdxVersion` (SPDX). Formats that cannot be
//! read (CycloneDX XML, SPDX tag-value, SPDX 3 JSON-LD) are named in the error, with how to export
//! a readable one.
//!
//! Bounds: inputs over [`MAX_SBOM_BYTES`] are refused before parsing; JSON nested more than 128
//! levels deep is refused by the JSON parser (no recursion without limit, no stack overflow);
//! CycloneDX components nest at most [`MAX_COMPONENT_DEPTH`] levels. Time is linear in the size
//! of the input (two passes, hash maps for references). Memory: the document is never held as one
//! `serde_json::Value` tree (15 times the input); the big arrays are read one element at a time
//! (see `stream`), so the peak is the input, the model and the reference maps.

use super::error::SbomError;
use super::json::Ctx;
use super::model::Sbom;
use super::stream::{peek, Peeked};

/// The largest SBOM read, in bytes (256 MiB).
pub const MAX_SBOM_BYTES: usize = 256 * 1024 * 1024;

/// How deep CycloneDX components may nest in components (a top-level component is at depth 1).
pub const MAX_COMPONENT_DEPTH: usize = 32;

/// Parses a CycloneDX JSON (1.4, 1.5, 1.6) or SPDX JSON (2.3, 2.2) SBOM into the one model.
///
/// `source` names the input in errors (a file name, `sbom of app@1.2.0`). Every error carries a
/// JSON pointer (or a line and column when the bytes are not JSON) and a fix hint; what was
/// accepted although not strictly valid is listed in [`Sbom::warnings`]. A UTF-8 byte-order mark
/// is skipped.
pub fn parse_sbom(bytes: &[u8], source: &str) -> Result<Sbom, SbomError> {
    if bytes.len() > MAX_SBOM_BYTES {
        return Err(SbomError::TooLarge {
            file: source.to_owned(),
            size: bytes.len(),
            limit: MAX_SBOM_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let mut ctx = Ctx::new(source);
    if first == Some(b'<') {
        return Err(unsupported(
            &ctx,
            "the document is XML",
            "CycloneDX XML is not read: export the SBOM as CycloneDX JSON (e.g. `--output-format json`)",
        ));
    }
    if bytes.starts_with(b"SPDXVersion:") {
        return Err(unsupported(
            &ctx,
            "the document is SPDX tag-value",
            "SPDX tag-value is not read: export the SBOM as SPDX 2.3 JSON",
        ));
    }
    // First pass: JSON syntax, depth, the top level's shape and the format fields only.
    let head = ["bomFormat", "specVersion", "spdxVersion", "SPDXID"];
    let peeked = peek(bytes, &head).map_err(|e| json_error(source, &e))?;
    let (keys, head) = match peeked {
        Peeked::Object { keys, values } => (keys, values),
        Peeked::NotObject(what) => {
            return Err(unsupported(
                &ctx,
                &format!("the document is {what}, not an object"),
                "an SBOM is a JSON object with `bomFormat` (CycloneDX) or `spdxVersion` (SPDX)",
            ))
        }
    };
    let has = |k: &str| keys.iter().any(|key| key == k);
    let mut sbom = if has("bomFormat") {
        super::cyclonedx::parse(&mut ctx, bytes, &head)?
    } else if has("spdxVersion") {
        super::spdx::parse(&mut ctx, bytes, &head)?
    } else if has("@context") || has("@graph") {
        return Err(unsupported(
            &ctx,
            "the document is JSON-LD (SPDX 3?)",
            "SPDX 3 is not read yet: export the SBOM as SPDX 2.3 JSON or CycloneDX JSON",
        ));
    } else {
        return Err(unsupported(
            &ctx,
            "the object has neither `bomFormat` (CycloneDX) nor `spdxVersion` (SPDX)",
            "give a CycloneDX JSON (1.4 to 1.6) or SPDX 2.3 JSON document",
        ));
    };
    sbom.warnings = ctx.warnings;
    Ok(sbom)
}

/// A JSON parser's error: nesting too deep, or a syntax error.
pub(crate) fn json_error(file: &str, e: &serde_json::Error) -> SbomError {
    let message = e.to_string();
    if message.starts_with("recursion limit exceeded") {
        return SbomError::TooDeep {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
        };
    }
    let message = match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(&message).to_owned(),
        None => message,
    };
    SbomError::Syntax {
        file: file.to_owned(),
        line: e.line(),
        column: e.column(),
        message,
        fix: "an SBOM must be one JSON document in UTF-8; regenerate it, the file may be truncated",
    }
}

fn unsupported(ctx: &Ctx<'_>, message: &str, fix: &str) -> SbomError {
    SbomError::Unsupported {
        file: ctx.file.to_owned(),
        pointer: String::new(),
        message: message.to_owned(),
        fix: fix.to_owned(),
    }
}
