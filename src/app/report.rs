//! `fleet report`: renders saved plans, merging the shards of one fleet
//! file into one document.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};

use super::plan::print_plan;
use super::{Exit, Ui};
use crate::cli::ReportArgs;
use crate::engine::saved::{self, SavedPlan};
use crate::fleet::{AccountId, Region};
use crate::render;

pub(super) fn report(ui: &Ui, args: ReportArgs) -> Result<Exit> {
    let mut plans = Vec::new();
    for path in &args.plans {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the plan {shown}"))?;
        plans.push((shown.clone(), SavedPlan::parse(&shown, &text)?));
    }
    let by_path: Vec<(&str, &SavedPlan)> = plans.iter().map(|(p, s)| (p.as_str(), s)).collect();
    // Plans of different fleet files are the first thing to say, then
    // shards that do not make one set, then targets in two plans.
    same_fleet_file(&by_path)?;
    let missing = saved::missing_shards(&by_path)?;
    if !missing.is_empty() && !args.allow_partial {
        return Err(saved::incomplete(&plans[0].1.fleet_file, missing).into());
    }
    let mut merged = merge(plans)?;
    // A merge of every shard covers the whole fleet; a partial one says
    // which shards it lacks, in every format.
    if args.plans.len() > 1 || !missing.is_empty() {
        merged.partition = None;
    }
    merged.missing_shards = missing;
    if !merged.missing_shards.is_empty() {
        ui.warn(&render::partial_notice(&merged.missing_shards));
    }
    let plan = merged.to_plan(&merged.fleet_file)?;
    print_plan(&plan, &merged, args.format, super::diffs(args.each_diff))?;
    Ok(if plan.counts().failed > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}

/// Refuses plans made from different fleet files.
fn same_fleet_file(plans: &[(&str, &SavedPlan)]) -> Result<()> {
    let Some(&(first_path, first)) = plans.first() else {
        bail!("no plan given");
    };
    for &(path, plan) in &plans[1..] {
        if plan.fleet_sha256 != first.fleet_sha256 {
            bail!(
                "{path} was planned from a different fleet file than {first_path} (sha256 {} vs {}); plan every shard from the same commit",
                short(&plan.fleet_sha256),
                short(&first.fleet_sha256)
            );
        }
    }
    Ok(())
}

/// Merges the plans of several shards, of one fleet file (checked before):
/// they must cover disjoint targets.
fn merge(plans: Vec<(String, SavedPlan)>) -> Result<SavedPlan> {
    let mut plans = plans.into_iter();
    let (first_path, mut merged) = plans.next().context("no plan given")?;
    let mut owner: HashMap<(AccountId, Region), String> = HashMap::new();
    for target in &merged.targets {
        owner.insert(
            (target.account_id.clone(), target.region.clone()),
            first_path.clone(),
        );
    }
    for (path, plan) in plans {
        for target in &plan.targets {
            let key = (target.account_id.clone(), target.region.clone());
            if let Some(other) = owner.insert(key, path.clone()) {
                bail!(
                    "{} is in both {other} and {path}: shards overlap; use --partition K/N with the same N for every shard",
                    target.target
                );
            }
        }
        merged.created_at = merged.created_at.min(plan.created_at);
        merged.targets.extend(plan.targets);
    }
    let plan = merged.to_plan(&first_path)?;
    merged.summary = plan.counts();
    Ok(merged)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
