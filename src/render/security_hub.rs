//! What `fleet audit --to-security-hub` says it did (on stderr: stdout holds
//! the report in the format asked for).

use super::count;
use crate::engine::security_hub::HubExport;

/// One line: how many findings were imported and resolved, and where.
pub fn summary(export: &HubExport) -> String {
    let places = export.places.len();
    let failed = export.failed().count();
    let mut line = format!(
        "Security Hub: {} imported, {} resolved, in {}",
        count(export.active(), "finding"),
        export.resolved(),
        count(places - failed, "account-region"),
    );
    if failed > 0 {
        line.push_str(&format!("; {failed} failed"));
    }
    if export.skipped > 0 {
        line.push_str(&format!(
            "; {} left alone (not read, or a region not enabled)",
            count(export.skipped, "target")
        ));
    }
    line
}

/// One line per account × region whose export failed, and per finding
/// Security Hub refused.
pub fn failures(export: &HubExport) -> Vec<String> {
    let mut lines = Vec::new();
    for place in export.failed() {
        let target = format!("{}/{}", place.account_id, place.region);
        if let Some(err) = &place.error {
            let hint = if err.code.aws() == Some("InvalidAccessException") {
                " (is Security Hub enabled in this account and region?)"
            } else if err.is_access_denied() {
                " (fleet's role needs securityhub:GetFindings and securityhub:BatchImportFindings; see `fleet policy`)"
            } else {
                ""
            };
            lines.push(format!(
                "Security Hub: cannot export the findings of {target}: {err}{hint}"
            ));
        }
        for (id, reason) in &place.refused {
            lines.push(format!(
                "Security Hub refused finding {id} of {target}: {reason}"
            ));
        }
    }
    lines
}
