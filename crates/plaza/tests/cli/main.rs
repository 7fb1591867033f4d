//! The `plaza` binary driven as a real process: exit codes, output, files, and a real server.

mod admin;
mod apps_run;
mod install_cli;
mod policy;
mod push_pull;
mod sbom;
mod serve;
mod supply;
mod support;
mod usage_bus;
mod usage_cli;
mod usage_crash;
mod validate;
