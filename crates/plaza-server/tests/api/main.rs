//! The HTTP API driven in-process: one test binary, one module per concern.

mod authz_matrix;
mod bad_input;
mod conformance;
mod identity;
mod installs;
mod oci;
mod oidc;
mod operations;
mod policies;
mod supply;
mod support;
mod usage;
mod usage_query;
