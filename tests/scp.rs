//! `fleet policy --scp`: a service control policy that locks Bedrock
//! invocation logging and the destinations fleet manages, exempting fleet's
//! roles; within the SCP size limit for any fleet file; accepted and
//! attached to an OU by (moto's) AWS Organizations.

mod support;

use serde_json::Value;

const FLEET: &str = r#"[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "BedrockLoggingAdmin"

[profiles.standard.s3_config]
bucket_name = "bedrock-logs-{account_id}-{region}"
bucket = { expire_after_days = 365 }

[profiles.standard.cloudwatch_config]
log_group_name = "/aws/bedrock/model-invocations"
role_arn = "arn:{partition}:iam::{account_id}:role/bedrock-cloudwatch-logging"
log_group = { retention_in_days = 30 }
role = {}

[[accounts]]
id = "111111111111"
profile = "standard"

[[accounts]]
id = "222222222222"
profile = "standard"
role_arn = "arn:aws:iam::222222222222:role/OtherAdmin"
"#;

fn scp(dir: &std::path::Path, extra: &[&str]) -> (Value, support::Run) {
    let mut args = vec!["policy", "--scp"];
    args.extend_from_slice(extra);
    let run = support::run_fleet("http://127.0.0.1:9", dir, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    (serde_json::from_str(run.stdout.trim()).unwrap(), run)
}

fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("{sid} in {policy}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_denies_everyone_but_fleet_and_organizations_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), FLEET).unwrap();
    let (policy, run) = scp(dir.path(), &["--break-glass-role", "BreakGlass"]);
    let text = run.stdout.trim();
    assert!(text.len() <= 5120, "{} characters", text.len());
    assert!(
        run.stderr
            .contains(&format!("note: {} of 5120 characters", text.len())),
        "{}",
        run.stderr
    );

    let logging = statement(&policy, "ProtectBedrockInvocationLogging");
    assert_eq!(logging["Effect"], "Deny");
    assert_eq!(
        logging["Action"],
        serde_json::json!([
            "bedrock:PutModelInvocationLoggingConfiguration",
            "bedrock:DeleteModelInvocationLoggingConfiguration"
        ])
    );
    let mut exempt: Vec<&str> = logging["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    exempt.sort();
    assert_eq!(
        exempt,
        [
            "arn:*:iam::*:role/BedrockLoggingAdmin",
            "arn:*:iam::*:role/BreakGlass",
            "arn:*:iam::*:role/OtherAdmin"
        ]
    );
    assert_eq!(
        statement(&policy, "ProtectManagedLoggingBuckets")["Resource"],
        serde_json::json!(["arn:*:s3:::bedrock-logs-*-*"])
    );
    assert!(
        statement(&policy, "ProtectManagedLoggingLogGroups")["Action"]
            .as_array()
            .unwrap()
            .contains(&Value::from("logs:PutRetentionPolicy"))
    );
    assert_eq!(
        statement(&policy, "ProtectManagedLoggingRoles")["Resource"],
        serde_json::json!(["arn:*:iam::*:role/bedrock-cloudwatch-logging"])
    );

    // Organizations takes it and attaches it to an OU.
    let endpoint = support::moto().endpoint();
    let (org, _, ou) = support::organization_with_ou(&endpoint, "workloads").await;
    let policy_id = support::attach_scp(&org, "fleet-bedrock-logging-lock", text, &ou).await;
    let attached = org
        .list_policies_for_target()
        .target_id(&ou)
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    assert!(
        attached
            .policies()
            .iter()
            .any(|p| p.id() == Some(policy_id.as_str()))
    );
}

#[test]
fn a_large_fleet_is_widened_to_fit_and_says_so() {
    let mut text =
        String::from("[fleet]\nregions = [\"us-east-1\"]\nrole_name = \"BedrockLoggingAdmin\"\n");
    for i in 0..200 {
        text.push_str(&format!(
            "\n[profiles.p{i}.s3_config]\nbucket_name = \"team{i}-bedrock-logs-{{account_id}}-{{region}}\"\nbucket = {{}}\n"
        ));
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{:012}\"\nprofile = \"p{i}\"\n",
            300_000_000_000u64 + i
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let (policy, run) = scp(dir.path(), &[]);
    assert!(run.stdout.trim().len() <= 5120, "{}", run.stdout.len());
    assert!(
        run.stderr.contains("did not fit the SCP size limit"),
        "{}",
        run.stderr
    );
    assert_eq!(
        statement(&policy, "ProtectManagedLoggingBuckets")["Resource"],
        "arn:*:s3:::team*"
    );
}
