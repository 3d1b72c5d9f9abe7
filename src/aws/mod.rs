//! The only code that knows the AWS SDK: one shared HTTP client, one set of
//! credentials per account, one Bedrock client with the account's
//! credentials and the region set per call, and no retry quota shared
//! between regions.

mod assumed;
mod attempts;
mod convert;
mod destinations;
mod errors;
mod managed;
mod organizations;
mod security_hub;
mod trail;
mod usage;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::identity::IdentityCache;
use aws_config::{BehaviorVersion, Region as SdkRegion, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_bedrock::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_bedrock::config::timeout::TimeoutConfig;
use aws_smithy_http_client::tls;
use futures::StreamExt;
use tokio::sync::OnceCell;

use crate::engine::{ApiError, Location, LoggingApi, PermissionWait};
use crate::fleet::{AccountId, Region, Settings};
use crate::logging::LoggingConfig;
use assumed::{AssumedRole, Renewing};
pub use attempts::{Retry, RetryLog, RetryTotals, Setback};
pub use errors::api_error;
pub use organizations::Organizations;

/// How fleet talks to AWS.
#[derive(Clone, Debug)]
pub struct AwsOptions {
    /// Overrides `AWS_ENDPOINT_URL` (the demo points it at its emulator).
    pub endpoint_url: Option<String>,
    /// Overrides the credential chain (the demo uses fixed test keys).
    pub static_credentials: Option<(String, String)>,
    pub connect_timeout: Duration,
    /// Time for one attempt of one call.
    pub attempt_timeout: Duration,
    /// Time for one call, retries included.
    pub operation_timeout: Duration,
    pub max_attempts: u32,
    /// How long a Put that fails with "Failed to validate permissions" (IAM
    /// not yet propagated) keeps being retried.
    pub permission_retry_window: Duration,
    pub settings: Settings,
    /// Where the attempts of every Bedrock call are counted.
    pub retry_log: Arc<RetryLog>,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            endpoint_url: None,
            static_credentials: None,
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(90),
            max_attempts: 8,
            permission_retry_window: Duration::from_secs(120),
            settings: Settings::default(),
            retry_log: Arc::default(),
        }
    }
}

/// One account's configuration (its credentials) and the S3, CloudWatch
/// Logs and IAM clients of managed destinations and preflight, each built
/// once when first needed (S3 and Logs per region) and shared by every
/// call. Bedrock calls go through the run's one Bedrock client with the
/// account's credentials set per call: a client per account cost more CPU
/// and memory than the account's calls.
#[derive(Debug)]
pub(crate) struct AccountSession {
    /// The base configuration with this account's credentials.
    pub(crate) config: SdkConfig,
    /// The assumed role's credentials, for every account but the caller's
    /// (whose calls use the base configuration's).
    credentials: Option<SharedCredentialsProvider>,
    /// The assumed role, for every account but the caller's.
    role: Option<Arc<AssumedRole>>,
    s3: Mutex<HashMap<Region, aws_sdk_s3::Client>>,
    logs: Mutex<HashMap<Region, aws_sdk_cloudwatchlogs::Client>>,
    iam: std::sync::OnceLock<aws_sdk_iam::Client>,
}

impl AccountSession {
    fn new(config: SdkConfig, role: Option<Arc<AssumedRole>>) -> AccountSession {
        AccountSession {
            credentials: role
                .as_ref()
                .map(|role| SharedCredentialsProvider::new(Renewing(role.clone()))),
            config,
            role,
            s3: Mutex::default(),
            logs: Mutex::default(),
            iam: std::sync::OnceLock::new(),
        }
    }

    /// The account's S3 client in `region`.
    pub(crate) fn s3(&self, region: &Region) -> aws_sdk_s3::Client {
        regional_client(&self.s3, region, || {
            let mut config = aws_sdk_s3::config::Builder::from(&self.config)
                .region(SdkRegion::new(region.to_string()));
            if self.config.endpoint_url().is_some() {
                // A local endpoint has no per-bucket host names.
                config = config.force_path_style(true);
            }
            aws_sdk_s3::Client::from_conf(config.build())
        })
    }

    /// The account's CloudWatch Logs client in `region`.
    pub(crate) fn logs(&self, region: &Region) -> aws_sdk_cloudwatchlogs::Client {
        regional_client(&self.logs, region, || {
            let config = aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
                .region(SdkRegion::new(region.to_string()))
                .build();
            aws_sdk_cloudwatchlogs::Client::from_conf(config)
        })
    }

    /// The account's IAM client (IAM is global).
    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        self.iam
            .get_or_init(|| aws_sdk_iam::Client::new(&self.config))
            .clone()
    }
}

/// The client of `region` in `clients`, built by `build` the first time.
fn regional_client<C: Clone>(
    clients: &Mutex<HashMap<Region, C>>,
    region: &Region,
    build: impl FnOnce() -> C,
) -> C {
    let mut clients = clients.lock().expect("client map lock poisoned");
    if let Some(client) = clients.get(region) {
        return client.clone();
    }
    let client = build();
    clients.insert(region.clone(), client.clone());
    client
}

/// An account's session, shared by every call in the account.
type SessionCell = Arc<OnceCell<Result<Arc<AccountSession>, ApiError>>>;

/// Sessions for every account of a run.
pub struct Aws {
    base: SdkConfig,
    sts: aws_sdk_sts::Client,
    /// Every account's Bedrock client: the account's credentials and the
    /// target's region are set per call.
    bedrock: aws_sdk_bedrock::Client,
    /// The retry partition of every Bedrock call ([`no_retry_quota`]).
    bedrock_retries: RetryPartition,
    settings: Settings,
    permission_retry_window: Duration,
    retry_log: Arc<RetryLog>,
    caller: OnceCell<Result<AccountId, ApiError>>,
    /// The cause chain of the caller's identity failure, for `-v`.
    caller_causes: Mutex<Vec<String>>,
    sessions: Mutex<HashMap<AccountId, SessionCell>>,
}

impl Aws {
    /// The account's configuration (its credentials, the shared HTTP
    /// client, timeouts and retries) in the target's region: what a
    /// regional service client of the target is built from.
    async fn regional(&self, at: Location<'_>) -> Result<SdkConfig, ApiError> {
        let session = self.session(at).await?;
        Ok(session
            .config
            .to_builder()
            .region(SdkRegion::new(at.region.to_string()))
            .build())
    }

    /// The session name fleet gives the roles it assumes: CloudTrail shows
    /// it in the ARN of every call fleet makes.
    pub fn session_name(&self) -> &str {
        self.settings.session_name.as_deref().unwrap_or("fleet")
    }

    /// Loads the standard AWS configuration (profile, environment, SSO,
    /// instance role, `AWS_ENDPOINT_URL`) with one shared HTTP client and
    /// explicit timeouts and retries.
    pub async fn connect(options: AwsOptions) -> Aws {
        // One HTTP client for every SDK client: the SDK otherwise gives each
        // client its own connection pool, and connections churn.
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(options.connect_timeout)
            .operation_attempt_timeout(options.attempt_timeout)
            .operation_timeout(options.operation_timeout)
            .build();
        let retries = RetryConfig::standard()
            .with_max_attempts(options.max_attempts.max(1))
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(10));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .timeout_config(timeouts)
            .retry_config(retries);
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((key, secret)) = &options.static_credentials {
            loader =
                loader.credentials_provider(Credentials::new(key, secret, None, None, "fleet"));
        }
        let mut base = loader.load().await;
        if base.region().is_none() {
            // STS needs some region; Bedrock calls set theirs per call.
            base = base
                .into_builder()
                .region(SdkRegion::from_static("us-east-1"))
                .build();
        }
        Aws {
            sts: aws_sdk_sts::Client::new(&base),
            bedrock: aws_sdk_bedrock::Client::new(&base),
            bedrock_retries: no_retry_quota(),
            base,
            settings: options.settings,
            permission_retry_window: options.permission_retry_window,
            retry_log: options.retry_log,
            caller: OnceCell::new(),
            caller_causes: Mutex::new(Vec::new()),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The account the base credentials belong to (sts:GetCallerIdentity,
    /// asked once).
    pub async fn caller_account(&self) -> Result<AccountId, ApiError> {
        self.caller
            .get_or_init(|| async {
                let identity = self.sts.get_caller_identity().send().await.map_err(|err| {
                    *self.caller_causes.lock().expect("cause lock poisoned") =
                        errors::cause_chain(&err);
                    api_error(err)
                })?;
                identity
                    .account()
                    .and_then(AccountId::parse)
                    .ok_or_else(|| {
                        ApiError::new(
                            crate::engine::ErrorCode::InvalidIdentity,
                            "sts:GetCallerIdentity returned no account id",
                        )
                    })
            })
            .await
            .clone()
    }

    /// An account's session: the caller's own credentials for its own
    /// account, otherwise one AssumeRole shared by all its regions.
    pub(crate) async fn session(&self, at: Location<'_>) -> Result<Arc<AccountSession>, ApiError> {
        let cell = {
            let mut sessions = self.sessions.lock().expect("session map lock poisoned");
            sessions.entry(at.account_id.clone()).or_default().clone()
        };
        cell.get_or_init(|| self.open_account(at)).await.clone()
    }

    async fn open_account(&self, at: Location<'_>) -> Result<Arc<AccountSession>, ApiError> {
        let caller = self.caller_account().await?;
        if &caller == at.account_id {
            return Ok(Arc::new(AccountSession::new(self.base.clone(), None)));
        }
        let Some(role_arn) = at.role_arn else {
            return Err(ApiError::new(
                crate::engine::ErrorCode::NoRoleToAssume,
                format!(
                    "account {} has no role_arn and fleet.role_name is unset, but the caller is account {caller}; set role_name in [fleet] or role_arn for this account",
                    at.account_id
                ),
            ));
        };
        let role = Arc::new(AssumedRole::new(
            self.sts.clone(),
            role_arn,
            self.session_name(),
            self.settings.external_id.as_deref(),
        ));
        // The first AssumeRole happens now, so an account fleet cannot reach
        // fails once, with STS's reason, before any of its targets is read.
        role.credentials().await?;
        let config = self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(Renewing(role.clone())))
            // The assumed role keeps its own session (renewed before expiry).
            .identity_cache(IdentityCache::no_cache())
            .build();
        Ok(Arc::new(AccountSession::new(config, Some(role))))
    }

    /// How many assumed-role sessions were renewed during the run.
    pub fn session_renewals(&self) -> u64 {
        let sessions = self.sessions.lock().expect("session map lock poisoned");
        sessions
            .values()
            .filter_map(|cell| cell.get())
            .filter_map(|session| session.as_ref().ok())
            .filter_map(|session| session.role.as_ref())
            .map(|role| role.renewals())
            .sum()
    }
}

/// What fleet makes of a failed Bedrock call at `at`. AWS rejects the
/// credentials in a region the account has not enabled (403
/// `UnrecognizedClientException`, some services `InvalidClientTokenId`: "The
/// security token included in the request is invalid"); in an opt-in region
/// that means "not enabled" (regions enabled by default cannot be disabled,
/// so there it is a real credentials problem and stays as AWS said it).
fn at_target(at: Location<'_>, err: ApiError) -> ApiError {
    if err.code.is_rejected_token() && at.region.is_opt_in() {
        return ApiError::new(
            crate::engine::ErrorCode::RegionNotEnabled,
            format!(
                "region {region} is not enabled in account {account}: AWS rejects the credentials there ({code}: {message}); enable {region} in the account (AWS console: Account, AWS Regions; or `aws account enable-region --region-name {region}`), or remove it from the account's regions in the fleet file",
                region = at.region,
                account = at.account_id,
                code = err.code,
                message = err.message,
            ),
        );
    }
    err
}

/// The per-call settings: the target's region, and the retry partition
/// every Bedrock call shares (see [`no_retry_quota`]).
fn per_target(at: Location<'_>, retries: &RetryPartition) -> aws_sdk_bedrock::config::Builder {
    aws_sdk_bedrock::config::Builder::default()
        .region(SdkRegion::new(at.region.as_str().to_owned()))
        .retry_partition(retries.clone())
}

/// The retry partition of Bedrock calls: no retry quota (the SDK's token
/// bucket), so a throttled or failing region never uses up the retries of
/// the others; each call is bounded by its attempts and its operation
/// timeout, and fleet's concurrency bounds the calls. A quota per account ×
/// region, kept by the SDK in a process-wide map for the whole run, cost
/// about 330 bytes per target and was never drawn down by a target's few
/// calls; one shared quota would let one region stop the retries of all.
fn no_retry_quota() -> RetryPartition {
    RetryPartition::custom("fleet/bedrock")
        .token_bucket(TokenBucket::unlimited())
        .build()
}

impl Aws {
    /// `AWS_ENDPOINT_URL` (or the demo's endpoint), when one is set.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.base.endpoint_url()
    }

    /// Why [`Aws::caller_account`] failed, outermost cause first; empty when
    /// it did not.
    pub fn caller_causes(&self) -> Vec<String> {
        self.caller_causes
            .lock()
            .expect("cause lock poisoned")
            .clone()
    }

    /// A call's settings (see [`per_target`]) with the account's credentials
    /// and an interceptor that counts its attempts.
    fn counted(
        &self,
        session: &AccountSession,
        at: Location<'_>,
        operation: &'static str,
    ) -> (aws_sdk_bedrock::config::Builder, attempts::Counted) {
        let (counter, counted) = attempts::count(&self.retry_log, at, operation);
        let mut settings = per_target(at, &self.bedrock_retries).interceptor(counter);
        if let Some(credentials) = &session.credentials {
            settings = settings
                .credentials_provider(credentials.clone())
                // The assumed role keeps its own session (renewed before
                // expiry); a cache per call would only grow.
                .identity_cache(IdentityCache::no_cache());
        }
        (settings, counted)
    }
}

impl LoggingApi for Aws {
    async fn get(&self, at: Location<'_>) -> Result<Option<LoggingConfig>, ApiError> {
        let session = self.session(at).await?;
        let (config, call) = self.counted(&session, at, "get");
        let output = self
            .bedrock
            .get_model_invocation_logging_configuration()
            .customize()
            .config_override(config)
            .send()
            .await
            .map_err(|err| at_target(at, call.failed(err)))?;
        Ok(output.logging_config().and_then(convert::from_sdk))
    }

    async fn put(
        &self,
        at: Location<'_>,
        config: &LoggingConfig,
        wait: PermissionWait,
    ) -> Result<(), ApiError> {
        let session = self.session(at).await?;
        let config = convert::to_sdk(config)?;
        let started = Instant::now();
        let mut delay = Duration::from_secs(1);
        loop {
            let (settings, call) = self.counted(&session, at, "put");
            let result = self
                .bedrock
                .put_model_invocation_logging_configuration()
                .logging_config(config.clone())
                .customize()
                .config_override(settings)
                .send()
                .await
                .map_err(|err| at_target(at, call.failed(err)));
            match result {
                Ok(_) => return Ok(()),
                // Right after a role or bucket policy is created, AWS may not
                // see it yet; this one 400 is worth waiting for, others not.
                Err(err)
                    if wait == PermissionWait::Wait
                        && err.is_permission_lag()
                        && started.elapsed() + delay <= self.permission_retry_window =>
                {
                    let jitter =
                        Duration::from_millis(fastrand::u64(0..=delay.as_millis() as u64 / 2));
                    tokio::time::sleep(delay + jitter).await;
                    delay = (delay * 2).min(Duration::from_secs(15));
                }
                Err(err) => return Err(err),
            }
        }
    }

    async fn prepare(&self, accounts: &[Location<'_>], concurrency: usize) {
        // Errors are kept in each account's session and reported by its
        // targets' calls.
        futures::stream::iter(accounts)
            .for_each_concurrent(concurrency, |at| async move {
                let _ = self.session(*at).await;
            })
            .await;
    }

    async fn delete(&self, at: Location<'_>) -> Result<(), ApiError> {
        let session = self.session(at).await?;
        let (config, call) = self.counted(&session, at, "delete");
        self.bedrock
            .delete_model_invocation_logging_configuration()
            .customize()
            .config_override(config)
            .send()
            .await
            .map_err(|err| at_target(at, call.failed(err)))?;
        Ok(())
    }
}
