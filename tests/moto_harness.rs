//! The test harness itself, exercised for real against moto: if these fail,
//! every end-to-end test built on `tests/support` is suspect.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig, S3Config};
use serde_json::json;
use support::*;

fn s3_only(bucket: &str) -> LoggingConfig {
    LoggingConfig::builder()
        .s3_config(S3Config::builder().bucket_name(bucket).build().unwrap())
        .text_data_delivery_enabled(true)
        .image_data_delivery_enabled(true)
        .embedding_data_delivery_enabled(true)
        .video_data_delivery_enabled(false)
        .audio_data_delivery_enabled(false)
        .build()
}

#[tokio::test]
async fn fresh_accounts_in_two_regions_are_isolated() {
    let endpoint = moto().endpoint();
    let (a, b) = (fresh_account(), fresh_account());
    let a_east = bedrock(&endpoint, &a, "us-east-1").await;
    let a_eu = bedrock(&endpoint, &a, "eu-central-1").await;
    let b_east = bedrock(&endpoint, &b, "us-east-1").await;
    let b_eu = bedrock(&endpoint, &b, "eu-central-1").await;

    put_config(&a_east, s3_only("a-east")).await;
    assert_eq!(get_config(&a_east).await, Some(s3_only("a-east")));
    assert_eq!(get_config(&a_eu).await, None, "leaked into another region");
    assert_eq!(
        get_config(&b_east).await,
        None,
        "leaked into another account"
    );
    assert_eq!(get_config(&b_eu).await, None);

    put_config(&b_eu, s3_only("b-eu")).await;
    assert_eq!(get_config(&b_eu).await, Some(s3_only("b-eu")));
    assert_eq!(get_config(&a_east).await, Some(s3_only("a-east")));
    assert_eq!(get_config(&a_eu).await, None);
    assert_eq!(get_config(&b_east).await, None);

    // The caller account (static keys, no AssumeRole) is isolated too.
    let caller = bedrock(&endpoint, CALLER_ACCOUNT, "eu-central-1").await;
    assert_ne!(get_config(&caller).await, Some(s3_only("b-eu")));
}

#[tokio::test]
async fn get_is_none_when_nothing_is_set_and_after_delete() {
    let endpoint = moto().endpoint();
    let client = bedrock(&endpoint, &fresh_account(), "us-west-2").await;

    // moto answers `{"loggingConfig": {}}` here; the SDK sees an empty struct.
    let raw = client
        .get_model_invocation_logging_configuration()
        .send()
        .await
        .unwrap();
    assert_eq!(raw.logging_config, Some(LoggingConfig::builder().build()));
    assert_eq!(get_config(&client).await, None);

    delete_config(&client).await; // nothing set: still fine
    assert_eq!(get_config(&client).await, None);

    put_config(&client, s3_only("bucket")).await;
    assert!(get_config(&client).await.is_some());
    delete_config(&client).await;
    assert_eq!(get_config(&client).await, None);
}

#[tokio::test]
async fn put_then_get_round_trips_every_field() {
    let endpoint = moto().endpoint();
    let account = fresh_account();
    let client = bedrock(&endpoint, &account, "us-east-1").await;
    let full = LoggingConfig::builder()
        .s3_config(
            S3Config::builder()
                .bucket_name(format!("logs-{account}"))
                .key_prefix("bedrock")
                .build()
                .unwrap(),
        )
        .cloud_watch_config(
            CloudWatchConfig::builder()
                .log_group_name("/aws/bedrock/model-invocations")
                .role_arn(format!("arn:aws:iam::{account}:role/bedrock-logging"))
                .large_data_delivery_s3_config(
                    S3Config::builder()
                        .bucket_name(format!("large-{account}"))
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .text_data_delivery_enabled(true)
        .image_data_delivery_enabled(false)
        .embedding_data_delivery_enabled(true)
        .video_data_delivery_enabled(false)
        .audio_data_delivery_enabled(true)
        .build();

    put_config(&client, full.clone()).await;
    assert_eq!(get_config(&client).await, Some(full.clone()));

    // Put replaces the whole configuration; the seed stores the flags it
    // leaves out as AWS does (true).
    put_config(
        &client,
        LoggingConfig::builder().text_data_delivery_enabled(false),
    )
    .await;
    assert_eq!(
        get_config(&client).await,
        Some(
            LoggingConfig::builder()
                .text_data_delivery_enabled(false)
                .image_data_delivery_enabled(true)
                .embedding_data_delivery_enabled(true)
                .video_data_delivery_enabled(true)
                .audio_data_delivery_enabled(true)
                .build()
        )
    );

    // JSON with the API's names gives the same config as the builder.
    let json = json!({
        "s3Config": {"bucketName": format!("logs-{account}"), "keyPrefix": "bedrock"},
        "cloudWatchConfig": {
            "logGroupName": "/aws/bedrock/model-invocations",
            "roleArn": format!("arn:aws:iam::{account}:role/bedrock-logging"),
            "largeDataDeliveryS3Config": {"bucketName": format!("large-{account}")}
        },
        "textDataDeliveryEnabled": true,
        "imageDataDeliveryEnabled": false,
        "embeddingDataDeliveryEnabled": true,
        "videoDataDeliveryEnabled": false,
        "audioDataDeliveryEnabled": true
    });
    put_config(&client, &json).await;
    assert_eq!(get_config(&client).await, Some(full));
}

#[test]
fn json_accepts_the_fleet_file_names_too() {
    let api = logging_config_from_json(&json!({
        "cloudWatchConfig": {"logGroupName": "g", "roleArn": "arn:aws:iam::111111111111:role/r",
                             "largeDataDeliveryS3Config": {"bucketName": "l", "keyPrefix": "p"}},
        "videoDataDeliveryEnabled": false
    }));
    let fleet = logging_config_from_json(&json!({
        "cloudwatch_config": {"log_group_name": "g", "role_arn": "arn:aws:iam::111111111111:role/r",
                              "large_data_delivery_s3_config": {"bucket_name": "l", "key_prefix": "p"}},
        "video_data_delivery_enabled": false
    }));
    assert_eq!(api, fleet);
    assert_eq!(api.video_data_delivery_enabled, Some(false));
    assert_eq!(api.text_data_delivery_enabled, None);
    assert_eq!(
        api.cloud_watch_config
            .unwrap()
            .large_data_delivery_s3_config
            .unwrap()
            .key_prefix
            .as_deref(),
        Some("p")
    );
}

#[test]
#[should_panic(expected = "unknown loggingConfig key \"textDataDelivery\"")]
fn json_with_a_typo_panics() {
    logging_config_from_json(&json!({"textDataDelivery": true}));
}

#[tokio::test]
async fn credentials_act_as_the_requested_account() {
    let endpoint = moto().endpoint();
    let account = fresh_account();
    let identity = sts(&endpoint, &account, "us-east-1")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(identity.account(), Some(account.as_str()));
    assert!(
        identity.arn().unwrap_or_default().contains(TEST_ROLE_NAME),
        "{identity:?}"
    );

    let caller = sts(&endpoint, CALLER_ACCOUNT, "us-east-1")
        .await
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(caller.account(), Some(CALLER_ACCOUNT));
}

#[test]
fn fresh_accounts_are_distinct_12_digit_ids() {
    let ids: Vec<String> = (0..1000).map(|_| fresh_account()).collect();
    for id in &ids {
        assert_eq!(id.len(), 12, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
        assert_ne!(id, CALLER_ACCOUNT);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
}

#[test]
fn one_server_is_shared_by_every_test_of_the_process() {
    let endpoints: Vec<(String, u32, usize)> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                let server = moto();
                (
                    server.endpoint(),
                    server.pid(),
                    server as *const Moto as usize,
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    let first = &endpoints[0];
    assert!(endpoints.iter().all(|e| e == first), "{endpoints:?}");
    assert_eq!(first.0, format!("http://127.0.0.1:{}", moto().port()));
    assert_eq!(servers_started(), 1);
}

/// Run by `moto_dies_with_the_test_process` as a child process: starts moto
/// and reports its pid and endpoint, then exits like any test binary.
#[test]
fn child_process_starting_moto() {
    if std::env::var_os("FLEET_HARNESS_CHILD").is_none() {
        return;
    }
    let server = moto();
    println!("MOTO {} {}", server.pid(), server.port());
}

#[test]
fn moto_dies_with_the_test_process() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_starting_moto", "--nocapture"])
        .env("FLEET_HARNESS_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("MOTO "))
        .unwrap_or_else(|| panic!("child printed no MOTO line:\n{stdout}"));
    let (pid, port) = line.split_once(' ').unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port.parse::<u16>().unwrap()));

    let deadline = Instant::now() + Duration::from_secs(15);
    while process_alive(pid) || TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "moto (pid {pid}, {addr}) outlived its test process"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Alive and not a zombie waiting for a reaper.
fn process_alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn fleet_runs_sandboxed_from_the_developers_aws_setup() {
    let mut cmd = Command::new("env");
    cmd.env("AWS_PROFILE", "prod-admin")
        .env("AWS_SESSION_TOKEN", "real-token")
        .env("AWS_ENDPOINT_URL_BEDROCK", "https://bedrock.example")
        .env("CLICOLOR_FORCE", "1");
    sandbox_env(&mut cmd, "http://127.0.0.1:9");
    let output = cmd.output().unwrap();
    let env = String::from_utf8(output.stdout).unwrap();
    let vars: Vec<(&str, &str)> = env.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |key: &str| vars.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);

    for removed in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_BEDROCK",
        "CLICOLOR_FORCE",
    ] {
        assert_eq!(get(removed), None, "{removed} leaked into:\n{env}");
    }
    assert_eq!(get("AWS_ENDPOINT_URL"), Some("http://127.0.0.1:9"));
    assert_eq!(get("AWS_ACCESS_KEY_ID"), Some("testing"));
    assert_eq!(get("AWS_SECRET_ACCESS_KEY"), Some("testing"));
    assert_eq!(get("AWS_REGION"), Some("us-east-1"));
    assert_eq!(get("CI"), Some("true"));
    assert_eq!(get("NO_COLOR"), Some("1"));
    for file in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        let path = get(file).unwrap_or_else(|| panic!("{file} unset"));
        assert!(!std::path::Path::new(path).exists(), "{file}={path} exists");
    }
    // Nothing else from the AWS_ namespace survives.
    let allowed: Vec<String> = base_env("").into_iter().map(|(k, _)| k).collect();
    for (key, _) in &vars {
        assert!(
            !key.starts_with("AWS_") || allowed.iter().any(|a| a == key),
            "{key} leaked"
        );
    }
    // fleet_cmd is the same sandbox around the built binary.
    let _ = fleet_cmd("http://127.0.0.1:9");
}
