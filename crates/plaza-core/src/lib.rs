//! Plaza's domain: the types every other crate speaks (orgs, teams, users, roles, tokens, apps,
//! audit records), the rules that govern them (who may do what, how the audit chain is hashed),
//! and the ports (repository traits, [`Clock`]) that adapters implement.
//!
//! This crate depends on no web framework, no database driver and no wasm runtime; adapters live
//! in `plaza-store` and `plaza-server`.

pub mod access;
pub mod apps;
pub mod audit;
pub mod capability;
pub mod clock;
pub mod error;
pub mod identity;
pub mod ids;
pub mod install;
pub mod policy;
pub mod ports;
pub mod registry;
pub mod service;
pub mod supply;
pub mod supply_gate;
pub mod token;
pub mod usage;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{BusError, CoreError, StoreError};
