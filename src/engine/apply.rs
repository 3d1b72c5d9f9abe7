//! Writing the targets that differ, verifying each, and refusing stale
//! saved plans.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures::StreamExt;

use super::plan::{Action, TargetPlan, location, prepare_accounts, unified_diff};
use super::preflight::{Finding, Severity};
use super::{ApiError, LoggingApi, PermissionWait, Progress};
use crate::logging::{LoggingConfig, configs_agree};

/// How apply runs.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub concurrency: usize,
    /// After this many failed writes no new write starts.
    pub max_failures: Option<usize>,
    /// Set (by Ctrl-C) to stop starting new writes; running ones finish.
    pub stop: Arc<AtomicBool>,
}

/// Why a change was not attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    MaxFailures,
    Interrupted,
}

/// What happened to one change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Written, read back, and equal to the profile.
    Applied,
    /// The write itself failed.
    Failed(ApiError),
    /// The write succeeded but the read-back failed, so it is not verified.
    Unverified(ApiError),
    /// The write succeeded but the read-back differs from the profile.
    Mismatch {
        read_back: Option<LoggingConfig>,
    },
    NotAttempted(SkipReason),
    /// A saved plan's change whose target already equals the plan's `after`
    /// when apply re-read it: nothing was written.
    AlreadyApplied,
}

impl ApplyOutcome {
    pub fn is_failure(&self) -> bool {
        !matches!(self, ApplyOutcome::Applied | ApplyOutcome::AlreadyApplied)
    }
}

/// One change and its outcome.
#[derive(Clone, Debug)]
pub struct TargetApply {
    pub plan: TargetPlan,
    pub action: Action,
    pub outcome: ApplyOutcome,
}

/// Everything apply did, in the plan's order.
#[derive(Clone, Debug, Default)]
pub struct ApplyReport {
    pub results: Vec<TargetApply>,
    /// True when a stop was requested while applying.
    pub interrupted: bool,
}

impl ApplyReport {
    pub fn applied(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome == ApplyOutcome::Applied)
            .count()
    }

    pub fn not_attempted(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, ApplyOutcome::NotAttempted(_)))
            .count()
    }

    pub fn already_applied(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome == ApplyOutcome::AlreadyApplied)
            .count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.applied() - self.not_attempted() - self.already_applied()
    }

    /// Records changes of a saved plan found already applied, ahead of the
    /// writes.
    pub fn add_already_applied(&mut self, plans: Vec<TargetPlan>) {
        let done = plans.into_iter().map(|plan| TargetApply {
            action: plan.action().unwrap_or(Action::NoOp),
            plan,
            outcome: ApplyOutcome::AlreadyApplied,
        });
        self.results.splice(0..0, done);
    }

    pub fn success(&self) -> bool {
        self.results.iter().all(|r| !r.outcome.is_failure())
    }
}

/// Writes every change in `changes` (targets whose action is not no-op),
/// reads each back, and compares it with the profile.
pub async fn apply_changes<A: LoggingApi>(
    api: &A,
    changes: Vec<TargetPlan>,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> ApplyReport {
    let failures = AtomicUsize::new(0);
    let failures = &failures;
    progress.started(changes.len());
    let mut results: Vec<(usize, TargetApply)> =
        futures::stream::iter(changes.into_iter().enumerate())
            .map(|(index, plan)| async move {
                let action = plan.action().unwrap_or(Action::NoOp);
                let outcome = if options.stop.load(Ordering::SeqCst) {
                    ApplyOutcome::NotAttempted(SkipReason::Interrupted)
                } else if options
                    .max_failures
                    .is_some_and(|max| failures.load(Ordering::SeqCst) >= max)
                {
                    ApplyOutcome::NotAttempted(SkipReason::MaxFailures)
                } else {
                    let outcome = write_and_verify(api, &plan).await;
                    if outcome.is_failure() {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                    outcome
                };
                progress.advanced();
                (
                    index,
                    TargetApply {
                        plan,
                        action,
                        outcome,
                    },
                )
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
    progress.finished();
    results.sort_unstable_by_key(|(index, _)| *index);
    ApplyReport {
        results: results.into_iter().map(|(_, r)| r).collect(),
        interrupted: options.stop.load(Ordering::SeqCst),
    }
}

async fn write_and_verify<A: LoggingApi>(api: &A, plan: &TargetPlan) -> ApplyOutcome {
    let at = location(&plan.target);
    let desired = plan.target.desired.as_ref();
    // Waiting for IAM helps only a destination that exists and is set up;
    // one that preflight found broken will not start working by itself.
    let problems: Vec<&Finding> = plan
        .preflight
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .collect();
    let wait = if problems.is_empty() {
        PermissionWait::Wait
    } else {
        PermissionWait::FailFast
    };
    let written = match desired {
        Some(config) => api.put(at, config, wait).await,
        None => api.delete(at).await,
    };
    if let Err(mut err) = written {
        if !problems.is_empty() && desired.is_some() {
            let found: Vec<String> = problems
                .iter()
                .map(|f| format!("{}: {}", f.resource, f.problem))
                .collect();
            err.message = format!("{}; preflight found: {}", err.message, found.join("; "));
        }
        return ApplyOutcome::Failed(err);
    }
    match api.get(at).await {
        Err(err) => ApplyOutcome::Unverified(err),
        // A flag the region does not report cannot be verified, only sent.
        Ok(read_back) if configs_agree(read_back.as_ref(), desired) => ApplyOutcome::Applied,
        Ok(read_back) => ApplyOutcome::Mismatch { read_back },
    }
}

/// A target of a saved plan whose live configuration is no longer what the
/// plan was made against.
#[derive(Clone, Debug)]
pub struct StaleTarget {
    pub plan: TargetPlan,
    /// What is live now, or why it could not be read.
    pub now: Result<Option<LoggingConfig>, ApiError>,
}

impl StaleTarget {
    /// The diff between what the plan was made against and what is live.
    pub fn diff(&self) -> String {
        let id = self.plan.target.id();
        match (&self.plan.live, &self.now) {
            (Ok(before), Ok(now)) => unified_diff(
                before.as_ref(),
                now.as_ref(),
                &format!("planned against: {id}"),
                &format!("live now: {id}"),
            ),
            _ => String::new(),
        }
    }
}

/// What re-reading the targets of a saved plan found.
#[derive(Clone, Debug, Default)]
pub struct Recheck {
    /// Targets that are neither what the plan was made against nor what it
    /// asks for: while there are any, nothing may be written.
    pub stale: Vec<StaleTarget>,
    /// Changes whose target already equals the plan's `after`, typically
    /// written by an earlier apply of the same plan that failed elsewhere.
    pub already_applied: Vec<TargetPlan>,
}

impl Recheck {
    /// Whether `plan` is one of the already-applied changes.
    pub fn is_already_applied(&self, plan: &TargetPlan) -> bool {
        self.already_applied.iter().any(|done| {
            done.target.account.id == plan.target.account.id
                && done.target.region == plan.target.region
        })
    }
}

/// Re-reads every planned target: one still as it was when planned is
/// applied as planned, one that already equals the plan's `after` is
/// already applied, and any other (or one that can no longer be read) is
/// stale.
pub async fn check_stale<A: LoggingApi>(
    api: &A,
    planned: &[TargetPlan],
    concurrency: usize,
    progress: &dyn Progress,
) -> Recheck {
    let readable: Vec<&TargetPlan> = planned.iter().filter(|p| p.live.is_ok()).collect();
    progress.started(readable.len());
    prepare_accounts(api, readable.iter().map(|p| &p.target), concurrency).await;
    let mut found: Vec<(usize, Result<TargetPlan, StaleTarget>)> =
        futures::stream::iter(readable.into_iter().enumerate())
            .map(|(index, plan)| async move {
                let now = api.get(location(&plan.target)).await;
                progress.advanced();
                let unchanged =
                    matches!((&plan.live, &now), (Ok(before), Ok(now)) if configs_agree(before.as_ref(), now.as_ref()));
                let applied = matches!(&now, Ok(now) if configs_agree(now.as_ref(), plan.target.desired.as_ref()));
                if unchanged {
                    None
                } else if applied {
                    Some((index, Ok(plan.clone())))
                } else {
                    Some((
                        index,
                        Err(StaleTarget {
                            plan: plan.clone(),
                            now,
                        }),
                    ))
                }
            })
            .buffer_unordered(concurrency.max(1))
            .filter_map(|found| async move { found })
            .collect()
            .await;
    progress.finished();
    found.sort_unstable_by_key(|(index, _)| *index);
    let mut recheck = Recheck::default();
    for (_, target) in found {
        match target {
            Ok(applied) => recheck.already_applied.push(applied),
            Err(stale) => recheck.stale.push(stale),
        }
    }
    recheck
}
