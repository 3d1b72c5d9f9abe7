//! Fault rules: which emulated AWS calls fail, how, and how often.
//!
//! A decision depends only on the seed, the rule's position, the call's
//! account, region and operation, and how many calls to that same account,
//! region and operation came before it. Concurrent requests to different
//! targets can interleave in any order without changing any target's fault
//! sequence, so a seeded run is reproducible.

use std::fmt;
use std::str::FromStr;

use globset::{Glob, GlobMatcher};

/// The grammar of a fault rule, shown in every parse error.
const GRAMMAR: &str = "\
expected KIND:RATE[:SCOPE[:OPERATIONS]]
  KIND        throttle | error500 | drop | slow | denied | iam_lag
  RATE        fraction of matching calls that fail: 0..1 (`0.3`) or a percentage (`30%`)
  SCOPE       glob on ACCOUNT/REGION, default `*/*` (`*/eu-west-1`, `222222222222/*`)
  OPERATIONS  comma-separated get, put, delete, assume_role, get_caller_identity,
              an S3, IAM or CloudWatch Logs call in snake case (create_bucket,
              get_bucket_policy, create_role, put_retention_policy, ...), or the
              lookup_events, get_metric_data, or the groups `bedrock` (the default), `sts`,
              `s3`, `iam`, `logs`, `cloudtrail`, `cloudwatch` and `*` (every operation)
examples: `throttle:0.3`, `denied:1:*/eu-west-1`, `error500:10%:222222222222/*:put`, `throttle:0.5::s3,logs`";

/// How an emulated call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// 429 `ThrottlingException` (STS: 400 `Throttling`).
    Throttle,
    /// 500 `InternalServerException` (STS: 500 `InternalFailure`).
    Error500,
    /// The TCP connection is closed without any response.
    Drop,
    /// The answer is delayed by `EmulatorOptions::slow_delay`, to trip client timeouts.
    Slow,
    /// 403 `AccessDeniedException`, as for a region not enabled in the account
    /// (STS: 403 `AccessDenied`).
    Denied,
    /// 400 `ValidationException` "Failed to validate permissions for log group
    /// …" (or "… for the S3 bucket …"), as AWS answers a Put while a new IAM
    /// role has not propagated yet. Applies to `put` only.
    IamLag,
}

impl FaultKind {
    /// The name used in fault rules and in `/_emulator/stats`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::Error500 => "error500",
            FaultKind::Drop => "drop",
            FaultKind::Slow => "slow",
            FaultKind::Denied => "denied",
            FaultKind::IamLag => "iam_lag",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which AWS service an operation belongs to: it decides the protocol of
/// the operation's errors and the group names of fault rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Service {
    Bedrock,
    Sts,
    S3,
    Iam,
    Logs,
    CloudTrail,
    CloudWatch,
}

impl Service {
    /// The group name in fault rules.
    fn group(self) -> &'static str {
        match self {
            Service::Bedrock => "bedrock",
            Service::Sts => "sts",
            Service::S3 => "s3",
            Service::Iam => "iam",
            Service::Logs => "logs",
            Service::CloudTrail => "cloudtrail",
            Service::CloudWatch => "cloudwatch",
        }
    }
}

/// One table of every emulated operation: the variant, the name fault rules
/// and `/_emulator/stats` use, the service, the IAM action (as an
/// access-denied message shows it) and whether the call changes state.
macro_rules! operations {
    ($($variant:ident => $name:literal, $service:ident, $action:literal, $writes:literal;)*) => {
        /// An emulated AWS operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Operation {
            $($variant,)*
        }

        impl Operation {
            pub(crate) const ALL: &'static [Operation] = &[$(Operation::$variant,)*];

            /// The name used in fault rules and in `/_emulator/stats`.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Operation::$variant => $name,)*
                }
            }

            pub(crate) fn service(self) -> Service {
                match self {
                    $(Operation::$variant => Service::$service,)*
                }
            }

            /// The IAM action name, as an access-denied message shows it.
            pub(crate) fn action(self) -> &'static str {
                match self {
                    $(Operation::$variant => $action,)*
                }
            }

            /// Whether the call changes state (for "nothing was written" checks).
            pub(crate) fn writes(self) -> bool {
                match self {
                    $(Operation::$variant => $writes,)*
                }
            }
        }
    };
}

operations! {
    Get => "get", Bedrock, "bedrock:GetModelInvocationLoggingConfiguration", false;
    Put => "put", Bedrock, "bedrock:PutModelInvocationLoggingConfiguration", true;
    Delete => "delete", Bedrock, "bedrock:DeleteModelInvocationLoggingConfiguration", true;
    AssumeRole => "assume_role", Sts, "sts:AssumeRole", false;
    GetCallerIdentity => "get_caller_identity", Sts, "sts:GetCallerIdentity", false;
    // S3's IAM actions are not always named like its API calls.
    CreateBucket => "create_bucket", S3, "s3:CreateBucket", true;
    DeleteBucket => "delete_bucket", S3, "s3:DeleteBucket", true;
    HeadBucket => "head_bucket", S3, "s3:ListBucket", false;
    GetBucketLocation => "get_bucket_location", S3, "s3:GetBucketLocation", false;
    GetBucketPolicy => "get_bucket_policy", S3, "s3:GetBucketPolicy", false;
    PutBucketPolicy => "put_bucket_policy", S3, "s3:PutBucketPolicy", true;
    DeleteBucketPolicy => "delete_bucket_policy", S3, "s3:DeleteBucketPolicy", true;
    GetBucketOwnershipControls => "get_bucket_ownership_controls", S3, "s3:GetBucketOwnershipControls", false;
    PutBucketOwnershipControls => "put_bucket_ownership_controls", S3, "s3:PutBucketOwnershipControls", true;
    DeleteBucketOwnershipControls => "delete_bucket_ownership_controls", S3, "s3:PutBucketOwnershipControls", true;
    GetPublicAccessBlock => "get_public_access_block", S3, "s3:GetBucketPublicAccessBlock", false;
    PutPublicAccessBlock => "put_public_access_block", S3, "s3:PutBucketPublicAccessBlock", true;
    DeletePublicAccessBlock => "delete_public_access_block", S3, "s3:PutBucketPublicAccessBlock", true;
    GetBucketEncryption => "get_bucket_encryption", S3, "s3:GetEncryptionConfiguration", false;
    PutBucketEncryption => "put_bucket_encryption", S3, "s3:PutEncryptionConfiguration", true;
    DeleteBucketEncryption => "delete_bucket_encryption", S3, "s3:PutEncryptionConfiguration", true;
    GetBucketLifecycleConfiguration => "get_bucket_lifecycle_configuration", S3, "s3:GetLifecycleConfiguration", false;
    PutBucketLifecycleConfiguration => "put_bucket_lifecycle_configuration", S3, "s3:PutLifecycleConfiguration", true;
    DeleteBucketLifecycle => "delete_bucket_lifecycle", S3, "s3:PutLifecycleConfiguration", true;
    CreateRole => "create_role", Iam, "iam:CreateRole", true;
    GetRole => "get_role", Iam, "iam:GetRole", false;
    DeleteRole => "delete_role", Iam, "iam:DeleteRole", true;
    UpdateAssumeRolePolicy => "update_assume_role_policy", Iam, "iam:UpdateAssumeRolePolicy", true;
    PutRolePolicy => "put_role_policy", Iam, "iam:PutRolePolicy", true;
    GetRolePolicy => "get_role_policy", Iam, "iam:GetRolePolicy", false;
    DeleteRolePolicy => "delete_role_policy", Iam, "iam:DeleteRolePolicy", true;
    ListRolePolicies => "list_role_policies", Iam, "iam:ListRolePolicies", false;
    ListAttachedRolePolicies => "list_attached_role_policies", Iam, "iam:ListAttachedRolePolicies", false;
    AttachRolePolicy => "attach_role_policy", Iam, "iam:AttachRolePolicy", true;
    DetachRolePolicy => "detach_role_policy", Iam, "iam:DetachRolePolicy", true;
    CreatePolicy => "create_policy", Iam, "iam:CreatePolicy", true;
    GetPolicy => "get_policy", Iam, "iam:GetPolicy", false;
    GetPolicyVersion => "get_policy_version", Iam, "iam:GetPolicyVersion", false;
    CreateLogGroup => "create_log_group", Logs, "logs:CreateLogGroup", true;
    DeleteLogGroup => "delete_log_group", Logs, "logs:DeleteLogGroup", true;
    DescribeLogGroups => "describe_log_groups", Logs, "logs:DescribeLogGroups", false;
    PutRetentionPolicy => "put_retention_policy", Logs, "logs:PutRetentionPolicy", true;
    DeleteRetentionPolicy => "delete_retention_policy", Logs, "logs:DeleteRetentionPolicy", true;
    AssociateKmsKey => "associate_kms_key", Logs, "logs:AssociateKmsKey", true;
    DisassociateKmsKey => "disassociate_kms_key", Logs, "logs:DisassociateKmsKey", true;
    LookupEvents => "lookup_events", CloudTrail, "cloudtrail:LookupEvents", false;
    GetMetricData => "get_metric_data", CloudWatch, "cloudwatch:GetMetricData", false;
}

impl Operation {
    pub(crate) fn is_sts(self) -> bool {
        self.service() == Service::Sts
    }

    /// STS and IAM are global: a region not enabled does not refuse them.
    pub(crate) fn is_global(self) -> bool {
        matches!(self.service(), Service::Sts | Service::Iam)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    fn bit(self) -> u64 {
        1 << self.index()
    }

    /// The operations of `service`, as a set of bits.
    fn of(service: Service) -> u64 {
        Operation::ALL
            .iter()
            .filter(|op| op.service() == service)
            .fold(0, |bits, op| bits | op.bit())
    }
}

const SERVICES: [Service; 7] = [
    Service::Bedrock,
    Service::Sts,
    Service::S3,
    Service::Iam,
    Service::Logs,
    Service::CloudTrail,
    Service::CloudWatch,
];

fn all_operations() -> u64 {
    Operation::ALL.iter().fold(0, |bits, op| bits | op.bit())
}

/// One fault switch: `KIND:RATE[:SCOPE[:OPERATIONS]]`.
///
/// - `KIND`: `throttle` (429 `ThrottlingException` "Too many requests, please
///   wait before trying again."), `error500` (500 `InternalServerException`),
///   `drop` (the connection is closed without a response), `slow` (the answer
///   waits `slow_delay`, 30 s by default, to trip client timeouts) or `denied`
///   (403 `AccessDeniedException`, as for a region not enabled in the account),
///   or `iam_lag` (400 `ValidationException` "Failed to validate permissions
///   for log group …", as right after a role was created; `put` only).
/// - `RATE`: the fraction of matching calls that fail, `0..=1` (`0.3`) or a
///   percentage (`30%`).
/// - `SCOPE`: a glob on `ACCOUNT/REGION`, default `*/*`: `*/eu-west-1`,
///   `222222222222/*`, `*/eu-*`. An empty scope (`throttle:1::put`) is `*/*`.
/// - `OPERATIONS`: comma-separated `get`, `put`, `delete`, `assume_role`,
///   `get_caller_identity`, the destination calls by their snake-case names
///   (`create_bucket`, `get_bucket_location`, `get_role`, `describe_log_groups`,
///   … see [`Operation`]), `lookup_events`, `get_metric_data`, or the groups
///   `bedrock` (the default: the three logging calls), `sts` (both STS
///   calls), `s3`, `iam`, `logs`, `cloudtrail`, `cloudwatch` and `*` (every
///   operation).
///
/// STS, S3, IAM and Logs calls are faulted only when a rule names them (their
/// group, `*`, or the operation itself), so the rules of a Bedrock benchmark
/// leave a destination's set-up alone. IAM is global: its calls are matched
/// against the region they are signed for. S3 and Logs are answered in their
/// own protocols: S3 throttling is 503 `SlowDown`, Logs' denial a 400
/// `AccessDeniedException`, as AWS answers. For `assume_role` the scope's ACCOUNT is the account of
/// the role being assumed (`denied:1:222222222222/*:assume_role` makes that
/// account unreachable); for every other call it is the caller's account.
///
/// Rules are tried in order and the first one that fires decides the fault.
#[derive(Debug, Clone)]
pub struct FaultRule {
    kind: FaultKind,
    rate: f64,
    scope: Option<GlobMatcher>,
    operations: u64,
}

impl FaultRule {
    /// How matching calls fail.
    pub fn kind(&self) -> FaultKind {
        self.kind
    }

    /// The fraction of matching calls that fail, in `0..=1`.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Whether this rule covers `operation` on `target` (`ACCOUNT/REGION`).
    pub(crate) fn covers(&self, operation: Operation, target: &str) -> bool {
        // Only a Put validates destinations, so only a Put can meet IAM lag.
        let operation_fits = self.kind != FaultKind::IamLag || operation == Operation::Put;
        operation_fits
            && self.operations & operation.bit() != 0
            && self.scope.as_ref().is_none_or(|glob| glob.is_match(target))
    }
}

impl PartialEq for FaultRule {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.rate == other.rate
            && self.operations == other.operations
            && self.scope.as_ref().map(|g| g.glob().glob())
                == other.scope.as_ref().map(|g| g.glob().glob())
    }
}

/// Why a fault rule did not parse; the message includes the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault rule `{rule}`: {reason}\n{GRAMMAR}")]
pub struct ParseFaultRuleError {
    rule: String,
    reason: String,
}

impl FromStr for FaultRule {
    type Err = ParseFaultRuleError;

    fn from_str(rule: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| ParseFaultRuleError {
            rule: rule.to_owned(),
            reason,
        };
        let mut parts = rule.trim().splitn(4, ':');
        let kind = match parts.next().unwrap_or_default() {
            "throttle" => FaultKind::Throttle,
            "error500" => FaultKind::Error500,
            "drop" => FaultKind::Drop,
            "slow" => FaultKind::Slow,
            "denied" => FaultKind::Denied,
            "iam_lag" => FaultKind::IamLag,
            "" => return Err(fail("the fault kind is missing".into())),
            other => return Err(fail(format!("unknown fault kind `{other}`"))),
        };
        let rate = match parts.next() {
            None | Some("") => return Err(fail("the rate is missing".into())),
            Some(text) => parse_rate(text).map_err(fail)?,
        };
        let scope = match parts.next() {
            None | Some("") | Some("*/*") | Some("*") => None,
            Some(text) => {
                if !text.contains('/') {
                    return Err(fail(format!(
                        "the scope `{text}` is not an ACCOUNT/REGION glob (try `{text}/*` or `*/{text}`)"
                    )));
                }
                let glob = Glob::new(text).map_err(|err| {
                    fail(format!("the scope `{text}` is not a valid glob: {err}"))
                })?;
                Some(glob.compile_matcher())
            }
        };
        let operations = match parts.next() {
            None | Some("") => Operation::of(Service::Bedrock),
            Some(text) => parse_operations(text).map_err(fail)?,
        };
        Ok(FaultRule {
            kind,
            rate,
            scope,
            operations,
        })
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(percent) => (percent, 100.0),
        None => (text, 1.0),
    };
    let rate = number
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("the rate `{text}` is not a number"))?
        / scale;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("the rate `{text}` is outside 0..1 (or 0%..100%)"));
    }
    Ok(rate)
}

fn parse_operations(text: &str) -> Result<u64, String> {
    let mut operations = 0;
    for name in text.split(',').map(str::trim) {
        operations |= match name {
            "*" | "all" => all_operations(),
            _ => match SERVICES.into_iter().find(|service| service.group() == name) {
                Some(service) => Operation::of(service),
                None => Operation::ALL
                    .iter()
                    .find(|op| op.name() == name)
                    .map(|op| op.bit())
                    .ok_or_else(|| format!("unknown operation `{name}`"))?,
            },
        };
    }
    Ok(operations)
}

impl fmt::Display for FaultRule {
    /// The canonical form, which parses back to an equal rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = self.scope.as_ref().map_or("*/*", |g| g.glob().glob());
        write!(f, "{}:{}:{scope}", self.kind, self.rate)?;
        if self.operations != Operation::of(Service::Bedrock) {
            let mut names: Vec<&str> = Vec::new();
            let mut rest = self.operations;
            if rest == all_operations() {
                names.push("*");
                rest = 0;
            }
            for service in SERVICES {
                let bits = Operation::of(service);
                if rest & bits == bits {
                    names.push(service.group());
                    rest &= !bits;
                }
            }
            names.extend(
                Operation::ALL
                    .iter()
                    .filter(|op| rest & op.bit() != 0)
                    .map(|op| op.name()),
            );
            write!(f, ":{}", names.join(","))?;
        }
        Ok(())
    }
}

/// The fault, if any, for the `nth` call (0-based) of `operation` to `account/region`.
///
/// `target` is `account/region`, passed in to save formatting it again.
pub(crate) fn decide(
    rules: &[FaultRule],
    seed: u64,
    target: &str,
    operation: Operation,
    nth: u64,
) -> Option<FaultKind> {
    let call = fnv1a(target.as_bytes()) ^ fnv1a(operation.name().as_bytes()).rotate_left(17);
    rules.iter().enumerate().find_map(|(index, rule)| {
        if !rule.covers(operation, target) {
            return None;
        }
        let mut x = splitmix64(seed);
        x = splitmix64(x ^ call);
        x = splitmix64(x ^ index as u64);
        x = splitmix64(x ^ nth);
        // 53 random bits give a uniform f64 in [0, 1); a rate of 1 always fires.
        let draw = (x >> 11) as f64 / (1u64 << 53) as f64;
        (draw < rule.rate).then_some(rule.kind)
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let rule: FaultRule = "throttle:0.3".parse().unwrap();
        assert_eq!(rule.kind(), FaultKind::Throttle);
        assert_eq!(rule.rate(), 0.3);
        assert!(rule.covers(Operation::Put, "111111111111/us-east-1"));
        assert!(!rule.covers(Operation::AssumeRole, "111111111111/us-east-1"));

        let rule: FaultRule = "denied:100%:*/eu-west-1".parse().unwrap();
        assert_eq!(rule.rate(), 1.0);
        assert!(rule.covers(Operation::Get, "111111111111/eu-west-1"));
        assert!(!rule.covers(Operation::Get, "111111111111/eu-west-2"));

        let rule: FaultRule = "error500:5%:222222222222/*:put,assume_role"
            .parse()
            .unwrap();
        assert!(rule.covers(Operation::Put, "222222222222/us-east-1"));
        assert!(rule.covers(Operation::AssumeRole, "222222222222/us-east-1"));
        assert!(!rule.covers(Operation::Get, "222222222222/us-east-1"));
        assert!(!rule.covers(Operation::Put, "111111111111/us-east-1"));

        let rule: FaultRule = "iam_lag:1".parse().unwrap();
        assert!(rule.covers(Operation::Put, "111111111111/us-east-1"));
        assert!(!rule.covers(Operation::Get, "111111111111/us-east-1"));

        let rule: FaultRule = "slow:1::*".parse().unwrap();
        assert!(rule.covers(Operation::GetCallerIdentity, "1/x"));
    }

    #[test]
    fn destination_calls_are_named_alone_or_by_service() {
        let rule: FaultRule = "throttle:1::s3,logs".parse().unwrap();
        assert!(rule.covers(Operation::CreateBucket, "1/x"));
        assert!(rule.covers(Operation::DescribeLogGroups, "1/x"));
        assert!(!rule.covers(Operation::GetRole, "1/x"));
        assert!(!rule.covers(Operation::Get, "1/x"));
        let rule: FaultRule = "denied:1::create_role,get_bucket_location".parse().unwrap();
        assert!(rule.covers(Operation::CreateRole, "1/x"));
        assert!(rule.covers(Operation::GetBucketLocation, "1/x"));
        assert!(!rule.covers(Operation::GetRole, "1/x"));
        // The default stays Bedrock's, and `*` now covers destinations too.
        let rule: FaultRule = "throttle:1".parse().unwrap();
        assert!(!rule.covers(Operation::CreateBucket, "1/x"));
        let rule: FaultRule = "throttle:1::*".parse().unwrap();
        assert!(rule.covers(Operation::PutRetentionPolicy, "1/x"));
        let rule: FaultRule = "denied:1::cloudtrail".parse().unwrap();
        assert!(rule.covers(Operation::LookupEvents, "1/x"));
        assert!(!rule.covers(Operation::Get, "1/x"));
        let names: std::collections::HashSet<&str> =
            Operation::ALL.iter().map(|op| op.name()).collect();
        assert_eq!(names.len(), Operation::ALL.len(), "names are unique");
        assert!(
            Operation::ALL.len() <= 64,
            "operations fit the rule's bit set"
        );
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "throttle:0.3:*/*",
            "denied:1:*/eu-west-1",
            "drop:0.25:222222222222/*:put,delete",
            "slow:1:*/*:*",
            "error500:0:*/us-*:sts",
            "throttle:0.5:*/*:s3,logs",
            "denied:1:*/*:iam,create_bucket",
            "drop:1:*/*:put,get_role",
        ] {
            let rule: FaultRule = text.parse().unwrap();
            assert_eq!(rule.to_string(), text);
            assert_eq!(rule.to_string().parse::<FaultRule>().unwrap(), rule);
        }
    }

    #[test]
    fn rejects_bad_rules_with_the_grammar() {
        for (text, reason) in [
            ("", "the fault kind is missing"),
            ("boom:0.5", "unknown fault kind `boom`"),
            ("throttle", "the rate is missing"),
            ("throttle:lots", "the rate `lots` is not a number"),
            ("throttle:1.5", "outside 0..1"),
            ("throttle:150%", "outside 0..1"),
            ("throttle:-0.1", "outside 0..1"),
            ("denied:1:eu-west-1", "not an ACCOUNT/REGION glob"),
            ("denied:1:*/[eu", "not a valid glob"),
            ("denied:1:*/*:list", "unknown operation `list`"),
        ] {
            let err = text.parse::<FaultRule>().unwrap_err().to_string();
            assert!(err.contains(reason), "{text}: {err}");
            assert!(err.contains("KIND:RATE[:SCOPE[:OPERATIONS]]"), "{err}");
        }
    }

    #[test]
    fn decisions_depend_on_the_seed_and_follow_the_rate() {
        let rules = vec!["throttle:0.3".parse().unwrap()];
        let sequence = |seed| -> Vec<bool> {
            (0..2000)
                .map(|n| {
                    decide(&rules, seed, "111111111111/us-east-1", Operation::Get, n).is_some()
                })
                .collect()
        };
        assert_eq!(sequence(7), sequence(7));
        assert_ne!(sequence(7), sequence(8));
        let fired = sequence(7).iter().filter(|&&f| f).count();
        assert!((500..700).contains(&fired), "{fired} of 2000 at rate 0.3");
    }
}
