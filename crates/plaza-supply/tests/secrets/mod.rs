//! Secret scanning: every built-in rule against its positive and negative samples
//! (`fixtures/secrets/rules.toml`), redaction, the allow-list, the Wasm walker (hand-built
//! modules and components, and the committed `examples/apps/hello/hello.wasm`), container layers
//! (tar, tar+gzip, whiteouts, truncation, decompression bombs, malformed input).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use plaza_supply::secrets::{
    builtin_rules, AllowList, AllowListConfig, AllowReason, LayerInput, ScanConfig, ScanReport,
    Scanner, SecretsError,
};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scanner() -> Scanner {
    Scanner::with_defaults().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Fixture samples

#[derive(serde::Deserialize)]
struct Fixture {
    rule: Vec<RuleSamples>,
}

#[derive(serde::Deserialize)]
struct RuleSamples {
    id: String,
    positive: Vec<String>,
    negative: Vec<String>,
}

/// A small deterministic generator (xorshift64*), seeded per rule and sample.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Self(h | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick(&mut self, alphabet: &[u8]) -> char {
        char::from(alphabet[(self.next() % alphabet.len() as u64) as usize])
    }
}

/// Expands `<<KIND:N>>` placeholders; also returns the generated fragments.
fn expand(template: &str, rng: &mut Rng) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut fragments = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("<<") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find(">>").expect("unclosed <<") + start;
        let (kind, n) = rest[start + 2..end].split_once(':').expect("<<KIND:N>>");
        let n: usize = n.parse().expect("N");
        let alphabet: &[u8] = match kind {
            "alnum" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "hex" => b"0123456789abcdef",
            "HEX" => b"0123456789ABCDEF",
            "digits" => b"0123456789",
            "upper" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "lower" => b"abcdefghijklmnopqrstuvwxyz",
            "b64" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            "b64url" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
            "base32" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
            "bech32" => b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
            "X" => b"X",
            other => panic!("unknown placeholder kind {other}"),
        };
        let fragment: String = (0..n).map(|_| rng.pick(alphabet)).collect();
        out.push_str(&fragment);
        fragments.push(fragment);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    (out, fragments)
}

fn fixture() -> Fixture {
    let path = crate_dir().join("tests/fixtures/secrets/rules.toml");
    toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every expanded positive sample: (rule id, sample, generated fragments).
fn positives() -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for rule in fixture().rule {
        for (i, template) in rule.positive.iter().enumerate() {
            let (sample, fragments) = expand(template, &mut Rng::new(&format!("{}+{i}", rule.id)));
            out.push((rule.id.clone(), sample, fragments));
        }
    }
    out
}

fn rule_ids(report: &ScanReport) -> Vec<&str> {
    report.findings.iter().map(|f| f.rule_id.as_str()).collect()
}

#[test]
fn the_rule_set_covers_at_least_forty_credential_types() {
    let rules = builtin_rules();
    assert!(rules.len() >= 40, "{} rules", rules.len());
}

/// The rule table in docs/secrets.md is the rule set (`PLAZA_BLESS=1` rewrites it).
#[test]
fn the_documented_rule_table_is_the_rule_set() {
    let path = crate_dir().join("../../docs/secrets.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let begin = doc.find("<!-- rules:").expect("rules marker");
    let begin = begin + doc[begin..].find("-->\n").expect("marker end") + 4;
    let end = doc.find("<!-- end of rules -->").expect("end marker");
    let mut table = String::from("| id | finds | keywords | min. entropy |\n|---|---|---|---|\n");
    for rule in builtin_rules() {
        let keywords: Vec<String> = rule.keywords.iter().map(|k| format!("`{k}`")).collect();
        let entropy = rule
            .min_entropy
            .map_or(String::new(), |e| format!("{e:.1}"));
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            rule.id,
            rule.description,
            keywords.join(" ").replace('|', "\\|"),
            entropy
        ));
    }
    let actual = format!("{}{}{}", &doc[..begin], table, &doc[end..]);
    if std::env::var_os("PLAZA_BLESS").is_some_and(|v| v != "0" && !v.is_empty()) {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    assert!(
        actual == doc,
        "docs/secrets.md's rule table is out of date; run PLAZA_BLESS=1 cargo test -p plaza-supply"
    );
}

#[test]
fn every_rule_finds_its_positive_samples_and_not_its_negative_ones() {
    let scanner = scanner();
    let fixture = fixture();
    let mut failures = Vec::new();
    let by_id: BTreeMap<&str, &RuleSamples> =
        fixture.rule.iter().map(|r| (r.id.as_str(), r)).collect();
    for rule in builtin_rules() {
        let Some(samples) = by_id.get(rule.id.as_str()) else {
            failures.push(format!(
                "{}: no samples in fixtures/secrets/rules.toml",
                rule.id
            ));
            continue;
        };
        if samples.positive.is_empty() || samples.negative.is_empty() {
            failures.push(format!(
                "{}: needs at least one positive and one negative sample",
                rule.id
            ));
        }
        for (i, template) in samples.positive.iter().enumerate() {
            let (sample, _) = expand(template, &mut Rng::new(&format!("{}+{i}", rule.id)));
            let report = scanner.scan_bytes("sample", sample.as_bytes());
            if !rule_ids(&report).contains(&rule.id.as_str()) {
                failures.push(format!(
                    "{}: positive #{i} not found (found {:?}, allowed {:?}): {template}",
                    rule.id,
                    rule_ids(&report),
                    report.allowed
                ));
            }
        }
        for (i, template) in samples.negative.iter().enumerate() {
            let (sample, _) = expand(template, &mut Rng::new(&format!("{}-{i}", rule.id)));
            let report = scanner.scan_bytes("sample", sample.as_bytes());
            let hit = report.findings.iter().any(|f| f.rule_id == rule.id)
                || report.allowed.iter().any(|a| a.finding.rule_id == rule.id);
            if hit {
                failures.push(format!("{}: negative #{i} was found: {template}", rule.id));
            }
        }
    }
    let known: Vec<String> = builtin_rules().into_iter().map(|r| r.id).collect();
    for samples in &fixture.rule {
        if !known.contains(&samples.id) {
            failures.push(format!(
                "{}: samples for a rule that does not exist",
                samples.id
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn all_positive_samples_in_one_file_are_found_on_their_lines() {
    let samples = positives();
    let mut text = String::new();
    let mut expected = Vec::new();
    for (i, (id, sample, _)) in samples.iter().enumerate() {
        text.push_str(&format!(
            "# ordinary line {i} with words like token and password in prose\n\n"
        ));
        let line = text.lines().count() + 1;
        text.push_str(sample);
        text.push('\n');
        let lines = sample.lines().count().max(1);
        expected.push((id.clone(), line as u64..(line + lines) as u64));
    }
    let report = scanner().scan_bytes("all.txt", text.as_bytes());
    for (id, lines) in expected {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule_id == id && f.location.line.is_some_and(|l| lines.contains(&l))),
            "{id} not found on lines {lines:?}: {:?}",
            report
                .findings
                .iter()
                .map(|f| (&f.rule_id, f.location.line))
                .collect::<Vec<_>>()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Redaction

#[test]
fn no_output_of_a_report_contains_a_secret() {
    let scanner = scanner();
    let mut checked = 0;
    for (id, sample, fragments) in positives() {
        let report = scanner.scan_bytes("sample", sample.as_bytes());
        assert!(!report.findings.is_empty(), "{id}");
        let outputs = [
            format!("{report:?}"),
            format!("{report:#?}"),
            report.to_string(),
            serde_json::to_string(&report).unwrap(),
            report
                .findings
                .iter()
                .map(|f| format!("{f} {f:?} {}", f.location))
                .collect(),
        ];
        for fragment in fragments
            .iter()
            .filter(|f| f.len() >= 8 && !f.bytes().all(|b| b == b'X'))
        {
            for output in &outputs {
                assert!(
                    !output.contains(fragment.as_str()),
                    "{id}: output leaks `{fragment}`:\n{output}"
                );
                checked += 1;
            }
        }
        for finding in &report.findings {
            assert!(finding.redacted.contains('…'), "{}", finding.redacted);
            assert_eq!(finding.fingerprint.len(), 64);
        }
    }
    assert!(checked > 300, "only {checked} checks");
}

#[test]
fn findings_locate_text_by_line_and_column_and_binary_by_offset() {
    let token = format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5");
    let text = format!("name: app\nenv:\n  GITHUB: {token}\n");
    let report = scanner().scan_bytes("micro-app.yaml", text.as_bytes());
    let f = &report.findings[0];
    assert_eq!((f.location.line, f.location.column), (Some(3), Some(11)));
    assert_eq!(f.location.to_string(), "micro-app.yaml:3:11");
    assert_eq!(f.redacted, "ghp_…(40 bytes)");

    let mut binary = vec![0u8, 1, 2, 3, 0xff, 0];
    binary.extend_from_slice(token.as_bytes());
    binary.push(0);
    let report = scanner().scan_bytes("blob.bin", &binary);
    let f = &report.findings[0];
    assert_eq!((f.location.line, f.location.offset), (None, 6));
    assert_eq!(f.location.to_string(), "blob.bin+0x6");
}

#[test]
fn adversarial_input_is_bounded_and_says_so() {
    let config = ScanConfig {
        max_findings: 100,
        max_keyword_hits: 1000,
        ..ScanConfig::default()
    };
    let scanner = Scanner::new(builtin_rules(), AllowList::new(), config).unwrap();
    let many = (0..900)
        .map(|i| format!("password = \"Xk9q{i:06}Lm2Pz7Rt\"\n"))
        .collect::<String>();
    let report = scanner.scan_bytes("many.env", many.as_bytes());
    assert_eq!(report.findings.len(), 100);
    assert!(report.findings_capped && !report.keyword_hits_capped);
    assert!(report.to_string().contains("findings capped"));
    let hits = "token=1 ".repeat(5000);
    let report = scanner.scan_bytes("hits.txt", hits.as_bytes());
    assert!(report.keyword_hits_capped);
    assert!(report.to_string().contains("scan incomplete"));
    let plain = scanner.scan_bytes("few.txt", "token=1 ".repeat(10).as_bytes());
    assert!(!plain.keyword_hits_capped && !plain.findings_capped);
}

// ---------------------------------------------------------------------------------------------
// Allow-list

const TOKEN: &str = "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5";

#[test]
fn allow_list_by_rule_location_fingerprint_and_marker() {
    let text = format!("a = {TOKEN}\n");
    let plain = scanner().scan_bytes("src/main.rs", text.as_bytes());
    assert_eq!(plain.findings.len(), 1);
    let fp = plain.findings[0].fingerprint.clone();

    let with = |allow: AllowList, label: &str, text: &str| {
        Scanner::new(builtin_rules(), allow, ScanConfig::default())
            .unwrap()
            .scan_bytes(label, text.as_bytes())
    };
    let by_rule = with(
        AllowList::new().allow_rule("github-pat"),
        "src/main.rs",
        &text,
    );
    assert!(by_rule.findings.is_empty());
    assert_eq!(
        by_rule.allowed[0].reason,
        AllowReason::Rule("github-pat".into())
    );

    let by_glob = with(
        AllowList::new().allow_location("**/tests/**").unwrap(),
        "app/tests/fixture.txt",
        &text,
    );
    assert!(by_glob.findings.is_empty());
    assert_eq!(
        by_glob.allowed[0].reason,
        AllowReason::Location("**/tests/**".into())
    );
    let other_path = with(
        AllowList::new().allow_location("**/tests/**").unwrap(),
        "src/main.rs",
        &text,
    );
    assert_eq!(other_path.findings.len(), 1);

    let by_fp = with(
        AllowList::new().allow_fingerprint(&fp.to_uppercase()),
        "src/main.rs",
        &text,
    );
    assert!(by_fp.findings.is_empty());
    assert_eq!(by_fp.allowed[0].reason, AllowReason::Fingerprint);

    let marked = format!(
        "a = {TOKEN} # plaza:allow-secret\nb = {}\n",
        TOKEN.replace("aB3", "xY7")
    );
    let report = scanner().scan_bytes("src/main.rs", marked.as_bytes());
    assert_eq!(report.allowed.len(), 1);
    assert_eq!(report.allowed[0].reason, AllowReason::InlineMarker);
    assert_eq!(
        report.findings.len(),
        1,
        "the marker covers its own line only"
    );
    assert_eq!(report.findings[0].location.line, Some(2));

    let config: AllowListConfig =
        toml::from_str("rules = [\"jwt\"]\nlocations = [\"*.md\"]\nfingerprints = []").unwrap();
    let list = AllowList::from_config(&config).unwrap();
    assert!(with(list, "README.md", &text).findings.is_empty());
    let bad = AllowListConfig {
        locations: vec!["a[".into()],
        ..Default::default()
    };
    let err = AllowList::from_config(&bad).unwrap_err();
    assert!(
        matches!(err, SecretsError::InvalidAllowGlob { .. }),
        "{err}"
    );
}

#[test]
fn documentation_examples_are_allowed_by_default_and_say_so() {
    let text = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let report = scanner().scan_bytes("README.md", text.as_bytes());
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.allowed.len(), 2);
    for allowed in &report.allowed {
        assert!(matches!(allowed.reason, AllowReason::KnownExample(_)));
        assert!(
            allowed.to_string().contains("well-known example value"),
            "{allowed}"
        );
    }
    let strict = Scanner::new(
        builtin_rules(),
        AllowList::new().with_known_examples(false),
        ScanConfig::default(),
    )
    .unwrap();
    let report = strict.scan_bytes("README.md", text.as_bytes());
    let mut ids = rule_ids(&report);
    ids.sort_unstable();
    assert_eq!(ids, ["aws-access-key-id", "aws-secret-access-key"]);
}

// ---------------------------------------------------------------------------------------------
// Wasm

fn leb(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![id];
    out.extend(leb(payload.len()));
    out.extend_from_slice(payload);
    out
}

fn custom(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = leb(name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    section(0, &body)
}

/// A core module whose one active data segment holds `data`.
fn module_with_data(data: &[u8]) -> Vec<u8> {
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    out.extend(section(5, &[1, 0, 1])); // one memory
    let mut seg = vec![1, 0x00, 0x41, 0x10, 0x0b];
    seg.extend(leb(data.len()));
    seg.extend_from_slice(data);
    out.extend(section(11, &seg));
    out
}

fn component(sections: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"\0asm\x0d\0\x01\0".to_vec();
    for s in sections {
        out.extend_from_slice(s);
    }
    out
}

#[test]
fn wasm_module_data_segments_and_custom_sections_are_scanned_with_locations() {
    let mut data = b"\0\0hello\0".to_vec();
    let at = data.len();
    data.extend_from_slice(TOKEN.as_bytes());
    let mut bytes = module_with_data(&data);
    bytes.extend(custom(
        "config",
        format!(
            "slack=xoxb-123456789012-1234567890123-{}",
            "aB3dE5gH7jK9mN1pQ3sT5vW7"
        )
        .as_bytes(),
    ));
    let report = scanner().scan_wasm("app.wasm", &bytes).unwrap();
    let labels: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.location.to_string())
        .collect();
    let seg = report
        .findings
        .iter()
        .find(|f| f.rule_id == "github-pat")
        .expect("data segment");
    assert_eq!(seg.location.label, "app.wasm!data segment[0]");
    assert_eq!(seg.location.offset, at as u64);
    let file_offset = bytes
        .windows(TOKEN.len())
        .position(|w| w == TOKEN.as_bytes())
        .unwrap();
    assert_eq!(seg.location.file_offset, Some(file_offset as u64));
    let custom = report
        .findings
        .iter()
        .find(|f| f.rule_id == "slack-bot-token")
        .expect("custom section");
    assert_eq!(
        custom.location.label, "app.wasm!custom section \"config\"",
        "{labels:?}"
    );
}

#[test]
fn a_custom_section_name_that_is_a_secret_is_reported_and_kept_out_of_labels() {
    let mut bytes = module_with_data(b"plain");
    bytes.extend(custom(TOKEN, b"payload"));
    let report = scanner().scan_wasm("n.wasm", &bytes).unwrap();
    assert_eq!(rule_ids(&report), ["github-pat"]);
    let label = &report.findings[0].location.label;
    assert!(
        label.starts_with("n.wasm!custom section @0x") && label.ends_with(" name"),
        "{label}"
    );
    let output = format!("{report:?} {report}");
    assert!(!output.contains(&TOKEN[4..]), "{output}");
}

#[test]
fn wasm_component_nested_modules_and_components_are_walked() {
    let m0 = module_with_data(b"nothing to see");
    let m1 = module_with_data(TOKEN.as_bytes());
    let inner = component(&[section(1, &m1)]);
    let bytes = component(&[section(1, &m0), section(6, &[0]), section(4, &inner)]);
    let report = scanner().scan_wasm("c.wasm", &bytes).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        report.findings[0].location.label,
        "c.wasm!component[0]/module[0]/data segment[0]"
    );
    assert!(report.findings[0]
        .location
        .to_string()
        .starts_with("c.wasm!component[0]/module[0]/data segment[0]+0x0 (file offset 0x"));
}

#[test]
fn the_committed_hello_component_parses_and_a_planted_secret_is_found() {
    let path = crate_dir().join("../../examples/apps/hello/hello.wasm");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[4..8], b"\x0d\0\x01\0", "hello.wasm is a component");
    let report = scanner().scan_wasm("hello.wasm", &bytes).unwrap();
    assert!(report.findings.is_empty(), "{report}");
    assert!(
        report.bytes_scanned > 1000,
        "data segments and custom sections scanned: {}",
        report.bytes_scanned
    );

    let mut planted = bytes.clone();
    planted.extend(custom("plaza-test", format!("token={TOKEN}").as_bytes()));
    let report = scanner().scan_wasm("hello.wasm", &planted).unwrap();
    assert_eq!(rule_ids(&report), ["github-pat"]);
    assert_eq!(
        report.findings[0].location.label,
        "hello.wasm!custom section \"plaza-test\""
    );
}

#[test]
fn malformed_wasm_is_an_error_with_an_offset() {
    let mut bytes = module_with_data(TOKEN.as_bytes());
    bytes.truncate(bytes.len() - 5);
    let err = scanner().scan_wasm("bad.wasm", &bytes).unwrap_err();
    assert!(matches!(err, SecretsError::MalformedWasm { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("bad.wasm: malformed Wasm at byte offset"),
        "{err}"
    );
    let err = scanner()
        .scan_wasm("x.wasm", b"not wasm at all")
        .unwrap_err();
    assert!(err.to_string().contains("offset 0"), "{err}");
}

#[test]
fn mutated_and_truncated_wasm_never_panics() {
    let scanner = scanner();
    let m = module_with_data(TOKEN.as_bytes());
    let base = component(&[
        section(1, &m),
        section(4, &component(&[section(1, &m)])),
        custom("n", b"payload"),
    ]);
    let mut rng = Rng::new("wasm-mutations");
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        let mut bytes = base.clone();
        for _ in 0..1 + rng.next() % 3 {
            let i = (rng.next() % bytes.len() as u64) as usize;
            bytes[i] = (rng.next() & 0xff) as u8;
        }
        match scanner.scan_wasm("m.wasm", &bytes) {
            Ok(_) => ok += 1,
            Err(SecretsError::MalformedWasm { offset, .. }) => {
                assert!(offset <= bytes.len() as u64);
                err += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert!(ok > 0 && err > 0, "{ok} ok, {err} errors");
    let hello = std::fs::read(crate_dir().join("../../examples/apps/hello/hello.wasm")).unwrap();
    for cut in (0..hello.len()).step_by(hello.len() / 150 + 1) {
        let _ = scanner.scan_wasm("hello.wasm", &hello[..cut]);
    }
}

#[test]
fn mutated_layers_never_panic() {
    let scanner = scanner();
    let plain = tar_of(&[("a/b.txt", TOKEN.as_bytes()), ("a/.wh.c", b""), ("d", b"x")]);
    let gz = gzip(&plain);
    let mut rng = Rng::new("tar-mutations");
    for base in [plain, gz] {
        for _ in 0..500 {
            let mut bytes = base.clone();
            let i = (rng.next() % bytes.len() as u64) as usize;
            bytes[i] = (rng.next() & 0xff) as u8;
            let cut = bytes.len() - (rng.next() % 64) as usize;
            bytes.truncate(cut);
            let _ = scanner.scan_layers([layer("m", bytes)]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Container layers

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn layer(label: &str, bytes: Vec<u8>) -> LayerInput<std::io::Cursor<Vec<u8>>> {
    LayerInput {
        label: label.into(),
        reader: std::io::Cursor::new(bytes),
    }
}

#[test]
fn layers_tar_and_gzip_with_whiteouts_and_deleted_files() {
    let env = format!("GITHUB_TOKEN={TOKEN}\n");
    let wasm =
        module_with_data(format!("npm_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5").as_bytes());
    let base = tar_of(&[
        ("etc/app.env", env.as_bytes()),
        ("./opt/cache/key.pem", b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oA1qDXrS8e1AoAoGCCqGSM49\nAwEHoUQDQgAE7/xk\n-----END EC PRIVATE KEY-----\n"),
        ("usr/share/doc/readme", b"nothing secret here"),
    ]);
    let upper = gzip(&tar_of(&[
        ("etc/.wh.app.env", b""),
        ("opt/cache/.wh..wh..opq", b""),
        ("srv/app.wasm", &wasm),
    ]));
    let report = scanner()
        .scan_layers([layer("sha256:base", base), layer("sha256:upper", upper)])
        .unwrap();
    let by_rule = |id: &str| {
        report
            .findings
            .iter()
            .find(|f| f.rule_id == id)
            .unwrap_or_else(|| panic!("{id}: {report}"))
    };
    let gh = by_rule("github-pat");
    assert_eq!(gh.location.label, "sha256:base!etc/app.env");
    assert_eq!(gh.deleted_by_whiteout_in_layer, Some(1));
    assert!(
        gh.to_string().ends_with("(deleted by whiteout in layer 1)"),
        "{gh}"
    );
    let pem = by_rule("private-key-pem");
    assert_eq!(pem.location.label, "sha256:base!opt/cache/key.pem");
    assert_eq!(pem.deleted_by_whiteout_in_layer, Some(1));
    let npm = by_rule("npm-access-token");
    assert_eq!(
        npm.location.label,
        "sha256:upper!srv/app.wasm!data segment[0]"
    );
    assert_eq!(npm.deleted_by_whiteout_in_layer, None);
    let whiteouts: Vec<(usize, &str, bool)> = report
        .whiteouts
        .iter()
        .map(|w| (w.layer, w.path.as_str(), w.opaque))
        .collect();
    assert_eq!(
        whiteouts,
        [(1, "etc/app.env", false), (1, "opt/cache", true)]
    );
}

#[test]
fn whiteouts_delete_the_path_and_what_is_under_it_from_lower_layers_only() {
    let secret = |n: u8| {
        format!(
            "x = ghp_{}{}\n",
            char::from(b'a' + n),
            "B3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
        )
    };
    let l0 = tar_of(&[
        ("etc/app.env", secret(0).as_bytes()),
        ("srv/data/sub/x.txt", secret(1).as_bytes()),
        ("var/lib/y.txt", secret(2).as_bytes()),
        ("opt/z.txt", secret(3).as_bytes()),
    ]);
    let l1 = tar_of(&[
        ("etc/.wh.app", b""),      // not etc/app.env
        ("srv/.wh.data", b""),     // deletes the directory srv/data
        ("var/.wh..wh..opq", b""), // hides everything under var/ from lower layers
        ("var/new.txt", secret(4).as_bytes()),
    ]);
    let l2 = tar_of(&[("opt/.wh.z.txt", b""), ("var/.wh..wh..opq", b"")]);
    let report = scanner()
        .scan_layers([layer("l0", l0), layer("l1", l1), layer("l2", l2)])
        .unwrap();
    let deleted: BTreeMap<&str, Option<usize>> = report
        .findings
        .iter()
        .map(|f| (f.location.label.as_str(), f.deleted_by_whiteout_in_layer))
        .collect();
    let expected: BTreeMap<&str, Option<usize>> = [
        ("l0!etc/app.env", None),
        ("l0!srv/data/sub/x.txt", Some(1)),
        ("l0!var/lib/y.txt", Some(1)),
        ("l0!opt/z.txt", Some(2)),
        ("l1!var/new.txt", Some(2)),
    ]
    .into_iter()
    .collect();
    assert_eq!(deleted, expected);
    assert_eq!(report.whiteouts.len(), 5);
}

#[test]
fn oversized_files_are_truncated_and_reported() {
    let mut big = vec![b'a'; 4096];
    big.extend_from_slice(TOKEN.as_bytes());
    let mut small = b"x=".to_vec();
    small.extend_from_slice(TOKEN.replace("aB3", "Zz9").as_bytes());
    let config = ScanConfig {
        max_file_bytes: 1024,
        ..ScanConfig::default()
    };
    let scanner = Scanner::new(builtin_rules(), AllowList::new(), config).unwrap();
    let report = scanner
        .scan_layers([layer(
            "l0",
            tar_of(&[("big.txt", &big), ("small.txt", &small)]),
        )])
        .unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].location.label, "l0!small.txt");
    assert_eq!(report.truncated.len(), 1);
    assert_eq!(
        (
            report.truncated[0].label.as_str(),
            report.truncated[0].size,
            report.truncated[0].scanned
        ),
        ("l0!big.txt", big.len() as u64, 1024)
    );
    let direct = scanner.scan_bytes("big.txt", &big);
    assert!(direct.findings.is_empty());
    assert_eq!(direct.truncated[0].scanned, 1024);
}

#[test]
fn a_decompression_bomb_stops_at_the_limit() {
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let bomb = gzip(&tar_of(&[("zeros", &zeros)]));
    assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
    let config = ScanConfig {
        max_decompressed_bytes: 1024 * 1024,
        ..ScanConfig::default()
    };
    let scanner = Scanner::new(builtin_rules(), AllowList::new(), config).unwrap();
    let err = scanner.scan_layers([layer("bomb", bomb)]).unwrap_err();
    assert!(
        matches!(
            err,
            SecretsError::DecompressionLimit {
                layer: 0,
                limit: 1_048_576,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn malformed_layers_are_errors_with_offsets() {
    let mut tar = tar_of(&[("a.txt", b"hello"), ("b.txt", b"world")]);
    tar[512 + 512 + 100] ^= 0xff; // corrupt the second header (its mode field)
    let err = scanner().scan_layers([layer("l0", tar)]).unwrap_err();
    match &err {
        SecretsError::MalformedLayer {
            layer: 0,
            format: "tar",
            offset,
            ..
        } => assert!(*offset >= 1024, "{err}"),
        other => panic!("{other}"),
    }
    let gz = gzip(&tar_of(&[("a.txt", &[b'x'; 10_000])]));
    let truncated = gz[..gz.len() / 2].to_vec();
    let err = scanner().scan_layers([layer("l1", truncated)]).unwrap_err();
    assert!(
        matches!(
            err,
            SecretsError::MalformedLayer {
                format: "tar+gzip",
                ..
            }
        ),
        "{err}"
    );
}
