//! `fleet policy`: the documents a profile's destinations and fleet's own
//! role need, ready to paste.

use std::io::Write;

use anyhow::{Result, bail};

use super::{Exit, Ui, load_fleet};
use crate::cli::PolicyArgs;
use crate::engine::policy::{
    ManagedArns, PolicyScope, SCP_LIMIT, fleet_role_policy, lock_scp, profile_documents,
};
use crate::fleet::{Fleet, Managed};
use crate::logging::LoggingConfig;

fn push_new(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// The ARNs of what a profile manages, for fleet's own role policy and the SCP.
fn add_managed(
    managed: &mut ManagedArns,
    options: &Managed,
    config: &LoggingConfig,
    scope: &PolicyScope<'_>,
) {
    let partition = scope.partition;
    let buckets = [
        (config.s3_config.as_ref(), options.bucket.is_some()),
        (
            config
                .cloudwatch_config
                .as_ref()
                .and_then(|cw| cw.large_data_delivery_s3_config.as_ref()),
            options.large_data_bucket.is_some(),
        ),
    ];
    for (s3, is_managed) in buckets {
        if let Some(s3) = s3.filter(|_| is_managed) {
            push_new(
                &mut managed.buckets,
                format!("arn:{partition}:s3:::{}", s3.bucket_name),
            );
        }
    }
    if let Some(cw) = &config.cloudwatch_config {
        if options.log_group.is_some() {
            push_new(
                &mut managed.log_groups,
                format!(
                    "arn:{partition}:logs:{}:{}:log-group:{}",
                    scope.region, scope.account, cw.log_group_name
                ),
            );
        }
        if options.role {
            push_new(&mut managed.roles, cw.role_arn.clone());
        }
    }
}

/// `fleet policy --scp`: the lock, compact (SCPs count whitespace).
fn print_scp(ui: &Ui, fleet: &Fleet, break_glass: Option<&str>) -> Result<Exit> {
    let scope = PolicyScope::PLACEHOLDERS;
    let mut managed = ManagedArns::default();
    for profile in &fleet.profiles {
        if let Some(config) = &profile.template() {
            add_managed(&mut managed, &profile.managed(), config, &scope);
        }
    }
    let mut roles: Vec<String> = Vec::new();
    for account in &fleet.accounts {
        if let Some(arn) = &account.role_arn {
            push_new(&mut roles, arn.rsplit('/').next().unwrap_or(arn).to_owned());
        }
    }
    for unit in &fleet.discovery.units {
        push_new(&mut roles, unit.role_name.clone());
    }
    if roles.is_empty() {
        bail!(
            "no account of the fleet file is reached through a role: the SCP would exempt nobody; set role_name in [fleet] or role_arn on the accounts"
        );
    }
    let (scp, widened) = lock_scp(&roles, break_glass, &managed);
    let text = scp.to_string();
    writeln!(anstream::stdout(), "{text}")?;
    ui.notice(&format!(
        "{} of {SCP_LIMIT} characters; exempt: {}; attach it to the OUs or accounts fleet manages (not to the management account, which SCPs do not restrict)",
        text.len(),
        roles.join(", ")
    ));
    if widened {
        ui.warn("the managed resources did not fit the SCP size limit one by one: each statement names a common prefix with `*` instead, which may cover resources fleet does not manage");
    }
    Ok(Exit::Success)
}
use crate::fleet::{self, AccountId, Placeholders, Region};

pub(super) fn policy(ui: &Ui, config: &std::path::Path, args: PolicyArgs) -> Result<Exit> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    if args.scp {
        return print_scp(ui, &fleet, args.break_glass_role.as_deref());
    }
    let scope = match (&args.account, &args.region) {
        (Some(account), Some(region)) => {
            let Some(account) = AccountId::parse(account) else {
                bail!("--account `{account}` is not a 12-digit account id");
            };
            let Some(region) = Region::parse(region) else {
                bail!("--region `{region}` is not an AWS region name");
            };
            Some((account, region))
        }
        _ => None,
    };
    let profiles: Vec<_> = fleet
        .profiles
        .iter()
        .filter(|p| p.spec.enabled)
        .filter(|p| args.profile.as_ref().is_none_or(|name| &p.name == name))
        .collect();
    if profiles.is_empty() {
        match &args.profile {
            Some(name) => bail!("no profile `{name}` that logs in {}", config.display()),
            None => bail!("no profile in {} logs anywhere", config.display()),
        }
    }
    let mut out = anstream::stdout();
    let mut roles = Vec::new();
    let mut managed = ManagedArns::default();
    for profile in profiles {
        let template = &profile.template().expect("filtered");
        let (config, scope) = match &scope {
            Some((account, region)) => {
                let name = fleet
                    .accounts
                    .iter()
                    .find(|a| &a.id == account)
                    .map_or(account.as_str(), |a| a.label());
                let vars = Placeholders {
                    account_id: account.as_str(),
                    account_name: name,
                    region: region.as_str(),
                    partition: region.partition(),
                };
                (
                    vars.expand_config(template),
                    PolicyScope {
                        partition: region.partition(),
                        account: account.as_str(),
                        region: region.as_str(),
                    },
                )
            }
            None => (template.clone(), PolicyScope::PLACEHOLDERS),
        };
        let role_per_region = template
            .cloudwatch_config
            .as_ref()
            .is_some_and(|cw| cw.role_arn.contains("{region}"));
        writeln!(out, "# profile {}\n", profile.name)?;
        for document in profile_documents(&scope, &config, role_per_region) {
            writeln!(
                out,
                "## {}\n{}\n",
                document.title,
                serde_json::to_string_pretty(&document.body)?
            )?;
        }
        if let Some(cw) = &config.cloudwatch_config
            && !roles.contains(&cw.role_arn)
        {
            roles.push(cw.role_arn.clone());
        }
        add_managed(&mut managed, &profile.managed(), &config, &scope);
    }
    writeln!(
        out,
        "# fleet's own role (in every account)\n\n## IAM policy for the role fleet uses\n{}",
        serde_json::to_string_pretty(&fleet_role_policy(&roles, &managed))?
    )?;
    Ok(Exit::Success)
}
