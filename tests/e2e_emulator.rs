//! The core scenario against `fleet emulator`, plus the failures a user
//! meets: a denied region, an unreachable endpoint, a bad file. Each checks
//! that nothing was written.

mod scenario;
mod support;

mod emulated;

use emulated::Emulator;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_apply_plan_across_three_accounts() {
    let emulator = Emulator::start(&[]);
    scenario::run(&emulator.endpoint, "210000000001", "210000000002").await;
}

fn write_fleet(dir: &std::path::Path, alpha: &str, beta: &str) {
    std::fs::write(dir.join("fleet.toml"), scenario::fleet_file(alpha, beta)).unwrap();
}

#[test]
fn a_denied_region_fails_alone_and_nothing_is_written() {
    let (alpha, beta) = ("220000000001", "220000000002");
    let emulator = Emulator::start(&["--fault", &format!("denied:1:{alpha}/eu-west-1")]);
    let dir = tempfile::tempdir().unwrap();
    write_fleet(dir.path(), alpha, beta);
    let output = support::fleet_cmd(&emulator.endpoint)
        .current_dir(dir.path())
        .args(["plan", "--detailed-exitcode", "--each-diff"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "an unreadable target is an error\n{stdout}"
    );
    assert!(
        stdout
            .contains("\n1 target could not be read:\n  ! alpha/eu-west-1: AccessDeniedException:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+ create alpha/us-east-1"),
        "the other targets are still planned\n{stdout}"
    );
    assert!(
        stdout.contains("7 to create, 0 to update, 0 to delete, 1 unchanged, 1 failed"),
        "{stdout}"
    );
    assert_eq!(emulator.writes(), 0);

    // apply writes every other target, and reports the denied one.
    let output = support::fleet_cmd(&emulator.endpoint)
        .current_dir(dir.path())
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Apply: 7 applied, 0 failed, 0 not attempted."),
        "{stdout}"
    );
    assert_eq!(emulator.writes(), 7);
}

#[test]
fn an_unreachable_endpoint_is_one_clear_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    write_fleet(dir.path(), "230000000001", "230000000002");
    let output = support::fleet_cmd(&format!("http://127.0.0.1:{port}"))
        .current_dir(dir.path())
        .args(["plan", "--max-attempts", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot identify the caller at http://127.0.0.1:{port} (sts:GetCallerIdentity): cannot connect to the endpoint: connection refused"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was read or written"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn an_invalid_file_makes_no_call_at_all() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let broken = scenario::fleet_file("240000000001", "240000000002")
        .replace("profile = \"text\"", "profile = \"txt\"");
    std::fs::write(dir.path().join("fleet.toml"), broken).unwrap();
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let output = support::fleet_cmd(&emulator.endpoint)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("profile `txt` does not exist"), "{stderr}");
    }
    let stats = emulator.stats();
    let total: u64 = stats["requests"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(total, 0, "no request at all: {stats}");
}

#[test]
fn apply_without_a_terminal_or_approval_writes_nothing() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    write_fleet(dir.path(), "250000000001", "250000000002");
    let output = support::fleet_cmd(&emulator.endpoint)
        .current_dir(dir.path())
        .arg("apply")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stdin is not a terminal; pass --auto-approve"),
        "{stderr}"
    );
    assert_eq!(emulator.writes(), 0);
}

/// Runs `fleet apply` on a pseudo-terminal (util-linux `script`), typing
/// `answer` at the prompt.
fn apply_on_a_terminal(emulator: &Emulator, dir: &std::path::Path, answer: &str) -> (i32, String) {
    let fleet = env!("CARGO_BIN_EXE_fleet");
    let mut command = std::process::Command::new("script");
    support::sandbox_env(&mut command, &emulator.endpoint);
    let mut child = command
        .current_dir(dir)
        .args(["-qec", &format!("{fleet} apply"), "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux script");
    let mut stdin = child.stdin.take().unwrap();
    let answer = answer.to_owned();
    // Answer once the plan is on screen; the pty echoes it either way.
    let typist = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(2));
        use std::io::Write;
        let _ = writeln!(stdin, "{answer}");
    });
    let output = child.wait_with_output().unwrap();
    typist.join().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn apply_on_a_terminal_asks_for_yes() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    write_fleet(dir.path(), "260000000001", "260000000002");
    let (code, screen) = apply_on_a_terminal(&emulator, dir.path(), "no");
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains("Apply 8 changes? Only 'yes' is accepted:"),
        "{screen}"
    );
    assert!(
        screen.contains("Apply cancelled; nothing was written."),
        "{screen}"
    );
    assert_eq!(emulator.writes(), 0);

    let (code, screen) = apply_on_a_terminal(&emulator, dir.path(), "yes");
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("8 applied, 0 failed, 0 not attempted."),
        "{screen}"
    );
    assert_eq!(emulator.writes(), 8);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    write_fleet(dir.path(), "270000000001", "270000000002");
    let run = |args: &[&str], no_color: bool| {
        let mut cmd = support::fleet_cmd(&emulator.endpoint);
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        let output = cmd.current_dir(dir.path()).args(args).output().unwrap();
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap()
    };
    assert!(
        !run(&["plan"], false).contains('\u{1b}'),
        "a pipe gets no colour"
    );
    assert!(!run(&["plan"], true).contains('\u{1b}'));
    assert!(
        run(&["--color", "always", "plan"], true).contains("\u{1b}["),
        "--color always wins"
    );
    assert!(!run(&["--color", "never", "plan", "--format", "markdown"], false).contains('\u{1b}'));
    std::fs::write(dir.path().join("fleet.toml"), "[fleet\n").unwrap();
    assert!(run(&["--color", "always", "validate"], true).contains("\u{1b}["));
    assert!(!run(&["validate"], false).contains('\u{1b}'));
}
