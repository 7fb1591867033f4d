//! Keys, signatures and signed supply-chain statements.
//!
//! - [`artifact`]: sign and verify an artifact (what `plaza sign` / `plaza verify` do).
//! - [`keys`]: Ed25519 / ECDSA P-256 key pairs as PEM (PKCS#8, SPKI), key ids.
//! - [`dsse`]: DSSE envelopes and their pre-authentication encoding.
//! - [`intoto`]: in-toto statements (v1 written, v1 and v0.1 read).
//! - [`trust`]: key validity windows, revocation, marketplace timestamps.
//! - [`slsa`]: SLSA Provenance v1 (build and verify to a build level) and the marketplace's
//!   Verification Summary Attestation.
//! - [`cosign`]: cosign key-pair signatures (blobs, bundles, attest-blob, image signatures).

pub mod artifact;
pub mod cosign;
pub mod dsse;
mod error;
pub mod intoto;
pub mod keys;
pub mod slsa;
pub mod trust;

pub use error::SignError;
