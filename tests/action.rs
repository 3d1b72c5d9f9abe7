//! The GitHub Action (`action.yml`), run the way GitHub runs a composite
//! action: its steps in order, each `if:` evaluated, `${{ … }}` expanded,
//! the `INPUT_*` and `GITHUB_*` environment, `$GITHUB_OUTPUT` and
//! `$GITHUB_PATH` honoured. GitHub itself is a fake on loopback (REST API,
//! release downloads, artifact storage); AWS is `fleet emulator`.

mod emulated;
mod loopback;
mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use emulated::Emulator;
use loopback::{Request, Response, Server};
use serde_json::{Value, json};
use yaml_rust2::{Yaml, YamlLoader};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TOKEN: &str = "ghs_test_token";
const REPO: &str = "acme/platform";
const PR: u64 = 7;
/// The fake API pages comments two at a time, so finding the comment
/// needs the Link header.
const PAGE: usize = 2;

// ------------------------------------------------------------ fake GitHub --

#[derive(Default)]
struct GitHubState {
    comments: Vec<Value>,
    next_id: u64,
    /// Merge commit sha → the pull requests GitHub associates with it.
    pulls: HashMap<String, Value>,
    /// Runs of the plan workflow.
    runs: Vec<Value>,
    /// Run id → artifacts (name, zip bytes).
    artifacts: HashMap<u64, Vec<(String, Vec<u8>)>>,
    /// Release files by path.
    downloads: BTreeMap<String, Vec<u8>>,
    /// Artifact storage requests that carried a token (they must not).
    leaked_token: bool,
    calls: Vec<String>,
}

struct FakeGitHub {
    server: Server,
    state: Arc<Mutex<GitHubState>>,
}

impl FakeGitHub {
    fn start() -> FakeGitHub {
        let state = Arc::new(Mutex::new(GitHubState {
            next_id: 1000,
            ..GitHubState::default()
        }));
        let shared = state.clone();
        let server = Server::start(move |request| handle(&mut shared.lock().unwrap(), request));
        FakeGitHub { server, state }
    }

    fn comments(&self) -> Vec<Value> {
        self.state.lock().unwrap().comments.clone()
    }

    fn seed_comment(&self, body: &str) {
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let id = state.next_id;
        state
            .comments
            .push(json!({"id": id, "body": body, "user": {"login": "someone"}}));
    }
}

fn handle(state: &mut GitHubState, request: &Request) -> Response {
    let host = request.headers.get("host").cloned().unwrap_or_default();
    let base = format!("http://{host}");
    let path = request.path().to_owned();
    state
        .calls
        .push(format!("{} {}", request.method, request.target));
    if let Some(body) = state.downloads.get(&path) {
        return Response::bytes(200, body.clone());
    }
    if let Some(id) = path.strip_prefix("/storage/") {
        // Artifact storage authenticates by its signed URL alone.
        if request.headers.contains_key("authorization") {
            state.leaked_token = true;
            return Response::bytes(400, b"unexpected Authorization".to_vec());
        }
        let (run, index) = id.split_once('-').unwrap();
        let run: u64 = run.parse().unwrap();
        let index: usize = index.parse().unwrap();
        return Response::bytes(200, state.artifacts[&run][index].1.clone());
    }
    let repo = format!("/repos/{REPO}");
    let Some(route) = path.strip_prefix(&repo) else {
        return Response::json(404, &json!({"message": "Not Found"}));
    };
    if request.headers.get("authorization").map(String::as_str) != Some(&format!("Bearer {TOKEN}"))
    {
        return Response::json(401, &json!({"message": "Bad credentials"}));
    }
    let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["issues", number, "comments"]) if *number == PR.to_string() => {
            let page: usize = request.query("page").map_or(1, |p| p.parse().unwrap());
            let items: Vec<Value> = state
                .comments
                .iter()
                .skip((page - 1) * PAGE)
                .take(PAGE)
                .cloned()
                .collect();
            let mut response = Response::json(200, &Value::Array(items));
            if page * PAGE < state.comments.len() {
                let next = format!(
                    "<{base}{repo}/issues/{PR}/comments?per_page=100&page={}>; rel=\"next\", <{base}{repo}/issues/{PR}/comments?page=99>; rel=\"last\"",
                    page + 1
                );
                response = response.header("Link", &next);
            }
            response
        }
        ("POST", ["issues", number, "comments"]) if *number == PR.to_string() => {
            state.next_id += 1;
            let comment = json!({
                "id": state.next_id,
                "body": request.json()["body"],
                "user": {"login": "github-actions[bot]"},
                "html_url": format!("https://github.com/{REPO}/pull/{PR}#issuecomment-{}", state.next_id),
            });
            state.comments.push(comment.clone());
            Response::json(201, &comment)
        }
        ("PATCH", ["issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap();
            let Some(comment) = state.comments.iter_mut().find(|c| c["id"] == id) else {
                return Response::json(404, &json!({"message": "Not Found"}));
            };
            comment["body"] = request.json()["body"].clone();
            let comment = comment.clone();
            Response::json(200, &comment)
        }
        ("GET", ["commits", sha, "pulls"]) => Response::json(
            200,
            state.pulls.get(*sha).unwrap_or(&Value::Array(Vec::new())),
        ),
        ("GET", ["actions", "workflows", "fleet-plan.yml", "runs"]) => {
            let head = request.query("head_sha").unwrap_or_default();
            let runs: Vec<Value> = state
                .runs
                .iter()
                .filter(|r| r["head_sha"] == head.as_str())
                .cloned()
                .collect();
            Response::json(
                200,
                &json!({"total_count": runs.len(), "workflow_runs": runs}),
            )
        }
        ("GET", ["actions", "runs", run, "artifacts"]) => {
            let run: u64 = run.parse().unwrap();
            let artifacts: Vec<Value> = state
                .artifacts
                .get(&run)
                .map(|list| {
                    list.iter()
                        .enumerate()
                        .map(|(i, (name, _))| {
                            json!({"name": name, "expired": false,
                                   "archive_download_url": format!("{base}{repo}/actions/artifacts/{run}-{i}/zip")})
                        })
                        .collect()
                })
                .unwrap_or_default();
            Response::json(
                200,
                &json!({"total_count": artifacts.len(), "artifacts": artifacts}),
            )
        }
        ("GET", ["actions", "artifacts", id, "zip"]) => {
            Response::bytes(302, Vec::new()).header("Location", &format!("{base}/storage/{id}"))
        }
        _ => Response::json(404, &json!({"message": "Not Found"})),
    }
}

// ------------------------------------------------------- composite runner --

/// What one run of the action did.
struct ActionRun {
    /// The first failing step's exit code, or 0.
    code: i32,
    outputs: HashMap<String, HashMap<String, String>>,
    /// (name, paths) per actions/upload-artifact step that ran.
    uploads: Vec<(String, Vec<String>)>,
    log: String,
}

impl ActionRun {
    fn output(&self, step: &str, name: &str) -> &str {
        self.outputs
            .get(step)
            .and_then(|o| o.get(name))
            .map_or("", String::as_str)
    }
}

struct Runner {
    work: tempfile::TempDir,
    /// The job's environment before any step.
    env: Vec<(String, String)>,
}

impl Runner {
    fn new(github: &FakeGitHub, emulator: Option<&Emulator>) -> Runner {
        let work = tempfile::tempdir().unwrap();
        for dir in ["workspace", "temp", "tool-cache"] {
            std::fs::create_dir_all(work.path().join(dir)).unwrap();
        }
        let event = work.path().join("event.json");
        std::fs::write(
            &event,
            json!({"pull_request": {"number": PR, "head": {"sha": "h3ad"}}}).to_string(),
        )
        .unwrap();
        let mut command = Command::new("true");
        if let Some(emulator) = emulator {
            support::sandbox_env(&mut command, &emulator.endpoint);
        }
        let mut env: Vec<(String, String)> = command
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v?.to_str()?.to_owned())))
            .collect();
        let path = |p: &str| work.path().join(p).to_string_lossy().into_owned();
        for (key, value) in [
            ("PATH", std::env::var("PATH").unwrap()),
            ("HOME", path("temp")),
            ("CI", "true".into()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_API_URL", github.server.url()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_REPOSITORY", REPO.into()),
            ("GITHUB_RUN_ID", "500".into()),
            ("GITHUB_SHA", "m3rge".into()),
            ("GITHUB_EVENT_NAME", "pull_request".into()),
            ("GITHUB_EVENT_PATH", event.to_string_lossy().into_owned()),
            ("GITHUB_WORKSPACE", path("workspace")),
            ("GITHUB_ACTION_PATH", ROOT.into()),
            ("RUNNER_TEMP", path("temp")),
            ("RUNNER_TOOL_CACHE", path("tool-cache")),
            ("RUNNER_OS", "Linux".into()),
            ("RUNNER_ARCH", "X64".into()),
            // Where release downloads come from: GitHub here is the fake.
            (
                "FLEET_DOWNLOAD_URL",
                format!("{}/download", github.server.url()),
            ),
        ] {
            env.retain(|(k, _)| k != key);
            env.push((key.to_owned(), value));
        }
        Runner { work, env }
    }

    fn workspace(&self) -> PathBuf {
        self.work.path().join("workspace")
    }

    /// Runs action.yml with these inputs, as GitHub would.
    fn run(&self, inputs: &[(&str, &str)]) -> ActionRun {
        let action = action();
        let declared = action["inputs"].as_hash().unwrap();
        let github = HashMap::from([
            ("action_ref", "v9.9.9".to_owned()),
            ("action_repository", "fleet-bedrock/fleet".to_owned()),
            ("token", TOKEN.to_owned()),
        ]);
        let mut values: HashMap<String, String> = HashMap::new();
        for (name, spec) in declared {
            let name = name.as_str().unwrap();
            let given = inputs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            let default = spec["default"].as_str().unwrap_or("");
            let value = given.unwrap_or(default);
            values.insert(name.to_owned(), value.to_owned());
        }
        for (name, _) in inputs {
            assert!(values.contains_key(*name), "action.yml has no input {name}");
        }
        let mut run = ActionRun {
            code: 0,
            outputs: HashMap::new(),
            uploads: Vec::new(),
            log: String::new(),
        };
        let github_path = self.work.path().join("github_path");
        let _ = std::fs::remove_file(&github_path);
        let mut failed = false;
        for (index, step) in action["runs"]["steps"].as_vec().unwrap().iter().enumerate() {
            let context = Context {
                inputs: &values,
                github: &github,
                steps: &run.outputs,
            };
            let condition = step["if"].as_str().unwrap_or("success()");
            if !context.condition(condition, failed) {
                continue;
            }
            let id = step["id"]
                .as_str()
                .map_or_else(|| format!("step{index}"), str::to_owned);
            if let Some(uses) = step["uses"].as_str() {
                let with = |key: &str| context.expand(step["with"][key].as_str().unwrap_or(""));
                if uses.starts_with("actions/cache@") {
                    assert!(!with("key").is_empty() && !with("path").is_empty());
                    run.outputs.insert(id, HashMap::new()); // a cache miss
                } else if uses.starts_with("actions/upload-artifact@") {
                    let paths = with("path").lines().map(str::to_owned).collect();
                    run.uploads.push((with("name"), paths));
                } else {
                    panic!("the test runner does not know {uses}");
                }
                continue;
            }
            let script = step["run"].as_str().expect("a run step");
            assert_eq!(step["shell"].as_str(), Some("bash"), "step {id}");
            let output_file = self.work.path().join(format!("output-{index}"));
            std::fs::write(&output_file, "").unwrap();
            let mut path = std::env::var("PATH").unwrap();
            for dir in std::fs::read_to_string(&github_path)
                .unwrap_or_default()
                .lines()
            {
                path = format!("{dir}:{path}");
            }
            let mut command = Command::new("bash");
            command
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
                .current_dir(self.workspace())
                .env_clear()
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .env("PATH", path)
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_PATH", &github_path);
            if let Some(env) = step["env"].as_hash() {
                for (key, value) in env {
                    command.env(
                        key.as_str().unwrap(),
                        context.expand(value.as_str().unwrap()),
                    );
                }
            }
            let output = command.output().unwrap();
            run.log.push_str(&String::from_utf8_lossy(&output.stdout));
            run.log.push_str(&String::from_utf8_lossy(&output.stderr));
            run.outputs.insert(
                id,
                parse_outputs(&std::fs::read_to_string(&output_file).unwrap()),
            );
            if !output.status.success() && !failed {
                failed = true;
                run.code = output.status.code().unwrap_or(-1);
            }
        }
        run
    }
}

fn action() -> Yaml {
    let text = std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// `name=value` lines and `name<<DELIMITER` blocks.
fn parse_outputs(text: &str) -> HashMap<String, String> {
    let mut outputs = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for line in lines.by_ref() {
                if line == delimiter {
                    break;
                }
                value.push(line);
            }
            outputs.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_owned(), value.to_owned());
        }
    }
    outputs
}

/// The expression contexts a composite action's steps see.
struct Context<'a> {
    inputs: &'a HashMap<String, String>,
    github: &'a HashMap<&'static str, String>,
    steps: &'a HashMap<String, HashMap<String, String>>,
}

impl Context<'_> {
    fn value(&self, reference: &str) -> String {
        let reference = reference.trim();
        if let Some(literal) = reference
            .strip_prefix('\'')
            .and_then(|r| r.strip_suffix('\''))
        {
            return literal.to_owned();
        }
        let parts: Vec<&str> = reference.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self.expand(&self.inputs[*name]),
            ["github", name] => self.github[name].clone(),
            ["steps", id, "outputs", name] => self
                .steps
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("the test runner cannot evaluate `{reference}`"),
        }
    }

    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").unwrap() + start;
            out.push_str(&self.value(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// `if:`: `&&` of `always()`, `success()`, `A == B` and `A != B`; without a
    /// status function it means `success() && …`, as on GitHub.
    fn condition(&self, expression: &str, failed: bool) -> bool {
        let mut status = None;
        let mut result = true;
        for term in expression.split("&&").map(str::trim) {
            match term {
                "always()" => status = Some(true),
                "success()" => status = Some(!failed),
                "failure()" => status = Some(failed),
                _ => {
                    let (left, right, equal) = if let Some((l, r)) = term.split_once("!=") {
                        (l, r, false)
                    } else if let Some((l, r)) = term.split_once("==") {
                        (l, r, true)
                    } else {
                        panic!("the test runner cannot evaluate `{term}`");
                    };
                    result &= (self.value(left) == self.value(right)) == equal;
                }
            }
        }
        status.unwrap_or(!failed) && result
    }
}

// ----------------------------------------------------------------- helpers --

/// Publishes a "release" whose binary runs the fleet under test.
fn publish_release(github: &FakeGitHub, work: &Path) {
    let wrapper = format!("#!/bin/sh\nexec '{}' \"$@\"\n", env!("CARGO_BIN_EXE_fleet"));
    let name = "fleet-x86_64-unknown-linux-musl.tar.xz";
    let archive = work.join(name);
    python(
        r#"
import io, sys, tarfile
out, content = sys.argv[1], sys.argv[2].encode()
with tarfile.open(out, "w:xz") as t:
    info = tarfile.TarInfo("fleet-x86_64-unknown-linux-musl/fleet")
    info.size, info.mode = len(content), 0o755
    t.addfile(info, io.BytesIO(content))
"#,
        &[archive.to_str().unwrap(), &wrapper],
    );
    let bytes = std::fs::read(&archive).unwrap();
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let mut state = github.state.lock().unwrap();
    state
        .downloads
        .insert(format!("/download/v9.9.9/{name}"), bytes);
    state.downloads.insert(
        format!("/download/v9.9.9/{name}.sha256"),
        format!("{sha} *{name}\n").into_bytes(),
    );
}

fn python(script: &str, args: &[&str]) {
    let status = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success());
}

/// An artifact as upload-artifact stores it: a zip of the files.
fn zip_of(files: &[&Path]) -> Vec<u8> {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut args = vec![out.path().to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    python(
        r#"
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for path in sys.argv[2:]:
        z.write(path, os.path.basename(path))
"#,
        &args,
    );
    std::fs::read(out.path()).unwrap()
}

/// A saved plan with `count` targets to create, each with its own change
/// (a key prefix of `prefix_len` characters), so none group together.
fn saved_plan(count: usize, prefix_len: usize) -> Value {
    let targets: Vec<Value> = (0..count)
        .map(|i| {
            let account = format!("{}", 300_000_000_000u64 + i as u64);
            json!({
                "target": format!("{account}/us-east-1"),
                "account_id": account,
                "account_name": null,
                "region": "us-east-1",
                "profile": "p",
                "role_arn": null,
                "action": "create",
                "before": null,
                "after": {
                    "text_data_delivery_enabled": true,
                    "image_data_delivery_enabled": true,
                    "embedding_data_delivery_enabled": true,
                    "video_data_delivery_enabled": false,
                    "audio_data_delivery_enabled": false,
                    "s3_config": {
                        "bucket_name": format!("logs-{account}"),
                        "key_prefix": format!("p{i}-{}", "x".repeat(prefix_len)),
                    },
                },
                "diff": "",
                "error": null,
                "preflight": [],
            })
        })
        .collect();
    json!({
        "format_version": 2,
        "fleet_file": "fleet.toml",
        "fleet_sha256": "ab".repeat(32),
        "created_at": "2026-12-01T00:00:00Z",
        "fleet_version": "0.1.0",
        "assume_role": {"external_id": null, "session_name": null},
        "partition": null,
        "summary": {"create": count, "update": 0, "delete": 0, "unchanged": 0, "failed": 0},
        "targets": targets,
    })
}

/// What `fleet report PLAN --format markdown` prints.
fn fleet_markdown(plan: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(["report"])
        .arg(plan)
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn fleet_comments(github: &FakeGitHub) -> Vec<Value> {
    github
        .comments()
        .into_iter()
        .filter(|c| {
            c["body"]
                .as_str()
                .unwrap()
                .starts_with("<!-- fleet: fleet.toml -->\n")
        })
        .collect()
}

// ------------------------------------------------------------------- tests --

#[test]
fn the_first_run_creates_the_comment_and_the_second_edits_it() {
    let github = FakeGitHub::start();
    let runner = Runner::new(&github, None);
    publish_release(&github, runner.work.path());
    // Other comments come first, across pages; one quotes the marker but
    // does not start with it.
    github.seed_comment("LGTM");
    github.seed_comment("see below:\n<!-- fleet: fleet.toml -->");
    github.seed_comment("<!-- fleet: other/fleet.toml -->\n### fleet plan of another file");

    let plan = runner.workspace().join("first.json");
    std::fs::write(&plan, saved_plan(2, 10).to_string()).unwrap();
    let first = runner.run(&[("command", "report"), ("plans", plan.to_str().unwrap())]);
    assert_eq!(first.code, 0, "{}", first.log);
    assert!(
        first.log.contains("sha256"),
        "installed, verified: {}",
        first.log
    );
    let comments = fleet_comments(&github);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0]["body"], fleet_markdown(&plan).as_str());
    assert_eq!(github.comments().len(), 4);
    let id = comments[0]["id"].clone();
    assert!(
        first
            .output("comment", "comment-url")
            .ends_with(&format!("#issuecomment-{id}"))
    );
    assert_eq!(first.output("run", "changes"), "true");
    assert_eq!(
        first.uploads,
        [(
            "fleet-report-fleet-toml".to_owned(),
            vec![
                runner
                    .work
                    .path()
                    .join("temp/fleet-action/report.json")
                    .display()
                    .to_string(),
                runner
                    .work
                    .path()
                    .join("temp/fleet-action/report.md")
                    .display()
                    .to_string()
            ]
        )]
    );

    // A new commit on the pull request: the same comment is edited.
    github.seed_comment("a reply after the plan");
    let plan = runner.workspace().join("second.json");
    std::fs::write(&plan, saved_plan(3, 10).to_string()).unwrap();
    let second = runner.run(&[("command", "report"), ("plans", plan.to_str().unwrap())]);
    assert_eq!(second.code, 0, "{}", second.log);
    assert!(
        second.log.contains(&format!("updated comment {id}")),
        "{}",
        second.log
    );
    let comments = fleet_comments(&github);
    assert_eq!(comments.len(), 1, "never a second comment: {comments:?}");
    assert_eq!(comments[0]["id"], id);
    assert_eq!(comments[0]["body"], fleet_markdown(&plan).as_str());
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .contains("3 to create")
    );
    assert_eq!(github.comments().len(), 5);
    let calls = github.state.lock().unwrap().calls.clone();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("GET") && c.contains("comments?per_page=100&page=2")),
        "the comment was found by following pages: {calls:?}"
    );
}

#[test]
fn a_plan_over_the_comment_limit_is_cut_as_fleet_cuts_it() {
    let github = FakeGitHub::start();
    let runner = Runner::new(&github, None);
    publish_release(&github, runner.work.path());
    let plan = runner.workspace().join("big.json");
    let document = saved_plan(120, 900);
    let full: usize = document["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["after"]["s3_config"]["key_prefix"]
                .as_str()
                .unwrap()
                .len()
        })
        .sum();
    assert!(
        full > 100_000,
        "the plan's changes alone are {full} characters"
    );
    std::fs::write(&plan, document.to_string()).unwrap();
    let run = runner.run(&[("command", "report"), ("plans", plan.to_str().unwrap())]);
    assert_eq!(run.code, 0, "{}", run.log);
    let comments = fleet_comments(&github);
    assert_eq!(comments.len(), 1);
    let body = comments[0]["body"].as_str().unwrap();
    assert_eq!(
        body,
        fleet_markdown(&plan),
        "the body is fleet's own markdown"
    );
    assert!(body.chars().count() <= 65_536, "{}", body.len());
    assert!(body.len() > 60_000, "as much as fits: {}", body.len());
    assert!(
        body.contains("Diff left out to stay under the size limit"),
        "{body}"
    );
}

/// A fleet file of 2 accounts × 2 regions in the workspace.
fn fleet_toml(runner: &Runner) {
    std::fs::write(
        runner.workspace().join("fleet.toml"),
        emulated::fleet_file(610_000_000_000, 2, &["us-east-1", "eu-west-1"]),
    )
    .unwrap();
}

#[test]
fn plan_exit_2_means_changes_and_fails_only_when_asked() {
    let github = FakeGitHub::start();
    let emulator = Emulator::start(&[]);
    let runner = Runner::new(&github, Some(&emulator));
    publish_release(&github, runner.work.path());
    fleet_toml(&runner);
    let plan = [("command", "plan"), ("args", "--preflight off")];

    // Changes: fleet exits 2, the step passes and says so.
    let run = runner.run(&plan);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.output("run", "exit-code"), "2");
    assert_eq!(run.output("run", "changes"), "true");
    assert!(
        run.log.contains("changes present (not a failure)"),
        "{}",
        run.log
    );
    let saved = runner.work.path().join("temp/fleet-action/plan.json");
    assert_eq!(run.output("run", "plan-file"), saved.to_str().unwrap());
    assert_eq!(
        run.uploads,
        [(
            "fleet-plan-fleet-toml".to_owned(),
            vec![saved.display().to_string()]
        )]
    );
    let comments = fleet_comments(&github);
    assert_eq!(comments.len(), 1, "an unsharded plan is the comment");
    assert_eq!(comments[0]["body"], fleet_markdown(&saved).as_str());
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .contains("4 to create")
    );

    // fail-on-changes: the same plan fails the step; the comment is still kept.
    let run = runner.run(&[&plan[..], &[("fail-on-changes", "true")]].concat());
    assert_eq!(run.code, 1, "{}", run.log);
    assert_eq!(run.output("run", "exit-code"), "2");
    assert_eq!(run.uploads.len(), 1, "the plan is uploaded all the same");
    assert_eq!(fleet_comments(&github).len(), 1);

    // A shard: no comment of its own, an artifact named by its shard.
    let run = runner.run(&[&plan[..], &[("shard", "2/3")]].concat());
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.uploads[0].0, "fleet-plan-fleet-toml-2-of-3");
    assert!(run.output("run", "comment-file").is_empty());
    let shard: Value = serde_json::from_slice(
        &std::fs::read(
            runner
                .work
                .path()
                .join("temp/fleet-action/plan-2-of-3.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(shard["partition"], json!({"index": 2, "count": 3}));

    // Applied: no changes, exit 0.
    let status = support::fleet_cmd(&emulator.endpoint)
        .current_dir(runner.workspace())
        .args(["apply", "--auto-approve", "--preflight", "off"])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let run = runner.run(&plan);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.output("run", "exit-code"), "0");
    assert_eq!(run.output("run", "changes"), "false");
    assert!(
        fleet_comments(&github)[0]["body"]
            .as_str()
            .unwrap()
            .contains("**No changes.**")
    );

    // Exit 1 (a broken fleet file) fails the step, and the comment says so.
    std::fs::write(runner.workspace().join("fleet.toml"), "[fleet\n").unwrap();
    let run = runner.run(&plan);
    assert_eq!(run.code, 1, "{}", run.log);
    assert_eq!(run.output("run", "exit-code"), "1");
    let comments = fleet_comments(&github);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .contains("### fleet plan failed"),
        "{comments:?}"
    );
}

/// Shard plans of the fleet file as the plan workflow's jobs upload them,
/// for the run `run_id` of pull request #7 (head `h3ad`, merged as `m3rge`).
fn reviewed_plans(
    github: &FakeGitHub,
    runner: &Runner,
    endpoint: &str,
    run_id: u64,
    shards: &[u32],
) {
    let mut artifacts = Vec::new();
    for k in shards {
        let file = runner.work.path().join(format!("plan-{k}-of-2.json"));
        let status = support::fleet_cmd(endpoint)
            .current_dir(runner.workspace())
            .args([
                "plan",
                "--preflight",
                "off",
                "--partition",
                &format!("{k}/2"),
                "--out",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        artifacts.push((format!("fleet-plan-fleet-toml-{k}-of-2"), zip_of(&[&file])));
    }
    // Another fleet file's plan in the same run is not ours.
    let other = runner.work.path().join("plan-1-of-1.json");
    std::fs::write(&other, "{}").unwrap();
    artifacts.push(("fleet-plan-staging-toml-1-of-1".into(), zip_of(&[&other])));
    let mut state = github.state.lock().unwrap();
    state.pulls.insert(
        "m3rge".into(),
        json!([{"number": PR, "merged_at": "2026-12-01T10:00:00Z", "merge_commit_sha": "m3rge",
                "head": {"sha": "h3ad"}}]),
    );
    state.runs = vec![
        json!({"id": run_id - 1, "head_sha": "h3ad", "status": "completed", "run_number": 1, "run_attempt": 1}),
        json!({"id": run_id, "head_sha": "h3ad", "status": "completed", "run_number": 2, "run_attempt": 1}),
        json!({"id": 1, "head_sha": "0ther", "status": "completed", "run_number": 3, "run_attempt": 1}),
    ];
    state.artifacts.insert(run_id, artifacts);
}

#[test]
fn apply_finds_the_reviewed_plans_of_the_merged_pull_request() {
    let github = FakeGitHub::start();
    let emulator = Emulator::start(&[]);
    let runner = Runner::new(&github, Some(&emulator));
    publish_release(&github, runner.work.path());
    fleet_toml(&runner);
    reviewed_plans(&github, &runner, &emulator.endpoint, 42, &[1, 2]);

    // The first job: which plans were reviewed, and are they all there?
    let found = runner.run(&[
        ("command", "report"),
        ("plans-from", "pull-request"),
        ("comment", "false"),
    ]);
    assert_eq!(found.code, 0, "{}", found.log);
    assert_eq!(
        found.output("run", "run-id"),
        "42",
        "the latest plan run of the PR's head"
    );
    assert_eq!(found.output("run", "pr-number"), PR.to_string());
    assert_eq!(found.output("run", "shards"), r#"["1/2", "2/2"]"#);
    assert!(
        !github.state.lock().unwrap().leaked_token,
        "no token to artifact storage"
    );
    assert!(fleet_comments(&github).is_empty(), "comment: false");

    // Then one job per shard applies that shard's reviewed plan.
    for shard in ["1/2", "2/2"] {
        let run = runner.run(&[("command", "apply"), ("plans-from", "42"), ("shard", shard)]);
        assert_eq!(run.code, 0, "{}", run.log);
        let file = format!("plan-{}-of-2.json", &shard[..1]);
        assert!(run.log.contains(&file), "{}", run.log);
    }
    assert_eq!(emulator.writes(), 4, "every target of both shards, once");
    let status = support::fleet_cmd(&emulator.endpoint)
        .current_dir(runner.workspace())
        .args(["plan", "--detailed-exitcode", "--preflight", "off"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{status:?}");
}

#[test]
fn a_missing_shard_is_reported_and_nothing_is_applied() {
    let github = FakeGitHub::start();
    let emulator = Emulator::start(&[]);
    let runner = Runner::new(&github, Some(&emulator));
    publish_release(&github, runner.work.path());
    fleet_toml(&runner);
    reviewed_plans(&github, &runner, &emulator.endpoint, 43, &[2]);

    // The comment job posts what exists and says which shard is missing…
    let run = runner.run(&[("command", "report"), ("plans-from", "43")]);
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(run.log.contains("shard 1/2 missing"), "{}", run.log);
    let comments = fleet_comments(&github);
    assert_eq!(comments.len(), 1);
    let body = comments[0]["body"].as_str().unwrap();
    assert!(body.contains("PARTIAL PLAN: shard 1/2 missing"), "{body}");
    assert!(body.contains("### fleet plan: "), "{body}");

    // …and apply refuses the incomplete set before writing anything.
    let run = runner.run(&[
        ("command", "report"),
        ("plans-from", "pull-request"),
        ("comment", "false"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log);
    let run = runner.run(&[("command", "apply"), ("plans-from", "43"), ("shard", "1/2")]);
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log.contains("no reviewed plan for shard 1/2"),
        "{}",
        run.log
    );
    assert_eq!(emulator.writes(), 0);

    // A push that did not come from a pull request has nothing reviewed.
    github.state.lock().unwrap().pulls.clear();
    let run = runner.run(&[("command", "apply")]);
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log.contains("was not merged from a pull request"),
        "{}",
        run.log
    );
    assert_eq!(emulator.writes(), 0);
}

#[test]
fn every_plan_job_failing_still_leaves_a_comment() {
    let github = FakeGitHub::start();
    let runner = Runner::new(&github, None);
    publish_release(&github, runner.work.path());
    let run = runner.run(&[("command", "report")]);
    assert_eq!(run.code, 1, "{}", run.log);
    let comments = fleet_comments(&github);
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .contains("No shard saved a plan"),
        "{comments:?}"
    );
}
