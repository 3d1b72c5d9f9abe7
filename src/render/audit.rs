//! The audit report: a human table grouped by finding, markdown for step
//! summaries, CSV for spreadsheets, and the stable JSON document.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::{BOLD, CYAN, GREEN, RED, YELLOW, paint};
use crate::engine::attribution::{Attribution, WriteEvent};
use crate::engine::audit::{
    AuditCounts, AuditReport, Finding, FindingKind, Severity, Status, Verdict, WarningKind,
};
use crate::engine::lock::LockState;
use crate::engine::usage::Usage;
use crate::engine::{ApiError, UnreportedFlags};
use crate::logging::LoggingConfig;

/// The version of the JSON document; fields may only be added with a new one.
/// Version 2 added `unreported_flags`, `null` flags and (audit) `not_enabled`;
/// version 3 (audit) severities `critical` and `info`, `usage` and
/// `attribution` per target, `in_use` and `idle` in the summary.
pub const FORMAT_VERSION: u32 = 3;

/// Where the audit came from and how it ran, for headings and the JSON.
pub struct AuditSource<'a> {
    pub fleet_file: &'a str,
    pub fleet_sha256: &'a str,
    pub created_at: &'a str,
    pub all_regions: bool,
    pub strict: bool,
}

/// What a finding kind means, after its name in headings.
fn meaning(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Error => "could not be read",
        FindingKind::Drift => "differs from its profile",
        FindingKind::DestinationDrift => {
            "a destination fleet manages differs from what fleet keeps"
        }
        FindingKind::Missing => "its profile logs, but nothing is set",
        FindingKind::Unmanaged => "logs, but the fleet file does not manage it",
        FindingKind::Unlogged => "no logging, and the fleet file does not manage it",
        FindingKind::ForeignDestination => "warning: a destination in another account",
        FindingKind::NoS3Retention => "warning: no S3 destination for retention",
        FindingKind::NoLargeDataBucket => "warning: CloudWatch without a large-data S3 bucket",
    }
}

fn style(severity: Severity) -> anstyle::Style {
    match severity {
        Severity::Critical | Severity::Error => RED,
        Severity::Finding => YELLOW,
        Severity::Warning | Severity::Info => CYAN,
    }
}

/// The findings of one severity and kind, worst severity first, each group
/// in scope order ([`AuditReport::findings`] is sorted so).
fn by_group<'f, 'a>(findings: &'f [Finding<'a>]) -> Vec<Group<'f, 'a>> {
    let mut groups: Vec<Group<'f, 'a>> = Vec::new();
    for finding in findings {
        match groups.last_mut() {
            Some(group) if group.kind == finding.kind && group.severity == finding.severity => {
                group.rows.push(finding);
            }
            _ => groups.push(Group {
                kind: finding.kind,
                severity: finding.severity,
                rows: vec![finding],
            }),
        }
    }
    groups
}

/// A run of findings of one severity and kind.
struct Group<'f, 'a> {
    kind: FindingKind,
    severity: Severity,
    rows: Vec<&'f Finding<'a>>,
}

impl Group<'_, '_> {
    /// `drift`, or `critical: unlogged` when the severity is not the
    /// kind's own (usage raised or lowered it).
    fn name(&self) -> String {
        if self.severity == self.kind.severity() {
            self.kind.to_string()
        } else {
            format!("{}: {}", self.severity, self.kind)
        }
    }
}

/// Who made the change, for a finding whose target CloudTrail was asked
/// about.
pub(super) fn who(finding: &Finding<'_>) -> Option<String> {
    finding.audit.attribution.as_ref().map(|a| a.describe())
}

fn profile_cell(finding: &Finding<'_>) -> String {
    finding
        .audit
        .scope
        .profile()
        .map_or_else(|| "-".to_owned(), str::to_owned)
}

/// `10 targets: 1 compliant, 2 drift, …; warnings: …`.
fn counts_line(counts: &AuditCounts) -> String {
    format!(
        "{} target{}: {} compliant, {} drift, {} destination drift, {} missing, {} unmanaged, {} unlogged, {} error; warnings: {} foreign_destination, {} no_s3_retention, {} no_large_data_bucket.{}{}",
        counts.targets,
        if counts.targets == 1 { "" } else { "s" },
        counts.compliant,
        counts.drift,
        counts.destination_drift,
        counts.missing,
        counts.unmanaged,
        counts.unlogged,
        counts.error,
        counts.foreign_destination,
        counts.no_s3_retention,
        counts.no_large_data_bucket,
        usage_counts(counts),
        if counts.not_enabled > 0 {
            format!(
                " Not enabled in the account (not findings): {}.",
                counts.not_enabled
            )
        } else {
            String::new()
        },
    )
}

/// What a compliant audit still has: `warnings`, `idle unlogged regions`
/// or both.
fn besides(counts: &AuditCounts) -> &'static str {
    match (counts.warnings() > 0, counts.informational() > 0) {
        (true, true) => "warnings and idle unlogged regions",
        (false, true) => "idle unlogged regions",
        _ => "warnings",
    }
}

/// ` Usage: 2 unlogged in use (critical), 5 idle.` when usage was read.
fn usage_counts(counts: &AuditCounts) -> String {
    if counts.in_use + counts.idle == 0 {
        return String::new();
    }
    format!(
        " Usage: {} unlogged or missing in use (critical), {} unlogged idle (informational).",
        counts.in_use, counts.idle
    )
}

/// A table per severity and finding kind, worst first (drift diffs under
/// their table, who changed it under each row), then the
/// verdict and the counts.
pub fn human(out: &mut dyn Write, report: &AuditReport, strict: bool) -> io::Result<()> {
    let findings = report.findings();
    for group in by_group(&findings) {
        let (kind, rows) = (group.kind, &group.rows);
        writeln!(
            out,
            "{} ({}) — {}",
            paint(style(group.severity).bold(), group.name()),
            rows.len(),
            meaning(kind)
        )?;
        let cells: Vec<[String; 4]> = rows
            .iter()
            .map(|f| {
                [
                    f.audit.target().id().to_string(),
                    f.audit.target().account.id.to_string(),
                    profile_cell(f),
                    f.detail.clone(),
                ]
            })
            .collect();
        let header = ["TARGET", "ACCOUNT ID", "PROFILE", "DETAIL"];
        let width = |i: usize| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        };
        let widths = [width(0), width(1), width(2)];
        let line = |cells: [&str; 4]| {
            format!(
                "  {:w0$}  {:w1$}  {:w2$}  {}",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )
        };
        writeln!(out, "{}", paint(BOLD, line(header)))?;
        for (row, finding) in cells.iter().zip(rows.iter()) {
            writeln!(out, "{}", line([&row[0], &row[1], &row[2], &row[3]]))?;
            // Who made the change, from CloudTrail, under its row.
            if let Some(who) = who(finding) {
                writeln!(out, "    ↳ {who}")?;
            }
        }
        writeln!(out)?;
        if kind == FindingKind::Drift {
            for finding in rows.iter() {
                super::human::write_diff(out, &finding.diff())?;
                writeln!(out)?;
            }
        }
    }
    let counts = report.counts();
    let verdict = match report.verdict(strict) {
        Verdict::Compliant if counts.warnings() + counts.informational() > 0 => paint(
            GREEN,
            format!(
                "Compliant, with {} (--strict fails on them).",
                besides(&counts)
            ),
        ),
        Verdict::Compliant => paint(GREEN, "Compliant. Every target matches its profile."),
        Verdict::Findings => paint(
            YELLOW,
            format!(
                "Not compliant: {} finding{}{}.",
                counts.findings(),
                if counts.findings() == 1 { "" } else { "s" },
                if strict && counts.warnings() + counts.informational() > 0 {
                    " and warnings, with --strict"
                } else {
                    ""
                }
            ),
        ),
        Verdict::Error => paint(
            RED,
            format!(
                "{} target{} could not be read; everything else is reported above.",
                counts.error,
                if counts.error == 1 { "" } else { "s" }
            ),
        ),
    };
    writeln!(out, "{verdict}")?;
    if counts.in_use > 0 {
        writeln!(
            out,
            "{}",
            paint(
                RED.bold(),
                format!(
                    "Critical: {} where models are invoked and nothing logs them.",
                    super::count(counts.in_use, "region")
                )
            )
        )?;
    }
    writeln!(out, "{} {}", paint(BOLD, "Audit:"), counts_line(&counts))
}

/// Escapes a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The audit as markdown, no longer than `limit` bytes: when it would not
/// fit, drift diffs are left out first, then rows beyond a shrinking number
/// per table, each with a note.
pub fn markdown(report: &AuditReport, source: &AuditSource<'_>, limit: usize) -> String {
    let counts = report.counts();
    let findings = report.findings();
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### fleet audit: {}{} drift, {} missing, {} unmanaged, {} unlogged, {} error, {} warning{}\n",
        if counts.in_use > 0 {
            format!("{} critical, ", counts.in_use)
        } else {
            String::new()
        },
        counts.drift,
        counts.missing,
        counts.unmanaged,
        counts.unlogged,
        counts.error,
        counts.warnings(),
        if counts.warnings() == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        head,
        "`{}` (sha256 `{}`), audited at {}, {}{}.\n",
        source.fleet_file,
        super::short_sha(source.fleet_sha256),
        source.created_at,
        if source.all_regions {
            "every Bedrock region of each account"
        } else {
            "managed regions"
        },
        if source.strict { ", strict" } else { "" }
    );
    head.push_str(
        "| targets | compliant | drift | missing | unmanaged | unlogged | error | warnings | not enabled |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let _ = writeln!(
        head,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        counts.targets,
        counts.compliant,
        counts.drift,
        counts.missing,
        counts.unmanaged,
        counts.unlogged,
        counts.error,
        counts.warnings(),
        counts.not_enabled
    );
    super::markdown::unreported_notes(&mut head, &report.unreported_flags());
    match report.verdict(source.strict) {
        Verdict::Compliant if counts.warnings() + counts.informational() > 0 => {
            let _ = writeln!(head, "**Compliant**, with {}.\n", besides(&counts));
        }
        Verdict::Compliant => head.push_str("**Compliant.** Every target matches its profile.\n\n"),
        Verdict::Findings => {
            let _ = writeln!(
                head,
                "**Not compliant:** {} finding{}{}.\n",
                counts.findings(),
                if counts.findings() == 1 { "" } else { "s" },
                if source.strict && counts.warnings() + counts.informational() > 0 {
                    " and warnings, with --strict"
                } else {
                    ""
                }
            );
        }
        Verdict::Error => {
            let _ = writeln!(
                head,
                "**{} target{} could not be read**; everything else is reported below.\n",
                counts.error,
                if counts.error == 1 { "" } else { "s" }
            );
        }
    }

    for (account, state) in &report.locks {
        if let (LockState::Unlocked, Some(problem)) = (state, state.problem(account)) {
            let _ = writeln!(head, "> [!WARNING]\n> {}\n", cell(&problem));
        }
    }

    // The matrix when it fits in half a pull-request comment, otherwise
    // per-region totals.
    let grid = super::matrix::Grid::new(report);
    if !grid.accounts.is_empty() {
        head.push_str("#### Accounts × regions\n\n");
        head.push_str(&super::matrix::markdown(
            &grid,
            super::markdown::COMMENT_LIMIT / 2,
        ));
        head.push('\n');
    }

    let groups = by_group(&findings);
    let render = |with_diffs: bool, cap: usize| {
        let mut out = head.clone();
        for group in &groups {
            let (kind, rows) = (&group.kind, &group.rows);
            let _ = writeln!(
                out,
                "#### {} ({}) — {}\n",
                group.name(),
                rows.len(),
                meaning(*kind)
            );
            let attributed = rows.iter().any(|f| f.audit.attribution.is_some());
            if attributed {
                out.push_str("| target | account id | profile | detail | who changed it |\n|---|---|---|---|---|\n");
            } else {
                out.push_str("| target | account id | profile | detail |\n|---|---|---|---|\n");
            }
            for finding in rows.iter().take(cap) {
                let _ = write!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    finding.audit.target().id(),
                    finding.audit.target().account.id,
                    cell(&profile_cell(finding)),
                    cell(&finding.detail)
                );
                if attributed {
                    let _ = write!(out, " {} |", cell(&who(finding).unwrap_or_default()));
                }
                out.push('\n');
            }
            if rows.len() > cap {
                let _ = writeln!(
                    out,
                    "\n_{} more left out to stay under the size limit; `fleet audit --format json` lists them all._",
                    rows.len() - cap
                );
            }
            out.push('\n');
            if *kind == FindingKind::Drift {
                if with_diffs {
                    for finding in rows.iter().take(cap) {
                        let _ = writeln!(
                            out,
                            "<details><summary>diff <code>{}</code></summary>\n\n```diff\n{}```\n\n</details>\n",
                            finding.audit.target().id(),
                            finding.diff()
                        );
                    }
                } else {
                    out.push_str("_Diffs left out to stay under the size limit; `fleet plan` shows them._\n\n");
                }
            }
        }
        out
    };
    // Diffs go first, then rows beyond a cap that halves until it fits.
    let mut text = render(true, usize::MAX);
    if text.len() > limit {
        text = render(false, usize::MAX);
    }
    let mut cap = groups.iter().map(|g| g.rows.len()).max().unwrap_or(0);
    while text.len() > limit && cap > 0 {
        cap /= 2;
        text = render(false, cap);
    }
    text
}

/// One field of a CSV row, quoted when it must be (RFC 4180).
pub(super) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// One row per finding, with a header row.
pub fn csv(out: &mut dyn Write, report: &AuditReport) -> io::Result<()> {
    writeln!(
        out,
        "kind,target,account_id,account_name,region,profile,detail,severity,changed_by"
    )?;
    for finding in report.findings() {
        let target = finding.audit.target();
        let fields = [
            finding.kind.as_str().to_owned(),
            target.id().to_string(),
            target.account.id.to_string(),
            target.account.name.clone().unwrap_or_default(),
            target.region.to_string(),
            finding.audit.scope.profile().unwrap_or_default().to_owned(),
            finding.detail.clone(),
            finding.severity.as_str().to_owned(),
            who(&finding).unwrap_or_default(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    // Not findings: regions the account has not enabled, and one row per
    // region that leaves flags out of Get.
    for audit in report
        .targets
        .iter()
        .filter(|a| a.status == Status::NotEnabled)
    {
        let target = audit.target();
        let fields = [
            "not-enabled".to_owned(),
            target.id().to_string(),
            target.account.id.to_string(),
            target.account.name.clone().unwrap_or_default(),
            target.region.to_string(),
            String::new(),
            audit.detail(),
            String::new(),
            String::new(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    for region in report.unreported_flags() {
        let note = super::unreported_note(&region);
        writeln!(
            out,
            "not-compared,,,,{},,{},,",
            region.region,
            csv_field(&note)
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    fleet_file: &'a str,
    fleet_sha256: &'a str,
    created_at: &'a str,
    fleet_version: &'static str,
    all_regions: bool,
    strict: bool,
    verdict: Verdict,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    /// Per region, the flags AWS leaves out of Get there.
    not_compared: Vec<UnreportedFlags>,
    targets: Vec<JsonTarget<'a>>,
    /// With `[fleet] protect = true`: whether an SCP locks each account.
    scp_lock: Vec<JsonLock<'a>>,
}

#[derive(Serialize)]
struct JsonLock<'a> {
    account_id: &'a str,
    /// `locked`, `unlocked`, `management_account` or `cannot_tell`.
    state: &'static str,
    policy: Option<&'a str>,
    attached_to: Option<&'a str>,
    error: Option<&'a ApiError>,
}

#[derive(Serialize)]
struct Summary {
    targets: usize,
    compliant: usize,
    drift: usize,
    /// Managed destinations that drifted, counted per target using them.
    destination_drift: usize,
    missing: usize,
    unmanaged: usize,
    unlogged: usize,
    error: usize,
    /// Unmanaged regions the account has not enabled (not findings).
    not_enabled: usize,
    foreign_destination: usize,
    no_s3_retention: usize,
    no_large_data_bucket: usize,
    /// Unlogged or missing targets where Bedrock is in use (critical).
    in_use: usize,
    /// Unlogged targets where nothing was invoked (informational).
    idle: usize,
    /// drift + destination drift + missing + unmanaged + unlogged − idle.
    findings: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct JsonUsage<'a> {
    /// `in_use`, `idle` or `cannot_tell`.
    state: &'static str,
    invocations: Option<u64>,
    window_days: Option<u32>,
    error: Option<&'a ApiError>,
}

impl<'a> JsonUsage<'a> {
    fn of(usage: &'a Usage) -> JsonUsage<'a> {
        match usage {
            Usage::InUse { invocations, days } => JsonUsage {
                state: "in_use",
                invocations: Some(*invocations),
                window_days: Some(*days),
                error: None,
            },
            Usage::Idle { days } => JsonUsage {
                state: "idle",
                invocations: Some(0),
                window_days: Some(*days),
                error: None,
            },
            Usage::CannotTell(err) => JsonUsage {
                state: "cannot_tell",
                invocations: None,
                window_days: None,
                error: Some(err),
            },
        }
    }
}

#[derive(Serialize)]
struct JsonAttribution<'a> {
    /// `changed`, `no_event` or `cannot_tell`.
    state: &'static str,
    #[serde(flatten)]
    event: Option<&'a WriteEvent>,
    by_fleet: Option<bool>,
    error: Option<&'a ApiError>,
}

impl<'a> JsonAttribution<'a> {
    fn of(attribution: &'a Attribution) -> JsonAttribution<'a> {
        match attribution {
            Attribution::Changed { event, by_fleet } => JsonAttribution {
                state: "changed",
                event: Some(event),
                by_fleet: Some(*by_fleet),
                error: None,
            },
            Attribution::NoEvent => JsonAttribution {
                state: "no_event",
                event: None,
                by_fleet: None,
                error: None,
            },
            Attribution::CannotTell(err) => JsonAttribution {
                state: "cannot_tell",
                event: None,
                by_fleet: None,
                error: Some(err),
            },
        }
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    kind: FindingKind,
    severity: Severity,
    target: String,
    account_id: &'a str,
    account_name: Option<&'a str>,
    region: &'a str,
    profile: Option<&'a str>,
    detail: String,
    diff: Option<String>,
    error: Option<&'a ApiError>,
}

#[derive(Serialize)]
struct JsonTarget<'a> {
    target: String,
    account_id: &'a str,
    account_name: Option<&'a str>,
    region: &'a str,
    managed: bool,
    profile: Option<&'a str>,
    status: Status,
    live: Option<&'a LoggingConfig>,
    desired: Option<&'a LoggingConfig>,
    /// The flags AWS left out of Get here (`null` in `live`): not compared.
    unreported_flags: Vec<&'static str>,
    /// The managed destinations of the target that drifted.
    destination_drift: Vec<&'a str>,
    warnings: Vec<WarningKind>,
    error: Option<&'a ApiError>,
    /// Whether Bedrock is used here (unlogged and missing targets).
    usage: Option<JsonUsage<'a>>,
    /// Who made the newest write of logging here (targets found changed).
    attribution: Option<JsonAttribution<'a>>,
}

/// The JSON document (README: "Audit JSON").
pub fn json(out: &mut dyn Write, report: &AuditReport, source: &AuditSource<'_>) -> io::Result<()> {
    let counts = report.counts();
    let findings = report.findings();
    let scp_lock = report
        .locks
        .iter()
        .map(|(account, state)| {
            let (policy, attached_to, error) = match state {
                LockState::Locked { policy, target } => {
                    (Some(policy.as_str()), Some(target.as_str()), None)
                }
                LockState::CannotTell(err) => (None, None, Some(err)),
                _ => (None, None, None),
            };
            JsonLock {
                account_id: account.as_str(),
                state: state.as_str(),
                policy,
                attached_to,
                error,
            }
        })
        .collect();
    let document = Document {
        format_version: FORMAT_VERSION,
        fleet_file: source.fleet_file,
        fleet_sha256: source.fleet_sha256,
        created_at: source.created_at,
        fleet_version: env!("CARGO_PKG_VERSION"),
        all_regions: source.all_regions,
        strict: source.strict,
        verdict: report.verdict(source.strict),
        summary: Summary {
            targets: counts.targets,
            compliant: counts.compliant,
            drift: counts.drift,
            destination_drift: counts.destination_drift,
            missing: counts.missing,
            unmanaged: counts.unmanaged,
            unlogged: counts.unlogged,
            error: counts.error,
            not_enabled: counts.not_enabled,
            foreign_destination: counts.foreign_destination,
            no_s3_retention: counts.no_s3_retention,
            no_large_data_bucket: counts.no_large_data_bucket,
            in_use: counts.in_use,
            idle: counts.idle,
            findings: counts.findings(),
            warnings: counts.warnings(),
        },
        findings: findings
            .iter()
            .map(|f| {
                let target = f.audit.target();
                JsonFinding {
                    kind: f.kind,
                    severity: f.severity,
                    target: target.id().to_string(),
                    account_id: target.account.id.as_str(),
                    account_name: target.account.name.as_deref(),
                    region: target.region.as_str(),
                    profile: f.audit.scope.profile(),
                    detail: f.detail.clone(),
                    diff: matches!(f.kind, FindingKind::Drift | FindingKind::DestinationDrift)
                        .then(|| f.diff()),
                    error: if f.kind == FindingKind::Error {
                        f.audit.live.as_ref().err()
                    } else {
                        None
                    },
                }
            })
            .collect(),
        not_compared: report.unreported_flags(),
        scp_lock,
        targets: report
            .targets
            .iter()
            .map(|audit| {
                let target = audit.target();
                JsonTarget {
                    target: target.id().to_string(),
                    account_id: target.account.id.as_str(),
                    account_name: target.account.name.as_deref(),
                    region: target.region.as_str(),
                    managed: audit.scope.managed,
                    profile: audit.scope.profile(),
                    status: audit.status,
                    live: audit.live.as_ref().ok().and_then(Option::as_ref),
                    desired: target.desired.as_ref(),
                    unreported_flags: match &audit.live {
                        Ok(Some(live)) => live.unreported_flags(),
                        _ => Vec::new(),
                    },
                    destination_drift: audit
                        .destination_drift
                        .iter()
                        .map(|d| d.label.as_str())
                        .collect(),
                    warnings: audit.warnings.iter().map(|w| w.kind).collect(),
                    error: audit.live.as_ref().err(),
                    usage: audit.usage.as_ref().map(JsonUsage::of),
                    attribution: audit.attribution.as_ref().map(JsonAttribution::of),
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
