//! A minimal Wasm binary walker for secret scanning: it finds the byte regions that can hold
//! embedded data — data segments (core section 11) and custom sections (section 0: a name, then
//! the payload) — in a core module, and recurses into a component's nested core modules
//! (component section 1) and nested components (component section 4). Everything else is skipped
//! by its size. Every length is checked against the bytes left, so malformed input is an error
//! with its offset, never a panic; nesting depth is bounded.
//!
//! Regions are named by path: `module[1]/data segment[0]`, `component[0]/custom section "name"`,
//! where `module[i]` / `component[i]` count the modules / components embedded in the enclosing
//! component, in order.

use super::error::SecretsError;
use super::scanner::{ContentKind, ScanReport, Scanner};

const MAGIC: &[u8; 4] = b"\0asm";
const CORE_VERSION: [u8; 4] = [1, 0, 0, 0];
const COMPONENT_LAYER: [u8; 2] = [1, 0];

/// A region of a Wasm binary worth scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Region {
    /// Path of the region (`module[0]/data segment[2]`).
    pub path: String,
    /// Offset of its first byte in the whole file.
    pub start: usize,
    /// Offset after its last byte.
    pub end: usize,
    /// For a custom section: the `[start, end)` of its name, which the scanner checks before
    /// putting it into a label (a name could itself be a secret).
    pub name: Option<(usize, usize)>,
}

/// Whether `bytes` starts like a Wasm module or component.
pub(crate) fn is_wasm(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The scannable regions of a module or component.
pub(crate) fn regions(
    label: &str,
    bytes: &[u8],
    max_depth: usize,
) -> Result<Vec<Region>, SecretsError> {
    let mut walker = Walker {
        label,
        bytes,
        max_depth,
        out: Vec::new(),
    };
    walker.binary(0, bytes.len(), "", 0)?;
    Ok(walker.out)
}

struct Walker<'a> {
    label: &'a str,
    bytes: &'a [u8],
    max_depth: usize,
    out: Vec<Region>,
}

/// A bounded cursor over `bytes[pos..end]` (absolute offsets).
struct Cursor {
    pos: usize,
    end: usize,
}

impl Walker<'_> {
    fn error(&self, offset: usize, problem: impl Into<String>) -> SecretsError {
        SecretsError::MalformedWasm {
            label: self.label.to_owned(),
            offset: offset as u64,
            problem: problem.into(),
        }
    }

    fn byte(&self, cursor: &mut Cursor, what: &str) -> Result<u8, SecretsError> {
        let byte = (cursor.pos < cursor.end)
            .then(|| self.bytes.get(cursor.pos).copied())
            .flatten()
            .ok_or_else(|| {
                self.error(cursor.pos, format!("unexpected end while reading {what}"))
            })?;
        cursor.pos += 1;
        Ok(byte)
    }

    /// An unsigned LEB128 of at most 32 bits.
    fn u32(&self, cursor: &mut Cursor, what: &str) -> Result<u32, SecretsError> {
        let start = cursor.pos;
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let byte = self.byte(cursor, what)?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return u32::try_from(value)
                    .map_err(|_| self.error(start, format!("{what} does not fit in 32 bits")));
            }
        }
        Err(self.error(start, format!("{what}: LEB128 longer than 5 bytes")))
    }

    /// Skips a signed LEB128 of at most `max_bytes` bytes.
    fn skip_leb(
        &self,
        cursor: &mut Cursor,
        max_bytes: usize,
        what: &str,
    ) -> Result<(), SecretsError> {
        let start = cursor.pos;
        for _ in 0..max_bytes {
            if self.byte(cursor, what)? & 0x80 == 0 {
                return Ok(());
            }
        }
        Err(self.error(
            start,
            format!("{what}: LEB128 longer than {max_bytes} bytes"),
        ))
    }

    /// A length-prefixed byte vector: returns its `[start, end)`.
    fn vec(&self, cursor: &mut Cursor, what: &str) -> Result<(usize, usize), SecretsError> {
        let at = cursor.pos;
        let len = self.u32(cursor, what)? as usize;
        let start = cursor.pos;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= cursor.end)
            .ok_or_else(|| {
                self.error(
                    at,
                    format!("{what} of {len} bytes runs past the end of its section"),
                )
            })?;
        cursor.pos = end;
        Ok((start, end))
    }

    fn skip(&self, cursor: &mut Cursor, n: usize, what: &str) -> Result<(), SecretsError> {
        let end = cursor.pos.checked_add(n).filter(|&e| e <= cursor.end);
        cursor.pos =
            end.ok_or_else(|| self.error(cursor.pos, format!("unexpected end in {what}")))?;
        Ok(())
    }

    /// A module or component occupying `bytes[start..end]`.
    fn binary(
        &mut self,
        start: usize,
        end: usize,
        prefix: &str,
        depth: usize,
    ) -> Result<(), SecretsError> {
        if depth > self.max_depth {
            return Err(SecretsError::WasmTooDeep {
                label: self.label.to_owned(),
                offset: start as u64,
                limit: self.max_depth,
            });
        }
        let preamble = self
            .bytes
            .get(start..start.saturating_add(8))
            .filter(|_| start + 8 <= end)
            .ok_or_else(|| {
                self.error(start, "truncated preamble (magic and version need 8 bytes)")
            })?;
        if preamble.get(..4) != Some(MAGIC.as_slice()) {
            return Err(self.error(start, "missing the `\\0asm` magic number"));
        }
        let component = if preamble.get(4..8) == Some(CORE_VERSION.as_slice()) {
            false
        } else if preamble.get(6..8) == Some(COMPONENT_LAYER.as_slice()) {
            true
        } else {
            return Err(self.error(
                start + 4,
                "unknown version/layer (core modules have 01 00 00 00, components xx 00 01 00)",
            ));
        };
        let mut cursor = Cursor {
            pos: start + 8,
            end,
        };
        let (mut modules, mut components) = (0usize, 0usize);
        while cursor.pos < end {
            let id = self.byte(&mut cursor, "a section id")?;
            let (payload_start, payload_end) = self.vec(&mut cursor, "a section")?;
            match (component, id) {
                (_, 0) => self.custom(payload_start, payload_end, prefix)?,
                (false, 11) => self.data(payload_start, payload_end, prefix)?,
                (true, 1) => {
                    let nested = format!("{prefix}module[{modules}]/");
                    modules += 1;
                    self.binary(payload_start, payload_end, &nested, depth + 1)?;
                }
                (true, 4) => {
                    let nested = format!("{prefix}component[{components}]/");
                    components += 1;
                    self.binary(payload_start, payload_end, &nested, depth + 1)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn custom(&mut self, start: usize, end: usize, prefix: &str) -> Result<(), SecretsError> {
        let mut cursor = Cursor { pos: start, end };
        let (name_start, name_end) = self.vec(&mut cursor, "a custom section name")?;
        self.out.push(Region {
            path: format!("{prefix}custom section"),
            start: cursor.pos,
            end,
            name: Some((name_start, name_end)),
        });
        Ok(())
    }

    fn data(&mut self, start: usize, end: usize, prefix: &str) -> Result<(), SecretsError> {
        let mut cursor = Cursor { pos: start, end };
        let count = self.u32(&mut cursor, "the data segment count")?;
        for index in 0..count {
            let at = cursor.pos;
            match self.u32(&mut cursor, "a data segment's flags")? {
                0 => self.const_expr(&mut cursor)?,
                1 => {}
                2 => {
                    self.u32(&mut cursor, "a data segment's memory index")?;
                    self.const_expr(&mut cursor)?;
                }
                other => {
                    return Err(self.error(
                        at,
                        format!(
                            "data segment {index} has unknown flags {other} (0, 1 or 2 expected)"
                        ),
                    ))
                }
            }
            let (bytes_start, bytes_end) = self.vec(&mut cursor, "a data segment's bytes")?;
            self.out.push(Region {
                path: format!("{prefix}data segment[{index}]"),
                start: bytes_start,
                end: bytes_end,
                name: None,
            });
        }
        if cursor.pos != end {
            return Err(self.error(cursor.pos, "bytes left over after the last data segment"));
        }
        Ok(())
    }

    /// Skips a constant expression (the offset of an active data segment) up to its `end`.
    fn const_expr(&self, cursor: &mut Cursor) -> Result<(), SecretsError> {
        loop {
            let at = cursor.pos;
            match self.byte(cursor, "a constant expression")? {
                0x0b => return Ok(()),
                0x41 => self.skip_leb(cursor, 5, "an i32.const operand")?,
                0x42 => self.skip_leb(cursor, 10, "an i64.const operand")?,
                0x43 => self.skip(cursor, 4, "an f32.const operand")?,
                0x44 => self.skip(cursor, 8, "an f64.const operand")?,
                0x23 | 0xd2 => {
                    self.u32(cursor, "an index")?;
                }
                0xd0 => self.skip_leb(cursor, 5, "a heap type")?,
                0x6a | 0x6b | 0x6c | 0x7c | 0x7d | 0x7e => {}
                0xfd => {
                    let sub = self.u32(cursor, "a SIMD opcode")?;
                    if sub != 12 {
                        return Err(self.error(at, format!("SIMD instruction {sub} is not constant")));
                    }
                    self.skip(cursor, 16, "a v128.const operand")?;
                }
                other => {
                    return Err(self.error(
                        at,
                        format!("instruction 0x{other:02x} is not allowed in a data segment offset expression"),
                    ))
                }
            }
        }
    }
}

impl Scanner {
    /// Scans a Wasm core module or component: every data segment and custom section, in nested
    /// modules and components too, labelled `label!path` with offsets relative to the region
    /// and to the file. Malformed binaries are an error with the offset.
    pub fn scan_wasm(&self, label: &str, bytes: &[u8]) -> Result<ScanReport, SecretsError> {
        let regions = regions(label, bytes, self.config().max_wasm_depth)?;
        let mut report = ScanReport::default();
        for region in regions {
            let Some(content) = bytes.get(region.start..region.end) else {
                continue;
            };
            let mut path = region.path;
            if let Some(name) = region
                .name
                .and_then(|(s, e)| bytes.get(s..e).map(|n| (s, n)))
            {
                let (name_start, name) = name;
                if self.matches_any(name) {
                    // The name itself holds a secret: report it, and keep it out of labels.
                    path = format!("{path} @0x{:x}", region.start);
                    self.scan_region(
                        &format!("{label}!{path} name"),
                        name,
                        ContentKind::Binary,
                        Some(name_start as u64),
                        &mut report,
                    );
                } else {
                    let name: String = String::from_utf8_lossy(name).chars().take(64).collect();
                    path = format!("{path} {name:?}");
                }
            }
            self.scan_region(
                &format!("{label}!{path}"),
                content,
                ContentKind::Binary,
                Some(region.start as u64),
                &mut report,
            );
        }
        Ok(report)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Unsigned LEB128.
    pub fn leb(mut n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    pub fn section(id: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![id];
        out.extend(leb(payload.len()));
        out.extend_from_slice(payload);
        out
    }

    pub fn name_vec(s: &[u8]) -> Vec<u8> {
        let mut out = leb(s.len());
        out.extend_from_slice(s);
        out
    }

    /// A core module with one custom section and a data section of an active and a passive
    /// segment.
    pub fn module(custom_name: &str, custom: &[u8], active: &[u8], passive: &[u8]) -> Vec<u8> {
        let mut out = b"\0asm\x01\0\0\0".to_vec();
        out.extend(section(1, &[0])); // empty type section, skipped
        let mut custom_payload = name_vec(custom_name.as_bytes());
        custom_payload.extend_from_slice(custom);
        out.extend(section(0, &custom_payload));
        let mut data = leb(2);
        data.extend([0x00, 0x41, 0x8b, 0x01, 0x0b]); // active, i32.const 139 (contains 0x0b)
        data.extend(name_vec(active));
        data.push(0x01);
        data.extend(name_vec(passive));
        out.extend(section(11, &data));
        out
    }

    pub fn component(sections: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"\0asm\x0d\0\x01\0".to_vec();
        for s in sections {
            out.extend_from_slice(s);
        }
        out
    }

    #[test]
    fn core_module_regions() {
        let bytes = module("note", b"hello", b"active!", b"passive");
        let regions = regions("m.wasm", &bytes, 8).unwrap();
        let paths: Vec<_> = regions.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            ["custom section", "data segment[0]", "data segment[1]"]
        );
        let (name_start, name_end) = regions[0].name.unwrap();
        assert_eq!(&bytes[name_start..name_end], b"note");
        assert_eq!(&bytes[regions[0].start..regions[0].end], b"hello");
        assert_eq!(&bytes[regions[1].start..regions[1].end], b"active!");
        assert_eq!(&bytes[regions[2].start..regions[2].end], b"passive");
    }

    #[test]
    fn component_with_nested_modules_and_component() {
        let m0 = module("a", b"", b"zero", b"");
        let m1 = module("b", b"", b"one", b"");
        let inner = component(&[section(1, &m1)]);
        let mut custom = name_vec(b"c");
        custom.extend_from_slice(b"payload");
        let bytes = component(&[
            section(0, &custom),
            section(1, &m0),
            section(7, &[0]),
            section(4, &inner),
        ]);
        let regions = regions("c.wasm", &bytes, 8).unwrap();
        let paths: Vec<_> = regions.iter().map(|r| r.path.as_str()).collect();
        assert!(paths.contains(&"custom section"), "{paths:?}");
        assert!(paths.contains(&"module[0]/data segment[0]"), "{paths:?}");
        assert!(
            paths.contains(&"component[0]/module[0]/data segment[0]"),
            "{paths:?}"
        );
        let one = regions
            .iter()
            .find(|r| r.path == "component[0]/module[0]/data segment[0]")
            .unwrap();
        assert_eq!(&bytes[one.start..one.end], b"one");
    }

    #[test]
    fn malformed_binaries_are_errors_with_offsets() {
        let good = module("n", b"x", b"data", b"");
        // Any truncation reads without panicking; cutting into the data section is an error.
        for len in 0..good.len() {
            let _ = regions("t.wasm", &good[..len], 8);
        }
        assert!(regions("t.wasm", &good[..good.len() - 1], 8).is_err());
        let err = regions("t.wasm", b"\0asm\x02\0\0\0", 8)
            .unwrap_err()
            .to_string();
        assert!(err.contains("offset 4"), "{err}");
        let mut overlong = b"\0asm\x01\0\0\0".to_vec();
        overlong.extend([11, 0x7f, 0x00]);
        let err = regions("t.wasm", &overlong, 8).unwrap_err().to_string();
        assert!(
            err.contains("offset 9") && err.contains("past the end"),
            "{err}"
        );
        let mut bad_flags = b"\0asm\x01\0\0\0".to_vec();
        bad_flags.extend(section(11, &[1, 7, 0]));
        let err = regions("t.wasm", &bad_flags, 8).unwrap_err().to_string();
        assert!(err.contains("unknown flags 7"), "{err}");
        let mut bad_expr = b"\0asm\x01\0\0\0".to_vec();
        bad_expr.extend(section(11, &[1, 0, 0x20, 0, 0x0b, 0]));
        let err = regions("t.wasm", &bad_expr, 8).unwrap_err().to_string();
        assert!(err.contains("0x20"), "{err}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut bytes = module("n", b"", b"", b"");
        for _ in 0..10 {
            bytes = component(&[section(4, &bytes)]);
        }
        assert!(regions("deep.wasm", &bytes, 20).is_ok());
        let err = regions("deep.wasm", &bytes, 5).unwrap_err();
        assert!(
            matches!(err, SecretsError::WasmTooDeep { limit: 5, .. }),
            "{err}"
        );
    }
}
