//! The crate's error type.

/// What can go wrong turning Cargo files into an SBOM. Every variant says where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum SupplyError {
    /// `Cargo.lock` is not TOML or does not have the shape cargo writes.
    #[error("{line}:{column}: {message}; fix the file by hand or regenerate it with `cargo generate-lockfile`")]
    LockSyntax {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column (characters) of the problem.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A lock file format this generator does not read.
    #[error("Cargo.lock format version {0} is not supported (versions 3 and 4 are); regenerate it with a cargo that writes version 3 or 4")]
    UnsupportedLockVersion(i64),
    /// The app's own package is missing from the lock file.
    #[error("package `{name} {version}` is not in Cargo.lock; run `cargo generate-lockfile` in the app's workspace (or check the name and version in Cargo.toml)")]
    RootNotInLock {
        /// The package name looked for.
        name: String,
        /// The package version looked for.
        version: String,
    },
    /// A `dependencies` entry names no package of the lock file, or more than one.
    #[error("dependency `{dependency}` of package `{package}` in Cargo.lock {problem}; regenerate the lock file with `cargo generate-lockfile`")]
    UnresolvedDependency {
        /// The package whose `dependencies` array holds the entry (`name version`).
        package: String,
        /// The entry as written.
        dependency: String,
        /// "matches no package" or "is ambiguous".
        problem: &'static str,
    },
    /// The app's `Cargo.toml` is not TOML or has no usable `[package]`.
    #[error("Cargo.toml: {0}")]
    Manifest(String),
}
