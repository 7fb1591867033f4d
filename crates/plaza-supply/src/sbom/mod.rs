//! Software bills of materials.
//!
//! - [`cargo`]: CycloneDX 1.6 JSON from a Rust app's `Cargo.lock` (what `plaza sbom` writes).

pub mod cargo;
