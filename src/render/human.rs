//! The human-readable plan, apply summary and stale-plan report.

use std::io::{self, Write};

use super::grouping::{
    By, ChangeGroup, DestinationChange, DestinationGroup, change_groups, destination_groups,
    templated_resource,
};
use super::{BOLD, CYAN, GREEN, RED, YELLOW, paint};
use crate::engine::destinations::{ResourceOutcome, ResourcePlan};
use crate::engine::preflight::{Finding, Severity};
use crate::engine::{Action, ApplyOutcome, ApplyReport, Plan, PlanCounts, Recheck, TargetPlan};

/// How the human plan shows the diffs of targets that get the same change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Diffs {
    /// Each distinct change once, then the targets it applies to.
    #[default]
    Grouped,
    /// Every target with its own diff (`--each-diff`).
    EachTarget,
}

/// Lines of a target list are wrapped before this column.
const WIDTH: usize = 100;

/// Prints the destinations that change, then the targets that change (each
/// distinct change once, or every target with `Diffs::EachTarget`), then
/// the targets that could not be read, then the summary lines.
pub fn plan(out: &mut dyn Write, plan: &Plan, diffs: Diffs) -> io::Result<()> {
    destinations(out, plan, diffs)?;
    match diffs {
        Diffs::EachTarget => {
            for (index, target) in plan.targets.iter().enumerate() {
                if let Some(action) = target.action().filter(|a| *a != Action::NoOp) {
                    target_change(out, plan, index, target, action)?;
                }
            }
        }
        Diffs::Grouped => {
            for group in change_groups(plan, By::Everything) {
                match group.targets.as_slice() {
                    [(index, target)] => target_change(out, plan, *index, target, group.action)?,
                    _ => group_change(out, plan, &group)?,
                }
            }
        }
    }
    failures(out, plan)?;
    summary(out, &plan.counts())?;
    destination_summary(out, plan)?;
    preflight_summary(out, plan)?;
    weakening(out, plan)
}

/// One target's change: heading, who changed it outside fleet, its diff and
/// its preflight findings.
fn target_change(
    out: &mut dyn Write,
    plan: &Plan,
    index: usize,
    target: &TargetPlan,
    action: Action,
) -> io::Result<()> {
    writeln!(out, "{}", heading(target, action))?;
    changed_outside(out, plan, index, None)?;
    write_diff(out, &target.diff())?;
    preflight(out, &target.preflight)?;
    writeln!(out)
}

fn changed_outside(
    out: &mut dyn Write,
    plan: &Plan,
    index: usize,
    of: Option<&TargetPlan>,
) -> io::Result<()> {
    let Some(who) = plan.changed_outside_by(index) else {
        return Ok(());
    };
    let of = of
        .map(|target| format!("{}: ", target.target.id()))
        .unwrap_or_default();
    writeln!(
        out,
        "  {} {of}{who}",
        paint(YELLOW, "↳ changed outside fleet:")
    )
}

/// A change several targets share: the diff once (with placeholders for
/// their ids), its findings, then the targets and their own notes.
fn group_change(out: &mut dyn Write, plan: &Plan, group: &ChangeGroup<'_>) -> io::Result<()> {
    let (marker, style) = marker(group.action);
    let mut profiles: Vec<&str> = Vec::new();
    for (_, target) in &group.targets {
        if !profiles.contains(&&*target.target.profile) {
            profiles.push(&target.target.profile);
        }
    }
    writeln!(
        out,
        "{} {} (profile{} {})",
        paint(style, marker),
        paint(BOLD, super::count(group.targets.len(), "target")),
        if profiles.len() == 1 { "" } else { "s" },
        profiles.join(", ")
    )?;
    let findings: Vec<String> = group
        .findings
        .iter()
        .map(|f| format!("{} {} {}", f.resource, f.problem, f.fix))
        .collect();
    let mut texts: Vec<&str> = vec![&group.diff];
    texts.extend(findings.iter().map(String::as_str));
    texts.extend(group.destinations.iter().map(String::as_str));
    placeholder_note(out, &texts, "target's")?;
    write_diff(out, &group.diff)?;
    preflight(out, &group.findings)?;
    if !group.destinations.is_empty() {
        writeln!(
            out,
            "  {} {}",
            paint(CYAN, "↳ destinations:"),
            group.destinations.join("; ")
        )?;
    }
    target_list(out, &group.targets)?;
    for (index, target) in &group.targets {
        changed_outside(out, plan, *index, Some(target))?;
    }
    writeln!(out)
}

fn target_list(out: &mut dyn Write, targets: &[(usize, &TargetPlan)]) -> io::Result<()> {
    let places: Vec<(&str, Option<&str>)> = targets
        .iter()
        .map(|(_, t)| (t.target.account.label(), Some(t.target.region.as_str())))
        .collect();
    place_list(out, &super::count(targets.len(), "target"), &places)
}

/// `  applies to 6 targets (2 accounts × 3 regions):` and then, per set of
/// accounts that share their regions, `    prod, dev × us-east-1, eu-west-1`,
/// wrapped; a place without a region (an IAM role) is its account alone.
fn place_list(out: &mut dyn Write, what: &str, places: &[(&str, Option<&str>)]) -> io::Result<()> {
    let mut by_account: Vec<(&str, Vec<&str>)> = Vec::new();
    for &(account, region) in places {
        let index = match by_account.iter().position(|(a, _)| *a == account) {
            Some(index) => index,
            None => {
                by_account.push((account, Vec::new()));
                by_account.len() - 1
            }
        };
        by_account[index].1.extend(region);
    }
    let mut rows: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for (account, regions) in by_account {
        match rows.iter_mut().find(|(_, r)| *r == regions) {
            Some((accounts, _)) => accounts.push(account),
            None => rows.push((vec![account], regions)),
        }
    }
    let shape = match rows.as_slice() {
        [(accounts, regions)] if accounts.len() > 1 && regions.len() > 1 => format!(
            " ({} × {})",
            super::count(accounts.len(), "account"),
            super::count(regions.len(), "region")
        ),
        _ => String::new(),
    };
    writeln!(out, "  applies to {what}{shape}:")?;
    for (accounts, regions) in rows {
        let accounts = wrap(&accounts, "    ", "    ");
        let lines = if regions.is_empty() {
            accounts
        } else if accounts.len() == 1 {
            let first = format!("{} × ", accounts[0]);
            let rest = " ".repeat(first.chars().count().min(WIDTH / 2));
            wrap(&regions, &first, &rest)
        } else {
            let mut lines = accounts;
            lines.extend(wrap(&regions, "      × ", "        "));
            lines
        };
        for line in lines {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `items` joined by `, ` on lines no wider than [`WIDTH`] where they fit,
/// the first line starting with `first`, the others with `rest`.
fn wrap(items: &[&str], first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            (*item).to_owned()
        };
        let width = line.chars().count() + usize::from(!empty) + piece.chars().count();
        if !empty && width > WIDTH {
            lines.push(line);
            line = rest.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&piece);
        empty = false;
    }
    lines.push(line);
    lines
}

/// The targets that could not be read, last, so none is lost among the
/// diffs.
fn failures(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let failed: Vec<(&TargetPlan, &crate::engine::ApiError)> = plan
        .targets
        .iter()
        .filter_map(|t| t.live.as_ref().err().map(|err| (t, err)))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        paint(
            RED.bold(),
            format!(
                "{} could not be read:",
                super::count(failed.len(), "target")
            )
        )
    )?;
    for (target, err) in failed {
        writeln!(
            out,
            "  {} {}: {}: {}",
            paint(RED, "!"),
            paint(BOLD, target.target.id()),
            err.code,
            err.message
        )?;
    }
    writeln!(out)
}

/// The managed destinations that change or could not be read, with the
/// diff of what fleet keeps of them, before the targets that use them;
/// identical changes once, with where they are, unless `Diffs::EachTarget`.
fn destinations(out: &mut dyn Write, plan: &Plan, diffs: Diffs) -> io::Result<()> {
    match diffs {
        Diffs::EachTarget => {
            for resource in &plan.destinations {
                destination(out, resource)?;
            }
        }
        Diffs::Grouped => {
            let mut groups = destination_groups(plan);
            groups.sort_by_key(|group| group.resources[0].0);
            for group in &groups {
                match group.resources.as_slice() {
                    [(_, resource)] => destination(out, resource)?,
                    _ => destination_group(out, plan, group)?,
                }
            }
        }
    }
    Ok(())
}

fn destination(out: &mut dyn Write, resource: &ResourcePlan) -> io::Result<()> {
    let users = resource.targets.len();
    let used_by = format!("(for {users} target{})", if users == 1 { "" } else { "s" });
    let label = resource.desired.resource.label();
    match &resource.before {
        Err(err) => writeln!(
            out,
            "{} {}: {}: {}\n",
            paint(RED, "! cannot plan"),
            paint(BOLD, &label),
            err.code,
            err.message
        ),
        Ok(_) if !resource.is_change() => Ok(()),
        Ok(_) => {
            let (marker, style) = if resource.is_create() {
                ("+ create", GREEN)
            } else {
                ("~ update", YELLOW)
            };
            writeln!(
                out,
                "{} {} {used_by}",
                paint(style, marker),
                paint(BOLD, &label)
            )?;
            write_diff(out, &resource.diff())?;
            writeln!(out)
        }
    }
}

/// Destinations that share one change: `+ create 40 × bucket
/// s3://logs-{account_id}-{region} (for 40 targets)`, the diff once, then
/// where they are.
fn destination_group(
    out: &mut dyn Write,
    plan: &Plan,
    group: &DestinationGroup<'_>,
) -> io::Result<()> {
    let (_, first) = group.resources[0];
    let label = templated_resource(&first.desired.resource.label(), &first.desired.resource);
    let what = paint(BOLD, format!("{} × {label}", group.resources.len()));
    let mut users: Vec<usize> = group
        .resources
        .iter()
        .flat_map(|(_, r)| r.targets.iter().copied())
        .collect();
    users.sort_unstable();
    users.dedup();
    let places: Vec<(&str, Option<&str>)> = group
        .resources
        .iter()
        .map(|(_, resource)| {
            let (account_id, region) = resource.desired.resource.place();
            let account = resource
                .targets
                .first()
                .and_then(|&index| plan.targets.get(index))
                .map_or(account_id, |t| t.target.account.label());
            (account, region)
        })
        .collect();
    let places_heading = super::count(group.resources.len(), "destination");
    match group.change {
        DestinationChange::CannotPlan => {
            writeln!(
                out,
                "{} {what}: {}",
                paint(RED, "! cannot plan"),
                group.text
            )?;
            placeholder_note(out, &[&label, &group.text], "destination's")?;
        }
        DestinationChange::Create | DestinationChange::Update => {
            let (marker, style) = if group.change == DestinationChange::Create {
                ("+ create", GREEN)
            } else {
                ("~ update", YELLOW)
            };
            writeln!(
                out,
                "{} {what} (for {})",
                paint(style, marker),
                super::count(users.len(), "target")
            )?;
            placeholder_note(out, &[&label, &group.text], "destination's")?;
            write_diff(out, &group.text)?;
        }
    }
    place_list(out, &places_heading, &places)?;
    writeln!(out)
}

/// `  {account_id} and {region} stand for each target's own` (`whose`:
/// `target's`), naming the placeholders `texts` use.
fn placeholder_note(out: &mut dyn Write, texts: &[&str], whose: &str) -> io::Result<()> {
    let placeholders: Vec<&str> = ["{account_id}", "{account_name}", "{region}"]
        .into_iter()
        .filter(|p| texts.iter().any(|text| text.contains(p)))
        .collect();
    if placeholders.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "  {} {} each {whose} own",
        and_list(&placeholders),
        if placeholders.len() == 1 {
            "stands for"
        } else {
            "stand for"
        }
    )
}

fn marker(action: Action) -> (&'static str, anstyle::Style) {
    match action {
        Action::Create => ("+ create", GREEN),
        Action::Update => ("~ update", YELLOW),
        Action::Delete => ("- delete", RED),
        Action::NoOp => ("  no-op", BOLD),
    }
}

fn heading(target: &TargetPlan, action: Action) -> String {
    let (marker, style) = marker(action);
    format!(
        "{} {} (profile {})",
        paint(style, marker),
        paint(BOLD, target.target.id()),
        target.target.profile
    )
}

/// A unified diff with its lines coloured.
pub fn write_diff(out: &mut dyn Write, diff: &str) -> io::Result<()> {
    for line in diff.lines() {
        let style = if line.starts_with("+++") || line.starts_with("---") {
            BOLD
        } else if line.starts_with('+') {
            GREEN
        } else if line.starts_with('-') {
            RED
        } else if line.starts_with("@@") {
            CYAN
        } else {
            anstyle::Style::new()
        };
        writeln!(out, "{}", paint(style, line))?;
    }
    Ok(())
}

fn preflight(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for finding in findings {
        let (label, style) = match finding.severity {
            Severity::Problem => ("preflight problem", RED),
            Severity::CannotCheck => ("preflight cannot check", YELLOW),
            Severity::Note => ("preflight note", CYAN),
        };
        writeln!(
            out,
            "  {} {}: {}",
            paint(style, label),
            finding.resource,
            finding.problem
        )?;
        writeln!(out, "    fix: {}", finding.fix)?;
    }
    Ok(())
}

/// One line counting preflight findings, when there are any.
fn preflight_summary(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let count = |severity: Severity| {
        plan.targets
            .iter()
            .flat_map(|t| &t.preflight)
            .filter(|f| f.severity == severity)
            .count()
    };
    let (problems, unchecked, notes) = (
        count(Severity::Problem),
        count(Severity::CannotCheck),
        count(Severity::Note),
    );
    if problems + unchecked + notes > 0 {
        let targets = plan
            .targets
            .iter()
            .filter(|t| !t.preflight.is_empty())
            .count();
        let checks = if unchecked == 1 {
            "1 check that could not run".to_owned()
        } else {
            format!("{unchecked} checks that could not run")
        };
        writeln!(
            out,
            "{} {}, {checks}, {}, in {}.",
            paint(BOLD, "Preflight:"),
            super::count(problems, "problem"),
            super::count(notes, "note"),
            super::count(targets, "target")
        )?;
    }
    Ok(())
}

/// `Plan: N to create, …` with a "No changes." lead when nothing differs.
pub fn summary(out: &mut dyn Write, counts: &PlanCounts) -> io::Result<()> {
    if counts.changes() == 0 && counts.failed == 0 {
        writeln!(
            out,
            "{} Every target matches its profile.",
            paint(GREEN, "No changes.")
        )?;
    }
    writeln!(
        out,
        "{} {} to create, {} to update, {} to delete, {} unchanged, {} failed.",
        paint(BOLD, "Plan:"),
        counts.create,
        counts.update,
        counts.delete,
        counts.unchanged,
        counts.failed
    )
}

/// `N targets will log less:` and what each would lose, last, where the
/// eye lands.
fn weakening(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    let weakening = plan.weakening();
    if weakening.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        paint(
            RED.bold(),
            format!(
                "{} target{} will log less:",
                weakening.len(),
                if weakening.len() == 1 { "" } else { "s" }
            )
        )
    )?;
    weakening_list(out, &weakening)
}

/// One line per weakening target: `  prod/us-east-1: what it loses; …`.
fn weakening_list(out: &mut dyn Write, weakening: &[(&TargetPlan, Vec<String>)]) -> io::Result<()> {
    for (target, losses) in weakening {
        writeln!(out, "  {}: {}", target.target.id(), losses.join("; "))?;
    }
    Ok(())
}

/// Why apply refused under `[fleet] protect = true`, and how to go on.
pub fn weakening_refused(
    out: &mut dyn Write,
    weakening: &[(&TargetPlan, Vec<String>)],
) -> io::Result<()> {
    writeln!(
        out,
        "{} [fleet] protect = true, and {} target{} would log less:",
        paint(RED, "refused:"),
        weakening.len(),
        if weakening.len() == 1 { "" } else { "s" }
    )?;
    weakening_list(out, weakening)?;
    writeln!(
        out,
        "Nothing was written. If these changes are intended, apply with --allow-weakening, or review a plan made with `fleet plan --allow-weakening --out PLAN.json` and apply that."
    )
}

/// The destinations of a saved plan that changed since it was made.
pub fn stale_destinations(
    out: &mut dyn Write,
    stale: &[crate::engine::saved::StaleDestination],
) -> io::Result<()> {
    for destination in stale {
        writeln!(
            out,
            "{} {}",
            paint(RED, "stale"),
            destination.resource.label()
        )?;
        write_diff(out, &destination.diff)?;
    }
    writeln!(
        out,
        "The plan is stale: {} destination{} changed since the plan was made; nothing was applied. Run `fleet plan` again and review the new plan.",
        stale.len(),
        if stale.len() == 1 { "" } else { "s" }
    )
}

/// `Destinations: 2 to create, 1 to update, 0 unchanged, 0 failed.` when
/// the fleet manages any.
fn destination_summary(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    if plan.destinations.is_empty() {
        return Ok(());
    }
    let create = plan
        .destinations
        .iter()
        .filter(|d| d.is_change() && d.is_create())
        .count();
    let update = plan.destination_changes() - create;
    let failed = plan.destination_failures();
    writeln!(
        out,
        "{} {create} to create, {update} to update, {} unchanged, {failed} failed.",
        paint(BOLD, "Destinations:"),
        plan.destinations.len() - create - update - failed
    )
}

/// What applying the managed destinations did: one line each that changed
/// or failed.
pub fn destinations_applied(
    out: &mut dyn Write,
    plans: &[ResourcePlan],
    outcomes: &[ResourceOutcome],
) -> io::Result<()> {
    for (plan, outcome) in plans.iter().zip(outcomes) {
        let label = plan.desired.resource.label();
        match outcome {
            ResourceOutcome::Unchanged => {}
            ResourceOutcome::Applied => writeln!(
                out,
                "{} {label} ({})",
                paint(GREEN, "applied"),
                if plan.is_create() { "create" } else { "update" }
            )?,
            ResourceOutcome::Failed(err) => writeln!(
                out,
                "{} {label}: {}: {}",
                paint(RED, "failed"),
                err.code,
                err.message
            )?,
        }
    }
    Ok(())
}

/// One line per change with its outcome, then the totals.
pub fn apply(out: &mut dyn Write, report: &ApplyReport) -> io::Result<()> {
    for result in &report.results {
        let id = result.plan.target.id();
        let action = result.action.as_str();
        match &result.outcome {
            ApplyOutcome::Applied => writeln!(out, "{} {id} ({action})", paint(GREEN, "applied"))?,
            ApplyOutcome::Failed(err) => writeln!(
                out,
                "{} {id} ({action}): {}: {}",
                paint(RED, "failed"),
                err.code,
                err.message
            )?,
            ApplyOutcome::Unverified(err) => writeln!(
                out,
                "{} {id} ({action}): written, but reading it back failed: {}: {}",
                paint(RED, "unverified"),
                err.code,
                err.message
            )?,
            ApplyOutcome::Mismatch { .. } => writeln!(
                out,
                "{} {id} ({action}): written, but what reads back differs from the profile",
                paint(RED, "mismatch")
            )?,
            ApplyOutcome::AlreadyApplied => writeln!(
                out,
                "{} {id} ({action}): live already equals the plan; nothing written",
                paint(GREEN, "already applied")
            )?,
            ApplyOutcome::NotAttempted(reason) => writeln!(
                out,
                "{} {id} ({action}): {}",
                paint(YELLOW, "not attempted"),
                match reason {
                    crate::engine::SkipReason::MaxFailures => "--max-failures reached",
                    crate::engine::SkipReason::Interrupted => "interrupted",
                }
            )?,
        }
    }
    if report.interrupted {
        writeln!(
            out,
            "{}",
            paint(
                YELLOW,
                "Interrupted: no new write was started after the signal."
            )
        )?;
    }
    let already = match report.already_applied() {
        0 => String::new(),
        n => format!(", {n} already applied"),
    };
    writeln!(
        out,
        "{} {} applied, {} failed, {} not attempted{already}.",
        paint(BOLD, "Apply:"),
        report.applied(),
        report.failed(),
        report.not_attempted()
    )
}

/// Why a saved plan was refused, with what changed per target and how to
/// go on.
pub fn stale(out: &mut dyn Write, recheck: &Recheck, plan_path: &str) -> io::Result<()> {
    let stale = &recheck.stale;
    writeln!(
        out,
        "{} {} changed since the plan was made; nothing was applied.\n",
        paint(RED, "The plan is stale:"),
        super::count(stale.len(), "target")
    )?;
    for target in stale {
        match &target.now {
            Ok(_) => write_diff(out, &target.diff())?,
            Err(err) => writeln!(
                out,
                "{} {}: cannot be read now: {}: {}",
                paint(RED, "!"),
                target.plan.target.id(),
                err.code,
                err.message
            )?,
        }
        writeln!(out)?;
    }
    if !recheck.already_applied.is_empty() {
        writeln!(
            out,
            "{} of the plan already equal its `after` (applied by an earlier run).",
            super::count(recheck.already_applied.len(), "target")
        )?;
    }
    writeln!(
        out,
        "To go on, run `fleet plan` again and review the new plan"
    )?;
    // A short list fits on a command line; a long one is better re-planned.
    if stale.len() <= 10 {
        let excludes: String = stale
            .iter()
            .map(|t| format!(" --exclude {}", t.plan.target.id()))
            .collect();
        writeln!(
            out,
            "or apply the rest of this plan without the stale targets: `fleet apply {plan_path}{excludes}`."
        )
    } else {
        writeln!(
            out,
            "or apply the rest of this plan with --exclude (or --target) leaving out the stale targets above."
        )
    }
}
