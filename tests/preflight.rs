//! Preflight against moto's S3, IAM and CloudWatch Logs: each broken
//! destination is named, a correct one has no finding, strict mode writes
//! nothing, and the documents of `fleet policy` make preflight pass.

mod support;

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule,
};
use serde_json::{Value, json};
use support::{TEST_ROLE_NAME, bedrock, credentials, get_config};

const REGION: &str = "us-east-1";

fn fleet_file(accounts: &[(&str, String)]) -> String {
    let mut text = format!(
        r#"[fleet]
regions = ["{REGION}"]
role_name = "{TEST_ROLE_NAME}"

[profiles.p.s3_config]
bucket_name = "pf-{{account_id}}"
key_prefix = "bedrock"

[profiles.p.cloudwatch_config]
log_group_name = "/bedrock/{{account_id}}"
role_arn = "arn:aws:iam::{{account_id}}:role/bedrock-logs"
"#
    );
    for (name, id) in accounts {
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{id}\"\nname = \"{name}\"\nprofile = \"p\"\n"
        ));
    }
    text
}

struct Clients {
    s3: aws_sdk_s3::Client,
    s3_west: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

async fn clients(endpoint: &str, account: &str) -> Clients {
    let credentials = credentials(endpoint, account, REGION).await;
    let base = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .region(aws_config::Region::new(REGION))
        .build();
    let s3 = |region: &'static str| {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&base)
                .region(aws_config::Region::new(region))
                .force_path_style(true)
                .build(),
        )
    };
    Clients {
        s3: s3(REGION),
        s3_west: s3("us-west-2"),
        iam: aws_sdk_iam::Client::new(&base),
        logs: aws_sdk_cloudwatchlogs::Client::new(&base),
    }
}

/// The JSON documents of `fleet policy`, by the title of their section.
fn policy_documents(output: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for section in output.split("\n## ").skip(1) {
        let (title, body) = section.split_once('\n').unwrap();
        let json = body.split("\n# ").next().unwrap().trim();
        out.insert(
            title.to_owned(),
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{title}: {e}\n{json}")),
        );
    }
    out
}

fn document<'a>(docs: &'a BTreeMap<String, Value>, starts: &str) -> &'a Value {
    docs.iter()
        .find(|(t, _)| t.starts_with(starts))
        .unwrap_or_else(|| panic!("no {starts}"))
        .1
}

/// Sets up a destination as `fleet policy` says, then breaks one thing.
async fn set_up(endpoint: &str, account: &str, docs: &BTreeMap<String, Value>, broken: &str) {
    let c = clients(endpoint, account).await;
    let bucket = format!("pf-{account}");
    match broken {
        "missing bucket" => {}
        "bucket in another region" => {
            c.s3_west
                .create_bucket()
                .bucket(&bucket)
                .create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::UsWest2)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        _ => {
            c.s3.create_bucket().bucket(&bucket).send().await.unwrap();
            let mut policy = document(docs, "S3 bucket policy").clone();
            if broken == "no bedrock principal" {
                policy["Statement"][0]["Principal"] = json!({"Service": "logs.amazonaws.com"});
            }
            if broken == "wrong prefix" {
                policy["Statement"][0]["Resource"] =
                    json!([format!("arn:aws:s3:::{bucket}/other/*")]);
            }
            c.s3.put_bucket_policy()
                .bucket(&bucket)
                .policy(policy.to_string())
                .send()
                .await
                .unwrap();
            c.s3.put_bucket_ownership_controls()
                .bucket(&bucket)
                .ownership_controls(
                    OwnershipControls::builder()
                        .rules(
                            OwnershipControlsRule::builder()
                                .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    }
    if broken != "missing log group" {
        c.logs
            .create_log_group()
            .log_group_name(format!("/bedrock/{account}"))
            .send()
            .await
            .unwrap();
    }
    let mut trust = document(docs, "CloudWatch role trust policy").clone();
    if broken == "no trust" {
        trust["Statement"][0]["Principal"] = json!({"Service": "ec2.amazonaws.com"});
    }
    c.iam
        .create_role()
        .role_name("bedrock-logs")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    if broken != "no permissions" {
        c.iam
            .put_role_policy()
            .role_name("bedrock-logs")
            .policy_name("logs")
            .policy_document(document(docs, "CloudWatch role permission policy").to_string())
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_names_each_broken_destination_and_passes_a_correct_one() {
    let endpoint = support::moto().endpoint();
    let cases = [
        ("correct", ""),
        ("nobucket", "missing bucket"),
        ("westbucket", "bucket in another region"),
        ("noprincipal", "no bedrock principal"),
        ("wrongprefix", "wrong prefix"),
        ("nogroup", "missing log group"),
        ("notrust", "no trust"),
        ("noperms", "no permissions"),
    ];
    let accounts: Vec<(&str, String)> = cases
        .iter()
        .map(|(name, _)| (*name, support::fresh_account()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), fleet_file(&accounts)).unwrap();
    let fleet = |args: &[&str]| support::run_fleet(&endpoint, dir.path(), args).parts();

    for ((name, account), (_, broken)) in accounts.iter().zip(cases) {
        let (code, policy, stderr) = fleet(&["policy", "--account", account, "--region", REGION]);
        assert_eq!(code, 0, "{name}: {stderr}");
        let docs = policy_documents(&policy);
        assert!(
            docs.keys()
                .any(|t| t.starts_with("IAM policy for the role fleet uses")),
            "{policy}"
        );
        set_up(&endpoint, account, &docs, broken).await;
    }

    let (code, plan, stderr) = fleet(&["plan", "--format", "json"]);
    assert_eq!(code, 0, "warnings do not fail a plan: {stderr}");
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for target in plan["targets"].as_array().unwrap() {
        let name = target["account_name"].as_str().unwrap().to_owned();
        let problems = target["preflight"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["problem"].as_str().unwrap().to_owned())
            .collect();
        found.insert(name, problems);
    }
    let expect = |name: &str, starts: &[&str]| {
        let problems = &found[name];
        assert_eq!(problems.len(), starts.len(), "{name}: {problems:?}");
        for (problem, start) in problems.iter().zip(starts) {
            assert!(
                problem.starts_with(start),
                "{name}: {problem:?} should start with {start:?}"
            );
        }
    };
    expect("correct", &[]);
    expect("nobucket", &["the bucket does not exist"]);
    expect(
        "westbucket",
        &["the bucket is in us-west-2, not in us-east-1"],
    );
    expect(
        "noprincipal",
        &["the bucket policy does not let bedrock.amazonaws.com s3:PutObject"],
    );
    expect(
        "wrongprefix",
        &["the bucket policy does not let bedrock.amazonaws.com s3:PutObject"],
    );
    expect("nogroup", &["the log group does not exist"]);
    expect(
        "notrust",
        &["the role does not trust bedrock.amazonaws.com"],
    );
    expect(
        "noperms",
        &[
            "the role's policies do not allow logs:CreateLogStream",
            "the role's policies do not allow logs:PutLogEvents",
        ],
    );

    let (code, human, _) = fleet(&["plan"]);
    assert_eq!(code, 0);
    assert!(human.contains("preflight problem s3://pf-"), "{human}");
    assert!(
        human
            .contains("Preflight: 8 problems, 0 checks that could not run, 0 notes, in 7 targets."),
        "{human}"
    );

    // The pull-request comment names severities in words, not Rust enum names.
    let (code, markdown, _) = fleet(&["plan", "--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(markdown.contains(" | problem: "), "{markdown}");
    assert!(!markdown.contains("Problem:"), "{markdown}");

    let (code, _, stderr) = fleet(&["plan", "--preflight", "strict"]);
    assert_eq!(code, 1, "{stderr}");
    let (code, _, stderr) = fleet(&["apply", "--auto-approve", "--preflight", "strict"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(
            "preflight found problems and --preflight strict is set; nothing was written"
        ),
        "{stderr}"
    );
    for (name, account) in &accounts {
        assert_eq!(
            get_config(&bedrock(&endpoint, account, REGION).await).await,
            None,
            "{name}"
        );
    }
    let (code, _, stderr) = fleet(&["plan", "--preflight", "strict", "--target", "correct"]);
    assert_eq!(code, 0, "the correct destination passes strict: {stderr}");
}
