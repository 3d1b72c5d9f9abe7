//! The saved plan (`fleet plan --out`): a stable JSON document that
//! `fleet apply PLAN` applies exactly, and `fleet report` renders.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ApiError;
use super::attribution::WriteEvent;
use super::destinations::{Resource, ResourcePlan, Step};
use super::plan::{Action, Plan, PlanCounts, TargetPlan};
use super::preflight::Finding;
use super::select::Partition;
use crate::fleet::{Account, AccountId, Fleet, Managed, Region, Settings, Target};
use crate::logging::LoggingConfig;

/// The version this build writes. Version 2 added `unreported_flags`,
/// `null` flags in `before` and `partition`; a version 1 plan reads as one
/// without them (unsharded).
pub const FORMAT_VERSION: u32 = 2;

/// The versions this build reads.
pub const READABLE_VERSIONS: [u32; 2] = [1, 2];

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub format_version: u32,
    /// The fleet file the plan was made from, as given on the command line.
    pub fleet_file: String,
    pub fleet_sha256: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The fleet version that wrote the plan.
    pub fleet_version: String,
    pub assume_role: AssumeRole,
    /// The shard the plan covers (`plan --partition K/N`); `null` when it
    /// covers every selected target. Version 2; a version 1 plan reads as
    /// `null`.
    #[serde(default)]
    pub partition: Option<Shard>,
    /// Only in a merge of an incomplete set of shards (`fleet report
    /// --allow-partial`): the shards whose plans were missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_shards: Vec<Shard>,
    /// `[fleet] protect` when the plan was made.
    #[serde(default)]
    pub protect: bool,
    /// `[fleet] concurrency` when the plan was made: `apply PLAN` calls AWS
    /// as the file said (absent: the default, or `--concurrency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Made with `--allow-weakening`: the reviewer saw and allowed the
    /// changes that weaken logging, so `apply PLAN` applies them.
    #[serde(default)]
    pub allow_weakening: bool,
    pub summary: PlanCounts,
    pub targets: Vec<SavedTarget>,
    /// The managed destinations planned, each once (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<SavedDestination>,
}

/// One managed destination of a saved plan: what fleet keeps of it as read
/// (`before`, `null` when it does not exist), as it will be (`after`), the
/// writes, and the targets that use it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedDestination {
    pub resource: Resource,
    /// `create`, `update`, `no-op`, or `failed` (`None`) when it could not
    /// be read.
    #[serde(with = "field::action")]
    pub action: Option<Action>,
    pub before: Option<serde_json::Value>,
    pub after: serde_json::Value,
    pub diff: String,
    pub steps: Vec<Step>,
    pub targets: Vec<String>,
    pub error: Option<ApiError>,
}

/// A destination of a saved plan that is no longer what the plan was made
/// against, with the diff between the two.
#[derive(Clone, Debug)]
pub struct StaleDestination {
    pub resource: Resource,
    pub diff: String,
}

/// The saved plan's destinations that changed since it was made: neither as
/// planned against nor already as planned.
pub fn stale_destinations(
    saved: &[SavedDestination],
    now: &[ResourcePlan],
) -> Vec<StaleDestination> {
    let render = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default() + "\n")
            .unwrap_or_default()
    };
    let mut stale = Vec::new();
    for planned in saved {
        let Some(current) = now.iter().find(|p| p.desired.resource == planned.resource) else {
            continue;
        };
        let before = current.before.clone().unwrap_or(None);
        let unchanged = before == planned.before;
        let already_applied = current.before.is_ok() && !current.is_change();
        if unchanged || already_applied {
            continue;
        }
        let label = planned.resource.label();
        stale.push(StaleDestination {
            resource: planned.resource.clone(),
            diff: similar::TextDiff::from_lines(render(&planned.before), render(&before))
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("planned against: {label}"),
                    &format!("live now: {label}"),
                )
                .to_string(),
        });
    }
    stale
}

impl SavedDestination {
    fn new(plan: &ResourcePlan, targets: &[TargetPlan]) -> SavedDestination {
        let action = match &plan.before {
            Err(_) => None,
            Ok(_) if !plan.is_change() => Some(Action::NoOp),
            Ok(None) => Some(Action::Create),
            Ok(Some(_)) => Some(Action::Update),
        };
        SavedDestination {
            resource: plan.desired.resource.clone(),
            action,
            before: plan.before.clone().ok().flatten(),
            after: plan.after.clone(),
            diff: plan.diff(),
            steps: plan.steps.clone(),
            targets: plan
                .targets
                .iter()
                .map(|i| targets[*i].target.id().to_string())
                .collect(),
            error: plan.before.as_ref().err().cloned(),
        }
    }
}

/// Shard `index` of `count` (1-based), as `--partition K/N` selects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl From<Partition> for Shard {
    fn from(partition: Partition) -> Shard {
        Shard {
            index: partition.k,
            count: partition.n,
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why saved plans cannot be merged as one set of shards.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardSetError {
    #[error(
        "{} missing: the plans given cover {} of {fleet_file}; pass the plan of every shard, or --allow-partial to render them marked as partial",
        shard_list("shard", "shards", .missing),
        shard_list("shard", "shards", .present)
    )]
    Missing {
        fleet_file: String,
        missing: Vec<Shard>,
        present: Vec<Shard>,
    },
    #[error(
        "{first} is shard {first_shard} but {second} is shard {second_shard}: plan every shard with the same N in --partition K/N"
    )]
    DifferentCounts {
        first: String,
        first_shard: Shard,
        second: String,
        second_shard: Shard,
    },
    #[error("shard {shard} is given twice: {first} and {second}")]
    Twice {
        shard: Shard,
        first: String,
        second: String,
    },
    #[error(
        "{whole} covers every target but {sharded} is shard {shard}: merge either plans made without --partition or the plans of every shard"
    )]
    Mixed {
        whole: String,
        sharded: String,
        shard: Shard,
    },
}

/// `shard 2/3` or `shards 1/3, 3/3`.
fn shard_list(one: &str, many: &str, shards: &[Shard]) -> String {
    let list: Vec<String> = shards.iter().map(Shard::to_string).collect();
    format!(
        "{} {}",
        if shards.len() == 1 { one } else { many },
        list.join(", ")
    )
}

/// The shards missing from a set of saved plans that are to be merged:
/// empty when the plans are unsharded or every shard is there. A merged
/// partial plan counts for the shards it has.
pub fn missing_shards(plans: &[(&str, &SavedPlan)]) -> Result<Vec<Shard>, ShardSetError> {
    let mut whole: Option<&str> = None;
    let mut present: Vec<(Shard, &str)> = Vec::new();
    for &(path, plan) in plans {
        let shards: Vec<Shard> = match (plan.partition, plan.missing_shards.first()) {
            (Some(shard), _) => vec![shard],
            (None, Some(missing)) => (1..=missing.count)
                .map(|index| Shard {
                    index,
                    count: missing.count,
                })
                .filter(|shard| !plan.missing_shards.contains(shard))
                .collect(),
            (None, None) => {
                whole = Some(path);
                continue;
            }
        };
        for shard in shards {
            if let Some(&(first_shard, first)) = present.first()
                && first_shard.count != shard.count
            {
                return Err(ShardSetError::DifferentCounts {
                    first: first.to_owned(),
                    first_shard,
                    second: path.to_owned(),
                    second_shard: shard,
                });
            }
            if let Some(&(_, first)) = present.iter().find(|(s, _)| *s == shard) {
                return Err(ShardSetError::Twice {
                    shard,
                    first: first.to_owned(),
                    second: path.to_owned(),
                });
            }
            present.push((shard, path));
        }
    }
    let Some(&(first_shard, sharded)) = present.first() else {
        return Ok(Vec::new());
    };
    if let Some(whole) = whole {
        return Err(ShardSetError::Mixed {
            whole: whole.to_owned(),
            sharded: sharded.to_owned(),
            shard: first_shard,
        });
    }
    let count = first_shard.count;
    let mut have: Vec<Shard> = present.into_iter().map(|(shard, _)| shard).collect();
    have.sort();
    let missing: Vec<Shard> = (1..=count)
        .map(|index| Shard { index, count })
        .filter(|shard| !have.contains(shard))
        .collect();
    Ok(missing)
}

/// The error for an incomplete set, naming what is there and what is not.
pub fn incomplete(fleet_file: &str, missing: Vec<Shard>) -> ShardSetError {
    let count = missing.first().map_or(0, |s| s.count);
    let present = (1..=count)
        .map(|index| Shard { index, count })
        .filter(|shard| !missing.contains(shard))
        .collect();
    ShardSetError::Missing {
        fleet_file: fleet_file.to_owned(),
        missing,
        present,
    }
}

/// The AssumeRole settings the plan was made with, so apply uses the same.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssumeRole {
    pub external_id: Option<String>,
    pub session_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTarget {
    /// `ACCOUNT/REGION`.
    pub target: String,
    #[serde(deserialize_with = "field::account_id")]
    pub account_id: AccountId,
    pub account_name: Option<String>,
    #[serde(deserialize_with = "field::region")]
    pub region: Region,
    pub profile: String,
    /// The role assumed for this account; `null` for the caller's own.
    pub role_arn: Option<String>,
    /// `create`, `update`, `delete`, `no-op`, or `failed` (`None`) when the
    /// target could not be read.
    #[serde(with = "field::action")]
    pub action: Option<Action>,
    /// The live configuration read when planning (`null`: none). A flag
    /// AWS did not report in that region is `null` here.
    pub before: Option<LoggingConfig>,
    /// The flags `before` leaves out: sent by apply, never compared.
    #[serde(default)]
    pub unreported_flags: Vec<String>,
    /// What the change would lose; empty when it weakens nothing.
    #[serde(default)]
    pub weakens: Vec<String>,
    /// The configuration the profile asks for (`null`: none).
    pub after: Option<LoggingConfig>,
    pub diff: String,
    pub error: Option<ApiError>,
    /// The destinations fleet manages for the target (absent: none).
    #[serde(default, skip_serializing_if = "Managed::is_empty")]
    pub managed: Managed,
    /// Preflight findings about the target's destinations.
    #[serde(default)]
    pub preflight: Vec<Finding>,
    /// The newest write CloudTrail has of a target to update or delete,
    /// when somebody other than fleet made it (absent: none, or not
    /// looked up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_outside: Option<WriteEvent>,
}

/// Why a saved plan cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("{path} is not valid JSON: {error}")]
    Json {
        path: String,
        error: serde_json::Error,
    },
    #[error(
        "{path} has format_version {found}, but this fleet reads only versions 1 and {FORMAT_VERSION}; re-create it with `fleet plan --out`"
    )]
    Version { path: String, found: String },
    #[error("{path} is not a fleet plan: {error}")]
    Shape {
        path: String,
        error: serde_json::Error,
    },
    #[error(
        "{path}: target {target}: {reason}; the plan was edited or damaged, re-create it with `fleet plan --out`"
    )]
    Target {
        path: String,
        target: String,
        reason: String,
    },
}

impl SavedPlan {
    pub fn new(plan: &Plan, fleet: &Fleet, created_at: String) -> SavedPlan {
        SavedPlan {
            format_version: FORMAT_VERSION,
            fleet_file: fleet.path.clone(),
            fleet_sha256: fleet.sha256.clone(),
            created_at,
            fleet_version: env!("CARGO_PKG_VERSION").to_owned(),
            assume_role: AssumeRole {
                external_id: fleet.settings.external_id.clone(),
                session_name: fleet.settings.session_name.clone(),
            },
            partition: None,
            missing_shards: Vec::new(),
            protect: fleet.settings.protect,
            concurrency: fleet.settings.concurrency,
            allow_weakening: false,
            summary: plan.counts(),
            targets: plan
                .targets
                .iter()
                .enumerate()
                .map(|(i, target)| {
                    let mut saved = SavedTarget::new(target);
                    saved.changed_outside = plan
                        .changed_outside
                        .iter()
                        .find(|(index, _)| *index == i)
                        .map(|(_, event)| event.clone());
                    saved
                })
                .collect(),
            destinations: plan
                .destinations
                .iter()
                .map(|d| SavedDestination::new(d, &plan.targets))
                .collect(),
        }
    }

    /// Parses a saved plan into its typed fields and checks that it is
    /// internally consistent. A field that does not parse is named in the
    /// error, with its line and column.
    pub fn parse(path: &str, text: &str) -> Result<SavedPlan, SavedPlanError> {
        /// Only the version, so that a plan of another version is refused
        /// as such, not for the fields it has.
        #[derive(Deserialize)]
        struct Versioned {
            format_version: Option<serde_json::Value>,
        }
        let version = match serde_json::from_str::<Versioned>(text) {
            Ok(versioned) => versioned.format_version,
            Err(error) if error.is_syntax() || error.is_eof() => {
                return Err(SavedPlanError::Json {
                    path: path.to_owned(),
                    error,
                });
            }
            // Valid JSON, but not an object with a version.
            Err(_) => None,
        };
        let readable = version
            .as_ref()
            .and_then(serde_json::Value::as_u64)
            .is_some_and(|v| READABLE_VERSIONS.iter().any(|r| u64::from(*r) == v));
        if !readable {
            return Err(SavedPlanError::Version {
                path: path.to_owned(),
                found: version.map_or_else(|| "(missing)".to_owned(), |v| v.to_string()),
            });
        }
        let saved: SavedPlan =
            serde_json::from_str(text).map_err(|error| SavedPlanError::Shape {
                path: path.to_owned(),
                error,
            })?;
        saved.to_plan(path)?;
        Ok(saved)
    }

    /// The settings apply needs to reach the plan's accounts.
    pub fn settings(&self) -> Settings {
        Settings {
            external_id: self.assume_role.external_id.clone(),
            session_name: self.assume_role.session_name.clone(),
            concurrency: self.concurrency,
            protect: self.protect,
        }
    }

    /// Rebuilds the engine's plan: each target's `before` becomes its live
    /// configuration and `after` its desired one.
    pub fn to_plan(&self, path: &str) -> Result<Plan, SavedPlanError> {
        let mut accounts: HashMap<&AccountId, Arc<Account>> = HashMap::new();
        let mut targets = Vec::with_capacity(self.targets.len());
        let mut changed_outside = Vec::new();
        for saved in &self.targets {
            let bad = |reason: &str| SavedPlanError::Target {
                path: path.to_owned(),
                target: saved.target.clone(),
                reason: reason.to_owned(),
            };
            let account = accounts
                .entry(&saved.account_id)
                .or_insert_with(|| {
                    Arc::new(Account {
                        id: saved.account_id.clone(),
                        name: saved.account_name.clone(),
                        role_arn: saved.role_arn.clone(),
                    })
                })
                .clone();
            let live = match (&saved.error, saved.action) {
                (Some(error), None) => Err(error.clone()),
                (None, _) => Ok(saved.before.clone().map(LoggingConfig::canonical)),
                _ => return Err(bad("an error is recorded but the action is not `failed`")),
            };
            if saved
                .after
                .as_ref()
                .is_some_and(|after| !after.unreported_flags().is_empty())
            {
                return Err(bad(
                    "`after` leaves a flag null, but a desired configuration sets all five",
                ));
            }
            let target = Target {
                account,
                region: saved.region.clone(),
                profile: Arc::from(saved.profile.as_str()),
                desired: saved.after.clone().map(LoggingConfig::canonical),
                managed: saved.managed.clone(),
            };
            let plan = TargetPlan {
                target,
                live,
                preflight: saved.preflight.clone(),
            };
            if plan.action() != saved.action {
                return Err(bad(&format!(
                    "action is `{}` but before and after say `{}`",
                    field::action_name(saved.action),
                    field::action_name(plan.action())
                )));
            }
            if plan.target.id().to_string() != saved.target {
                return Err(bad("target does not match account and region"));
            }
            if let Some(event) = &saved.changed_outside {
                changed_outside.push((targets.len(), event.clone()));
            }
            targets.push(plan);
        }
        Ok(Plan {
            targets,
            destinations: Vec::new(),
            changed_outside,
        })
    }
}

impl SavedTarget {
    fn new(plan: &TargetPlan) -> SavedTarget {
        let target = &plan.target;
        SavedTarget {
            target: target.id().to_string(),
            account_id: target.account.id.clone(),
            account_name: target.account.name.clone(),
            region: target.region.clone(),
            profile: target.profile.to_string(),
            role_arn: target.account.role_arn.clone(),
            action: plan.action(),
            before: plan.live.as_ref().ok().cloned().flatten(),
            weakens: plan.losses(),
            unreported_flags: match &plan.live {
                Ok(Some(live)) => live
                    .unreported_flags()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            },
            after: target.desired.clone(),
            diff: plan.diff(),
            error: plan.live.as_ref().err().cloned(),
            managed: target.managed.clone(),
            preflight: plan.preflight.clone(),
            changed_outside: None,
        }
    }
}

/// The fields of a saved target that parse into fleet's types; an error
/// names the field and the value found.
mod field {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Action;
    use crate::fleet::{AccountId, Region};

    pub(super) fn account_id<'de, D: Deserializer<'de>>(d: D) -> Result<AccountId, D::Error> {
        let text = String::deserialize(d)?;
        AccountId::parse(&text)
            .ok_or_else(|| D::Error::custom(format!("account_id is not 12 digits: `{text}`")))
    }

    pub(super) fn region<'de, D: Deserializer<'de>>(d: D) -> Result<Region, D::Error> {
        let text = String::deserialize(d)?;
        Region::parse(&text)
            .ok_or_else(|| D::Error::custom(format!("region is not an AWS region name: `{text}`")))
    }

    /// How a target's action is written: the action, or `failed` for none.
    pub(super) fn action_name(action: Option<Action>) -> &'static str {
        action.map_or("failed", Action::as_str)
    }

    /// A target's action, `failed` (`None`) when it could not be read.
    pub(super) mod action {
        use super::*;

        pub(in super::super) fn serialize<S: Serializer>(
            action: &Option<Action>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.serialize_str(action_name(*action))
        }

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Action>, D::Error> {
            let text = String::deserialize(d)?;
            [Action::Create, Action::Update, Action::Delete, Action::NoOp]
                .into_iter()
                .map(Some)
                .chain([None])
                .find(|action| action_name(*action) == text)
                .ok_or_else(|| {
                    D::Error::custom(format!(
                        "action is not one of create, update, delete, no-op, failed: `{text}`"
                    ))
                })
        }
    }
}
