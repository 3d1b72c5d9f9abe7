//! `fleet demo` and `fleet emulator`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use fleet_emulator as emulator;

use super::apply::write_changes;
use super::{
    DEFAULT_CONCURRENCY, EXAMPLE_FLEET, Exit, Ui, check_caller, check_destinations, load_fleet,
    make_plan,
};
use crate::aws::{Aws, AwsOptions};
use crate::cli::{DemoArgs, EmulatorArgs, PreflightMode};
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
        latency: args.latency_ms,
        faults: args.faults,
        seed: args.seed,
        omitted_flags,
        session_lifetime: args.session_lifetime,
        validate_destinations: args.validate_destinations,
        allow_remote: args.allow_remote,
        ..emulator::EmulatorOptions::default()
    };
    emulator::serve_until_signal(options).await?;
    Ok(Exit::Success)
}

/// plan → apply → plan on the built-in example (or the file given with
/// `-c`), against an in-process emulator seeded with some drift.
pub(super) async fn demo(ui: &Ui, config: Option<&Path>, args: DemoArgs) -> Result<Exit> {
    let diffs = super::diffs(args.each_diff);
    let fleet = match config {
        None => load_fleet(
            ui,
            fleet::parse("fleet.example.toml", EXAMPLE_FLEET.to_owned()),
        )?
        .context("the built-in example fleet file is invalid")?,
        Some(path) => {
            let Some(fleet) = load_fleet(ui, fleet::load(path))? else {
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
    // Like AWS, the demo's Bedrock checks that a Put's destinations exist and
    // let it write, so the demo shows fleet creating them first. A file whose
    // destinations fleet does not create could never pass that against an
    // empty emulator; for one, the check is off and the demo says so.
    let all_managed = fleet.targets.iter().all(|t| {
        let Some(config) = &t.desired else {
            return true;
        };
        let large = config
            .cloudwatch_config
            .as_ref()
            .and_then(|cw| cw.large_data_delivery_s3_config.as_ref());
        (config.s3_config.is_none() || t.managed.bucket.is_some())
            && (large.is_none() || t.managed.large_data_bucket.is_some())
            && (config.cloudwatch_config.is_none()
                || (t.managed.log_group.is_some() && t.managed.role))
    });
    let running = emulator::start(emulator::EmulatorOptions {
        validate_destinations: all_managed,
        ..emulator::EmulatorOptions::default()
    })
    .await?;
    let mut out = anstream::stdout();
    let endpoint = running.endpoint_url();
    if !all_managed {
        ui.notice(&format!(
            "{} does not let fleet create all its destinations (bucket = {{}}, log_group = {{}}, role = {{}}), so the demo's Bedrock accepts destinations it has never seen; AWS would refuse them",
            fleet.path
        ));
    }
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
    seed_demo_drift(&running, &fleet)?;
    let concurrency = fleet.settings.concurrency.unwrap_or(DEFAULT_CONCURRENCY);

    writeln!(out, "{}", render::paint(render::BOLD, "$ fleet plan"))?;
    let mut plan = make_plan(ui, &aws, fleet.targets.clone(), concurrency).await;
    check_destinations(ui, &aws, &mut plan, PreflightMode::Warn, concurrency).await;
    render::human::plan(&mut out, &plan, diffs)?;

    writeln!(
        out,
        "\n{}",
        render::paint(render::BOLD, "$ fleet apply --auto-approve")
    )?;
    let applied = write_changes(ui, &aws, plan, Vec::new(), concurrency, None).await?;

    writeln!(out, "\n{}", render::paint(render::BOLD, "$ fleet plan"))?;
    let after = make_plan(ui, &aws, fleet.targets.clone(), concurrency).await;
    render::human::plan(&mut out, &after, diffs)?;
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
/// rest have no logging yet. Written straight into the emulator's state, as
/// somebody else wrote it before fleet came: its Put checks destinations,
/// which do not exist yet.
fn seed_demo_drift(emulator: &emulator::RunningEmulator, fleet: &Fleet) -> Result<()> {
    let mut state = serde_json::Map::new();
    let mut seed = |target: &crate::fleet::Target, config: &LoggingConfig| {
        state.insert(
            format!("{}/{}", target.account.id, target.region),
            api_shape(serde_json::to_value(config).expect("a config serialises")),
        );
    };
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
        seed(drifted, &changed);
        seed(matching, matching.desired.as_ref().expect("enabled"));
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
        seed(disabled, &legacy);
    }
    emulator
        .replace_state(serde_json::Value::Object(state))
        .map_err(|err| anyhow::anyhow!("seeding the demo emulator: {err}"))?;
    Ok(())
}

/// A configuration in the fleet file's key names, renamed to the API's.
fn api_shape(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(key, v)| {
                    let key = match key.as_str() {
                        "cloudwatch_config" => "cloudWatchConfig".to_owned(),
                        "s3_config" => "s3Config".to_owned(),
                        "large_data_delivery_s3_config" => "largeDataDeliveryS3Config".to_owned(),
                        other => {
                            let mut out = String::new();
                            let mut upper = false;
                            for c in other.chars() {
                                if c == '_' {
                                    upper = true;
                                } else if upper {
                                    out.push(c.to_ascii_uppercase());
                                    upper = false;
                                } else {
                                    out.push(c);
                                }
                            }
                            out
                        }
                    };
                    (key, api_shape(v))
                })
                .collect(),
        ),
        other => other,
    }
}
