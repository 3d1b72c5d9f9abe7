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
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::aws::{self, Aws, AwsOptions, Retry, RetryLog};
use crate::cli::{AwsArgs, Cli, ColorWhen, Command, FilterArgs, PreflightMode};
use crate::engine::ApiError;
use crate::engine::select::Selection;
use crate::engine::{self, LoggingApi, Plan};
use crate::fleet::{self, Account, AccountId, Fleet, FleetFileError, Loaded, Settings, Target};
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

/// The fleet file when `-c` is not given.
pub(crate) const DEFAULT_FLEET_FILE: &str = "fleet.toml";

/// Output settings shared by every command.
pub(crate) struct Ui {
    quiet: bool,
    verbose: bool,
    stderr_color: bool,
    /// Counts the attempts of every AWS call; with `-v`, tells of each retry.
    retry_log: Arc<RetryLog>,
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
        let retry_log = if cli.verbose {
            RetryLog::reporting(Box::new(|retry: &Retry| {
                let after = retry
                    .after
                    .map_or_else(String::new, |s| format!(" after {s}"));
                let _ = writeln!(
                    anstream::stderr(),
                    "retry: {} {}, attempt {}{after}",
                    retry.operation,
                    retry.target,
                    retry.attempt
                );
            }))
        } else {
            RetryLog::default()
        };
        Ui {
            quiet: cli.quiet,
            verbose: cli.verbose,
            stderr_color,
            retry_log: Arc::new(retry_log),
        }
    }

    /// With `-v`, the run's total of attempts, retries and throttled answers.
    fn retry_summary(&self) {
        let totals = self.retry_log.totals();
        if totals.attempts > 0 {
            self.note(&format!(
                "Bedrock calls: {}, {}, {} throttled",
                render::count(totals.attempts as usize, "attempt"),
                match totals.retries {
                    1 => "1 retry".to_owned(),
                    n => format!("{n} retries"),
                },
                totals.throttled
            ));
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
    let config = cli
        .config
        .as_deref()
        .unwrap_or(std::path::Path::new(DEFAULT_FLEET_FILE))
        .to_string_lossy()
        .into_owned();
    let exit = match cli.command {
        Command::Validate => validate(&ui, &config),
        Command::Targets(args) => targets::targets(&ui, &config, args).await,
        Command::Plan(args) => plan::plan(&ui, &config, args).await,
        Command::Apply(args) => apply::apply(&ui, &config, args).await,
        Command::Audit(args) => audit::audit(&ui, &config, args).await,
        Command::Show(args) => show::show(&ui, &config, args).await,
        Command::Import(args) => import::import(&ui, args).await,
        Command::Report(args) => report::report(&ui, args),
        Command::Policy(args) => policy::policy(&ui, &config, args),
        Command::Demo => demo::demo(&ui, cli.config.as_deref()).await,
        Command::Emulator(args) => demo::serve_emulator(args).await,
        Command::Completions(args) => completions::completions(args),
        Command::Man => completions::man(),
    };
    ui.retry_summary();
    match exit {
        // `fleet plan | head`: the reader has what it wanted.
        Err(err) if closed_stdout(&err) => Ok(Exit::Success),
        exit => exit,
    }
}

/// Whether an error is stdout closed by its reader.
fn closed_stdout(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
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
        Err(err @ (FleetFileError::Read { .. } | FleetFileError::Missing { .. })) => {
            Err(err.into())
        }
    }
}

pub(crate) fn validate(ui: &Ui, config: &str) -> Result<Exit> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    let mut out = anstream::stdout();
    writeln!(
        out,
        "{config} is valid: {} in {}, {}.",
        render::count(fleet.targets.len(), "target"),
        render::count(fleet.accounts.len(), "account"),
        render::count(fleet.profiles.len(), "profile")
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

pub(crate) fn aws_options(ui: &Ui, args: &AwsArgs, settings: Settings) -> Result<AwsOptions> {
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
        settings,
        retry_log: ui.retry_log.clone(),
        ..AwsOptions::default()
    })
}

/// The window of `--permission-retry`, for the commands that write.
pub(crate) fn permission_retry(seconds: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(seconds)
        .with_context(|| format!("--permission-retry must be a number of seconds, not {seconds}"))
}

pub(crate) fn concurrency(args: &AwsArgs, settings: &Settings) -> usize {
    args.concurrency
        .map(|n| n as usize)
        .or(settings.concurrency)
        .unwrap_or(DEFAULT_CONCURRENCY)
}

/// Why the caller could not be identified: the first call of every command
/// that reads AWS, so its failure is one error for the run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallerError {
    #[error(
        "cannot identify the caller{} (sts:GetCallerIdentity): {message}; check AWS_ENDPOINT_URL and the network; nothing was read or written",
        endpoint.as_ref().map_or_else(String::new, |e| format!(" at {e}"))
    )]
    Unreachable {
        endpoint: Option<String>,
        message: String,
    },
    #[error("{message}; nothing was read or written")]
    NoCredentials { message: String },
    #[error(
        "cannot identify the caller (sts:GetCallerIdentity): {error}; check AWS credentials, AWS_PROFILE and AWS_ENDPOINT_URL; nothing was read or written"
    )]
    Refused { error: ApiError },
}

/// Checks that AWS answers at all before reading any target, so a wrong
/// endpoint or missing credentials is one clear error, not one per target.
/// Returns the caller's account.
pub(crate) async fn check_caller(ui: &Ui, aws: &Aws) -> Result<AccountId, CallerError> {
    let error = match aws.caller_account().await {
        Ok(caller) => return Ok(caller),
        Err(error) => error,
    };
    for cause in aws.caller_causes() {
        ui.note(&format!("  cause: {cause}"));
    }
    Err(match error.code.as_str() {
        aws::CONNECTION_ERROR | "Timeout" => CallerError::Unreachable {
            endpoint: aws.endpoint_url().map(str::to_owned),
            message: error.message,
        },
        aws::NO_CREDENTIALS => CallerError::NoCredentials {
            message: error.message,
        },
        _ => CallerError::Refused { error },
    })
}

/// The targets with the caller's own account marked as such: fleet uses the
/// caller's credentials there and assumes no role, so the plan must not name
/// one (`role_arn` is `null` in a saved plan).
pub(crate) fn as_caller(targets: Vec<Target>, caller: &AccountId) -> Vec<Target> {
    let mut own: Option<Arc<Account>> = None;
    targets
        .into_iter()
        .map(|mut target| {
            if &target.account.id == caller && target.account.role_arn.is_some() {
                let account = own.get_or_insert_with(|| {
                    Arc::new(Account {
                        role_arn: None,
                        ..Account::clone(&target.account)
                    })
                });
                target.account = account.clone();
            }
            target
        })
        .collect()
}

pub(crate) async fn make_plan(
    ui: &Ui,
    api: &(impl LoggingApi + engine::destinations::ManagedApi),
    targets: Vec<Target>,
    concurrency: usize,
) -> Plan {
    let bar = render::progress::Bar::new("planning", ui.quiet || ui.verbose);
    ui.note(&format!(
        "reading {}, {concurrency} at a time",
        render::count(targets.len(), "target")
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
    open_with(ui, config, args, None).await
}

/// [`open`], with `--permission-retry` for a command that writes.
pub(crate) async fn open_with(
    ui: &Ui,
    config: &str,
    args: &AwsArgs,
    permission_retry: Option<Duration>,
) -> Result<Option<Opened>> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(None);
    };
    let mut options = aws_options(ui, args, fleet.settings.clone())?;
    if let Some(window) = permission_retry {
        options.permission_retry_window = window;
    }
    let aws = Aws::connect(options).await;
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
    let bar = render::progress::Bar::new("preflight", ui.quiet || ui.verbose);
    let report = engine::preflight::preflight(aws, plan, concurrency, &bar).await;
    if !report.not_served.is_empty() {
        let services: Vec<String> = report.not_served.iter().map(ToString::to_string).collect();
        let at = aws
            .endpoint_url()
            .map_or_else(String::new, |url| format!(" at {url}"));
        ui.warn(&format!(
            "preflight could not check the destinations in {}: the endpoint{at} does not serve {}; point AWS_ENDPOINT_URL at an endpoint that does, or pass --preflight off",
            services.join(", "),
            if services.len() == 1 { "it" } else { "them" },
        ));
    }
    mode == PreflightMode::Strict
        && (!report.not_served.is_empty()
            || plan
                .targets
                .iter()
                .any(|t| t.preflight.iter().any(|f| f.blocks())))
}

/// The targets of the fleet that `--target`, `--exclude` and `--partition`
/// keep.
pub(crate) fn selected(ui: &Ui, fleet: &Fleet, filter: &FilterArgs) -> Result<Vec<Target>> {
    select_from(ui, fleet.targets.clone(), filter)
}

/// [`selected`] of targets the caller hands over (plan and apply take the
/// fleet's own rather than copy every target).
pub(crate) fn select_from(
    ui: &Ui,
    targets: Vec<Target>,
    filter: &FilterArgs,
) -> Result<Vec<Target>> {
    let selection = Selection::new(&filter.targets, &filter.excludes, filter.partition)?;
    let all = targets.len();
    let targets = select(ui, &selection, targets, |t| t)?;
    if !selection.is_everything() {
        ui.note(&format!(
            "{} of {} selected",
            targets.len(),
            render::count(all, "target")
        ));
    }
    Ok(targets)
}

/// Keeps what `selection` selects of `items`; an `--exclude` glob that
/// matches nothing is a warning, a `--target` glob an error.
pub(crate) fn select<T>(
    ui: &Ui,
    selection: &Selection,
    items: Vec<T>,
    target: impl Fn(&T) -> &Target,
) -> Result<Vec<T>> {
    for unmatched in selection.unmatched_excludes(&items, &target) {
        ui.warn(&unmatched.to_string());
    }
    Ok(selection.apply(items, target)?)
}

pub(crate) fn timestamp() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}
