//! A deliberately small IAM policy evaluation, for the checks Bedrock's Put
//! makes of its destinations: does a bucket policy let the service principal
//! `bedrock.amazonaws.com` `s3:PutObject` where the logs go, does a role
//! trust it, do the role's policies allow writing to the log group.
//!
//! Statements with `Effect`, `Principal` (`*`, `{"AWS": "*"}` or
//! `{"Service": …}`), `Action` and `Resource` (strings or lists, `*` and `?`
//! wildcards) are evaluated, and the `aws:SourceAccount` / `aws:SourceArn`
//! conditions under `StringEquals`, `StringLike`, `ArnEquals` and `ArnLike`
//! (`…IfExists` too). An explicit Deny wins over any Allow. A condition the
//! emulator does not evaluate is taken to hold on an Allow and not to hold on
//! a Deny, so an unknown condition never blocks a write on its own (a Deny of
//! insecure transport does not stop Bedrock, which writes over TLS).
//! `NotPrincipal`, `NotAction` and `NotResource` statements are not
//! evaluated. Permission boundaries, SCPs and KMS key policies are out of
//! scope, as they are for fleet's preflight.

use serde_json::Value;

/// The request a policy is asked about.
pub(crate) struct Request<'a> {
    /// The calling service principal; `None` for an identity policy, which
    /// has no `Principal`.
    pub(crate) service: Option<&'a str>,
    pub(crate) action: &'a str,
    /// `None` for a trust policy, which has no `Resource`.
    pub(crate) resource: Option<&'a str>,
    pub(crate) source_account: &'a str,
    pub(crate) source_arn: &'a str,
}

/// Whether `policy` (a JSON document) allows `request`.
pub(crate) fn allows(policy: &str, request: &Request<'_>) -> bool {
    let statements = statements(policy);
    let matches = |statement: &Value, effect: &str| {
        statement.get("Effect").and_then(Value::as_str) == Some(effect)
            && ["NotPrincipal", "NotAction", "NotResource"]
                .iter()
                .all(|key| statement.get(*key).is_none())
            && request
                .service
                .is_none_or(|service| principal_matches(statement, service))
            && action_matches(statement, request.action)
            && request
                .resource
                .is_none_or(|resource| resource_matches(statement, resource))
            && conditions_hold(statement, request, effect == "Allow")
    };
    statements.iter().any(|s| matches(s, "Allow")) && !statements.iter().any(|s| matches(s, "Deny"))
}

/// The statements of a document, a single statement object included.
pub(crate) fn statements(policy: &str) -> Vec<Value> {
    let Ok(document) = serde_json::from_str::<Value>(policy) else {
        return Vec::new();
    };
    match document.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

/// A string or a list of strings.
pub(crate) fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether the statement's principal is everyone, which is what S3's Block
/// Public Access looks for.
pub(crate) fn principal_is_everyone(statement: &Value) -> bool {
    match statement.get("Principal") {
        Some(Value::String(any)) => any == "*",
        Some(principal) => principal
            .get("AWS")
            .is_some_and(|aws| strings(aws).contains(&"*")),
        None => false,
    }
}

fn principal_matches(statement: &Value, service: &str) -> bool {
    principal_is_everyone(statement)
        || statement
            .get("Principal")
            .and_then(|principal| principal.get("Service"))
            .is_some_and(|services| strings(services).contains(&service))
}

fn action_matches(statement: &Value, action: &str) -> bool {
    statement.get("Action").is_some_and(|actions| {
        strings(actions)
            .iter()
            .any(|pattern| wildcard(pattern, action, true))
    })
}

fn resource_matches(statement: &Value, resource: &str) -> bool {
    statement.get("Resource").is_some_and(|resources| {
        strings(resources)
            .iter()
            .any(|pattern| wildcard(pattern, resource, false))
    })
}

fn conditions_hold(statement: &Value, request: &Request<'_>, unknown_holds: bool) -> bool {
    let Some(conditions) = statement.get("Condition") else {
        return true;
    };
    let Value::Object(conditions) = conditions else {
        return unknown_holds;
    };
    conditions.iter().all(|(operator, tests)| {
        let Value::Object(tests) = tests else {
            return unknown_holds;
        };
        let operator = operator.strip_suffix("IfExists").unwrap_or(operator);
        tests.iter().all(|(key, expected)| {
            let actual = match key.to_ascii_lowercase().as_str() {
                "aws:sourceaccount" => request.source_account,
                "aws:sourcearn" => request.source_arn,
                _ => return unknown_holds,
            };
            let expected = strings(expected);
            match operator {
                "StringEquals" | "ArnEquals" => expected.contains(&actual),
                "StringLike" | "ArnLike" => expected
                    .iter()
                    .any(|pattern| wildcard(pattern, actual, false)),
                _ => unknown_holds,
            }
        })
    })
}

/// `*` and `?` wildcards; actions compare case-insensitively, as IAM does.
pub(crate) fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if ignore_case {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (fold(pattern), fold(text));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bedrock_put<'a>(resource: &'a str) -> Request<'a> {
        Request {
            service: Some("bedrock.amazonaws.com"),
            action: "s3:PutObject",
            resource: Some(resource),
            source_account: "111111111111",
            source_arn: "arn:aws:bedrock:eu-west-1:111111111111:model-invocation-logging",
        }
    }

    const OBJECT: &str =
        "arn:aws:s3:::logs/p/AWSLogs/111111111111/BedrockModelInvocationLogs/eu-west-1/x.json.gz";

    #[test]
    fn allow_statements_with_conditions() {
        let policy = r#"{"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::logs/p/AWSLogs/111111111111/BedrockModelInvocationLogs/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"},
                          "ArnLike": {"aws:SourceArn": "arn:aws:bedrock:eu-west-1:111111111111:*"}}}]}"#;
        assert!(allows(policy, &bedrock_put(OBJECT)));
        let elsewhere = "arn:aws:s3:::logs/other/AWSLogs/111111111111/BedrockModelInvocationLogs/x";
        assert!(!allows(policy, &bedrock_put(elsewhere)));
        let mut other_account = bedrock_put(OBJECT);
        other_account.source_account = "222222222222";
        assert!(!allows(policy, &other_account));
        let mut other_service = bedrock_put(OBJECT);
        other_service.service = Some("logs.amazonaws.com");
        assert!(!allows(policy, &other_service));
        assert!(allows(
            r#"{"Statement": {"Effect": "Allow", "Principal": {"Service": ["x", "bedrock.amazonaws.com"]}, "Action": "s3:*", "Resource": "arn:aws:s3:::logs/*"}}"#,
            &bedrock_put(OBJECT)
        ));
        assert!(!allows("not json", &bedrock_put(OBJECT)));
    }

    #[test]
    fn a_deny_wins_but_an_unknown_condition_does_not_deny() {
        let allow = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*"}"#;
        let deny_all = r#"{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::logs/*"}"#;
        let deny_insecure = r#"{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::logs/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}"#;
        let policy =
            |statements: &[&str]| format!(r#"{{"Statement": [{}]}}"#, statements.join(","));
        assert!(!allows(&policy(&[allow, deny_all]), &bedrock_put(OBJECT)));
        assert!(allows(
            &policy(&[allow, deny_insecure]),
            &bedrock_put(OBJECT)
        ));
    }

    #[test]
    fn trust_and_identity_policies() {
        let trust = r#"{"Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
        let request = Request {
            service: Some("bedrock.amazonaws.com"),
            action: "sts:AssumeRole",
            resource: None,
            source_account: "111111111111",
            source_arn: "arn:aws:bedrock:us-east-1:111111111111:model-invocation-logging",
        };
        assert!(allows(trust, &request));
        let identity = r#"{"Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:putlogevents"], "Resource": "arn:aws:logs:us-east-1:111111111111:log-group:g:*"}]}"#;
        let write = Request {
            service: None,
            action: "logs:PutLogEvents",
            resource: Some("arn:aws:logs:us-east-1:111111111111:log-group:g:log-stream:s"),
            source_account: "111111111111",
            source_arn: "",
        };
        assert!(allows(identity, &write));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("a*c", "abbbc", false));
        assert!(wildcard("a?c", "abc", false));
        assert!(!wildcard("a?c", "abbc", false));
        assert!(wildcard("S3:put*", "s3:PutObject", true));
        assert!(!wildcard("S3:put*", "s3:PutObject", false));
    }
}
