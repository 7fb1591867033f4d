//! The keyword prefilter: one case-insensitive Aho-Corasick pass over the input finds every rule
//! keyword, and only the rules whose keywords occur run their regex, and only on windows around
//! the hits. Ordinary content has few hits, so most bytes are read once, by the automaton.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::error::SecretsError;
use super::rules::Rule;

/// Keyword automaton plus, per keyword, the rules it triggers.
#[derive(Debug)]
pub struct Prefilter {
    automaton: AhoCorasick,
    /// Pattern index → indices of the rules that list the keyword.
    rules_of_keyword: Vec<Vec<usize>>,
    /// Per rule: [`Rule::assignment_within`].
    assignment_within: Vec<Option<usize>>,
    /// Per rule: [`Rule::anchored`] (such rules need hits, not windows).
    anchored: Vec<bool>,
}

/// Where one rule must run: merged byte windows, and the keyword hits its matches must contain.
#[derive(Debug, Default, Clone)]
pub struct RulePlan {
    /// Sorted, non-overlapping `[start, end)` windows.
    pub windows: Vec<(usize, usize)>,
    /// Sorted `[start, end)` keyword hits for this rule.
    pub hits: Vec<(usize, usize)>,
}

impl RulePlan {
    /// Whether `[start, end)` contains one of the rule's keyword hits.
    pub fn contains_hit(&self, start: usize, end: usize) -> bool {
        let first = self.hits.partition_point(|&(s, _)| s < start);
        self.hits
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&(s, _)| s < end)
            .any(|&(_, e)| e <= end)
    }
}

impl Prefilter {
    /// Builds the automaton over all rules' keywords (deduplicated, lower-cased).
    pub fn new(rules: &[Rule]) -> Result<Self, SecretsError> {
        let mut keywords: Vec<String> = Vec::new();
        for rule in rules {
            for keyword in &rule.keywords {
                let keyword = keyword.to_ascii_lowercase();
                if !keywords.contains(&keyword) {
                    keywords.push(keyword);
                }
            }
        }
        let rules_of_keyword = keywords
            .iter()
            .map(|keyword| {
                rules
                    .iter()
                    .enumerate()
                    .filter(|(_, rule)| {
                        rule.keywords
                            .iter()
                            .any(|k| k.eq_ignore_ascii_case(keyword))
                    })
                    .map(|(index, _)| index)
                    .collect()
            })
            .collect();
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            // Overlapping hits, so that a keyword inside another (`api_key` in `dd_api_key`)
            // is still reported.
            .match_kind(MatchKind::Standard)
            // A DFA is about twice as fast as the default NFA here; with ~100 case-insensitive
            // keywords the automaton's own prefilter only adds start/stop overhead.
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .prefilter(false)
            .build(&keywords)
            .map_err(|e| SecretsError::InvalidRule {
                rule_id: "(keywords)".to_owned(),
                problem: format!("the keyword automaton cannot be built: {e}"),
            })?;
        Ok(Self {
            automaton,
            rules_of_keyword,
            assignment_within: rules.iter().map(|r| r.assignment_within).collect(),
            anchored: rules.iter().map(|r| r.anchored).collect(),
        })
    }

    /// For each rule (by index), where to run it in `haystack`; `windows[i]` is rule `i`'s
    /// window size on each side of a hit. At most `max_hits` hits are kept per rule; the flag
    /// says whether a rule had more (its later hits were dropped).
    pub fn plan(
        &self,
        haystack: &[u8],
        windows: &[usize],
        max_hits: usize,
    ) -> (Vec<RulePlan>, bool) {
        let mut plans = vec![RulePlan::default(); windows.len()];
        let mut saturated = false;
        for hit in self.automaton.find_overlapping_iter(haystack) {
            let rules = self
                .rules_of_keyword
                .get(hit.pattern().as_usize())
                .map(Vec::as_slice)
                .unwrap_or_default();
            for &rule in rules {
                let (Some(plan), Some(&window)) = (plans.get_mut(rule), windows.get(rule)) else {
                    continue;
                };
                if let Some(Some(within)) = self.assignment_within.get(rule) {
                    let after = haystack.get(hit.end()..).unwrap_or_default();
                    if !after.iter().take(*within).any(|&b| b == b'=' || b == b':') {
                        continue;
                    }
                }
                if plan.hits.len() >= max_hits {
                    saturated = true;
                    continue;
                }
                plan.hits.push((hit.start(), hit.end()));
                if self.anchored.get(rule).copied().unwrap_or(false) {
                    continue;
                }
                let start = hit.start().saturating_sub(window);
                let end = hit.end().saturating_add(window).min(haystack.len());
                match plan.windows.last_mut() {
                    Some(last) if start <= last.1 => {
                        last.0 = last.0.min(start);
                        last.1 = last.1.max(end);
                    }
                    _ => plan.windows.push((start, end)),
                }
            }
        }
        // Overlapping hits come in order of their end; restore start order where it differs.
        for plan in &mut plans {
            if !plan.hits.windows(2).all(|w| w.first() <= w.get(1)) {
                plan.hits.sort_unstable();
            }
            if !plan.windows.windows(2).all(|w| w.first() <= w.get(1)) {
                plan.windows.sort_unstable();
                let mut merged: Vec<(usize, usize)> = Vec::with_capacity(plan.windows.len());
                for &(start, end) in &plan.windows {
                    match merged.last_mut() {
                        Some(last) if start <= last.1 => last.1 = last.1.max(end),
                        _ => merged.push((start, end)),
                    }
                }
                plan.windows = merged;
            }
        }
        (plans, saturated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, keywords: &[&str]) -> Rule {
        Rule::new(id, "test", keywords, "(x)").with_window(4)
    }

    #[test]
    fn only_rules_with_keywords_present_get_windows() {
        let rules = [rule("a", &["ghp_"]), rule("b", &["xoxb-"])];
        let prefilter = Prefilter::new(&rules).unwrap();
        let text = b"0123456789 GHP_abc 0123456789";
        let plans = prefilter.plan(text, &[4, 4], usize::MAX).0;
        assert_eq!(plans[0].windows, vec![(7, 19)]);
        assert_eq!(plans[0].hits, vec![(11, 15)]);
        assert!(plans[1].windows.is_empty());
        assert!(plans[0].contains_hit(11, 18));
        assert!(!plans[0].contains_hit(12, 18));
    }

    #[test]
    fn assignment_rules_skip_hits_without_an_operator_after_them() {
        let rules = [rule("g", &["password"]).with_assignment_within(6)];
        let prefilter = Prefilter::new(&rules).unwrap();
        let text = b"the password is long; password = x; password_hash_of_user = y";
        let plans = prefilter.plan(text, &[4], usize::MAX).0;
        assert_eq!(plans[0].hits, vec![(22, 30)]);
    }

    #[test]
    fn overlapping_hits_of_one_rule_are_sorted_by_start() {
        let rules = [rule("a", &["ecret", "xsecret", "cre"])];
        let prefilter = Prefilter::new(&rules).unwrap();
        let (plans, _) = prefilter.plan(b"....xsecret....", &[2], usize::MAX);
        assert_eq!(plans[0].hits, vec![(4, 11), (6, 11), (7, 10)]);
        assert_eq!(plans[0].windows, vec![(2, 13)]);
    }

    #[test]
    fn hits_are_capped_per_rule() {
        let rules = [rule("a", &["ab"])];
        let prefilter = Prefilter::new(&rules).unwrap();
        let (plans, saturated) = prefilter.plan(b"ab ab ab ab", &[1], 3);
        assert_eq!(plans[0].hits.len(), 3);
        assert!(saturated);
        let (_, saturated) = prefilter.plan(b"ab ab ab", &[1], 3);
        assert!(!saturated);
    }

    #[test]
    fn close_hits_merge_and_keywords_inside_longer_ones_are_reported() {
        let rules = [
            rule("token", &["token"]),
            rule("bt", &["access_token$production$"]),
        ];
        let prefilter = Prefilter::new(&rules).unwrap();
        let text = b"token token .......... access_token$production$x";
        let plans = prefilter.plan(text, &[4, 4], usize::MAX).0;
        assert_eq!(plans[0].windows.len(), 2, "{:?}", plans[0].windows);
        assert_eq!(plans[0].windows[0], (0, 15));
        assert_eq!(plans[0].hits.len(), 3);
        assert_eq!(plans[1].hits.len(), 1);
    }
}
