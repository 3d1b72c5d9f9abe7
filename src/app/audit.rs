//! `fleet audit`.

use std::io::Write;

use anyhow::Result;

use super::{Exit, Ui, aws_options, check_caller, concurrency, load_fleet, timestamp};
use crate::aws::Aws;
use crate::cli::{AuditArgs, AuditFormat};
use crate::engine::audit::{self, Verdict};
use crate::engine::select::Selection;
use crate::fleet;
use crate::render;
use crate::render::audit::AuditSource;

pub(super) async fn audit(ui: &Ui, config: &str, args: AuditArgs) -> Result<Exit> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    let scope = audit::audit_scope(&fleet, args.all_regions);
    let selection = Selection::new(
        &args.filter.targets,
        &args.filter.excludes,
        args.filter.partition,
    )?;
    let in_scope = scope.len();
    let scope = selection.apply(scope, |s| &s.target)?;
    if !selection.is_everything() {
        ui.note(&format!("{} of {in_scope} targets selected", scope.len()));
    }
    let concurrency = concurrency(&args.aws, &fleet.settings);
    let aws = Aws::connect(aws_options(&args.aws, fleet.settings.clone())?).await;
    check_caller(&aws).await?;
    ui.note(&format!(
        "reading {} targets, {concurrency} at a time",
        scope.len()
    ));
    let bar = render::progress::Bar::new("auditing", ui.quiet);
    let report = audit::audit_targets(&aws, scope, concurrency, &bar).await;

    let created_at = timestamp();
    let source = AuditSource {
        fleet_file: &fleet.path,
        fleet_sha256: &fleet.sha256,
        created_at: &created_at,
        all_regions: args.all_regions,
        strict: args.strict,
    };
    let mut out = anstream::stdout();
    match args.format {
        AuditFormat::Human => render::audit::human(&mut out, &report, args.strict)?,
        AuditFormat::Json => render::audit::json(&mut out, &report, &source)?,
        AuditFormat::Csv => render::audit::csv(&mut out, &report)?,
        AuditFormat::Markdown => {
            let text =
                render::audit::markdown(&report, &source, render::markdown::STEP_SUMMARY_LIMIT);
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(match report.verdict(args.strict) {
        Verdict::Compliant => Exit::Success,
        Verdict::Findings => Exit::Changes,
        Verdict::Error => Exit::Failure,
    })
}
