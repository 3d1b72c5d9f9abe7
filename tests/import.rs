//! `fleet import` through the real binary: a varied fleet seeded through
//! the SDK in moto comes back as a fleet file that validates and plans no
//! change, with one profile per distinct configuration; bad input and an
//! unreadable region print no file.

mod emulated;
mod support;

use serde_json::{Value, json};
use support::{CALLER_ACCOUNT, Run, TEST_ROLE_NAME, bedrock, put_config};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-northeast-1"];

fn fleet_in(endpoint: &str, dir: &std::path::Path, args: &[&str]) -> Run {
    support::run_fleet(endpoint, dir, args)
}

/// S3, CloudWatch and large data, named after the account.
fn full(account: &str, name: &str, region: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true,
        "image_data_delivery_enabled": true,
        "embedding_data_delivery_enabled": false,
        "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("logs-{account}-{region}"), "key_prefix": "bedrock" },
        "cloudwatch_config": {
            "log_group_name": format!("/aws/bedrock/{name}"),
            "role_arn": format!("arn:aws:iam::{account}:role/bedrock-logging"),
            "large_data_delivery_s3_config": {
                "bucket_name": format!("large-{account}-{region}"),
                "key_prefix": format!("{name}/{region}")
            }
        }
    })
}

/// Text only, to S3; `prefix` "" is the same configuration as none.
fn text_only(account: &str, region: &str, prefix: Option<&str>) -> Value {
    let mut config = json!({
        "text_data_delivery_enabled": true,
        "image_data_delivery_enabled": false,
        "embedding_data_delivery_enabled": false,
        "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("text-{account}-{region}") }
    });
    if let Some(prefix) = prefix {
        config["s3_config"]["key_prefix"] = json!(prefix);
    }
    config
}

/// CloudWatch only, flags omitted (AWS turns them on).
fn stream(account: &str) -> Value {
    json!({
        "cloudwatch_config": {
            "log_group_name": "/aws/bedrock/shared",
            "role_arn": format!("arn:aws:iam::{account}:role/bedrock-logging")
        }
    })
}

/// home (the caller's account) and alpha share `full` in four targets, beta
/// has `text_only` twice (once with an empty prefix), alpha/eu-west-1 has
/// `stream`; home/ap-northeast-1 and beta/ap-northeast-1 have nothing.
async fn seed(endpoint: &str, alpha: &str, beta: &str) {
    let home = CALLER_ACCOUNT;
    for (account, name, region) in [
        (home, "home", "us-east-1"),
        (home, "home", "eu-west-1"),
        (alpha, "alpha", "us-east-1"),
        (alpha, "alpha", "ap-northeast-1"),
    ] {
        put_config(
            &bedrock(endpoint, account, region).await,
            &full(account, name, region),
        )
        .await;
    }
    put_config(
        &bedrock(endpoint, beta, "us-east-1").await,
        &text_only(beta, "us-east-1", None),
    )
    .await;
    put_config(
        &bedrock(endpoint, beta, "eu-west-1").await,
        &text_only(beta, "eu-west-1", Some("")),
    )
    .await;
    put_config(&bedrock(endpoint, alpha, "eu-west-1").await, &stream(alpha)).await;
}

/// Checks an imported file: it validates, plans no change over `targets`
/// targets, and has `profiles` profiles. Returns it parsed.
fn round_trip(endpoint: &str, text: &str, targets: usize, profiles: usize) -> toml::Table {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let validate = fleet_in(endpoint, dir.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{text}\n{}", validate.stderr);
    let plan = fleet_in(endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{text}\n{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "Plan: 0 to create, 0 to update, 0 to delete, {targets} unchanged, 0 failed."
        )),
        "{}",
        plan.stdout
    );
    let table: toml::Table = text.parse().unwrap();
    assert_eq!(
        table["profiles"].as_table().unwrap().len(),
        profiles,
        "{text}"
    );
    table
}

fn account<'t>(table: &'t toml::Table, id: &str) -> &'t toml::Table {
    table["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_table().unwrap())
        .find(|a| a["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("account {id} is in the file"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_round_trips_with_one_profile_per_distinct_configuration() {
    let endpoint = support::moto().endpoint();
    let (alpha, beta) = (support::fresh_account(), support::fresh_account());
    seed(&endpoint, &alpha, &beta).await;
    let dir = tempfile::tempdir().unwrap();
    let home_arg = format!("{CALLER_ACCOUNT}=home");
    let alpha_arg = format!("{alpha}=alpha");
    let regions = REGIONS.join(",");
    let args = [
        "import",
        "--account",
        &home_arg,
        "--account",
        &alpha_arg,
        "--account",
        &beta,
        "--regions",
        &regions,
        "--role-name",
        TEST_ROLE_NAME,
    ];

    let run = fleet_in(&endpoint, dir.path(), &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Three distinct configurations; the two regions with nothing are left
    // out of their accounts.
    let table = round_trip(&endpoint, &run.stdout, 7, 3);
    assert_eq!(
        table["fleet"]["regions"],
        toml::Value::Array(REGIONS.iter().map(|r| toml::Value::from(*r)).collect())
    );
    assert_eq!(table["fleet"]["role_name"].as_str(), Some(TEST_ROLE_NAME));
    let home = account(&table, CALLER_ACCOUNT);
    let alpha_entry = account(&table, &alpha);
    assert_eq!(
        home["profile"], alpha_entry["profile"],
        "identical configurations share a profile\n{}",
        run.stdout
    );
    let shared = home["profile"].as_str().unwrap();
    let profile = &table["profiles"][shared];
    assert_eq!(
        profile["s3_config"]["bucket_name"].as_str(),
        Some("logs-{account_id}-{region}")
    );
    assert_eq!(
        profile["cloudwatch_config"]["log_group_name"].as_str(),
        Some("/aws/bedrock/{account_name}")
    );
    assert_eq!(
        profile["cloudwatch_config"]["large_data_delivery_s3_config"]["key_prefix"].as_str(),
        Some("{account_name}/{region}")
    );
    for flag in [
        "text_data_delivery_enabled",
        "image_data_delivery_enabled",
        "embedding_data_delivery_enabled",
        "video_data_delivery_enabled",
        "audio_data_delivery_enabled",
    ] {
        for (name, profile) in table["profiles"].as_table().unwrap() {
            assert!(
                profile.get(flag).is_some(),
                "{flag} is explicit in {name}\n{}",
                run.stdout
            );
        }
    }
    assert_eq!(
        home["regions"],
        toml::Value::Array(vec!["us-east-1".into(), "eu-west-1".into()])
    );
    assert!(alpha_entry.get("regions").is_none());
    assert_eq!(
        alpha_entry["region_profiles"]["eu-west-1"].as_str(),
        Some("cloudwatch")
    );
    let beta_entry = account(&table, &beta);
    assert!(beta_entry.get("name").is_none());
    assert!(beta_entry.get("region_profiles").is_none());
    assert_eq!(
        table["profiles"]["cloudwatch"]["video_data_delivery_enabled"].as_bool(),
        Some(true),
        "a flag AWS omits is on"
    );

    let mut with_absent = args.to_vec();
    with_absent.push("--include-absent");
    let run = fleet_in(&endpoint, dir.path(), &with_absent);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let table = round_trip(&endpoint, &run.stdout, 9, 4);
    assert_eq!(table["profiles"]["off"]["enabled"].as_bool(), Some(false));
    assert!(account(&table, CALLER_ACCOUNT).get("regions").is_none());
    assert_eq!(
        account(&table, &beta)["region_profiles"]["ap-northeast-1"].as_str(),
        Some("off")
    );
}

#[test]
fn bad_input_is_refused_before_any_call() {
    // Nothing listens on port 9: input errors come before the network.
    let dir = tempfile::tempdir().unwrap();
    let refused = |args: &[&str], message: &str| {
        let run = fleet_in("http://127.0.0.1:9", dir.path(), args);
        assert_eq!(run.code, 1, "{args:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    };
    refused(
        &["import", "--account", "12345", "--regions", "us-east-1"],
        "--account `12345` is not an AWS account id",
    );
    refused(
        &[
            "import",
            "--account",
            "111111111111",
            "--regions",
            "us-east-1,useast1",
        ],
        "--regions `useast1` is not an AWS region name",
    );
    refused(
        &[
            "import",
            "--account",
            "111111111111=a/b",
            "--regions",
            "us-east-1",
        ],
        "`a/b` cannot be an account name",
    );
    refused(
        &[
            "import",
            "--account",
            "111111111111",
            "--account",
            "111111111111",
            "--regions",
            "us-east-1",
        ],
        "account 111111111111 is given twice",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_without_a_role_name_is_refused() {
    let endpoint = support::moto().endpoint();
    let other = support::fresh_account();
    let dir = tempfile::tempdir().unwrap();
    let run = fleet_in(
        &endpoint,
        dir.path(),
        &["import", "--account", &other, "--regions", "us-east-1"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(&format!(
            "account {other} is not the caller's ({CALLER_ACCOUNT}): pass --role-name NAME"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreadable_region_prints_no_file() {
    let (alpha, beta) = ("420000000001", "420000000002");
    let emulator = emulated::Emulator::start(&["--fault", &format!("denied:1:{beta}/eu-west-1")]);
    support::runtime().block_on(async {
        put_config(
            &bedrock(&emulator.endpoint, alpha, "us-east-1").await,
            &text_only(alpha, "us-east-1", None),
        )
        .await;
    });
    let dir = tempfile::tempdir().unwrap();
    let run = fleet_in(
        &emulator.endpoint,
        dir.path(),
        &[
            "import",
            "--account",
            alpha,
            "--account",
            &format!("{beta}=beta"),
            "--regions",
            "us-east-1,eu-west-1",
            "--role-name",
            TEST_ROLE_NAME,
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.stdout, "", "no partial file");
    assert!(
        run.stderr
            .contains("! failed beta/eu-west-1: AccessDeniedException:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("1 target could not be read; no fleet file was printed"),
        "{}",
        run.stderr
    );
}
