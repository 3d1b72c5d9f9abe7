//! CloudTrail: the management events of Bedrock's logging writes, and
//! `LookupEvents` (AWS JSON 1.1, `CloudTrail_20131101.LookupEvents`) to read
//! them back, per account × region as CloudTrail's event history keeps them.
//!
//! Every Put and Delete of the logging configuration is recorded, the ones
//! refused with an AWS error too (with `errorCode` and `errorMessage`, as
//! CloudTrail records failed calls). Only the newest [`EVENTS_PER_TARGET`]
//! of each account × region are kept, so memory stays bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use super::identity::{Caller, now_ms};
use super::wire::{Protocol, Reply};

/// Events kept per account × region; older ones are forgotten.
pub(crate) const EVENTS_PER_TARGET: usize = 1_000;
/// "The rate of lookup requests is limited to two per second, per account,
/// per region" (CloudTrail API reference, LookupEvents).
const LOOKUPS_PER_SECOND: f64 = 2.0;
const MAX_RESULTS: usize = 50;
const EVENT_SOURCE: &str = "bedrock.amazonaws.com";

/// One Bedrock write as it was answered, to be recorded.
pub(crate) struct WriteCall<'a> {
    pub(crate) event_name: &'static str,
    pub(crate) request_parameters: Value,
    /// `(errorCode, errorMessage)` of a refused call.
    pub(crate) error: Option<(String, String)>,
    pub(crate) request_id: &'a str,
    pub(crate) source_ip: String,
    pub(crate) user_agent: String,
}

struct Recorded {
    seq: u64,
    time_ms: u64,
    event_id: String,
    event_name: &'static str,
    access_key_id: String,
    username: String,
    /// The whole CloudTrail event, as `CloudTrailEvent` carries it.
    event: Value,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

#[derive(Default)]
pub(crate) struct Trail {
    /// Keyed by `ACCOUNT/REGION`, oldest first.
    events: Mutex<HashMap<String, VecDeque<Recorded>>>,
    /// LookupEvents' rate limit, per `ACCOUNT/REGION`.
    buckets: Mutex<HashMap<String, Bucket>>,
    seq: AtomicU64,
    /// LookupEvents calls refused by the rate limit.
    pub(crate) throttled: AtomicU64,
}

impl Trail {
    pub(crate) fn record(&self, caller: &Caller, call: WriteCall<'_>) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let time_ms = now_ms();
        let event_id = format!("c0000000-0000-4000-8000-{seq:012x}");
        let mut event = json!({
            "eventVersion": "1.09",
            "userIdentity": caller.cloudtrail_identity(),
            "eventTime": iso_time(time_ms),
            "eventSource": EVENT_SOURCE,
            "eventName": call.event_name,
            "awsRegion": caller.region,
            "sourceIPAddress": call.source_ip,
            "userAgent": call.user_agent,
            "requestParameters": call.request_parameters,
            "responseElements": Value::Null,
            "requestID": call.request_id,
            "eventID": event_id,
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": caller.account,
            "eventCategory": "Management",
        });
        if let Some((code, message)) = call.error {
            event["errorCode"] = json!(code);
            event["errorMessage"] = json!(message);
        }
        let recorded = Recorded {
            seq,
            time_ms,
            event_id,
            event_name: call.event_name,
            access_key_id: caller.access_key_id.clone(),
            username: caller.user_name().to_owned(),
            event,
        };
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = events.entry(caller.target()).or_default();
        if kept.len() == EVENTS_PER_TARGET {
            kept.pop_front();
        }
        kept.push_back(recorded);
    }

    /// Every recorded event, `{"ACCOUNT/REGION": [event, …]}` newest first.
    pub(crate) fn events_json(&self) -> Vec<u8> {
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let sorted: std::collections::BTreeMap<&str, Vec<&Value>> = events
            .iter()
            .map(|(target, kept)| {
                (
                    target.as_str(),
                    kept.iter().rev().map(|r| &r.event).collect(),
                )
            })
            .collect();
        serde_json::to_vec(&sorted).expect("events serialise")
    }

    /// Takes one token of the caller's bucket; false when it is empty.
    fn admit(&self, target: String) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let bucket = buckets.entry(target).or_insert(Bucket {
            tokens: LOOKUPS_PER_SECOND,
            refilled: now,
        });
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * LOOKUPS_PER_SECOND).min(LOOKUPS_PER_SECOND);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub(crate) fn lookup_events(&self, caller: &Caller, body: &[u8], request_id: &str) -> Reply {
        let error =
            |code: &str, message: &str| Protocol::AwsJson.error(400, code, message, request_id);
        if !self.admit(caller.target()) {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            return error("ThrottlingException", "Rate exceeded");
        }
        let input: LookupInput =
            match serde_json::from_slice(if body.is_empty() { b"{}" } else { body }) {
                Ok(input) => input,
                Err(err) => {
                    return error(
                        "SerializationException",
                        &format!("could not read the request: {err}"),
                    );
                }
            };
        let attribute = match input.lookup_attributes.as_deref().unwrap_or_default() {
            [] => None,
            [one] => Some(one),
            _ => {
                return error(
                    "InvalidLookupAttributesException",
                    "You can specify only one lookup attribute.",
                );
            }
        };
        if let Some(attribute) = attribute
            && !KEYS.contains(&attribute.attribute_key.as_str())
        {
            let message = format!(
                "Lookup attribute key {} is not valid; use one of {}",
                attribute.attribute_key,
                KEYS.join(", ")
            );
            return error("InvalidLookupAttributesException", &message);
        }
        let max = input.max_results.unwrap_or(MAX_RESULTS as i64);
        if !(1..=MAX_RESULTS as i64).contains(&max) {
            return error(
                "InvalidMaxResultsException",
                "Value for MaxResults must be between 1 and 50.",
            );
        }
        let start_ms = input.start_time.map(|s| (s * 1000.0) as u64);
        let end_ms = input.end_time.map(|s| (s * 1000.0) as u64);
        if let (Some(start), Some(end)) = (start_ms, end_ms)
            && start > end
        {
            return error(
                "InvalidTimeRangeException",
                "Start time must be earlier than end time.",
            );
        }
        let before = match input.next_token.as_deref() {
            None => u64::MAX,
            Some(token) => match token.parse::<u64>() {
                Ok(seq) => seq,
                Err(_) => return error("InvalidNextTokenException", "Invalid NextToken."),
            },
        };

        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let empty = VecDeque::new();
        let kept = events.get(&caller.target()).unwrap_or(&empty);
        let mut matching = kept.iter().rev().filter(|r| {
            r.seq < before
                && start_ms.is_none_or(|start| r.time_ms >= start)
                && end_ms.is_none_or(|end| r.time_ms <= end)
                && attribute.is_none_or(|a| r.matches(&a.attribute_key, &a.attribute_value))
        });
        let page: Vec<&Recorded> = matching.by_ref().take(max as usize).collect();
        let more = matching.next().is_some();
        let mut output = json!({
            "Events": page.iter().map(|r| r.summary()).collect::<Vec<_>>(),
        });
        if more && let Some(last) = page.last() {
            output["NextToken"] = json!(last.seq.to_string());
        }
        Reply::json(output)
    }
}

/// The lookup attribute keys AWS accepts.
const KEYS: [&str; 8] = [
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

impl Recorded {
    fn matches(&self, key: &str, value: &str) -> bool {
        match key {
            "EventId" => self.event_id == value,
            "EventName" => self.event_name == value,
            "ReadOnly" => value == "false",
            "Username" => self.username == value,
            "EventSource" => EVENT_SOURCE == value,
            "AccessKeyId" => self.access_key_id == value,
            // Logging writes name no resources.
            _ => false,
        }
    }

    /// The `Event` of a LookupEvents answer.
    fn summary(&self) -> Value {
        json!({
            "EventId": self.event_id,
            "EventName": self.event_name,
            "ReadOnly": "false",
            "AccessKeyId": self.access_key_id,
            "EventTime": self.time_ms / 1000,
            "EventSource": EVENT_SOURCE,
            "Username": self.username,
            "Resources": [],
            "CloudTrailEvent": self.event.to_string(),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupInput {
    lookup_attributes: Option<Vec<LookupAttribute>>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

/// `2026-12-02T17:14:58Z`, as CloudTrail writes `eventTime`.
fn iso_time(ms: u64) -> String {
    jiff::Timestamp::from_second((ms / 1000) as i64)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_event_time_like_cloudtrail() {
        assert_eq!(iso_time(1_764_695_698_000), "2025-12-02T17:14:58Z");
    }
}
