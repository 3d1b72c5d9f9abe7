//! Managed destinations on the emulator, whose Bedrock checks a Put's
//! destinations and whose S3 treats bucket names as global, as AWS does: the
//! pipeline from nothing to logging in one apply, and a bucket name another
//! account holds failing only its target.

mod emulated;
mod support;

use emulated::Emulator;
use support::{get_config, logging_config_from_json};

fn s3(endpoint: &str, credentials: aws_credential_types::Credentials) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .force_path_style(true)
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_bucket_name_fails_only_its_target_and_the_rest_logs() {
    let emulator = Emulator::start(&["--validate-destinations"]);
    let (alpha, beta, gamma) = ("417000000001", "417000000002", "417000000003");
    // Another account already holds the name beta's profile asks for.
    let other = support::credentials(&emulator.endpoint, gamma, "us-east-1").await;
    s3(&emulator.endpoint, other)
        .create_bucket()
        .bucket(format!("taken-{beta}-us-east-1"))
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        format!(
            "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"fleet-test\"\n\n[profiles.p.s3_config]\nbucket_name = \"taken-{{account_id}}-{{region}}\"\nbucket = {{}}\n\n[[accounts]]\nid = \"{alpha}\"\nprofile = \"p\"\n\n[[accounts]]\nid = \"{beta}\"\nprofile = \"p\"\n"
        ),
    )
    .unwrap();
    let fleet = |args: &[&str]| support::run_fleet(&emulator.endpoint, dir.path(), args);
    let apply = fleet(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stdout
            .contains(&format!("applied {alpha}/us-east-1 (create)")),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains(&format!(
            "the name taken-{beta}-us-east-1 belongs to another AWS account (bucket names are global)"
        )),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("Apply: 1 applied, 1 failed"),
        "{}",
        apply.stdout
    );
    // alpha logs (the emulator accepted its Put only because the bucket and
    // its policy were created first); beta has nothing.
    let alpha_live =
        get_config(&support::bedrock(&emulator.endpoint, alpha, "us-east-1").await).await;
    assert_eq!(
        alpha_live,
        Some(logging_config_from_json(&serde_json::json!({
            "text_data_delivery_enabled": true, "image_data_delivery_enabled": true,
            "embedding_data_delivery_enabled": true, "video_data_delivery_enabled": true,
            "audio_data_delivery_enabled": true,
            "s3_config": { "bucket_name": format!("taken-{alpha}-us-east-1") }
        })))
    );
    assert_eq!(
        get_config(&support::bedrock(&emulator.endpoint, beta, "us-east-1").await).await,
        None
    );
    let again = fleet(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 1, "beta is still unplannable\n{}", again.stdout);
    assert!(
        again
            .stdout
            .contains(&format!("! cannot plan bucket s3://taken-{beta}-us-east-1")),
        "{}",
        again.stdout
    );
}
