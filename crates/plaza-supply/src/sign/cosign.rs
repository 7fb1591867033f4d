//! cosign.
