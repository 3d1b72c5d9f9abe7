//! CloudWatch: Bedrock's `Invocations` metric, set through
//! `PUT /_emulator/metrics` and read with GetMetricData (Smithy RPC v2 CBOR),
//! for the queries fleet sends and no others.

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cbor::{self, Series};
use super::identity::{Caller, is_account_id, now_ms};
use super::wire::Reply;

const SEARCH: &str = r#"'{AWS/Bedrock,ModelId} MetricName="Invocations"'"#;

/// One row of `PUT /_emulator/metrics`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Usage {
    account_id: String,
    region: String,
    model_id: String,
    invocations: f64,
    /// How many days before the PUT the invocations happened.
    #[serde(default)]
    days_ago: u32,
}

struct Point {
    usage: Usage,
    /// Epoch seconds: the PUT's time minus `days_ago` days and one minute, so
    /// a window that ends when the query is made includes today's usage.
    time: i64,
}

#[derive(Default)]
pub(crate) struct Metrics {
    points: RwLock<Vec<Point>>,
}

impl Metrics {
    pub(crate) fn replace_from_json(&self, body: &[u8]) -> Result<usize, String> {
        let rows: Vec<Usage> = serde_json::from_slice(body).map_err(|err| {
            format!("expected [{{\"account_id\", \"region\", \"model_id\", \"invocations\", \"days_ago\"?}}, ...]: {err}")
        })?;
        let now = (now_ms() / 1000) as i64;
        let mut points = Vec::with_capacity(rows.len());
        for usage in rows {
            if !is_account_id(&usage.account_id) || usage.region.is_empty() {
                return Err(format!(
                    "`{}/{}` is not a 12-digit account id and a region",
                    usage.account_id, usage.region
                ));
            }
            let time = now - i64::from(usage.days_ago) * 86_400 - 60;
            points.push(Point { usage, time });
        }
        let count = points.len();
        *self.points.write().unwrap_or_else(PoisonError::into_inner) = points;
        Ok(count)
    }

    pub(crate) fn json(&self) -> Vec<u8> {
        let points = self.points.read().unwrap_or_else(PoisonError::into_inner);
        let rows: Vec<&Usage> = points.iter().map(|p| &p.usage).collect();
        serde_json::to_vec(&rows).expect("metrics serialise")
    }

    /// The answer to GetMetricData, or `(code, message)` for a 400.
    pub(crate) fn get_metric_data(&self, caller: &Caller, body: &[u8]) -> Reply {
        match self.answer(caller, body) {
            Ok(results) => Reply::new(200, "application/cbor", cbor::metric_data_body(&results))
                .header("smithy-protocol", "rpc-v2-cbor"),
            Err(message) => {
                super::wire::Protocol::Cbor.error(400, "InvalidParameterValue", &message, "")
            }
        }
    }

    fn answer(&self, caller: &Caller, body: &[u8]) -> Result<Vec<Series>, String> {
        let input = cbor::decode(body)?;
        let start = input["StartTime"].as_f64().ok_or("StartTime is required")? as i64;
        let end = input["EndTime"].as_f64().ok_or("EndTime is required")? as i64;
        if start >= end {
            return Err("The parameter StartTime must be less than the parameter EndTime.".into());
        }
        let ascending = input["ScanBy"].as_str() == Some("TimestampAscending");
        let queries = input["MetricDataQueries"]
            .as_array()
            .ok_or("MetricDataQueries is required")?;
        let points = self.points.read().unwrap_or_else(PoisonError::into_inner);
        let mine: Vec<&Point> = points
            .iter()
            .filter(|p| {
                p.usage.account_id == caller.account
                    && p.usage.region == caller.region
                    && p.time >= start
                    && p.time < end
            })
            .collect();
        let mut results = Vec::new();
        for query in queries {
            let id = query["Id"]
                .as_str()
                .ok_or("every query needs an Id")?
                .to_owned();
            if let Some(account) = query["AccountId"].as_str()
                && account != caller.account
            {
                return Err(format!(
                    "the emulator answers only the caller's account, not {account}"
                ));
            }
            let label = query["Label"].as_str().map(str::to_owned);
            let wanted = parse_query(query)?;
            if query["ReturnData"] == Value::Bool(false) {
                continue;
            }
            let series = |label: String, model: Option<&str>, period: i64| {
                let mut sums: BTreeMap<i64, f64> = BTreeMap::new();
                for p in mine
                    .iter()
                    .filter(|p| model.is_none_or(|m| p.usage.model_id == m))
                {
                    let bucket = start + (p.time - start) / period * period;
                    *sums.entry(bucket).or_default() += p.usage.invocations;
                }
                let mut points: Vec<(i64, f64)> = sums.into_iter().collect();
                if !ascending {
                    points.reverse();
                }
                Series {
                    id: id.clone(),
                    label,
                    points,
                }
            };
            match wanted {
                Query::Sum { period }
                | Query::Stat {
                    model: None,
                    period,
                } => {
                    results.push(series(label.clone().unwrap_or(id.clone()), None, period));
                }
                Query::Stat {
                    model: Some(model),
                    period,
                } => results.push(series(
                    label.clone().unwrap_or(model.clone()),
                    Some(&model),
                    period,
                )),
                Query::PerModel { period } => {
                    let models: std::collections::BTreeSet<&str> =
                        mine.iter().map(|p| p.usage.model_id.as_str()).collect();
                    for model in models {
                        results.push(series(model.to_owned(), Some(model), period));
                    }
                }
            }
        }
        Ok(results)
    }
}

enum Query {
    /// `SUM(SEARCH(...))`: one series, every model summed.
    Sum { period: i64 },
    /// `SEARCH(...)`: one series per model.
    PerModel { period: i64 },
    /// A MetricStat on `AWS/Bedrock` `Invocations`, `Sum`.
    Stat { model: Option<String>, period: i64 },
}

const SUPPORTED: &str = "the emulator answers only SUM(SEARCH('{AWS/Bedrock,ModelId} MetricName=\"Invocations\"', 'Sum', PERIOD)), the bare SEARCH(...), or a MetricStat on AWS/Bedrock Invocations (optional ModelId dimension) with Stat Sum";

fn parse_query(query: &Value) -> Result<Query, String> {
    match (query["Expression"].as_str(), query.get("MetricStat")) {
        (Some(expression), None) => {
            let expression = expression.trim();
            let (inner, sum) = match expression
                .strip_prefix("SUM(")
                .and_then(|rest| rest.strip_suffix(')'))
            {
                Some(inner) => (inner.trim(), true),
                None => (expression, false),
            };
            let args = inner
                .strip_prefix("SEARCH(")
                .and_then(|rest| rest.strip_suffix(')'))
                .ok_or_else(|| format!("unsupported expression `{expression}`: {SUPPORTED}"))?;
            let (search, rest) = args
                .rsplit_once(',')
                .and_then(|(head, period)| {
                    head.rsplit_once(',').map(|(s, stat)| (s, (stat, period)))
                })
                .ok_or_else(|| format!("unsupported expression `{expression}`: {SUPPORTED}"))?;
            let (stat, period) = rest;
            let period: i64 = period.trim().parse().unwrap_or(0);
            if search.trim() != SEARCH || stat.trim() != "'Sum'" || period <= 0 {
                return Err(format!(
                    "unsupported expression `{expression}`: {SUPPORTED}"
                ));
            }
            Ok(if sum {
                Query::Sum { period }
            } else {
                Query::PerModel { period }
            })
        }
        (None, Some(stat)) => {
            let metric = &stat["Metric"];
            if metric["Namespace"] != "AWS/Bedrock"
                || metric["MetricName"] != "Invocations"
                || stat["Stat"] != "Sum"
            {
                return Err(format!("unsupported MetricStat: {SUPPORTED}"));
            }
            let period = stat["Period"]
                .as_i64()
                .filter(|p| *p > 0)
                .ok_or("MetricStat.Period must be positive")?;
            let dimensions = metric["Dimensions"].as_array().cloned().unwrap_or_default();
            let model = match dimensions.as_slice() {
                [] => None,
                [one] if one["Name"] == "ModelId" => one["Value"].as_str().map(str::to_owned),
                _ => return Err(format!("unsupported dimensions: {SUPPORTED}")),
            };
            Ok(Query::Stat { model, period })
        }
        _ => Err("each query needs exactly one of Expression and MetricStat".into()),
    }
}
