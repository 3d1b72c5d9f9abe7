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

fn description(kind: FindingKind) -> (&'static str, &'static str) {
    match kind {
        FindingKind::Error => (
            "The target could not be read",
            "fleet could not read the logging configuration of this account and region (access denied, throttled, or a managed region the account has not enabled). Until it can, nobody can tell whether Bedrock invocations there are logged. Check fleet's role in the account and the error message.",
        ),
        FindingKind::Drift => (
            "Logging differs from its profile",
            "The live model invocation logging configuration differs from the profile the fleet file assigns (or logs although the profile has enabled = false). Someone changed it outside fleet; `fleet plan` shows the diff and `fleet apply` restores the profile.",
        ),
        FindingKind::DestinationDrift => (
            "A managed destination drifted",
            "A bucket, log group or role that the fleet file says fleet keeps differs from what fleet keeps of it (fleet's policy statement removed or changed, a retention changed, the role's trust changed) or is gone. Until it is restored, logs may not be delivered. `fleet plan` shows the diff and `fleet apply` restores it, keeping everything fleet does not own.",
        ),
        FindingKind::Missing => (
            "Logging is missing",
            "The fleet file says this account and region must log Bedrock model invocations, and nothing is configured. Run `fleet apply`.",
        ),
        FindingKind::Unmanaged => (
            "Logging in a region the fleet file does not manage",
            "A region that the fleet file does not list for this account has a logging configuration. Add the region to the account's regions so fleet keeps it, or remove the configuration.",
        ),
        FindingKind::Unlogged => (
            "A region without logging",
            "A Bedrock region of this account that the fleet file does not manage logs nothing: invocations there leave no trace. Add the region to the account's regions.",
        ),
        FindingKind::ForeignDestination => (
            "A destination of another account",
            "A bucket or role of the live configuration seems to belong to another account; AWS accepts only destinations in the same account and region.",
        ),
        FindingKind::NoS3Retention => (
            "No S3 destination for retention",
            "The configuration has no S3 destination, so invocation logs are not kept for long-term retention.",
        ),
        FindingKind::NoLargeDataBucket => (
            "CloudWatch without a large-data bucket",
            "CloudWatch Logs receives the logs but bodies over 100 KB and binary data have no S3 bucket to go to.",
        ),
    }
}

fn level(kind: FindingKind, strict: bool) -> &'static str {
    match kind.severity() {
        Severity::Error | Severity::Finding => "error",
        Severity::Warning if strict => "error",
        Severity::Warning => "warning",
    }
}

fn rule(kind: FindingKind, strict: bool) -> Value {
    let (short, full) = description(kind);
    json!({
        "id": kind.as_str(),
        "name": kind.as_str(),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": { "text": full, "markdown": full },
        "defaultConfiguration": { "level": level(kind, strict) },
        "properties": { "tags": ["security", "logging", "bedrock"] }
    })
}

fn result(finding: &Finding<'_>, line: usize, strict: bool) -> Value {
    let target = finding.audit.target();
    let rule_index = FindingKind::ALL
        .iter()
        .position(|k| *k == finding.kind)
        .expect("every kind has a rule");
    let mut text = format!("{}: {}", target.id(), finding.detail);
    let diff = finding.diff();
    if !diff.is_empty() {
        text.push_str("\n\n");
        text.push_str(&diff);
    }
    json!({
        "ruleId": finding.kind.as_str(),
        "ruleIndex": rule_index,
        "level": level(finding.kind, strict),
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
