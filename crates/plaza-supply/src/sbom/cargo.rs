//! CycloneDX 1.6 JSON from a Rust app's `Cargo.lock`.
//!
//! What is listed: the app's own package as `metadata.component`, and every package of the lock
//! file that the app reaches through the lock's dependency graph (walked from the app's package)
//! as a `library` component. A lock file shared by a workspace therefore gives each member an SBOM
//! of its own dependencies only. The lock records the whole resolve, so the list includes build
//! and dev dependencies and the dependencies of every target platform: it is a superset of what
//! one build links, never a subset.
//!
//! Identity: registry packages get the purl `pkg:cargo/<name>@<version>` (crates.io, the purl
//! type's default repository) or the same with `?repository_url=<index url>` (other registries);
//! git packages get `?vcs_url=git+<url>@<commit>`. Path packages other than the app (workspace
//! members, local crates) are listed without a purl, since no registry knows them; their
//! `bom-ref` is `path:<name>@<version>`. Every other `bom-ref` is the component's purl.
//!
//! Determinism: there is no timestamp; components are sorted by name, version and source,
//! `dependsOn` lists are sorted; the `serialNumber` is a UUID (version 8, RFC 9562) made from the
//! first 16 bytes of the SHA-256 of the document's content (everything but the serial number). The
//! same lock file and app therefore always give the same bytes, and different apps sharing one lock
//! get different serial numbers.

use crate::SupplyError;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, VecDeque};

/// The app an SBOM describes: its own package, as its `Cargo.toml` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootInfo {
    /// The package name (`[package] name`).
    pub name: String,
    /// The package version (`[package] version`; `0.0.0` when absent, as cargo does).
    pub version: String,
    /// The SPDX license expression (`[package] license`), if any.
    pub license: Option<String>,
    /// The package description, if any.
    pub description: Option<String>,
}

/// crates.io's index, as the git and sparse protocols name it in `Cargo.lock`.
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

#[derive(Debug, Deserialize)]
struct Lock {
    version: Option<i64>,
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Debug, Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// A `dependencies` entry of `Cargo.lock`: `name`, `name version` or `name version (source)`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DepSpec<'a> {
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub source: Option<&'a str>,
}

pub(crate) fn parse_dep(entry: &str) -> DepSpec<'_> {
    let entry = entry.trim();
    let (rest, source) = match entry.strip_suffix(')').and_then(|e| e.split_once(" (")) {
        Some((rest, source)) => (rest, Some(source)),
        None => (entry, None),
    };
    let mut words = rest.split_whitespace();
    DepSpec {
        name: words.next().unwrap_or(""),
        version: words.next(),
        source,
    }
}

/// Where a package comes from, from its `source` field.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Origin<'a> {
    Path,
    CratesIo,
    Registry(&'a str),
    Git {
        url: &'a str,
        commit: Option<&'a str>,
    },
    Other(&'a str),
}

pub(crate) fn origin(source: Option<&str>) -> Origin<'_> {
    let Some(s) = source else {
        return Origin::Path;
    };
    if CRATES_IO.contains(&s) {
        return Origin::CratesIo;
    }
    if let Some(url) = s
        .strip_prefix("registry+")
        .or_else(|| s.strip_prefix("sparse+"))
    {
        return Origin::Registry(url);
    }
    if let Some(rest) = s.strip_prefix("git+") {
        let (before, commit) = match rest.split_once('#') {
            Some((b, c)) => (b, Some(c)),
            None => (rest, None),
        };
        let url = before.split_once('?').map_or(before, |(u, _)| u);
        return Origin::Git { url, commit };
    }
    Origin::Other(s)
}

/// Percent-encodes a purl component: everything but ASCII letters, digits, `.-_~` (and, in
/// qualifier values, `:` and `/`, which the purl spec leaves as they are).
fn pct(s: &str, keep_url_chars: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'_' | b'~')
            || (keep_url_chars && matches!(b, b':' | b'/'));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The purl of a package, or `None` for a path package (no registry knows it).
pub(crate) fn purl(name: &str, version: &str, origin: &Origin<'_>) -> Option<String> {
    let base = format!("pkg:cargo/{}@{}", pct(name, false), pct(version, false));
    let qualifier = match origin {
        Origin::Path => return None,
        Origin::CratesIo => return Some(base),
        Origin::Registry(url) | Origin::Other(url) => format!("repository_url={}", pct(url, true)),
        Origin::Git { url, commit } => {
            let vcs = match commit {
                Some(c) => format!("git+{url}@{c}"),
                None => format!("git+{url}"),
            };
            format!("vcs_url={}", pct(&vcs, true))
        }
    };
    Some(format!("{base}?{qualifier}"))
}

/// The toml parser's message on one line (it puts the expectation on a line of its own).
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

fn location(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Builds the CycloneDX 1.6 SBOM (a JSON value; serialise it as it is, key order included) of
/// the app `root` from the text of its `Cargo.lock` (versions 3 and 4; the unversioned v1/v2
/// format is read too, without v1's checksums).
///
/// Errors: the lock is not TOML or not shaped like a lock file ([`SupplyError::LockSyntax`], with
/// line and column), a newer format, the app missing from the lock, or a dependency entry that
/// names no package or several.
pub fn cyclonedx_from_cargo_lock(lock_text: &str, root: RootInfo) -> Result<Value, SupplyError> {
    let lock: Lock = toml::from_str(lock_text).map_err(|e| {
        let (line, column) = location(lock_text, e.span().map_or(0, |s| s.start));
        SupplyError::LockSyntax {
            line,
            column,
            message: one_line(e.message()),
        }
    })?;
    if let Some(v) = lock.version {
        if !(3..=4).contains(&v) {
            return Err(SupplyError::UnsupportedLockVersion(v));
        }
    }
    let pkgs = &lock.package;
    let root_idx = pkgs
        .iter()
        .position(|p| p.name == root.name && p.version == root.version && p.source.is_none())
        .ok_or_else(|| SupplyError::RootNotInLock {
            name: root.name.clone(),
            version: root.version.clone(),
        })?;

    // Resolve every dependency entry to a package index.
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(pkgs.len());
    for p in pkgs {
        let mut out = Vec::with_capacity(p.dependencies.len());
        for entry in &p.dependencies {
            out.push(resolve(pkgs, p, entry)?);
        }
        edges.push(out);
    }

    // Walk from the app's package.
    let mut reached = vec![false; pkgs.len()];
    reached[root_idx] = true;
    let mut queue = VecDeque::from([root_idx]);
    while let Some(i) = queue.pop_front() {
        for &d in &edges[i] {
            if !reached[d] {
                reached[d] = true;
                queue.push_back(d);
            }
        }
    }

    let root_purl = purl(&root.name, &root.version, &Origin::CratesIo).unwrap_or_default();
    let bom_ref = |i: usize| -> String {
        if i == root_idx {
            return root_purl.clone();
        }
        let p = &pkgs[i];
        purl(&p.name, &p.version, &origin(p.source.as_deref()))
            .unwrap_or_else(|| format!("path:{}@{}", p.name, p.version))
    };

    let mut order: Vec<usize> = (0..pkgs.len())
        .filter(|&i| reached[i] && i != root_idx)
        .collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&pkgs[a], &pkgs[b]);
        (&a.name, &a.version, &a.source).cmp(&(&b.name, &b.version, &b.source))
    });

    let components: Vec<Value> = order
        .iter()
        .map(|&i| {
            let p = &pkgs[i];
            let mut c = Map::new();
            c.insert("type".into(), json!("library"));
            c.insert("bom-ref".into(), json!(bom_ref(i)));
            c.insert("name".into(), json!(p.name));
            c.insert("version".into(), json!(p.version));
            if let Some(purl) = purl(&p.name, &p.version, &origin(p.source.as_deref())) {
                c.insert("purl".into(), json!(purl));
            }
            if let Some(sum) = &p.checksum {
                c.insert("hashes".into(), json!([{"alg": "SHA-256", "content": sum}]));
            }
            Value::Object(c)
        })
        .collect();

    let dependencies: Vec<Value> = std::iter::once(root_idx)
        .chain(order.iter().copied())
        .map(|i| {
            let on: BTreeSet<String> = edges[i].iter().map(|&d| bom_ref(d)).collect();
            json!({"ref": bom_ref(i), "dependsOn": on.into_iter().collect::<Vec<_>>()})
        })
        .collect();

    let mut app = Map::new();
    app.insert("type".into(), json!("application"));
    app.insert("bom-ref".into(), json!(root_purl));
    app.insert("name".into(), json!(root.name));
    app.insert("version".into(), json!(root.version));
    if let Some(d) = &root.description {
        app.insert("description".into(), json!(d));
    }
    if let Some(l) = &root.license {
        app.insert("licenses".into(), json!([{"expression": l}]));
    }
    app.insert("purl".into(), json!(root_purl));

    let metadata = json!({
        "tools": {"components": [{
            "type": "application",
            "name": "plaza",
            "version": env!("CARGO_PKG_VERSION"),
        }]},
        "component": Value::Object(app),
    });

    let content = json!([metadata, components, dependencies]);
    let digest = Sha256::digest(content.to_string().as_bytes());
    let serial = uuid_v8(&digest[..16]);

    Ok(json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    }))
}

/// A version-8 (custom) UUID from 16 bytes: the version and variant bits set, the rest kept.
fn uuid_v8(bytes: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn resolve(pkgs: &[LockPackage], from: &LockPackage, entry: &str) -> Result<usize, SupplyError> {
    let spec = parse_dep(entry);
    let strip = |s: &str| s.split_once('#').map_or(s, |(a, _)| a).to_owned();
    let matching = |exact: bool| -> Vec<usize> {
        pkgs.iter()
            .enumerate()
            .filter(|(_, p)| {
                p.name == spec.name
                    && spec.version.is_none_or(|v| p.version == v)
                    && spec.source.is_none_or(|s| match &p.source {
                        Some(ps) if exact => ps == s,
                        Some(ps) => strip(ps) == strip(s),
                        None => false,
                    })
            })
            .map(|(i, _)| i)
            .collect()
    };
    let mut found = matching(true);
    if found.is_empty() && spec.source.is_some() {
        found = matching(false);
    }
    match found.as_slice() {
        [one] => Ok(*one),
        other => Err(SupplyError::UnresolvedDependency {
            package: format!("{} {}", from.name, from.version),
            dependency: entry.to_owned(),
            problem: if other.is_empty() {
                "matches no package"
            } else {
                "is ambiguous"
            },
        }),
    }
}

/// Reads the app's identity from its `Cargo.toml`, taking `version`, `license` and `description`
/// from the workspace root's `[workspace.package]` where the member says `x.workspace = true`
/// (`workspace_toml` is the root's `Cargo.toml`, when there is one).
pub fn root_info_from_cargo_toml(
    member_toml: &str,
    workspace_toml: Option<&str>,
) -> Result<RootInfo, SupplyError> {
    let parse = |text: &str| -> Result<toml::Table, SupplyError> {
        text.parse::<toml::Table>().map_err(|e| {
            let (line, column) = location(text, e.span().map_or(0, |s| s.start));
            SupplyError::Manifest(format!("{line}:{column}: {}", one_line(e.message())))
        })
    };
    let member = parse(member_toml)?;
    let package = member
        .get("package")
        .and_then(|p| p.as_table())
        .ok_or_else(|| {
            SupplyError::Manifest(
                "no [package] table; point `plaza sbom` at the app's own folder, not a virtual workspace".into(),
            )
        })?;
    let ws = workspace_toml.map(parse).transpose()?;
    let field = |key: &str| -> Result<Option<String>, SupplyError> {
        match package.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(toml::Value::Table(t))
                if t.get("workspace").and_then(|w| w.as_bool()) == Some(true) =>
            {
                let inherited = ws
                    .as_ref()
                    .and_then(|w| w.get("workspace"))
                    .and_then(|w| w.get("package"))
                    .and_then(|p| p.get(key))
                    .and_then(|v| v.as_str());
                inherited.map(|s| Some(s.to_owned())).ok_or_else(|| {
                    SupplyError::Manifest(format!(
                        "package.{key} is inherited from the workspace, but the workspace root's Cargo.toml has no [workspace.package] {key}"
                    ))
                })
            }
            Some(_) => Err(SupplyError::Manifest(format!(
                "package.{key} must be a string or `{{ workspace = true }}`"
            ))),
        }
    };
    let name = field("name")?
        .ok_or_else(|| SupplyError::Manifest("[package] has no name; add `name = \"…\"`".into()))?;
    Ok(RootInfo {
        name,
        version: field("version")?.unwrap_or_else(|| "0.0.0".into()),
        license: field("license")?,
        description: field("description")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_dependency_forms_parse() {
        assert_eq!(
            parse_dep("serde"),
            DepSpec {
                name: "serde",
                version: None,
                source: None
            }
        );
        assert_eq!(
            parse_dep("syn 1.0.109"),
            DepSpec {
                name: "syn",
                version: Some("1.0.109"),
                source: None
            }
        );
        assert_eq!(
            parse_dep("rand 0.8.5 (git+https://github.com/rust-random/rand?branch=main#abc)"),
            DepSpec {
                name: "rand",
                version: Some("0.8.5"),
                source: Some("git+https://github.com/rust-random/rand?branch=main#abc"),
            }
        );
    }

    #[test]
    fn purls_follow_the_cargo_type() {
        assert_eq!(
            purl("serde", "1.0.0", &origin(Some(CRATES_IO[0]))).unwrap(),
            "pkg:cargo/serde@1.0.0"
        );
        assert_eq!(
            purl("serde", "1.0.0", &origin(Some(CRATES_IO[1]))).unwrap(),
            "pkg:cargo/serde@1.0.0"
        );
        assert_eq!(
            purl("wasi", "0.14.7+wasi-0.2.4", &Origin::CratesIo).unwrap(),
            "pkg:cargo/wasi@0.14.7%2Bwasi-0.2.4"
        );
        assert_eq!(
            purl(
                "rand",
                "0.8.5",
                &origin(Some(
                    "git+https://github.com/rust-random/rand?branch=main#0123abc"
                ))
            )
            .unwrap(),
            "pkg:cargo/rand@0.8.5?vcs_url=git%2Bhttps://github.com/rust-random/rand%400123abc"
        );
        assert_eq!(
            purl(
                "acme",
                "1.0.0",
                &origin(Some("sparse+https://cargo.acme.example/index/"))
            )
            .unwrap(),
            "pkg:cargo/acme@1.0.0?repository_url=https://cargo.acme.example/index/"
        );
        assert_eq!(purl("local", "0.1.0", &origin(None)), None);
    }

    fn lock(deps: &str) -> String {
        format!(
            r#"version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = [{deps}]

[[package]]
name = "syn"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "syn"
version = "2.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#
        )
    }

    fn app() -> RootInfo {
        RootInfo {
            name: "app".into(),
            version: "0.1.0".into(),
            license: None,
            description: None,
        }
    }

    #[test]
    fn an_ambiguous_or_unknown_dependency_is_an_error() {
        let err = cyclonedx_from_cargo_lock(&lock(r#""syn""#), app()).unwrap_err();
        assert!(err.to_string().contains("is ambiguous"), "{err}");
        let err = cyclonedx_from_cargo_lock(&lock(r#""syn 3.0.0""#), app()).unwrap_err();
        assert!(err.to_string().contains("matches no package"), "{err}");
        let bom = cyclonedx_from_cargo_lock(&lock(r#""syn 2.0.0""#), app()).unwrap();
        assert_eq!(bom["components"].as_array().unwrap().len(), 1);
        assert_eq!(bom["components"][0]["purl"], "pkg:cargo/syn@2.0.0");
    }

    #[test]
    fn a_broken_lock_says_where() {
        let err =
            cyclonedx_from_cargo_lock("version = 4\n[[package]\nname = 1\n", app()).unwrap_err();
        assert!(err.to_string().starts_with("2:"), "{err}");
        let err =
            cyclonedx_from_cargo_lock("version = 4\n[[package]]\nname = 1\n", app()).unwrap_err();
        assert!(
            matches!(err, SupplyError::LockSyntax { line: 3, .. }),
            "{err}"
        );
        let err = cyclonedx_from_cargo_lock("version = 9\n", app()).unwrap_err();
        assert!(matches!(err, SupplyError::UnsupportedLockVersion(9)));
        let err = cyclonedx_from_cargo_lock("version = 3\n", app()).unwrap_err();
        assert!(matches!(err, SupplyError::RootNotInLock { .. }));
    }

    #[test]
    fn the_serial_number_is_a_deterministic_v8_uuid() {
        let a = cyclonedx_from_cargo_lock(&lock(r#""syn 2.0.0""#), app()).unwrap();
        let b = cyclonedx_from_cargo_lock(&lock(r#""syn 2.0.0""#), app()).unwrap();
        let c = cyclonedx_from_cargo_lock(&lock(r#""syn 1.0.0""#), app()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a["serialNumber"], c["serialNumber"]);
        let s = a["serialNumber"].as_str().unwrap();
        assert_eq!(s.len(), "urn:uuid:".len() + 36);
        assert_eq!(&s[23..24], "8");
    }

    #[test]
    fn workspace_inheritance_and_defaults() {
        let ws = "[workspace.package]\nversion = \"1.2.3\"\nlicense = \"MIT\"\n";
        let member =
            "[package]\nname = \"x\"\nversion.workspace = true\nlicense = { workspace = true }\n";
        let r = root_info_from_cargo_toml(member, Some(ws)).unwrap();
        assert_eq!(
            (r.version.as_str(), r.license.as_deref()),
            ("1.2.3", Some("MIT"))
        );
        let r = root_info_from_cargo_toml("[package]\nname = \"x\"\n", None).unwrap();
        assert_eq!(r.version, "0.0.0");
        assert!(root_info_from_cargo_toml(member, None).is_err());
        assert!(root_info_from_cargo_toml("[workspace]\n", None).is_err());
    }
}
