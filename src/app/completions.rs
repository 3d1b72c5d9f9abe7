//! `fleet completions SHELL` and `fleet man`: generated from the clap
//! definitions, so they never disagree with the command line.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;
use roff::{Roff, bold, roman};

use super::Exit;
use crate::cli::{Cli, CompletionsArgs, Shell};

pub(super) fn completions(args: CompletionsArgs) -> Result<Exit> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "fleet", &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(Exit::Success)
}

/// One roff page, `man fleet`: clap_mangen's sections for `fleet` itself
/// (synopsis, global options, exit codes), and instead of its list of
/// `fleet-COMMAND(1)` pages, which are not shipped, one COMMANDS section
/// with each command's usage and options.
pub(super) fn man() -> Result<Exit> {
    let mut command = Cli::command();
    command.build();
    let mut page = Vec::new();
    let top = clap_mangen::Man::new(command.clone());
    top.render_title(&mut page)?;
    top.render_name_section(&mut page)?;
    top.render_synopsis_section(&mut page)?;
    top.render_description_section(&mut page)?;
    top.render_options_section(&mut page)?;
    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut usage = sub.clone().bin_name(format!("fleet {}", sub.get_name()));
        commands.control("SS", [format!("fleet {}", sub.get_name()).as_str()]);
        commands.text([roman(usage.render_usage().to_string())]);
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            commands.control("PP", []);
            commands.text([roman(about.to_string())]);
        }
        // Global options are on the page once, above.
        let own = sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set() && a.get_id().as_str() != "help");
        for arg in own {
            commands.control("TP", []);
            commands.text([bold(argument_name(arg))]);
            if let Some(help) = arg.get_long_help().or(arg.get_help()) {
                commands.text([roman(help.to_string())]);
            }
        }
    }
    if let Some(exit_codes) = command.get_after_help() {
        // A table: no filling, or roff would join its lines.
        commands.control("SH", ["EXIT CODES"]);
        commands.control("nf", []);
        for line in exit_codes.to_string().lines().skip(1) {
            commands.text([roman(line)]);
            commands.control("br", []);
        }
        commands.control("fi", []);
    }
    commands.to_writer(&mut page)?;
    top.render_version_section(&mut page)?;
    std::io::stdout().write_all(&page)?;
    Ok(Exit::Success)
}

/// `--flag VALUE`, `-c, --config FILE` or `PLAN.json`, as `--help` shows it.
fn argument_name(arg: &clap::Arg) -> String {
    let value = || {
        arg.get_value_names()
            .map(|names| {
                names
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| arg.get_id().to_string().to_uppercase())
    };
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
    let mut names = Vec::new();
    if let Some(short) = arg.get_short() {
        names.push(format!("-{short}"));
    }
    if let Some(long) = arg.get_long() {
        names.push(format!("--{long}"));
    }
    if names.is_empty() {
        return value();
    }
    let names = names.join(", ");
    if takes_value {
        format!("{names} {}", value())
    } else {
        names
    }
}
