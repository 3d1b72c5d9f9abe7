//! The human plan of a fleet rolled out for the first time, through the
//! binary against `fleet emulator`: one diff for the change every target
//! shares, then the targets; `--each-diff` for every target's own; the
//! target that could not be read last, where it is not lost.

mod emulated;
mod support;

use emulated::{Emulator, fleet_file};

const BASE: u64 = 352_000_000_000;
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];
/// The one target the emulator denies.
const DENIED: &str = "352000000003/eu-west-1";

fn setup() -> (Emulator, tempfile::TempDir) {
    let emulator = Emulator::start(&["--fault", &format!("denied:1:{DENIED}")]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(BASE, 12, &REGIONS),
    )
    .unwrap();
    (emulator, dir)
}

/// Where the failure list starts, after every diff and before the summary.
fn failures_come_last(stdout: &str) {
    let failures = stdout
        .find(&format!(
            "\n1 target could not be read:\n  ! {DENIED}: AccessDeniedException:"
        ))
        .unwrap_or_else(|| panic!("no failure list\n{stdout}"));
    assert!(stdout.rfind("+++ desired").unwrap() < failures, "{stdout}");
    assert!(
        failures < stdout.find("Plan: 47 to create").unwrap(),
        "{stdout}"
    );
    assert!(!stdout.contains("! failed"), "{stdout}");
}

#[test]
fn many_identical_creates_print_one_diff_and_each_diff_prints_every_one() {
    let (emulator, dir) = setup();
    let grouped = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["plan", "--out", "plan.json"],
    );
    assert_eq!(grouped.code, 1, "a target failed\n{}", grouped.stderr);
    let stdout = &grouped.stdout;
    assert!(
        stdout.contains("Plan: 47 to create, 0 to update, 0 to delete, 0 unchanged, 1 failed."),
        "{stdout}"
    );
    assert_eq!(stdout.matches("+++ desired").count(), 1, "{stdout}");
    assert!(
        stdout.contains(
            "+ create 47 targets (profile p)\n  {account_id} and {region} stand for each target's own\n--- live\n+++ desired\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("+bucket_name = \"logs-{account_id}-{region}\"\n"),
        "{stdout}"
    );
    // Eleven accounts in every region (wrapped), the denied one's account
    // in the other three.
    assert!(
        stdout.contains("  applies to 47 targets:\n    352000000001, 352000000002, 352000000004,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("352000000012\n      × us-east-1, us-west-2, eu-west-1, eu-central-1\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n    352000000003 × us-east-1, us-west-2, eu-central-1\n"),
        "{stdout}"
    );
    failures_come_last(stdout);
    assert!(
        stdout.lines().count() < 40,
        "{} lines\n{stdout}",
        stdout.lines().count()
    );

    let each = support::run_fleet(&emulator.endpoint, dir.path(), &["plan", "--each-diff"]);
    assert_eq!(each.code, 1, "{}", each.stderr);
    let stdout = &each.stdout;
    assert_eq!(stdout.matches("+++ desired").count(), 47, "{stdout}");
    assert!(!stdout.contains("applies to"), "{stdout}");
    for account in (1..=12).map(|i| (BASE + i).to_string()) {
        for region in REGIONS {
            let target = format!("{account}/{region}");
            if target != DENIED {
                assert!(
                    stdout.contains(&format!("+ create {target} (profile p)\n")),
                    "{target}\n{stdout}"
                );
            }
        }
    }
    failures_come_last(stdout);

    // A saved plan reads the same through `fleet report`.
    let report = support::run_fleet(&emulator.endpoint, dir.path(), &["report", "plan.json"]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    assert_eq!(
        report.stdout.matches("+++ desired").count(),
        1,
        "{}",
        report.stdout
    );
    assert!(report.stdout.contains("  applies to 47 targets:\n"));
    failures_come_last(&report.stdout);
    let report = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["report", "plan.json", "--each-diff"],
    );
    assert_eq!(
        report.stdout.matches("+++ desired").count(),
        47,
        "{}",
        report.stdout
    );
}

#[test]
fn every_command_that_prints_the_human_plan_takes_each_diff() {
    for command in ["plan", "apply", "report", "demo"] {
        let run = support::run_fleet(
            "http://127.0.0.1:9",
            std::path::Path::new("."),
            &[command, "--help"],
        );
        assert_eq!(run.code, 0, "{command}: {}", run.stderr);
        assert!(
            run.stdout.contains("--each-diff"),
            "{command} --help\n{}",
            run.stdout
        );
    }
}
