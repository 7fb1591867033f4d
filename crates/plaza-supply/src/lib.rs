//! Plaza's supply-chain logic, domain-pure (bytes in, values out; no web, database or wasm
//! runtime), so that the CLI (`plaza sign|verify|attest|sbom|scan`) and the server's submission
//! gate call the same functions:
//!
//! - [`sign`]: keys, DSSE envelopes, in-toto statements, SLSA provenance and VSAs, cosign
//!   compatibility, key validity and marketplace timestamps;
//! - [`sbom`]: CycloneDX and SPDX parsing into one model, binding to the artifact, and CycloneDX
//!   generation from a `Cargo.lock`;
//! - [`osv`]: OSV advisories, per-ecosystem version orderings, the matching index and CVSS;
//! - [`secrets`]: the secret scanner for files, Wasm binaries and container layers;
//! - [`scan`]: an SBOM's components matched against the OSV index;
//! - [`vex`]: VEX suppressions (OpenVEX `not_affected` / `fixed`), kept visible;
//! - [`score`]: the security score and its explanation.

pub mod osv;
pub mod sbom;
pub mod scan;
pub mod score;
pub mod secrets;
pub mod sign;
pub mod vex;

mod error;

pub use error::SupplyError;
pub use sbom::cargo::{cyclonedx_from_cargo_lock, root_info_from_cargo_toml, RootInfo};
pub use sbom::{binding, parse_sbom, Binding, Component, Sbom, SbomError};
