//! Error types of the crate: I/O failures and fatal parse failures.
//!
//! Validation problems are not errors in this sense: they are [`crate::Diagnostic`]s, all
//! reported at once. A [`ParseError`] is the one problem that stops a document from being read
//! at all; [`load`](crate::load) turns it into a diagnostic as well.

use std::path::PathBuf;

use crate::diagnostic::Code;
use crate::node::Pos;

/// I/O-level failures of the convenience entry points such as [`crate::load_file`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest file could not be read.
    #[error("cannot read manifest `{path}`: {source}")]
    Io {
        /// The path that was being read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A failure that stops a document from being parsed into a node tree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// The input is larger than [`crate::limits::MAX_INPUT_BYTES`].
    #[error("manifest is {size} bytes, larger than the limit of {limit} bytes (1 MiB)")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The input is not valid UTF-8.
    #[error("manifest is not valid UTF-8: invalid byte 0x{byte:02X} at byte offset {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// The first invalid byte.
        byte: u8,
        /// Line and column of the first invalid byte.
        pos: Pos,
    },
    /// The document contains no value at all.
    #[error("manifest is empty")]
    Empty,
    /// A YAML syntax error.
    #[error("YAML syntax error: {message}")]
    Yaml {
        /// What the YAML scanner or parser reported.
        message: String,
        /// Where it happened.
        pos: Pos,
        /// How to fix it, where we can tell.
        hint: Option<String>,
    },
    /// A JSON syntax error.
    #[error("JSON syntax error: {message}")]
    Json {
        /// What went wrong.
        message: String,
        /// Where it happened.
        pos: Pos,
        /// How to fix it, where we can tell.
        hint: Option<String>,
    },
    /// Maps and lists are nested deeper than [`crate::limits::MAX_DEPTH`].
    #[error("maps and lists are nested more than {limit} levels deep")]
    TooDeep {
        /// The depth limit.
        limit: usize,
        /// Where the limit was exceeded.
        pos: Pos,
    },
    /// Expanding YAML aliases would create more than [`crate::limits::MAX_ALIAS_NODES`] nodes.
    #[error("YAML aliases expand to more than {limit} nodes")]
    AliasLimit {
        /// The expansion limit in nodes.
        limit: usize,
        /// The alias that exceeded it.
        pos: Pos,
    },
    /// A YAML feature Plaza manifests do not support (several documents, complex keys, tags…).
    #[error("{message}")]
    UnsupportedYaml {
        /// What is not supported.
        message: String,
        /// Where it appears.
        pos: Pos,
        /// What to do instead.
        hint: Option<String>,
    },
}

impl ParseError {
    /// The stable diagnostic code of this error.
    pub fn code(&self) -> Code {
        match self {
            ParseError::TooLarge { .. } => Code::FileTooLarge,
            ParseError::InvalidUtf8 { .. } => Code::InvalidUtf8,
            ParseError::Empty => Code::EmptyManifest,
            ParseError::Yaml { .. } => Code::YamlSyntax,
            ParseError::Json { .. } => Code::JsonSyntax,
            ParseError::TooDeep { .. } => Code::NestingTooDeep,
            ParseError::AliasLimit { .. } => Code::AliasLimit,
            ParseError::UnsupportedYaml { .. } => Code::UnsupportedYaml,
        }
    }

    /// Where the error happened (1:1 for whole-file problems).
    pub fn pos(&self) -> Pos {
        match self {
            ParseError::TooLarge { .. } | ParseError::Empty => Pos::START,
            ParseError::InvalidUtf8 { pos, .. }
            | ParseError::Yaml { pos, .. }
            | ParseError::Json { pos, .. }
            | ParseError::TooDeep { pos, .. }
            | ParseError::AliasLimit { pos, .. }
            | ParseError::UnsupportedYaml { pos, .. } => *pos,
        }
    }

    /// A fix hint, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            ParseError::TooLarge { .. } => Some(
                "a manifest describes an app, it does not contain it; move large data into the package"
                    .into(),
            ),
            ParseError::InvalidUtf8 { .. } => {
                Some("save the file as UTF-8 (manifests are UTF-8 text)".into())
            }
            ParseError::Empty => {
                Some("start from `plaza init`, or add at least `id`, `version`, `name`, `entry`, `runtime` and `runtimeVersion`".into())
            }
            ParseError::Yaml { hint, .. }
            | ParseError::Json { hint, .. }
            | ParseError::UnsupportedYaml { hint, .. } => hint.clone(),
            ParseError::TooDeep { .. } => {
                Some("a manifest needs only a few levels of nesting; flatten the structure".into())
            }
            ParseError::AliasLimit { .. } => {
                Some("use fewer or smaller aliases (`*name`); write the values out instead".into())
            }
        }
    }
}

/// Why a single value breaks a rule, with a fix hint; returned by the public parsers such as
/// [`crate::scope::Scope::parse`] and turned into a [`crate::Diagnostic`] by validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Invalid {
    /// An error without a hint.
    pub fn new(message: impl Into<String>) -> Invalid {
        Invalid {
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Invalid {
        self.hint = Some(hint.into());
        self
    }
}
