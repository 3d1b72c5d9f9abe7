//! The checks against hand-made facts.

#![allow(clippy::field_reassign_with_default)]

use std::collections::HashMap;

use super::*;
use crate::engine::{NoProgress, plan_targets};
use crate::fleet;

const FLEET: &str = r#"
[fleet]
regions = ["us-east-1"]
role_name = "Admin"

[profiles.p.s3_config]
bucket_name = "logs-{account_id}"
key_prefix = "bedrock"

[profiles.p.cloudwatch_config]
log_group_name = "/aws/bedrock"
role_arn = "arn:aws:iam::{account_id}:role/logging"

[[accounts]]
id = "111111111111"
profile = "p"
"#;

fn good_bucket_policy(prefix: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::logs-111111111111/{prefix}/AWSLogs/111111111111/BedrockModelInvocationLogs/*"),
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "111111111111"},
                "ArnLike": {"aws:SourceArn": "arn:aws:bedrock:us-east-1:111111111111:*"}
            }
        }]
    })
    .to_string()
}

fn good_role() -> RoleFacts {
    RoleFacts {
        trust_policy: r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#.into(),
        policies: vec![r#"{"Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:111111111111:log-group:/aws/bedrock:*"}]}"#.into()],
    }
}

#[derive(Clone)]
struct Facts {
    bucket: BucketFacts,
    group: Result<Option<LogGroupFacts>, ApiError>,
    role: Result<Option<RoleFacts>, ApiError>,
}

impl Default for Facts {
    fn default() -> Self {
        Facts {
            bucket: BucketFacts {
                region: Ok(Some("us-east-1".into())),
                policy: Ok(Some(good_bucket_policy("bedrock"))),
                ownership: Ok(Some("BucketOwnerEnforced".into())),
                encryption: Ok(None),
            },
            group: Ok(Some(LogGroupFacts { kms_key_id: None })),
            role: Ok(Some(good_role())),
        }
    }
}

struct FakeDestinations {
    facts: Facts,
    calls: std::sync::Mutex<HashMap<String, usize>>,
}

impl FakeDestinations {
    fn count(&self, what: &str) {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(what.to_owned())
            .or_default() += 1;
    }
}

impl DestinationApi for FakeDestinations {
    async fn bucket(&self, _at: Location<'_>, _bucket: &str) -> BucketFacts {
        self.count("bucket");
        self.facts.bucket.clone()
    }
    async fn log_group(
        &self,
        _at: Location<'_>,
        _name: &str,
    ) -> Result<Option<LogGroupFacts>, ApiError> {
        self.count("log_group");
        self.facts.group.clone()
    }
    async fn role(&self, _at: Location<'_>, _arn: &str) -> Result<Option<RoleFacts>, ApiError> {
        self.count("role");
        self.facts.role.clone()
    }
}

async fn findings(facts: Facts) -> Vec<Finding> {
    let fleet = fleet::parse("fleet.toml", FLEET.to_owned()).unwrap().fleet;
    let api = crate::engine::fake::FakeApi::default();
    let mut plan = plan_targets(&api, fleet.targets.clone(), 1, &NoProgress).await;
    let destinations = FakeDestinations {
        facts,
        calls: Default::default(),
    };
    preflight(&destinations, &mut plan, 4, &NoProgress).await;
    plan.targets.remove(0).preflight
}

fn problems(found: &[Finding]) -> Vec<&str> {
    found.iter().map(|f| f.problem.as_str()).collect()
}

#[tokio::test]
async fn a_correct_setup_has_no_finding() {
    assert_eq!(findings(Facts::default()).await, vec![]);
}

#[tokio::test]
async fn each_problem_is_named() {
    let mut facts = Facts::default();
    facts.bucket.region = Ok(None);
    assert_eq!(
        problems(&findings(facts).await),
        ["the bucket does not exist"]
    );

    let mut facts = Facts::default();
    facts.bucket.region = Ok(Some("eu-west-1".into()));
    assert_eq!(
        problems(&findings(facts).await),
        ["the bucket is in eu-west-1, not in us-east-1"]
    );

    let mut facts = Facts::default();
    facts.bucket.policy = Ok(Some(good_bucket_policy("elsewhere")));
    let found = findings(facts).await;
    assert!(problems(&found)[0].starts_with("the bucket policy does not let bedrock.amazonaws.com s3:PutObject on arn:aws:s3:::logs-111111111111/bedrock/AWSLogs/111111111111/BedrockModelInvocationLogs/*"), "{found:?}");

    let mut facts = Facts::default();
    facts.bucket.policy = Ok(Some(
        good_bucket_policy("bedrock").replace("bedrock.amazonaws.com", "logs.amazonaws.com"),
    ));
    assert_eq!(findings(facts).await.len(), 1);

    let mut facts = Facts::default();
    facts.bucket.policy = Ok(Some(good_bucket_policy("bedrock").replace(
        "\"aws:SourceAccount\":\"111111111111\"",
        "\"aws:SourceAccount\":\"222222222222\"",
    )));
    assert_eq!(
        findings(facts).await.len(),
        1,
        "a condition for another account"
    );

    let mut facts = Facts::default();
    facts.bucket.ownership = Ok(Some("ObjectWriter".into()));
    assert_eq!(
        problems(&findings(facts).await),
        ["object ownership is ObjectWriter, not BucketOwnerEnforced"]
    );

    let mut facts = Facts::default();
    facts.group = Ok(None);
    assert_eq!(
        problems(&findings(facts).await),
        ["the log group does not exist (Bedrock does not create it)"]
    );

    let mut facts = Facts::default();
    facts.role = Ok(None);
    assert_eq!(
        problems(&findings(facts).await),
        ["the role does not exist"]
    );

    let mut facts = Facts::default();
    facts.role = Ok(Some(RoleFacts {
        trust_policy: "{}".into(),
        ..good_role()
    }));
    assert_eq!(
        problems(&findings(facts).await),
        ["the role does not trust bedrock.amazonaws.com"]
    );

    let mut facts = Facts::default();
    facts.role = Ok(Some(RoleFacts {
        policies: vec![],
        ..good_role()
    }));
    assert_eq!(
        findings(facts).await.len(),
        2,
        "both log actions are missing"
    );
}

#[tokio::test]
async fn unreadable_facts_are_reported_and_kms_is_a_note() {
    let mut facts = Facts::default();
    facts.bucket.policy = Err(ApiError::new("AccessDenied", "no s3:GetBucketPolicy"));
    facts.bucket.encryption = Ok(Some(("aws:kms".into(), Some("key-1".into()))));
    let found = findings(facts).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| f.severity == Severity::CannotCheck && f.problem.contains("AccessDenied"))
    );
    assert!(
        found
            .iter()
            .any(|f| f.severity == Severity::Note && !f.blocks())
    );
}

#[test]
fn wildcards() {
    assert!(wildcard("s3:*", "s3:PutObject", true));
    assert!(wildcard("S3:put*", "s3:PutObject", true));
    assert!(!wildcard("arn:aws:s3:::b/x/*", "arn:aws:s3:::b/y/z", false));
    assert!(wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::b/y/z", false));
    assert!(wildcard("a?c", "abc", false));
}

#[tokio::test]
async fn only_a_refused_read_asks_for_read_permissions() {
    let mut facts = Facts::default();
    facts.group = Err(ApiError::new("AccessDeniedException", "no"));
    facts.role = Err(ApiError::new("ServiceUnavailable", "later"));
    let found = findings(facts).await;
    let fix = |resource: &str| {
        found
            .iter()
            .find(|f| f.resource.contains(resource))
            .map(|f| f.fix.as_str())
            .unwrap()
    };
    assert!(fix("log group").starts_with("grant fleet's role the read permissions"));
    assert!(!fix("role/logging").contains("grant"), "{found:#?}");
}

#[tokio::test]
async fn a_service_the_endpoint_does_not_serve_is_reported_once_not_per_target() {
    let mut facts = Facts::default();
    let not_served = ApiError::new(crate::engine::ErrorCode::NotServed, "HTTP 404");
    facts.bucket.region = Err(not_served.clone());
    facts.role = Err(not_served);
    let fleet = fleet::parse("fleet.toml", FLEET.to_owned()).unwrap().fleet;
    let api = crate::engine::fake::FakeApi::default();
    let mut plan = plan_targets(&api, fleet.targets.clone(), 1, &NoProgress).await;
    let destinations = FakeDestinations {
        facts,
        calls: Default::default(),
    };
    let report = preflight(&destinations, &mut plan, 4, &NoProgress).await;
    assert_eq!(
        report.not_served.into_iter().collect::<Vec<_>>(),
        [Service::S3, Service::Iam]
    );
    assert_eq!(plan.targets[0].preflight, vec![]);
}
