//! `fleet completions SHELL` and `fleet man`, through the binary: each
//! generates and names every command of the real command line.

use assert_cmd::Command;
use clap::CommandFactory;
use fleet::cli::Cli;

/// Every subcommand of the real CLI definition (clap's `help` aside).
fn subcommands() -> Vec<String> {
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(names.len() >= 13, "{names:?}");
    names
}

fn fleet(args: &[&str]) -> String {
    let output = Command::cargo_bin("fleet")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
    assert!(output.stderr.is_empty(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn each_shell_gets_a_script_naming_every_command() {
    for (shell, signature) in [
        ("bash", "complete -F _fleet"),
        ("zsh", "#compdef fleet"),
        ("fish", "complete -c fleet"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = fleet(&["completions", shell]);
        assert!(script.contains(signature), "{shell}:\n{script}");
        for name in subcommands() {
            let named = match shell {
                // fish lists each command as `-a "NAME"`.
                "fish" => script.contains(&format!("-a \"{name}\"")),
                // PowerShell completes `fleet;NAME`.
                "powershell" => script.contains(&format!("'fleet;{name}'")),
                _ => {
                    script.contains(&format!("fleet,{name}"))
                        || script.contains(&format!("'{name}:"))
                }
            };
            assert!(named, "{shell} completion does not name `{name}`");
        }
        // Options of commands complete too.
        assert!(script.contains("detailed-exitcode"), "{shell}");
        assert!(script.contains("allow-partial"), "{shell}");
    }
}

#[test]
fn a_shell_fleet_does_not_know_is_a_usage_error() {
    let output = Command::cargo_bin("fleet")
        .unwrap()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
    assert!(stderr.contains("bash, zsh, fish, powershell"), "{stderr}");
}

#[test]
fn the_man_page_names_every_command_with_its_options() {
    let page = fleet(&["man"]);
    assert!(page.contains(".TH fleet 1"), "{page}");
    assert!(page.contains(".SH COMMANDS"), "{page}");
    for name in subcommands() {
        assert!(
            page.contains(&format!(".SS \"fleet {name}\"")),
            "the man page has no section for `fleet {name}`"
        );
    }
    // Each command's own options, and the exit codes table.
    assert!(page.contains("\\-\\-detailed\\-exitcode"), "{page}");
    assert!(page.contains("\\-\\-allow\\-partial"), "{page}");
    assert!(page.contains(".SH \"EXIT CODES\""), "{page}");
    assert!(
        !page.contains("fleet\\-plan(1)"),
        "no pages that are not shipped"
    );
}
