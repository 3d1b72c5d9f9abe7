//! Plan, apply, audit and import, over a small trait for get/put/delete.
//!
//! The engine never prints and never sees SDK types: `aws/` implements
//! [`LoggingApi`] for the real SDK, tests implement it in memory, and
//! `render/` turns the results into text.

mod api_error;
mod apply;
pub mod attribution;
pub mod audit;
pub mod destinations;
pub mod discovery;
pub mod import;
pub mod lock;
mod plan;
pub mod policy;
pub mod preflight;
pub mod saved;
pub mod security_hub;
pub mod select;
pub mod usage;
pub mod weaken;

use std::future::Future;

pub use api_error::{ApiError, ErrorCode};
pub use apply::{
    ApplyOptions, ApplyOutcome, ApplyReport, Recheck, SkipReason, StaleTarget, TargetApply,
    apply_changes, check_stale,
};
pub use plan::{
    Action, Plan, PlanCounts, TargetPlan, location as location_of, plan_targets, unified_diff,
};

use crate::fleet::{AccountId, Region};
use crate::logging::LoggingConfig;

/// Where a call goes: one account × region.
#[derive(Clone, Copy, Debug)]
pub struct Location<'a> {
    pub account_id: &'a AccountId,
    /// The role to assume, or `None` for the caller's own account.
    pub role_arn: Option<&'a str>,
    pub region: &'a Region,
}

/// Whether a Put that AWS rejects with "Failed to validate permissions" is
/// worth retrying: only while IAM may still be propagating a role or policy
/// that exists, never when preflight already found the destination broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermissionWait {
    /// Retry within the permission-retry window.
    Wait,
    /// Fail at once: waiting cannot help.
    FailFast,
}

/// The three Bedrock calls fleet makes, per account × region.
pub trait LoggingApi: Sync {
    /// The live configuration, `None` when nothing is set.
    fn get(
        &self,
        at: Location<'_>,
    ) -> impl Future<Output = Result<Option<LoggingConfig>, ApiError>> + Send;
    /// Replaces the whole configuration.
    fn put(
        &self,
        at: Location<'_>,
        config: &LoggingConfig,
        wait: PermissionWait,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    fn delete(&self, at: Location<'_>) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Gets ready to call these accounts (one location each), e.g. by
    /// assuming their roles, at most `concurrency` at a time. Without it the
    /// first target of every account would hold a slot while its account's
    /// credentials are fetched, and its other targets would wait behind it.
    fn prepare(
        &self,
        _accounts: &[Location<'_>],
        _concurrency: usize,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// The flags AWS leaves out of Get in one region (it does so for a modality
/// the region does not offer); fleet sends them but never compares them there.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UnreportedFlags {
    pub region: Region,
    /// Fleet file key names, in the file's order.
    pub flags: Vec<&'static str>,
}

/// Gathers, once per region, the flags that live configurations read there
/// leave out, in region order.
pub fn unreported_flags<'a>(
    reads: impl IntoIterator<Item = (&'a Region, &'a LoggingConfig)>,
) -> Vec<UnreportedFlags> {
    let mut by_region: std::collections::BTreeMap<&Region, [bool; 5]> = Default::default();
    for (region, live) in reads {
        for (i, (_, value)) in live.flags().into_iter().enumerate() {
            if value.is_none() {
                by_region.entry(region).or_default()[i] = true;
            }
        }
    }
    by_region
        .into_iter()
        .map(|(region, missing)| UnreportedFlags {
            region: region.clone(),
            flags: crate::logging::FLAG_NAMES
                .into_iter()
                .zip(missing)
                .filter_map(|(name, missing)| missing.then_some(name))
                .collect(),
        })
        .collect()
}

/// Called as work progresses, so a renderer can draw a progress bar.
pub trait Progress: Sync {
    fn started(&self, _total: usize) {}
    fn advanced(&self) {}
    fn finished(&self) {}
}

/// Asks `look` about every item `wanted` picks, at most `concurrency` at a
/// time, reporting progress; returns the answers with the items' indices,
/// in index order. The per-target lookups of audit and plan (CloudTrail,
/// metrics) go through it.
pub(crate) async fn look_up<'a, T, R, Fut>(
    items: &'a [T],
    wanted: impl Fn(&T) -> bool,
    concurrency: usize,
    progress: &dyn Progress,
    look: impl Fn(&'a T) -> Fut,
) -> Vec<(usize, R)>
where
    Fut: Future<Output = R>,
{
    use futures::StreamExt;
    let picked: Vec<usize> = (0..items.len()).filter(|&i| wanted(&items[i])).collect();
    if picked.is_empty() {
        return Vec::new();
    }
    progress.started(picked.len());
    let mut found: Vec<(usize, R)> = futures::stream::iter(picked)
        .map(|i| {
            let answer = look(&items[i]);
            async move {
                let answer = answer.await;
                progress.advanced();
                (i, answer)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    progress.finished();
    found.sort_unstable_by_key(|(i, _)| *i);
    found
}

/// For callers that want no progress reports.
pub struct NoProgress;

impl Progress for NoProgress {}

#[cfg(test)]
pub(crate) mod fake;

#[cfg(test)]
pub(crate) mod tests;
