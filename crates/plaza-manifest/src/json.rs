//! A small recursive-descent JSON (RFC 8259) reader that records the position of every value.
//!
//! It is strict: no comments, no trailing commas, no single quotes, no `NaN`. Errors carry the
//! line and column and, for the usual mistakes, a hint.

use crate::error::ParseError;
use crate::limits::MAX_DEPTH;
use crate::node::{Entry, Node, Pos, Value};

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut p = Parser {
        src: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        col: 1,
        depth: 0,
    };
    p.ws();
    if p.peek().is_none() {
        return Err(ParseError::Empty);
    }
    let node = p.value()?;
    p.ws();
    if p.peek().is_some() {
        return Err(p.err(
            format!("unexpected {} after the end of the document", p.describe()),
            Some("a manifest is a single JSON object; remove what follows it".into()),
        ));
    }
    Ok(node)
}

struct Parser<'a> {
    src: &'a [u8],
    text: &'a str,
    i: usize,
    line: usize,
    col: usize,
    depth: usize,
}

impl Parser<'_> {
    fn pos(&self) -> Pos {
        Pos::new(self.line, self.col)
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.i).copied()
    }

    fn bump(&mut self) {
        if let Some(b) = self.peek() {
            self.i += 1;
            if b == b'\n' {
                self.line += 1;
                self.col = 1;
            } else if b & 0xC0 != 0x80 {
                self.col += 1;
            }
        }
    }

    fn err(&self, message: String, hint: Option<String>) -> ParseError {
        ParseError::Json {
            message,
            pos: self.pos(),
            hint,
        }
    }

    /// Describes the character at the cursor for messages.
    fn describe(&self) -> String {
        match self.text[self.i..].chars().next() {
            None => "end of file".into(),
            Some(c) if c.is_control() => format!("character U+{:04X}", c as u32),
            Some(c) => format!("`{c}`"),
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.bump();
        }
    }

    fn expect_value_hint(&self) -> Option<String> {
        match self.peek() {
            Some(b'/') => Some("JSON does not allow comments; remove them".into()),
            Some(b'\'') => Some("JSON strings use double quotes: \"…\"".into()),
            Some(b'}' | b']') => Some("JSON does not allow a trailing comma; remove it".into()),
            Some(b'N' | b'I') => Some("JSON has no NaN or Infinity".into()),
            Some(c) if c.is_ascii_alphabetic() => {
                Some("strings must be quoted: \"…\"; literals are true, false and null".into())
            }
            _ => None,
        }
    }

    fn value(&mut self) -> Result<Node, ParseError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let pos = self.pos();
                let s = self.string()?;
                Ok(Node::new(Value::Str(s), pos))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            _ => Err(self.err(
                format!("expected a value, found {}", self.describe()),
                self.expect_value_hint(),
            )),
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::TooDeep {
                limit: MAX_DEPTH,
                pos: self.pos(),
            });
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Node, ParseError> {
        let pos = self.pos();
        self.enter()?;
        self.bump(); // {
        let mut entries = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.bump();
            self.depth -= 1;
            return Ok(Node::new(Value::Map(entries), pos));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                let hint = match self.peek() {
                    Some(b'}') => Some("JSON does not allow a trailing comma; remove it".into()),
                    Some(b'\'') => Some("JSON keys use double quotes: \"key\"".into()),
                    Some(b'/') => Some("JSON does not allow comments; remove them".into()),
                    Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                        Some("object keys must be quoted: \"key\"".into())
                    }
                    _ => None,
                };
                return Err(self.err(
                    format!("expected a string key, found {}", self.describe()),
                    hint,
                ));
            }
            let key_pos = self.pos();
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err(
                    format!("expected `:` after the key, found {}", self.describe()),
                    Some(format!("write \"{key}\": <value>")),
                ));
            }
            self.bump();
            self.ws();
            let value = self.value()?;
            entries.push(Entry {
                key,
                key_pos,
                value,
            });
            self.ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    break;
                }
                _ => {
                    return Err(self.err(
                        format!("expected `,` or `}}`, found {}", self.describe()),
                        Some("separate members with commas and close the object with `}`".into()),
                    ))
                }
            }
        }
        self.depth -= 1;
        Ok(Node::new(Value::Map(entries), pos))
    }

    fn array(&mut self) -> Result<Node, ParseError> {
        let pos = self.pos();
        self.enter()?;
        self.bump(); // [
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.bump();
            self.depth -= 1;
            return Ok(Node::new(Value::Seq(items), pos));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    break;
                }
                _ => {
                    return Err(self.err(
                        format!("expected `,` or `]`, found {}", self.describe()),
                        Some("separate items with commas and close the list with `]`".into()),
                    ))
                }
            }
        }
        self.depth -= 1;
        Ok(Node::new(Value::Seq(items), pos))
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Node, ParseError> {
        let pos = self.pos();
        if self.src[self.i..].starts_with(word.as_bytes()) {
            for _ in 0..word.len() {
                self.bump();
            }
            let mut node = Node::new(value, pos);
            node.text = Some(word.to_owned());
            Ok(node)
        } else {
            Err(self.err(
                format!("expected a value, found {}", self.describe()),
                self.expect_value_hint(),
            ))
        }
    }

    fn digits(&mut self) -> usize {
        let mut n = 0;
        while let Some(b'0'..=b'9') = self.peek() {
            self.bump();
            n += 1;
        }
        n
    }

    fn number(&mut self) -> Result<Node, ParseError> {
        let pos = self.pos();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        let int_start = self.i;
        let n = self.digits();
        if n == 0 {
            return Err(self.err(format!("expected a digit, found {}", self.describe()), None));
        }
        if n > 1 && self.src[int_start] == b'0' {
            return Err(ParseError::Json {
                message: "numbers must not have leading zeros".into(),
                pos,
                hint: Some("remove the leading zeros, or quote the value if it is a string".into()),
            });
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.bump();
            if self.digits() == 0 {
                return Err(self.err(
                    format!("expected a digit after `.`, found {}", self.describe()),
                    None,
                ));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.bump();
            if let Some(b'+' | b'-') = self.peek() {
                self.bump();
            }
            if self.digits() == 0 {
                return Err(self.err(
                    format!(
                        "expected a digit in the exponent, found {}",
                        self.describe()
                    ),
                    None,
                ));
            }
        }
        let text = &self.text[start..self.i];
        let value = match (integer, text.parse::<i64>()) {
            (true, Ok(i)) => Value::Int(i),
            _ => Value::Float(text.parse::<f64>().unwrap_or(f64::NAN)),
        };
        let mut node = Node::new(value, pos);
        node.text = Some(text.to_owned());
        Ok(node)
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => {
                    return Err(self.err(
                        format!(
                            "expected a hex digit in `\\u` escape, found {}",
                            self.describe()
                        ),
                        Some("write \\u followed by exactly four hex digits".into()),
                    ))
                }
            };
            v = v * 16 + u32::from(d);
            self.bump();
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start_pos = self.pos();
        self.bump(); // "
        let mut out = String::new();
        loop {
            let run_start = self.i;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump();
            }
            out.push_str(&self.text[run_start..self.i]);
            match self.peek() {
                None => {
                    return Err(ParseError::Json {
                        message: "unterminated string".into(),
                        pos: start_pos,
                        hint: Some("close the string with `\"`".into()),
                    })
                }
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.bump();
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.bump();
                            let esc_pos = self.pos();
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if !self.src[self.i..].starts_with(b"\\u") {
                                    return Err(ParseError::Json {
                                        message: "unpaired UTF-16 surrogate in `\\u` escape".into(),
                                        pos: esc_pos,
                                        hint: Some("a high surrogate \\uD800–\\uDBFF must be followed by a low surrogate \\uDC00–\\uDFFF".into()),
                                    });
                                }
                                self.bump();
                                self.bump();
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(ParseError::Json {
                                        message: "unpaired UTF-16 surrogate in `\\u` escape".into(),
                                        pos: esc_pos,
                                        hint: Some("a high surrogate \\uD800–\\uDBFF must be followed by a low surrogate \\uDC00–\\uDFFF".into()),
                                    });
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            match c {
                                Some(c) => {
                                    out.push(c);
                                    continue;
                                }
                                None => {
                                    return Err(ParseError::Json {
                                        message: "unpaired UTF-16 surrogate in `\\u` escape".into(),
                                        pos: esc_pos,
                                        hint: None,
                                    })
                                }
                            }
                        }
                        _ => {
                            return Err(self.err(
                                format!("invalid escape `\\{}`", self.describe().trim_matches('`')),
                                Some(
                                    "valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"
                                        .into(),
                                ),
                            ))
                        }
                    };
                    self.bump();
                    out.push(c);
                }
                Some(b'\n' | b'\r') => return Err(self.err(
                    "unterminated string: the line ends before the closing `\"`".into(),
                    Some(
                        "close the string on the same line; write a newline inside a string as \\n"
                            .into(),
                    ),
                )),
                Some(_) => {
                    return Err(self.err(
                        format!("{} inside a string", self.describe()),
                        Some("control characters must be escaped, e.g. \\n or \\t".into()),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (String, Pos) {
        match parse(text).unwrap_err() {
            ParseError::Json { message, pos, .. } => (message, pos),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn parses_with_positions() {
        let node = parse("{\n  \"a\": [1, 2.5, \"x\", true, null],\n  \"b\": {}\n}").unwrap();
        let Value::Map(entries) = &node.value else {
            panic!()
        };
        assert_eq!(entries[0].key, "a");
        assert_eq!(entries[0].key_pos, Pos { line: 2, column: 3 });
        let Value::Seq(items) = &entries[0].value.value else {
            panic!()
        };
        assert_eq!(items[0].value, Value::Int(1));
        assert_eq!(items[1].value, Value::Float(2.5));
        assert_eq!(
            items[1].pos,
            Pos {
                line: 2,
                column: 12
            }
        );
        assert_eq!(items[2].value, Value::Str("x".into()));
        assert_eq!(items[4].value, Value::Null);
        assert_eq!(entries[1].value.pos, Pos { line: 3, column: 8 });
    }

    #[test]
    fn unicode_columns_and_escapes() {
        let node = parse("{\"é\": \"\\u00e9\\ud83d\\ude00\\n\", \"x\": 1}").unwrap();
        let Value::Map(entries) = &node.value else {
            panic!()
        };
        assert_eq!(entries[0].value.value, Value::Str("é😀\n".into()));
        assert_eq!(
            entries[1].key_pos,
            Pos {
                line: 1,
                column: 31
            }
        );
    }

    #[test]
    fn big_integers_become_floats() {
        let node = parse("99999999999999999999").unwrap();
        assert!(matches!(node.value, Value::Float(_)));
        assert_eq!(node.text.as_deref(), Some("99999999999999999999"));
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(err("{\"a\": 1,}").1, Pos { line: 1, column: 9 });
        assert_eq!(err("{a: 1}").0, "expected a string key, found `a`");
        assert_eq!(err("[1 2]").0, "expected `,` or `]`, found `2`");
        assert_eq!(err("\"abc").0, "unterminated string");
        assert_eq!(err("01").0, "numbers must not have leading zeros");
        assert_eq!(
            err("{} x").0,
            "unexpected `x` after the end of the document"
        );
        assert_eq!(
            err("\"\\ud800\"").0,
            "unpaired UTF-16 surrogate in `\\u` escape"
        );
        assert_eq!(err("\"a\tb\"").0, "character U+0009 inside a string");
        assert_eq!(err("tru").0, "expected a value, found `t`");
        assert!(matches!(parse("  "), Err(ParseError::Empty)));
    }

    #[test]
    fn depth_limit() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            parse(&deep),
            Err(ParseError::TooDeep {
                pos: Pos {
                    line: 1,
                    column: 65
                },
                ..
            })
        ));
        // Far beyond the limit must not overflow the stack.
        let huge = "[".repeat(100_000);
        assert!(matches!(parse(&huge), Err(ParseError::TooDeep { .. })));
    }
}
