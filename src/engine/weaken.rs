//! Which planned changes make a target log less.
//!
//! Deleting or narrowing Bedrock invocation logging is a known
//! defence-evasion step (MITRE ATT&CK T1562.008), so a change that weakens
//! logging is called out in every plan format and, with `[fleet] protect =
//! true`, refused by apply unless `--allow-weakening` was given. A change
//! weakens logging when it turns a flag off, removes or replaces a
//! destination, or deletes the configuration; a flag the live side does not
//! report is never counted.

use crate::logging::{LoggingConfig, S3Config};

/// What a change from `live` to `desired` would lose, one phrase each, in
/// the file's key order; empty when it loses nothing.
pub fn losses(live: Option<&LoggingConfig>, desired: Option<&LoggingConfig>) -> Vec<String> {
    let Some(live) = live else {
        return Vec::new();
    };
    let Some(desired) = desired else {
        return vec!["logging is deleted".to_owned()];
    };
    let mut out = Vec::new();
    for ((name, was), (_, will)) in live.flags().into_iter().zip(desired.flags()) {
        if was == Some(true) && will == Some(false) {
            out.push(format!("{name} turned off"));
        }
    }
    s3_loss(
        &mut out,
        "S3 destination",
        live.s3_config.as_ref(),
        desired.s3_config.as_ref(),
    );
    let (live_cw, desired_cw) = (&live.cloudwatch_config, &desired.cloudwatch_config);
    match (live_cw, desired_cw) {
        (Some(was), None) => out.push(format!(
            "CloudWatch destination {} removed",
            was.log_group_name
        )),
        (Some(was), Some(will))
            if (was.log_group_name != will.log_group_name || was.role_arn != will.role_arn) =>
        {
            out.push(format!(
                "CloudWatch destination {} replaced by {}",
                was.log_group_name, will.log_group_name
            ));
        }
        _ => {}
    }
    s3_loss(
        &mut out,
        "large-data S3 destination",
        live_cw
            .as_ref()
            .and_then(|cw| cw.large_data_delivery_s3_config.as_ref()),
        desired_cw
            .as_ref()
            .and_then(|cw| cw.large_data_delivery_s3_config.as_ref()),
    );
    out
}

fn s3_loss(out: &mut Vec<String>, what: &str, was: Option<&S3Config>, will: Option<&S3Config>) {
    let url = |s3: &S3Config| match &s3.key_prefix {
        Some(prefix) => format!("s3://{}/{prefix}", s3.bucket_name),
        None => format!("s3://{}", s3.bucket_name),
    };
    match (was, will) {
        (Some(was), None) => out.push(format!("{what} {} removed", url(was))),
        (Some(was), Some(will)) if was != will => {
            out.push(format!("{what} {} replaced by {}", url(was), url(will)));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::CloudWatchConfig;

    fn config() -> LoggingConfig {
        LoggingConfig {
            text_data_delivery_enabled: Some(true),
            image_data_delivery_enabled: Some(true),
            embedding_data_delivery_enabled: Some(true),
            video_data_delivery_enabled: Some(false),
            audio_data_delivery_enabled: None,
            s3_config: Some(S3Config::new("logs", Some("p".into()))),
            cloudwatch_config: Some(CloudWatchConfig {
                log_group_name: "/g".into(),
                role_arn: "arn:aws:iam::111111111111:role/r".into(),
                large_data_delivery_s3_config: None,
            }),
        }
    }

    #[test]
    fn flags_off_destinations_gone_or_replaced_and_deletes_weaken() {
        let live = config();
        let mut desired = config();
        desired.audio_data_delivery_enabled = Some(false);
        assert!(
            losses(Some(&live), Some(&desired)).is_empty(),
            "audio is not reported"
        );
        desired.video_data_delivery_enabled = Some(true);
        assert!(
            losses(Some(&live), Some(&desired)).is_empty(),
            "turning on strengthens"
        );
        assert!(
            losses(None, Some(&desired)).is_empty(),
            "a create strengthens"
        );

        desired.text_data_delivery_enabled = Some(false);
        desired.s3_config = Some(S3Config::new("other", None));
        desired.cloudwatch_config = None;
        assert_eq!(
            losses(Some(&live), Some(&desired)),
            [
                "text_data_delivery_enabled turned off",
                "S3 destination s3://logs/p replaced by s3://other",
                "CloudWatch destination /g removed",
            ]
        );
        assert_eq!(losses(Some(&live), None), ["logging is deleted"]);
    }
}
