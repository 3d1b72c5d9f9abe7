//! Reading every target and comparing it with its profile.

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use similar::TextDiff;

use super::preflight::Finding;
use super::{ApiError, Location, LoggingApi, Progress};
use crate::fleet::Target;
use crate::logging::{LoggingConfig, comparable, configs_agree, render_optional};

/// What apply will do to a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Delete,
    NoOp,
}

impl Action {
    /// The action that turns `live` into `desired`.
    pub fn between(live: Option<&LoggingConfig>, desired: Option<&LoggingConfig>) -> Action {
        match (live, desired) {
            (None, None) => Action::NoOp,
            (None, Some(_)) => Action::Create,
            (Some(_), None) => Action::Delete,
            // A flag the region does not report is not compared.
            (Some(live), Some(desired)) if live.agrees_with(desired) => Action::NoOp,
            (Some(_), Some(_)) => Action::Update,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
        }
    }
}

/// One target's plan: what was read, and so what must change.
#[derive(Clone, Debug)]
pub struct TargetPlan {
    pub target: Target,
    /// The live configuration read, or why it could not be read.
    pub live: Result<Option<LoggingConfig>, ApiError>,
    /// What preflight found about the target's destinations.
    pub preflight: Vec<Finding>,
}

impl AsRef<Target> for TargetPlan {
    fn as_ref(&self) -> &Target {
        &self.target
    }
}

impl TargetPlan {
    /// `None` when the target could not be read.
    pub fn action(&self) -> Option<Action> {
        self.live
            .as_ref()
            .ok()
            .map(|live| Action::between(live.as_ref(), self.target.desired.as_ref()))
    }

    /// What the planned change would lose (see [`super::weaken`]); empty for
    /// a change that loses nothing, or a target that could not be read.
    pub fn losses(&self) -> Vec<String> {
        match &self.live {
            Ok(live) if !configs_agree(live.as_ref(), self.target.desired.as_ref()) => {
                super::weaken::losses(live.as_ref(), self.target.desired.as_ref())
            }
            _ => Vec::new(),
        }
    }

    /// The unified diff from live to desired; empty when nothing changes or
    /// the target could not be read.
    pub fn diff(&self) -> String {
        match &self.live {
            Ok(live) => unified_diff(
                live.as_ref(),
                self.target.desired.as_ref(),
                &format!("live: {}", self.target.id()),
                &format!("desired: {}", self.target.id()),
            ),
            Err(_) => String::new(),
        }
    }
}

/// A unified diff between two configurations rendered as canonical TOML.
/// A flag one side does not report is left out of both, so it never shows
/// as a change.
pub fn unified_diff(
    before: Option<&LoggingConfig>,
    after: Option<&LoggingConfig>,
    before_header: &str,
    after_header: &str,
) -> String {
    if configs_agree(before, after) {
        return String::new();
    }
    let (before, after) = comparable(before, after);
    let (old, new) = (
        render_optional(before.as_ref()),
        render_optional(after.as_ref()),
    );
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(before_header, after_header)
        .to_string()
}

/// How many targets get each action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCounts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Changes that make a target log less (absent when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weakening: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl PlanCounts {
    pub fn changes(&self) -> usize {
        self.create + self.update + self.delete
    }
}

/// The plan of a whole run, in the fleet file's target order.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub targets: Vec<TargetPlan>,
    /// The managed destinations of those targets, each once.
    pub destinations: Vec<super::destinations::ResourcePlan>,
    /// By index into `targets`: the newest write CloudTrail has of a target
    /// to update or delete, when somebody other than fleet made it.
    pub changed_outside: Vec<(usize, super::attribution::WriteEvent)>,
}

impl Plan {
    /// Who changed target `index` outside fleet, in a line, when CloudTrail
    /// said so.
    pub fn changed_outside_by(&self, index: usize) -> Option<String> {
        let (_, event) = self.changed_outside.iter().find(|(i, _)| *i == index)?;
        Some(
            super::attribution::Attribution::Changed {
                event: event.clone(),
                by_fleet: false,
            }
            .describe(),
        )
    }

    pub fn counts(&self) -> PlanCounts {
        let mut counts = PlanCounts::default();
        for target in &self.targets {
            match target.action() {
                Some(Action::Create) => counts.create += 1,
                Some(Action::Update) => counts.update += 1,
                Some(Action::Delete) => counts.delete += 1,
                Some(Action::NoOp) => counts.unchanged += 1,
                None => counts.failed += 1,
            }
            if !target.losses().is_empty() {
                counts.weakening += 1;
            }
        }
        counts
    }

    /// The targets whose change makes them log less, with what each loses.
    pub fn weakening(&self) -> Vec<(&TargetPlan, Vec<String>)> {
        self.targets
            .iter()
            .map(|t| (t, t.losses()))
            .filter(|(_, losses)| !losses.is_empty())
            .collect()
    }

    /// Per region, the flags the live configurations read there leave out.
    pub fn unreported_flags(&self) -> Vec<super::UnreportedFlags> {
        super::unreported_flags(self.targets.iter().filter_map(|t| match &t.live {
            Ok(Some(live)) => Some((&t.target.region, live)),
            _ => None,
        }))
    }

    /// Managed destinations apply would create or change.
    pub fn destination_changes(&self) -> usize {
        self.destinations.iter().filter(|d| d.is_change()).count()
    }

    /// Managed destinations that could not be read.
    pub fn destination_failures(&self) -> usize {
        self.destinations
            .iter()
            .filter(|d| d.before.is_err())
            .count()
    }

    /// Targets apply would write.
    pub fn changes(&self) -> impl Iterator<Item = &TargetPlan> {
        self.targets
            .iter()
            .filter(|t| matches!(t.action(), Some(a) if a != Action::NoOp))
    }
}

/// Reads every target with at most `concurrency` calls in flight and
/// compares it with its profile. A target that cannot be read is recorded
/// as such; it never stops the others.
pub async fn plan_targets<A: LoggingApi>(
    api: &A,
    targets: Vec<Target>,
    concurrency: usize,
    progress: &dyn Progress,
) -> Plan {
    // Each target moves into its plan before the reads, and each answer is
    // put in its plan as it is taken from the reads: one array of targets
    // for the whole run, not three (targets, answers, plans).
    let mut targets: Vec<TargetPlan> = targets
        .into_iter()
        .map(|target| TargetPlan {
            target,
            live: Ok(None),
            preflight: Vec::new(),
        })
        .collect();
    let answers = read_each(api, &targets, concurrency, progress).await;
    // `Ok(None)` above reads as "nothing set": every target must have had
    // its answer put over it.
    debug_assert_eq!(answers.len(), targets.len());
    for (index, live) in answers {
        targets[index].live = live;
    }
    Plan {
        targets,
        destinations: Vec::new(),
        changed_outside: Vec::new(),
    }
}

/// The live configuration of each of `targets`, in their order, read with
/// at most `concurrency` calls in flight; the targets are borrowed, never
/// copied.
pub async fn read_live<A: LoggingApi, T: AsRef<Target> + Sync>(
    api: &A,
    targets: &[T],
    concurrency: usize,
    progress: &dyn Progress,
) -> Vec<Result<Option<LoggingConfig>, ApiError>> {
    let mut read = read_each(api, targets, concurrency, progress).await;
    read.sort_unstable_by_key(|(index, _)| *index);
    read.into_iter().map(|(_, live)| live).collect()
}

/// The live configuration of each of `targets` with its index, in the order
/// the answers came, read with at most `concurrency` calls in flight.
async fn read_each<A: LoggingApi, T: AsRef<Target> + Sync>(
    api: &A,
    targets: &[T],
    concurrency: usize,
    progress: &dyn Progress,
) -> Vec<(usize, Result<Option<LoggingConfig>, ApiError>)> {
    progress.started(targets.len());
    prepare_accounts(api, targets.iter().map(AsRef::as_ref), concurrency).await;
    // Sized once: collecting a stream grows the array by doubling, and at
    // 10,000 targets the copies and the slack were megabytes.
    let mut read = Vec::with_capacity(targets.len());
    futures::stream::iter(targets.iter().enumerate())
        .map(|(index, target)| async move {
            let live = api.get(location(target.as_ref())).await;
            progress.advanced();
            (index, live)
        })
        .buffer_unordered(concurrency.max(1))
        .for_each(|answer| {
            read.push(answer);
            std::future::ready(())
        })
        .await;
    progress.finished();
    read
}

/// Lets the API set up every account of `targets` before their calls start.
pub async fn prepare_accounts<'t, A: LoggingApi>(
    api: &A,
    targets: impl Iterator<Item = &'t Target>,
    concurrency: usize,
) {
    let mut seen = std::collections::HashSet::new();
    let accounts: Vec<Location<'_>> = targets
        .filter(|t| seen.insert(&t.account.id))
        .map(location)
        .collect();
    api.prepare(&accounts, concurrency.max(1)).await;
}

/// Where a target's calls go.
pub fn location(target: &Target) -> Location<'_> {
    Location {
        account_id: &target.account.id,
        role_arn: target.account.role_arn.as_deref(),
        region: &target.region,
    }
}
