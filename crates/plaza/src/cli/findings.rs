//! Policy findings for people and tools: where in the manifest each one points (its
//! `details.path`, a JSON pointer, located in the source), and how it reads as a text line.

use plaza_policy::{Finding, Severity};

/// A finding with the line and column it points at in the manifest file.
pub struct LocatedFinding<'a> {
    /// The finding.
    pub finding: &'a Finding,
    /// 1-based line (1 when the finding names no place).
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// Locates each finding in the manifest source `bytes` named `file`.
pub fn locate<'a>(file: &str, bytes: &[u8], findings: &'a [Finding]) -> Vec<LocatedFinding<'a>> {
    findings
        .iter()
        .map(|f| {
            let pointer = f
                .details
                .as_ref()
                .and_then(|d| d.get("path"))
                .and_then(|p| p.as_str())
                .unwrap_or("");
            let pos = plaza_manifest::locate(file, bytes, pointer)
                .unwrap_or(plaza_manifest::node::Pos::START);
            LocatedFinding {
                finding: f,
                line: pos.line,
                column: pos.column,
            }
        })
        .collect()
}

/// `file:line:col: deny[rule.id]: message` and, when known, a hint line, as `plaza validate`
/// prints manifest diagnostics.
pub fn render_text(file: &str, located: &[LocatedFinding<'_>]) -> String {
    let mut out = String::new();
    for l in located {
        let f = l.finding;
        out.push_str(&format!(
            "{file}:{}:{}: {}[{}]: {}\n",
            l.line,
            l.column,
            f.severity.as_str(),
            f.rule_id,
            f.message
        ));
        if let Some(r) = &f.remediation {
            out.push_str(&format!("  = hint: {r}\n"));
        }
    }
    out
}

/// The SARIF level of a severity.
pub fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Deny => "error",
        Severity::Warn => "warning",
        Severity::Info => "note",
    }
}
