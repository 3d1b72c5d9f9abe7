//! `fleet audit --to-security-hub` against moto's Security Hub, through the
//! binary, read back with `GetFindings` through the SDK: the first run
//! creates one finding per finding of the audit, a rerun updates the same
//! findings (no duplicates, the first creation time kept), and once fixed
//! they are archived with compliance PASSED.

mod emulated;
mod support;

use aws_sdk_securityhub::types::{AwsSecurityFinding, ComplianceStatus, RecordState};
use support::{TEST_ROLE_NAME, bedrock, get_config, put_config};

async fn hub(endpoint: &str, account: &str, region: &str) -> aws_sdk_securityhub::Client {
    aws_sdk_securityhub::Client::new(&support::sdk_config(endpoint, account, region).await)
}

/// Every finding fleet imported there (moto's GetFindings ignores filters:
/// the test keeps fleet's own by id).
async fn fleet_findings(endpoint: &str, account: &str, region: &str) -> Vec<AwsSecurityFinding> {
    let out = hub(endpoint, account, region)
        .await
        .get_findings()
        .send()
        .await
        .unwrap();
    let mut found: Vec<AwsSecurityFinding> = out
        .findings()
        .iter()
        .filter(|f| {
            f.id()
                .is_some_and(|id| id.starts_with(&format!("fleet-bedrock-logging/{account}/")))
        })
        .cloned()
        .collect();
    found.sort_by(|a, b| a.id().cmp(&b.id()));
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_imported_updated_and_resolved() {
    let endpoint = support::moto().endpoint();
    let account = support::fresh_account();
    let (drifted, missing) = ("eu-west-1", "us-west-2");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        format!(
            r#"[fleet]
regions = ["{drifted}", "{missing}"]
role_name = "{TEST_ROLE_NAME}"

[profiles.standard]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.standard.s3_config]
bucket_name = "hub-logs-{{account_id}}-{{region}}"

[[accounts]]
id = "{account}"
profile = "standard"
"#
        ),
    )
    .unwrap();
    // Somebody turned video logging on and moved logging to CloudWatch alone
    // in one region: a drift, and two best-practice warnings (no S3 for
    // retention, no large-data bucket), which are exported too.
    put_config(
        &bedrock(&endpoint, &account, drifted).await,
        serde_json::json!({
            "textDataDeliveryEnabled": true, "imageDataDeliveryEnabled": true,
            "embeddingDataDeliveryEnabled": true, "videoDataDeliveryEnabled": true,
            "audioDataDeliveryEnabled": false,
            "cloudWatchConfig": {
                "logGroupName": "/elsewhere",
                "roleArn": format!("arn:aws:iam::{account}:role/elsewhere")
            }
        }),
    )
    .await;
    let fleet = |args: &[&str]| support::run_fleet(&endpoint, dir.path(), args);

    let first = fleet(&["audit", "--to-security-hub", "--format", "json"]);
    assert_eq!(first.code, 2, "findings: exit 2\n{}", first.stderr);
    assert!(
        first
            .stderr
            .contains("Security Hub: 4 findings imported, 0 resolved, in 2 account-regions"),
        "{}",
        first.stderr
    );
    // stdout is still the JSON report.
    let doc: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(doc["summary"]["drift"], 1);
    assert_eq!(doc["summary"]["missing"], 1);

    let found = fleet_findings(&endpoint, &account, drifted).await;
    let ids: Vec<&str> = found.iter().filter_map(|f| f.id()).collect();
    let prefix = format!("fleet-bedrock-logging/{account}/{drifted}");
    assert_eq!(
        ids,
        [
            format!("{prefix}/drift"),
            format!("{prefix}/no_large_data_bucket"),
            format!("{prefix}/no_s3_retention")
        ]
    );
    assert_eq!(
        found[2]
            .severity()
            .and_then(|s| s.label())
            .map(|l| l.as_str()),
        Some("LOW")
    );
    let drift = &found[0];
    assert_eq!(
        drift.product_arn(),
        Some(format!("arn:aws:securityhub:{drifted}:{account}:product/{account}/default").as_str())
    );
    assert_eq!(drift.generator_id(), Some("fleet-bedrock-logging/drift"));
    assert_eq!(drift.aws_account_id(), Some(account.as_str()));
    assert_eq!(drift.record_state(), Some(&RecordState::Active));
    assert_eq!(
        drift.compliance().and_then(|c| c.status()),
        Some(&ComplianceStatus::Failed)
    );
    assert_eq!(
        drift.severity().and_then(|s| s.label()).map(|l| l.as_str()),
        Some("HIGH")
    );
    assert!(
        drift
            .description()
            .unwrap()
            .contains("video_data_delivery_enabled"),
        "the description carries the diff: {:?}",
        drift.description()
    );
    let created = drift.created_at().unwrap().to_owned();
    let missing_found = fleet_findings(&endpoint, &account, missing).await;
    assert_eq!(
        missing_found
            .iter()
            .filter_map(|f| f.id())
            .collect::<Vec<_>>(),
        [format!("fleet-bedrock-logging/{account}/{missing}/missing")]
    );

    // A rerun with nothing fixed updates the same findings.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = fleet(&["audit", "--to-security-hub"]);
    assert_eq!(second.code, 2, "{}", second.stderr);
    let found = fleet_findings(&endpoint, &account, drifted).await;
    assert_eq!(found.len(), 3, "updated, not duplicated");
    assert_eq!(found[0].created_at(), Some(created.as_str()));
    assert!(
        found[0].updated_at().unwrap() > created.as_str(),
        "{:?} after {created}",
        found[0].updated_at()
    );

    // Fixed: both findings resolved, nothing new.
    let apply = fleet(&["apply", "--auto-approve", "--preflight", "off"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        get_config(&bedrock(&endpoint, &account, missing).await)
            .await
            .is_some()
    );
    let third = fleet(&["audit", "--to-security-hub"]);
    assert_eq!(
        third.code, 0,
        "compliant\n{}\n{}",
        third.stdout, third.stderr
    );
    assert!(
        third
            .stderr
            .contains("Security Hub: 0 findings imported, 4 resolved, in 2 account-regions"),
        "{}",
        third.stderr
    );
    for region in [drifted, missing] {
        let found = fleet_findings(&endpoint, &account, region).await;
        assert_eq!(
            found.len(),
            if region == drifted { 3 } else { 1 },
            "{region}"
        );
        for finding in &found {
            assert_eq!(finding.record_state(), Some(&RecordState::Archived));
            assert_eq!(
                finding.compliance().and_then(|c| c.status()),
                Some(&ComplianceStatus::Passed)
            );
        }
    }
    assert_eq!(
        fleet_findings(&endpoint, &account, drifted).await[0].created_at(),
        Some(created.as_str())
    );

    // A fourth run finds nothing to resolve: archived findings stay as they are.
    let fourth = fleet(&["audit", "--to-security-hub"]);
    assert!(
        fourth
            .stderr
            .contains("Security Hub: 0 findings imported, 0 resolved, in 2 account-regions"),
        "{}",
        fourth.stderr
    );
}

#[test]
fn a_failed_export_is_named_and_exits_1_with_the_report_still_printed() {
    // fleet's emulator serves Bedrock but not Security Hub: every export
    // fails, the audit itself does not.
    let emulator = emulated::Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        "[fleet]\nregions = [\"us-east-1\"]\n\n[profiles.p.s3_config]\nbucket_name = \"b-{account_id}\"\n\n[[accounts]]\nid = \"123456789012\"\nprofile = \"p\"\n",
    )
    .unwrap();
    let run = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["audit", "--to-security-hub", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["summary"]["missing"], 1, "the report is printed");
    assert!(
        run.stderr
            .contains("error: Security Hub: cannot export the findings of 123456789012/us-east-1:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "Security Hub: 0 findings imported, 0 resolved, in 0 account-regions; 1 failed"
        ),
        "{}",
        run.stderr
    );
}
