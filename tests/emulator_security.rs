//! `fleet emulator` is not a way in (it listens on loopback unless told
//! otherwise, and admin bodies are capped), and it records who wrote
//! logging in CloudTrail, served to `aws-sdk-cloudtrail`'s LookupEvents.
//! Every test drives the built binary.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_bedrock::error::ProvideErrorMetadata;
use aws_sdk_bedrock::types::{LoggingConfig, S3Config};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "eu-west-1";

/// A `fleet emulator` process, killed on drop; its output goes to files.
struct Emulator {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> (Child, PathBuf, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let stdout = dir.path().join("stdout");
    let stderr = dir.path().join("stderr");
    let child = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .arg("emulator")
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    (child, stdout, stderr, dir)
}

/// Starts `fleet emulator ARGS` and waits for its `listening on URL` line.
fn emulator(args: &[&str]) -> Emulator {
    let (mut child, stdout, stderr, dir) = spawn(args);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = std::fs::read_to_string(&stdout).unwrap_or_default();
        if let Some(url) = out
            .lines()
            .find_map(|line| line.strip_prefix("listening on "))
        {
            return Emulator {
                child,
                url: url.trim().to_owned(),
                _dir: dir,
            };
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the emulator exited ({status}): {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "the emulator did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_non_loopback_listen_is_refused_without_allow_remote() {
    for addr in ["0.0.0.0", "[::]"] {
        let port = free_port();
        let listen = format!("{addr}:{port}");
        let (mut child, _, stderr, _dir) = spawn(&["--listen", &listen]);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("fleet emulator --listen {listen} kept running");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = std::fs::read_to_string(&stderr).unwrap();
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&listen), "{stderr}");
        assert!(stderr.contains("--allow-remote"), "{stderr}");
        assert!(stderr.contains("rewrite the state"), "{stderr}");
        assert!(
            TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err(),
            "nothing listens on {port}"
        );
    }
}

#[test]
fn allow_remote_listens_on_every_address_with_a_warning() {
    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let emulator = emulator(&["--listen", &listen, "--allow-remote"]);
    assert_eq!(emulator.url, format!("http://127.0.0.1:{port}"));
    assert!(TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_ok());
}

async fn http(url: &str, method: &str, path: &str, body: Vec<u8>) -> (u16, String) {
    let addr = url.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: emulator\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // Write while reading: the answer may come before the whole body is
    // sent. The write half is handed back, not dropped: a half-closed
    // connection makes hyper close it before answering.
    let writer = tokio::spawn(async move {
        let _ = write.write_all(head.as_bytes()).await;
        for chunk in body.chunks(1 << 20) {
            if write.write_all(chunk).await.is_err() {
                break;
            }
        }
        write
    });
    let mut response = Vec::new();
    read.read_to_end(&mut response).await.unwrap();
    writer.abort();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn an_oversized_admin_body_is_413_and_changes_nothing() {
    let emulator = emulator(&["--listen", "127.0.0.1:0"]);
    let state =
        format!(r#"{{"{ACCOUNT}/{REGION}":{{"s3Config":{{"bucketName":"kept-bucket"}}}}}}"#);
    let (status, _) = http(&emulator.url, "PUT", "/_emulator/state", state.into_bytes()).await;
    assert_eq!(status, 200);
    let (_, before) = http(&emulator.url, "GET", "/_emulator/state", Vec::new()).await;
    assert!(before.contains("kept-bucket"), "{before}");

    let mut oversized = br#"{"111111111111/us-east-1":{"s3Config":{"bucketName":""#.to_vec();
    oversized.resize((64 << 20) + 1, b'a');
    let (status, body) = http(&emulator.url, "PUT", "/_emulator/state", oversized).await;
    assert_eq!(status, 413, "{body}");
    let message: Value = serde_json::from_str(&body).unwrap();
    assert!(
        message["message"].as_str().unwrap().contains("67108864"),
        "{body}"
    );
    let (_, after) = http(&emulator.url, "GET", "/_emulator/state", Vec::new()).await;
    assert_eq!(after, before);
}

fn static_credentials() -> Credentials {
    Credentials::new("AKIDTEST", "secret", None, None, "test")
}

async fn config(url: &str, credentials: Credentials, app: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(credentials)
        .app_name(AppName::new(app.to_owned()).unwrap())
        // Every throttle must reach the test as the emulator sent it.
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .load()
        .await
}

/// Credentials of the session `session` of role `Admin` in [`ACCOUNT`].
async fn assume(url: &str, session: &str) -> (Credentials, String) {
    let sts = aws_sdk_sts::Client::new(&config(url, static_credentials(), "sts").await);
    let output = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/Admin"))
        .role_session_name(session)
        .send()
        .await
        .expect("assume role succeeds");
    let c = output.credentials().unwrap();
    let key = c.access_key_id().to_owned();
    let credentials = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    (credentials, key)
}

fn s3_only(bucket: &str) -> LoggingConfig {
    LoggingConfig::builder()
        .s3_config(S3Config::builder().bucket_name(bucket).build().unwrap())
        .build()
}

async fn cloudtrail(url: &str, session: &str) -> aws_sdk_cloudtrail::Client {
    let (credentials, _) = assume(url, session).await;
    aws_sdk_cloudtrail::Client::new(&config(url, credentials, "fleet-test-reader").await)
}

#[tokio::test]
async fn lookup_events_shows_who_wrote_logging_newest_first() {
    let emulator = emulator(&["--listen", "127.0.0.1:0"]);
    let (writer_credentials, writer_key) = assume(&emulator.url, "writer").await;
    let bedrock = aws_sdk_bedrock::Client::new(
        &config(&emulator.url, writer_credentials, "fleet-test-writer").await,
    );
    bedrock
        .put_model_invocation_logging_configuration()
        .logging_config(s3_only("bedrock-logs-bucket"))
        .send()
        .await
        .expect("the put succeeds");
    let refused = bedrock
        .put_model_invocation_logging_configuration()
        .logging_config(s3_only("ab"))
        .send()
        .await
        .expect_err("a two-letter bucket is invalid");
    assert_eq!(refused.code(), Some("ValidationException"));

    let reader = cloudtrail(&emulator.url, "reader").await;
    let output = reader
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventSource)
                .attribute_value("bedrock.amazonaws.com")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("lookup succeeds");
    let events = output.events();
    assert_eq!(events.len(), 2, "{events:?}");
    let newest: Value = serde_json::from_str(events[0].cloud_trail_event().unwrap()).unwrap();
    let oldest: Value = serde_json::from_str(events[1].cloud_trail_event().unwrap()).unwrap();
    assert_eq!(newest["errorCode"], "ValidationException", "{newest}");
    assert!(
        newest["errorMessage"]
            .as_str()
            .unwrap()
            .contains("greater than or equal to 3")
    );
    assert_eq!(oldest.get("errorCode"), None, "{oldest}");
    assert_eq!(
        oldest["requestParameters"]["loggingConfig"]["s3Config"]["bucketName"],
        "bedrock-logs-bucket"
    );
    for (summary, event) in [(&events[0], &newest), (&events[1], &oldest)] {
        assert_eq!(
            summary.event_name(),
            Some("PutModelInvocationLoggingConfiguration")
        );
        assert_eq!(summary.username(), Some("writer"));
        assert_eq!(summary.access_key_id(), Some(writer_key.as_str()));
        let identity = &event["userIdentity"];
        assert_eq!(identity["type"], "AssumedRole");
        assert_eq!(
            identity["arn"],
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/writer")
        );
        assert_eq!(
            identity["sessionContext"]["sessionIssuer"]["arn"],
            format!("arn:aws:iam::{ACCOUNT}:role/Admin")
        );
        assert_eq!(event["sourceIPAddress"], "127.0.0.1");
        assert!(
            event["userAgent"]
                .as_str()
                .unwrap()
                .contains("app/fleet-test-writer"),
            "{event}"
        );
        assert_eq!(event["awsRegion"], REGION);
        assert_eq!(event["recipientAccountId"], ACCOUNT);
    }

    let two = reader
        .lookup_events()
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventName)
                .attribute_value("PutModelInvocationLoggingConfiguration")
                .build()
                .unwrap(),
        )
        .lookup_attributes(
            LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::Username)
                .attribute_value("writer")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect_err("AWS allows one lookup attribute");
    assert_eq!(two.code(), Some("InvalidLookupAttributesException"));

    let (_, admin) = http(&emulator.url, "GET", "/_emulator/events", Vec::new()).await;
    let admin: Value = serde_json::from_str(&admin).unwrap();
    assert_eq!(
        admin[format!("{ACCOUNT}/{REGION}")]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn lookup_events_is_limited_to_two_a_second() {
    let emulator = emulator(&["--listen", "127.0.0.1:0"]);
    let reader = cloudtrail(&emulator.url, "reader").await;
    let mut throttled = 0;
    for _ in 0..3 {
        if let Err(err) = reader.lookup_events().send().await {
            assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
            throttled += 1;
        }
    }
    assert_eq!(throttled, 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    reader
        .lookup_events()
        .send()
        .await
        .expect("a second later the bucket has refilled");
}

#[tokio::test]
async fn a_denied_fault_refuses_lookup_events() {
    let emulator = emulator(&[
        "--listen",
        "127.0.0.1:0",
        "--fault",
        "denied:1:*:lookup_events",
    ]);
    let reader = cloudtrail(&emulator.url, "reader").await;
    let err = reader.lookup_events().send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");
}

const SUM_SEARCH: &str =
    r#"SUM(SEARCH('{AWS/Bedrock,ModelId} MetricName="Invocations"', 'Sum', 1209600))"#;

async fn cloudwatch(url: &str, account: &str, region: &str) -> aws_sdk_cloudwatch::Client {
    let sts = aws_sdk_sts::Client::new(&config(url, static_credentials(), "sts").await);
    let output = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/Admin"))
        .role_session_name("metrics")
        .send()
        .await
        .expect("assume role succeeds");
    let c = output.credentials().unwrap();
    let credentials = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    );
    let config = config(url, credentials, "fleet-test-metrics").await;
    let config = aws_sdk_cloudwatch::config::Builder::from(&config)
        .region(aws_sdk_cloudwatch::config::Region::new(region.to_owned()))
        .build();
    aws_sdk_cloudwatch::Client::from_conf(config)
}

/// The SUM(SEARCH) over the last 14 days: `(timestamps, values)` of its one series.
async fn invocations_in_14_days(
    client: &aws_sdk_cloudwatch::Client,
) -> Result<
    Vec<f64>,
    aws_sdk_cloudwatch::error::SdkError<
        aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataError,
    >,
> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let output = client
        .get_metric_data()
        .metric_data_queries(
            aws_sdk_cloudwatch::types::MetricDataQuery::builder()
                .id("invocations")
                .expression(SUM_SEARCH)
                .build(),
        )
        .start_time(aws_smithy_types::DateTime::from_secs(now - 14 * 86_400))
        .end_time(aws_smithy_types::DateTime::from_secs(now))
        .send()
        .await?;
    let results = output.metric_data_results();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(
        results[0].status_code(),
        Some(&aws_sdk_cloudwatch::types::StatusCode::Complete)
    );
    Ok(results[0].values().to_vec())
}

#[tokio::test]
async fn get_metric_data_sums_the_callers_invocations_in_the_window() {
    let emulator = emulator(&["--listen", "127.0.0.1:0"]);
    let metrics = serde_json::json!([
        {"account_id": ACCOUNT, "region": REGION, "model_id": "anthropic.claude-3-haiku-20240307-v1:0", "invocations": 42},
        {"account_id": ACCOUNT, "region": REGION, "model_id": "amazon.titan-text-express-v1", "invocations": 8, "days_ago": 3},
        {"account_id": ACCOUNT, "region": REGION, "model_id": "amazon.titan-text-express-v1", "invocations": 1000, "days_ago": 20},
        {"account_id": ACCOUNT, "region": "us-west-2", "model_id": "amazon.titan-text-express-v1", "invocations": 5, "days_ago": 20},
    ]);
    let (status, body) = http(
        &emulator.url,
        "PUT",
        "/_emulator/metrics",
        metrics.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, stored) = http(&emulator.url, "GET", "/_emulator/metrics", Vec::new()).await;
    assert_eq!(
        serde_json::from_str::<Value>(&stored)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let mine = cloudwatch(&emulator.url, ACCOUNT, REGION).await;
    assert_eq!(invocations_in_14_days(&mine).await.unwrap(), vec![50.0]);
    let old_only = cloudwatch(&emulator.url, ACCOUNT, "us-west-2").await;
    assert_eq!(
        invocations_in_14_days(&old_only).await.unwrap(),
        Vec::<f64>::new()
    );
    let other = cloudwatch(&emulator.url, "222222222222", REGION).await;
    assert_eq!(
        invocations_in_14_days(&other).await.unwrap(),
        Vec::<f64>::new()
    );
}

#[tokio::test]
async fn a_denied_fault_refuses_get_metric_data() {
    let emulator = emulator(&[
        "--listen",
        "127.0.0.1:0",
        "--fault",
        "denied:1:*:get_metric_data",
    ]);
    let client = cloudwatch(&emulator.url, ACCOUNT, REGION).await;
    let err = invocations_in_14_days(&client).await.unwrap_err();
    assert!(
        err.code()
            .is_some_and(|code| code.starts_with("AccessDenied")),
        "{err:?}"
    );
}
