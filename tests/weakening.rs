//! Changes that weaken logging are called out in every plan format and,
//! with `[fleet] protect = true`, refused unless allowed — through the
//! binary against the emulator, the live state read through the SDK.

mod emulated;
mod support;

use emulated::Emulator;
use serde_json::{Value, json};
use support::{get_config, logging_config_from_json};

const ACCOUNT: &str = "415000000001";

fn fleet_file(protect: bool) -> String {
    format!(
        r#"[fleet]
regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]
role_name = "fleet-test"
protect = {protect}

[profiles.full.s3_config]
bucket_name = "logs-{{account_id}}-{{region}}"

[profiles.quiet]
text_data_delivery_enabled = false

[profiles.quiet.s3_config]
bucket_name = "logs-{{account_id}}-{{region}}"

[profiles.off]
enabled = false

[[accounts]]
id = "{ACCOUNT}"
name = "prod"
profile = "full"
region_profiles = {{ "us-east-1" = "quiet", "us-west-2" = "off" }}
"#
    )
}

fn config(region: &str, video: bool) -> Value {
    json!({
        "textDataDeliveryEnabled": true, "imageDataDeliveryEnabled": true,
        "embeddingDataDeliveryEnabled": true, "videoDataDeliveryEnabled": video,
        "audioDataDeliveryEnabled": true,
        "s3Config": { "bucketName": format!("logs-{ACCOUNT}-{region}") }
    })
}

/// us-east-1 logs text (the file turns it off), us-west-2 logs (the file
/// deletes it), eu-west-1 logs nothing (created), eu-central-1 has video off
/// (turned on).
fn seed(emulator: &Emulator) {
    emulator.put_state(&json!({
        format!("{ACCOUNT}/us-east-1"): config("us-east-1", true),
        format!("{ACCOUNT}/us-west-2"): config("us-west-2", true),
        format!("{ACCOUNT}/eu-central-1"): config("eu-central-1", false),
    }));
}

async fn live(endpoint: &str, region: &str) -> Option<aws_sdk_bedrock::types::LoggingConfig> {
    get_config(&support::bedrock(endpoint, ACCOUNT, region).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weakening_changes_lead_every_plan_format_and_protect_refuses_them() {
    let emulator = Emulator::start(&[]);
    seed(&emulator);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), fleet_file(true)).unwrap();
    let fleet = |args: &[&str]| support::run_fleet(&emulator.endpoint, dir.path(), args);

    let human = fleet(&["plan"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    let tail = human
        .stdout
        .split("2 targets will log less:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", human.stdout));
    assert_eq!(
        tail,
        "  prod/us-east-1: text_data_delivery_enabled turned off\n  prod/us-west-2: logging is deleted\n"
    );

    let markdown = fleet(&["plan", "--format", "markdown"]);
    let warning = markdown
        .stdout
        .find("> [!WARNING]\n> **2 targets will log less.**")
        .unwrap();
    let table = markdown
        .stdout
        .find("| create |")
        .unwrap_or(usize::MAX)
        .min(markdown.stdout.find("|---").unwrap());
    assert!(warning < table, "the warning leads\n{}", markdown.stdout);
    assert!(
        markdown
            .stdout
            .contains("> - `prod/us-east-1`: text_data_delivery_enabled turned off"),
        "{}",
        markdown.stdout
    );

    let json = fleet(&["plan", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["weakening"], 2);
    let weakens = |region: &str| {
        doc["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["region"] == region)
            .unwrap()["weakens"]
            .clone()
    };
    assert_eq!(
        weakens("us-east-1"),
        json!(["text_data_delivery_enabled turned off"])
    );
    assert_eq!(weakens("us-west-2"), json!(["logging is deleted"]));
    assert_eq!(weakens("eu-west-1"), json!([]));
    assert_eq!(weakens("eu-central-1"), json!([]));
    assert_eq!(doc["protect"], true);
    assert_eq!(doc["allow_weakening"], false);

    // protect = true: refused, nothing written.
    let refused = fleet(&["apply", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stdout
            .contains("refused: [fleet] protect = true, and 2 targets would log less:"),
        "{}",
        refused.stdout
    );
    assert!(
        refused
            .stdout
            .contains("  prod/us-west-2: logging is deleted"),
        "{}",
        refused.stdout
    );
    assert_eq!(emulator.writes(), 0);
    assert!(live(&emulator.endpoint, "eu-west-1").await.is_none());

    // A reviewed plan without the allowance is refused too; with it, applied.
    let plain = fleet(&["plan", "--out", "plain.json"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let refused = fleet(&["apply", "plain.json"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stdout.contains("would log less"),
        "{}",
        refused.stdout
    );
    assert_eq!(emulator.writes(), 0);
    let allowed = fleet(&["plan", "--allow-weakening", "--out", "allowed.json"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    let saved: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("allowed.json")).unwrap()).unwrap();
    assert_eq!(saved["allow_weakening"], true);
    let applied = fleet(&["apply", "allowed.json"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(live(&emulator.endpoint, "us-west-2").await, None);
    assert_eq!(
        live(&emulator.endpoint, "us-east-1")
            .await
            .and_then(|c| c.text_data_delivery_enabled()),
        Some(false)
    );
    assert!(live(&emulator.endpoint, "eu-west-1").await.is_some());

    // --allow-weakening on apply itself.
    seed(&emulator);
    let applied = fleet(&["apply", "--auto-approve", "--allow-weakening"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(live(&emulator.endpoint, "us-west-2").await, None);

    // Without protect, weakening changes are applied (and still called out).
    seed(&emulator);
    std::fs::write(dir.path().join("fleet.toml"), fleet_file(false)).unwrap();
    let applied = fleet(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert!(
        applied.stdout.contains("2 targets will log less:"),
        "{}",
        applied.stdout
    );
    assert_eq!(
        live(&emulator.endpoint, "eu-central-1").await,
        Some(logging_config_from_json(&json!({
            "text_data_delivery_enabled": true, "image_data_delivery_enabled": true,
            "embedding_data_delivery_enabled": true, "video_data_delivery_enabled": true,
            "audio_data_delivery_enabled": true,
            "s3_config": { "bucket_name": format!("logs-{ACCOUNT}-eu-central-1") }
        })))
    );
}
