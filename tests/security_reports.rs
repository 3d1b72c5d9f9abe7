//! `fleet audit --format sarif|junit` through the binary against the
//! emulator: the SARIF log validates against the SARIF 2.1.0 JSON schema
//! (shipped in tests/data, as OASIS publishes it) and points each finding at
//! the line of the entry that manages the target; the JUnit report has a test
//! case per target with failures for findings and errors for unreadable
//! targets.

mod emulated;
mod support;

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Value, json};
use support::{TEST_ROLE_NAME, bedrock, put_config};

const PROFILE: &str = r#"[profiles.standard]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.standard.s3_config]
bucket_name = "logs-{account_id}-{region}"
"#;

fn standard(account: &str, region: &str) -> Value {
    json!({
        "text_data_delivery_enabled": true, "image_data_delivery_enabled": true,
        "embedding_data_delivery_enabled": true, "video_data_delivery_enabled": false,
        "audio_data_delivery_enabled": false,
        "s3_config": { "bucket_name": format!("logs-{account}-{region}") }
    })
}

/// alpha: us-east-1 drifted, eu-west-1 missing; beta: us-east-1 compliant,
/// eu-west-1 denied.
fn seeded() -> (emulated::Emulator, tempfile::TempDir) {
    let (alpha, beta) = ("414000000001", "414000000002");
    let emulator = emulated::Emulator::start(&["--fault", &format!("denied:1:{beta}/eu-west-1")]);
    let endpoint = emulator.endpoint.clone();
    support::runtime().block_on(async {
        let mut drifted = standard(alpha, "us-east-1");
        drifted["text_data_delivery_enabled"] = json!(false);
        put_config(&bedrock(&endpoint, alpha, "us-east-1").await, &drifted).await;
        put_config(
            &bedrock(&endpoint, beta, "us-east-1").await,
            &standard(beta, "us-east-1"),
        )
        .await;
    });
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[fleet]\nregions = [\"us-east-1\", \"eu-west-1\"]\nrole_name = \"{TEST_ROLE_NAME}\"\n\n{PROFILE}\n[[accounts]]\nid = \"{alpha}\"\nname = \"alpha\"\nprofile = \"standard\"\n\n[[accounts]]\nid = \"{beta}\"\nname = \"beta\"\nprofile = \"standard\"\n"
    );
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    (emulator, dir)
}

/// The 1-based line of the `[[accounts]]` entry whose id is `id`.
fn entry_line(text: &str, id: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let id_line = lines
        .iter()
        .position(|l| *l == format!("id = \"{id}\""))
        .unwrap();
    (0..id_line)
        .rev()
        .find(|&i| lines[i] == "[[accounts]]")
        .unwrap()
        + 1
}

#[test]
fn sarif_validates_and_points_at_the_managing_entry() {
    let (emulator, dir) = seeded();
    let run = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["audit", "--format", "sarif"],
    );
    assert_eq!(run.code, 1, "an unreadable target exits 1\n{}", run.stderr);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let schema_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    ))
    .unwrap();
    // The published schema's `run.language` pattern has a stray `]` that a
    // strict regex compiler refuses; OASIS's errata reads it as below.
    let schema_text = schema_text.replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
    );
    let schema: Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator is not vacuous: a result without a message is refused.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&broken));

    let text = std::fs::read_to_string(dir.path().join("fleet.toml")).unwrap();
    let (alpha, beta) = (
        entry_line(&text, "414000000001"),
        entry_line(&text, "414000000002"),
    );
    let run0 = &log["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "fleet");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "drift" && r["help"]["text"].is_string())
    );
    let mut results: Vec<(String, String, u64, String)> = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            assert_eq!(location["artifactLocation"]["uri"], "fleet.toml");
            assert_eq!(
                rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
                r["ruleId"]
            );
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                r["locations"][0]["logicalLocations"][0]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                location["region"]["startLine"].as_u64().unwrap(),
                r["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    results.sort();
    assert_eq!(
        results,
        vec![
            (
                "drift".into(),
                "alpha/us-east-1".into(),
                alpha as u64,
                "error".into()
            ),
            (
                "error".into(),
                "beta/eu-west-1".into(),
                beta as u64,
                "error".into()
            ),
            (
                "missing".into(),
                "alpha/eu-west-1".into(),
                alpha as u64,
                "error".into()
            ),
        ]
    );
    let drift = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "drift")
        .unwrap();
    assert!(
        drift["message"]["text"]
            .as_str()
            .unwrap()
            .contains("+text_data_delivery_enabled = true"),
        "{drift}"
    );
    assert_eq!(
        drift["partialFingerprints"]["fleetTarget/v1"],
        "414000000001/us-east-1:drift"
    );
}

#[test]
fn junit_has_a_case_per_target_failures_for_findings_errors_for_unreadable() {
    let (emulator, dir) = seeded();
    let run = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["audit", "--format", "junit"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut reader = Reader::from_str(&run.stdout);
    let mut cases: Vec<(String, &'static str)> = Vec::new();
    let mut suites = Vec::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attribute = |name: &str| {
                    e.try_get_attribute(name).unwrap().map(|a| {
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned()
                    })
                };
                match e.name().into_inner() {
                    "testsuites" => {
                        assert_eq!(attribute("tests").as_deref(), Some("4"));
                        assert_eq!(attribute("failures").as_deref(), Some("2"));
                        assert_eq!(attribute("errors").as_deref(), Some("1"));
                    }
                    "testsuite" => suites.push(attribute("name").unwrap()),
                    "testcase" => {
                        let name = attribute("name").unwrap();
                        cases.push((name.clone(), "passed"));
                        current = Some(name);
                    }
                    "failure" => {
                        cases.last_mut().unwrap().1 = "failure";
                        assert!(attribute("type").is_some() && attribute("message").is_some());
                    }
                    "error" => {
                        cases.last_mut().unwrap().1 = "error";
                        assert_eq!(attribute("type").as_deref(), Some("AccessDeniedException"));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert!(current.is_some());
    cases.sort();
    assert_eq!(suites, ["alpha", "beta"]);
    assert_eq!(
        cases,
        [
            ("alpha/eu-west-1".to_owned(), "failure"),
            ("alpha/us-east-1".to_owned(), "failure"),
            ("beta/eu-west-1".to_owned(), "error"),
            ("beta/us-east-1".to_owned(), "passed"),
        ]
    );
}
