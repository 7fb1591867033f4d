//! Renders the input JSON file named on the command line (development aid).
fn main() {
    let path = std::env::args().nth(1).expect("usage: render INPUT.json");
    let input: plaza_deploy::RenderInput =
        serde_json::from_slice(&std::fs::read(path).expect("read")).expect("parse");
    match plaza_deploy::render(&input) {
        Ok(y) => print!("{y}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}
