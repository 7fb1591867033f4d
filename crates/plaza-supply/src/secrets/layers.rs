//! Container image layers: tar or tar+gzip streams (detected by the gzip magic), read in order.
//! Every regular file is scanned (up to [`ScanConfig::max_file_bytes`](super::ScanConfig), the
//! rest reported as truncated; Wasm files by region), whiteout entries (`.wh.NAME`, and the
//! opaque `.wh..wh..opq`) are reported, and a finding in a file that a later layer deletes is
//! marked `deleted by whiteout in layer N`: the secret is gone from the final filesystem but not
//! from the image. Decompressed bytes are capped per layer against decompression bombs.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;

use super::error::SecretsError;
use super::scanner::{ContentKind, ScanReport, Scanner, Truncation, Whiteout};
use super::wasm;

/// One layer to scan: a label for locations (e.g. the layer digest) and its bytes.
#[derive(Debug)]
pub struct LayerInput<R> {
    /// Names the layer in locations and errors.
    pub label: String,
    /// The tar or tar+gzip stream.
    pub reader: R,
}

/// Counts the bytes read through it and fails once they exceed the limit.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let count = self.count.get().saturating_add(n as u64);
        self.count.set(count);
        if count > self.limit {
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        Ok(n)
    }
}

/// A scanned file that had findings: where they are in the report.
struct ScannedFile {
    layer: usize,
    path: String,
    findings: std::ops::Range<usize>,
    allowed: std::ops::Range<usize>,
}

impl Scanner {
    /// Scans image layers given bottom-up (as in an image manifest). See the module docs.
    pub fn scan_layers<R: Read>(
        &self,
        layers: impl IntoIterator<Item = LayerInput<R>>,
    ) -> Result<ScanReport, SecretsError> {
        let mut report = ScanReport::default();
        let mut files = Vec::new();
        for (index, layer) in layers.into_iter().enumerate() {
            self.scan_layer(index, layer, &mut report, &mut files)?;
        }
        // Whiteouts indexed by (path, opaque) → layers, so that marking deleted files costs
        // O(files × path depth), whatever the number of whiteouts.
        let mut index: BTreeMap<(&str, bool), Vec<usize>> = BTreeMap::new();
        for w in &report.whiteouts {
            index
                .entry((w.path.as_str(), w.opaque))
                .or_default()
                .push(w.layer);
        }
        let mut marks = Vec::new();
        for file in &files {
            let later = |key: (&str, bool)| {
                index
                    .get(&key)
                    .and_then(|layers| layers.iter().copied().filter(|&l| l > file.layer).min())
            };
            let mut deleted_in = later((file.path.as_str(), false));
            let mut dir = file.path.as_str();
            loop {
                dir = dir.rsplit_once('/').map_or("", |(parent, _)| parent);
                let here = [
                    later((dir, true)),
                    (!dir.is_empty()).then(|| later((dir, false))).flatten(),
                ];
                deleted_in = here.into_iter().flatten().chain(deleted_in).min();
                if dir.is_empty() {
                    break;
                }
            }
            if let Some(layer) = deleted_in {
                marks.push((file.findings.clone(), file.allowed.clone(), layer));
            }
        }
        for (findings, allowed, layer) in marks {
            for finding in report.findings.get_mut(findings).unwrap_or_default() {
                finding.deleted_by_whiteout_in_layer = Some(layer);
            }
            for allowed in report.allowed.get_mut(allowed).unwrap_or_default() {
                allowed.finding.deleted_by_whiteout_in_layer = Some(layer);
            }
        }
        Ok(report)
    }

    fn scan_layer<R: Read>(
        &self,
        index: usize,
        layer: LayerInput<R>,
        report: &mut ScanReport,
        files: &mut Vec<ScannedFile>,
    ) -> Result<(), SecretsError> {
        let LayerInput { label, reader } = layer;
        let count = Rc::new(Cell::new(0u64));
        let limit = self.config().max_decompressed_bytes;
        let mut buffered = BufReader::new(reader);
        let gzip = match buffered.fill_buf() {
            Ok(head) => head.starts_with(&[0x1f, 0x8b]),
            Err(e) => return Err(layer_error(index, &label, "tar", 0, &e)),
        };
        let format = if gzip { "tar+gzip" } else { "tar" };
        let source: Box<dyn Read> = if gzip {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let counting = Counting {
            inner: source,
            count: Rc::clone(&count),
            limit,
        };
        let fail = |e: &io::Error| {
            if count.get() > limit {
                SecretsError::DecompressionLimit {
                    layer: index,
                    label: label.clone(),
                    limit,
                }
            } else {
                layer_error(index, &label, format, count.get(), e)
            }
        };
        let mut archive = tar::Archive::new(counting);
        let entries = archive.entries().map_err(|e| fail(&e))?;
        let cap = self.config().max_file_bytes;
        let mut buf = Vec::new();
        for entry in entries {
            let mut entry = entry.map_err(|e| fail(&e))?;
            let path = normalize(&entry.path().map_err(|e| fail(&e))?.to_string_lossy());
            let (dir, name) = match path.rsplit_once('/') {
                Some((dir, name)) => (dir, name),
                None => ("", path.as_str()),
            };
            if let Some(deleted) = name.strip_prefix(".wh.") {
                let (opaque, target) = if deleted == ".wh..opq" {
                    (true, dir.to_owned())
                } else if dir.is_empty() {
                    (false, deleted.to_owned())
                } else {
                    (false, format!("{dir}/{deleted}"))
                };
                report.whiteouts.push(Whiteout {
                    layer: index,
                    layer_label: label.clone(),
                    path: target,
                    opaque,
                });
                continue;
            }
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let size = entry.size();
            buf.clear();
            (&mut entry)
                .take(cap)
                .read_to_end(&mut buf)
                .map_err(|e| fail(&e))?;
            let file_label = format!("{label}!{path}");
            if size > cap {
                report.truncated.push(Truncation {
                    label: file_label.clone(),
                    size,
                    scanned: buf.len() as u64,
                });
            }
            let (findings_before, allowed_before) = (report.findings.len(), report.allowed.len());
            self.scan_file(&file_label, &buf, report);
            if report.findings.len() > findings_before || report.allowed.len() > allowed_before {
                files.push(ScannedFile {
                    layer: index,
                    path,
                    findings: findings_before..report.findings.len(),
                    allowed: allowed_before..report.allowed.len(),
                });
            }
        }
        Ok(())
    }

    /// A file from a layer: a Wasm binary by region when it parses, anything else as bytes.
    fn scan_file(&self, label: &str, bytes: &[u8], report: &mut ScanReport) {
        if wasm::is_wasm(bytes) {
            if let Ok(wasm_report) = self.scan_wasm(label, bytes) {
                report.merge(wasm_report);
                return;
            }
        }
        self.scan_region(label, bytes, ContentKind::Auto, None, report);
    }
}

fn layer_error(
    layer: usize,
    label: &str,
    format: &'static str,
    offset: u64,
    e: &io::Error,
) -> SecretsError {
    SecretsError::MalformedLayer {
        layer,
        label: label.to_owned(),
        format,
        offset,
        problem: e.to_string(),
    }
}

/// `./etc/x`, `/etc/x/` → `etc/x`.
fn normalize(path: &str) -> String {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    p.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize("./etc/x"), "etc/x");
        assert_eq!(normalize("/etc/x/"), "etc/x");
        assert_eq!(normalize("etc"), "etc");
    }
}
