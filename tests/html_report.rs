//! The HTML audit report in a real headless browser (Debian's Chromium):
//! it loads with no console message and no network request, shows one cell
//! per account × region with the counts of the JSON audit, opens a cell's
//! details, and leaves a screenshot under target/ for a person to look at.

mod emulated;
mod scenario;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use emulated::Emulator;
use serde_json::Value;

/// Debian's Chromium, installed with apt-get when it is missing (CI and
/// developers run as root here), never skipped.
fn chromium() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| {
        let path = PathBuf::from("/usr/bin/chromium");
        if !path.exists() {
            let status = Command::new("sh")
                .args(["-c", "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium"])
                .status()
                .expect("run apt-get");
            assert!(status.success() && path.exists(), "could not install chromium with apt-get; install Debian's `chromium` package");
        }
        path
    })
}

/// Runs headless Chromium on `url` with `extra` arguments; returns stdout
/// and the console lines it logged.
fn browse(url: &str, extra: &[&str]) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let console = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("net::ERR") || l.contains("Refused to"))
        .map(str::to_owned)
        .collect();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        console,
    )
}

fn body_attribute(dom: &str, name: &str) -> Option<String> {
    let body = &dom[dom.find("<body")?..];
    let tag = &body[..body.find('>')?];
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    Some(tag[start..start + tag[start..].find('"')?].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_works_in_a_browser() {
    let (alpha, beta) = ("280000000001", "280000000002");
    let emulator = Emulator::start(&["--fault", &format!("denied:1:{beta}/us-east-1:get")]);
    scenario::seed(&emulator.endpoint, alpha, beta).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        scenario::fleet_file(alpha, beta),
    )
    .unwrap();
    let report = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fleet-audit-report.html");
    let summary = dir.path().join("step-summary.md");
    let output = support::fleet_cmd(&emulator.endpoint)
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["audit", "--format", "html", "--out"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "a denied region: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = support::fleet_cmd(&emulator.endpoint)
        .current_dir(dir.path())
        .args(["audit", "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    let html = std::fs::read_to_string(&report).unwrap();
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("#### Accounts × regions\n\n| account | use1 | usw2 | euw1 | findings |"),
        "{summary}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("src="),
        "self-contained"
    );

    let url = format!("file://{}", report.display());
    let (dom, console) = browse(&url, &["--dump-dom"]);
    assert!(
        console.is_empty(),
        "no console message and no network request: {console:#?}"
    );
    assert_eq!(
        body_attribute(&dom, "data-ready").as_deref(),
        Some("true"),
        "the script ran to the end"
    );
    assert_eq!(body_attribute(&dom, "data-errors"), None);
    // Three accounts × three managed regions.
    assert_eq!(body_attribute(&dom, "data-cells").as_deref(), Some("9"));
    let summary = &json["summary"];
    for (kind, attribute) in [
        ("compliant", "data-count-compliant"),
        ("drift", "data-count-drift"),
        ("missing", "data-count-missing"),
        ("error", "data-count-error"),
    ] {
        let expected = summary[kind].as_u64().unwrap();
        let shown: u64 = body_attribute(&dom, attribute).map_or(0, |v| v.parse().unwrap());
        assert_eq!(shown, expected, "{kind}");
    }
    assert_eq!(summary["error"], 1);
    assert_eq!(summary["drift"], 2);

    // A deep link opens a drifted cell's diff, and the denied one's error.
    let (dom, console) = browse(&format!("{url}#cell=home/us-east-1"), &["--dump-dom"]);
    assert!(console.is_empty(), "{console:#?}");
    assert!(
        dom.contains("home/us-east-1: drift"),
        "the details panel shows the target"
    );
    assert!(
        dom.contains("+video_data_delivery_enabled = false"),
        "and its diff"
    );
    let (dom, _) = browse(&format!("{url}#cell=beta/us-east-1"), &["--dump-dom"]);
    assert!(
        dom.contains("AccessDeniedException"),
        "an error cell shows the AWS error"
    );

    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fleet-audit-report.png");
    let _ = std::fs::remove_file(&screenshot);
    browse(
        &format!("{url}#cell=home/us-east-1"),
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1200,800",
        ],
    );
    assert!(
        std::fs::metadata(&screenshot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "a screenshot for a person to look at"
    );
}
