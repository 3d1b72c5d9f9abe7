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
              or the groups `bedrock` (the default), `sts` and `*` (every operation)
examples: `throttle:0.3`, `denied:1:*/eu-west-1`, `error500:10%:222222222222/*:put`";

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

/// An emulated AWS operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Operation {
    Get,
    Put,
    Delete,
    AssumeRole,
    GetCallerIdentity,
}

impl Operation {
    pub(crate) const ALL: [Operation; 5] = [
        Operation::Get,
        Operation::Put,
        Operation::Delete,
        Operation::AssumeRole,
        Operation::GetCallerIdentity,
    ];

    /// The name used in fault rules and in `/_emulator/stats`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::Get => "get",
            Operation::Put => "put",
            Operation::Delete => "delete",
            Operation::AssumeRole => "assume_role",
            Operation::GetCallerIdentity => "get_caller_identity",
        }
    }

    /// The IAM action name, as an access-denied message shows it.
    pub(crate) fn action(self) -> &'static str {
        match self {
            Operation::Get => "bedrock:GetModelInvocationLoggingConfiguration",
            Operation::Put => "bedrock:PutModelInvocationLoggingConfiguration",
            Operation::Delete => "bedrock:DeleteModelInvocationLoggingConfiguration",
            Operation::AssumeRole => "sts:AssumeRole",
            Operation::GetCallerIdentity => "sts:GetCallerIdentity",
        }
    }

    pub(crate) fn is_sts(self) -> bool {
        matches!(self, Operation::AssumeRole | Operation::GetCallerIdentity)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    fn bit(self) -> u8 {
        1 << self.index()
    }
}

const BEDROCK_OPERATIONS: u8 = 0b00111;
const STS_OPERATIONS: u8 = 0b11000;
const ALL_OPERATIONS: u8 = BEDROCK_OPERATIONS | STS_OPERATIONS;

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
///   `get_caller_identity`, or the groups `bedrock` (the default: the three
///   logging calls), `sts` (both STS calls) and `*` (every operation).
///
/// STS calls are faulted only when a rule names them (`sts`, `*`, or the
/// operation itself). For `assume_role` the scope's ACCOUNT is the account of
/// the role being assumed (`denied:1:222222222222/*:assume_role` makes that
/// account unreachable); for every other call it is the caller's account.
///
/// Rules are tried in order and the first one that fires decides the fault.
#[derive(Debug, Clone)]
pub struct FaultRule {
    kind: FaultKind,
    rate: f64,
    scope: Option<GlobMatcher>,
    operations: u8,
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
            None | Some("") => BEDROCK_OPERATIONS,
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

fn parse_operations(text: &str) -> Result<u8, String> {
    let mut operations = 0;
    for name in text.split(',').map(str::trim) {
        operations |= match name {
            "*" | "all" => ALL_OPERATIONS,
            "bedrock" => BEDROCK_OPERATIONS,
            "sts" => STS_OPERATIONS,
            _ => Operation::ALL
                .into_iter()
                .find(|op| op.name() == name)
                .map(Operation::bit)
                .ok_or_else(|| format!("unknown operation `{name}`"))?,
        };
    }
    Ok(operations)
}

impl fmt::Display for FaultRule {
    /// The canonical form, which parses back to an equal rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = self.scope.as_ref().map_or("*/*", |g| g.glob().glob());
        write!(f, "{}:{}:{scope}", self.kind, self.rate)?;
        if self.operations != BEDROCK_OPERATIONS {
            let names: Vec<&str> = match self.operations {
                ALL_OPERATIONS => vec!["*"],
                STS_OPERATIONS => vec!["sts"],
                bits => Operation::ALL
                    .into_iter()
                    .filter(|op| bits & op.bit() != 0)
                    .map(Operation::name)
                    .collect(),
            };
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
    fn display_round_trips() {
        for text in [
            "throttle:0.3:*/*",
            "denied:1:*/eu-west-1",
            "drop:0.25:222222222222/*:put,delete",
            "slow:1:*/*:*",
            "error500:0:*/us-*:sts",
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
