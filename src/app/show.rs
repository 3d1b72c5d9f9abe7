//! `fleet show`.

use anyhow::Result;

use super::{
    Exit, Ui, aws_options, check_caller, concurrency, load_fleet, resolve_targets, selected,
};
use crate::aws::Aws;
use crate::cli::{ShowArgs, ShowFormat};
use crate::engine;
use crate::fleet;
use crate::render;

pub(super) async fn show(ui: &Ui, config: &str, args: ShowArgs) -> Result<Exit> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    let aws = Aws::connect(aws_options(&args.aws, fleet.settings.clone())?).await;
    let concurrency = concurrency(&args.aws, &fleet.settings);
    let resolved = resolve_targets(ui, fleet, &aws, concurrency).await?;
    let targets = selected(ui, &resolved.fleet, &args.filter)?;
    check_caller(&aws).await?;
    let bar = render::progress::Bar::new("reading", ui.quiet);
    let reads = engine::plan_targets(&aws, targets, concurrency, &bar).await;
    let mut out = anstream::stdout();
    match args.format {
        ShowFormat::Human => render::show::human(&mut out, &reads.targets)?,
        ShowFormat::Json => render::show::json(&mut out, &reads.targets)?,
    }
    Ok(if reads.counts().failed > 0 || resolved.unresolved() > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}
