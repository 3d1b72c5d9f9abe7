//! The end-to-end scenario of the core issue, run against moto and against
//! `fleet emulator`: three accounts (the caller's and two assumed) × three
//! regions with every kind of drift, plan → apply → plan through the real
//! binary, and the live state checked through the SDK.

#![allow(dead_code)]

use serde_json::{Value, json};

use crate::support::{
    self, CALLER_ACCOUNT, TEST_ROLE_NAME, bedrock, get_config, logging_config_from_json, put_config,
};

pub const REGIONS: [&str; 3] = ["us-east-1", "us-west-2", "eu-west-1"];
pub const UNMANAGED: &str = "ap-southeast-2";

pub fn fleet_file(alpha: &str, beta: &str) -> String {
    format!(
        r#"[fleet]
regions = ["us-east-1", "us-west-2", "eu-west-1"]

[profiles.standard]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.standard.s3_config]
bucket_name = "logs-{{account_id}}-{{region}}"
key_prefix = "bedrock"

[profiles.standard.cloudwatch_config]
log_group_name = "/aws/bedrock/{{account_name}}"
role_arn = "arn:{{partition}}:iam::{{account_id}}:role/bedrock-logging"

[profiles.standard.cloudwatch_config.large_data_delivery_s3_config]
bucket_name = "large-{{account_id}}-{{region}}"

[profiles.text]
image_data_delivery_enabled = false
embedding_data_delivery_enabled = false
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.text.s3_config]
bucket_name = "text-{{account_id}}-{{region}}"

[profiles.off]
enabled = false

[[accounts]]
id = "{CALLER_ACCOUNT}"
name = "home"
profile = "standard"

[[accounts]]
id = "{alpha}"
name = "alpha"
profile = "standard"
role_arn = "arn:aws:iam::{alpha}:role/{TEST_ROLE_NAME}"

[[accounts]]
id = "{beta}"
name = "beta"
profile = "text"
role_arn = "arn:aws:iam::{beta}:role/{TEST_ROLE_NAME}"
region_profiles = {{ "eu-west-1" = "off" }}
"#
    )
}

/// What the `standard` profile expands to, every flag explicit.
pub fn standard(account: &str, name: &str, region: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true,
        "image_data_delivery_enabled": true,
        "embedding_data_delivery_enabled": true,
        "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("logs-{account}-{region}"), "key_prefix": "bedrock" },
        "cloudwatch_config": {
            "log_group_name": format!("/aws/bedrock/{name}"),
            "role_arn": format!("arn:aws:iam::{account}:role/bedrock-logging"),
            "large_data_delivery_s3_config": { "bucket_name": format!("large-{account}-{region}") }
        }
    })
}

pub fn text(account: &str, region: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true,
        "image_data_delivery_enabled": false,
        "embedding_data_delivery_enabled": false,
        "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("text-{account}-{region}") }
    })
}

/// Seeds: home/us-east-1 drifted, home/eu-west-1 and beta/us-east-1 match,
/// beta/us-west-2 matches except for an empty key prefix (equal for AWS),
/// beta/eu-west-1 logs but must not, alpha has nothing, and alpha's
/// unmanaged region logs somewhere else.
pub async fn seed(endpoint: &str, alpha: &str, beta: &str) {
    let home = CALLER_ACCOUNT;
    let mut drifted = standard(home, "home", "us-east-1");
    drifted["video_data_delivery_enabled"] = json!(true);
    drifted["s3_config"]["key_prefix"] = json!("hand-edited");
    put_config(&bedrock(endpoint, home, "us-east-1").await, &drifted).await;
    put_config(
        &bedrock(endpoint, home, "eu-west-1").await,
        &standard(home, "home", "eu-west-1"),
    )
    .await;
    put_config(
        &bedrock(endpoint, beta, "us-east-1").await,
        &text(beta, "us-east-1"),
    )
    .await;
    let mut empty_prefix = text(beta, "us-west-2");
    empty_prefix["s3_config"]["key_prefix"] = json!("");
    put_config(&bedrock(endpoint, beta, "us-west-2").await, &empty_prefix).await;
    put_config(
        &bedrock(endpoint, beta, "eu-west-1").await,
        &text(beta, "eu-west-1"),
    )
    .await;
    put_config(
        &bedrock(endpoint, alpha, UNMANAGED).await,
        &unmanaged(alpha),
    )
    .await;
}

pub fn unmanaged(alpha: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true,
        "image_data_delivery_enabled": true,
        "embedding_data_delivery_enabled": true,
        "video_data_delivery_enabled": true,
        "audio_data_delivery_enabled": true,
        "s3_config": { "bucket_name": format!("elsewhere-{alpha}") }
    })
}

/// Runs the whole scenario against `endpoint`.
pub async fn run(endpoint: &str, alpha: &str, beta: &str) {
    seed(endpoint, alpha, beta).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), fleet_file(alpha, beta)).unwrap();
    let fleet = |args: &[&str]| support::run_fleet(endpoint, dir.path(), args).parts();

    let (code, plan, stderr) = fleet(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "plan with changes exits 2\n{plan}\n{stderr}");
    // The four creates are one change: its diff once, then its targets.
    for expected in [
        "~ update home/us-east-1 (profile standard)",
        "-video_data_delivery_enabled = true\n+video_data_delivery_enabled = false",
        "-key_prefix = \"hand-edited\"\n+key_prefix = \"bedrock\"",
        "+ create 4 targets (profile standard)\n",
        "+bucket_name = \"logs-{account_id}-{region}\"\n",
        "  applies to 4 targets:\n    home × us-west-2\n    alpha × us-east-1, us-west-2, eu-west-1\n",
        "- delete beta/eu-west-1 (profile off)",
        "Plan: 4 to create, 1 to update, 1 to delete, 3 unchanged, 0 failed.",
    ] {
        assert!(
            plan.contains(expected),
            "expected {expected:?} in the plan:\n{plan}"
        );
    }
    assert_eq!(plan.matches("+++ desired").count(), 3, "{plan}");
    let (code, each, stderr) = fleet(&["plan", "--detailed-exitcode", "--each-diff"]);
    assert_eq!(code, 2, "{each}\n{stderr}");
    for expected in [
        "~ update home/us-east-1 (profile standard)",
        "+ create home/us-west-2 (profile standard)",
        "+ create alpha/us-east-1 (profile standard)",
        "+ create alpha/us-west-2 (profile standard)",
        "+ create alpha/eu-west-1 (profile standard)",
        "- delete beta/eu-west-1 (profile off)",
        "Plan: 4 to create, 1 to update, 1 to delete, 3 unchanged, 0 failed.",
    ] {
        assert!(
            each.contains(expected),
            "expected {expected:?} in the plan with --each-diff:\n{each}"
        );
    }
    assert_eq!(each.matches("+++ desired").count(), 6, "{each}");
    for unchanged in [
        "home/eu-west-1",
        "beta/us-east-1",
        "beta/us-west-2",
        UNMANAGED,
    ] {
        assert!(
            !plan.contains(unchanged),
            "{unchanged} must not appear in the plan:\n{plan}"
        );
    }
    assert!(
        !plan.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );

    let (code, applied, stderr) = fleet(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "apply\n{applied}\n{stderr}");
    assert!(
        applied.contains("Apply: 6 applied, 0 failed, 0 not attempted."),
        "{applied}"
    );

    // The live state, read through the SDK, equals the profiles.
    let home = CALLER_ACCOUNT;
    for region in REGIONS {
        let expect = |v: Value| Some(logging_config_from_json(&v));
        assert_eq!(
            get_config(&bedrock(endpoint, home, region).await).await,
            expect(standard(home, "home", region)),
            "home/{region}"
        );
        assert_eq!(
            get_config(&bedrock(endpoint, alpha, region).await).await,
            expect(standard(alpha, "alpha", region)),
            "alpha/{region}"
        );
    }
    assert_eq!(
        get_config(&bedrock(endpoint, beta, "us-east-1").await).await,
        Some(logging_config_from_json(&text(beta, "us-east-1")))
    );
    let kept = get_config(&bedrock(endpoint, beta, "us-west-2").await)
        .await
        .unwrap();
    assert_eq!(
        kept.s3_config().and_then(|s3| s3.key_prefix()),
        Some(""),
        "a target that was equal for AWS is not rewritten"
    );
    assert_eq!(
        get_config(&bedrock(endpoint, beta, "eu-west-1").await).await,
        None
    );
    assert_eq!(
        get_config(&bedrock(endpoint, alpha, UNMANAGED).await).await,
        Some(logging_config_from_json(&unmanaged(alpha))),
        "an unmanaged region is never touched"
    );

    let (code, again, stderr) = fleet(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{again}\n{stderr}");
    assert!(again.contains("No changes."), "{again}");
    assert!(
        again.contains("0 to create, 0 to update, 0 to delete, 9 unchanged, 0 failed"),
        "{again}"
    );
}
