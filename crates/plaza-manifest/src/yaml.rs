//! YAML reader: drives `yaml_rust2`'s event parser and builds a spanned [`Node`] tree.
//!
//! Plain scalars are typed with the YAML 1.2 core schema (`1.2.0` and `yes` are strings, `1`
//! is an integer, `1.5` a float, `true` a boolean, `~` null); quoted and block scalars are
//! always strings. Aliases are expanded under a node budget, so "billion laughs" documents fail
//! fast with a clear error instead of exhausting memory.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use crate::error::ParseError;
use crate::limits::{MAX_ALIAS_NODES, MAX_DEPTH};
use crate::node::{Entry, Node, Pos, Value};

/// Parses one YAML document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((event, mark)) => builder.on_event(event, mark),
            Err(e) => return Err(syntax_error(&e)),
        }
        if let Some(err) = builder.error.take() {
            return Err(err);
        }
    }
    builder.root.ok_or(ParseError::Empty)
}

fn pos_of(mark: &Marker) -> Pos {
    Pos::new(mark.line(), mark.col() + 1)
}

fn syntax_error(e: &ScanError) -> ParseError {
    let info = e.info();
    let hint = if info.contains("mapping values are not allowed") {
        "a value that contains `: ` must be quoted; otherwise check the indentation of this line"
    } else if info.contains("did not find expected key") || info.contains("expected <block end>") {
        "check the indentation: keys of one map must start in the same column"
    } else if info.contains("cannot start any token") && info.contains('\t') || info.contains("tab")
    {
        "YAML does not allow tabs for indentation; use spaces"
    } else if info.contains("unknown anchor") || info.contains("undefined anchor") {
        "define the anchor (`&name`) before using the alias (`*name`)"
    } else if info.contains("quoted scalar") {
        "close the quoted string with the same quote it starts with"
    } else if info.contains("flow") {
        "close `[` with `]` and `{` with `}`, and separate items with commas"
    } else {
        "check the indentation and quoting near this position"
    };
    ParseError::Yaml {
        message: info.to_owned(),
        pos: pos_of(e.marker()),
        hint: Some(hint.to_owned()),
    }
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Pos)>,
    },
}

struct Anchored {
    node: Node,
    count: usize,
    height: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    root: Option<Node>,
    documents: usize,
    alias_nodes: usize,
    error: Option<ParseError>,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos = pos_of(&mark);
        if let Err(e) = self.handle(event, pos) {
            self.error = Some(e);
        }
    }
}

impl Builder {
    fn handle(&mut self, event: Event, pos: Pos) -> Result<(), ParseError> {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(ParseError::UnsupportedYaml {
                        message: "a manifest must be a single YAML document".into(),
                        pos,
                        hint: Some("remove the second document (after `---`), or split it into its own file".into()),
                    });
                }
                Ok(())
            }
            Event::Scalar(value, style, anchor, tag) => {
                let node = scalar(value, style, tag.as_ref(), pos)?;
                self.finish(node, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "seq", pos)?;
                self.open(pos)?;
                self.stack.push(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "map", pos)?;
                self.open(pos)?;
                self.stack.push(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => {
                    self.finish(Node::new(Value::Seq(items), pos), anchor)
                }
                Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    ..
                }) => {
                    // A block map's start event is marked after its first key; point at the
                    // first key instead.
                    let pos = entries.first().map_or(pos, |e| e.key_pos.min(pos));
                    self.finish(Node::new(Value::Map(entries), pos), anchor)
                }
                None => Ok(()),
            },
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(ParseError::UnsupportedYaml {
                        message: "alias refers to a node that contains it (recursive alias)".into(),
                        pos,
                        hint: Some("an alias (`*name`) may only refer to a node that is complete; remove the self-reference".into()),
                    });
                };
                self.alias_nodes += anchored.count;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(ParseError::AliasLimit {
                        limit: MAX_ALIAS_NODES,
                        pos,
                    });
                }
                if self.stack.len() + anchored.height > MAX_DEPTH {
                    return Err(ParseError::TooDeep {
                        limit: MAX_DEPTH,
                        pos,
                    });
                }
                let mut node = anchored.node.clone();
                node.pos = pos;
                self.finish(node, 0)
            }
        }
    }

    fn open(&mut self, pos: Pos) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseError::TooDeep {
                limit: MAX_DEPTH,
                pos,
            });
        }
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), ParseError> {
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    count: node.count(),
                    height: node.height(),
                    node: node.clone(),
                },
            );
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map { entries, key, .. }) => {
                match key.take() {
                    Some((key, key_pos)) => {
                        let mut value = node;
                        // An empty value (`key:` and nothing) is marked at the next token,
                        // often on another line; point at the key instead.
                        if value.value == Value::Null && value.text.as_deref() == Some("") {
                            value.pos = key_pos;
                        }
                        entries.push(Entry {
                            key,
                            key_pos,
                            value,
                        })
                    }
                    None => {
                        let text = match (&node.value, &node.text) {
                            (Value::Str(s), _) => s.clone(),
                            (_, Some(t)) => t.clone(),
                            _ => {
                                return Err(ParseError::UnsupportedYaml {
                                    message: format!(
                                        "map keys must be scalars, found {}",
                                        node.kind()
                                    ),
                                    pos: node.pos,
                                    hint: Some("use a plain string key such as `name:`".into()),
                                })
                            }
                        };
                        *key = Some((text, node.pos));
                    }
                }
                Ok(())
            }
        }
    }
}

const CORE: &str = "tag:yaml.org,2002:";

fn tag_name(tag: &Tag) -> String {
    if tag.handle == CORE {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

fn check_collection_tag(tag: Option<&Tag>, expected: &str, pos: Pos) -> Result<(), ParseError> {
    match tag {
        None => Ok(()),
        Some(t) if t.handle == CORE && t.suffix == expected => Ok(()),
        Some(t) => Err(unsupported_tag(t, pos)),
    }
}

fn unsupported_tag(tag: &Tag, pos: Pos) -> ParseError {
    ParseError::UnsupportedYaml {
        message: format!("unsupported YAML tag `{}`", tag_name(tag)),
        pos,
        hint: Some("remove the tag; manifests use only the core tags !!str, !!int, !!float, !!bool, !!null, !!seq and !!map".into()),
    }
}

fn scalar(
    value: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    pos: Pos,
) -> Result<Node, ParseError> {
    if let Some(t) = tag {
        if t.handle == CORE {
            let forced = match t.suffix.as_str() {
                "str" => Some(Value::Str(value.clone())),
                "int" => resolve_int(&value).map(Value::Int),
                "float" => resolve_float(&value)
                    .or_else(|| resolve_int(&value).map(|i| i as f64))
                    .map(Value::Float),
                "bool" => resolve_bool(&value).map(Value::Bool),
                "null" => resolve_null(&value).then_some(Value::Null),
                _ => return Err(unsupported_tag(t, pos)),
            };
            return match forced {
                Some(Value::Str(s)) => Ok(Node::new(Value::Str(s), pos)),
                Some(v) => Ok(Node {
                    value: v,
                    pos,
                    text: Some(value),
                }),
                None => Err(ParseError::Yaml {
                    message: format!("`{value}` is not a valid `{}` value", tag_name(t)),
                    pos,
                    hint: Some("remove the tag or fix the value".into()),
                }),
            };
        }
        if !(t.handle.is_empty() && t.suffix == "!") {
            return Err(unsupported_tag(t, pos));
        }
        // The non-specific tag `!` makes a scalar a string.
        return Ok(Node::new(Value::Str(value), pos));
    }
    if style != TScalarStyle::Plain {
        return Ok(Node::new(Value::Str(value), pos));
    }
    let typed = if resolve_null(&value) {
        Value::Null
    } else if let Some(b) = resolve_bool(&value) {
        Value::Bool(b)
    } else if let Some(i) = resolve_int(&value) {
        Value::Int(i)
    } else if let Some(f) = resolve_float(&value) {
        Value::Float(f)
    } else {
        return Ok(Node::new(Value::Str(value), pos));
    };
    Ok(Node {
        value: typed,
        pos,
        text: Some(value),
    })
}

fn resolve_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn resolve_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Core-schema integers: `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`. Integers that do not fit
/// in 64 bits are resolved as floats by the caller.
fn resolve_int(s: &str) -> Option<i64> {
    if let Some(oct) = s.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return i64::from_str_radix(oct, 8).ok();
        }
        return None;
    }
    if let Some(hex) = s.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return i64::from_str_radix(hex, 16).ok();
        }
        return None;
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok();
    }
    None
}

/// Core-schema floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `±.inf`, `.nan`
/// (and decimal integers too large for `i64`).
fn resolve_float(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let negative = s.starts_with('-');
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == s.len() => return Some(f64::NAN),
        _ => {}
    }
    let b = unsigned.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return None;
        }
        i += exp;
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(node: &Node) -> &[Entry] {
        match &node.value {
            Value::Map(e) => e,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn core_schema_typing() {
        let doc = "a: 1.2.0\nb: 1\nc: '1'\nd: yes\ne: true\nf: 1.5\ng: ~\nh:\ni: 0x1F\nj: 1e3\nk: \"true\"\nl: 99999999999999999999\nm: !!str 12\nn: .inf\n";
        let node = parse(doc).unwrap();
        let e = map(&node);
        let v: Vec<&Value> = e.iter().map(|e| &e.value.value).collect();
        assert_eq!(v[0], &Value::Str("1.2.0".into()));
        assert_eq!(v[1], &Value::Int(1));
        assert_eq!(v[2], &Value::Str("1".into()));
        assert_eq!(v[3], &Value::Str("yes".into()));
        assert_eq!(v[4], &Value::Bool(true));
        assert_eq!(v[5], &Value::Float(1.5));
        assert_eq!(v[6], &Value::Null);
        assert_eq!(v[7], &Value::Null);
        assert_eq!(v[8], &Value::Int(31));
        assert_eq!(v[9], &Value::Float(1000.0));
        assert_eq!(v[10], &Value::Str("true".into()));
        assert!(matches!(v[11], Value::Float(_)));
        assert_eq!(v[12], &Value::Str("12".into()));
        assert_eq!(v[13], &Value::Float(f64::INFINITY));
        assert_eq!(e[5].value.text.as_deref(), Some("1.5"));
    }

    #[test]
    fn positions_are_one_based() {
        let node = parse("id: x\nperms:\n  - name: a\n    scopes: [b, c]\n").unwrap();
        let e = map(&node);
        assert_eq!(node.pos, Pos { line: 1, column: 1 });
        assert_eq!(e[0].key_pos, Pos { line: 1, column: 1 });
        assert_eq!(e[0].value.pos, Pos { line: 1, column: 5 });
        let Value::Seq(items) = &e[1].value.value else {
            panic!()
        };
        assert_eq!(items[0].pos.line, 3);
        let inner = map(&items[0]);
        assert_eq!(inner[1].key_pos, Pos { line: 4, column: 5 });
        let Value::Seq(scopes) = &inner[1].value.value else {
            panic!()
        };
        assert_eq!(
            scopes[1].pos,
            Pos {
                line: 4,
                column: 17
            }
        );
    }

    #[test]
    fn keeps_duplicate_keys() {
        let node = parse("a: 1\na: 2\n").unwrap();
        assert_eq!(map(&node).len(), 2);
    }

    #[test]
    fn aliases_expand_within_budget() {
        let node = parse("a: &x [1, 2]\nb: *x\n").unwrap();
        let e = map(&node);
        assert_eq!(e[1].value.value, e[0].value.value);
        assert_eq!(e[1].value.pos, Pos { line: 2, column: 4 });
    }

    #[test]
    fn billion_laughs_is_rejected() {
        let mut doc = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 9].join(",");
            doc.push_str(&format!("{}: &{} [{}]\n", w[1], w[1], refs));
        }
        assert!(matches!(parse(&doc), Err(ParseError::AliasLimit { .. })));
    }

    #[test]
    fn errors() {
        assert!(matches!(parse(""), Err(ParseError::Empty)));
        assert!(matches!(
            parse("# only a comment\n"),
            Err(ParseError::Empty)
        ));
        assert!(matches!(
            parse("a: 1\n---\nb: 2\n"),
            Err(ParseError::UnsupportedYaml { .. })
        ));
        assert!(matches!(
            parse("a: !custom x\n"),
            Err(ParseError::UnsupportedYaml { .. })
        ));
        assert!(matches!(
            parse("? [a]\n: 1\n"),
            Err(ParseError::UnsupportedYaml { .. })
        ));
        match parse("a: b: c\n") {
            Err(ParseError::Yaml { pos, .. }) => assert_eq!(pos, Pos { line: 1, column: 5 }),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse("a: *nope\n"), Err(ParseError::Yaml { .. })));
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(&deep), Err(ParseError::TooDeep { .. })));
    }
}
