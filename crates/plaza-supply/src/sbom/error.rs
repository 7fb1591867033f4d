//! Why an SBOM could not be read. Every variant names the input (`file`), where the problem is
//! (a JSON pointer, RFC 6901, or a line and column when the bytes are not JSON at all) and how to
//! fix it.

/// An SBOM that [`super::parse_sbom`] rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SbomError {
    /// The input is larger than [`super::MAX_SBOM_BYTES`].
    #[error("{file}: {size} bytes is more than the {limit} bytes an SBOM may have; split it into several SBOMs or leave out what is not a component (file contents, evidence)")]
    TooLarge {
        /// The input's name.
        file: String,
        /// The input's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The bytes are not JSON.
    #[error("{file}:{line}:{column}: not JSON: {message}; {fix}")]
    Syntax {
        /// The input's name.
        file: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// The JSON parser's message.
        message: String,
        /// How to fix it.
        fix: &'static str,
    },
    /// The JSON nests deeper than the parser follows (128 levels); no SBOM needs that.
    #[error("{file}:{line}:{column}: JSON nested more than 128 levels deep; an SBOM never needs that, the file is corrupt or hostile")]
    TooDeep {
        /// The input's name.
        file: String,
        /// 1-based line where the limit was hit.
        line: usize,
        /// 1-based column where the limit was hit.
        column: usize,
    },
    /// JSON, but not an SBOM format this parser reads, or a version of one it does not read.
    #[error("{file}: {}{message}; {fix}", at(.pointer))]
    Unsupported {
        /// The input's name.
        file: String,
        /// Where the format or version was looked for.
        pointer: String,
        /// What was found.
        message: String,
        /// How to fix it.
        fix: String,
    },
    /// A value whose meaning is lost: a wrong JSON type, a missing required field, a malformed
    /// digest.
    #[error("{file}: {}{message}; {fix}", at(.pointer))]
    Invalid {
        /// The input's name.
        file: String,
        /// JSON pointer to the value.
        pointer: String,
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
    },
    /// Two components (or SPDX elements) with the same reference: references to it would be
    /// ambiguous.
    #[error("{file}: {pointer}: {field} `{id}` is already used at {first}; give every component its own {field}")]
    Duplicate {
        /// The input's name.
        file: String,
        /// JSON pointer to the second use.
        pointer: String,
        /// `bom-ref` or `SPDXID`.
        field: &'static str,
        /// The reference.
        id: String,
        /// JSON pointer to the first use.
        first: String,
    },
    /// A dependency or relationship refers to a reference that no component, service or element of
    /// the document has: the edge would point nowhere.
    #[error(
        "{file}: {pointer}: `{reference}` is not the {field} of any {what} in this document; {fix}"
    )]
    DanglingReference {
        /// The input's name.
        file: String,
        /// JSON pointer to the reference.
        pointer: String,
        /// The reference as written.
        reference: String,
        /// `bom-ref` or `SPDXID`.
        field: &'static str,
        /// `component or service`, `package, file or snippet`.
        what: &'static str,
        /// How to fix it.
        fix: &'static str,
    },
    /// CycloneDX components nested deeper than [`super::MAX_COMPONENT_DEPTH`].
    #[error("{file}: {pointer}: components nested more than {limit} levels deep; flatten the component tree (list sub-components at the top level and relate them through `dependencies`)")]
    NestingTooDeep {
        /// The input's name.
        file: String,
        /// JSON pointer to the first component too deep.
        pointer: String,
        /// The limit.
        limit: usize,
    },
}

/// `POINTER: `, or nothing for the whole document.
fn at(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!("{pointer}: ")
    }
}

impl SbomError {
    /// The JSON pointer of the problem (`""`, the whole document, for errors found before the
    /// document was read as JSON: size, syntax, JSON depth).
    pub fn pointer(&self) -> &str {
        match self {
            SbomError::TooLarge { .. } | SbomError::Syntax { .. } | SbomError::TooDeep { .. } => "",
            SbomError::Unsupported { pointer, .. }
            | SbomError::Invalid { pointer, .. }
            | SbomError::Duplicate { pointer, .. }
            | SbomError::DanglingReference { pointer, .. }
            | SbomError::NestingTooDeep { pointer, .. } => pointer,
        }
    }
}
