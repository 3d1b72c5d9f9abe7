//! Managed destinations: the buckets, log groups and roles that a profile
//! asks fleet to create and keep (`bucket = {…}`, `log_group = {…}`,
//! `role = {}`), planned and applied with the logging configurations that
//! write to them.
//!
//! fleet owns only what it names: one bucket-policy statement and one trust
//! statement with a fixed Sid, one lifecycle rule with a fixed ID, one inline
//! role policy with a fixed name, and the settings the file asks for. Every
//! other statement, rule and policy stays as it is, and nothing is ever
//! deleted. Each resource is read once however many targets share it; its
//! fleet-owned state is compared as a small JSON view, so a change shows as
//! a unified diff, and turned into the [`Step`]s that make it so.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use similar::TextDiff;

use super::preflight::log_object_arn;
use super::{ApiError, Location, Progress};
use crate::fleet::Target;
pub use crate::fleet::{BucketOptions, LogGroupOptions, Managed, RETENTION_DAYS};

/// The Sid of fleet's statement in a bucket policy and in a role's trust
/// policy; statements with other Sids are never touched.
pub const STATEMENT_SID: &str = "FleetBedrockModelInvocationLogging";
/// The name of fleet's inline policy on a role it manages.
pub const ROLE_POLICY_NAME: &str = "fleet-bedrock-logging";
/// The ID of fleet's lifecycle rule (one per key prefix: `ID/PREFIX`).
pub const LIFECYCLE_RULE_ID: &str = "fleet-bedrock-logs";

/// One resource fleet manages.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resource {
    Bucket {
        account_id: String,
        region: String,
        name: String,
    },
    LogGroup {
        account_id: String,
        region: String,
        name: String,
    },
    /// IAM is global: one role serves every region of its account.
    Role { account_id: String, name: String },
}

impl Resource {
    /// How plans name it: `s3://bucket`, `log group NAME (region)`, the role ARN's name.
    pub fn label(&self) -> String {
        match self {
            Resource::Bucket { name, .. } => format!("bucket s3://{name}"),
            Resource::LogGroup { name, region, .. } => format!("log group {name} ({region})"),
            Resource::Role { name, account_id } => format!("role {name} ({account_id})"),
        }
    }

    /// The account it is in, and its region (`None` for a role: IAM is
    /// global).
    pub fn place(&self) -> (&str, Option<&str>) {
        match self {
            Resource::Bucket {
                account_id, region, ..
            }
            | Resource::LogGroup {
                account_id, region, ..
            } => (account_id, Some(region)),
            Resource::Role { account_id, .. } => (account_id, None),
        }
    }
}

/// What AWS says of a bucket, in the parts fleet keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveBucket {
    /// `None`: the bucket does not exist (for anyone we can see).
    pub region: Option<String>,
    pub policy: Option<String>,
    pub ownership: Option<String>,
    /// All four Block Public Access settings on.
    pub public_access_blocked: bool,
    /// Algorithm and KMS key of the default encryption.
    pub encryption: Option<(String, Option<String>)>,
    /// fleet's lifecycle rules: (key prefix filter, days).
    pub fleet_lifecycle: Vec<(String, u32)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveLogGroup {
    pub exists: bool,
    pub retention_in_days: Option<u32>,
    pub kms_key_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveRole {
    /// `None`: the role does not exist.
    pub trust_policy: Option<String>,
    /// fleet's inline policy document, when the role has it.
    pub fleet_policy: Option<String>,
}

/// The state of one resource, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Live {
    Bucket(LiveBucket),
    LogGroup(LiveLogGroup),
    Role(LiveRole),
}

/// One write that brings a resource to what the file says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    CreateBucket,
    PutOwnershipControls,
    PutPublicAccessBlock,
    PutEncryption {
        kms_key_arn: Option<String>,
    },
    /// fleet's rules, replacing fleet's earlier ones; other rules are kept.
    PutLifecycleRules {
        rules: Vec<(String, u32)>,
    },
    /// The whole policy: fleet's statement merged into what is there.
    PutBucketPolicy {
        policy: String,
    },
    CreateLogGroup {
        kms_key_arn: Option<String>,
    },
    PutRetention {
        days: u32,
    },
    AssociateKmsKey {
        kms_key_arn: String,
    },
    CreateRole {
        trust_policy: String,
    },
    UpdateTrustPolicy {
        trust_policy: String,
    },
    PutRolePolicy {
        document: String,
    },
}

impl Step {
    /// Whether IAM or S3 may take a while before Bedrock sees this write.
    pub fn needs_propagation(&self) -> bool {
        matches!(
            self,
            Step::CreateBucket
                | Step::PutBucketPolicy { .. }
                | Step::CreateRole { .. }
                | Step::UpdateTrustPolicy { .. }
                | Step::PutRolePolicy { .. }
                | Step::CreateLogGroup { .. }
        )
    }
}

/// The reads and writes of managed destinations.
pub trait ManagedApi: Sync {
    fn read(
        &self,
        at: Location<'_>,
        resource: &Resource,
    ) -> impl Future<Output = Result<Live, ApiError>> + Send;
    fn write(
        &self,
        at: Location<'_>,
        resource: &Resource,
        step: &Step,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// What the file asks of one resource, gathered over every target that
/// uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub resource: Resource,
    pub partition: String,
    /// Bucket: key prefixes of the targets delivering to it.
    pub prefixes: BTreeSet<Option<String>>,
    pub bucket: Option<BucketOptions>,
    pub log_group: Option<LogGroupOptions>,
    /// Role: the regions it serves and the log groups it writes to.
    pub regions: BTreeSet<String>,
    pub log_groups: BTreeSet<(String, String)>,
}

/// Every resource the targets manage, each once, in a stable order, with
/// the indexes of the targets using it. Two profiles cannot manage one
/// resource differently: `validate` refuses that.
pub fn desired_resources<T: AsRef<Target>>(targets: &[T]) -> Vec<(Desired, Vec<usize>)> {
    let mut out: BTreeMap<Resource, (Desired, Vec<usize>)> = BTreeMap::new();
    for (index, target) in targets.iter().enumerate() {
        let target = target.as_ref();
        let Some(config) = &target.desired else {
            continue;
        };
        let account = target.account.id.to_string();
        let region = target.region.to_string();
        let partition = target.region.partition().to_owned();
        let mut add = |resource: Resource, fill: &dyn Fn(&mut Desired)| {
            let entry = out.entry(resource.clone()).or_insert_with(|| {
                (
                    Desired {
                        resource: resource.clone(),
                        partition: partition.clone(),
                        prefixes: BTreeSet::new(),
                        bucket: None,
                        log_group: None,
                        regions: BTreeSet::new(),
                        log_groups: BTreeSet::new(),
                    },
                    Vec::new(),
                )
            });
            fill(&mut entry.0);
            entry.1.push(index);
        };
        let buckets = [
            (config.s3_config.as_ref(), &target.managed.bucket),
            (
                config
                    .cloudwatch_config
                    .as_ref()
                    .and_then(|cw| cw.large_data_delivery_s3_config.as_ref()),
                &target.managed.large_data_bucket,
            ),
        ];
        for (s3, options) in buckets {
            let (Some(s3), Some(options)) = (s3, options) else {
                continue;
            };
            add(
                Resource::Bucket {
                    account_id: account.clone(),
                    region: region.clone(),
                    name: s3.bucket_name.clone(),
                },
                &|d| {
                    d.prefixes.insert(s3.key_prefix.clone());
                    d.bucket = Some(options.clone());
                },
            );
        }
        if let Some(cw) = &config.cloudwatch_config {
            if let Some(options) = &target.managed.log_group {
                add(
                    Resource::LogGroup {
                        account_id: account.clone(),
                        region: region.clone(),
                        name: cw.log_group_name.clone(),
                    },
                    &|d| d.log_group = Some(options.clone()),
                );
            }
            if target.managed.role {
                let name = role_name(&cw.role_arn).to_owned();
                add(
                    Resource::Role {
                        account_id: account.clone(),
                        name,
                    },
                    &|d| {
                        d.regions.insert(region.clone());
                        d.log_groups
                            .insert((region.clone(), cw.log_group_name.clone()));
                    },
                );
            }
        }
    }
    out.into_values().collect()
}

/// The role's name: what follows the last `/` of its ARN.
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn account_of(resource: &Resource) -> &str {
    resource.place().0
}

/// fleet's statement in the bucket policy.
pub fn bucket_statement(desired: &Desired) -> Value {
    let Resource::Bucket {
        account_id,
        region,
        name,
    } = &desired.resource
    else {
        unreachable!("a bucket statement is for a bucket")
    };
    let partition = &desired.partition;
    let resources: Vec<String> = desired
        .prefixes
        .iter()
        .map(|prefix| log_object_arn(partition, name, prefix.as_deref(), account_id))
        .collect();
    json!({
        "Sid": STATEMENT_SID,
        "Effect": "Allow",
        "Principal": { "Service": "bedrock.amazonaws.com" },
        "Action": "s3:PutObject",
        "Resource": resources,
        "Condition": {
            "StringEquals": { "aws:SourceAccount": account_id },
            "ArnLike": { "aws:SourceArn": format!("arn:{partition}:bedrock:{region}:{account_id}:*") }
        }
    })
}

/// fleet's statement in the role's trust policy: Bedrock of this account,
/// in every region the role serves.
pub fn trust_statement(desired: &Desired) -> Value {
    let account = account_of(&desired.resource);
    let partition = &desired.partition;
    let sources: Vec<String> = desired
        .regions
        .iter()
        .map(|region| format!("arn:{partition}:bedrock:{region}:{account}:*"))
        .collect();
    json!({
        "Sid": STATEMENT_SID,
        "Effect": "Allow",
        "Principal": { "Service": "bedrock.amazonaws.com" },
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": { "aws:SourceAccount": account },
            "ArnLike": { "aws:SourceArn": sources }
        }
    })
}

/// fleet's inline policy on the role: write to the log groups it serves.
pub fn role_policy(desired: &Desired) -> Value {
    let account = account_of(&desired.resource);
    let partition = &desired.partition;
    let groups: Vec<String> = desired
        .log_groups
        .iter()
        .map(|(region, name)| format!("arn:{partition}:logs:{region}:{account}:log-group:{name}:*"))
        .collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "WriteBedrockInvocationLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": groups
        }]
    })
}

/// The statement of `document` whose Sid is fleet's, if any.
fn fleet_statement(document: Option<&str>) -> Option<Value> {
    let document: Value = serde_json::from_str(document?).ok()?;
    statements(&document)
        .into_iter()
        .find(|s| s.get("Sid").and_then(Value::as_str) == Some(STATEMENT_SID))
}

fn statements(document: &Value) -> Vec<Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// `document` with fleet's statement replaced by (or added as) `statement`;
/// every other statement, and the document's other keys, as they were.
pub fn merge_statement(document: Option<&str>, statement: &Value) -> String {
    let mut document: Value = document
        .and_then(|text| serde_json::from_str(text).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({ "Version": "2012-10-17" }));
    let mut list: Vec<Value> = statements(&document)
        .into_iter()
        .filter(|s| s.get("Sid").and_then(Value::as_str) != Some(STATEMENT_SID))
        .collect();
    list.push(statement.clone());
    document["Statement"] = Value::Array(list);
    if document.get("Version").is_none() {
        document["Version"] = json!("2012-10-17");
    }
    document.to_string()
}

/// A JSON value with object keys sorted and lists of strings sorted, so
/// equal policies compare equal however AWS orders them.
fn normalised(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, normalised(v))).collect();
            json!(sorted)
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalised).collect();
            if items.iter().all(Value::is_string) {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            // A one-element list and its element mean the same in IAM.
            if items.len() == 1 && items[0].is_string() {
                return items.remove(0);
            }
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// One resource's plan: its fleet-owned state before and after, and the
/// writes that get there.
#[derive(Clone, Debug)]
pub struct ResourcePlan {
    pub desired: Desired,
    /// Indexes of the targets delivering to it (into the plan's targets).
    pub targets: Vec<usize>,
    /// The fleet-owned view read, `None` when the resource does not exist;
    /// `Err` when it could not be read.
    pub before: Result<Option<Value>, ApiError>,
    pub after: Value,
    pub steps: Vec<Step>,
}

impl ResourcePlan {
    pub fn is_change(&self) -> bool {
        !self.steps.is_empty()
    }

    pub fn is_create(&self) -> bool {
        matches!(self.before, Ok(None))
    }

    /// A unified diff of the fleet-owned state, before → after.
    pub fn diff(&self) -> String {
        let Ok(before) = &self.before else {
            return String::new();
        };
        let render = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
        let old = before.as_ref().map(render).unwrap_or_default();
        let new = render(&self.after);
        if old == new {
            return String::new();
        }
        let label = self.desired.resource.label();
        TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header(&format!("live: {label}"), &format!("desired: {label}"))
            .to_string()
    }
}

/// Compares a resource as read with what the file asks, and lists the writes.
pub fn plan_resource(desired: &Desired, live: &Live) -> (Option<Value>, Value, Vec<Step>) {
    match (live, &desired.resource) {
        (Live::Bucket(live), Resource::Bucket { region, .. }) => {
            let options = desired.bucket.clone().unwrap_or_default();
            let statement = bucket_statement(desired);
            // Never weaken: SSE-KMS stays unless the file names another key.
            let encryption = match (&options.kms_key_arn, &live.encryption) {
                (Some(key), _) => json!({ "algorithm": "aws:kms", "kms_key_arn": key }),
                (None, Some((algorithm, key))) if algorithm.starts_with("aws:kms") => {
                    json!({ "algorithm": algorithm, "kms_key_arn": key })
                }
                (None, _) => json!({ "algorithm": "AES256" }),
            };
            let rules: Vec<(String, u32)> = match options.expire_after_days {
                Some(days) => desired
                    .prefixes
                    .iter()
                    .map(|prefix| (expiry_prefix(prefix.as_deref()), days))
                    .collect(),
                None => Vec::new(),
            };
            let view = |region: &str,
                        ownership: Option<&str>,
                        blocked: bool,
                        encryption: Value,
                        rules: &[(String, u32)],
                        statement: Option<Value>| {
                json!({
                    "region": region,
                    "object_ownership": ownership,
                    "block_public_access": blocked,
                    "encryption": encryption,
                    "expiry": rules.iter().map(|(prefix, days)| json!({ "prefix": prefix, "days": days })).collect::<Vec<_>>(),
                    "fleet_statement": statement.map(|s| normalised(&s)),
                })
            };
            let after = view(
                region,
                Some("BucketOwnerEnforced"),
                true,
                encryption.clone(),
                &rules,
                Some(statement.clone()),
            );
            let Some(live_region) = &live.region else {
                let mut steps = vec![
                    Step::CreateBucket,
                    Step::PutOwnershipControls,
                    Step::PutPublicAccessBlock,
                    Step::PutEncryption {
                        kms_key_arn: options.kms_key_arn.clone(),
                    },
                ];
                if !rules.is_empty() {
                    steps.push(Step::PutLifecycleRules { rules });
                }
                steps.push(Step::PutBucketPolicy {
                    policy: merge_statement(None, &statement),
                });
                return (None, after, steps);
            };
            let live_encryption = match &live.encryption {
                Some((algorithm, key)) if algorithm.starts_with("aws:kms") => {
                    json!({ "algorithm": algorithm, "kms_key_arn": key })
                }
                Some((algorithm, _)) => json!({ "algorithm": algorithm }),
                None => Value::Null,
            };
            let live_statement = fleet_statement(live.policy.as_deref());
            let before = view(
                live_region,
                live.ownership.as_deref(),
                live.public_access_blocked,
                live_encryption.clone(),
                &live.fleet_lifecycle,
                live_statement.clone(),
            );
            let mut steps = Vec::new();
            if live.ownership.as_deref() != Some("BucketOwnerEnforced") {
                steps.push(Step::PutOwnershipControls);
            }
            if !live.public_access_blocked {
                steps.push(Step::PutPublicAccessBlock);
            }
            if live_encryption != encryption {
                steps.push(Step::PutEncryption {
                    kms_key_arn: options.kms_key_arn.clone(),
                });
            }
            let mut live_rules = live.fleet_lifecycle.clone();
            live_rules.sort();
            let mut wanted_rules = rules.clone();
            wanted_rules.sort();
            if live_rules != wanted_rules {
                steps.push(Step::PutLifecycleRules { rules });
            }
            if live_statement.as_ref().map(normalised) != Some(normalised(&statement)) {
                steps.push(Step::PutBucketPolicy {
                    policy: merge_statement(live.policy.as_deref(), &statement),
                });
            }
            (Some(before), after, steps)
        }
        (Live::LogGroup(live), Resource::LogGroup { .. }) => {
            let options = desired.log_group.clone().unwrap_or_default();
            let view = |retention: Option<u32>, kms: Option<&str>| json!({ "retention_in_days": retention, "kms_key_arn": kms });
            // No retention in the file: whatever the group has is kept.
            let retention = options.retention_in_days.or(live.retention_in_days);
            let kms = options.kms_key_arn.clone().or(live.kms_key_id.clone());
            let after = view(retention, kms.as_deref());
            if !live.exists {
                let mut steps = vec![Step::CreateLogGroup {
                    kms_key_arn: options.kms_key_arn.clone(),
                }];
                if let Some(days) = options.retention_in_days {
                    steps.push(Step::PutRetention { days });
                }
                return (None, after, steps);
            }
            let before = view(live.retention_in_days, live.kms_key_id.as_deref());
            let mut steps = Vec::new();
            if let Some(days) = options
                .retention_in_days
                .filter(|d| Some(*d) != live.retention_in_days)
            {
                steps.push(Step::PutRetention { days });
            }
            if let Some(key) = options
                .kms_key_arn
                .filter(|k| Some(k) != live.kms_key_id.as_ref())
            {
                steps.push(Step::AssociateKmsKey { kms_key_arn: key });
            }
            (Some(before), after, steps)
        }
        (Live::Role(live), Resource::Role { .. }) => {
            let statement = trust_statement(desired);
            let policy = role_policy(desired);
            let after = json!({
                "fleet_trust_statement": normalised(&statement),
                "fleet_policy": normalised(&policy),
            });
            let Some(trust) = &live.trust_policy else {
                return (
                    None,
                    after,
                    vec![
                        Step::CreateRole {
                            trust_policy: merge_statement(None, &statement),
                        },
                        Step::PutRolePolicy {
                            document: policy.to_string(),
                        },
                    ],
                );
            };
            let live_statement = fleet_statement(Some(trust));
            let live_policy = live
                .fleet_policy
                .as_deref()
                .and_then(|p| serde_json::from_str::<Value>(p).ok());
            let before = json!({
                "fleet_trust_statement": live_statement.as_ref().map(normalised),
                "fleet_policy": live_policy.as_ref().map(normalised),
            });
            let mut steps = Vec::new();
            if live_statement.as_ref().map(normalised) != Some(normalised(&statement)) {
                steps.push(Step::UpdateTrustPolicy {
                    trust_policy: merge_statement(Some(trust), &statement),
                });
            }
            if live_policy.as_ref().map(normalised) != Some(normalised(&policy)) {
                steps.push(Step::PutRolePolicy {
                    document: policy.to_string(),
                });
            }
            (Some(before), after, steps)
        }
        _ => unreachable!("a resource is read as its own kind"),
    }
}

/// The key prefix fleet's lifecycle rule expires: what Bedrock writes.
pub fn expiry_prefix(prefix: Option<&str>) -> String {
    match prefix {
        Some(prefix) => format!("{prefix}/AWSLogs/"),
        None => "AWSLogs/".to_owned(),
    }
}

/// Reads every managed resource of `targets` once and plans it.
pub async fn plan_destinations<A: ManagedApi, T: AsRef<Target> + Sync>(
    api: &A,
    targets: &[T],
    concurrency: usize,
    progress: &dyn Progress,
) -> Vec<ResourcePlan> {
    let resources = desired_resources(targets);
    progress.started(resources.len());
    let mut plans: Vec<(usize, ResourcePlan)> =
        futures::stream::iter(resources.into_iter().enumerate())
            .map(|(index, (desired, users))| async move {
                let at = super::plan::location(targets[users[0]].as_ref());
                let read = api
                    .read(at, &desired.resource)
                    .await
                    .map_err(|err| unreadable(&desired.resource, err))
                    .and_then(|live| in_region(&desired, live));
                let plan = match read {
                    Ok(live) => {
                        let (before, after, steps) = plan_resource(&desired, &live);
                        ResourcePlan {
                            desired,
                            targets: users,
                            before: Ok(before),
                            after,
                            steps,
                        }
                    }
                    Err(err) => ResourcePlan {
                        after: Value::Null,
                        desired,
                        targets: users,
                        before: Err(err),
                        steps: Vec::new(),
                    },
                };
                progress.advanced();
                (index, plan)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    progress.finished();
    plans.sort_unstable_by_key(|(index, _)| *index);
    plans.into_iter().map(|(_, plan)| plan).collect()
}

/// What applying one resource's steps did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceOutcome {
    /// Nothing to do.
    Unchanged,
    /// Every step written.
    Applied,
    Failed(ApiError),
}

/// Applies each resource's steps, in order, every resource once; returns the
/// outcome per resource (same order as `plans`).
pub async fn apply_destinations<A: ManagedApi, T: AsRef<Target> + Sync>(
    api: &A,
    plans: &[ResourcePlan],
    targets: &[T],
    concurrency: usize,
) -> Vec<ResourceOutcome> {
    futures::stream::iter(plans.iter())
        .map(|plan| async move {
            if let Err(err) = &plan.before {
                return ResourceOutcome::Failed(err.clone());
            }
            if plan.steps.is_empty() {
                return ResourceOutcome::Unchanged;
            }
            let at = super::plan::location(targets[plan.targets[0]].as_ref());
            for step in &plan.steps {
                if let Err(err) = api.write(at, &plan.desired.resource, step).await {
                    return ResourceOutcome::Failed(explain(&plan.desired.resource, err));
                }
            }
            ResourceOutcome::Applied
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// A bucket fleet may not read in its own account is most often a name that
/// another account holds (bucket names are global, and AWS answers 403 to
/// anyone but the owner): say so.
fn unreadable(resource: &Resource, err: ApiError) -> ApiError {
    match resource {
        Resource::Bucket { name, .. } if err.is_access_denied() => ApiError::new(
            err.code.clone(),
            format!(
                "{}; if fleet's role may read buckets, the name {name} belongs to another AWS account (bucket names are global): choose another bucket_name, e.g. one with {{account_id}} and {{region}} in it",
                err.message
            ),
        ),
        _ => err,
    }
}

/// A bucket found in another region cannot serve this one: AWS accepts only
/// destinations in the configuration's own region, and a bucket cannot move.
fn in_region(desired: &Desired, live: Live) -> Result<Live, ApiError> {
    if let (Resource::Bucket { name, region, .. }, Live::Bucket(bucket)) =
        (&desired.resource, &live)
        && let Some(found) = bucket.region.as_ref().filter(|found| *found != region)
    {
        return Err(ApiError::new(
            super::ErrorCode::BucketInAnotherRegion,
            format!(
                "bucket {name} exists in {found}, but the logging configuration of {region} can only deliver to a bucket in {region}; choose another bucket_name (with {{region}} in it)"
            ),
        ));
    }
    Ok(live)
}

/// The targets whose destinations failed, with why: no Put is made that
/// would point at them.
pub fn blocked_targets(
    plans: &[ResourcePlan],
    outcomes: &[ResourceOutcome],
) -> BTreeMap<usize, ApiError> {
    let mut blocked = BTreeMap::new();
    for (plan, outcome) in plans.iter().zip(outcomes) {
        if let ResourceOutcome::Failed(err) = outcome {
            for target in &plan.targets {
                blocked.entry(*target).or_insert_with(|| {
                    ApiError::new(
                        err.code.clone(),
                        format!("{}: {}", plan.desired.resource.label(), err.message),
                    )
                });
            }
        }
    }
    blocked
}

/// A bucket name somebody else holds is a fact about the name, not a
/// passing failure: say so and how to fix it.
fn explain(resource: &Resource, err: ApiError) -> ApiError {
    match (resource, err.code.aws()) {
        (Resource::Bucket { name, .. }, Some("BucketAlreadyExists")) => ApiError::new(
            err.code.clone(),
            format!(
                "the bucket name {name} is taken by another AWS account (bucket names are global); choose another bucket_name, e.g. one with {{account_id}} and {{region}} in it"
            ),
        ),
        (Resource::Bucket { name, .. }, Some("BucketAlreadyOwnedByYou")) => ApiError::new(
            err.code.clone(),
            format!(
                "this account already has a bucket named {name} in another region; a destination must be in the target's region, so choose another bucket_name (with {{region}} in it)"
            ),
        ),
        _ => err,
    }
}
