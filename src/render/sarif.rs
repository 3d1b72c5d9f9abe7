//! The audit as SARIF 2.1.0, for GitHub code scanning and other security
//! tooling: one rule per finding kind, one result per finding, each located
//! at the line of the fleet file entry that manages (or would manage) the
//! target, so code scanning annotates `fleet.toml` itself.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::engine::audit::{AuditReport, Finding, FindingKind, Severity};

/// Where each finding points: the fleet file and the line of an entry.
pub struct SarifSource<'a> {
    /// As given on the command line; relative paths are relative to the
    /// repository root when fleet runs there, which is what code scanning
    /// expects.
    pub fleet_file: &'a str,
    /// `--strict`: best-practice warnings count like findings.
    pub strict: bool,
}

fn level(severity: Severity, strict: bool) -> &'static str {
    match severity {
        _ if severity.fails(strict) => "error",
        Severity::Info => "note",
        _ => "warning",
    }
}

fn rule(kind: FindingKind, strict: bool) -> Value {
    let (short, full) = (kind.title(), kind.explanation());
    json!({
        "id": kind.as_str(),
        "name": kind.as_str(),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": { "text": full, "markdown": full },
        "defaultConfiguration": { "level": level(kind.severity(), strict) },
        "properties": { "tags": ["security", "logging", "bedrock"] }
    })
}

fn result(finding: &Finding<'_>, line: usize, strict: bool) -> Value {
    let target = finding.audit.target();
    let rule_index = FindingKind::ALL
        .iter()
        .position(|k| *k == finding.kind)
        .expect("every kind has a rule");
    let text = finding.message();
    json!({
        "ruleId": finding.kind.as_str(),
        "ruleIndex": rule_index,
        "level": level(finding.severity, strict),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": "FLEET_FILE" },
                "region": { "startLine": line.max(1) }
            },
            "logicalLocations": [{ "name": target.id().to_string(), "kind": "resource" }]
        }],
        // Stable across runs, so code scanning keeps one alert per target and kind.
        "partialFingerprints": {
            "fleetTarget/v1": format!("{}/{}:{}", target.account.id, target.region, finding.kind.as_str())
        },
        "properties": {
            "account_id": target.account.id.as_str(),
            "region": target.region.as_str()
        }
    })
}

/// Writes the SARIF log. `line_of` gives the fleet file line of the entry
/// that manages (or would manage) an account's targets.
pub fn sarif(
    out: &mut dyn Write,
    report: &AuditReport,
    source: &SarifSource<'_>,
    line_of: &dyn Fn(&crate::fleet::Target) -> usize,
) -> io::Result<()> {
    let rules: Vec<Value> = FindingKind::ALL
        .iter()
        .map(|kind| rule(*kind, source.strict))
        .collect();
    let uri = source.fleet_file.trim_start_matches("./");
    let results: Vec<Value> = report
        .findings()
        .iter()
        .map(|finding| {
            let mut result = result(finding, line_of(finding.audit.target()), source.strict);
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = json!(uri);
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "fleet",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "results": results
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}
