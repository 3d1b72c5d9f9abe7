//! Managed destinations against moto's S3, IAM and CloudWatch Logs, through
//! the binary, verified through the SDK: from nothing to working logging in
//! one apply, what belongs to somebody else kept, and drift of what fleet
//! owns planned and restored. The two scenarios run twice: on moto (a
//! third-party implementation) and on fleet's emulator, whose Put checks the
//! destinations as AWS does (`--validate-destinations`).

mod emulated;
mod support;

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use serde_json::{Value, json};
use support::{CALLER_ACCOUNT, TEST_ROLE_NAME, bedrock, get_config, logging_config_from_json};

const SID: &str = "FleetBedrockModelInvocationLogging";

fn fleet_file(tag: &str, regions: &[&str], accounts: &[&str]) -> String {
    let regions = regions
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!(
        r#"[fleet]
regions = [{regions}]
role_name = "{TEST_ROLE_NAME}"

[profiles.managed]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.managed.s3_config]
bucket_name = "{tag}-{{account_id}}-{{region}}"
key_prefix = "bedrock"
bucket = {{ expire_after_days = 365 }}

[profiles.managed.cloudwatch_config]
log_group_name = "/bedrock/{tag}"
role_arn = "arn:{{partition}}:iam::{{account_id}}:role/{tag}-bedrock-logs"
log_group = {{ retention_in_days = 30 }}
role = {{}}

[profiles.managed.cloudwatch_config.large_data_delivery_s3_config]
bucket_name = "{tag}-large-{{account_id}}-{{region}}"
bucket = {{}}
"#
    );
    for id in accounts {
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{id}\"\nprofile = \"managed\"\n"
        ));
    }
    text
}

struct Clients {
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

async fn clients(endpoint: &str, account: &str, region: &str) -> Clients {
    let base = support::sdk_config(endpoint, account, region).await;
    Clients {
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&base)
                .force_path_style(true)
                .build(),
        ),
        iam: aws_sdk_iam::Client::new(&base),
        logs: aws_sdk_cloudwatchlogs::Client::new(&base),
    }
}

async fn bucket_policy(c: &Clients, bucket: &str) -> Value {
    let policy =
        c.s3.get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .unwrap()
            .policy
            .unwrap();
    serde_json::from_str(&policy).unwrap()
}

fn statement<'a>(policy: &'a Value, sid: &str) -> Option<&'a Value> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
}

async fn retention(c: &Clients, group: &str) -> Option<i32> {
    c.logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .unwrap()
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))
        .expect("the log group exists")
        .retention_in_days()
}

fn desired(tag: &str, account: &str, region: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true, "image_data_delivery_enabled": true,
        "embedding_data_delivery_enabled": true, "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("{tag}-{account}-{region}"), "key_prefix": "bedrock" },
        "cloudwatch_config": {
            "log_group_name": format!("/bedrock/{tag}"),
            "role_arn": format!("arn:aws:iam::{account}:role/{tag}-bedrock-logs"),
            "large_data_delivery_s3_config": { "bucket_name": format!("{tag}-large-{account}-{region}") }
        }
    })
}

/// The emulator, with Bedrock's Put validating destinations as AWS does.
fn validating_emulator() -> emulated::Emulator {
    emulated::Emulator::start(&["--validate-destinations"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_nothing_to_working_logging_in_one_apply_on_moto() {
    from_nothing_to_working_logging_in_one_apply(&support::moto().endpoint()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_nothing_to_working_logging_in_one_apply_on_the_emulator() {
    let emulator = validating_emulator();
    from_nothing_to_working_logging_in_one_apply(&emulator.endpoint).await;
    let rejected = &emulator.stats()["rejected"]["invalid_destinations"];
    assert_eq!(
        rejected, 0,
        "every Put found its destinations in place: fleet created them first"
    );
}

async fn from_nothing_to_working_logging_in_one_apply(endpoint: &str) {
    let endpoint = endpoint.to_owned();
    let tag = "mdone";
    let accounts = [
        CALLER_ACCOUNT.to_owned(),
        support::fresh_account(),
        support::fresh_account(),
    ];
    let ids: Vec<&str> = accounts.iter().map(String::as_str).collect();
    let regions = ["us-east-1", "eu-west-1"];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(tag, &regions, &ids),
    )
    .unwrap();
    let fleet = |args: &[&str]| support::run_fleet(&endpoint, dir.path(), args);

    let plan = fleet(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    // 2 buckets per account × region, a log group per account × region, a role per account.
    assert!(
        plan.stdout
            .contains("Destinations: 21 to create, 0 to update, 0 unchanged, 0 failed."),
        "{}",
        plan.stdout
    );
    // Identical destination changes are one diff, then where they are.
    for grouped in [
        format!("+ create 6 × bucket s3://{tag}-{{account_id}}-{{region}} (for 6 targets)\n"),
        format!("+ create 6 × bucket s3://{tag}-large-{{account_id}}-{{region}} (for 6 targets)\n"),
        format!("+ create 3 × role {tag}-bedrock-logs ({{account_id}}) (for 6 targets)\n"),
        "  applies to 6 destinations (3 accounts × 2 regions):\n".to_owned(),
        "  applies to 3 destinations:\n".to_owned(),
    ] {
        assert!(plan.stdout.contains(&grouped), "{grouped}\n{}", plan.stdout);
    }
    let each = fleet(&["plan", "--each-diff"]);
    assert!(
        each.stdout.contains(&format!(
            "+ create bucket s3://{tag}-{}-eu-west-1 (for 1 target)",
            ids[1]
        )),
        "{}",
        each.stdout
    );
    assert!(
        each.stdout.contains(&format!(
            "+ create role {tag}-bedrock-logs ({}) (for 2 targets)",
            ids[2]
        )),
        "{}",
        each.stdout
    );
    assert_eq!(
        each.stdout.matches("+++ desired").count(),
        21 + 6,
        "{}",
        each.stdout
    );
    // Managed destinations are planned, not preflight-checked.
    assert!(!plan.stdout.contains("does not exist"), "{}", plan.stdout);
    // plan wrote nothing.
    let c = clients(&endpoint, ids[1], "eu-west-1").await;
    assert!(
        c.s3.head_bucket()
            .bucket(format!("{tag}-{}-eu-west-1", ids[1]))
            .send()
            .await
            .is_err()
    );

    let apply = fleet(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("Apply: 6 applied, 0 failed"),
        "{}",
        apply.stdout
    );

    for account in &ids {
        for region in regions {
            let c = clients(&endpoint, account, region).await;
            let bucket = format!("{tag}-{account}-{region}");
            let location =
                c.s3.get_bucket_location()
                    .bucket(&bucket)
                    .send()
                    .await
                    .unwrap();
            let found = location
                .location_constraint()
                .map(|l| l.as_str().to_owned())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "us-east-1".into());
            assert_eq!(found, region);
            let ownership =
                c.s3.get_bucket_ownership_controls()
                    .bucket(&bucket)
                    .send()
                    .await
                    .unwrap();
            assert_eq!(
                ownership.ownership_controls().unwrap().rules()[0]
                    .object_ownership()
                    .as_str(),
                "BucketOwnerEnforced"
            );
            let block =
                c.s3.get_public_access_block()
                    .bucket(&bucket)
                    .send()
                    .await
                    .unwrap()
                    .public_access_block_configuration
                    .unwrap();
            assert_eq!(
                (
                    block.block_public_acls(),
                    block.ignore_public_acls(),
                    block.block_public_policy(),
                    block.restrict_public_buckets()
                ),
                (Some(true), Some(true), Some(true), Some(true))
            );
            let lifecycle =
                c.s3.get_bucket_lifecycle_configuration()
                    .bucket(&bucket)
                    .send()
                    .await
                    .unwrap();
            let rule = &lifecycle.rules()[0];
            assert_eq!(rule.expiration().unwrap().days(), Some(365));
            assert_eq!(
                rule.filter().and_then(|f| f.prefix()),
                Some("bedrock/AWSLogs/")
            );
            let policy = bucket_policy(&c, &bucket).await;
            let fleet_statement = statement(&policy, SID).expect("fleet's statement");
            assert_eq!(
                fleet_statement["Principal"]["Service"],
                "bedrock.amazonaws.com"
            );
            assert_eq!(fleet_statement["Action"], "s3:PutObject");
            assert_eq!(
                fleet_statement["Resource"],
                json!([format!(
                    "arn:aws:s3:::{bucket}/bedrock/AWSLogs/{account}/BedrockModelInvocationLogs/*"
                )])
            );
            assert_eq!(retention(&c, &format!("/bedrock/{tag}")).await, Some(30));
            assert_eq!(
                get_config(&bedrock(&endpoint, account, region).await).await,
                Some(logging_config_from_json(&desired(tag, account, region)))
            );
        }
        let c = clients(&endpoint, account, "us-east-1").await;
        let role = c
            .iam
            .get_role()
            .role_name(format!("{tag}-bedrock-logs"))
            .send()
            .await
            .unwrap();
        let trust = role.role().unwrap().assume_role_policy_document().unwrap();
        let trust: Value =
            serde_json::from_str(&percent_encoding::percent_decode_str(trust).decode_utf8_lossy())
                .unwrap();
        let fleet_trust = statement(&trust, SID).unwrap();
        let mut sources: Vec<String> = fleet_trust["Condition"]["ArnLike"]["aws:SourceArn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        sources.sort();
        assert_eq!(
            sources,
            [
                format!("arn:aws:bedrock:eu-west-1:{account}:*"),
                format!("arn:aws:bedrock:us-east-1:{account}:*")
            ],
            "one role serves every region of its account"
        );
        let inline = c
            .iam
            .get_role_policy()
            .role_name(format!("{tag}-bedrock-logs"))
            .policy_name("fleet-bedrock-logging")
            .send()
            .await
            .unwrap();
        let inline = percent_encoding::percent_decode_str(inline.policy_document())
            .decode_utf8_lossy()
            .into_owned();
        assert!(
            inline.contains(&format!(
                "arn:aws:logs:eu-west-1:{account}:log-group:/bedrock/{tag}:*"
            )),
            "{inline}"
        );
    }

    let again = fleet(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again
            .stdout
            .contains("Destinations: 0 to create, 0 to update, 21 unchanged, 0 failed."),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_belongs_to_others_is_kept_and_what_fleet_owns_is_restored_on_moto() {
    what_belongs_to_others_is_kept_and_what_fleet_owns_is_restored(&support::moto().endpoint())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_belongs_to_others_is_kept_and_what_fleet_owns_is_restored_on_the_emulator() {
    let emulator = validating_emulator();
    what_belongs_to_others_is_kept_and_what_fleet_owns_is_restored(&emulator.endpoint).await;
}

async fn what_belongs_to_others_is_kept_and_what_fleet_owns_is_restored(endpoint: &str) {
    let endpoint = endpoint.to_owned();
    let tag = "mdtwo";
    let account = support::fresh_account();
    let region = "us-west-2";
    let c = clients(&endpoint, &account, region).await;
    let bucket = format!("{tag}-{account}-{region}");
    c.s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::UsWest2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let theirs = json!({
        "Sid": "SomebodyElsesReader",
        "Effect": "Allow",
        "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
        "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/reports/*")
    });
    let only_theirs = json!({ "Version": "2012-10-17", "Statement": [theirs] }).to_string();
    c.s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(&only_theirs)
        .send()
        .await
        .unwrap();
    c.logs
        .create_log_group()
        .log_group_name(format!("/bedrock/{tag}"))
        .send()
        .await
        .unwrap();
    c.logs
        .put_retention_policy()
        .log_group_name(format!("/bedrock/{tag}"))
        .retention_in_days(7)
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(tag, &[region], &[&account]),
    )
    .unwrap();
    let fleet = |args: &[&str]| support::run_fleet(&endpoint, dir.path(), args);
    let plan = fleet(&["plan"]);
    assert!(
        plan.stdout
            .contains(&format!("~ update log group /bedrock/{tag} ({region})")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("-  \"retention_in_days\": 7\n+  \"retention_in_days\": 30"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(&format!("~ update bucket s3://{bucket}")),
        "{}",
        plan.stdout
    );

    let apply = fleet(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let policy = bucket_policy(&c, &bucket).await;
    assert_eq!(statement(&policy, "SomebodyElsesReader"), Some(&theirs));
    assert!(statement(&policy, SID).is_some());
    assert_eq!(retention(&c, &format!("/bedrock/{tag}")).await, Some(30));

    // fleet's statement removed out of band: planned, restored, theirs kept.
    c.s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(&only_theirs)
        .send()
        .await
        .unwrap();
    let audit = fleet(&["audit", "--format", "json"]);
    assert_eq!(
        audit.code, 2,
        "a drifted destination is a finding\n{}",
        audit.stderr
    );
    let doc: Value = serde_json::from_str(&audit.stdout).unwrap();
    assert_eq!(doc["summary"]["destination_drift"], 1);
    assert_eq!(
        doc["summary"]["drift"], 0,
        "the logging configuration itself is right"
    );
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "destination_drift")
        .unwrap();
    assert_eq!(finding["target"], format!("{account}/{region}"));
    assert!(
        finding["detail"].as_str().unwrap().contains(&format!(
            "bucket s3://{bucket} differs from what fleet keeps"
        )),
        "{finding}"
    );
    assert!(finding["diff"].as_str().unwrap().contains(SID), "{finding}");
    let matrix = fleet(&["audit", "--format", "matrix"]);
    assert!(matrix.stdout.contains("~ drift 1"), "{}", matrix.stdout);
    let human = fleet(&["audit"]);
    assert!(
        human.stdout.contains("destination_drift (1)"),
        "{}",
        human.stdout
    );

    let plan = fleet(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("-  \"fleet_statement\": null,"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!("+    \"Sid\": \"{SID}\"")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Destinations: 0 to create, 1 to update"),
        "{}",
        plan.stdout
    );
    let apply = fleet(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let policy = bucket_policy(&c, &bucket).await;
    assert_eq!(statement(&policy, "SomebodyElsesReader"), Some(&theirs));
    assert!(statement(&policy, SID).is_some());
    let again = fleet(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let audit = fleet(&["audit"]);
    assert_eq!(audit.code, 0, "restored: compliant\n{}", audit.stdout);
}

#[test]
fn bad_options_are_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let text = fleet_file("mdbad", &["us-east-1"], &["210987654321"])
        .replace("retention_in_days = 30", "retention_in_days = 31")
        .replace("expire_after_days = 365", "expire_after_days = 0")
        .replace(
            "role_arn = \"arn:{partition}:iam::{account_id}:role/mdbad-bedrock-logs\"",
            "role_arn = \"arn:aws:iam::111111111111:role/shared\"",
        );
    std::fs::write(dir.path().join("fleet.toml"), &text).unwrap();
    let run = support::run_fleet("http://127.0.0.1:9", dir.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, message) in [
        (
            "retention_in_days = 31",
            "retention_in_days = 31 is not a retention CloudWatch Logs accepts",
        ),
        (
            "expire_after_days = 0",
            "expire_after_days = 0 is not a number of days",
        ),
        (
            "role/shared",
            "names account 111111111111, but `role = {}` makes fleet create the role in the target's own account 210987654321",
        ),
    ] {
        assert!(run.stderr.contains(message), "{message}\n{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("fleet.toml:{}:", line_of(needle))),
            "{needle} at line {}\n{}",
            line_of(needle),
            run.stderr
        );
    }
    assert!(run.stderr.contains("(closest: 30)"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_carries_destinations_and_refuses_when_they_changed_on_moto() {
    a_saved_plan_carries_destinations_and_refuses_when_they_changed(&support::moto().endpoint())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_carries_destinations_and_refuses_when_they_changed_on_the_emulator() {
    let emulator = validating_emulator();
    a_saved_plan_carries_destinations_and_refuses_when_they_changed(&emulator.endpoint).await;
}

async fn a_saved_plan_carries_destinations_and_refuses_when_they_changed(endpoint: &str) {
    let endpoint = endpoint.to_owned();
    let tag = "mdthree";
    let account = support::fresh_account();
    let region = "eu-west-1";
    let c = clients(&endpoint, &account, region).await;
    let group = format!("/bedrock/{tag}");
    c.logs
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(tag, &[region], &[&account]),
    )
    .unwrap();
    let fleet = |args: &[&str]| support::run_fleet(&endpoint, dir.path(), args);

    let saved = fleet(&["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let doc: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    let destinations = doc["destinations"].as_array().unwrap();
    assert_eq!(destinations.len(), 4, "2 buckets, a log group, a role");
    let log_group = destinations
        .iter()
        .find(|d| d["resource"]["kind"] == "log_group")
        .unwrap();
    assert_eq!(log_group["action"], "update");
    assert_eq!(log_group["before"]["retention_in_days"], Value::Null);
    assert_eq!(log_group["after"]["retention_in_days"], 30);
    assert_eq!(
        log_group["steps"],
        json!([{ "step": "put_retention", "days": 30 }])
    );
    assert_eq!(log_group["targets"], json!([format!("{account}/{region}")]));

    let markdown = fleet(&["plan", "--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .contains("#### Destinations: 3 to create, 1 to update, 0 failed"),
        "{}",
        markdown.stdout
    );
    assert!(
        markdown
            .stdout
            .contains(&format!("- **update** `log group {group} ({{region}})`"))
            || markdown
                .stdout
                .contains(&format!("- **update** `log group {group} ({region})`")),
        "{}",
        markdown.stdout
    );

    // Somebody sets a retention between review and apply: nothing is written.
    c.logs
        .put_retention_policy()
        .log_group_name(&group)
        .retention_in_days(14)
        .send()
        .await
        .unwrap();
    let apply = fleet(&["apply", "plan.json"]);
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stdout
            .contains("The plan is stale: 1 destination changed"),
        "{}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("+  \"retention_in_days\": 14"),
        "{}",
        apply.stdout
    );
    assert_eq!(retention(&c, &group).await, Some(14));
    assert!(
        c.s3.head_bucket()
            .bucket(format!("{tag}-{account}-{region}"))
            .send()
            .await
            .is_err(),
        "no bucket was created"
    );
    assert_eq!(
        get_config(&bedrock(&endpoint, &account, region).await).await,
        None
    );

    // A fresh plan applies.
    let saved = fleet(&["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let apply = fleet(&["apply", "plan.json"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(retention(&c, &group).await, Some(30));
}

#[test]
fn fleet_policy_grants_exactly_the_writes_of_managed_destinations() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file("mdpol", &["us-east-1", "eu-west-1"], &["210987654321"]),
    )
    .unwrap();
    let run = support::run_fleet(
        "http://127.0.0.1:9",
        dir.path(),
        &[
            "policy",
            "--account",
            "210987654321",
            "--region",
            "eu-west-1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let own = run
        .stdout
        .split("## IAM policy for the role fleet uses\n")
        .nth(1)
        .unwrap();
    let own: Value = serde_json::from_str(own.trim()).unwrap();
    let sid = |name: &str| {
        own["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == name)
            .unwrap_or_else(|| panic!("{name} in {own}"))
            .clone()
    };
    assert_eq!(
        sid("ManagedLoggingBuckets")["Resource"],
        json!([
            "arn:aws:s3:::mdpol-210987654321-eu-west-1",
            "arn:aws:s3:::mdpol-large-210987654321-eu-west-1"
        ])
    );
    assert!(
        sid("ManagedLoggingBuckets")["Action"]
            .as_array()
            .unwrap()
            .contains(&json!("s3:PutBucketPolicy"))
    );
    assert_eq!(
        sid("ManagedLoggingLogGroups")["Resource"],
        json!(["arn:aws:logs:eu-west-1:210987654321:log-group:/bedrock/mdpol"])
    );
    assert_eq!(
        sid("ManagedLoggingRoles")["Resource"],
        json!(["arn:aws:iam::210987654321:role/mdpol-bedrock-logs"])
    );
    // The role serves every region of the account: its trust is not bound
    // to the one region asked about.
    let trust = run
        .stdout
        .split("## CloudWatch role trust policy for ")
        .nth(1)
        .unwrap();
    let trust: Value = serde_json::from_str(
        trust
            .split_once('\n')
            .unwrap()
            .1
            .split("\n## ")
            .next()
            .unwrap()
            .trim(),
    )
    .unwrap();
    assert_eq!(
        trust["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"],
        "arn:aws:bedrock:*:210987654321:*"
    );
}

#[test]
fn one_resource_managed_two_ways_is_refused_naming_both_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"[fleet]
regions = ["us-east-1"]
role_name = "fleet-test"

[profiles.short.cloudwatch_config]
log_group_name = "/bedrock/shared"
role_arn = "arn:aws:iam::{account_id}:role/logs"
log_group = { retention_in_days = 7 }

[profiles.long.cloudwatch_config]
log_group_name = "/bedrock/shared"
role_arn = "arn:aws:iam::{account_id}:role/logs"
log_group = { retention_in_days = 30 }

[[accounts]]
id = "210987654321"
profile = "short"
region_profiles = { "us-east-1" = "short" }

[[accounts]]
id = "210987654322"
profile = "long"
"#;
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let run = support::run_fleet("http://127.0.0.1:9", dir.path(), &["validate"]);
    assert_eq!(
        run.code, 0,
        "different accounts: different log groups\n{}",
        run.stderr
    );

    let text = text.replace(
        "id = \"210987654322\"",
        "id = \"210987654322\"\nregions = [\"eu-west-1\"]",
    );
    let same_account = text.replace(
        "[[accounts]]\nid = \"210987654322\"\nregions = [\"eu-west-1\"]\nprofile = \"long\"",
        "",
    ) + "\n[[accounts]]\nid = \"210987654323\"\nprofile = \"short\"\nregions = [\"us-east-1\", \"us-west-2\"]\nregion_profiles = { \"us-west-2\" = \"long\" }\n";
    std::fs::write(dir.path().join("fleet.toml"), &same_account).unwrap();
    let run = support::run_fleet("http://127.0.0.1:9", dir.path(), &["validate"]);
    assert_eq!(run.code, 0, "one log group per region\n{}", run.stderr);

    let bucket = r#"[fleet]
regions = ["us-east-1"]
role_name = "fleet-test"

[profiles.a.s3_config]
bucket_name = "shared-{account_id}"
bucket = { expire_after_days = 30 }

[profiles.b.s3_config]
bucket_name = "shared-{account_id}"
key_prefix = "other"
bucket = { expire_after_days = 90 }

[[accounts]]
id = "210987654321"
profile = "a"
regions = ["us-east-1", "us-west-2"]
region_profiles = { "us-west-2" = "b" }
"#;
    std::fs::write(dir.path().join("fleet.toml"), bucket).unwrap();
    let run = support::run_fleet("http://127.0.0.1:9", dir.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "bucket shared-210987654321 of account 210987654321 is managed by profiles `a` and `b` with different options"
        ),
        "{}",
        run.stderr
    );
    let line = bucket
        .lines()
        .position(|l| l.contains("expire_after_days = 90"))
        .unwrap()
        + 1;
    assert!(
        run.stderr.contains(&format!("fleet.toml:{line}:")),
        "{}",
        run.stderr
    );
}
