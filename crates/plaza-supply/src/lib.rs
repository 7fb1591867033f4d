//! Plaza's supply-chain logic, domain-pure (text in, values out; no web, database or wasm).
//!
//! Today: [`sbom`], a CycloneDX 1.6 JSON SBOM for a Rust app from its `Cargo.lock`. The
//! signature, provenance, OSV and secret-scanning gates will live here too, so that the CLI and
//! the server's gates call the same functions.

pub mod osv;
pub mod sbom;
pub mod score;
pub mod secrets;
pub mod sign;

mod error;

pub use error::SupplyError;
pub use sbom::cargo::{cyclonedx_from_cargo_lock, root_info_from_cargo_toml, RootInfo};
