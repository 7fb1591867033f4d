//! Maven version ordering: the rules of Maven's `ComparableVersion`
//! (<https://maven.apache.org/pom.html#version-order-specification>).
//!
//! The version is split into items at `.` and `-` and at digit/letter transitions; a `-` (or a
//! transition) opens a nested list. Numbers compare numerically; the known qualifiers order
//! `alpha` < `beta` < `milestone` < `rc` (= `cr`) < `snapshot` < `""` (= `ga`, `final`,
//! `release`) < `sp`, unknown qualifiers after those, alphabetically; `a1`, `b1`, `m1` are
//! `alpha-1`, `beta-1`, `milestone-1`. Trailing "null" items (0, "", empty lists) are dropped, so
//! `1.0.0` == `1` and `1-ga` == `1`.

use std::cmp::Ordering;

use super::Num;

/// A parsed Maven version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MavenVersion {
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(Num),
    Str(Box<str>),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: usize = 5;

/// The qualifier's sort key: known ones by rank, unknown ones after all, alphabetically.
fn qualifier_key(q: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let v = if followed_by_digit && value.len() == 1 {
        match value {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        }
    } else {
        value
    };
    let v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(v.into())
}

fn parse_item(buf: &str, is_digit: bool, followed_by_digit: bool) -> Item {
    if is_digit {
        match Num::parse(buf) {
            Some(n) => Item::Int(n),
            None => Item::Str(buf.into()),
        }
    } else {
        string_item(buf, followed_by_digit)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_zero(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// `ComparableVersion`'s `Item.compareTo`, with `None` as Java's `null` (padding).
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(n), None) => {
                if n.is_zero() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => a.cmp(b),
            (Item::Int(_), Some(_)) => Ordering::Greater, // 1.1 > 1-sp, 1.1 > 1-1
            (Item::Str(s), None) => qualifier_key(s).cmp(&(RELEASE_INDEX, "")),
            (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => qualifier_key(a).cmp(&qualifier_key(b)),
            (Item::Str(_), Some(Item::List(_))) => Ordering::Less, // 1.any < 1-1
            (Item::List(l), None) => match l.first() {
                None => Ordering::Equal,
                Some(first) => first.compare(None),
            },
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less, // 1-1 < 1.0.x
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater, // 1-1 > 1-sp
            (Item::List(a), Some(Item::List(b))) => compare_lists(a, b),
        }
    }
}

fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    let len = a.len().max(b.len());
    for i in 0..len {
        let result = match (a.get(i), b.get(i)) {
            (None, None) => Ordering::Equal,
            (None, Some(r)) => r.compare(None).reverse(),
            (Some(l), r) => l.compare(r),
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    Ordering::Equal
}

fn normalize(list: &mut Vec<Item>) {
    for item in list.iter_mut() {
        if let Item::List(inner) = item {
            normalize(inner);
        }
    }
    // Drop trailing null items; stop at the first non-null item that is not a list.
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        let Some(item) = list.get(i) else { break };
        if item.is_null() {
            list.remove(i);
        } else if !matches!(item, Item::List(_)) {
            break;
        }
    }
}

impl MavenVersion {
    /// Parses any string (Maven orders every string).
    pub fn parse(input: &str) -> MavenVersion {
        let version = input.trim().to_lowercase();
        let chars: Vec<char> = version.chars().collect();
        // A stack of lists: index 0 is the root; a new list is appended to its parent at close.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0usize;
        let sub =
            |a: usize, b: usize| -> String { chars.get(a..b).unwrap_or(&[]).iter().collect() };
        let push = |stack: &mut Vec<Vec<Item>>, item: Item| {
            if let Some(top) = stack.last_mut() {
                top.push(item);
            }
        };
        for (i, &c) in chars.iter().enumerate() {
            if c == '.' {
                if i == start {
                    push(&mut stack, Item::Int(Num::Small(0)));
                } else {
                    push(&mut stack, parse_item(&sub(start, i), is_digit, false));
                }
                start = i + 1;
            } else if c == '-' {
                if i == start {
                    push(&mut stack, Item::Int(Num::Small(0)));
                } else {
                    push(&mut stack, parse_item(&sub(start, i), is_digit, false));
                }
                start = i + 1;
                stack.push(Vec::new());
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    push(&mut stack, string_item(&sub(start, i), true));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    push(&mut stack, parse_item(&sub(start, i), true, false));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if chars.len() > start {
            push(
                &mut stack,
                parse_item(&sub(start, chars.len()), is_digit, false),
            );
        }
        // Close the nested lists: each is the last element of its parent.
        while stack.len() > 1 {
            let Some(mut inner) = stack.pop() else { break };
            normalize(&mut inner);
            push(&mut stack, Item::List(inner));
        }
        let mut items = stack.pop().unwrap_or_default();
        normalize(&mut items);
        MavenVersion { items }
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> MavenVersion {
        MavenVersion::parse(s)
    }

    #[test]
    fn pom_reference_examples() {
        // From the POM reference's version order specification and ComparableVersionTest.
        let less = [
            ("1", "1.1"),
            ("1-snapshot", "1"),
            ("1-alpha", "1-beta"),
            ("1-beta", "1-milestone"),
            ("1-milestone", "1-rc"),
            ("1-rc", "1-snapshot"),
            ("1", "1-sp"),
            ("1-sp", "1-foo"),
            ("1-foo", "1-1"),
            ("1-1", "1.1"),
            ("1.0-alpha1", "1.0-alpha2"),
            ("1.0-alpha2", "1.0-beta1"),
            ("1.0-rc1", "1.0"),
            ("1.0", "1.0-sp1"),
            ("1.0-sp1", "1.0.1"),
            ("1-foo2", "1-foo10"),
            ("1.foo", "1-foo"),
            ("1-foo", "1-1"),
            ("1.2.3", "1.2.10"),
            ("2.0.0.RELEASE", "2.0.1"),
            ("1-a1", "1-b1"),
            ("1-0.1", "1.0.1"),
        ];
        for (a, b) in less {
            assert!(m(a) < m(b), "{a} < {b}");
            assert!(m(b) > m(a), "{b} > {a}");
        }
        let equal = [
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1-0"),
            ("1-ga", "1"),
            ("1-final", "1"),
            ("1-release", "1"),
            ("1-cr1", "1-rc1"),
            ("1a1", "1-alpha-1"),
            ("1.0.ALPHA1", "1.0.alpha-1"),
            ("1.0-01", "1.0-1"),
            ("1x", "1-x"),
        ];
        for (a, b) in equal {
            assert_eq!(m(a).cmp(&m(b)), Ordering::Equal, "{a} == {b}");
        }
    }

    fn ascending(chain: &[&str]) {
        for (i, a) in chain.iter().enumerate() {
            for b in chain.iter().skip(i + 1) {
                assert!(m(a) < m(b), "{a} < {b}");
                assert!(m(b) > m(a), "{b} > {a}");
            }
        }
    }

    #[test]
    fn maven_comparable_version_test_orders() {
        // Apache Maven's ComparableVersionTest: qualifiers, numbers, MNG-5568, MNG-6572.
        ascending(&[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ]);
        ascending(&[
            "2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b",
            "2.1-c", "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11",
            "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m",
        ]);
        ascending(&["6.1.0rc3", "6.1.0", "6.1H.5-beta"]);
        ascending(&[
            "20190126.230843",
            "1234567890.12345",
            "123456789012345.1H.5-beta",
            "12345678901234567890.1H.5-beta",
        ]);
        ascending(&[
            "1.0-alpha-1-SNAPSHOT",
            "1.0-alpha-1",
            "1.0-beta-1",
            "1.0-SNAPSHOT",
            "1.0",
        ]);
        ascending(&[
            "1.0",
            "1.0-1",
            "1.0-2",
            "2.0-1",
            "2.0.1",
            "2.0.1-klm",
            "2.0.1-lmn",
        ]);
        ascending(&["2.0.1", "2.0.1-xyz", "2.0.1-123"]);
        ascending(&["0.0.0-2021-05-17T01-01-51-5ec03a8b", "20.0.0"]);
    }

    #[test]
    fn maven_comparable_version_test_equalities() {
        let groups: &[&[&str]] = &[
            &["1", "1.0", "1.0.0", "1-0", "1.0-0", "01", "001"],
            &["1a", "1-a", "1.0-a", "1.0.0-a", "1.0a", "1.0.0a", "1A"],
            &["1x", "1-x", "1.0-x", "1.0.0-x", "1.0x", "1.0.0x", "1X"],
            &[
                "1ga", "1", "1release", "1final", "1GA", "1RELeaSE", "1FinaL",
            ],
            &["1cr", "1rc", "1Cr", "1rC"],
            &["1a1", "1-alpha-1"],
            &["1b2", "1-beta-2"],
            &["1m3", "1-milestone-3", "1Milestone3", "1MILESTONE3"],
            &["1.1", "1.01", "1.001"],
            &["1-1", "1-01", "1-001"],
            &["0.0.0", "0.0", "0", "0.0.0-0.0.0", "0-final-ga"],
        ];
        for group in groups {
            for a in group.iter() {
                for b in group.iter() {
                    assert_eq!(m(a).cmp(&m(b)), Ordering::Equal, "{a} == {b}");
                }
            }
        }
    }
}
