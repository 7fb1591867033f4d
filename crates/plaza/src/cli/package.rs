//! `plaza package`: the app's WebAssembly component and manifest as an OCI image layout in the
//! CNCF Wasm artifact format, ready for `skopeo copy oci:DIR:VERSION docker://…` or oras.

use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `plaza package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The app's manifest.
    #[arg(long, value_name = "FILE", default_value = "micro-app.yaml")]
    manifest: PathBuf,
    /// The built WebAssembly component (e.g. target/wasm32-wasip2/release/app.wasm).
    #[arg(long, value_name = "FILE")]
    component: PathBuf,
    /// Where to write the OCI image layout.
    #[arg(long, value_name = "DIR", default_value = "dist/oci")]
    output: PathBuf,
}

/// Packages; exit 0 written, 1 invalid manifest or not a component, 2 usage or I/O error.
pub fn run(a: PackageArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&a.manifest)
        .with_context(|| format!("cannot read {}", a.manifest.display()))?;
    let name = a.manifest.display().to_string();
    let loaded = plaza_manifest::load(&name, &bytes);
    let Some(manifest) = loaded.manifest else {
        eprint!("{}", plaza_manifest::render_text(&loaded.diagnostics));
        eprintln!("{name}: invalid; fix it before packaging (`plaza validate --manifest {name}`)");
        return Ok(ExitCode::from(EXIT_INVALID));
    };
    let component = std::fs::read(&a.component)
        .with_context(|| format!("cannot read {}", a.component.display()))?;
    if a.output.exists()
        && a.output
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        eprintln!(
            "error: {} already exists and is not empty; choose another --output",
            a.output.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    let json = serde_json::to_value(&manifest)?;
    match plaza_registry::package::write_layout(&a.output, &json, &component) {
        Ok(digest) => {
            println!("packaged {} {} as {digest}", manifest.id, manifest.version);
            println!("OCI layout: {}", a.output.display());
            println!(
                "push it: skopeo copy oci:{}:{} docker://<plaza-host>/<org>/{}:{}",
                a.output.display(),
                manifest.version,
                manifest.id,
                manifest.version
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(plaza_registry::package::PackageError::NotAComponent(why)) => {
            eprintln!("{}: {why}", a.component.display());
            Ok(ExitCode::from(EXIT_INVALID))
        }
        Err(e) => Err(e.into()),
    }
}
