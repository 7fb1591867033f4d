//! The input document as regorus evaluates it: converted from the caller's `serde_json` value
//! in one walk that also measures it, so that an input over [`crate::Limits::max_input_bytes`]
//! is refused without converting (or even reading) more than that many bytes' worth of it.
//!
//! The size is the length of the document's compact JSON (`serde_json::to_vec`), counted
//! without writing it: strings by their UTF-8 length plus their escapes, numbers by their
//! formatted length. Going through serde (`regorus::Value::deserialize`) plus a separate
//! measuring pass cost about a sixth of an evaluation of the built-in bundle; this costs a
//! third of that.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use regorus::Value;
use serde_json::Value as Json;

/// The input was larger than the limit; `at` is the size counted when converting stopped (just
/// over the limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge {
    pub at: usize,
}

/// `doc` as a regorus value, or [`TooLarge`] once its compact JSON exceeds `max` bytes.
pub(crate) fn convert(doc: &Json, max: usize) -> Result<Value, TooLarge> {
    let mut meter = Meter { counted: 0, max };
    meter.value(doc)
}

struct Meter {
    counted: usize,
    max: usize,
}

impl Meter {
    fn add(&mut self, bytes: usize) -> Result<(), TooLarge> {
        self.counted = self.counted.saturating_add(bytes);
        if self.counted > self.max {
            return Err(TooLarge { at: self.counted });
        }
        Ok(())
    }

    fn value(&mut self, doc: &Json) -> Result<Value, TooLarge> {
        Ok(match doc {
            Json::Null => {
                self.add(4)?;
                Value::Null
            }
            Json::Bool(b) => {
                self.add(if *b { 4 } else { 5 })?;
                Value::from(*b)
            }
            Json::Number(n) => {
                self.add(formatted_len(n))?;
                if let Some(i) = n.as_i64() {
                    Value::from(i)
                } else if let Some(u) = n.as_u64() {
                    Value::from(u)
                } else {
                    // serde_json (without arbitrary precision) holds every other number as a
                    // finite f64.
                    Value::from(n.as_f64().unwrap_or_default())
                }
            }
            Json::String(s) => {
                self.string(s)?;
                Value::from(s.as_str())
            }
            Json::Array(items) => {
                self.add(2 + items.len().saturating_sub(1))?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.value(item)?);
                }
                Value::from(out)
            }
            Json::Object(map) => {
                // Braces, a colon per entry, commas between entries.
                self.add(2 + map.len() + map.len().saturating_sub(1))?;
                let mut out = BTreeMap::new();
                for (key, value) in map {
                    self.string(key)?;
                    let value = self.value(value)?;
                    out.insert(Value::from(key.as_str()), value);
                }
                Value::from(out)
            }
        })
    }

    /// Counts `s` as a JSON string: quotes, its bytes, and the extra bytes of its escapes
    /// (`\"`, `\\`, `\n` and the like, `\u00XX` for other control characters).
    fn string(&mut self, s: &str) -> Result<(), TooLarge> {
        let escapes: usize = s
            .bytes()
            .map(|b| match b {
                b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
                0x00..=0x1f => 5,
                _ => 0,
            })
            .sum();
        self.add(2 + s.len() + escapes)
    }
}

/// The length of `n` as serde_json writes it.
fn formatted_len(n: &serde_json::Number) -> usize {
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing into a counter cannot fail.
    let _ = write!(count, "{n}");
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn samples() -> Vec<Json> {
        vec![
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-17),
            json!(u64::MAX),
            json!(1.5),
            json!(-0.000123),
            json!(1e300),
            json!(""),
            json!("plain"),
            json!("quote \" backslash \\ newline \n tab \t cr \r bell \u{7} nul \u{0} del \u{7f}"),
            json!("non-ASCII: é, 日本, 🦀"),
            json!([]),
            json!({}),
            json!([1, "two", [3], {"four": 4}]),
            json!({"id": "com.example.app", "permissions": [{"name": "cal", "scopes": ["calendar.read"]}], "facts": {"sbom": {"present": true, "components": 12}}}),
        ]
    }

    #[test]
    fn counts_exactly_the_compact_json_length() {
        for doc in samples() {
            let exact = serde_json::to_vec(&doc).unwrap().len();
            assert!(convert(&doc, exact).is_ok(), "{doc} fits in {exact}");
            let over = convert(&doc, exact - 1).unwrap_err();
            assert!(over.at > exact - 1 && over.at <= exact, "{doc}: {over:?}");
        }
    }

    #[test]
    fn converts_to_what_serde_gives() {
        for doc in samples() {
            let ours = convert(&doc, usize::MAX).unwrap();
            let theirs = <Value as serde::Deserialize>::deserialize(&doc).unwrap();
            assert_eq!(ours, theirs, "{doc}");
        }
    }

    #[test]
    fn stops_early_on_a_huge_document() {
        let huge = Json::Array(vec![json!("xx"); 20_000]);
        // Its commas alone are over the limit: refused before any element is converted.
        let err = convert(&huge, 10_000).unwrap_err();
        assert_eq!(err.at, 2 + 19_999, "{err:?}");
        let one = Json::Array(vec![json!("x".repeat(100_000))]);
        let err = convert(&one, 10_000).unwrap_err();
        assert_eq!(err.at, 2 + 100_002, "{err:?}");
    }
}
