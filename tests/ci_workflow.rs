//! What runs in CI: sharded plans merged by `fleet report`, shard plans
//! applied one by one, target filters, markdown and the GitHub step summary,
//! against moto with the live state checked through the SDK.

mod support;

use serde_json::{Value, json};
use support::{TEST_ROLE_NAME, bedrock, get_config, logging_config_from_json, put_config};

const REGIONS: [&str; 3] = ["us-east-1", "us-west-2", "eu-west-1"];

fn fleet_file(accounts: &[String]) -> String {
    let mut text = format!(
        "[fleet]\nregions = [\"us-east-1\", \"us-west-2\", \"eu-west-1\"]\nrole_name = \"{TEST_ROLE_NAME}\"\n\n[profiles.p]\nvideo_data_delivery_enabled = false\naudio_data_delivery_enabled = false\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{{account_id}}-{{region}}\"\n\n[profiles.off]\nenabled = false\n"
    );
    for (i, account) in accounts.iter().enumerate() {
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{account}\"\nname = \"team{i}\"\nprofile = \"p\"\n"
        ));
        if i == 0 {
            text.push_str("region_profiles = { \"eu-west-1\" = \"off\" }\n");
        }
    }
    text
}

fn desired(account: &str, region: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true, "image_data_delivery_enabled": true,
        "embedding_data_delivery_enabled": true, "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("logs-{account}-{region}") }
    })
}

struct Fleet {
    endpoint: String,
    dir: tempfile::TempDir,
}

impl Fleet {
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let output = support::fleet_cmd(&self.endpoint)
            .current_dir(self.dir.path())
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }
}

/// Six accounts × three regions: most absent, some drifted, one to delete.
async fn setup() -> (Fleet, Vec<String>) {
    let endpoint = support::moto().endpoint();
    let accounts: Vec<String> = (0..6).map(|_| support::fresh_account()).collect();
    for (i, account) in accounts.iter().enumerate() {
        let mut drifted = desired(account, "us-west-2");
        drifted["image_data_delivery_enabled"] = json!(i % 2 == 0);
        put_config(&bedrock(&endpoint, account, "us-west-2").await, &drifted).await;
    }
    put_config(
        &bedrock(&endpoint, &accounts[0], "eu-west-1").await,
        &desired(&accounts[0], "eu-west-1"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), fleet_file(&accounts)).unwrap();
    (Fleet { endpoint, dir }, accounts)
}

fn targets_of(plan: &Value) -> Vec<String> {
    let mut targets: Vec<String> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {}",
                t["target"].as_str().unwrap(),
                t["action"].as_str().unwrap()
            )
        })
        .collect();
    targets.sort();
    targets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_cover_the_fleet_once_merge_into_one_report_and_apply_to_the_same_state() {
    let (fleet, accounts) = setup().await;
    let (code, whole, stderr) =
        fleet.run(&["plan", "--format", "json", "--out", "plan-all.json"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let whole: Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(
        whole["summary"],
        json!({"create": 11, "update": 3, "delete": 1, "unchanged": 3, "failed": 0, "weakening": 1})
    );

    let mut shard_targets = Vec::new();
    for k in 1..=3 {
        let out = format!("shard{k}.json");
        let (code, _, stderr) = fleet.run(
            &["plan", "--partition", &format!("{k}/3"), "--out", &out],
            &[],
        );
        assert_eq!(code, 0, "{stderr}");
        let shard: Value =
            serde_json::from_slice(&std::fs::read(fleet.dir.path().join(&out)).unwrap()).unwrap();
        shard_targets.extend(targets_of(&shard));
    }
    shard_targets.sort();
    assert_eq!(
        shard_targets,
        targets_of(&whole),
        "the shards cover every target exactly once"
    );

    let (code, merged, stderr) = fleet.run(
        &[
            "report",
            "shard1.json",
            "shard2.json",
            "shard3.json",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let merged: Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(merged["summary"], whole["summary"]);
    assert_eq!(targets_of(&merged), targets_of(&whole));
    let (code, comment, _) = fleet.run(
        &[
            "report",
            "shard1.json",
            "shard2.json",
            "shard3.json",
            "--format",
            "markdown",
        ],
        &[],
    );
    assert_eq!(code, 0);
    assert!(comment.contains("| 11 | 3 | 1 | 3 | 0 |"), "{comment}");
    assert!(
        comment.contains("#### create — same change in 11 targets"),
        "{comment}"
    );

    // Each shard's plan records its partition; the whole plan has none.
    assert_eq!(whole["partition"], Value::Null);
    let shard1: Value =
        serde_json::from_slice(&std::fs::read(fleet.dir.path().join("shard1.json")).unwrap())
            .unwrap();
    assert_eq!(shard1["partition"], json!({"index": 1, "count": 3}));
    assert_eq!(merged["partition"], Value::Null);
    assert!(merged.get("missing_shards").is_none(), "{merged}");

    // Two shards of three are refused, naming the missing one…
    let (code, stdout, stderr) = fleet.run(&["report", "shard1.json", "shard2.json"], &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(
            "shard 3/3 missing: the plans given cover shards 1/3, 2/3 of fleet.toml; pass the plan of every shard, or --allow-partial"
        ),
        "{stderr}"
    );
    // …or rendered with --allow-partial, saying so in every format.
    let partial = ["report", "shard1.json", "shard2.json", "--allow-partial"];
    let (code, human, stderr) = fleet.run(&partial, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        human.starts_with("PARTIAL PLAN: shard 3/3 missing"),
        "{human}"
    );
    assert!(
        stderr.contains("PARTIAL PLAN: shard 3/3 missing"),
        "{stderr}"
    );
    let (_, markdown, _) = fleet.run(&[&partial[..], &["--format", "markdown"]].concat(), &[]);
    assert!(
        markdown
            .contains("> **PARTIAL PLAN: shard 3/3 missing (the plan job failed or saved no plan)"),
        "{markdown}"
    );
    let (_, json_text, _) = fleet.run(&[&partial[..], &["--format", "json"]].concat(), &[]);
    let partial_json: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(
        partial_json["missing_shards"],
        json!([{"index": 3, "count": 3}])
    );
    assert_eq!(partial_json["partition"], Value::Null);
    // A partial merge merged with the missing shard is whole again.
    std::fs::write(fleet.dir.path().join("partial.json"), &json_text).unwrap();
    let (code, _, stderr) = fleet.run(&["report", "partial.json", "shard3.json"], &[]);
    assert_eq!(code, 0, "{stderr}");
    // Shards of different counts do not merge.
    let (code, _, _) = fleet.run(&["plan", "--partition", "1/2", "--out", "half.json"], &[]);
    assert_eq!(code, 0);
    let (code, _, stderr) = fleet.run(&["report", "half.json", "shard2.json"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("half.json is shard 1/2 but shard2.json is shard 2/3"),
        "{stderr}"
    );

    // Overlapping or mismatched shards are refused.
    let (code, _, stderr) = fleet.run(&["report", "shard1.json", "shard1.json"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("shard 1/3 is given twice: shard1.json and shard1.json"),
        "{stderr}"
    );
    let (code, _, stderr) = fleet.run(&["report", "plan-all.json", "shard1.json"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("plan-all.json covers every target but shard1.json is shard 1/3"),
        "{stderr}"
    );
    let (code, _, stderr) = fleet.run(&["report", "plan-all.json", "plan-all.json"], &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("shards overlap"), "{stderr}");
    let other = std::fs::read_to_string(fleet.dir.path().join("shard2.json"))
        .unwrap()
        .replacen("\"fleet_sha256\": \"", "\"fleet_sha256\": \"0", 1);
    std::fs::write(fleet.dir.path().join("other.json"), other).unwrap();
    let (code, _, stderr) = fleet.run(&["report", "shard1.json", "other.json"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("was planned from a different fleet file"),
        "{stderr}"
    );

    // Applying the three reviewed shard plans converges the whole fleet.
    let summary = fleet.dir.path().join("step-summary.md");
    let summary_env = [("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];
    for k in 1..=3 {
        let (code, stdout, stderr) = fleet.run(&["apply", &format!("shard{k}.json")], &summary_env);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
    }
    let written = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(written.matches("### fleet apply:").count(), 3, "{written}");
    for (i, account) in accounts.iter().enumerate() {
        for region in REGIONS {
            let live = get_config(&bedrock(&fleet.endpoint, account, region).await).await;
            let expected = (i != 0 || region != "eu-west-1")
                .then(|| logging_config_from_json(&desired(account, region)));
            assert_eq!(live, expected, "{account}/{region}");
        }
    }
    let (code, stdout, _) = fleet.run(&["plan", "--detailed-exitcode"], &summary_env);
    assert_eq!(code, 0, "{stdout}");
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.contains("### fleet plan: 0 to create, 0 to update, 0 to delete"),
        "{written}"
    );
    assert!(written.len() < 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_targets_and_a_filter_matching_nothing_is_an_error() {
    let (fleet, _accounts) = setup().await;
    let (code, stdout, stderr) = fleet.run(
        &[
            "plan",
            "--each-diff",
            "--target",
            "team1/*",
            "--target",
            "*/eu-west-1",
            "--exclude",
            "team2",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("team1/us-east-1") && stdout.contains("team3/eu-west-1"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("team2/") && !stdout.contains("team4/us-east-1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Plan: 5 to create, 1 to update, 1 to delete, 0 unchanged, 0 failed."),
        "{stdout}"
    );

    let (code, stdout, stderr) = fleet.run(&["plan", "--target", "teem1/us-east-1"], &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stderr.contains(
            "--target `teem1/us-east-1` matches no target; near matches: team1/us-east-1"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = fleet.run(&["apply", "--auto-approve", "--partition", "4/3"], &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("is not K/N"), "{stderr}");

    // Nothing above wrote anything: team1/us-east-1 is still absent.
    assert_eq!(
        get_config(&bedrock(&fleet.endpoint, &_accounts[1], "us-east-1").await).await,
        None
    );
}
