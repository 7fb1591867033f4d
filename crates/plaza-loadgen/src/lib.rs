//! Benchmark tooling for usage ingest (issue 7). Two programs share this library:
//!
//! - `usage-load` drives `POST /api/usage/events` over loopback HTTP from its own process and
//!   reports sustained events/s and the p50/p99 acknowledgement latency of its requests;
//! - `usage-floor` inserts the same rows into a fresh SQLite file with the same table, primary
//!   key, secondary index and pragmas as Plaza's store, straight through sqlx: the rate no
//!   ingest path on this storage can beat, which `usage-load`'s rate is reported against.
//!
//! [`workload::Workload`] decides every event of a run (ids, values, timestamps, which events
//! are resends of earlier ones) as a pure function of its parameters, so both programs see the
//! same events without holding them in memory; [`stats`] has the latency percentiles and the
//! progress lines.

pub mod stats;
pub mod workload;
