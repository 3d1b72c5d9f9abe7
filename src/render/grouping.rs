//! Identical changes, grouped: the rule the human plan and the markdown
//! plan share for "these targets get the same change". A diff is compared
//! with each target's account id, account name and region turned back into
//! the fleet file's placeholders, so one profile rolled out across a fleet
//! is one change however many accounts and regions it reaches.

use std::collections::BTreeMap;

use crate::engine::destinations::{Resource, ResourcePlan};
use crate::engine::preflight::Finding;
use crate::engine::{Action, Plan, TargetPlan, unified_diff};
use crate::fleet::{OwnValues, Target};

/// Targets that share one change.
pub(super) struct ChangeGroup<'p> {
    pub action: Action,
    /// The diff with placeholders for what differs between the targets.
    pub diff: String,
    /// The targets' preflight findings, with placeholders (only when
    /// grouped [`By::Everything`]; otherwise empty).
    pub findings: Vec<Finding>,
    /// The changes of the targets' managed destinations, one line each,
    /// with placeholders (only when grouped [`By::Everything`]).
    pub destinations: Vec<String>,
    /// Each target with its index into the plan's targets, in plan order.
    pub targets: Vec<(usize, &'p TargetPlan)>,
}

/// What two targets must share to be one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum By {
    /// The action and the diff (markdown lists findings in their own table).
    Diff,
    /// The action, the diff, the preflight findings and the changes of the
    /// destinations the target delivers to: what the human plan prints once
    /// per group.
    Everything,
}

/// `text` with `target`'s account id, account name and region turned into
/// `{account_id}`, `{account_name}` and `{region}`: the reversal `import`
/// uses too ([`OwnValues::templated`]), so the two agree on what one
/// change is.
pub(super) fn templated(text: &str, target: &Target) -> String {
    OwnValues {
        account_id: target.account.id.as_str(),
        account_name: target.account.name.as_deref(),
        region: Some(target.region.as_str()),
    }
    .templated(text)
}

/// The diff of one target with its own ids turned into placeholders.
pub(super) fn templated_diff(plan: &TargetPlan) -> String {
    let Ok(live) = &plan.live else {
        return String::new();
    };
    let target = &plan.target;
    let diff = unified_diff(live.as_ref(), target.desired.as_ref(), "live", "desired");
    templated(&diff, target)
}

fn templated_findings(plan: &TargetPlan) -> Vec<Finding> {
    plan.preflight
        .iter()
        .map(|finding| Finding {
            severity: finding.severity,
            resource: templated(&finding.resource, &plan.target),
            problem: templated(&finding.problem, &plan.target),
            fix: templated(&finding.fix, &plan.target),
        })
        .collect()
}

/// Per target index, one line for each destination it delivers to that
/// changes or cannot be read, e.g. `+ create bucket s3://logs-{account_id}`.
fn destination_changes(plan: &Plan) -> BTreeMap<usize, Vec<String>> {
    let mut by_target: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for resource in &plan.destinations {
        let change = match &resource.before {
            Err(_) => "! cannot plan",
            Ok(_) if !resource.is_change() => continue,
            Ok(_) if resource.is_create() => "+ create",
            Ok(_) => "~ update",
        };
        for &index in &resource.targets {
            let Some(target) = plan.targets.get(index) else {
                continue;
            };
            let label = templated(&resource.desired.resource.label(), &target.target);
            by_target
                .entry(index)
                .or_default()
                .push(format!("{change} {label}"));
        }
    }
    by_target
}

/// The plan's changes (not its no-ops or failures), identical ones
/// together; the biggest group first, as it is what a reviewer must see,
/// and groups of one size in the order of their first target.
pub(super) fn change_groups(plan: &Plan, by: By) -> Vec<ChangeGroup<'_>> {
    type Key = (Action, String, Vec<Finding>, Vec<String>);
    let mut destinations = match by {
        By::Diff => BTreeMap::new(),
        By::Everything => destination_changes(plan),
    };
    let mut by_change: BTreeMap<Key, Vec<(usize, &TargetPlan)>> = BTreeMap::new();
    for (index, target) in plan.targets.iter().enumerate() {
        let Some(action) = target.action().filter(|a| *a != Action::NoOp) else {
            continue;
        };
        let key = match by {
            By::Diff => (action, templated_diff(target), Vec::new(), Vec::new()),
            By::Everything => {
                let mut changes = destinations.remove(&index).unwrap_or_default();
                changes.sort();
                (
                    action,
                    templated_diff(target),
                    templated_findings(target),
                    changes,
                )
            }
        };
        by_change.entry(key).or_default().push((index, target));
    }
    let mut groups: Vec<ChangeGroup<'_>> = by_change
        .into_iter()
        .map(
            |((action, diff, findings, destinations), targets)| ChangeGroup {
                action,
                diff,
                findings,
                destinations,
                targets,
            },
        )
        .collect();
    groups.sort_by(|a, b| {
        b.targets
            .len()
            .cmp(&a.targets.len())
            .then(a.targets[0].0.cmp(&b.targets[0].0))
    });
    groups
}

/// What happens to a managed destination, in the order plans list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum DestinationChange {
    CannotPlan,
    Create,
    Update,
}

/// Managed destinations that share one change.
pub(super) struct DestinationGroup<'p> {
    pub change: DestinationChange,
    /// The diff, or for [`DestinationChange::CannotPlan`] `code: message`,
    /// with placeholders for the account id and region.
    pub text: String,
    /// Each destination with its index into the plan's destinations.
    pub resources: Vec<(usize, &'p ResourcePlan)>,
}

/// `text` with the account id of `resource` as `{account_id}`, and its
/// region, for a regional one, as `{region}`.
pub(super) fn templated_resource(text: &str, resource: &Resource) -> String {
    let (account, region) = resource.place();
    OwnValues {
        account_id: account,
        account_name: None,
        region,
    }
    .templated(text)
}

/// The destinations that change or cannot be read, identical changes
/// together, in the order of [`DestinationChange`] then of their text.
pub(super) fn destination_groups(plan: &Plan) -> Vec<DestinationGroup<'_>> {
    let mut groups: BTreeMap<(DestinationChange, String), Vec<(usize, &ResourcePlan)>> =
        BTreeMap::new();
    for (index, resource) in plan.destinations.iter().enumerate() {
        let (change, text) = match &resource.before {
            Err(err) => (
                DestinationChange::CannotPlan,
                format!("{}: {}", err.code, err.message),
            ),
            Ok(_) if !resource.is_change() => continue,
            Ok(_) if resource.is_create() => (DestinationChange::Create, resource.diff()),
            Ok(_) => (DestinationChange::Update, resource.diff()),
        };
        let text = templated_resource(&text, &resource.desired.resource);
        groups
            .entry((change, text))
            .or_default()
            .push((index, resource));
    }
    groups
        .into_iter()
        .map(|((change, text), resources)| DestinationGroup {
            change,
            text,
            resources,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::fleet::{Account, AccountId, Region};
    use crate::logging::{CloudWatchConfig, LoggingConfig, S3Config};

    /// The plan groups targets by their diff with their own values turned
    /// into placeholders; `import` writes a profile the same way. For one
    /// configuration the two must agree, or the PR comment would group
    /// targets that `import` gives different profiles (or the reverse).
    #[test]
    fn the_plan_groups_by_the_templates_import_writes() {
        let target = Target {
            account: Arc::new(Account {
                id: AccountId::parse("111111111111").unwrap(),
                name: Some("prod".into()),
                role_arn: None,
            }),
            region: Region::parse("us-east-1").unwrap(),
            profile: Arc::from("p"),
            desired: Some(LoggingConfig {
                s3_config: Some(S3Config::new(
                    "logs-111111111111-us-east-1-prod",
                    Some("production/prod/us-east-1x/1111111111112".into()),
                )),
                cloudwatch_config: Some(CloudWatchConfig {
                    log_group_name: "/aws/bedrock/prod-us-east-1".into(),
                    role_arn: "arn:aws:iam::111111111111:role/prod".into(),
                    large_data_delivery_s3_config: None,
                }),
                text_data_delivery_enabled: Some(true),
                image_data_delivery_enabled: Some(true),
                embedding_data_delivery_enabled: Some(false),
                video_data_delivery_enabled: Some(true),
                audio_data_delivery_enabled: Some(true),
            }),
            managed: Default::default(),
        };
        let plan = TargetPlan {
            target: target.clone(),
            live: Ok(None),
            preflight: Vec::new(),
        };
        let imported =
            crate::engine::import::templated(target.desired.as_ref().unwrap(), &target).unwrap();
        assert_eq!(
            templated_diff(&plan),
            unified_diff(None, Some(&imported), "live", "desired")
        );
        assert!(templated_diff(&plan).contains("logs-{account_id}-{region}-{account_name}"));
        assert!(
            templated_diff(&plan).contains("production/{account_name}/us-east-1x/1111111111112")
        );
    }
}
