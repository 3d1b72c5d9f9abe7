//! Snapshots of what a person sees.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::engine::tests::{drifted, fleet};
use crate::engine::{ApplyOptions, NoProgress, apply_changes, plan_targets};

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
    super::human::plan(&mut out, &plan).unwrap();
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
    let options = ApplyOptions {
        concurrency: 2,
        max_failures: None,
        stop: Arc::new(AtomicBool::new(false)),
    };
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
    super::human::plan(&mut out, &after).unwrap();
    insta::assert_snapshot!(plain(out));
}
