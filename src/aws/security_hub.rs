//! Security Hub: fleet's findings as AWS Security Finding Format findings,
//! imported in the target's own account and region.

use aws_sdk_securityhub::types as hub;

use super::{Aws, api_error};
use crate::engine::security_hub::{
    ExistingFinding, GENERATOR_PREFIX, HubFinding, HubState, SecurityHubApi,
};
use crate::engine::{ApiError, Location};

/// The ASFF schema version Security Hub accepts.
const SCHEMA_VERSION: &str = "2018-10-08";

/// The finding type of every fleet finding (ASFF's namespace/category).
const FINDING_TYPE: &str = "Software and Configuration Checks/AWS Security Best Practices";

/// The product every account can import its own findings under: the
/// account's `default` product ("custom integrations" in the Security Hub
/// user guide).
fn product_arn(at: Location<'_>) -> String {
    format!(
        "arn:{partition}:securityhub:{region}:{account}:product/{account}/default",
        partition = at.region.partition(),
        region = at.region,
        account = at.account_id
    )
}

fn equals(value: &str) -> hub::StringFilter {
    hub::StringFilter::builder()
        .comparison(hub::StringFilterComparison::Equals)
        .value(value)
        .build()
}

fn finding(at: Location<'_>, f: &HubFinding, now: &str) -> hub::AwsSecurityFinding {
    let (record, compliance) = match f.state {
        HubState::Active => (hub::RecordState::Active, hub::ComplianceStatus::Failed),
        HubState::Resolved => (hub::RecordState::Archived, hub::ComplianceStatus::Passed),
    };
    hub::AwsSecurityFinding::builder()
        .schema_version(SCHEMA_VERSION)
        .id(&f.id)
        .product_arn(product_arn(at))
        .generator_id(&f.generator_id)
        .aws_account_id(f.account_id.as_str())
        .region(f.region.as_str())
        .types(FINDING_TYPE)
        .created_at(f.created_at.as_deref().unwrap_or(now))
        .updated_at(now)
        .severity(
            hub::Severity::builder()
                .label(hub::SeverityLabel::from(f.severity.label()))
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .remediation(
            hub::Remediation::builder()
                .recommendation(hub::Recommendation::builder().text(&f.remediation).build())
                .build(),
        )
        .resources(
            hub::Resource::builder()
                .r#type("AwsAccount")
                .id(format!("AWS::::Account:{}", f.account_id))
                .partition(hub::Partition::from(f.region.partition()))
                .region(f.region.as_str())
                .build(),
        )
        // Security Hub keeps the top-level severity and types of the first
        // import; a provider updates them through FindingProviderFields.
        .finding_provider_fields(
            hub::FindingProviderFields::builder()
                .severity(
                    hub::FindingProviderSeverity::builder()
                        .label(hub::SeverityLabel::from(f.severity.label()))
                        .build(),
                )
                .types(FINDING_TYPE)
                .build(),
        )
        .compliance(hub::Compliance::builder().status(compliance).build())
        .record_state(record)
        .product_fields("fleet/target", format!("{}/{}", f.account_id, f.region))
        .build()
}

impl SecurityHubApi for Aws {
    async fn active_findings(&self, at: Location<'_>) -> Result<Vec<ExistingFinding>, ApiError> {
        let client = aws_sdk_securityhub::Client::new(&self.regional(at).await?);
        let product = product_arn(at);
        let filters = hub::AwsSecurityFindingFilters::builder()
            .product_arn(equals(&product))
            .generator_id(
                hub::StringFilter::builder()
                    .comparison(hub::StringFilterComparison::Prefix)
                    .value(GENERATOR_PREFIX)
                    .build(),
            )
            .aws_account_id(equals(at.account_id.as_str()))
            .region(equals(at.region.as_str()))
            .record_state(equals("ACTIVE"))
            .build();
        let mut pages = client
            .get_findings()
            .filters(filters)
            .max_results(100)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api_error)?;
            // The filters say the same; checked again so that whatever the
            // service returns, fleet touches only findings of its own here.
            for f in page.findings() {
                let (Some(id), Some(created_at)) = (f.id(), f.created_at()) else {
                    continue;
                };
                let ours = id.starts_with(GENERATOR_PREFIX)
                    && f.product_arn() == Some(product.as_str())
                    && f.aws_account_id() == Some(at.account_id.as_str())
                    && f.region().is_none_or(|r| r == at.region.as_str())
                    && f.record_state() != Some(&hub::RecordState::Archived);
                if ours {
                    found.push(ExistingFinding {
                        id: id.to_owned(),
                        created_at: created_at.to_owned(),
                    });
                }
            }
        }
        Ok(found)
    }

    async fn import(
        &self,
        at: Location<'_>,
        findings: &[HubFinding],
        now: &str,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let client = aws_sdk_securityhub::Client::new(&self.regional(at).await?);
        let output = client
            .batch_import_findings()
            .set_findings(Some(findings.iter().map(|f| finding(at, f, now)).collect()))
            .send()
            .await
            .map_err(api_error)?;
        Ok(output
            .failed_findings()
            .iter()
            .map(|e| {
                (
                    e.id().unwrap_or_default().to_owned(),
                    format!(
                        "{}: {}",
                        e.error_code().unwrap_or("Error"),
                        e.error_message().unwrap_or("refused")
                    ),
                )
            })
            .collect())
    }
}
