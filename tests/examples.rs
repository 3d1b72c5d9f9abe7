//! The example CI workflows parse as YAML, and every `fleet` command line in
//! them parses with the real command-line definition.

use clap::Parser;
use fleet::cli::{Cli, Command};
use yaml_rust2::{Yaml, YamlLoader};

fn workflows() -> Vec<(String, Yaml)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/github-actions");
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml"))
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut docs = YamlLoader::load_from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                docs.remove(0),
            )
        })
        .collect()
}

/// Every `run:` script of every step of every job.
fn scripts(workflow: &Yaml) -> Vec<String> {
    steps(workflow)
        .into_iter()
        .filter_map(|(_, step)| step["run"].as_str().map(str::to_owned))
        .collect()
}

/// Every step of every job, with its job.
fn steps(workflow: &Yaml) -> Vec<(&Yaml, &Yaml)> {
    let Some(jobs) = workflow["jobs"].as_hash() else {
        panic!("a workflow without jobs");
    };
    jobs.values()
        .flat_map(|job| {
            job["steps"]
                .as_vec()
                .expect("steps")
                .iter()
                .map(move |step| (job, step))
        })
        .collect()
}

/// The action this repository publishes, as the examples use it.
fn action_ref() -> String {
    format!("fleet-bedrock/fleet@v{}", env!("CARGO_PKG_VERSION"))
}

/// Replaces GitHub expressions with a plausible value: a matrix value from
/// the job's matrix (the first of a list; `1/3` when the matrix comes from
/// the shards of reviewed plans), 3 for `strategy.job-total`, else 1.
fn expand(text: &str, job: &Yaml) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("closed expression") + start + 2;
        let expression = rest[start + 3..end - 2].trim();
        let value = match expression.strip_prefix("matrix.") {
            Some(key) => match &job["strategy"]["matrix"][key] {
                Yaml::Array(values) => match &values[0] {
                    Yaml::Integer(n) => n.to_string(),
                    other => other.as_str().expect("a matrix value").to_owned(),
                },
                Yaml::String(_) => "1/3".to_owned(),
                _ => panic!("no matrix key {key}"),
            },
            None if expression == "strategy.job-total" => "3".to_owned(),
            None => "1".to_owned(),
        };
        out.push_str(&value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn without_expressions(line: &str) -> String {
    expand(line, &Yaml::BadValue)
}

/// The `fleet …` command lines of a script, as argument vectors, stopping at
/// redirections and pipes.
fn fleet_commands(script: &str) -> Vec<Vec<String>> {
    script
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("fleet "))
        .map(|line| {
            let words = shlex::split(&without_expressions(line)).expect("shell words");
            words
                .into_iter()
                .take_while(|w| !matches!(w.as_str(), ">" | ">>" | "|" | "&&" | "||" | ";"))
                .collect()
        })
        .collect()
}

/// The fleet command lines a step that uses the action runs: `action/run.py`
/// prints them without running anything (FLEET_ACTION_DRY_RUN), from the
/// step's `with:` as GitHub passes inputs (`INPUT_*`).
fn action_commands(job: &Yaml, step: &Yaml) -> Vec<Vec<String>> {
    let action = YamlLoader::load_from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap(),
    )
    .unwrap()
    .remove(0);
    let mut command = std::process::Command::new("python3");
    command
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/action/run.py"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("FLEET_ACTION_DRY_RUN", "1")
        .env("FLEET_BIN", "fleet")
        .env("RUNNER_TEMP", std::env::temp_dir());
    let declared = action["inputs"].as_hash().unwrap();
    for (name, value) in step["with"].as_hash().expect("with:") {
        let name = name.as_str().unwrap();
        assert!(
            declared.contains_key(&Yaml::String(name.to_owned())),
            "the action has no input `{name}`"
        );
        let value = match value {
            Yaml::Boolean(b) => b.to_string(),
            other => expand(other.as_str().expect("a string input"), job),
        };
        command.env(
            format!("INPUT_{}", name.to_uppercase().replace('-', "_")),
            value,
        );
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let last = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(last.lines().last().unwrap()).unwrap()
}

/// Every fleet command line a workflow runs, by `run:` or through the action.
fn commands_of(workflow: &Yaml) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = scripts(workflow)
        .iter()
        .flat_map(|s| fleet_commands(s))
        .collect();
    for (job, step) in steps(workflow) {
        if step["uses"].as_str() == Some(action_ref().as_str()) {
            commands.extend(action_commands(job, step));
        }
    }
    commands
}

#[test]
fn every_workflow_parses_and_its_fleet_commands_are_valid() {
    let workflows = workflows();
    let names: Vec<&str> = workflows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["fleet-apply.yml", "fleet-audit.yml", "fleet-plan.yml"]
    );
    for (name, workflow) in &workflows {
        assert!(!workflow["on"].is_badvalue(), "{name} has triggers");
        let commands = commands_of(workflow);
        assert!(!commands.is_empty(), "{name} runs fleet");
        for command in &commands {
            if let Err(err) = Cli::try_parse_from(command) {
                panic!("{name}: `{}` does not parse:\n{err}", command.join(" "));
            }
        }
    }
}

#[test]
fn no_example_compiles_fleet_and_every_one_uses_the_action() {
    for (name, workflow) in workflows() {
        for script in scripts(&workflow) {
            assert!(!script.contains("cargo"), "{name} builds fleet: {script}");
        }
        let uses: Vec<&str> = steps(&workflow)
            .into_iter()
            .filter_map(|(_, step)| step["uses"].as_str())
            .filter(|u| u.contains("/fleet@"))
            .collect();
        assert!(!uses.is_empty(), "{name} does not use the action");
        for action in uses {
            assert_eq!(action, action_ref(), "{name}");
        }
    }
}

#[test]
fn the_workflows_do_what_the_readme_says() {
    let commands = |wanted: &str| -> Vec<Cli> {
        let (_, workflow) = workflows().into_iter().find(|(n, _)| n == wanted).unwrap();
        commands_of(&workflow)
            .into_iter()
            .map(|c| Cli::try_parse_from(c).unwrap())
            .collect()
    };
    let plan = commands("fleet-plan.yml");
    assert!(plan.iter().any(|c| matches!(&c.command, Command::Plan(p) if p.filter.partition.is_some() && p.out.is_some() && p.detailed_exitcode)));
    assert!(
        plan.iter()
            .any(|c| matches!(&c.command, Command::Report(r) if r.allow_partial))
    );
    let apply = commands("fleet-apply.yml");
    assert!(
        apply.iter().any(
            |c| matches!(&c.command, Command::Apply(a) if a.plan.is_some() && !a.auto_approve && a.max_failures == Some(10))
        )
    );
    let audit = commands("fleet-audit.yml");
    assert!(
        audit
            .iter()
            .any(|c| matches!(&c.command, Command::Audit(a) if a.all_regions && a.out.is_some()))
    );
}

#[test]
fn the_plan_workflow_writes_the_shard_count_once_and_comments_even_when_a_shard_fails() {
    let (_, workflow) = workflows()
        .into_iter()
        .find(|(n, _)| n == "fleet-plan.yml")
        .unwrap();
    let plan = &workflow["jobs"]["plan"];
    let shards = plan["strategy"]["matrix"]["shard"].as_vec().unwrap();
    assert_eq!(shards.len(), 3);
    let step = steps(&workflow)
        .into_iter()
        .find(|(_, s)| s["with"]["command"].as_str() == Some("plan"))
        .unwrap()
        .1;
    assert_eq!(
        step["with"]["shard"].as_str(),
        Some("${{ matrix.shard }}/${{ strategy.job-total }}")
    );
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/github-actions/fleet-plan.yml"
    ))
    .unwrap();
    assert!(
        !text.contains("/3"),
        "the count is the matrix's length only"
    );
    let comment = &workflow["jobs"]["comment"];
    assert_eq!(comment["needs"].as_str(), Some("plan"));
    assert_eq!(comment["if"].as_str(), Some("always()"));
}

#[test]
fn the_apply_workflow_applies_the_plans_reviewed_on_the_pull_request() {
    let (_, workflow) = workflows()
        .into_iter()
        .find(|(n, _)| n == "fleet-apply.yml")
        .unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/github-actions/fleet-apply.yml"
    ))
    .unwrap();
    assert!(!text.contains("github.event.before"), "{text}");
    let found = &workflow["jobs"]["reviewed-plan"]["steps"][0]["with"];
    assert_eq!(found["plans-from"].as_str(), Some("pull-request"));
    let apply = &workflow["jobs"]["apply"];
    assert_eq!(
        apply["strategy"]["matrix"]["shard"].as_str(),
        Some("${{ fromJSON(needs.reviewed-plan.outputs.shards) }}")
    );
    assert_eq!(apply["needs"].as_str(), Some("reviewed-plan"));
}

#[test]
fn a_wrong_flag_in_a_workflow_would_be_caught() {
    let commands = fleet_commands("fleet plan --partitoin 1/3\n");
    assert!(Cli::try_parse_from(&commands[0]).is_err());
    let workflow = YamlLoader::load_from_str(
        "jobs:\n  j:\n    steps:\n      - uses: x\n        with:\n          command: plan\n          args: --partitoin 1/3\n",
    )
    .unwrap()
    .remove(0);
    let (job, step) = steps(&workflow)[0];
    let commands = action_commands(job, step);
    assert!(Cli::try_parse_from(&commands[0]).is_err(), "{commands:?}");
}
