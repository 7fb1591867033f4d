//! Package URLs (`pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH`) to OSV
//! (ecosystem, name, version).
//!
//! Segments are percent-decoded; qualifiers and subpath are ignored. Type mapping: `golang` → Go
//! (name = namespace/name, the module path), `pypi` → PyPI, `cargo` → crates.io, `npm` → npm
//! (`@scope/name`), `maven` → Maven (`group:artifact`), `gem` → RubyGems, `nuget` → NuGet,
//! `composer` → Packagist (`vendor/name`), `hex` → Hex, `pub` → Pub, `hackage` → Hackage,
//! `cran` → CRAN, `swift` → SwiftURL, `github` → GitHub Actions. Other types are errors.

use super::error::OsvError;

/// A purl read as an OSV package query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRef {
    /// The ecosystem as OSV spells it.
    pub ecosystem: String,
    /// The package name as OSV writes it.
    pub name: String,
    /// The version, when the purl has one.
    pub version: Option<String>,
}

fn err(purl: &str, problem: impl Into<String>) -> OsvError {
    OsvError::Purl {
        purl: purl.to_string(),
        problem: problem.into(),
    }
}

fn percent_decode(purl: &str, s: &str) -> Result<String, OsvError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    err(
                        purl,
                        format!("`{s}` has a `%` not followed by two hex digits"),
                    )
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        err(
            purl,
            format!("`{s}` percent-decodes to bytes that are not UTF-8"),
        )
    })
}

/// Reads a purl; the error says what is wrong with it.
pub fn parse_purl(purl: &str) -> Result<PackageRef, OsvError> {
    let s = purl.trim();
    let rest = match s.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("pkg:") => s.get(4..).unwrap_or(""),
        _ => return Err(err(purl, "it does not start with `pkg:`")),
    };
    let rest = rest.trim_start_matches('/');
    let rest = rest.split('#').next().unwrap_or(rest);
    let rest = rest.split('?').next().unwrap_or(rest);
    let (kind, path) = rest
        .split_once('/')
        .ok_or_else(|| err(purl, "it has no `/` between the type and the name"))?;
    if kind.is_empty() {
        return Err(err(purl, "the type is empty"));
    }
    let kind = kind.to_ascii_lowercase();
    let path = path.trim_end_matches('/');
    // The version is after the last `@` of the last path segment (an npm scope's `@` is in the
    // namespace).
    let (path, version) = match path.rsplit_once('/') {
        Some((ns, last)) => match last.rsplit_once('@') {
            Some((name, v)) => (format!("{ns}/{name}"), Some(v)),
            None => (path.to_string(), None),
        },
        None => match path.rsplit_once('@') {
            Some((name, v)) => (name.to_string(), Some(v)),
            None => (path.to_string(), None),
        },
    };
    let version = match version {
        Some("") => return Err(err(purl, "the version after `@` is empty")),
        Some(v) => Some(percent_decode(purl, v)?),
        None => None,
    };
    let segments = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| percent_decode(purl, p))
        .collect::<Result<Vec<_>, _>>()?;
    let (name, namespace) = match segments.split_last() {
        Some((n, ns)) => (n.clone(), ns),
        None => return Err(err(purl, "the name is empty")),
    };
    let joined = || {
        let mut all = namespace.to_vec();
        all.push(name.clone());
        all.join("/")
    };
    let no_namespace = |eco: &str| -> Result<(), OsvError> {
        if namespace.is_empty() {
            Ok(())
        } else {
            Err(err(purl, format!("{eco} packages have no namespace")))
        }
    };
    let (ecosystem, osv_name) = match kind.as_str() {
        "golang" => ("Go", joined()),
        "pypi" => {
            no_namespace("PyPI")?;
            ("PyPI", name.clone())
        }
        "cargo" => {
            no_namespace("crates.io")?;
            ("crates.io", name.clone())
        }
        "npm" => match namespace {
            [] => ("npm", name.clone()),
            [scope] => {
                let scope = if scope.starts_with('@') {
                    scope.clone()
                } else {
                    format!("@{scope}")
                };
                ("npm", format!("{scope}/{name}"))
            }
            _ => return Err(err(purl, "an npm purl has at most one namespace (the @scope)")),
        },
        "maven" => match namespace {
            [] => return Err(err(purl, "a Maven purl needs the groupId as namespace")),
            group => ("Maven", format!("{}:{name}", group.join("."))),
        },
        "gem" => ("RubyGems", name.clone()),
        "nuget" => ("NuGet", name.clone()),
        "composer" => ("Packagist", joined()),
        "hex" => ("Hex", name.clone()),
        "pub" => ("Pub", name.clone()),
        "hackage" => ("Hackage", name.clone()),
        "cran" => ("CRAN", name.clone()),
        "swift" => ("SwiftURL", joined()),
        "github" => ("GitHub Actions", joined()),
        other => {
            return Err(err(
                purl,
                format!("purl type `{other}` has no OSV ecosystem here (supported: golang, pypi, cargo, npm, maven, gem, nuget, composer, hex, pub, hackage, cran, swift, github)"),
            ))
        }
    };
    Ok(PackageRef {
        ecosystem: ecosystem.to_string(),
        name: osv_name,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str) -> (String, String, Option<String>) {
        let r = parse_purl(p).unwrap();
        (r.ecosystem, r.name, r.version)
    }

    #[test]
    fn common_types() {
        assert_eq!(
            ok("pkg:golang/golang.org/x/net@v0.1.0"),
            (
                "Go".into(),
                "golang.org/x/net".into(),
                Some("v0.1.0".into())
            )
        );
        assert_eq!(
            ok("pkg:pypi/Django@1.11.1?os=linux#sub/path"),
            ("PyPI".into(), "Django".into(), Some("1.11.1".into()))
        );
        assert_eq!(ok("pkg:cargo/serde@1.0.0").0, "crates.io");
        assert_eq!(
            ok("pkg:npm/@angular/core@1.0.0"),
            ("npm".into(), "@angular/core".into(), Some("1.0.0".into()))
        );
        assert_eq!(ok("pkg:npm/%40angular/core@1.0.0").1, "@angular/core");
        assert_eq!(ok("pkg:npm/@angular/core").2, None);
        assert_eq!(
            ok("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
            (
                "Maven".into(),
                "org.apache.logging.log4j:log4j-core".into(),
                Some("2.14.1".into())
            )
        );
        assert_eq!(
            ok("pkg:golang/github.com/a/b@v1.0.0%2Bincompatible")
                .2
                .unwrap(),
            "v1.0.0+incompatible"
        );
        assert_eq!(ok("PKG:PyPI/jw.util@1.0").1, "jw.util");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (p, needle) in [
            ("npm/foo@1", "pkg:"),
            ("pkg:foo", "no `/`"),
            ("pkg:pypi/a@", "empty"),
            ("pkg:pypi/%zz@1", "hex"),
            ("pkg:deb/debian/curl@1", "no OSV ecosystem"),
            ("pkg:maven/artifact@1", "groupId"),
            ("pkg:pypi/", "name is empty"),
        ] {
            let e = parse_purl(p).unwrap_err().to_string();
            assert!(e.contains(needle), "{p}: {e}");
        }
    }
}
