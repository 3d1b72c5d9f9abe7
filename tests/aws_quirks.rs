//! Where real AWS differs from moto, through the binary against `fleet
//! emulator` taught the same behaviour (README, "How fleet treats AWS's
//! quirks"): a region that leaves flags out of Get, assumed-role sessions
//! that expire mid-run, opt-in regions an account has not enabled, and a
//! "Failed to validate permissions" that no amount of waiting fixes.

mod emulated;
mod support;

use std::time::{Duration, Instant};

use emulated::{Emulator, desired, fleet_file};
use serde_json::{Value, json};
use support::{Run, get_config, logging_config_from_json};

fn fleet(emulator: &Emulator, dir: &std::path::Path, args: &[&str]) -> Run {
    support::run_fleet(&emulator.endpoint, dir, args)
}

fn write_fleet(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    dir
}

async fn live(
    endpoint: &str,
    account: &str,
    region: &str,
) -> Option<aws_sdk_bedrock::types::LoggingConfig> {
    get_config(&support::bedrock(endpoint, account, region).await).await
}

const NOTE: &str = "note: ca-west-1 does not report video_data_delivery_enabled or audio_data_delivery_enabled; they are not compared there";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_a_region_leaves_out_of_get_are_never_compared_there() {
    let base = 411_000_000_000;
    let emulator = Emulator::start(&["--omit-flags", "ca-west-1:video,audio"]);
    emulator.enable_everywhere(&["ca-west-1"]);
    let dir = write_fleet(&fleet_file(base, 2, &["us-east-1", "ca-west-1"]));
    let west = format!("{}/ca-west-1", base + 1);

    let run = fleet(&emulator, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Apply: 4 applied, 0 failed"),
        "{}",
        run.stdout
    );
    // Put still sent all five flags: the emulator stored video and audio off.
    let sent = emulator.state()[&west].clone();
    assert_eq!(sent["videoDataDeliveryEnabled"], false, "{sent}");
    assert_eq!(sent["audioDataDeliveryEnabled"], false, "{sent}");
    // Through the SDK: ca-west-1 answers without the two flags, us-east-1 with.
    let read = live(&emulator.endpoint, &(base + 1).to_string(), "ca-west-1")
        .await
        .unwrap();
    assert_eq!(read.video_data_delivery_enabled(), None);
    assert_eq!(read.audio_data_delivery_enabled(), None);
    assert_eq!(read.text_data_delivery_enabled(), Some(true));
    let east = live(&emulator.endpoint, &(base + 1).to_string(), "us-east-1").await;
    assert_eq!(
        east,
        Some(logging_config_from_json(&desired(
            &(base + 1).to_string(),
            "us-east-1"
        )))
    );

    let plan = fleet(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    assert_eq!(plan.stderr.matches(NOTE).count(), 1, "{}", plan.stderr);

    let json_plan = fleet(&emulator, dir.path(), &["plan", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json_plan.stdout).unwrap();
    let target = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == west)
        .unwrap();
    assert_eq!(
        target["unreported_flags"],
        json!(["video_data_delivery_enabled", "audio_data_delivery_enabled"])
    );
    assert_eq!(target["before"]["video_data_delivery_enabled"], Value::Null);
    assert_eq!(target["after"]["video_data_delivery_enabled"], false);

    let markdown = fleet(&emulator, dir.path(), &["plan", "--format", "markdown"]);
    assert!(
        markdown.stdout.contains(
            "> **Note:** ca-west-1 does not report video_data_delivery_enabled or audio_data_delivery_enabled"
        ),
        "{}",
        markdown.stdout
    );

    for format in ["human", "json", "csv", "matrix"] {
        let audit = fleet(&emulator, dir.path(), &["audit", "--format", format]);
        assert_eq!(
            audit.code, 0,
            "{format}: {}\n{}",
            audit.stdout, audit.stderr
        );
        assert_eq!(audit.stderr.matches(NOTE).count(), 1, "{}", audit.stderr);
        if format == "json" {
            let doc: Value = serde_json::from_str(&audit.stdout).unwrap();
            assert_eq!(
                doc["not_compared"],
                json!([{ "region": "ca-west-1", "flags": ["video_data_delivery_enabled", "audio_data_delivery_enabled"] }])
            );
        }
        if format == "csv" {
            assert!(
                audit.stdout.contains("not-compared,,,,ca-west-1,,"),
                "{}",
                audit.stdout
            );
        }
    }
    let show = fleet(&emulator, dir.path(), &["show", "--format", "json"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    let doc: Value = serde_json::from_str(&show.stdout).unwrap();
    let shown = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == west)
        .unwrap();
    assert_eq!(
        shown["data_delivery_settings"]["video_data_delivery_enabled"],
        Value::Null
    );
    assert_eq!(shown["unreported_flags"].as_array().unwrap().len(), 2);
    let show = fleet(&emulator, dir.path(), &["show"]);
    assert_eq!(show.stderr.matches(NOTE).count(), 1, "{}", show.stderr);

    // A real drift there is still found, and only what really differs shows.
    let mut state = emulator.state();
    state[&west]["textDataDeliveryEnabled"] = json!(false);
    emulator.put_state(&state);
    let plan = fleet(&emulator, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("-text_data_delivery_enabled = false\n+text_data_delivery_enabled = true"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("video_data_delivery_enabled"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("1 to update"), "{}", plan.stdout);
    let audit = fleet(&emulator, dir.path(), &["audit"]);
    assert_eq!(audit.code, 2, "{}", audit.stdout);
    assert!(
        audit
            .stdout
            .contains("differs from profile `p` in text_data_delivery_enabled"),
        "{}",
        audit.stdout
    );
    // A saved plan made there is not stale because of what is not reported.
    let saved = fleet(&emulator, dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let apply = fleet(&emulator, dir.path(), &["apply", "plan.json"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("Apply: 1 applied"),
        "{}",
        apply.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_role_sessions_are_renewed_before_they_expire() {
    let base = 412_000_000_000;
    // Sessions of 3 s; 24 targets one at a time at 150 ms a call take about
    // 11 s to plan and apply: more than three lifetimes.
    let emulator = Emulator::start(&["--session-lifetime", "3", "--latency-ms", "150"]);
    let regions = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
    ];
    let dir = write_fleet(&fleet_file(base, 3, &regions));
    let started = Instant::now();
    let run = fleet(
        &emulator,
        dir.path(),
        &["apply", "--auto-approve", "--concurrency", "1"],
    );
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Apply: 24 applied, 0 failed"),
        "{}",
        run.stdout
    );
    assert!(
        took > Duration::from_secs(9),
        "the run outlasted three lifetimes: {took:?}"
    );
    let stats = emulator.stats();
    assert_eq!(stats["rejected"]["expired_token"], 0, "{stats}");
    let assumed = stats["requests"]["assume_role"].as_u64().unwrap();
    assert!(
        assumed >= 3 * 3,
        "each of 3 accounts renewed its session at least twice: {stats}"
    );
    for account in 1..=3 {
        let account = (base + account).to_string();
        for region in regions {
            assert_eq!(
                live(&emulator.endpoint, &account, region).await,
                Some(logging_config_from_json(&desired(&account, region))),
                "{account}/{region}"
            );
        }
    }
}

/// The commercial Bedrock regions an account has enabled from the start.
const ENABLED_BY_DEFAULT: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_an_account_has_not_enabled_are_not_enabled_not_errors() {
    let base = 413_000_000_000;
    let account = (base + 1).to_string();
    let emulator = Emulator::start(&[]);

    // A managed region that is not enabled fails alone, and says how to fix it.
    let dir = write_fleet(&fleet_file(base, 1, &["us-east-1", "me-south-1"]));
    let plan = fleet(&emulator, dir.path(), &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.stdout);
    assert!(
        plan.stdout.contains(&format!(
            "RegionNotEnabled: region me-south-1 is not enabled in account {account}"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("enable me-south-1 in the account"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(&format!("+ create {account}/us-east-1")),
        "{}",
        plan.stdout
    );
    let apply = fleet(&emulator, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{}", apply.stdout);
    assert_eq!(emulator.stats()["requests"]["put"], 1);
    assert!(
        live(&emulator.endpoint, &account, "us-east-1")
            .await
            .is_some()
    );

    // Every enabled region managed and logging: --all-regions is compliant,
    // with the opt-in regions counted as not enabled.
    let dir = write_fleet(&fleet_file(base, 1, &ENABLED_BY_DEFAULT));
    let apply = fleet(&emulator, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let opt_in_bedrock_regions = 15;
    let audit = fleet(
        &emulator,
        dir.path(),
        &["audit", "--all-regions", "--format", "json"],
    );
    assert_eq!(audit.code, 0, "{}\n{}", audit.stdout, audit.stderr);
    let doc: Value = serde_json::from_str(&audit.stdout).unwrap();
    assert_eq!(doc["verdict"], "compliant");
    assert_eq!(doc["summary"]["compliant"], 17);
    assert_eq!(doc["summary"]["error"], 0);
    assert_eq!(doc["summary"]["not_enabled"], opt_in_bedrock_regions);
    let me_south = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["region"] == "me-south-1")
        .unwrap();
    assert_eq!(me_south["status"], "not_enabled");

    let matrix = fleet(
        &emulator,
        dir.path(),
        &["audit", "--all-regions", "--format", "matrix"],
    );
    assert_eq!(matrix.code, 0, "{}", matrix.stdout);
    assert!(
        matrix
            .stdout
            .contains(&format!("- not enabled {opt_in_bedrock_regions}")),
        "{}",
        matrix.stdout
    );
    let csv = fleet(
        &emulator,
        dir.path(),
        &["audit", "--all-regions", "--format", "csv"],
    );
    assert_eq!(
        csv.stdout
            .lines()
            .filter(|l| l.starts_with("not-enabled,"))
            .count(),
        opt_in_bedrock_regions
    );
    let markdown = fleet(
        &emulator,
        dir.path(),
        &["audit", "--all-regions", "--format", "markdown"],
    );
    assert!(
        markdown
            .stdout
            .contains(&format!("| 3 | {opt_in_bedrock_regions} |"))
            || markdown
                .stdout
                .contains(&format!("| 0 | {opt_in_bedrock_regions} |")),
        "{}",
        markdown.stdout
    );
    let human = fleet(&emulator, dir.path(), &["audit", "--all-regions"]);
    assert_eq!(human.code, 0, "{}", human.stdout);
    assert!(
        human.stdout.contains(&format!(
            "Not enabled in the account (not findings): {opt_in_bedrock_regions}."
        )),
        "{}",
        human.stdout
    );

    // Enabled tomorrow, the region is unlogged like any other: idle (no
    // model invocations), informational; once models are invoked there,
    // critical.
    emulator.put_regions(&json!({ account.clone(): { "me-south-1": "ENABLED" } }));
    let audit = fleet(
        &emulator,
        dir.path(),
        &["audit", "--all-regions", "--format", "json"],
    );
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let doc: Value = serde_json::from_str(&audit.stdout).unwrap();
    assert_eq!(doc["summary"]["unlogged"], 1);
    assert_eq!(doc["summary"]["idle"], 1);
    assert_eq!(doc["summary"]["not_enabled"], opt_in_bedrock_regions - 1);
    emulator.put_metrics(&json!([{
        "account_id": account, "region": "me-south-1",
        "model_id": "amazon.nova-micro-v1:0", "invocations": 3
    }]));
    let audit = fleet(
        &emulator,
        dir.path(),
        &["audit", "--all-regions", "--format", "json"],
    );
    assert_eq!(audit.code, 2, "{}", audit.stderr);
    let doc: Value = serde_json::from_str(&audit.stdout).unwrap();
    assert_eq!(doc["summary"]["in_use"], 1);
    assert_eq!(doc["findings"][0]["severity"], "critical");
}

/// The caller's own account, in moto and in the emulator alike.
const CALLER: &str = support::CALLER_ACCOUNT;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_preflight_found_broken_fails_at_once_a_lagging_one_is_waited_for() {
    // Bedrock and STS from the emulator (IAM lag on every Put of us-west-2,
    // on half of those of us-east-1); S3 from moto, where us-east-1's bucket
    // is set up as `fleet policy` says and us-west-2's does not exist.
    let emulator = Emulator::start(&[
        "--fault",
        "iam_lag:0.5:*/us-east-1",
        "--fault",
        "iam_lag:1:*/us-west-2",
        "--seed",
        "5",
    ]);
    let moto = support::moto();
    let text = format!(
        "[fleet]\nregions = [\"us-east-1\", \"us-west-2\"]\n\n[profiles.p.s3_config]\nbucket_name = \"lag-{{account_id}}-{{region}}\"\nkey_prefix = \"bedrock\"\n\n[[accounts]]\nid = \"{CALLER}\"\nname = \"own\"\nprofile = \"p\"\n"
    );
    let dir = write_fleet(&text);
    let policy = fleet(
        &emulator,
        dir.path(),
        &["policy", "--account", CALLER, "--region", "us-east-1"],
    );
    assert_eq!(policy.code, 0, "{}", policy.stderr);
    let bucket_policy = policy
        .stdout
        .split("\n## ")
        .find(|s| s.starts_with("S3 bucket policy"))
        .and_then(|s| s.split_once('\n'))
        .map(|(_, body)| body.split("\n# ").next().unwrap().trim().to_owned())
        .expect("a bucket policy section");

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .endpoint_url(moto.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("lag-{CALLER}-us-east-1");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(&bucket_policy)
        .send()
        .await
        .unwrap();
    s3.put_bucket_ownership_controls()
        .bucket(&bucket)
        .ownership_controls(
            aws_sdk_s3::types::OwnershipControls::builder()
                .rules(
                    aws_sdk_s3::types::OwnershipControlsRule::builder()
                        .object_ownership(aws_sdk_s3::types::ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let started = Instant::now();
    let output = support::fleet_cmd(&emulator.endpoint)
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint())
        .env("AWS_ENDPOINT_URL_IAM", moto.endpoint())
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", moto.endpoint())
        .args(["apply", "--auto-approve", "--permission-retry", "120"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply: 1 applied, 1 failed"), "{stdout}");
    assert!(
        stdout.contains("preflight found: s3://lag-123456789012-us-west-2"),
        "{stdout}"
    );
    assert!(stdout.contains("the bucket does not exist"), "{stdout}");
    // Without the preflight finding, the broken target would wait out the
    // whole 120 s window.
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(emulator.faults("iam_lag") >= 2, "{}", emulator.stats());
    assert_eq!(
        live(&emulator.endpoint, CALLER, "us-east-1").await,
        Some(logging_config_from_json(&json!({
            "text_data_delivery_enabled": true,
            "image_data_delivery_enabled": true,
            "embedding_data_delivery_enabled": true,
            "video_data_delivery_enabled": true,
            "audio_data_delivery_enabled": true,
            "s3_config": { "bucket_name": bucket, "key_prefix": "bedrock" }
        })))
    );
    assert_eq!(live(&emulator.endpoint, CALLER, "us-west-2").await, None);
}
