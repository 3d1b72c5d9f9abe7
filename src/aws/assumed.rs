//! Credentials of an assumed role that renew themselves before they expire.
//!
//! AssumeRole sessions end: after an hour by default, and role chaining caps
//! them at one hour whatever is asked. A large audit under throttling or an
//! apply that waits out IAM propagation can outlast one. Each account gets
//! one [`AssumedRole`]: sts:AssumeRole through the run's one STS client
//! (session name, external id, the shared HTTP client), called again
//! shortly before the credentials it gave expire, one renewal at a time.
//! One STS client for every account: the SDK's `AssumeRoleProvider` builds
//! a client of its own per account, which cost a large fleet more CPU and
//! memory than all the account's other calls.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials};
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::http::Response;
use tokio::sync::Mutex;

use crate::engine::{ApiError, ErrorCode};

/// The longest a session is used before its expiry: renewed this long
/// before, or a quarter of its lifetime before when that is shorter.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

pub(crate) struct AssumedRole {
    role_arn: String,
    session_name: String,
    external_id: Option<String>,
    sts: aws_sdk_sts::Client,
    current: Mutex<Option<Session>>,
    renewals: AtomicU64,
}

#[derive(Clone)]
struct Session {
    credentials: Credentials,
    obtained: SystemTime,
}

impl Session {
    fn is_due(&self, now: SystemTime) -> bool {
        let Some(expiry) = self.credentials.expiry() else {
            return false;
        };
        let lifetime = expiry
            .duration_since(self.obtained)
            .unwrap_or(Duration::ZERO);
        let margin = RENEW_BEFORE.min(lifetime / 4);
        expiry.duration_since(now).unwrap_or(Duration::ZERO) <= margin
    }
}

impl fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumedRole")
            .field("role_arn", &self.role_arn)
            .field("renewals", &self.renewals())
            .finish_non_exhaustive()
    }
}

impl AssumedRole {
    pub(crate) fn new(
        sts: aws_sdk_sts::Client,
        role_arn: &str,
        session_name: &str,
        external_id: Option<&str>,
    ) -> AssumedRole {
        AssumedRole {
            role_arn: role_arn.to_owned(),
            session_name: session_name.to_owned(),
            external_id: external_id.map(str::to_owned),
            sts,
            current: Mutex::new(None),
            renewals: AtomicU64::new(0),
        }
    }

    /// One sts:AssumeRole.
    async fn assume(&self) -> Result<Credentials, ApiError> {
        let output = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .set_external_id(self.external_id.clone())
            .send()
            .await
            .map_err(|err| assume_role_error(&self.role_arn, &err))?;
        let Some(credentials) = output.credentials() else {
            return Err(ApiError::new(
                "AssumeRoleFailed",
                format!(
                    "cannot assume {}: STS returned no credentials",
                    self.role_arn
                ),
            ));
        };
        Ok(Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            SystemTime::try_from(*credentials.expiration()).ok(),
            "AssumeRoleProvider",
        ))
    }

    /// Credentials that are good for a while yet: the current ones, or new
    /// ones when those are close to expiry. Concurrent callers wait for one
    /// AssumeRole.
    pub(crate) async fn credentials(&self) -> Result<Credentials, ApiError> {
        let mut current = self.current.lock().await;
        let now = SystemTime::now();
        if let Some(session) = current.as_ref().filter(|s| !s.is_due(now)) {
            return Ok(session.credentials.clone());
        }
        let credentials = self.assume().await?;
        if current.is_some() {
            self.renewals.fetch_add(1, Ordering::Relaxed);
        }
        *current = Some(Session {
            credentials: credentials.clone(),
            obtained: now,
        });
        Ok(credentials)
    }

    /// How many times the session was renewed.
    pub(crate) fn renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }
}

/// The SDK asks for credentials before every attempt; an [`AssumedRole`]
/// answers from its session, renewing it when due.
#[derive(Clone, Debug)]
pub(crate) struct Renewing(pub(crate) std::sync::Arc<AssumedRole>);

impl ProvideCredentials for Renewing {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.0
                .credentials()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

/// Why AssumeRole failed, in STS's own code and words when it answered.
fn assume_role_error(role_arn: &str, err: &SdkError<AssumeRoleError, Response>) -> ApiError {
    let (code, message) = match err {
        SdkError::ServiceError(context) => (
            context
                .err()
                .code()
                .map_or(ErrorCode::AssumeRoleFailed, |code| {
                    ErrorCode::Aws(code.to_owned())
                }),
            context.err().message().map_or_else(
                || DisplayErrorContext(context.err()).to_string(),
                str::to_owned,
            ),
        ),
        other => (
            ErrorCode::ConnectionError,
            DisplayErrorContext(other).to_string(),
        ),
    };
    ApiError::new(code, format!("cannot assume {role_arn}: {message}"))
}
