//! `fleet demo` and `fleet emulator`.

use std::io::Write;
use std::time::Duration;

use anyhow::{Result, bail};

use super::apply::write_changes;
use super::{DEFAULT_CONCURRENCY, EXAMPLE_FLEET, Exit, Ui, check_caller, load_fleet, make_plan};
use crate::aws::{Aws, AwsOptions};
use crate::cli::EmulatorArgs;
use crate::emulator;
use crate::engine::{self, LoggingApi, PermissionWait, TargetPlan};
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
        ..emulator::EmulatorOptions::default()
    };
    emulator::serve_until_signal(options).await?;
    Ok(Exit::Success)
}

/// plan → apply → plan on the built-in example, against an in-process
/// emulator seeded with some drift.
pub(super) async fn demo(ui: &Ui) -> Result<Exit> {
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
    let plan = make_plan(ui, &aws, fleet.targets.clone(), DEFAULT_CONCURRENCY).await;
    render::human::plan(&mut out, &plan)?;

    writeln!(
        out,
        "\n{}",
        render::paint(render::BOLD, "$ fleet apply --auto-approve")
    )?;
    let changes: Vec<TargetPlan> = plan.changes().cloned().collect();
    let applied = write_changes(ui, &aws, changes, DEFAULT_CONCURRENCY, None).await?;

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
