//! Secret-scanning throughput on a synthetic 100 MB artifact: mostly ordinary content (prose with
//! words such as "token" and "password", source code, JSON, URLs, and random binary blocks) with
//! a few planted synthetic secrets. Prints MB/s for the plain byte scan and for the same content
//! as a tar layer of 1 MiB files, and the findings (redacted).
//!
//! `cargo run --release -p plaza-supply --example secret-scan-throughput [SIZE_MB]`

use std::io::Cursor;
use std::time::Instant;

use plaza_supply::secrets::{builtin_rules, AllowList, LayerInput, ScanConfig, Scanner};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn token(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }
}

const WORDS: &[&str] = &[
    "the",
    "app",
    "user",
    "token",
    "password",
    "secret",
    "key",
    "value",
    "request",
    "response",
    "install",
    "marketplace",
    "calendar",
    "service",
    "config",
    "error",
    "handler",
    "session",
    "cache",
    "deploy",
    "version",
    "build",
    "module",
    "component",
    "policy",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "with",
    "on",
    "that",
    "auth",
    "access",
    "api",
    "signature",
];

const CODE: &[&str] = &[
    "    let token = session.token(&request)?;",
    "    if password.len() < MIN_PASSWORD_LEN { return Err(Error::WeakPassword); }",
    "fn verify_signature(key: &PublicKey, payload: &[u8]) -> Result<(), Error> {",
    "    \"secret_ref\": \"vault://apps/hello/db\",",
    "import { getToken } from './auth';",
    "    cache.insert(key.clone(), value);",
    "<a href=\"https://example.com/docs/api-keys\">API keys</a>",
    "{\"name\": \"hello\", \"version\": \"1.2.3\", \"scopes\": [\"calendar.read\"]}",
    "    // TODO: rotate the access key before the release",
    "export AWS_REGION=eu-central-1",
];

fn main() {
    let size_mb: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let size = size_mb * 1_000_000;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let hex = b"0123456789abcdef";
    let planted = [
        format!("GITHUB_TOKEN=ghp_{}\n", rng.token(alnum, 36)),
        format!(
            "aws_access_key_id = AKIA{}\n",
            rng.token(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        ),
        format!(
            "SLACK=xoxb-123456789012-1234567890123-{}\n",
            rng.token(alnum, 24)
        ),
        format!(
            "DATABASE_URL=postgres://app:{}@db:5432/app\n",
            rng.token(alnum, 18)
        ),
        format!("stripe: sk_live_{}\n", rng.token(alnum, 32)),
        format!("password = \"{}\"\n", rng.token(alnum, 20)),
        format!("npm_{} ", rng.token(alnum, 36)),
        format!("DD_API_KEY={}\n", rng.token(hex, 32)),
    ];
    let mut data: Vec<u8> = Vec::with_capacity(size + 4096);
    let mut next_plant = 0;
    while data.len() < size {
        if next_plant < planted.len() && data.len() > (next_plant + 1) * size / (planted.len() + 1)
        {
            data.extend_from_slice(planted[next_plant].as_bytes());
            next_plant += 1;
        }
        match rng.below(10) {
            // Prose.
            0..=3 => {
                for _ in 0..40 {
                    let word = WORDS[rng.below(WORDS.len())];
                    data.extend_from_slice(word.as_bytes());
                    data.push(if rng.below(12) == 0 { b'\n' } else { b' ' });
                }
            }
            // Source code and markup.
            4..=6 => {
                for _ in 0..8 {
                    data.extend_from_slice(CODE[rng.below(CODE.len())].as_bytes());
                    data.push(b'\n');
                }
            }
            // Binary.
            _ => {
                for _ in 0..64 {
                    data.extend_from_slice(&rng.next().to_le_bytes());
                }
            }
        }
    }
    data.truncate(size);

    let config = ScanConfig {
        max_file_bytes: (size as u64) * 2,
        ..ScanConfig::default()
    };
    let scanner = match Scanner::new(builtin_rules(), AllowList::new(), config) {
        Ok(scanner) => scanner,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!("rules: {}", scanner.rules().count());
    println!(
        "artifact: {:.1} MB synthetic ({} secrets planted)",
        size as f64 / 1e6,
        next_plant
    );

    // Warm-up on a small slice (regex lazy DFAs), then the measured run.
    let _ = scanner.scan_bytes("warm-up", data.get(..1_000_000).unwrap_or(&data));
    let start = Instant::now();
    let report = scanner.scan_bytes("artifact.bin", &data);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "bytes: {:.3} s, {:.0} MB/s, {} findings, {} allowed",
        seconds,
        size as f64 / 1e6 / seconds,
        report.findings.len(),
        report.allowed.len()
    );
    for finding in &report.findings {
        println!("  {finding}");
    }

    // The same content as a tar layer of 1 MiB files.
    let mut builder = tar::Builder::new(Vec::with_capacity(size + size / 100));
    for (i, chunk) in data.chunks(1 << 20).enumerate() {
        let mut header = tar::Header::new_gnu();
        header.set_size(chunk.len() as u64);
        header.set_mode(0o644);
        if let Err(e) = builder.append_data(&mut header, format!("data/file-{i:04}"), chunk) {
            eprintln!("error: building the tar: {e}");
            std::process::exit(1);
        }
    }
    let tar = builder.into_inner().unwrap_or_default();
    let start = Instant::now();
    let layer = LayerInput {
        label: "layer".to_owned(),
        reader: Cursor::new(tar),
    };
    match scanner.scan_layers([layer]) {
        Ok(report) => {
            let seconds = start.elapsed().as_secs_f64();
            println!(
                "tar layer: {:.3} s, {:.0} MB/s, {} findings",
                seconds,
                size as f64 / 1e6 / seconds,
                report.findings.len()
            );
        }
        Err(e) => eprintln!("error: {e}"),
    }
}
