//! Runs one command: loads what it needs, calls the engine, hands the
//! results to a renderer, and decides the exit code. One file per command.

mod apply;
mod audit;
mod completions;
mod demo;
mod import;
mod plan;
mod policy;
mod report;
mod show;
mod targets;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::aws::{Aws, AwsOptions};
use crate::cli::{AwsArgs, Cli, ColorWhen, Command, FilterArgs, PreflightMode};
use crate::engine::select::Selection;
use crate::engine::{self, LoggingApi, Plan};
use crate::fleet::{self, Fleet, FleetFileError, Loaded, Settings, Target};
use crate::render;
pub(crate) use targets::{Resolved, resolve_targets};

/// The process exit code of a finished command (DESIGN §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Changes = 2,
}

/// The built-in example, used by `fleet demo`.
pub const EXAMPLE_FLEET: &str = include_str!("../../fleet.example.toml");

pub(crate) const DEFAULT_CONCURRENCY: usize = 64;

/// Output settings shared by every command.
pub(crate) struct Ui {
    quiet: bool,
    verbose: bool,
    stderr_color: bool,
}

impl Ui {
    fn new(cli: &Cli) -> Ui {
        let choice = match cli.color {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        let stderr_color = match cli.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Ui {
            quiet: cli.quiet,
            verbose: cli.verbose,
            stderr_color,
        }
    }

    /// An error that does not stop the command (it still sets the exit code).
    pub(crate) fn error(&self, message: &str) {
        let _ = writeln!(
            anstream::stderr(),
            "{} {message}",
            render::paint(render::RED, "error:")
        );
    }

    pub(crate) fn warn(&self, message: &str) {
        if !self.quiet {
            let mut err = anstream::stderr();
            let _ = writeln!(
                err,
                "{} {message}",
                render::paint(render::YELLOW, "warning:")
            );
        }
    }

    /// Something a user should know that is not a problem (`note: …`), unless `-q`.
    pub(crate) fn notice(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(
                anstream::stderr(),
                "{} {message}",
                render::paint(render::CYAN, "note:")
            );
        }
    }

    /// Says each region that leaves flags out of Get once, with those flags.
    pub(crate) fn note_unreported(&self, unreported: &[crate::engine::UnreportedFlags]) {
        for region in unreported {
            self.notice(&render::unreported_note(region));
        }
    }

    pub(crate) fn note(&self, message: &str) {
        if self.verbose {
            let _ = writeln!(anstream::stderr(), "{message}");
        }
    }
}

/// With `-v`: how many assumed-role sessions were renewed before expiry.
pub(crate) fn note_renewals(ui: &Ui, aws: &crate::aws::Aws) {
    let renewals = aws.session_renewals();
    if renewals > 0 {
        ui.note(&format!(
            "renewed {renewals} assumed-role session{} before it expired",
            if renewals == 1 { "" } else { "s" }
        ));
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<Exit> {
    let ui = Ui::new(&cli);
    let config = cli.config.to_string_lossy().into_owned();
    match cli.command {
        Command::Validate => validate(&ui, &config),
        Command::Targets(args) => targets::targets(&ui, &config, args).await,
        Command::Plan(args) => plan::plan(&ui, &config, args).await,
        Command::Apply(args) => apply::apply(&ui, &config, args).await,
        Command::Audit(args) => audit::audit(&ui, &config, args).await,
        Command::Show(args) => show::show(&ui, &config, args).await,
        Command::Import(args) => import::import(&ui, args).await,
        Command::Report(args) => report::report(&ui, args),
        Command::Policy(args) => policy::policy(&ui, &config, args),
        Command::Demo => demo::demo(&ui).await,
        Command::Emulator(args) => demo::serve_emulator(args).await,
        Command::Completions(args) => completions::completions(args),
        Command::Man => completions::man(),
    }
}

/// Loads the fleet file, printing its problems; `None` when it is invalid.
pub(crate) fn load_fleet(ui: &Ui, loaded: Result<Loaded, FleetFileError>) -> Result<Option<Fleet>> {
    match loaded {
        Ok(Loaded { fleet, warnings }) => {
            if !ui.quiet {
                for warning in &warnings {
                    eprint!("{}", render::diagnostics::problem(warning, ui.stderr_color));
                }
            }
            Ok(Some(fleet))
        }
        Err(FleetFileError::Invalid { path, problems }) => {
            for problem in &problems {
                eprint!("{}", render::diagnostics::problem(problem, ui.stderr_color));
            }
            let errors = problems.iter().filter(|p| p.is_error()).count();
            eprintln!(
                "error: {path} is not a valid fleet file: {errors} error{}; nothing was read or written",
                if errors == 1 { "" } else { "s" }
            );
            Ok(None)
        }
        Err(err @ FleetFileError::Read { .. }) => Err(err.into()),
    }
}

pub(crate) fn validate(ui: &Ui, config: &str) -> Result<Exit> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    let mut out = anstream::stdout();
    writeln!(
        out,
        "{config} is valid: {} targets in {} accounts, {} profiles.",
        fleet.targets.len(),
        fleet.accounts.len(),
        fleet.profiles.len()
    )?;
    let discovery = &fleet.discovery;
    if discovery.is_needed() {
        let (units, enabled) = (discovery.units.len(), discovery.enabled_accounts.len());
        writeln!(
            out,
            "Plus what AWS resolves: {units} organizational unit entr{}, {enabled} account{} with regions = \"enabled\" (see `fleet targets`).",
            if units == 1 { "y" } else { "ies" },
            if enabled == 1 { "" } else { "s" },
        )?;
    }
    Ok(Exit::Success)
}

pub(crate) fn aws_options(args: &AwsArgs, settings: Settings) -> Result<AwsOptions> {
    let seconds = |name: &str, value: f64| -> Result<Duration> {
        Duration::try_from_secs_f64(value)
            .ok()
            .filter(|d| !d.is_zero())
            .with_context(|| format!("--{name} must be a positive number of seconds, not {value}"))
    };
    Ok(AwsOptions {
        connect_timeout: seconds("connect-timeout", args.connect_timeout)?,
        attempt_timeout: seconds("attempt-timeout", args.attempt_timeout)?,
        operation_timeout: seconds("operation-timeout", args.operation_timeout)?,
        max_attempts: args.max_attempts,
        permission_retry_window: Duration::try_from_secs_f64(args.permission_retry).with_context(
            || {
                format!(
                    "--permission-retry must be a number of seconds, not {}",
                    args.permission_retry
                )
            },
        )?,
        settings,
        ..AwsOptions::default()
    })
}

pub(crate) fn concurrency(args: &AwsArgs, settings: &Settings) -> usize {
    args.concurrency
        .map(|n| n as usize)
        .or(settings.concurrency)
        .unwrap_or(DEFAULT_CONCURRENCY)
}

/// Checks that AWS answers at all before reading any target, so a wrong
/// endpoint or missing credentials is one clear error, not one per target.
pub(crate) async fn check_caller(aws: &Aws) -> Result<()> {
    aws.caller_account()
        .await
        .map(drop)
        .context("cannot identify the caller (sts:GetCallerIdentity); check AWS credentials, AWS_PROFILE and AWS_ENDPOINT_URL; nothing was read or written")
}

pub(crate) async fn make_plan(
    ui: &Ui,
    api: &(impl LoggingApi + engine::destinations::ManagedApi),
    targets: Vec<Target>,
    concurrency: usize,
) -> Plan {
    let bar = render::progress::Bar::new("planning", ui.quiet);
    ui.note(&format!(
        "reading {} targets, {concurrency} at a time",
        targets.len()
    ));
    let mut plan = engine::plan_targets(api, targets, concurrency, &bar).await;
    let bar = render::progress::Bar::new("destinations", ui.quiet);
    plan.destinations =
        engine::destinations::plan_destinations(api, &plan.targets, concurrency, &bar).await;
    plan
}

/// A loaded fleet file with its targets resolved, and the AWS session to
/// work on them: what plan, apply, audit and show start from.
pub(crate) struct Opened {
    pub(crate) aws: Aws,
    pub(crate) concurrency: usize,
    pub(crate) resolved: Resolved,
}

/// Loads the fleet file (printing its problems), connects to AWS and
/// resolves discovered targets; `None` when the file is invalid.
pub(crate) async fn open(ui: &Ui, config: &str, args: &AwsArgs) -> Result<Option<Opened>> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(None);
    };
    let aws = Aws::connect(aws_options(args, fleet.settings.clone())?).await;
    let concurrency = concurrency(args, &fleet.settings);
    let resolved = resolve_targets(ui, fleet, &aws, concurrency).await?;
    Ok(Some(Opened {
        aws,
        concurrency,
        resolved,
    }))
}

/// Runs preflight on the plan's changes unless it is off; returns whether
/// `--preflight strict` must stop the run.
pub(crate) async fn check_destinations(
    ui: &Ui,
    aws: &Aws,
    plan: &mut Plan,
    mode: PreflightMode,
    concurrency: usize,
) -> bool {
    if mode == PreflightMode::Off {
        return false;
    }
    let bar = render::progress::Bar::new("preflight", ui.quiet);
    engine::preflight::preflight(aws, plan, concurrency, &bar).await;
    mode == PreflightMode::Strict
        && plan
            .targets
            .iter()
            .any(|t| t.preflight.iter().any(|f| f.blocks()))
}

/// The targets of the fleet that `--target`, `--exclude` and `--partition`
/// keep.
pub(crate) fn selected(ui: &Ui, fleet: &Fleet, filter: &FilterArgs) -> Result<Vec<Target>> {
    let selection = Selection::new(&filter.targets, &filter.excludes, filter.partition)?;
    let targets = selection.apply(fleet.targets.clone(), |t| t)?;
    if !selection.is_everything() {
        ui.note(&format!(
            "{} of {} targets selected",
            targets.len(),
            fleet.targets.len()
        ));
    }
    Ok(targets)
}

pub(crate) fn timestamp() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}
