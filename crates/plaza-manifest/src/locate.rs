//! Finding where a JSON pointer lands in the source text: policy findings and other later checks
//! name a place in the normalised manifest (`/permissions/0/scopes/1`), and reports (text, SARIF)
//! want the line and column an author can jump to.

use crate::node::{Node, Pos, Value};

/// The position of the value at `pointer` (RFC 6901) in the manifest `bytes`, or of its nearest
/// ancestor present in the source (a normalised field such as a default may not be written
/// there). `None` when the text does not parse.
pub fn locate(file_name: &str, bytes: &[u8], pointer: &str) -> Option<Pos> {
    let root = crate::source::parse(file_name, bytes).ok()?;
    Some(walk(&root, pointer))
}

fn walk(root: &Node, pointer: &str) -> Pos {
    let mut node = root;
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let next = match &node.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == segment).map(|e| &e.value),
            Value::Seq(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.pos
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "id: com.example.a\npermissions:\n  - name: cal\n    scopes:\n      - calendar.read\n      - admin:*\n";

    #[test]
    fn pointers_land_on_their_value_or_nearest_ancestor() {
        let at = |p: &str| locate("m.yaml", YAML.as_bytes(), p).unwrap();
        assert_eq!(at("/permissions/0/scopes/1"), Pos::new(6, 9));
        assert_eq!(at("/id"), Pos::new(1, 5));
        assert_eq!(at(""), Pos::new(1, 1));
        // `visibility` is a default, absent from the text: the root is the nearest place.
        assert_eq!(at("/visibility"), Pos::new(1, 1));
        assert_eq!(at("/permissions/0/scopes/9"), Pos::new(5, 7));
    }

    #[test]
    fn json_sources_work_too() {
        let json = b"{\n  \"sbom\": \"s3://b/x.json\"\n}";
        assert_eq!(locate("m.json", json, "/sbom"), Some(Pos::new(2, 11)));
        assert_eq!(locate("m.json", b"{", "/sbom"), None);
    }
}
