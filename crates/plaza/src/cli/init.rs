//! `plaza init`: a new app folder from a template, with a manifest that validates.

use anyhow::{bail, Context};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `plaza init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Template: wasm-http, container or function.
    #[arg(long, default_value = "wasm-http")]
    template: String,
    /// App id in reverse-DNS form (default: com.example.<folder name>).
    #[arg(long)]
    id: Option<String>,
    /// Display name (default: the folder name).
    #[arg(long)]
    name: Option<String>,
    /// The folder to create (must not exist or be empty).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

/// Writes the template's files.
pub fn run(args: InitArgs) -> anyhow::Result<ExitCode> {
    let template: plaza_manifest::template::Template = args
        .template
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}; choose one of: wasm-http, container, function"))?;
    if args.dir.exists()
        && args
            .dir
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} already exists and is not empty; choose a new folder",
            args.dir.display()
        );
    }
    let folder = args
        .dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("my-app")
        .to_owned();
    let id = args
        .id
        .unwrap_or_else(|| plaza_manifest::template::default_app_id(&folder));
    let name = args.name.unwrap_or(folder);
    let files = plaza_manifest::template::files(template, &id, &name);
    for f in &files {
        let path = args.dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, &f.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("created {}", path.display());
    }
    println!(
        "\nnext: cd {} && plaza validate --manifest micro-app.yaml",
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
