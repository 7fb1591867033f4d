//! SLSA: Provenance v1 and Verification Summary Attestations.
//!
//! - [`provenance`]: build a provenance for a local build; verify one to a SLSA build level.
//! - [`vsa`]: the marketplace's countersignature (Verification Summary v1).

pub mod provenance;
pub mod vsa;
