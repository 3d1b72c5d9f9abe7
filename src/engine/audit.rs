//! The org-wide audit: read every target in scope (managed regions, and with
//! `--all-regions` every Bedrock region of each account) and classify what
//! is there against the fleet file, with the seed module's best practices as
//! warnings.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::attribution::Attribution;
use super::plan::{Action, read_live, unified_diff};
use super::usage::Usage;
use super::{ApiError, LoggingApi, Progress};
use crate::fleet::{Account, AccountId, BEDROCK_REGIONS, Fleet, Region, Target};
use crate::logging::{LoggingConfig, S3Config};

/// One account × region to audit.
#[derive(Clone, Debug)]
pub struct AuditTarget {
    /// The account × region. For a region the fleet file does not manage,
    /// `profile` is empty and `desired` is `None`: nothing is expected there,
    /// it is read only to report what is found.
    pub target: Target,
    pub managed: bool,
}

impl AsRef<Target> for AuditTarget {
    fn as_ref(&self) -> &Target {
        &self.target
    }
}

impl AuditTarget {
    /// A region the fleet file does not manage for `account`.
    pub fn unmanaged(account: Arc<Account>, region: Region) -> AuditTarget {
        AuditTarget {
            target: Target {
                account,
                region,
                profile: Arc::from(""),
                desired: None,
                managed: crate::fleet::Managed::default(),
            },
            managed: false,
        }
    }

    /// The profile of a managed target; `None` for an unmanaged region.
    pub fn profile(&self) -> Option<&str> {
        self.managed.then_some(&*self.target.profile)
    }
}

/// What audit covers: every managed target of the fleet, in file order, and
/// with `all_regions`, after each account's managed targets, every region of
/// [`BEDROCK_REGIONS`] in the partition(s) of its managed regions that it
/// does not manage. Regions of another partition are left out: they need
/// other credentials (an `aws` role cannot be assumed in `aws-us-gov`).
pub fn audit_scope(fleet: &Fleet, all_regions: bool) -> Vec<AuditTarget> {
    // Each account's targets, found in one pass over the targets (the same
    // `Arc<Account>`), not one pass per account.
    let mut by_account: HashMap<*const Account, Vec<&Target>> = HashMap::new();
    for target in &fleet.targets {
        by_account
            .entry(Arc::as_ptr(&target.account))
            .or_default()
            .push(target);
    }
    let mut scope = Vec::with_capacity(fleet.targets.len());
    for account in &fleet.accounts {
        let managed = by_account.remove(&Arc::as_ptr(account)).unwrap_or_default();
        scope.extend(managed.iter().map(|t| AuditTarget {
            target: (*t).clone(),
            managed: true,
        }));
        if !all_regions {
            continue;
        }
        let partitions: BTreeSet<&str> = managed.iter().map(|t| t.region.partition()).collect();
        for name in BEDROCK_REGIONS {
            let region = Region::parse(name).expect("the built-in regions are well formed");
            if partitions.contains(region.partition())
                && !managed.iter().any(|t| t.region == region)
            {
                scope.push(AuditTarget::unmanaged(account.clone(), region));
            }
        }
    }
    scope
}

/// What audit found at one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Managed, and equal to its profile.
    Compliant,
    /// Managed, logging, and different from its profile (or logging where its
    /// profile has `enabled = false`).
    Drift,
    /// Managed, its profile logs, and nothing is set.
    Missing,
    /// Not managed by the fleet file, and logging.
    Unmanaged,
    /// Not managed by the fleet file, and not logging.
    Unlogged,
    /// Could not be read.
    Error,
    /// Not managed, in a region the account has not enabled (AWS rejects
    /// the credentials there): nothing can log, nothing to fix. Neither an
    /// error nor a finding. A managed target there is an [`Status::Error`].
    NotEnabled,
}

impl Status {
    /// How a target that was read compares with what the fleet file says.
    pub fn of(
        managed: bool,
        live: Option<&LoggingConfig>,
        desired: Option<&LoggingConfig>,
    ) -> Status {
        if !managed {
            return match live {
                Some(_) => Status::Unmanaged,
                None => Status::Unlogged,
            };
        }
        match Action::between(live, desired) {
            Action::NoOp => Status::Compliant,
            Action::Create => Status::Missing,
            Action::Update | Action::Delete => Status::Drift,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::Drift => "drift",
            Status::Missing => "missing",
            Status::Unmanaged => "unmanaged",
            Status::Unlogged => "unlogged",
            Status::Error => "error",
            Status::NotEnabled => "not_enabled",
        }
    }
}

/// A best practice of the seed module that a live configuration breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A destination (bucket or role) that seems to belong to another account.
    ForeignDestination,
    /// No S3 destination: nothing keeps the logs for long-term retention.
    NoS3Retention,
    /// CloudWatch without a large-data S3 bucket: bodies over 100 KB and
    /// binary data are not delivered.
    NoLargeDataBucket,
}

impl WarningKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::ForeignDestination => "foreign_destination",
            WarningKind::NoS3Retention => "no_s3_retention",
            WarningKind::NoLargeDataBucket => "no_large_data_bucket",
        }
    }
}

/// One broken best practice, with what breaks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub kind: WarningKind,
    pub detail: String,
}

/// The seed module's best practices, checked on one live configuration of
/// `account`.
pub fn best_practice_warnings(account: &AccountId, live: &LoggingConfig) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut foreign = |what: &str, value: &str, owner: &str| {
        warnings.push(Warning {
            kind: WarningKind::ForeignDestination,
            detail: format!(
                "{what} `{value}` belongs to account {owner}, not {account}; destinations must be in the target's own account"
            ),
        });
    };
    let mut buckets: Vec<(&str, &S3Config)> = Vec::new();
    if let Some(s3) = &live.s3_config {
        buckets.push(("s3_config bucket", s3));
    }
    if let Some(cw) = &live.cloudwatch_config {
        if let Some(owner) = role_arn_account(&cw.role_arn)
            && owner != account.as_str()
        {
            foreign("cloudwatch_config role_arn", &cw.role_arn, owner);
        }
        if let Some(large) = &cw.large_data_delivery_s3_config {
            buckets.push(("large_data_delivery_s3_config bucket", large));
        }
    }
    for (what, s3) in buckets {
        if let Some(owner) = account_ids_in(&s3.bucket_name)
            .into_iter()
            .find(|id| *id != account.as_str())
        {
            foreign(what, &s3.bucket_name, owner);
        }
    }
    if live.s3_config.is_none() {
        warnings.push(Warning {
            kind: WarningKind::NoS3Retention,
            detail: "no s3_config: nothing keeps the logs for long-term retention".to_owned(),
        });
    }
    if let Some(cw) = &live.cloudwatch_config
        && cw.large_data_delivery_s3_config.is_none()
    {
        warnings.push(Warning {
            kind: WarningKind::NoLargeDataBucket,
            detail: format!(
                "CloudWatch log group `{}` has no large_data_delivery_s3_config: bodies over 100 KB and binary data are not delivered",
                cw.log_group_name
            ),
        });
    }
    warnings
}

/// The account of `arn:PARTITION:iam::ACCOUNT:role/NAME`, when it names one.
fn role_arn_account(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    AccountId::parse(account).map(|_| account)
}

/// Every run of exactly 12 digits in `text` (account ids, by their look).
fn account_ids_in(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut ids = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        match (b.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s == 12 {
                    ids.push(&text[s..i]);
                }
                start = None;
            }
            _ => {}
        }
    }
    ids
}

/// What audit found at one target.
#[derive(Clone, Debug)]
pub struct TargetAudit {
    pub scope: AuditTarget,
    /// The live configuration, or why it could not be read.
    pub live: Result<Option<LoggingConfig>, ApiError>,
    pub status: Status,
    /// Best practices the live configuration breaks.
    pub warnings: Vec<Warning>,
    /// Managed destinations of the target that differ from what fleet keeps.
    pub destination_drift: Vec<DestinationDrift>,
    /// Who made the newest change, for a target found changed (see
    /// [`super::attribution::wants_attribution`]); `None` when not looked up.
    pub attribution: Option<Attribution>,
    /// Whether Bedrock is used there, for an unlogged or missing target;
    /// `None` when not looked up.
    pub usage: Option<Usage>,
}

/// A managed destination that drifted (or is gone), with the diff of what
/// fleet keeps of it, or that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationDrift {
    pub label: String,
    pub diff: String,
    pub error: Option<ApiError>,
}

impl TargetAudit {
    fn new(scope: AuditTarget, live: Result<Option<LoggingConfig>, ApiError>) -> TargetAudit {
        let (status, warnings) = match &live {
            Err(err) if err.is_region_not_enabled() && !scope.managed => {
                (Status::NotEnabled, Vec::new())
            }
            Err(_) => (Status::Error, Vec::new()),
            Ok(config) => (
                Status::of(
                    scope.managed,
                    config.as_ref(),
                    scope.target.desired.as_ref(),
                ),
                config
                    .as_ref()
                    .map(|c| best_practice_warnings(&scope.target.account.id, c))
                    .unwrap_or_default(),
            ),
        };
        TargetAudit {
            scope,
            live,
            status,
            warnings,
            destination_drift: Vec::new(),
            attribution: None,
            usage: None,
        }
    }

    pub fn target(&self) -> &Target {
        &self.scope.target
    }

    /// The worst severity of the target's findings; `None` when it has
    /// none. The matrix and the HTML report order by it.
    pub fn severity(&self) -> Option<Severity> {
        let status = FindingKind::of_status(self.status)
            .map(|kind| severity_with_usage(kind, self.usage.as_ref()));
        let destinations = (!self.destination_drift.is_empty())
            .then_some(FindingKind::DestinationDrift.severity());
        let warnings = (!self.warnings.is_empty()).then_some(Severity::Warning);
        [status, destinations, warnings].into_iter().flatten().min()
    }

    /// Unlogged or missing, where Bedrock is in use.
    pub fn in_use_unlogged(&self) -> bool {
        matches!(self.status, Status::Unlogged | Status::Missing)
            && self.usage.as_ref().is_some_and(Usage::in_use)
    }

    /// The unified diff from live to the profile, for a drifted target;
    /// empty otherwise.
    pub fn diff(&self) -> String {
        match (&self.live, self.status) {
            (Ok(live), Status::Drift) => {
                let id = self.target().id();
                unified_diff(
                    live.as_ref(),
                    self.target().desired.as_ref(),
                    &format!("live: {id}"),
                    &format!("desired: {id}"),
                )
            }
            _ => String::new(),
        }
    }

    /// One line saying what was found, for tables and CSV, with whether
    /// Bedrock is used there when that was read.
    pub fn detail(&self) -> String {
        let found = self.found();
        match &self.usage {
            Some(usage) => format!("{found}; {}", usage.describe()),
            None => found,
        }
    }

    fn found(&self) -> String {
        let profile = &self.target().profile;
        match (&self.live, self.status) {
            (Err(_), Status::NotEnabled) => format!(
                "{} is not enabled in account {}; nothing can log there",
                self.target().region,
                self.target().account.id
            ),
            (Err(err), _) => err.to_string(),
            (Ok(_), Status::Compliant) => format!("matches profile `{profile}`"),
            (Ok(Some(_)), Status::Drift) if self.target().desired.is_none() => format!(
                "logs to {}, but profile `{profile}` has enabled = false",
                self.live_destinations()
            ),
            (Ok(live), Status::Drift) => format!(
                "differs from profile `{profile}` in {}",
                changed_fields(live.as_ref(), self.target().desired.as_ref()).join(", ")
            ),
            (Ok(_), Status::Missing) => {
                format!("no logging, but profile `{profile}` requires it")
            }
            (Ok(_), Status::Unmanaged) => format!(
                "logs to {}; the fleet file does not manage this region",
                self.live_destinations()
            ),
            (Ok(_), _) => "no logging, and the fleet file does not manage this region".to_owned(),
        }
    }

    fn live_destinations(&self) -> String {
        match &self.live {
            Ok(Some(config)) => destinations(config),
            _ => "nothing".to_owned(),
        }
    }
}

/// Where a configuration sends logs, in a few words.
pub fn destinations(config: &LoggingConfig) -> String {
    let s3 = |s3: &S3Config| match &s3.key_prefix {
        Some(prefix) => format!("s3://{}/{prefix}", s3.bucket_name),
        None => format!("s3://{}", s3.bucket_name),
    };
    let mut parts = Vec::new();
    if let Some(bucket) = &config.s3_config {
        parts.push(s3(bucket));
    }
    if let Some(cw) = &config.cloudwatch_config {
        parts.push(format!("CloudWatch log group {}", cw.log_group_name));
        if let Some(large) = &cw.large_data_delivery_s3_config {
            parts.push(format!("large data {}", s3(large)));
        }
    }
    parts.join(" and ")
}

/// The fleet file keys (dotted) whose values differ between two
/// configurations, in the file's key order.
pub fn changed_fields(a: Option<&LoggingConfig>, b: Option<&LoggingConfig>) -> Vec<&'static str> {
    // A flag one side does not report is not compared.
    let (a, b) = crate::logging::comparable(a, b);
    let (a, b) = (fields(a.as_ref()), fields(b.as_ref()));
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, _)| x.0)
        .collect()
}

/// Every leaf of a configuration as (dotted key, value), `None` for absent.
fn fields(config: Option<&LoggingConfig>) -> [(&'static str, Option<String>); 11] {
    let flag = |f: fn(&LoggingConfig) -> Option<bool>| config.and_then(&f).map(|on| on.to_string());
    let s3 = config.and_then(|c| c.s3_config.as_ref());
    let cw = config.and_then(|c| c.cloudwatch_config.as_ref());
    let large = cw.and_then(|cw| cw.large_data_delivery_s3_config.as_ref());
    [
        (
            "text_data_delivery_enabled",
            flag(|c| c.text_data_delivery_enabled),
        ),
        (
            "image_data_delivery_enabled",
            flag(|c| c.image_data_delivery_enabled),
        ),
        (
            "embedding_data_delivery_enabled",
            flag(|c| c.embedding_data_delivery_enabled),
        ),
        (
            "video_data_delivery_enabled",
            flag(|c| c.video_data_delivery_enabled),
        ),
        (
            "audio_data_delivery_enabled",
            flag(|c| c.audio_data_delivery_enabled),
        ),
        ("s3_config.bucket_name", s3.map(|s| s.bucket_name.clone())),
        (
            "s3_config.key_prefix",
            s3.and_then(|s| s.key_prefix.clone()),
        ),
        (
            "cloudwatch_config.log_group_name",
            cw.map(|c| c.log_group_name.clone()),
        ),
        ("cloudwatch_config.role_arn", cw.map(|c| c.role_arn.clone())),
        (
            "cloudwatch_config.large_data_delivery_s3_config.bucket_name",
            large.map(|s| s.bucket_name.clone()),
        ),
        (
            "cloudwatch_config.large_data_delivery_s3_config.key_prefix",
            large.and_then(|s| s.key_prefix.clone()),
        ),
    ]
}

/// Every kind of row an audit reports, in the order reports list them:
/// errors first (they hide what is there), then what differs from the fleet
/// file, then best-practice warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Error,
    Drift,
    /// A destination fleet manages differs from what fleet keeps of it.
    DestinationDrift,
    Missing,
    Unmanaged,
    Unlogged,
    ForeignDestination,
    NoS3Retention,
    NoLargeDataBucket,
}

impl FindingKind {
    pub const ALL: [FindingKind; 9] = [
        FindingKind::Error,
        FindingKind::Drift,
        FindingKind::DestinationDrift,
        FindingKind::Missing,
        FindingKind::Unmanaged,
        FindingKind::Unlogged,
        FindingKind::ForeignDestination,
        FindingKind::NoS3Retention,
        FindingKind::NoLargeDataBucket,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Error => "error",
            FindingKind::Drift => "drift",
            FindingKind::DestinationDrift => "destination_drift",
            FindingKind::Missing => "missing",
            FindingKind::Unmanaged => "unmanaged",
            FindingKind::Unlogged => "unlogged",
            FindingKind::ForeignDestination => WarningKind::ForeignDestination.as_str(),
            FindingKind::NoS3Retention => WarningKind::NoS3Retention.as_str(),
            FindingKind::NoLargeDataBucket => WarningKind::NoLargeDataBucket.as_str(),
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            FindingKind::Error => Severity::Error,
            FindingKind::Drift
            | FindingKind::DestinationDrift
            | FindingKind::Missing
            | FindingKind::Unmanaged
            | FindingKind::Unlogged => Severity::Finding,
            _ => Severity::Warning,
        }
    }

    fn of_status(status: Status) -> Option<FindingKind> {
        match status {
            Status::Compliant => None,
            Status::Drift => Some(FindingKind::Drift),
            Status::Missing => Some(FindingKind::Missing),
            Status::Unmanaged => Some(FindingKind::Unmanaged),
            Status::Unlogged => Some(FindingKind::Unlogged),
            Status::Error => Some(FindingKind::Error),
            Status::NotEnabled => None,
        }
    }

    fn of_warning(kind: WarningKind) -> FindingKind {
        match kind {
            WarningKind::ForeignDestination => FindingKind::ForeignDestination,
            WarningKind::NoS3Retention => FindingKind::NoS3Retention,
            WarningKind::NoLargeDataBucket => FindingKind::NoLargeDataBucket,
        }
    }
}

/// A finding's severity once usage is known: nothing logged where models
/// are invoked is critical; an unlogged region nobody uses is informational.
/// A usage that could not be read leaves the kind's own severity.
fn severity_with_usage(kind: FindingKind, usage: Option<&Usage>) -> Severity {
    match (kind, usage) {
        (FindingKind::Unlogged | FindingKind::Missing, Some(usage)) if usage.in_use() => {
            Severity::Critical
        }
        (FindingKind::Unlogged, Some(usage)) if usage.idle() => Severity::Info,
        _ => kind.severity(),
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding weighs, worst first: every view orders by it, and it
/// decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Nothing logs where models are invoked (unlogged or missing, and
    /// Bedrock in use): exit 2.
    Critical,
    /// The target could not be read: exit 1.
    Error,
    /// The target differs from the fleet file: exit 2.
    Finding,
    /// A best practice is broken: exit 2 only with `--strict`.
    Warning,
    /// Nothing logs, but nothing is invoked either: exit 2 only with
    /// `--strict`.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Finding => "finding",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// Whether a finding of this severity fails the audit.
    pub fn fails(self, strict: bool) -> bool {
        match self {
            Severity::Critical | Severity::Error | Severity::Finding => true,
            Severity::Warning | Severity::Info => strict,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of an audit report.
#[derive(Clone, Debug)]
pub struct Finding<'a> {
    pub kind: FindingKind,
    /// The kind's own severity, raised to critical or lowered to info by
    /// what the metrics say of usage.
    pub severity: Severity,
    pub audit: &'a TargetAudit,
    pub detail: String,
    /// The drifted destination, for a destination drift finding.
    pub destination: Option<&'a DestinationDrift>,
}

impl Finding<'_> {
    /// `ACCOUNT/REGION: detail`, who changed it when CloudTrail was asked,
    /// then the diff when there is one: the text
    /// a finding carries to SARIF and Security Hub.
    pub fn message(&self) -> String {
        let mut text = format!("{}: {}", self.audit.target().id(), self.detail);
        if let Some(attribution) = &self.audit.attribution {
            text.push_str(&format!("\n{}", attribution.describe()));
        }
        let diff = self.diff();
        if !diff.is_empty() {
            text.push_str("\n\n");
            text.push_str(&diff);
        }
        text
    }

    /// The diff for a drift finding, empty for the others.
    pub fn diff(&self) -> String {
        match (self.kind, self.destination) {
            (FindingKind::Drift, _) => self.audit.diff(),
            (FindingKind::DestinationDrift, Some(drift)) => drift.diff.clone(),
            _ => String::new(),
        }
    }
}

/// How many targets have each status, and how many warnings of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditCounts {
    pub targets: usize,
    pub compliant: usize,
    pub drift: usize,
    /// Managed destinations (per target using them) that drifted.
    pub destination_drift: usize,
    pub missing: usize,
    pub unmanaged: usize,
    pub unlogged: usize,
    pub error: usize,
    /// Unmanaged regions the account has not enabled: not findings.
    pub not_enabled: usize,
    /// Unlogged or missing targets where Bedrock is in use: critical.
    pub in_use: usize,
    /// Unlogged targets where nothing was invoked in the window:
    /// informational, counted in `unlogged` too.
    pub idle: usize,
    pub foreign_destination: usize,
    pub no_s3_retention: usize,
    pub no_large_data_bucket: usize,
}

impl AuditCounts {
    /// Findings that fail the audit: targets that differ from the fleet
    /// file, idle unlogged regions left out.
    pub fn findings(&self) -> usize {
        self.drift + self.destination_drift + self.missing + self.unmanaged + self.unlogged
            - self.idle
    }

    /// Findings that fail the audit only with `--strict`, besides warnings.
    pub fn informational(&self) -> usize {
        self.idle
    }

    pub fn warnings(&self) -> usize {
        self.foreign_destination + self.no_s3_retention + self.no_large_data_bucket
    }

    pub fn of(&self, kind: FindingKind) -> usize {
        match kind {
            FindingKind::Error => self.error,
            FindingKind::Drift => self.drift,
            FindingKind::DestinationDrift => self.destination_drift,
            FindingKind::Missing => self.missing,
            FindingKind::Unmanaged => self.unmanaged,
            FindingKind::Unlogged => self.unlogged,
            FindingKind::ForeignDestination => self.foreign_destination,
            FindingKind::NoS3Retention => self.no_s3_retention,
            FindingKind::NoLargeDataBucket => self.no_large_data_bucket,
        }
    }
}

/// The overall verdict, which decides the exit code (0, 2, 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Compliant,
    Findings,
    Error,
}

/// Everything an audit found, in scope order.
#[derive(Clone, Debug)]
pub struct AuditReport {
    pub targets: Vec<TargetAudit>,
    /// With `[fleet] protect = true`: whether an SCP holds fleet's lock in
    /// each account, in the fleet file's order; empty otherwise.
    pub locks: Vec<(AccountId, super::lock::LockState)>,
}

impl AuditReport {
    pub fn counts(&self) -> AuditCounts {
        let mut counts = AuditCounts {
            targets: self.targets.len(),
            ..AuditCounts::default()
        };
        for audit in &self.targets {
            match audit.status {
                Status::Compliant => counts.compliant += 1,
                Status::Drift => counts.drift += 1,
                Status::Missing => counts.missing += 1,
                Status::Unmanaged => counts.unmanaged += 1,
                Status::Unlogged => counts.unlogged += 1,
                Status::Error => counts.error += 1,
                Status::NotEnabled => counts.not_enabled += 1,
            }
            counts.destination_drift += audit.destination_drift.len();
            counts.in_use += usize::from(audit.in_use_unlogged());
            counts.idle += usize::from(audit.severity() == Some(Severity::Info));
            for warning in &audit.warnings {
                match warning.kind {
                    WarningKind::ForeignDestination => counts.foreign_destination += 1,
                    WarningKind::NoS3Retention => counts.no_s3_retention += 1,
                    WarningKind::NoLargeDataBucket => counts.no_large_data_bucket += 1,
                }
            }
        }
        counts
    }

    /// Per region, the flags the live configurations read there leave out.
    pub fn unreported_flags(&self) -> Vec<super::UnreportedFlags> {
        super::unreported_flags(self.targets.iter().filter_map(|t| match &t.live {
            Ok(Some(live)) => Some((&t.target().region, live)),
            _ => None,
        }))
    }

    /// Reads the managed destinations of the managed targets (each once)
    /// and records, on every target using one, those that drifted.
    pub async fn check_destinations<A: super::destinations::ManagedApi>(
        &mut self,
        api: &A,
        concurrency: usize,
        progress: &dyn Progress,
    ) {
        let managed: Vec<usize> = self
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.scope.managed && !t.target().managed.is_empty())
            .map(|(i, _)| i)
            .collect();
        let targets: Vec<&Target> = managed.iter().map(|i| self.targets[*i].target()).collect();
        let plans =
            super::destinations::plan_destinations(api, &targets, concurrency, progress).await;
        for plan in plans {
            let drift = match &plan.before {
                Err(err) => Some(DestinationDrift {
                    label: plan.desired.resource.label(),
                    diff: String::new(),
                    error: Some(err.clone()),
                }),
                Ok(_) if plan.is_change() => Some(DestinationDrift {
                    label: plan.desired.resource.label(),
                    diff: plan.diff(),
                    error: None,
                }),
                Ok(_) => None,
            };
            if let Some(drift) = drift {
                for user in &plan.targets {
                    self.targets[managed[*user]]
                        .destination_drift
                        .push(drift.clone());
                }
            }
        }
    }

    /// Every finding, worst severity first, then grouped by kind in
    /// [`FindingKind::ALL`] order, each group in scope order.
    pub fn findings(&self) -> Vec<Finding<'_>> {
        let mut findings: Vec<Finding<'_>> = Vec::new();
        for audit in &self.targets {
            if let Some(kind) = FindingKind::of_status(audit.status) {
                findings.push(Finding {
                    kind,
                    severity: severity_with_usage(kind, audit.usage.as_ref()),
                    audit,
                    detail: audit.detail(),
                    destination: None,
                });
            }
            for drift in &audit.destination_drift {
                findings.push(Finding {
                    kind: FindingKind::DestinationDrift,
                    severity: FindingKind::DestinationDrift.severity(),
                    audit,
                    detail: match &drift.error {
                        Some(err) => format!("{} cannot be read: {err}", drift.label),
                        None => format!(
                            "{} differs from what fleet keeps of it (profile `{}`)",
                            drift.label,
                            audit.target().profile
                        ),
                    },
                    destination: Some(drift),
                });
            }
            for warning in &audit.warnings {
                findings.push(Finding {
                    kind: FindingKind::of_warning(warning.kind),
                    severity: FindingKind::of_warning(warning.kind).severity(),
                    audit,
                    detail: warning.detail.clone(),
                    destination: None,
                });
            }
        }
        // A stable sort keeps scope order within each kind.
        findings.sort_by_key(|f| (f.severity, f.kind));
        findings
    }

    /// Unreadable targets win over findings; warnings and informational
    /// findings count only when `strict`.
    pub fn verdict(&self, strict: bool) -> Verdict {
        let counts = self.counts();
        if counts.error > 0 {
            Verdict::Error
        } else if counts.findings() > 0
            || (strict && counts.warnings() + counts.informational() > 0)
        {
            Verdict::Findings
        } else {
            Verdict::Compliant
        }
    }
}

/// Reads every target of `scope` with at most `concurrency` calls in flight
/// (the same reading as plan) and classifies each. An unreadable target is
/// recorded as an error; it never stops the others.
pub async fn audit_targets<A: LoggingApi>(
    api: &A,
    scope: Vec<AuditTarget>,
    concurrency: usize,
    progress: &dyn Progress,
) -> AuditReport {
    let live = read_live(api, &scope, concurrency, progress).await;
    AuditReport {
        locks: Vec::new(),
        targets: scope
            .into_iter()
            .zip(live)
            .map(|(scope, live)| TargetAudit::new(scope, live))
            .collect(),
    }
}

impl FindingKind {
    /// A short title, for SARIF rules and Security Hub findings.
    pub fn title(self) -> &'static str {
        match self {
            FindingKind::Error => "The target could not be read",
            FindingKind::Drift => "Logging differs from its profile",
            FindingKind::DestinationDrift => "A managed destination drifted",
            FindingKind::Missing => "Logging is missing",
            FindingKind::Unmanaged => "Logging in a region the fleet file does not manage",
            FindingKind::Unlogged => "A region without logging",
            FindingKind::ForeignDestination => "A destination of another account",
            FindingKind::NoS3Retention => "No S3 destination for retention",
            FindingKind::NoLargeDataBucket => "CloudWatch without a large-data bucket",
        }
    }

    /// What the finding means and how to fix it.
    pub fn explanation(self) -> &'static str {
        match self {
            FindingKind::Error => {
                "fleet could not read the logging configuration of this account and region (access denied, throttled, or a managed region the account has not enabled). Until it can, nobody can tell whether Bedrock invocations there are logged. Check fleet's role in the account and the error message."
            }
            FindingKind::Drift => {
                "The live model invocation logging configuration differs from the profile the fleet file assigns (or logs although the profile has enabled = false). Someone changed it outside fleet; `fleet plan` shows the diff and `fleet apply` restores the profile."
            }
            FindingKind::DestinationDrift => {
                "A bucket, log group or role that the fleet file says fleet keeps differs from what fleet keeps of it (fleet's policy statement removed or changed, a retention changed, the role's trust changed) or is gone. Until it is restored, logs may not be delivered. `fleet plan` shows the diff and `fleet apply` restores it, keeping everything fleet does not own."
            }
            FindingKind::Missing => {
                "The fleet file says this account and region must log Bedrock model invocations, and nothing is configured. Run `fleet apply`."
            }
            FindingKind::Unmanaged => {
                "A region that the fleet file does not list for this account has a logging configuration. Add the region to the account's regions so fleet keeps it, or remove the configuration."
            }
            FindingKind::Unlogged => {
                "A Bedrock region of this account that the fleet file does not manage logs nothing: invocations there leave no trace. Add the region to the account's regions."
            }
            FindingKind::ForeignDestination => {
                "A bucket or role of the live configuration seems to belong to another account; AWS accepts only destinations in the same account and region."
            }
            FindingKind::NoS3Retention => {
                "The configuration has no S3 destination, so invocation logs are not kept for long-term retention."
            }
            FindingKind::NoLargeDataBucket => {
                "CloudWatch Logs receives the logs but bodies over 100 KB and binary data have no S3 bucket to go to."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::engine::NoProgress;
    use crate::engine::fake::FakeApi;
    use crate::engine::tests::{drifted, fleet};
    use crate::logging::CloudWatchConfig;

    fn account() -> AccountId {
        AccountId::parse("111111111111").unwrap()
    }

    fn cloudwatch_only(role_account: &str) -> LoggingConfig {
        LoggingConfig {
            text_data_delivery_enabled: Some(true),
            image_data_delivery_enabled: Some(true),
            embedding_data_delivery_enabled: Some(true),
            video_data_delivery_enabled: Some(true),
            audio_data_delivery_enabled: Some(true),
            s3_config: None,
            cloudwatch_config: Some(CloudWatchConfig {
                log_group_name: "/aws/bedrock".into(),
                role_arn: format!("arn:aws:iam::{role_account}:role/logs"),
                large_data_delivery_s3_config: None,
            }),
        }
    }

    #[test]
    fn statuses_follow_the_action_for_managed_targets() {
        let config = cloudwatch_only("111111111111");
        let mut other = config.clone();
        other.video_data_delivery_enabled = Some(false);
        assert_eq!(
            Status::of(true, Some(&config), Some(&config)),
            Status::Compliant
        );
        assert_eq!(Status::of(true, None, None), Status::Compliant);
        assert_eq!(Status::of(true, Some(&other), Some(&config)), Status::Drift);
        assert_eq!(Status::of(true, Some(&config), None), Status::Drift);
        assert_eq!(Status::of(true, None, Some(&config)), Status::Missing);
        assert_eq!(Status::of(false, Some(&config), None), Status::Unmanaged);
        assert_eq!(Status::of(false, None, None), Status::Unlogged);
    }

    #[test]
    fn best_practices_are_checked_on_the_live_config() {
        let kinds = |config: &LoggingConfig| -> Vec<WarningKind> {
            best_practice_warnings(&account(), config)
                .into_iter()
                .map(|w| w.kind)
                .collect()
        };
        assert_eq!(
            kinds(&cloudwatch_only("111111111111")),
            [WarningKind::NoS3Retention, WarningKind::NoLargeDataBucket]
        );
        let mut foreign = cloudwatch_only("999999999999");
        foreign.s3_config = Some(S3Config::new("logs-999999999999-us-east-1", None));
        foreign
            .cloudwatch_config
            .as_mut()
            .unwrap()
            .large_data_delivery_s3_config = Some(S3Config::new("large-111111111111", None));
        let warnings = best_practice_warnings(&account(), &foreign);
        assert_eq!(
            warnings.iter().map(|w| w.kind).collect::<Vec<_>>(),
            [
                WarningKind::ForeignDestination,
                WarningKind::ForeignDestination
            ]
        );
        assert!(
            warnings[0]
                .detail
                .contains("arn:aws:iam::999999999999:role/logs")
        );
        assert!(warnings[1].detail.contains("logs-999999999999-us-east-1"));
        // Digits that are not exactly 12 long are not an account id.
        let mut long = foreign.clone();
        long.s3_config = Some(S3Config::new("logs-9999999999990", None));
        long.cloudwatch_config = None;
        assert!(kinds(&long).is_empty());
        assert_eq!(
            account_ids_in("a-123456789012-b-222222222222"),
            ["123456789012", "222222222222"]
        );
        assert_eq!(role_arn_account("arn:aws:iam:::role/x"), None);
    }

    #[test]
    fn changed_fields_are_named_in_file_order() {
        let a = cloudwatch_only("111111111111");
        let mut b = a.clone();
        b.video_data_delivery_enabled = Some(false);
        b.s3_config = Some(S3Config::new("x", Some("p".into())));
        assert_eq!(
            changed_fields(Some(&a), Some(&b)),
            [
                "video_data_delivery_enabled",
                "s3_config.bucket_name",
                "s3_config.key_prefix"
            ]
        );
        assert_eq!(changed_fields(Some(&a), Some(&a)), Vec::<&str>::new());
    }

    #[tokio::test]
    async fn audit_classifies_every_target_and_keeps_going_past_errors() {
        let fleet = fleet();
        let mut api: FakeApi = drifted(&fleet);
        let mut scope = audit_scope(&fleet, true);
        // Two managed regions per account, the rest of the aws partition unmanaged.
        let aws_regions = BEDROCK_REGIONS
            .iter()
            .filter(|r| !r.starts_with("us-gov-"))
            .count();
        assert_eq!(scope.len(), 2 * aws_regions);
        assert!(
            !scope
                .iter()
                .any(|s| s.target.region.as_str().starts_with("us-gov-"))
        );
        {
            let mut state = api.state.lock().unwrap();
            let mut foreign = fleet.targets[0].desired.clone().unwrap();
            foreign.s3_config = Some(S3Config::new("logs-999999999999", None));
            state.insert(("111111111111".into(), "ap-south-1".into()), foreign);
        }
        api.denied = HashSet::from(["222222222222/us-west-2".to_owned()]);
        scope.retain(|s| {
            s.managed
                || ["ap-south-1", "us-west-2", "eu-west-2"].contains(&s.target.region.as_str())
        });
        let report = audit_targets(&api, scope, 3, &NoProgress).await;
        let statuses: Vec<(String, Status)> = report
            .targets
            .iter()
            .map(|t| (t.target().id().to_string(), t.status))
            .collect();
        let expected = [
            ("prod/us-east-1", Status::Drift),
            ("prod/eu-west-1", Status::Missing),
            ("prod/us-west-2", Status::Unlogged),
            ("prod/eu-west-2", Status::Unlogged),
            ("prod/ap-south-1", Status::Unmanaged),
            ("dev/us-east-1", Status::Compliant),
            ("dev/eu-west-1", Status::Drift),
            ("dev/us-west-2", Status::Error),
            ("dev/eu-west-2", Status::Unlogged),
            ("dev/ap-south-1", Status::Unlogged),
        ];
        assert_eq!(
            statuses,
            expected.map(|(id, s)| (id.to_owned(), s)).to_vec()
        );
        let counts = report.counts();
        assert_eq!(
            (
                counts.compliant,
                counts.drift,
                counts.missing,
                counts.unmanaged,
                counts.unlogged,
                counts.error
            ),
            (1, 2, 1, 1, 4, 1)
        );
        assert_eq!(counts.foreign_destination, 1);
        assert_eq!(report.verdict(false), Verdict::Error);

        let findings = report.findings();
        let kinds: Vec<FindingKind> = findings.iter().map(|f| f.kind).collect();
        let mut sorted = kinds.clone();
        sorted.sort();
        assert_eq!(kinds, sorted, "findings are grouped by kind");
        assert_eq!(
            findings[0].detail,
            "AccessDeniedException: denied by the fake"
        );
        let drift = &findings[1];
        assert_eq!(drift.audit.target().id().to_string(), "prod/us-east-1");
        assert_eq!(
            drift.detail,
            "differs from profile `standard` in video_data_delivery_enabled"
        );
        assert!(
            drift
                .diff()
                .starts_with("--- live: prod/us-east-1\n+++ desired: prod/us-east-1\n")
        );
        assert_eq!(
            findings[2].detail,
            "logs to s3://logs-222222222222-us-east-1/bedrock, but profile `off` has enabled = false"
        );
        assert!(findings[2].diff().contains("-[s3_config]"));
    }

    #[tokio::test]
    async fn verdicts_decide_exit_codes() {
        let fleet = fleet();
        let api = drifted(&fleet);
        let compliant: Vec<AuditTarget> = audit_scope(&fleet, false)
            .into_iter()
            .filter(|s| s.target.id().to_string() == "dev/us-east-1")
            .collect();
        let report = audit_targets(&api, compliant.clone(), 1, &NoProgress).await;
        assert_eq!(report.verdict(false), Verdict::Compliant);
        assert_eq!(report.verdict(true), Verdict::Compliant);

        // The same target logging CloudWatch only: compliant with a matching
        // profile, but warned about; --strict turns warnings into findings.
        let mut scope = compliant;
        let config = cloudwatch_only("222222222222");
        scope[0].target.desired = Some(config.clone());
        api.state
            .lock()
            .unwrap()
            .insert(("222222222222".into(), "us-east-1".into()), config);
        let report = audit_targets(&api, scope, 1, &NoProgress).await;
        assert_eq!(report.targets[0].status, Status::Compliant);
        assert_eq!(report.counts().warnings(), 2);
        assert_eq!(report.verdict(false), Verdict::Compliant);
        assert_eq!(report.verdict(true), Verdict::Findings);

        let all = audit_targets(&api, audit_scope(&fleet, false), 2, &NoProgress).await;
        assert_eq!(all.verdict(false), Verdict::Findings);
    }
}
