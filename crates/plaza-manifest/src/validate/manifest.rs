//! The top level of the manifest: identity, runtime and listing fields; the nested sections
//! are in [`super::sections`].

use crate::diagnostic::Code;
use crate::node::{Node, Path};
use crate::schema::{
    Category, Keyword, Manifest, Runtime, Visibility, SUPPORTED_MANIFEST_VERSIONS,
};

use super::reader::{self, Cx, Fields, Seen};
use super::{license, sections, suggest, text};

/// Every top-level field, in documentation order.
pub const ROOT_FIELDS: &[&str] = &[
    "manifestVersion",
    "id",
    "version",
    "name",
    "description",
    "entry",
    "runtime",
    "runtimeVersion",
    "visibility",
    "categories",
    "tags",
    "license",
    "homepage",
    "repository",
    "permissions",
    "egress",
    "resources",
    "healthcheck",
    "sbom",
    "provenance",
    "billing",
    "contact",
    "maintainers",
];

fn root_special(key: &str) -> Option<String> {
    match key {
        "apiVersion" | "kind" | "schemaVersion" | "version_" => Some(
            "Plaza manifests declare their format with `manifestVersion: v1` (optional)".into(),
        ),
        "<<" => Some("YAML merge keys are not supported (YAML 1.2); write the fields out".into()),
        _ => None,
    }
}

/// Special unknown-field hints inside nested maps.
pub fn nested_special(key: &str) -> Option<String> {
    (key == "<<")
        .then(|| "YAML merge keys are not supported (YAML 1.2); write the fields out".into())
}

/// Reads the whole manifest.
pub fn read(cx: &mut Cx<'_>, root: &Node) -> Option<Manifest> {
    let f = Fields::open(cx, root, Path::root())?;
    let manifest_version = manifest_version(cx, &f)?;
    f.check_unknown(cx, ROOT_FIELDS, root_special);

    let id = f.required(cx, "id", "com.example.my-app").and_then(|n| {
        let p = f.path("id");
        let s = reader::text(cx, n, &p, 255)?;
        cx.check(Code::InvalidId, n, &p, text::app_id(s))?;
        Some(s.to_owned())
    });
    let version = f
        .required(cx, "version", "\"1.0.0\"")
        .and_then(|n| version(cx, n, &f.path("version")));
    let name = f.required(cx, "name", "My App").and_then(|n| {
        let p = f.path("name");
        let s = reader::text(cx, n, &p, 64)?;
        cx.check(Code::InvalidName, n, &p, text::display_name(s))?;
        Some(s.to_owned())
    });
    let description = opt_text(cx, &f, "description", 2000);
    let entry = f.required(cx, "entry", "/app/index.wasm").and_then(|n| {
        let p = f.path("entry");
        let s = reader::text(cx, n, &p, 1024)?;
        cx.check(Code::InvalidEntry, n, &p, text::package_path(s))?;
        Some(s.to_owned())
    });
    let runtime = f
        .required(cx, "runtime", "wasm")
        .and_then(|n| reader::keyword::<Runtime>(cx, n, &f.path("runtime"), "runtime"));
    let runtime_version = f.required(cx, "runtimeVersion", "wasi-1.0").and_then(|n| {
        let p = f.path("runtimeVersion");
        let s = reader::string(cx, n, &p)?;
        let rt = runtime?;
        if !rt.versions().contains(&s) {
            cx.report(
                Code::UnknownValue,
                n.pos,
                &p,
                format!(
                    "runtimeVersion `{s}` is not supported for runtime `{rt}`; expected one of: {}",
                    suggest::list(rt.versions())
                ),
                suggest::did_you_mean(s, rt.versions().iter().copied())
                    .map(|m| format!("did you mean `{m}`?")),
            );
            return None;
        }
        Some(s.to_owned())
    });
    let visibility = match f.get("visibility") {
        None => Some(Visibility::default()),
        Some(n) => reader::keyword::<Visibility>(cx, n, &f.path("visibility"), "visibility"),
    };
    let categories = categories(cx, &f);
    let tags = string_list(cx, &f, "tags", 20, Code::InvalidTag, text::tag);
    let license = f
        .get("license")
        .and_then(|n| license(cx, n, &f.path("license")));
    let homepage = url_field(cx, &f, "homepage");
    let repository = url_field(cx, &f, "repository");
    let permissions = sections::permissions(cx, &f);
    let egress = sections::egress(cx, &f);
    let resources = sections::resources(cx, &f);
    let healthcheck = sections::healthcheck(cx, &f);
    let sbom = f.get("sbom").and_then(|n| {
        let p = f.path("sbom");
        let s = reader::text(cx, n, &p, 2048)?;
        cx.check(Code::InvalidReference, n, &p, text::sbom_reference(s))?;
        if text::is_insecure_url(s) {
            insecure(cx, n, &p, s);
        }
        Some(s.to_owned())
    });
    let provenance = sections::provenance(cx, &f);
    let billing = sections::billing(cx, &f);
    let contact = sections::contact(cx, &f);
    let maintainers = string_list(cx, &f, "maintainers", 20, Code::InvalidIdentity, |s| {
        text::identity(s, false)
    });

    for (key, hint) in [
        (
            "description",
            "add a short `description`; the marketplace shows it in listings and search",
        ),
        (
            "license",
            "add an SPDX `license`, e.g. `Apache-2.0` or `LicenseRef-Proprietary`",
        ),
        (
            "contact",
            "add `contact.email` so reviewers and users can reach the owners",
        ),
    ] {
        if f.get(key).is_none() {
            cx.report(
                Code::MissingRecommendedField,
                root.pos,
                &Path::root(),
                format!("manifest has no `{key}`"),
                Some(hint.into()),
            );
        }
    }

    Some(Manifest {
        manifest_version,
        id: id?,
        version: version?,
        name: name?,
        description: description?,
        entry: entry?,
        runtime: runtime?,
        runtime_version: runtime_version?,
        visibility: visibility?,
        categories: categories?,
        tags: tags?,
        license,
        homepage: homepage?,
        repository: repository?,
        permissions: permissions?,
        egress: egress?,
        resources: resources?,
        healthcheck: healthcheck?,
        sbom,
        provenance: provenance?,
        billing: billing?,
        contact: contact?,
        maintainers: maintainers?,
    })
}

/// `manifestVersion`: checked first, because an unsupported version makes every other rule
/// meaningless.
fn manifest_version(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<String> {
    let Some(n) = f.get("manifestVersion") else {
        return Some(crate::schema::MANIFEST_VERSION_V1.to_owned());
    };
    let p = f.path("manifestVersion");
    let s = match &n.value {
        crate::node::Value::Str(s) => s,
        _ => {
            cx.wrong_type(
                n,
                &p,
                "a string",
                Some("write `manifestVersion: v1`".into()),
            );
            return None;
        }
    };
    if !SUPPORTED_MANIFEST_VERSIONS.contains(&s.as_str()) {
        cx.report(
            Code::UnsupportedManifestVersion,
            n.pos,
            &p,
            format!(
                "manifest version `{s}` is not supported; supported versions: {}",
                suggest::list(SUPPORTED_MANIFEST_VERSIONS)
            ),
            Some("write `manifestVersion: v1`, or upgrade Plaza if the manifest needs a newer version".into()),
        );
        return None;
    }
    Some(s.clone())
}

fn version(cx: &mut Cx<'_>, n: &Node, p: &Path) -> Option<String> {
    let s = reader::text(cx, n, p, 256)?;
    match semver::Version::parse(s) {
        Ok(_) => Some(s.to_owned()),
        Err(e) => {
            let stripped = s.strip_prefix(['v', 'V']).unwrap_or(s);
            let hint = if stripped != s && semver::Version::parse(stripped).is_ok() {
                format!("remove the leading `v`: `{stripped}`")
            } else if !s.is_empty()
                && s.split('.').count() < 3
                && s.split('.').all(|x| x.parse::<u64>().is_ok())
            {
                let mut parts: Vec<&str> = s.split('.').collect();
                parts.resize(3, "0");
                format!(
                    "SemVer needs three numbers MAJOR.MINOR.PATCH: `{}`",
                    parts.join(".")
                )
            } else {
                "use SemVer 2.0, e.g. `1.2.0` or `2.0.0-rc.1`".to_owned()
            };
            cx.report(
                Code::InvalidVersion,
                n.pos,
                p,
                format!("version `{s}` is not valid SemVer 2.0: {e}"),
                Some(hint),
            );
            None
        }
    }
}

/// An optional free-text field. `None` = invalid, `Some(None)` = absent.
pub fn opt_text(cx: &mut Cx<'_>, f: &Fields<'_>, key: &str, max: usize) -> Option<Option<String>> {
    match f.get(key) {
        None => Some(None),
        Some(n) => reader::text(cx, n, &f.path(key), max).map(|s| Some(s.to_owned())),
    }
}

fn insecure(cx: &mut Cx<'_>, n: &Node, p: &Path, s: &str) {
    cx.report(
        Code::InsecureUrl,
        n.pos,
        p,
        format!("`{p}` uses plain http: `{s}`"),
        Some(format!("use `https://{}`", s.trim_start_matches("http://"))),
    );
}

/// An optional http(s) URL field. `None` = invalid, `Some(None)` = absent.
pub fn url_field(cx: &mut Cx<'_>, f: &Fields<'_>, key: &str) -> Option<Option<String>> {
    let Some(n) = f.get(key) else {
        return Some(None);
    };
    let p = f.path(key);
    let s = reader::text(cx, n, &p, 2048)?;
    cx.check(Code::InvalidUrl, n, &p, text::http_url(s))?;
    if text::is_insecure_url(s) {
        insecure(cx, n, &p, s);
    }
    Some(Some(s.to_owned()))
}

fn license(cx: &mut Cx<'_>, n: &Node, p: &Path) -> Option<String> {
    let s = reader::text(cx, n, p, 1000)?;
    match license::check(s) {
        Err(e) => {
            cx.report(
                Code::InvalidLicense,
                n.pos,
                p,
                format!(
                    "`{s}` is not a valid SPDX license expression: {}",
                    e.message
                ),
                e.hint,
            );
            None
        }
        Ok(unknown) => {
            for u in unknown {
                let what = if u.exception {
                    "license exception"
                } else {
                    "license identifier"
                };
                let hint = match u.suggestion {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => "check the SPDX license list (https://spdx.org/licenses/), or use `LicenseRef-<name>` for a custom license".into(),
                };
                cx.report(
                    Code::UnknownLicense,
                    n.pos,
                    p,
                    format!("`{}` is not a known SPDX {what}", u.id),
                    Some(hint),
                );
            }
            Some(s.to_owned())
        }
    }
}

fn categories(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<Vec<Category>> {
    let Some(n) = f.get("categories") else {
        return Some(Vec::new());
    };
    let p = f.path("categories");
    let items = reader::list(cx, n, &p, 3)?;
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        let Some(c) = reader::keyword::<Category>(cx, item, &ip, "category") else {
            continue;
        };
        if let Some(first) = seen.first(c.as_str(), item.pos) {
            duplicate(cx, item, &ip, c.as_str(), "categories", first);
            continue;
        }
        out.push(c);
    }
    Some(out)
}

/// Reports `duplicate-entry`.
pub fn duplicate(
    cx: &mut Cx<'_>,
    n: &Node,
    p: &Path,
    value: &str,
    list: &str,
    first: crate::node::Pos,
) {
    cx.report(
        Code::DuplicateEntry,
        n.pos,
        p,
        format!("`{value}` appears twice in `{list}` (first at {first})"),
        Some("remove the duplicate".into()),
    );
}

/// A list of distinct strings, each checked by `rule`.
pub fn string_list(
    cx: &mut Cx<'_>,
    f: &Fields<'_>,
    key: &str,
    max: usize,
    code: Code,
    rule: impl Fn(&str) -> Result<(), crate::error::Invalid>,
) -> Option<Vec<String>> {
    let Some(n) = f.get(key) else {
        return Some(Vec::new());
    };
    let p = f.path(key);
    let items = reader::list(cx, n, &p, max)?;
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        let Some(s) = reader::text(cx, item, &ip, 256) else {
            continue;
        };
        if cx.check(code, item, &ip, rule(s)).is_none() {
            continue;
        }
        if let Some(first) = seen.first(s, item.pos) {
            duplicate(cx, item, &ip, s, &p.to_string(), first);
            continue;
        }
        out.push(s.to_owned());
    }
    Some(out)
}
