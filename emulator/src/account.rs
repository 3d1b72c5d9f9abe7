//! The Account API's ListRegions (restJson1, `POST /listRegions`): which
//! regions are enabled in an account.
//!
//! Every account starts like a new AWS account: the regions AWS launched
//! before March 2019 are `ENABLED_BY_DEFAULT`, the opt-in ones `DISABLED`.
//! `PUT /_emulator/regions` (`{"ACCOUNT": {"REGION": "ENABLED"|"DISABLED"}}`)
//! replaces the changes from that, so a test can enable a region between two
//! runs; the account `"*"` changes every account (an account's own entry
//! wins). `GET /_emulator/regions` returns them. Bedrock calls to a region
//! that is not enabled answer as AWS does (see `server.rs`).

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use super::identity::is_account_id;

pub(crate) const LIST_REGIONS_PATH: &str = "/listRegions";

/// Enabled in every account unless disabled.
const ENABLED_BY_DEFAULT: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// Disabled in every account unless enabled.
const OPT_IN: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// Page size when the request sets none: smaller than a new account's
/// enabled regions, so clients must paginate.
const DEFAULT_PAGE: usize = 10;

/// A region's opt status, as the API spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum OptStatus {
    Enabled,
    Enabling,
    Disabling,
    Disabled,
    EnabledByDefault,
}

/// Per account, the regions whose status differs from a new account's.
#[derive(Default)]
pub(crate) struct RegionOptIns {
    changes: RwLock<BTreeMap<String, BTreeMap<String, OptStatus>>>,
}

/// Why a ListRegions request or an admin update is refused: a restJson1
/// error code and message, and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl AccountError {
    fn validation(message: impl Into<String>) -> AccountError {
        AccountError {
            status: 400,
            code: "ValidationException",
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRegionsRequest {
    account_id: Option<String>,
    max_results: Option<usize>,
    next_token: Option<String>,
    region_opt_status_contains: Option<Vec<OptStatus>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegionJson<'a> {
    region_name: &'a str,
    region_opt_status: OptStatus,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListRegionsResponse<'a> {
    regions: Vec<RegionJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The key of `PUT /_emulator/regions` that changes every account's regions
/// (an account's own entry wins).
const EVERY_ACCOUNT: &str = "*";

impl RegionOptIns {
    /// Whether `region` is enabled in `account`: AWS rejects a request to a
    /// region the account has not enabled. Regions the emulator does not list
    /// (GovCloud, China) count as enabled.
    pub(crate) fn is_enabled(&self, account: &str, region: &str) -> bool {
        let default = if ENABLED_BY_DEFAULT.contains(&region) {
            OptStatus::EnabledByDefault
        } else if OPT_IN.contains(&region) {
            OptStatus::Disabled
        } else {
            return true;
        };
        let changes = self.changes.read().unwrap_or_else(PoisonError::into_inner);
        let status = [account, EVERY_ACCOUNT]
            .iter()
            .find_map(|key| changes.get(*key).and_then(|c| c.get(region)))
            .copied()
            .unwrap_or(default);
        matches!(
            status,
            OptStatus::Enabled | OptStatus::EnabledByDefault | OptStatus::Disabling
        )
    }

    /// Every region of `account` with its status, in a fixed order.
    fn statuses(&self, account: &str) -> Vec<(&'static str, OptStatus)> {
        let changes = self.changes.read().unwrap_or_else(PoisonError::into_inner);
        let changed = changes.get(account);
        let everyone = changes.get(EVERY_ACCOUNT);
        let mut all: Vec<(&'static str, OptStatus)> = ENABLED_BY_DEFAULT
            .iter()
            .map(|r| (*r, OptStatus::EnabledByDefault))
            .chain(OPT_IN.iter().map(|r| (*r, OptStatus::Disabled)))
            .map(|(region, status)| {
                let status = changed
                    .and_then(|c| c.get(region))
                    .or_else(|| everyone.and_then(|c| c.get(region)))
                    .copied()
                    .unwrap_or(status);
                (region, status)
            })
            .collect();
        all.sort_by_key(|(region, _)| *region);
        all
    }

    /// Answers ListRegions for the calling account (or the `AccountId` the
    /// request names, as for a management account).
    pub(crate) fn list_regions(&self, caller: &str, body: &[u8]) -> Result<Vec<u8>, AccountError> {
        let request: ListRegionsRequest = if body.iter().all(u8::is_ascii_whitespace) {
            ListRegionsRequest {
                account_id: None,
                max_results: None,
                next_token: None,
                region_opt_status_contains: None,
            }
        } else {
            serde_json::from_slice(body)
                .map_err(|err| AccountError::validation(format!("invalid request: {err}")))?
        };
        let account = request.account_id.as_deref().unwrap_or(caller);
        if !is_account_id(account) {
            return Err(AccountError::validation(format!(
                "`{account}` is not a 12-digit account id"
            )));
        }
        let page = request.max_results.unwrap_or(DEFAULT_PAGE);
        if !(1..=50).contains(&page) {
            return Err(AccountError::validation(
                "MaxResults must be between 1 and 50",
            ));
        }
        let start = match &request.next_token {
            None => 0,
            Some(token) => token
                .parse::<usize>()
                .map_err(|_| AccountError::validation("the NextToken is not valid"))?,
        };
        let regions: Vec<(&'static str, OptStatus)> = self
            .statuses(account)
            .into_iter()
            .filter(|(_, status)| {
                request
                    .region_opt_status_contains
                    .as_ref()
                    .is_none_or(|wanted| wanted.contains(status))
            })
            .collect();
        let end = (start + page).min(regions.len());
        let response = ListRegionsResponse {
            regions: regions
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .map(|(region_name, status)| RegionJson {
                    region_name,
                    region_opt_status: *status,
                })
                .collect(),
            next_token: (end < regions.len()).then(|| end.to_string()),
        };
        Ok(serde_json::to_vec(&response).expect("regions serialise"))
    }

    /// The changes from a new account's regions, as `GET /_emulator/regions`
    /// returns them.
    pub(crate) fn changes_json(&self) -> Vec<u8> {
        let changes = self.changes.read().unwrap_or_else(PoisonError::into_inner);
        serde_json::to_vec(&*changes).expect("region changes serialise")
    }

    /// Replaces every change (`PUT /_emulator/regions`); returns how many
    /// accounts have one.
    pub(crate) fn replace_from_json(&self, body: &[u8]) -> Result<usize, AccountError> {
        let changes: BTreeMap<String, BTreeMap<String, OptStatus>> = serde_json::from_slice(body)
            .map_err(|err| {
            AccountError::validation(format!(
                "expected {{\"ACCOUNT\": {{\"REGION\": \"ENABLED\" or \"DISABLED\"}}}}: {err}"
            ))
        })?;
        for (account, regions) in &changes {
            if !is_account_id(account) && account != EVERY_ACCOUNT {
                return Err(AccountError::validation(format!(
                    "`{account}` is not a 12-digit account id or `*`"
                )));
            }
            for region in regions.keys() {
                if !ENABLED_BY_DEFAULT.contains(&region.as_str())
                    && !OPT_IN.contains(&region.as_str())
                {
                    return Err(AccountError::validation(format!(
                        "the emulator knows no region `{region}`"
                    )));
                }
            }
        }
        let count = changes.len();
        *self.changes.write().unwrap_or_else(PoisonError::into_inner) = changes;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &[u8]) -> (Vec<String>, Option<String>) {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap();
        let names = value["Regions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["RegionName"].as_str().unwrap(),
                    r["RegionOptStatus"].as_str().unwrap()
                )
            })
            .collect();
        (names, value["NextToken"].as_str().map(str::to_owned))
    }

    #[test]
    fn pages_through_the_enabled_regions_and_follows_changes() {
        let regions = RegionOptIns::default();
        let filter =
            br#"{"RegionOptStatusContains": ["ENABLED", "ENABLED_BY_DEFAULT"], "MaxResults": 10}"#;
        let (first, token) = names(&regions.list_regions("111111111111", filter).unwrap());
        assert_eq!(first.len(), 10);
        assert_eq!(first[0], "ap-northeast-1 ENABLED_BY_DEFAULT");
        let next = format!(
            r#"{{"RegionOptStatusContains": ["ENABLED", "ENABLED_BY_DEFAULT"], "MaxResults": 10, "NextToken": "{}"}}"#,
            token.unwrap()
        );
        let (second, token) = names(
            &regions
                .list_regions("111111111111", next.as_bytes())
                .unwrap(),
        );
        assert_eq!(second.len(), ENABLED_BY_DEFAULT.len() - 10);
        assert_eq!(token, None);

        regions
            .replace_from_json(
                br#"{"111111111111": {"me-central-1": "ENABLED", "us-west-1": "DISABLED"}}"#,
            )
            .unwrap();
        let (all, _) = names(
            &regions
                .list_regions("111111111111", br#"{"MaxResults": 50}"#)
                .unwrap(),
        );
        assert!(all.contains(&"me-central-1 ENABLED".to_owned()));
        assert!(all.contains(&"us-west-1 DISABLED".to_owned()));
        // Other accounts keep a new account's regions.
        let (other, _) = names(&regions.list_regions("222222222222", b"").unwrap());
        assert!(other.contains(&"ap-east-1 DISABLED".to_owned()));
    }

    #[test]
    fn rejects_bad_requests_and_updates() {
        let regions = RegionOptIns::default();
        assert_eq!(
            regions
                .list_regions("111111111111", br#"{"MaxResults": 0}"#)
                .unwrap_err()
                .code,
            "ValidationException"
        );
        assert!(
            regions
                .list_regions("111111111111", br#"{"NextToken": "x"}"#)
                .is_err()
        );
        assert!(
            regions
                .replace_from_json(br#"{"1111": {"us-east-1": "ENABLED"}}"#)
                .is_err()
        );
        assert!(
            regions
                .replace_from_json(br#"{"111111111111": {"mars-1": "ENABLED"}}"#)
                .is_err()
        );
    }
}
