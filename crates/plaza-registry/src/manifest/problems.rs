//! Collecting every problem of a manifest in one pass, each at the JSON pointer (RFC 6901) of the
//! offending field, and the small typed readers the manifest checks use.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// One problem, at a JSON pointer (`""` is the whole document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where, e.g. `/layers/0/digest`.
    pub pointer: String,
    /// What is wrong and, where useful, how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "(document)"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.message)
    }
}

/// A JSON pointer under construction.
pub(crate) fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// The problems found so far.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<Problem>);

impl Problems {
    pub(crate) fn add(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    /// A required or optional string field; records a problem when it is missing (and
    /// `required`) or not a string.
    pub(crate) fn string<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        pointer: &str,
        key: &str,
        required: bool,
    ) -> Option<&'a str> {
        match obj.get(key) {
            None if required => {
                self.add(child(pointer, key), format!("`{key}` is required"));
                None
            }
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.add(
                    child(pointer, key),
                    format!("`{key}` must be a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// An optional `annotations` map of strings to strings.
    pub(crate) fn annotations(
        &mut self,
        obj: &Map<String, Value>,
        pointer: &str,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let at = child(pointer, "annotations");
        match obj.get("annotations") {
            None => {}
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    match v {
                        Value::String(s) => {
                            out.insert(k.clone(), s.clone());
                        }
                        other => self.add(
                            child(&at, k),
                            format!("annotation values must be strings, found {}", kind(other)),
                        ),
                    }
                }
            }
            Some(other) => self.add(
                at,
                format!(
                    "`annotations` must be an object of strings, found {}",
                    kind(other)
                ),
            ),
        }
        out
    }
}

/// A word for a JSON value's type, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_per_rfc6901() {
        assert_eq!(child("/annotations", "a/b~c"), "/annotations/a~1b~0c");
        assert_eq!(child("", "layers"), "/layers");
    }

    #[test]
    fn readers_record_problems() {
        let v: Value = serde_json::json!({"s": 1, "annotations": {"k": 2, "ok": "v"}});
        let obj = v.as_object().unwrap();
        let mut p = Problems::default();
        assert_eq!(p.string(obj, "", "s", true), None);
        assert_eq!(p.string(obj, "", "missing", true), None);
        assert_eq!(p.string(obj, "", "optional", false), None);
        let ann = p.annotations(obj, "");
        assert_eq!(ann.len(), 1);
        let pointers: Vec<_> = p.0.iter().map(|x| x.pointer.as_str()).collect();
        assert_eq!(pointers, ["/s", "/missing", "/annotations/k"]);
    }
}
