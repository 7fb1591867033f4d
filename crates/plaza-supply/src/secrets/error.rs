//! The secret scanner's error type: malformed input (Wasm, tar, gzip), exceeded bounds, and bad
//! configuration (rules, allow-list globs). Every variant says what, where and how to fix it.

/// What can go wrong while setting up or running a secret scan.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// A rule is unusable: bad id, no keywords, a regex that does not compile, a bad group.
    #[error("secret rule `{rule_id}`: {problem}; fix the rule definition")]
    InvalidRule {
        /// The rule's id (as given, possibly invalid itself).
        rule_id: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An allow-list location glob does not parse.
    #[error("allow-list location glob `{pattern}`: {problem}; write a glob such as `**/tests/**` or `*.md`")]
    InvalidAllowGlob {
        /// The glob as written.
        pattern: String,
        /// The glob parser's message.
        problem: String,
    },
    /// A Wasm binary does not have the shape of a core module or component.
    #[error("{label}: malformed Wasm at byte offset {offset} (0x{offset:x}): {problem}; rebuild the artifact or check that the file is a complete Wasm module or component")]
    MalformedWasm {
        /// The artifact's label (file name or reference).
        label: String,
        /// Byte offset in the top-level artifact where the problem was found.
        offset: u64,
        /// What was expected there.
        problem: String,
    },
    /// Components nested deeper than the configured limit.
    #[error("{label}: Wasm components nested deeper than {limit} levels at byte offset {offset}; such nesting is not produced by real toolchains")]
    WasmTooDeep {
        /// The artifact's label.
        label: String,
        /// Offset of the nested module or component that exceeded the limit.
        offset: u64,
        /// The configured depth limit.
        limit: usize,
    },
    /// A layer is not a (possibly gzip-compressed) tar archive, or is truncated.
    #[error("layer {layer} ({label}): malformed {format} at uncompressed byte offset {offset}: {problem}; check that the layer is a complete tar or tar+gzip blob")]
    MalformedLayer {
        /// 0-based position of the layer in the list given.
        layer: usize,
        /// The layer's label (e.g. its digest).
        label: String,
        /// `tar` or `gzip`.
        format: &'static str,
        /// Offset into the (decompressed) tar stream where reading failed.
        offset: u64,
        /// The reader's message.
        problem: String,
    },
    /// A layer decompresses to more bytes than allowed (a decompression bomb, or a huge layer).
    #[error("layer {layer} ({label}): more than {limit} bytes after decompression; refusing to read further (raise `max_decompressed_bytes` if the layer is genuine)")]
    DecompressionLimit {
        /// 0-based position of the layer.
        layer: usize,
        /// The layer's label.
        label: String,
        /// The configured limit in bytes.
        limit: u64,
    },
}
