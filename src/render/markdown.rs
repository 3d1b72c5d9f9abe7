//! Markdown for pull-request comments and GitHub step summaries: a summary
//! table, then each distinct change once with the targets it applies to,
//! kept under GitHub's comment limit.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::grouping::{
    By, ChangeGroup, DestinationChange, change_groups, destination_groups, templated,
};
use crate::engine::preflight::Severity;
use crate::engine::saved::Shard;
use crate::engine::{Action, ApplyOutcome, ApplyReport, Plan, PlanCounts, TargetPlan};

/// GitHub rejects comments longer than 65,536 characters.
pub const COMMENT_LIMIT: usize = 65_536;
/// Preflight rows shown before the rest is left to the JSON plan.
const PREFLIGHT_ROWS: usize = 100;
/// GitHub's step summary takes at most 1 MiB.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// Where the plan came from, for the heading.
pub struct PlanSource<'a> {
    pub fleet_file: &'a str,
    pub fleet_sha256: &'a str,
    pub created_at: &'a str,
    /// The shard the plan covers, if it is one.
    pub partition: Option<Shard>,
    /// The shards a merged plan lacks (`fleet report --allow-partial`).
    pub missing_shards: &'a [Shard],
}

/// The hidden first line of a plan comment: the GitHub Action finds the
/// comment of a fleet file by it, to edit that comment instead of adding one.
pub fn comment_marker(fleet_file: &str) -> String {
    format!("<!-- fleet: {} -->", fleet_file.replace("--", "- -"))
}

/// The changes that weaken logging, first and loud: GitHub renders the
/// `[!WARNING]` alert in red-amber. Identical losses (after turning ids and
/// regions into placeholders) are grouped.
fn weakening_section(out: &mut String, plan: &Plan, cap: usize) {
    let weakening = plan.weakening();
    if weakening.is_empty() {
        return;
    }
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (target, losses) in &weakening {
        let t = &target.target;
        let text = templated(&losses.join("; "), t);
        groups.entry(text).or_default().push(t.id().to_string());
    }
    let _ = writeln!(
        out,
        "> [!WARNING]\n> **{} target{} will log less.**",
        weakening.len(),
        if weakening.len() == 1 { "" } else { "s" }
    );
    for (losses, targets) in groups.iter().take(cap) {
        let shown: Vec<String> = targets.iter().take(10).map(|t| format!("`{t}`")).collect();
        let more = if targets.len() > 10 {
            format!(" and {} more", targets.len() - 10)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "> - {}{more}: {}",
            shown.join(", "),
            escape_cell(losses)
        );
    }
    if groups.len() > cap {
        let left: usize = groups.values().skip(cap).map(Vec::len).sum();
        let _ = writeln!(
            out,
            "> - and {left} more targets in {} more groups: every one is in the JSON plan artifact (`weakens`)",
            groups.len() - cap
        );
    }
    out.push('\n');
}

/// How many destination change groups a comment shows before it points to
/// the JSON plan.
const DESTINATION_GROUPS: usize = 20;

/// Managed destinations that change, identical changes (after turning the
/// account id and region into placeholders) grouped, each diff folded.
fn destination_section(out: &mut String, plan: &Plan, cap: usize) {
    let changing: Vec<&crate::engine::destinations::ResourcePlan> = plan
        .destinations
        .iter()
        .filter(|d| d.is_change() || d.before.is_err())
        .collect();
    if changing.is_empty() {
        return;
    }
    let groups = destination_groups(plan);
    let _ = writeln!(
        out,
        "#### Destinations: {} to create, {} to update, {} failed\n",
        changing
            .iter()
            .filter(|d| d.before.is_ok() && d.is_create())
            .count(),
        changing
            .iter()
            .filter(|d| d.before.is_ok() && !d.is_create())
            .count(),
        changing.iter().filter(|d| d.before.is_err()).count(),
    );
    for group in groups.iter().take(cap) {
        let labels: Vec<String> = group
            .resources
            .iter()
            .map(|(_, r)| r.desired.resource.label())
            .collect();
        let verb = match group.change {
            DestinationChange::CannotPlan => "**cannot plan**",
            DestinationChange::Create => "**create**",
            DestinationChange::Update => "**update**",
        };
        let shown: Vec<String> = labels.iter().take(10).map(|l| format!("`{l}`")).collect();
        let more = if labels.len() > 10 {
            format!(" and {} more", labels.len() - 10)
        } else {
            String::new()
        };
        let _ = writeln!(out, "- {verb} {}{more}", shown.join(", "));
        if group.change == DestinationChange::CannotPlan {
            let _ = writeln!(
                out,
                "  {}",
                escape_cell(&format!("cannot plan: {}", group.text))
            );
        } else {
            let _ = writeln!(
                out,
                "  <details><summary>diff</summary>\n\n```diff\n{}```\n  </details>",
                group.text
            );
        }
    }
    if groups.len() > cap {
        let _ = writeln!(
            out,
            "\n_{} more destination change groups in the JSON plan artifact._",
            groups.len() - cap
        );
    }
    out.push('\n');
}

/// One quoted note per region that leaves flags out of Get.
pub(super) fn unreported_notes(out: &mut String, unreported: &[crate::engine::UnreportedFlags]) {
    if unreported.is_empty() {
        return;
    }
    for region in unreported {
        let _ = writeln!(out, "> **Note:** {}", super::unreported_note(region));
    }
    out.push('\n');
}

fn summary_table(out: &mut String, counts: &PlanCounts) {
    out.push_str("| create | update | delete | unchanged | failed |\n|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |\n",
        counts.create, counts.update, counts.delete, counts.unchanged, counts.failed
    );
}

fn target_list(targets: &[(usize, &TargetPlan)], shown: usize) -> String {
    let mut names: Vec<String> = targets
        .iter()
        .take(shown)
        .map(|(_, t)| format!("`{}`", t.target.id()))
        .collect();
    if targets.len() > shown {
        names.push(format!("and {} more", targets.len() - shown));
    }
    names.join(", ")
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::NoOp => "no-op",
    }
}

fn render_group(group: &ChangeGroup<'_>, with_diff: bool) -> String {
    let mut out = String::new();
    let count = group.targets.len();
    let _ = writeln!(
        out,
        "#### {} — {}\n",
        verb(group.action),
        if count == 1 {
            format!("1 target: {}", target_list(&group.targets, 1))
        } else {
            format!(
                "same change in {count} targets: {}",
                target_list(&group.targets, 50)
            )
        }
    );
    if with_diff {
        let _ = writeln!(
            out,
            "<details><summary>diff</summary>\n\n```diff\n{}```\n\n</details>\n",
            group.diff
        );
    } else {
        let _ = writeln!(
            out,
            "_Diff left out to stay under the size limit ({} characters); the full plan is in the JSON plan artifact._\n",
            group.diff.len()
        );
    }
    out
}

/// The plan as markdown, no longer than `limit` bytes (so no longer than
/// `limit` characters). When it would not fit, the diffs of the largest
/// groups are left out first, then whole groups, each with a note.
/// The targets somebody other than fleet changed last (CloudTrail), with
/// who, at most `cap` rows.
fn changed_outside_section(out: &mut String, plan: &Plan, cap: usize) {
    if plan.changed_outside.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "#### Changed outside fleet ({})\n\n| target | who changed it |\n|---|---|",
        plan.changed_outside.len()
    );
    for (index, _) in plan.changed_outside.iter().take(cap) {
        let _ = writeln!(
            out,
            "| `{}` | {} |",
            plan.targets[*index].target.id(),
            plan.changed_outside_by(*index)
                .unwrap_or_default()
                .replace('|', "\\|")
        );
    }
    if plan.changed_outside.len() > cap {
        let _ = writeln!(
            out,
            "\n_{} more; `fleet plan` lists them all._",
            plan.changed_outside.len() - cap
        );
    }
    out.push('\n');
}

pub fn plan(plan: &Plan, source: &PlanSource<'_>, limit: usize) -> String {
    let counts = plan.counts();
    let mut head = String::new();
    let _ = writeln!(head, "{}", comment_marker(source.fleet_file));
    let _ = writeln!(
        head,
        "### fleet plan{}: {} to create, {} to update, {} to delete\n",
        source
            .partition
            .map(|shard| format!(" (shard {shard})"))
            .unwrap_or_default(),
        counts.create,
        counts.update,
        counts.delete
    );
    if !source.missing_shards.is_empty() {
        let _ = writeln!(
            head,
            "> [!WARNING]\n> **{}.** Do not review this as the whole fleet: re-run the failed job.\n",
            super::partial_notice(source.missing_shards)
        );
    }
    let _ = writeln!(
        head,
        "`{}` (sha256 `{}`), planned at {}\n",
        source.fleet_file,
        super::short_sha(source.fleet_sha256),
        source.created_at
    );
    // Sections that are always shown are capped in a limited comment.
    let groups_shown = if limit == usize::MAX {
        usize::MAX
    } else {
        DESTINATION_GROUPS
    };
    weakening_section(&mut head, plan, groups_shown);
    changed_outside_section(&mut head, plan, groups_shown);
    summary_table(&mut head, &counts);
    if counts.changes() == 0 && counts.failed == 0 {
        head.push_str("**No changes.** Every target matches its profile.\n");
    }
    unreported_notes(&mut head, &plan.unreported_flags());
    destination_section(&mut head, plan, groups_shown);

    let mut failures = String::new();
    let failed: Vec<&TargetPlan> = plan.targets.iter().filter(|t| t.live.is_err()).collect();
    if !failed.is_empty() {
        failures.push_str("#### Targets that could not be read\n\n| target | error |\n|---|---|\n");
        for target in &failed {
            if let Err(err) = &target.live {
                let _ = writeln!(
                    failures,
                    "| `{}` | {}: {} |",
                    target.target.id(),
                    err.code,
                    escape_cell(&err.message)
                );
            }
        }
        failures.push('\n');
    }

    let mut findings = String::new();
    let with_findings: Vec<&TargetPlan> = plan
        .targets
        .iter()
        .filter(|t| !t.preflight.is_empty())
        .collect();
    if !with_findings.is_empty() {
        findings.push_str(
            "#### Preflight\n\n| target | resource | finding | fix |\n|---|---|---|---|\n",
        );
        let mut rows = 0;
        for target in &with_findings {
            for finding in &target.preflight {
                rows += 1;
                if rows <= PREFLIGHT_ROWS {
                    let _ = writeln!(
                        findings,
                        "| `{}` | {} | {}: {} | {} |",
                        target.target.id(),
                        escape_cell(&finding.resource),
                        match finding.severity {
                            Severity::Problem => "problem",
                            Severity::CannotCheck => "cannot check",
                            Severity::Note => "note",
                        },
                        escape_cell(&finding.problem),
                        escape_cell(&finding.fix)
                    );
                }
            }
        }
        if rows > PREFLIGHT_ROWS {
            let _ = writeln!(
                findings,
                "\n_{} more findings in the JSON plan artifact._",
                rows - PREFLIGHT_ROWS
            );
        }
        findings.push('\n');
    }
    failures.push_str(&findings);

    let groups = change_groups(plan, By::Diff);
    let mut with_diff = vec![true; groups.len()];
    let mut included = groups.len();
    let render = |with_diff: &[bool], included: usize| {
        let mut out = head.clone();
        out.push_str(&failures);
        for (group, diff) in groups.iter().zip(with_diff).take(included) {
            out.push_str(&render_group(group, *diff));
        }
        if included < groups.len() {
            let left: usize = groups[included..].iter().map(|g| g.targets.len()).sum();
            let _ = writeln!(
                out,
                "_{} more change groups ({left} targets) left out to stay under the size limit; the full plan is in the JSON plan artifact._",
                groups.len() - included
            );
        }
        out
    };
    let mut text = render(&with_diff, included);
    // Drop the largest diffs first, then whole groups from the end.
    let mut by_size: Vec<usize> = (0..groups.len()).collect();
    by_size.sort_by(|&a, &b| groups[b].diff.len().cmp(&groups[a].diff.len()));
    let mut next_big = by_size.into_iter();
    while text.len() > limit {
        if let Some(index) = next_big.next() {
            with_diff[index] = false;
        } else if included > 0 {
            included -= 1;
        } else {
            break;
        }
        text = render(&with_diff, included);
    }
    text
}

/// Apply's outcome as markdown, for the step summary.
pub fn apply(report: &ApplyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### fleet apply: {} applied, {} failed, {} not attempted{}\n",
        report.applied(),
        report.failed(),
        report.not_attempted(),
        match report.already_applied() {
            0 => String::new(),
            n => format!(", {n} already applied"),
        }
    );
    let problems: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome.is_failure())
        .collect();
    if !problems.is_empty() {
        out.push_str("| target | action | outcome |\n|---|---|---|\n");
        for result in problems {
            let outcome = match &result.outcome {
                ApplyOutcome::Applied | ApplyOutcome::AlreadyApplied => continue,
                ApplyOutcome::Failed(err) => {
                    format!("failed: {}: {}", err.code, escape_cell(&err.message))
                }
                ApplyOutcome::Unverified(err) => format!(
                    "written, not verified: {}: {}",
                    err.code,
                    escape_cell(&err.message)
                ),
                ApplyOutcome::Mismatch { .. } => "written, but reads back different".to_owned(),
                ApplyOutcome::NotAttempted(_) => "not attempted".to_owned(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {outcome} |",
                result.plan.target.id(),
                result.action.as_str()
            );
        }
    }
    if report.interrupted {
        out.push_str("\n_Interrupted: no new write was started after the signal._\n");
    }
    out
}

fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Appends `markdown` to the file named by `GITHUB_STEP_SUMMARY`, if set.
pub fn append_step_summary(markdown: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{markdown}")
}
