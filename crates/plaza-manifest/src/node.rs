//! The spanned document tree that both the YAML and the JSON reader produce.
//!
//! Every node knows the line and column (1-based, columns counted in characters) where it starts,
//! so that every diagnostic can point at the exact place in the source.

use std::fmt;

/// A 1-based line and column in the source text. Columns count Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, starting at 1.
    pub line: u32,
    /// Column, starting at 1.
    pub column: u32,
}

impl Pos {
    /// The start of the file.
    pub const START: Pos = Pos { line: 1, column: 1 };

    /// Builds a position from a line and a column (both 1-based).
    pub fn new(line: usize, column: usize) -> Pos {
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Pos {
            line: clamp(line),
            column: clamp(column),
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One value of the document with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts.
    pub pos: Pos,
    /// The source text of a scalar that is not a string (`1.10`, `true`, `~`), kept for messages
    /// and hints; `None` for strings and collections.
    pub text: Option<String>,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or an empty YAML value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(String),
    /// A list (YAML sequence, JSON array).
    Seq(Vec<Node>),
    /// A map (YAML mapping, JSON object). Entries keep their order, and duplicates are kept so
    /// that they can be reported; readers use the first occurrence.
    Map(Vec<Entry>),
}

/// One `key: value` pair of a map.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key, as a string.
    pub key: String,
    /// Where the key starts.
    pub key_pos: Pos,
    /// The value.
    pub value: Node,
}

impl Node {
    /// Builds a node without source text.
    pub fn new(value: Value, pos: Pos) -> Node {
        Node {
            value,
            pos,
            text: None,
        }
    }

    /// The kind of value, as used in messages: "a string", "an integer", ….
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// A short rendering of a scalar for messages (`1.10`, `true`); `None` for collections.
    pub fn scalar_text(&self) -> Option<String> {
        if let Some(text) = &self.text {
            return Some(text.clone());
        }
        match &self.value {
            Value::Null => Some("null".into()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Str(s) => Some(s.clone()),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// Number of nodes in this subtree (itself included).
    pub fn count(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
            _ => 0,
        }
    }

    /// Nesting height of this subtree: 0 for a scalar, 1 for a flat list or map, ….
    pub fn height(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::height).max().unwrap_or(0),
            Value::Map(entries) => 1 + entries.iter().map(|e| e.value.height()).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// A path from the document root to a node, rendered as a JSON pointer (RFC 6901) for
/// machines and as `permissions[0].scopes[1]` for people.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Path {
    /// The document root.
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// The path of a map member.
    pub fn key(&self, key: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.to_owned()));
        p
    }

    /// The path of a list item.
    pub fn index(&self, index: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Segment::Index(index));
        p
    }

    /// The JSON pointer, e.g. `/permissions/0/scopes/1`; the empty string for the root.
    pub fn pointer(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            out.push('/');
            match seg {
                Segment::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Segment::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("manifest");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_and_display() {
        let p = Path::root()
            .key("permissions")
            .index(0)
            .key("scopes")
            .index(1);
        assert_eq!(p.pointer(), "/permissions/0/scopes/1");
        assert_eq!(p.to_string(), "permissions[0].scopes[1]");
        assert_eq!(Path::root().pointer(), "");
        assert_eq!(Path::root().to_string(), "manifest");
        assert_eq!(Path::root().key("a/b~c").pointer(), "/a~1b~0c");
    }

    #[test]
    fn count_and_height() {
        let leaf = Node::new(Value::Int(1), Pos::START);
        let seq = Node::new(Value::Seq(vec![leaf.clone(), leaf.clone()]), Pos::START);
        let map = Node::new(
            Value::Map(vec![Entry {
                key: "a".into(),
                key_pos: Pos::START,
                value: seq,
            }]),
            Pos::START,
        );
        assert_eq!(map.count(), 4);
        assert_eq!(map.height(), 2);
        assert_eq!(leaf.height(), 0);
    }
}
