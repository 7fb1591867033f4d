//! SARIF 2.1.0 output for `plaza validate --format sarif`, so code-scanning tools (GitHub,
//! GitLab, IDEs) show manifest problems and policy findings at their line and column.

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One result to report.
#[derive(Clone, Debug, PartialEq)]
pub struct SarifItem {
    /// Rule id: a diagnostic code (`unknown-field`) or a policy rule id (`plaza.sbom.required`).
    pub rule_id: String,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it, if known.
    pub help: Option<String>,
    /// 1-based line in the manifest.
    pub line: u32,
    /// 1-based column in the manifest.
    pub column: u32,
}

/// A SARIF log with one run of `plaza` over the file `uri`.
pub fn render(uri: &str, items: &[SarifItem]) -> Value {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    let results: Vec<Value> = items
        .iter()
        .map(|i| {
            rules
                .entry(&i.rule_id)
                .or_insert_with(|| json!({"id": i.rule_id}));
            let text = match &i.help {
                Some(h) => format!("{} ({h})", i.message),
                None => i.message.clone(),
            };
            json!({
                "ruleId": i.rule_id,
                "level": i.level,
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": i.line.max(1), "startColumn": i.column.max(1)}
                    }
                }]
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "plaza",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://plaza.dev/docs/manifest",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_carry_rule_level_and_region() {
        let items = [
            SarifItem {
                rule_id: "unknown-field".into(),
                level: "error",
                message: "unknown field `nmae`".into(),
                help: Some("did you mean `name`?".into()),
                line: 3,
                column: 1,
            },
            SarifItem {
                rule_id: "unknown-field".into(),
                level: "error",
                message: "unknown field `x`".into(),
                help: None,
                line: 4,
                column: 2,
            },
            SarifItem {
                rule_id: "plaza.sbom.required".into(),
                level: "warning",
                message: "SBOM required".into(),
                help: None,
                line: 0,
                column: 0,
            },
        ];
        let log = render("micro-app.yaml", &items);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
        let r = &run["results"][0];
        assert_eq!(r["ruleId"], "unknown-field");
        assert_eq!(
            r["message"]["text"],
            "unknown field `nmae` (did you mean `name`?)"
        );
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (region["startLine"].as_u64(), region["startColumn"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(
            run["results"][2]["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
    }
}
