//! CloudWatch Logs log groups (JSON 1.1, `X-Amz-Target: Logs_20140328.*`),
//! per account × region: the calls fleet makes to check and to keep the log
//! group Bedrock writes to.
//!
//! Retention takes only the values CloudWatch accepts; a KMS key must be a
//! key ARN of the group's own region (whether the key's policy lets
//! CloudWatch use it is not emulated).

use std::collections::{BTreeMap, HashMap};
use std::sync::{PoisonError, RwLock};

use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::Operation;
use super::identity::{Caller, now_ms};
use super::wire::{Protocol, Reply};

const TARGET_PREFIX: &str = "Logs_20140328.";

/// The retention periods PutRetentionPolicy accepts, in days.
pub(crate) const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Log groups by `ACCOUNT/REGION`, then by name.
#[derive(Default)]
pub(crate) struct LogGroups {
    groups: RwLock<HashMap<String, BTreeMap<String, LogGroup>>>,
}

struct LogGroup {
    creation_time: u64,
    retention_in_days: Option<u32>,
    kms_key_id: Option<String>,
}

/// Reads which Logs call an `X-Amz-Target` names.
pub(crate) fn decode(target: Option<&str>) -> Result<Operation, (u16, &'static str, String)> {
    use Operation::*;
    let action = target.and_then(|target| target.strip_prefix(TARGET_PREFIX));
    Ok(match action {
        Some("CreateLogGroup") => CreateLogGroup,
        Some("DeleteLogGroup") => DeleteLogGroup,
        Some("DescribeLogGroups") => DescribeLogGroups,
        Some("PutRetentionPolicy") => PutRetentionPolicy,
        Some("DeleteRetentionPolicy") => DeleteRetentionPolicy,
        Some("AssociateKmsKey") => AssociateKmsKey,
        Some("DisassociateKmsKey") => DisassociateKmsKey,
        _ => {
            return Err((
                400,
                "UnknownOperationException",
                format!(
                    "the emulator serves no CloudWatch Logs operation {}",
                    target.unwrap_or("(no X-Amz-Target)")
                ),
            ));
        }
    })
}

// Everything optional, so that validation can name what is missing.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LogsRequest {
    log_group_name: Option<String>,
    /// AssociateKmsKey and DisassociateKmsKey may name the group by ARN instead.
    resource_identifier: Option<String>,
    kms_key_id: Option<String>,
    retention_in_days: Option<i64>,
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug)]
struct Failure {
    code: &'static str,
    message: String,
}

fn fail(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn invalid(message: impl Into<String>) -> Failure {
    fail("InvalidParameterException", message)
}

fn not_found() -> Failure {
    fail(
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
}

/// `[\.\-_/#A-Za-z0-9]+`, 1 to 512 characters.
fn check_name(name: &str) -> Result<(), Failure> {
    let valid = (1..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )))
    }
}

/// A KMS key ARN in `region`.
fn check_kms_key(key: &str, region: &str) -> Result<(), Failure> {
    let parts: Vec<&str> = key.splitn(6, ':').collect();
    let valid = matches!(
        parts.as_slice(),
        ["arn", partition, "kms", key_region, account, resource]
            if partition.starts_with("aws")
                && *key_region == region
                && account.len() == 12
                && resource.starts_with("key/")
    );
    if valid {
        Ok(())
    } else {
        Err(invalid(format!(
            "Specified KMS key is not a KMS key ARN in {region}: {key}"
        )))
    }
}

impl LogGroups {
    pub(crate) fn handle(
        &self,
        caller: &Caller,
        operation: Operation,
        body: &[u8],
        request_id: &str,
    ) -> Reply {
        let answer = if body.iter().all(u8::is_ascii_whitespace) {
            Ok(LogsRequest::default())
        } else {
            serde_json::from_slice::<LogsRequest>(body)
                .map_err(|err| fail("SerializationException", format!("{err}")))
        }
        .and_then(|request| self.answer(caller, operation, request));
        match answer {
            Ok(body) => Reply::json(body),
            Err(failure) => {
                Protocol::AwsJson.error(400, failure.code, &failure.message, request_id)
            }
        }
        .header("x-amzn-requestid", request_id)
    }

    fn answer(
        &self,
        caller: &Caller,
        operation: Operation,
        request: LogsRequest,
    ) -> Result<Value, Failure> {
        let region = caller.region.as_str();
        let account = caller.account.as_str();
        let arn_prefix = format!(
            "arn:{}:logs:{region}:{account}:log-group:",
            caller.partition()
        );
        // AssociateKmsKey and DisassociateKmsKey take either a name or an ARN.
        let named = request.log_group_name.clone().or_else(|| {
            request.resource_identifier.as_deref().map(|arn| {
                arn.strip_prefix(&arn_prefix)
                    .unwrap_or(arn)
                    .trim_end_matches(":*")
                    .to_owned()
            })
        });
        let group_name = || -> Result<String, Failure> {
            let name = named.clone().ok_or_else(|| {
                invalid("1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null")
            })?;
            check_name(&name)?;
            Ok(name)
        };
        let mut all = self.groups.write().unwrap_or_else(PoisonError::into_inner);
        let groups = all.entry(caller.target()).or_default();
        use Operation::*;
        match operation {
            CreateLogGroup => {
                let name = group_name()?;
                if let Some(key) = &request.kms_key_id {
                    check_kms_key(key, region)?;
                }
                if groups.contains_key(&name) {
                    return Err(fail(
                        "ResourceAlreadyExistsException",
                        "The specified log group already exists",
                    ));
                }
                groups.insert(
                    name,
                    LogGroup {
                        creation_time: now_ms(),
                        retention_in_days: None,
                        kms_key_id: request.kms_key_id,
                    },
                );
                Ok(json!({}))
            }
            DeleteLogGroup => {
                let name = group_name()?;
                groups.remove(&name).ok_or_else(not_found)?;
                Ok(json!({}))
            }
            DescribeLogGroups => {
                if request.log_group_name_prefix.is_some()
                    && request.log_group_name_pattern.is_some()
                {
                    return Err(invalid(
                        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
                    ));
                }
                let limit = match request.limit {
                    None => 50,
                    Some(limit @ 1..=50) => limit as usize,
                    Some(limit) => {
                        return Err(invalid(format!(
                            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 50"
                        )));
                    }
                };
                let prefix = request.log_group_name_prefix.as_deref().unwrap_or("");
                // The pattern matches anywhere in the name, case-insensitively.
                let pattern = request
                    .log_group_name_pattern
                    .as_deref()
                    .map(str::to_lowercase);
                let start = request.next_token.as_deref().unwrap_or("");
                let mut matching = groups
                    .range::<str, _>((std::ops::Bound::Included(start), std::ops::Bound::Unbounded))
                    .filter(|(name, _)| name.starts_with(prefix))
                    .filter(|(name, _)| {
                        pattern
                            .as_deref()
                            .is_none_or(|pattern| name.to_lowercase().contains(pattern))
                    });
                let page: Vec<Value> = matching
                    .by_ref()
                    .take(limit)
                    .map(|(name, group)| {
                        let mut value = json!({
                            "logGroupName": name,
                            "creationTime": group.creation_time,
                            "metricFilterCount": 0,
                            "arn": format!("{arn_prefix}{name}:*"),
                            "logGroupArn": format!("{arn_prefix}{name}"),
                            "storedBytes": 0,
                            "logGroupClass": "STANDARD",
                        });
                        if let Some(days) = group.retention_in_days {
                            value["retentionInDays"] = json!(days);
                        }
                        if let Some(key) = &group.kms_key_id {
                            value["kmsKeyId"] = json!(key);
                        }
                        value
                    })
                    .collect();
                let mut body = json!({ "logGroups": page });
                if let Some((next, _)) = matching.next() {
                    body["nextToken"] = json!(next);
                }
                Ok(body)
            }
            PutRetentionPolicy => {
                let name = group_name()?;
                let days = request.retention_in_days.ok_or_else(|| {
                    invalid("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null")
                })?;
                let accepted = u32::try_from(days)
                    .ok()
                    .filter(|days| RETENTION_DAYS.contains(days))
                    .ok_or_else(|| {
                        let values: Vec<String> =
                            RETENTION_DAYS.iter().map(ToString::to_string).collect();
                        invalid(format!(
                            "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                            values.join(", ")
                        ))
                    })?;
                groups
                    .get_mut(&name)
                    .ok_or_else(not_found)?
                    .retention_in_days = Some(accepted);
                Ok(json!({}))
            }
            DeleteRetentionPolicy => {
                let name = group_name()?;
                groups
                    .get_mut(&name)
                    .ok_or_else(not_found)?
                    .retention_in_days = None;
                Ok(json!({}))
            }
            AssociateKmsKey => {
                let name = group_name()?;
                let key = request.kms_key_id.ok_or_else(|| {
                    invalid("1 validation error detected: Value null at 'kmsKeyId' failed to satisfy constraint: Member must not be null")
                })?;
                check_kms_key(&key, region)?;
                groups.get_mut(&name).ok_or_else(not_found)?.kms_key_id = Some(key);
                Ok(json!({}))
            }
            DisassociateKmsKey => {
                let name = group_name()?;
                groups.get_mut(&name).ok_or_else(not_found)?.kms_key_id = None;
                Ok(json!({}))
            }
            other => unreachable!("{} is not a CloudWatch Logs call", other.name()),
        }
    }

    /// Whether `name` exists at `target` (`ACCOUNT/REGION`).
    pub(crate) fn exists(&self, target: &str, name: &str) -> bool {
        let all = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        all.get(target)
            .is_some_and(|groups| groups.contains_key(name))
    }

    /// Every log group as the admin endpoint shows it, by `ACCOUNT/REGION`.
    pub(crate) fn state_json(&self) -> Value {
        let all = self.groups.read().unwrap_or_else(PoisonError::into_inner);
        let sorted: BTreeMap<&String, &BTreeMap<String, LogGroup>> = all
            .iter()
            .filter(|(_, groups)| !groups.is_empty())
            .collect();
        let entries = sorted.into_iter().map(|(target, groups)| {
            let groups = groups.iter().map(|(name, group)| {
                (
                    name.clone(),
                    json!({
                        "retention_in_days": group.retention_in_days,
                        "kms_key_id": group.kms_key_id,
                    }),
                )
            });
            (target.clone(), Value::Object(groups.collect()))
        });
        Value::Object(entries.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys_are_checked() {
        assert!(check_name("/aws/bedrock/model-invocations").is_ok());
        assert!(check_name("has space").is_err());
        assert!(check_name("").is_err());
        assert!(check_kms_key("arn:aws:kms:eu-west-1:111111111111:key/abc", "eu-west-1").is_ok());
        assert!(check_kms_key("arn:aws:kms:us-east-1:111111111111:key/abc", "eu-west-1").is_err());
        assert!(check_kms_key("alias/aws/logs", "eu-west-1").is_err());
    }
}
