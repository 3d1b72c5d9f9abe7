//! The emulator speaks Bedrock and STS well enough for the real AWS SDK: every
//! test here drives it through `aws-sdk-bedrock` / `aws-sdk-sts`, except the
//! admin endpoints and the load tests, which use raw HTTP/1.1.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrock::operation::get_model_invocation_logging_configuration::GetModelInvocationLoggingConfigurationError;
use aws_sdk_bedrock::operation::put_model_invocation_logging_configuration::PutModelInvocationLoggingConfigurationError;
use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig, S3Config};
use fleet_emulator::{
    EmulatorOptions, EmulatorStats, FaultKind, FaultRule, RunningEmulator, start,
};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Every test finishes, passing or failing, within this.
const TEST_DEADLINE: Duration = Duration::from_secs(90);

async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_DEADLINE, test)
        .await
        .expect("the test did not finish in time");
}

async fn emulator(options: EmulatorOptions) -> RunningEmulator {
    start(options).await.expect("the emulator starts")
}

fn test_credentials() -> Credentials {
    Credentials::new("AKIDTEST", "secret", None, None, "test")
}

async fn sdk_config(
    emulator: &RunningEmulator,
    region: &str,
    credentials: Credentials,
) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(emulator.endpoint_url())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        // Every fault must reach the test as the emulator sent it.
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .load()
        .await
}

async fn bedrock(emulator: &RunningEmulator, region: &str) -> aws_sdk_bedrock::Client {
    aws_sdk_bedrock::Client::new(&sdk_config(emulator, region, test_credentials()).await)
}

async fn bedrock_as(
    emulator: &RunningEmulator,
    region: &str,
    credentials: Credentials,
) -> aws_sdk_bedrock::Client {
    aws_sdk_bedrock::Client::new(&sdk_config(emulator, region, credentials).await)
}

async fn sts(emulator: &RunningEmulator) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&sdk_config(emulator, "us-east-1", test_credentials()).await)
}

async fn get(client: &aws_sdk_bedrock::Client) -> Option<LoggingConfig> {
    client
        .get_model_invocation_logging_configuration()
        .send()
        .await
        .expect("get succeeds")
        .logging_config()
        .cloned()
}

async fn put(client: &aws_sdk_bedrock::Client, config: LoggingConfig) {
    client
        .put_model_invocation_logging_configuration()
        .logging_config(config)
        .send()
        .await
        .expect("put succeeds");
}

fn s3_only(bucket: &str) -> LoggingConfig {
    LoggingConfig::builder()
        .s3_config(S3Config::builder().bucket_name(bucket).build().unwrap())
        .text_data_delivery_enabled(true)
        .image_data_delivery_enabled(true)
        .embedding_data_delivery_enabled(true)
        .video_data_delivery_enabled(true)
        .audio_data_delivery_enabled(true)
        .build()
}

/// Credentials for `account` obtained through AssumeRole, as fleet gets them.
async fn assume(emulator: &RunningEmulator, account: &str) -> Credentials {
    let output = sts(emulator)
        .await
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/BedrockLoggingAdmin"))
        .role_session_name("fleet")
        .external_id("shared-secret")
        .send()
        .await
        .expect("assume role succeeds");
    let credentials = output.credentials().expect("credentials are returned");
    Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
        None,
        "assumed",
    )
}

#[tokio::test]
async fn put_get_delete_round_trip_every_field() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let client = bedrock(&emulator, "us-east-1").await;
        assert_eq!(get(&client).await, None, "nothing is configured at first");

        let config = LoggingConfig::builder()
            .s3_config(
                S3Config::builder()
                    .bucket_name("bedrock-logs-123456789012-us-east-1")
                    .key_prefix("bedrock-invocations")
                    .build()
                    .unwrap(),
            )
            .cloud_watch_config(
                CloudWatchConfig::builder()
                    .log_group_name("/aws/bedrock/model-invocations")
                    .role_arn("arn:aws:iam::123456789012:role/bedrock-cloudwatch-logging")
                    .large_data_delivery_s3_config(
                        S3Config::builder()
                            .bucket_name("bedrock-large-123456789012-us-east-1")
                            .key_prefix("large-data")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .text_data_delivery_enabled(true)
            .image_data_delivery_enabled(false)
            .embedding_data_delivery_enabled(true)
            .video_data_delivery_enabled(false)
            .audio_data_delivery_enabled(false)
            .build();
        put(&client, config.clone()).await;
        assert_eq!(get(&client).await, Some(config));

        // Put replaces the whole configuration.
        put(&client, s3_only("other-bucket")).await;
        assert_eq!(get(&client).await, Some(s3_only("other-bucket")));

        client
            .delete_model_invocation_logging_configuration()
            .send()
            .await
            .expect("delete succeeds");
        assert_eq!(get(&client).await, None);
        // Delete is idempotent.
        client
            .delete_model_invocation_logging_configuration()
            .send()
            .await
            .expect("a second delete succeeds");

        let stats = emulator.stats();
        assert_eq!(
            (
                stats.requests.get,
                stats.requests.put,
                stats.requests.delete
            ),
            (4, 2, 2)
        );
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_flag_omitted_from_put_is_stored_as_true() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let client = bedrock(&emulator, "us-west-2").await;
        let partial = LoggingConfig::builder()
            .s3_config(S3Config::builder().bucket_name("logs").build().unwrap())
            .text_data_delivery_enabled(false)
            .build();
        put(&client, partial).await;
        let stored = get(&client).await.expect("a config is stored");
        assert_eq!(stored.text_data_delivery_enabled(), Some(false));
        assert_eq!(stored.image_data_delivery_enabled(), Some(true));
        assert_eq!(stored.embedding_data_delivery_enabled(), Some(true));
        assert_eq!(stored.video_data_delivery_enabled(), Some(true));
        assert_eq!(stored.audio_data_delivery_enabled(), Some(true));
        assert_eq!(stored.s3_config().map(|s3| s3.key_prefix()), Some(None));
    })
    .await;
}

#[tokio::test]
async fn invalid_puts_are_validation_exceptions() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let client = bedrock(&emulator, "us-east-1").await;
        let bad_role = LoggingConfig::builder()
            .cloud_watch_config(
                CloudWatchConfig::builder()
                    .log_group_name("/aws/bedrock")
                    .role_arn("arn:aws:iam::123:role/too-short-account")
                    .build()
                    .unwrap(),
            )
            .build();
        let err = client
            .put_model_invocation_logging_configuration()
            .logging_config(bad_role)
            .send()
            .await
            .expect_err("a bad role ARN is refused");
        assert_eq!(err.code(), Some("ValidationException"));
        let message = err.message().expect("a message");
        assert!(
            message.contains("loggingConfig.cloudWatchConfig.roleArn")
                && message.contains("^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$"),
            "{message}"
        );
        assert!(matches!(
            err.into_service_error(),
            PutModelInvocationLoggingConfigurationError::ValidationException(_)
        ));

        let no_destination = LoggingConfig::builder()
            .text_data_delivery_enabled(true)
            .build();
        let err = client
            .put_model_invocation_logging_configuration()
            .logging_config(no_destination)
            .send()
            .await
            .expect_err("a config without destination is refused");
        assert_eq!(err.code(), Some("ValidationException"));

        let short_bucket = s3_only("ab");
        let err = client
            .put_model_invocation_logging_configuration()
            .logging_config(short_bucket)
            .send()
            .await
            .expect_err("a two-letter bucket is refused");
        assert!(err.message().unwrap().contains("bucketName"), "{err:?}");

        assert_eq!(get(&client).await, None, "nothing was stored");
    })
    .await;
}

#[tokio::test]
async fn sts_identifies_the_caller_and_assumed_roles_address_their_account() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let identity = sts(&emulator)
            .await
            .get_caller_identity()
            .send()
            .await
            .expect("get caller identity succeeds");
        assert_eq!(identity.account(), Some("123456789012"));
        assert!(
            identity
                .arn()
                .is_some_and(|arn| arn.starts_with("arn:aws:iam::123456789012:"))
        );

        let assumed = assume(&emulator, "222222222222").await;
        let identity =
            aws_sdk_sts::Client::new(&sdk_config(&emulator, "us-east-1", assumed.clone()).await)
                .get_caller_identity()
                .send()
                .await
                .expect("get caller identity as the role succeeds");
        assert_eq!(identity.account(), Some("222222222222"));
        assert_eq!(
            identity.arn(),
            Some("arn:aws:sts::222222222222:assumed-role/BedrockLoggingAdmin/fleet")
        );

        let as_role = bedrock_as(&emulator, "us-east-1", assumed).await;
        let as_caller = bedrock(&emulator, "us-east-1").await;
        put(&as_role, s3_only("bucket-of-222")).await;
        assert_eq!(get(&as_role).await, Some(s3_only("bucket-of-222")));
        assert_eq!(get(&as_caller).await, None, "accounts are isolated");
        assert_eq!(
            emulator.state(),
            json!({"222222222222/us-east-1": {
                "s3Config": {"bucketName": "bucket-of-222"},
                "textDataDeliveryEnabled": true,
                "imageDataDeliveryEnabled": true,
                "embeddingDataDeliveryEnabled": true,
                "videoDataDeliveryEnabled": true,
                "audioDataDeliveryEnabled": true
            }})
        );
    })
    .await;
}

#[tokio::test]
async fn assume_role_refuses_a_malformed_role_arn() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let err = sts(&emulator)
            .await
            .assume_role()
            .role_arn("arn:aws:iam::12345:role/NotTwelveDigits")
            .role_session_name("fleet")
            .send()
            .await
            .expect_err("a malformed role ARN is refused");
        assert_eq!(err.code(), Some("ValidationError"));
        assert!(
            err.message().unwrap().contains("NotTwelveDigits"),
            "{err:?}"
        );
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    })
    .await;
}

#[tokio::test]
async fn regions_are_isolated() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let us = bedrock(&emulator, "us-east-1").await;
        let eu = bedrock(&emulator, "eu-west-1").await;
        put(&us, s3_only("us-bucket")).await;
        assert_eq!(get(&eu).await, None);
        put(&eu, s3_only("eu-bucket")).await;
        assert_eq!(get(&us).await, Some(s3_only("us-bucket")));
        assert_eq!(get(&eu).await, Some(s3_only("eu-bucket")));
    })
    .await;
}

#[test]
fn fault_rules_parse_and_explain_their_grammar() {
    for good in [
        "throttle:0.3",
        "throttle:30%",
        "error500:1",
        "drop:0",
        "slow:0.5:*/*",
        "denied:1:222222222222/eu-west-1",
        "throttle:0.3:*/*:put",
        "denied:1:222222222222/*:assume_role",
        "error500:10%:*/eu-*:get,delete",
        "iam_lag:1:*/*:put",
    ] {
        let rule: FaultRule = good.parse().unwrap_or_else(|err| panic!("{good}: {err}"));
        assert_eq!(rule.to_string().parse::<FaultRule>().unwrap(), rule);
    }
    let rule: FaultRule = "throttle:30%".parse().unwrap();
    assert_eq!((rule.kind(), rule.rate()), (FaultKind::Throttle, 0.3));

    for bad in [
        "",
        "throttle",
        "flaky:0.5",
        "drop:2",
        "drop:x",
        "denied:1:eu-west-1",
        "denied:1:*/*:list",
    ] {
        let err = bad.parse::<FaultRule>().expect_err(bad).to_string();
        assert!(
            err.contains(&format!("invalid fault rule `{bad}`")),
            "{err}"
        );
        assert!(err.contains("KIND:RATE[:SCOPE[:OPERATIONS]]"), "{err}");
        assert!(
            err.contains("throttle | error500 | drop | slow | denied"),
            "{err}"
        );
    }
}

fn faults(rules: &[&str]) -> Vec<FaultRule> {
    rules.iter().map(|rule| rule.parse().unwrap()).collect()
}

#[tokio::test]
async fn a_denied_rule_applies_to_its_scope_only() {
    bounded(async {
        let emulator = emulator(EmulatorOptions {
            faults: faults(&["denied:1:*/eu-west-1"]),
            ..EmulatorOptions::default()
        })
        .await;
        let eu = bedrock(&emulator, "eu-west-1").await;
        let err = eu
            .get_model_invocation_logging_configuration()
            .send()
            .await
            .expect_err("eu-west-1 is denied");
        assert_eq!(err.code(), Some("AccessDeniedException"));
        assert!(err.message().unwrap().contains("not authorized"), "{err:?}");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
        assert!(matches!(
            err.into_service_error(),
            GetModelInvocationLoggingConfigurationError::AccessDeniedException(_)
        ));

        assert_eq!(get(&bedrock(&emulator, "eu-west-2").await).await, None);
        assert_eq!(get(&bedrock(&emulator, "us-east-1").await).await, None);
        // STS is not faulted unless a rule names it.
        assert!(
            sts(&emulator)
                .await
                .get_caller_identity()
                .send()
                .await
                .is_ok()
        );
        assert_eq!(emulator.stats().faults.denied, 1);
    })
    .await;
}

#[tokio::test]
async fn throttle_and_error500_rules_return_their_exceptions() {
    bounded(async {
        let emulator = emulator(EmulatorOptions {
            faults: faults(&["throttle:1:*/*:get", "error500:1:*/*:put"]),
            ..EmulatorOptions::default()
        })
        .await;
        let client = bedrock(&emulator, "us-east-1").await;
        let err = client
            .get_model_invocation_logging_configuration()
            .send()
            .await
            .expect_err("get is throttled");
        assert_eq!(err.code(), Some("ThrottlingException"));
        assert_eq!(
            err.message(),
            Some("Too many requests, please wait before trying again.")
        );
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(429));

        let err = client
            .put_model_invocation_logging_configuration()
            .logging_config(s3_only("bucket"))
            .send()
            .await
            .expect_err("put fails");
        assert_eq!(err.code(), Some("InternalServerException"));
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
        assert!(
            emulator.state().as_object().unwrap().is_empty(),
            "a failed put stores nothing"
        );

        // Delete is covered by neither rule.
        client
            .delete_model_invocation_logging_configuration()
            .send()
            .await
            .expect("delete succeeds");
        let stats = emulator.stats();
        assert_eq!((stats.faults.throttle, stats.faults.error500), (1, 1));
    })
    .await;
}

#[tokio::test]
async fn an_iam_lag_rule_fails_puts_until_the_role_propagates() {
    bounded(async {
        let emulator = emulator(EmulatorOptions {
            faults: faults(&["iam_lag:50%"]),
            seed: 5,
            ..EmulatorOptions::default()
        })
        .await;
        let client = bedrock(&emulator, "us-east-1").await;
        let config = LoggingConfig::builder()
            .cloud_watch_config(
                CloudWatchConfig::builder()
                    .log_group_name("/aws/bedrock")
                    .role_arn("arn:aws:iam::123456789012:role/new-role")
                    .build()
                    .unwrap(),
            )
            .build();
        let mut lagged = 0;
        for _ in 0..40 {
            let put = client
                .put_model_invocation_logging_configuration()
                .logging_config(config.clone())
                .send()
                .await;
            if let Err(err) = put {
                assert_eq!(err.code(), Some("ValidationException"));
                assert_eq!(
                    err.message(),
                    Some("Failed to validate permissions for log group: /aws/bedrock, with role: arn:aws:iam::123456789012:role/new-role. Verify the IAM role permissions are correct.")
                );
                lagged += 1;
            }
        }
        assert!((5..=35).contains(&lagged), "{lagged} of 40 puts lagged at 50%");
        // Reads are never affected.
        assert!(get(&client).await.is_some());
        assert_eq!(emulator.stats().faults.iam_lag, lagged);
    })
    .await;
}

#[tokio::test]
async fn drop_and_slow_rules_break_the_transport() {
    bounded(async {
        let emulator = emulator(EmulatorOptions {
            faults: faults(&["drop:1:*/eu-west-1", "slow:1:*/eu-west-2"]),
            slow_delay: Duration::from_secs(20),
            ..EmulatorOptions::default()
        })
        .await;
        let err = bedrock(&emulator, "eu-west-1")
            .await
            .get_model_invocation_logging_configuration()
            .send()
            .await
            .expect_err("the connection is dropped");
        assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");

        let config = sdk_config(&emulator, "eu-west-2", test_credentials()).await;
        let impatient = aws_sdk_bedrock::Client::from_conf(
            aws_sdk_bedrock::config::Builder::from(&config)
                .timeout_config(
                    TimeoutConfig::builder()
                        .operation_timeout(Duration::from_millis(300))
                        .build(),
                )
                .build(),
        );
        let started = Instant::now();
        let err = impatient
            .get_model_invocation_logging_configuration()
            .send()
            .await
            .expect_err("the answer is too slow");
        assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));

        let stats = emulator.stats();
        assert_eq!((stats.faults.drop, stats.faults.slow), (1, 1));
        // The emulator still serves everyone else.
        assert_eq!(get(&bedrock(&emulator, "us-east-1").await).await, None);
    })
    .await;
}

#[tokio::test]
async fn sts_faults_apply_when_a_rule_names_sts() {
    bounded(async {
        let emulator = emulator(EmulatorOptions {
            faults: faults(&[
                "denied:1:222222222222/*:assume_role",
                "throttle:1:*/*:get_caller_identity",
            ]),
            ..EmulatorOptions::default()
        })
        .await;
        let client = sts(&emulator).await;
        let err = client
            .assume_role()
            .role_arn("arn:aws:iam::222222222222:role/BedrockLoggingAdmin")
            .role_session_name("fleet")
            .send()
            .await
            .expect_err("account 222222222222 is unreachable");
        assert_eq!(err.code(), Some("AccessDenied"));
        assert!(err.message().unwrap().contains("sts:AssumeRole"), "{err:?}");
        assume(&emulator, "333333333333").await;

        let err = client
            .get_caller_identity()
            .send()
            .await
            .expect_err("get caller identity is throttled");
        assert_eq!(err.code(), Some("Throttling"));
    })
    .await;
}

/// Whether each of `count` successive Gets in `region` was throttled.
async fn throttle_pattern(seed: u64, region: &str, count: usize) -> (Vec<bool>, EmulatorStats) {
    let emulator = emulator(EmulatorOptions {
        faults: faults(&["throttle:0.5"]),
        seed,
        ..EmulatorOptions::default()
    })
    .await;
    let client = bedrock(&emulator, region).await;
    let mut pattern = Vec::with_capacity(count);
    for _ in 0..count {
        match client
            .get_model_invocation_logging_configuration()
            .send()
            .await
        {
            Ok(_) => pattern.push(false),
            Err(err) => {
                assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
                pattern.push(true);
            }
        }
    }
    let stats = emulator.stats();
    emulator.shutdown().await;
    (pattern, stats)
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    bounded(async {
        let (first, stats) = throttle_pattern(42, "us-east-1", 48).await;
        let (again, _) = throttle_pattern(42, "us-east-1", 48).await;
        let (other_seed, _) = throttle_pattern(43, "us-east-1", 48).await;
        let (other_region, _) = throttle_pattern(42, "eu-west-1", 48).await;
        assert_eq!(first, again);
        assert_ne!(first, other_seed);
        assert_ne!(first, other_region);
        let throttled = first.iter().filter(|&&t| t).count() as u64;
        assert!(
            (8..=40).contains(&throttled),
            "{throttled} of 48 at rate 0.5"
        );
        assert_eq!(stats.faults.throttle, throttled);
        assert_eq!(stats.requests.get, 48);
    })
    .await;
}

/// One HTTP/1.1 exchange on a fresh connection: `(status, body)`.
async fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).expect("a UTF-8 response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a complete response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

#[tokio::test]
async fn admin_state_round_trips_and_seeds_what_the_sdk_sees() {
    bounded(async {
        let emulator = emulator(EmulatorOptions {
            // Admin endpoints are never delayed or faulted.
            latency: Duration::from_secs(30),
            faults: faults(&["drop:1:*/*:*"]),
            ..EmulatorOptions::default()
        })
        .await;
        let state = json!({
            "111111111111/us-east-1": {
                "s3Config": {"bucketName": "seeded", "keyPrefix": "p"},
                "textDataDeliveryEnabled": false,
                "imageDataDeliveryEnabled": true,
                "embeddingDataDeliveryEnabled": true,
                "videoDataDeliveryEnabled": false,
                "audioDataDeliveryEnabled": false
            },
            "123456789012/eu-west-1": {
                "cloudWatchConfig": {"logGroupName": "g", "roleArn": "arn:aws:iam::123456789012:role/r"},
                "textDataDeliveryEnabled": true,
                "imageDataDeliveryEnabled": true,
                "embeddingDataDeliveryEnabled": true,
                "videoDataDeliveryEnabled": true,
                "audioDataDeliveryEnabled": true
            }
        });
        let (status, body) = http(emulator.addr, "PUT", "/_emulator/state", state.to_string().as_bytes()).await;
        assert_eq!((status, body.as_str()), (200, r#"{"targets":2}"#));
        let (status, body) = http(emulator.addr, "GET", "/_emulator/state", b"").await;
        assert_eq!(status, 200);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap(), state);

        let (status, body) = http(emulator.addr, "PUT", "/_emulator/state", br#"{"prod/us-east-1": {}}"#).await;
        assert_eq!(status, 400);
        assert!(body.contains("12-digit account id"), "{body}");
        let (status, _) = http(emulator.addr, "GET", "/_emulator/nothing", b"").await;
        assert_eq!(status, 404);

        let (status, body) = http(emulator.addr, "GET", "/_emulator/stats", b"").await;
        assert_eq!(status, 200);
        let stats: EmulatorStats = serde_json::from_str(&body).unwrap();
        assert_eq!(stats, EmulatorStats::default());
        drop(emulator);

        // Without faults, the SDK reads what was seeded, flags included.
        let emulator = self::emulator(EmulatorOptions::default()).await;
        emulator.replace_state(state.clone()).expect("the state is valid");
        let eu = get(&bedrock(&emulator, "eu-west-1").await).await.expect("seeded");
        assert_eq!(eu.cloud_watch_config().map(|c| c.log_group_name()), Some("g"));
        let assumed = assume(&emulator, "111111111111").await;
        let seeded = get(&bedrock_as(&emulator, "us-east-1", assumed).await).await.expect("seeded");
        assert_eq!(seeded.s3_config().and_then(|s3| s3.key_prefix()), Some("p"));
        assert_eq!(seeded.text_data_delivery_enabled(), Some(false));
        assert_eq!(seeded.audio_data_delivery_enabled(), Some(false));

        let (status, body) = http(emulator.addr, "GET", "/_emulator/stats", b"").await;
        assert_eq!(status, 200);
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(stats["requests"]["get"], 2);
        assert_eq!(stats["requests"]["assume_role"], 1);
        assert_eq!(stats["faults"]["throttle"], 0);
        let (status, _) = http(emulator.addr, "DELETE", "/_emulator/stats", b"").await;
        assert_eq!(status, 200);
        assert_eq!(emulator.stats(), EmulatorStats::default());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_seeding_fifty_thousand_targets_is_fast() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"];
        let mut state = serde_json::Map::new();
        for account in 0..10_000u64 {
            for region in regions {
                state.insert(
                    format!("{:012}/{region}", 100_000_000_000 + account),
                    json!({
                        "s3Config": {"bucketName": format!("logs-{account}-{region}"), "keyPrefix": "bedrock"},
                        "cloudWatchConfig": {
                            "logGroupName": "/aws/bedrock/model-invocations",
                            "roleArn": format!("arn:aws:iam::{:012}:role/bedrock-logging", 100_000_000_000 + account)
                        },
                        "textDataDeliveryEnabled": true,
                        "imageDataDeliveryEnabled": true,
                        "embeddingDataDeliveryEnabled": true,
                        "videoDataDeliveryEnabled": false,
                        "audioDataDeliveryEnabled": false
                    }),
                );
            }
        }
        let body = serde_json::Value::Object(state).to_string();
        let started = Instant::now();
        let (status, response) = http(emulator.addr, "PUT", "/_emulator/state", body.as_bytes()).await;
        let seeded = started.elapsed();
        assert_eq!((status, response.as_str()), (200, r#"{"targets":50000}"#));
        let started = Instant::now();
        let (status, dump) = http(emulator.addr, "GET", "/_emulator/state", b"").await;
        let dumped = started.elapsed();
        assert_eq!(status, 200);
        assert_eq!(dump.len(), body.len());
        eprintln!(
            "seeded 50,000 targets ({} MiB) in {seeded:?}, dumped them in {dumped:?}",
            body.len() >> 20
        );
        assert!(seeded < Duration::from_secs(10), "seeding took {seeded:?}");
    })
    .await;
}

/// A minimal keep-alive HTTP/1.1 client, to load the server without the SDK's cost.
struct KeepAlive {
    stream: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl KeepAlive {
    async fn connect(addr: SocketAddr, region: &str) -> KeepAlive {
        let stream = TcpStream::connect(addr).await.expect("connects");
        stream.set_nodelay(true).unwrap();
        let request = format!(
            "GET /logging/modelinvocations HTTP/1.1\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20261125/{region}/bedrock/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n"
        );
        KeepAlive {
            stream: BufReader::new(stream),
            request: request.into_bytes(),
        }
    }

    /// Sends one Get and returns the response status.
    async fn get(&mut self) -> u16 {
        self.stream
            .get_mut()
            .write_all(&self.request)
            .await
            .unwrap();
        let mut line = String::new();
        self.stream.read_line(&mut line).await.unwrap();
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let mut length = 0;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.unwrap();
        status
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_concurrent_across_two_thousand_connections() {
    bounded(async {
        let latency = Duration::from_millis(50);
        let emulator = emulator(EmulatorOptions {
            latency,
            ..EmulatorOptions::default()
        })
        .await;
        let addr = emulator.addr;
        let connections = 2_000;
        let per_connection = 5;
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..connections {
            tasks.spawn(async move {
                let mut client = KeepAlive::connect(addr, if i % 2 == 0 { "us-east-1" } else { "eu-west-1" }).await;
                for _ in 0..per_connection {
                    assert_eq!(client.get().await, 200);
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("every client succeeds");
        }
        let elapsed = started.elapsed();
        let ideal = latency * per_connection;
        eprintln!(
            "{} requests on {connections} connections with {latency:?} latency: {elapsed:?} (ideal {ideal:?})",
            connections * per_connection as usize
        );
        assert_eq!(emulator.stats().requests.get, (connections * per_connection as usize) as u64);
        // Sleeps that blocked a worker thread would take 10,000 × 50 ms / 2 threads
        // = 250 s; concurrent ones take about the ideal. The bound leaves room
        // for a machine busy compiling.
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    })
    .await;
}
