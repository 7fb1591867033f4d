//! OSV vulnerability matching: parse OSV records, order versions per ecosystem, evaluate ranges
//! exactly as the OSV schema's "Evaluation" section says, and answer "which advisories affect
//! this package version?" from an index keyed by (ecosystem, normalised package name).
//!
//! - [`model`]: the [`Advisory`] model and [`parse_advisory`].
//! - [`version`]: SemVer (crates.io, npm, Go), PEP 440 (PyPI) and Maven orderings.
//! - [`range`]: range compilation and evaluation.
//! - [`ecosystem`]: OSV ecosystem spellings and package-name normalisation (PEP 503 for PyPI).
//! - [`purl`]: package URLs → (ecosystem, name, version).
//! - [`severity`]: CVSS v3.0/v3.1 base scores, levels and fallbacks; [`cvss4`]: CVSS v4.0 scores.
//! - [`index`]: [`VulnIndex`], the query side (with per-package candidate tables, `candidates`).
//! - [`load`]: reading a directory or zip of OSV files and planning an incremental import.

mod candidates;
pub mod cvss4;
pub mod ecosystem;
pub mod error;
pub mod index;
pub mod load;
pub mod model;
pub mod purl;
pub mod range;
pub mod severity;
pub mod version;

pub use cvss4::cvss4_score;
pub use ecosystem::{canonical_ecosystem, normalize_name};
pub use error::OsvError;
pub use index::{AdvisoryText, Match, QueryResult, Unevaluated, VulnIndex};
pub use load::{plan_import, read_dir, read_zip, read_zip_with, ImportPlan, LoadedFile, ZipLimits};
pub use model::{parse_advisory, Advisory, Affected, Event, Package, Range, RangeType, Severity};
pub use purl::{parse_purl, PackageRef};
pub use range::{Hit, NotEvaluated, Until};
pub use severity::{cvss3_base_score, SeverityInfo, SeverityLevel};
