//! A reviewed plan is applied exactly, or not at all: the stale-plan check
//! against moto, with the live state verified through the SDK.

mod scenario;
mod support;

use serde_json::json;
use support::{CALLER_ACCOUNT, bedrock, get_config, logging_config_from_json, put_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_stale_behind_its_back_writes_nothing() {
    let endpoint = support::moto().endpoint();
    let (alpha, beta) = (support::fresh_account(), support::fresh_account());
    // The caller account is shared by the tests of this process; this file
    // has one test, and the scenario's other accounts are fresh.
    scenario::seed(&endpoint, &alpha, &beta).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        scenario::fleet_file(&alpha, &beta),
    )
    .unwrap();
    let fleet = |args: &[&str]| support::run_fleet(&endpoint, dir.path(), args).parts();

    let (code, _, stderr) = fleet(&["plan", "--out", "plan.json"]);
    assert_eq!(code, 0, "{stderr}");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    assert_eq!(saved["format_version"], 2);
    assert_eq!(
        saved["summary"],
        json!({"create": 4, "update": 1, "delete": 1, "unchanged": 3, "failed": 0, "weakening": 2})
    );
    assert_eq!(saved["targets"].as_array().unwrap().len(), 9);
    assert_eq!(saved["fleet_sha256"].as_str().unwrap().len(), 64);

    // Someone changes beta/us-east-1 (planned as no-op) by hand.
    let mut changed = scenario::text(&beta, "us-east-1");
    changed["image_data_delivery_enabled"] = json!(true);
    put_config(&bedrock(&endpoint, &beta, "us-east-1").await, &changed).await;

    let (code, stdout, stderr) = fleet(&["apply", "plan.json"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "The plan is stale: 1 target changed since the plan was made; nothing was applied."
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("--- planned against: beta/us-east-1\n+++ live now: beta/us-east-1"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("-image_data_delivery_enabled = false\n+image_data_delivery_enabled = true"),
        "{stdout}"
    );

    // Nothing was written: the planned creates, update and delete did not happen.
    for region in scenario::REGIONS {
        assert_eq!(
            get_config(&bedrock(&endpoint, &alpha, region).await).await,
            None,
            "alpha/{region}"
        );
    }
    let home = get_config(&bedrock(&endpoint, CALLER_ACCOUNT, "us-east-1").await)
        .await
        .unwrap();
    assert_eq!(
        home.video_data_delivery_enabled(),
        Some(true),
        "the drifted target is still drifted"
    );
    assert!(
        get_config(&bedrock(&endpoint, &beta, "eu-west-1").await)
            .await
            .is_some()
    );

    // A fresh plan, reviewed and applied, converges.
    let (code, _, stderr) = fleet(&["plan", "--out", "plan.json"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = fleet(&["apply", "plan.json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Apply: 7 applied, 0 failed, 0 not attempted."),
        "{stdout}"
    );
    assert_eq!(
        get_config(&bedrock(&endpoint, &beta, "us-east-1").await).await,
        Some(logging_config_from_json(&scenario::text(
            &beta,
            "us-east-1"
        )))
    );
    let (code, stdout, _) = fleet(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}");
}
