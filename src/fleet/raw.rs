//! Serde structs that mirror the fleet file exactly. Every value that a
//! later check may complain about keeps its span, so errors point at it.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub fleet: Option<Spanned<RawFleet>>,
    #[serde(default)]
    pub profiles: BTreeMap<Spanned<String>, Spanned<RawProfile>>,
    #[serde(default)]
    pub accounts: Vec<Spanned<RawAccount>>,
    #[serde(default)]
    pub organizational_units: Vec<Spanned<RawUnit>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    pub regions: Option<Spanned<RawRegions>>,
    pub role_name: Option<Spanned<String>>,
    pub external_id: Option<Spanned<String>>,
    pub session_name: Option<Spanned<String>>,
    pub concurrency: Option<Spanned<i64>>,
    pub protect: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub enabled: Option<Spanned<bool>>,
    pub text_data_delivery_enabled: Option<bool>,
    pub image_data_delivery_enabled: Option<bool>,
    pub embedding_data_delivery_enabled: Option<bool>,
    pub video_data_delivery_enabled: Option<bool>,
    pub audio_data_delivery_enabled: Option<bool>,
    pub s3_config: Option<Spanned<RawS3>>,
    pub cloudwatch_config: Option<Spanned<RawCloudWatch>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawS3 {
    pub bucket_name: Spanned<String>,
    pub key_prefix: Option<Spanned<String>>,
    /// Present: fleet creates and keeps the bucket.
    pub bucket: Option<Spanned<RawBucketOptions>>,
}

/// `bucket = { expire_after_days = …, kms_key_arn = … }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBucketOptions {
    pub expire_after_days: Option<Spanned<i64>>,
    pub kms_key_arn: Option<Spanned<String>>,
}

/// `log_group = { retention_in_days = …, kms_key_arn = … }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogGroupOptions {
    pub retention_in_days: Option<Spanned<i64>>,
    pub kms_key_arn: Option<Spanned<String>>,
}

/// `role = {}`: no options yet; a table so that some can be added.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoleOptions {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloudWatch {
    pub log_group_name: Spanned<String>,
    pub role_arn: Spanned<String>,
    pub large_data_delivery_s3_config: Option<Spanned<RawS3>>,
    /// Present: fleet creates and keeps the log group.
    pub log_group: Option<Spanned<RawLogGroupOptions>>,
    /// Present: fleet creates and keeps the role.
    pub role: Option<Spanned<RawRoleOptions>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub id: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub profile: Spanned<String>,
    pub regions: Option<Spanned<RawRegions>>,
    pub role_arn: Option<Spanned<String>>,
    pub region_profiles: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// An `[[organizational_units]]` entry: every account under an OU (or the
/// root), found through AWS Organizations when a command runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnit {
    pub id: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub recursive: Option<bool>,
    pub profile: Spanned<String>,
    pub regions: Option<Spanned<RawRegions>>,
    pub region_profiles: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    pub exclude: Option<Vec<Spanned<String>>>,
    pub role_name: Option<Spanned<String>>,
}

/// `regions = ["us-east-1", …]` or `regions = "enabled"`. Deserialised by
/// hand rather than with `untagged`, which would lose the spans of the
/// list's elements and the type error's position.
#[derive(Clone, Debug)]
pub enum RawRegions {
    List(Vec<Spanned<String>>),
    /// Any string; the checker accepts only `"enabled"`.
    Word(String),
}

impl<'de> Deserialize<'de> for RawRegions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawRegions;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of regions or \"enabled\"")
            }

            fn visit_str<E: serde::de::Error>(self, word: &str) -> Result<RawRegions, E> {
                Ok(RawRegions::Word(word.to_owned()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawRegions, A::Error> {
                let mut regions = Vec::new();
                while let Some(region) = seq.next_element::<Spanned<String>>()? {
                    regions.push(region);
                }
                Ok(RawRegions::List(regions))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}
