//! Snapshots of the audit, show and import output.

use std::collections::HashSet;

use crate::engine::NoProgress;
use crate::engine::audit::{AuditReport, Severity, audit_scope, audit_targets};
use crate::engine::fake::FakeApi;
use crate::engine::import::{ImportRequest, build, read_targets};
use crate::engine::tests::{drifted, fleet};
use crate::fleet::AccountId;
use crate::logging::{CloudWatchConfig, LoggingConfig, S3Config};

fn plain(bytes: Vec<u8>) -> String {
    anstream::adapter::strip_str(&String::from_utf8(bytes).unwrap()).to_string()
}

fn cloudwatch(role_account: &str) -> LoggingConfig {
    LoggingConfig {
        text_data_delivery_enabled: Some(true),
        image_data_delivery_enabled: Some(false),
        embedding_data_delivery_enabled: Some(false),
        video_data_delivery_enabled: Some(false),
        audio_data_delivery_enabled: Some(false),
        s3_config: None,
        cloudwatch_config: Some(CloudWatchConfig {
            log_group_name: "/aws/bedrock/shadow".into(),
            role_arn: format!("arn:aws:iam::{role_account}:role/logs"),
            large_data_delivery_s3_config: None,
        }),
    }
}

/// Every kind of finding: prod/us-east-1 drifted, prod/eu-west-1 missing,
/// dev/us-east-1 compliant, dev/eu-west-1 logging against an `off` profile,
/// prod/ap-south-1 unmanaged with a foreign role and CloudWatch only,
/// dev/us-west-2 denied, and a few unlogged regions.
async fn report() -> AuditReport {
    let fleet = fleet();
    let mut api: FakeApi = drifted(&fleet);
    api.state.lock().unwrap().insert(
        ("111111111111".into(), "ap-south-1".into()),
        cloudwatch("999999999999"),
    );
    api.denied = HashSet::from(["222222222222/us-west-2".to_owned()]);
    let mut scope = audit_scope(&fleet, true);
    scope.retain(|s| s.managed || ["ap-south-1", "us-west-2"].contains(&s.target.region.as_str()));
    audit_targets(&api, scope, 4, &NoProgress).await
}

fn source(all_regions: bool) -> super::audit::AuditSource<'static> {
    super::audit::AuditSource {
        fleet_file: "fleet.toml",
        fleet_sha256: "0123456789abcdef0123456789abcdef",
        created_at: "2026-11-25T00:00:00Z",
        all_regions,
        strict: false,
    }
}

#[tokio::test]
async fn human_audit() {
    let report = report().await;
    let mut out = Vec::new();
    super::audit::human(&mut out, &report, false).unwrap();
    insta::assert_snapshot!(plain(out));
}

#[tokio::test]
async fn human_audit_when_compliant() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let mut scope = audit_scope(&fleet, false);
    scope.retain(|s| s.target.id().to_string() == "dev/us-east-1");
    let report = audit_targets(&api, scope, 1, &NoProgress).await;
    let mut out = Vec::new();
    super::audit::human(&mut out, &report, false).unwrap();
    insta::assert_snapshot!(plain(out), @r"
    Compliant. Every target matches its profile.
    Audit: 1 target: 1 compliant, 0 drift, 0 destination drift, 0 missing, 0 unmanaged, 0 unlogged, 0 error; warnings: 0 foreign_destination, 0 no_s3_retention, 0 no_large_data_bucket.
    ");
}

#[tokio::test]
async fn markdown_audit() {
    let report = report().await;
    insta::assert_snapshot!(super::audit::markdown(
        &report,
        &source(true),
        super::markdown::STEP_SUMMARY_LIMIT
    ));
}

#[tokio::test]
async fn markdown_audit_stays_under_a_limit() {
    let report = report().await;
    let full = super::audit::markdown(&report, &source(true), usize::MAX);
    let limit = full.len() - 200;
    let cut = super::audit::markdown(&report, &source(true), limit);
    assert!(cut.len() <= limit, "{} > {limit}", cut.len());
    assert!(cut.contains("Diffs left out"), "{cut}");
    assert!(cut.contains("| 8 | 1 | 2 | 1 | 1 | 2 | 1 | 3 |"), "{cut}");
    let tiny = super::audit::markdown(&report, &source(true), 1500);
    assert!(tiny.contains("more left out"), "{tiny}");
}

#[tokio::test]
async fn csv_audit_quotes_fields() {
    let report = report().await;
    let mut out = Vec::new();
    super::audit::csv(&mut out, &report).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "kind,target,account_id,account_name,region,profile,detail,severity,changed_by"
    );
    assert_eq!(
        lines[1],
        "error,dev/us-west-2,222222222222,dev,us-west-2,,AccessDeniedException: denied by the fake,error,"
    );
    assert!(
        lines.contains(
            &"drift,prod/us-east-1,111111111111,prod,us-east-1,standard,differs from profile `standard` in video_data_delivery_enabled,finding,"
        ),
        "{text}"
    );
    // A detail with a comma is quoted.
    assert!(
        lines.contains(&"no_large_data_bucket,prod/ap-south-1,111111111111,prod,ap-south-1,,CloudWatch log group `/aws/bedrock/shadow` has no large_data_delivery_s3_config: bodies over 100 KB and binary data are not delivered,warning,"),
        "{text}"
    );
    assert_eq!(lines.len(), 1 + 7 + 3, "{text}");
    assert_eq!(super::audit::csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
}

#[tokio::test]
async fn json_audit_schema() {
    let report = report().await;
    let mut out = Vec::new();
    super::audit::json(&mut out, &report, &source(true)).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["format_version"], 3);
    assert_eq!(doc["verdict"], "error");
    assert_eq!(
        doc["summary"],
        serde_json::json!({
            "targets": 8, "compliant": 1, "drift": 2, "destination_drift": 0, "missing": 1, "unmanaged": 1,
            "unlogged": 2, "error": 1, "not_enabled": 0, "foreign_destination": 1, "no_s3_retention": 1,
            "no_large_data_bucket": 1, "in_use": 0, "idle": 0, "findings": 6, "warnings": 3
        })
    );
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 10);
    assert_eq!(
        findings[0],
        serde_json::json!({
            "kind": "error", "severity": "error", "target": "dev/us-west-2",
            "account_id": "222222222222", "account_name": "dev", "region": "us-west-2",
            "profile": null, "detail": "AccessDeniedException: denied by the fake", "diff": null,
            "error": { "code": "AccessDeniedException", "message": "denied by the fake" }
        })
    );
    assert!(
        findings[1]["diff"]
            .as_str()
            .unwrap()
            .starts_with("--- live: prod/us-east-1")
    );
    let unmanaged = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "prod/ap-south-1")
        .unwrap();
    assert_eq!(unmanaged["managed"], false);
    assert_eq!(unmanaged["status"], "unmanaged");
    assert_eq!(unmanaged["desired"], serde_json::Value::Null);
    assert_eq!(
        unmanaged["warnings"],
        serde_json::json!([
            "foreign_destination",
            "no_s3_retention",
            "no_large_data_bucket"
        ])
    );
    assert_eq!(
        unmanaged["live"]["cloudwatch_config"]["role_arn"],
        "arn:aws:iam::999999999999:role/logs"
    );
}

#[tokio::test]
async fn show_json() {
    let fleet = fleet();
    let mut api = drifted(&fleet);
    api.denied = HashSet::from(["222222222222/eu-west-1".to_owned()]);
    {
        let mut state = api.state.lock().unwrap();
        let mut both = fleet.targets[0].desired.clone().unwrap();
        both.cloudwatch_config = Some(CloudWatchConfig {
            log_group_name: "/aws/bedrock/prod".into(),
            role_arn: "arn:aws:iam::111111111111:role/logs".into(),
            large_data_delivery_s3_config: Some(S3Config::new("large-111111111111", None)),
        });
        state.insert(("111111111111".into(), "us-east-1".into()), both);
    }
    let plan = crate::engine::plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let mut out = Vec::new();
    super::show::json(&mut out, &plan.targets).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
    let mut human = Vec::new();
    super::show::human(&mut human, &plan.targets).unwrap();
    insta::assert_snapshot!("show_human", plain(human));
}

#[tokio::test]
async fn import_file() {
    let request = ImportRequest::new(
        &["111111111111=prod".into(), "222222222222".into()],
        &["us-east-1".into(), "eu-west-1".into()],
        Some("Admin".into()),
        false,
    )
    .unwrap();
    let api = FakeApi::default();
    {
        let mut state = api.state.lock().unwrap();
        for account in ["111111111111", "222222222222"] {
            let mut config = cloudwatch(account);
            config.s3_config = Some(S3Config::new(
                format!("logs-{account}-us-east-1"),
                Some("p \"q\" \\ x".into()),
            ));
            state.insert((account.into(), "us-east-1".into()), config);
        }
        state.insert(
            ("111111111111".into(), "eu-west-1".into()),
            cloudwatch("111111111111"),
        );
    }
    let caller = AccountId::parse("111111111111").unwrap();
    let reads = read_targets(&api, request.targets(&caller), 2, &NoProgress).await;
    let imported = build(&request, &reads).unwrap();
    let text = super::import::fleet_file(&imported);
    let parsed = crate::fleet::parse("imported.toml", text.clone()).expect("the import validates");
    assert_eq!(parsed.fleet.targets.len(), 3);
    for target in &parsed.fleet.targets {
        let live = api
            .state
            .lock()
            .unwrap()
            .get(&(target.account.id.to_string(), target.region.to_string()))
            .cloned();
        assert_eq!(target.desired, live, "{}", target.id());
    }
    insta::assert_snapshot!(text);
}

#[tokio::test]
async fn terminal_matrix_with_and_without_colour() {
    let report = report().await;
    let grid = super::matrix::Grid::new(&report);
    // Worst severity first: dev has an unreadable target (error), prod
    // only findings, though more of them.
    assert_eq!(grid.accounts, ["dev", "prod"]);
    let coloured = super::matrix::terminal(&grid, 120);
    assert!(coloured.contains("\u{1b}["), "cells are coloured");
    insta::assert_snapshot!("matrix_colour", coloured);
    insta::assert_snapshot!(
        "matrix_plain",
        anstream::adapter::strip_str(&coloured).to_string()
    );
}

#[tokio::test]
async fn terminal_matrix_wraps_to_the_width() {
    let report = report().await;
    let grid = super::matrix::Grid::new(&report);
    let narrow = anstream::adapter::strip_str(&super::matrix::terminal(&grid, 30)).to_string();
    let blocks = narrow.matches("\nfindings").count();
    assert!(blocks >= 2, "{narrow}");
    assert!(narrow.lines().all(|l| l.chars().count() <= 40), "{narrow}");
}

/// 300 accounts × 20 regions with a spread of findings.
async fn big_report() -> AuditReport {
    let regions: Vec<&str> = crate::fleet::BEDROCK_REGIONS
        .iter()
        .copied()
        .filter(|r| r.starts_with("us-e") || r.starts_with("eu-") || r.starts_with("ap-"))
        .take(20)
        .collect();
    assert_eq!(regions.len(), 20);
    let quoted: Vec<String> = regions.iter().map(|r| format!("\"{r}\"")).collect();
    let mut text = format!(
        "[fleet]\nregions = [{}]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{{account_id}}-{{region}}\"\nkey_prefix = \"bedrock\"\n",
        quoted.join(", ")
    );
    for i in 0..300u64 {
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{:012}\"\nname = \"team-{i}\"\nprofile = \"p\"\n",
            100_000_000_000 + i
        ));
    }
    let fleet = crate::fleet::parse("fleet.toml", text).unwrap().fleet;
    let api = FakeApi::default();
    {
        let mut state = api.state.lock().unwrap();
        for (i, target) in fleet.targets.iter().enumerate() {
            let mut live = target.desired.clone().unwrap();
            match i % 10 {
                0 => continue,
                1 => live.s3_config.as_mut().unwrap().key_prefix = Some(format!("old-{i}")),
                _ => {}
            }
            state.insert(
                (target.account.id.to_string(), target.region.to_string()),
                live,
            );
        }
    }
    audit_targets(&api, audit_scope(&fleet, false), 64, &NoProgress).await
}

#[tokio::test]
async fn a_large_fleet_html_report_stays_small_and_markdown_falls_back_to_totals() {
    let report = big_report().await;
    let html = super::html::report(
        &report,
        &super::html::HtmlSource {
            fleet_file: "fleet.toml",
            fleet_sha256: "0123",
            created_at: "2026-11-25T00:00:00Z",
        },
    );
    eprintln!("300 × 20 HTML report: {} bytes", html.len());
    assert!(html.len() < 2 * 1024 * 1024, "{} bytes", html.len());
    assert_eq!(html.matches("<td class=\"c ").count(), 6000);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network reference"
    );
    let markdown =
        super::audit::markdown(&report, &source(false), super::markdown::STEP_SUMMARY_LIMIT);
    assert!(
        markdown.contains("these are per-region totals"),
        "300 rows do not fit"
    );
    // Target i is account i / 20 × region i % 20: regions 0 and 10 are
    // missing everywhere, regions 1 and 11 drifted, the rest compliant.
    assert!(
        markdown.contains("| us-east-1 | 0 | 0 | 300 | 0 | 0 | 0 | 0 |"),
        "{}",
        &markdown[..3000.min(markdown.len())]
    );
    assert!(
        markdown.contains("| us-east-2 | 0 | 300 | 0 | 0 | 0 | 0 | 0 |"),
        "{}",
        &markdown[..3000.min(markdown.len())]
    );
}

/// The report of [`report`] with what the metrics and CloudTrail said:
/// prod/us-west-2 unlogged and in use, dev/ap-south-1 unlogged and idle,
/// prod/us-east-1 drifted by somebody else.
async fn ranked_report() -> AuditReport {
    use crate::engine::attribution::{Attribution, WriteEvent};
    use crate::engine::usage::Usage;
    let mut report = report().await;
    for audit in &mut report.targets {
        match audit.target().id().to_string().as_str() {
            "prod/us-west-2" => {
                audit.usage = Some(Usage::InUse {
                    invocations: 42,
                    days: 14,
                });
            }
            "dev/ap-south-1" => audit.usage = Some(Usage::Idle { days: 14 }),
            "prod/us-east-1" => {
                audit.attribution = Some(Attribution::Changed {
                    event: WriteEvent {
                        event_name: "PutModelInvocationLoggingConfiguration".into(),
                        event_time: "2026-11-30T08:00:00Z".into(),
                        principal_arn: "arn:aws:sts::111111111111:assumed-role/Admin/mallory"
                            .into(),
                        source_ip: Some("203.0.113.7".into()),
                        user_agent: Some("aws-cli/2.22".into()),
                        error_code: None,
                    },
                    by_fleet: false,
                });
            }
            _ => {}
        }
    }
    report
}

#[tokio::test]
async fn usage_ranks_findings_and_attribution_is_shown_in_every_format() {
    let report = ranked_report().await;
    let findings = report.findings();
    assert_eq!(
        findings[0].audit.target().id().to_string(),
        "prod/us-west-2"
    );
    assert_eq!(findings[0].severity, Severity::Critical);
    let idle = findings
        .iter()
        .find(|f| f.audit.target().id().to_string() == "dev/ap-south-1")
        .unwrap();
    assert_eq!(idle.severity, Severity::Info);
    assert_eq!(findings.last().unwrap().severity, Severity::Info);

    // The idle region fails the audit only with --strict.
    let counts = report.counts();
    assert_eq!((counts.in_use, counts.idle, counts.findings()), (1, 1, 5));

    // Critical beats error in the matrix: prod, then the in-use column.
    let grid = super::matrix::Grid::new(&report);
    assert_eq!(grid.accounts, ["prod", "dev"]);
    assert_eq!(grid.regions[0], "us-west-2");
    assert_eq!(grid.cell(0, 0), super::matrix::Cell::InUse);

    let mut out = Vec::new();
    super::audit::human(&mut out, &report, false).unwrap();
    let human = plain(out);
    assert!(
        human.starts_with("critical: unlogged (1)"),
        "the worst leads: {human}"
    );
    assert!(human.contains("Bedrock in use: 42 model invocations in the last 14 days"));
    assert!(human.contains(
        "\n    ↳ last set by arn:aws:sts::111111111111:assumed-role/Admin/mallory at 2026-11-30T08:00:00Z from 203.0.113.7 (aws-cli/2.22)"
    ));
    assert!(
        human.contains("Critical: 1 region where models are invoked"),
        "{human}"
    );

    let markdown =
        super::audit::markdown(&report, &source(true), super::markdown::STEP_SUMMARY_LIMIT);
    let first_group = markdown.find("\n#### critical: unlogged").expect(&markdown);
    assert!(first_group < markdown.find("\n#### error").unwrap());
    assert!(
        markdown.starts_with("### fleet audit: 1 critical,"),
        "{markdown}"
    );
    assert!(markdown.contains("| who changed it |"));
    assert!(markdown.contains("assumed-role/Admin/mallory"));

    let mut out = Vec::new();
    super::audit::csv(&mut out, &report).unwrap();
    let csv = String::from_utf8(out).unwrap();
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("unlogged,prod/us-west-2,")
            && csv.lines().nth(1).unwrap().ends_with(",critical,"),
        "{csv}"
    );
    assert!(
        csv.contains(",finding,last set by arn:aws:sts::111111111111:assumed-role/Admin/mallory"),
        "{csv}"
    );

    let mut out = Vec::new();
    super::audit::json(&mut out, &report, &source(true)).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["findings"][0]["severity"], "critical");
    let target = |id: &str| {
        doc["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        target("prod/us-west-2")["usage"],
        serde_json::json!({"state": "in_use", "invocations": 42, "window_days": 14, "error": null})
    );
    assert_eq!(target("dev/ap-south-1")["usage"]["state"], "idle");
    let who = target("prod/us-east-1")["attribution"].clone();
    assert_eq!(who["state"], "changed");
    assert_eq!(
        who["principal_arn"],
        "arn:aws:sts::111111111111:assumed-role/Admin/mallory"
    );
    assert_eq!(who["source_ip"], "203.0.113.7");
    assert_eq!(who["by_fleet"], false);

    let html = super::html::report(
        &report,
        &super::html::HtmlSource {
            fleet_file: "fleet.toml",
            fleet_sha256: "0123",
            created_at: "now",
        },
    );
    assert!(html.contains("class=\"c inuse\""), "the in-use cell");
    assert!(
        html.contains("\"who\":\"last set by arn:aws:sts::111111111111:assumed-role/Admin/mallory")
    );
    assert!(html.contains(" warn\""), "cells with warnings are marked");
    assert!(
        html.contains("\"warnings\":[\"foreign_destination:"),
        "warnings in the details"
    );
}
