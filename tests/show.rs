//! `fleet show` through the real binary: live values under the Terraform
//! module's output names, exact JSON, against moto and (for a denied region)
//! `fleet emulator`.

mod emulated;
mod support;

use serde_json::{Value, json};
use support::{TEST_ROLE_NAME, bedrock, put_config};

fn fleet_file(accounts: &[(&str, Option<&str>)]) -> String {
    let mut text = format!(
        r#"[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "{TEST_ROLE_NAME}"

[profiles.p]
[profiles.p.s3_config]
bucket_name = "logs-{{account_id}}-{{region}}"
"#
    );
    for (id, name) in accounts {
        text.push_str(&format!("\n[[accounts]]\nid = \"{id}\"\nprofile = \"p\"\n"));
        if let Some(name) = name {
            text.push_str(&format!("name = \"{name}\"\n"));
        }
    }
    text
}

fn show(endpoint: &str, text: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let output = support::fleet_cmd(endpoint)
        .current_dir(dir.path())
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_prints_the_module_outputs_of_each_target() {
    let endpoint = support::moto().endpoint();
    let account = support::fresh_account();
    // Flags left out are on, as in AWS; audio included.
    put_config(
        &bedrock(&endpoint, &account, "us-east-1").await,
        json!({
            "textDataDeliveryEnabled": true,
            "imageDataDeliveryEnabled": false,
            "embeddingDataDeliveryEnabled": false,
            "videoDataDeliveryEnabled": false,
            "s3Config": { "bucketName": format!("logs-{account}"), "keyPrefix": "bedrock" },
            "cloudWatchConfig": {
                "logGroupName": "/aws/bedrock/prod",
                "roleArn": format!("arn:aws:iam::{account}:role/logs"),
                "largeDataDeliveryS3Config": { "bucketName": format!("large-{account}") }
            }
        }),
    )
    .await;
    let text = fleet_file(&[(&account, Some("prod"))]);
    let (code, stdout, stderr) = show(&endpoint, &text, &["show", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        shown,
        json!({
            "format_version": 2,
            "targets": [
                {
                    "target": "prod/us-east-1",
                    "account_id": account,
                    "account_name": "prod",
                    "id": "us-east-1",
                    "logging_config": {
                        "text_data_delivery_enabled": true,
                        "image_data_delivery_enabled": false,
                        "embedding_data_delivery_enabled": false,
                        "video_data_delivery_enabled": false,
                        "audio_data_delivery_enabled": true,
                        "s3_config": { "bucket_name": format!("logs-{account}"), "key_prefix": "bedrock" },
                        "cloudwatch_config": {
                            "log_group_name": "/aws/bedrock/prod",
                            "role_arn": format!("arn:aws:iam::{account}:role/logs"),
                            "large_data_delivery_s3_config": { "bucket_name": format!("large-{account}") }
                        }
                    },
                    "s3_bucket_name": format!("logs-{account}"),
                    "s3_key_prefix": "bedrock",
                    "cloudwatch_log_group_name": "/aws/bedrock/prod",
                    "cloudwatch_role_arn": format!("arn:aws:iam::{account}:role/logs"),
                    "large_data_s3_bucket_name": format!("large-{account}"),
                    "data_delivery_settings": {
                        "text_data_delivery_enabled": true,
                        "image_data_delivery_enabled": false,
                        "embedding_data_delivery_enabled": false,
                        "video_data_delivery_enabled": false,
                        "audio_data_delivery_enabled": true
                    },
                    "unreported_flags": [],
                    "error": null
                },
                {
                    "target": "prod/eu-west-1",
                    "account_id": account,
                    "account_name": "prod",
                    "id": "eu-west-1",
                    "logging_config": null,
                    "s3_bucket_name": null,
                    "s3_key_prefix": null,
                    "cloudwatch_log_group_name": null,
                    "cloudwatch_role_arn": null,
                    "large_data_s3_bucket_name": null,
                    "data_delivery_settings": null,
                    "unreported_flags": [],
                    "error": null
                }
            ]
        })
    );

    let (code, human, _) = show(&endpoint, &text, &["show", "--target", "prod/us-east-1"]);
    assert_eq!(code, 0);
    assert!(
        human.starts_with(&format!(
            "prod/us-east-1 (account {account})\n  id                        = \"us-east-1\"\n  s3_bucket_name            = \"logs-{account}\"\n"
        )),
        "{human}"
    );
    assert!(!human.contains("eu-west-1"), "{human}");
}

#[test]
fn an_unreadable_target_is_an_error_object_and_exit_1() {
    let (alpha, beta) = ("430000000001", "430000000002");
    let emulator = emulated::Emulator::start(&["--fault", &format!("denied:1:{beta}/eu-west-1")]);
    let text = fleet_file(&[(alpha, None), (beta, Some("beta"))]);
    let (code, stdout, stderr) = show(
        &emulator.endpoint,
        &text,
        &[
            "show",
            "--format",
            "json",
            "--target",
            "beta",
            "--target",
            "*/us-east-1",
        ],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    let targets = shown["targets"].as_array().unwrap();
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            format!("{alpha}/us-east-1").as_str(),
            "beta/us-east-1",
            "beta/eu-west-1"
        ]
    );
    assert_eq!(targets[0]["account_name"], Value::Null);
    assert_eq!(targets[0]["logging_config"], Value::Null);
    let denied = &targets[2];
    assert_eq!(denied["error"]["code"], "AccessDeniedException");
    assert_eq!(denied["logging_config"], Value::Null);
    assert_eq!(denied["id"], "eu-west-1");
    let (code, human, _) = show(&emulator.endpoint, &text, &["show", "--target", "beta"]);
    assert_eq!(code, 1);
    assert!(
        human.contains(
            "! beta/eu-west-1 (account 430000000002): cannot be read: AccessDeniedException:"
        ),
        "{human}"
    );
}
