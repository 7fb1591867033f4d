//! PEP 440 version ordering for PyPI, as `packaging.version` implements it.
//!
//! Accepted syntax is PEP 440's Appendix B pattern (case-insensitive, surrounding whitespace and a
//! leading `v` allowed, every alternative spelling: `1.0-rc2` == `1.0rc2` == `1.0.RC.2`,
//! `1.0.0` == `1`, `1.0-1` == `1.0.post1`, …). Strings that are not PEP 440 are handled as osv.dev
//! does (it calls `packaging.version.parse`, which returns a `LegacyVersion`): they are parsed
//! with setuptools' legacy rules and sort before every valid version.

use std::cmp::Ordering;

use super::Num;

/// A PyPI version: a PEP 440 version or, for invalid strings, a legacy version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pep440 {
    /// Valid PEP 440.
    Valid(Box<Parts>),
    /// Not PEP 440: the legacy sort key (sorts before every valid version).
    Legacy(Box<[String]>),
}

/// The components of a valid PEP 440 version, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// Epoch (`N!`), 0 when absent.
    pub epoch: Num,
    /// Release numbers with trailing zeros removed (`1.0.0` is stored as `[1]`, `0.0` as `[]`).
    pub release: Vec<Num>,
    /// Pre-release: phase (0 = a, 1 = b, 2 = rc) and number.
    pub pre: Option<(u8, Num)>,
    /// Post-release number.
    pub post: Option<Num>,
    /// Dev-release number.
    pub dev: Option<Num>,
    /// Local version segments (`+ubuntu.1`).
    pub local: Vec<LocalSeg>,
}

/// A local version segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalSeg {
    /// Letters (lowercased): compared lexicographically, below any number.
    Text(Box<str>),
    /// Digits: compared numerically.
    Number(Num),
}

impl Ord for LocalSeg {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (LocalSeg::Number(a), LocalSeg::Number(b)) => a.cmp(b),
            (LocalSeg::Number(_), LocalSeg::Text(_)) => Ordering::Greater,
            (LocalSeg::Text(_), LocalSeg::Number(_)) => Ordering::Less,
            (LocalSeg::Text(a), LocalSeg::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for LocalSeg {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_sep(&mut self) -> bool {
        matches!(self.peek(), Some(b'-' | b'_' | b'.')) && {
            self.pos += 1;
            true
        }
    }
    fn eat_word(&mut self, w: &str) -> bool {
        let end = self.pos + w.len();
        if self.s.get(self.pos..end) == Some(w.as_bytes()) {
            self.pos = end;
            true
        } else {
            false
        }
    }
    fn digits(&mut self) -> Option<Num> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(self.s.get(start..self.pos)?).ok()?;
        Num::parse(text)
    }
}

fn parse_valid(lower: &str) -> Option<Parts> {
    let mut c = Cursor {
        s: lower.as_bytes(),
        pos: 0,
    };
    c.eat(b'v');
    // epoch
    let save = c.pos;
    let mut epoch = Num::Small(0);
    match c.digits() {
        Some(n) if c.eat(b'!') => epoch = n,
        _ => c.pos = save,
    }
    // release
    let mut release = vec![c.digits()?];
    loop {
        let save = c.pos;
        if c.eat(b'.') {
            if let Some(n) = c.digits() {
                release.push(n);
                continue;
            }
        }
        c.pos = save;
        break;
    }
    // pre-release
    let mut pre = None;
    {
        let save = c.pos;
        c.eat_sep();
        let phase = [
            ("alpha", 0u8),
            ("a", 0),
            ("beta", 1),
            ("b", 1),
            ("preview", 2),
            ("pre", 2),
            ("rc", 2),
            ("c", 2),
        ]
        .iter()
        .find(|(w, _)| c.eat_word(w))
        .map(|(_, p)| *p);
        match phase {
            Some(p) => {
                c.eat_sep();
                let n = c.digits().unwrap_or(Num::Small(0));
                pre = Some((p, n));
            }
            None => c.pos = save,
        }
    }
    // post-release
    let mut post = None;
    {
        let save = c.pos;
        if c.eat(b'-') {
            if let Some(n) = c.digits() {
                post = Some(n);
            } else {
                c.pos = save;
            }
        }
        if post.is_none() {
            c.pos = save;
            c.eat_sep();
            if c.eat_word("post") || c.eat_word("rev") || c.eat_word("r") {
                c.eat_sep();
                post = Some(c.digits().unwrap_or(Num::Small(0)));
            } else {
                c.pos = save;
            }
        }
    }
    // dev-release
    let mut dev = None;
    {
        let save = c.pos;
        c.eat_sep();
        if c.eat_word("dev") {
            c.eat_sep();
            dev = Some(c.digits().unwrap_or(Num::Small(0)));
        } else {
            c.pos = save;
        }
    }
    // local
    let mut local = Vec::new();
    if c.eat(b'+') {
        let rest = std::str::from_utf8(c.s.get(c.pos..)?).ok()?;
        for seg in rest.split(['.', '-', '_']) {
            if seg.is_empty() || !seg.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            local.push(match Num::parse(seg) {
                Some(n) => LocalSeg::Number(n),
                None => LocalSeg::Text(seg.into()),
            });
        }
        c.pos = c.s.len();
    }
    if c.pos != c.s.len() {
        return None;
    }
    while release.last().is_some_and(Num::is_zero) {
        release.pop();
    }
    Some(Parts {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// setuptools' legacy key: `packaging.version._legacy_cmpkey` (epoch -1).
fn legacy_key(lower: &str) -> Box<[String]> {
    // re.split(r"(\d+|[a-z]+|\.|-)", s): the matched tokens and the text between them.
    let mut pieces: Vec<&str> = Vec::new();
    let bytes = lower.as_bytes();
    let mut i = 0;
    let mut gap_start = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        let class = |x: u8| {
            if x.is_ascii_digit() {
                1
            } else if x.is_ascii_lowercase() {
                2
            } else {
                0
            }
        };
        let len = match class(b) {
            1 | 2 => {
                let k = class(b);
                bytes
                    .get(i..)
                    .map(|r| r.iter().take_while(|&&x| class(x) == k).count())
                    .unwrap_or(1)
            }
            _ if b == b'.' || b == b'-' => 1,
            _ => 0,
        };
        if len == 0 {
            // Not a token byte: part of the gap. Step over a whole UTF-8 character.
            i += lower
                .get(i..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8);
            continue;
        }
        pieces.push(lower.get(gap_start..i).unwrap_or(""));
        pieces.push(lower.get(i..i + len).unwrap_or(""));
        i += len;
        gap_start = i;
    }
    pieces.push(lower.get(gap_start..).unwrap_or(""));

    let mut parts: Vec<String> = Vec::new();
    let push = |part: String, parts: &mut Vec<String>| {
        if part.starts_with('*') {
            if part.as_str() < "*final" {
                while parts.last().is_some_and(|p| p == "*final-") {
                    parts.pop();
                }
            }
            while parts.last().is_some_and(|p| p == "00000000") {
                parts.pop();
            }
        }
        parts.push(part);
    };
    for piece in pieces {
        let piece = match piece {
            "pre" | "preview" | "rc" => "c",
            "-" => "final-",
            "dev" => "@",
            p => p,
        };
        if piece.is_empty() || piece == "." {
            continue;
        }
        let part = if piece.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            format!("{piece:0>8}")
        } else {
            format!("*{piece}")
        };
        push(part, &mut parts);
    }
    push("*final".to_string(), &mut parts);
    parts.into_boxed_slice()
}

impl Pep440 {
    /// Parses any string: PEP 440 when valid, a legacy version otherwise.
    pub fn parse(input: &str) -> Pep440 {
        let lower = input.to_ascii_lowercase();
        match parse_valid(lower.trim()) {
            Some(p) => Pep440::Valid(Box::new(p)),
            // LegacyVersion keeps surrounding whitespace in its key.
            None => Pep440::Legacy(legacy_key(&lower)),
        }
    }

    /// Whether the string was valid PEP 440.
    pub fn is_valid(&self) -> bool {
        matches!(self, Pep440::Valid(_))
    }
}

/// packaging's `_cmpkey` pieces, as orderable values.
fn pre_key(p: &Parts) -> (i8, u8, Option<&Num>) {
    match (&p.pre, &p.post, &p.dev) {
        (None, None, Some(_)) => (-1, 0, None), // 1.0.dev0 sorts before 1.0a0
        (None, _, _) => (1, 0, None),           // a release sorts after its pre-releases
        (Some((phase, n)), _, _) => (0, *phase, Some(n)),
    }
}

impl Ord for Parts {
    fn cmp(&self, o: &Self) -> Ordering {
        self.epoch
            .cmp(&o.epoch)
            .then_with(|| cmp_release(&self.release, &o.release))
            .then_with(|| pre_key(self).cmp(&pre_key(o)))
            // post: absent sorts first (None < Some)
            .then_with(|| self.post.cmp(&o.post))
            // dev: absent sorts last
            .then_with(|| match (&self.dev, &o.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
            // local: absent sorts first; segments element-wise, longer wins on a tie
            .then_with(|| self.local.cmp(&o.local))
    }
}

fn cmp_release(a: &[Num], b: &[Num]) -> Ordering {
    // Trailing zeros are already stripped, so plain slice ordering is padding-with-zeros order.
    a.cmp(b)
}

impl PartialOrd for Parts {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pep440 {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Pep440::Valid(a), Pep440::Valid(b)) => a.cmp(b),
            (Pep440::Legacy(_), Pep440::Valid(_)) => Ordering::Less,
            (Pep440::Valid(_), Pep440::Legacy(_)) => Ordering::Greater,
            (Pep440::Legacy(a), Pep440::Legacy(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Pep440 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pep440 {
        Pep440::parse(s)
    }

    #[test]
    fn pep_440_summary_ordering_table() {
        // The PEP's "Summary of permitted suffixes and relative ordering" example, in order.
        let chain = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ];
        for (i, a) in chain.iter().enumerate() {
            for b in chain.iter().skip(i + 1) {
                assert!(p(a) < p(b), "{a} < {b}");
                assert!(p(b) > p(a), "{b} > {a}");
            }
            assert!(p(a).is_valid(), "{a}");
        }
    }

    #[test]
    fn normalisation_equalities() {
        let eq = [
            ("1.0-rc2", "1.0rc2"),
            ("1.0.0", "1"),
            ("1.0RC2", "1.0rc2"),
            ("1.0c2", "1.0rc2"),
            ("1.0.pre2", "1.0rc2"),
            ("1.0-preview-2", "1.0rc2"),
            ("1.0alpha1", "1.0a1"),
            ("1.0.beta.1", "1.0b1"),
            ("1.0a", "1.0a0"),
            ("1.0-1", "1.0.post1"),
            ("1.0-r1", "1.0.post1"),
            ("1.0rev", "1.0.post0"),
            ("1.0-dev", "1.0.dev0"),
            ("v1.0", "1.0"),
            (" 1.0 ", "1.0"),
            ("0!1.0", "1.0"),
            ("1.0+Ubuntu-1", "1.0+ubuntu.1"),
            ("01.02", "1.2"),
        ];
        for (a, b) in eq {
            assert!(p(a).is_valid(), "{a} valid");
            assert_eq!(p(a).cmp(&p(b)), Ordering::Equal, "{a} == {b}");
        }
        assert!(p("1!0.1") > p("2.0"));
        assert!(p("1.0+1") > p("1.0+a"));
        assert!(p("1.0+a.1") > p("1.0+a"));
    }

    #[test]
    fn invalid_strings_are_legacy_and_sort_first() {
        for bad in [
            "0.2.0-n653",
            "2019-09-12",
            "1.0+",
            "foo",
            "1.0-",
            "1.0.a.b.c",
            "1.0+a..b",
        ] {
            assert!(!p(bad).is_valid(), "{bad}");
            assert!(p(bad) < p("0.0.dev0"), "{bad}");
        }
        // legacy versions compare among themselves (setuptools rules)
        assert!(p("2019-09-12") > p("2019-09-11"));
        assert!(p("foo-1") < p("foo-2"));
        assert_eq!(
            legacy_key("2019-09-12").to_vec(),
            ["00002019", "*final-", "00000009", "*final-", "00000012", "*final"]
        );
    }
}
