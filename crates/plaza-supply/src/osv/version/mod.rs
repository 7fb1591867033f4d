//! Version orderings, one file per scheme: [`semver`] (crates.io, npm, Go), [`pep440`] (PyPI) and
//! [`maven`] (Maven's `ComparableVersion`). Other ecosystems have no ordering here: only exact
//! `versions` entries match, and query results say that ranges were not evaluated.

pub mod maven;
pub mod pep440;
pub mod semver;

use std::cmp::Ordering;

/// A version ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// SemVer 2.0 precedence (strict syntax, build metadata ignored).
    Semver,
    /// SemVer with Go's leading `v` stripped (pseudo-versions are ordinary prereleases), and Go
    /// toolchain tags (`go1.21`, `go1.21rc2`, as SBOMs write the `stdlib` version) read as the Go
    /// vulnerability database writes them (`1.21.0`, `1.21.0-rc.2`).
    GoSemver,
    /// PEP 440, with invalid strings ordered as packaging's `LegacyVersion` (before all valid).
    Pep440,
    /// Maven's `ComparableVersion`.
    Maven,
}

impl Scheme {
    /// The ordering of an ecosystem's `ECOSYSTEM` ranges (the ecosystem as OSV spells it,
    /// optionally with a `:suffix`), or `None` when this implementation has none.
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        match base {
            "Go" => Some(Scheme::GoSemver),
            "crates.io" | "npm" => Some(Scheme::Semver),
            "PyPI" => Some(Scheme::Pep440),
            "Maven" => Some(Scheme::Maven),
            _ => None,
        }
    }

    /// The ordering of a `SEMVER` range in an ecosystem (Go keeps its `v` stripping).
    pub fn for_semver_range(ecosystem: &str) -> Scheme {
        match Scheme::for_ecosystem(ecosystem) {
            Some(Scheme::GoSemver) => Scheme::GoSemver,
            _ => Scheme::Semver,
        }
    }

    /// Parses a version under this scheme. PEP 440 and Maven accept every string (invalid PEP 440
    /// strings become legacy versions); SemVer returns an error message for invalid syntax.
    pub fn parse(self, version: &str) -> Result<Version, String> {
        match self {
            Scheme::Semver => semver::SemVer::parse(version).map(Version::Semver),
            Scheme::GoSemver => match semver::go_tag_to_semver(version) {
                Some(converted) => semver::SemVer::parse(&converted).map(Version::Semver),
                None => semver::SemVer::parse(version.strip_prefix('v').unwrap_or(version))
                    .map(Version::Semver),
            },
            Scheme::Pep440 => Ok(Version::Pep440(pep440::Pep440::parse(version))),
            Scheme::Maven => Ok(Version::Maven(maven::MavenVersion::parse(version))),
        }
    }
}

/// A parsed version of one scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// A SemVer version.
    Semver(semver::SemVer),
    /// A PEP 440 (or legacy) version.
    Pep440(pep440::Pep440),
    /// A Maven version.
    Maven(maven::MavenVersion),
}

impl Version {
    /// Compares two versions of the same scheme; `None` across schemes.
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        match (self, other) {
            (Version::Semver(a), Version::Semver(b)) => Some(a.cmp(b)),
            (Version::Pep440(a), Version::Pep440(b)) => Some(a.cmp(b)),
            (Version::Maven(a), Version::Maven(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl Version {
    /// A key that orders like the version, coarsely: `a <= b` implies
    /// `a.coarse_key() <= b.coarse_key()` (so a smaller key means a smaller version; equal keys
    /// say nothing). Sorting and binary searches compare these contiguous integers first and the
    /// versions themselves only within a run of equal keys. Built from the leading release
    /// numbers (SemVer: major, minor, patch; PEP 440: epoch and three release numbers, legacy
    /// versions 0); a number too large for its field saturates it and zeroes the later fields,
    /// which keeps the order. Maven versions all get 0.
    pub fn coarse_key(&self) -> u64 {
        self.keyed().0
    }

    /// [`Version::coarse_key`], and whether the key is exact: two versions with equal exact keys
    /// are equal (a release of at most three numbers that fit their fields, without PEP 440
    /// epoch above 6, pre-, post-, dev- or local parts, or SemVer prerelease).
    pub fn keyed(&self) -> (u64, bool) {
        let fits = |n: &Num, width: u32| matches!(n, Num::Small(n) if *n < (1u64 << width) - 1);
        let key = self.raw_coarse_key();
        let exact = match self {
            Version::Semver(v) => v.pre.is_empty() && v.core.iter().all(|n| fits(n, 21)),
            Version::Pep440(pep440::Pep440::Valid(p)) => {
                fits(&p.epoch, 3)
                    && p.release.len() <= 3
                    && p.release.iter().all(|n| fits(n, 20))
                    && p.pre.is_none()
                    && p.post.is_none()
                    && p.dev.is_none()
                    && p.local.is_empty()
            }
            Version::Pep440(pep440::Pep440::Legacy(_)) | Version::Maven(_) => false,
        };
        (key, exact)
    }

    fn raw_coarse_key(&self) -> u64 {
        match self {
            Version::Semver(v) => pack(v.core.iter(), &[21, 21, 21]),
            Version::Pep440(pep440::Pep440::Valid(parts)) => {
                (1 << 63)
                    | pack(
                        std::iter::once(&parts.epoch).chain(parts.release.iter()),
                        &[3, 20, 20, 20],
                    )
            }
            Version::Pep440(pep440::Pep440::Legacy(_)) | Version::Maven(_) => 0,
        }
    }
}

/// Packs numbers into fields of `widths` bits (missing numbers are 0), most significant first:
/// the lexicographic order of the numbers, coarsened monotonically.
fn pack<'a>(mut numbers: impl Iterator<Item = &'a Num>, widths: &[u32]) -> u64 {
    let mut key = 0u64;
    let mut saturated = false;
    for width in widths {
        let max = (1u64 << width) - 1;
        let value = match (saturated, numbers.next()) {
            (true, _) | (false, None) => 0,
            (false, Some(Num::Small(n))) if *n < max => *n,
            (false, Some(_)) => {
                saturated = true;
                max
            }
        };
        key = (key << width) | value;
    }
    key
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        self.compare(other)
    }
}

/// An unbounded non-negative decimal integer, compared by value (leading zeros ignored).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Num {
    /// Fits in 64 bits.
    Small(u64),
    /// Larger than `u64::MAX`: its digits without leading zeros.
    Big(Box<str>),
}

impl Num {
    /// Reads a string of ASCII digits (`None` if empty or not all digits).
    pub fn parse(digits: &str) -> Option<Num> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(match digits.parse::<u64>() {
            Ok(n) => Num::Small(n),
            Err(_) => Num::Big(digits.trim_start_matches('0').into()),
        })
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, Num::Small(0))
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Num::Small(a), Num::Small(b)) => a.cmp(b),
            (Num::Small(_), Num::Big(_)) => Ordering::Less,
            (Num::Big(_), Num::Small(_)) => Ordering::Greater,
            (Num::Big(a), Num::Big(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        }
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_numbers_compare_by_value() {
        let a = Num::parse("18446744073709551616").unwrap();
        let b = Num::parse("000018446744073709551617").unwrap();
        assert!(a < b);
        assert!(Num::parse("18446744073709551615").unwrap() < a);
        assert_eq!(Num::parse("007"), Some(Num::Small(7)));
        assert_eq!(Num::parse("7a"), None);
    }

    #[test]
    fn coarse_keys_order_like_the_versions() {
        let cases: [(Scheme, &[&str]); 3] = [
            (
                Scheme::Pep440,
                &[
                    "not a version",
                    "0",
                    "0.0.1",
                    "1.0.dev1",
                    "1.0a1",
                    "1",
                    "1.0.0",
                    "1.0.post1",
                    "1.0+local",
                    "1.0.1",
                    "1.2097151",
                    "1.2097152",
                    "1.99999999999",
                    "2",
                    "2.0.0.1",
                    "7!0",
                    "8!1",
                    "9!0",
                    "99!0",
                    "18446744073709551616",
                    "1!18446744073709551616",
                ],
            ),
            (
                Scheme::GoSemver,
                &[
                    "v0.0.0-20200101000000-abcdefabcdef",
                    "v0.0.0",
                    "v0.1.0",
                    "v1.0.0-rc.1",
                    "v1.0.0",
                    "v1.2097150.0",
                    "v1.2097151.0",
                    "v1.2097152.9",
                    "v1.3000000.0",
                    "v2.0.0",
                    "v2097152.0.0",
                    "v18446744073709551616.0.0",
                ],
            ),
            (Scheme::Maven, &["1.0-alpha", "1.0", "1.0.1", "2"]),
        ];
        for (scheme, versions) in cases {
            let parsed: Vec<Version> = versions
                .iter()
                .map(|v| scheme.parse(v).unwrap_or_else(|e| panic!("{v}: {e}")))
                .collect();
            let mut saw_different_keys = false;
            for a in &parsed {
                for b in &parsed {
                    if a.compare(b) != Some(std::cmp::Ordering::Greater) {
                        assert!(a.coarse_key() <= b.coarse_key(), "{a:?} <= {b:?}");
                        saw_different_keys |= a.coarse_key() < b.coarse_key();
                    }
                }
            }
            assert_eq!(saw_different_keys, scheme != Scheme::Maven, "{scheme:?}");
            for a in &parsed {
                for b in &parsed {
                    let (ka, ea) = a.keyed();
                    let (kb, eb) = b.keyed();
                    if ka == kb && ea && eb {
                        assert_eq!(a.compare(b), Some(std::cmp::Ordering::Equal), "{a:?} {b:?}");
                    }
                }
            }
            let exact = parsed.iter().filter(|v| v.keyed().1).count();
            assert!(scheme == Scheme::Maven || (exact > 3 && exact < parsed.len()));
        }
    }

    #[test]
    fn ecosystems_map_to_schemes() {
        assert_eq!(Scheme::for_ecosystem("Go"), Some(Scheme::GoSemver));
        assert_eq!(Scheme::for_ecosystem("PyPI"), Some(Scheme::Pep440));
        assert_eq!(
            Scheme::for_ecosystem("Maven:https://maven.google.com"),
            Some(Scheme::Maven)
        );
        assert_eq!(Scheme::for_ecosystem("Debian:11"), None);
        assert_eq!(Scheme::for_semver_range("PyPI"), Scheme::Semver);
    }
}
