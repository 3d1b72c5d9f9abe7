//! `fleet audit` with `[fleet] protect = true` on (moto's) AWS
//! Organizations: an account that no attached SCP locks is warned about;
//! once fleet's own lock (`fleet policy --scp`) is attached to the account's
//! OU the warning is gone and the JSON names the policy; the management
//! account is said to be beyond SCPs; where Organizations cannot be read
//! (the emulator) the audit says "cannot tell" and still succeeds.

mod emulated;
mod support;

use serde_json::Value;
use support::{CALLER_ACCOUNT, TEST_ROLE_NAME};

fn fleet_file(member: &str) -> String {
    format!(
        r#"[fleet]
regions = ["us-east-1"]
role_name = "{TEST_ROLE_NAME}"
protect = true

[profiles.standard.s3_config]
bucket_name = "lock-logs-{{account_id}}-{{region}}"

[[accounts]]
id = "{member}"
profile = "standard"

[[accounts]]
id = "{CALLER_ACCOUNT}"
profile = "standard"
"#
    )
}

fn lock_of<'a>(doc: &'a Value, account: &str) -> &'a Value {
    doc["scp_lock"]
        .as_array()
        .expect("scp_lock is a list")
        .iter()
        .find(|l| l["account_id"] == account)
        .unwrap_or_else(|| panic!("{account} in {}", doc["scp_lock"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_the_lock_is_warned_about_until_the_lock_is_attached() {
    let endpoint = support::moto().endpoint();
    let (org, root, ou) = support::organization_with_ou(&endpoint, "workloads").await;
    let created = org
        .create_account()
        .account_name("workload")
        .email("workload@example.com")
        .send()
        .await
        .unwrap();
    let member = created
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_owned();
    org.move_account()
        .account_id(&member)
        .source_parent_id(&root)
        .destination_parent_id(&ou)
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), fleet_file(&member)).unwrap();
    let audit = || support::run_fleet(&endpoint, dir.path(), &["audit", "--format", "json"]);

    // Nothing attached yet: a warning naming the account, and the audit's
    // own verdict (missing logging: exit 2) is unchanged by it.
    let run = audit();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "warning: protect = true, but no service control policy attached to account {member}"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fleet policy --scp"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "account {CALLER_ACCOUNT} is the organization's management account"
        )),
        "{}",
        run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(lock_of(&doc, &member)["state"], "unlocked");
    assert_eq!(lock_of(&doc, CALLER_ACCOUNT)["state"], "management_account");

    // A policy that is not the lock does not count.
    support::attach_scp(
        &org,
        "deny-leaving",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#,
        &ou,
    )
    .await;
    let doc: Value = serde_json::from_str(&audit().stdout).unwrap();
    assert_eq!(lock_of(&doc, &member)["state"], "unlocked");

    // fleet's own lock, attached to the OU: locked, no warning.
    let printed = support::run_fleet(&endpoint, dir.path(), &["policy", "--scp"]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    support::attach_scp(
        &org,
        "fleet-bedrock-logging-lock",
        printed.stdout.trim(),
        &ou,
    )
    .await;
    let run = audit();
    assert!(
        !run.stderr.contains("no service control policy attached"),
        "{}",
        run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let locked = lock_of(&doc, &member);
    assert_eq!(locked["state"], "locked", "{locked}");
    assert_eq!(locked["policy"], "fleet-bedrock-logging-lock");
    assert_eq!(locked["attached_to"], ou.as_str());
}

#[test]
fn where_organizations_cannot_be_read_the_audit_cannot_tell_and_goes_on() {
    let emulator = emulated::Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file("210987654321").replace(
            &format!("id = \"{CALLER_ACCOUNT}\""),
            "id = \"123456789012\"",
        ),
    )
    .unwrap();
    let run = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["audit", "--format", "json"],
    );
    // Missing logging everywhere: findings, not an error.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "note: cannot tell whether a service control policy locks logging in account"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("(the same for 1 more account)"),
        "{}",
        run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(lock_of(&doc, "210987654321")["state"], "cannot_tell");
    // A plain reason, not the SDK's parse error of the emulator's answer.
    assert_eq!(lock_of(&doc, "210987654321")["error"]["code"], "NotServed");
    assert!(
        run.stderr.contains("it does not serve this AWS service"),
        "{}",
        run.stderr
    );
}
