//! The reads and writes of managed destinations: S3 buckets, CloudWatch
//! log groups and IAM roles fleet creates and keeps.

use aws_sdk_s3::types as s3;

use super::destinations::{absent, decode};
use super::{Aws, api_error};
use crate::engine::destinations::{
    LIFECYCLE_RULE_ID, Live, LiveBucket, LiveLogGroup, LiveRole, ManagedApi, ROLE_POLICY_NAME,
    Resource, Step,
};
use crate::engine::preflight::DestinationApi;
use crate::engine::{ApiError, Location};

impl Aws {
    async fn read_bucket(&self, at: Location<'_>, name: &str) -> Result<LiveBucket, ApiError> {
        let facts = self.bucket(at, name).await;
        let region = facts.region?;
        if region.is_none() {
            return Ok(LiveBucket::default());
        }
        let client = self.s3(at).await?;
        let block = absent(
            client
                .get_public_access_block()
                .bucket(name)
                .send()
                .await
                .map_err(api_error),
            &["NoSuchPublicAccessBlockConfiguration"],
        )?;
        let public_access_blocked = block
            .and_then(|output| output.public_access_block_configuration)
            .is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            });
        let lifecycle = absent(
            client
                .get_bucket_lifecycle_configuration()
                .bucket(name)
                .send()
                .await
                .map_err(api_error),
            &["NoSuchLifecycleConfiguration"],
        )?;
        let fleet_lifecycle = lifecycle
            .map(|output| {
                output
                    .rules()
                    .iter()
                    .filter(|rule| is_fleet_rule(rule))
                    .filter_map(|rule| {
                        let days = rule.expiration()?.days()?;
                        let prefix = rule.filter().and_then(|f| f.prefix()).unwrap_or_default();
                        Some((prefix.to_owned(), u32::try_from(days).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(LiveBucket {
            region,
            policy: facts.policy?,
            ownership: facts.ownership?,
            public_access_blocked,
            encryption: facts.encryption?,
            fleet_lifecycle,
        })
    }

    async fn write_bucket(
        &self,
        at: Location<'_>,
        name: &str,
        step: &Step,
    ) -> Result<(), ApiError> {
        let client = self.s3(at).await?;
        match step {
            Step::CreateBucket => {
                let mut create = client.create_bucket().bucket(name);
                // us-east-1 is the one region that takes no constraint.
                if at.region.as_str() != "us-east-1" {
                    create = create.create_bucket_configuration(
                        s3::CreateBucketConfiguration::builder()
                            .location_constraint(s3::BucketLocationConstraint::from(
                                at.region.as_str(),
                            ))
                            .build(),
                    );
                }
                create.send().await.map_err(api_error)?;
            }
            Step::PutOwnershipControls => {
                let rule = s3::OwnershipControlsRule::builder()
                    .object_ownership(s3::ObjectOwnership::BucketOwnerEnforced)
                    .build()
                    .map_err(invalid)?;
                client
                    .put_bucket_ownership_controls()
                    .bucket(name)
                    .ownership_controls(
                        s3::OwnershipControls::builder()
                            .rules(rule)
                            .build()
                            .map_err(invalid)?,
                    )
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            Step::PutPublicAccessBlock => {
                client
                    .put_public_access_block()
                    .bucket(name)
                    .public_access_block_configuration(
                        s3::PublicAccessBlockConfiguration::builder()
                            .block_public_acls(true)
                            .ignore_public_acls(true)
                            .block_public_policy(true)
                            .restrict_public_buckets(true)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            Step::PutEncryption { kms_key_arn } => {
                let default = match kms_key_arn {
                    Some(key) => s3::ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(s3::ServerSideEncryption::AwsKms)
                        .kms_master_key_id(key),
                    None => s3::ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(s3::ServerSideEncryption::Aes256),
                }
                .build()
                .map_err(invalid)?;
                let rule = s3::ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .bucket_key_enabled(kms_key_arn.is_some())
                    .build();
                client
                    .put_bucket_encryption()
                    .bucket(name)
                    .server_side_encryption_configuration(
                        s3::ServerSideEncryptionConfiguration::builder()
                            .rules(rule)
                            .build()
                            .map_err(invalid)?,
                    )
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            Step::PutLifecycleRules { rules } => {
                // Other rules are kept exactly as read; fleet's are replaced.
                let existing = absent(
                    client
                        .get_bucket_lifecycle_configuration()
                        .bucket(name)
                        .send()
                        .await
                        .map_err(api_error),
                    &["NoSuchLifecycleConfiguration"],
                )?;
                let mut all: Vec<s3::LifecycleRule> = existing
                    .map(|output| output.rules().to_vec())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|rule| !is_fleet_rule(rule))
                    .collect();
                for (prefix, days) in rules {
                    all.push(
                        s3::LifecycleRule::builder()
                            .id(format!("{LIFECYCLE_RULE_ID}/{prefix}"))
                            .status(s3::ExpirationStatus::Enabled)
                            .filter(s3::LifecycleRuleFilter::builder().prefix(prefix).build())
                            .expiration(
                                s3::LifecycleExpiration::builder()
                                    .days(i32::try_from(*days).unwrap_or(i32::MAX))
                                    .build(),
                            )
                            .build()
                            .map_err(invalid)?,
                    );
                }
                if all.is_empty() {
                    client
                        .delete_bucket_lifecycle()
                        .bucket(name)
                        .send()
                        .await
                        .map_err(api_error)?;
                } else {
                    client
                        .put_bucket_lifecycle_configuration()
                        .bucket(name)
                        .lifecycle_configuration(
                            s3::BucketLifecycleConfiguration::builder()
                                .set_rules(Some(all))
                                .build()
                                .map_err(invalid)?,
                        )
                        .send()
                        .await
                        .map_err(api_error)?;
                }
            }
            Step::PutBucketPolicy { policy } => {
                client
                    .put_bucket_policy()
                    .bucket(name)
                    .policy(policy)
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            other => unreachable!("{other:?} is not a bucket step"),
        }
        Ok(())
    }
}

fn is_fleet_rule(rule: &s3::LifecycleRule) -> bool {
    rule.id()
        .is_some_and(|id| id.starts_with(LIFECYCLE_RULE_ID))
}

fn invalid(err: impl std::fmt::Display) -> ApiError {
    ApiError::new(crate::engine::ErrorCode::InvalidRequest, err.to_string())
}

impl ManagedApi for Aws {
    async fn read(&self, at: Location<'_>, resource: &Resource) -> Result<Live, ApiError> {
        match resource {
            Resource::Bucket { name, .. } => Ok(Live::Bucket(self.read_bucket(at, name).await?)),
            Resource::LogGroup { name, .. } => {
                let output = self
                    .logs(at)
                    .await?
                    .describe_log_groups()
                    .log_group_name_prefix(name)
                    .send()
                    .await
                    .map_err(api_error)?;
                let group = output
                    .log_groups()
                    .iter()
                    .find(|group| group.log_group_name() == Some(name.as_str()));
                Ok(Live::LogGroup(LiveLogGroup {
                    exists: group.is_some(),
                    retention_in_days: group
                        .and_then(|g| g.retention_in_days())
                        .and_then(|d| u32::try_from(d).ok()),
                    kms_key_id: group.and_then(|g| g.kms_key_id()).map(str::to_owned),
                }))
            }
            Resource::Role { name, .. } => {
                let iam = self.iam(at).await?;
                let role = absent(
                    iam.get_role()
                        .role_name(name)
                        .send()
                        .await
                        .map_err(api_error),
                    &["NoSuchEntity"],
                )?;
                let Some(role) = role else {
                    return Ok(Live::Role(LiveRole::default()));
                };
                let trust_policy = role
                    .role()
                    .and_then(|r| r.assume_role_policy_document())
                    .map(decode);
                let fleet_policy = absent(
                    iam.get_role_policy()
                        .role_name(name)
                        .policy_name(ROLE_POLICY_NAME)
                        .send()
                        .await
                        .map_err(api_error),
                    &["NoSuchEntity"],
                )?
                .map(|output| decode(output.policy_document()));
                Ok(Live::Role(LiveRole {
                    trust_policy: Some(trust_policy.unwrap_or_default()),
                    fleet_policy,
                }))
            }
        }
    }

    async fn write(
        &self,
        at: Location<'_>,
        resource: &Resource,
        step: &Step,
    ) -> Result<(), ApiError> {
        match resource {
            Resource::Bucket { name, .. } => self.write_bucket(at, name, step).await,
            Resource::LogGroup { name, .. } => {
                let logs = self.logs(at).await?;
                match step {
                    Step::CreateLogGroup { kms_key_arn } => {
                        logs.create_log_group()
                            .log_group_name(name)
                            .set_kms_key_id(kms_key_arn.clone())
                            .send()
                            .await
                            .map_err(api_error)?;
                    }
                    Step::PutRetention { days } => {
                        logs.put_retention_policy()
                            .log_group_name(name)
                            .retention_in_days(i32::try_from(*days).unwrap_or(i32::MAX))
                            .send()
                            .await
                            .map_err(api_error)?;
                    }
                    Step::AssociateKmsKey { kms_key_arn } => {
                        logs.associate_kms_key()
                            .log_group_name(name)
                            .kms_key_id(kms_key_arn)
                            .send()
                            .await
                            .map_err(api_error)?;
                    }
                    other => unreachable!("{other:?} is not a log group step"),
                }
                Ok(())
            }
            Resource::Role { name, .. } => {
                let iam = self.iam(at).await?;
                match step {
                    Step::CreateRole { trust_policy } => {
                        iam.create_role()
                            .role_name(name)
                            .assume_role_policy_document(trust_policy)
                            .description("Lets Amazon Bedrock deliver model invocation logs to CloudWatch Logs; kept by fleet")
                            .send()
                            .await
                            .map_err(api_error)?;
                    }
                    Step::UpdateTrustPolicy { trust_policy } => {
                        iam.update_assume_role_policy()
                            .role_name(name)
                            .policy_document(trust_policy)
                            .send()
                            .await
                            .map_err(api_error)?;
                    }
                    Step::PutRolePolicy { document } => {
                        iam.put_role_policy()
                            .role_name(name)
                            .policy_name(ROLE_POLICY_NAME)
                            .policy_document(document)
                            .send()
                            .await
                            .map_err(api_error)?;
                    }
                    other => unreachable!("{other:?} is not a role step"),
                }
                Ok(())
            }
        }
    }
}
