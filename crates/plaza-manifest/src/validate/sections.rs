//! The nested sections of the manifest: permissions, egress, resources, healthcheck,
//! provenance, billing and contact.

use crate::diagnostic::Code;
use crate::egress::EgressRule;
use crate::node::{Node, Path, Value};
use crate::quantity;
use crate::schema::{
    Billing, Contact, Healthcheck, Metric, Permission, PermissionType, Plan, Provenance, Resources,
};
use crate::scope::Scope;
use crate::units;

use super::manifest::{duplicate, nested_special, opt_text, url_field};
use super::reader::{self, Cx, Fields, Seen};
use super::{suggest, text};

/// Fields of a permission.
pub const PERMISSION_FIELDS: &[&str] = &["name", "type", "scopes", "optionalScopes", "description"];
/// Fields of `resources`.
pub const RESOURCES_FIELDS: &[&str] = &["memory", "cpu", "timeoutMs"];
/// Fields of `healthcheck`.
pub const HEALTHCHECK_FIELDS: &[&str] = &[
    "path",
    "intervalSeconds",
    "timeoutSeconds",
    "failureThreshold",
];
/// Fields of `provenance`.
pub const PROVENANCE_FIELDS: &[&str] = &["signedBy", "slsa"];
/// Fields of `billing`.
pub const BILLING_FIELDS: &[&str] = &["plan", "metrics"];
/// Fields of a metric.
pub const METRIC_FIELDS: &[&str] = &["name", "unit", "pricePerUnitCents", "description"];
/// Fields of `contact`.
pub const CONTACT_FIELDS: &[&str] = &["email", "url"];
/// Supported SLSA provenance versions.
pub const SLSA_VERSIONS: &[&str] = &["v1"];

fn section<'n>(
    cx: &mut Cx<'_>,
    f: &Fields<'n>,
    key: &str,
    known: &[&str],
) -> Option<Option<Fields<'n>>> {
    let Some(n) = f.get(key) else {
        return Some(None);
    };
    let s = Fields::open(cx, n, f.path(key))?;
    s.check_unknown(cx, known, nested_special);
    Some(Some(s))
}

/// `permissions`.
pub fn permissions(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<Vec<Permission>> {
    let Some(n) = f.get("permissions") else {
        return Some(Vec::new());
    };
    let p = f.path("permissions");
    let items = reader::list(cx, n, &p, 32)?;
    let mut names = Seen::default();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(perm) = permission(cx, item, p.index(i), &mut names) {
            out.push(perm);
        }
    }
    Some(out)
}

fn permission(cx: &mut Cx<'_>, node: &Node, path: Path, names: &mut Seen) -> Option<Permission> {
    let f = Fields::open(cx, node, path)?;
    f.check_unknown(cx, PERMISSION_FIELDS, nested_special);
    let name = f.required(cx, "name", "user_calendar").and_then(|n| {
        let p = f.path("name");
        let s = reader::text(cx, n, &p, 64)?;
        cx.check(Code::InvalidIdentifier, n, &p, text::identifier(s))?;
        if let Some(first) = names.first(s, n.pos) {
            cx.report(
                Code::DuplicatePermission,
                n.pos,
                &p,
                format!("permission `{s}` is defined twice (first at {first})"),
                Some("merge the two into one permission, or rename one".into()),
            );
            return None;
        }
        Some(s.to_owned())
    });
    let kind = f
        .required(cx, "type", "oauth2")
        .and_then(|n| reader::keyword::<PermissionType>(cx, n, &f.path("type"), "permission type"));
    let description = opt_text(cx, &f, "description", 500);
    let mut seen = Seen::default();
    let scopes_node = f.required(cx, "scopes", "[calendar.read]");
    let scopes = scopes_node.and_then(|n| scope_list(cx, n, &f.path("scopes"), &mut seen));
    let optional = match f.get("optionalScopes") {
        None => Some(Vec::new()),
        Some(n) => scope_list(cx, n, &f.path("optionalScopes"), &mut seen),
    };
    if let (Some(n), Some(s), Some(o)) = (scopes_node, &scopes, &optional) {
        if s.is_empty() && o.is_empty() {
            let who = name.as_deref().map_or(String::new(), |n| format!(" `{n}`"));
            cx.report(
                Code::EmptyValue,
                n.pos,
                &f.path("scopes"),
                format!("permission{who} requests no scopes"),
                Some("list at least one scope in `scopes` or `optionalScopes`, or remove the permission".into()),
            );
        }
    }
    Some(Permission {
        name: name?,
        kind: kind?,
        scopes: scopes?,
        optional_scopes: optional?,
        description: description?,
    })
}

fn scope_list(cx: &mut Cx<'_>, n: &Node, p: &Path, seen: &mut Seen) -> Option<Vec<String>> {
    let items = reader::list(cx, n, p, 64)?;
    let mut out = Vec::new();
    // A list with a bad item yields None, so later checks (e.g. "no scopes") do not pile on.
    let mut all_ok = true;
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        let Some(s) = reader::string(cx, item, &ip) else {
            all_ok = false;
            continue;
        };
        if let Err(e) = Scope::parse(s) {
            cx.invalid(Code::InvalidScope, item, &ip, e);
            all_ok = false;
            continue;
        }
        if let Some(first) = seen.first(s, item.pos) {
            cx.report(
                Code::DuplicateEntry,
                item.pos,
                &ip,
                format!("scope `{s}` is listed twice in this permission (first at {first})"),
                Some("list each scope once, in either `scopes` or `optionalScopes`".into()),
            );
            all_ok = false;
            continue;
        }
        out.push(s.to_owned());
    }
    all_ok.then_some(out)
}

/// `egress`.
pub fn egress(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<Vec<String>> {
    let Some(n) = f.get("egress") else {
        return Some(Vec::new());
    };
    let p = f.path("egress");
    let items = reader::list(cx, n, &p, 64)?;
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        let Some(s) = reader::string(cx, item, &ip) else {
            continue;
        };
        if let Err(e) = EgressRule::parse(s) {
            cx.invalid(Code::InvalidEgress, item, &ip, e);
            continue;
        }
        if let Some(first) = seen.first(s, item.pos) {
            duplicate(cx, item, &ip, s, "egress", first);
            continue;
        }
        out.push(s.to_owned());
    }
    Some(out)
}

/// `resources`, with defaults for omitted fields; CPU normalised to millicores.
pub fn resources(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<Resources> {
    let Some(r) = section(cx, f, "resources", RESOURCES_FIELDS)? else {
        return Some(Resources::default());
    };
    let defaults = Resources::default();
    let memory = match r.get("memory") {
        None => Some(defaults.memory),
        Some(n) => memory(cx, n, &r.path("memory")),
    };
    let cpu = match r.get("cpu") {
        None => Some(defaults.cpu),
        Some(n) => cpu(cx, n, &r.path("cpu")),
    };
    let timeout_ms = match r.get("timeoutMs") {
        None => Some(defaults.timeout_ms),
        Some(n) => reader::integer_in(
            cx,
            n,
            &r.path("timeoutMs"),
            1,
            quantity::MAX_TIMEOUT_MS as i64,
            " milliseconds",
        )
        .map(|v| v as u64),
    };
    Some(Resources {
        memory: memory?,
        cpu: cpu?,
        timeout_ms: timeout_ms?,
    })
}

fn memory(cx: &mut Cx<'_>, n: &Node, p: &Path) -> Option<String> {
    let s = reader::string(cx, n, p)?;
    let bytes = match quantity::parse_memory(s) {
        Ok(b) => b,
        Err(e) => {
            cx.invalid(Code::InvalidQuantity, n, p, e);
            return None;
        }
    };
    if !(quantity::MIN_MEMORY_BYTES..=quantity::MAX_MEMORY_BYTES).contains(&bytes) {
        cx.report(
            Code::OutOfRange,
            n.pos,
            p,
            format!("memory `{s}` is outside the allowed range 1Mi–4Gi"),
            Some("use a value from `1Mi` to `4Gi`".into()),
        );
        return None;
    }
    Some(s.to_owned())
}

fn cpu(cx: &mut Cx<'_>, n: &Node, p: &Path) -> Option<String> {
    let parsed = match &n.value {
        Value::Str(s) => quantity::parse_cpu(s),
        Value::Int(_) | Value::Float(_) => {
            quantity::parse_cpu(n.text.as_deref().unwrap_or_default())
        }
        _ => {
            cx.wrong_type(
                n,
                p,
                "a CPU quantity (string or number)",
                Some("write millicores such as `500m`, or cores such as `1`".into()),
            );
            return None;
        }
    };
    let shown = n.scalar_text().unwrap_or_default();
    let millis = match parsed {
        Ok(m) => m,
        Err(e) => {
            cx.invalid(Code::InvalidQuantity, n, p, e);
            return None;
        }
    };
    if !(quantity::MIN_CPU_MILLIS..=quantity::MAX_CPU_MILLIS).contains(&millis) {
        cx.report(
            Code::OutOfRange,
            n.pos,
            p,
            format!("CPU `{shown}` is outside the allowed range 1m–4000m (4 cores)"),
            Some("use a value from `1m` to `4000m`".into()),
        );
        return None;
    }
    Some(format!("{millis}m"))
}

/// `healthcheck`, with defaults for omitted fields.
pub fn healthcheck(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<Option<Healthcheck>> {
    let Some(h) = section(cx, f, "healthcheck", HEALTHCHECK_FIELDS)? else {
        return Some(None);
    };
    let path = h.required(cx, "path", "/healthz").and_then(|n| {
        let p = h.path("path");
        let s = reader::text(cx, n, &p, 1024)?;
        if !s.starts_with('/') || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            cx.report(
                Code::InvalidHealthcheck,
                n.pos,
                &p,
                format!("health check path `{s}` must start with `/` and contain no spaces"),
                Some(format!(
                    "write an HTTP path such as `/{}`",
                    s.trim().trim_start_matches('/')
                )),
            );
            return None;
        }
        Some(s.to_owned())
    });
    let num = |cx: &mut Cx<'_>, key: &str, min: i64, max: i64, default: u32| match h.get(key) {
        None => Some((default, None)),
        Some(n) => {
            reader::integer_in(cx, n, &h.path(key), min, max, "").map(|v| (v as u32, Some(n)))
        }
    };
    let interval = num(cx, "intervalSeconds", 1, 3600, 30);
    let timeout = num(cx, "timeoutSeconds", 1, 60, 5);
    let threshold = num(cx, "failureThreshold", 1, 10, 3);
    if let (Some((i, i_node)), Some((t, t_node))) = (interval, timeout) {
        if t > i {
            let (node, key) = match (t_node, i_node) {
                (Some(n), _) => (n, "timeoutSeconds"),
                (None, Some(n)) => (n, "intervalSeconds"),
                (None, None) => (h.node, ""),
            };
            let p = if key.is_empty() {
                h.path.clone()
            } else {
                h.path(key)
            };
            cx.report(
                Code::InvalidHealthcheck,
                node.pos,
                &p,
                format!("health check timeout ({t} s) is longer than its interval ({i} s)"),
                Some("make `timeoutSeconds` at most `intervalSeconds`".into()),
            );
        }
    }
    Some(Some(Healthcheck {
        path: path?,
        interval_seconds: interval?.0,
        timeout_seconds: timeout?.0,
        failure_threshold: threshold?.0,
    }))
}

/// `provenance`.
pub fn provenance(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<Option<Provenance>> {
    let Some(s) = section(cx, f, "provenance", PROVENANCE_FIELDS)? else {
        return Some(None);
    };
    let signed_by = s
        .required(cx, "signedBy", "did:example:maintainer")
        .and_then(|n| {
            let p = s.path("signedBy");
            let v = reader::text(cx, n, &p, 256)?;
            cx.check(Code::InvalidIdentity, n, &p, text::identity(v, true))?;
            Some(v.to_owned())
        });
    let slsa = s.required(cx, "slsa", "v1").and_then(|n| {
        let p = s.path("slsa");
        let v = reader::string(cx, n, &p)?;
        if !SLSA_VERSIONS.contains(&v) {
            reader::one_of(cx, n, &p, "SLSA provenance version", v, SLSA_VERSIONS);
            return None;
        }
        Some(v.to_owned())
    });
    Some(Some(Provenance {
        signed_by: signed_by?,
        slsa: slsa?,
    }))
}

/// `billing`.
pub fn billing(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<Option<Billing>> {
    let Some(b) = section(cx, f, "billing", BILLING_FIELDS)? else {
        return Some(None);
    };
    let plan = b
        .required(cx, "plan", "freemium")
        .and_then(|n| reader::keyword::<Plan>(cx, n, &b.path("plan"), "plan"));
    let metrics = match b.get("metrics") {
        None => Some(Vec::new()),
        Some(n) => {
            let p = b.path("metrics");
            reader::list(cx, n, &p, 32).map(|items| {
                let mut names = Seen::default();
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| metric(cx, item, p.index(i), &mut names, plan))
                    .collect::<Vec<_>>()
            })
        }
    };
    Some(Some(Billing {
        plan: plan?,
        metrics: metrics?,
    }))
}

fn metric(
    cx: &mut Cx<'_>,
    node: &Node,
    path: Path,
    names: &mut Seen,
    plan: Option<Plan>,
) -> Option<Metric> {
    let f = Fields::open(cx, node, path)?;
    f.check_unknown(cx, METRIC_FIELDS, nested_special);
    let name = f.required(cx, "name", "api_calls").and_then(|n| {
        let p = f.path("name");
        let s = reader::text(cx, n, &p, 64)?;
        cx.check(Code::InvalidIdentifier, n, &p, text::identifier(s))?;
        if s.starts_with("plaza_") {
            cx.report(
                Code::InvalidIdentifier,
                n.pos,
                &p,
                format!("metric name `{s}` uses the reserved prefix `plaza_`"),
                Some("the `plaza_` prefix is reserved for metrics the host emits; choose another name".into()),
            );
            return None;
        }
        if let Some(first) = names.first(s, n.pos) {
            cx.report(
                Code::DuplicateMetric,
                n.pos,
                &p,
                format!("metric `{s}` is defined twice (first at {first})"),
                Some("give each metric a distinct name".into()),
            );
            return None;
        }
        Some(s.to_owned())
    });
    let unit = f.required(cx, "unit", "count").and_then(|n| {
        let p = f.path("unit");
        let s = reader::string(cx, n, &p)?;
        if units::lookup(s).is_none() {
            let symbols: Vec<&str> = units::UNITS.iter().map(|u| u.symbol).collect();
            let hint = match suggest::did_you_mean(s, symbols.iter().copied()) {
                Some(m) => format!("did you mean `{m}`? (unit symbols are case-sensitive)"),
                None => format!("use a unit from the registry: {}", suggest::list(&symbols)),
            };
            cx.report(
                Code::UnknownUnit,
                n.pos,
                &p,
                format!("unknown unit `{s}`"),
                Some(hint),
            );
            return None;
        }
        Some(s.to_owned())
    });
    let price = f.required(cx, "pricePerUnitCents", "0").and_then(|n| {
        let p = f.path("pricePerUnitCents");
        let v = reader::integer(
            cx,
            n,
            &p,
            Some("prices are whole cents; for fractions of a cent, price a larger unit (e.g. `thousand` instead of `count`)".into()),
        )?;
        if v < 0 {
            cx.report(
                Code::OutOfRange,
                n.pos,
                &p,
                format!("`{p}` is {v}; a price cannot be negative"),
                Some("use 0 for a free metric; corrections are made with credit notes, not negative prices".into()),
            );
            return None;
        }
        if v > 0 && plan == Some(Plan::Free) {
            cx.report(
                Code::FreePlanPriced,
                n.pos,
                &p,
                format!("`{p}` is {v}, but the plan is `free`"),
                Some("set the price to 0, or choose the plan `freemium` or `usage`".into()),
            );
        }
        Some(v as u64)
    });
    let description = opt_text(cx, &f, "description", 500);
    Some(Metric {
        name: name?,
        unit: unit?,
        price_per_unit_cents: price?,
        description: description?,
    })
}

/// `contact`.
pub fn contact(cx: &mut Cx<'_>, f: &Fields<'_>) -> Option<Option<Contact>> {
    let Some(c) = section(cx, f, "contact", CONTACT_FIELDS)? else {
        return Some(None);
    };
    let email = c.required(cx, "email", "team@example.com").and_then(|n| {
        let p = c.path("email");
        let s = reader::text(cx, n, &p, 254)?;
        cx.check(Code::InvalidEmail, n, &p, text::email(s))?;
        Some(s.to_owned())
    });
    let url = url_field(cx, &c, "url");
    Some(Some(Contact {
        email: email?,
        url: url?,
    }))
}
