//! Discovery calls: AWS Organizations with the caller's credentials
//! (management account or delegated administrator), and the Account API's
//! ListRegions with each account's own credentials, the same session its
//! Bedrock calls use. Every list call is paginated.

use aws_sdk_account::types::RegionOptStatus;
use aws_sdk_bedrock::config::retry::RetryPartition;

use super::{Aws, api_error};
use aws_sdk_organizations::types::{ParentType, PolicyType};

use crate::engine::discovery::{DiscoveryApi, OrgAccount};
use crate::engine::lock::{LockApi, PolicyInEffect, PolicyView};
use crate::engine::{ApiError, Location};
use crate::fleet::{Account, AccountId, Region};

/// [`DiscoveryApi`] over the SDK, built from the run's shared configuration
/// (HTTP client, timeouts, retries).
pub struct Organizations<'a> {
    aws: &'a Aws,
    organizations: aws_sdk_organizations::Client,
    /// Policy documents by id, read once however many accounts inherit
    /// them (the lock check).
    policy_texts: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Aws {
    /// Discovery with this run's sessions; Organizations calls share one
    /// retry partition, so throttling there does not slow Bedrock calls.
    pub fn organizations(&self) -> Organizations<'_> {
        let config = aws_sdk_organizations::config::Builder::from(&self.base)
            .retry_partition(RetryPartition::new("fleet/organizations"))
            .build();
        Organizations {
            aws: self,
            organizations: aws_sdk_organizations::Client::from_conf(config),
            policy_texts: Default::default(),
        }
    }

    /// The regions enabled in an account (`ENABLED` and
    /// `ENABLED_BY_DEFAULT`), asked with the account's own credentials: the
    /// caller's for its own account, otherwise the session its Bedrock calls
    /// use (one AssumeRole per account).
    pub async fn enabled_regions(&self, account: &Account) -> Result<Vec<String>, ApiError> {
        // Sessions are per account; the region only matters for Bedrock calls.
        let region = Region::parse(self.base.region().map_or("us-east-1", |r| r.as_ref()))
            .or_else(|| Region::parse("us-east-1"))
            .expect("us-east-1 is a region");
        let session = self
            .session(Location {
                account_id: &account.id,
                role_arn: account.role_arn.as_deref(),
                region: &region,
            })
            .await?;
        let config = aws_sdk_account::config::Builder::from(&session.config)
            .retry_partition(RetryPartition::new(format!("fleet/{}/account", account.id)))
            .build();
        let client = aws_sdk_account::Client::from_conf(config);
        let mut pages = client
            .list_regions()
            .region_opt_status_contains(RegionOptStatus::Enabled)
            .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
            .into_paginator()
            .send();
        let mut regions = Vec::new();
        while let Some(page) = pages.try_next().await.map_err(api_error)? {
            for region in page.regions() {
                let enabled = matches!(
                    region.region_opt_status(),
                    Some(RegionOptStatus::Enabled | RegionOptStatus::EnabledByDefault)
                );
                if let (true, Some(name)) = (enabled, region.region_name()) {
                    regions.push(name.to_owned());
                }
            }
        }
        Ok(regions)
    }
}

impl DiscoveryApi for Organizations<'_> {
    async fn accounts_under(&self, parent: &str) -> Result<Vec<OrgAccount>, ApiError> {
        let mut pages = self
            .organizations
            .list_accounts_for_parent()
            .parent_id(parent)
            .into_paginator()
            .send();
        let mut accounts = Vec::new();
        while let Some(page) = pages.try_next().await.map_err(api_error)? {
            for account in page.accounts() {
                let id = account.id().unwrap_or_default();
                let id = AccountId::parse(id).ok_or_else(|| {
                    ApiError::new(
                        crate::engine::ErrorCode::InvalidResponse,
                        format!("organizations:ListAccountsForParent on {parent} returned the account id `{id}`"),
                    )
                })?;
                // `State` replaces the deprecated `Status`; older answers
                // (and emulators) may carry only the latter.
                let state = account
                    .state()
                    .map(|s| s.as_str().to_owned())
                    .or_else(|| account.status().map(|s| s.as_str().to_owned()))
                    .unwrap_or_else(|| "UNKNOWN".to_owned());
                accounts.push(OrgAccount {
                    id,
                    name: account.name().unwrap_or_default().to_owned(),
                    state,
                });
            }
        }
        Ok(accounts)
    }

    async fn units_under(&self, parent: &str) -> Result<Vec<String>, ApiError> {
        let mut pages = self
            .organizations
            .list_organizational_units_for_parent()
            .parent_id(parent)
            .into_paginator()
            .send();
        let mut units = Vec::new();
        while let Some(page) = pages.try_next().await.map_err(api_error)? {
            units.extend(
                page.organizational_units()
                    .iter()
                    .filter_map(|unit| unit.id().map(str::to_owned)),
            );
        }
        Ok(units)
    }

    async fn enabled_regions(&self, account: &Account) -> Result<Vec<String>, ApiError> {
        self.aws.enabled_regions(account).await
    }
}

impl Organizations<'_> {
    /// The SCPs attached directly to `target` (an account, OU or root id).
    async fn attached_scps(&self, target: &str) -> Result<Vec<PolicyInEffect>, ApiError> {
        let mut pages = self
            .organizations
            .list_policies_for_target()
            .target_id(target)
            .filter(PolicyType::ServiceControlPolicy)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            for summary in page.map_err(api_error)?.policies() {
                let Some(id) = summary.id() else { continue };
                out.push(PolicyInEffect {
                    name: summary.name().unwrap_or(id).to_owned(),
                    target: target.to_owned(),
                    content: self.policy_text(id).await?,
                });
            }
        }
        Ok(out)
    }
}

impl Organizations<'_> {
    /// A policy's document, described once per run.
    async fn policy_text(&self, id: &str) -> Result<String, ApiError> {
        if let Some(text) = self.policy_texts.lock().await.get(id) {
            return Ok(text.clone());
        }
        let described = self
            .organizations
            .describe_policy()
            .policy_id(id)
            .send()
            .await
            .map_err(api_error)?;
        let text = described
            .policy()
            .and_then(|p| p.content())
            .unwrap_or_default()
            .to_owned();
        self.policy_texts
            .lock()
            .await
            .insert(id.to_owned(), text.clone());
        Ok(text)
    }
}

impl LockApi for Organizations<'_> {
    async fn management_account(&self) -> Result<Option<String>, ApiError> {
        let organization = self
            .organizations
            .describe_organization()
            .send()
            .await
            .map_err(api_error)?;
        Ok(organization
            .organization()
            .and_then(|o| o.master_account_id())
            .map(str::to_owned))
    }

    async fn policies_in_effect(&self, account: &AccountId) -> Result<PolicyView, ApiError> {
        // The account, then each parent up to the root: SCPs are inherited.
        let mut policies = Vec::new();
        let mut target = account.to_string();
        loop {
            policies.extend(self.attached_scps(&target).await?);
            let parents = self
                .organizations
                .list_parents()
                .child_id(&target)
                .send()
                .await
                .map_err(api_error)?;
            let Some(parent) = parents.parents().first() else {
                break;
            };
            let Some(id) = parent.id() else { break };
            target = id.to_owned();
            if parent.r#type() == Some(&ParentType::Root) {
                policies.extend(self.attached_scps(&target).await?);
                break;
            }
        }
        Ok(PolicyView::Policies(policies))
    }
}
