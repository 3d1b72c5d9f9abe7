//! CloudWatch: how many Bedrock model invocations one account and region
//! had in a recent window (`GetMetricData` on `AWS/Bedrock` `Invocations`,
//! every model summed by a search expression).

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{MetricDataQuery, StatusCode};
use aws_smithy_types::DateTime;

use super::{Aws, api_error};
use crate::engine::usage::UsageApi;
use crate::engine::{ApiError, Location};

/// One datapoint per day.
const PERIOD_SECONDS: u32 = 86_400;

/// Every model's `Invocations`, summed into one series: Bedrock publishes
/// the metric per `ModelId` (Bedrock user guide, "Monitor Amazon Bedrock
/// with CloudWatch").
fn expression() -> String {
    format!(
        "SUM(SEARCH('{{AWS/Bedrock,ModelId}} MetricName=\"Invocations\"', 'Sum', {PERIOD_SECONDS}))"
    )
}

impl UsageApi for Aws {
    async fn invocations(&self, at: Location<'_>, days: u32) -> Result<u64, ApiError> {
        let client = aws_sdk_cloudwatch::Client::new(&self.regional(at).await?);
        let end = SystemTime::now();
        let start = end - Duration::from_secs(u64::from(days) * u64::from(PERIOD_SECONDS));
        let query = MetricDataQuery::builder()
            .id("invocations")
            .expression(expression())
            .period(PERIOD_SECONDS as i32)
            .return_data(true)
            .build();
        let mut total = 0.0_f64;
        let mut pages = client
            .get_metric_data()
            .metric_data_queries(query)
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api_error)?;
            for result in page.metric_data_results() {
                if let Some(StatusCode::Forbidden | StatusCode::InternalError) =
                    result.status_code()
                {
                    let why = result
                        .messages()
                        .iter()
                        .filter_map(|m| m.value())
                        .collect::<Vec<_>>()
                        .join("; ");
                    return Err(ApiError::new(
                        result.status_code().map_or("Error", |s| s.as_str()),
                        format!("CloudWatch could not compute the invocations: {why}"),
                    ));
                }
                total += result.values().iter().sum::<f64>();
            }
        }
        Ok(total.max(0.0).round() as u64)
    }
}
