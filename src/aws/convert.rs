//! Conversions between the SDK's types and fleet's, at the boundary.

use aws_sdk_bedrock::types as sdk;

use crate::engine::ApiError;
use crate::logging::{CloudWatchConfig, LoggingConfig, S3Config};

/// A live configuration; `None` when AWS has nothing set. moto answers
/// `{"loggingConfig": {}}` for that, so a configuration with no destination
/// at all counts as absent too (it could not deliver a log anyway).
pub fn from_sdk(config: &sdk::LoggingConfig) -> Option<LoggingConfig> {
    if config.s3_config().is_none() && config.cloud_watch_config().is_none() {
        return None;
    }
    let s3 =
        |s3: &sdk::S3Config| S3Config::new(s3.bucket_name(), s3.key_prefix().map(str::to_owned));
    // A flag Get leaves out stays `None`, "not reported in this region" (AWS
    // does so for a modality the region does not offer): guessing a value
    // would make a diff that no Put can remove.
    Some(
        LoggingConfig {
            text_data_delivery_enabled: config.text_data_delivery_enabled(),
            image_data_delivery_enabled: config.image_data_delivery_enabled(),
            embedding_data_delivery_enabled: config.embedding_data_delivery_enabled(),
            video_data_delivery_enabled: config.video_data_delivery_enabled(),
            audio_data_delivery_enabled: config.audio_data_delivery_enabled(),
            s3_config: config.s3_config().map(s3),
            cloudwatch_config: config.cloud_watch_config().map(|cw| CloudWatchConfig {
                log_group_name: cw.log_group_name().to_owned(),
                role_arn: cw.role_arn().to_owned(),
                large_data_delivery_s3_config: cw.large_data_delivery_s3_config().map(s3),
            }),
        }
        .canonical(),
    )
}

/// The SDK form of a configuration, with all five flags explicit: a flag
/// omitted from a Put turns on server-side. A desired configuration has
/// every flag; `true` stands in only for what AWS would assume anyway.
pub fn to_sdk(config: &LoggingConfig) -> Result<sdk::LoggingConfig, ApiError> {
    let invalid = |err: aws_sdk_bedrock::error::BuildError| {
        ApiError::new(crate::engine::ErrorCode::InvalidRequest, err.to_string())
    };
    let s3 = |s3: &S3Config| {
        sdk::S3Config::builder()
            .bucket_name(&s3.bucket_name)
            .set_key_prefix(s3.key_prefix.clone())
            .build()
            .map_err(invalid)
    };
    let cloudwatch = match &config.cloudwatch_config {
        Some(cw) => Some(
            sdk::CloudWatchConfig::builder()
                .log_group_name(&cw.log_group_name)
                .role_arn(&cw.role_arn)
                .set_large_data_delivery_s3_config(
                    cw.large_data_delivery_s3_config
                        .as_ref()
                        .map(s3)
                        .transpose()?,
                )
                .build()
                .map_err(invalid)?,
        ),
        None => None,
    };
    Ok(sdk::LoggingConfig::builder()
        .text_data_delivery_enabled(config.text_data_delivery_enabled.unwrap_or(true))
        .image_data_delivery_enabled(config.image_data_delivery_enabled.unwrap_or(true))
        .embedding_data_delivery_enabled(config.embedding_data_delivery_enabled.unwrap_or(true))
        .video_data_delivery_enabled(config.video_data_delivery_enabled.unwrap_or(true))
        .audio_data_delivery_enabled(config.audio_data_delivery_enabled.unwrap_or(true))
        .set_s3_config(config.s3_config.as_ref().map(s3).transpose()?)
        .set_cloud_watch_config(cloudwatch)
        .build())
}
