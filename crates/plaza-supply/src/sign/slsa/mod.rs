//! SLSA: Provenance v1 and Verification Summary Attestations.
