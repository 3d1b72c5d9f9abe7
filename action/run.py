"""Runs one fleet command as the action's inputs say, and decides the step's
outcome from fleet's exit code.

- plan: `fleet plan --out PLAN --detailed-exitcode [--partition K/N]`; exit 2
  means changes: output `changes=true`, and the step passes unless
  `fail-on-changes` is true; exit 1 fails. The saved plan is the artifact;
  an unsharded plan becomes the pull-request comment (`fleet report PLAN
  --format markdown`, so the comment is cut exactly as fleet cuts it).
- report: merges the saved plans (of this run, of the reviewed pull request,
  of a run id, or files) with `fleet report`; an incomplete set of shards is
  rendered with `--allow-partial`, so the comment says which shard is
  missing, and the step then fails.
- apply: applies the reviewed plan of one shard (or every plan given).
- audit: `fleet audit --format FORMAT --out FILE`; exit 2 (findings) fails
  unless `fail-on-findings` is false.

Environment: INPUT_COMMAND, INPUT_CONFIG, INPUT_SHARD, INPUT_FORMAT,
INPUT_ARGS, INPUT_FAIL_ON_CHANGES, INPUT_FAIL_ON_FINDINGS, INPUT_COMMENT,
INPUT_PLANS, INPUT_PLANS_FROM, INPUT_PLAN_WORKFLOW, INPUT_GITHUB_TOKEN,
FLEET_BIN (default `fleet`), FLEET_ACTION_DRY_RUN (print the fleet command
lines as JSON, run nothing), and GitHub's RUNNER_TEMP, GITHUB_* variables.
"""

import glob
import json
import os
import re
import shlex
import subprocess
import sys
import zipfile

# Nothing written beside the scripts (the action directory may be read-only).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from github import (  # noqa: E402
    ActionError,
    GitHub,
    comment_marker,
    fail,
    input_flag,
    input_value,
    set_output,
    slug,
)

COMMANDS = ("plan", "apply", "audit", "report")
AUDIT_EXTENSIONS = {"human": "txt", "json": "json", "markdown": "md", "csv": "csv", "matrix": "txt", "html": "html"}


def fleet_bin():
    return os.environ.get("FLEET_BIN") or "fleet"


def work_dir():
    base = os.environ.get("RUNNER_TEMP") or os.getcwd()
    path = os.path.join(base, "fleet-action")
    os.makedirs(path, exist_ok=True)
    return path


def shard_input():
    """(K, N) from input `shard` ("K/N"), or None."""
    text = input_value("shard")
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ActionError(f"input shard must be K/N with 1 ≤ K ≤ N, e.g. 2/3; not {text!r}")
    return int(match.group(1)), int(match.group(2))


def plan_file_name(shard):
    return f"plan-{shard[0]}-of-{shard[1]}.json" if shard else "plan.json"


def plan_artifact_name(config, shard):
    name = f"fleet-plan-{slug(config)}"
    return f"{name}-{shard[0]}-of-{shard[1]}" if shard else name


def extra_args(dropped=()):
    words = shlex.split(input_value("args"))
    return [w for w in words if w not in dropped]


def run_fleet(argv, stdout=None):
    """Runs fleet, its output in the job log (or `stdout`); returns the code."""
    print("+ " + shlex.join(argv), flush=True)
    try:
        completed = subprocess.run(argv, stdout=stdout, check=False)
    except FileNotFoundError:
        raise ActionError(f"`{argv[0]}` is not installed") from None
    return completed.returncode


def fleet_output(argv):
    """Runs fleet and returns (code, stdout)."""
    print("+ " + shlex.join(argv), flush=True)
    completed = subprocess.run(argv, stdout=subprocess.PIPE, check=False)
    return completed.returncode, completed.stdout.decode("utf-8", "replace")


def run_url():
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{os.environ.get('GITHUB_RUN_ID', '')}"


def write_comment(text):
    path = os.path.join(work_dir(), "comment.md")
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    set_output("comment-file", path)


# --- saved plans from artifacts -------------------------------------------

ARTIFACT = re.compile(r"fleet-plan-(?P<slug>[a-z0-9-]+?)(?:-(?P<k>\d+)-of-(?P<n>\d+))?")


def plan_artifacts(github, run_id, config):
    """The plan artifacts of a run for this fleet file: {name: (shard, artifact)}."""
    found = {}
    for artifact in github.get_all(f"/actions/runs/{run_id}/artifacts", key="artifacts"):
        match = ARTIFACT.fullmatch(artifact["name"])
        if not match or match.group("slug") != slug(config) or artifact.get("expired"):
            continue
        shard = (int(match.group("k")), int(match.group("n"))) if match.group("k") else None
        found[artifact["name"]] = (shard, artifact)
    return found


def reviewed_run(github, sha, workflow):
    """The run of the plan workflow on the head of the pull request that was
    merged as `sha`: the plan that was reviewed, not the previous tip of the
    branch."""
    pulls, _ = github.request("GET", github.url(f"/commits/{sha}/pulls"))
    merged = [p for p in pulls if p.get("merged_at")]
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    chosen = (exact or merged or [None])[0]
    if chosen is None:
        raise ActionError(
            f"commit {sha} was not merged from a pull request, so there is no reviewed plan to apply; "
            "change fleet.toml through a pull request"
        )
    head = chosen["head"]["sha"]
    runs = github.get_all(
        f"/actions/workflows/{workflow}/runs?head_sha={head}&event=pull_request", key="workflow_runs"
    )
    completed = [r for r in runs if r.get("status") == "completed"]
    if not completed:
        raise ActionError(
            f"no completed run of {workflow} for pull request #{chosen['number']} at its head {head}; "
            "its plan was never reviewed"
        )
    latest = max(completed, key=lambda r: (r.get("run_number", 0), r.get("run_attempt", 0)))
    print(f"fleet: pull request #{chosen['number']} (head {head[:12]}), plan run {latest['id']}")
    set_output("pr-number", chosen["number"])
    return latest["id"]


def download_plans(config):
    """Saved plan files: input `plans`, else the artifacts `plans-from` names."""
    given = input_value("plans")
    if given:
        files = sorted({f for pattern in given.split() for f in glob.glob(pattern)})
        if not files:
            raise ActionError(f"input plans matches no file: {given}")
        return files
    command = input_value("command")
    source = input_value("plans-from", "pull-request" if command == "apply" else "this-run")
    github = GitHub()
    if source == "this-run":
        run_id = os.environ.get("GITHUB_RUN_ID", "")
    elif source == "pull-request":
        run_id = reviewed_run(github, os.environ.get("GITHUB_SHA", ""), input_value("plan-workflow", "fleet-plan.yml"))
    elif source.isdigit():
        run_id = source
    else:
        raise ActionError(f"input plans-from must be this-run, pull-request or a run id, not {source!r}")
    set_output("run-id", run_id)
    artifacts = plan_artifacts(github, run_id, config)
    shards = sorted((s for s, _ in artifacts.values() if s), key=lambda s: s[0])
    set_output("shards", json.dumps([f"{k}/{n}" for k, n in shards] or [""]))
    directory = os.path.join(work_dir(), "plans")
    os.makedirs(directory, exist_ok=True)
    files = []
    for name, (_, artifact) in sorted(artifacts.items()):
        archive = os.path.join(directory, name + ".zip")
        github.download(artifact["archive_download_url"], archive)
        with zipfile.ZipFile(archive) as unzipped:
            for member in unzipped.namelist():
                if member.endswith(".json") and "/" not in member and not member.startswith("."):
                    target = os.path.join(directory, member)
                    with open(target, "wb") as out:
                        out.write(unzipped.read(member))
                    files.append(target)
    print(f"fleet: {len(files)} saved plan(s) from run {run_id}")
    return sorted(files)


# --- the commands -----------------------------------------------------------


def plan(config, shard, dry_run):
    out = os.path.join(work_dir(), plan_file_name(shard))
    argv = [fleet_bin(), "-c", config, "plan", "--out", out, "--detailed-exitcode"]
    if shard:
        argv += ["--partition", f"{shard[0]}/{shard[1]}"]
    if input_value("format"):
        argv += ["--format", input_value("format")]
    argv += extra_args(dropped=("--detailed-exitcode",))
    if dry_run:
        return [argv]
    if os.path.exists(out):
        os.remove(out)
    code = run_fleet(argv)
    set_output("exit-code", code)
    set_output("changes", "true" if code == 2 else "false")
    if os.path.exists(out):
        set_output("plan-file", out)
        set_output("artifact-name", plan_artifact_name(config, shard))
        set_output("artifact-paths", out)
    if not shard and input_flag("comment", True):
        if os.path.exists(out):
            _, markdown = fleet_output([fleet_bin(), "report", out, "--format", "markdown"])
        else:
            markdown = f"{comment_marker(config)}\n### fleet plan failed\n\n`fleet plan` saved no plan: see [the job log]({run_url()}).\n"
        write_comment(markdown)
    if code == 2:
        print("fleet: changes present" + ("" if input_flag("fail-on-changes", False) else " (not a failure)"))
        return 1 if input_flag("fail-on-changes", False) else 0
    return 0 if code == 0 else 1


def report(config, shard, dry_run):
    files = ["plan-1-of-1.json"] if dry_run else download_plans(config)
    base = [fleet_bin(), "report", *files, "--allow-partial"]
    log_format = input_value("format", "human")
    argv = base + ["--format", log_format] + extra_args()
    if dry_run:
        return [argv]
    if not files:
        write_comment(
            f"{comment_marker(config)}\n### fleet plan: no plan\n\n"
            f"No shard saved a plan (did every plan job fail?): see [the workflow run]({run_url()}).\n"
        )
        raise ActionError("no saved plan to report: every plan job failed or uploaded nothing")
    code = run_fleet(argv)
    json_code, document = fleet_output(base + ["--format", "json"])
    _, markdown = fleet_output(base + ["--format", "markdown"])
    directory = work_dir()
    paths = []
    for name, text in (("report.json", document), ("report.md", markdown)):
        with open(os.path.join(directory, name), "w", encoding="utf-8") as out:
            out.write(text)
        paths.append(os.path.join(directory, name))
    set_output("report-file", paths[0])
    set_output("artifact-name", f"fleet-report-{slug(config)}")
    set_output("artifact-paths", "\n".join(paths))
    set_output("exit-code", code)
    if input_flag("comment", True):
        if not markdown:
            markdown = (
                f"{comment_marker(config)}\n### fleet plan: the plans could not be merged\n\n"
                f"`fleet report` refused the saved plans: see [the workflow run]({run_url()}).\n"
            )
        write_comment(markdown)
    missing = []
    if json_code == 0 and document:
        merged = json.loads(document)
        counts = merged.get("summary", {})
        changes = sum(counts.get(k, 0) for k in ("create", "update", "delete"))
        set_output("changes", "true" if changes else "false")
        missing = [f"{s['index']}/{s['count']}" for s in merged.get("missing_shards", [])]
    if missing:
        raise ActionError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing: the comment shows the others")
    return 0 if code == 0 else 1


def apply(config, shard, dry_run):
    if dry_run:
        files = [plan_file_name(shard)]
    else:
        files = download_plans(config)
        if shard:
            wanted = plan_file_name(shard)
            files = [f for f in files if os.path.basename(f) == wanted]
            if not files:
                raise ActionError(f"no reviewed plan for shard {shard[0]}/{shard[1]} ({wanted}); nothing was applied")
        elif len(files) > 1:
            # Several shards: only a complete set is applied.
            check = run_fleet([fleet_bin(), "report", *files, "--format", "json"], stdout=subprocess.DEVNULL)
            if check != 0:
                raise ActionError("the saved plans are not one complete set of shards; nothing was applied")
        elif not files:
            raise ActionError("no saved plan to apply; nothing was applied")
    commands = [[fleet_bin(), "-c", config, "apply", path, *extra_args()] for path in files]
    if dry_run:
        return commands
    worst = 0
    for argv in commands:
        worst = max(worst, run_fleet(argv))
    set_output("exit-code", worst)
    return 0 if worst == 0 else 1


def audit(config, shard, dry_run):
    log_format = input_value("format", "html")
    if log_format not in AUDIT_EXTENSIONS:
        raise ActionError(f"input format for audit must be one of {', '.join(AUDIT_EXTENSIONS)}, not {log_format!r}")
    out = os.path.join(work_dir(), f"audit.{AUDIT_EXTENSIONS[log_format]}")
    argv = [fleet_bin(), "-c", config, "audit", "--format", log_format, "--out", out]
    if shard:
        argv += ["--partition", f"{shard[0]}/{shard[1]}"]
    argv += extra_args()
    if dry_run:
        return [argv]
    code = run_fleet(argv)
    set_output("exit-code", code)
    if os.path.exists(out):
        set_output("report-file", out)
        name = f"fleet-audit-{slug(config)}" + (f"-{shard[0]}-of-{shard[1]}" if shard else "")
        set_output("artifact-name", name)
        set_output("artifact-paths", out)
        if log_format != "html":
            with open(out, encoding="utf-8") as text:
                print(text.read())
    if code == 2:
        fails = input_flag("fail-on-findings", True)
        print("fleet: findings" + ("" if fails else " (not a failure: fail-on-findings is false)"))
        return 1 if fails else 0
    return 0 if code == 0 else 1


def main():
    command = input_value("command")
    if command not in COMMANDS:
        raise ActionError(f"input command must be one of {', '.join(COMMANDS)}, not {command!r}")
    config = input_value("config", "fleet.toml")
    shard = shard_input()
    dry_run = os.environ.get("FLEET_ACTION_DRY_RUN") == "1"
    result = {"plan": plan, "apply": apply, "audit": audit, "report": report}[command](config, shard, dry_run)
    if dry_run:
        print(json.dumps(result))
        return 0
    return result


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ActionError as err:
        fail(str(err))
