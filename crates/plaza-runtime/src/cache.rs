//! Precompiled components on disk, keyed by artifact digest and engine compatibility.
//!
//! A file is `<cache_dir>/<algo>-<digest hex>-<engine hash>.cwasm`, where the engine hash is a
//! SHA-256 of [`wasmtime::Engine::precompile_compatibility_hash`] (wasmtime version, target,
//! compiler settings, enabled features): code compiled by a different engine is simply never
//! looked up. Beside it, `<same>.sha256` holds the SHA-256 of the `.cwasm` bytes, written after
//! the code file (each via a temporary file and a rename). A load reads both and hashes the code
//! before handing it to wasmtime; a missing, short or mismatching file is a miss, so the
//! component is compiled again and the files rewritten. Wasmtime itself also refuses code whose
//! header does not match the engine.
//!
//! The cache directory must be writable only by Plaza: the digest beside the file detects
//! corruption, not an attacker who can write both files.

// `Component::deserialize` is `unsafe`: wasmtime maps the bytes as executable code and must
// trust that they are what it wrote. This module is the one place that calls it.
#![allow(unsafe_code)]

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

/// The disk cache of one engine.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    engine_hash: String,
}

/// Why a cached file was not used (logged; the component is compiled instead).
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// No file for this digest and engine.
    Absent,
    /// The file's hash does not match the one stored beside it (or that one is missing).
    Corrupt,
    /// Wasmtime refused the code (e.g. produced by an incompatible engine).
    Rejected(String),
}

impl DiskCache {
    /// A cache in `dir` (created when missing) for code compiled by `engine`.
    pub fn new(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(DiskCache {
            dir: dir.to_owned(),
            engine_hash: engine_hash(engine),
        })
    }

    /// The code file for `digest` (`sha256:…`).
    pub fn code_path(&self, digest: &str) -> PathBuf {
        let name = digest.replace(':', "-");
        self.dir
            .join(format!("{name}-{}.cwasm", &self.engine_hash[..16]))
    }

    fn sum_path(&self, digest: &str) -> PathBuf {
        self.code_path(digest).with_extension("sha256")
    }

    /// Loads the precompiled component for `digest`, after checking its stored hash.
    pub fn load(&self, engine: &Engine, digest: &str) -> Result<Component, Miss> {
        let code = match std::fs::read(self.code_path(digest)) {
            Ok(code) => code,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Miss::Absent),
            Err(_) => return Err(Miss::Corrupt),
        };
        let stored = std::fs::read_to_string(self.sum_path(digest)).map_err(|_| Miss::Corrupt)?;
        if stored.trim() != hex::encode(Sha256::digest(&code)) {
            return Err(Miss::Corrupt);
        }
        // SAFETY: the bytes were written by `store` below from `Component::serialize` of an
        // engine with the same compatibility hash (it is in the file name), and they hash to the
        // SHA-256 written beside them after they were complete, so they are exactly what this
        // engine produced. Wasmtime additionally checks the header and engine settings and
        // returns an error (not UB) for code from an incompatible engine. The cache directory is
        // Plaza's own (documented), so nobody else writes these files.
        unsafe { Component::deserialize(engine, &code) }
            .map_err(|e| Miss::Rejected(format!("{e:#}")))
    }

    /// Stores the precompiled `component` for `digest`. Failures are returned for logging only.
    pub fn store(&self, digest: &str, component: &Component) -> std::io::Result<()> {
        let code = component
            .serialize()
            .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        let sum = hex::encode(Sha256::digest(&code));
        // The old sum goes first, then the code is written, then its sum: a reader that finds a
        // sum matching the code always has the complete code.
        let _ = std::fs::remove_file(self.sum_path(digest));
        write_atomically(&self.code_path(digest), &code)?;
        write_atomically(&self.sum_path(digest), sum.as_bytes())
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// A stable hex SHA-256 of the engine's precompile-compatibility hash.
pub fn engine_hash(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(hasher.0.finalize())
}

/// A [`Hasher`] that feeds SHA-256, so the engine's `Hash` gives the same value in every process
/// (std's `DefaultHasher` promises no such thing).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_hash_is_stable_and_depends_on_the_configuration() {
        let a = engine_hash(&Engine::default());
        assert_eq!(a, engine_hash(&Engine::default()));
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let b = engine_hash(&Engine::new(&config).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
    }
}
