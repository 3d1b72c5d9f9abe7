//! What Bedrock checks of a Put's destinations when
//! [`EmulatorOptions::validate_destinations`](super::EmulatorOptions) is on,
//! against the emulator's own S3, IAM and CloudWatch Logs state.
//!
//! AWS validates destinations during PutModelInvocationLoggingConfiguration
//! by using them: it assumes the CloudWatch role and writes to the bucket.
//! The emulator asks the same questions of its state: the log group exists
//! in the account and region; the role is the account's, trusts
//! `bedrock.amazonaws.com` and allows `logs:CreateLogStream` and
//! `logs:PutLogEvents` on the group; every bucket (the large-data one too)
//! is the account's, is in the region, and its policy lets the service
//! principal `s3:PutObject` under `PREFIX/AWSLogs/ACCOUNT/BedrockModelInvocationLogs/`
//! (see `policy.rs` for how much of IAM's evaluation that is). The first
//! destination that fails answers with AWS's message for it, which never
//! says why.

use super::bedrock::{LoggingConfig, bucket_failure, log_group_failure};
use super::state::Shared;

/// `Err(message)` for the first destination of `config` that Bedrock,
/// logging for `account` in `region`, could not use.
pub(crate) fn check_destinations(
    shared: &Shared,
    account: &str,
    region: &str,
    config: &LoggingConfig,
) -> Result<(), String> {
    if let Some((log_group, role_arn)) = config.cloudwatch() {
        let target = format!("{account}/{region}");
        let usable = shared.logs.exists(&target, log_group)
            && shared
                .iam
                .bedrock_can_deliver(account, region, role_arn, log_group);
        if !usable {
            return Err(log_group_failure(log_group, role_arn));
        }
    }
    for (bucket, prefix) in config.buckets() {
        if !shared.s3.bedrock_can_write(bucket, prefix, account, region) {
            return Err(bucket_failure(bucket));
        }
    }
    Ok(())
}
