//! `fleet plan`.

use anyhow::{Context, Result};

use super::{
    Exit, Ui, aws_options, check_caller, concurrency, load_fleet, make_plan, selected, timestamp,
};
use crate::aws::Aws;
use crate::cli::{PlanArgs, PlanFormat};
use crate::engine::saved::SavedPlan;
use crate::fleet;
use crate::render;

pub(super) async fn plan(ui: &Ui, config: &str, args: PlanArgs) -> Result<Exit> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    let targets = selected(ui, &fleet, &args.filter)?;
    let aws = Aws::connect(aws_options(&args.aws, fleet.settings.clone())?).await;
    check_caller(&aws).await?;
    let plan = make_plan(ui, &aws, targets, concurrency(&args.aws, &fleet.settings)).await;
    let saved = SavedPlan::new(&plan, &fleet, timestamp());
    let mut out = anstream::stdout();
    match args.format {
        PlanFormat::Human => render::human::plan(&mut out, &plan)?,
        PlanFormat::Json => render::json::saved_plan(&mut out, &saved)?,
        PlanFormat::Markdown => anyhow::bail!("markdown output is being built"),
    }
    if let Some(path) = &args.out {
        let mut file = std::fs::File::create(path)
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        render::json::saved_plan(&mut file, &saved)?;
        ui.note(&format!("plan saved to {}", path.display()));
    }
    let counts = plan.counts();
    Ok(if counts.failed > 0 {
        Exit::Failure
    } else if args.detailed_exitcode && counts.changes() > 0 {
        Exit::Changes
    } else {
        Exit::Success
    })
}
