//! SemVer 2.0 precedence (semver.org §11), used for crates.io, npm, Go and every `SEMVER` range.
//!
//! Syntax: `MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD]`. Missing minor/patch count as 0 and
//! leading zeros are read by value (real data has both; precedence is unaffected). Build metadata
//! is ignored for ordering, so Go's `+incompatible` compares like the plain version, and Go
//! pseudo-versions (`0.0.0-20220906165146-f3363e06e74c`) order as the prereleases they are.
//! The Go `v` prefix is stripped by [`super::Scheme::GoSemver`], not here.

use std::cmp::Ordering;

use super::Num;

/// A parsed SemVer version (build metadata dropped: it has no precedence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemVer {
    /// Major, minor, patch.
    pub core: [Num; 3],
    /// Prerelease identifiers (empty: a release).
    pub pre: Box<[Ident]>,
}

/// A prerelease identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident {
    /// Digits only: compared numerically.
    Numeric(Num),
    /// Anything else: compared by ASCII order.
    Alpha(Box<str>),
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Numeric(a), Ident::Numeric(b)) => a.cmp(b),
            (Ident::Numeric(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Numeric(_)) => Ordering::Greater,
            (Ident::Alpha(a), Ident::Alpha(b)) => a.as_bytes().cmp(b.as_bytes()),
        }
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl SemVer {
    /// Parses a SemVer string; the error says what is wrong.
    pub fn parse(input: &str) -> Result<SemVer, String> {
        let s = input.trim();
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        if let Some(b) = build {
            if !b.split('.').all(valid_ident) {
                return Err(format!("`{input}`: invalid build metadata `{b}`"));
            }
        }
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (rest, None),
        };
        let mut nums = [Num::Small(0), Num::Small(0), Num::Small(0)];
        for (count, part) in core.split('.').enumerate() {
            let slot = nums
                .get_mut(count)
                .ok_or_else(|| format!("`{input}`: more than three numeric components"))?;
            *slot =
                Num::parse(part).ok_or_else(|| format!("`{input}`: `{part}` is not a number"))?;
        }
        let pre = match pre {
            None => Box::default(),
            Some(p) => p
                .split('.')
                .map(|id| {
                    if !valid_ident(id) {
                        return Err(format!("`{input}`: invalid prerelease identifier `{id}`"));
                    }
                    Ok(match Num::parse(id) {
                        Some(n) => Ident::Numeric(n),
                        None => Ident::Alpha(id.into()),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
                .into_boxed_slice(),
        };
        Ok(SemVer { core: nums, pre })
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core.cmp(&other.core).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // Slice ordering: element-wise, then the longer set is greater (§11.4.4).
                (false, false) => self.pre.cmp(&other.pre),
            }
        })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A Go toolchain tag (`go1.21.3`, `go1.21`, `go1.21rc2`, `go1.9beta1`) as the SemVer string the
/// Go vulnerability database uses for `stdlib`/`toolchain` (`1.21.3`, `1.21.0`, `1.21.0-rc.2`,
/// `1.9.0-beta.1`); `None` when `tag` is not such a tag.
pub fn go_tag_to_semver(tag: &str) -> Option<String> {
    let rest = tag.trim().strip_prefix("go")?;
    let num_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (nums, pre) = rest.split_at(num_end);
    let parts: Vec<&str> = nums.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let get = |i: usize| parts.get(i).copied().unwrap_or("0");
    let core = format!("{}.{}.{}", get(0), get(1), get(2));
    if pre.is_empty() {
        return Some(core);
    }
    let (word, n) = pre.split_at(pre.find(|c: char| c.is_ascii_digit())?);
    if !matches!(word, "rc" | "beta" | "alpha") || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{core}-{word}.{n}"))
}

#[cfg(test)]
mod tests {
    use super::super::Scheme;
    use super::*;

    fn v(s: &str) -> SemVer {
        SemVer::parse(s).unwrap()
    }

    #[test]
    fn semver_org_precedence_examples() {
        // semver.org §11: 1.0.0 < 2.0.0 < 2.1.0 < 2.1.1, and the prerelease chain.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in chain.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
            assert!(v(w[1]) > v(w[0]));
        }
        assert_eq!(v("1.0.0+build.1").cmp(&v("1.0.0+other")), Ordering::Equal);
    }

    #[test]
    fn go_versions() {
        let p = |s: &str| Scheme::GoSemver.parse(s).unwrap();
        assert_eq!(p("v1.2.3"), p("1.2.3"));
        assert_eq!(p("v20.10.14+incompatible"), p("20.10.14"));
        // pseudo-versions are prereleases of the next patch/the base version
        assert!(p("v0.0.0-20220906165146-f3363e06e74c") < p("0.0.1"));
        assert!(p("v0.0.0-20210101000000-aaaaaaaaaaaa") < p("v0.0.0-20220906165146-f3363e06e74c"));
        assert!(p("v1.2.4-0.20191109021931-daa7c04131f5") > p("1.2.3"));
        assert!(p("v1.2.4-0.20191109021931-daa7c04131f5") < p("1.2.4"));
        assert!(p("1.19.0-0") < p("1.19.0-rc.1"));
        assert!(Scheme::GoSemver.parse("vx").is_err());
        // toolchain tags, as SBOMs write the stdlib version
        assert_eq!(p("go1.21.3"), p("1.21.3"));
        assert_eq!(p("go1.21"), p("1.21.0"));
        assert_eq!(p("go1.21rc2"), p("1.21.0-rc.2"));
        assert!(p("go1.21rc2") < p("go1.21"));
        assert_eq!(go_tag_to_semver("go1.21x1"), None);
        assert_eq!(go_tag_to_semver("1.21"), None);
    }

    #[test]
    fn bad_syntax_is_reported() {
        for bad in [
            "",
            "1..2",
            "1.2.3.4",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3+",
            "a.b.c",
        ] {
            assert!(SemVer::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(v("1.2"), v("1.2.0"));
    }
}
