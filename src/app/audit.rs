//! `fleet audit`.

use std::io::Write;

use anyhow::{Context, Result};

use super::{Exit, Ui, check_caller, select, timestamp};
use super::{Opened, open};
use crate::cli::{AuditArgs, AuditFormat};
use crate::engine::audit::{self, Verdict};
use crate::engine::lock::{self, LockState};
use crate::engine::select::Selection;
use crate::engine::{attribution, security_hub, usage};
use crate::fleet::AccountId;
use crate::render;
use crate::render::audit::AuditSource;

pub(super) async fn audit(ui: &Ui, config: &std::path::Path, args: AuditArgs) -> Result<Exit> {
    let Some(Opened {
        aws,
        concurrency,
        resolved,
    }) = open(ui, config, &args.aws).await?
    else {
        return Ok(Exit::Failure);
    };
    let fleet = &resolved.fleet;
    let scope = audit::audit_scope(fleet, args.all_regions);
    let selection = Selection::new(
        &args.filter.targets,
        &args.filter.excludes,
        args.filter.partition,
    )?;
    let in_scope = scope.len();
    let scope = select(ui, &selection, scope, |s| &s.target)?;
    if !selection.is_everything() {
        ui.note(&format!(
            "{} of {} selected",
            scope.len(),
            render::count(in_scope, "target")
        ));
    }
    check_caller(ui, &aws).await?;
    ui.note(&format!(
        "reading {}, {concurrency} at a time",
        render::count(scope.len(), "target")
    ));
    let bar = render::progress::Bar::new("auditing", ui.quiet || ui.verbose);
    let mut report = audit::audit_targets(&aws, scope, concurrency, &bar).await;
    let bar = render::progress::Bar::new("destinations", ui.quiet || ui.verbose);
    report.check_destinations(&aws, concurrency, &bar).await;
    if !args.no_usage {
        let bar = render::progress::Bar::new("usage", ui.quiet || ui.verbose);
        usage::check_usage(&aws, &mut report, args.usage_window, concurrency, &bar).await;
    }
    if !args.no_attribution {
        let bar = render::progress::Bar::new("cloudtrail", ui.quiet || ui.verbose);
        attribution::attribute(&aws, &mut report, aws.session_name(), concurrency, &bar).await;
    }
    if fleet.settings.protect {
        let accounts: Vec<AccountId> = fleet.accounts.iter().map(|a| a.id.clone()).collect();
        report.locks = lock::check_locks(&aws.organizations(), &accounts, concurrency).await;
        let mut unknown = report
            .locks
            .iter()
            .filter(|(_, state)| matches!(state, LockState::CannotTell(_)));
        if let Some((account, state)) = unknown.next() {
            // One line however many accounts: the reason is the caller's.
            let more = unknown.count();
            let mut line = state.problem(account).unwrap_or_default();
            if more > 0 {
                let plural = if more == 1 { "" } else { "s" };
                line.push_str(&format!(" (the same for {more} more account{plural})"));
            }
            ui.notice(&line);
        }
        for (account, state) in &report.locks {
            match (state, state.problem(account)) {
                (LockState::Unlocked, Some(problem)) => ui.warn(&problem),
                (LockState::Management, Some(problem)) => ui.notice(&problem),
                _ => {}
            }
        }
    }

    let created_at = timestamp();
    let source = AuditSource {
        fleet_file: &fleet.path,
        fleet_sha256: &fleet.sha256,
        created_at: &created_at,
        all_regions: args.all_regions,
        strict: args.strict,
    };
    let mut out: Box<dyn Write> = match &args.out {
        // A file gets no colour codes.
        Some(path) => Box::new(anstream::StripStream::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write the report to {}", path.display()))?,
        )),
        None => Box::new(anstream::stdout()),
    };
    match args.format {
        AuditFormat::Matrix => {
            let grid = render::matrix::Grid::new(&report);
            out.write_all(render::matrix::terminal(&grid, terminal_width()).as_bytes())?;
        }
        AuditFormat::Html => {
            let html = render::html::report(
                &report,
                &render::html::HtmlSource {
                    fleet_file: &fleet.path,
                    fleet_sha256: &fleet.sha256,
                    created_at: &created_at,
                },
            );
            out.write_all(html.as_bytes())?;
        }
        AuditFormat::Human => render::audit::human(&mut out, &report, args.strict)?,
        AuditFormat::Json => render::audit::json(&mut out, &report, &source)?,
        AuditFormat::Csv => render::audit::csv(&mut out, &report)?,
        AuditFormat::Sarif => {
            let sarif = render::sarif::SarifSource {
                fleet_file: &fleet.path,
                strict: args.strict,
            };
            let line_of = |target: &crate::fleet::Target| {
                resolved
                    .source_of(target)
                    .map_or(1, |source| source.source.line())
            };
            render::sarif::sarif(&mut out, &report, &sarif, &line_of)?;
        }
        AuditFormat::Junit => render::junit::junit(&mut out, &report, args.strict)?,
        AuditFormat::Markdown => {
            let text =
                render::audit::markdown(&report, &source, render::markdown::STEP_SUMMARY_LIMIT);
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush()?;
    let mut exported = true;
    if args.to_security_hub {
        let bar = render::progress::Bar::new("security hub", ui.quiet || ui.verbose);
        let export = security_hub::export(&aws, &report, concurrency, &created_at, &bar).await;
        for line in render::security_hub::failures(&export) {
            ui.error(&line);
        }
        ui.notice(&render::security_hub::summary(&export));
        exported = export.failed().next().is_none();
    }
    ui.note_unreported(&report.unreported_flags());
    super::note_renewals(ui, &aws);
    if let Some(path) = &args.out {
        ui.note(&format!("report written to {}", path.display()));
    }
    if std::env::var_os("GITHUB_STEP_SUMMARY").is_some() {
        let text =
            render::audit::markdown(&report, &source, render::markdown::STEP_SUMMARY_LIMIT / 2);
        if let Err(err) = render::markdown::append_step_summary(&text) {
            ui.warn(&format!("cannot write the GitHub step summary: {err}"));
        }
    }
    if !resolved.unresolved.is_empty() || !exported {
        return Ok(Exit::Failure);
    }
    Ok(match report.verdict(args.strict) {
        Verdict::Compliant => Exit::Success,
        Verdict::Findings => Exit::Changes,
        Verdict::Error => Exit::Failure,
    })
}

/// The terminal's width, `COLUMNS`, or 120 when neither is known.
fn terminal_width() -> usize {
    terminal_size::terminal_size()
        .map(|(width, _)| usize::from(width.0))
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(120)
}
