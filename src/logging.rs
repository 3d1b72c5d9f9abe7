//! The domain form of a Bedrock model invocation logging configuration.
//!
//! [`LoggingConfig`] is canonical: two values AWS treats as equal compare
//! equal (an absent key prefix and an empty one), and every flag of a desired
//! configuration is explicit, because a flag omitted from a Put turns on
//! server-side.
//!
//! A *live* configuration may lack a flag: in a region that does not offer a
//! modality, Get leaves its flag out (terraform-provider-aws #49569: video in
//! ca-west-1). Such a flag is "not reported" (`None`) and is never compared:
//! [`LoggingConfig::agrees_with`] and [`configs_agree`] are the comparisons
//! of live with desired, and diffs hide what the live side does not report.

use serde::{Deserialize, Serialize};

/// One region's logging configuration, in the fleet file's own key names.
///
/// Each flag is `Some` in a desired configuration; `None` only in a live one,
/// for a flag AWS did not report in that region (JSON `null`, absent from the
/// TOML rendering).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    pub text_data_delivery_enabled: Option<bool>,
    pub image_data_delivery_enabled: Option<bool>,
    pub embedding_data_delivery_enabled: Option<bool>,
    pub video_data_delivery_enabled: Option<bool>,
    pub audio_data_delivery_enabled: Option<bool>,
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

    /// The flags as (fleet file key, value) pairs, in the file's order;
    /// `None` for a flag the live side did not report.
    pub fn flags(&self) -> [(&'static str, Option<bool>); 5] {
        [
            (FLAG_NAMES[0], self.text_data_delivery_enabled),
            (FLAG_NAMES[1], self.image_data_delivery_enabled),
            (FLAG_NAMES[2], self.embedding_data_delivery_enabled),
            (FLAG_NAMES[3], self.video_data_delivery_enabled),
            (FLAG_NAMES[4], self.audio_data_delivery_enabled),
        ]
    }

    fn flags_mut(&mut self) -> [&mut Option<bool>; 5] {
        [
            &mut self.text_data_delivery_enabled,
            &mut self.image_data_delivery_enabled,
            &mut self.embedding_data_delivery_enabled,
            &mut self.video_data_delivery_enabled,
            &mut self.audio_data_delivery_enabled,
        ]
    }

    /// The flags AWS left out of this (live) configuration, in the file's order.
    pub fn unreported_flags(&self) -> Vec<&'static str> {
        self.flags()
            .into_iter()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name)
            .collect()
    }

    /// True when the two configurations are the same wherever both report a
    /// value: a flag that either side leaves out is not compared.
    pub fn agrees_with(&self, other: &LoggingConfig) -> bool {
        let flags_agree = self
            .flags()
            .iter()
            .zip(other.flags())
            .all(|((_, a), (_, b))| a.is_none() || b.is_none() || *a == b);
        flags_agree
            && self.s3_config == other.s3_config
            && self.cloudwatch_config == other.cloudwatch_config
    }

    /// This configuration with every flag that `live` does not report left
    /// out too: how a desired configuration is shown next to a live one, so
    /// a diff has no line for what cannot be compared.
    pub fn without_flags_unreported_by(&self, live: &LoggingConfig) -> LoggingConfig {
        let mut shown = self.clone();
        for (flag, (_, reported)) in shown.flags_mut().into_iter().zip(live.flags()) {
            if reported.is_none() {
                *flag = None;
            }
        }
        shown
    }
}

/// The fleet file's names of the five flags, in the file's order.
pub const FLAG_NAMES: [&str; 5] = [
    "text_data_delivery_enabled",
    "image_data_delivery_enabled",
    "embedding_data_delivery_enabled",
    "video_data_delivery_enabled",
    "audio_data_delivery_enabled",
];

/// Whether two optional configurations are the same for AWS: both absent, or
/// both present and agreeing wherever both report a flag.
pub fn configs_agree(a: Option<&LoggingConfig>, b: Option<&LoggingConfig>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.agrees_with(b),
        _ => false,
    }
}

/// Both sides of a comparison as they are shown: each without the flags the
/// other does not report.
pub fn comparable<'a>(
    a: Option<&'a LoggingConfig>,
    b: Option<&'a LoggingConfig>,
) -> (Option<LoggingConfig>, Option<LoggingConfig>) {
    match (a, b) {
        (Some(a), Some(b)) => (
            Some(a.without_flags_unreported_by(b)),
            Some(b.without_flags_unreported_by(a)),
        ),
        (a, b) => (a.cloned(), b.cloned()),
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
            text_data_delivery_enabled: Some(true),
            image_data_delivery_enabled: Some(true),
            embedding_data_delivery_enabled: Some(true),
            video_data_delivery_enabled: Some(false),
            audio_data_delivery_enabled: Some(false),
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
    fn an_unreported_flag_is_not_compared_and_not_rendered() {
        let mut live = sample();
        live.video_data_delivery_enabled = None;
        let desired = sample();
        assert!(live.agrees_with(&desired) && desired.agrees_with(&live));
        assert_eq!(live.unreported_flags(), ["video_data_delivery_enabled"]);
        assert!(!live.to_toml().contains("video_data_delivery_enabled"));
        assert_eq!(
            desired.without_flags_unreported_by(&live).to_toml(),
            live.to_toml()
        );
        let json = serde_json::to_value(&live).unwrap();
        assert_eq!(json["video_data_delivery_enabled"], serde_json::Value::Null);
        let back: LoggingConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, live);

        // Every reported field still compares exactly.
        let mut drifted = live.clone();
        drifted.text_data_delivery_enabled = Some(false);
        assert!(!drifted.agrees_with(&desired));
        assert!(!configs_agree(Some(&live), None));
    }

    #[test]
    fn absent_renders_empty() {
        assert_eq!(render_optional(None), "");
    }
}
