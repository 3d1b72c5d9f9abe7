//! Safe apply through the real binary against `fleet emulator`: faults,
//! retries, failure isolation, --max-failures, interrupts and bad plan files.
//! Every run is bounded in time and in requests, on loopback only.

mod emulated;
mod support;

use std::time::{Duration, Instant};

use aws_sdk_bedrock::config::retry::RetryConfig;
use aws_sdk_bedrock::config::timeout::TimeoutConfig;
use emulated::{Emulator, desired, fleet_file};
use support::{Run, get_config, logging_config_from_json};

const REGIONS: [&str; 20] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "me-central-1",
    "il-central-1",
];

fn fleet(emulator: &Emulator, dir: &std::path::Path, args: &[&str]) -> Run {
    support::run_fleet(&emulator.endpoint, dir, args)
}

fn setup(base: u64, accounts: usize, regions: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(base, accounts, regions),
    )
    .unwrap();
    dir
}

/// Reads a target through the SDK, with enough retries to see through the
/// emulator's own faults.
async fn live(
    endpoint: &str,
    account: &str,
    region: &str,
) -> Option<aws_sdk_bedrock::types::LoggingConfig> {
    let client = support::bedrock(endpoint, account, region).await;
    let config = client
        .config()
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(30)
                .with_max_backoff(Duration::from_millis(50)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(500))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .build();
    get_config(&aws_sdk_bedrock::Client::from_conf(config)).await
}

fn expected(account: &str, region: &str) -> Option<aws_sdk_bedrock::types::LoggingConfig> {
    Some(logging_config_from_json(&desired(account, region)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors_are_retried_until_every_target_is_right() {
    let base = 301_000_000_000;
    let emulator = Emulator::start(&[
        "--fault",
        "throttle:0.3",
        "--fault",
        "error500:0.1",
        "--seed",
        "7",
    ]);
    emulator.enable_everywhere(&REGIONS);
    let dir = setup(base, 10, &REGIONS);
    let started = Instant::now();
    let run = fleet(
        &emulator,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--max-attempts",
            "12",
            "--concurrency",
            "32",
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Apply: 200 applied, 0 failed, 0 not attempted."),
        "{}",
        run.stdout
    );
    assert!(started.elapsed() < Duration::from_secs(100));
    assert!(
        emulator.faults("throttle") > 50,
        "faults were injected: {}",
        emulator.stats()
    );
    assert!(
        emulator.faults("error500") > 10,
        "faults were injected: {}",
        emulator.stats()
    );
    for i in 1..=10u64 {
        let account = (base + i).to_string();
        for region in REGIONS {
            assert_eq!(
                live(&emulator.endpoint, &account, region).await,
                expected(&account, region),
                "{account}/{region}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_slow_answers_are_retried_and_never_reported_wrongly() {
    let base = 302_000_000_000;
    let emulator = Emulator::start(&["--fault", "drop:0.2", "--fault", "slow:0.1", "--seed", "11"]);
    emulator.enable_everywhere(&REGIONS);
    let dir = setup(base, 2, &REGIONS);
    let run = fleet(
        &emulator,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--max-attempts",
            "10",
            "--attempt-timeout",
            "1",
            "--concurrency",
            "40",
        ],
    );
    assert!(
        emulator.faults("drop") > 0 && emulator.faults("slow") > 0,
        "{}",
        emulator.stats()
    );
    // Whatever the outcome, what is called applied is exactly what is live.
    for i in 1..=2u64 {
        let account = (base + i).to_string();
        for region in REGIONS {
            let reported = run
                .stdout
                .contains(&format!("applied {account}/{region} (create)"));
            let correct =
                live(&emulator.endpoint, &account, region).await == expected(&account, region);
            assert!(
                !reported || correct,
                "{account}/{region} reported applied but is not live\n{}",
                run.stdout
            );
        }
    }
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Apply: 40 applied, 0 failed, 0 not attempted."),
        "{}",
        run.stdout
    );
}

#[test]
fn a_denied_region_fails_alone() {
    let base = 303_000_000_000;
    let emulator = Emulator::start(&["--fault", &format!("denied:1:{}/eu-west-1:put", base + 1)]);
    let dir = setup(base, 2, &["us-east-1", "eu-west-1", "ap-south-1"]);
    let run = fleet(&emulator, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "failed {}/eu-west-1 (create): AccessDeniedException:",
            base + 1
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Apply: 5 applied, 1 failed, 0 not attempted."),
        "{}",
        run.stdout
    );
    assert_eq!(emulator.stats()["requests"]["put"], 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_failures_stops_new_writes() {
    let base = 304_000_000_000;
    let account = (base + 1).to_string();
    let regions = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "eu-west-2",
    ];
    let denied: Vec<String> = ["us-east-2", "us-west-2", "eu-west-1"]
        .iter()
        .map(|r| format!("denied:1:{account}/{r}:put"))
        .collect();
    let mut args = Vec::new();
    for rule in &denied {
        args.extend(["--fault", rule.as_str()]);
    }
    let emulator = Emulator::start(&args);
    let dir = setup(base, 1, &regions);
    let run = fleet(
        &emulator,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--max-failures",
            "1",
            "--concurrency",
            "1",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("applied {account}/us-east-1 (create)")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "failed {account}/us-east-2 (create): AccessDeniedException"
        )),
        "{}",
        run.stdout
    );
    for region in ["us-west-1", "us-west-2", "eu-west-1", "eu-west-2"] {
        assert!(
            run.stdout.contains(&format!(
                "not attempted {account}/{region} (create): --max-failures reached"
            )),
            "{region}\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("Apply: 1 applied, 1 failed, 4 not attempted."),
        "{}",
        run.stdout
    );
    assert_eq!(
        emulator.stats()["requests"]["put"],
        2,
        "no write after the first failure"
    );
    assert_eq!(
        live(&emulator.endpoint, &account, "us-east-1").await,
        expected(&account, "us-east-1")
    );
    for region in &regions[1..] {
        assert_eq!(
            live(&emulator.endpoint, &account, region).await,
            None,
            "{region}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_stops_new_writes_and_the_summary_matches_the_live_state() {
    let base = 305_000_000_000;
    let account = (base + 1).to_string();
    let emulator = Emulator::start(&["--latency-ms", "300"]);
    emulator.enable_everywhere(&REGIONS);
    let dir = setup(base, 1, &REGIONS[..12]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"));
    support::sandbox_env(&mut child, &emulator.endpoint);
    let child = child
        .current_dir(dir.path())
        .args(["apply", "--auto-approve", "--concurrency", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while emulator.stats()["requests"]["put"].as_u64().unwrap() == 0 {
        assert!(Instant::now() < deadline, "apply never started writing");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("interrupt: no new write will start"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Interrupted: no new write was started after the signal."),
        "{stdout}"
    );
    let applied = stdout.lines().filter(|l| l.starts_with("applied ")).count();
    let not_attempted = stdout
        .lines()
        .filter(|l| l.starts_with("not attempted "))
        .count();
    assert!(applied >= 1 && not_attempted >= 1, "{stdout}");
    assert_eq!(applied + not_attempted, 12, "{stdout}");
    let mut live_count = 0;
    for region in &REGIONS[..12] {
        let is_live =
            live(&emulator.endpoint, &account, region).await == expected(&account, region);
        let reported = stdout.contains(&format!("applied {account}/{region} (create)"));
        assert_eq!(
            is_live, reported,
            "{region}: summary and live state disagree\n{stdout}"
        );
        live_count += usize::from(is_live);
    }
    assert_eq!(live_count, applied);
    assert_eq!(
        emulator.stats()["requests"]["put"].as_u64().unwrap() as usize,
        applied
    );
}

#[test]
fn permission_propagation_lag_is_waited_out_within_a_window() {
    let base = 306_000_000_000;
    let emulator = Emulator::start(&["--fault", "iam_lag:0.5", "--seed", "3"]);
    let dir = setup(base, 1, &REGIONS[..6]);
    let run = fleet(
        &emulator,
        dir.path(),
        // The emulator's S3 has no such buckets; preflight would rightly
        // rule the wait out (tests/aws_quirks.rs covers that).
        &[
            "apply",
            "--auto-approve",
            "--permission-retry",
            "60",
            "--preflight",
            "off",
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Apply: 6 applied"), "{}", run.stdout);
    assert!(emulator.faults("iam_lag") > 0, "{}", emulator.stats());

    let emulator = Emulator::start(&["--fault", "iam_lag:1"]);
    let started = Instant::now();
    let run = fleet(
        &emulator,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--permission-retry",
            "2",
            "--preflight",
            "off",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("ValidationException: Failed to validate permissions"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Apply: 0 applied, 6 failed"),
        "{}",
        run.stdout
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn bad_plan_files_are_refused_and_nothing_is_written() {
    let base = 307_000_000_000;
    let emulator = Emulator::start(&[]);
    let dir = setup(base, 1, &REGIONS[..3]);
    let run = fleet(&emulator, dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let good = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    let cases = [
        ("{ not json", "edited.json is not valid JSON"),
        (
            &good.replacen("\"format_version\": 2", "\"format_version\": 3", 1) as &str,
            "format_version 3",
        ),
        (
            &good.replacen("\"action\": \"create\"", "\"action\": \"no-op\"", 1),
            "action is `no-op` but before and after say `create`",
        ),
        (
            &good.replacen(
                "\"region\": \"us-east-1\"",
                "\"region\": \"not a region\"",
                1,
            ),
            "region is not an AWS region name",
        ),
        (
            &good.replacen("\"profile\"", "\"profle\"", 1),
            "unknown field `profle`",
        ),
    ];
    for (text, message) in cases {
        std::fs::write(dir.path().join("edited.json"), text).unwrap();
        let run = fleet(&emulator, dir.path(), &["apply", "edited.json"]);
        assert_eq!(run.code, 1, "{message}: {}", run.stdout);
        assert!(
            run.stderr.contains(message),
            "expected {message:?} in {}",
            run.stderr
        );
    }
    assert_eq!(emulator.writes(), 0);
    let run = fleet(&emulator, dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Apply: 3 applied, 0 failed, 0 not attempted."),
        "{}",
        run.stdout
    );
}

#[test]
fn a_second_interrupt_exits_at_once() {
    let base = 308_000_000_000;
    let emulator = Emulator::start(&["--latency-ms", "1000"]);
    let dir = setup(base, 1, &REGIONS[..3]);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"));
    support::sandbox_env(&mut command, &emulator.endpoint);
    let mut child = command
        .current_dir(dir.path())
        .args([
            "apply",
            "--auto-approve",
            "--concurrency",
            "1",
            "--preflight",
            "off",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while emulator.stats()["requests"]["put"].as_u64().unwrap() == 0 {
        assert!(Instant::now() < deadline, "apply never started writing");
        std::thread::sleep(Duration::from_millis(20));
    }
    let interrupt = || {
        std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
    };
    assert!(interrupt().success());
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    assert!(interrupt().success());
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "exits before the running write's 1 s latency ends"
    );
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("second interrupt: exiting now"), "{stderr}");
}
