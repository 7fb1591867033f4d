//! Signature, provenance, cosign and securesystemslib interop tests of `plaza_supply::sign`.

mod cosign;
mod interop;
mod keys;
mod provenance;
