//! `fleet plan`.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{
    Exit, Ui, as_caller, check_caller, check_destinations, make_plan, select_from, timestamp,
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
        mut resolved,
    }) = open(ui, config, &args.aws).await?
    else {
        return Ok(Exit::Failure);
    };
    // The plan takes the fleet's targets: nothing later needs them there.
    let all = std::mem::take(&mut resolved.fleet.targets);
    let targets = select_from(ui, all, &args.filter)?;
    let fleet = &resolved.fleet;
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
    let created_at = timestamp();
    let partition = args.filter.partition.map(Into::into);
    let source = PlanSource {
        fleet_file: &fleet.path,
        fleet_sha256: &fleet.sha256,
        created_at: &created_at,
        partition,
        missing_shards: &[],
    };
    // The saved plan holds every target's before, after and diff: built
    // only when it is written or printed.
    let saved = (args.out.is_some() || args.format == PlanFormat::Json).then(|| {
        let mut saved = SavedPlan::new(&plan, fleet, created_at.clone());
        saved.partition = partition;
        saved.allow_weakening = args.allow_weakening;
        saved
    });
    write_plan(&plan, &source, saved.as_ref(), args.format)?;
    append_step_summary(ui, &plan, &source);
    ui.note_unreported(&plan.unreported_flags());
    resolved.note_discovered(ui, plan.targets.iter().map(|t| &t.target));
    if let (Some(path), Some(saved)) = (&args.out, &saved) {
        write_atomically(path, |out| render::json::saved_plan(out, saved))
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
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
pub(super) fn print_plan(plan: &Plan, saved: &SavedPlan, format: PlanFormat) -> Result<()> {
    write_plan(plan, &source(saved), Some(saved), format)
}

/// Prints a plan on stdout in the chosen format, buffered (stdout is line
/// buffered: a write per line of every diff otherwise). `saved` is needed
/// for JSON only.
fn write_plan(
    plan: &Plan,
    source: &PlanSource<'_>,
    saved: Option<&SavedPlan>,
    format: PlanFormat,
) -> Result<()> {
    let mut out = BufWriter::with_capacity(64 * 1024, anstream::stdout().lock());
    match format {
        PlanFormat::Human => {
            if !source.missing_shards.is_empty() {
                let notice = render::partial_notice(source.missing_shards);
                writeln!(out, "{}\n", render::paint(render::RED, notice))?;
            }
            render::human::plan(&mut out, plan)?;
        }
        PlanFormat::Json => {
            let saved = saved.expect("a JSON plan is printed from its saved plan");
            render::json::saved_plan(&mut out, saved)?;
        }
        PlanFormat::Markdown => {
            let text = render::markdown::plan(plan, source, render::markdown::COMMENT_LIMIT);
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Writes `path` through a temporary file beside it, renamed over `path`
/// once complete: a reader (or `apply PLAN`) never sees half a plan, and a
/// write that fails leaves the file that was there untouched.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let temporary = temporary_path(path)?;
    let written = (|| {
        let mut out = BufWriter::new(std::fs::File::create(&temporary)?);
        write(&mut out)?;
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// `DIR/.NAME.PID.tmp` for `DIR/NAME`: in the same directory, so the rename
/// stays on one file system.
fn temporary_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names a directory, not a file",
        )
    })?;
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(format!(".{}.tmp", std::process::id()));
    Ok(path.with_file_name(temporary))
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
fn append_step_summary(ui: &Ui, plan: &Plan, source: &PlanSource<'_>) {
    if std::env::var_os("GITHUB_STEP_SUMMARY").is_none() {
        return;
    }
    // Half the step summary's 1 MiB, so apply's summary fits beside it.
    let text = render::markdown::plan(plan, source, render::markdown::STEP_SUMMARY_LIMIT / 2);
    if let Err(err) = render::markdown::append_step_summary(&text) {
        ui.warn(&format!("cannot write the GitHub step summary: {err}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_plan_that_was_there_and_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "the reviewed plan\n").unwrap();
        let failed = write_atomically(&path, |out| {
            out.write_all(b"{\"format_version\": 2, \"targets\": [")?;
            Err(io::Error::other("disk full"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "disk full");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "the reviewed plan\n"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(left, ["plan.json"], "no temporary file is left behind");
    }

    #[test]
    fn a_complete_write_replaces_the_plan_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "an older plan\n").unwrap();
        write_atomically(&path, |out| out.write_all(b"the new plan\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the new plan\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_plan_that_cannot_be_started_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("plan.json");
        assert!(write_atomically(&path, |out| out.write_all(b"x")).is_err());
        assert!(!path.exists());
    }
}
