//! The command line as a user meets it: each command's --help states its
//! own exit codes, write-only options stay off read-only commands, `demo -c`
//! uses the file it is given, and an `--exclude` that matches nothing warns
//! while a `--target` that matches nothing fails.

mod emulated;
mod support;

use emulated::{Emulator, fleet_file};

fn help(command: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args([command, "--help"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{command} --help");
    String::from_utf8(output.stdout).unwrap()
}

/// The `Exit codes:` section of a help text.
fn exit_codes(text: &str) -> &str {
    let at = text
        .find("Exit codes")
        .unwrap_or_else(|| panic!("no exit codes in:\n{text}"));
    &text[at..]
}

#[test]
fn every_command_states_its_own_exit_codes() {
    let expected = [
        ("validate", "0  the file is valid"),
        ("targets", "0  every target resolved"),
        ("plan", "2  changes present, with --detailed-exitcode"),
        ("apply", "0  every change applied and verified"),
        (
            "audit",
            "1  some target could not be read, or a Security Hub export failed",
        ),
        ("show", "0  every target was read"),
        ("import", "0  the fleet file was printed"),
        ("report", "0  the plans were rendered"),
        ("policy", "0  the documents were printed"),
        ("demo", "0  plan → apply → plan converged"),
        ("emulator", "0  stopped by Ctrl-C or SIGTERM"),
    ];
    for (command, line) in expected {
        let text = help(command);
        let codes = exit_codes(&text);
        assert!(codes.contains(line), "{command}:\n{codes}");
        // Written to fit: clap never has to wrap these lines.
        for row in codes.lines() {
            assert!(row.chars().count() < 80, "{command}: {row:?}");
        }
    }
    let codes = exit_codes(&help("audit")).to_owned();
    assert!(
        codes.contains("0  compliant; best-practice warnings alone exit 0 without --strict"),
        "{codes}"
    );
    assert!(
        codes.contains("--strict, warnings never make exit 2; with --strict they do)"),
        "{codes}"
    );
}

#[test]
fn write_only_options_are_not_offered_by_read_only_commands() {
    assert!(help("apply").contains("--permission-retry"));
    for command in ["plan", "audit", "show", "import", "targets"] {
        assert!(
            !help(command).contains("--permission-retry"),
            "{command} --help"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let run = support::run_fleet(
        "http://127.0.0.1:9",
        dir.path(),
        &["plan", "--permission-retry", "5"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("unexpected argument '--permission-retry'"),
        "{}",
        run.stderr
    );
}

#[test]
fn demo_uses_the_fleet_file_given_with_c() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "[fleet]\nregions = [\"eu-west-1\"]\n\n[profiles.p.s3_config]\nbucket_name = \"mine-{account_id}-{region}\"\n\n[[accounts]]\nid = \"123456789012\"\nname = \"mine\"\nprofile = \"p\"\n",
    )
    .unwrap();
    let run = support::run_fleet(
        "http://127.0.0.1:9",
        dir.path(),
        &["-c", "mine.toml", "demo"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Fleet file: mine.toml."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("applied mine/eu-west-1 (create)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("prod/"), "{}", run.stdout);

    // A file the emulator cannot resolve is refused, not silently replaced.
    std::fs::write(
        dir.path().join("ou.toml"),
        "[fleet]\nregions = [\"eu-west-1\"]\nrole_name = \"r\"\n\n[profiles.p.s3_config]\nbucket_name = \"b-{account_id}\"\n\n[[organizational_units]]\nid = \"r-ab12\"\nprofile = \"p\"\n",
    )
    .unwrap();
    let run = support::run_fleet("http://127.0.0.1:9", dir.path(), &["-c", "ou.toml", "demo"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("ou.toml has [[organizational_units]] or regions = \"enabled\""),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let run = support::run_fleet(
        "http://127.0.0.1:9",
        dir.path(),
        &["-c", "nope.toml", "demo"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("fleet file nope.toml not found"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_built_in_demo_still_runs_without_c() {
    let dir = tempfile::tempdir().unwrap();
    let run = support::run_fleet("http://127.0.0.1:9", dir.path(), &["demo"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Fleet file: fleet.example.toml."),
        "{}",
        run.stdout
    );
}

#[test]
fn an_exclude_matching_nothing_warns_and_a_target_matching_nothing_fails() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(351_000_000_000, 1, &["us-east-1"]),
    )
    .unwrap();
    let run = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["plan", "--exclude", "departed/*", "--preflight", "off"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("warning: --exclude `departed/*` matches no target"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("Plan: 1 to create"), "{}", run.stdout);

    let gets = emulator.stats()["requests"]["get"].clone();
    let run = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["plan", "--target", "departed/*"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("error: --target `departed/*` matches no target"),
        "{}",
        run.stderr
    );
    assert_eq!(
        emulator.stats()["requests"]["get"],
        gets,
        "nothing was read"
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;

    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let regions = [
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
    ];
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(352_000_000_000, 60, &regions),
    )
    .unwrap();
    // 300 targets of JSON fill the pipe long before the plan is written.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"));
    support::sandbox_env(&mut cmd, &emulator.endpoint);
    let mut child = cmd
        .current_dir(dir.path())
        .args(["plan", "--format", "json", "--preflight", "off"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

/// `fleet ARGS` on a pseudo-terminal (util-linux `script`), outside CI.
fn on_a_terminal(emulator: &Emulator, dir: &std::path::Path, args: &str) -> String {
    let fleet = env!("CARGO_BIN_EXE_fleet");
    let mut command = std::process::Command::new("script");
    support::sandbox_env(&mut command, &emulator.endpoint);
    let output = command
        .env_remove("CI")
        .current_dir(dir)
        .args(["-qec", &format!("{fleet} {args}"), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("util-linux script");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn verbose_lines_are_not_drawn_through_the_progress_bar() {
    let emulator = Emulator::start(&["--latency-ms", "300"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        fleet_file(353_000_000_000, 2, &["us-east-1", "us-west-2"]),
    )
    .unwrap();
    let screen = on_a_terminal(&emulator, dir.path(), "plan --preflight off");
    assert!(
        screen.contains("planning ["),
        "a terminal gets a bar: {screen}"
    );
    let screen = on_a_terminal(&emulator, dir.path(), "-v plan --preflight off");
    assert!(!screen.contains("planning ["), "{screen}");
    assert!(
        screen.contains("reading 4 targets, 64 at a time"),
        "{screen}"
    );
}

#[test]
fn a_duration_that_is_not_one_fails_through_clap() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["apply", "--permission-retry", "abc"],
            "invalid value 'abc' for '--permission-retry <SECONDS>': `abc` is not a number of seconds",
        ),
        (
            &["plan", "--connect-timeout", "0"],
            "invalid value '0' for '--connect-timeout <SECONDS>': must be a positive number of seconds, not 0",
        ),
        (
            &["plan", "--operation-timeout", "soon"],
            "invalid value 'soon' for '--operation-timeout <SECONDS>': must be a positive number of seconds, not soon",
        ),
        (
            &["show", "--attempt-timeout", "1e400"],
            "invalid value '1e400' for '--attempt-timeout <SECONDS>': must be a positive number of seconds, not 1e400",
        ),
        (
            &["emulator", "--latency-ms", "1.5"],
            "invalid value '1.5' for '--latency-ms <N>': `1.5` is not a whole number of milliseconds",
        ),
    ];
    for (args, message) in cases {
        let run = support::run_fleet("http://127.0.0.1:9", dir.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_fleet_file_whose_path_is_not_utf8_is_read() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let dir = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes(b"fleet-\xff.toml");
    std::fs::write(
        dir.path().join(name),
        "[fleet]\nregions = [\"eu-west-1\"]\n\n[profiles.p.s3_config]\nbucket_name = \"b-{account_id}-{region}\"\n\n[[accounts]]\nid = \"123456789012\"\nprofile = \"p\"\n",
    )
    .unwrap();
    let validate = |file: &OsStr| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"));
        support::sandbox_env(&mut cmd, "http://127.0.0.1:9");
        cmd.current_dir(dir.path())
            .arg("-c")
            .arg(file)
            .arg("validate")
            .output()
            .unwrap()
    };
    let output = validate(name);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.starts_with("fleet-\u{fffd}.toml is valid: 1 target in 1 account"),
        "{stdout}"
    );
    // A file that is not there is named as given, too.
    let output = validate(OsStr::from_bytes(b"gone-\xff.toml"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("gone-\u{fffd}.toml"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
