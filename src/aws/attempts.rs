//! Counting the SDK's attempts: per call, so a call that fails after its
//! retries says how many attempts it made, and per run, so `-v` can tell of
//! each retry as it happens and give a total at the end. An SDK interceptor
//! is the SDK's own way to see every attempt its retry strategy makes.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_bedrock::config::Intercept;
use aws_sdk_bedrock::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::config_bag::ConfigBag;

use super::errors::{self, api_error};
use crate::engine::{ApiError, Location};

/// How one attempt ended, when it did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setback {
    /// HTTP 429 or a throttling error code.
    Throttled,
    /// HTTP 5xx.
    ServerError(u16),
    /// No answer: a dropped connection or a timeout.
    NoAnswer,
}

impl fmt::Display for Setback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setback::Throttled => f.write_str("throttled"),
            Setback::ServerError(status) => write!(f, "HTTP {status}"),
            Setback::NoAnswer => f.write_str("no answer"),
        }
    }
}

/// One retry the SDK is about to make.
#[derive(Clone, Debug)]
pub struct Retry {
    /// `ACCOUNT/REGION`.
    pub target: String,
    /// `get`, `put` or `delete`.
    pub operation: &'static str,
    /// The attempt about to start (2 for the first retry).
    pub attempt: u32,
    /// How the previous attempt ended.
    pub after: Option<Setback>,
}

/// Called with each retry as it happens.
pub type RetryReporter = Box<dyn Fn(&Retry) + Send + Sync>;

/// The attempts, retries and throttled answers of every Bedrock call of a
/// run.
#[derive(Default)]
pub struct RetryLog {
    attempts: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    reporter: Option<RetryReporter>,
}

impl fmt::Debug for RetryLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLog")
            .field("attempts", &self.attempts)
            .field("retries", &self.retries)
            .field("throttled", &self.throttled)
            .finish_non_exhaustive()
    }
}

/// The totals of a [`RetryLog`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryTotals {
    pub attempts: u64,
    pub retries: u64,
    pub throttled: u64,
}

impl RetryLog {
    /// A log that also reports each retry as it happens.
    pub fn reporting(reporter: RetryReporter) -> RetryLog {
        RetryLog {
            reporter: Some(reporter),
            ..RetryLog::default()
        }
    }

    pub fn totals(&self) -> RetryTotals {
        RetryTotals {
            attempts: self.attempts.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
        }
    }
}

/// The attempts of one call so far.
#[derive(Debug, Default)]
struct CallAttempts {
    attempts: AtomicU32,
    throttled: AtomicU32,
    /// How the last attempt ended.
    last: Mutex<Option<Setback>>,
}

impl CallAttempts {
    fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Whether any attempt was throttled.
    fn throttled(&self) -> bool {
        self.throttled.load(Ordering::Relaxed) > 0
    }
}

/// The interceptor of one call: counts its attempts into `call` and `run`.
#[derive(Debug)]
pub(crate) struct AttemptCounter {
    call: Arc<CallAttempts>,
    run: Arc<RetryLog>,
    target: String,
    operation: &'static str,
}

impl Intercept for AttemptCounter {
    fn name(&self) -> &'static str {
        "fleet::AttemptCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = self.call.attempts.fetch_add(1, Ordering::Relaxed) + 1;
        self.run.attempts.fetch_add(1, Ordering::Relaxed);
        if attempt > 1 {
            self.run.retries.fetch_add(1, Ordering::Relaxed);
            if let Some(report) = &self.run.reporter {
                report(&Retry {
                    target: self.target.clone(),
                    operation: self.operation,
                    attempt,
                    after: *self.call.last.lock().expect("attempt lock poisoned"),
                });
            }
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let setback = match context.response() {
            None => Some(Setback::NoAnswer),
            Some(response) => {
                let status = response.status().as_u16();
                let throttling = response
                    .headers()
                    .get("x-amzn-errortype")
                    .is_some_and(crate::engine::ErrorCode::names_throttling);
                if status == 429 || throttling {
                    Some(Setback::Throttled)
                } else if status >= 500 {
                    Some(Setback::ServerError(status))
                } else {
                    None
                }
            }
        };
        if setback == Some(Setback::Throttled) {
            self.call.throttled.fetch_add(1, Ordering::Relaxed);
            self.run.throttled.fetch_add(1, Ordering::Relaxed);
        }
        *self.call.last.lock().expect("attempt lock poisoned") = setback;
        Ok(())
    }
}

/// The interceptor for one call to `at`, and its count of attempts.
pub(crate) fn count(
    run: &Arc<RetryLog>,
    at: Location<'_>,
    operation: &'static str,
) -> (AttemptCounter, Counted) {
    let call = Arc::new(CallAttempts::default());
    let counter = AttemptCounter {
        call: call.clone(),
        run: run.clone(),
        target: format!("{}/{}", at.account_id, at.region),
        operation,
    };
    (counter, Counted(call))
}

/// The attempts of one call, to say how many a failure took.
pub(crate) struct Counted(Arc<CallAttempts>);

impl Counted {
    pub(crate) fn failed<E>(&self, err: SdkError<E, Response>) -> ApiError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        errors::after_attempts(api_error(err), self.0.attempts(), self.0.throttled())
    }
}
