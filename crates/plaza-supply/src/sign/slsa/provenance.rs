//! SLSA Provenance v1 (<https://slsa.dev/provenance/v1>): the statement `plaza attest
//! --provenance` writes for a local build, and the verifier that turns a signed provenance
//! into a SLSA build level. The rules are in docs/provenance.md and on [`verify_provenance`].

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::sign::dsse::Envelope;
use crate::sign::intoto::{Statement, SLSA_PROVENANCE_V1};
use crate::sign::keys::PublicKey;
use crate::sign::trust::{verify_with_trusted_keys, TrustedKey};

/// Plaza's build type for a build on the publisher's machine (`plaza attest --provenance`).
///
/// `externalParameters` (all others are refused):
/// - `source` (required): the source as a git URI with its ref,
///   `git+https://github.com/org/repo@refs/heads/main`.
/// - `command` (optional): the build command line, a string.
/// - `manifest` (optional): path of the Plaza manifest inside the source, a string.
pub const PLAZA_LOCAL_BUILD_TYPE: &str = "https://plaza.dev/buildtypes/local/v1";

/// The GitHub Actions workflow build type (slsa-github-generator, GitHub artifact attestations).
///
/// `externalParameters` (all others are refused): `workflow` `{ref, repository, path}`
/// (required; the source is `workflow.repository` at `workflow.ref`), `inputs`, `vars`.
pub const GITHUB_WORKFLOW_BUILD_TYPE: &str =
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";

/// The `builder.id` Plaza writes for local builds. Not trusted unless the org lists it.
pub const PLAZA_LOCAL_BUILDER_ID: &str = "https://plaza.dev/builders/local@v1";

/// The `externalParameters` keys allowed per known build type.
pub const BUILD_TYPES: &[(&str, &[&str])] = &[
    (PLAZA_LOCAL_BUILD_TYPE, &["source", "command", "manifest"]),
    (GITHUB_WORKFLOW_BUILD_TYPE, &["workflow", "inputs", "vars"]),
];

const WHAT: &str = "SLSA provenance";

/// The SLSA Provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// What was built and how.
    pub build_definition: BuildDefinition,
    /// Who built it, when.
    pub run_details: RunDetails,
}

/// `buildDefinition`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    /// URI naming the build type (defines the parameters' meaning).
    pub build_type: String,
    /// Parameters under external control (the ones a verifier checks).
    pub external_parameters: serde_json::Map<String, Value>,
    /// Parameters the builder set itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_parameters: Option<Value>,
    /// Inputs the build resolved (sources, toolchains).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// An in-toto ResourceDescriptor (the fields Plaza uses).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    /// URI of the resource.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
    /// Digests by algorithm (`sha256`, `gitCommit`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// Name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// `runDetails`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// The builder.
    pub builder: Builder,
    /// Run metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BuildMetadata>,
}

/// `runDetails.builder`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Builder {
    /// URI naming the builder (what the trusted-builder list matches).
    pub id: String,
}

/// `runDetails.metadata`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildMetadata {
    /// The build's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// Start time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    /// End time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
}

/// A local build, as `plaza attest --provenance` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalBuild {
    /// The artifact's name (file name or reference).
    pub artifact_name: String,
    /// The artifact's sha256, hex.
    pub artifact_sha256: String,
    /// The source repository URL, e.g. `https://github.com/org/repo`.
    pub repository: String,
    /// The git ref built, e.g. `refs/heads/main`.
    pub git_ref: String,
    /// The commit built, if known (hex).
    pub commit: Option<String>,
    /// The build command, if known.
    pub command: Option<String>,
    /// Path of the manifest in the source, if known.
    pub manifest: Option<String>,
    /// `builder.id`; [`PLAZA_LOCAL_BUILDER_ID`] unless the caller knows better.
    pub builder_id: String,
    /// `internalParameters` (e.g. toolchain versions), if any.
    pub internal_parameters: Option<Value>,
    /// A unique id of this build.
    pub invocation_id: String,
    /// When the build started.
    pub started_on: DateTime<Utc>,
    /// When it finished.
    pub finished_on: DateTime<Utc>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The git URI for a repository at a ref: `git+https://github.com/org/repo@refs/heads/main`.
pub fn git_uri(repository: &str, git_ref: &str) -> String {
    let repo = repository.strip_prefix("git+").unwrap_or(repository);
    format!("git+{repo}@{git_ref}")
}

/// The provenance statement (in-toto v1, one subject) for a local build.
pub fn local_build_provenance(build: &LocalBuild) -> Statement {
    let source = git_uri(&build.repository, &build.git_ref);
    let mut external = serde_json::Map::new();
    external.insert("source".into(), Value::String(source.clone()));
    if let Some(c) = &build.command {
        external.insert("command".into(), Value::String(c.clone()));
    }
    if let Some(m) = &build.manifest {
        external.insert("manifest".into(), Value::String(m.clone()));
    }
    let provenance = Provenance {
        build_definition: BuildDefinition {
            build_type: PLAZA_LOCAL_BUILD_TYPE.into(),
            external_parameters: external,
            internal_parameters: build.internal_parameters.clone(),
            resolved_dependencies: vec![ResourceDescriptor {
                uri: source,
                digest: build
                    .commit
                    .iter()
                    .map(|c| ("gitCommit".to_owned(), c.clone()))
                    .collect(),
                name: String::new(),
            }],
        },
        run_details: RunDetails {
            builder: Builder {
                id: build.builder_id.clone(),
            },
            metadata: Some(BuildMetadata {
                invocation_id: Some(build.invocation_id.clone()),
                started_on: Some(rfc3339(build.started_on)),
                finished_on: Some(rfc3339(build.finished_on)),
            }),
        },
    };
    let predicate = serde_json::to_value(&provenance).unwrap_or(Value::Null);
    Statement::v1(
        &build.artifact_name,
        &build.artifact_sha256,
        SLSA_PROVENANCE_V1,
        predicate,
    )
}

/// A builder the org trusts, with the SLSA build level it assigns it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrustedBuilder {
    /// The `builder.id`. Matches exactly; an id without `@` also matches any `builder.id`
    /// that is this id followed by `@<version>`.
    pub id: String,
    /// The level the org assigns (capped at 3).
    pub level: u8,
}

/// The source the manifest declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceExpectation {
    /// Repository URL, e.g. `https://github.com/org/repo` (scheme, `git+`, `.git` and case of
    /// host and path are ignored in the comparison).
    pub repository: String,
    /// The ref, if the manifest pins one (`main` matches `refs/heads/main` and `refs/tags/main`).
    pub git_ref: Option<String>,
}

/// What the verifier needs besides the provenance.
#[derive(Debug, Clone, Copy)]
pub struct ProvenancePolicy<'a> {
    /// The publisher's registered keys.
    pub publisher_keys: &'a [TrustedKey],
    /// The marketplace's public keys (for timestamps).
    pub marketplace_keys: &'a [PublicKey],
    /// Marketplace timestamps for the provenance's signatures (may be empty).
    pub timestamps: &'a [Envelope],
    /// The org's trusted builders.
    pub trusted_builders: &'a [TrustedBuilder],
    /// The manifest's repository.
    pub expected_source: &'a SourceExpectation,
    /// Verification time.
    pub now: DateTime<Utc>,
}

/// A check the verifier makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A provenance was supplied.
    Present,
    /// It is a DSSE envelope holding an in-toto statement with a SLSA Provenance v1 predicate.
    Format,
    /// A signature verifies with a publisher key valid at signing time.
    Signature,
    /// `predicateType` is SLSA Provenance v1.
    PredicateType,
    /// One subject, whose sha256 is the artifact's.
    Subject,
    /// `buildType` is known.
    BuildType,
    /// No unknown `externalParameters`.
    ExternalParameters,
    /// Source repository and ref match the manifest.
    Source,
    /// `builder.id` is a trusted builder.
    Builder,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The check.
    pub check: Check,
    /// Whether it passed.
    pub passed: bool,
    /// What was found (and, for failures, how to fix it).
    pub detail: String,
}

/// The verifier's result: the SLSA build level and every check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProvenanceVerdict {
    /// 0..=3.
    pub slsa_level: u8,
    /// The checks made, in order.
    pub reasons: Vec<Finding>,
}

impl ProvenanceVerdict {
    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Finding> {
        self.reasons.iter().filter(|f| !f.passed)
    }
}

/// Verifies a provenance envelope (JSON) for an artifact and gives its SLSA build level:
///
/// - **0**: no provenance, or any check fails: not a DSSE envelope of an in-toto statement;
///   no signature verifies with a registered publisher key valid when it signed (see
///   [`crate::sign::trust`]); `predicateType` not SLSA Provenance v1; not exactly one subject,
///   or its sha256 is not the artifact's; unknown `buildType`; an `externalParameters` key the
///   build type does not define; source repository or ref not the manifest's.
/// - **1**: every check passes but `builder.id` is not in the org's trusted-builder list.
/// - **the level the org assigns the builder**, clamped to 1..=3, when it is in the list.
pub fn verify_provenance(
    envelope_json: Option<&[u8]>,
    artifact_sha256_hex: &str,
    policy: &ProvenancePolicy<'_>,
) -> ProvenanceVerdict {
    let mut reasons = Vec::new();
    let mut pass = |check, passed, detail: String| {
        reasons.push(Finding {
            check,
            passed,
            detail,
        })
    };
    let Some(json) = envelope_json else {
        pass(
            Check::Present,
            false,
            "no provenance; attach one with `plaza attest --provenance`".into(),
        );
        return ProvenanceVerdict {
            slsa_level: 0,
            reasons,
        };
    };
    let parsed =
        Envelope::from_json(json).and_then(|env| Statement::from_envelope(&env).map(|s| (env, s)));
    let (envelope, statement) = match parsed {
        Ok(p) => p,
        Err(e) => {
            pass(Check::Format, false, e.to_string());
            return ProvenanceVerdict {
                slsa_level: 0,
                reasons,
            };
        }
    };
    match verify_with_trusted_keys(
        &envelope,
        policy.publisher_keys,
        policy.timestamps,
        policy.marketplace_keys,
        policy.now,
    ) {
        Ok(t) => {
            let owner = policy
                .publisher_keys
                .get(t.verified.key_index)
                .map(|k| k.owner.as_str())
                .unwrap_or_default();
            let when = t
                .signed_at
                .map(|s| format!(", timestamped {}", rfc3339(s)))
                .unwrap_or_default();
            pass(
                Check::Signature,
                true,
                format!("signed by key {} of {owner}{when}", t.verified.key_id),
            );
        }
        Err(e) => pass(Check::Signature, false, e.to_string()),
    }
    match statement.check_predicate_type(&[SLSA_PROVENANCE_V1]) {
        Ok(()) => pass(Check::PredicateType, true, SLSA_PROVENANCE_V1.into()),
        Err(e) => pass(Check::PredicateType, false, e.to_string()),
    }
    match statement.check_subject(artifact_sha256_hex) {
        Ok(s) => pass(
            Check::Subject,
            true,
            format!("{} sha256:{artifact_sha256_hex}", s.name),
        ),
        Err(e) => pass(Check::Subject, false, e.to_string()),
    }
    let provenance: Result<Provenance, _> = serde_path_to_error::deserialize(&statement.predicate);
    let level = match provenance {
        Err(e) => {
            pass(
                Check::Format,
                false,
                format!(
                    "{WHAT} at /predicate/{}: {}",
                    e.path().to_string().replace('.', "/"),
                    e.inner()
                ),
            );
            None
        }
        Ok(p) => {
            check_build(&p, policy, &mut pass);
            Some(builder_level(
                &p.run_details.builder.id,
                policy.trusted_builders,
                &mut pass,
            ))
        }
    };
    let failed = reasons.iter().any(|f| !f.passed);
    let slsa_level = match level {
        Some(l) if !failed => l,
        _ => 0,
    };
    ProvenanceVerdict {
        slsa_level,
        reasons,
    }
}

fn check_build(
    p: &Provenance,
    policy: &ProvenancePolicy<'_>,
    pass: &mut impl FnMut(Check, bool, String),
) {
    let def = &p.build_definition;
    let Some((_, allowed)) = BUILD_TYPES.iter().find(|(t, _)| *t == def.build_type) else {
        let known: Vec<&str> = BUILD_TYPES.iter().map(|(t, _)| *t).collect();
        pass(
            Check::BuildType,
            false,
            format!("{WHAT} at /predicate/buildDefinition/buildType: `{}` is not a build type Plaza knows ({})", def.build_type, known.join(", ")),
        );
        return;
    };
    pass(Check::BuildType, true, def.build_type.clone());
    let unknown: Vec<&str> = def
        .external_parameters
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if unknown.is_empty() {
        pass(
            Check::ExternalParameters,
            true,
            "only known external parameters".into(),
        );
    } else {
        pass(
            Check::ExternalParameters,
            false,
            format!(
                "{WHAT} at /predicate/buildDefinition/externalParameters: unknown parameter(s) {} for {} (allowed: {}); a verifier cannot judge parameters it does not know",
                unknown.join(", "),
                def.build_type,
                allowed.join(", ")
            ),
        );
    }
    match source_of(p) {
        Err(e) => pass(Check::Source, false, e),
        Ok((repo, git_ref)) => match source_matches(&repo, &git_ref, policy.expected_source) {
            Ok(()) => pass(Check::Source, true, format!("{repo}@{git_ref}")),
            Err(e) => pass(Check::Source, false, e),
        },
    }
}

/// The (repository, ref) a provenance says it built: from `externalParameters` (per build
/// type), else from the first `git+` URI of `resolvedDependencies`.
fn source_of(p: &Provenance) -> Result<(String, String), String> {
    let ext = &p.build_definition.external_parameters;
    let from_ext = if p.build_definition.build_type == GITHUB_WORKFLOW_BUILD_TYPE {
        let w = ext.get("workflow");
        let repo = w.and_then(|w| w.get("repository")).and_then(Value::as_str);
        let r = w.and_then(|w| w.get("ref")).and_then(Value::as_str);
        repo.zip(r).map(|(a, b)| (a.to_owned(), b.to_owned()))
    } else {
        ext.get("source")
            .and_then(Value::as_str)
            .and_then(split_git_uri)
    };
    if let Some(s) = from_ext {
        return Ok(s);
    }
    p.build_definition
        .resolved_dependencies
        .iter()
        .find_map(|d| d.uri.starts_with("git+").then(|| split_git_uri(&d.uri)).flatten())
        .ok_or_else(|| {
            format!("{WHAT}: no source found (externalParameters.source / workflow.repository+ref, or a git+ URI with @ref in resolvedDependencies); the verifier cannot check where the artifact was built from")
        })
}

/// Splits `git+https://host/org/repo@refs/heads/main` into repository and ref. An `@` in the
/// authority (`git+ssh://git@host/...`) is not the ref separator.
pub fn split_git_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("git+").unwrap_or(uri);
    let path_start = rest.find("://").map(|i| i + 3).unwrap_or(0);
    let after_scheme = rest.get(path_start..)?;
    let slash = after_scheme.find('/')?;
    let path = after_scheme.get(slash..)?;
    let (p, r) = path.rsplit_once('@')?;
    let repo = format!("{}{}", rest.get(..path_start + slash)?, p);
    Some((repo, r.to_owned()))
}

/// `github.com/org/repo` from any of `https://github.com/Org/Repo.git`, `git+https://…`,
/// `ssh://git@github.com/org/repo`, `github.com/org/repo/`.
fn normalise_repo(repo: &str) -> String {
    let r = repo.trim().strip_prefix("git+").unwrap_or(repo.trim());
    let r = r.split_once("://").map(|(_, rest)| rest).unwrap_or(r);
    let r = r
        .split_once('@')
        .filter(|(user, _)| !user.contains('/'))
        .map(|(_, rest)| rest)
        .unwrap_or(r);
    let r = r.trim_end_matches('/');
    let r = r.strip_suffix(".git").unwrap_or(r);
    r.to_ascii_lowercase()
}

fn source_matches(repo: &str, git_ref: &str, expected: &SourceExpectation) -> Result<(), String> {
    if normalise_repo(repo) != normalise_repo(&expected.repository) {
        return Err(format!(
            "built from {repo} but the manifest's repository is {}; build from the manifest's repository or correct the manifest",
            expected.repository
        ));
    }
    if let Some(want) = &expected.git_ref {
        let ok = git_ref == want
            || git_ref == format!("refs/heads/{want}")
            || git_ref == format!("refs/tags/{want}");
        if !ok {
            return Err(format!(
                "built from ref {git_ref} but the manifest pins {want}"
            ));
        }
    }
    Ok(())
}

fn builder_level(
    id: &str,
    trusted: &[TrustedBuilder],
    pass: &mut impl FnMut(Check, bool, String),
) -> u8 {
    let found = trusted.iter().find(|b| {
        b.id == id
            || (!b.id.contains('@') && id.split_once('@').is_some_and(|(base, _)| base == b.id))
    });
    match found {
        Some(b) => {
            let level = b.level.clamp(1, 3);
            pass(
                Check::Builder,
                true,
                format!("{id} is trusted at SLSA build level {level}"),
            );
            level
        }
        None => {
            // Not a failure: untrusted builders still give level 1.
            pass(
                Check::Builder,
                true,
                format!("{id} is not in the org's trusted builders: SLSA build level 1"),
            );
            1
        }
    }
}
