//! Discovery through the binary: `[[organizational_units]]` against moto's
//! AWS Organizations, `regions = "enabled"` against `fleet emulator` (moto
//! does not serve the Account API's ListRegions), `fleet targets`, and the
//! file checks of both.
//!
//! moto keeps one organization per management account, and the caller
//! (`123456789012`) is the management account of every test in this
//! process. So the organization is created once, and each test builds its
//! own subtree of OUs under the root; no test uses the root itself, which
//! would reach the other tests' accounts.

mod emulated;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use aws_sdk_organizations::config::{BehaviorVersion, Region};
use aws_smithy_types::error::display::DisplayErrorContext;
use emulated::Emulator;
use serde_json::Value;
use support::{Run, TEST_ROLE_NAME, moto};

// ---------------------------------------------------------------------
// An organization in moto.

fn organizations(endpoint: &str) -> aws_sdk_organizations::Client {
    let config = aws_sdk_organizations::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    aws_sdk_organizations::Client::from_conf(config)
}

/// A subtree of moto's organization that belongs to one test.
struct Org {
    client: aws_sdk_organizations::Client,
    root: String,
}

impl Org {
    /// The process's organization (created by the first test that asks).
    async fn new(endpoint: &str) -> Org {
        // Tests run on runtimes of their own: an async mutex that needs none.
        static CREATED: tokio::sync::Mutex<bool> = tokio::sync::Mutex::const_new(false);
        let client = organizations(endpoint);
        let mut created = CREATED.lock().await;
        if !*created {
            client
                .create_organization()
                .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
                .send()
                .await
                .unwrap_or_else(|e| panic!("create_organization: {}", DisplayErrorContext(&e)));
            *created = true;
        }
        drop(created);
        let roots = client.list_roots().send().await.expect("list_roots");
        let root = roots.roots()[0].id().unwrap().to_owned();
        Org { client, root }
    }

    async fn unit(&self, parent: &str, name: &str) -> String {
        self.client
            .create_organizational_unit()
            .parent_id(parent)
            .name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create OU {name}: {}", DisplayErrorContext(&e)))
            .organizational_unit()
            .unwrap()
            .id()
            .unwrap()
            .to_owned()
    }

    /// A new ACTIVE account, moved into `parent`.
    async fn account(&self, parent: &str, name: &str) -> String {
        let status = self
            .client
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create account {name}: {}", DisplayErrorContext(&e)));
        let id = status
            .create_account_status()
            .unwrap()
            .account_id()
            .unwrap()
            .to_owned();
        self.client
            .move_account()
            .account_id(&id)
            .source_parent_id(&self.root)
            .destination_parent_id(parent)
            .send()
            .await
            .unwrap_or_else(|e| panic!("move account {name}: {}", DisplayErrorContext(&e)));
        id
    }

    /// Closes an account: moto makes it SUSPENDED.
    async fn close(&self, id: &str) {
        self.client
            .close_account()
            .account_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("close account {id}: {}", DisplayErrorContext(&e)));
    }
}

const PROFILE: &str = r#"
[profiles.p]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.p.s3_config]
bucket_name = "logs-{account_id}-{region}"

[profiles.off]
enabled = false
"#;

fn fleet_head(regions: &str) -> String {
    format!("[fleet]\nregions = {regions}\nrole_name = \"{TEST_ROLE_NAME}\"\n{PROFILE}")
}

fn run(endpoint: &str, dir: &std::path::Path, args: &[&str]) -> Run {
    support::run_fleet(endpoint, dir, args)
}

/// `fleet plan --format json`: target → action.
fn planned(endpoint: &str, dir: &std::path::Path) -> (Run, Vec<(String, String)>) {
    let run = run(endpoint, dir, &["plan", "--format", "json"]);
    let plan: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\nstdout: {}\nstderr: {}", run.stdout, run.stderr));
    let mut targets: Vec<(String, String)> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap().to_owned(),
                t["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    targets.sort();
    (run, targets)
}

fn each_region(accounts: &[&str], regions: &[&str], action: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = accounts
        .iter()
        .flat_map(|a| {
            regions
                .iter()
                .map(move |r| (format!("{a}/{r}"), action.to_owned()))
        })
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------
// Organizational units, against moto.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ou_entry_reaches_exactly_the_active_accounts_below_it() {
    let moto = moto();
    let endpoint = moto.endpoint();
    let org = Org::new(&endpoint).await;
    let top = org.unit(&org.root, "reach-top").await;
    let mid = org.unit(&top, "reach-mid").await;
    let leaf = org.unit(&mid, "reach-leaf").await;
    let elsewhere = org.unit(&org.root, "reach-elsewhere").await;
    org.account(&top, "reach-a1").await;
    let suspended = org.account(&top, "reach-a2").await;
    org.close(&suspended).await;
    org.account(&mid, "reach-b1").await;
    org.account(&leaf, "reach-c1").await;
    org.account(&elsewhere, "reach-d1").await;

    let dir = tempfile::tempdir().unwrap();
    let regions = ["eu-west-1", "us-east-1"];
    let write = |recursive: bool| {
        let text = format!(
            "{}\n[[organizational_units]]\nid = \"{top}\"\nname = \"top\"\nrecursive = {recursive}\nprofile = \"p\"\n",
            fleet_head("[\"us-east-1\", \"eu-west-1\"]")
        );
        std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    };

    write(false);
    let (run_once, targets) = planned(&endpoint, dir.path());
    assert_eq!(run_once.code, 0, "{}", run_once.stderr);
    assert_eq!(targets, each_region(&["reach-a1"], &regions, "create"));

    write(true);
    let (plan, targets) = planned(&endpoint, dir.path());
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(
        targets,
        each_region(&["reach-a1", "reach-b1", "reach-c1"], &regions, "create"),
        "active accounts below the OU only: not the suspended one, not the OU beside it"
    );
    assert!(
        plan.stderr.contains(&format!(
            "note: account reach-a2 ({suspended}) under {top} (top, line 15) is SUSPENDED: not managed"
        )),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains("note: 6 of 6 targets came from discovery (6 under organizational units, 0 in enabled regions)"),
        "{}",
        plan.stderr
    );

    // Apply reaches the discovered accounts through their role.
    let apply = run(&endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("Apply: 6 applied, 0 failed"),
        "{}",
        apply.stdout
    );
    let again = run(&endpoint, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    // An account created since is planned as creates, and nothing else.
    org.account(&mid, "reach-b2").await;
    let (plan, targets) = planned(&endpoint, dir.path());
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let changed: Vec<(String, String)> = targets
        .into_iter()
        .filter(|(_, action)| action != "no-op")
        .collect();
    assert_eq!(changed, each_region(&["reach-b2"], &regions, "create"));
    let detailed = run(
        &endpoint,
        dir.path(),
        &["plan", "--detailed-exitcode", "--each-diff"],
    );
    assert_eq!(detailed.code, 2, "{}", detailed.stderr);
    assert!(
        detailed
            .stdout
            .contains("+ create reach-b2/us-east-1 (profile p)"),
        "{}",
        detailed.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclude_and_an_accounts_entry_decide_over_an_ou_entry() {
    let moto = moto();
    let endpoint = moto.endpoint();
    let org = Org::new(&endpoint).await;
    let unit = org.unit(&org.root, "excl-unit").await;
    org.account(&unit, "excl-keep").await;
    org.account(&unit, "excl-sandbox-1").await;
    let dropped = org.account(&unit, "excl-drop").await;
    let pinned = org.account(&unit, "excl-pinned").await;

    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[[accounts]]\nid = \"{pinned}\"\nname = \"pinned\"\nprofile = \"off\"\nregions = [\"us-east-1\"]\n\n[[organizational_units]]\nid = \"{unit}\"\nprofile = \"p\"\nexclude = [\"*sandbox*\", \"{dropped}\"]\n",
        fleet_head("[\"us-east-1\", \"eu-west-1\"]")
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();

    let (plan, targets) = planned(&endpoint, dir.path());
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let mut expected = each_region(&["excl-keep"], &["eu-west-1", "us-east-1"], "create");
    expected.push(("pinned/us-east-1".to_owned(), "no-op".to_owned()));
    expected.sort();
    assert_eq!(targets, expected);
    assert!(
        plan.stderr.contains(&format!(
            "note: account pinned ({pinned}) is under {unit} (line 21) but is managed by its [[accounts]] entry on line 15"
        )),
        "{}",
        plan.stderr
    );

    // `fleet targets` shows the same, and why.
    let listed = run(&endpoint, dir.path(), &["targets", "--format", "json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let doc: Value = serde_json::from_str(&listed.stdout).unwrap();
    let mut excluded: Vec<(&str, &str)> = doc["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["account_name"].as_str().unwrap(),
                e["pattern"].as_str().unwrap(),
            )
        })
        .collect();
    excluded.sort();
    assert_eq!(
        excluded,
        [
            ("excl-drop", dropped.as_str()),
            ("excl-sandbox-1", "*sandbox*")
        ]
    );
    assert_eq!(
        doc["managed_by_account_entry"][0]["account_line"],
        Value::from(15)
    );
    let human = run(&endpoint, dir.path(), &["targets"]);
    let pinned_row = human
        .stdout
        .lines()
        .find(|line| line.starts_with("pinned/us-east-1 "))
        .unwrap_or_else(|| panic!("{}", human.stdout));
    assert!(
        pinned_row.contains(" off ") && pinned_row.contains("[[accounts]] line 15"),
        "{}",
        human.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ou_entries_that_disagree_stop_the_run_before_any_read() {
    let moto = moto();
    let endpoint = moto.endpoint();
    let org = Org::new(&endpoint).await;
    let outer = org.unit(&org.root, "clash-outer").await;
    let inner = org.unit(&outer, "clash-inner").await;
    let account = org.account(&inner, "clash-a").await;

    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[[organizational_units]]\nid = \"{outer}\"\nname = \"outer\"\nprofile = \"p\"\n\n[[organizational_units]]\nid = \"{inner}\"\nname = \"inner\"\nprofile = \"off\"\n",
        fleet_head("[\"us-east-1\"]")
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"][..],
        &["targets"][..],
    ] {
        let run = run(&endpoint, dir.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "account {account} (clash-a) is under two [[organizational_units]] entries that disagree (profile `p` against `off`): {outer} (outer, line 15) and {inner} (inner, line 20)"
            )),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("no logging configuration was read or written"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    let bedrock = support::bedrock(&endpoint, &account, "us-east-1").await;
    assert_eq!(
        support::get_config(&bedrock).await,
        None,
        "nothing was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_an_ou_is_listed() {
    let moto = moto();
    let endpoint = moto.endpoint();
    let org = Org::new(&endpoint).await;
    let unit = org.unit(&org.root, "pages-unit").await;
    // moto answers ListAccountsForParent 20 accounts a page.
    for i in 0..23 {
        org.account(&unit, &format!("pages-{i:02}")).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[[organizational_units]]\nid = \"{unit}\"\nprofile = \"p\"\n",
        fleet_head("[\"us-east-1\"]")
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let listed = run(&endpoint, dir.path(), &["targets", "--format", "json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let doc: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(
        doc["summary"]["accounts"],
        Value::from(23),
        "{}",
        listed.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ou_that_does_not_exist_is_one_clear_error() {
    let moto = moto();
    let endpoint = moto.endpoint();
    Org::new(&endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[[organizational_units]]\nid = \"ou-zzzz-99999999\"\nprofile = \"p\"\n",
        fleet_head("[\"us-east-1\"]")
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let plan = run(&endpoint, dir.path(), &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(
        plan.stderr.contains(
            "cannot list ou-zzzz-99999999 for the [[organizational_units]] entry ou-zzzz-99999999 (line 15): ParentNotFoundException"
        ),
        "{}",
        plan.stderr
    );
}

// ---------------------------------------------------------------------
// Enabled regions, against the fleet emulator.

/// `PUT /_emulator/regions`.
fn put_regions(emulator: &Emulator, changes: &Value) {
    let addr = emulator.endpoint.trim_start_matches("http://");
    let body = changes.to_string();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "PUT /_emulator/regions HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
}

/// The regions a new account has enabled that fleet knows Bedrock runs in.
const DEFAULT_ENABLED: [&str; 17] = [
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

#[test]
fn a_region_enabled_between_two_plans_is_in_the_second() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[[accounts]]\nid = \"310000000001\"\nname = \"edge\"\nprofile = \"p\"\n",
        fleet_head("\"enabled\"")
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();

    let validate = run(&emulator.endpoint, dir.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate.stdout.contains(
            "Plus what AWS resolves: 0 organizational unit entries, 1 account with regions = \"enabled\""
        ),
        "{}",
        validate.stdout
    );
    assert_eq!(emulator.stats()["requests"]["get"], Value::from(0));

    let (plan, targets) = planned(&emulator.endpoint, dir.path());
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(targets, each_region(&["edge"], &DEFAULT_ENABLED, "create"));
    let apply = run(&emulator.endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);

    put_regions(
        &emulator,
        &serde_json::json!({ "310000000001": { "me-central-1": "ENABLED", "us-west-1": "DISABLED" } }),
    );
    let plan = run(
        &emulator.endpoint,
        dir.path(),
        &["plan", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("+ create edge/me-central-1 (profile p)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to create, 0 to update, 0 to delete, 16 unchanged, 0 failed."),
        "a disabled region is no longer managed\n{}",
        plan.stdout
    );
}

#[test]
fn an_account_whose_regions_cannot_be_read_fails_alone() {
    let emulator = Emulator::start(&["--fault", "denied:1:320000000001/*:assume_role"]);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[[accounts]]\nid = \"320000000001\"\nname = \"locked\"\nprofile = \"p\"\nregions = \"enabled\"\n\n[[accounts]]\nid = \"320000000002\"\nname = \"open\"\nprofile = \"p\"\n",
        fleet_head("[\"us-east-1\"]")
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let plan = run(&emulator.endpoint, dir.path(), &["plan"]);
    assert_eq!(plan.code, 1, "never silently skipped\n{}", plan.stderr);
    assert!(
        plan.stderr.contains(
            "error: locked (320000000001): AccessDenied: cannot read the account's enabled regions: cannot assume arn:aws:iam::320000000001:role/fleet-test"
        ),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stdout.contains("+ create open/us-east-1"),
        "the other accounts are still planned\n{}",
        plan.stdout
    );
    let apply = run(&emulator.endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{}", apply.stderr);
    assert_eq!(emulator.writes(), 1, "only the readable account is written");
}

#[test]
fn targets_json() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[[accounts]]\nid = \"330000000001\"\nname = \"prod\"\nprofile = \"p\"\nregion_profiles = {{ \"eu-west-1\" = \"off\" }}\n\n[[accounts]]\nid = \"330000000002\"\nname = \"legacy\"\nprofile = \"p\"\nregions = [\"us-east-1\"]\n",
        fleet_head("\"enabled\"")
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let listed = run(
        &emulator.endpoint,
        dir.path(),
        &[
            "targets",
            "--format",
            "json",
            "--target",
            "prod/eu-*",
            "--target",
            "legacy",
        ],
    );
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    insta::assert_snapshot!(listed.stdout);
}

// ---------------------------------------------------------------------
// File checks: no network.

fn invalid(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let run = run("http://127.0.0.1:9", dir.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.stderr
}

#[test]
fn ou_entries_are_checked_with_file_line_and_column() {
    let head = fleet_head("[\"us-east-1\"]");
    let stderr = invalid(&format!(
        "{head}\n[[organizational_units]]\nid = \"ou-123\"\nprofile = \"p\"\n"
    ));
    assert!(
        stderr.contains("fleet.toml:16:6")
            && stderr.contains("`ou-123` is not an organizational unit or root id"),
        "{stderr}"
    );
    let stderr = invalid(&format!(
        "{head}\n[[organizational_units]]\nid = \"r-ab12\"\nprofile = \"pp\"\nexclude = [\"[\"]\n"
    ));
    assert!(
        stderr.contains("fleet.toml:17:11") && stderr.contains("profile `pp` does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fleet.toml:18:12") && stderr.contains("`[` is not a valid glob"),
        "{stderr}"
    );
    let stderr = invalid(&format!(
        "{head}\n[[organizational_units]]\nid = \"r-ab12\"\nprofile = \"p\"\nregions = \"all\"\n\n[[organizational_units]]\nid = \"r-ab12\"\nprofile = \"p\"\n"
    ));
    assert!(
        stderr.contains("fleet.toml:18:11") && stderr.contains("`all` is not a list of regions"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fleet.toml:21:6")
            && stderr.contains("organizational unit r-ab12 is listed twice"),
        "{stderr}"
    );
    let no_role = format!(
        "[fleet]\nregions = [\"us-east-1\"]\n{PROFILE}\n[[organizational_units]]\nid = \"r-ab12\"\nprofile = \"p\"\nregion_profiles = {{ \"eu-west-1\" = \"off\" }}\n"
    );
    let stderr = invalid(&no_role);
    assert!(
        stderr.contains("accounts under this organizational unit have no role to assume"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "region_profiles names eu-west-1, which this organizational unit entry does not manage"
        ),
        "{stderr}"
    );
}

#[test]
fn a_file_with_only_ou_entries_is_valid_without_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[[organizational_units]]\nid = \"r-ab12\"\nrecursive = false\nprofile = \"p\"\nregions = \"enabled\"\nregion_profiles = {{ \"eu-central-2\" = \"off\" }}\n",
        fleet_head("[\"us-east-1\"]")
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let run = run("http://127.0.0.1:9", dir.path(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("is valid: 0 targets in 0 accounts, 2 profiles.")
            && run
                .stdout
                .contains("Plus what AWS resolves: 1 organizational unit entry, 0 accounts"),
        "{}",
        run.stdout
    );
}
