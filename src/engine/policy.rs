//! The IAM documents a logging profile needs, ready to paste: the bucket
//! policy, the CloudWatch role's trust and permissions, and fleet's own role.

use serde_json::{Value, json};

use super::preflight::log_object_arn;
use crate::logging::LoggingConfig;

/// The values a policy is written for; placeholders stay as they are when
/// no account and region are given.
#[derive(Clone, Copy)]
pub struct PolicyScope<'a> {
    pub partition: &'a str,
    pub account: &'a str,
    pub region: &'a str,
}

impl PolicyScope<'static> {
    /// Every account and region of a profile: its placeholders as written.
    pub const PLACEHOLDERS: PolicyScope<'static> = PolicyScope {
        partition: crate::fleet::Placeholders::LITERAL.partition,
        account: crate::fleet::Placeholders::LITERAL.account_id,
        region: crate::fleet::Placeholders::LITERAL.region,
    };
}

/// One named document.
pub struct Document {
    pub title: String,
    pub body: Value,
}

/// The conditions that limit the bedrock service principal to this
/// account's configurations in this region.
fn bedrock_source(scope: &PolicyScope<'_>) -> Value {
    let PolicyScope {
        partition,
        account,
        region,
    } = scope;
    json!({
        "StringEquals": { "aws:SourceAccount": account },
        "ArnLike": { "aws:SourceArn": format!("arn:{partition}:bedrock:{region}:{account}:*") }
    })
}

/// The bucket policy that lets Bedrock deliver logs to `bucket`.
pub fn bucket_policy(scope: &PolicyScope<'_>, bucket: &str, prefix: Option<&str>) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AmazonBedrockLogsWrite",
            "Effect": "Allow",
            "Principal": { "Service": "bedrock.amazonaws.com" },
            "Action": ["s3:PutObject"],
            "Resource": [log_object_arn(scope.partition, bucket, prefix, scope.account)],
            "Condition": bedrock_source(scope)
        }]
    })
}

/// The trust policy of the role Bedrock uses to write to CloudWatch Logs.
/// A role whose ARN has no `{region}` serves every region of its account,
/// so its trust must not be bound to one region.
pub fn cloudwatch_trust_policy(scope: &PolicyScope<'_>, per_region: bool) -> Value {
    let any_region = PolicyScope {
        region: "*",
        ..*scope
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "bedrock.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": bedrock_source(if per_region { scope } else { &any_region })
        }]
    })
}

/// The permission policy of that role.
pub fn cloudwatch_permission_policy(scope: &PolicyScope<'_>, log_group: &str) -> Value {
    let PolicyScope {
        partition,
        account,
        region,
    } = scope;
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:{partition}:logs:{region}:{account}:log-group:{log_group}:*")
        }]
    })
}

/// What fleet creates and keeps, by ARN, for its own role's write actions.
#[derive(Default)]
pub struct ManagedArns {
    pub buckets: Vec<String>,
    pub log_groups: Vec<String>,
    pub roles: Vec<String>,
}

/// The policy fleet's own role needs in each account: the three Bedrock
/// calls, passing the CloudWatch roles, preflight's reads, and the writes of
/// the destinations it manages, each on those resources only.
pub fn fleet_role_policy(cloudwatch_roles: &[String], managed: &ManagedArns) -> Value {
    let mut statements = vec![
        json!({
            "Sid": "BedrockLoggingConfiguration",
            "Effect": "Allow",
            "Action": [
                "bedrock:GetModelInvocationLoggingConfiguration",
                "bedrock:PutModelInvocationLoggingConfiguration",
                "bedrock:DeleteModelInvocationLoggingConfiguration"
            ],
            "Resource": "*"
        }),
        json!({
            "Sid": "PreflightReads",
            "Effect": "Allow",
            "Action": [
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:GetBucketPolicy",
                "s3:GetBucketOwnershipControls",
                "s3:GetEncryptionConfiguration",
                "logs:DescribeLogGroups",
                "iam:GetRole",
                "iam:ListRolePolicies",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:GetPolicy",
                "iam:GetPolicyVersion"
            ],
            "Resource": "*"
        }),
    ];
    if !managed.buckets.is_empty() {
        statements.push(json!({
            "Sid": "ManagedLoggingBuckets",
            "Effect": "Allow",
            "Action": [
                "s3:CreateBucket",
                "s3:GetBucketPublicAccessBlock",
                "s3:GetLifecycleConfiguration",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration"
            ],
            "Resource": managed.buckets
        }));
    }
    if !managed.log_groups.is_empty() {
        statements.push(json!({
            "Sid": "ManagedLoggingLogGroups",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:AssociateKmsKey"],
            "Resource": managed.log_groups
        }));
    }
    if !managed.roles.is_empty() {
        statements.push(json!({
            "Sid": "ManagedLoggingRoles",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy"
            ],
            "Resource": managed.roles
        }));
    }
    // `fleet audit --to-security-hub`: fleet's findings, in the account's
    // own Security Hub (its `default` product).
    statements.push(json!({
        "Sid": "SecurityHubFindings",
        "Effect": "Allow",
        "Action": ["securityhub:GetFindings", "securityhub:BatchImportFindings"],
        "Resource": "*"
    }));
    // `fleet audit`: who changed logging (CloudTrail) and whether Bedrock
    // is used where nothing logs (CloudWatch metrics). Neither action
    // supports resource-level permissions.
    statements.push(json!({
        "Sid": "AuditAttributionAndUsage",
        "Effect": "Allow",
        "Action": ["cloudtrail:LookupEvents", "cloudwatch:GetMetricData"],
        "Resource": "*"
    }));
    if !cloudwatch_roles.is_empty() {
        statements.push(json!({
            "Sid": "PassTheCloudWatchLoggingRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": cloudwatch_roles,
            "Condition": { "StringEquals": { "iam:PassedToService": "bedrock.amazonaws.com" } }
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Every document a profile's configuration needs. `role_per_region`: the
/// role ARN names the region (`{region}`), so each region has its own role.
pub fn profile_documents(
    scope: &PolicyScope<'_>,
    config: &LoggingConfig,
    role_per_region: bool,
) -> Vec<Document> {
    let mut out = Vec::new();
    let buckets = config
        .s3_config
        .iter()
        .map(|s3| ("S3 bucket policy", s3))
        .chain(
            config
                .cloudwatch_config
                .iter()
                .filter_map(|cw| cw.large_data_delivery_s3_config.as_ref())
                .map(|s3| ("S3 bucket policy (large data)", s3)),
        );
    for (what, s3) in buckets {
        out.push(Document {
            title: format!("{what} for {}", s3.bucket_name),
            body: bucket_policy(scope, &s3.bucket_name, s3.key_prefix.as_deref()),
        });
    }
    if let Some(cw) = &config.cloudwatch_config {
        out.push(Document {
            title: format!("CloudWatch role trust policy for {}", cw.role_arn),
            body: cloudwatch_trust_policy(scope, role_per_region),
        });
        out.push(Document {
            title: format!("CloudWatch role permission policy for {}", cw.role_arn),
            body: cloudwatch_permission_policy(scope, &cw.log_group_name),
        });
    }
    out
}

/// The most characters AWS Organizations accepts in a service control
/// policy (whitespace counts, so the policy is printed compact).
pub const SCP_LIMIT: usize = 5120;

/// Placeholders become `*`: one SCP covers every account and region.
fn wildcard(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The longest common prefix of `values`, then `*`.
fn common_prefix(values: &[String]) -> String {
    let Some(first) = values.first() else {
        return "*".to_owned();
    };
    let mut prefix = first.as_str();
    for value in &values[1..] {
        while !value.starts_with(prefix) {
            prefix = &prefix[..prefix.len() - 1];
        }
    }
    format!("{prefix}*")
}

/// A service control policy that denies changing or deleting Bedrock
/// invocation logging, and weakening the destinations fleet manages, to
/// every principal but fleet's roles (and a break-glass role). Returns the
/// policy and whether resources had to be widened to fit [`SCP_LIMIT`].
pub fn lock_scp(
    fleet_roles: &[String],
    break_glass: Option<&str>,
    managed: &ManagedArns,
) -> (Value, bool) {
    let mut exempt: Vec<String> = fleet_roles
        .iter()
        .map(|name| format!("arn:*:iam::*:role/{name}"))
        .collect();
    if let Some(name) = break_glass {
        exempt.push(format!("arn:*:iam::*:role/{name}"));
    }
    let condition = json!({ "ArnNotLike": { "aws:PrincipalArn": exempt } });
    let resources = |arns: &[String]| -> Vec<String> {
        let mut out: Vec<String> = arns.iter().map(|a| wildcard(a)).collect();
        out.sort();
        out.dedup();
        out
    };
    let groups = [
        (
            "ProtectManagedLoggingBuckets",
            vec![
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
                "s3:PutBucketPolicy",
                "s3:PutLifecycleConfiguration",
                "s3:PutBucketOwnershipControls",
                "s3:PutEncryptionConfiguration",
            ],
            resources(&managed.buckets),
        ),
        (
            "ProtectManagedLoggingLogGroups",
            vec![
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:DisassociateKmsKey",
            ],
            resources(&managed.log_groups),
        ),
        (
            "ProtectManagedLoggingRoles",
            vec![
                "iam:DeleteRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:AttachRolePolicy",
                "iam:DetachRolePolicy",
            ],
            resources(&managed.roles),
        ),
    ];
    let build = |widen: bool| {
        let mut statements = vec![json!({
            "Sid": "ProtectBedrockInvocationLogging",
            "Effect": "Deny",
            "Action": [
                "bedrock:PutModelInvocationLoggingConfiguration",
                "bedrock:DeleteModelInvocationLoggingConfiguration"
            ],
            "Resource": "*",
            "Condition": condition
        })];
        for (sid, actions, arns) in &groups {
            if arns.is_empty() {
                continue;
            }
            let resource = if widen {
                json!(common_prefix(arns))
            } else {
                json!(arns)
            };
            statements.push(json!({
                "Sid": sid,
                "Effect": "Deny",
                "Action": actions,
                "Resource": resource,
                "Condition": condition
            }));
        }
        json!({ "Version": "2012-10-17", "Statement": statements })
    };
    let exact = build(false);
    if exact.to_string().len() <= SCP_LIMIT {
        return (exact, false);
    }
    (build(true), true)
}
