//! Direct SDK access, so tests set up and verify live state without going
//! through fleet. Works against moto and the fleet emulator alike (same wire
//! protocol), hence the explicit endpoint everywhere.
//!
//! What moto 5.2.5 does (moto/bedrock/*.py, moto/sts/models.py), worth
//! knowing when writing assertions:
//! - Account = the one the access key belongs to: keys returned by
//!   AssumeRole on `arn:aws:iam::ACCT:role/ANY` belong to ACCT (the role need
//!   not exist); any unknown key, like `testing`, is 123456789012.
//! - Region = the region of the SigV4 credential scope. State is per
//!   account × region. A region botocore does not know for bedrock
//!   (e.g. `xx-fake-1`) makes moto answer 500 (KeyError in its backend dict).
//! - Get with nothing set → 200 `{"loggingConfig": {}}`: the SDK then yields
//!   `Some(LoggingConfig)` with every field `None`; `get_config` maps it to
//!   `None`, like real AWS's missing `loggingConfig`.
//! - Put stores the request's `loggingConfig` verbatim: no validation, no
//!   check that destinations exist, and — unlike AWS — an omitted flag stays
//!   omitted (AWS defaults it to true). Put replaces the whole config.
//! - Delete sets the config to `{}` (so Get → `{}` again); deleting when
//!   nothing was ever set is a no-op. Both answer 200 `{}`.
//! - No throttling, no 403 for disabled regions, no IAM checks: use the
//!   fleet emulator's fault switches for those.
//!
//! Clients are cheap; build one per test (and per tokio runtime: a client
//! whose runtime ended keeps dead pooled connections), never in a static.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_bedrock::config::timeout::TimeoutConfig;
use aws_sdk_bedrock::config::{BehaviorVersion, Region};
use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig, S3Config};
use aws_smithy_types::error::display::DisplayErrorContext;
use serde_json::Value;

/// The account moto treats as the caller (credentials `testing`/`testing`).
pub const CALLER_ACCOUNT: &str = "123456789012";

/// The role assumed by `bedrock` / `sts` for any other account. moto accepts
/// any role name; a fleet file under test should use the same one.
pub const TEST_ROLE_NAME: &str = "fleet-test";

fn caller_credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "fleet-test-static")
}

fn timeouts() -> TimeoutConfig {
    // A wedged server fails the test instead of hanging the suite.
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(60))
        .build()
}

fn sts_with(endpoint: &str, region: &str, credentials: Credentials) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .timeout_config(timeouts())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// Credentials acting as `account`: the static test keys for the caller
/// account, otherwise those returned by AssumeRole on
/// `arn:aws:iam::{account}:role/fleet-test`. Panics when AssumeRole fails.
pub async fn credentials(endpoint: &str, account: &str, region: &str) -> Credentials {
    if account == CALLER_ACCOUNT {
        return caller_credentials();
    }
    let role_arn = format!("arn:aws:iam::{account}:role/{TEST_ROLE_NAME}");
    let output = sts_with(endpoint, region, caller_credentials())
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("fleet-test")
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "AssumeRole {role_arn} at {endpoint} failed: {}",
                DisplayErrorContext(&e)
            )
        });
    let assumed = output
        .credentials()
        .unwrap_or_else(|| panic!("AssumeRole {role_arn} at {endpoint} returned no credentials"));
    Credentials::new(
        assumed.access_key_id(),
        assumed.secret_access_key(),
        Some(assumed.session_token().to_owned()),
        None,
        "fleet-test-assumed",
    )
}

/// Settings acting as `account` in `region` against `endpoint`, for any
/// service's client (`aws_sdk_X::Client::new(&config)`; S3 against a local
/// endpoint also wants `force_path_style`).
pub async fn sdk_config(endpoint: &str, account: &str, region: &str) -> aws_config::SdkConfig {
    let credentials = credentials(endpoint, account, region).await;
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .region(aws_config::Region::new(region.to_owned()))
        .timeout_config(timeouts())
        .build()
}

/// A Bedrock client acting as `account` in `region` against `endpoint`.
///
/// Built from explicit settings only: no environment variable, profile or
/// `~/.aws` file of the developer is read.
pub async fn bedrock(endpoint: &str, account: &str, region: &str) -> aws_sdk_bedrock::Client {
    let credentials = credentials(endpoint, account, region).await;
    let config = aws_sdk_bedrock::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .timeout_config(timeouts())
        .build();
    aws_sdk_bedrock::Client::from_conf(config)
}

/// An STS client acting as `account` (e.g. to check GetCallerIdentity).
pub async fn sts(endpoint: &str, account: &str, region: &str) -> aws_sdk_sts::Client {
    let credentials = credentials(endpoint, account, region).await;
    sts_with(endpoint, region, credentials)
}

/// Anything `put_config` accepts: an SDK `LoggingConfig`, its builder, or
/// JSON (see `logging_config_from_json`).
pub trait IntoLoggingConfig {
    fn into_logging_config(self) -> LoggingConfig;
}

impl IntoLoggingConfig for LoggingConfig {
    fn into_logging_config(self) -> LoggingConfig {
        self
    }
}

impl IntoLoggingConfig for aws_sdk_bedrock::types::builders::LoggingConfigBuilder {
    fn into_logging_config(self) -> LoggingConfig {
        self.build()
    }
}

impl IntoLoggingConfig for Value {
    fn into_logging_config(self) -> LoggingConfig {
        logging_config_from_json(&self)
    }
}

impl IntoLoggingConfig for &Value {
    fn into_logging_config(self) -> LoggingConfig {
        logging_config_from_json(self)
    }
}

/// PutModelInvocationLoggingConfiguration; panics on error. Sends exactly
/// the fields given (a flag left out is left out: see the moto notes above).
/// PutModelInvocationLoggingConfiguration as AWS stores it: a flag the Put
/// leaves out is stored as `true` (moto stores it as absent, so the seed
/// sends what AWS would have stored). Panics on error.
pub async fn put_config(client: &aws_sdk_bedrock::Client, config: impl IntoLoggingConfig) {
    let config = config.into_logging_config();
    let as_aws_stores_it = LoggingConfig::builder()
        .text_data_delivery_enabled(config.text_data_delivery_enabled().unwrap_or(true))
        .image_data_delivery_enabled(config.image_data_delivery_enabled().unwrap_or(true))
        .embedding_data_delivery_enabled(config.embedding_data_delivery_enabled().unwrap_or(true))
        .video_data_delivery_enabled(config.video_data_delivery_enabled().unwrap_or(true))
        .audio_data_delivery_enabled(config.audio_data_delivery_enabled().unwrap_or(true))
        .set_s3_config(config.s3_config().cloned())
        .set_cloud_watch_config(config.cloud_watch_config().cloned())
        .build();
    client
        .put_model_invocation_logging_configuration()
        .logging_config(as_aws_stores_it)
        .send()
        .await
        .unwrap_or_else(|e| panic!("Put logging config failed: {}", DisplayErrorContext(&e)));
}

/// GetModelInvocationLoggingConfiguration; `None` both when the response has
/// no `loggingConfig` (AWS) and when it is `{}` (moto). Panics on error.
pub async fn get_config(client: &aws_sdk_bedrock::Client) -> Option<LoggingConfig> {
    let output = client
        .get_model_invocation_logging_configuration()
        .send()
        .await
        .unwrap_or_else(|e| panic!("Get logging config failed: {}", DisplayErrorContext(&e)));
    output
        .logging_config
        .filter(|config| *config != LoggingConfig::builder().build())
}

/// DeleteModelInvocationLoggingConfiguration; panics on error.
pub async fn delete_config(client: &aws_sdk_bedrock::Client) {
    client
        .delete_model_invocation_logging_configuration()
        .send()
        .await
        .unwrap_or_else(|e| panic!("Delete logging config failed: {}", DisplayErrorContext(&e)));
}

/// Builds a `LoggingConfig` from JSON written either with the API's names
/// (`textDataDeliveryEnabled`, `s3Config.bucketName`, `cloudWatchConfig`,
/// `largeDataDeliveryS3Config`) or the fleet file's (`text_data_delivery_enabled`,
/// `s3_config.bucket_name`, `cloudwatch_config`, …). Keys are matched ignoring
/// case and underscores. Panics on unknown keys and wrong types, so a typo
/// in a test fails loudly instead of silently sending less.
pub fn logging_config_from_json(json: &Value) -> LoggingConfig {
    let mut builder = LoggingConfig::builder();
    for (key, value) in object(json, "loggingConfig") {
        builder = match normalize(key).as_str() {
            "textdatadeliveryenabled" => builder.text_data_delivery_enabled(flag(key, value)),
            "imagedatadeliveryenabled" => builder.image_data_delivery_enabled(flag(key, value)),
            "embeddingdatadeliveryenabled" => {
                builder.embedding_data_delivery_enabled(flag(key, value))
            }
            "videodatadeliveryenabled" => builder.video_data_delivery_enabled(flag(key, value)),
            "audiodatadeliveryenabled" => builder.audio_data_delivery_enabled(flag(key, value)),
            "s3config" => builder.s3_config(s3_config(key, value)),
            "cloudwatchconfig" => builder.cloud_watch_config(cloud_watch_config(key, value)),
            _ => panic!("unknown loggingConfig key {key:?} in {json}"),
        };
    }
    builder.build()
}

fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn object<'a>(value: &'a Value, what: &str) -> &'a serde_json::Map<String, Value> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("{what} must be a JSON object, got {value}"))
}

fn flag(key: &str, value: &Value) -> bool {
    value
        .as_bool()
        .unwrap_or_else(|| panic!("{key} must be a boolean, got {value}"))
}

fn string(key: &str, value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{key} must be a string, got {value}"))
        .to_owned()
}

fn s3_config(what: &str, json: &Value) -> S3Config {
    let mut builder = S3Config::builder();
    for (key, value) in object(json, what) {
        builder = match normalize(key).as_str() {
            "bucketname" => builder.bucket_name(string(key, value)),
            "keyprefix" => builder.key_prefix(string(key, value)),
            _ => panic!("unknown {what} key {key:?} in {json}"),
        };
    }
    builder
        .build()
        .unwrap_or_else(|e| panic!("{what} {json}: {e}"))
}

fn cloud_watch_config(what: &str, json: &Value) -> CloudWatchConfig {
    let mut builder = CloudWatchConfig::builder();
    for (key, value) in object(json, what) {
        builder = match normalize(key).as_str() {
            "loggroupname" => builder.log_group_name(string(key, value)),
            "rolearn" => builder.role_arn(string(key, value)),
            "largedatadeliverys3config" => {
                builder.large_data_delivery_s3_config(s3_config(key, value))
            }
            _ => panic!("unknown {what} key {key:?} in {json}"),
        };
    }
    builder
        .build()
        .unwrap_or_else(|e| panic!("{what} {json}: {e}"))
}

/// On moto's Organizations, as the caller (who becomes its management
/// account): a new organization with one OU named `ou_name` under the root.
/// Returns the client, the root id and the OU id.
pub async fn organization_with_ou(
    endpoint: &str,
    ou_name: &str,
) -> (aws_sdk_organizations::Client, String, String) {
    use aws_sdk_organizations::types::OrganizationFeatureSet;
    let org = aws_sdk_organizations::Client::new(
        &sdk_config(endpoint, CALLER_ACCOUNT, "us-east-1").await,
    );
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let ou = org
        .create_organizational_unit()
        .parent_id(&root)
        .name(ou_name)
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    (org, root, ou)
}

/// Creates a service control policy `name` with `content` and attaches it
/// to `target` (an OU, account or root id); returns the policy's id.
pub async fn attach_scp(
    org: &aws_sdk_organizations::Client,
    name: &str,
    content: &str,
    target: &str,
) -> String {
    let created = org
        .create_policy()
        .name(name)
        .description(format!("{name}, created by a fleet test"))
        .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .content(content)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreatePolicy {name}: {}", DisplayErrorContext(&e)));
    let id = created
        .policy()
        .and_then(|p| p.policy_summary())
        .and_then(|s| s.id())
        .unwrap()
        .to_owned();
    org.attach_policy()
        .policy_id(&id)
        .target_id(target)
        .send()
        .await
        .unwrap_or_else(|e| panic!("AttachPolicy {name}: {}", DisplayErrorContext(&e)));
    id
}
