//! Reading an OSV database from a directory or a zip file, and planning an incremental import.
//!
//! [`read_dir`] / [`read_zip`] return one [`LoadedFile`] per `*.json` file (name, sha256 of its
//! bytes, parsed advisory or error). [`plan_import`] compares them with what was imported before
//! (id → digest) and says what is added, changed, unchanged and removed; it fails, listing every
//! problem, when any file does not parse or two files share an id, so an importer either applies
//! the whole plan or nothing.
//!
//! Zip archives are read with caps ([`ZipLimits`]) on entry count, per-entry and total
//! uncompressed bytes and on the compression ratio, counted on the bytes actually inflated (the
//! sizes an archive declares are not trusted).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::OsvError;
use super::model::{parse_advisory, Advisory};

/// Largest OSV file read from a directory (real records are a few kB; the biggest are ~1 MB).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One file of a database.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// Path relative to the directory, or the zip entry name.
    pub name: String,
    /// Lowercase hex sha256 of the file's bytes.
    pub sha256: String,
    /// The parsed record, or why it did not parse.
    pub advisory: Result<Advisory, OsvError>,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> OsvError {
    OsvError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn load(name: String, bytes: &[u8]) -> LoadedFile {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let advisory = parse_advisory(bytes, &name);
    LoadedFile {
        name,
        sha256,
        advisory,
    }
}

/// Reads every `*.json` file under `dir` (recursively, in sorted order). Unreadable entries are
/// returned as errors in their [`LoadedFile`]; an unreadable `dir` is an error.
pub fn read_dir(dir: &Path) -> Result<Vec<LoadedFile>, OsvError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(|e| io_err(&d, e))? {
            let entry = entry.map_err(|e| io_err(&d, e))?;
            let path = entry.path();
            let ft = entry.file_type().map_err(|e| io_err(&path, e))?;
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() && path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in files {
        let name = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let read = fs::File::open(&path).and_then(|f| {
            let mut buf = Vec::new();
            f.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf)?;
            Ok(buf)
        });
        match read {
            Ok(bytes) if bytes.len() as u64 > MAX_FILE_BYTES => out.push(LoadedFile {
                name,
                sha256: String::new(),
                advisory: Err(OsvError::Io {
                    path: path.display().to_string(),
                    message: format!("larger than {MAX_FILE_BYTES} bytes; not an OSV record"),
                }),
            }),
            Ok(bytes) => out.push(load(name, &bytes)),
            Err(e) => out.push(LoadedFile {
                name,
                sha256: String::new(),
                advisory: Err(io_err(&path, e)),
            }),
        }
    }
    Ok(out)
}

/// Caps applied while reading a zip archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// Most entries (files and directories) in the archive.
    pub max_entries: usize,
    /// Most uncompressed bytes of one entry.
    pub max_entry_bytes: u64,
    /// Most uncompressed bytes of all entries together.
    pub max_total_bytes: u64,
    /// Most uncompressed bytes per compressed byte of an entry (checked above 64 KiB).
    pub max_ratio: u64,
}

impl Default for ZipLimits {
    /// Generous for the real OSV exports (osv.dev's `all.zip` has ~500k records, ~2 GB):
    /// 1,000,000 entries, 16 MiB per entry, 4 GiB in total, ratio 100.
    fn default() -> Self {
        ZipLimits {
            max_entries: 1_000_000,
            max_entry_bytes: MAX_FILE_BYTES,
            max_total_bytes: 4 * 1024 * 1024 * 1024,
            max_ratio: 100,
        }
    }
}

/// Reads every `*.json` entry of the zip at `path` with [`ZipLimits::default`].
pub fn read_zip(path: &Path) -> Result<Vec<LoadedFile>, OsvError> {
    read_zip_with(path, ZipLimits::default())
}

/// Reads every `*.json` entry of the zip at `path`; any limit exceeded is an error naming the
/// entry (a zip bomb never gets inflated past the cap).
pub fn read_zip_with(path: &Path, limits: ZipLimits) -> Result<Vec<LoadedFile>, OsvError> {
    let archive_name = path.display().to_string();
    let zerr = |entry: &str, problem: String| OsvError::Zip {
        archive: archive_name.clone(),
        entry: entry.to_string(),
        problem,
    };
    let file = fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| zerr("", format!("not a readable zip archive: {e}")))?;
    if zip.len() > limits.max_entries {
        return Err(zerr(
            "",
            format!(
                "{} entries, more than the limit of {}",
                zip.len(),
                limits.max_entries
            ),
        ));
    }
    let mut total: u64 = 0;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| zerr(&format!("#{i}"), format!("unreadable entry: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| zerr(&format!("#{i}"), format!("entry name is unreadable: {e}")))?
            .into_owned();
        if entry.is_dir() || !name.ends_with(".json") {
            continue;
        }
        if entry.size() > limits.max_entry_bytes {
            return Err(zerr(
                &name,
                format!(
                    "declares {} uncompressed bytes, more than the per-entry limit of {}",
                    entry.size(),
                    limits.max_entry_bytes
                ),
            ));
        }
        let compressed = entry.compressed_size();
        let mut bytes = Vec::new();
        (&mut entry)
            .take(limits.max_entry_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| zerr(&name, format!("cannot be inflated: {e}")))?;
        let n = bytes.len() as u64;
        if n > limits.max_entry_bytes {
            return Err(zerr(
                &name,
                format!(
                    "inflates to more than the per-entry limit of {} bytes (its header understated the size)",
                    limits.max_entry_bytes
                ),
            ));
        }
        if n > 64 * 1024 && n / compressed.max(1) > limits.max_ratio {
            return Err(zerr(
                &name,
                format!(
                    "compression ratio {}:1 exceeds the limit of {}:1 (zip bomb?)",
                    n / compressed.max(1),
                    limits.max_ratio
                ),
            ));
        }
        total += n;
        if total > limits.max_total_bytes {
            return Err(zerr(
                &name,
                format!(
                    "the archive inflates to more than the total limit of {} bytes",
                    limits.max_total_bytes
                ),
            ));
        }
        out.push(load(name, &bytes));
    }
    Ok(out)
}

/// What an import has to do.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// Advisories not imported before, with their file digest.
    pub added: Vec<(Advisory, String)>,
    /// Advisories whose file digest changed, with the new digest.
    pub changed: Vec<(Advisory, String)>,
    /// Ids whose digest is unchanged (nothing to do).
    pub unchanged: Vec<String>,
    /// Ids imported before that are no longer in the database.
    pub removed: Vec<String>,
}

impl ImportPlan {
    /// The id → digest map after applying the plan (to store for the next import).
    pub fn digests_after(&self, previous: &HashMap<String, String>) -> HashMap<String, String> {
        let mut next: HashMap<String, String> = previous.clone();
        for id in &self.removed {
            next.remove(id);
        }
        for (a, d) in self.added.iter().chain(&self.changed) {
            next.insert(a.id.clone(), d.clone());
        }
        next
    }
}

/// Plans an import of `files` given the previously imported `previous` (advisory id → sha256).
/// Fails with [`OsvError::Import`] listing every problem when any file failed to read or parse,
/// or two files carry the same id: nothing is then to be imported.
pub fn plan_import(
    previous: &HashMap<String, String>,
    files: Vec<LoadedFile>,
) -> Result<ImportPlan, OsvError> {
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut plan = ImportPlan::default();
    for f in files {
        let advisory = match f.advisory {
            Ok(a) => a,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(first) = seen.get(&advisory.id) {
            errors.push(OsvError::DuplicateId {
                id: advisory.id.clone(),
                first: first.clone(),
                second: f.name.clone(),
            });
            continue;
        }
        seen.insert(advisory.id.clone(), f.name);
        match previous.get(&advisory.id) {
            None => plan.added.push((advisory, f.sha256)),
            Some(d) if *d == f.sha256 => plan.unchanged.push(advisory.id),
            Some(_) => plan.changed.push((advisory, f.sha256)),
        }
    }
    if !errors.is_empty() {
        return Err(OsvError::Import(errors));
    }
    let mut removed: Vec<String> = previous
        .keys()
        .filter(|id| !seen.contains_key(*id))
        .cloned()
        .collect();
    removed.sort();
    plan.removed = removed;
    plan.unchanged.sort();
    Ok(plan)
}
