//! Hard limits that keep parsing cheap and safe whatever the input.

/// Largest accepted manifest, in bytes (1 MiB).
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

/// Deepest accepted nesting of maps and lists (the root map is level 1).
pub const MAX_DEPTH: usize = 64;

/// Most nodes that YAML alias expansion may add to a document (billion-laughs protection).
pub const MAX_ALIAS_NODES: usize = 10_000;
