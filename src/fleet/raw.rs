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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    pub regions: Option<Spanned<Vec<Spanned<String>>>>,
    pub role_name: Option<Spanned<String>>,
    pub external_id: Option<Spanned<String>>,
    pub session_name: Option<Spanned<String>>,
    pub concurrency: Option<Spanned<i64>>,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloudWatch {
    pub log_group_name: Spanned<String>,
    pub role_arn: Spanned<String>,
    pub large_data_delivery_s3_config: Option<Spanned<RawS3>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub id: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub profile: Spanned<String>,
    pub regions: Option<Spanned<Vec<Spanned<String>>>>,
    pub role_arn: Option<Spanned<String>>,
    pub region_profiles: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}
