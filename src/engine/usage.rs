//! Whether Bedrock is used where nothing logs it: for every unlogged or
//! missing target of an audit, the model invocations of a recent window
//! (CloudWatch `AWS/Bedrock` `Invocations`), read with the account's own
//! session, at most `concurrency` places at a time.
//!
//! An unlogged region where models are called is the worst finding an
//! audit has; one where nothing is called is informational. A metric that
//! cannot be read says so: a region is never taken for idle unread.

use super::audit::{AuditReport, Status, TargetAudit};
use super::{ApiError, Location, Progress, location_of};

/// The window `audit` looks back over unless told otherwise.
pub const DEFAULT_WINDOW_DAYS: u32 = 14;

/// What the metrics say of one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Usage {
    /// Models were invoked in the window.
    InUse { invocations: u64, days: u32 },
    /// No invocation in the window.
    Idle { days: u32 },
    /// The metric could not be read.
    CannotTell(ApiError),
}

impl Usage {
    pub fn in_use(&self) -> bool {
        matches!(self, Usage::InUse { .. })
    }

    pub fn idle(&self) -> bool {
        matches!(self, Usage::Idle { .. })
    }

    /// A few words for tables and reports.
    pub fn describe(&self) -> String {
        match self {
            Usage::InUse { invocations, days } => format!(
                "Bedrock in use: {invocations} model invocation{} in the last {days} days",
                if *invocations == 1 { "" } else { "s" }
            ),
            Usage::Idle { days } => format!("idle: no model invocation in the last {days} days"),
            Usage::CannotTell(err) => format!("cannot tell whether Bedrock is used ({err})"),
        }
    }
}

/// The metric read fleet makes, per account × region.
pub trait UsageApi: Sync {
    /// The model invocations in the place over the last `days` days, all
    /// models together.
    fn invocations(
        &self,
        at: Location<'_>,
        days: u32,
    ) -> impl Future<Output = Result<u64, ApiError>> + Send;
}

/// Whether a target's usage matters: nothing logs there although
/// something could.
pub fn wants_usage(audit: &TargetAudit) -> bool {
    matches!(audit.status, Status::Unlogged | Status::Missing)
}

/// Reads the usage of every target of `report` that [`wants_usage`] and
/// records it on the target.
pub async fn check_usage<A: UsageApi>(
    api: &A,
    report: &mut AuditReport,
    days: u32,
    concurrency: usize,
    progress: &dyn Progress,
) {
    let found = super::look_up(
        &report.targets,
        wants_usage,
        concurrency,
        progress,
        |audit| async move {
            match api.invocations(location_of(audit.target()), days).await {
                Ok(0) => Usage::Idle { days },
                Ok(invocations) => Usage::InUse { invocations, days },
                Err(err) => Usage::CannotTell(err),
            }
        },
    )
    .await;
    for (i, usage) in found {
        report.targets[i].usage = Some(usage);
    }
}
