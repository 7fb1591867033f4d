//! Renders the input JSON file named on the command line (development aid):
//! `cargo run -p plaza-deploy --example render -- INPUT.json`. Exit 1 when the input cannot be
//! rendered, 2 when it cannot be read.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: render INPUT.json");
        std::process::exit(2)
    };
    let input: plaza_deploy::RenderInput = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
    {
        Ok(input) => input,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2)
        }
    };
    match plaza_deploy::render(&input) {
        Ok(y) => print!("{y}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}
