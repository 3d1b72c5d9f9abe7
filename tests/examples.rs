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
    let mut out = Vec::new();
    let Some(jobs) = workflow["jobs"].as_hash() else {
        panic!("a workflow without jobs");
    };
    for job in jobs.values() {
        for step in job["steps"].as_vec().expect("steps") {
            if let Some(run) = step["run"].as_str() {
                out.push(run.to_owned());
            }
        }
    }
    out
}

/// Replaces GitHub expressions with a plausible value, e.g. a shard number.
fn without_expressions(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("closed expression") + start + 2;
        out.push('1');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
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
        let commands: Vec<Vec<String>> = scripts(workflow)
            .iter()
            .flat_map(|s| fleet_commands(s))
            .collect();
        assert!(!commands.is_empty(), "{name} runs fleet");
        for command in &commands {
            if let Err(err) = Cli::try_parse_from(command) {
                panic!("{name}: `{}` does not parse:\n{err}", command.join(" "));
            }
        }
    }
}

#[test]
fn the_workflows_do_what_the_readme_says() {
    let commands = |wanted: &str| -> Vec<Cli> {
        let (_, workflow) = workflows().into_iter().find(|(n, _)| n == wanted).unwrap();
        scripts(&workflow)
            .iter()
            .flat_map(|s| fleet_commands(s))
            .map(|c| Cli::try_parse_from(c).unwrap())
            .collect()
    };
    let plan = commands("fleet-plan.yml");
    assert!(plan.iter().any(|c| matches!(&c.command, Command::Plan(p) if p.filter.partition.is_some() && p.out.is_some() && p.detailed_exitcode)));
    assert!(
        plan.iter()
            .any(|c| matches!(&c.command, Command::Report(r) if r.plans.len() == 3))
    );
    let apply = commands("fleet-apply.yml");
    assert!(
        apply.iter().any(
            |c| matches!(&c.command, Command::Apply(a) if a.plan.is_some() && !a.auto_approve)
        )
    );
    let audit = commands("fleet-audit.yml");
    assert!(
        audit
            .iter()
            .any(|c| matches!(&c.command, Command::Audit(a) if a.all_regions))
    );
}

#[test]
fn a_wrong_flag_in_a_workflow_would_be_caught() {
    let commands = fleet_commands("fleet plan --partitoin 1/3\n");
    assert!(Cli::try_parse_from(&commands[0]).is_err());
}
