//! Software bills of materials.
//!
//! - [`cargo`]: CycloneDX 1.6 JSON from a Rust app's `Cargo.lock` (what `plaza sbom` writes).
//! - [`parse_sbom`] ([`detect`], [`cyclonedx`], [`spdx`]): CycloneDX JSON 1.4–1.6 and SPDX 2.3
//!   JSON into one model ([`model`]: [`Sbom`], [`Component`]), lenient where real tools differ,
//!   strict where meaning would be lost, errors ([`SbomError`]) with JSON pointers.
//! - [`binding()`]: whether an SBOM's subject carries the artifact's digest.

pub mod binding;
pub mod cargo;
pub mod cyclonedx;
pub mod detect;
pub mod error;
mod json;
pub mod model;
pub mod spdx;
mod stream;

pub use binding::{binding, Binding};
pub use detect::{parse_sbom, MAX_COMPONENT_DEPTH, MAX_SBOM_BYTES};
pub use error::SbomError;
pub use model::{Component, Hash, License, Sbom, SbomFormat, SbomWarning};
