//! CloudTrail: the recorded writes of the logging configuration in one
//! account and region (`LookupEvents`, one attribute per call).

use std::time::Duration;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_types::date_time::Format;
use tokio::time::Instant;

use super::{Aws, api_error};
use crate::engine::attribution::{TrailApi, WRITE_EVENTS, WriteEvent};
use crate::engine::{ApiError, Location};

/// CloudTrail answers two LookupEvents calls per second per account and
/// region (CloudTrail API reference, LookupEvents); fleet's two calls in a
/// place are spaced by this much.
const LOOKUP_SPACING: Duration = Duration::from_millis(500);

/// The newest events of one name fleet reads: one page.
const LOOKUP_PAGE: i32 = 50;

/// The fields fleet shows, from the `CloudTrailEvent` JSON document.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recorded {
    #[serde(default)]
    user_identity: Identity,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<String>,
    user_agent: Option<String>,
    error_code: Option<String>,
}

#[derive(Default, serde::Deserialize)]
struct Identity {
    arn: Option<String>,
    #[serde(rename = "invokedBy")]
    invoked_by: Option<String>,
}

fn write_event(event: &aws_sdk_cloudtrail::types::Event) -> Option<WriteEvent> {
    let recorded: Recorded = serde_json::from_str(event.cloud_trail_event()?).ok()?;
    let principal_arn = recorded
        .user_identity
        .arn
        .or(recorded.user_identity.invoked_by)
        .or_else(|| event.username().map(str::to_owned))?;
    Some(WriteEvent {
        event_name: event.event_name()?.to_owned(),
        event_time: event.event_time()?.fmt(Format::DateTime).ok()?,
        principal_arn,
        source_ip: recorded.source_ip_address,
        user_agent: recorded.user_agent,
        error_code: recorded.error_code,
    })
}

impl TrailApi for Aws {
    async fn logging_writes(&self, at: Location<'_>) -> Result<Vec<WriteEvent>, ApiError> {
        let client = aws_sdk_cloudtrail::Client::new(&self.regional(at).await?);
        let mut events = Vec::new();
        let mut next_call = Instant::now();
        for name in WRITE_EVENTS {
            tokio::time::sleep_until(next_call).await;
            next_call = Instant::now() + LOOKUP_SPACING;
            let attribute = LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventName)
                .attribute_value(name)
                .build()
                .map_err(|err| {
                    ApiError::new(crate::engine::ErrorCode::InvalidRequest, err.to_string())
                })?;
            let page = client
                .lookup_events()
                .lookup_attributes(attribute)
                .max_results(LOOKUP_PAGE)
                .send()
                .await
                .map_err(api_error)?;
            events.extend(page.events().iter().filter_map(write_event));
        }
        Ok(events)
    }
}
