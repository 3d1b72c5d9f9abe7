//! `fleet demo` and `fleet emulator`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::apply::write_changes;
use super::{DEFAULT_CONCURRENCY, EXAMPLE_FLEET, Exit, Ui, check_caller, load_fleet, make_plan};
use crate::aws::{Aws, AwsOptions};
use crate::cli::EmulatorArgs;
use crate::emulator;
use crate::engine::{self, LoggingApi, PermissionWait};
use crate::fleet::{self, Fleet};
use crate::logging::{LoggingConfig, S3Config};
use crate::render;

pub(super) async fn serve_emulator(args: EmulatorArgs) -> Result<Exit> {
    let mut omitted_flags = emulator::OmittedFlags::aws_default();
    if !args.omit_flags.is_empty() {
        omitted_flags = emulator::OmittedFlags::default();
        for rule in args.omit_flags.iter().filter(|rule| *rule != "none") {
            let rule = rule
                .parse::<emulator::OmitFlagsRule>()
                .map_err(|err| anyhow::anyhow!("--omit-flags {rule}: {err}"))?;
            omitted_flags.add(rule);
        }
    }
    let options = emulator::EmulatorOptions {
        listen: args.listen,
        latency: Duration::from_millis(args.latency_ms),
        faults: args.faults,
        seed: args.seed,
        omitted_flags,
        session_lifetime: args.session_lifetime.map(Duration::from_secs),
        validate_destinations: args.validate_destinations,
        ..emulator::EmulatorOptions::default()
    };
    emulator::serve_until_signal(options).await?;
    Ok(Exit::Success)
}

/// plan → apply → plan on the built-in example (or the file given with
/// `-c`), against an in-process emulator seeded with some drift.
pub(super) async fn demo(ui: &Ui, config: Option<&Path>) -> Result<Exit> {
    let fleet = match config {
        None => load_fleet(
            ui,
            fleet::parse("fleet.example.toml", EXAMPLE_FLEET.to_owned()),
        )?
        .context("the built-in example fleet file is invalid")?,
        Some(path) => {
            let Some(fleet) = load_fleet(ui, fleet::load(&path.to_string_lossy()))? else {
                return Ok(Exit::Failure);
            };
            if fleet.discovery.is_needed() {
                bail!(
                    "{} has [[organizational_units]] or regions = \"enabled\", which the demo's emulator cannot resolve (it serves no AWS Organizations); run the demo on a file that lists its accounts and regions, or without -c for the built-in example",
                    path.display()
                );
            }
            fleet
        }
    };
    let running = emulator::start(emulator::EmulatorOptions::default()).await?;
    let mut out = anstream::stdout();
    let endpoint = running.endpoint_url();
    writeln!(
        out,
        "Local Bedrock + STS emulator listening on {endpoint}; no AWS account is used.\nFleet file: {}.\n",
        fleet.path
    )?;
    let options = AwsOptions {
        endpoint_url: Some(endpoint),
        static_credentials: Some(("AKIDFLEETDEMO".into(), "demo-secret".into())),
        settings: fleet.settings.clone(),
        ..AwsOptions::default()
    };
    let aws = Aws::connect(options).await;
    check_caller(ui, &aws).await?;
    seed_demo_drift(&aws, &fleet).await?;

    writeln!(out, "{}", render::paint(render::BOLD, "$ fleet plan"))?;
    let plan = make_plan(ui, &aws, fleet.targets.clone(), DEFAULT_CONCURRENCY).await;
    render::human::plan(&mut out, &plan)?;

    writeln!(
        out,
        "\n{}",
        render::paint(render::BOLD, "$ fleet apply --auto-approve")
    )?;
    let applied = write_changes(ui, &aws, &plan, Vec::new(), DEFAULT_CONCURRENCY, None).await?;

    writeln!(out, "\n{}", render::paint(render::BOLD, "$ fleet plan"))?;
    let after = make_plan(ui, &aws, fleet.targets.clone(), DEFAULT_CONCURRENCY).await;
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
        changed.video_data_delivery_enabled = changed.video_data_delivery_enabled.map(|on| !on);
        changed.audio_data_delivery_enabled = Some(true);
        if let Some(s3) = changed.s3_config.as_mut() {
            s3.key_prefix = Some("hand-edited".into());
        }
        aws.put(
            engine::location_of(drifted),
            &changed,
            PermissionWait::FailFast,
        )
        .await?;
        let desired = matching.desired.clone().expect("enabled");
        aws.put(
            engine::location_of(matching),
            &desired,
            PermissionWait::FailFast,
        )
        .await?;
    }
    for disabled in fleet.targets.iter().filter(|t| t.desired.is_none()) {
        let legacy = LoggingConfig {
            text_data_delivery_enabled: Some(true),
            image_data_delivery_enabled: Some(true),
            embedding_data_delivery_enabled: Some(true),
            video_data_delivery_enabled: Some(true),
            audio_data_delivery_enabled: Some(true),
            s3_config: Some(S3Config::new(
                format!("legacy-logs-{}-{}", disabled.account.id, disabled.region),
                None,
            )),
            cloudwatch_config: None,
        };
        aws.put(
            engine::location_of(disabled),
            &legacy,
            PermissionWait::FailFast,
        )
        .await?;
    }
    Ok(())
}
