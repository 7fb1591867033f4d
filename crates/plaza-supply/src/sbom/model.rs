//! One model for parsed SBOMs, whatever their format: CycloneDX and SPDX documents both become an
//! [`Sbom`] of [`Component`]s with a dependency graph.
//!
//! What is kept is what the supply-chain gates use: identity (name, version, purl exactly as
//! written), licenses, hashes, the component's kind and supplier, and who depends on whom. The
//! subject of the SBOM (CycloneDX `metadata.component`, the package an SPDX document describes) is
//! kept apart from the other components, since it is what the SBOM is bound to (see
//! [`super::binding()`]).
//!
//! [`Sbom::summary`] renders the model as stable text (the fixture tests compare it with expected
//! files, and a CLI can print it).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The format (and its version) an SBOM was written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SbomFormat {
    /// CycloneDX JSON; `spec_version` as the document's `specVersion` says (`1.4`, `1.5`, `1.6`).
    CycloneDx {
        /// The document's `specVersion`.
        spec_version: String,
    },
    /// SPDX JSON; `version` as the document's `spdxVersion` says (`SPDX-2.3`, `SPDX-2.2`).
    Spdx {
        /// The document's `spdxVersion`.
        version: String,
    },
}

impl std::fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SbomFormat::CycloneDx { spec_version } => write!(f, "CycloneDX {spec_version}"),
            SbomFormat::Spdx { version } => write!(f, "{version}"),
        }
    }
}

/// A license as the SBOM states it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum License {
    /// An SPDX license identifier (`MIT`, `LicenseRef-Proprietary`): CycloneDX `license.id`, or an
    /// SPDX license field that holds a single identifier.
    Id(String),
    /// A free-text license name (CycloneDX `license.name`), when no identifier was given.
    Name(String),
    /// An SPDX license expression (`MIT OR Apache-2.0`): CycloneDX `expression`, or an SPDX
    /// license field with operators.
    Expression(String),
}

impl std::fmt::Display for License {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            License::Id(id) => write!(f, "id:{id}"),
            License::Name(name) => write!(f, "name:{name}"),
            License::Expression(e) => write!(f, "expr:{e}"),
        }
    }
}

/// A digest of a component's content.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hash {
    /// The algorithm in CycloneDX spelling (`SHA-256`, `SHA-1`, `SHA3-256`, `BLAKE2b-256`, `MD5`);
    /// SPDX names (`SHA256`) are mapped to it; an algorithm neither format names is kept as
    /// written.
    pub alg: String,
    /// The digest in lowercase hexadecimal.
    pub hex: String,
}

/// One component (CycloneDX component, SPDX package).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// The component's reference: CycloneDX `bom-ref` or SPDX `SPDXID`. A CycloneDX component
    /// without a `bom-ref` (nothing can refer to it) gets its JSON pointer, prefixed with `#`
    /// (`#/components/3`).
    pub ref_id: String,
    /// The component's name.
    pub name: String,
    /// Its version (CycloneDX `version`, SPDX `versionInfo`), if stated.
    pub version: Option<String>,
    /// Its package URL exactly as written (CycloneDX `purl`, the SPDX `purl` external reference).
    pub purl: Option<String>,
    /// Its licenses; for SPDX the concluded license, or the declared one when none was concluded
    /// (`NOASSERTION` and `NONE` give no license).
    pub licenses: Vec<License>,
    /// Its hashes (CycloneDX `hashes`, SPDX `checksums`).
    pub hashes: Vec<Hash>,
    /// Its kind: CycloneDX `type` (`library`, `application`, ...) or SPDX `primaryPackagePurpose`
    /// in lowercase.
    pub kind: Option<String>,
    /// Its supplier's name (CycloneDX `supplier.name`; SPDX `supplier` without its `Organization: `
    /// or `Person: ` prefix).
    pub supplier: Option<String>,
    /// For a CycloneDX component nested in another one, the containing component's `ref_id`.
    pub parent: Option<String>,
}

impl Component {
    /// The component's SHA-256 digest in lowercase hex, if the SBOM gives one.
    pub fn sha256(&self) -> Option<&str> {
        self.hashes
            .iter()
            .find(|h| h.alg == "SHA-256")
            .map(|h| h.hex.as_str())
    }
}

/// Something an SBOM got wrong that the parser accepted because its meaning was clear (a
/// fractional-second SPDX timestamp, a registry URL as SPDX download location, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomWarning {
    /// JSON pointer (RFC 6901) to the value concerned (`""` is the whole document).
    pub pointer: String,
    /// What is wrong and how it was read.
    pub message: String,
}

/// A parsed SBOM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sbom {
    /// The format it was written in.
    pub format: SbomFormat,
    /// CycloneDX `serialNumber` or SPDX `documentNamespace`, if given.
    pub serial: Option<String>,
    /// What the SBOM describes: CycloneDX `metadata.component`, or the one package an SPDX
    /// document `DESCRIBES` (none when it describes several or none; a warning says so). Never
    /// also in [`Sbom::components`].
    pub subject: Option<Component>,
    /// Every other component: for CycloneDX, `components` flattened depth first (a parent before
    /// its children), then the components nested in `metadata.component`; for SPDX, the packages
    /// in document order.
    pub components: Vec<Component>,
    /// The dependency graph: a component's `ref_id` to the `ref_id`s it depends on. CycloneDX
    /// `dependencies`; SPDX `DEPENDS_ON`, `CONTAINS` (A → B) and `*DEPENDENCY_OF`,
    /// `CONTAINED_BY` (B → A) relationships between packages. A component listed with no
    /// dependencies maps to an empty set.
    pub dependencies: BTreeMap<String, BTreeSet<String>>,
    /// What the parser accepted although the document is not strictly valid.
    pub warnings: Vec<SbomWarning>,
}

impl Sbom {
    /// The subject followed by every component.
    pub fn all_components(&self) -> impl Iterator<Item = &Component> {
        self.subject.iter().chain(self.components.iter())
    }

    /// A stable, line-oriented text rendering of the whole model (format, serial, subject, each
    /// component, the graph, the warnings), for fixture tests and for people.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "format: {}", self.format);
        let _ = writeln!(out, "serial: {}", self.serial.as_deref().unwrap_or("-"));
        match &self.subject {
            Some(s) => {
                let _ = writeln!(out, "subject:\n{}", component_line(s));
            }
            None => out.push_str("subject: -\n"),
        }
        let _ = writeln!(out, "components: {}", self.components.len());
        for c in &self.components {
            let _ = writeln!(out, "{}", component_line(c));
        }
        let edges: usize = self.dependencies.values().map(BTreeSet::len).sum();
        let _ = writeln!(
            out,
            "dependencies: {} nodes, {edges} edges",
            self.dependencies.len()
        );
        for (from, to) in &self.dependencies {
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            let _ = writeln!(out, "  {from} -> [{}]", to.join(", "));
        }
        let _ = writeln!(out, "warnings: {}", self.warnings.len());
        for w in &self.warnings {
            let _ = writeln!(out, "  {}: {}", w.pointer, w.message);
        }
        out
    }
}

fn component_line(c: &Component) -> String {
    let licenses: Vec<String> = c.licenses.iter().map(License::to_string).collect();
    let hashes: Vec<String> = c
        .hashes
        .iter()
        .map(|h| format!("{}:{}", h.alg, h.hex))
        .collect();
    let mut line = format!(
        "  {} | {} {} | purl={} | kind={}",
        c.ref_id,
        c.name,
        c.version.as_deref().unwrap_or("-"),
        c.purl.as_deref().unwrap_or("-"),
        c.kind.as_deref().unwrap_or("-"),
    );
    if let Some(s) = &c.supplier {
        let _ = write!(line, " | supplier={s}");
    }
    if !licenses.is_empty() {
        let _ = write!(line, " | licenses=[{}]", licenses.join("; "));
    }
    if !hashes.is_empty() {
        let _ = write!(line, " | hashes=[{}]", hashes.join(", "));
    }
    if let Some(p) = &c.parent {
        let _ = write!(line, " | parent={p}");
    }
    line
}
