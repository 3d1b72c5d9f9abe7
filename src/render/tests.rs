//! Snapshots of what a person sees.

use crate::engine::tests::{drifted, fleet};
use crate::engine::{NoProgress, apply_changes, plan_targets};

fn plain(bytes: Vec<u8>) -> String {
    anstream::adapter::strip_str(&String::from_utf8(bytes).unwrap()).to_string()
}

#[tokio::test]
async fn human_plan() {
    let fleet = fleet();
    let mut api = drifted(&fleet);
    api.denied.insert("222222222222/eu-west-1".to_owned());
    let plan = plan_targets(&api, fleet.targets.clone(), 4, &NoProgress).await;
    let mut out = Vec::new();
    super::human::plan(&mut out, &plan, super::human::Diffs::Grouped).unwrap();
    let coloured = String::from_utf8(out.clone()).unwrap();
    assert!(
        coloured.contains("\u{1b}["),
        "the renderer emits styles; the stream strips them"
    );
    insta::assert_snapshot!(plain(out));
}

#[tokio::test]
async fn human_plan_without_changes_and_apply_summary() {
    let fleet = fleet();
    let api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 4, &NoProgress).await;
    let options = crate::engine::tests::options(None);
    let report = apply_changes(
        &api,
        plan.changes().cloned().collect(),
        &options,
        &NoProgress,
    )
    .await;
    let mut out = Vec::new();
    super::human::apply(&mut out, &report).unwrap();
    let after = plan_targets(&api, fleet.targets.clone(), 4, &NoProgress).await;
    super::human::plan(&mut out, &after, super::human::Diffs::Grouped).unwrap();
    insta::assert_snapshot!(plain(out));
}

fn source() -> super::markdown::PlanSource<'static> {
    super::markdown::PlanSource {
        fleet_file: "fleet.toml",
        fleet_sha256: "0123456789abcdef0123456789abcdef",
        created_at: "2026-11-25T00:00:00Z",
        partition: None,
        missing_shards: &[],
    }
}

/// A fleet of `accounts` × 4 regions, all on one profile.
fn wide_fleet(accounts: usize) -> crate::fleet::Fleet {
    let mut text = String::from(
        "[fleet]\nregions = [\"us-east-1\", \"us-west-2\", \"eu-west-1\", \"eu-central-1\"]\nrole_name = \"r\"\n\n[profiles.p]\nvideo_data_delivery_enabled = false\naudio_data_delivery_enabled = false\n\n[profiles.p.s3_config]\nbucket_name = \"logs-{account_id}-{region}\"\n",
    );
    for i in 0..accounts {
        text.push_str(&format!(
            "\n[[accounts]]\nid = \"{:012}\"\nname = \"team{i}\"\nprofile = \"p\"\n",
            100_000_000_000u64 + i as u64
        ));
    }
    crate::fleet::parse("fleet.toml", text).unwrap().fleet
}

#[tokio::test]
async fn markdown_plan_groups_identical_changes() {
    let fleet = wide_fleet(3);
    let api = crate::engine::fake::FakeApi::default();
    {
        let mut state = api.state.lock().unwrap();
        for (i, target) in fleet.targets.iter().enumerate() {
            let mut live = target.desired.clone().unwrap();
            // Every us-east-1 has video on (one group of 3), team0/eu-west-1
            // has a prefix (a group of 1), the rest match or are absent.
            match (target.region.as_str(), i) {
                ("us-east-1", _) => live.video_data_delivery_enabled = Some(true),
                ("eu-west-1", 2) => {
                    live.s3_config.as_mut().unwrap().key_prefix = Some("old".into())
                }
                ("us-west-2", _) => {}
                _ => continue,
            }
            state.insert(
                (target.account.id.to_string(), target.region.to_string()),
                live,
            );
        }
    }
    let plan = plan_targets(&api, fleet.targets.clone(), 4, &NoProgress).await;
    let text = super::markdown::plan(&plan, &source(), super::markdown::COMMENT_LIMIT);
    assert!(
        text.contains(
            "same change in 3 targets: `team0/us-east-1`, `team1/us-east-1`, `team2/us-east-1`"
        ),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[tokio::test]
async fn markdown_plan_stays_under_the_comment_limit() {
    let fleet = wide_fleet(500);
    assert_eq!(fleet.targets.len(), 2000);
    let api = crate::engine::fake::FakeApi::default();
    {
        let mut state = api.state.lock().unwrap();
        for (i, target) in fleet.targets.iter().enumerate() {
            let mut live = target.desired.clone().unwrap();
            live.s3_config.as_mut().unwrap().key_prefix = Some(format!("distinct-{i}"));
            state.insert(
                (target.account.id.to_string(), target.region.to_string()),
                live,
            );
        }
    }
    let plan = plan_targets(&api, fleet.targets.clone(), 64, &NoProgress).await;
    assert_eq!(plan.counts().update, 2000);
    let text = super::markdown::plan(&plan, &source(), super::markdown::COMMENT_LIMIT);
    assert!(
        text.len() <= super::markdown::COMMENT_LIMIT,
        "{} bytes",
        text.len()
    );
    assert!(
        text.contains("| 0 | 2000 | 0 | 0 | 0 |"),
        "the summary is always there"
    );
    assert!(
        text.contains("the full plan is in the JSON plan artifact"),
        "says what was cut"
    );
    // Without a limit nothing is cut, and it would be far over.
    let full = super::markdown::plan(&plan, &source(), usize::MAX);
    assert!(full.len() > 4 * super::markdown::COMMENT_LIMIT);
    assert!(!full.contains("JSON plan artifact"));
}

#[test]
fn a_short_or_non_hex_sha_is_shown_as_it_is() {
    assert_eq!(super::short_sha("abc"), "abc");
    assert_eq!(super::short_sha("ééééééééééééééé"), "éééééééééééé");
    assert_eq!(super::short_sha(&"f".repeat(64)), "ffffffffffff");
}

#[tokio::test]
async fn markdown_apply_summary() {
    let fleet = fleet();
    let mut api = drifted(&fleet);
    let plan = plan_targets(&api, fleet.targets.clone(), 4, &NoProgress).await;
    api.denied.insert("222222222222/eu-west-1".to_owned());
    let options = crate::engine::tests::options(None);
    let report = apply_changes(
        &api,
        plan.changes().cloned().collect(),
        &options,
        &NoProgress,
    )
    .await;
    insta::assert_snapshot!(super::markdown::apply(&report));
}

/// `wide_fleet(3)` read with: nothing live (every target a create), except
/// team1/us-west-2 with its video flag on (an update of its own), team0 and
/// team1 in eu-central-1 with a key prefix (one update shared by two), and
/// team2/eu-west-1 and team0/us-west-2 denied.
async fn mixed_plan() -> crate::engine::Plan {
    let fleet = wide_fleet(3);
    let mut api = crate::engine::fake::FakeApi::default();
    {
        let mut state = api.state.lock().unwrap();
        for target in &fleet.targets {
            let mut live = target.desired.clone().unwrap();
            match (target.account.label(), target.region.as_str()) {
                ("team1", "us-west-2") => live.video_data_delivery_enabled = Some(true),
                ("team0" | "team1", "eu-central-1") => {
                    live.s3_config.as_mut().unwrap().key_prefix = Some("old".into())
                }
                _ => continue,
            }
            state.insert(
                (target.account.id.to_string(), target.region.to_string()),
                live,
            );
        }
    }
    api.denied.insert("100000000002/eu-west-1".to_owned());
    api.denied.insert("100000000000/us-west-2".to_owned());
    plan_targets(&api, fleet.targets.clone(), 4, &NoProgress).await
}

fn human(plan: &crate::engine::Plan, diffs: super::human::Diffs) -> String {
    let mut out = Vec::new();
    super::human::plan(&mut out, plan, diffs).unwrap();
    plain(out)
}

#[tokio::test]
async fn human_plan_groups_identical_changes_and_lists_failures_last() {
    let plan = mixed_plan().await;
    let counts = plan.counts();
    assert_eq!((counts.create, counts.update, counts.failed), (7, 3, 2));
    let text = human(&plan, super::human::Diffs::Grouped);
    // Seven creates are one diff; the shared update is another; the update
    // of one target prints as a target of its own.
    assert_eq!(text.matches("@@ ").count(), 3, "{text}");
    assert_eq!(text.matches("+ create 7 targets").count(), 1, "{text}");
    assert!(text.contains("  applies to 7 targets:\n"), "{text}");
    assert!(text.contains("~ update 2 targets"), "{text}");
    assert!(text.contains("    team0, team1 × eu-central-1\n"), "{text}");
    assert!(
        text.contains("~ update team1/us-west-2 (profile p)"),
        "{text}"
    );
    // Failures come last, after every diff, with their count, before the
    // summary.
    let failures = text.find("2 targets could not be read:").expect("failures");
    assert!(text.rfind("@@ ").unwrap() < failures, "{text}");
    assert!(failures < text.find("Plan: 7 to create").unwrap(), "{text}");
    assert!(
        text.contains("  ! team0/us-west-2: AccessDeniedException"),
        "{text}"
    );
    assert!(
        text.contains("  ! team2/eu-west-1: AccessDeniedException"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[tokio::test]
async fn human_plan_each_diff_prints_every_target() {
    let plan = mixed_plan().await;
    let text = human(&plan, super::human::Diffs::EachTarget);
    assert_eq!(text.matches("@@ ").count(), 10, "{text}");
    assert!(!text.contains("applies to"), "{text}");
    assert!(
        text.contains("+ create team2/us-east-1 (profile p)"),
        "{text}"
    );
    let failures = text.find("2 targets could not be read:").expect("failures");
    assert!(text.rfind("@@ ").unwrap() < failures, "{text}");
}

#[tokio::test]
async fn a_big_group_lists_accounts_times_regions_wrapped() {
    let fleet = wide_fleet(40);
    let api = crate::engine::fake::FakeApi::default();
    let plan = plan_targets(&api, fleet.targets.clone(), 8, &NoProgress).await;
    let text = human(&plan, super::human::Diffs::Grouped);
    assert_eq!(text.matches("@@ ").count(), 1, "{text}");
    assert!(
        text.contains("  applies to 160 targets (40 accounts × 4 regions):\n    team0, team1,"),
        "{text}"
    );
    assert!(
        text.contains("\n      × us-east-1, us-west-2, eu-west-1, eu-central-1\n"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    assert!(text.lines().count() < 40, "{text}");
}

/// `wide_fleet(accounts)` with its buckets managed, planned with nothing
/// live: every target and every bucket a create, except the bucket of
/// team1/us-west-2, which cannot be read.
async fn managed_plan(accounts: usize) -> crate::engine::Plan {
    use crate::engine::destinations::{ResourcePlan, Step, desired_resources};
    let fleet = wide_fleet(accounts);
    let mut targets = fleet.targets.clone();
    for target in &mut targets {
        target.managed.bucket = Some(Default::default());
    }
    let api = crate::engine::fake::FakeApi::default();
    let mut plan = plan_targets(&api, targets, 4, &NoProgress).await;
    plan.destinations = desired_resources(&plan.targets)
        .into_iter()
        .map(|(desired, users)| {
            let label = desired.resource.label();
            let unreadable = label.contains("100000000001-us-west-2");
            let region = plan.targets[users[0]].target.region.to_string();
            ResourcePlan {
                after: serde_json::json!({ "bucket": label, "region": region }),
                before: if unreadable {
                    Err(crate::engine::ApiError::new("AccessDenied", "denied"))
                } else {
                    Ok(None)
                },
                steps: if unreadable {
                    Vec::new()
                } else {
                    vec![Step::CreateBucket]
                },
                desired,
                targets: users,
            }
        })
        .collect();
    plan
}

#[tokio::test]
async fn human_plan_groups_identical_destination_changes() {
    let plan = managed_plan(3).await;
    assert_eq!(plan.destinations.len(), 12);
    let text = human(&plan, super::human::Diffs::Grouped);
    assert!(
        text.starts_with(
            "+ create 11 × bucket s3://logs-{account_id}-{region} (for 11 targets)\n  {account_id} and {region} stand for each destination's own\n--- live: bucket s3://logs-{account_id}-{region}\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("+  \"region\": \"{region}\"\n+}\n  applies to 11 destinations:\n    team0, team2 × eu-central-1, eu-west-1, us-east-1, us-west-2\n    team1 × eu-central-1, eu-west-1, us-east-1\n\n"),
        "{text}"
    );
    // A group of one prints as before.
    assert!(
        text.contains(
            "! cannot plan bucket s3://logs-100000000001-us-west-2: AccessDenied: denied\n"
        ),
        "{text}"
    );
    // Each target's change names the destination change it shares.
    assert!(
        text.contains("  ↳ destinations: + create bucket s3://logs-{account_id}-{region}\n  applies to 11 targets:"),
        "{text}"
    );
    assert!(
        text.contains("+ create team1/us-west-2 (profile p)\n"),
        "{text}"
    );
    assert_eq!(text.matches("+++ desired").count(), 3, "{text}");
    insta::assert_snapshot!(text);

    let each = human(&plan, super::human::Diffs::EachTarget);
    assert_eq!(each.matches("+++ desired").count(), 11 + 12, "{each}");
    assert!(
        each.contains("+ create bucket s3://logs-100000000002-eu-west-1 (for 1 target)\n"),
        "{each}"
    );
}
