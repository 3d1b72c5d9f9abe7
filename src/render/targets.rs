//! `fleet targets`: every resolved target with the entry and the rules it
//! came from, then what discovery found but does not manage.

use std::collections::BTreeSet;
use std::io::{self, Write};

use serde::Serialize;

use super::{BOLD, RED, YELLOW, paint};
use crate::engine::discovery::{Resolved, Source};
use crate::fleet::Target;

/// What `fleet targets` prints: the selected targets of a resolution.
pub struct TargetsView<'a> {
    pub fleet_file: &'a str,
    pub fleet_sha256: &'a str,
    pub targets: &'a [Target],
    pub resolved: &'a Resolved,
}

/// The counts of a view, shown in the last line and in the JSON summary.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TargetsSummary {
    pub targets: usize,
    pub accounts: usize,
    /// Targets found under an OU entry or from an account's enabled regions.
    pub discovered: usize,
    pub from_organizational_units: usize,
    pub from_enabled_regions: usize,
    pub inactive_accounts: usize,
    pub unresolved: usize,
}

impl TargetsView<'_> {
    pub fn summary(&self) -> TargetsSummary {
        let resolution = self.resolved;
        let accounts: BTreeSet<&str> = self.targets.iter().map(|t| t.account.id.as_str()).collect();
        TargetsSummary {
            targets: self.targets.len(),
            accounts: accounts.len(),
            discovered: resolution.discovered(self.targets),
            from_organizational_units: resolution.from_units(self.targets),
            from_enabled_regions: self
                .targets
                .iter()
                .filter(|t| resolution.source_of(t).is_some_and(|s| s.rule.enabled))
                .count(),
            inactive_accounts: resolution.inactive.len(),
            unresolved: resolution.unresolved.len(),
        }
    }
}

/// One target as the table and JSON show it.
struct Row<'a> {
    target: &'a Target,
    source: Option<&'a Source>,
    regions_from: String,
    profile_from: &'static str,
}

fn rows<'a>(view: &TargetsView<'a>) -> Vec<Row<'a>> {
    view.targets
        .iter()
        .map(|target| {
            let source = view.resolved.source_of(target);
            Row {
                target,
                source: source.map(|s| &s.source),
                regions_from: source.map_or_else(String::new, |s| s.rule.to_string()),
                profile_from: source.map_or("profile", |s| s.profile_rule(&target.region)),
            }
        })
        .collect()
}

/// The table of targets, then what was found but is not managed, then a
/// summary line.
pub fn human(out: &mut dyn Write, view: &TargetsView<'_>) -> io::Result<()> {
    let resolution = view.resolved;
    let rows = rows(view);
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            let profile = match row.profile_from {
                "region_profiles" => format!("{} (region_profiles)", row.target.profile),
                _ => row.target.profile.to_string(),
            };
            [
                row.target.id().to_string(),
                profile,
                row.source.map_or_else(String::new, ToString::to_string),
                row.regions_from.clone(),
            ]
        })
        .collect();
    let header = ["TARGET", "PROFILE", "ENTRY", "REGIONS"];
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    if !cells.is_empty() {
        let line = |cells: &[String]| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
                if i + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  "));
                }
            }
            text
        };
        writeln!(out, "{}", paint(BOLD, line(&header.map(str::to_owned))))?;
        for row in &cells {
            writeln!(out, "{}", line(row))?;
        }
    }

    if !resolution.overridden.is_empty() {
        writeln!(
            out,
            "\nManaged by their [[accounts]] entry, though under an organizational unit:"
        )?;
        for o in &resolution.overridden {
            writeln!(
                out,
                "  {} ({}): [[accounts]] line {}, under {}",
                o.account.label(),
                o.account.id,
                o.line,
                o.unit
            )?;
        }
    }
    if !resolution.inactive.is_empty() {
        writeln!(out, "\nNot managed, not ACTIVE:")?;
        for i in &resolution.inactive {
            writeln!(
                out,
                "  {} ({}): {}, under {}",
                i.account.name,
                i.account.id,
                paint(YELLOW, &i.account.state),
                i.unit
            )?;
        }
    }
    if !resolution.excluded.is_empty() {
        writeln!(out, "\nExcluded:")?;
        for e in &resolution.excluded {
            writeln!(
                out,
                "  {} ({}): exclude \"{}\" of {}",
                e.account.name, e.account.id, e.pattern, e.unit
            )?;
        }
    }
    if !resolution.unnamed.is_empty() {
        writeln!(
            out,
            "\nWritten with their account id (the name in AWS Organizations cannot name targets):"
        )?;
        for u in &resolution.unnamed {
            writeln!(
                out,
                "  {}: \"{}\": {}",
                u.account.id, u.account.name, u.reason
            )?;
        }
    }
    if !resolution.unresolved.is_empty() {
        writeln!(out, "\nNot resolved (left out of this run, which fails):")?;
        for u in &resolution.unresolved {
            writeln!(out, "  {} {u}", paint(RED, "!"))?;
        }
    }

    let summary = view.summary();
    write!(
        out,
        "\nTargets: {} in {} account{}",
        summary.targets,
        summary.accounts,
        if summary.accounts == 1 { "" } else { "s" }
    )?;
    if summary.discovered > 0 {
        write!(
            out,
            "; {} discovered ({} from organizational units, {} from enabled regions)",
            summary.discovered, summary.from_organizational_units, summary.from_enabled_regions
        )?;
    }
    if summary.unresolved > 0 {
        write!(out, "; {} not resolved", summary.unresolved)?;
    }
    writeln!(out, ".")
}

#[derive(Serialize)]
struct Document<'a> {
    fleet_file: &'a str,
    fleet_sha256: &'a str,
    summary: TargetsSummary,
    targets: Vec<TargetJson<'a>>,
    managed_by_account_entry: Vec<OverriddenJson<'a>>,
    inactive: Vec<FoundJson<'a>>,
    excluded: Vec<ExcludedJson<'a>>,
    named_by_id: Vec<UnnamedJson<'a>>,
    unresolved: Vec<UnresolvedJson<'a>>,
}

#[derive(Serialize)]
struct TargetJson<'a> {
    target: String,
    account_id: &'a str,
    account_name: Option<&'a str>,
    region: &'a str,
    profile: &'a str,
    /// `profile`, or `region_profiles` when an override set it.
    profile_from: &'static str,
    /// `fleet.regions`, `account.regions`, `organizational_unit.regions`,
    /// or `enabled (…)` of one of them.
    regions_from: String,
    source: Option<&'a Source>,
    role_arn: Option<&'a str>,
}

#[derive(Serialize)]
struct UnitJson<'a> {
    id: &'a str,
    name: Option<&'a str>,
    line: usize,
}

#[derive(Serialize)]
struct OverriddenJson<'a> {
    account_id: &'a str,
    account_name: Option<&'a str>,
    account_line: usize,
    organizational_unit: UnitJson<'a>,
}

#[derive(Serialize)]
struct FoundJson<'a> {
    account_id: &'a str,
    account_name: &'a str,
    state: &'a str,
    organizational_unit: UnitJson<'a>,
}

#[derive(Serialize)]
struct ExcludedJson<'a> {
    account_id: &'a str,
    account_name: &'a str,
    pattern: &'a str,
    organizational_unit: UnitJson<'a>,
}

#[derive(Serialize)]
struct UnnamedJson<'a> {
    account_id: &'a str,
    name_in_organizations: &'a str,
    reason: String,
}

#[derive(Serialize)]
struct UnresolvedJson<'a> {
    account_id: &'a str,
    account_name: Option<&'a str>,
    region: Option<&'a str>,
    error: &'a crate::engine::ApiError,
}

fn unit(unit: &crate::engine::discovery::UnitRef) -> UnitJson<'_> {
    UnitJson {
        id: &unit.id,
        name: unit.name.as_deref(),
        line: unit.line,
    }
}

/// The same as [`human`], as one JSON document.
pub fn json(out: &mut dyn Write, view: &TargetsView<'_>) -> io::Result<()> {
    let resolution = view.resolved;
    let document = Document {
        fleet_file: view.fleet_file,
        fleet_sha256: view.fleet_sha256,
        summary: view.summary(),
        targets: rows(view)
            .into_iter()
            .map(|row| TargetJson {
                target: row.target.id().to_string(),
                account_id: row.target.account.id.as_str(),
                account_name: row.target.account.name.as_deref(),
                region: row.target.region.as_str(),
                profile: &row.target.profile,
                profile_from: row.profile_from,
                regions_from: row.regions_from,
                source: row.source,
                role_arn: row.target.account.role_arn.as_deref(),
            })
            .collect(),
        managed_by_account_entry: resolution
            .overridden
            .iter()
            .map(|o| OverriddenJson {
                account_id: o.account.id.as_str(),
                account_name: o.account.name.as_deref(),
                account_line: o.line,
                organizational_unit: unit(&o.unit),
            })
            .collect(),
        inactive: resolution
            .inactive
            .iter()
            .map(|i| FoundJson {
                account_id: i.account.id.as_str(),
                account_name: &i.account.name,
                state: &i.account.state,
                organizational_unit: unit(&i.unit),
            })
            .collect(),
        excluded: resolution
            .excluded
            .iter()
            .map(|e| ExcludedJson {
                account_id: e.account.id.as_str(),
                account_name: &e.account.name,
                pattern: &e.pattern,
                organizational_unit: unit(&e.unit),
            })
            .collect(),
        named_by_id: resolution
            .unnamed
            .iter()
            .map(|u| UnnamedJson {
                account_id: u.account.id.as_str(),
                name_in_organizations: &u.account.name,
                reason: u.reason.to_string(),
            })
            .collect(),
        unresolved: resolution
            .unresolved
            .iter()
            .map(|u| UnresolvedJson {
                account_id: u.account.id.as_str(),
                account_name: u.account.name.as_deref(),
                region: u.region.as_ref().map(|r| r.as_str()),
                error: &u.error,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::discovery::resolve;
    use crate::engine::discovery::tests::{FakeOrganization, fleet};

    fn plain(bytes: Vec<u8>) -> String {
        anstream::adapter::strip_str(&String::from_utf8(bytes).unwrap()).to_string()
    }

    #[tokio::test]
    async fn targets_json() {
        let fleet = fleet();
        let resolved = resolve(&FakeOrganization::example(), fleet.clone(), 4)
            .await
            .unwrap();
        let view = TargetsView {
            fleet_file: "fleet.toml",
            fleet_sha256: &fleet.sha256,
            targets: &resolved.fleet.targets,
            resolved: &resolved,
        };
        let mut out = Vec::new();
        json(&mut out, &view).unwrap();
        let text = String::from_utf8(out).unwrap();
        insta::assert_snapshot!(text.replace(&fleet.sha256, "[sha256]"));
    }

    #[tokio::test]
    async fn targets_human() {
        let fleet = fleet();
        let resolved = resolve(&FakeOrganization::example(), fleet.clone(), 4)
            .await
            .unwrap();
        let view = TargetsView {
            fleet_file: "fleet.toml",
            fleet_sha256: &fleet.sha256,
            targets: &resolved.fleet.targets,
            resolved: &resolved,
        };
        let mut out = Vec::new();
        human(&mut out, &view).unwrap();
        insta::assert_snapshot!(plain(out));
    }
}
