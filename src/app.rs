//! Runs one command: loads what it needs, calls the engine, hands the
//! results to a renderer, and decides the exit code.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::aws::{Aws, AwsOptions};
use crate::cli::{ApplyArgs, AwsArgs, Cli, ColorWhen, Command, EmulatorArgs, PlanArgs, PlanFormat};
use crate::emulator;
use crate::engine::saved::SavedPlan;
use crate::engine::{self, ApplyOptions, LoggingApi, Plan, TargetPlan};
use crate::fleet::{self, Fleet, FleetFileError, Loaded, Settings};
use crate::logging::{LoggingConfig, S3Config};
use crate::render;

/// The process exit code of a finished command (DESIGN §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Changes = 2,
}

/// The built-in example, used by `fleet demo`.
pub const EXAMPLE_FLEET: &str = include_str!("../fleet.example.toml");

const DEFAULT_CONCURRENCY: usize = 64;

/// Output settings shared by every command.
struct Ui {
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

    fn warn(&self, message: &str) {
        if !self.quiet {
            let mut err = anstream::stderr();
            let _ = writeln!(
                err,
                "{} {message}",
                render::paint(render::YELLOW, "warning:")
            );
        }
    }

    fn note(&self, message: &str) {
        if self.verbose {
            let _ = writeln!(anstream::stderr(), "{message}");
        }
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<Exit> {
    let ui = Ui::new(&cli);
    let config = cli.config.to_string_lossy().into_owned();
    match cli.command {
        Command::Validate => validate(&ui, &config),
        Command::Plan(args) => plan(&ui, &config, args).await,
        Command::Apply(args) => apply(&ui, &config, args).await,
        Command::Demo => demo(&ui).await,
        Command::Emulator(args) => serve_emulator(args).await,
    }
}

/// Loads the fleet file, printing its problems; `None` when it is invalid.
fn load_fleet(ui: &Ui, loaded: Result<Loaded, FleetFileError>) -> Result<Option<Fleet>> {
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

fn validate(ui: &Ui, config: &str) -> Result<Exit> {
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
    Ok(Exit::Success)
}

fn aws_options(args: &AwsArgs, settings: Settings) -> Result<AwsOptions> {
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

fn concurrency(args: &AwsArgs, settings: &Settings) -> usize {
    args.concurrency
        .map(|n| n as usize)
        .or(settings.concurrency)
        .unwrap_or(DEFAULT_CONCURRENCY)
}

/// Checks that AWS answers at all before reading any target, so a wrong
/// endpoint or missing credentials is one clear error, not one per target.
async fn check_caller(aws: &Aws) -> Result<()> {
    aws.caller_account()
        .await
        .map(drop)
        .context("cannot identify the caller (sts:GetCallerIdentity); check AWS credentials, AWS_PROFILE and AWS_ENDPOINT_URL; nothing was read or written")
}

async fn make_plan(ui: &Ui, api: &impl LoggingApi, fleet: &Fleet, concurrency: usize) -> Plan {
    let bar = render::progress::Bar::new("planning", ui.quiet);
    ui.note(&format!(
        "reading {} targets, {concurrency} at a time",
        fleet.targets.len()
    ));
    engine::plan_targets(api, fleet.targets.clone(), concurrency, &bar).await
}

fn timestamp() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}

async fn plan(ui: &Ui, config: &str, args: PlanArgs) -> Result<Exit> {
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    let aws = Aws::connect(aws_options(&args.aws, fleet.settings.clone())?).await;
    check_caller(&aws).await?;
    let plan = make_plan(ui, &aws, &fleet, concurrency(&args.aws, &fleet.settings)).await;
    let saved = SavedPlan::new(&plan, &fleet, timestamp());
    let mut out = anstream::stdout();
    match args.format {
        PlanFormat::Human => render::human::plan(&mut out, &plan)?,
        PlanFormat::Json => render::json::saved_plan(&mut out, &saved)?,
    }
    if let Some(path) = &args.out {
        let mut file = std::fs::File::create(path)
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        render::json::saved_plan(&mut file, &saved)?;
        ui.note(&format!("plan saved to {}", path.display()));
    }
    let counts = plan.counts();
    Ok(if counts.failed > 0 {
        Exit::Failure
    } else if args.detailed_exitcode && counts.changes() > 0 {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Stops new writes on the first Ctrl-C or SIGTERM; a second one exits at once.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    tokio::spawn(async move {
        let mut signals = 0;
        loop {
            wait_for_signal().await;
            signals += 1;
            if signals > 1 {
                eprintln!("second interrupt: exiting now");
                std::process::exit(130);
            }
            flag.store(true, Ordering::SeqCst);
            eprintln!(
                "interrupt: no new write will start; waiting for running writes to finish (interrupt again to exit now)"
            );
        }
    });
    stop
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn confirm(changes: usize) -> Result<bool> {
    eprint!(
        "Apply {changes} change{}? Only 'yes' is accepted: ",
        if changes == 1 { "" } else { "s" }
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

async fn apply(ui: &Ui, config: &str, args: ApplyArgs) -> Result<Exit> {
    let mut out = anstream::stdout();
    if let Some(path) = &args.plan {
        return apply_saved(ui, config, &args, path).await;
    }
    let Some(fleet) = load_fleet(ui, fleet::load(config))? else {
        return Ok(Exit::Failure);
    };
    let concurrency = concurrency(&args.aws, &fleet.settings);
    let aws = Aws::connect(aws_options(&args.aws, fleet.settings.clone())?).await;
    check_caller(&aws).await?;
    let plan = make_plan(ui, &aws, &fleet, concurrency).await;
    render::human::plan(&mut out, &plan)?;
    let changes: Vec<TargetPlan> = plan.changes().cloned().collect();
    let unreadable = plan.counts().failed;
    if changes.is_empty() {
        return Ok(if unreadable > 0 {
            Exit::Failure
        } else {
            Exit::Success
        });
    }
    if !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            bail!(
                "refusing to apply {} change{} without confirmation: stdin is not a terminal; pass --auto-approve, or apply a reviewed plan with `fleet apply PLAN.json`; nothing was written",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" }
            );
        }
        if !confirm(changes.len())? {
            writeln!(out, "Apply cancelled; nothing was written.")?;
            return Ok(Exit::Failure);
        }
    }
    let ok = write_changes(ui, &aws, changes, concurrency, args.max_failures).await?;
    Ok(if ok && unreadable == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}

async fn write_changes(
    ui: &Ui,
    api: &impl LoggingApi,
    changes: Vec<TargetPlan>,
    concurrency: usize,
    max_failures: Option<usize>,
) -> Result<bool> {
    let options = ApplyOptions {
        concurrency,
        max_failures,
        stop: stop_on_signal(),
    };
    let bar = render::progress::Bar::new("applying", ui.quiet);
    let report = engine::apply_changes(api, changes, &options, &bar).await;
    render::human::apply(&mut anstream::stdout(), &report)?;
    Ok(report.success())
}

async fn apply_saved(
    ui: &Ui,
    config: &str,
    args: &ApplyArgs,
    path: &std::path::Path,
) -> Result<Exit> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the plan {shown}"))?;
    let saved = SavedPlan::parse(&shown, &text)?;
    if let Ok(current) = std::fs::read(config) {
        let sha = sha2_hex(&current);
        if sha != saved.fleet_sha256 {
            ui.warn(&format!(
                "{config} has changed since the plan was made; applying the plan as it was reviewed"
            ));
        }
    }
    let plan = saved.to_plan(&shown)?;
    let concurrency = args
        .aws
        .concurrency
        .map_or(DEFAULT_CONCURRENCY, |n| n as usize);
    let aws = Aws::connect(aws_options(&args.aws, saved.settings())?).await;
    check_caller(&aws).await?;
    let bar = render::progress::Bar::new("checking", ui.quiet);
    let stale = engine::check_stale(&aws, &plan.targets, concurrency, &bar).await;
    let mut out = anstream::stdout();
    if !stale.is_empty() {
        render::human::stale(&mut out, &stale)?;
        return Ok(Exit::Failure);
    }
    let unplanned: Vec<&TargetPlan> = plan.targets.iter().filter(|t| t.live.is_err()).collect();
    for target in &unplanned {
        writeln!(
            out,
            "{} {}: it could not be read when the plan was made",
            render::paint(render::YELLOW, "not planned"),
            target.target.id()
        )?;
    }
    let changes: Vec<TargetPlan> = plan.changes().cloned().collect();
    if changes.is_empty() {
        render::human::summary(&mut out, &plan.counts())?;
        return Ok(if unplanned.is_empty() {
            Exit::Success
        } else {
            Exit::Failure
        });
    }
    let ok = write_changes(ui, &aws, changes, concurrency, args.max_failures).await?;
    Ok(if ok && unplanned.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}

fn sha2_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

async fn serve_emulator(args: EmulatorArgs) -> Result<Exit> {
    let options = emulator::EmulatorOptions {
        listen: args.listen,
        latency: Duration::from_millis(args.latency_ms),
        faults: args.faults,
        seed: args.seed,
        ..emulator::EmulatorOptions::default()
    };
    emulator::serve_until_signal(options).await?;
    Ok(Exit::Success)
}

/// plan → apply → plan on the built-in example, against an in-process
/// emulator seeded with some drift.
async fn demo(ui: &Ui) -> Result<Exit> {
    let running = emulator::start(emulator::EmulatorOptions::default()).await?;
    let mut out = anstream::stdout();
    let endpoint = running.endpoint_url();
    writeln!(
        out,
        "Local Bedrock + STS emulator listening on {endpoint}; no AWS account is used.\n"
    )?;
    let Some(fleet) = load_fleet(
        ui,
        fleet::parse("fleet.example.toml", EXAMPLE_FLEET.to_owned()),
    )?
    else {
        bail!("the built-in example fleet file is invalid");
    };
    let options = AwsOptions {
        endpoint_url: Some(endpoint),
        static_credentials: Some(("AKIDFLEETDEMO".into(), "demo-secret".into())),
        settings: fleet.settings.clone(),
        ..AwsOptions::default()
    };
    let aws = Aws::connect(options).await;
    check_caller(&aws).await?;
    seed_demo_drift(&aws, &fleet).await?;

    writeln!(out, "{}", render::paint(render::BOLD, "$ fleet plan"))?;
    let plan = make_plan(ui, &aws, &fleet, DEFAULT_CONCURRENCY).await;
    render::human::plan(&mut out, &plan)?;

    writeln!(
        out,
        "\n{}",
        render::paint(render::BOLD, "$ fleet apply --auto-approve")
    )?;
    let changes: Vec<TargetPlan> = plan.changes().cloned().collect();
    let applied = write_changes(ui, &aws, changes, DEFAULT_CONCURRENCY, None).await?;

    writeln!(out, "\n{}", render::paint(render::BOLD, "$ fleet plan"))?;
    let after = make_plan(ui, &aws, &fleet, DEFAULT_CONCURRENCY).await;
    render::human::plan(&mut out, &after)?;
    running.shutdown().await;
    let counts = after.counts();
    Ok(if applied && counts.changes() == 0 && counts.failed == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Puts the demo fleet in a realistic state: the first target has drifted,
/// the second already matches, every disabled target still logs, and the
/// rest have no logging yet.
async fn seed_demo_drift(aws: &Aws, fleet: &Fleet) -> Result<()> {
    let enabled: Vec<_> = fleet
        .targets
        .iter()
        .filter(|t| t.desired.is_some())
        .collect();
    if let [drifted, matching, ..] = enabled.as_slice() {
        let mut changed = drifted.desired.clone().expect("enabled");
        changed.video_data_delivery_enabled = !changed.video_data_delivery_enabled;
        changed.audio_data_delivery_enabled = true;
        if let Some(s3) = changed.s3_config.as_mut() {
            s3.key_prefix = Some("hand-edited".into());
        }
        aws.put(engine::location_of(drifted), &changed).await?;
        let desired = matching.desired.clone().expect("enabled");
        aws.put(engine::location_of(matching), &desired).await?;
    }
    for disabled in fleet.targets.iter().filter(|t| t.desired.is_none()) {
        let legacy = LoggingConfig {
            text_data_delivery_enabled: true,
            image_data_delivery_enabled: true,
            embedding_data_delivery_enabled: true,
            video_data_delivery_enabled: true,
            audio_data_delivery_enabled: true,
            s3_config: Some(S3Config::new(
                format!("legacy-logs-{}-{}", disabled.account.id, disabled.region),
                None,
            )),
            cloudwatch_config: None,
        };
        aws.put(engine::location_of(disabled), &legacy).await?;
    }
    Ok(())
}
