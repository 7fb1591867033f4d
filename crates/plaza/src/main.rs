//! `plaza`: the command-line interface and the server (`plaza serve`) in one binary.
//!
//! This file only parses arguments and turns outcomes into exit codes; each command lives in
//! `cli/<command>.rs`.

mod cli;
mod config;
mod demo;
mod demo_supply;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(cli::EXIT_USAGE_OR_IO)
        }
    }
}
