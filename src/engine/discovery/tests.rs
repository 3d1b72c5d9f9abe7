//! Discovery against an in-memory organization.

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::fleet::{self, Fleet};

/// Two listed accounts (one with `regions = "enabled"`) and two OU entries:
///
/// ```text
/// ou-wkld-11111111 (workloads, recursive, excludes sandbox-* and 555555555555)
///   111111111111 prod (listed in [[accounts]]), 333333333333 team-a,
///   444444444444 old (SUSPENDED), 555555555555 legacy
///   └ ou-wkld-22222222: 666666666666 sandbox-1, 777777777777 "team b"
///     └ ou-wkld-33333333: 888888888888 deep
/// ou-edge-44444444 (not recursive, regions = "enabled")
///   999999999999 edge-b (regions unreadable), 121212121212 prod (a taken name)
///   └ ou-edge-55555555: 131313131313 never-reached
/// ```
pub(crate) const FLEET: &str = concat!(
    r#"[fleet]
regions = ["us-east-1", "eu-west-1"]
role_name = "Admin"

[profiles.standard.s3_config]
bucket_name = "logs-{account_id}-{region}"

[profiles.named.s3_config]
bucket_name = "logs-{account_name}-{region}"

[profiles.off]
enabled = false

[[accounts]]
id = "111111111111"
name = "prod"
profile = "standard"

[[accounts]]
id = "222222222222"
name = "edge"
profile = "standard"
regions = "enabled"
region_profiles = { "eu-west-1" = "off" }

[[organizational_units]]
id = "ou-wkld-11111111"
name = "workloads"
profile = "standard"
exclude = ["sandbox-*", "555555555555"]
"#,
    r#"
[[organizational_units]]
id = "ou-edge-44444444"
recursive = false
profile = "standard"
regions = "enabled"
"#
);

/// [`FLEET`] up to and including the first OU entry (line 26).
fn head() -> &'static str {
    let end = FLEET
        .find("\n[[organizational_units]]\nid = \"ou-edge")
        .unwrap();
    &FLEET[..end]
}

pub(crate) fn fleet() -> Fleet {
    fleet::parse("fleet.toml", FLEET.to_owned()).unwrap().fleet
}

fn account(id: &str, name: &str, state: &str) -> OrgAccount {
    OrgAccount {
        id: AccountId::parse(id).unwrap(),
        name: name.to_owned(),
        state: state.to_owned(),
    }
}

/// An organization in memory; every call is logged in the order it starts.
#[derive(Default)]
pub(crate) struct FakeOrganization {
    pub accounts: HashMap<String, Vec<OrgAccount>>,
    pub units: HashMap<String, Vec<String>>,
    pub regions: HashMap<String, Result<Vec<String>, ApiError>>,
    pub calls: Mutex<Vec<String>>,
}

impl FakeOrganization {
    pub(crate) fn example() -> FakeOrganization {
        let mut org = FakeOrganization::default();
        org.accounts.insert(
            "ou-wkld-11111111".into(),
            vec![
                account("333333333333", "team-a", "ACTIVE"),
                account("111111111111", "prod-in-org", "ACTIVE"),
                account("444444444444", "old", "SUSPENDED"),
                account("555555555555", "legacy", "ACTIVE"),
            ],
        );
        org.units
            .insert("ou-wkld-11111111".into(), vec!["ou-wkld-22222222".into()]);
        org.accounts.insert(
            "ou-wkld-22222222".into(),
            vec![
                account("666666666666", "sandbox-1", "ACTIVE"),
                account("777777777777", "team b", "ACTIVE"),
            ],
        );
        org.units
            .insert("ou-wkld-22222222".into(), vec!["ou-wkld-33333333".into()]);
        org.accounts.insert(
            "ou-wkld-33333333".into(),
            vec![account("888888888888", "deep", "ACTIVE")],
        );
        org.units.insert("ou-wkld-33333333".into(), vec![]);
        org.accounts.insert(
            "ou-edge-44444444".into(),
            vec![
                account("999999999999", "edge-b", "ACTIVE"),
                account("121212121212", "prod", "ACTIVE"),
            ],
        );
        org.units
            .insert("ou-edge-44444444".into(), vec!["ou-edge-55555555".into()]);
        org.accounts.insert(
            "ou-edge-55555555".into(),
            vec![account("131313131313", "never-reached", "ACTIVE")],
        );
        org.regions.insert(
            "222222222222".into(),
            Ok(vec![
                "eu-west-1".into(),
                "us-east-1".into(),
                "cn-north-1".into(),
            ]),
        );
        org.regions.insert(
            "999999999999".into(),
            Err(ApiError::new("AccessDeniedException", "not authorized")),
        );
        org.regions
            .insert("121212121212".into(), Ok(vec!["eu-west-1".into()]));
        org
    }

    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    pub(crate) fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl DiscoveryApi for FakeOrganization {
    async fn accounts_under(&self, parent: &str) -> Result<Vec<OrgAccount>, ApiError> {
        self.log(format!("accounts {parent}"));
        self.accounts.get(parent).cloned().ok_or_else(|| {
            ApiError::new(
                "ParentNotFoundException",
                "You specified parent that doesn't exist.",
            )
        })
    }

    async fn units_under(&self, parent: &str) -> Result<Vec<String>, ApiError> {
        self.log(format!("units {parent}"));
        Ok(self.units.get(parent).cloned().unwrap_or_default())
    }

    async fn enabled_regions(&self, account: &Account) -> Result<Vec<String>, ApiError> {
        self.log(format!("regions {}", account.id));
        self.regions
            .get(account.id.as_str())
            .cloned()
            .unwrap_or_else(|| Ok(vec!["us-east-1".into()]))
    }
}

fn ids(resolution: &Resolved) -> Vec<String> {
    resolution
        .fleet
        .targets
        .iter()
        .map(|t| format!("{} {}", t.id(), t.profile))
        .collect()
}

#[tokio::test]
async fn resolves_listed_and_discovered_accounts_with_their_sources() {
    let fleet = fleet();
    assert!(fleet.discovery.is_needed());
    let org = FakeOrganization::example();
    let resolution = resolve(&org, fleet.clone(), 4).await.unwrap();
    assert_eq!(
        ids(&resolution),
        [
            "prod/us-east-1 standard",
            "prod/eu-west-1 standard",
            "edge/us-east-1 standard",
            "edge/eu-west-1 off",
            "team-a/us-east-1 standard",
            "team-a/eu-west-1 standard",
            "777777777777/us-east-1 standard",
            "777777777777/eu-west-1 standard",
            "deep/us-east-1 standard",
            "deep/eu-west-1 standard",
            "121212121212/eu-west-1 standard",
        ]
    );
    let deep = &resolution.fleet.targets[8];
    assert_eq!(
        deep.account.role_arn.as_deref(),
        Some("arn:aws:iam::888888888888:role/Admin")
    );
    assert_eq!(
        deep.desired
            .as_ref()
            .unwrap()
            .s3_config
            .as_ref()
            .unwrap()
            .bucket_name,
        "logs-888888888888-us-east-1"
    );
    let source = resolution.source_of(deep).unwrap();
    assert_eq!(
        source.source.to_string(),
        "ou-wkld-11111111 (workloads, line 26) via ou-wkld-33333333"
    );
    assert_eq!(source.rule.to_string(), "fleet.regions");
    let edge = resolution.source_of(&resolution.fleet.targets[3]).unwrap();
    assert_eq!(edge.source.to_string(), "[[accounts]] line 19");
    assert_eq!(edge.rule.to_string(), "enabled (account.regions)");
    assert_eq!(
        edge.profile_rule(&resolution.fleet.targets[3].region),
        "region_profiles"
    );

    let overridden: Vec<_> = resolution
        .overridden
        .iter()
        .map(|o| (o.account.label().to_owned(), o.line))
        .collect();
    assert_eq!(overridden, [("prod".to_owned(), 14)]);
    let inactive: Vec<_> = resolution
        .inactive
        .iter()
        .map(|i| i.account.id.to_string())
        .collect();
    assert_eq!(inactive, ["444444444444"]);
    let excluded: Vec<_> = resolution
        .excluded
        .iter()
        .map(|e| format!("{} {}", e.account.id, e.pattern))
        .collect();
    assert_eq!(
        excluded,
        ["555555555555 555555555555", "666666666666 sandbox-*"]
    );
    let unnamed: Vec<_> = resolution
        .unnamed
        .iter()
        .map(|u| u.account.id.to_string())
        .collect();
    assert_eq!(unnamed, ["777777777777", "121212121212"]);
    assert_eq!(resolution.unresolved.len(), 1);
    assert_eq!(
        resolution.unresolved[0].to_string(),
        "edge-b (999999999999): AccessDeniedException: cannot read the account's enabled regions: not authorized"
    );
    assert_eq!(resolution.discovered(&resolution.fleet.targets), 9);
    assert_eq!(resolution.from_units(&resolution.fleet.targets), 7);
}

#[tokio::test]
async fn lists_each_unit_once_and_one_level_at_a_time() {
    let fleet = fleet();
    let org = FakeOrganization::example();
    resolve(&org, fleet.clone(), 8).await.unwrap();
    let calls = org.calls();
    let listings: Vec<&String> = calls.iter().filter(|c| !c.starts_with("regions")).collect();
    let depth = |call: &str| match call.rsplit(' ').next().unwrap() {
        "ou-wkld-11111111" | "ou-edge-44444444" => 0,
        "ou-wkld-22222222" => 1,
        "ou-wkld-33333333" => 2,
        other => panic!("unexpected listing of {other}"),
    };
    let depths: Vec<usize> = listings.iter().map(|c| depth(c)).collect();
    assert!(
        depths.windows(2).all(|w| w[0] <= w[1]),
        "a level starts only after the one above: {calls:?}"
    );
    // Three OUs in the recursive entry (accounts + units each), and the
    // non-recursive entry's accounts only.
    assert_eq!(listings.len(), 7, "{calls:?}");
    let unique: HashSet<&&String> = listings.iter().collect();
    assert_eq!(unique.len(), listings.len(), "no listing twice: {calls:?}");
}

#[tokio::test]
async fn nested_entries_share_listings() {
    // A second entry inside the first, with the same settings: no conflict,
    // the outer entry (first in the file) manages the accounts both reach.
    let text = format!(
        "{}\n[[organizational_units]]\nid = \"ou-wkld-22222222\"\nprofile = \"standard\"\n",
        head()
    );
    let fleet = fleet::parse("fleet.toml", text).unwrap().fleet;
    let org = FakeOrganization::example();
    let resolution = resolve(&org, fleet.clone(), 8).await.unwrap();
    let calls = org.calls();
    let listings = calls.iter().filter(|c| !c.starts_with("regions")).count();
    assert_eq!(listings, 6, "each OU listed once: {calls:?}");
    let deep = resolution
        .fleet
        .targets
        .iter()
        .find(|t| t.account.label() == "deep")
        .unwrap();
    assert!(
        resolution
            .source_of(deep)
            .unwrap()
            .source
            .to_string()
            .starts_with("ou-wkld-11111111"),
    );
}

#[tokio::test]
async fn entries_that_disagree_about_an_account_are_an_error() {
    let text = format!(
        "{}\n[[organizational_units]]\nid = \"ou-wkld-22222222\"\nname = \"teams\"\nrecursive = false\nprofile = \"off\"\n",
        head()
    );
    let fleet = fleet::parse("fleet.toml", text).unwrap().fleet;
    let org = FakeOrganization::example();
    let err = resolve(&org, fleet.clone(), 8)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "account 777777777777 (team b) is under two [[organizational_units]] entries that disagree (profile `standard` against `off`): ou-wkld-11111111 (workloads, line 26) and ou-wkld-22222222 (teams, line 32); each account is managed by exactly one entry: add it to one entry's exclude, or give it an [[accounts]] entry"
    );
    assert!(
        !org.calls().iter().any(|c| c.starts_with("regions")),
        "nothing is read from the accounts when ownership is unclear"
    );
}

#[tokio::test]
async fn an_unlistable_unit_fails_the_run_naming_its_entry() {
    let text = FLEET.replace("ou-edge-44444444", "ou-gone-99999999");
    let fleet = fleet::parse("fleet.toml", text).unwrap().fleet;
    let org = FakeOrganization::example();
    let err = resolve(&org, fleet.clone(), 8)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot list ou-gone-99999999 for the [[organizational_units]] entry ou-gone-99999999 (line 32): ParentNotFoundException"),
        "{err}"
    );
}

#[tokio::test]
async fn a_profile_that_does_not_expand_for_a_discovered_account_fails_that_target() {
    let text = FLEET.replace(
        "name = \"workloads\"\nprofile = \"standard\"",
        "name = \"workloads\"\nprofile = \"named\"",
    );
    let fleet = fleet::parse("fleet.toml", text).unwrap().fleet;
    let mut org = FakeOrganization::example();
    org.accounts.get_mut("ou-wkld-11111111").unwrap()[0].name = "Team-A".into();
    let resolution = resolve(&org, fleet.clone(), 8).await.unwrap();
    let messages: Vec<String> = resolution
        .unresolved
        .iter()
        .filter(|u| u.region.is_some())
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "Team-A/us-east-1 (333333333333): InvalidProfile: fleet.toml:9:15: bucket_name `logs-Team-A-us-east-1` for Team-A/us-east-1 is not a valid S3 bucket name (lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)",
            "Team-A/eu-west-1 (333333333333): InvalidProfile: fleet.toml:9:15: bucket_name `logs-Team-A-eu-west-1` for Team-A/eu-west-1 is not a valid S3 bucket name (lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)",
        ]
    );
    assert!(
        !resolution
            .fleet
            .targets
            .iter()
            .any(|t| t.account.label() == "Team-A"),
        "targets that do not expand are left out"
    );
    // Names that are valid bucket parts expand as usual.
    assert!(
        resolution
            .fleet
            .targets
            .iter()
            .any(|t| t.account.label() == "deep")
    );
}

#[tokio::test]
async fn a_fleet_without_discovery_makes_no_call() {
    let fleet = crate::engine::tests::fleet();
    assert!(!fleet.discovery.is_needed());
    let org = FakeOrganization::default();
    let resolution = resolve(&org, fleet.clone(), 8).await.unwrap();
    assert!(org.calls().is_empty());
    assert_eq!(resolution.fleet.targets.len(), fleet.targets.len());
    let listed = resolve_listed(fleet.clone());
    assert_eq!(listed.fleet.targets.len(), fleet.targets.len());
    assert_eq!(listed.discovered(&listed.fleet.targets), 0);
}
