//! Provisions the pinned `moto[server]` into `target/moto-venv`, once per
//! checkout, safely across concurrent test processes (nextest runs many).
//!
//! - An exclusive lock (`target/moto-venv.lock`, flock via `fd-lock`, freed
//!   by the kernel if its holder dies) lets one process install while the
//!   others wait, then find the venv ready.
//! - A virtualenv cannot be moved once built (pip writes absolute shebangs
//!   into `bin/`), so each install goes into its own never-moved directory
//!   `target/moto-venvs/<unique>/` and `target/moto-venv` is a symlink that is
//!   switched to it atomically (symlink created under a temporary name, then
//!   renamed) only after the install is complete and verified. A crashed or
//!   interrupted install, even an orphaned pip still writing, only ever
//!   touches its private directory, never what `target/moto-venv` points to.
//! - `target/moto-venv/.fleet-moto-ready` records the requirement installed:
//!   changing the pin re-provisions on the next `cargo test`.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The exact requirement installed. Changing it re-provisions every checkout
/// on its next `cargo test` (the marker no longer matches).
pub const MOTO_REQUIREMENT: &str = "moto[server]==5.2.5";
const MOTO_VERSION: &str = "5.2.5";

/// How long a process waits for another one that is installing moto.
const LOCK_WAIT: Duration = Duration::from_secs(20 * 60);

pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target")
}

pub fn venv_dir() -> PathBuf {
    target_dir().join("moto-venv")
}

fn marker_path(venv: &Path) -> PathBuf {
    venv.join(".fleet-moto-ready")
}

fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

fn is_ready(venv: &Path) -> bool {
    let marker_ok = fs::read_to_string(marker_path(venv))
        .map(|text| text.trim() == MOTO_REQUIREMENT)
        .unwrap_or(false);
    // `exists` follows the symlink: a venv whose base interpreter was removed
    // (a pyenv upgrade, say) is rebuilt instead of failing obscurely later.
    marker_ok && venv_python(venv).exists() && venv.join("bin").join("moto_server").exists()
}

/// Returns the venv's python, installing moto first when needed.
/// `Err` carries a message meant to be shown verbatim in a panic.
pub fn ensure_moto_venv() -> Result<PathBuf, String> {
    let venv = venv_dir();
    if is_ready(&venv) {
        return Ok(venv_python(&venv));
    }

    let target = target_dir();
    fs::create_dir_all(&target).map_err(|e| format!("cannot create {}: {e}", target.display()))?;
    let lock_path = target.join("moto-venv.lock");
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open lock file {}: {e}", lock_path.display()))?;
    let mut lock = fd_lock::RwLock::new(lock_file);
    let deadline = Instant::now() + LOCK_WAIT;
    // Polling instead of a blocking `write()` bounds the wait: a hung pip in
    // another process becomes a clear failure here, not a silent CI timeout.
    loop {
        match lock.try_write() {
            Ok(_guard) => {
                // Another process may have finished while this one waited.
                if !is_ready(&venv) {
                    install(&venv)?;
                }
                return Ok(venv_python(&venv));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    return Err(format!(
                        "waited {LOCK_WAIT:?} for another test process that holds {} \
                         to finish installing moto; look for a hung pip (its log: {})",
                        lock_path.display(),
                        target.join("moto-venv.log").display()
                    ));
                }
                thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(format!("cannot lock {}: {e}", lock_path.display())),
        }
    }
}

fn install(venv_link: &Path) -> Result<(), String> {
    let started = Instant::now();
    let python = std::env::var("FLEET_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let target = target_dir();
    let installs = target.join("moto-venvs");
    let log_path = target.join("moto-venv.log");
    let mut log = File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!("moto-{MOTO_VERSION}-{}-{nanos}", std::process::id());
    let venv = installs.join(&name);
    fs::create_dir_all(&installs)
        .map_err(|e| format!("cannot create {}: {e}", installs.display()))?;

    let mut venv_cmd = Command::new(&python);
    venv_cmd.arg("-m").arg("venv").arg(&venv);
    run_step(&mut venv_cmd, &mut log).map_err(|detail| {
        format!(
            "the tests need a Python virtualenv for moto, and `{python} -m venv` failed.\n\
             On Debian/Ubuntu install the venv module: `apt-get install -y python3-venv`.\n\
             (Set FLEET_TEST_PYTHON to use another interpreter.)\n{detail}"
        )
    })?;

    let mut pip = Command::new(venv_python(&venv));
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        MOTO_REQUIREMENT,
    ]);
    run_step(&mut pip, &mut log).map_err(|detail| {
        format!(
            "installing {MOTO_REQUIREMENT} into {} failed (full log: {}).\n{detail}",
            venv.display(),
            log_path.display()
        )
    })?;

    let mut check = Command::new(venv_python(&venv));
    check.args(["-c", "import moto; print(moto.__version__)"]);
    let version = run_step(&mut check, &mut log)
        .map_err(|detail| format!("moto was installed but does not import.\n{detail}"))?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    if version != MOTO_VERSION || !venv.join("bin").join("moto_server").exists() {
        return Err(format!(
            "pip reported success but the venv at {} has moto {version:?} \
             (expected {MOTO_VERSION}) or lacks bin/moto_server",
            venv.display()
        ));
    }
    fs::write(marker_path(&venv), format!("{MOTO_REQUIREMENT}\n"))
        .map_err(|e| format!("cannot write {}: {e}", marker_path(&venv).display()))?;

    // Publish: a relative symlink, renamed over the old link in one step.
    let tmp_link = target.join(format!("moto-venv.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp_link);
    if venv_link.is_dir() && !venv_link.is_symlink() {
        // A plain directory made by hand or by an older harness.
        fs::remove_dir_all(venv_link)
            .map_err(|e| format!("cannot remove {}: {e}", venv_link.display()))?;
    }
    std::os::unix::fs::symlink(Path::new("moto-venvs").join(&name), &tmp_link)
        .and_then(|()| fs::rename(&tmp_link, venv_link))
        .map_err(|e| {
            format!(
                "cannot point {} at {}: {e}",
                venv_link.display(),
                venv.display()
            )
        })?;

    // Earlier installs: interrupted ones, or ones of an older pin. Nothing
    // uses them: only the lock holder installs, and readers go through the
    // link. (An orphaned pip of a killed test process may still be writing
    // into one; removing it under its feet is harmless.)
    if let Ok(entries) = fs::read_dir(&installs) {
        for entry in entries.flatten() {
            if entry.file_name() != name.as_str() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    let note = format!(
        "fleet tests: provisioned {MOTO_REQUIREMENT} into {} in {:.1?}",
        venv_link.display(),
        started.elapsed()
    );
    let _ = writeln!(log, "{note}");
    eprintln!("{note}");
    Ok(())
}

/// Runs one provisioning step, appending its output to the log. `Err` holds
/// the command line, exit status and output, for the panic message.
fn run_step(cmd: &mut Command, log: &mut File) -> Result<Output, String> {
    // A developer's Python environment must not leak into the venv.
    for var in [
        "PYTHONHOME",
        "PYTHONPATH",
        "PIP_USER",
        "PIP_REQUIRE_VIRTUALENV",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    let line = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(log, "$ {line}");
    let output = cmd.output();
    let output = match output {
        Ok(output) => output,
        Err(e) => return Err(format!("could not run {line}: {e}")),
    };
    let _ = log.write_all(&output.stdout);
    let _ = log.write_all(&output.stderr);
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "$ {line}\n{}\n--- stdout (last lines) ---\n{}\n--- stderr ---\n{}",
            output.status,
            tail(&String::from_utf8_lossy(&output.stdout), 60),
            tail(&String::from_utf8_lossy(&output.stderr), 200),
        ))
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
