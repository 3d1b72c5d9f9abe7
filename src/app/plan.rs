//! `fleet plan`.

use std::io::Write;

use anyhow::{Context, Result};

use super::{
    Exit, Ui, as_caller, check_caller, check_destinations, make_plan, selected, timestamp,
};
use super::{Opened, open};
use crate::cli::{PlanArgs, PlanFormat};
use crate::engine::Plan;
use crate::engine::saved::SavedPlan;
use crate::render;
use crate::render::markdown::PlanSource;

pub(super) async fn plan(ui: &Ui, config: &str, args: PlanArgs) -> Result<Exit> {
    let Some(Opened {
        aws,
        concurrency,
        resolved,
    }) = open(ui, config, &args.aws).await?
    else {
        return Ok(Exit::Failure);
    };
    let fleet = &resolved.fleet;
    let targets = selected(ui, fleet, &args.filter)?;
    let caller = check_caller(ui, &aws).await?;
    let targets = as_caller(targets, &caller);
    let mut plan = make_plan(ui, &aws, targets, concurrency).await;
    let blocked = check_destinations(ui, &aws, &mut plan, args.preflight, concurrency).await;
    if !args.no_attribution {
        let bar = render::progress::Bar::new("cloudtrail", ui.quiet || ui.verbose);
        let failed = crate::engine::attribution::find_changed_outside(
            &aws,
            &mut plan,
            aws.session_name(),
            concurrency,
            &bar,
        )
        .await;
        if let Some((index, err)) = failed.first() {
            ui.note(&format!(
                "cannot tell who changed {} ({}: {err})",
                render::count(failed.len(), "target"),
                plan.targets[*index].target.id()
            ));
        }
    }
    let mut saved = SavedPlan::new(&plan, fleet, timestamp());
    saved.partition = args.filter.partition.map(Into::into);
    saved.allow_weakening = args.allow_weakening;
    print_plan(&plan, &saved, args.format, super::diffs(args.each_diff))?;
    append_step_summary(ui, &plan, &saved);
    ui.note_unreported(&plan.unreported_flags());
    resolved.note_discovered(ui, plan.targets.iter().map(|t| &t.target));
    if let Some(path) = &args.out {
        let mut file = std::fs::File::create(path)
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        render::json::saved_plan(&mut file, &saved)?;
        ui.note(&format!("plan saved to {}", path.display()));
    }
    let counts = plan.counts();
    if blocked {
        ui.error("preflight found problems and --preflight strict is set");
    }
    let unresolved = resolved.unresolved() > 0;
    let failed = counts.failed + plan.destination_failures();
    let changes = counts.changes() + plan.destination_changes();
    Ok(if failed > 0 || blocked || unresolved {
        Exit::Failure
    } else if args.detailed_exitcode && changes > 0 {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Prints a plan on stdout in the chosen format.
pub(super) fn print_plan(
    plan: &Plan,
    saved: &SavedPlan,
    format: PlanFormat,
    diffs: render::human::Diffs,
) -> Result<()> {
    let mut out = anstream::stdout();
    match format {
        PlanFormat::Human => {
            if !saved.missing_shards.is_empty() {
                let notice = render::partial_notice(&saved.missing_shards);
                writeln!(out, "{}\n", render::paint(render::RED, notice))?;
            }
            render::human::plan(&mut out, plan, diffs)?;
        }
        PlanFormat::Json => render::json::saved_plan(&mut out, saved)?,
        PlanFormat::Markdown => {
            let text =
                render::markdown::plan(plan, &source(saved), render::markdown::COMMENT_LIMIT);
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

fn source(saved: &SavedPlan) -> PlanSource<'_> {
    PlanSource {
        fleet_file: &saved.fleet_file,
        fleet_sha256: &saved.fleet_sha256,
        created_at: &saved.created_at,
        partition: saved.partition,
        missing_shards: &saved.missing_shards,
    }
}

/// Adds the plan to the GitHub step summary when `GITHUB_STEP_SUMMARY` is set.
pub(super) fn append_step_summary(ui: &Ui, plan: &Plan, saved: &SavedPlan) {
    if std::env::var_os("GITHUB_STEP_SUMMARY").is_none() {
        return;
    }
    // Half the step summary's 1 MiB, so apply's summary fits beside it.
    let text = render::markdown::plan(
        plan,
        &source(saved),
        render::markdown::STEP_SUMMARY_LIMIT / 2,
    );
    if let Err(err) = render::markdown::append_step_summary(&text) {
        ui.warn(&format!("cannot write the GitHub step summary: {err}"));
    }
}
