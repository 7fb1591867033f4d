//! SPDX JSON (`SPDX-2.3`, and `SPDX-2.2`, which has the same shape for what is read here) into the
//! [`Sbom`] model.
//!
//! Read: `documentNamespace` (the serial); `packages` with `SPDXID`, `name`, `versionInfo`, the
//! `purl` external reference (`referenceType` `purl`, category `PACKAGE-MANAGER` or 2.2's
//! `PACKAGE_MANAGER`), `licenseConcluded` (else `licenseDeclared`), `checksums`, `supplier` and
//! `primaryPackagePurpose`; the `SPDXID`s of `files` and `snippets` (relationships may name them);
//! `documentDescribes` and the `relationships`. The one package the document describes
//! (`documentDescribes`, `DOCUMENT DESCRIBES X`, `X DESCRIBED_BY DOCUMENT`) is the subject; when
//! the document describes one file instead (cargo-sbom describes `Cargo.lock`), the one package
//! that file is `GENERATED_FROM` is, with a warning.
//! Dependency edges between packages: `A DEPENDS_ON B` and `A CONTAINS B` give A → B;
//! `A DEPENDENCY_OF B` (and its `DEV_`, `BUILD_`, `OPTIONAL_`, `PROVIDED_`, `TEST_`, `RUNTIME_`
//! forms) and `A CONTAINED_BY B` give B → A. Other relationship types are checked (their
//! endpoints must exist) but add no edge.
//!
//! Strict, since meaning would be lost: a field of the wrong JSON type, a package without `SPDXID`
//! or `name`, an `SPDXID` used twice, a relationship naming an element the document does not have,
//! a checksum that is not hex of its algorithm's length, a `purl` reference without locator.
//! Lenient, with a warning, where real tools differ from the spec but the meaning is clear: a
//! `created` timestamp with fractional seconds or an offset, a `licenseListVersion` that is not
//! `MAJOR.MINOR`, a `downloadLocation` that is not an SPDX download location (a registry URL such
//! as `registry+https://…`) or is missing, a missing `documentNamespace` or `creationInfo`, an
//! `SPDXID` without the `SPDXRef-` prefix, a second purl on one package (the first is kept), a
//! relationship to another document (`DocumentRef-…`, not followed), no single described package.
//! `NOASSERTION` and `NONE` are valid values, read as "nothing stated". Unknown fields are
//! ignored.

use super::error::SbomError;
use super::json::{child, index, shorten, Ctx};
use super::model::{Component, License, Sbom, SbomFormat};
use super::stream::read_top_level;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The SPDX versions read.
const SUPPORTED: [&str; 2] = ["SPDX-2.3", "SPDX-2.2"];

/// What an `SPDXID` names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Element {
    Document,
    /// A package, by its index in the components read.
    Package(usize),
    /// A file or snippet, by its index in the list of their ids.
    Other(usize),
}

/// Parses an SPDX document; `head` holds its `spdxVersion` and `SPDXID` (see
/// [`super::stream::peek`]). `packages`, `files`, `snippets` and `relationships` are streamed.
pub(crate) fn parse(
    ctx: &mut Ctx<'_>,
    bytes: &[u8],
    head: &Map<String, Value>,
) -> Result<Sbom, SbomError> {
    let version = ctx.req_str(head, "spdxVersion", "", "set `spdxVersion` to \"SPDX-2.3\"")?;
    if !SUPPORTED.contains(&version) {
        return Err(SbomError::Unsupported {
            file: ctx.file.to_owned(),
            pointer: "/spdxVersion".into(),
            message: format!(
                "SPDX version `{}` is not read (SPDX-2.3 and SPDX-2.2 are)",
                shorten(version)
            ),
            fix: "export the SBOM as SPDX 2.3 JSON (or as CycloneDX JSON 1.4 to 1.6)".into(),
        });
    }
    let mut ids: HashMap<String, (Element, String)> = HashMap::new();
    let doc_id = match ctx.opt_str(head, "SPDXID", "")? {
        Some(id) => id,
        None => {
            ctx.warn(
                "/SPDXID".into(),
                "no document `SPDXID`; read as `SPDXRef-DOCUMENT`",
            );
            "SPDXRef-DOCUMENT"
        }
    };
    ids.insert(doc_id.to_owned(), (Element::Document, "/SPDXID".into()));

    let mut components: Vec<Component> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    // (index in `relationships`, spdxElementId, relationshipType, relatedSpdxElement).
    let mut relationships: Vec<(usize, String, String, String)> = Vec::new();
    let file = ctx.file;
    let streamed = ["packages", "files", "snippets", "relationships"];
    let rest = {
        let mut on_item = |member: &'static str, i: usize, value: Value| {
            let pointer = index(&format!("/{member}"), i);
            match member {
                "packages" => {
                    let component = read_package(ctx, &value, &pointer)?;
                    let element = Element::Package(components.len());
                    let p = child(&pointer, "SPDXID");
                    register(ctx, &mut ids, &component.ref_id, element, p)?;
                    components.push(component);
                }
                "relationships" => {
                    let obj = ctx.object(&value, &pointer, "a relationship")?;
                    let fix = "a relationship has `spdxElementId`, `relationshipType` and `relatedSpdxElement`";
                    let from = ctx.req_str(obj, "spdxElementId", &pointer, fix)?;
                    let kind = ctx.req_str(obj, "relationshipType", &pointer, fix)?;
                    let to = ctx.req_str(obj, "relatedSpdxElement", &pointer, fix)?;
                    relationships.push((i, from.to_owned(), kind.to_owned(), to.to_owned()));
                }
                _ => {
                    let obj = ctx.object(&value, &pointer, "an SPDX element")?;
                    let fix = "give every element its `SPDXID`";
                    let id = ctx.req_str(obj, "SPDXID", &pointer, fix)?;
                    let element = Element::Other(others.len());
                    register(ctx, &mut ids, id, element, child(&pointer, "SPDXID"))?;
                    others.push(id.to_owned());
                }
            }
            Ok(())
        };
        read_top_level(file, bytes, &streamed, &mut on_item)?
    };

    let serial = ctx.opt_str(&rest, "documentNamespace", "")?;
    if serial.is_none() {
        ctx.warn(
            "/documentNamespace".into(),
            "no `documentNamespace` (SPDX requires one); the SBOM has no serial",
        );
    }
    check_creation_info(ctx, &rest)?;

    // The described elements, in the order first stated.
    let mut described: Vec<Element> = Vec::new();
    let mut describe = |e: Element| {
        if e != Element::Document && !described.contains(&e) {
            described.push(e);
        }
    };
    // (file or snippet, package) for `FILE GENERATED_FROM PACKAGE` and `PACKAGE GENERATES FILE`.
    let mut generated: Vec<(usize, usize)> = Vec::new();
    for (i, v) in ctx
        .opt_array(&rest, "documentDescribes", "")?
        .iter()
        .enumerate()
    {
        let p = index("/documentDescribes", i);
        let id = v.as_str().ok_or_else(|| {
            ctx.invalid(
                p.clone(),
                format!(
                    "a `documentDescribes` entry must be a string, not {}",
                    super::json::type_name(v)
                ),
                "list `SPDXID` strings in `documentDescribes`",
            )
        })?;
        if let Some(e) = resolve(ctx, &ids, id, p)? {
            describe(e);
        }
    }

    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, from_id, kind, to_id) in &relationships {
        let p = index("/relationships", *i);
        let from = resolve(ctx, &ids, from_id, child(&p, "spdxElementId"))?;
        let to = resolve(ctx, &ids, to_id, child(&p, "relatedSpdxElement"))?;
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        let kind = kind.to_ascii_uppercase();
        match (kind.as_str(), from, to) {
            ("DESCRIBES", Element::Document, e) | ("DESCRIBED_BY", e, Element::Document) => {
                describe(e)
            }
            ("DEPENDS_ON" | "CONTAINS", Element::Package(a), Element::Package(b)) => {
                add_edge(&mut graph, &components, a, b)
            }
            (k, Element::Package(a), Element::Package(b))
                if k == "CONTAINED_BY" || k.ends_with("DEPENDENCY_OF") =>
            {
                add_edge(&mut graph, &components, b, a)
            }
            ("GENERATED_FROM", Element::Other(f), Element::Package(p))
            | ("GENERATES", Element::Package(p), Element::Other(f)) => generated.push((f, p)),
            _ => {}
        }
    }

    let subject = choose_subject(ctx, &described, &generated, &others, &mut components);

    Ok(Sbom {
        format: SbomFormat::Spdx {
            version: version.to_owned(),
        },
        serial: serial.map(str::to_owned),
        subject,
        components,
        dependencies: graph,
        warnings: Vec::new(),
    })
}

/// The one described package; or, when a document describes only files (cargo-sbom describes
/// `Cargo.lock`), the one package those files were generated from, with a warning.
fn choose_subject(
    ctx: &mut Ctx<'_>,
    described: &[Element],
    generated: &[(usize, usize)],
    others: &[String],
    components: &mut Vec<Component>,
) -> Option<Component> {
    let packages: Vec<usize> = described
        .iter()
        .filter_map(|e| match e {
            Element::Package(i) => Some(*i),
            _ => None,
        })
        .collect();
    let files: Vec<usize> = described
        .iter()
        .filter_map(|e| match e {
            Element::Other(i) => Some(*i),
            _ => None,
        })
        .collect();
    match packages.as_slice() {
        [one] if *one < components.len() => Some(components.remove(*one)),
        [] => {
            let mut sources: Vec<usize> = generated
                .iter()
                .filter(|(f, _)| files.contains(f))
                .map(|(_, p)| *p)
                .collect();
            sources.sort_unstable();
            sources.dedup();
            match (files.as_slice(), sources.as_slice()) {
                ([file], [p]) if *p < components.len() => {
                    let subject = components.remove(*p);
                    ctx.warn(
                        "/relationships".into(),
                        format!(
                            "the document describes `{}`, not a package; the package it was generated from, `{}`, is taken as the subject",
                            others.get(*file).map(String::as_str).unwrap_or_default(),
                            subject.ref_id
                        ),
                    );
                    Some(subject)
                }
                _ => {
                    ctx.warn(
                        "/relationships".into(),
                        "the document describes no package (no `documentDescribes`, no DESCRIBES relationship naming a package); the SBOM has no subject",
                    );
                    None
                }
            }
        }
        many => {
            ctx.warn(
                "/relationships".into(),
                format!(
                    "the document describes {} packages; the SBOM has no single subject",
                    many.len()
                ),
            );
            None
        }
    }
}

fn add_edge(
    graph: &mut BTreeMap<String, BTreeSet<String>>,
    components: &[Component],
    from: usize,
    to: usize,
) {
    if let (Some(a), Some(b)) = (components.get(from), components.get(to)) {
        graph
            .entry(a.ref_id.clone())
            .or_default()
            .insert(b.ref_id.clone());
    }
}

fn register(
    ctx: &mut Ctx<'_>,
    ids: &mut HashMap<String, (Element, String)>,
    id: &str,
    element: Element,
    pointer: String,
) -> Result<(), SbomError> {
    if let Some((_, first)) = ids.get(id) {
        return Err(SbomError::Duplicate {
            file: ctx.file.to_owned(),
            pointer,
            field: "SPDXID",
            id: id.to_owned(),
            first: first.clone(),
        });
    }
    if !id.starts_with("SPDXRef-") {
        ctx.warn(
            pointer.clone(),
            format!(
                "`{}` does not start with `SPDXRef-` as SPDX requires; read as written",
                shorten(id)
            ),
        );
    }
    ids.insert(id.to_owned(), (element, pointer));
    Ok(())
}

/// What a relationship endpoint names: `None` for `NONE`, `NOASSERTION` and elements of other
/// documents (`DocumentRef-…`, with a warning); an error for an id the document lacks.
fn resolve(
    ctx: &mut Ctx<'_>,
    ids: &HashMap<String, (Element, String)>,
    id: &str,
    pointer: String,
) -> Result<Option<Element>, SbomError> {
    if let Some((e, _)) = ids.get(id) {
        return Ok(Some(*e));
    }
    if id == "NONE" || id == "NOASSERTION" {
        return Ok(None);
    }
    if id.starts_with("DocumentRef-") {
        ctx.warn(
            pointer,
            format!(
                "`{}` is an element of another document; not followed",
                shorten(id)
            ),
        );
        return Ok(None);
    }
    Err(SbomError::DanglingReference {
        file: ctx.file.to_owned(),
        pointer,
        reference: id.to_owned(),
        field: "SPDXID",
        what: "package, file or snippet",
        fix: "add the element, refer to it as `DocumentRef-<doc>:<id>` if another document has it, or remove the relationship",
    })
}

fn read_package(ctx: &mut Ctx<'_>, value: &Value, pointer: &str) -> Result<Component, SbomError> {
    let obj = ctx.object(value, pointer, "a package")?;
    let id = ctx.req_str(
        obj,
        "SPDXID",
        pointer,
        "give every package its `SPDXID` (`SPDXRef-…`)",
    )?;
    let name = ctx.req_str(obj, "name", pointer, "give every package its `name`")?;

    let mut purl: Option<&str> = None;
    let base = child(pointer, "externalRefs");
    for (i, r) in ctx
        .opt_array(obj, "externalRefs", pointer)?
        .iter()
        .enumerate()
    {
        let p = index(&base, i);
        let r = ctx.object(r, &p, "an external reference")?;
        let kind = ctx.opt_str(r, "referenceType", &p)?;
        let category = ctx.opt_str(r, "referenceCategory", &p)?;
        if kind != Some("purl") {
            continue;
        }
        if let Some(c) = category.filter(|c| !matches!(*c, "PACKAGE-MANAGER" | "PACKAGE_MANAGER")) {
            ctx.warn(
                child(&p, "referenceCategory"),
                format!("a purl reference of category `{}` (SPDX wants PACKAGE-MANAGER); read as a purl", shorten(c)),
            );
        }
        let locator = ctx.req_str(
            r,
            "referenceLocator",
            &p,
            "give the package URL in `referenceLocator`",
        )?;
        match purl {
            None => purl = Some(locator),
            Some(first) if first == locator => {}
            Some(first) => ctx.warn(
                child(&p, "referenceLocator"),
                format!(
                    "a second purl `{}`; the first, `{}`, is kept",
                    shorten(locator),
                    shorten(first)
                ),
            ),
        }
    }
    if let Some(p) = purl {
        if !super::cyclonedx::looks_like_purl(p) {
            ctx.warn(
                base.clone(),
                format!(
                    "`{}` is not a package URL (pkg:TYPE/NAME@VERSION); kept as written",
                    shorten(p)
                ),
            );
        }
    }

    let mut licenses = Vec::new();
    for key in ["licenseConcluded", "licenseDeclared"] {
        if let Some(l) = ctx.opt_str(obj, key, pointer)? {
            let l = l.trim();
            if !(l.is_empty() || l == "NOASSERTION" || l == "NONE") {
                licenses.push(classify_license(l));
                break;
            }
        }
    }

    let mut hashes = Vec::new();
    let base = child(pointer, "checksums");
    for (i, c) in ctx.opt_array(obj, "checksums", pointer)?.iter().enumerate() {
        let p = index(&base, i);
        let c = ctx.object(c, &p, "a checksum")?;
        let alg = ctx.req_str(c, "algorithm", &p, "name the algorithm, e.g. \"SHA256\"")?;
        let v = ctx.req_str(c, "checksumValue", &p, "give the digest in `checksumValue`")?;
        hashes.push(ctx.hash(alg, v, child(&p, "checksumValue"))?);
    }

    match ctx.opt_str(obj, "downloadLocation", pointer)? {
        None => ctx.warn(
            child(pointer, "downloadLocation"),
            "no `downloadLocation` (SPDX requires one; NOASSERTION says it is unknown)",
        ),
        Some(l) if !is_download_location(l) => ctx.warn(
            child(pointer, "downloadLocation"),
            format!("`{}` is not an SPDX download location (a URL, a VCS location, NONE or NOASSERTION); ignored", shorten(l)),
        ),
        Some(_) => {}
    }

    let supplier = ctx.opt_str(obj, "supplier", pointer)?.and_then(|s| {
        let s = s.trim();
        let name = ["Organization:", "Person:", "Tool:"]
            .iter()
            .find_map(|prefix| s.strip_prefix(prefix))
            .unwrap_or(s)
            .trim();
        (!name.is_empty() && name != "NOASSERTION").then(|| name.to_owned())
    });

    Ok(Component {
        ref_id: id.to_owned(),
        name: name.to_owned(),
        version: ctx.opt_str(obj, "versionInfo", pointer)?.map(str::to_owned),
        purl: purl.map(str::to_owned),
        licenses,
        hashes,
        kind: ctx
            .opt_str(obj, "primaryPackagePurpose", pointer)?
            .map(str::to_ascii_lowercase),
        supplier,
        parent: None,
    })
}

/// A single license identifier, or an expression when it has operators or parentheses.
fn classify_license(l: &str) -> License {
    if l.contains(char::is_whitespace) || l.contains('(') {
        License::Expression(l.to_owned())
    } else {
        License::Id(l.to_owned())
    }
}

/// SPDX 2.3's download location: `NONE`, `NOASSERTION`, or a URL or VCS location
/// (`[git|hg|svn|bzr+]scheme://…`, `git+git@host:path`).
fn is_download_location(l: &str) -> bool {
    if l == "NONE" || l == "NOASSERTION" || l.starts_with("git+git@") {
        return true;
    }
    let rest = ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .find_map(|p| l.strip_prefix(p))
        .unwrap_or(l);
    [
        "http://", "https://", "ssh://", "svn://", "git://", "sftp://", "ftp://",
    ]
    .iter()
    .any(|s| rest.len() > s.len() && rest.starts_with(s))
}

fn check_creation_info(ctx: &mut Ctx<'_>, root: &Map<String, Value>) -> Result<(), SbomError> {
    let Some(info) = ctx.opt_object(root, "creationInfo", "")? else {
        ctx.warn(
            "/creationInfo".into(),
            "no `creationInfo` (SPDX requires `created` and `creators`)",
        );
        return Ok(());
    };
    match ctx.opt_str(info, "created", "/creationInfo")? {
        None => ctx.warn(
            "/creationInfo/created".into(),
            "no `created` timestamp (SPDX requires one)",
        ),
        Some(t) => {
            if let Some(problem) = timestamp_problem(t) {
                ctx.warn("/creationInfo/created".into(), problem);
            }
        }
    }
    if let Some(v) = ctx.opt_str(info, "licenseListVersion", "/creationInfo")? {
        let ok = v
            .split_once('.')
            .is_some_and(|(a, b)| is_digits(a) && is_digits(b));
        if !ok {
            ctx.warn(
                "/creationInfo/licenseListVersion".into(),
                format!(
                    "`{}` is not a license list version (MAJOR.MINOR, e.g. 3.23); ignored",
                    shorten(v)
                ),
            );
        }
    }
    Ok(())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// What is wrong with an SPDX timestamp (`YYYY-MM-DDThh:mm:ssZ`), if anything.
fn timestamp_problem(t: &str) -> Option<String> {
    let shape_ok = |s: &str| {
        s.len() == 19
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                _ => b.is_ascii_digit(),
            })
    };
    let (head, tail) = (t.get(..19).unwrap_or(t), t.get(19..).unwrap_or(""));
    if !shape_ok(head) {
        return Some(format!(
            "`{}` is not a timestamp (SPDX wants YYYY-MM-DDThh:mm:ssZ); ignored",
            shorten(t)
        ));
    }
    if tail == "Z" {
        return None;
    }
    let fraction = tail
        .strip_prefix('.')
        .and_then(|f| f.strip_suffix('Z'))
        .is_some_and(is_digits);
    Some(if fraction {
        format!(
            "`{t}` has fractional seconds (SPDX wants YYYY-MM-DDThh:mm:ssZ); read to the second"
        )
    } else {
        format!(
            "`{}` is not in UTC `Z` form (SPDX wants YYYY-MM-DDThh:mm:ssZ); ignored",
            shorten(t)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp_problem("2024-01-02T03:04:05Z"), None);
        assert!(timestamp_problem("2024-01-02T03:04:05.123Z")
            .unwrap()
            .contains("fractional"));
        assert!(timestamp_problem("2024-01-02T03:04:05+01:00")
            .unwrap()
            .contains("UTC"));
        assert!(timestamp_problem("yesterday")
            .unwrap()
            .contains("not a timestamp"));
        assert!(timestamp_problem("").unwrap().contains("not a timestamp"));
    }

    #[test]
    fn download_locations() {
        for ok in [
            "NOASSERTION",
            "NONE",
            "https://registry.npmjs.org/x/-/x-1.0.0.tgz",
            "git+https://github.com/a/b.git",
            "git+git@github.com:a/b.git",
        ] {
            assert!(is_download_location(ok), "{ok}");
        }
        for bad in [
            "registry+https://github.com/rust-lang/crates.io-index",
            "",
            "https://",
            "crates.io",
        ] {
            assert!(!is_download_location(bad), "{bad}");
        }
    }

    #[test]
    fn licenses_are_ids_or_expressions() {
        assert_eq!(classify_license("MIT"), License::Id("MIT".into()));
        assert_eq!(
            classify_license("MIT OR Apache-2.0"),
            License::Expression("MIT OR Apache-2.0".into())
        );
    }
}
