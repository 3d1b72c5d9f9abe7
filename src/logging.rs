//! The domain form of a Bedrock model invocation logging configuration.
//!
//! [`LoggingConfig`] is canonical: two values AWS treats as equal compare
//! equal (an absent key prefix and an empty one), and every flag is explicit,
//! because a flag omitted from a Put turns on server-side.

use serde::{Deserialize, Serialize};

/// One region's logging configuration, in the fleet file's own key names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    pub text_data_delivery_enabled: bool,
    pub image_data_delivery_enabled: bool,
    pub embedding_data_delivery_enabled: bool,
    pub video_data_delivery_enabled: bool,
    pub audio_data_delivery_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_config: Option<S3Config>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_config: Option<CloudWatchConfig>,
}

/// An S3 destination: the bucket and an optional key prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub bucket_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
}

/// A CloudWatch Logs destination, with the S3 bucket that receives bodies
/// too large for CloudWatch (over 100 KB) and binary data.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudWatchConfig {
    pub log_group_name: String,
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_data_delivery_s3_config: Option<S3Config>,
}

impl S3Config {
    /// Builds a destination, folding an empty key prefix into "no prefix",
    /// which is how AWS treats it.
    pub fn new(bucket_name: impl Into<String>, key_prefix: Option<String>) -> Self {
        S3Config {
            bucket_name: bucket_name.into(),
            key_prefix: key_prefix.filter(|prefix| !prefix.is_empty()),
        }
    }
}

impl LoggingConfig {
    /// Puts the value in canonical form so that `==` means "AWS treats these
    /// as the same configuration".
    pub fn canonical(mut self) -> Self {
        let fold = |s3: &mut S3Config| {
            if s3.key_prefix.as_deref() == Some("") {
                s3.key_prefix = None;
            }
        };
        if let Some(s3) = self.s3_config.as_mut() {
            fold(s3);
        }
        if let Some(large) = self
            .cloudwatch_config
            .as_mut()
            .and_then(|cw| cw.large_data_delivery_s3_config.as_mut())
        {
            fold(large);
        }
        self
    }

    /// Renders the configuration as TOML in a fixed key order, the form both
    /// sides of a diff are shown in.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a logging configuration always serialises to TOML")
    }

    /// Every S3 bucket the configuration delivers to: the S3 destination and
    /// CloudWatch's large-data bucket.
    pub fn buckets(&self) -> impl Iterator<Item = &S3Config> {
        self.s3_config.iter().chain(
            self.cloudwatch_config
                .iter()
                .filter_map(|cw| cw.large_data_delivery_s3_config.as_ref()),
        )
    }

    /// The flags as (fleet file key, value) pairs, in the file's order.
    pub fn flags(&self) -> [(&'static str, bool); 5] {
        [
            (
                "text_data_delivery_enabled",
                self.text_data_delivery_enabled,
            ),
            (
                "image_data_delivery_enabled",
                self.image_data_delivery_enabled,
            ),
            (
                "embedding_data_delivery_enabled",
                self.embedding_data_delivery_enabled,
            ),
            (
                "video_data_delivery_enabled",
                self.video_data_delivery_enabled,
            ),
            (
                "audio_data_delivery_enabled",
                self.audio_data_delivery_enabled,
            ),
        ]
    }
}

/// Renders an optional live or desired configuration; absence renders as
/// nothing, so a create diff shows every line added.
pub fn render_optional(config: Option<&LoggingConfig>) -> String {
    config.map(LoggingConfig::to_toml).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> LoggingConfig {
        LoggingConfig {
            text_data_delivery_enabled: true,
            image_data_delivery_enabled: true,
            embedding_data_delivery_enabled: true,
            video_data_delivery_enabled: false,
            audio_data_delivery_enabled: false,
            s3_config: Some(S3Config::new("logs-bucket", Some("prefix".into()))),
            cloudwatch_config: Some(CloudWatchConfig {
                log_group_name: "/aws/bedrock".into(),
                role_arn: "arn:aws:iam::111111111111:role/logs".into(),
                large_data_delivery_s3_config: Some(S3Config::new("large", None)),
            }),
        }
    }

    #[test]
    fn empty_key_prefix_equals_absent_one() {
        let mut with_empty = sample();
        with_empty.s3_config.as_mut().unwrap().key_prefix = Some(String::new());
        let mut without = sample();
        without.s3_config.as_mut().unwrap().key_prefix = None;
        assert_eq!(with_empty.canonical(), without);
    }

    #[test]
    fn toml_rendering_keeps_the_file_key_order() {
        let text = sample().to_toml();
        let text_pos = text.find("text_data_delivery_enabled").unwrap();
        let audio_pos = text.find("audio_data_delivery_enabled").unwrap();
        let s3_pos = text.find("[s3_config]").unwrap();
        let cw_pos = text.find("[cloudwatch_config]").unwrap();
        let large_pos = text
            .find("[cloudwatch_config.large_data_delivery_s3_config]")
            .unwrap();
        assert!(
            text_pos < audio_pos && audio_pos < s3_pos && s3_pos < cw_pos && cw_pos < large_pos
        );
        let back: LoggingConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn absent_renders_empty() {
        assert_eq!(render_optional(None), "");
    }
}
