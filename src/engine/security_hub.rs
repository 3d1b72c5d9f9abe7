//! `fleet audit --to-security-hub`: every finding of an audit as a Security
//! Hub finding (AWS Security Finding Format) in the target's own account and
//! region, under a stable id, so a rerun updates the same finding and a
//! finding that is fixed is marked resolved.
//!
//! Per account × region audited: one read of fleet's active findings there
//! (`GetFindings`), then one `BatchImportFindings` with the findings of this
//! audit and, archived, the earlier ones the audit no longer finds. A target
//! that could not be read, or sits in a region the account has not enabled,
//! is left alone: fleet cannot tell whether its findings were fixed.

use std::collections::HashMap;

use futures::{StreamExt, stream};

use super::audit::{AuditReport, Finding, FindingKind, Severity, Status, TargetAudit};
use super::{ApiError, Location, Progress, location_of};
use crate::fleet::{AccountId, Region};

/// The prefix of every id and generator id fleet gives its findings.
pub const GENERATOR_PREFIX: &str = "fleet-bedrock-logging/";

/// At most this many findings per `BatchImportFindings` call (AWS's limit).
pub const IMPORT_BATCH: usize = 100;

/// A finding's severity label in the AWS Security Finding Format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HubSeverity {
    Critical,
    High,
    Medium,
    Low,
    Informational,
}

impl HubSeverity {
    pub fn label(self) -> &'static str {
        match self {
            HubSeverity::Critical => "CRITICAL",
            HubSeverity::High => "HIGH",
            HubSeverity::Medium => "MEDIUM",
            HubSeverity::Low => "LOW",
            HubSeverity::Informational => "INFORMATIONAL",
        }
    }

    fn of(finding: &Finding<'_>) -> HubSeverity {
        match finding.severity {
            // Models invoked where nothing logs them.
            Severity::Critical => return HubSeverity::Critical,
            // An unlogged region nobody uses.
            Severity::Info => return HubSeverity::Informational,
            _ => {}
        }
        match finding.kind {
            // Logging somebody turned off or changed, or never set up where
            // the fleet file says it must be.
            FindingKind::Drift | FindingKind::DestinationDrift | FindingKind::Missing => {
                HubSeverity::High
            }
            FindingKind::Unmanaged | FindingKind::Unlogged | FindingKind::ForeignDestination => {
                HubSeverity::Medium
            }
            FindingKind::NoS3Retention | FindingKind::NoLargeDataBucket => HubSeverity::Low,
            FindingKind::Error => HubSeverity::Informational,
        }
    }
}

/// Whether a finding is still there (`ACTIVE`, compliance `FAILED`) or was
/// fixed (`ARCHIVED`, compliance `PASSED`; Security Hub then sets its
/// workflow status to `RESOLVED` by itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HubState {
    Active,
    Resolved,
}

/// One finding as fleet imports it; `aws/` turns it into the SDK's
/// `AwsSecurityFinding`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubFinding {
    /// `fleet-bedrock-logging/ACCOUNT/REGION/KIND[/RESOURCE]`: the same on
    /// every run for the same target and kind.
    pub id: String,
    /// `fleet-bedrock-logging/KIND`.
    pub generator_id: String,
    pub account_id: AccountId,
    pub region: Region,
    pub severity: HubSeverity,
    pub title: String,
    /// At most 1,024 characters (AWS's limit).
    pub description: String,
    pub remediation: String,
    pub state: HubState,
    /// When the finding was first imported, kept on updates; `None` for a
    /// new one (then it is the time of this run).
    pub created_at: Option<String>,
}

/// A finding of fleet's that Security Hub holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingFinding {
    pub id: String,
    pub created_at: String,
}

/// The two Security Hub calls fleet makes, per account × region.
pub trait SecurityHubApi: Sync {
    /// fleet's findings there that are still active (ids starting with
    /// [`GENERATOR_PREFIX`]).
    fn active_findings(
        &self,
        at: Location<'_>,
    ) -> impl Future<Output = Result<Vec<ExistingFinding>, ApiError>> + Send;

    /// Imports (creates or updates) `findings`, at most [`IMPORT_BATCH`];
    /// `now` is the RFC 3339 time of this run. Returns the findings Security
    /// Hub refused, as `(id, reason)`.
    fn import(
        &self,
        at: Location<'_>,
        findings: &[HubFinding],
        now: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, ApiError>> + Send;
}

/// What the export did in one account × region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaceExport {
    pub account_id: AccountId,
    pub region: Region,
    /// Findings of this audit, imported (new or updated).
    pub active: usize,
    /// Earlier findings this audit no longer finds, imported as resolved.
    pub resolved: usize,
    /// Findings Security Hub refused: `(id, reason)`.
    pub refused: Vec<(String, String)>,
    /// The call that failed, when nothing could be exported there.
    pub error: Option<ApiError>,
}

impl PlaceExport {
    pub fn failed(&self) -> bool {
        self.error.is_some() || !self.refused.is_empty()
    }
}

/// The whole export, in scope order; targets left alone are counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubExport {
    pub places: Vec<PlaceExport>,
    /// Targets not exported: unreadable, or in a region not enabled.
    pub skipped: usize,
}

impl HubExport {
    pub fn active(&self) -> usize {
        self.places.iter().map(|p| p.active).sum()
    }

    pub fn resolved(&self) -> usize {
        self.places.iter().map(|p| p.resolved).sum()
    }

    pub fn failed(&self) -> impl Iterator<Item = &PlaceExport> {
        self.places.iter().filter(|p| p.failed())
    }
}

/// A stable id part for a resource label such as `bucket s3://name`.
fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.:".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Cuts `text` to at most `limit` characters, marking the cut.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(limit.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn finding_id(audit: &TargetAudit, kind: FindingKind, resource: Option<&str>) -> String {
    let target = audit.target();
    let mut id = format!(
        "{GENERATOR_PREFIX}{}/{}/{}",
        target.account.id,
        target.region,
        kind.as_str()
    );
    if let Some(resource) = resource {
        id.push('/');
        id.push_str(&slug(resource));
    }
    id
}

/// The finding fleet imports for one finding of the audit.
pub fn hub_finding(finding: &Finding<'_>) -> HubFinding {
    let target = finding.audit.target();
    let resource = finding.destination.map(|d| d.label.as_str());
    HubFinding {
        id: finding_id(finding.audit, finding.kind, resource),
        generator_id: format!("{GENERATOR_PREFIX}{}", finding.kind.as_str()),
        account_id: target.account.id.clone(),
        region: target.region.clone(),
        severity: HubSeverity::of(finding),
        title: format!("Bedrock invocation logging: {}", finding.kind.title()),
        description: cut(&finding.message(), 1024),
        remediation: cut(finding.kind.explanation(), 512),
        state: HubState::Active,
        created_at: None,
    }
}

/// The finding that marks an earlier one as fixed.
fn resolved(existing: &ExistingFinding, account_id: &AccountId, region: &Region) -> HubFinding {
    let kind = existing
        .id
        .strip_prefix(GENERATOR_PREFIX)
        .and_then(|rest| rest.split('/').nth(2))
        .unwrap_or("finding");
    HubFinding {
        id: existing.id.clone(),
        generator_id: format!("{GENERATOR_PREFIX}{kind}"),
        account_id: account_id.clone(),
        region: region.clone(),
        severity: HubSeverity::Informational,
        title: format!("Bedrock invocation logging: {kind} (resolved)"),
        description: format!(
            "{account_id}/{region}: fleet's audit no longer finds this {kind}; it was fixed."
        ),
        remediation: "Nothing to do.".to_owned(),
        state: HubState::Resolved,
        created_at: Some(existing.created_at.clone()),
    }
}

/// What to import in one place: this audit's findings (keeping the creation
/// time of those already there), then the earlier ones now fixed.
pub fn reconcile(
    current: Vec<HubFinding>,
    existing: &[ExistingFinding],
    account_id: &AccountId,
    region: &Region,
) -> Vec<HubFinding> {
    let mut out = Vec::with_capacity(current.len() + existing.len());
    for mut finding in current {
        finding.created_at = existing
            .iter()
            .find(|e| e.id == finding.id)
            .map(|e| e.created_at.clone());
        out.push(finding);
    }
    for old in existing {
        if !out.iter().any(|f| f.id == old.id) {
            out.push(resolved(old, account_id, region));
        }
    }
    out
}

async fn export_place<A: SecurityHubApi>(
    api: &A,
    audit: &TargetAudit,
    current: Vec<HubFinding>,
    now: &str,
) -> PlaceExport {
    let target = audit.target();
    let at = location_of(target);
    let mut place = PlaceExport {
        account_id: target.account.id.clone(),
        region: target.region.clone(),
        active: 0,
        resolved: 0,
        refused: Vec::new(),
        error: None,
    };
    let existing = match api.active_findings(at).await {
        Ok(existing) => existing,
        Err(err) => {
            place.error = Some(err);
            return place;
        }
    };
    let findings = reconcile(current, &existing, &place.account_id, &place.region);
    for batch in findings.chunks(IMPORT_BATCH) {
        match api.import(at, batch, now).await {
            Ok(refused) => {
                for finding in batch {
                    if refused.iter().any(|(id, _)| *id == finding.id) {
                        continue;
                    }
                    match finding.state {
                        HubState::Active => place.active += 1,
                        HubState::Resolved => place.resolved += 1,
                    }
                }
                place.refused.extend(refused);
            }
            Err(err) => {
                place.error = Some(err);
                break;
            }
        }
    }
    place
}

/// Exports every finding of `report` to Security Hub, at most `concurrency`
/// places at a time. A place that fails never stops the others.
pub async fn export<A: SecurityHubApi>(
    api: &A,
    report: &AuditReport,
    concurrency: usize,
    now: &str,
    progress: &dyn Progress,
) -> HubExport {
    // The findings of each target, in one pass over them all.
    let index: HashMap<*const TargetAudit, usize> = report
        .targets
        .iter()
        .enumerate()
        .map(|(i, audit)| (std::ptr::from_ref(audit), i))
        .collect();
    let mut by_target: Vec<Vec<HubFinding>> = vec![Vec::new(); report.targets.len()];
    for finding in report.findings() {
        by_target[index[&std::ptr::from_ref(finding.audit)]].push(hub_finding(&finding));
    }
    let mut skipped = 0;
    let mut work = Vec::new();
    for (audit, current) in report.targets.iter().zip(by_target) {
        if matches!(audit.status, Status::Error | Status::NotEnabled) {
            skipped += 1;
            continue;
        }
        work.push((audit, current));
    }
    progress.started(work.len());
    let mut places: Vec<(usize, PlaceExport)> = stream::iter(work.into_iter().enumerate())
        .map(|(i, (audit, current))| async move {
            let place = export_place(api, audit, current, now).await;
            progress.advanced();
            (i, place)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    progress.finished();
    places.sort_by_key(|(i, _)| *i);
    HubExport {
        places: places.into_iter().map(|(_, p)| p).collect(),
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;
    use crate::engine::NoProgress;
    use crate::engine::audit::{audit_scope, audit_targets};
    use crate::engine::tests::{drifted, fleet};

    /// Security Hub in memory: findings by place, and places that refuse.
    #[derive(Default)]
    struct MemoryHub {
        findings: Mutex<HashMap<String, Vec<(HubFinding, String)>>>,
        denied: Vec<String>,
    }

    fn place(at: Location<'_>) -> String {
        format!("{}/{}", at.account_id, at.region)
    }

    impl SecurityHubApi for MemoryHub {
        async fn active_findings(
            &self,
            at: Location<'_>,
        ) -> Result<Vec<ExistingFinding>, ApiError> {
            if self.denied.contains(&place(at)) {
                return Err(ApiError::new("AccessDeniedException", "not allowed"));
            }
            let all = self.findings.lock().unwrap();
            Ok(all
                .get(&place(at))
                .into_iter()
                .flatten()
                .filter(|(f, _)| f.state == HubState::Active)
                .map(|(f, created)| ExistingFinding {
                    id: f.id.clone(),
                    created_at: created.clone(),
                })
                .collect())
        }

        async fn import(
            &self,
            at: Location<'_>,
            findings: &[HubFinding],
            now: &str,
        ) -> Result<Vec<(String, String)>, ApiError> {
            let mut all = self.findings.lock().unwrap();
            let here = all.entry(place(at)).or_default();
            for f in findings {
                let created = f.created_at.clone().unwrap_or_else(|| now.to_owned());
                here.retain(|(old, _)| old.id != f.id);
                here.push((f.clone(), created));
            }
            Ok(Vec::new())
        }
    }

    #[tokio::test]
    async fn a_rerun_updates_and_a_fix_resolves_while_a_failing_place_stands_alone() {
        let fleet = fleet();
        let api = drifted(&fleet);
        let hub = MemoryHub {
            denied: vec!["222222222222/us-east-1".to_owned()],
            ..MemoryHub::default()
        };
        let report = audit_targets(&api, audit_scope(&fleet, false), 2, &NoProgress).await;
        let findings = report.findings().len();
        assert!(findings >= 2, "the drifted fake has findings");
        let first = export(&hub, &report, 2, "2026-12-01T00:00:00Z", &NoProgress).await;
        assert_eq!(first.places.len(), 4);
        let failed: Vec<_> = first.failed().collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].account_id.as_str(), "222222222222");
        assert_eq!(failed[0].region.as_str(), "us-east-1");
        assert_eq!(first.resolved(), 0);
        let exported = first.active();
        assert!(exported > 0 && exported <= findings);

        // The same findings again: the same ids, the first creation time.
        let second = export(&hub, &report, 2, "2026-12-02T00:00:00Z", &NoProgress).await;
        assert_eq!((second.active(), second.resolved()), (exported, 0));
        let count: usize = hub.findings.lock().unwrap().values().map(Vec::len).sum();
        assert_eq!(count, exported, "a rerun updates, never duplicates");
        assert!(
            hub.findings
                .lock()
                .unwrap()
                .values()
                .flatten()
                .all(|(f, created)| {
                    created == "2026-12-01T00:00:00Z"
                        && f.created_at.as_deref() == Some(created.as_str())
                })
        );

        // Everything fixed: every finding imported before is resolved.
        {
            let mut state = api.state.lock().unwrap();
            state.clear();
            for target in &fleet.targets {
                if let Some(desired) = &target.desired {
                    state.insert(
                        (target.account.id.to_string(), target.region.to_string()),
                        desired.clone(),
                    );
                }
            }
        }
        let fixed = audit_targets(&api, audit_scope(&fleet, false), 2, &NoProgress).await;
        assert_eq!(fixed.findings().len(), 0);
        let third = export(&hub, &fixed, 2, "2026-12-03T00:00:00Z", &NoProgress).await;
        assert_eq!((third.active(), third.resolved()), (0, exported));
        let all = hub.findings.lock().unwrap();
        assert!(
            all.values()
                .flatten()
                .all(|(f, created)| f.state == HubState::Resolved
                    && created == "2026-12-01T00:00:00Z")
        );
    }

    fn hub(id: &str) -> HubFinding {
        HubFinding {
            id: id.to_owned(),
            generator_id: format!("{GENERATOR_PREFIX}drift"),
            account_id: AccountId::parse("111111111111").unwrap(),
            region: Region::parse("eu-west-1").unwrap(),
            severity: HubSeverity::High,
            title: "t".into(),
            description: "d".into(),
            remediation: "r".into(),
            state: HubState::Active,
            created_at: None,
        }
    }

    #[test]
    fn reconcile_keeps_creation_times_and_resolves_what_is_gone() {
        let account = AccountId::parse("111111111111").unwrap();
        let region = Region::parse("eu-west-1").unwrap();
        let drift = format!("{GENERATOR_PREFIX}111111111111/eu-west-1/drift");
        let missing = format!("{GENERATOR_PREFIX}111111111111/eu-west-1/missing");
        let existing = vec![
            ExistingFinding {
                id: drift.clone(),
                created_at: "2026-01-01T00:00:00Z".into(),
            },
            ExistingFinding {
                id: missing.clone(),
                created_at: "2026-01-02T00:00:00Z".into(),
            },
        ];
        let out = reconcile(vec![hub(&drift)], &existing, &account, &region);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].id, drift);
        assert_eq!(out[0].state, HubState::Active);
        assert_eq!(out[0].created_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(out[1].id, missing);
        assert_eq!(out[1].state, HubState::Resolved);
        assert_eq!(out[1].generator_id, format!("{GENERATOR_PREFIX}missing"));
        assert_eq!(out[1].created_at.as_deref(), Some("2026-01-02T00:00:00Z"));
    }

    #[test]
    fn long_descriptions_are_cut_to_awss_limit() {
        let long = "x".repeat(5000);
        let cut = cut(&long, 1024);
        assert_eq!(cut.chars().count(), 1024);
        assert!(cut.ends_with('…'));
        assert_eq!(slug("bucket s3://a/b"), "bucket-s3:--a-b");
    }
}
