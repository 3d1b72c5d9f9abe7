//! `fleet apply`, from a fresh plan or a reviewed saved one.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

use super::{
    Exit, Ui, as_caller, aws_options, check_caller, check_destinations, make_plan,
    permission_retry, select, select_from,
};
use super::{Opened, open_with};
use crate::aws::{Aws, AwsOptions};
use crate::cli::ApplyArgs;
use crate::engine::destinations::{self, ManagedApi};
use crate::engine::saved::SavedPlan;
use crate::engine::select::Selection;
use crate::engine::{
    self, Action, ApplyOptions, ApplyOutcome, LoggingApi, Plan, TargetApply, TargetPlan,
};
use crate::render;

/// Stops new writes on the first Ctrl-C or SIGTERM; a second one exits at once.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    tokio::spawn(async move {
        let mut signals = 0;
        loop {
            wait_for_signal().await;
            signals += 1;
            if signals > 1 {
                eprintln!("second interrupt: exiting now");
                std::process::exit(130);
            }
            flag.store(true, Ordering::SeqCst);
            eprintln!(
                "interrupt: no new write will start; waiting for running writes to finish (interrupt again to exit now)"
            );
        }
    });
    stop
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn confirm(changes: usize) -> Result<bool> {
    eprint!(
        "Apply {changes} change{}? Only 'yes' is accepted: ",
        if changes == 1 { "" } else { "s" }
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

pub(super) async fn apply(ui: &Ui, config: &str, args: ApplyArgs) -> Result<Exit> {
    let mut out = anstream::stdout();
    if let Some(path) = &args.plan {
        return apply_saved(ui, config, &args, path).await;
    }
    let Some(Opened {
        aws,
        concurrency,
        mut resolved,
    }) = open_with(
        ui,
        config,
        &args.aws,
        Some(permission_retry(args.permission_retry)?),
    )
    .await?
    else {
        return Ok(Exit::Failure);
    };
    // The plan takes the fleet's targets: nothing later needs them there.
    let all = std::mem::take(&mut resolved.fleet.targets);
    let targets = select_from(ui, all, &args.filter)?;
    let caller = check_caller(ui, &aws).await?;
    let targets = as_caller(targets, &caller);
    let mut plan = make_plan(ui, &aws, targets, concurrency).await;
    let blocked = check_destinations(ui, &aws, &mut plan, args.preflight, concurrency).await;
    buffered(|out| render::human::plan(out, &plan))?;
    if blocked {
        bail!("preflight found problems and --preflight strict is set; nothing was written");
    }
    if refuse_weakening(
        &mut out,
        &plan,
        resolved.fleet.settings.protect,
        args.allow_weakening,
    )? {
        return Ok(Exit::Failure);
    }
    let changes = plan.changes().count() + plan.destination_changes();
    resolved.note_discovered(ui, plan.targets.iter().map(|t| &t.target));
    let unreadable = plan.counts().failed + plan.destination_failures() + resolved.unresolved();
    if changes == 0 {
        return Ok(if unreadable > 0 {
            Exit::Failure
        } else {
            Exit::Success
        });
    }
    if !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            bail!(
                "refusing to apply {} change{} without confirmation: stdin is not a terminal; pass --auto-approve, or apply a reviewed plan with `fleet apply PLAN.json`; nothing was written",
                changes,
                if changes == 1 { "" } else { "s" }
            );
        }
        if !confirm(changes)? {
            writeln!(out, "Apply cancelled; nothing was written.")?;
            return Ok(Exit::Failure);
        }
    }
    let ok = write_changes(ui, &aws, plan, Vec::new(), concurrency, args.max_failures).await?;
    super::note_renewals(ui, &aws);
    Ok(if ok && unreadable == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Applies the plan's managed destinations, then the logging changes of
/// every target whose destinations are in place, and prints what happened
/// to each, `already_applied` (changes of a saved plan found done) included.
/// Takes the plan: its changes move into the report, uncopied.
pub(super) async fn write_changes(
    ui: &Ui,
    api: &(impl LoggingApi + ManagedApi),
    plan: Plan,
    already_applied: Vec<TargetPlan>,
    concurrency: usize,
    max_failures: Option<usize>,
) -> Result<bool> {
    let options = ApplyOptions {
        concurrency,
        max_failures,
        stop: stop_on_signal(),
    };
    let outcomes =
        destinations::apply_destinations(api, &plan.destinations, &plan.targets, concurrency).await;
    buffered(|out| render::human::destinations_applied(out, &plan.destinations, &outcomes))?;
    let destinations_ok = outcomes
        .iter()
        .all(|o| !matches!(o, destinations::ResourceOutcome::Failed(_)));
    let mut blocked = destinations::blocked_targets(&plan.destinations, &outcomes);
    let done: std::collections::HashSet<String> = already_applied
        .iter()
        .map(|t| t.target.id().to_string())
        .collect();
    let mut changes: Vec<TargetPlan> = Vec::new();
    let mut not_written: Vec<TargetApply> = Vec::new();
    for (index, target) in plan.targets.into_iter().enumerate() {
        if let Some(err) = blocked.remove(&index) {
            not_written.push(TargetApply {
                action: target.action().unwrap_or(Action::NoOp),
                plan: target,
                outcome: ApplyOutcome::Failed(err),
            });
        } else if matches!(target.action(), Some(a) if a != Action::NoOp)
            && !done.contains(&target.target.id().to_string())
        {
            changes.push(target);
        }
    }
    let bar = render::progress::Bar::new("applying", ui.quiet || ui.verbose);
    let mut report = engine::apply_changes(api, changes, &options, &bar).await;
    report.results.extend(not_written);
    report.add_already_applied(already_applied);
    buffered(|out| render::human::apply(out, &report))?;
    if let Err(err) = render::markdown::append_step_summary(&render::markdown::apply(&report)) {
        ui.warn(&format!("cannot write the GitHub step summary: {err}"));
    }
    Ok(report.success() && destinations_ok)
}

async fn apply_saved(
    ui: &Ui,
    config: &str,
    args: &ApplyArgs,
    path: &std::path::Path,
) -> Result<Exit> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the plan {shown}"))?;
    let saved = SavedPlan::parse(&shown, &text)?;
    if let Ok(current) = std::fs::read(config) {
        let sha = sha2_hex(&current);
        if sha != saved.fleet_sha256 {
            ui.warn(&format!(
                "{config} has changed since the plan was made; applying the plan as it was reviewed"
            ));
        }
    }
    let mut plan = saved.to_plan(&shown)?;
    let selection = Selection::new(
        &args.filter.targets,
        &args.filter.excludes,
        args.filter.partition,
    )?;
    plan.targets = select(ui, &selection, plan.targets, |p| &p.target)?;
    let concurrency = super::concurrency(&args.aws, &saved.settings());
    let options = AwsOptions {
        permission_retry_window: permission_retry(args.permission_retry)?,
        ..aws_options(ui, &args.aws, saved.settings())?
    };
    let aws = Aws::connect(options).await;
    check_caller(ui, &aws).await?;
    ui.note(&format!(
        "checking {}, {concurrency} at a time",
        render::count(plan.targets.len(), "target")
    ));
    let bar = render::progress::Bar::new("checking", ui.quiet || ui.verbose);
    let recheck = engine::check_stale(&aws, &plan.targets, concurrency, &bar).await;
    let mut out = anstream::stdout();
    if !recheck.stale.is_empty() {
        render::human::stale(&mut out, &recheck, &shown)?;
        return Ok(Exit::Failure);
    }
    let mut all_planned = true;
    for target in plan.targets.iter().filter(|t| t.live.is_err()) {
        all_planned = false;
        writeln!(
            out,
            "{} {}: it could not be read when the plan was made",
            render::paint(render::YELLOW, "not planned"),
            target.target.id()
        )?;
    }
    if refuse_weakening(&mut out, &plan, saved.protect, saved.allow_weakening)? {
        return Ok(Exit::Failure);
    }
    let bar = render::progress::Bar::new("destinations", ui.quiet || ui.verbose);
    plan.destinations =
        destinations::plan_destinations(&aws, &plan.targets, concurrency, &bar).await;
    let stale = engine::saved::stale_destinations(&saved.destinations, &plan.destinations);
    if !stale.is_empty() {
        render::human::stale_destinations(&mut out, &stale)?;
        return Ok(Exit::Failure);
    }
    let pending = plan
        .changes()
        .filter(|change| !recheck.is_already_applied(change))
        .count();
    if pending + plan.destination_changes() == 0 && recheck.already_applied.is_empty() {
        render::human::summary(&mut out, &plan.counts())?;
        return Ok(if all_planned {
            Exit::Success
        } else {
            Exit::Failure
        });
    }
    let ok = write_changes(
        ui,
        &aws,
        plan,
        recheck.already_applied,
        concurrency,
        args.max_failures,
    )
    .await?;
    super::note_renewals(ui, &aws);
    Ok(if ok && all_planned {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Under `[fleet] protect = true`, refuses a plan with changes that weaken
/// logging unless they were allowed; says which and what each would lose.
/// Returns whether it refused (nothing is written then).
fn refuse_weakening(
    out: &mut dyn Write,
    plan: &Plan,
    protect: bool,
    allowed: bool,
) -> Result<bool> {
    let weakening = plan.weakening();
    if !protect || allowed || weakening.is_empty() {
        return Ok(false);
    }
    render::human::weakening_refused(out, &weakening)?;
    Ok(true)
}

/// Writes to stdout through one buffer, flushed before returning (stdout is
/// line buffered: a write per line of every diff otherwise).
fn buffered(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, anstream::stdout().lock());
    write(&mut out)?;
    out.flush()?;
    Ok(())
}

fn sha2_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
