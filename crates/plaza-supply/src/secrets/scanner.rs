//! The scanner: compiles the rules once, then scans byte regions. Per region: one prefilter pass,
//! each triggered rule's regex on the windows around its keyword hits, entropy and shape checks,
//! overlap resolution (the earlier, more specific rule wins), redaction, then the allow-list.
//! Inputs are bounded: a region is scanned up to [`ScanConfig::max_file_bytes`] (the rest is
//! reported as truncated), and at most [`ScanConfig::max_findings`] findings are kept.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;

use super::allow::{AllowList, AllowedFinding, INLINE_MARKER};
use super::entropy::shannon_entropy;
use super::error::SecretsError;
use super::prefilter::Prefilter;
use super::redaction::{fingerprint, redact, Finding, Location};
use super::rules::{builtin_rules, Check, Rule, SecretPart};

/// Limits of a scan. Every setting has a default that suits a laptop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Bytes scanned per file or region; the rest is skipped and reported (default 50 MiB).
    pub max_file_bytes: u64,
    /// Bytes a layer may decompress to before the scan stops with an error (default 4 GiB).
    pub max_decompressed_bytes: u64,
    /// Nesting depth of Wasm components (default 32).
    pub max_wasm_depth: usize,
    /// Findings kept per scan, allowed ones included; more set `findings_capped` (default 10,000).
    pub max_findings: usize,
    /// Keyword hits kept per rule and region; more set `keyword_hits_capped` (default 1,000,000).
    /// Bounds memory and time on adversarial input such as 100 MB of `token=`.
    pub max_keyword_hits: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 50 * 1024 * 1024,
            max_decompressed_bytes: 4 * 1024 * 1024 * 1024,
            max_wasm_depth: 32,
            max_findings: 10_000,
            max_keyword_hits: 1_000_000,
        }
    }
}

/// A file or region scanned only partly because it exceeded [`ScanConfig::max_file_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Truncation {
    /// The file's or region's label.
    pub label: String,
    /// Its full size in bytes.
    pub size: u64,
    /// How many leading bytes were scanned.
    pub scanned: u64,
}

/// A whiteout entry of a container layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Whiteout {
    /// 0-based position of the layer.
    pub layer: usize,
    /// The layer's label.
    pub layer_label: String,
    /// The path it deletes (for an opaque whiteout: the directory whose lower contents it hides).
    pub path: String,
    /// An opaque whiteout (`.wh..wh..opq`).
    pub opaque: bool,
}

/// The result of a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    /// Secrets found and not allowed.
    pub findings: Vec<Finding>,
    /// Secrets found and allowed, with the reason.
    pub allowed: Vec<AllowedFinding>,
    /// Files or regions scanned only partly.
    pub truncated: Vec<Truncation>,
    /// Whiteout entries seen in container layers.
    pub whiteouts: Vec<Whiteout>,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// More findings existed than [`ScanConfig::max_findings`] (or than eight times as many
    /// candidate matches): later ones were not reported.
    pub findings_capped: bool,
    /// A rule had more keyword hits in a region than [`ScanConfig::max_keyword_hits`]: the part
    /// of the region after the cap was not searched for that rule.
    pub keyword_hits_capped: bool,
}

impl ScanReport {
    /// Appends another report's contents (e.g. the manifest's and the Wasm binary's).
    pub fn merge(&mut self, other: ScanReport) {
        self.findings.extend(other.findings);
        self.allowed.extend(other.allowed);
        self.truncated.extend(other.truncated);
        self.whiteouts.extend(other.whiteouts);
        self.bytes_scanned = self.bytes_scanned.saturating_add(other.bytes_scanned);
        self.findings_capped |= other.findings_capped;
        self.keyword_hits_capped |= other.keyword_hits_capped;
    }

    /// Whether no (unallowed) secret was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl fmt::Display for ScanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        for allowed in &self.allowed {
            writeln!(f, "{allowed}")?;
        }
        for t in &self.truncated {
            writeln!(
                f,
                "{}: truncated, scanned {} of {} bytes",
                t.label, t.scanned, t.size
            )?;
        }
        for w in &self.whiteouts {
            let kind = if w.opaque {
                "opaque whiteout of"
            } else {
                "whiteout of"
            };
            writeln!(
                f,
                "layer {} ({}): {kind} {}",
                w.layer, w.layer_label, w.path
            )?;
        }
        write!(
            f,
            "{} secret(s), {} allowed, {} bytes scanned{}",
            self.findings.len(),
            self.allowed.len(),
            self.bytes_scanned,
            if self.findings_capped {
                ", findings capped"
            } else {
                ""
            }
        )?;
        if self.keyword_hits_capped {
            f.write_str(", keyword hits capped (scan incomplete)")?;
        }
        Ok(())
    }
}

/// How to locate findings in a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentKind {
    /// Text if the first 8 KiB hold no NUL byte, else binary.
    Auto,
    /// Binary: byte offsets only.
    Binary,
}

#[derive(Debug)]
struct CompiledRule {
    rule: Rule,
    regex: Regex,
    /// `^(?:regex)`, for rules anchored at their keyword hits.
    anchored: Option<Regex>,
}

/// A compiled rule set with its allow-list and limits. Build once, scan many times; `Sync`.
#[derive(Debug)]
pub struct Scanner {
    rules: Vec<CompiledRule>,
    windows: Vec<usize>,
    prefilter: Prefilter,
    allow: AllowList,
    config: ScanConfig,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    rule: usize,
    start: usize,
    end: usize,
}

impl Scanner {
    /// The built-in rules, the default allow-list and default limits.
    pub fn with_defaults() -> Result<Self, SecretsError> {
        Self::new(builtin_rules(), AllowList::new(), ScanConfig::default())
    }

    /// Compiles `rules` (checked: kebab-case unique ids, keywords, regex, capture group).
    pub fn new(
        rules: Vec<Rule>,
        allow: AllowList,
        config: ScanConfig,
    ) -> Result<Self, SecretsError> {
        let mut compiled: Vec<CompiledRule> = Vec::with_capacity(rules.len());
        for rule in rules {
            let invalid = |problem: String| SecretsError::InvalidRule {
                rule_id: rule.id.clone(),
                problem,
            };
            if !is_kebab_case(&rule.id) {
                return Err(invalid(
                    "the id must be kebab-case (`a-z`, `0-9`, single dashes)".into(),
                ));
            }
            if compiled.iter().any(|c| c.rule.id == rule.id) {
                return Err(invalid("the id is used by another rule".into()));
            }
            if rule.keywords.is_empty() || rule.keywords.iter().any(|k| k.is_empty()) {
                return Err(invalid(
                    "a rule needs at least one non-empty keyword".into(),
                ));
            }
            let regex = RegexBuilder::new(&rule.regex)
                .unicode(false)
                .build()
                .map_err(|e| invalid(format!("the regex does not compile: {e}")))?;
            let anchored = if rule.anchored {
                let pattern = format!("^(?:{})", rule.regex);
                let anchored = RegexBuilder::new(&pattern)
                    .unicode(false)
                    .build()
                    .map_err(|e| invalid(format!("the anchored regex does not compile: {e}")))?;
                Some(anchored)
            } else {
                None
            };
            if let SecretPart::Group(group) = rule.secret {
                if group == 0 || group >= regex.captures_len() {
                    return Err(invalid(format!(
                        "capture group {group} does not exist (the regex has {})",
                        regex.captures_len().saturating_sub(1)
                    )));
                }
            }
            compiled.push(CompiledRule {
                rule,
                regex,
                anchored,
            });
        }
        let plain: Vec<Rule> = compiled.iter().map(|c| c.rule.clone()).collect();
        let prefilter = Prefilter::new(&plain)?;
        let windows = compiled.iter().map(|c| c.rule.window).collect();
        Ok(Self {
            rules: compiled,
            windows,
            prefilter,
            allow,
            config,
        })
    }

    /// The rules, in priority order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|c| &c.rule)
    }

    /// The limits in force.
    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// Scans one file's bytes; `label` names it in locations. Text gets line:column locations,
    /// binary content (a NUL byte in the first 8 KiB) byte offsets.
    pub fn scan_bytes(&self, label: &str, bytes: &[u8]) -> ScanReport {
        let mut report = ScanReport::default();
        self.scan_region(label, bytes, ContentKind::Auto, None, &mut report);
        report
    }

    /// Whether any rule matches somewhere in `bytes` (allow-list not applied).
    pub(crate) fn matches_any(&self, bytes: &[u8]) -> bool {
        !self.candidates(bytes).0.is_empty()
    }

    /// Scans one region into `report`. `file_offset` is the region's offset in its file.
    pub(crate) fn scan_region(
        &self,
        label: &str,
        bytes: &[u8],
        kind: ContentKind,
        file_offset: Option<u64>,
        report: &mut ScanReport,
    ) {
        let limit = usize::try_from(self.config.max_file_bytes).unwrap_or(usize::MAX);
        let bytes = if bytes.len() > limit {
            report.truncated.push(Truncation {
                label: label.to_owned(),
                size: bytes.len() as u64,
                scanned: limit as u64,
            });
            bytes.get(..limit).unwrap_or(bytes)
        } else {
            bytes
        };
        report.bytes_scanned = report.bytes_scanned.saturating_add(bytes.len() as u64);
        let (mut candidates, hits_capped, candidates_capped) = self.candidates(bytes);
        report.keyword_hits_capped |= hits_capped;
        report.findings_capped |= candidates_capped;
        if candidates.is_empty() {
            return;
        }
        // Overlaps: the earlier rule in priority order wins.
        candidates.sort_by_key(|c| (c.rule, c.start));
        let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
        let mut accepted = Vec::new();
        for candidate in candidates {
            let before = taken.range(..candidate.end).next_back();
            if before.is_some_and(|(_, &end)| end > candidate.start) {
                continue;
            }
            taken.insert(candidate.start, candidate.end);
            accepted.push(candidate);
        }
        accepted.sort_by_key(|c| (c.start, c.rule));

        let text = kind == ContentKind::Auto && !bytes.iter().take(8192).any(|&b| b == 0);
        let mut cursor = LineCursor::default();
        for candidate in accepted {
            if report.findings.len() + report.allowed.len() >= self.config.max_findings {
                report.findings_capped = true;
                return;
            }
            let (Some(rule), Some(secret)) = (
                self.rules.get(candidate.rule),
                bytes.get(candidate.start..candidate.end),
            ) else {
                continue;
            };
            let (line, column) = if text {
                let (line, column) = cursor.advance(bytes, candidate.start);
                (Some(line), Some(column))
            } else {
                (None, None)
            };
            let finding = Finding {
                rule_id: rule.rule.id.clone(),
                description: rule.rule.description.clone(),
                location: Location {
                    label: label.to_owned(),
                    offset: candidate.start as u64,
                    line,
                    column,
                    file_offset: file_offset.map(|o| o.saturating_add(candidate.start as u64)),
                },
                redacted: redact(secret),
                fingerprint: fingerprint(&rule.rule.id, secret),
                deleted_by_whiteout_in_layer: None,
            };
            let marker = line_has_marker(bytes, candidate.start, candidate.end);
            match self.allow.reason(&finding, secret, marker) {
                Some(reason) => report.allowed.push(AllowedFinding { finding, reason }),
                None => report.findings.push(finding),
            }
        }
    }

    /// Every rule match that passes its checks, as secret byte ranges.
    /// Also says whether keyword hits, and candidates, were capped.
    fn candidates(&self, bytes: &[u8]) -> (Vec<Candidate>, bool, bool) {
        let (plans, hits_capped) =
            self.prefilter
                .plan(bytes, &self.windows, self.config.max_keyword_hits);
        let max_candidates = self.config.max_findings.saturating_mul(8);
        let mut out = Vec::new();
        for (index, (rule, plan)) in self.rules.iter().zip(&plans).enumerate() {
            if out.len() >= max_candidates {
                return (out, hits_capped, true);
            }
            if let Some(anchored) = &rule.anchored {
                // One anchored attempt per keyword hit.
                for &(hit_start, _) in &plan.hits {
                    if out.len() >= max_candidates {
                        return (out, hits_capped, true);
                    }
                    let end = hit_start.saturating_add(rule.rule.window).min(bytes.len());
                    let Some(slice) = bytes.get(hit_start..end) else {
                        continue;
                    };
                    if let Some(captures) = anchored.captures(slice) {
                        if let Some((start, end)) = self.accept(rule, &captures, slice) {
                            out.push(Candidate {
                                rule: index,
                                start: hit_start + start,
                                end: hit_start + end,
                            });
                        }
                    }
                }
                continue;
            }
            for &(window_start, window_end) in &plan.windows {
                let Some(window) = bytes.get(window_start..window_end) else {
                    continue;
                };
                for captures in rule.regex.captures_iter(window) {
                    if out.len() >= max_candidates {
                        return (out, hits_capped, true);
                    }
                    let Some(whole) = captures.get(0) else {
                        continue;
                    };
                    if !plan.contains_hit(window_start + whole.start(), window_start + whole.end())
                    {
                        continue;
                    }
                    if let Some((start, end)) = self.accept(rule, &captures, window) {
                        out.push(Candidate {
                            rule: index,
                            start: window_start + start,
                            end: window_start + end,
                        });
                    }
                }
            }
        }
        (out, hits_capped, false)
    }

    /// The secret's range in `haystack` if the match passes the rule's entropy and shape checks.
    fn accept(
        &self,
        rule: &CompiledRule,
        captures: &regex::bytes::Captures<'_>,
        haystack: &[u8],
    ) -> Option<(usize, usize)> {
        let part = match rule.rule.secret {
            SecretPart::WholeMatch => captures.get(0),
            SecretPart::Group(group) => captures.get(group),
            SecretPart::FirstGroup => captures.iter().skip(1).flatten().next(),
        }?;
        let (start, end) = trim(haystack, part.start(), part.end());
        let secret = haystack.get(start..end).filter(|s| !s.is_empty())?;
        let entropy_ok = rule
            .rule
            .min_entropy
            .is_none_or(|min| shannon_entropy(secret) >= min);
        let whole = captures.get(0).map_or(secret, |m| m.as_bytes());
        (entropy_ok && passes_check(rule.rule.check, secret, whole)).then_some((start, end))
    }
}

/// Incremental line/column computation over findings in offset order.
#[derive(Default)]
struct LineCursor {
    position: usize,
    line: u64,
    line_start: usize,
}

impl LineCursor {
    fn advance(&mut self, bytes: &[u8], offset: usize) -> (u64, u64) {
        if offset < self.position {
            *self = Self::default();
        }
        let span = bytes.get(self.position..offset).unwrap_or_default();
        let newlines = span.iter().filter(|&&b| b == b'\n').count() as u64;
        if let Some(last) = span.iter().rposition(|&b| b == b'\n') {
            self.line_start = self.position + last + 1;
        }
        self.line += newlines;
        self.position = offset;
        let column = bytes
            .get(self.line_start..offset)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count() as u64;
        (self.line + 1, column + 1)
    }
}

/// Whether the line(s) holding `[start, end)` carry the inline allow marker (looking at most
/// 4 KiB before and after).
fn line_has_marker(bytes: &[u8], start: usize, end: usize) -> bool {
    let from = start.saturating_sub(4096);
    let line_start = bytes
        .get(from..start)
        .and_then(|s| s.iter().rposition(|&b| b == b'\n'))
        .map_or(from, |p| from + p + 1);
    let to = end.saturating_add(4096).min(bytes.len());
    let line_end = bytes
        .get(end..to)
        .and_then(|s| s.iter().position(|&b| b == b'\n'))
        .map_or(to, |p| end + p);
    bytes.get(line_start..line_end).is_some_and(|line| {
        line.windows(INLINE_MARKER.len())
            .any(|w| w == INLINE_MARKER)
    })
}

fn trim(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && bytes.get(start).is_some_and(u8::is_ascii_whitespace) {
        start += 1;
    }
    while end > start && bytes.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
        end -= 1;
    }
    (start, end)
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn passes_check(check: Check, secret: &[u8], whole_match: &[u8]) -> bool {
    match check {
        Check::None => true,
        Check::JwtHeader => is_jwt(secret),
        Check::NotPlaceholder => !is_placeholder(secret),
        Check::Assignment => {
            !is_placeholder(secret) && !is_word_like(secret) && !names_a_reference(whole_match)
        }
    }
}

/// Key-name endings that make the value a reference or metadata, not a secret
/// (`secretName`, `token_type`, `password_file`, `api_key_id`).
const REFERENCE_KEY_SUFFIXES: &[&str] = &[
    "name", "ref", "id", "file", "path", "type", "hint", "url", "uri", "len", "length", "field",
    "header", "endpoint", "policy", "prefix", "format", "kind", "mode", "env", "var",
];

/// Whether the key of a `key = value` match ends like a reference (`…_name`, `…Type`).
fn names_a_reference(whole_match: &[u8]) -> bool {
    let key_end = whole_match
        .iter()
        .position(|&b| matches!(b, b'"' | b'\'' | b'`' | b'=' | b':') || b.is_ascii_whitespace())
        .unwrap_or(whole_match.len());
    let key = whole_match
        .get(..key_end)
        .unwrap_or_default()
        .to_ascii_lowercase();
    REFERENCE_KEY_SUFFIXES
        .iter()
        .any(|suffix| key.ends_with(suffix.as_bytes()))
}

/// Words and identifiers rather than random strings: no digit, and either only letters
/// (`DownstreamCredential`) or lower-case words with separators (`downstream-token`).
fn is_word_like(value: &[u8]) -> bool {
    if value.iter().any(u8::is_ascii_digit) {
        return false;
    }
    value.iter().all(u8::is_ascii_alphabetic)
        || value
            .iter()
            .all(|&b| b.is_ascii_lowercase() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_jwt(token: &[u8]) -> bool {
    let Some(header) = token.split(|&b| b == b'.').next() else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&decoded)
        .ok()
        .is_some_and(|v| v.get("alg").is_some())
}

/// Dummy values people write where a secret goes.
const DUMMY_VALUES: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "changeme",
    "change_me",
    "example",
    "test",
    "dummy",
    "redacted",
    "placeholder",
    "your_password",
    "yourpassword",
    "mypassword",
    "token",
];

fn is_placeholder(value: &[u8]) -> bool {
    let Some(&first) = value.first() else {
        return true;
    };
    if matches!(first, b'$' | b'{' | b'<' | b'%' | b'/' | b'~' | b'&' | b'*')
        || value.starts_with(b"./")
        || value.to_ascii_lowercase().starts_with(b"urn:")
        || value.windows(2).any(|w| w == b"${" || w == b"{{")
        || value.windows(3).any(|w| w == b"://")
        || value.iter().all(|&b| b == first)
        || value.iter().all(|&b| matches!(b, b'x' | b'X' | b'*'))
    {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    if DUMMY_VALUES
        .iter()
        .any(|d| d.as_bytes() == lower.as_slice())
    {
        return true;
    }
    is_dotted_identifier_path(value)
}

/// `a.b`, `process.env.TOKEN`, `self.config.secret`: code, not a secret.
fn is_dotted_identifier_path(value: &[u8]) -> bool {
    let mut parts = 0;
    for part in value.split(|&b| b == b'.') {
        let mut bytes = part.iter();
        let valid = bytes
            .next()
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|&b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for value in [
            "${DB_PASSWORD}",
            "<password>",
            "%s",
            "xxxxxxxx",
            "changeme",
            "process.env.TOKEN",
            "aaaa",
        ] {
            assert!(is_placeholder(value.as_bytes()), "{value}");
        }
        for value in ["q8Zr-T1vX.k3Lp", "hunter2", "s3cr3t!x"] {
            assert!(!is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn assignment_check_rejects_words_references_and_metadata_keys() {
        let ok = |secret: &str, whole: &str| {
            passes_check(Check::Assignment, secret.as_bytes(), whole.as_bytes())
        };
        assert!(ok("Xk9qLm2Pz7Rt", "password = \"Xk9qLm2Pz7Rt\""));
        assert!(!ok(
            "DownstreamCredential",
            "credential = DownstreamCredential"
        ));
        assert!(!ok(
            "downstream-token",
            "\"access_token\": \"downstream-token\""
        ));
        assert!(!ok(
            "budget-bot-7c21-token",
            "secretName: budget-bot-7c21-token"
        ));
        assert!(!ok("Xk9qLm2Pz7Rt", "token_type = \"Xk9qLm2Pz7Rt\""));
        assert!(!ok(
            "urn:ietf:params:oauth:token-type:jwt",
            "token: \"urn:ietf:params:oauth:token-type:jwt\""
        ));
    }

    #[test]
    fn kebab_case_ids() {
        assert!(is_kebab_case("github-pat"));
        assert!(is_kebab_case("aws-access-key-id"));
        for bad in ["", "GitHub", "a--b", "-a", "a-", "a_b"] {
            assert!(!is_kebab_case(bad), "{bad}");
        }
    }

    #[test]
    fn line_and_column_are_counted_in_characters() {
        let text = "first\nsécond ghp_x\n\nfourth".as_bytes();
        let mut cursor = LineCursor::default();
        let at = |s: &str| {
            text.windows(s.len())
                .position(|w| w == s.as_bytes())
                .unwrap()
        };
        assert_eq!(cursor.advance(text, at("ghp_")), (2, 8));
        assert_eq!(cursor.advance(text, at("fourth")), (4, 1));
        assert_eq!(cursor.advance(text, 0), (1, 1));
    }

    #[test]
    fn marker_applies_to_its_own_line_only() {
        let text = b"a = 1 # plaza:allow-secret\nb = SECRET\n";
        let b = text.windows(6).position(|w| w == b"SECRET").unwrap();
        assert!(!line_has_marker(text, b, b + 6));
        assert!(line_has_marker(text, 4, 5));
    }

    #[test]
    fn invalid_rules_are_rejected_with_their_id() {
        let bad = [
            Rule::new("Bad_Id", "x", &["k"], "(k)"),
            Rule::new("no-keywords", "x", &[], "(k)"),
            Rule::new("bad-regex", "x", &["k"], "(k"),
            Rule::new("bad-group", "x", &["k"], "k").with_secret(SecretPart::Group(1)),
        ];
        for rule in bad {
            let id = rule.id.clone();
            let err =
                Scanner::new(vec![rule], AllowList::new(), ScanConfig::default()).unwrap_err();
            assert!(err.to_string().contains(&id), "{err}");
        }
        let dup = vec![
            Rule::new("a", "x", &["k"], "(k)"),
            Rule::new("a", "y", &["k"], "(k)"),
        ];
        assert!(Scanner::new(dup, AllowList::new(), ScanConfig::default()).is_err());
    }
}
