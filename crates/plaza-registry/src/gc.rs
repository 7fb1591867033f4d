//! Garbage collection: a mark-and-sweep that removes blobs no repository references, safely
//! while pushes go on. A blob is deleted only if it was unreferenced when the sweep began, is
//! still unreferenced when checked again just before deletion (a manifest pushed during the
//! sweep links its blobs first), and is older than a grace period (an upload that just finished
//! is linked a moment later).

use crate::blob_store::BlobStore;
use crate::digest::Digest;
use crate::error::RegistryError;
use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, SystemTime};

/// What a collection found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs stored.
    pub stored: usize,
    /// Blobs referenced by some repository.
    pub referenced: usize,
    /// Unreferenced blobs removed (or that would be, in a dry run).
    pub removed: Vec<Digest>,
    /// Bytes removed (or that would be).
    pub removed_bytes: u64,
    /// Unreferenced blobs spared because they are younger than the grace period or became
    /// referenced during the sweep.
    pub spared: usize,
}

/// Collects garbage. `referenced` reads the set of digests the store still needs (called once to
/// mark, and again before each deletion batch); `dry_run` reports without deleting.
pub async fn collect<F, Fut, E>(
    blobs: &dyn BlobStore,
    referenced: F,
    grace: Duration,
    dry_run: bool,
) -> Result<GcReport, RegistryError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<HashSet<String>, E>>,
    E: std::fmt::Display,
{
    let began = SystemTime::now();
    let mark = |e: E| {
        RegistryError::io("reading the referenced digests")(std::io::Error::other(e.to_string()))
    };
    let marked = referenced().await.map_err(mark)?;
    let stored = blobs.list().await?;
    let mut report = GcReport {
        stored: stored.len(),
        ..GcReport::default()
    };
    let candidates: Vec<Digest> = stored
        .into_iter()
        .filter(|d| !marked.contains(&d.to_string()))
        .collect();
    report.referenced = report.stored - candidates.len();
    // Check again after listing: anything a push linked meanwhile is spared.
    let still = referenced().await.map_err(mark)?;
    for digest in candidates {
        let young = match blobs.stored_at(&digest).await? {
            Some(t) => began.duration_since(t).map_or(true, |age| age < grace),
            None => continue,
        };
        if young || still.contains(&digest.to_string()) {
            report.spared += 1;
            continue;
        }
        let size = blobs.stat(&digest).await?.unwrap_or(0);
        if !dry_run && !blobs.delete(&digest).await? {
            continue;
        }
        report.removed_bytes += size;
        report.removed.push(digest);
    }
    Ok(report)
}
