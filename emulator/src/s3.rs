//! S3 buckets (REST XML, path-style `/{bucket}?subresource`): the bucket
//! calls fleet makes to check and to keep a logging destination.
//!
//! Bucket names are global across accounts, as in AWS: another account's
//! bucket answers CreateBucket with 409 `BucketAlreadyExists` and every
//! other call with 403 `AccessDenied`. A bucket lives in one region; a call
//! signed for another region answers 301 `PermanentRedirect` with the
//! bucket's region in `x-amz-bucket-region`, as S3 answers a path-style
//! request to the wrong regional endpoint (the SDK does not follow it and
//! reports the code), except GetBucketLocation, which exists to find a
//! bucket's region and answers from anywhere. A new bucket is as AWS makes
//! one since 2023: Object Ownership `BucketOwnerEnforced`, all four Block
//! Public Access settings on, default encryption SSE-S3 (AES256), no policy
//! and no lifecycle.
//!
//! Only the requests listed in [`decode`] are served; objects and listing
//! are not (501 `NotImplemented`). Virtual-hosted addressing is not either:
//! an SDK pointed at the emulator uses path style (`force_path_style`).

use std::collections::{BTreeMap, HashSet};
use std::sync::{PoisonError, RwLock};

use bytes::Bytes;
use hyper::{HeaderMap, Method};
use serde_json::{Value, json};

use super::faults::Operation;
use super::identity::{Caller, partition_of};
use super::policy;
use super::wire::{Reply, s3_error};
use super::xml::{self, Element};

const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
/// S3's limit on a bucket policy.
const MAX_POLICY_BYTES: usize = 20 * 1024;
const MAX_LIFECYCLE_RULES: usize = 1000;
const OWNERSHIPS: [&str; 3] = [
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
];
const SSE_ALGORITHMS: [&str; 3] = ["AES256", "aws:kms", "aws:kms:dsse"];

/// Every bucket, by name: the namespace is global.
#[derive(Default)]
pub(crate) struct Buckets {
    buckets: RwLock<BTreeMap<String, Bucket>>,
}

#[derive(Debug, Clone)]
struct Bucket {
    owner: String,
    region: String,
    policy: Option<String>,
    object_ownership: Option<String>,
    public_access_block: Option<PublicAccessBlock>,
    encryption: Encryption,
    /// The rules as they were put (IDs filled in), in their order.
    lifecycle: Option<Vec<Element>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PublicAccessBlock {
    block_public_acls: bool,
    ignore_public_acls: bool,
    block_public_policy: bool,
    restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    const ALL_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Encryption {
    algorithm: String,
    kms_key: Option<String>,
    bucket_key_enabled: bool,
}

impl Encryption {
    /// What every bucket has when nothing else is set (AWS, since January 2023).
    fn sse_s3() -> Encryption {
        Encryption {
            algorithm: "AES256".into(),
            kms_key: None,
            bucket_key_enabled: false,
        }
    }
}

/// A decoded S3 request.
pub(crate) struct S3Request {
    pub(crate) operation: Operation,
    bucket: String,
    body: Bytes,
    /// `x-amz-object-ownership` of a CreateBucket.
    object_ownership: Option<String>,
    /// `x-amz-expected-bucket-owner`: the call fails unless the bucket is that account's.
    expected_owner: Option<String>,
}

/// Reads which bucket call a request is; anything else is 501 `NotImplemented`.
pub(crate) fn decode(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
    request_id: &str,
) -> Result<S3Request, Reply> {
    let not_served = |what: String| {
        s3_error(
            501,
            "NotImplemented",
            &format!(
                "the emulator serves no S3 {what}: only the bucket calls of logging destinations"
            ),
            &[],
            request_id,
        )
    };
    let bucket = path.trim_start_matches('/').trim_end_matches('/');
    if bucket.is_empty() || bucket.contains('/') {
        return Err(not_served(format!(
            "{method} {path} (object or service call)"
        )));
    }
    let keys: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .map(|pair| pair.split('=').next().unwrap_or(""))
        .filter(|key| !key.is_empty() && *key != "x-id")
        .collect();
    let subresource = match keys.as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => return Err(not_served(format!("{method} ?{}", keys.join("&")))),
    };
    use Operation::*;
    let operation = match (method.as_str(), subresource) {
        ("PUT", None) => CreateBucket,
        ("HEAD", None) => HeadBucket,
        ("DELETE", None) => DeleteBucket,
        ("GET", Some("location")) => GetBucketLocation,
        ("GET", Some("policy")) => GetBucketPolicy,
        ("PUT", Some("policy")) => PutBucketPolicy,
        ("DELETE", Some("policy")) => DeleteBucketPolicy,
        ("GET", Some("ownershipControls")) => GetBucketOwnershipControls,
        ("PUT", Some("ownershipControls")) => PutBucketOwnershipControls,
        ("DELETE", Some("ownershipControls")) => DeleteBucketOwnershipControls,
        ("GET", Some("publicAccessBlock")) => GetPublicAccessBlock,
        ("PUT", Some("publicAccessBlock")) => PutPublicAccessBlock,
        ("DELETE", Some("publicAccessBlock")) => DeletePublicAccessBlock,
        ("GET", Some("encryption")) => GetBucketEncryption,
        ("PUT", Some("encryption")) => PutBucketEncryption,
        ("DELETE", Some("encryption")) => DeleteBucketEncryption,
        ("GET", Some("lifecycle")) => GetBucketLifecycleConfiguration,
        ("PUT", Some("lifecycle")) => PutBucketLifecycleConfiguration,
        ("DELETE", Some("lifecycle")) => DeleteBucketLifecycle,
        (method, None) => return Err(not_served(format!("{method} /{bucket}"))),
        (method, Some(sub)) => return Err(not_served(format!("{method} /{bucket}?{sub}"))),
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    Ok(S3Request {
        operation,
        bucket: bucket.to_owned(),
        body,
        object_ownership: header("x-amz-object-ownership"),
        expected_owner: header("x-amz-expected-bucket-owner"),
    })
}

/// An S3 error before it gets its request id.
#[derive(Debug)]
struct Failure {
    status: u16,
    code: &'static str,
    message: String,
    extra: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, String)>,
}

fn fail(status: u16, code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        status,
        code,
        message: message.into(),
        extra: Vec::new(),
        headers: Vec::new(),
    }
}

fn malformed_xml() -> Failure {
    fail(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn malformed_policy(message: &str) -> Failure {
    fail(400, "MalformedPolicy", message)
}

impl Failure {
    fn into_reply(self, head: bool, request_id: &str) -> Reply {
        let extra: Vec<(&str, &str)> = self
            .extra
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        // A HEAD answer has no body: the SDK reads the status alone.
        let mut reply = if head {
            Reply::empty(self.status)
        } else {
            s3_error(self.status, self.code, &self.message, &extra, request_id)
        };
        for (name, value) in self.headers {
            reply = reply.header(name, value);
        }
        reply
    }
}

type Answer = Result<Reply, Failure>;

impl Buckets {
    pub(crate) fn handle(&self, caller: &Caller, request: S3Request, request_id: &str) -> Reply {
        let head = request.operation == Operation::HeadBucket;
        let answer = if request.operation == Operation::CreateBucket {
            self.create(caller, &request)
        } else {
            self.existing(caller, &request)
        };
        answer
            .unwrap_or_else(|failure| failure.into_reply(head, request_id))
            .header("x-amz-request-id", request_id)
    }

    fn create(&self, caller: &Caller, request: &S3Request) -> Answer {
        let name = &request.bucket;
        if let Some(reason) = invalid_bucket_name(name) {
            let mut failure = fail(
                400,
                "InvalidBucketName",
                "The specified bucket is not valid.",
            );
            failure.extra.push(("BucketName", name.clone()));
            failure.extra.push(("Reason", reason.into()));
            return Err(failure);
        }
        let constraint = location_constraint(&request.body)?;
        let region = match constraint.as_deref() {
            // us-east-1 is the absence of a constraint; naming it is an error.
            Some("us-east-1") => {
                return Err(fail(
                    400,
                    "InvalidLocationConstraint",
                    "The specified location-constraint is not valid",
                ));
            }
            Some(region) => region.to_owned(),
            None => "us-east-1".to_owned(),
        };
        // The us-east-1 endpoint creates buckets anywhere; every other
        // regional endpoint only in its own region.
        if region != caller.region && caller.region != "us-east-1" {
            return Err(fail(
                400,
                "IllegalLocationConstraintException",
                format!(
                    "The {} location constraint is incompatible for the region specific endpoint this request was sent to.",
                    constraint.as_deref().unwrap_or("unspecified")
                ),
            ));
        }
        let object_ownership = match request.object_ownership.as_deref() {
            None => "BucketOwnerEnforced".to_owned(),
            Some(value) if OWNERSHIPS.contains(&value) => value.to_owned(),
            Some(_) => {
                return Err(fail(
                    400,
                    "InvalidArgument",
                    "Invalid x-amz-object-ownership header",
                ));
            }
        };
        let mut buckets = self.buckets.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = buckets.get(name) {
            if existing.owner != caller.account {
                let mut failure = fail(
                    409,
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                );
                failure.extra.push(("BucketName", name.clone()));
                return Err(failure);
            }
            // For legacy compatibility S3 answers 200 to re-creating one's own
            // bucket in us-east-1 (S3 error codes, BucketAlreadyOwnedByYou).
            if existing.region == "us-east-1" && region == "us-east-1" {
                return Ok(Reply::empty(200).header("location", format!("/{name}")));
            }
            let mut failure = fail(
                409,
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
            );
            failure.extra.push(("BucketName", name.clone()));
            return Err(failure);
        }
        buckets.insert(
            name.clone(),
            Bucket {
                owner: caller.account.clone(),
                region,
                policy: None,
                object_ownership: Some(object_ownership),
                public_access_block: Some(PublicAccessBlock::ALL_ON),
                encryption: Encryption::sse_s3(),
                lifecycle: None,
            },
        );
        Ok(Reply::empty(200).header("location", format!("/{name}")))
    }

    /// Every call on a bucket that must exist, be reachable in the caller's
    /// region and belong to the caller.
    fn existing(&self, caller: &Caller, request: &S3Request) -> Answer {
        let name = &request.bucket;
        let mut buckets = self.buckets.write().unwrap_or_else(PoisonError::into_inner);
        let Some(bucket) = buckets.get_mut(name) else {
            let mut failure = fail(404, "NoSuchBucket", "The specified bucket does not exist");
            failure.extra.push(("BucketName", name.clone()));
            return Err(failure);
        };
        let location = request.operation == Operation::GetBucketLocation;
        if !location && bucket.region != caller.region {
            let mut failure = fail(
                301,
                "PermanentRedirect",
                "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
            );
            failure
                .extra
                .push(("Endpoint", format!("s3.{}.amazonaws.com", bucket.region)));
            failure.extra.push(("Bucket", name.clone()));
            failure
                .headers
                .push(("x-amz-bucket-region", bucket.region.clone()));
            return Err(failure);
        }
        let expected = request.expected_owner.as_deref();
        if bucket.owner != caller.account || expected.is_some_and(|owner| owner != bucket.owner) {
            return Err(fail(403, "AccessDenied", "Access Denied"));
        }
        use Operation::*;
        match request.operation {
            HeadBucket => Ok(Reply::empty(200)
                .header("x-amz-bucket-region", bucket.region.clone())
                .header("x-amz-access-point-alias", "false")),
            DeleteBucket => {
                buckets.remove(name);
                Ok(Reply::empty(204))
            }
            GetBucketLocation => Ok(Reply::xml(
                200,
                // us-east-1 is the empty constraint, as S3 answers it.
                if bucket.region == "us-east-1" {
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{NAMESPACE}\"/>"
                    )
                } else {
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{NAMESPACE}\">{}</LocationConstraint>",
                        bucket.region
                    )
                },
            )),
            GetBucketPolicy => match &bucket.policy {
                Some(policy) => Ok(Reply::new(200, "application/json", policy.clone())),
                None => Err(not_found(
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist",
                    name,
                )),
            },
            PutBucketPolicy => {
                let text = std::str::from_utf8(&request.body).map_err(|_| {
                    malformed_policy("Policies must be valid JSON and the first byte must be '{'")
                })?;
                check_bucket_policy(text, name, partition_of(&bucket.region))?;
                let blocks = bucket
                    .public_access_block
                    .is_some_and(|block| block.block_public_policy);
                if blocks && is_public(text) {
                    return Err(fail(
                        403,
                        "AccessDenied",
                        format!(
                            "User: {} is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:{}:s3:::{name}\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
                            caller.arn(),
                            partition_of(&bucket.region)
                        ),
                    ));
                }
                bucket.policy = Some(text.to_owned());
                Ok(Reply::empty(204))
            }
            DeleteBucketPolicy => {
                bucket.policy = None;
                Ok(Reply::empty(204))
            }
            GetBucketOwnershipControls => match &bucket.object_ownership {
                Some(ownership) => Ok(Reply::xml(
                    200,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OwnershipControls xmlns=\"{NAMESPACE}\"><Rule><ObjectOwnership>{ownership}</ObjectOwnership></Rule></OwnershipControls>"
                    ),
                )),
                None => Err(not_found(
                    "OwnershipControlsNotFoundError",
                    "The bucket ownership controls were not found",
                    name,
                )),
            },
            PutBucketOwnershipControls => {
                let root = parse_body(&request.body, "OwnershipControls")?;
                let rules: Vec<&Element> = root.children_named("Rule").collect();
                let [rule] = rules.as_slice() else {
                    return Err(malformed_xml());
                };
                let ownership = rule.text_of("ObjectOwnership").ok_or_else(malformed_xml)?;
                if !OWNERSHIPS.contains(&ownership) {
                    return Err(malformed_xml());
                }
                bucket.object_ownership = Some(ownership.to_owned());
                Ok(Reply::empty(200))
            }
            DeleteBucketOwnershipControls => {
                bucket.object_ownership = None;
                Ok(Reply::empty(204))
            }
            GetPublicAccessBlock => match bucket.public_access_block {
                Some(block) => Ok(Reply::xml(
                    200,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PublicAccessBlockConfiguration xmlns=\"{NAMESPACE}\"><BlockPublicAcls>{}</BlockPublicAcls><IgnorePublicAcls>{}</IgnorePublicAcls><BlockPublicPolicy>{}</BlockPublicPolicy><RestrictPublicBuckets>{}</RestrictPublicBuckets></PublicAccessBlockConfiguration>",
                        block.block_public_acls,
                        block.ignore_public_acls,
                        block.block_public_policy,
                        block.restrict_public_buckets
                    ),
                )),
                None => Err(not_found(
                    "NoSuchPublicAccessBlockConfiguration",
                    "The public access block configuration was not found",
                    name,
                )),
            },
            PutPublicAccessBlock => {
                let root = parse_body(&request.body, "PublicAccessBlockConfiguration")?;
                let flag = |name: &str| -> Result<bool, Failure> {
                    match root.text_of(name) {
                        None => Ok(false),
                        Some("true") => Ok(true),
                        Some("false") => Ok(false),
                        Some(_) => Err(malformed_xml()),
                    }
                };
                bucket.public_access_block = Some(PublicAccessBlock {
                    block_public_acls: flag("BlockPublicAcls")?,
                    ignore_public_acls: flag("IgnorePublicAcls")?,
                    block_public_policy: flag("BlockPublicPolicy")?,
                    restrict_public_buckets: flag("RestrictPublicBuckets")?,
                });
                Ok(Reply::empty(200))
            }
            DeletePublicAccessBlock => {
                bucket.public_access_block = None;
                Ok(Reply::empty(204))
            }
            GetBucketEncryption => {
                let encryption = &bucket.encryption;
                let key = encryption
                    .kms_key
                    .as_deref()
                    .map(|key| format!("<KMSMasterKeyID>{}</KMSMasterKeyID>", xml::escape(key)))
                    .unwrap_or_default();
                Ok(Reply::xml(
                    200,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServerSideEncryptionConfiguration xmlns=\"{NAMESPACE}\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>{}</SSEAlgorithm>{key}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>{}</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
                        encryption.algorithm, encryption.bucket_key_enabled
                    ),
                ))
            }
            PutBucketEncryption => {
                bucket.encryption = parse_encryption(&request.body)?;
                Ok(Reply::empty(200))
            }
            // Default encryption can no longer be turned off: deleting it
            // restores SSE-S3.
            DeleteBucketEncryption => {
                bucket.encryption = Encryption::sse_s3();
                Ok(Reply::empty(204))
            }
            GetBucketLifecycleConfiguration => match &bucket.lifecycle {
                Some(rules) => {
                    let rules: String = rules.iter().map(Element::to_xml).collect();
                    Ok(Reply::xml(
                        200,
                        format!(
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LifecycleConfiguration xmlns=\"{NAMESPACE}\">{rules}</LifecycleConfiguration>"
                        ),
                    )
                    .header(
                        "x-amz-transition-default-minimum-object-size",
                        "all_storage_classes_128K",
                    ))
                }
                None => Err(not_found(
                    "NoSuchLifecycleConfiguration",
                    "The lifecycle configuration does not exist",
                    name,
                )),
            },
            PutBucketLifecycleConfiguration => {
                bucket.lifecycle = Some(parse_lifecycle(&request.body)?);
                Ok(Reply::empty(200).header(
                    "x-amz-transition-default-minimum-object-size",
                    "all_storage_classes_128K",
                ))
            }
            DeleteBucketLifecycle => {
                bucket.lifecycle = None;
                Ok(Reply::empty(204))
            }
            other => unreachable!("{} is not an S3 bucket call", other.name()),
        }
    }

    /// Whether Bedrock, writing logs for `account` in `region`, may put
    /// objects under `prefix` of `bucket`: the bucket exists in that region
    /// and account, and its policy lets the service principal write there.
    pub(crate) fn bedrock_can_write(
        &self,
        bucket: &str,
        prefix: Option<&str>,
        account: &str,
        region: &str,
    ) -> bool {
        let buckets = self.buckets.read().unwrap_or_else(PoisonError::into_inner);
        let Some(found) = buckets.get(bucket) else {
            return false;
        };
        if found.owner != account || found.region != region {
            return false;
        }
        let Some(bucket_policy) = &found.policy else {
            return false;
        };
        let partition = partition_of(region);
        let key = match prefix.filter(|prefix| !prefix.is_empty()) {
            Some(prefix) => format!(
                "{prefix}/AWSLogs/{account}/BedrockModelInvocationLogs/{region}/2026/01/01/00/log.json.gz"
            ),
            None => format!(
                "AWSLogs/{account}/BedrockModelInvocationLogs/{region}/2026/01/01/00/log.json.gz"
            ),
        };
        let resource = format!("arn:{partition}:s3:::{bucket}/{key}");
        let source_arn = bedrock_source_arn(partition, region, account);
        policy::allows(
            bucket_policy,
            &policy::Request {
                service: Some("bedrock.amazonaws.com"),
                action: "s3:PutObject",
                resource: Some(&resource),
                source_account: account,
                source_arn: &source_arn,
            },
        )
    }

    /// Every bucket as the admin endpoint shows it.
    pub(crate) fn state_json(&self) -> Value {
        let buckets = self.buckets.read().unwrap_or_else(PoisonError::into_inner);
        let entries = buckets.iter().map(|(name, bucket)| {
            let value = json!({
                "account": bucket.owner,
                "region": bucket.region,
                "policy": bucket.policy.as_deref().map(|text| {
                    serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_owned()))
                }),
                "object_ownership": bucket.object_ownership,
                "public_access_block": bucket.public_access_block.map(|block| json!({
                    "block_public_acls": block.block_public_acls,
                    "ignore_public_acls": block.ignore_public_acls,
                    "block_public_policy": block.block_public_policy,
                    "restrict_public_buckets": block.restrict_public_buckets,
                })),
                "encryption": {
                    "sse_algorithm": bucket.encryption.algorithm,
                    "kms_master_key_id": bucket.encryption.kms_key,
                    "bucket_key_enabled": bucket.encryption.bucket_key_enabled,
                },
                "lifecycle_rules": bucket.lifecycle.as_ref().map(|rules| {
                    rules.iter().map(Element::to_json).collect::<Vec<_>>()
                }),
            });
            (name.clone(), value)
        });
        Value::Object(entries.collect())
    }
}

/// The `aws:SourceArn` of Bedrock's writes for logging in `region`.
pub(crate) fn bedrock_source_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:bedrock:{region}:{account}:model-invocation-logging")
}

fn not_found(code: &'static str, message: &str, bucket: &str) -> Failure {
    let mut failure = fail(404, code, message);
    failure.extra.push(("BucketName", bucket.to_owned()));
    failure
}

/// S3's rules for a general-purpose bucket's name, or `None` when it follows them.
fn invalid_bucket_name(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return Some("a bucket name has 3 to 63 characters");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
    {
        return Some("a bucket name has only lowercase letters, digits, dots and hyphens");
    }
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alphanumeric(bytes[0]) || !alphanumeric(bytes[bytes.len() - 1]) {
        return Some("a bucket name begins and ends with a letter or digit");
    }
    if name.contains("..") {
        return Some("a bucket name has no two adjacent dots");
    }
    if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Some("a bucket name is not an IP address");
    }
    if name.starts_with("xn--") || name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return Some("a bucket name does not use a reserved prefix or suffix");
    }
    None
}

fn parse_body(body: &[u8], root: &str) -> Result<Element, Failure> {
    let text = std::str::from_utf8(body).map_err(|_| malformed_xml())?;
    let element = xml::parse(text).map_err(|_| malformed_xml())?;
    if element.name != root {
        return Err(malformed_xml());
    }
    Ok(element)
}

/// The LocationConstraint of a CreateBucket body; an empty body has none.
fn location_constraint(body: &[u8]) -> Result<Option<String>, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let root = parse_body(body, "CreateBucketConfiguration")?;
    Ok(root
        .text_of("LocationConstraint")
        .filter(|region| !region.is_empty())
        .map(str::to_owned))
}

/// S3's checks of a bucket policy: JSON with statements that each have an
/// effect, a principal, an action and a resource of this bucket.
fn check_bucket_policy(text: &str, bucket: &str, partition: &str) -> Result<(), Failure> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(malformed_policy(
            "Policy exceeds the maximum allowed document size.",
        ));
    }
    let document: Value = match text.trim_start().starts_with('{') {
        true => serde_json::from_str(text).ok(),
        false => None,
    }
    .ok_or_else(|| {
        malformed_policy("Policies must be valid JSON and the first byte must be '{'")
    })?;
    let statements = match document.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => return Err(malformed_policy("Missing required field Statement")),
    };
    let bucket_arn = format!("arn:{partition}:s3:::");
    for statement in &statements {
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            Some(other) => return Err(malformed_policy(&format!("Invalid effect: {other}"))),
            None => return Err(malformed_policy("Missing required field Effect")),
        }
        let has = |field: &str| {
            statement.get(field).is_some() || statement.get(format!("Not{field}")).is_some()
        };
        for field in ["Principal", "Action", "Resource"] {
            if !has(field) {
                return Err(malformed_policy(&format!("Missing required field {field}")));
            }
        }
        for action in statement
            .get("Action")
            .map(policy::strings)
            .unwrap_or_default()
        {
            if action != "*" && !action.to_ascii_lowercase().starts_with("s3:") {
                return Err(malformed_policy("Policy has invalid action"));
            }
        }
        for resource in statement
            .get("Resource")
            .map(policy::strings)
            .unwrap_or_default()
        {
            // A bucket policy may only name this bucket and its objects.
            let named = resource
                .strip_prefix(&bucket_arn)
                .map(|rest| rest.split('/').next().unwrap_or(rest));
            if !named.is_some_and(|pattern| policy::wildcard(pattern, bucket, false)) {
                return Err(malformed_policy("Policy has invalid resource"));
            }
        }
    }
    Ok(())
}

/// A policy Block Public Access calls public: an Allow for everyone with no
/// condition to narrow it.
fn is_public(text: &str) -> bool {
    policy::statements(text).iter().any(|statement| {
        statement.get("Effect").and_then(Value::as_str) == Some("Allow")
            && policy::principal_is_everyone(statement)
            && statement.get("Condition").is_none()
    })
}

fn parse_encryption(body: &[u8]) -> Result<Encryption, Failure> {
    let root = parse_body(body, "ServerSideEncryptionConfiguration")?;
    let rule = root.child("Rule").ok_or_else(malformed_xml)?;
    let default = rule
        .child("ApplyServerSideEncryptionByDefault")
        .ok_or_else(malformed_xml)?;
    let algorithm = default.text_of("SSEAlgorithm").ok_or_else(malformed_xml)?;
    if !SSE_ALGORITHMS.contains(&algorithm) {
        return Err(malformed_xml());
    }
    let kms_key = default
        .text_of("KMSMasterKeyID")
        .filter(|key| !key.is_empty())
        .map(str::to_owned);
    if kms_key.is_some() && algorithm == "AES256" {
        return Err(fail(
            400,
            "InvalidArgument",
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
        ));
    }
    let bucket_key_enabled = match rule.text_of("BucketKeyEnabled") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(malformed_xml()),
    };
    Ok(Encryption {
        algorithm: algorithm.to_owned(),
        kms_key,
        bucket_key_enabled,
    })
}

/// S3's checks of a lifecycle configuration; rules without an ID get one.
fn parse_lifecycle(body: &[u8]) -> Result<Vec<Element>, Failure> {
    let root = parse_body(body, "LifecycleConfiguration")?;
    let mut rules: Vec<Element> = root.children_named("Rule").cloned().collect();
    if rules.is_empty() || rules.len() > MAX_LIFECYCLE_RULES {
        return Err(malformed_xml());
    }
    const ACTIONS: [&str; 5] = [
        "Expiration",
        "Transition",
        "NoncurrentVersionExpiration",
        "NoncurrentVersionTransition",
        "AbortIncompleteMultipartUpload",
    ];
    let mut ids = HashSet::new();
    for (index, rule) in rules.iter_mut().enumerate() {
        if !matches!(rule.text_of("Status"), Some("Enabled" | "Disabled")) {
            return Err(malformed_xml());
        }
        if !ACTIONS.iter().any(|action| rule.child(action).is_some()) {
            return Err(fail(
                400,
                "InvalidRequest",
                "At least one action needs to be specified in a rule",
            ));
        }
        let days = rule.child("Expiration").and_then(|e| e.text_of("Days"));
        if days.is_some_and(|days| !days.parse::<u32>().is_ok_and(|days| days > 0)) {
            return Err(fail(
                400,
                "InvalidArgument",
                "'Days' for Expiration action must be a positive integer",
            ));
        }
        let id = match rule.text_of("ID") {
            Some(id) if !id.is_empty() => id.to_owned(),
            // S3 names a rule put without an ID.
            _ => {
                let id = format!("emulator-rule-{index}");
                rule.children.retain(|child| child.name != "ID");
                rule.children.insert(
                    0,
                    Element {
                        name: "ID".into(),
                        children: Vec::new(),
                        text: id.clone(),
                    },
                );
                id
            }
        };
        if id.chars().count() > 255 {
            return Err(fail(
                400,
                "InvalidArgument",
                "ID length should not exceed allowed limit of 255",
            ));
        }
        if !ids.insert(id) {
            return Err(fail(
                400,
                "InvalidArgument",
                "Rule ID must be unique. Found same ID for more than one rule",
            ));
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3s_rules() {
        for good in [
            "abc",
            "bedrock-logs-111111111111-eu-west-1",
            "a.b-c",
            &"a".repeat(63),
        ] {
            assert_eq!(invalid_bucket_name(good), None, "{good}");
        }
        for bad in [
            "ab",
            "Abc",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "a_b",
            &"a".repeat(64),
        ] {
            assert!(invalid_bucket_name(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn bucket_policies_are_checked_like_s3() {
        let ok = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*"}]}"#;
        assert!(check_bucket_policy(ok, "logs", "aws").is_ok());
        for (bad, message) in [
            ("[]", "first byte must be '{'"),
            ("{", "first byte must be '{'"),
            (r#"{"Statement": []}"#, "Missing required field Statement"),
            (r#"{"Statement": [{"Effect": "Maybe"}]}"#, "Invalid effect"),
            (
                r#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::logs"}]}"#,
                "Missing required field Principal",
            ),
            (
                r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*"}]}"#,
                "invalid resource",
            ),
            (
                r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ec2:*", "Resource": "arn:aws:s3:::logs"}]}"#,
                "invalid action",
            ),
        ] {
            let failure = check_bucket_policy(bad, "logs", "aws").unwrap_err();
            assert!(
                failure.message.contains(message),
                "{bad}: {}",
                failure.message
            );
        }
        assert!(is_public(
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}]}"#
        ));
        assert!(!is_public(ok));
    }

    #[test]
    fn lifecycle_rules_are_checked_and_named() {
        let rules = parse_lifecycle(br#"<LifecycleConfiguration><Rule><Filter><Prefix>p/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>"#).unwrap();
        assert_eq!(rules[0].text_of("ID"), Some("emulator-rule-0"));
        for bad in [
            &br#"<LifecycleConfiguration></LifecycleConfiguration>"#[..],
            br#"<LifecycleConfiguration><Rule><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"#,
            br#"<LifecycleConfiguration><Rule><Status>Enabled</Status></Rule></LifecycleConfiguration>"#,
            br#"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>"#,
            br#"<LifecycleConfiguration><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"#,
        ] {
            assert!(parse_lifecycle(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
