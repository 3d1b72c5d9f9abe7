//! Integration-test support: a moto server per test process, fresh account
//! ids, direct SDK access to live state, and the `fleet` binary in a sandboxed
//! environment. Use it with `mod support;` at the top of a test file.
//!
//! ```ignore
//! mod support;
//! use support::*;
//!
//! #[tokio::test]
//! async fn apply_writes_the_profile() {
//!     let endpoint = moto().endpoint();
//!     let account = fresh_account();
//!     let client = bedrock(&endpoint, &account, "us-east-1").await;
//!     put_config(&client, serde_json::json!({"s3Config": {"bucketName": "old"}})).await;
//!     fleet_cmd(&endpoint).args(["apply", "--auto-approve"]).assert().success();
//!     assert_eq!(get_config(&client).await, Some(/* … */));
//! }
//! ```
//!
//! `cargo test` needs nothing installed by hand: the first test that calls
//! `moto()` installs the pinned moto into `target/moto-venv` (≈30 s, once per
//! checkout; see provision.rs), then each test process starts one server
//! (≈0.5 s) that dies with the process (see server.rs). Tests may be async
//! (`#[tokio::test]`; `moto()` blocks briefly, which is fine there) or sync
//! with `runtime().block_on(…)`.

// Every test binary compiles this module and uses only part of it.
#![allow(dead_code, unused_imports)]

mod aws;
mod provision;
mod server;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use aws::{
    CALLER_ACCOUNT, IntoLoggingConfig, TEST_ROLE_NAME, attach_scp, bedrock, credentials,
    delete_config, get_config, logging_config_from_json, organization_with_ou, put_config,
    sdk_config, sts,
};
pub use provision::{MOTO_REQUIREMENT, venv_dir};
pub use server::{Moto, moto, servers_started};

/// A 12-digit account id no other call in this process returns, so each test
/// gets its own moto state (moto isolates per account × region). Never the
/// caller account `123456789012`. A per-process salt keeps ids distinct
/// across reruns too, should a server ever be shared.
pub fn fresh_account() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static SALT: OnceLock<u64> = OnceLock::new();
    let salt = *SALT.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
            .unwrap_or(0);
        100_000 + (u64::from(std::process::id()).wrapping_mul(7_919) ^ nanos) % 900_000
    });
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(
            n < 1_000_000,
            "fresh_account: a million accounts in one process?"
        );
        let account = format!("{salt:06}{n:06}");
        if account != CALLER_ACCOUNT {
            return account;
        }
    }
}

/// A path that does not exist, for AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE.
pub fn no_such_file() -> PathBuf {
    provision::target_dir().join("fleet-tests-no-such-aws-file")
}

/// The environment a `fleet` run under test gets (on top of the inherited one
/// minus `removed_env()`): the endpoint, static test keys, us-east-1, CI mode,
/// no color, and AWS config files that do not exist.
pub fn base_env(endpoint: &str) -> Vec<(String, String)> {
    let no_file = no_such_file().display().to_string();
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", &no_file),
        ("AWS_SHARED_CREDENTIALS_FILE", &no_file),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("CI", "true"),
        ("NO_COLOR", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Variables removed from a `fleet` run under test: every inherited `AWS_*`
/// variable that `base_env` does not set (profiles, session tokens, SSO and
/// web-identity settings, per-service endpoint overrides…), and the variables
/// that would force color over `NO_COLOR`.
pub fn removed_env() -> Vec<String> {
    const ALWAYS: &[&str] = &[
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_ENDPOINT_URL_BEDROCK",
        "AWS_ENDPOINT_URL_STS",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "CLICOLOR_FORCE",
        "CLICOLOR",
        "FORCE_COLOR",
    ];
    let set: Vec<String> = base_env("").into_iter().map(|(k, _)| k).collect();
    let mut removed: Vec<String> = ALWAYS.iter().map(|s| (*s).to_owned()).collect();
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("AWS_")
            && !set.iter().any(|s| s == key)
            && !removed.iter().any(|r| r == key)
        {
            removed.push(key.to_owned());
        }
    }
    removed
}

/// Applies `removed_env()` and `base_env(endpoint)` to any command, e.g. a
/// `std::process::Command` for `fleet emulator` that a test drives by hand.
pub fn sandbox_env(cmd: &mut std::process::Command, endpoint: &str) {
    for key in removed_env() {
        cmd.env_remove(key);
    }
    cmd.envs(base_env(endpoint));
}

/// The built `fleet` binary, sandboxed against `endpoint` (see `base_env`),
/// killed after 120 s so a hang fails the test instead of the CI run.
pub fn fleet_cmd(endpoint: &str) -> assert_cmd::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"));
    sandbox_env(&mut cmd, endpoint);
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// A tokio runtime for sync tests: `runtime().block_on(async { … })`.
/// `#[tokio::test]` works just as well.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// What one `fleet` run printed, and its exit code (-1 when killed).
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// `(code, stdout, stderr)`, for tests that destructure.
    pub fn parts(self) -> (i32, String, String) {
        (self.code, self.stdout, self.stderr)
    }
}

/// `fleet ARGS…` in `dir` against `endpoint`, sandboxed like `fleet_cmd`.
pub fn run_fleet(endpoint: &str, dir: &std::path::Path, args: &[&str]) -> Run {
    let output = fleet_cmd(endpoint)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}
