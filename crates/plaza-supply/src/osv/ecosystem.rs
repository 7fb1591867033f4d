//! Ecosystem names as OSV spells them, and package-name normalisation per ecosystem.

use std::borrow::Cow;

/// OSV's spelling of the ecosystems this module knows by name (for case-insensitive input such as
/// `pypi`, `golang`, `cargo`). The `:suffix` of an ecosystem (`Maven:<https://…>`, `Debian:11`) is
/// kept as given.
const KNOWN: [&str; 24] = [
    "AlmaLinux",
    "Alpine",
    "Android",
    "Bitnami",
    "Chainguard",
    "CRAN",
    "crates.io",
    "Debian",
    "GHC",
    "GitHub Actions",
    "Go",
    "Hackage",
    "Hex",
    "Linux",
    "Maven",
    "npm",
    "NuGet",
    "OSS-Fuzz",
    "Packagist",
    "Pub",
    "PyPI",
    "RubyGems",
    "SwiftURL",
    "Ubuntu",
];

/// The ecosystem as OSV spells it: known names matched case-insensitively (and the aliases
/// `golang`, `cargo`, `pip`, `pypi`), anything else unchanged.
pub fn canonical_ecosystem(ecosystem: &str) -> Cow<'_, str> {
    let (base, suffix) = match ecosystem.split_once(':') {
        Some((b, s)) => (b, Some(s)),
        None => (ecosystem, None),
    };
    if KNOWN.contains(&base) {
        return Cow::Borrowed(ecosystem);
    }
    let canonical = match base.to_ascii_lowercase().as_str() {
        "golang" => Some("Go"),
        "cargo" | "crates" => Some("crates.io"),
        "pip" => Some("PyPI"),
        lower => KNOWN
            .iter()
            .copied()
            .find(|k| k.to_ascii_lowercase() == lower),
    };
    match canonical {
        Some(c) if c == base => Cow::Borrowed(ecosystem),
        Some(c) => Cow::Owned(match suffix {
            Some(s) => format!("{c}:{s}"),
            None => c.to_string(),
        }),
        None => Cow::Borrowed(ecosystem),
    }
}

/// The package name as the index compares it: PyPI names per PEP 503 (lowercase, every run of
/// `-`, `_`, `.` becomes one `-`), every other ecosystem exactly as written.
pub fn normalize_name<'a>(ecosystem: &str, name: &'a str) -> Cow<'a, str> {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    if base != "PyPI" {
        return Cow::Borrowed(name);
    }
    let already = name
        .bytes()
        .all(|b| !b.is_ascii_uppercase() && b != b'_' && b != b'.')
        && !name.contains("--");
    if already {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for ch in name.chars() {
        if matches!(ch, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(ch.to_ascii_lowercase());
            in_run = false;
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep_503_normalisation() {
        assert_eq!(normalize_name("PyPI", "jw.util"), "jw-util");
        assert_eq!(normalize_name("PyPI", "Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize_name("PyPI", "FRIENDLY__._bard"), "friendly-bard");
        assert_eq!(normalize_name("PyPI", "a--b"), "a-b");
        assert_eq!(normalize_name("npm", "Foo_Bar"), "Foo_Bar");
        assert_eq!(normalize_name("Go", "github.com/A/b"), "github.com/A/b");
    }

    #[test]
    fn ecosystem_spelling() {
        assert_eq!(canonical_ecosystem("pypi"), "PyPI");
        assert_eq!(canonical_ecosystem("golang"), "Go");
        assert_eq!(canonical_ecosystem("CRATES.IO"), "crates.io");
        assert_eq!(canonical_ecosystem("maven:https://x"), "Maven:https://x");
        assert_eq!(canonical_ecosystem("Debian:11"), "Debian:11");
        assert_eq!(canonical_ecosystem("Whatever"), "Whatever");
    }
}
