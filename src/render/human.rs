//! The human-readable plan, apply summary and stale-plan report.

use std::io::{self, Write};

use super::{BOLD, CYAN, GREEN, RED, YELLOW, paint};
use crate::engine::destinations::{ResourceOutcome, ResourcePlan};
use crate::engine::preflight::{Finding, Severity};
use crate::engine::{Action, ApplyOutcome, ApplyReport, Plan, PlanCounts, Recheck, TargetPlan};

/// Prints every target that changes or failed, with its diff, then the
/// summary line.
pub fn plan(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    destinations(out, plan)?;
    for (index, target) in plan.targets.iter().enumerate() {
        match target.action() {
            Some(Action::NoOp) => {}
            Some(action) => {
                writeln!(out, "{}", heading(target, action))?;
                if let Some(who) = plan.changed_outside_by(index) {
                    writeln!(
                        out,
                        "  {} {}",
                        paint(YELLOW, "↳ changed outside fleet:"),
                        who
                    )?;
                }
                write_diff(out, &target.diff())?;
                preflight(out, &target.preflight)?;
                writeln!(out)?;
            }
            None => {
                let Err(err) = &target.live else { continue };
                writeln!(
                    out,
                    "{} {}: {}: {}\n",
                    paint(RED, "! failed"),
                    paint(BOLD, target.target.id()),
                    err.code,
                    err.message
                )?;
            }
        }
    }
    summary(out, &plan.counts())?;
    destination_summary(out, plan)?;
    preflight_summary(out, plan)?;
    weakening(out, plan)
}

/// The managed destinations that change or could not be read, with the
/// diff of what fleet keeps of them, before the targets that use them.
fn destinations(out: &mut dyn Write, plan: &Plan) -> io::Result<()> {
    for resource in &plan.destinations {
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
            )?,
            Ok(_) if !resource.is_change() => {}
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
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

fn heading(target: &TargetPlan, action: Action) -> String {
    let (marker, style) = match action {
        Action::Create => ("+ create", GREEN),
        Action::Update => ("~ update", YELLOW),
        Action::Delete => ("- delete", RED),
        Action::NoOp => ("  no-op", BOLD),
    };
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
