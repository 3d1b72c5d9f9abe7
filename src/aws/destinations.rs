//! Preflight's reads of logging destinations: S3 buckets, CloudWatch log
//! groups and IAM roles, with the target account's credentials.

use percent_encoding::percent_decode_str;

use super::{Aws, api_error};
use crate::engine::preflight::{BucketFacts, DestinationApi, LogGroupFacts, RoleFacts};
use crate::engine::{ApiError, Location};

/// IAM returns policy documents URL-encoded.
pub(super) fn decode(document: &str) -> String {
    percent_decode_str(document)
        .decode_utf8_lossy()
        .into_owned()
}

/// "This thing does not exist" answers, which are facts, not failures.
pub(super) fn absent<T>(
    result: Result<T, ApiError>,
    codes: &[&str],
) -> Result<Option<T>, ApiError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.code.aws().is_some_and(|code| codes.contains(&code)) => Ok(None),
        Err(err) => Err(err),
    }
}

impl Aws {
    /// The target account's S3 client in the target's region (built once).
    pub(super) async fn s3(&self, at: Location<'_>) -> Result<aws_sdk_s3::Client, ApiError> {
        Ok(self.session(at).await?.s3(at.region))
    }

    /// The target account's CloudWatch Logs client in the target's region
    /// (built once).
    pub(super) async fn logs(
        &self,
        at: Location<'_>,
    ) -> Result<aws_sdk_cloudwatchlogs::Client, ApiError> {
        Ok(self.session(at).await?.logs(at.region))
    }

    /// The target account's IAM client (built once).
    pub(super) async fn iam(&self, at: Location<'_>) -> Result<aws_sdk_iam::Client, ApiError> {
        Ok(self.session(at).await?.iam())
    }
}

impl DestinationApi for Aws {
    async fn bucket(&self, at: Location<'_>, bucket: &str) -> BucketFacts {
        let client = match self.s3(at).await {
            Ok(client) => client,
            Err(err) => {
                return BucketFacts {
                    region: Err(err.clone()),
                    policy: Err(err.clone()),
                    ownership: Err(err.clone()),
                    encryption: Err(err),
                };
            }
        };
        let region = absent(
            client
                .get_bucket_location()
                .bucket(bucket)
                .send()
                .await
                .map_err(api_error),
            &["NoSuchBucket"],
        )
        .map(|found| {
            found.map(
                |output| match output.location_constraint().map(|c| c.as_str()) {
                    None | Some("") => "us-east-1".to_owned(),
                    Some("EU") => "eu-west-1".to_owned(),
                    Some(region) => region.to_owned(),
                },
            )
        });
        if matches!(region, Ok(None)) {
            return BucketFacts {
                region,
                policy: Ok(None),
                ownership: Ok(None),
                encryption: Ok(None),
            };
        }
        let policy = absent(
            client
                .get_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .map_err(api_error),
            &["NoSuchBucketPolicy"],
        )
        .map(|found| found.and_then(|output| output.policy));
        let ownership = absent(
            client
                .get_bucket_ownership_controls()
                .bucket(bucket)
                .send()
                .await
                .map_err(api_error),
            &["OwnershipControlsNotFoundError"],
        )
        .map(|found| {
            found.and_then(|output| {
                output
                    .ownership_controls()
                    .and_then(|controls| controls.rules().first())
                    .map(|rule| rule.object_ownership().as_str().to_owned())
            })
        });
        let encryption = absent(
            client
                .get_bucket_encryption()
                .bucket(bucket)
                .send()
                .await
                .map_err(api_error),
            &["ServerSideEncryptionConfigurationNotFoundError"],
        )
        .map(|found| {
            found.and_then(|output| {
                let rule = output
                    .server_side_encryption_configuration()?
                    .rules()
                    .first()?;
                let default = rule.apply_server_side_encryption_by_default()?;
                Some((
                    default.sse_algorithm().as_str().to_owned(),
                    default.kms_master_key_id().map(str::to_owned),
                ))
            })
        });
        BucketFacts {
            region,
            policy,
            ownership,
            encryption,
        }
    }

    async fn log_group(
        &self,
        at: Location<'_>,
        name: &str,
    ) -> Result<Option<LogGroupFacts>, ApiError> {
        let output = self
            .logs(at)
            .await?
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .map_err(api_error)?;
        Ok(output
            .log_groups()
            .iter()
            .find(|group| group.log_group_name() == Some(name))
            .map(|group| LogGroupFacts {
                kms_key_id: group.kms_key_id().map(str::to_owned),
            }))
    }

    async fn role(&self, at: Location<'_>, role_arn: &str) -> Result<Option<RoleFacts>, ApiError> {
        let iam = self.iam(at).await?;
        let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        let Some(role) = absent(
            iam.get_role()
                .role_name(name)
                .send()
                .await
                .map_err(api_error),
            &["NoSuchEntity"],
        )?
        else {
            return Ok(None);
        };
        let trust_policy = role
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .map(decode)
            .unwrap_or_default();
        let mut policies = Vec::new();
        let inline = iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(api_error)?;
        for policy in inline.policy_names() {
            let document = iam
                .get_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .map_err(api_error)?;
            policies.push(decode(document.policy_document()));
        }
        let attached = iam
            .list_attached_role_policies()
            .role_name(name)
            .send()
            .await
            .map_err(api_error)?;
        for policy in attached.attached_policies() {
            let Some(arn) = policy.policy_arn() else {
                continue;
            };
            let found = iam
                .get_policy()
                .policy_arn(arn)
                .send()
                .await
                .map_err(api_error)?;
            let Some(version) = found.policy().and_then(|p| p.default_version_id()) else {
                continue;
            };
            let document = iam
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
                .await
                .map_err(api_error)?;
            if let Some(text) = document.policy_version().and_then(|v| v.document()) {
                policies.push(decode(text));
            }
        }
        Ok(Some(RoleFacts {
            trust_policy,
            policies,
        }))
    }
}
