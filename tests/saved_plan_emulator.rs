//! A reviewed plan through the real binary against `fleet emulator`: after
//! a partial failure the same plan finishes the rest, a stale plan says how
//! to go on, and the plan names no role for the caller's own account.

mod emulated;
mod support;

use emulated::{Emulator, desired, fleet_file};
use serde_json::Value;
use support::{CALLER_ACCOUNT, Run, get_config, logging_config_from_json};

const REGIONS: [&str; 3] = ["us-east-1", "us-west-2", "eu-west-1"];

fn fleet(emulator: &Emulator, dir: &std::path::Path, args: &[&str]) -> Run {
    support::run_fleet(&emulator.endpoint, dir, args)
}

fn setup(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    dir
}

async fn assert_converged(emulator: &Emulator, base: u64, accounts: u64) {
    for i in 1..=accounts {
        let account = (base + i).to_string();
        for region in REGIONS {
            let client = support::bedrock(&emulator.endpoint, &account, region).await;
            assert_eq!(
                get_config(&client).await,
                Some(logging_config_from_json(&desired(&account, region))),
                "{account}/{region}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partly_applied_plan_is_finished_by_applying_it_again() {
    let base = 331_000_000_000;
    let denied = format!("{}/eu-west-1", base + 2);
    let dir = setup(&fleet_file(base, 2, &REGIONS));

    // The first apply of the reviewed plan fails on one target.
    let first = Emulator::start(&["--fault", &format!("denied:1:{denied}:put")]);
    let run = fleet(&first, dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = fleet(&first, dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Apply: 5 applied, 1 failed, 0 not attempted."),
        "{}",
        run.stdout
    );

    // The same state, without the fault: the same plan finishes the rest.
    let second = Emulator::start(&[]);
    second.put_state(&first.state());
    drop(first);
    let run = fleet(&second, dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("stale"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "already applied {}/us-east-1 (create): live already equals the plan; nothing written",
            base + 1
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|line| line == format!("applied {denied} (create)")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Apply: 1 applied, 0 failed, 0 not attempted, 5 already applied."),
        "{}",
        run.stdout
    );
    assert_eq!(second.writes(), 1, "only the failed target was written");
    assert_converged(&second, base, 2).await;

    // Once everything is as planned, the plan is simply done.
    let run = fleet(&second, dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Apply: 0 applied, 0 failed, 0 not attempted, 6 already applied."),
        "{}",
        run.stdout
    );
    assert_eq!(second.writes(), 1);
    let run = fleet(&second, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_stale_plan_writes_nothing_and_says_how_to_go_on() {
    let base = 332_000_000_000;
    let dir = setup(&fleet_file(base, 2, &REGIONS[..2]));
    let emulator = Emulator::start(&[]);
    let run = fleet(&emulator, dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Someone configures one target by hand, differently from the plan.
    let changed = format!("{}/us-west-2", base + 1);
    let mut by_hand = serde_json::Map::new();
    by_hand.insert(
        changed.clone(),
        serde_json::json!({"s3Config": {"bucketName": "by-hand"}}),
    );
    emulator.put_state(&Value::Object(by_hand));

    let run = fleet(&emulator, dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "The plan is stale: 1 target changed since the plan was made; nothing was applied."
        ),
        "{}",
        run.stdout
    );
    let resume = format!("fleet apply plan.json --exclude {changed}");
    assert!(
        run.stdout
            .contains("To go on, run `fleet plan` again and review the new plan"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("`{resume}`")),
        "{}",
        run.stdout
    );
    assert_eq!(emulator.writes(), 0);

    // The suggested command applies the rest and leaves the stale one alone.
    let args: Vec<&str> = resume.split(' ').skip(1).collect();
    let run = fleet(&emulator, dir.path(), &args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Apply: 3 applied, 0 failed, 0 not attempted."),
        "{}",
        run.stdout
    );
    assert_eq!(
        emulator.state()[&changed]["s3Config"]["bucketName"],
        "by-hand"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_names_no_role_for_the_callers_own_account() {
    let other = "333000000001";
    let text = format!(
        "[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"fleet-test\"\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{{account_id}}\"\n\n[[accounts]]\nid = \"{CALLER_ACCOUNT}\"\nname = \"home\"\nprofile = \"p\"\n\n[[accounts]]\nid = \"{other}\"\nname = \"other\"\nprofile = \"p\"\n"
    );
    let dir = setup(&text);
    let emulator = Emulator::start(&[]);
    let caller_role = format!("arn:aws:iam::{CALLER_ACCOUNT}:role/fleet-test");
    let other_role = format!("arn:aws:iam::{other}:role/fleet-test");

    let run = fleet(
        &emulator,
        dir.path(),
        &["plan", "--format", "json", "--out", "plan.json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let saved = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    let merged = fleet(
        &emulator,
        dir.path(),
        &["report", "plan.json", "--format", "json"],
    );
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    for document in [&run.stdout, &saved, &merged.stdout] {
        let plan: Value = serde_json::from_str(document).unwrap();
        let role = |target: &str| {
            plan["targets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["target"] == target)
                .unwrap()["role_arn"]
                .clone()
        };
        assert_eq!(role("home/us-east-1"), Value::Null, "{document}");
        assert_eq!(role("other/us-east-1"), Value::from(other_role.clone()));
        assert!(!document.contains(&caller_role), "{document}");
    }
    for format in ["human", "markdown"] {
        let run = fleet(&emulator, dir.path(), &["plan", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stdout.contains(&caller_role), "{}", run.stdout);
    }

    // Applying it writes the caller's own account with its own credentials.
    let run = fleet(&emulator, dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Apply: 2 applied, 0 failed, 0 not attempted."),
        "{}",
        run.stdout
    );
    let client = support::bedrock(&emulator.endpoint, CALLER_ACCOUNT, "us-east-1").await;
    assert!(get_config(&client).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_plan_calls_aws_as_concurrently_as_the_file_said() {
    let base = 333_000_000_000;
    let text = fleet_file(base, 2, &REGIONS).replacen("[fleet]\n", "[fleet]\nconcurrency = 2\n", 1);
    let dir = setup(&text);
    let emulator = Emulator::start(&[]);
    let run = fleet(&emulator, dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(
        saved["concurrency"], 2,
        "the plan records [fleet] concurrency"
    );
    // The fleet file is gone: what apply PLAN uses comes from the plan.
    std::fs::remove_file(dir.path().join("fleet.toml")).unwrap();
    let run = fleet(&emulator, dir.path(), &["-v", "apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("checking 6 targets, 2 at a time"),
        "{}",
        run.stderr
    );
    assert_converged(&emulator, base, 2).await;
    // --concurrency still wins over the plan.
    let run = fleet(
        &emulator,
        dir.path(),
        &["-v", "apply", "plan.json", "--concurrency", "5"],
    );
    assert!(
        run.stderr.contains("checking 6 targets, 5 at a time"),
        "{}",
        run.stderr
    );
}
