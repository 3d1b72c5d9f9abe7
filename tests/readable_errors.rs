//! Errors a person can read, through the real binary: one line saying what
//! failed, why and what to do, with no Rust debug formatting; retries and
//! throttling counted; preflight against an endpoint that does not serve
//! S3, IAM or CloudWatch Logs said once. Loopback only.

mod emulated;
mod loopback;
mod support;

use emulated::{Emulator, fleet_file};
use support::Run;

/// No Rust debug formatting or type path reaches the user.
fn assert_readable(text: &str) {
    for debug in [
        "{ ",
        " }",
        "Some(",
        "None)",
        "DispatchFailure",
        "ConnectorError",
        "ProviderChainError",
        "CredentialsNotLoaded",
        "hyper_util",
        "aws_smithy",
        "(os error",
    ] {
        assert!(!text.contains(debug), "{debug:?} in:\n{text}");
    }
    // A type path: `name::Name`. ARNs have `iam::` followed by digits or `:`.
    for (at, _) in text.match_indices("::") {
        let next = text[at + 2..].chars().next();
        assert!(
            !next.is_some_and(char::is_alphabetic),
            "a type path in:\n{text}"
        );
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

fn setup(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.toml"), text).unwrap();
    dir
}

fn run(cmd: &mut assert_cmd::Command) -> Run {
    let output = cmd.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn an_unreachable_endpoint_is_one_readable_line() {
    let endpoint = closed_port();
    let dir = setup(&fleet_file(341_000_000_000, 2, &["us-east-1"]));
    let plan = support::run_fleet(&endpoint, dir.path(), &["plan", "--max-attempts", "2"]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert_eq!(
        plan.stderr,
        format!(
            "error: cannot identify the caller at {endpoint} (sts:GetCallerIdentity): cannot connect to the endpoint: connection refused; check AWS_ENDPOINT_URL and the network; nothing was read or written\n"
        )
    );
    assert!(plan.stdout.is_empty());

    // -v adds the causes, still without debug formatting.
    let verbose = support::run_fleet(
        &endpoint,
        dir.path(),
        &["-v", "plan", "--max-attempts", "2"],
    );
    assert_eq!(verbose.code, 1);
    assert!(
        verbose.stderr.contains("  cause: dispatch failure"),
        "{}",
        verbose.stderr
    );
    assert!(
        verbose.stderr.contains("Connection refused"),
        "{}",
        verbose.stderr
    );
    assert_readable(&verbose.stderr.replace(" (os error 111)", ""));
}

#[test]
fn missing_credentials_are_one_readable_line() {
    let dir = setup(&fleet_file(342_000_000_000, 1, &["us-east-1"]));
    let mut cmd = support::fleet_cmd(&closed_port());
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .current_dir(dir.path())
        .args(["plan"]);
    let plan = run(&mut cmd);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert_eq!(
        plan.stderr,
        "error: no AWS credentials found (environment, AWS_PROFILE, SSO, web identity, container and instance metadata were tried); set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`; nothing was read or written\n"
    );
    assert_readable(&plan.stderr);
}

#[test]
fn a_missing_fleet_file_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["validate", "plan", "policy"] {
        let run = support::run_fleet(&closed_port(), dir.path(), &[command]);
        assert_eq!(run.code, 1, "{command}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            "error: fleet file fleet.toml not found: give its path with -c FILE, start one from fleet.example.toml (in fleet's repository), or write one from live configurations with `fleet import --account ID --regions R,R > fleet.toml`\n",
            "{command}"
        );
        assert!(run.stdout.is_empty());
    }
    let run = support::run_fleet(&closed_port(), dir.path(), &["-c", "prod.toml", "validate"]);
    assert!(
        run.stderr
            .starts_with("error: fleet file prod.toml not found: "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_target_throttled_past_its_retries_says_how_many_attempts_and_what_to_change() {
    let emulator = Emulator::start(&["--fault", "throttle:1:*/us-west-2"]);
    let dir = setup(&fleet_file(343_000_000_000, 1, &["us-east-1", "us-west-2"]));
    let run = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["plan", "--max-attempts", "3", "--preflight", "off"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "1 target could not be read:\n  ! 343000000001/us-west-2: ThrottlingException: Too many requests, please wait before trying again. (gave up after 3 attempts; AWS throttled it: lower --concurrency or raise --max-attempts)"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 to create"), "{}", run.stdout);
    assert_eq!(emulator.faults("throttle"), 3);
    assert_readable(&run.stdout);
}

#[test]
fn verbose_reports_each_retry_and_a_total() {
    let emulator = Emulator::start(&["--fault", "throttle:0.3", "--seed", "5"]);
    let dir = setup(&fleet_file(
        344_000_000_000,
        4,
        &["us-east-1", "us-west-2", "eu-west-1"],
    ));
    let run = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["-v", "plan", "--max-attempts", "20", "--preflight", "off"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let throttles = emulator.faults("throttle");
    assert!(throttles > 0, "{}", emulator.stats());
    let reported = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("retry: get ") && line.ends_with(" after throttled"))
        .count() as u64;
    assert_eq!(reported, throttles, "{}", run.stderr);
    let total = format!(
        "Bedrock calls: {} attempts, {throttles} retries, {throttles} throttled",
        12 + throttles
    );
    assert!(run.stderr.contains(&total), "{total} in:\n{}", run.stderr);
}

/// `fleet ARGS` against the emulator for Bedrock and STS, and an endpoint
/// that answers 404 to everything for S3, IAM and CloudWatch Logs.
fn without_destination_services(
    emulator: &Emulator,
    nothing: &str,
    dir: &std::path::Path,
    args: &[&str],
) -> Run {
    let output = support::fleet_cmd(&emulator.endpoint)
        .current_dir(dir)
        .env("AWS_ENDPOINT_URL_S3", nothing)
        .env("AWS_ENDPOINT_URL_IAM", nothing)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", nothing)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn an_endpoint_without_s3_iam_or_logs_is_said_once_not_per_target() {
    let emulator = Emulator::start(&[]);
    // The emulator serves S3, IAM and Logs; this server serves nothing.
    let nothing =
        loopback::Server::start(|_| loopback::Response::bytes(404, b"not found".to_vec()));
    let nothing = nothing.url();
    let mut text = fleet_file(345_000_000_000, 3, &["us-east-1", "us-west-2"]);
    text = text.replace(
        "key_prefix = \"bedrock\"\n",
        "key_prefix = \"bedrock\"\n\n[profiles.p.cloudwatch_config]\nlog_group_name = \"/aws/bedrock\"\nrole_arn = \"arn:aws:iam::{account_id}:role/logging\"\n",
    );
    let dir = setup(&text);
    let run = without_destination_services(&emulator, &nothing, dir.path(), &["plan"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "warning: preflight could not check the destinations in S3, CloudWatch Logs, IAM: the endpoint at "
        ) && run.stderr.contains("does not serve them; point AWS_ENDPOINT_URL at an endpoint that does, or pass --preflight off"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("Plan: 6 to create"), "{}", run.stdout);
    assert!(!run.stdout.contains("preflight"), "{}", run.stdout);
    assert!(!run.stdout.contains("grant"), "{}", run.stdout);

    // Strict: what could not be checked blocks, and nothing is written.
    let run = without_destination_services(
        &emulator,
        &nothing,
        dir.path(),
        &["apply", "--auto-approve", "--preflight", "strict"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.matches("preflight could not check").count(), 1);
    assert_eq!(emulator.writes(), 0);
}
