//! The emulator's S3, IAM and CloudWatch Logs, through the real AWS SDK: each
//! call answers as the SDK expects, errors carry AWS's codes, faults and
//! stats cover the new calls, Bedrock's Put validates destinations when
//! asked to, and fleet's own preflight reads the emulator as it reads AWS.

mod emulated;
mod support;

use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig, S3Config};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use fleet_emulator::{EmulatorOptions, RunningEmulator, start};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

const TEST_DEADLINE: Duration = Duration::from_secs(90);
const CALLER: &str = "123456789012";

async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_DEADLINE, test)
        .await
        .expect("the test did not finish in time");
}

async fn emulator(options: EmulatorOptions) -> RunningEmulator {
    start(options).await.expect("the emulator starts")
}

fn caller_credentials() -> Credentials {
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

/// Clients of one account in one region, built as fleet builds them (S3
/// path-style, since an endpoint URL is set).
struct Clients {
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    bedrock: aws_sdk_bedrock::Client,
}

async fn clients_as(emulator: &RunningEmulator, region: &str, credentials: Credentials) -> Clients {
    let config = sdk_config(emulator, region, credentials).await;
    Clients {
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        ),
        iam: aws_sdk_iam::Client::new(&config),
        logs: aws_sdk_cloudwatchlogs::Client::new(&config),
        bedrock: aws_sdk_bedrock::Client::new(&config),
    }
}

async fn clients(emulator: &RunningEmulator, region: &str) -> Clients {
    clients_as(emulator, region, caller_credentials()).await
}

/// Credentials for `account` from the emulator's AssumeRole.
async fn assume(emulator: &RunningEmulator, account: &str) -> Credentials {
    let sts =
        aws_sdk_sts::Client::new(&sdk_config(emulator, "us-east-1", caller_credentials()).await);
    let output = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/BedrockLoggingAdmin"))
        .role_session_name("fleet")
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

/// The error code of a failed SDK call, panicking on success.
fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> String {
    let err = result.expect_err("the call fails");
    err.code()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no error code in {err:?}"))
}

fn status<T: std::fmt::Debug, E: std::fmt::Debug>(
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> u16 {
    match result.expect_err("the call fails") {
        aws_sdk_s3::error::SdkError::ServiceError(err) => err.raw().status().as_u16(),
        other => panic!("not a service error: {other:?}"),
    }
}

fn located(region: &str) -> CreateBucketConfiguration {
    CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::from(region))
        .build()
}

/// The bucket policy fleet's docs describe for Bedrock in `account`/`region`.
fn bedrock_bucket_policy(bucket: &str, prefix: &str, account: &str, region: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowBedrockLogs",
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::{bucket}/{prefix}/AWSLogs/{account}/BedrockModelInvocationLogs/*"),
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": format!("arn:aws:bedrock:{region}:{account}:*")}
            }
        }]
    })
    .to_string()
}

fn bedrock_trust(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }]
    })
    .to_string()
}

fn log_writes(region: &str, account: &str, group: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:aws:logs:{region}:{account}:log-group:{group}:*")
        }]
    })
    .to_string()
}

fn decode(document: &str) -> Value {
    let text = percent_decode_str(document).decode_utf8().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

#[tokio::test]
async fn bucket_calls_create_and_read_back_like_s3() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let west = clients(&emulator, "eu-west-1").await;
        let east = clients(&emulator, "us-east-1").await;
        west.s3
            .create_bucket()
            .bucket("logs-west")
            .create_bucket_configuration(located("eu-west-1"))
            .send()
            .await
            .expect("create in eu-west-1");
        east.s3.create_bucket().bucket("logs-east").send().await.expect("create in us-east-1");

        // GetBucketLocation answers from any region; us-east-1 is empty.
        let location = east.s3.get_bucket_location().bucket("logs-west").send().await.unwrap();
        assert_eq!(location.location_constraint(), Some(&BucketLocationConstraint::EuWest1));
        let location = east.s3.get_bucket_location().bucket("logs-east").send().await.unwrap();
        assert!(
            location.location_constraint().is_none_or(|c| c.as_str().is_empty()),
            "{location:?}"
        );
        let head = west.s3.head_bucket().bucket("logs-west").send().await.unwrap();
        assert_eq!(head.bucket_region(), Some("eu-west-1"));

        // A new bucket is as AWS makes one since 2023.
        let ownership = west.s3.get_bucket_ownership_controls().bucket("logs-west").send().await.unwrap();
        assert_eq!(
            ownership.ownership_controls().unwrap().rules()[0].object_ownership(),
            &ObjectOwnership::BucketOwnerEnforced
        );
        let block = west.s3.get_public_access_block().bucket("logs-west").send().await.unwrap();
        let block = block.public_access_block_configuration().unwrap();
        assert_eq!(
            (block.block_public_acls(), block.ignore_public_acls(), block.block_public_policy(), block.restrict_public_buckets()),
            (Some(true), Some(true), Some(true), Some(true))
        );
        let encryption = west.s3.get_bucket_encryption().bucket("logs-west").send().await.unwrap();
        let rule = &encryption.server_side_encryption_configuration().unwrap().rules()[0];
        assert_eq!(
            rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm(),
            &ServerSideEncryption::Aes256
        );
        assert_eq!(code(west.s3.get_bucket_policy().bucket("logs-west").send().await), "NoSuchBucketPolicy");
        assert_eq!(
            code(west.s3.get_bucket_lifecycle_configuration().bucket("logs-west").send().await),
            "NoSuchLifecycleConfiguration"
        );

        // Writes read back.
        let policy = bedrock_bucket_policy("logs-west", "bedrock", CALLER, "eu-west-1");
        west.s3.put_bucket_policy().bucket("logs-west").policy(&policy).send().await.unwrap();
        let read = west.s3.get_bucket_policy().bucket("logs-west").send().await.unwrap();
        assert_eq!(read.policy(), Some(policy.as_str()));
        west.s3
            .put_bucket_lifecycle_configuration()
            .bucket("logs-west")
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(
                        LifecycleRule::builder()
                            .id("fleet-expire-logs")
                            .filter(LifecycleRuleFilter::builder().prefix("bedrock/").build())
                            .status(ExpirationStatus::Enabled)
                            .expiration(LifecycleExpiration::builder().days(365).build())
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("put lifecycle");
        let lifecycle = west.s3.get_bucket_lifecycle_configuration().bucket("logs-west").send().await.unwrap();
        let rule = &lifecycle.rules()[0];
        assert_eq!(rule.id(), Some("fleet-expire-logs"));
        assert_eq!(rule.expiration().unwrap().days(), Some(365));
        assert_eq!(rule.filter().unwrap().prefix(), Some("bedrock/"));
        west.s3
            .put_bucket_encryption()
            .bucket("logs-west")
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(
                                ServerSideEncryptionByDefault::builder()
                                    .sse_algorithm(ServerSideEncryption::AwsKms)
                                    .kms_master_key_id("arn:aws:kms:eu-west-1:123456789012:key/k1")
                                    .build()
                                    .unwrap(),
                            )
                            .bucket_key_enabled(true)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("put encryption");
        let encryption = west.s3.get_bucket_encryption().bucket("logs-west").send().await.unwrap();
        let rule = &encryption.server_side_encryption_configuration().unwrap().rules()[0];
        let default = rule.apply_server_side_encryption_by_default().unwrap();
        assert_eq!(default.sse_algorithm(), &ServerSideEncryption::AwsKms);
        assert_eq!(default.kms_master_key_id(), Some("arn:aws:kms:eu-west-1:123456789012:key/k1"));
        assert_eq!(rule.bucket_key_enabled(), Some(true));

        west.s3
            .put_bucket_ownership_controls()
            .bucket("logs-west")
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::ObjectWriter)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let ownership = west.s3.get_bucket_ownership_controls().bucket("logs-west").send().await.unwrap();
        assert_eq!(
            ownership.ownership_controls().unwrap().rules()[0].object_ownership(),
            &ObjectOwnership::ObjectWriter
        );
        west.s3
            .put_public_access_block()
            .bucket("logs-west")
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let block = west.s3.get_public_access_block().bucket("logs-west").send().await.unwrap();
        assert_eq!(block.public_access_block_configuration().unwrap().block_public_policy(), Some(false));

        // What is deleted answers S3's not-found codes.
        west.s3.delete_bucket_ownership_controls().bucket("logs-west").send().await.unwrap();
        assert_eq!(
            code(west.s3.get_bucket_ownership_controls().bucket("logs-west").send().await),
            "OwnershipControlsNotFoundError"
        );
        west.s3.delete_public_access_block().bucket("logs-west").send().await.unwrap();
        assert_eq!(
            code(west.s3.get_public_access_block().bucket("logs-west").send().await),
            "NoSuchPublicAccessBlockConfiguration"
        );
        west.s3.delete_bucket_policy().bucket("logs-west").send().await.unwrap();
        assert_eq!(code(west.s3.get_bucket_policy().bucket("logs-west").send().await), "NoSuchBucketPolicy");

        // Bad input answers S3's codes.
        assert_eq!(code(west.s3.get_bucket_policy().bucket("nothing-here").send().await), "NoSuchBucket");
        assert_eq!(code(east.s3.get_bucket_location().bucket("nothing-here").send().await), "NoSuchBucket");
        assert_eq!(status(west.s3.head_bucket().bucket("nothing-here").send().await), 404);
        assert_eq!(code(east.s3.create_bucket().bucket("Bad_Name").send().await), "InvalidBucketName");
        assert_eq!(
            code(west.s3.put_bucket_policy().bucket("logs-west").policy("{not json").send().await),
            "MalformedPolicy"
        );
        let other_bucket = bedrock_bucket_policy("someone-else", "p", CALLER, "eu-west-1");
        assert_eq!(
            code(west.s3.put_bucket_policy().bucket("logs-west").policy(other_bucket).send().await),
            "MalformedPolicy",
            "a bucket policy may name only its own bucket"
        );
        // Block Public Access refuses a public policy on a new bucket.
        let public = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs-east/*"}]});
        assert_eq!(
            code(east.s3.put_bucket_policy().bucket("logs-east").policy(public.to_string()).send().await),
            "AccessDenied"
        );

        let destinations = emulator.destinations();
        let bucket = &destinations["buckets"]["logs-west"];
        assert_eq!(bucket["region"], "eu-west-1");
        assert_eq!(bucket["account"], CALLER);
        assert_eq!(bucket["lifecycle_rules"][0]["Expiration"]["Days"], "365");
        assert_eq!(bucket["encryption"]["sse_algorithm"], "aws:kms");
        assert_eq!(destinations["buckets"]["logs-east"]["region"], "us-east-1");
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bucket_names_are_global_and_buckets_live_in_one_region() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let mine = clients(&emulator, "eu-west-1").await;
        mine.s3
            .create_bucket()
            .bucket("shared-name")
            .create_bucket_configuration(located("eu-west-1"))
            .send()
            .await
            .unwrap();
        let other = clients_as(
            &emulator,
            "eu-west-1",
            assume(&emulator, "222222222222").await,
        )
        .await;
        assert_eq!(
            code(
                other
                    .s3
                    .create_bucket()
                    .bucket("shared-name")
                    .create_bucket_configuration(located("eu-west-1"))
                    .send()
                    .await
            ),
            "BucketAlreadyExists"
        );
        assert_eq!(
            code(
                other
                    .s3
                    .get_bucket_policy()
                    .bucket("shared-name")
                    .send()
                    .await
            ),
            "AccessDenied"
        );
        assert_eq!(
            code(
                other
                    .s3
                    .get_bucket_location()
                    .bucket("shared-name")
                    .send()
                    .await
            ),
            "AccessDenied"
        );
        assert_eq!(
            code(
                mine.s3
                    .create_bucket()
                    .bucket("shared-name")
                    .create_bucket_configuration(located("eu-west-1"))
                    .send()
                    .await
            ),
            "BucketAlreadyOwnedByYou"
        );
        // Re-creating one's own bucket in us-east-1 answers 200, for legacy
        // compatibility, as S3 documents.
        let east = clients(&emulator, "us-east-1").await;
        east.s3
            .create_bucket()
            .bucket("legacy")
            .send()
            .await
            .unwrap();
        east.s3
            .create_bucket()
            .bucket("legacy")
            .send()
            .await
            .expect("200 in us-east-1");

        // Another region's endpoint redirects; GetBucketLocation answers anywhere.
        let wrong = clients(&emulator, "us-west-2").await;
        let redirect = wrong
            .s3
            .get_bucket_policy()
            .bucket("shared-name")
            .send()
            .await;
        assert_eq!(status(redirect), 301);
        assert_eq!(
            code(
                wrong
                    .s3
                    .get_bucket_policy()
                    .bucket("shared-name")
                    .send()
                    .await
            ),
            "PermanentRedirect"
        );
        assert_eq!(
            status(wrong.s3.head_bucket().bucket("shared-name").send().await),
            301
        );
        let location = wrong
            .s3
            .get_bucket_location()
            .bucket("shared-name")
            .send()
            .await
            .unwrap();
        assert_eq!(
            location.location_constraint(),
            Some(&BucketLocationConstraint::EuWest1)
        );

        // A regional endpoint creates buckets only in its own region.
        assert_eq!(
            code(
                wrong
                    .s3
                    .create_bucket()
                    .bucket("elsewhere")
                    .create_bucket_configuration(located("eu-west-1"))
                    .send()
                    .await
            ),
            "IllegalLocationConstraintException"
        );
        assert_eq!(
            code(wrong.s3.create_bucket().bucket("elsewhere").send().await),
            "IllegalLocationConstraintException"
        );
        assert_eq!(
            code(
                east.s3
                    .create_bucket()
                    .bucket("elsewhere")
                    .create_bucket_configuration(located("us-east-1"))
                    .send()
                    .await
            ),
            "InvalidLocationConstraint"
        );
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn iam_roles_and_policies_read_back_url_encoded() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let c = clients(&emulator, "us-east-1").await;
        let trust = bedrock_trust(CALLER);
        let created = c.iam.create_role().role_name("bedrock-logging").assume_role_policy_document(&trust).send().await.unwrap();
        let role = created.role().unwrap();
        assert_eq!(role.arn(), "arn:aws:iam::123456789012:role/bedrock-logging");
        assert_eq!(role.path(), "/");
        assert!(role.role_id().starts_with("AROA"));
        let err = c.iam.create_role().role_name("Bedrock-Logging").assume_role_policy_document(&trust).send().await.unwrap_err();
        assert_eq!(err.code(), Some("EntityAlreadyExists"), "names are unique regardless of case");

        let read = c.iam.get_role().role_name("bedrock-logging").send().await.unwrap();
        let document = read.role().unwrap().assume_role_policy_document().unwrap();
        assert!(document.starts_with("%7B"), "IAM answers documents URL-encoded: {document}");
        assert_eq!(decode(document), serde_json::from_str::<Value>(&trust).unwrap());
        let err = c.iam.get_role().role_name("nobody").send().await.unwrap_err();
        assert_eq!(err.code(), Some("NoSuchEntity"));

        let new_trust = bedrock_trust("999999999999");
        c.iam.update_assume_role_policy().role_name("bedrock-logging").policy_document(&new_trust).send().await.unwrap();
        let read = c.iam.get_role().role_name("bedrock-logging").send().await.unwrap();
        assert_eq!(decode(read.role().unwrap().assume_role_policy_document().unwrap())["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"], "999999999999");

        let writes = log_writes("us-east-1", CALLER, "/aws/bedrock");
        c.iam.put_role_policy().role_name("bedrock-logging").policy_name("fleet-logs").policy_document(&writes).send().await.unwrap();
        let listed = c.iam.list_role_policies().role_name("bedrock-logging").send().await.unwrap();
        assert_eq!(listed.policy_names(), ["fleet-logs"]);
        assert!(!listed.is_truncated());
        let inline = c.iam.get_role_policy().role_name("bedrock-logging").policy_name("fleet-logs").send().await.unwrap();
        assert_eq!(decode(inline.policy_document()), serde_json::from_str::<Value>(&writes).unwrap());
        let err = c.iam.get_role_policy().role_name("bedrock-logging").policy_name("other").send().await.unwrap_err();
        assert_eq!(err.code(), Some("NoSuchEntity"));

        let managed = c.iam.create_policy().policy_name("shared-logs").policy_document(&writes).send().await.unwrap();
        let arn = managed.policy().unwrap().arn().unwrap().to_owned();
        assert_eq!(arn, "arn:aws:iam::123456789012:policy/shared-logs");
        c.iam.attach_role_policy().role_name("bedrock-logging").policy_arn(&arn).send().await.unwrap();
        let attached = c.iam.list_attached_role_policies().role_name("bedrock-logging").send().await.unwrap();
        assert_eq!(attached.attached_policies()[0].policy_arn(), Some(arn.as_str()));
        let policy = c.iam.get_policy().policy_arn(&arn).send().await.unwrap();
        let version = policy.policy().unwrap().default_version_id().unwrap();
        let version = c.iam.get_policy_version().policy_arn(&arn).version_id(version).send().await.unwrap();
        assert_eq!(decode(version.policy_version().unwrap().document().unwrap()), serde_json::from_str::<Value>(&writes).unwrap());
        let err = c.iam.get_policy().policy_arn("arn:aws:iam::123456789012:policy/none").send().await.unwrap_err();
        assert_eq!(err.code(), Some("NoSuchEntity"));

        // IAM's checks of documents and its quotas.
        let with_resource = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}]});
        let err = c.iam.create_role().role_name("r2").assume_role_policy_document(with_resource.to_string()).send().await.unwrap_err();
        assert_eq!(err.code(), Some("MalformedPolicyDocument"));
        let err = c.iam.put_role_policy().role_name("bedrock-logging").policy_name("p").policy_document("{").send().await.unwrap_err();
        assert_eq!(err.code(), Some("MalformedPolicyDocument"));
        let regions: Vec<String> = (0..80).map(|n| format!("arn:aws:bedrock:region-{n}:123456789012:*")).collect();
        let long = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"ArnLike": {"aws:SourceArn": regions}}}]});
        let err = c.iam.update_assume_role_policy().role_name("bedrock-logging").policy_document(long.to_string()).send().await.unwrap_err();
        assert_eq!(err.code(), Some("LimitExceeded"), "a trust policy is at most 2,048 characters");

        // IAM is global: a role is the same whatever region signs the call.
        let west = clients(&emulator, "eu-central-1").await;
        west.iam.get_role().role_name("bedrock-logging").send().await.unwrap();
        // And per account.
        let other = clients_as(&emulator, "us-east-1", assume(&emulator, "222222222222").await).await;
        assert_eq!(other.iam.get_role().role_name("bedrock-logging").send().await.unwrap_err().code(), Some("NoSuchEntity"));

        let err = c.iam.delete_role().role_name("bedrock-logging").send().await.unwrap_err();
        assert_eq!(err.code(), Some("DeleteConflict"));
        let destinations = emulator.destinations();
        let role = &destinations["roles"][CALLER]["bedrock-logging"];
        assert_eq!(role["attached_policies"][0], arn.as_str());
        assert_eq!(role["inline_policies"]["fleet-logs"]["Statement"][0]["Action"][0], "logs:CreateLogStream");
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn log_groups_are_per_region_and_take_only_cloudwatch_retentions() {
    bounded(async {
        let emulator = emulator(EmulatorOptions::default()).await;
        let c = clients(&emulator, "eu-west-1").await;
        c.logs.create_log_group().log_group_name("/aws/bedrock/model-invocations").send().await.unwrap();
        c.logs.create_log_group().log_group_name("/aws/bedrock/other").send().await.unwrap();
        c.logs.create_log_group().log_group_name("/unrelated").send().await.unwrap();
        let err = c.logs.create_log_group().log_group_name("/aws/bedrock/model-invocations").send().await.unwrap_err();
        assert_eq!(err.code(), Some("ResourceAlreadyExistsException"));

        let found = c.logs.describe_log_groups().log_group_name_prefix("/aws/bedrock/model").send().await.unwrap();
        let [group] = found.log_groups() else { panic!("{found:?}") };
        assert_eq!(group.log_group_name(), Some("/aws/bedrock/model-invocations"));
        assert_eq!(group.retention_in_days(), None);
        assert_eq!(group.kms_key_id(), None);
        assert_eq!(group.arn(), Some("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/bedrock/model-invocations:*"));

        c.logs.put_retention_policy().log_group_name("/aws/bedrock/model-invocations").retention_in_days(30).send().await.unwrap();
        for refused in [0, 2, 8, 366, 4000] {
            let err = c.logs.put_retention_policy().log_group_name("/aws/bedrock/model-invocations").retention_in_days(refused).send().await.unwrap_err();
            assert_eq!(err.code(), Some("InvalidParameterException"), "{refused}");
            assert!(err.message().unwrap().contains("3653"), "{err:?}");
        }
        let err = c.logs.put_retention_policy().log_group_name("/none").retention_in_days(30).send().await.unwrap_err();
        assert_eq!(err.code(), Some("ResourceNotFoundException"));
        let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd";
        c.logs.associate_kms_key().log_group_name("/aws/bedrock/model-invocations").kms_key_id(key).send().await.unwrap();
        let found = c.logs.describe_log_groups().log_group_name_prefix("/aws/bedrock/model").send().await.unwrap();
        assert_eq!(found.log_groups()[0].retention_in_days(), Some(30));
        assert_eq!(found.log_groups()[0].kms_key_id(), Some(key));

        // Pages of `limit`.
        let first = c.logs.describe_log_groups().limit(2).send().await.unwrap();
        assert_eq!(first.log_groups().len(), 2);
        let rest = c.logs.describe_log_groups().limit(2).next_token(first.next_token().unwrap()).send().await.unwrap();
        assert_eq!(rest.log_groups().len(), 1);
        assert_eq!(rest.next_token(), None);

        // Another region has its own groups.
        let east = clients(&emulator, "us-east-1").await;
        let found = east.logs.describe_log_groups().log_group_name_prefix("/aws").send().await.unwrap();
        assert!(found.log_groups().is_empty());
        assert_eq!(
            emulator.destinations()["log_groups"]["123456789012/eu-west-1"]["/aws/bedrock/model-invocations"]["retention_in_days"],
            30
        );
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn faults_and_stats_cover_the_destination_calls() {
    bounded(async {
        let faults = [
            "throttle:1:*/eu-west-1:s3",
            "denied:1::create_log_group",
            "error500:1::get_role",
            "throttle:1",
        ]
        .iter()
        .map(|rule| rule.parse().unwrap())
        .collect();
        let emulator = emulator(EmulatorOptions {
            faults,
            ..EmulatorOptions::default()
        })
        .await;
        let west = clients(&emulator, "eu-west-1").await;
        let east = clients(&emulator, "us-east-1").await;

        let throttled = west
            .s3
            .create_bucket()
            .bucket("b-west")
            .create_bucket_configuration(located("eu-west-1"))
            .send()
            .await;
        assert_eq!(code(throttled), "SlowDown");
        assert_eq!(
            status(west.s3.head_bucket().bucket("b-west").send().await),
            503
        );
        // The default OPS are Bedrock's: the last rule leaves S3 alone.
        east.s3
            .create_bucket()
            .bucket("b-east")
            .send()
            .await
            .expect("us-east-1 is not in the S3 rule's scope");
        let err = east
            .logs
            .create_log_group()
            .log_group_name("g")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("AccessDeniedException"));
        let err = east.iam.get_role().role_name("r").send().await.unwrap_err();
        assert_eq!(err.code(), Some("ServiceFailure"));
        east.logs
            .describe_log_groups()
            .send()
            .await
            .expect("other Logs calls are not faulted");
        let err = east
            .bedrock
            .get_model_invocation_logging_configuration()
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            aws_sdk_bedrock::error::ProvideErrorMetadata::code(&err),
            Some("ThrottlingException")
        );

        let stats = emulator.stats();
        assert_eq!(
            (stats.requests.s3, stats.requests.iam, stats.requests.logs),
            (3, 1, 2)
        );
        assert_eq!(
            stats.requests.destination_writes, 3,
            "two CreateBuckets and a CreateLogGroup"
        );
        assert_eq!(stats.requests.get, 1);
        assert_eq!(stats.operations["create_bucket"], 2);
        assert_eq!(stats.operations["head_bucket"], 1);
        assert_eq!(stats.operations["describe_log_groups"], 1);
        assert_eq!(
            (
                stats.faults.throttle,
                stats.faults.denied,
                stats.faults.error500
            ),
            (3, 1, 1)
        );
        assert!(
            !emulator.destinations()["buckets"]
                .as_object()
                .unwrap()
                .contains_key("b-west")
        );
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn expired_sessions_and_disabled_regions_refuse_destination_calls() {
    bounded(async {
        let emulator = emulator(EmulatorOptions {
            session_lifetime: Some(Duration::from_secs(1)),
            ..EmulatorOptions::default()
        })
        .await;
        let c = clients(&emulator, "me-south-1").await;
        let err = c.logs.describe_log_groups().send().await.unwrap_err();
        assert_eq!(
            err.code(),
            Some("UnrecognizedClientException"),
            "me-south-1 is not enabled"
        );
        c.iam
            .create_role()
            .role_name("r")
            .assume_role_policy_document(bedrock_trust(CALLER))
            .send()
            .await
            .expect("IAM is global");

        let assumed = clients_as(
            &emulator,
            "us-east-1",
            assume(&emulator, "222222222222").await,
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(
            code(assumed.s3.create_bucket().bucket("late").send().await),
            "ExpiredToken"
        );
        let err = assumed
            .iam
            .get_role()
            .role_name("r")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ExpiredToken"));
        let err = assumed.logs.describe_log_groups().send().await.unwrap_err();
        assert_eq!(err.code(), Some("ExpiredTokenException"));
        let stats = emulator.stats();
        assert_eq!(
            (
                stats.rejected.expired_token,
                stats.rejected.region_not_enabled
            ),
            (3, 1)
        );
        emulator.shutdown().await;
    })
    .await;
}

fn s3_logging(bucket: &str, prefix: &str) -> LoggingConfig {
    LoggingConfig::builder()
        .s3_config(
            S3Config::builder()
                .bucket_name(bucket)
                .key_prefix(prefix)
                .build()
                .unwrap(),
        )
        .text_data_delivery_enabled(true)
        .image_data_delivery_enabled(true)
        .embedding_data_delivery_enabled(true)
        .video_data_delivery_enabled(false)
        .audio_data_delivery_enabled(false)
        .build()
}

fn cloudwatch_logging(group: &str, role: &str) -> LoggingConfig {
    LoggingConfig::builder()
        .cloud_watch_config(
            CloudWatchConfig::builder()
                .log_group_name(group)
                .role_arn(role)
                .build()
                .unwrap(),
        )
        .text_data_delivery_enabled(true)
        .image_data_delivery_enabled(true)
        .embedding_data_delivery_enabled(true)
        .video_data_delivery_enabled(false)
        .audio_data_delivery_enabled(false)
        .build()
}

async fn put_message(client: &aws_sdk_bedrock::Client, config: LoggingConfig) -> Option<String> {
    match client
        .put_model_invocation_logging_configuration()
        .logging_config(config)
        .send()
        .await
    {
        Ok(_) => None,
        Err(err) => {
            assert_eq!(
                aws_sdk_bedrock::error::ProvideErrorMetadata::code(&err),
                Some("ValidationException"),
                "{err:?}"
            );
            Some(
                aws_sdk_bedrock::error::ProvideErrorMetadata::message(&err)
                    .unwrap()
                    .to_owned(),
            )
        }
    }
}

#[tokio::test]
async fn put_validates_destinations_like_aws_when_asked_to() {
    bounded(async {
        let emulator = emulator(EmulatorOptions { validate_destinations: true, ..EmulatorOptions::default() }).await;
        let region = "eu-west-1";
        let c = clients(&emulator, region).await;
        let bucket = "logs-123456789012-eu-west-1";
        let s3_failure = format!("Failed to validate permissions for S3 bucket: {bucket}");

        let message = put_message(&c.bedrock, s3_logging(bucket, "bedrock")).await.expect("no bucket yet");
        assert!(message.starts_with(&s3_failure), "{message}");
        c.s3.create_bucket().bucket(bucket).create_bucket_configuration(located(region)).send().await.unwrap();
        let message = put_message(&c.bedrock, s3_logging(bucket, "bedrock")).await.expect("no policy yet");
        assert!(message.starts_with(&s3_failure), "{message}");
        // A statement for another key prefix, account or region does not do.
        for (prefix, account, statement_region) in [("other", CALLER, region), ("bedrock", "999999999999", region), ("bedrock", CALLER, "us-east-1")] {
            let policy = bedrock_bucket_policy(bucket, prefix, account, statement_region);
            c.s3.put_bucket_policy().bucket(bucket).policy(policy).send().await.unwrap();
            assert!(put_message(&c.bedrock, s3_logging(bucket, "bedrock")).await.is_some(), "{prefix} {account} {statement_region}");
        }
        c.s3.put_bucket_policy().bucket(bucket).policy(bedrock_bucket_policy(bucket, "bedrock", CALLER, region)).send().await.unwrap();
        assert_eq!(put_message(&c.bedrock, s3_logging(bucket, "bedrock")).await, None);

        // The bucket must be in the configuration's region.
        let east = clients(&emulator, "us-east-1").await;
        let message = put_message(&east.bedrock, s3_logging(bucket, "bedrock")).await.expect("bucket in eu-west-1");
        assert!(message.starts_with(&s3_failure), "{message}");

        // CloudWatch: the group, the role's trust, then its permissions.
        let group = "/aws/bedrock/model-invocations";
        let role_arn = "arn:aws:iam::123456789012:role/bedrock-logging";
        let cw_failure = format!("Failed to validate permissions for log group: {group}, with role: {role_arn}. Verify the IAM role permissions are correct.");
        assert_eq!(put_message(&c.bedrock, cloudwatch_logging(group, role_arn)).await.as_deref(), Some(cw_failure.as_str()));
        c.logs.create_log_group().log_group_name(group).send().await.unwrap();
        assert_eq!(put_message(&c.bedrock, cloudwatch_logging(group, role_arn)).await.as_deref(), Some(cw_failure.as_str()), "no role");
        let ec2_trust = bedrock_trust(CALLER).replace("bedrock.amazonaws.com", "ec2.amazonaws.com");
        c.iam.create_role().role_name("bedrock-logging").assume_role_policy_document(ec2_trust).send().await.unwrap();
        assert!(put_message(&c.bedrock, cloudwatch_logging(group, role_arn)).await.is_some(), "no trust");
        c.iam.update_assume_role_policy().role_name("bedrock-logging").policy_document(bedrock_trust(CALLER)).send().await.unwrap();
        assert!(put_message(&c.bedrock, cloudwatch_logging(group, role_arn)).await.is_some(), "no permissions");
        c.iam.put_role_policy().role_name("bedrock-logging").policy_name("logs").policy_document(log_writes(region, CALLER, group)).send().await.unwrap();
        assert_eq!(put_message(&c.bedrock, cloudwatch_logging(group, role_arn)).await, None);
        // The same role has no group in us-east-1.
        assert!(put_message(&east.bedrock, cloudwatch_logging(group, role_arn)).await.is_some());

        let stats = emulator.stats();
        assert_eq!(stats.rejected.invalid_destinations, 11);
        assert_eq!(stats.requests.put, 13);
        assert_eq!(
            emulator.state()["123456789012/eu-west-1"]["cloudWatchConfig"]["logGroupName"],
            group
        );
        emulator.shutdown().await;
    })
    .await;
}

/// Sets up a correct destination in `account`/`region` from the documents
/// `fleet policy` prints for it, leaving out the bucket when asked.
async fn set_up_from_policy(
    endpoint: &str,
    dir: &std::path::Path,
    account: &str,
    region: &str,
    with_bucket: bool,
) {
    let output = support::run_fleet(
        endpoint,
        dir,
        &["policy", "--account", account, "--region", region],
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    let mut docs = std::collections::BTreeMap::new();
    for section in output.stdout.split("\n## ").skip(1) {
        let (title, body) = section.split_once('\n').unwrap();
        let text = body.split("\n# ").next().unwrap().trim();
        docs.insert(
            title.to_owned(),
            serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{title}: {e}")),
        );
    }
    let doc = |starts: &str| {
        docs.iter()
            .find(|(t, _)| t.starts_with(starts))
            .unwrap_or_else(|| panic!("no {starts} in {docs:?}"))
            .1
            .to_string()
    };

    let credentials = support::credentials(endpoint, account, region).await;
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("pf-{account}-{region}");
    if with_bucket {
        let create = s3.create_bucket().bucket(&bucket);
        let create = if region == "us-east-1" {
            create
        } else {
            create.create_bucket_configuration(located(region))
        };
        create.send().await.unwrap();
        s3.put_bucket_policy()
            .bucket(&bucket)
            .policy(doc("S3 bucket policy"))
            .send()
            .await
            .unwrap();
    }
    aws_sdk_cloudwatchlogs::Client::new(&config)
        .create_log_group()
        .log_group_name(format!("/bedrock/{account}"))
        .send()
        .await
        .unwrap();
    let iam = aws_sdk_iam::Client::new(&config);
    // IAM is global: a second region shares the account's role, so its
    // trust and permissions are added to the first region's (`fleet policy`
    // prints them for one region at a time).
    let trust: Value = serde_json::from_str(&doc("CloudWatch role trust policy")).unwrap();
    match iam.get_role().role_name("bedrock-logs").send().await {
        Ok(found) => {
            let mut merged = decode(found.role().unwrap().assume_role_policy_document().unwrap());
            let statements = merged["Statement"].as_array_mut().unwrap();
            statements.extend(trust["Statement"].as_array().unwrap().iter().cloned());
            iam.update_assume_role_policy()
                .role_name("bedrock-logs")
                .policy_document(merged.to_string())
                .send()
                .await
                .unwrap();
        }
        Err(_) => {
            iam.create_role()
                .role_name("bedrock-logs")
                .assume_role_policy_document(trust.to_string())
                .send()
                .await
                .unwrap();
        }
    }
    iam.put_role_policy()
        .role_name("bedrock-logs")
        .policy_name(format!("logs-{region}"))
        .policy_document(doc("CloudWatch role permission policy"))
        .send()
        .await
        .unwrap();
}

#[test]
fn fleet_preflight_reads_the_emulator_and_its_put_agrees() {
    let emulator = emulated::Emulator::start(&["--validate-destinations"]);
    let endpoint = emulator.endpoint.clone();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        format!(
            r#"[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "fleet-test"

[profiles.p]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.p.s3_config]
bucket_name = "pf-{{account_id}}-{{region}}"
key_prefix = "bedrock"

[profiles.p.cloudwatch_config]
log_group_name = "/bedrock/{{account_id}}"
role_arn = "arn:aws:iam::{{account_id}}:role/bedrock-logs"

[[accounts]]
id = "{CALLER}"
name = "caller"
profile = "p"

[[accounts]]
id = "222222222222"
name = "assumed"
profile = "p"
"#
        ),
    )
    .unwrap();
    support::runtime().block_on(async {
        for account in [CALLER, "222222222222"] {
            set_up_from_policy(&endpoint, dir.path(), account, "us-east-1", true).await;
            // eu-west-1 lacks its bucket in the assumed account only.
            set_up_from_policy(
                &endpoint,
                dir.path(),
                account,
                "eu-west-1",
                account == CALLER,
            )
            .await;
        }
    });

    let plan = support::run_fleet(&endpoint, dir.path(), &["plan", "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let mut problems = std::collections::BTreeMap::new();
    for target in plan["targets"].as_array().unwrap() {
        let name = format!(
            "{}/{}",
            target["account_name"].as_str().unwrap(),
            target["region"].as_str().unwrap()
        );
        let found: Vec<String> = target["preflight"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["problem"].as_str().unwrap().to_owned())
            .collect();
        problems.insert(name, found);
    }
    assert_eq!(problems.len(), 4, "{problems:?}");
    for (target, found) in &problems {
        if target == "assumed/eu-west-1" {
            assert_eq!(found, &["the bucket does not exist"], "{target}");
        } else {
            assert!(found.is_empty(), "{target}: {found:?}");
        }
    }

    // The emulator's Put agrees with preflight: the three correct targets
    // are applied; the one without its bucket is refused, never applied.
    let apply = support::run_fleet(&endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    let stats = emulator.stats();
    let puts = stats["requests"]["put"].as_u64().unwrap();
    assert_eq!(
        stats["rejected"]["invalid_destinations"].as_u64().unwrap(),
        puts - 3,
        "{stats}"
    );
    assert!(stats["requests"]["s3"].as_u64().unwrap() > 0, "{stats}");
    let plan = support::run_fleet(&endpoint, dir.path(), &["plan", "--format", "json"]);
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let actions: std::collections::BTreeMap<String, String> = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!(
                    "{}/{}",
                    t["account_name"].as_str().unwrap(),
                    t["region"].as_str().unwrap()
                ),
                t["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions.values().filter(|action| *action == "no-op").count(),
        3,
        "{actions:?}"
    );
    assert_ne!(actions["assumed/eu-west-1"], "no-op", "{actions:?}");
}

#[test]
fn destinations_fleet_manages_satisfy_the_emulators_put() {
    // From nothing to logging: fleet creates the buckets, log groups and
    // roles, and the emulator's Put, checking them as AWS does, accepts
    // every one at the first try.
    let emulator = emulated::Emulator::start(&["--validate-destinations"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.toml"),
        format!(
            r#"[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "fleet-test"

[profiles.managed]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.managed.s3_config]
bucket_name = "md-{{account_id}}-{{region}}"
key_prefix = "bedrock"
bucket = {{ expire_after_days = 365 }}

[profiles.managed.cloudwatch_config]
log_group_name = "/bedrock/md"
role_arn = "arn:{{partition}}:iam::{{account_id}}:role/md-bedrock-logs"
log_group = {{ retention_in_days = 30 }}
role = {{}}

[profiles.managed.cloudwatch_config.large_data_delivery_s3_config]
bucket_name = "md-large-{{account_id}}-{{region}}"
bucket = {{}}

[[accounts]]
id = "{CALLER}"
profile = "managed"

[[accounts]]
id = "222222222222"
profile = "managed"
"#
        ),
    )
    .unwrap();
    let apply = support::run_fleet(&emulator.endpoint, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let stats = emulator.stats();
    assert_eq!(stats["requests"]["put"], 4, "{stats}");
    assert_eq!(stats["rejected"]["invalid_destinations"], 0, "{stats}");
    assert_eq!(stats["operations"]["create_bucket"], 8, "{stats}");
    assert_eq!(stats["operations"]["create_role"], 2, "{stats}");
    let plan = support::run_fleet(
        &emulator.endpoint,
        dir.path(),
        &["plan", "--detailed-exitcode"],
    );
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}
