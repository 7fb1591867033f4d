//! Reading typed values out of the node tree while collecting diagnostics.
//!
//! Each helper checks one thing (a map with known fields, a string, an integer, a list, a
//! keyword), reports what is wrong at the node's position, and returns `None` when there is no
//! usable value. Nothing stops at the first problem.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::error::Invalid;
use crate::node::{Entry, Node, Path, Pos, Value};
use crate::schema::Keyword;

use super::suggest;

/// The validation context: the file name and the diagnostics found so far.
pub struct Cx<'f> {
    file: &'f str,
    /// Diagnostics in the order they were found.
    pub diags: Vec<Diagnostic>,
}

impl<'f> Cx<'f> {
    /// A fresh context for `file`.
    pub fn new(file: &'f str) -> Self {
        Cx {
            file,
            diags: Vec::new(),
        }
    }

    /// Records a diagnostic.
    pub fn report(
        &mut self,
        code: Code,
        pos: Pos,
        path: &Path,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.diags
            .push(Diagnostic::new(code, message, self.file, pos, path).with_hint(hint));
    }

    /// Records a rule violation of the value at `node`.
    pub fn invalid(&mut self, code: Code, node: &Node, path: &Path, e: Invalid) {
        self.report(code, node.pos, path, e.message, e.hint);
    }

    /// Applies a rule; reports and returns `None` when it fails.
    pub fn check(
        &mut self,
        code: Code,
        node: &Node,
        path: &Path,
        res: Result<(), Invalid>,
    ) -> Option<()> {
        match res {
            Ok(()) => Some(()),
            Err(e) => {
                self.invalid(code, node, path, e);
                None
            }
        }
    }

    /// True when an error-severity diagnostic has been recorded.
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }

    /// Reports a value of the wrong type.
    pub fn wrong_type(&mut self, node: &Node, path: &Path, expected: &str, hint: Option<String>) {
        let found = match (node.kind(), node.scalar_text()) {
            ("null", _) => "null".to_owned(),
            (kind, Some(text)) if !matches!(node.value, Value::Str(_)) => {
                format!("{kind} `{text}`")
            }
            (kind, _) => kind.to_owned(),
        };
        let hint = hint.or_else(|| match (&node.value, expected) {
            (Value::Null, _) => Some("give it a value, or remove the field".to_owned()),
            (Value::Seq(_) | Value::Map(_) | Value::Str(_), _) => None,
            (_, "a string") => node
                .scalar_text()
                .map(|t| format!("quote the value to make it a string: \"{t}\"")),
            _ => None,
        });
        let subject = if path.pointer().is_empty() {
            "the manifest".to_owned()
        } else {
            format!("`{path}`")
        };
        self.report(
            Code::WrongType,
            node.pos,
            path,
            format!("{subject} must be {expected}, found {found}"),
            hint,
        );
    }
}

/// A map node whose fields are being read.
pub struct Fields<'n> {
    /// The map node.
    pub node: &'n Node,
    entries: &'n [Entry],
    /// Path of the map.
    pub path: Path,
}

impl<'n> Fields<'n> {
    /// Opens a map, reporting `wrong-type` if the node is not one.
    pub fn open(cx: &mut Cx<'_>, node: &'n Node, path: Path) -> Option<Fields<'n>> {
        match &node.value {
            Value::Map(entries) => Some(Fields {
                node,
                entries,
                path,
            }),
            _ => {
                let hint = (path.pointer().is_empty()).then(|| {
                    "a manifest is a map of fields such as `id: com.example.app`".to_owned()
                });
                cx.wrong_type(node, &path, "a map", hint);
                None
            }
        }
    }

    /// Reports every key that is not in `known` (first occurrences only).
    pub fn check_unknown(
        &self,
        cx: &mut Cx<'_>,
        known: &[&str],
        special: fn(&str) -> Option<String>,
    ) {
        let mut seen: Vec<&str> = Vec::new();
        for e in self.entries {
            if known.contains(&e.key.as_str()) || seen.contains(&e.key.as_str()) {
                continue;
            }
            seen.push(&e.key);
            let hint = special(&e.key).or_else(|| {
                Some(match suggest::did_you_mean(&e.key, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known fields: {}", suggest::list(known)),
                })
            });
            cx.report(
                Code::UnknownField,
                e.key_pos,
                &self.path.key(&e.key),
                format!("unknown field `{}` in {}", e.key, self.path),
                hint,
            );
        }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// The first value of `key`, reporting `missing-field` at the map when absent.
    pub fn required(&self, cx: &mut Cx<'_>, key: &str, example: &str) -> Option<&'n Node> {
        let v = self.get(key);
        if v.is_none() {
            cx.report(
                Code::MissingField,
                self.node.pos,
                &self.path,
                format!("missing required field `{key}` in {}", self.path),
                Some(format!("add `{key}: {example}`")),
            );
        }
        v
    }

    /// Path of a member.
    pub fn path(&self, key: &str) -> Path {
        self.path.key(key)
    }
}

/// A string value.
pub fn string<'n>(cx: &mut Cx<'_>, node: &'n Node, path: &Path) -> Option<&'n str> {
    match &node.value {
        Value::Str(s) => Some(s),
        _ => {
            cx.wrong_type(node, path, "a string", None);
            None
        }
    }
}

/// A string that is not empty (or blank) and at most `max` characters long.
pub fn text<'n>(cx: &mut Cx<'_>, node: &'n Node, path: &Path, max: usize) -> Option<&'n str> {
    let s = string(cx, node, path)?;
    if s.trim().is_empty() {
        cx.report(
            Code::EmptyValue,
            node.pos,
            path,
            format!("`{path}` is empty"),
            Some("give it a value, or remove the field if it is optional".into()),
        );
        return None;
    }
    let len = s.chars().count();
    if len > max {
        cx.report(
            Code::ValueTooLong,
            node.pos,
            path,
            format!("`{path}` is {len} characters long; the limit is {max}"),
            Some("shorten it".into()),
        );
        return None;
    }
    Some(s)
}

/// An integer.
pub fn integer(cx: &mut Cx<'_>, node: &Node, path: &Path, hint: Option<String>) -> Option<i64> {
    match &node.value {
        Value::Int(i) => Some(*i),
        Value::Str(s) if s.trim().parse::<i64>().is_ok() => {
            cx.wrong_type(
                node,
                path,
                "an integer",
                Some(format!("remove the quotes: {}", s.trim())),
            );
            None
        }
        _ => {
            cx.wrong_type(node, path, "an integer", hint);
            None
        }
    }
}

/// An integer within `min..=max`.
pub fn integer_in(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &Path,
    min: i64,
    max: i64,
    unit: &str,
) -> Option<i64> {
    let v = integer(cx, node, path, None)?;
    if v < min || v > max {
        cx.report(
            Code::OutOfRange,
            node.pos,
            path,
            format!("`{path}` is {v}; it must be between {min} and {max}{unit}"),
            Some(format!("use a value from {min} to {max}")),
        );
        return None;
    }
    Some(v)
}

/// A list of at most `max` items. Too many items are reported, and all items still returned.
pub fn list<'n>(cx: &mut Cx<'_>, node: &'n Node, path: &Path, max: usize) -> Option<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => {
            if items.len() > max {
                cx.report(
                    Code::TooManyItems,
                    node.pos,
                    path,
                    format!("`{path}` has {} items; the limit is {max}", items.len()),
                    Some("remove some items".into()),
                );
            }
            Some(items)
        }
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
            let t = node.scalar_text().unwrap_or_default();
            cx.wrong_type(
                node,
                path,
                "a list",
                Some(format!("write a list, even for one item: [{t}]")),
            );
            None
        }
        Value::Null => {
            cx.wrong_type(
                node,
                path,
                "a list",
                Some("write `[]` for an empty list, or remove the field".into()),
            );
            None
        }
        Value::Map(_) => {
            cx.wrong_type(node, path, "a list", None);
            None
        }
    }
}

/// One of a fixed set of keywords.
pub fn keyword<K: Keyword>(cx: &mut Cx<'_>, node: &Node, path: &Path, what: &str) -> Option<K> {
    let s = string(cx, node, path)?;
    match K::parse(s) {
        Some(k) => Some(k),
        None => {
            let all: Vec<&str> = K::ALL.iter().map(|k| k.as_str()).collect();
            one_of(cx, node, path, what, s, &all);
            None
        }
    }
}

/// Reports `unknown-value` for `s` (not one of `allowed`).
pub fn one_of(cx: &mut Cx<'_>, node: &Node, path: &Path, what: &str, s: &str, allowed: &[&str]) {
    cx.report(
        Code::UnknownValue,
        node.pos,
        path,
        format!(
            "unknown {what} `{s}`; expected one of: {}",
            suggest::list(allowed)
        ),
        suggest::did_you_mean(s, allowed.iter().copied()).map(|m| format!("did you mean `{m}`?")),
    );
}

/// Tracks the first position of each value to report duplicates.
#[derive(Default)]
pub struct Seen(HashMap<String, Pos>);

impl Seen {
    /// Records `value`; returns the first position when it was already recorded.
    pub fn first(&mut self, value: &str, pos: Pos) -> Option<Pos> {
        match self.0.get(value) {
            Some(p) => Some(*p),
            None => {
                self.0.insert(value.to_owned(), pos);
                None
            }
        }
    }
}

/// Reports `duplicate-key` for every key that appears twice in one map, anywhere in the tree.
pub fn duplicate_keys(cx: &mut Cx<'_>, node: &Node, path: &Path) {
    match &node.value {
        Value::Map(entries) => {
            let mut seen = Seen::default();
            for e in entries {
                if let Some(first) = seen.first(&e.key, e.key_pos) {
                    cx.report(
                        Code::DuplicateKey,
                        e.key_pos,
                        &path.key(&e.key),
                        format!(
                            "duplicate key `{}` in {path} (first defined at {first})",
                            e.key
                        ),
                        Some("remove one of the two; the first one is the one checked".into()),
                    );
                }
                duplicate_keys(cx, &e.value, &path.key(&e.key));
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                duplicate_keys(cx, item, &path.index(i));
            }
        }
        _ => {}
    }
}
