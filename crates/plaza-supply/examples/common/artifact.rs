//! A synthetic artifact for secret-scanning benchmarks, shared by the `secret-scan-throughput`
//! and `supply-bench` examples (each includes this file with `#[path]`): mostly ordinary content
//! (prose with words such as "token" and "password", source code, JSON, URLs, and random binary
//! blocks) with a few planted synthetic secrets, the same bytes for the same size every time.

/// A small xorshift generator: deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next() % n as u64) as usize
    }

    /// One element of `items`, or `None` when it is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    /// Shuffles `items` in place (Fisher–Yates).
    #[allow(dead_code)] // used by supply-bench only
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    fn token(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .filter_map(|_| self.pick(alphabet).map(|b| char::from(*b)))
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

/// The synthetic artifact: exactly `size` bytes, and how many secrets were planted in it (evenly
/// spread; 8 when `size` is large enough).
pub fn synthetic_artifact(size: usize) -> (Vec<u8>, usize) {
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
        if let Some(secret) = planted.get(next_plant) {
            if data.len() > (next_plant + 1) * size / (planted.len() + 1) {
                data.extend_from_slice(secret.as_bytes());
                next_plant += 1;
            }
        }
        match rng.below(10) {
            // Prose.
            0..=3 => {
                for _ in 0..40 {
                    let word = rng.pick(WORDS).copied().unwrap_or("the");
                    data.extend_from_slice(word.as_bytes());
                    data.push(if rng.below(12) == 0 { b'\n' } else { b' ' });
                }
            }
            // Source code and markup.
            4..=6 => {
                for _ in 0..8 {
                    let line = rng.pick(CODE).copied().unwrap_or_default();
                    data.extend_from_slice(line.as_bytes());
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
    (data, next_plant)
}
