//! Running the built `plaza` binary.

use std::path::Path;
use std::process::{Command, Output};

pub const SEED_MANIFEST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seed/examples/micro-app.yaml"
);

pub fn plaza() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_plaza"));
    // Keep the developer's own configuration and variables out of the tests.
    for (k, _) in std::env::vars() {
        if k.starts_with("PLAZA_") {
            c.env_remove(k);
        }
    }
    c
}

pub fn run(args: &[&str], cwd: &Path) -> Output {
    plaza()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("plaza runs")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
