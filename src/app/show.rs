//! `fleet show`.

use anyhow::Result;

use super::{Exit, Ui, check_caller, selected};
use super::{Opened, open};
use crate::cli::{ShowArgs, ShowFormat};
use crate::engine;
use crate::render;

pub(super) async fn show(ui: &Ui, config: &std::path::Path, args: ShowArgs) -> Result<Exit> {
    let Some(Opened {
        aws,
        concurrency,
        mut resolved,
    }) = open(ui, config, &args.aws).await?
    else {
        return Ok(Exit::Failure);
    };
    let targets = selected(ui, &mut resolved.fleet, &args.filter)?;
    check_caller(ui, &aws).await?;
    let bar = render::progress::Bar::new("reading", ui.quiet || ui.verbose);
    let reads = engine::plan_targets(&aws, targets, concurrency, &bar).await;
    let mut out = anstream::stdout();
    match args.format {
        ShowFormat::Human => render::show::human(&mut out, &reads.targets)?,
        ShowFormat::Json => render::show::json(&mut out, &reads.targets)?,
    }
    ui.note_unreported(&reads.unreported_flags());
    Ok(
        if reads.counts().failed > 0 || !resolved.unresolved.is_empty() {
            Exit::Failure
        } else {
            Exit::Success
        },
    )
}
