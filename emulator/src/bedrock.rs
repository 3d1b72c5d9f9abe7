//! Bedrock's model invocation logging configuration: the stored shape and the
//! validation PutModelInvocationLoggingConfiguration applies.

use serde::{Deserialize, Serialize};

use super::identity::parse_role_arn;

/// A stored configuration, serialised exactly as GetModelInvocationLoggingConfiguration
/// returns it. The admin state endpoint reads and writes the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct LoggingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cloud_watch_config: Option<CloudWatchConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s3_config: Option<S3Config>,
    #[serde(default = "enabled")]
    text_data_delivery_enabled: bool,
    #[serde(default = "enabled")]
    image_data_delivery_enabled: bool,
    #[serde(default = "enabled")]
    embedding_data_delivery_enabled: bool,
    #[serde(default = "enabled")]
    video_data_delivery_enabled: bool,
    #[serde(default = "enabled")]
    audio_data_delivery_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CloudWatchConfig {
    log_group_name: String,
    role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    large_data_delivery_s3_config: Option<S3Config>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct S3Config {
    bucket_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_prefix: Option<String>,
}

impl LoggingConfig {
    /// What AWS answers a Put whose destinations it cannot use yet, typically
    /// because a role just created has not propagated through IAM.
    pub(crate) fn permission_failure(&self) -> String {
        match (&self.cloud_watch_config, &self.s3_config) {
            (Some(cloudwatch), _) => {
                log_group_failure(&cloudwatch.log_group_name, &cloudwatch.role_arn)
            }
            (None, Some(s3)) => bucket_failure(&s3.bucket_name),
            (None, None) => {
                "Failed to validate permissions for the logging destinations.".to_owned()
            }
        }
    }

    /// The log group and role of the CloudWatch destination.
    pub(crate) fn cloudwatch(&self) -> Option<(&str, &str)> {
        self.cloud_watch_config
            .as_ref()
            .map(|config| (config.log_group_name.as_str(), config.role_arn.as_str()))
    }

    /// Every bucket the configuration writes to, with its key prefix: the
    /// large-data bucket first, then the S3 destination.
    pub(crate) fn buckets(&self) -> Vec<(&str, Option<&str>)> {
        let large = self
            .cloud_watch_config
            .as_ref()
            .and_then(|config| config.large_data_delivery_s3_config.as_ref());
        large
            .into_iter()
            .chain(self.s3_config.as_ref())
            .map(|config| (config.bucket_name.as_str(), config.key_prefix.as_deref()))
            .collect()
    }
}

/// AWS's answer to a Put whose log group or role Bedrock cannot use.
pub(crate) fn log_group_failure(log_group: &str, role_arn: &str) -> String {
    format!(
        "Failed to validate permissions for log group: {log_group}, with role: {role_arn}. Verify the IAM role permissions are correct."
    )
}

/// The answer to a Put whose bucket Bedrock cannot write to.
pub(crate) fn bucket_failure(bucket: &str) -> String {
    format!(
        "Failed to validate permissions for S3 bucket: {bucket}. Verify the bucket policy lets bedrock.amazonaws.com write to it."
    )
}

/// Like AWS, a flag a Put omits is stored as true.
fn enabled() -> bool {
    true
}

// The request as the SDK sends it: everything optional, unknown members
// ignored, so that validation can name each missing member the way AWS does.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutRequest {
    logging_config: Option<LoggingConfigInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoggingConfigInput {
    cloud_watch_config: Option<CloudWatchConfigInput>,
    s3_config: Option<S3ConfigInput>,
    text_data_delivery_enabled: Option<bool>,
    image_data_delivery_enabled: Option<bool>,
    embedding_data_delivery_enabled: Option<bool>,
    video_data_delivery_enabled: Option<bool>,
    audio_data_delivery_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudWatchConfigInput {
    log_group_name: Option<String>,
    role_arn: Option<String>,
    large_data_delivery_s3_config: Option<S3ConfigInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3ConfigInput {
    bucket_name: Option<String>,
    key_prefix: Option<String>,
}

const ROLE_ARN_PATTERN: &str = "^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$";

/// Collects constraint violations in AWS's words.
#[derive(Default)]
struct Violations(Vec<String>);

impl Violations {
    fn required<'a>(&mut self, value: &'a Option<String>, path: &str) -> Option<&'a str> {
        if value.is_none() {
            self.0.push(format!(
                "Value null at '{path}' failed to satisfy constraint: Member must not be null"
            ));
        }
        value.as_deref()
    }

    fn length(&mut self, value: Option<&str>, path: &str, min: usize, max: usize) {
        let Some(value) = value else { return };
        let length = value.chars().count();
        if length < min {
            self.0.push(format!(
                "Value '{value}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
        } else if length > max {
            self.0.push(format!(
                "Value '{value}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
    }

    fn s3(&mut self, config: &S3ConfigInput, path: &str) {
        let bucket_path = format!("{path}.bucketName");
        let bucket = self.required(&config.bucket_name, &bucket_path);
        self.length(bucket, &bucket_path, 3, 63);
        self.length(
            config.key_prefix.as_deref(),
            &format!("{path}.keyPrefix"),
            0,
            1024,
        );
    }

    fn into_message(self) -> Option<String> {
        match self.0.len() {
            0 => None,
            1 => Some(format!("1 validation error detected: {}", self.0[0])),
            n => Some(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            )),
        }
    }
}

/// Parses and validates a Put body; the error is a ValidationException message.
pub(crate) fn parse_put(body: &[u8]) -> Result<LoggingConfig, String> {
    let request: PutRequest =
        serde_json::from_slice(body).map_err(|err| format!("Malformed request body: {err}"))?;
    let Some(input) = request.logging_config else {
        return Err("1 validation error detected: Value null at 'loggingConfig' failed to satisfy constraint: Member must not be null".into());
    };

    let mut violations = Violations::default();
    if let Some(s3) = &input.s3_config {
        violations.s3(s3, "loggingConfig.s3Config");
    }
    if let Some(cloudwatch) = &input.cloud_watch_config {
        let path = "loggingConfig.cloudWatchConfig";
        let group_path = format!("{path}.logGroupName");
        let group = violations.required(&cloudwatch.log_group_name, &group_path);
        violations.length(group, &group_path, 1, 512);
        let role_path = format!("{path}.roleArn");
        let role = violations.required(&cloudwatch.role_arn, &role_path);
        violations.length(role, &role_path, 0, 2048);
        if let Some(role) = role.filter(|role| parse_role_arn(role, false).is_none()) {
            violations.0.push(format!(
                "Value '{role}' at '{role_path}' failed to satisfy constraint: Member must satisfy regular expression pattern: {ROLE_ARN_PATTERN}"
            ));
        }
        if let Some(large) = &cloudwatch.large_data_delivery_s3_config {
            violations.s3(large, &format!("{path}.largeDataDeliveryS3Config"));
        }
    }
    if let Some(message) = violations.into_message() {
        return Err(message);
    }
    if input.s3_config.is_none() && input.cloud_watch_config.is_none() {
        return Err(
            "Invalid logging configuration: at least one destination (s3Config or cloudWatchConfig) must be specified"
                .into(),
        );
    }

    // Validation above guarantees every required member is present.
    let s3 = |config: S3ConfigInput| S3Config {
        bucket_name: config.bucket_name.unwrap_or_default(),
        key_prefix: config.key_prefix,
    };
    Ok(LoggingConfig {
        cloud_watch_config: input.cloud_watch_config.map(|config| CloudWatchConfig {
            log_group_name: config.log_group_name.unwrap_or_default(),
            role_arn: config.role_arn.unwrap_or_default(),
            large_data_delivery_s3_config: config.large_data_delivery_s3_config.map(s3),
        }),
        s3_config: input.s3_config.map(s3),
        text_data_delivery_enabled: input.text_data_delivery_enabled.unwrap_or(true),
        image_data_delivery_enabled: input.image_data_delivery_enabled.unwrap_or(true),
        embedding_data_delivery_enabled: input.embedding_data_delivery_enabled.unwrap_or(true),
        video_data_delivery_enabled: input.video_data_delivery_enabled.unwrap_or(true),
        audio_data_delivery_enabled: input.audio_data_delivery_enabled.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn put(body: serde_json::Value) -> Result<serde_json::Value, String> {
        parse_put(body.to_string().as_bytes()).map(|config| serde_json::to_value(config).unwrap())
    }

    #[test]
    fn omitted_flags_are_stored_as_true() {
        let stored = put(json!({"loggingConfig": {
            "s3Config": {"bucketName": "logs"},
            "videoDataDeliveryEnabled": false
        }}))
        .unwrap();
        assert_eq!(
            stored,
            json!({
                "s3Config": {"bucketName": "logs"},
                "textDataDeliveryEnabled": true,
                "imageDataDeliveryEnabled": true,
                "embeddingDataDeliveryEnabled": true,
                "videoDataDeliveryEnabled": false,
                "audioDataDeliveryEnabled": true
            })
        );
    }

    #[test]
    fn validates_like_aws() {
        let cases = [
            (json!({}), "Value null at 'loggingConfig'"),
            (
                json!({"loggingConfig": {"textDataDeliveryEnabled": true}}),
                "at least one destination",
            ),
            (
                json!({"loggingConfig": {"s3Config": {"bucketName": "ab"}}}),
                "greater than or equal to 3",
            ),
            (
                json!({"loggingConfig": {"s3Config": {"bucketName": "a".repeat(64)}}}),
                "less than or equal to 63",
            ),
            (
                json!({"loggingConfig": {"s3Config": {"bucketName": "abc", "keyPrefix": "k".repeat(1025)}}}),
                "less than or equal to 1024",
            ),
            (
                json!({"loggingConfig": {"s3Config": {}}}),
                "Value null at 'loggingConfig.s3Config.bucketName'",
            ),
            (
                json!({"loggingConfig": {"cloudWatchConfig": {"logGroupName": "g"}}}),
                "Value null at 'loggingConfig.cloudWatchConfig.roleArn'",
            ),
            (
                json!({"loggingConfig": {"cloudWatchConfig": {"logGroupName": "", "roleArn": "arn:aws:iam::123456789012:role/r"}}}),
                "logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ),
            (
                json!({"loggingConfig": {"cloudWatchConfig": {"logGroupName": "g", "roleArn": "arn:aws:iam::1234:role/r"}}}),
                "regular expression pattern",
            ),
            (
                json!({"loggingConfig": {"cloudWatchConfig": {"logGroupName": "g", "roleArn": "r", "largeDataDeliveryS3Config": {"bucketName": "x"}}}}),
                "2 validation errors detected",
            ),
            (
                json!({"loggingConfig": {"s3Config": {"bucketName": 5}}}),
                "Malformed request body",
            ),
        ];
        for (body, expected) in cases {
            let err = put(body.clone()).unwrap_err();
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn accepts_role_arns_of_every_partition() {
        for arn in [
            "arn:aws:iam::123456789012:role/r",
            "arn:aws-cn:iam::123456789012:role/path/r",
            "arn:aws-us-gov:iam:::role/r",
        ] {
            let body = json!({"loggingConfig": {"cloudWatchConfig": {"logGroupName": "g", "roleArn": arn}}});
            assert!(put(body).is_ok(), "{arn}");
        }
    }
}
