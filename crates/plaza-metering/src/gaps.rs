//! Sequence gap tracking per instance: the sequence numbers seen, kept as sorted, disjoint,
//! non-adjacent inclusive ranges, so a million events in order cost one range. Out-of-order
//! arrival is fine; the gaps are the missing numbers between the smallest and the largest seen
//! (or from an expected first number, with [`SequenceTracker::gaps_from`]).
//!
//! Seen 1, 2, 5, 6, 9 → seen ranges `1..=2`, `5..=6`, `9..=9` → gaps `3..=4`, `7..=8`.
//!
//! This is the reference logic the store persists: [`SequenceTracker::ranges`] and
//! [`SequenceTracker::from_ranges`] round-trip, and the type serialises as a JSON array of
//! `[start, end]` pairs.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The sequence numbers seen for one instance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "Vec<(u64, u64)>", try_from = "Vec<(u64, u64)>")]
pub struct SequenceTracker {
    /// start → end (inclusive); disjoint and never adjacent.
    ranges: BTreeMap<u64, u64>,
}

impl SequenceTracker {
    /// Nothing seen yet.
    pub fn new() -> SequenceTracker {
        SequenceTracker::default()
    }

    /// Rebuilds a tracker from persisted ranges (any order; overlapping or adjacent ranges are
    /// merged). Fails on a range whose start is after its end.
    pub fn from_ranges(
        ranges: impl IntoIterator<Item = RangeInclusive<u64>>,
    ) -> Result<SequenceTracker, Error> {
        let mut sorted: Vec<(u64, u64)> = Vec::new();
        for r in ranges {
            let (s, e) = (*r.start(), *r.end());
            if s > e {
                return Err(Error::InvalidRanges {
                    reason: format!("range {s}..={e} starts after it ends"),
                });
            }
            sorted.push((s, e));
        }
        sorted.sort_unstable();
        let mut t = SequenceTracker::new();
        let mut current: Option<(u64, u64)> = None;
        for (s, e) in sorted {
            current = match current {
                Some((cs, ce)) if s <= ce.saturating_add(1) => Some((cs, ce.max(e))),
                Some((cs, ce)) => {
                    t.ranges.insert(cs, ce);
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        if let Some((cs, ce)) = current {
            t.ranges.insert(cs, ce);
        }
        Ok(t)
    }

    /// Records `seq`; returns false if it had been seen already.
    pub fn insert(&mut self, seq: u64) -> bool {
        let prev = self.ranges.range(..=seq).next_back().map(|(s, e)| (*s, *e));
        if let Some((_, e)) = prev {
            if e >= seq {
                return false;
            }
        }
        let next = seq
            .checked_add(1)
            .and_then(|n| self.ranges.range(n..).next().map(|(s, e)| (*s, *e)));
        // prev.end < seq < next.start, so these additions cannot overflow.
        let joins_prev = prev.filter(|(_, e)| e + 1 == seq);
        let joins_next = next.filter(|(s, _)| seq + 1 == *s);
        match (joins_prev, joins_next) {
            (Some((ps, _)), Some((ns, ne))) => {
                self.ranges.remove(&ns);
                self.ranges.insert(ps, ne);
            }
            (Some((ps, _)), None) => {
                self.ranges.insert(ps, seq);
            }
            (None, Some((ns, ne))) => {
                self.ranges.remove(&ns);
                self.ranges.insert(seq, ne);
            }
            (None, None) => {
                self.ranges.insert(seq, seq);
            }
        }
        true
    }

    /// Whether `seq` was seen.
    pub fn contains(&self, seq: u64) -> bool {
        self.ranges
            .range(..=seq)
            .next_back()
            .is_some_and(|(_, e)| *e >= seq)
    }

    /// The seen numbers as sorted, disjoint, non-adjacent ranges.
    pub fn ranges(&self) -> Vec<RangeInclusive<u64>> {
        self.ranges.iter().map(|(s, e)| *s..=*e).collect()
    }

    /// The smallest number seen.
    pub fn first(&self) -> Option<u64> {
        self.ranges.keys().next().copied()
    }

    /// The largest number seen.
    pub fn last(&self) -> Option<u64> {
        self.ranges.values().next_back().copied()
    }

    /// How many distinct numbers were seen.
    pub fn seen_count(&self) -> u128 {
        self.ranges.iter().map(|(s, e)| u128::from(e - s) + 1).sum()
    }

    /// The missing ranges between the smallest and the largest number seen.
    pub fn gaps(&self) -> Vec<RangeInclusive<u64>> {
        self.ranges
            .iter()
            .zip(self.ranges.iter().skip(1))
            // Ranges are non-adjacent, so e + 1 <= next_s - 1.
            .map(|((_, e), (next_s, _))| (e + 1)..=(next_s - 1))
            .collect()
    }

    /// The missing ranges from `first` (the number the instance starts at, usually 1) to the
    /// largest number seen. Numbers below `first` are not gaps.
    pub fn gaps_from(&self, first: u64) -> Vec<RangeInclusive<u64>> {
        let mut out = Vec::new();
        match self.first() {
            None => return out,
            Some(min) if min > first => out.push(first..=(min - 1)),
            _ => {}
        }
        out.extend(self.gaps().into_iter().filter_map(|g| {
            if *g.end() < first {
                None
            } else {
                Some((*g.start()).max(first)..=*g.end())
            }
        }));
        out
    }

    /// How many numbers are missing between the smallest and the largest seen.
    pub fn missing_count(&self) -> u128 {
        self.gaps()
            .iter()
            .map(|g| u128::from(g.end() - g.start()) + 1)
            .sum()
    }

    /// Whether every number from `first` to `last` (inclusive) was seen: what a "period
    /// complete" marker checks.
    pub fn is_complete(&self, first: u64, last: u64) -> bool {
        first > last
            || self
                .ranges
                .range(..=first)
                .next_back()
                .is_some_and(|(_, e)| *e >= last)
    }
}

impl From<SequenceTracker> for Vec<(u64, u64)> {
    fn from(t: SequenceTracker) -> Self {
        t.ranges.into_iter().collect()
    }
}

impl TryFrom<Vec<(u64, u64)>> for SequenceTracker {
    type Error = Error;

    fn try_from(v: Vec<(u64, u64)>) -> Result<Self, Error> {
        SequenceTracker::from_ranges(v.into_iter().map(|(s, e)| s..=e))
    }
}

/// Sequence trackers for many instances, keyed by instance id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GapTracker {
    instances: BTreeMap<String, SequenceTracker>,
}

impl GapTracker {
    /// No instance seen yet.
    pub fn new() -> GapTracker {
        GapTracker::default()
    }

    /// Records `seq` for `instance`; false if already seen.
    pub fn record(&mut self, instance: &str, seq: u64) -> bool {
        match self.instances.get_mut(instance) {
            Some(t) => t.insert(seq),
            None => {
                let mut t = SequenceTracker::new();
                t.insert(seq);
                self.instances.insert(instance.to_string(), t);
                true
            }
        }
    }

    /// The tracker of one instance.
    pub fn instance(&self, instance: &str) -> Option<&SequenceTracker> {
        self.instances.get(instance)
    }

    /// Every instance with at least one gap, and its gaps.
    pub fn gaps(&self) -> BTreeMap<&str, Vec<RangeInclusive<u64>>> {
        self.instances
            .iter()
            .map(|(k, t)| (k.as_str(), t.gaps()))
            .filter(|(_, g)| !g.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(seqs: &[u64]) -> SequenceTracker {
        let mut t = SequenceTracker::new();
        for s in seqs {
            t.insert(*s);
        }
        t
    }

    #[test]
    fn the_example() {
        let t = tracker(&[1, 2, 5, 6, 9]);
        assert_eq!(t.gaps(), [3..=4, 7..=8]);
        assert_eq!(t.ranges(), [1..=2, 5..=6, 9..=9]);
        assert_eq!(t.missing_count(), 4);
        assert_eq!(t.seen_count(), 5);
    }

    #[test]
    fn out_of_order_and_duplicates() {
        let mut t = tracker(&[9, 5, 1, 6, 2]);
        assert_eq!(t.gaps(), [3..=4, 7..=8]);
        assert!(!t.insert(5));
        assert!(t.insert(4));
        assert!(t.insert(3));
        assert_eq!(t.ranges(), [1..=6, 9..=9]);
        assert!(t.insert(8));
        assert!(t.insert(7));
        assert_eq!(t.ranges(), [1..=9]);
        assert!(t.gaps().is_empty());
        assert!(t.is_complete(1, 9));
        assert!(!t.is_complete(0, 9));
        assert!(!t.is_complete(1, 10));
    }

    #[test]
    fn gaps_from_a_start() {
        let t = tracker(&[4, 5, 8]);
        assert_eq!(t.gaps_from(1), [1..=3, 6..=7]);
        assert_eq!(t.gaps_from(7), [7..=7]);
        assert_eq!(t.gaps_from(9), Vec::<RangeInclusive<u64>>::new());
        assert!(SequenceTracker::new().gaps_from(1).is_empty());
    }

    #[test]
    fn extremes() {
        let t = tracker(&[0, u64::MAX, u64::MAX - 1]);
        assert_eq!(t.ranges(), [0..=0, (u64::MAX - 1)..=u64::MAX]);
        assert_eq!(t.gaps(), [1..=(u64::MAX - 2)]);
        assert_eq!(t.missing_count(), u128::from(u64::MAX) - 2);
        assert!(t.contains(u64::MAX));
        assert!(!t.contains(7));
    }

    #[test]
    fn matches_a_naive_model() {
        // A deterministic pseudo-random order of inserts, checked against a set.
        let mut t = SequenceTracker::new();
        let mut set = std::collections::BTreeSet::new();
        let mut x: u64 = 12345;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let seq = (x >> 33) % 300;
            assert_eq!(t.insert(seq), set.insert(seq));
        }
        let first = *set.iter().next().unwrap();
        let last = *set.iter().next_back().unwrap();
        let expected_missing: Vec<u64> = (first..=last).filter(|s| !set.contains(s)).collect();
        let got: Vec<u64> = t.gaps().into_iter().flatten().collect();
        assert_eq!(got, expected_missing);
        let rs = t.ranges();
        for w in rs.windows(2) {
            assert!(
                w[0].end() + 1 < *w[1].start(),
                "ranges must be disjoint and non-adjacent"
            );
        }
        assert_eq!(SequenceTracker::from_ranges(rs).unwrap(), t);
    }

    #[test]
    fn persistence() {
        let t = SequenceTracker::from_ranges([5..=6, 1..=2, 3..=3, 9..=9, 2..=2]).unwrap();
        assert_eq!(t.ranges(), [1..=3, 5..=6, 9..=9]);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "[[1,3],[5,6],[9,9]]");
        assert_eq!(serde_json::from_str::<SequenceTracker>(&json).unwrap(), t);
        assert!(serde_json::from_str::<SequenceTracker>("[[3,1]]").is_err());
        #[allow(clippy::reversed_empty_ranges)]
        let bad = SequenceTracker::from_ranges([3..=1]);
        assert!(matches!(bad, Err(Error::InvalidRanges { .. })));
    }

    #[test]
    fn per_instance() {
        let mut g = GapTracker::new();
        for s in [1, 2, 4] {
            g.record("inst-a", s);
        }
        for s in [1, 2, 3] {
            g.record("inst-b", s);
        }
        assert!(!g.record("inst-a", 2));
        let gaps = g.gaps();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps["inst-a"], [3..=3]);
        assert_eq!(g.instance("inst-b").unwrap().last(), Some(3));
    }
}
