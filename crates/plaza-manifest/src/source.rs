//! From raw bytes to a node tree: size limit, UTF-8 check, format detection, then the YAML or
//! JSON reader.

use crate::error::ParseError;
use crate::node::{Node, Pos};
use crate::{json, limits, yaml};

/// The syntax a manifest is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2 (core schema).
    Yaml,
    /// JSON (RFC 8259).
    Json,
}

/// Chooses the format: by extension (`.json`, `.yaml`, `.yml`), else by content (first
/// non-whitespace character `{` means JSON), else YAML.
pub fn detect(file_name: &str, text: &str) -> Format {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Format::Json
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Format::Yaml
    } else if text.trim_start().starts_with('{') {
        Format::Json
    } else {
        Format::Yaml
    }
}

/// Checks the raw bytes and parses them into a node tree.
pub fn parse(file_name: &str, bytes: &[u8]) -> Result<Node, ParseError> {
    if bytes.len() > limits::MAX_INPUT_BYTES {
        return Err(ParseError::TooLarge {
            size: bytes.len(),
            limit: limits::MAX_INPUT_BYTES,
        });
    }
    let text = decode_utf8(bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match detect(file_name, text) {
        Format::Json => json::parse(text),
        Format::Yaml => yaml::parse(text),
    }
}

fn decode_utf8(bytes: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        // The prefix is valid UTF-8 by construction.
        let prefix = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
        let line = prefix.matches('\n').count() + 1;
        let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
        let column = prefix[line_start..].chars().count() + 1;
        ParseError::InvalidUtf8 {
            offset,
            byte: bytes[offset],
            pos: Pos::new(line, column),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_format() {
        assert_eq!(detect("a.json", "id: x"), Format::Json);
        assert_eq!(detect("a.YML", "{}"), Format::Yaml);
        assert_eq!(detect("stdin", "  \n {\"a\":1}"), Format::Json);
        assert_eq!(detect("stdin", "id: x"), Format::Yaml);
    }

    #[test]
    fn reports_invalid_utf8_position() {
        let err = parse("a.yaml", b"id: x\nname: ab\xffc\n").unwrap_err();
        assert_eq!(
            err,
            ParseError::InvalidUtf8 {
                offset: 14,
                byte: 0xff,
                pos: Pos { line: 2, column: 9 }
            }
        );
    }

    #[test]
    fn rejects_large_input() {
        let big = vec![b' '; limits::MAX_INPUT_BYTES + 1];
        assert!(matches!(
            parse("a.yaml", &big),
            Err(ParseError::TooLarge { .. })
        ));
    }

    #[test]
    fn strips_bom() {
        let node = parse("a.json", "\u{feff}{\"a\": 1}".as_bytes()).unwrap();
        assert_eq!(node.pos, Pos::START);
    }
}
