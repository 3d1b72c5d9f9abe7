//! `fleet audit` through the real binary: three accounts × four managed
//! regions against moto, seeded through the SDK with every kind of finding
//! and scanned across every Bedrock region, in every output format; then a
//! denied region against `fleet emulator`.

mod emulated;
mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::{Run, TEST_ROLE_NAME, bedrock, put_config};

const MANAGED: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];

/// The `standard` profile: S3, CloudWatch and a large-data bucket.
const STANDARD: &str = r#"[profiles.standard]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.standard.s3_config]
bucket_name = "logs-{account_id}-{region}"
key_prefix = "bedrock"

[profiles.standard.cloudwatch_config]
log_group_name = "/aws/bedrock/{account_name}"
role_arn = "arn:{partition}:iam::{account_id}:role/bedrock-logging"

[profiles.standard.cloudwatch_config.large_data_delivery_s3_config]
bucket_name = "large-{account_id}-{region}"
"#;

fn fleet_file(alpha: &str, beta: &str, gamma: &str) -> String {
    format!(
        r#"[fleet]
regions = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]
role_name = "{TEST_ROLE_NAME}"

{STANDARD}
[profiles.stream]
image_data_delivery_enabled = false

[profiles.stream.cloudwatch_config]
log_group_name = "/aws/bedrock/stream"
role_arn = "arn:aws:iam::{{account_id}}:role/bedrock-logging"

[profiles.off]
enabled = false

[[accounts]]
id = "{alpha}"
name = "alpha"
profile = "standard"

[[accounts]]
id = "{beta}"
name = "beta"
profile = "standard"
region_profiles = {{ "eu-west-1" = "off", "ap-southeast-2" = "stream" }}

[[accounts]]
id = "{gamma}"
name = "gamma"
profile = "standard"
regions = ["us-east-1", "us-west-2"]
"#
    )
}

fn standard(account: &str, name: &str, region: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true,
        "image_data_delivery_enabled": true,
        "embedding_data_delivery_enabled": true,
        "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("logs-{account}-{region}"), "key_prefix": "bedrock" },
        "cloudwatch_config": {
            "log_group_name": format!("/aws/bedrock/{name}"),
            "role_arn": format!("arn:aws:iam::{account}:role/bedrock-logging"),
            "large_data_delivery_s3_config": { "bucket_name": format!("large-{account}-{region}") }
        }
    })
}

fn stream(account: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true,
        "image_data_delivery_enabled": false,
        "embedding_data_delivery_enabled": true,
        "video_data_delivery_enabled": true,
        "audio_data_delivery_enabled": true,
        "cloudwatch_config": {
            "log_group_name": "/aws/bedrock/stream",
            "role_arn": format!("arn:aws:iam::{account}:role/bedrock-logging")
        }
    })
}

/// Seeds, per kind of finding:
/// - compliant: alpha/us-east-1, alpha/ap-southeast-2, beta/us-east-1,
///   beta/us-west-2, gamma/us-east-1, gamma/us-west-2, and beta/ap-southeast-2
///   (profile `stream`: CloudWatch only, so two warnings);
/// - drift: alpha/us-west-2 (video on), beta/eu-west-1 (logs, profile off);
/// - missing: alpha/eu-west-1;
/// - unmanaged: gamma/eu-central-1, logging to a bucket named after alpha
///   (a foreign destination);
/// - unlogged: every other Bedrock region of every account.
async fn seed(endpoint: &str, alpha: &str, beta: &str, gamma: &str) {
    let put = |account: &str, region: &str, config: Value| {
        let (account, region) = (account.to_owned(), region.to_owned());
        async move { put_config(&bedrock(endpoint, &account, &region).await, &config).await }
    };
    put(alpha, "us-east-1", standard(alpha, "alpha", "us-east-1")).await;
    put(
        alpha,
        "ap-southeast-2",
        standard(alpha, "alpha", "ap-southeast-2"),
    )
    .await;
    let mut drifted = standard(alpha, "alpha", "us-west-2");
    drifted["video_data_delivery_enabled"] = json!(true);
    put(alpha, "us-west-2", drifted).await;
    for region in ["us-east-1", "us-west-2"] {
        put(beta, region, standard(beta, "beta", region)).await;
        put(gamma, region, standard(gamma, "gamma", region)).await;
    }
    put(beta, "eu-west-1", standard(beta, "beta", "eu-west-1")).await;
    put(beta, "ap-southeast-2", stream(beta)).await;
    put(
        gamma,
        "eu-central-1",
        json!({ "s3_config": { "bucket_name": format!("shared-logs-{alpha}") } }),
    )
    .await;
}

/// Every region `--all-regions` reads for an account in the `aws` partition.
fn aws_regions() -> Vec<&'static str> {
    fleet::fleet::BEDROCK_REGIONS
        .iter()
        .copied()
        .filter(|r| !r.starts_with("us-gov-"))
        .collect()
}

type Findings = BTreeSet<(String, String)>;

fn finding(kind: &str, target: &str) -> (String, String) {
    (kind.to_owned(), target.to_owned())
}

/// What the seed must produce with `--all-regions`.
fn seeded_findings() -> Findings {
    let mut expected: Findings = [
        ("drift", "alpha/us-west-2"),
        ("drift", "beta/eu-west-1"),
        ("missing", "alpha/eu-west-1"),
        ("unmanaged", "gamma/eu-central-1"),
        ("foreign_destination", "gamma/eu-central-1"),
        ("no_s3_retention", "beta/ap-southeast-2"),
        ("no_large_data_bucket", "beta/ap-southeast-2"),
    ]
    .into_iter()
    .map(|(k, t)| finding(k, t))
    .collect();
    for region in aws_regions() {
        for account in ["alpha", "beta"] {
            if !MANAGED.contains(&region) {
                expected.insert(finding("unlogged", &format!("{account}/{region}")));
            }
        }
        if !["us-east-1", "us-west-2", "eu-central-1"].contains(&region) {
            expected.insert(finding("unlogged", &format!("gamma/{region}")));
        }
    }
    expected
}

fn fleet_in(endpoint: &str, dir: &std::path::Path, args: &[&str]) -> Run {
    support::run_fleet(endpoint, dir, args)
}

fn from_json(stdout: &str) -> Findings {
    let doc: Value = serde_json::from_str(stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| finding(f["kind"].as_str().unwrap(), f["target"].as_str().unwrap()))
        .collect()
}

/// A CSV line split into fields (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn from_csv(stdout: &str) -> Findings {
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("kind,target,account_id,account_name,region,profile,detail,severity,changed_by")
    );
    lines
        .map(|line| {
            let fields = csv_fields(line);
            assert_eq!(fields.len(), 9, "{line}");
            assert_eq!(
                fields[1],
                format!("{}/{}", fields[3], fields[4]),
                "target is account_name/region"
            );
            finding(&fields[0], &fields[1])
        })
        .collect()
}

/// Rows of the human tables: a heading `KIND (N) — …`, then rows indented
/// by two spaces whose first word is the target.
fn from_human(stdout: &str) -> Findings {
    let mut found = Findings::new();
    let mut kind = String::new();
    for line in stdout.lines() {
        if !line.starts_with(' ') && line.contains(" — ") {
            kind = line.split(' ').next().unwrap().to_owned();
        } else if let Some(row) = line.strip_prefix("  ") {
            let first = row.split_whitespace().next().unwrap_or_default();
            if first.contains('/') {
                assert!(found.insert(finding(&kind, first)), "twice: {line}");
            }
        }
    }
    found
}

fn from_markdown(stdout: &str) -> Findings {
    let mut found = Findings::new();
    let mut kind = String::new();
    for line in stdout.lines() {
        if let Some(heading) = line.strip_prefix("#### ") {
            kind = heading.split(' ').next().unwrap().to_owned();
        } else if let Some(row) = line.strip_prefix("| `")
            && kind != "Accounts"
        {
            // Rows of the "Accounts × regions" matrix are accounts, not findings.
            let target = row.split('`').next().unwrap();
            assert!(found.insert(finding(&kind, target)), "twice: {line}");
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_reports_exactly_the_seeded_findings_in_every_format() {
    let endpoint = support::moto().endpoint();
    let (alpha, beta, gamma) = (
        support::fresh_account(),
        support::fresh_account(),
        support::fresh_account(),
    );
    seed(&endpoint, &alpha, &beta, &gamma).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(&alpha, &beta, &gamma),
    )
    .unwrap();
    let fleet = |args: &[&str]| fleet_in(&endpoint, dir.path(), args);
    let expected = seeded_findings();

    let json = fleet(&["audit", "--all-regions", "--format", "json"]);
    assert_eq!(
        json.code, 2,
        "findings exit 2\n{}\n{}",
        json.stdout, json.stderr
    );
    assert_eq!(from_json(&json.stdout), expected, "{}", json.stdout);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let aws = aws_regions().len();
    assert_eq!(doc["format_version"], 3);
    assert_eq!(doc["verdict"], "findings");
    assert_eq!(
        doc["summary"],
        json!({
            "targets": 3 * aws, "compliant": 7, "drift": 2, "destination_drift": 0, "missing": 1, "unmanaged": 1,
            "unlogged": 3 * aws - 11, "error": 0, "not_enabled": 0, "foreign_destination": 1,
            "no_s3_retention": 1, "no_large_data_bucket": 1, "in_use": 0, "idle": 0,
            "findings": 3 * aws - 7, "warnings": 3
        })
    );
    let drift = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == "alpha/us-west-2")
        .unwrap();
    assert_eq!(
        drift["detail"],
        "differs from profile `standard` in video_data_delivery_enabled"
    );
    assert!(
        drift["diff"]
            .as_str()
            .unwrap()
            .contains("-video_data_delivery_enabled = true\n+video_data_delivery_enabled = false"),
        "{drift}"
    );

    let csv = fleet(&["audit", "--all-regions", "--format", "csv"]);
    assert_eq!(csv.code, 2, "{}", csv.stderr);
    assert_eq!(from_csv(&csv.stdout), expected, "{}", csv.stdout);

    let human = fleet(&["audit", "--all-regions"]);
    assert_eq!(human.code, 2, "{}", human.stderr);
    assert_eq!(from_human(&human.stdout), expected, "{}", human.stdout);
    let counts = format!(
        "Audit: {} targets: 7 compliant, 2 drift, 0 destination drift, 1 missing, 1 unmanaged, {} unlogged, 0 error; warnings: 1 foreign_destination, 1 no_s3_retention, 1 no_large_data_bucket.",
        3 * aws,
        3 * aws - 11
    );
    assert!(human.stdout.contains(&counts), "{}", human.stdout);
    assert!(
        human.stdout.contains("+++ desired: beta/eu-west-1"),
        "{}",
        human.stdout
    );

    let markdown = fleet(&["audit", "--all-regions", "--format", "markdown"]);
    assert_eq!(markdown.code, 2, "{}", markdown.stderr);
    assert!(
        markdown
            .stdout
            .contains("#### Accounts × regions\n\n| account |"),
        "{}",
        markdown.stdout
    );
    assert_eq!(
        from_markdown(&markdown.stdout),
        expected,
        "{}",
        markdown.stdout
    );
    assert!(
        markdown
            .stdout
            .contains("<details><summary>diff <code>alpha/us-west-2</code>")
    );

    // Managed regions only: no unmanaged or unlogged findings.
    let managed = fleet(&["audit", "--format", "json"]);
    assert_eq!(managed.code, 2, "{}", managed.stderr);
    let only_managed: Findings = expected
        .iter()
        .filter(|(kind, target)| {
            !["unmanaged", "unlogged"].contains(&kind.as_str()) && target != "gamma/eu-central-1"
        })
        .cloned()
        .collect();
    assert_eq!(from_json(&managed.stdout), only_managed);

    // Filters narrow the scope, unmanaged regions included.
    let filtered = fleet(&[
        "audit",
        "--all-regions",
        "--format",
        "csv",
        "--target",
        "gamma/eu-*",
        "--exclude",
        "*/eu-west-*",
    ]);
    assert_eq!(filtered.code, 2, "{}", filtered.stderr);
    let gamma_eu: Findings = expected
        .iter()
        .filter(|(_, t)| t.starts_with("gamma/eu-") && !t.starts_with("gamma/eu-west-"))
        .cloned()
        .collect();
    assert!(gamma_eu.contains(&finding("unmanaged", "gamma/eu-central-1")));
    assert_eq!(from_csv(&filtered.stdout), gamma_eu);

    // Apply fixes the managed regions; unmanaged ones stay findings.
    let apply = fleet(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stdout
            .contains("Apply: 3 applied, 0 failed, 0 not attempted."),
        "{}",
        apply.stdout
    );
    let after = fleet(&["audit"]);
    assert_eq!(after.code, 0, "compliant after apply\n{}", after.stdout);
    assert!(
        after
            .stdout
            .contains("Compliant, with warnings (--strict fails on them)."),
        "{}",
        after.stdout
    );
    let strict = fleet(&["audit", "--strict", "--format", "json"]);
    assert_eq!(strict.code, 2, "warnings fail with --strict");
    assert_eq!(
        from_json(&strict.stdout),
        [
            finding("no_s3_retention", "beta/ap-southeast-2"),
            finding("no_large_data_bucket", "beta/ap-southeast-2"),
        ]
        .into_iter()
        .collect()
    );
    let all = fleet(&["audit", "--all-regions", "--format", "json"]);
    assert_eq!(all.code, 2);
    let left: Findings = expected
        .iter()
        .filter(|(kind, _)| !["drift", "missing"].contains(&kind.as_str()))
        .cloned()
        .collect();
    assert_eq!(from_json(&all.stdout), left);
}

#[test]
fn a_denied_region_is_an_error_and_every_other_finding_is_still_reported() {
    let (alpha, beta) = ("410000000001", "410000000002");
    let emulator = emulated::Emulator::start(&["--fault", &format!("denied:1:{beta}/eu-west-1")]);
    let endpoint = emulator.endpoint.clone();
    support::runtime().block_on(async {
        let mut drifted = standard(alpha, "alpha", "us-east-1");
        drifted["s3_config"]["key_prefix"] = json!("hand-edited");
        put_config(&bedrock(&endpoint, alpha, "us-east-1").await, &drifted).await;
        put_config(
            &bedrock(&endpoint, beta, "us-east-1").await,
            &standard(beta, "beta", "us-east-1"),
        )
        .await;
    });
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "{TEST_ROLE_NAME}"

{STANDARD}
[[accounts]]
id = "{alpha}"
name = "alpha"
profile = "standard"

[[accounts]]
id = "{beta}"
name = "beta"
profile = "standard"
"#
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    let fleet = |args: &[&str]| fleet_in(&emulator.endpoint, dir.path(), args);
    let seeded = emulator.writes();

    let json = fleet(&["audit", "--format", "json"]);
    assert_eq!(
        json.code, 1,
        "an unreadable target exits 1\n{}\n{}",
        json.stdout, json.stderr
    );
    let expected: Findings = [
        finding("error", "beta/eu-west-1"),
        finding("drift", "alpha/us-east-1"),
        finding("missing", "alpha/eu-west-1"),
    ]
    .into_iter()
    .collect();
    assert_eq!(from_json(&json.stdout), expected, "{}", json.stdout);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["verdict"], "error");
    let error = &doc["findings"][0];
    assert_eq!(error["kind"], "error");
    assert_eq!(error["error"]["code"], "AccessDeniedException");
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .starts_with("AccessDeniedException: "),
        "{error}"
    );
    assert_eq!(doc["summary"]["compliant"], 1);

    let human = fleet(&["audit"]);
    assert_eq!(human.code, 1);
    assert_eq!(from_human(&human.stdout), expected, "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains("1 target could not be read; everything else is reported above."),
        "{}",
        human.stdout
    );
    for format in ["csv", "markdown"] {
        let run = fleet(&["audit", "--format", format]);
        assert_eq!(run.code, 1, "{format}");
        let found = if format == "csv" {
            from_csv(&run.stdout)
        } else {
            from_markdown(&run.stdout)
        };
        assert_eq!(found, expected, "{format}\n{}", run.stdout);
    }
    assert_eq!(emulator.writes(), seeded, "audit never writes");
}
