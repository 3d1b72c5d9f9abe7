//! Preflight: before writing, check that every destination of every target
//! that changes can actually receive logs, and say exactly what to fix.
//!
//! Facts (does the bucket exist, what does its policy say) come from a
//! [`DestinationApi`]; the checks here are pure, so they are tested without
//! AWS. Facts are read once per distinct resource, however many targets
//! share it.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::plan::{Action, Plan, location};
use super::{ApiError, Location, Progress};
use crate::fleet::{AccountId, Region, Target};

/// What the S3 calls said about a bucket. Each part may be unreadable
/// (typically for lack of permission), which is reported, not ignored.
#[derive(Clone, Debug)]
pub struct BucketFacts {
    /// The bucket's region, `None` when the bucket does not exist.
    pub region: Result<Option<String>, ApiError>,
    /// The bucket policy document, `None` when it has none.
    pub policy: Result<Option<String>, ApiError>,
    /// The object ownership setting, `None` when unset.
    pub ownership: Result<Option<String>, ApiError>,
    /// The default encryption: algorithm and KMS key, `None` when unset.
    pub encryption: Result<Option<(String, Option<String>)>, ApiError>,
}

/// A CloudWatch log group, `None` when it does not exist.
#[derive(Clone, Debug)]
pub struct LogGroupFacts {
    pub kms_key_id: Option<String>,
}

/// An IAM role: its trust policy and every policy document attached to it.
#[derive(Clone, Debug)]
pub struct RoleFacts {
    pub trust_policy: String,
    pub policies: Vec<String>,
}

/// The reads preflight makes, per account (and region for regional ones).
pub trait DestinationApi: Sync {
    fn bucket(&self, at: Location<'_>, bucket: &str) -> impl Future<Output = BucketFacts> + Send;
    fn log_group(
        &self,
        at: Location<'_>,
        name: &str,
    ) -> impl Future<Output = Result<Option<LogGroupFacts>, ApiError>> + Send;
    fn role(
        &self,
        at: Location<'_>,
        role_arn: &str,
    ) -> impl Future<Output = Result<Option<RoleFacts>, ApiError>> + Send;
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Logs would not be delivered.
    Problem,
    /// fleet could not check (usually a missing read permission).
    CannotCheck,
    /// Works, but needs something fleet cannot verify (a KMS key policy).
    Note,
}

/// One preflight finding about one destination of one target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// The resource, e.g. `s3://bucket` or an IAM role ARN.
    pub resource: String,
    pub problem: String,
    pub fix: String,
}

impl Finding {
    fn new(
        severity: Severity,
        resource: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            resource: resource.to_owned(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    fn cannot_check(resource: &str, what: &str, err: &ApiError) -> Finding {
        let fix = if err.is_access_denied() {
            "grant fleet's role the read permissions of `fleet policy` (fleet role policy)"
        } else if err.is_not_served() {
            "point AWS_ENDPOINT_URL at an endpoint that serves S3, IAM and CloudWatch Logs, or pass --preflight off"
        } else {
            "fix the cause of the error and plan again, or pass --preflight off"
        };
        Finding::new(
            Severity::CannotCheck,
            resource,
            format!("cannot check {what}: {}: {}", err.code, err.message),
            fix,
        )
    }

    /// Problems and unverifiable checks fail `--preflight strict`.
    pub fn blocks(&self) -> bool {
        self.severity != Severity::Note
    }
}

/// The services preflight reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    S3,
    CloudWatchLogs,
    Iam,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::S3 => "S3",
            Service::CloudWatchLogs => "CloudWatch Logs",
            Service::Iam => "IAM",
        })
    }
}

/// What a preflight run found about the endpoint itself, once for the run
/// rather than once per target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreflightReport {
    /// Services the endpoint does not serve: their checks were not made, and
    /// no target carries a finding for them.
    pub not_served: BTreeSet<Service>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Read {
    Bucket(AccountId, Region, String),
    LogGroup(AccountId, Region, String),
    Role(AccountId, String),
}

impl Read {
    fn service(&self) -> Service {
        match self {
            Read::Bucket(..) => Service::S3,
            Read::LogGroup(..) => Service::CloudWatchLogs,
            Read::Role(..) => Service::Iam,
        }
    }
}

enum Fact {
    Bucket(BucketFacts),
    LogGroup(Result<Option<LogGroupFacts>, ApiError>),
    Role(Result<Option<RoleFacts>, ApiError>),
}

impl Fact {
    /// Whether the endpoint answered that it does not serve this read.
    fn not_served(&self) -> bool {
        let served = |err: Option<&ApiError>| err.is_some_and(ApiError::is_not_served);
        match self {
            Fact::Bucket(facts) => {
                served(facts.region.as_ref().err())
                    || served(facts.policy.as_ref().err())
                    || served(facts.ownership.as_ref().err())
                    || served(facts.encryption.as_ref().err())
            }
            Fact::LogGroup(group) => served(group.as_ref().err()),
            Fact::Role(role) => served(role.as_ref().err()),
        }
    }
}

/// The destinations of a target that preflight reads.
fn reads(target: &Target) -> Vec<Read> {
    let Some(config) = &target.desired else {
        return Vec::new();
    };
    let (account, region) = (&target.account.id, &target.region);
    let managed = &target.managed;
    let mut out = Vec::new();
    // A destination fleet manages is planned, not checked: it will be made
    // right before the Put.
    let large = config
        .cloudwatch_config
        .as_ref()
        .and_then(|cw| cw.large_data_delivery_s3_config.as_ref());
    let buckets = [
        (config.s3_config.as_ref(), managed.bucket.is_some()),
        (large, managed.large_data_bucket.is_some()),
    ];
    for (s3, is_managed) in buckets {
        if let Some(s3) = s3.filter(|_| !is_managed) {
            out.push(Read::Bucket(
                account.clone(),
                region.clone(),
                s3.bucket_name.clone(),
            ));
        }
    }
    if let Some(cw) = &config.cloudwatch_config {
        if managed.log_group.is_none() {
            out.push(Read::LogGroup(
                account.clone(),
                region.clone(),
                cw.log_group_name.clone(),
            ));
        }
        if !managed.role {
            out.push(Read::Role(account.clone(), cw.role_arn.clone()));
        }
    }
    out
}

/// Checks the destinations of every target that plan will create or
/// update, and records the findings on the plan. Services the endpoint does
/// not serve are reported once, in the returned report, not per target.
pub async fn preflight<A: DestinationApi>(
    api: &A,
    plan: &mut Plan,
    concurrency: usize,
    progress: &dyn Progress,
) -> PreflightReport {
    let changing = |action: Option<Action>| matches!(action, Some(Action::Create | Action::Update));
    let mut wanted: BTreeSet<Read> = BTreeSet::new();
    let mut where_from: HashMap<Read, usize> = HashMap::new();
    for (index, target) in plan.targets.iter().enumerate() {
        if changing(target.action()) {
            for read in reads(&target.target) {
                where_from.entry(read.clone()).or_insert(index);
                wanted.insert(read);
            }
        }
    }
    progress.started(wanted.len());
    let targets = &plan.targets;
    let mut facts: HashMap<Read, Fact> = futures::stream::iter(wanted)
        .map(|read| {
            let at = location(&targets[where_from[&read]].target);
            async move {
                let fact = match &read {
                    Read::Bucket(_, _, bucket) => Fact::Bucket(api.bucket(at, bucket).await),
                    Read::LogGroup(_, _, name) => Fact::LogGroup(api.log_group(at, name).await),
                    Read::Role(_, arn) => Fact::Role(api.role(at, arn).await),
                };
                progress.advanced();
                (read, fact)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    progress.finished();
    let mut report = PreflightReport::default();
    facts.retain(|read, fact| {
        let served = !fact.not_served();
        if !served {
            report.not_served.insert(read.service());
        }
        served
    });
    for target in &mut plan.targets {
        if changing(target.action()) {
            target.preflight = check_target(&target.target, &facts);
        }
    }
    report
}

fn check_target(target: &Target, facts: &HashMap<Read, Fact>) -> Vec<Finding> {
    let Some(config) = &target.desired else {
        return Vec::new();
    };
    let (account, region) = (&target.account.id, &target.region);
    let mut findings = Vec::new();
    for s3 in config.buckets() {
        if let Some(Fact::Bucket(facts)) = facts.get(&Read::Bucket(
            account.clone(),
            region.clone(),
            s3.bucket_name.clone(),
        )) {
            check_bucket(
                &mut findings,
                facts,
                account,
                region,
                &s3.bucket_name,
                s3.key_prefix.as_deref(),
            );
        }
    }
    if let Some(cw) = &config.cloudwatch_config {
        if let Some(Fact::LogGroup(group)) = facts.get(&Read::LogGroup(
            account.clone(),
            region.clone(),
            cw.log_group_name.clone(),
        )) {
            check_log_group(&mut findings, group, region, &cw.log_group_name);
        }
        if let Some(Fact::Role(role)) = facts.get(&Read::Role(account.clone(), cw.role_arn.clone()))
        {
            check_role(
                &mut findings,
                role,
                account,
                region,
                &cw.role_arn,
                &cw.log_group_name,
            );
        }
    }
    findings.sort();
    findings.dedup();
    findings
}

/// The object ARN bedrock writes to, per DESIGN §1.
pub fn log_object_arn(
    partition: &str,
    bucket: &str,
    prefix: Option<&str>,
    account: &str,
) -> String {
    match prefix {
        Some(prefix) => format!(
            "arn:{partition}:s3:::{bucket}/{prefix}/AWSLogs/{account}/BedrockModelInvocationLogs/*"
        ),
        None => {
            format!("arn:{partition}:s3:::{bucket}/AWSLogs/{account}/BedrockModelInvocationLogs/*")
        }
    }
}

fn check_bucket(
    out: &mut Vec<Finding>,
    facts: &BucketFacts,
    account: &AccountId,
    region: &Region,
    bucket: &str,
    prefix: Option<&str>,
) {
    let resource = format!("s3://{bucket}");
    match &facts.region {
        Err(err) => out.push(Finding::cannot_check(&resource, "the bucket", err)),
        Ok(None) => {
            out.push(Finding::new(
                Severity::Problem,
                &resource,
                "the bucket does not exist",
                format!("create it in account {account}, region {region}, with the policy of `fleet policy --account {account} --region {region}`"),
            ));
            return;
        }
        Ok(Some(found)) if found != region.as_str() => {
            // Nothing else about this bucket matters: it cannot be used.
            out.push(Finding::new(
                Severity::Problem,
                &resource,
                format!("the bucket is in {found}, not in {region}"),
                format!("use a bucket in {region}: logging destinations must be in the configuration's region"),
            ));
            return;
        }
        Ok(Some(_)) => {}
    }
    let partition = region.partition();
    let object = log_object_arn(partition, bucket, prefix, account.as_str());
    let sample = object.trim_end_matches('*').to_owned() + "2026/01/01/00/log.json.gz";
    let source_arn = format!("arn:{partition}:bedrock:{region}:{account}:model-invocation");
    match &facts.policy {
        Err(err) => out.push(Finding::cannot_check(&resource, "the bucket policy", err)),
        Ok(None) => out.push(Finding::new(
            Severity::Problem,
            &resource,
            "the bucket has no policy, so bedrock.amazonaws.com cannot write to it",
            format!("add the statement of `fleet policy --account {account} --region {region}` allowing s3:PutObject on {object}"),
        )),
        Ok(Some(policy)) => {
            let context = Request {
                service: "bedrock.amazonaws.com",
                action: "s3:PutObject",
                resource: &sample,
                source_account: account.as_str(),
                source_arn: &source_arn,
            };
            if !allows(policy, &context) {
                out.push(Finding::new(
                    Severity::Problem,
                    &resource,
                    format!("the bucket policy does not let bedrock.amazonaws.com s3:PutObject on {object} for account {account}"),
                    format!("add the statement of `fleet policy --account {account} --region {region}` (check the key prefix in the resource and the aws:SourceAccount / aws:SourceArn conditions)"),
                ));
            }
        }
    }
    match &facts.ownership {
        Err(err) => out.push(Finding::cannot_check(&resource, "object ownership", err)),
        Ok(Some(setting)) if setting == "BucketOwnerEnforced" => {}
        Ok(setting) => out.push(Finding::new(
            Severity::Problem,
            &resource,
            format!(
                "object ownership is {}, not BucketOwnerEnforced",
                setting.as_deref().unwrap_or("unset")
            ),
            "set the bucket's object ownership to \"bucket owner enforced\" (ACLs disabled)",
        )),
    }
    match &facts.encryption {
        Err(err) => out.push(Finding::cannot_check(&resource, "default encryption", err)),
        Ok(Some((algorithm, key))) if algorithm.starts_with("aws:kms") => out.push(Finding::new(
            Severity::Note,
            &resource,
            format!("the bucket encrypts with SSE-KMS (key {})", key.as_deref().unwrap_or("aws/s3")),
            "the key policy must let bedrock.amazonaws.com use the key (kms:GenerateDataKey) with aws:SourceAccount and aws:SourceArn conditions",
        )),
        Ok(_) => {}
    }
}

fn check_log_group(
    out: &mut Vec<Finding>,
    group: &Result<Option<LogGroupFacts>, ApiError>,
    region: &Region,
    name: &str,
) {
    let resource = format!("log group {name}");
    match group {
        Err(err) => out.push(Finding::cannot_check(&resource, "the log group", err)),
        Ok(None) => out.push(Finding::new(
            Severity::Problem,
            &resource,
            "the log group does not exist (Bedrock does not create it)",
            format!("create log group {name} in {region}"),
        )),
        Ok(Some(LogGroupFacts {
            kms_key_id: Some(key),
        })) => out.push(Finding::new(
            Severity::Note,
            &resource,
            format!("the log group is encrypted with KMS key {key}"),
            format!("the key policy must let logs.{region}.amazonaws.com use the key"),
        )),
        Ok(Some(_)) => {}
    }
}

fn check_role(
    out: &mut Vec<Finding>,
    role: &Result<Option<RoleFacts>, ApiError>,
    account: &AccountId,
    region: &Region,
    role_arn: &str,
    log_group: &str,
) {
    let facts = match role {
        Err(err) => return out.push(Finding::cannot_check(role_arn, "the role", err)),
        Ok(None) => {
            return out.push(Finding::new(
                Severity::Problem,
                role_arn,
                "the role does not exist",
                format!("create it with the trust and permission policies of `fleet policy --account {account} --region {region}`"),
            ));
        }
        Ok(Some(facts)) => facts,
    };
    let trust = Request {
        service: "bedrock.amazonaws.com",
        action: "sts:AssumeRole",
        resource: role_arn,
        source_account: account.as_str(),
        source_arn: &format!(
            "arn:{}:bedrock:{region}:{account}:model-invocation",
            region.partition()
        ),
    };
    if !allows_trust(&facts.trust_policy, &trust) {
        out.push(Finding::new(
            Severity::Problem,
            role_arn,
            "the role does not trust bedrock.amazonaws.com",
            "add a trust statement letting the service principal bedrock.amazonaws.com sts:AssumeRole",
        ));
    }
    let stream = format!(
        "arn:{}:logs:{region}:{account}:log-group:{log_group}:log-stream:aws/bedrock/modelinvocations",
        region.partition()
    );
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        let request = Request {
            service: "",
            action,
            resource: &stream,
            source_account: account.as_str(),
            source_arn: "",
        };
        if !facts.policies.iter().any(|p| allows_identity(p, &request)) {
            out.push(Finding::new(
                Severity::Problem,
                role_arn,
                format!("the role's policies do not allow {action} on log group {log_group} in {region}"),
                format!(
                    "allow logs:CreateLogStream and logs:PutLogEvents on arn:{}:logs:{region}:{account}:log-group:{log_group}:*",
                    region.partition()
                ),
            ));
        }
    }
}

/// A request to evaluate against a policy.
struct Request<'a> {
    service: &'a str,
    action: &'a str,
    resource: &'a str,
    source_account: &'a str,
    source_arn: &'a str,
}

/// `*` and `?` wildcards, as IAM matches actions (case-insensitively) and
/// resources.
pub fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn statements(policy: &str) -> Vec<Value> {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return Vec::new();
    };
    match doc.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

fn principal_is_service(statement: &Value, service: &str) -> bool {
    match statement.get("Principal") {
        Some(Value::String(any)) => any == "*",
        Some(principal) => principal
            .get("Service")
            .is_some_and(|s| strings(s).contains(&service)),
        None => false,
    }
}

fn action_matches(statement: &Value, action: &str) -> bool {
    statement
        .get("Action")
        .is_some_and(|a| strings(a).iter().any(|p| wildcard(p, action, true)))
}

fn resource_matches(statement: &Value, resource: &str) -> bool {
    match statement.get("Resource") {
        Some(r) => strings(r).iter().any(|p| wildcard(p, resource, false)),
        // Trust policies have no Resource.
        None => true,
    }
}

/// Whether the conditions fleet knows hold; an operator it does not know
/// about is assumed to hold (the check is for mistakes, not a full engine).
fn conditions_hold(statement: &Value, request: &Request<'_>) -> bool {
    let Some(Value::Object(conditions)) = statement.get("Condition") else {
        return true;
    };
    for (operator, tests) in conditions {
        let Value::Object(tests) = tests else {
            continue;
        };
        for (key, expected) in tests {
            let actual = match key.to_ascii_lowercase().as_str() {
                "aws:sourceaccount" => request.source_account,
                "aws:sourcearn" => request.source_arn,
                _ => continue,
            };
            let expected = strings(expected);
            let holds = match operator.as_str() {
                "StringEquals" | "ArnEquals" => expected.contains(&actual),
                "StringLike" | "ArnLike" => expected.iter().any(|p| wildcard(p, actual, false)),
                _ => true,
            };
            if !holds {
                return false;
            }
        }
    }
    true
}

fn allowed_by(policy: &str, request: &Request<'_>, principal: bool) -> bool {
    statements(policy).iter().any(|statement| {
        statement.get("Effect").and_then(Value::as_str) == Some("Allow")
            && (!principal || principal_is_service(statement, request.service))
            && action_matches(statement, request.action)
            && resource_matches(statement, request.resource)
            && conditions_hold(statement, request)
    })
}

/// A resource policy (bucket policy) allowing a service principal.
fn allows(policy: &str, request: &Request<'_>) -> bool {
    allowed_by(policy, request, true)
}

fn allows_trust(policy: &str, request: &Request<'_>) -> bool {
    allowed_by(policy, request, true)
}

/// An identity policy attached to a role.
fn allows_identity(policy: &str, request: &Request<'_>) -> bool {
    allowed_by(policy, request, false)
}

#[cfg(test)]
mod tests;
