//! Engine behaviour against the in-memory fake.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::fake::FakeApi;
use super::plan::read_live;
use super::saved::SavedPlan;
use super::*;
use crate::fleet::{self, Fleet};

pub(crate) const FLEET: &str = r#"
[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "Admin"

[profiles.standard]
video_data_delivery_enabled = false
audio_data_delivery_enabled = false

[profiles.standard.s3_config]
bucket_name = "logs-{account_id}-{region}"
key_prefix = "bedrock"

[profiles.off]
enabled = false

[[accounts]]
id = "111111111111"
name = "prod"
profile = "standard"

[[accounts]]
id = "222222222222"
name = "dev"
profile = "standard"
region_profiles = { "eu-west-1" = "off" }
"#;

pub(crate) fn fleet() -> Fleet {
    fleet::parse("fleet.toml", FLEET.to_owned()).unwrap().fleet
}

/// prod/us-east-1 drifted, prod/eu-west-1 absent, dev/us-east-1 matches,
/// dev/eu-west-1 logs but must not.
pub(crate) fn drifted(fleet: &Fleet) -> FakeApi {
    let api = FakeApi::default();
    {
        let mut state = api.state.lock().unwrap();
        let key = |i: usize| {
            (
                fleet.targets[i].account.id.to_string(),
                fleet.targets[i].region.to_string(),
            )
        };
        let mut changed = fleet.targets[0].desired.clone().unwrap();
        changed.video_data_delivery_enabled = Some(true);
        state.insert(key(0), changed);
        state.insert(key(2), fleet.targets[2].desired.clone().unwrap());
        state.insert(key(3), fleet.targets[2].desired.clone().unwrap());
    }
    api
}

pub(crate) fn options(max_failures: Option<usize>) -> ApplyOptions {
    ApplyOptions {
        concurrency: 4,
        max_failures,
        stop: Arc::new(AtomicBool::new(false)),
    }
}

#[tokio::test]
async fn plan_finds_each_action() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let actions: Vec<_> = plan.targets.iter().map(TargetPlan::action).collect();
    assert_eq!(
        actions,
        vec![
            Some(Action::Update),
            Some(Action::Create),
            Some(Action::NoOp),
            Some(Action::Delete)
        ]
    );
    assert_eq!(
        plan.counts(),
        PlanCounts {
            create: 1,
            update: 1,
            delete: 1,
            unchanged: 1,
            failed: 0,
            // The update turns video off; the delete removes logging.
            weakening: 2,
        }
    );
    let diff = plan.targets[0].diff();
    assert!(
        diff.starts_with("--- live: prod/us-east-1\n+++ desired: prod/us-east-1\n"),
        "{diff}"
    );
    assert!(
        diff.contains("-video_data_delivery_enabled = true\n+video_data_delivery_enabled = false"),
        "{diff}"
    );
    assert_eq!(plan.targets[2].diff(), "");
}

/// The fake, but a target's Get in us-east-1 answers only after the other
/// calls in flight have answered: the answers arrive in another order than
/// the targets'.
struct LateEast<'a>(&'a FakeApi);

impl LoggingApi for LateEast<'_> {
    async fn get(&self, at: Location<'_>) -> Result<Option<LoggingConfig>, ApiError> {
        if at.region.as_str() == "us-east-1" {
            for _ in 0..8 {
                tokio::task::yield_now().await;
            }
        }
        self.0.get(at).await
    }

    async fn put(
        &self,
        at: Location<'_>,
        config: &LoggingConfig,
        wait: PermissionWait,
    ) -> Result<(), ApiError> {
        self.0.put(at, config, wait).await
    }

    async fn delete(&self, at: Location<'_>) -> Result<(), ApiError> {
        self.0.delete(at).await
    }
}

#[tokio::test]
async fn answers_arriving_out_of_order_land_on_their_own_targets() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&LateEast(&api), fleet.targets.clone(), 4, &NoProgress).await;
    let actions: Vec<_> = plan.targets.iter().map(TargetPlan::action).collect();
    assert_eq!(
        actions,
        vec![
            Some(Action::Update),
            Some(Action::Create),
            Some(Action::NoOp),
            Some(Action::Delete)
        ]
    );
    let live = read_live(&LateEast(&api), &fleet.targets, 4, &NoProgress).await;
    let read: Vec<bool> = live.iter().map(|l| matches!(l, Ok(Some(_)))).collect();
    assert_eq!(read, vec![true, false, true, true]);
}

#[tokio::test]
async fn an_unreadable_target_fails_alone() {
    let fleet = fleet();
    let mut api = drifted(&fleet);
    api.denied = HashSet::from(["111111111111/eu-west-1".to_owned()]);
    let plan = plan_targets(&api, fleet.targets.clone(), 8, &NoProgress).await;
    let counts = plan.counts();
    assert_eq!(
        (
            counts.failed,
            counts.update,
            counts.delete,
            counts.unchanged
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(
        plan.targets[1].live.as_ref().unwrap_err().code,
        "AccessDeniedException"
    );
}

#[tokio::test]
async fn apply_writes_only_changes_and_verifies_them() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let report = apply_changes(
        &api,
        plan.changes().cloned().collect(),
        &options(None),
        &NoProgress,
    )
    .await;
    assert!(report.success());
    assert_eq!(report.applied(), 3);
    let mut writes = api.writes.lock().unwrap().clone();
    writes.sort();
    assert_eq!(
        writes,
        [
            "delete 222222222222/eu-west-1",
            "put 111111111111/eu-west-1",
            "put 111111111111/us-east-1"
        ]
    );
    let again = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    assert_eq!(again.counts().changes(), 0);
}

#[tokio::test]
async fn max_failures_stops_new_writes() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let mut api = api;
    // Every change is now denied; with concurrency 1 and --max-failures 1
    // exactly one write is tried.
    api.denied = fleet
        .targets
        .iter()
        .map(|t| format!("{}/{}", t.account.id, t.region))
        .collect();
    let mut opts = options(Some(1));
    opts.concurrency = 1;
    let report = apply_changes(&api, plan.changes().cloned().collect(), &opts, &NoProgress).await;
    assert_eq!(
        (report.applied(), report.failed(), report.not_attempted()),
        (0, 1, 2)
    );
    assert!(!report.success());
}

#[tokio::test]
async fn a_stop_request_starts_no_write() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let opts = options(None);
    opts.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let report = apply_changes(&api, plan.changes().cloned().collect(), &opts, &NoProgress).await;
    assert_eq!(report.not_attempted(), 3);
    assert!(report.interrupted);
    assert!(api.writes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn stale_targets_are_found() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let recheck = check_stale(&api, &plan.targets, 2, &NoProgress).await;
    assert!(recheck.stale.is_empty() && recheck.already_applied.is_empty());
    api.state
        .lock()
        .unwrap()
        .remove(&("222222222222".to_owned(), "us-east-1".to_owned()));
    let stale = check_stale(&api, &plan.targets, 2, &NoProgress).await.stale;
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].plan.target.id().to_string(), "dev/us-east-1");
    assert!(
        stale[0]
            .diff()
            .starts_with("--- planned against: dev/us-east-1\n+++ live now: dev/us-east-1\n")
    );
}

#[tokio::test]
async fn targets_already_as_planned_are_already_applied_not_stale() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let changes: Vec<TargetPlan> = plan.changes().cloned().collect();
    let first = changes[..1].to_vec();
    let report = apply_changes(&api, first, &options(None), &NoProgress).await;
    assert_eq!(report.applied(), 1);
    let recheck = check_stale(&api, &plan.targets, 2, &NoProgress).await;
    assert!(recheck.stale.is_empty(), "{:?}", recheck.stale);
    assert_eq!(recheck.already_applied.len(), 1);
    assert!(recheck.is_already_applied(&changes[0]));
    assert!(!recheck.is_already_applied(&changes[1]));
}

#[tokio::test]
async fn saved_plan_round_trips_and_rejects_edits() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let saved = SavedPlan::new(&plan, &fleet, "2026-11-25T00:00:00Z".into());
    let text = serde_json::to_string_pretty(&saved).unwrap();
    let parsed = SavedPlan::parse("plan.json", &text).unwrap();
    let rebuilt = parsed.to_plan("plan.json").unwrap();
    let actions = |p: &Plan| p.targets.iter().map(TargetPlan::action).collect::<Vec<_>>();
    assert_eq!(actions(&rebuilt), actions(&plan));

    let edited = text.replacen("\"action\": \"update\"", "\"action\": \"no-op\"", 1);
    let err = SavedPlan::parse("plan.json", &edited)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("target prod/us-east-1: action is `no-op` but before and after say `update`"),
        "{err}"
    );

    let future = text.replacen("\"format_version\": 2", "\"format_version\": 99", 1);
    let err = SavedPlan::parse("plan.json", &future)
        .unwrap_err()
        .to_string();
    assert!(err.contains("format_version 99"), "{err}");

    let err = SavedPlan::parse("plan.json", "{ not json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("plan.json is not valid JSON"), "{err}");
}

/// Stores something else than what it is asked to, like a server that
/// silently defaults a flag.
struct Lying(FakeApi);

impl LoggingApi for Lying {
    async fn get(
        &self,
        at: Location<'_>,
    ) -> Result<Option<crate::logging::LoggingConfig>, ApiError> {
        self.0.get(at).await
    }

    async fn put(
        &self,
        at: Location<'_>,
        config: &crate::logging::LoggingConfig,
        wait: super::PermissionWait,
    ) -> Result<(), ApiError> {
        let mut stored = config.clone();
        stored.video_data_delivery_enabled = stored.video_data_delivery_enabled.map(|on| !on);
        self.0.put(at, &stored, wait).await
    }

    async fn delete(&self, at: Location<'_>) -> Result<(), ApiError> {
        self.0.delete(at).await
    }
}

#[tokio::test]
async fn a_write_that_reads_back_different_is_not_applied() {
    let fleet = fleet();
    let api = Lying(drifted(&fleet));
    let plan = plan_targets(&api, fleet.targets.clone(), 2, &NoProgress).await;
    let report = apply_changes(
        &api,
        plan.changes().cloned().collect(),
        &options(None),
        &NoProgress,
    )
    .await;
    // The two puts read back different; the delete reads back right.
    assert_eq!((report.applied(), report.failed()), (1, 2));
    assert!(!report.success());
    assert!(
        report
            .results
            .iter()
            .any(|r| matches!(&r.outcome, ApplyOutcome::Mismatch { read_back: Some(_) }))
    );
}

/// A version 1 plan as fleet 0.1 wrote it, before error codes were typed:
/// one target unreadable for a reason of fleet's own, one for AWS's.
const OLD_PLAN_WITH_ERRORS: &str = r#"{
  "format_version": 1,
  "fleet_file": "fleet.toml",
  "fleet_sha256": "00",
  "created_at": "2026-01-01T00:00:00Z",
  "fleet_version": "0.1.0",
  "assume_role": { "external_id": null, "session_name": null },
  "summary": { "create": 0, "update": 0, "delete": 0, "unchanged": 0, "failed": 2 },
  "targets": [
    {
      "target": "prod/ap-east-1",
      "account_id": "111111111111",
      "account_name": "prod",
      "region": "ap-east-1",
      "profile": "off",
      "role_arn": "arn:aws:iam::111111111111:role/Admin",
      "action": "failed",
      "before": null,
      "after": null,
      "diff": "",
      "error": { "code": "RegionNotEnabled", "message": "region ap-east-1 is not enabled in account 111111111111" }
    },
    {
      "target": "prod/us-east-1",
      "account_id": "111111111111",
      "account_name": "prod",
      "region": "us-east-1",
      "profile": "off",
      "role_arn": "arn:aws:iam::111111111111:role/Admin",
      "action": "failed",
      "before": null,
      "after": null,
      "diff": "",
      "error": { "code": "AccessDeniedException", "message": "not authorized" }
    }
  ]
}"#;

#[test]
fn an_old_saved_plan_with_errors_reads_typed_and_writes_the_same_codes() {
    let saved = SavedPlan::parse("old.json", OLD_PLAN_WITH_ERRORS).unwrap();
    let plan = saved.to_plan("old.json").unwrap();
    let errors: Vec<&ApiError> = plan
        .targets
        .iter()
        .map(|t| t.live.as_ref().unwrap_err())
        .collect();
    assert_eq!(errors[0].code, ErrorCode::RegionNotEnabled);
    assert!(errors[0].is_region_not_enabled());
    assert_eq!(
        errors[1].code,
        ErrorCode::Aws("AccessDeniedException".to_owned())
    );
    assert!(errors[1].is_access_denied());
    assert_eq!(
        errors[0].to_string(),
        "RegionNotEnabled: region ap-east-1 is not enabled in account 111111111111"
    );
    let written = serde_json::to_value(&saved).unwrap();
    let codes: Vec<&str> = written["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["error"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["RegionNotEnabled", "AccessDeniedException"]);
    assert_eq!(written["targets"][0]["account_id"], "111111111111");
    assert_eq!(written["targets"][0]["region"], "ap-east-1");
    assert_eq!(written["targets"][0]["action"], "failed");
}

#[test]
fn a_saved_plan_with_a_bad_field_names_the_field_and_the_file() {
    let cases = [
        (
            "\"account_id\": \"111111111111\"",
            "\"account_id\": \"1111\"",
            "account_id is not 12 digits: `1111`",
        ),
        (
            "\"region\": \"ap-east-1\"",
            "\"region\": \"Asia\"",
            "region is not an AWS region name: `Asia`",
        ),
        (
            "\"action\": \"failed\"",
            "\"action\": \"destroy\"",
            "action is not one of create, update, delete, no-op, failed: `destroy`",
        ),
    ];
    for (good, bad, message) in cases {
        let edited = OLD_PLAN_WITH_ERRORS.replacen(good, bad, 1);
        let err = SavedPlan::parse("edited.json", &edited)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("edited.json is not a fleet plan: ")
                && err.contains(message)
                && err.contains(" at line "),
            "{err}"
        );
    }
}
