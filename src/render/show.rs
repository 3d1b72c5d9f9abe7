//! `fleet show`: each target's live values under the names of the Terraform
//! module's outputs, so whoever knows the module reads them at once.

use std::io::{self, Write};

use serde::Serialize;

use super::{BOLD, RED, paint};
use crate::engine::{ApiError, TargetPlan};
use crate::logging::LoggingConfig;

/// The version of the JSON document; fields may only be added with a new one.
/// Version 2 added `unreported_flags`, `null` flags and (audit) `not_enabled`.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    targets: Vec<Outputs<'a>>,
}

/// The five flags, as the module's `data_delivery_settings` output (plus
/// audio, which the module cannot set); `null` for a flag the region does
/// not report.
#[derive(Serialize)]
struct DataDeliverySettings {
    text_data_delivery_enabled: Option<bool>,
    image_data_delivery_enabled: Option<bool>,
    embedding_data_delivery_enabled: Option<bool>,
    video_data_delivery_enabled: Option<bool>,
    audio_data_delivery_enabled: Option<bool>,
}

/// One target's outputs; every one is `null` when nothing is set or the
/// target could not be read (then `error` says why).
#[derive(Serialize)]
struct Outputs<'a> {
    target: String,
    account_id: &'a str,
    account_name: Option<&'a str>,
    /// The region, as the module's `id`.
    id: &'a str,
    logging_config: Option<&'a LoggingConfig>,
    s3_bucket_name: Option<&'a str>,
    s3_key_prefix: Option<&'a str>,
    cloudwatch_log_group_name: Option<&'a str>,
    cloudwatch_role_arn: Option<&'a str>,
    large_data_s3_bucket_name: Option<&'a str>,
    data_delivery_settings: Option<DataDeliverySettings>,
    /// The flags AWS left out of Get in this region (`null` above).
    unreported_flags: Vec<&'static str>,
    error: Option<&'a ApiError>,
}

impl<'a> Outputs<'a> {
    fn new(read: &'a TargetPlan) -> Outputs<'a> {
        let target = &read.target;
        let config = read.live.as_ref().ok().and_then(Option::as_ref);
        let s3 = config.and_then(|c| c.s3_config.as_ref());
        let cw = config.and_then(|c| c.cloudwatch_config.as_ref());
        Outputs {
            target: target.id().to_string(),
            account_id: target.account.id.as_str(),
            account_name: target.account.name.as_deref(),
            id: target.region.as_str(),
            logging_config: config,
            s3_bucket_name: s3.map(|s| s.bucket_name.as_str()),
            s3_key_prefix: s3.and_then(|s| s.key_prefix.as_deref()),
            cloudwatch_log_group_name: cw.map(|c| c.log_group_name.as_str()),
            cloudwatch_role_arn: cw.map(|c| c.role_arn.as_str()),
            large_data_s3_bucket_name: cw
                .and_then(|c| c.large_data_delivery_s3_config.as_ref())
                .map(|s| s.bucket_name.as_str()),
            data_delivery_settings: config.map(|c| DataDeliverySettings {
                text_data_delivery_enabled: c.text_data_delivery_enabled,
                image_data_delivery_enabled: c.image_data_delivery_enabled,
                embedding_data_delivery_enabled: c.embedding_data_delivery_enabled,
                video_data_delivery_enabled: c.video_data_delivery_enabled,
                audio_data_delivery_enabled: c.audio_data_delivery_enabled,
            }),
            unreported_flags: config
                .map(LoggingConfig::unreported_flags)
                .unwrap_or_default(),
            error: read.live.as_ref().err(),
        }
    }
}

/// The JSON document (README: "show JSON").
pub fn json(out: &mut dyn Write, reads: &[TargetPlan]) -> io::Result<()> {
    let document = Document {
        format_version: FORMAT_VERSION,
        targets: reads.iter().map(Outputs::new).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn value(text: Option<&str>) -> String {
    text.map_or_else(
        || "null".to_owned(),
        |t| serde_json::to_string(t).expect("a string serialises"),
    )
}

/// One block per target, like `terraform output`.
pub fn human(out: &mut dyn Write, reads: &[TargetPlan]) -> io::Result<()> {
    for (i, read) in reads.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let outputs = Outputs::new(read);
        let heading = format!("{} (account {})", outputs.target, outputs.account_id);
        if let Some(err) = outputs.error {
            writeln!(
                out,
                "{} {}: cannot be read: {}: {}",
                paint(RED, "!"),
                paint(BOLD, heading),
                err.code,
                err.message
            )?;
            continue;
        }
        writeln!(out, "{}", paint(BOLD, heading))?;
        let pairs = [
            ("id", value(Some(outputs.id))),
            ("s3_bucket_name", value(outputs.s3_bucket_name)),
            ("s3_key_prefix", value(outputs.s3_key_prefix)),
            (
                "cloudwatch_log_group_name",
                value(outputs.cloudwatch_log_group_name),
            ),
            ("cloudwatch_role_arn", value(outputs.cloudwatch_role_arn)),
            (
                "large_data_s3_bucket_name",
                value(outputs.large_data_s3_bucket_name),
            ),
        ];
        for (name, value) in pairs {
            writeln!(out, "  {name:<25} = {value}")?;
        }
        match outputs.logging_config {
            None => {
                writeln!(out, "  {:<25} = null", "data_delivery_settings")?;
                writeln!(out, "  {:<25} = null  # no logging", "logging_config")?;
            }
            Some(config) => {
                writeln!(out, "  {:<25} = {{", "data_delivery_settings")?;
                for (flag, on) in config.flags() {
                    match on {
                        Some(on) => writeln!(out, "    {flag:<31} = {on}")?,
                        None => writeln!(out, "    {flag:<31} = null  # not reported here")?,
                    }
                }
                writeln!(out, "  }}")?;
                writeln!(out, "  {:<25} = <<EOT", "logging_config")?;
                for line in config.to_toml().lines() {
                    if line.is_empty() {
                        writeln!(out)?;
                    } else {
                        writeln!(out, "    {line}")?;
                    }
                }
                writeln!(out, "  EOT")?;
            }
        }
    }
    Ok(())
}
