//! `plaza package DIR [-o LAYOUT]`: the app's WebAssembly component and manifest as an OCI image
//! layout in the CNCF Wasm artifact format, ready for `plaza push`, `skopeo copy oci:DIR:VERSION
//! docker://…` or oras. [`load_app`] finds an app folder's manifest and component; `plaza push`
//! uses it too.

use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `plaza package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The app folder, holding micro-app.yaml and the built component.
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// The app's manifest [default: DIR/micro-app.yaml].
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The built WebAssembly component [default: the one .wasm file in DIR, else in
    /// DIR/target/wasm32-wasip2/release].
    #[arg(long, value_name = "FILE")]
    component: Option<PathBuf>,
    /// Where to write the OCI image layout [default: DIR/dist/oci].
    #[arg(short = 'o', long, value_name = "DIR")]
    output: Option<PathBuf>,
}

/// An app folder's valid manifest and its component.
pub struct App {
    /// The normalised manifest, as JSON.
    pub manifest: serde_json::Value,
    /// Its `id`.
    pub id: String,
    /// Its `version`.
    pub version: String,
    /// The component's bytes.
    pub component: Vec<u8>,
    /// Where the component was read from.
    pub component_path: PathBuf,
}

/// Why an app folder cannot be packaged: invalid (exit 1, already reported) or an I/O or usage
/// problem.
pub enum LoadError {
    /// The manifest is invalid; its diagnostics were printed.
    Invalid,
    /// Anything else.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for LoadError {
    fn from(e: anyhow::Error) -> Self {
        LoadError::Other(e)
    }
}

/// Reads and validates the manifest (printing every problem when invalid).
pub fn load_manifest(path: &Path) -> Result<(serde_json::Value, String, String), LoadError> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path.display().to_string();
    let loaded = plaza_manifest::load(&name, &bytes);
    let Some(manifest) = loaded.manifest else {
        eprint!("{}", plaza_manifest::render_text(&loaded.diagnostics));
        eprintln!("{name}: invalid; fix it first (`plaza validate --manifest {name}`)");
        return Err(LoadError::Invalid);
    };
    let json = serde_json::to_value(&manifest).map_err(anyhow::Error::from)?;
    Ok((json, manifest.id.clone(), manifest.version.clone()))
}

/// The one `.wasm` file in `dir`, if there is exactly one.
fn single_wasm(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => anyhow::bail!(
            "{} holds several .wasm files ({}); choose one with --component",
            dir.display(),
            found
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Finds the component: `explicit`, else the one `.wasm` in `dir`, else in
/// `dir/target/wasm32-wasip2/release`.
fn find_component(dir: &Path, explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_owned());
    }
    let release = dir.join("target").join("wasm32-wasip2").join("release");
    for candidate in [dir.to_owned(), release.clone()] {
        if let Some(p) = single_wasm(&candidate)? {
            return Ok(p);
        }
    }
    anyhow::bail!(
        "no component found in {} or {}: build it (`cargo build --release --target wasm32-wasip2`) or name it with --component",
        dir.display(),
        release.display()
    )
}

/// Loads an app folder: its manifest (`manifest`, default `dir/micro-app.yaml`) and component.
pub fn load_app(
    dir: &Path,
    manifest: Option<&Path>,
    component: Option<&Path>,
) -> Result<App, LoadError> {
    let manifest_path = manifest.map_or_else(|| dir.join("micro-app.yaml"), Path::to_owned);
    let (manifest, id, version) = load_manifest(&manifest_path)?;
    let component_path = find_component(dir, component)?;
    let component = std::fs::read(&component_path)
        .with_context(|| format!("cannot read {}", component_path.display()))?;
    Ok(App {
        manifest,
        id,
        version,
        component,
        component_path,
    })
}

/// Packages; exit 0 written, 1 invalid manifest or not a component, 2 usage or I/O error.
pub fn run(a: PackageArgs) -> anyhow::Result<ExitCode> {
    let app = match load_app(&a.dir, a.manifest.as_deref(), a.component.as_deref()) {
        Ok(app) => app,
        Err(LoadError::Invalid) => return Ok(ExitCode::from(EXIT_INVALID)),
        Err(LoadError::Other(e)) => return Err(e),
    };
    let output = a.output.unwrap_or_else(|| a.dir.join("dist").join("oci"));
    if !super::output_is_free(&output) {
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    match plaza_registry::package::write_layout(&output, &app.manifest, &app.component) {
        Ok(digest) => {
            println!("packaged {} {} as {digest}", app.id, app.version);
            println!("OCI layout: {}", output.display());
            println!(
                "push it: plaza push {}   (or: skopeo copy oci:{}:{} docker://<plaza-host>/<org>/{}:{})",
                output.display(),
                output.display(),
                app.version,
                app.id,
                app.version
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(plaza_registry::package::PackageError::NotAComponent(why)) => {
            eprintln!("{}: {why}", app.component_path.display());
            Ok(ExitCode::from(EXIT_INVALID))
        }
        Err(e) => Err(e.into()),
    }
}
