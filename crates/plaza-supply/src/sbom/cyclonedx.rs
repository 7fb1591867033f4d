//! CycloneDX JSON (spec versions 1.4, 1.5 and 1.6) into the [`Sbom`] model.
//!
//! Read: `serialNumber`; `metadata.component` (the subject); `components`, with components nested
//! in components flattened depth first, a parent before its children (each child records its
//! parent), then the components nested in the subject; `services` (only
//! their `bom-ref`s, so that dependencies may name them); `dependencies[].ref` and
//! `dependsOn`. For each component: `bom-ref`, `name`, `version`, `purl` (exactly as written),
//! `type`, `supplier.name`, `licenses` (`license.id`, `license.name`, `expression`) and `hashes`.
//!
//! Strict, since meaning would be lost: a field of the wrong JSON type, a component without a
//! name, a digest that is not hex of its algorithm's length, a `bom-ref` used twice, a dependency
//! naming a `bom-ref` that nothing in the document has, components nested more than
//! [`MAX_COMPONENT_DEPTH`] deep. Lenient, with a warning: a newer 1.x `specVersion` (CycloneDX
//! minor versions only add fields), a `purl` that does not look like a package URL (kept as
//! written), an empty `bom-ref`, a license entry with neither id, name nor expression. Unknown
//! fields are ignored.

use super::detect::MAX_COMPONENT_DEPTH;
use super::error::SbomError;
use super::json::{child, index, shorten, Ctx};
use super::model::{Component, License, Sbom, SbomFormat};
use super::stream::read_top_level;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The spec versions read without a warning.
const SUPPORTED: [&str; 3] = ["1.4", "1.5", "1.6"];

/// Parses a CycloneDX document; `head` holds its `bomFormat` and `specVersion` (see
/// [`super::stream::peek`]). `components` and `dependencies` are streamed.
pub(crate) fn parse(
    ctx: &mut Ctx<'_>,
    bytes: &[u8],
    head: &Map<String, Value>,
) -> Result<Sbom, SbomError> {
    let bom_format = ctx.req_str(head, "bomFormat", "", "set `bomFormat` to \"CycloneDX\"")?;
    if bom_format != "CycloneDX" {
        return Err(SbomError::Unsupported {
            file: ctx.file.to_owned(),
            pointer: "/bomFormat".into(),
            message: format!("`bomFormat` is `{}`, not `CycloneDX`", shorten(bom_format)),
            fix: "only CycloneDX JSON documents have a `bomFormat`; set it to \"CycloneDX\"".into(),
        });
    }
    let spec_version = ctx.req_str(
        head,
        "specVersion",
        "",
        "add the CycloneDX version the document follows, e.g. \"specVersion\": \"1.6\"",
    )?;
    check_spec_version(ctx, spec_version)?;

    let mut refs: HashMap<String, String> = HashMap::new();
    let mut components = Vec::new();
    // (index in `dependencies`, ref, dependsOn), checked once every bom-ref is known.
    let mut deps: Vec<(usize, String, Vec<String>)> = Vec::new();
    let file = ctx.file;
    let rest = {
        let mut on_item = |member: &'static str, i: usize, value: Value| {
            if member == "components" {
                let pointer = index("/components", i);
                read_tree(ctx, &value, pointer, 1, None, &mut refs, &mut components)
            } else {
                let (from, to) = read_dependency(ctx, &value, i)?;
                deps.push((i, from, to));
                Ok(())
            }
        };
        read_top_level(file, bytes, &["components", "dependencies"], &mut on_item)?
    };

    let mut subject = None;
    if let Some(metadata) = ctx.opt_object(&rest, "metadata", "")? {
        if let Some(value) = metadata.get("component").filter(|v| !v.is_null()) {
            let pointer = "/metadata/component";
            let (component, children) = read_component(ctx, value, pointer, None, &mut refs)?;
            let base = child(pointer, "components");
            for (i, value) in children.iter().enumerate() {
                let parent = Some(component.ref_id.clone());
                let p = index(&base, i);
                read_tree(ctx, value, p, 2, parent, &mut refs, &mut components)?;
            }
            subject = Some(component);
        }
    }

    read_services(ctx, &rest, &mut refs)?;
    let dependencies = check_dependencies(ctx, deps, &refs)?;

    Ok(Sbom {
        format: SbomFormat::CycloneDx {
            spec_version: spec_version.to_owned(),
        },
        serial: ctx.opt_str(&rest, "serialNumber", "")?.map(str::to_owned),
        subject,
        components,
        dependencies,
        warnings: Vec::new(),
    })
}

/// A component and the components nested in it, depth first, parents before children, into
/// `out`; `depth` is the component's own nesting depth (1 at the top level).
fn read_tree(
    ctx: &mut Ctx<'_>,
    value: &Value,
    pointer: String,
    depth: usize,
    parent: Option<String>,
    refs: &mut HashMap<String, String>,
    out: &mut Vec<Component>,
) -> Result<(), SbomError> {
    // Components still to read, in reverse document order (a stack), with their nesting depth.
    let mut pending: Pending<'_> = vec![(value, pointer, depth, parent)];
    while let Some((value, pointer, depth, parent)) = pending.pop() {
        if depth > MAX_COMPONENT_DEPTH {
            return Err(SbomError::NestingTooDeep {
                file: ctx.file.to_owned(),
                pointer,
                limit: MAX_COMPONENT_DEPTH,
            });
        }
        let (component, children) = read_component(ctx, value, &pointer, parent, refs)?;
        push_children(
            &mut pending,
            children,
            &pointer,
            depth + 1,
            &component.ref_id,
        );
        out.push(component);
    }
    Ok(())
}

fn check_spec_version(ctx: &mut Ctx<'_>, v: &str) -> Result<(), SbomError> {
    if SUPPORTED.contains(&v) {
        return Ok(());
    }
    let minor = v.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok());
    match minor {
        Some(m) if m > 6 => {
            ctx.warn(
                "/specVersion".into(),
                format!("CycloneDX {v} is newer than 1.6; read as 1.6 (fields added since are ignored)"),
            );
            Ok(())
        }
        _ => Err(SbomError::Unsupported {
            file: ctx.file.to_owned(),
            pointer: "/specVersion".into(),
            message: format!("CycloneDX `specVersion` `{}` is not read (1.4, 1.5 and 1.6 are)", shorten(v)),
            fix: "regenerate the SBOM with CycloneDX 1.4 or later (most tools have a `--spec-version` option)".into(),
        }),
    }
}

type Pending<'v> = Vec<(&'v Value, String, usize, Option<String>)>;

fn push_children<'v>(
    pending: &mut Pending<'v>,
    children: &'v [Value],
    pointer: &str,
    depth: usize,
    parent: &str,
) {
    let base = child(pointer, "components");
    for (i, value) in children.iter().enumerate().rev() {
        pending.push((value, index(&base, i), depth, Some(parent.to_owned())));
    }
}

/// Registers a `bom-ref`, failing when another component or service already has it.
fn register(
    ctx: &Ctx<'_>,
    refs: &mut HashMap<String, String>,
    id: &str,
    pointer: String,
) -> Result<(), SbomError> {
    if let Some(first) = refs.get(id) {
        return Err(SbomError::Duplicate {
            file: ctx.file.to_owned(),
            pointer,
            field: "bom-ref",
            id: id.to_owned(),
            first: first.clone(),
        });
    }
    refs.insert(id.to_owned(), pointer);
    Ok(())
}

/// One component, and its nested `components` (not yet read).
fn read_component<'v>(
    ctx: &mut Ctx<'_>,
    value: &'v Value,
    pointer: &str,
    parent: Option<String>,
    refs: &mut HashMap<String, String>,
) -> Result<(Component, &'v [Value]), SbomError> {
    let obj = ctx.object(value, pointer, "a component")?;
    let name = ctx.req_str(obj, "name", pointer, "give every component its `name`")?;
    let ref_id = match ctx.opt_str(obj, "bom-ref", pointer)? {
        Some("") => {
            ctx.warn(
                child(pointer, "bom-ref"),
                "empty `bom-ref` (the schema wants at least one character); read as absent",
            );
            format!("#{pointer}")
        }
        Some(r) => {
            register(ctx, refs, r, child(pointer, "bom-ref"))?;
            r.to_owned()
        }
        None => format!("#{pointer}"),
    };
    let purl = ctx.opt_str(obj, "purl", pointer)?;
    if let Some(p) = purl {
        if !looks_like_purl(p) {
            ctx.warn(
                child(pointer, "purl"),
                format!(
                    "`{}` is not a package URL (pkg:TYPE/NAME@VERSION); kept as written",
                    shorten(p)
                ),
            );
        }
    }
    let supplier = match ctx.opt_object(obj, "supplier", pointer)? {
        Some(s) => ctx
            .opt_str(s, "name", &child(pointer, "supplier"))?
            .map(str::to_owned),
        None => None,
    };
    let component = Component {
        ref_id,
        name: name.to_owned(),
        version: ctx.opt_str(obj, "version", pointer)?.map(str::to_owned),
        purl: purl.map(str::to_owned),
        licenses: read_licenses(ctx, obj, pointer)?,
        hashes: read_hashes(ctx, obj, pointer)?,
        kind: ctx.opt_str(obj, "type", pointer)?.map(str::to_owned),
        supplier,
        parent,
    };
    let children = ctx.opt_array(obj, "components", pointer)?;
    Ok((component, children))
}

/// `pkg:` (any case, as the purl spec allows) followed by a type and a `/`.
pub(crate) fn looks_like_purl(p: &str) -> bool {
    p.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("pkg:"))
        && p.get(4..)
            .and_then(|rest| rest.trim_start_matches('/').split_once('/'))
            .is_some_and(|(ty, name)| !ty.is_empty() && !name.is_empty())
}

fn read_licenses(
    ctx: &mut Ctx<'_>,
    obj: &Map<String, Value>,
    pointer: &str,
) -> Result<Vec<License>, SbomError> {
    let base = child(pointer, "licenses");
    let mut out = Vec::new();
    for (i, entry) in ctx.opt_array(obj, "licenses", pointer)?.iter().enumerate() {
        let p = index(&base, i);
        let entry = ctx.object(entry, &p, "a license entry")?;
        if let Some(e) = ctx.opt_str(entry, "expression", &p)? {
            out.push(License::Expression(e.to_owned()));
        } else if let Some(lic) = ctx.opt_object(entry, "license", &p)? {
            let lp = child(&p, "license");
            if let Some(id) = ctx.opt_str(lic, "id", &lp)? {
                out.push(License::Id(id.to_owned()));
            } else if let Some(name) = ctx.opt_str(lic, "name", &lp)? {
                out.push(License::Name(name.to_owned()));
            } else {
                ctx.warn(lp, "a license with neither `id` nor `name`; ignored");
            }
        } else {
            ctx.warn(
                p,
                "a license entry with neither `license` nor `expression`; ignored",
            );
        }
    }
    Ok(out)
}

fn read_hashes(
    ctx: &mut Ctx<'_>,
    obj: &Map<String, Value>,
    pointer: &str,
) -> Result<Vec<super::model::Hash>, SbomError> {
    let base = child(pointer, "hashes");
    let mut out = Vec::new();
    for (i, entry) in ctx.opt_array(obj, "hashes", pointer)?.iter().enumerate() {
        let p = index(&base, i);
        let entry = ctx.object(entry, &p, "a hash")?;
        let alg = ctx.req_str(
            entry,
            "alg",
            &p,
            "name the hash algorithm, e.g. \"SHA-256\"",
        )?;
        let content = ctx.req_str(entry, "content", &p, "give the digest in `content`")?;
        out.push(ctx.hash(alg, content, child(&p, "content"))?);
    }
    Ok(out)
}

/// Registers the `bom-ref` of every service (nested ones too): dependencies may name services.
fn read_services(
    ctx: &mut Ctx<'_>,
    root: &Map<String, Value>,
    refs: &mut HashMap<String, String>,
) -> Result<(), SbomError> {
    let mut pending: Vec<(&Value, String, usize)> = ctx
        .opt_array(root, "services", "")?
        .iter()
        .enumerate()
        .map(|(i, v)| (v, index("/services", i), 1))
        .collect();
    while let Some((value, pointer, depth)) = pending.pop() {
        if depth > MAX_COMPONENT_DEPTH {
            return Err(SbomError::NestingTooDeep {
                file: ctx.file.to_owned(),
                pointer,
                limit: MAX_COMPONENT_DEPTH,
            });
        }
        let obj = ctx.object(value, &pointer, "a service")?;
        if let Some(r) = ctx
            .opt_str(obj, "bom-ref", &pointer)?
            .filter(|r| !r.is_empty())
        {
            register(ctx, refs, r, child(&pointer, "bom-ref"))?;
        }
        let base = child(&pointer, "services");
        for (i, v) in ctx.opt_array(obj, "services", &pointer)?.iter().enumerate() {
            pending.push((v, index(&base, i), depth + 1));
        }
    }
    Ok(())
}

/// One `dependencies` entry: its `ref` and `dependsOn` as written.
fn read_dependency(
    ctx: &Ctx<'_>,
    value: &Value,
    i: usize,
) -> Result<(String, Vec<String>), SbomError> {
    let p = index("/dependencies", i);
    let entry = ctx.object(value, &p, "a dependency")?;
    let from = ctx.req_str(
        entry,
        "ref",
        &p,
        "name the `bom-ref` whose dependencies these are",
    )?;
    let base = child(&p, "dependsOn");
    let mut targets = Vec::new();
    for (j, to) in ctx.opt_array(entry, "dependsOn", &p)?.iter().enumerate() {
        let to = to.as_str().ok_or_else(|| {
            ctx.invalid(
                index(&base, j),
                format!(
                    "a `dependsOn` entry must be a string, not {}",
                    super::json::type_name(to)
                ),
                "list `bom-ref` strings in `dependsOn`",
            )
        })?;
        targets.push(to.to_owned());
    }
    Ok((from.to_owned(), targets))
}

/// The graph, once every reference is known to name a component or service.
fn check_dependencies(
    ctx: &Ctx<'_>,
    deps: Vec<(usize, String, Vec<String>)>,
    refs: &HashMap<String, String>,
) -> Result<BTreeMap<String, BTreeSet<String>>, SbomError> {
    let dangling = |pointer: String, reference: &str| SbomError::DanglingReference {
        file: ctx.file.to_owned(),
        pointer,
        reference: reference.to_owned(),
        field: "bom-ref",
        what: "component or service",
        fix: "add the component it stands for, or remove the reference",
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, from, targets) in deps {
        let p = index("/dependencies", i);
        if !refs.contains_key(&from) {
            return Err(dangling(child(&p, "ref"), &from));
        }
        let base = child(&p, "dependsOn");
        for (j, to) in targets.iter().enumerate() {
            if !refs.contains_key(to) {
                return Err(dangling(index(&base, j), to));
            }
        }
        graph.entry(from).or_default().extend(targets);
    }
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_shape() {
        assert!(looks_like_purl("pkg:cargo/serde@1.0.0"));
        assert!(looks_like_purl("PKG:npm/%40scope/x@1"));
        assert!(looks_like_purl("pkg:/npm/x"));
        assert!(!looks_like_purl("cargo/serde"));
        assert!(!looks_like_purl("pkg:serde"));
        assert!(!looks_like_purl("pk"));
    }
}
