//! `fleet targets`, and the discovery step that every command using the
//! network runs between loading the fleet file and selecting targets.

use std::io::Write;

use anyhow::{Result, anyhow};

use super::{Exit, Ui, aws_options, check_caller, concurrency, load_fleet, selected};
use crate::aws::Aws;
use crate::cli::{TargetsArgs, TargetsFormat};
use crate::engine::discovery::{self, Resolved};
use crate::fleet::{self, Fleet, Target};
use crate::render;
use crate::render::targets::TargetsView;

/// Says on stderr how many of the targets a command covered came from
/// discovery. Silent for a fleet without discovery, and with `-q`.
pub(crate) fn note_discovered<'t>(
    ui: &Ui,
    resolved: &Resolved,
    covered: impl Iterator<Item = &'t Target>,
) {
    if ui.quiet || !resolved.fleet.discovery.is_needed() {
        return;
    }
    let covered: Vec<&Target> = covered.collect();
    let enabled = covered
        .iter()
        .filter(|t| resolved.source_of(t).is_some_and(|s| s.rule.enabled))
        .count();
    let mut line = format!(
        "{} of {} came from discovery ({} under organizational units, {enabled} in enabled regions)",
        resolved.discovered(covered.iter().copied()),
        render::count(covered.len(), "target"),
        resolved.from_units(covered.iter().copied()),
    );
    if !resolved.unresolved.is_empty() {
        line.push_str(&format!(
            "; {} not resolved, see above",
            resolved.unresolved.len()
        ));
    }
    note(ui, &line);
}

fn note(ui: &Ui, message: &str) {
    ui.notice(message);
}

/// Resolves what the fleet file leaves to AWS: the accounts under its
/// `[[organizational_units]]` entries and the regions of accounts whose
/// regions are `"enabled"`. A fleet without either is returned as it is,
/// without a call. Ownership problems and Organizations failures are one
/// error for the whole run, before any logging configuration is read;
/// accounts whose regions cannot be read are reported on stderr and left
/// out (see [`Resolved::unresolved`]).
pub(crate) async fn resolve_targets(
    ui: &Ui,
    fleet: Fleet,
    aws: &Aws,
    concurrency: usize,
) -> Result<Resolved> {
    let resolved = resolve(ui, fleet, aws, concurrency).await?;
    report(ui, &resolved);
    Ok(resolved)
}

async fn resolve(ui: &Ui, fleet: Fleet, aws: &Aws, concurrency: usize) -> Result<Resolved> {
    if !fleet.discovery.is_needed() {
        return Ok(discovery::resolve_listed(fleet));
    }
    check_caller(ui, aws).await?;
    discovery::resolve(&aws.organizations(), fleet, concurrency)
        .await
        .map_err(|err| anyhow!("{err}; no logging configuration was read or written"))
}

/// What discovery found but does not manage, and what it could not
/// resolve, on stderr.
fn report(ui: &Ui, resolution: &Resolved) {
    let mut err = anstream::stderr();
    for unresolved in &resolution.unresolved {
        let _ = writeln!(
            err,
            "{} {unresolved}; its targets are left out of this run",
            render::paint(render::RED, "error:")
        );
    }
    for o in &resolution.overridden {
        note(
            ui,
            &format!(
                "account {} ({}) is under {} but is managed by its [[accounts]] entry on line {}",
                o.account.label(),
                o.account.id,
                o.unit,
                o.line
            ),
        );
    }
    for i in &resolution.inactive {
        note(
            ui,
            &format!(
                "account {} ({}) under {} is {}: not managed",
                i.account.name, i.account.id, i.unit, i.account.state
            ),
        );
    }
    for u in &resolution.unnamed {
        note(
            ui,
            &format!(
                "account {} is named \"{}\" in AWS Organizations, which cannot name targets ({}): its targets are written {}/REGION",
                u.account.id, u.account.name, u.reason, u.account.id
            ),
        );
    }
    for e in &resolution.excluded {
        ui.note(&format!(
            "account {} ({}) under {} is excluded by \"{}\"",
            e.account.name, e.account.id, e.unit, e.pattern
        ));
    }
}

/// `fleet targets`: every target, resolved, and where it came from. Needs
/// the network only when the file has organizational units or enabled
/// regions.
pub(super) async fn targets(ui: &Ui, config: &std::path::Path, args: TargetsArgs) -> Result<Exit> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    // Everything discovery finds is on stdout: nothing to repeat on stderr.
    let mut resolved = if fleet.discovery.is_needed() {
        let concurrency = concurrency(&args.aws, &fleet.settings);
        let aws = Aws::connect(aws_options(ui, &args.aws, fleet.settings.clone())).await;
        resolve(ui, fleet, &aws, concurrency).await?
    } else {
        discovery::resolve_listed(fleet)
    };
    let targets = selected(ui, &mut resolved.fleet, &args.filter)?;
    let view = TargetsView {
        fleet_file: &resolved.fleet.path,
        fleet_sha256: &resolved.fleet.sha256,
        targets: &targets,
        resolved: &resolved,
    };
    let mut out = anstream::stdout();
    match args.format {
        TargetsFormat::Human => render::targets::human(&mut out, &view)?,
        TargetsFormat::Json => render::targets::json(&mut out, &view)?,
    }
    Ok(if !resolved.unresolved.is_empty() {
        Exit::Failure
    } else {
        Exit::Success
    })
}
