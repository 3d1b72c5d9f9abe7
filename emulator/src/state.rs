//! What the emulator remembers: one logging configuration per account × region,
//! the destinations (S3 buckets, IAM roles, log groups, each kept by its own
//! module), request and fault counters, and the per-target call counts that
//! make fault decisions reproducible.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::EmulatorOptions;
use super::bedrock::LoggingConfig;
use super::faults::{self, FaultKind, Operation, Service};
use super::iam::Iam;
use super::identity::is_account_id;
use super::logs::LogGroups;
use super::s3::Buckets;

/// Request and fault counters, as `GET /_emulator/stats` returns them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmulatorStats {
    /// AWS requests received, by operation, faulted ones included.
    pub requests: RequestCounts,
    /// Faults injected, by kind.
    pub faults: FaultCounts,
    /// Requests refused the way AWS refuses them (not faults).
    #[serde(default)]
    pub rejected: RejectedCounts,
    /// Requests by operation name (`get`, `create_bucket`, `put_role_policy`,
    /// … as fault rules name them), for every operation called at least once.
    #[serde(default)]
    pub operations: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedCounts {
    /// Signed with an AssumeRole session past its expiry.
    pub expired_token: u64,
    /// Bedrock calls to a region the account has not enabled.
    pub region_not_enabled: u64,
    /// Puts refused because a destination was unusable
    /// (`EmulatorOptions::validate_destinations`).
    #[serde(default)]
    pub invalid_destinations: u64,
    /// CloudTrail LookupEvents calls over AWS's 2 per second per account
    /// and region.
    #[serde(default)]
    pub throttled_lookups: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    pub get: u64,
    pub put: u64,
    pub delete: u64,
    pub assume_role: u64,
    pub get_caller_identity: u64,
    /// S3 bucket calls, all operations together.
    #[serde(default)]
    pub s3: u64,
    /// IAM calls.
    #[serde(default)]
    pub iam: u64,
    /// CloudWatch Logs calls.
    #[serde(default)]
    pub logs: u64,
    /// S3, IAM and Logs calls that change state (create, put, update,
    /// attach, associate, delete), faulted ones included.
    #[serde(default)]
    pub destination_writes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    pub throttle: u64,
    pub error500: u64,
    pub drop: u64,
    pub slow: u64,
    pub denied: u64,
    pub iam_lag: u64,
}

/// Why a replacement state was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid emulator state: {0}")]
pub struct InvalidStateError(String);

struct StoredConfig {
    config: LoggingConfig,
    /// The whole GetModelInvocationLoggingConfiguration response body, built once.
    get_body: Bytes,
}

impl StoredConfig {
    /// `omitted`: the API members the target's region leaves out of Get.
    fn new(config: LoggingConfig, omitted: &[&str]) -> StoredConfig {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct GetResponse<'a> {
            logging_config: &'a LoggingConfig,
        }
        let response = GetResponse {
            logging_config: &config,
        };
        let get_body = if omitted.is_empty() {
            serde_json::to_vec(&response)
        } else {
            let full = serde_json::to_value(&response).expect("a logging config serialises");
            serde_json::to_vec(&super::regional::get_body_in_region(full, omitted))
        }
        .expect("a logging config serialises");
        StoredConfig {
            config,
            get_body: get_body.into(),
        }
    }
}

pub(crate) struct Shared {
    pub(crate) options: EmulatorOptions,
    /// Which regions each account has enabled, for ListRegions.
    pub(crate) regions: super::account::RegionOptIns,
    /// Buckets, global by name.
    pub(crate) s3: Buckets,
    /// Roles and managed policies, per account.
    pub(crate) iam: Iam,
    /// Log groups, per account × region.
    pub(crate) logs: LogGroups,
    /// CloudTrail's record of Bedrock's logging writes.
    pub(crate) trail: super::cloudtrail::Trail,
    /// Bedrock's Invocations metric, for GetMetricData.
    pub(crate) metrics: super::cloudwatch::Metrics,
    /// Keyed by `ACCOUNT/REGION`.
    configs: RwLock<HashMap<String, StoredConfig>>,
    /// Earlier calls per target and operation; only kept when there are fault rules.
    calls: Mutex<HashMap<(String, Operation), u64>>,
    /// Indexed by `Operation::index`.
    requests: Vec<AtomicU64>,
    faults: [AtomicU64; 6],
    /// Expired tokens, regions not enabled, then unusable destinations.
    rejected: [AtomicU64; 3],
    request_ids: AtomicU64,
}

impl Shared {
    pub(crate) fn new(options: EmulatorOptions) -> Shared {
        Shared {
            options,
            regions: Default::default(),
            s3: Buckets::default(),
            iam: Iam::default(),
            logs: LogGroups::default(),
            trail: Default::default(),
            metrics: Default::default(),
            configs: RwLock::default(),
            calls: Mutex::default(),
            requests: Operation::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            faults: Default::default(),
            rejected: Default::default(),
            request_ids: AtomicU64::new(0),
        }
    }

    /// The GetModelInvocationLoggingConfiguration body for `target`, if one is stored.
    pub(crate) fn logging_config_body(&self, target: &str) -> Option<Bytes> {
        let configs = self.configs.read().unwrap_or_else(PoisonError::into_inner);
        configs.get(target).map(|stored| stored.get_body.clone())
    }

    /// What Get leaves out at `target` (`ACCOUNT/REGION`).
    fn omitted_at(&self, target: &str) -> &[&'static str] {
        let region = target.split_once('/').map_or("", |(_, region)| region);
        self.options.omitted_flags.in_region(region)
    }

    pub(crate) fn put_logging_config(&self, target: String, config: LoggingConfig) {
        let stored = StoredConfig::new(config, self.omitted_at(&target));
        let mut configs = self.configs.write().unwrap_or_else(PoisonError::into_inner);
        configs.insert(target, stored);
    }

    pub(crate) fn delete_logging_config(&self, target: &str) {
        let mut configs = self.configs.write().unwrap_or_else(PoisonError::into_inner);
        configs.remove(target);
    }

    /// Every stored configuration as `{"ACCOUNT/REGION": loggingConfig}`, sorted by target.
    pub(crate) fn state_json(&self) -> Vec<u8> {
        let configs = self.configs.read().unwrap_or_else(PoisonError::into_inner);
        let sorted: BTreeMap<&str, &LoggingConfig> = configs
            .iter()
            .map(|(target, stored)| (target.as_str(), &stored.config))
            .collect();
        serde_json::to_vec(&sorted).expect("logging configs serialise")
    }

    /// Replaces every stored configuration; returns how many targets are now configured.
    pub(crate) fn replace_state(
        &self,
        state: HashMap<String, LoggingConfig>,
    ) -> Result<usize, InvalidStateError> {
        let mut configs = HashMap::with_capacity(state.len());
        for (target, config) in state {
            let valid = target.split_once('/').is_some_and(|(account, region)| {
                is_account_id(account) && !region.is_empty() && !region.contains('/')
            });
            if !valid {
                return Err(InvalidStateError(format!(
                    "`{target}` is not ACCOUNT/REGION with a 12-digit account id"
                )));
            }
            let stored = StoredConfig::new(config, self.omitted_at(&target));
            configs.insert(target, stored);
        }
        let count = configs.len();
        let previous = std::mem::replace(
            &mut *self.configs.write().unwrap_or_else(PoisonError::into_inner),
            configs,
        );
        // Free the old map outside the lock.
        drop(previous);
        Ok(count)
    }

    pub(crate) fn replace_state_from_json(&self, body: &[u8]) -> Result<usize, InvalidStateError> {
        let state = serde_json::from_slice(body).map_err(|err| {
            InvalidStateError(format!(
                "expected {{\"ACCOUNT/REGION\": loggingConfig, ...}}: {err}"
            ))
        })?;
        self.replace_state(state)
    }

    pub(crate) fn count_request(&self, operation: Operation) {
        self.requests[operation.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Decides, and counts, the fault of this call to `target` (`ACCOUNT/REGION`).
    pub(crate) fn fault_for(&self, target: &str, operation: Operation) -> Option<FaultKind> {
        let rules = &self.options.faults;
        if !rules.iter().any(|rule| rule.covers(operation, target)) {
            return None;
        }
        let nth = {
            let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
            let count = calls.entry((target.to_owned(), operation)).or_insert(0);
            *count += 1;
            *count - 1
        };
        let fault = faults::decide(rules, self.options.seed, target, operation, nth)?;
        self.faults[fault.index()].fetch_add(1, Ordering::Relaxed);
        Some(fault)
    }

    pub(crate) fn stats(&self) -> EmulatorStats {
        let request = |op: Operation| self.requests[op.index()].load(Ordering::Relaxed);
        let fault = |kind: FaultKind| self.faults[kind.index()].load(Ordering::Relaxed);
        let total = |keep: &dyn Fn(Operation) -> bool| -> u64 {
            Operation::ALL
                .iter()
                .filter(|op| keep(**op))
                .map(|op| request(*op))
                .sum()
        };
        let destination =
            |op: Operation| matches!(op.service(), Service::S3 | Service::Iam | Service::Logs);
        EmulatorStats {
            requests: RequestCounts {
                get: request(Operation::Get),
                put: request(Operation::Put),
                delete: request(Operation::Delete),
                assume_role: request(Operation::AssumeRole),
                get_caller_identity: request(Operation::GetCallerIdentity),
                s3: total(&|op| op.service() == Service::S3),
                iam: total(&|op| op.service() == Service::Iam),
                logs: total(&|op| op.service() == Service::Logs),
                destination_writes: total(&|op| destination(op) && op.writes()),
            },
            faults: FaultCounts {
                throttle: fault(FaultKind::Throttle),
                error500: fault(FaultKind::Error500),
                drop: fault(FaultKind::Drop),
                slow: fault(FaultKind::Slow),
                denied: fault(FaultKind::Denied),
                iam_lag: fault(FaultKind::IamLag),
            },
            rejected: RejectedCounts {
                expired_token: self.rejected[0].load(Ordering::Relaxed),
                region_not_enabled: self.rejected[1].load(Ordering::Relaxed),
                invalid_destinations: self.rejected[2].load(Ordering::Relaxed),
                throttled_lookups: self.trail.throttled.load(Ordering::Relaxed),
            },
            operations: Operation::ALL
                .iter()
                .map(|op| (op.name().to_owned(), request(*op)))
                .filter(|(_, count)| *count > 0)
                .collect(),
        }
    }

    pub(crate) fn count_expired_token(&self) {
        self.rejected[0].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_region_not_enabled(&self) {
        self.rejected[1].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_invalid_destinations(&self) {
        self.rejected[2].fetch_add(1, Ordering::Relaxed);
    }

    /// Every destination, as `GET /_emulator/destinations` returns it.
    pub(crate) fn destinations_json(&self) -> Vec<u8> {
        let (roles, policies) = self.iam.state_json();
        let state = serde_json::json!({
            "buckets": self.s3.state_json(),
            "log_groups": self.logs.state_json(),
            "roles": roles,
            "managed_policies": policies,
        });
        serde_json::to_vec(&state).expect("destinations serialise")
    }

    /// Zeroes the counters; fault decisions keep their call counts, so a reset
    /// does not replay the fault sequence.
    pub(crate) fn reset_stats(&self) {
        for counter in self
            .requests
            .iter()
            .chain(&self.faults)
            .chain(&self.rejected)
            .chain([&self.trail.throttled])
        {
            counter.store(0, Ordering::Relaxed);
        }
    }

    /// A fresh request id in the UUID form AWS uses.
    pub(crate) fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("e0000000-0000-4000-8000-{n:012x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_counts_are_per_target_and_operation() {
        let options = EmulatorOptions {
            faults: vec!["throttle:0.5:*/*:*".parse().unwrap()],
            seed: 3,
            ..EmulatorOptions::default()
        };
        let a = Shared::new(options.clone());
        let b = Shared::new(options);
        // Interleave differently: each target's sequence must be the same.
        let a_x: Vec<_> = (0..50)
            .map(|_| a.fault_for("1/x", Operation::Get))
            .collect();
        let a_y: Vec<_> = (0..50)
            .map(|_| a.fault_for("1/y", Operation::Get))
            .collect();
        let mut b_x = Vec::new();
        let mut b_y = Vec::new();
        for _ in 0..50 {
            b_y.push(b.fault_for("1/y", Operation::Get));
            b.fault_for("1/x", Operation::Put);
            b_x.push(b.fault_for("1/x", Operation::Get));
        }
        assert_eq!(a_x, b_x);
        assert_eq!(a_y, b_y);
        assert_ne!(a_x, a_y);
    }

    #[test]
    fn state_rejects_bad_targets() {
        let shared = Shared::new(EmulatorOptions::default());
        let err = shared
            .replace_state_from_json(br#"{"prod/us-east-1": {"s3Config": {"bucketName": "abc"}}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("`prod/us-east-1`"), "{err}");
        let err = shared
            .replace_state_from_json(br#"{"111111111111/us-east-1": {"s3_config": {}}}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `s3_config`"),
            "{err}"
        );
    }

    #[test]
    fn a_benchmark_state_fits_the_cap() {
        // 100,000 targets of bench/gen_fleet.py's profile: both destinations,
        // names as long as the benchmark's.
        let regions = [
            "ap-southeast-4",
            "eu-central-2",
            "us-east-1",
            "me-central-1",
        ];
        let mut state = serde_json::Map::new();
        for n in 0..25_000u64 {
            let account = format!("{:012}", 100_000_000_000 + n);
            for region in regions {
                let config = serde_json::json!({
                    "s3Config": {"bucketName": format!("bedrock-logs-{account}-{region}"), "keyPrefix": "bedrock-invocations"},
                    "cloudWatchConfig": {
                        "logGroupName": "/aws/bedrock/model-invocations",
                        "roleArn": format!("arn:aws:iam::{account}:role/bedrock-cloudwatch-logging"),
                        "largeDataDeliveryS3Config": {"bucketName": format!("bedrock-large-{account}-{region}"), "keyPrefix": "large-data"}
                    },
                    "textDataDeliveryEnabled": true,
                    "imageDataDeliveryEnabled": true,
                    "embeddingDataDeliveryEnabled": true,
                    "videoDataDeliveryEnabled": false,
                    "audioDataDeliveryEnabled": false
                });
                state.insert(format!("{account}/{region}"), config);
            }
        }
        let state = serde_json::Value::Object(state);
        let compact = serde_json::to_vec(&state).unwrap().len();
        let indented = serde_json::to_vec_pretty(&state).unwrap().len();
        let cap = super::super::server::MAX_ADMIN_BODY;
        assert!(
            compact > 40_000_000,
            "the state is realistic: {compact} bytes"
        );
        assert!(indented < cap, "{indented} bytes indented, cap {cap}");
    }
}
