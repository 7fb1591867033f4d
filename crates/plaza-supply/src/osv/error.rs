//! The OSV module's error type: every variant says what went wrong, where (source name and JSON
//! pointer, file or zip entry) and how to fix it.

/// What can go wrong reading OSV records, purls, CVSS vectors or a vulnerability database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OsvError {
    /// The bytes are not JSON, or the JSON does not have the shape of an OSV record.
    #[error("{source_name}: {pointer}: {message}; fix the record so that it follows the OSV schema (https://ossf.github.io/osv-schema/)")]
    Json {
        /// Where the record came from (file name, zip entry).
        source_name: String,
        /// JSON pointer of the offending value (`""` for the document itself).
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The JSON nests deeper than the parser allows (serde_json's limit of 128 levels).
    #[error("{source_name}: {pointer}: JSON nested too deeply (more than 128 levels); an OSV record never needs this, so the file is malformed or hostile")]
    TooDeep {
        /// Where the record came from.
        source_name: String,
        /// JSON pointer of the innermost value reached.
        pointer: String,
    },
    /// A package URL that cannot be read.
    #[error("purl `{purl}`: {problem}; write it as pkg:TYPE/NAMESPACE/NAME@VERSION (https://github.com/package-url/purl-spec)")]
    Purl {
        /// The purl as given.
        purl: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A CVSS vector that cannot be scored.
    #[error("CVSS vector `{vector}`: {problem}; write a complete base vector such as CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")]
    Cvss {
        /// The vector as given.
        vector: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A file or directory of the vulnerability database cannot be read.
    #[error("{path}: {message}; check that the path exists and is readable")]
    Io {
        /// The path that failed.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A zip archive that is malformed or exceeds the import limits (zip-bomb protection).
    #[error("{archive}: entry `{entry}`: {problem}")]
    Zip {
        /// The archive's path.
        archive: String,
        /// The entry concerned (empty for the archive as a whole).
        entry: String,
        /// What is wrong and which limit was hit.
        problem: String,
    },
    /// Two files of one import carry the same advisory id.
    #[error(
        "advisory `{id}` appears in both `{first}` and `{second}`; keep one file per advisory id"
    )]
    DuplicateId {
        /// The advisory id.
        id: String,
        /// The first file holding it.
        first: String,
        /// The second file holding it.
        second: String,
    },
    /// An import found problems; nothing was imported. Every problem is listed.
    #[error("import aborted, nothing imported; {} problem(s):\n{}", .0.len(), .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Import(Vec<OsvError>),
}
