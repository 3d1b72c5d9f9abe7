//! Through the binary, on the emulator (which records every Bedrock logging
//! write as a CloudTrail event with the caller's identity and serves
//! LookupEvents and the `AWS/Bedrock` `Invocations` metric):
//! - audit and plan name who changed a target outside fleet (another
//!   session of another principal), and recognise fleet's own writes;
//! - an unlogged or missing region where models are invoked is critical and
//!   leads every view; an idle one is informational and passes without
//!   `--strict`;
//! - denied lookups say "cannot tell" and never fail the audit, and an
//!   unreadable metric is never taken for idle.

mod emulated;
mod support;

use serde_json::{Value, json};
use support::{TEST_ROLE_NAME, bedrock, delete_config, put_config};

const ALPHA: &str = "222222222222";
const BETA: &str = "333333333333";

fn fleet_file() -> String {
    format!(
        r#"[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "{TEST_ROLE_NAME}"

[profiles.standard]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.standard.s3_config]
bucket_name = "who-logs-{{account_id}}-{{region}}"

[[accounts]]
id = "{ALPHA}"
name = "alpha"
profile = "standard"

[[accounts]]
id = "{BETA}"
name = "beta"
profile = "standard"
"#
    )
}

fn target<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == id)
        .unwrap_or_else(|| panic!("{id} in the report"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_and_plan_say_who_changed_logging_and_rank_unlogged_use() {
    let emulator = emulated::Emulator::start(&[]);
    let endpoint = emulator.endpoint.clone();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), fleet_file()).unwrap();
    let fleet = |args: &[&str]| support::run_fleet(&endpoint, dir.path(), args);

    let apply = fleet(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);

    // Another principal (the test's own session `fleet-test`) turns video
    // logging on in alpha/us-east-1 and deletes logging in beta/eu-west-1.
    let alpha = bedrock(&endpoint, ALPHA, "us-east-1").await;
    put_config(
        &alpha,
        json!({
            "textDataDeliveryEnabled": true, "imageDataDeliveryEnabled": true,
            "embeddingDataDeliveryEnabled": true, "videoDataDeliveryEnabled": true,
            "audioDataDeliveryEnabled": false,
            "s3Config": { "bucketName": format!("who-logs-{ALPHA}-us-east-1") }
        }),
    )
    .await;
    delete_config(&bedrock(&endpoint, BETA, "eu-west-1").await).await;
    // Models are invoked where logging is now missing, and in alpha's
    // unmanaged ap-northeast-1; alpha's eu-central-1 was used 20 days ago
    // only (outside the 14-day window).
    emulator.put_metrics(&json!([
        { "account_id": BETA, "region": "eu-west-1",
          "model_id": "anthropic.claude-3-haiku-20240307-v1:0", "invocations": 40, "days_ago": 1 },
        { "account_id": BETA, "region": "eu-west-1",
          "model_id": "amazon.titan-embed-text-v2:0", "invocations": 2, "days_ago": 3 },
        { "account_id": ALPHA, "region": "ap-northeast-1",
          "model_id": "anthropic.claude-3-haiku-20240307-v1:0", "invocations": 7, "days_ago": 0 },
        { "account_id": ALPHA, "region": "eu-central-1",
          "model_id": "anthropic.claude-3-haiku-20240307-v1:0", "invocations": 9, "days_ago": 20 }
    ]));

    let json = fleet(&["audit", "--all-regions", "--format", "json"]);
    assert_eq!(json.code, 2, "{}", json.stderr);
    // Within a run fleet keeps CloudTrail's two lookups per second per
    // place (runs back to back share the budget, and the SDK retries).
    let stats = emulator.stats();
    assert_eq!(stats["operations"]["lookup_events"], 4, "{stats}");
    assert_eq!(stats["rejected"]["throttled_lookups"], 0, "{stats}");
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let who = &target(&doc, "alpha/us-east-1")["attribution"];
    assert_eq!(who["state"], "changed", "{who}");
    assert_eq!(
        who["principal_arn"],
        format!("arn:aws:sts::{ALPHA}:assumed-role/{TEST_ROLE_NAME}/fleet-test")
    );
    assert_eq!(who["event_name"], "PutModelInvocationLoggingConfiguration");
    assert_eq!(who["by_fleet"], false);
    assert_eq!(who["source_ip"], "127.0.0.1");
    assert!(
        who["user_agent"].as_str().unwrap().contains("aws-sdk-rust"),
        "{who}"
    );
    let deleted = &target(&doc, "beta/eu-west-1")["attribution"];
    assert_eq!(
        deleted["event_name"],
        "DeleteModelInvocationLoggingConfiguration"
    );
    assert_eq!(
        deleted["principal_arn"],
        format!("arn:aws:sts::{BETA}:assumed-role/{TEST_ROLE_NAME}/fleet-test")
    );
    // Compliant targets are not looked up.
    assert!(target(&doc, "beta/us-east-1")["attribution"].is_null());

    assert_eq!(
        target(&doc, "beta/eu-west-1")["usage"],
        json!({ "state": "in_use", "invocations": 42, "window_days": 14, "error": null })
    );
    assert_eq!(
        target(&doc, "alpha/ap-northeast-1")["usage"]["state"],
        "in_use"
    );
    assert_eq!(target(&doc, "alpha/eu-central-1")["usage"]["state"], "idle");
    assert_eq!(doc["summary"]["in_use"], 2);
    let findings = doc["findings"].as_array().unwrap();
    let critical: Vec<&str> = findings
        .iter()
        .take_while(|f| f["severity"] == "critical")
        .map(|f| f["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        critical,
        ["beta/eu-west-1", "alpha/ap-northeast-1"],
        "{}",
        json.stdout
    );
    assert!(
        findings
            .iter()
            .any(|f| f["target"] == "alpha/eu-central-1" && f["severity"] == "info")
    );

    // A longer window sees the older use.
    let long = fleet(&[
        "audit",
        "--all-regions",
        "--format",
        "json",
        "--usage-window",
        "30",
    ]);
    let doc: Value = serde_json::from_str(&long.stdout).unwrap();
    assert_eq!(
        target(&doc, "alpha/eu-central-1")["usage"]["state"],
        "in_use"
    );

    let human = fleet(&["audit", "--all-regions"]);
    assert_eq!(human.code, 2, "{}", human.stderr);
    assert!(
        human.stdout.starts_with("critical: missing (1)"),
        "the worst leads:\n{}",
        human.stdout
    );
    assert!(
        human.stdout.contains(&format!(
            "    ↳ last set by arn:aws:sts::{ALPHA}:assumed-role/{TEST_ROLE_NAME}/fleet-test at "
        )),
        "{}",
        human.stdout
    );
    let matrix = fleet(&["audit", "--all-regions", "--format", "matrix"]);
    let first_row = matrix.stdout.lines().nth(1).unwrap();
    // Both accounts have a critical cell; alpha has more findings.
    assert!(
        first_row.starts_with("alpha "),
        "critical rows first:\n{}",
        matrix.stdout
    );
    assert!(first_row.contains('●'), "{}", matrix.stdout);

    // The plan names who changed the target it would update.
    let plan = fleet(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "↳ changed outside fleet: last set by arn:aws:sts::{ALPHA}:assumed-role/{TEST_ROLE_NAME}/fleet-test"
        )),
        "{}",
        plan.stdout
    );
    let markdown = fleet(&["plan", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains("#### Changed outside fleet (1)"),
        "{}",
        markdown.stdout
    );
    let saved = fleet(&["plan", "--format", "json"]);
    let saved: Value = serde_json::from_str(&saved.stdout).unwrap();
    let changed = &target(&saved, "alpha/us-east-1")["changed_outside"];
    assert_eq!(
        changed["principal_arn"],
        format!("arn:aws:sts::{ALPHA}:assumed-role/{TEST_ROLE_NAME}/fleet-test"),
        "{saved}"
    );
    // beta/eu-west-1 is a create: not looked up.
    assert!(
        target(&saved, "beta/eu-west-1")
            .get("changed_outside")
            .is_none()
    );
    // A saved plan keeps it, and `report` shows it again.
    let out = dir.path().join("plan.json");
    assert_eq!(fleet(&["plan", "--out", out.to_str().unwrap()]).code, 0);
    let report = fleet(&["report", out.to_str().unwrap()]);
    assert!(
        report
            .stdout
            .contains("↳ changed outside fleet: last set by"),
        "{}",
        report.stdout
    );

    // After fleet puts it back, the newest write is fleet's: the plan is
    // clean and audit would say "fleet" if it looked.
    let apply = fleet(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let after = fleet(&["audit", "--format", "json"]);
    assert_eq!(after.code, 0, "{}", after.stdout);

    // The file changes (video logging on): the drift is the file's, and
    // the newest write there is fleet's own, said so.
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file().replacen(
            "video_data_delivery_enabled = false",
            "video_data_delivery_enabled = true",
            1,
        ),
    )
    .unwrap();
    let drift = fleet(&["audit", "--format", "json"]);
    assert_eq!(drift.code, 2, "{}", drift.stderr);
    let doc: Value = serde_json::from_str(&drift.stdout).unwrap();
    let who = &target(&doc, "alpha/us-east-1")["attribution"];
    assert_eq!(who["by_fleet"], true, "{who}");
    assert_eq!(
        who["principal_arn"],
        format!("arn:aws:sts::{ALPHA}:assumed-role/{TEST_ROLE_NAME}/fleet")
    );
    let human = fleet(&["audit"]);
    assert!(
        human.stdout.contains(&format!(
            "↳ last set by fleet (arn:aws:sts::{ALPHA}:assumed-role/{TEST_ROLE_NAME}/fleet)"
        )),
        "{}",
        human.stdout
    );
    // Nobody else changed it: the plan names nobody.
    let plan = fleet(&["plan"]);
    assert!(
        !plan.stdout.contains("changed outside fleet"),
        "{}",
        plan.stdout
    );
}

#[test]
fn an_idle_organisation_passes_and_denied_reads_cannot_tell() {
    // Every unmanaged region idle: informational, exit 0; --strict fails.
    let emulator = emulated::Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), fleet_file()).unwrap();
    let fleet = |endpoint: &str, args: &[&str]| support::run_fleet(endpoint, dir.path(), args);
    assert_eq!(
        fleet(&emulator.endpoint, &["apply", "--auto-approve"]).code,
        0
    );
    let idle = fleet(&emulator.endpoint, &["audit", "--all-regions"]);
    assert_eq!(idle.code, 0, "idle regions do not fail:\n{}", idle.stdout);
    assert!(
        idle.stdout
            .contains("Compliant, with idle unlogged regions (--strict fails on them)."),
        "{}",
        idle.stdout
    );
    assert!(
        idle.stdout.starts_with("info: unlogged ("),
        "{}",
        idle.stdout
    );
    let strict = fleet(&emulator.endpoint, &["audit", "--all-regions", "--strict"]);
    assert_eq!(strict.code, 2, "{}", strict.stdout);

    // Denied lookups and metric reads: cannot tell, never idle, never an
    // error of the audit.
    let denied =
        emulated::Emulator::start(&["--fault", "denied:1:*:lookup_events,get_metric_data"]);
    assert_eq!(
        fleet(&denied.endpoint, &["apply", "--auto-approve"]).code,
        0
    );
    delete_config_sync(&denied.endpoint, ALPHA, "eu-west-1");
    let run = fleet(
        &denied.endpoint,
        &["audit", "--all-regions", "--format", "json"],
    );
    assert_eq!(run.code, 2, "findings, not an error: {}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let missing = target(&doc, "alpha/eu-west-1");
    assert_eq!(missing["attribution"]["state"], "cannot_tell");
    assert_eq!(
        missing["attribution"]["error"]["code"],
        "AccessDeniedException"
    );
    assert_eq!(missing["usage"]["state"], "cannot_tell");
    let unlogged = target(&doc, "alpha/ap-northeast-1");
    assert_eq!(unlogged["usage"]["state"], "cannot_tell");
    assert_eq!(doc["summary"]["idle"], 0);
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == "alpha/ap-northeast-1")
        .unwrap();
    assert_eq!(finding["severity"], "finding");
    assert!(
        finding["detail"]
            .as_str()
            .unwrap()
            .contains("cannot tell whether Bedrock is used (AccessDeniedException"),
        "{finding}"
    );
}

fn delete_config_sync(endpoint: &str, account: &str, region: &str) {
    support::runtime().block_on(async {
        delete_config(&bedrock(endpoint, account, region).await).await;
    });
}
