//! CVSS v4.0 scores computed from the vector as the FIRST specification defines them
//! (<https://www.first.org/cvss/v4.0/specification-document>, section 8): the vector's MacroVector
//! (EQ1–EQ6) gives a score from the specification's lookup table, which is then lowered by the
//! mean proportional severity distance to the MacroVector's highest-severity vectors, and rounded
//! to one decimal. Threat (`E`) and environmental metrics (`CR`/`IR`/`AR`, `M*`) take part as the
//! specification says; unset ones take their worst-case defaults.
//!
//! The MacroVector scores, the highest-severity vectors per EQ and the EQ depths are the
//! specification's data, as published in FIRST's reference calculator
//! (<https://github.com/FIRSTdotorg/cvss-v4-calculator>; Copyright FIRST.ORG, Inc., Red Hat, and
//! contributors; BSD-2-Clause). Scores are checked against the `cvss` Python library on thousands
//! of vectors (tests/osv/cvss.tsv).

use super::error::OsvError;

fn err(vector: &str, problem: impl Into<String>) -> OsvError {
    OsvError::Cvss {
        vector: vector.to_string(),
        problem: problem.into(),
    }
}

/// Allowed values of every CVSS v4.0 metric; the first 11 are the mandatory base metrics.
const METRICS: [(&str, &[&str]); 32] = [
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("AT", &["N", "P"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "P", "A"]),
    ("VC", &["H", "L", "N"]),
    ("VI", &["H", "L", "N"]),
    ("VA", &["H", "L", "N"]),
    ("SC", &["H", "L", "N"]),
    ("SI", &["H", "L", "N"]),
    ("SA", &["H", "L", "N"]),
    ("E", &["X", "A", "P", "U"]),
    ("CR", &["X", "H", "M", "L"]),
    ("IR", &["X", "H", "M", "L"]),
    ("AR", &["X", "H", "M", "L"]),
    ("MAV", &["X", "N", "A", "L", "P"]),
    ("MAC", &["X", "L", "H"]),
    ("MAT", &["X", "N", "P"]),
    ("MPR", &["X", "N", "L", "H"]),
    ("MUI", &["X", "N", "P", "A"]),
    ("MVC", &["X", "H", "L", "N"]),
    ("MVI", &["X", "H", "L", "N"]),
    ("MVA", &["X", "H", "L", "N"]),
    ("MSC", &["X", "H", "L", "N"]),
    ("MSI", &["X", "S", "H", "L", "N"]),
    ("MSA", &["X", "S", "H", "L", "N"]),
    ("S", &["X", "N", "P"]),
    ("AU", &["X", "N", "Y"]),
    ("R", &["X", "A", "U", "I"]),
    ("V", &["X", "D", "C"]),
    ("RE", &["X", "L", "M", "H"]),
    ("U", &["X", "Clear", "Green", "Amber", "Red"]),
];

/// Severity levels used for distances (specification's step of 0.1 per level).
fn level(metric: &str, value: &str) -> Option<f64> {
    Some(match (metric, value) {
        ("AV", "N") | ("PR", "N") | ("UI", "N") | ("AC", "L") | ("AT", "N") => 0.0,
        ("AV", "A") | ("PR", "L") | ("UI", "P") | ("AC", "H") | ("AT", "P") => 0.1,
        ("AV", "L") | ("PR", "H") | ("UI", "A") => 0.2,
        ("AV", "P") => 0.3,
        ("VC" | "VI" | "VA", "H") => 0.0,
        ("VC" | "VI" | "VA", "L") => 0.1,
        ("VC" | "VI" | "VA", "N") => 0.2,
        ("SI" | "SA", "S") => 0.0,
        ("SC" | "SI" | "SA", "H") => 0.1,
        ("SC" | "SI" | "SA", "L") => 0.2,
        ("SC" | "SI" | "SA", "N") => 0.3,
        ("CR" | "IR" | "AR", "H") => 0.0,
        ("CR" | "IR" | "AR", "M") => 0.1,
        ("CR" | "IR" | "AR", "L") => 0.2,
        ("E", "A") => 0.0,
        ("E", "P") => 0.1,
        ("E", "U") => 0.2,
        _ => return None,
    })
}

/// The metrics whose distances are computed, in the specification's order.
const DISTANCE_METRICS: [&str; 15] = [
    "AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA", "SC", "SI", "SA", "CR", "IR", "AR", "E",
];

/// MacroVector scores (EQ1..EQ6 digits → score), sorted by MacroVector.
const LOOKUP: [(&str, f64); 270] = [
    ("000000", 10.0),
    ("000001", 9.9),
    ("000010", 9.8),
    ("000011", 9.5),
    ("000020", 9.5),
    ("000021", 9.2),
    ("000100", 10.0),
    ("000101", 9.6),
    ("000110", 9.3),
    ("000111", 8.7),
    ("000120", 9.1),
    ("000121", 8.1),
    ("000200", 9.3),
    ("000201", 9.0),
    ("000210", 8.9),
    ("000211", 8.0),
    ("000220", 8.1),
    ("000221", 6.8),
    ("001000", 9.8),
    ("001001", 9.5),
    ("001010", 9.5),
    ("001011", 9.2),
    ("001020", 9.0),
    ("001021", 8.4),
    ("001100", 9.3),
    ("001101", 9.2),
    ("001110", 8.9),
    ("001111", 8.1),
    ("001120", 8.1),
    ("001121", 6.5),
    ("001200", 8.8),
    ("001201", 8.0),
    ("001210", 7.8),
    ("001211", 7.0),
    ("001220", 6.9),
    ("001221", 4.8),
    ("002001", 9.2),
    ("002011", 8.2),
    ("002021", 7.2),
    ("002101", 7.9),
    ("002111", 6.9),
    ("002121", 5.0),
    ("002201", 6.9),
    ("002211", 5.5),
    ("002221", 2.7),
    ("010000", 9.9),
    ("010001", 9.7),
    ("010010", 9.5),
    ("010011", 9.2),
    ("010020", 9.2),
    ("010021", 8.5),
    ("010100", 9.5),
    ("010101", 9.1),
    ("010110", 9.0),
    ("010111", 8.3),
    ("010120", 8.4),
    ("010121", 7.1),
    ("010200", 9.2),
    ("010201", 8.1),
    ("010210", 8.2),
    ("010211", 7.1),
    ("010220", 7.2),
    ("010221", 5.3),
    ("011000", 9.5),
    ("011001", 9.3),
    ("011010", 9.2),
    ("011011", 8.5),
    ("011020", 8.5),
    ("011021", 7.3),
    ("011100", 9.2),
    ("011101", 8.2),
    ("011110", 8.0),
    ("011111", 7.2),
    ("011120", 7.0),
    ("011121", 5.9),
    ("011200", 8.4),
    ("011201", 7.0),
    ("011210", 7.1),
    ("011211", 5.2),
    ("011220", 5.0),
    ("011221", 3.0),
    ("012001", 8.6),
    ("012011", 7.5),
    ("012021", 5.2),
    ("012101", 7.1),
    ("012111", 5.2),
    ("012121", 2.9),
    ("012201", 6.3),
    ("012211", 2.9),
    ("012221", 1.7),
    ("100000", 9.8),
    ("100001", 9.5),
    ("100010", 9.4),
    ("100011", 8.7),
    ("100020", 9.1),
    ("100021", 8.1),
    ("100100", 9.4),
    ("100101", 8.9),
    ("100110", 8.6),
    ("100111", 7.4),
    ("100120", 7.7),
    ("100121", 6.4),
    ("100200", 8.7),
    ("100201", 7.5),
    ("100210", 7.4),
    ("100211", 6.3),
    ("100220", 6.3),
    ("100221", 4.9),
    ("101000", 9.4),
    ("101001", 8.9),
    ("101010", 8.8),
    ("101011", 7.7),
    ("101020", 7.6),
    ("101021", 6.7),
    ("101100", 8.6),
    ("101101", 7.6),
    ("101110", 7.4),
    ("101111", 5.8),
    ("101120", 5.9),
    ("101121", 5.0),
    ("101200", 7.2),
    ("101201", 5.7),
    ("101210", 5.7),
    ("101211", 5.2),
    ("101220", 5.2),
    ("101221", 2.5),
    ("102001", 8.3),
    ("102011", 7.0),
    ("102021", 5.4),
    ("102101", 6.5),
    ("102111", 5.8),
    ("102121", 2.6),
    ("102201", 5.3),
    ("102211", 2.1),
    ("102221", 1.3),
    ("110000", 9.5),
    ("110001", 9.0),
    ("110010", 8.8),
    ("110011", 7.6),
    ("110020", 7.6),
    ("110021", 7.0),
    ("110100", 9.0),
    ("110101", 7.7),
    ("110110", 7.5),
    ("110111", 6.2),
    ("110120", 6.1),
    ("110121", 5.3),
    ("110200", 7.7),
    ("110201", 6.6),
    ("110210", 6.8),
    ("110211", 5.9),
    ("110220", 5.2),
    ("110221", 3.0),
    ("111000", 8.9),
    ("111001", 7.8),
    ("111010", 7.6),
    ("111011", 6.7),
    ("111020", 6.2),
    ("111021", 5.8),
    ("111100", 7.4),
    ("111101", 5.9),
    ("111110", 5.7),
    ("111111", 5.7),
    ("111120", 4.7),
    ("111121", 2.3),
    ("111200", 6.1),
    ("111201", 5.2),
    ("111210", 5.7),
    ("111211", 2.9),
    ("111220", 2.4),
    ("111221", 1.6),
    ("112001", 7.1),
    ("112011", 5.9),
    ("112021", 3.0),
    ("112101", 5.8),
    ("112111", 2.6),
    ("112121", 1.5),
    ("112201", 2.3),
    ("112211", 1.3),
    ("112221", 0.6),
    ("200000", 9.3),
    ("200001", 8.7),
    ("200010", 8.6),
    ("200011", 7.2),
    ("200020", 7.5),
    ("200021", 5.8),
    ("200100", 8.6),
    ("200101", 7.4),
    ("200110", 7.4),
    ("200111", 6.1),
    ("200120", 5.6),
    ("200121", 3.4),
    ("200200", 7.0),
    ("200201", 5.4),
    ("200210", 5.2),
    ("200211", 4.0),
    ("200220", 4.0),
    ("200221", 2.2),
    ("201000", 8.5),
    ("201001", 7.5),
    ("201010", 7.4),
    ("201011", 5.5),
    ("201020", 6.2),
    ("201021", 5.1),
    ("201100", 7.2),
    ("201101", 5.7),
    ("201110", 5.5),
    ("201111", 4.1),
    ("201120", 4.6),
    ("201121", 1.9),
    ("201200", 5.3),
    ("201201", 3.6),
    ("201210", 3.4),
    ("201211", 1.9),
    ("201220", 1.9),
    ("201221", 0.8),
    ("202001", 6.4),
    ("202011", 5.1),
    ("202021", 2.0),
    ("202101", 4.7),
    ("202111", 2.1),
    ("202121", 1.1),
    ("202201", 2.4),
    ("202211", 0.9),
    ("202221", 0.4),
    ("210000", 8.8),
    ("210001", 7.5),
    ("210010", 7.3),
    ("210011", 5.3),
    ("210020", 6.0),
    ("210021", 5.0),
    ("210100", 7.3),
    ("210101", 5.5),
    ("210110", 5.9),
    ("210111", 4.0),
    ("210120", 4.1),
    ("210121", 2.0),
    ("210200", 5.4),
    ("210201", 4.3),
    ("210210", 4.5),
    ("210211", 2.2),
    ("210220", 2.0),
    ("210221", 1.1),
    ("211000", 7.5),
    ("211001", 5.5),
    ("211010", 5.8),
    ("211011", 4.5),
    ("211020", 4.0),
    ("211021", 2.1),
    ("211100", 6.1),
    ("211101", 5.1),
    ("211110", 4.8),
    ("211111", 1.8),
    ("211120", 2.0),
    ("211121", 0.9),
    ("211200", 4.6),
    ("211201", 1.8),
    ("211210", 1.7),
    ("211211", 0.7),
    ("211220", 0.8),
    ("211221", 0.2),
    ("212001", 5.3),
    ("212011", 2.4),
    ("212021", 1.4),
    ("212101", 2.4),
    ("212111", 1.2),
    ("212121", 0.5),
    ("212201", 1.0),
    ("212211", 0.3),
    ("212221", 0.1),
];

/// Highest-severity vectors of each EQ level.
fn max_composed_eq1(level: u8) -> &'static [&'static str] {
    match level {
        0 => &["AV:N/PR:N/UI:N"],
        1 => &["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"],
        _ => &["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"],
    }
}

fn max_composed_eq2(level: u8) -> &'static [&'static str] {
    match level {
        0 => &["AC:L/AT:N"],
        _ => &["AC:H/AT:N", "AC:L/AT:P"],
    }
}

fn max_composed_eq3_eq6(eq3: u8, eq6: u8) -> &'static [&'static str] {
    match (eq3, eq6) {
        (0, 0) => &["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
        (0, _) => &[
            "VC:H/VI:H/VA:L/CR:M/IR:M/AR:H",
            "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M",
        ],
        (1, 0) => &[
            "VC:L/VI:H/VA:H/CR:H/IR:H/AR:H",
            "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H",
        ],
        (1, _) => &[
            "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H",
            "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
            "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
            "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
            "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M",
        ],
        _ => &["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"],
    }
}

fn max_composed_eq4(level: u8) -> &'static str {
    match level {
        0 => "SC:H/SI:S/SA:S",
        1 => "SC:H/SI:H/SA:H",
        _ => "SC:L/SI:L/SA:L",
    }
}

fn max_composed_eq5(level: u8) -> &'static str {
    match level {
        0 => "E:A",
        1 => "E:P",
        _ => "E:U",
    }
}

/// Depth of each EQ level (in steps), as the specification's reference implementation has it.
fn max_severity(eq: usize, eq_level: u8, eq6: u8) -> f64 {
    let steps = match (eq, eq_level, eq6) {
        (1, 0, _) => 1,
        (1, 1, _) => 4,
        (1, _, _) => 5,
        (2, 0, _) => 1,
        (2, _, _) => 2,
        (3, 0, 0) => 7,
        (3, 0, _) => 6,
        (3, 1, _) => 8,
        (3, _, _) => 10,
        (4, 0, _) => 6,
        (4, 1, _) => 5,
        (4, _, _) => 4,
        _ => 1,
    };
    f64::from(steps) * 0.1
}

fn lookup(macro_vector: [u8; 6]) -> Option<f64> {
    let key: String = macro_vector.iter().map(|d| char::from(b'0' + d)).collect();
    LOOKUP
        .binary_search_by(|(k, _)| (*k).cmp(key.as_str()))
        .ok()
        .and_then(|i| LOOKUP.get(i))
        .map(|(_, v)| *v)
}

struct Vector<'a> {
    metrics: Vec<(&'a str, &'a str)>,
}

impl<'a> Vector<'a> {
    fn raw(&self, metric: &str) -> &'a str {
        self.metrics
            .iter()
            .find(|(k, _)| *k == metric)
            .map_or("X", |(_, v)| *v)
    }

    /// The metric's value after threat/environmental defaults and modified metrics.
    fn effective(&self, metric: &str) -> &'a str {
        let raw = self.raw(metric);
        match (metric, raw) {
            ("E", "X") => return "A",
            ("CR" | "IR" | "AR", "X") => return "H",
            _ => {}
        }
        let modified = match metric {
            "AV" => "MAV",
            "AC" => "MAC",
            "AT" => "MAT",
            "PR" => "MPR",
            "UI" => "MUI",
            "VC" => "MVC",
            "VI" => "MVI",
            "VA" => "MVA",
            "SC" => "MSC",
            "SI" => "MSI",
            "SA" => "MSA",
            _ => return raw,
        };
        match self.raw(modified) {
            "X" => raw,
            m => m,
        }
    }
}

fn parse(vector: &str) -> Result<Vector<'_>, OsvError> {
    let mut parts = vector.trim().split('/');
    if parts.next() != Some("CVSS:4.0") {
        return Err(err(vector, "it does not start with CVSS:4.0/"));
    }
    let mut metrics: Vec<(&str, &str)> = Vec::with_capacity(16);
    for part in parts {
        let (k, v) = part
            .split_once(':')
            .ok_or_else(|| err(vector, format!("`{part}` is not METRIC:VALUE")))?;
        let (_, allowed) = METRICS
            .iter()
            .find(|(name, _)| *name == k)
            .ok_or_else(|| err(vector, format!("unknown metric `{k}`")))?;
        if !allowed.contains(&v) {
            return Err(err(vector, format!("`{k}:{v}` is not a valid value")));
        }
        if metrics.iter().any(|(seen, _)| *seen == k) {
            return Err(err(vector, format!("metric `{k}` appears twice")));
        }
        metrics.push((k, v));
    }
    for (name, _) in METRICS.iter().take(11) {
        if !metrics.iter().any(|(k, _)| k == name) {
            return Err(err(vector, format!("base metric `{name}` is missing")));
        }
    }
    Ok(Vector { metrics })
}

fn macro_vector(v: &Vector<'_>) -> [u8; 6] {
    let e = |m: &str| v.effective(m);
    let (av, pr, ui) = (e("AV"), e("PR"), e("UI"));
    let eq1 = if av == "N" && pr == "N" && ui == "N" {
        0
    } else if (av == "N" || pr == "N" || ui == "N") && av != "P" {
        1
    } else {
        2
    };
    let eq2 = u8::from(!(e("AC") == "L" && e("AT") == "N"));
    let (vc, vi, va) = (e("VC"), e("VI"), e("VA"));
    let eq3 = if vc == "H" && vi == "H" {
        0
    } else if vc == "H" || vi == "H" || va == "H" {
        1
    } else {
        2
    };
    let (msi, msa) = (v.raw("MSI"), v.raw("MSA"));
    let eq4 = if msi == "S" || msa == "S" {
        0
    } else if e("SC") == "H" || e("SI") == "H" || e("SA") == "H" {
        1
    } else {
        2
    };
    let eq5 = match e("E") {
        "A" => 0,
        "P" => 1,
        _ => 2,
    };
    let high = (e("CR") == "H" && vc == "H")
        || (e("IR") == "H" && vi == "H")
        || (e("AR") == "H" && va == "H");
    let eq6 = u8::from(!high);
    [eq1, eq2, eq3, eq4, eq5, eq6]
}

/// The CVSS v4.0 score of a vector (`CVSS:4.0/AV:…/AC:…/AT:…/PR:…/UI:…/VC:…/VI:…/VA:…/SC:…/SI:…/SA:…`,
/// threat, environmental and supplemental metrics allowed).
pub fn cvss4_score(vector: &str) -> Result<f64, OsvError> {
    let v = parse(vector)?;
    if ["VC", "VI", "VA", "SC", "SI", "SA"]
        .iter()
        .all(|m| v.effective(m) == "N")
    {
        return Ok(0.0);
    }
    let mv = macro_vector(&v);
    let [eq1, eq2, eq3, eq4, eq5, eq6] = mv;
    let value = lookup(mv).ok_or_else(|| err(vector, "its MacroVector has no score (internal)"))?;
    let with = |i: usize, add: u8| -> [u8; 6] {
        let mut m = mv;
        if let Some(d) = m.get_mut(i) {
            *d += add;
        }
        m
    };
    let lower_eq1 = lookup(with(0, 1));
    let lower_eq2 = lookup(with(1, 1));
    let lower_eq3_eq6 = match (eq3, eq6) {
        (1, 1) | (0, 1) => lookup(with(2, 1)),
        (1, 0) => lookup(with(5, 1)),
        (0, 0) => {
            let left = lookup(with(5, 1));
            let right = lookup(with(2, 1));
            match (left, right) {
                (Some(l), Some(r)) => Some(l.max(r)),
                _ => None,
            }
        }
        _ => {
            let mut m = with(2, 1);
            if let Some(d) = m.get_mut(5) {
                *d += 1;
            }
            lookup(m)
        }
    };
    let lower_eq4 = lookup(with(3, 1));
    let lower_eq5 = lookup(with(4, 1));

    // The first highest-severity vector that the scored vector does not exceed anywhere.
    let mut distances = [0.0f64; 15];
    'search: for a in max_composed_eq1(eq1) {
        for b in max_composed_eq2(eq2) {
            for c in max_composed_eq3_eq6(eq3, eq6) {
                let candidate = [*a, *b, *c, max_composed_eq4(eq4), max_composed_eq5(eq5)];
                let max_value = |metric: &str| -> &str {
                    candidate
                        .iter()
                        .flat_map(|s| s.split('/'))
                        .filter_map(|p| p.split_once(':'))
                        .find(|(k, _)| *k == metric)
                        .map_or("", |(_, v)| v)
                };
                for (slot, metric) in distances.iter_mut().zip(DISTANCE_METRICS) {
                    let own = level(metric, v.effective(metric)).unwrap_or(0.0);
                    let max = level(metric, max_value(metric)).unwrap_or(0.0);
                    *slot = own - max;
                }
                if distances.iter().all(|d| *d >= 0.0) {
                    break 'search;
                }
            }
        }
    }
    let d = |i: usize| distances.get(i).copied().unwrap_or(0.0);
    let current_eq1 = d(0) + d(1) + d(2);
    let current_eq2 = d(3) + d(4);
    let current_eq3_eq6 = d(5) + d(6) + d(7) + d(11) + d(12) + d(13);
    let current_eq4 = d(8) + d(9) + d(10);

    let mut existing = 0u32;
    let mut total = 0.0;
    let mut add = |lower: Option<f64>, current: f64, depth: f64| {
        if let Some(lower) = lower {
            existing += 1;
            total += (value - lower) * (current / depth);
        }
    };
    add(lower_eq1, current_eq1, max_severity(1, eq1, eq6));
    add(lower_eq2, current_eq2, max_severity(2, eq2, eq6));
    add(lower_eq3_eq6, current_eq3_eq6, max_severity(3, eq3, eq6));
    add(lower_eq4, current_eq4, max_severity(4, eq4, eq6));
    // EQ5's proportion is always 0, but an existing lower MacroVector still counts.
    add(lower_eq5, 0.0, 1.0);
    let mean = if existing == 0 {
        0.0
    } else {
        total / f64::from(existing)
    };
    let score = (value - mean).clamp(0.0, 10.0);
    Ok(((score + 1e-6) * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scores() {
        for (v, want) in [
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
                10.0,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
                0.0,
            ),
        ] {
            assert_eq!(cvss4_score(v).unwrap(), want, "{v}");
        }
    }

    #[test]
    fn bad_vectors() {
        for v in [
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:S",
            "CVSS:4.0/AV:N/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/ZZ:1",
        ] {
            assert!(cvss4_score(v).is_err(), "{v}");
        }
    }
}
