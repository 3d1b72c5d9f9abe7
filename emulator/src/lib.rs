//! A local emulator of the AWS calls fleet makes: Bedrock's model invocation
//! logging configuration (restJson1), STS GetCallerIdentity / AssumeRole
//! (awsQuery), and the S3, IAM and CloudWatch Logs calls that check and keep
//! logging destinations, on one loopback HTTP/1.1 port that the unchanged
//! AWS SDK reaches through `AWS_ENDPOINT_URL`.
//!
//! - `GET|PUT|DELETE /logging/modelinvocations`: Bedrock, with AWS's
//!   validation and its default of true for every flag a Put omits; with
//!   [`EmulatorOptions::validate_destinations`], Put also checks that
//!   Bedrock could use the destinations (`validate.rs`).
//! - `POST /` with `Action=GetCallerIdentity` or `Action=AssumeRole`: STS.
//! - Requests signed for `s3`: path-style bucket calls (`s3.rs`); for `iam`:
//!   roles and their policies, per account (`iam.rs`); for `logs`: log
//!   groups, per account × region (`logs.rs`).
//! - `POST /listRegions`: the Account API's ListRegions, for
//!   `regions = "enabled"`; `GET|PUT /_emulator/regions` changes which
//!   regions an account has enabled (see `account.rs`).
//! - `GET|PUT /_emulator/state` (`{"ACCOUNT/REGION": loggingConfig}`),
//!   `GET /_emulator/destinations` (buckets, log groups, roles) and
//!   `GET|DELETE /_emulator/stats`, `GET /_emulator/events` (CloudTrail's
//!   record of logging writes): for tests and the benchmark; never delayed
//!   or faulted; bodies are capped at 64 MiB.
//! - Requests signed for `cloudtrail`: LookupEvents over the events of
//!   every logging Put and Delete (`cloudtrail.rs`); for `monitoring`:
//!   GetMetricData over the Invocations set with `PUT /_emulator/metrics`
//!   (`cloudwatch.rs`).
//!
//! Stopping ([`RunningEmulator::shutdown`], dropping it, or Ctrl-C / SIGTERM
//! for [`serve_until_signal`]) is graceful: new connections are refused at
//! once, and the requests in flight are answered before their connections
//! close, for up to [`EmulatorOptions::shutdown_grace`].
//!
//! A non-loopback listen address is refused unless
//! [`EmulatorOptions::allow_remote`]: the admin API rewrites the state.
//!
//! The caller's account comes from the SigV4 access key id (signatures are not
//! checked): keys that AssumeRole issued address the role's account, any other
//! key is [`DEFAULT_ACCOUNT`]. The region and service are the credential
//! scope's. Latency and [`FaultRule`]s apply to every AWS call; fault
//! decisions are reproducible for a given seed (see [`FaultRule`]).

mod account;
mod bedrock;
mod cbor;
mod cloudtrail;
mod cloudwatch;
mod faults;
mod iam;
mod identity;
mod logs;
mod policy;
mod regional;
mod s3;
mod server;
mod state;
mod sts;
mod validate;
mod wire;
mod xml;

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::{FaultKind, FaultRule, ParseFaultRuleError};
pub use identity::{DEFAULT_ACCOUNT, DEFAULT_REGION};
pub use regional::{OmitFlagsRule, OmittedFlags};
pub use state::{EmulatorStats, FaultCounts, InvalidStateError, RejectedCounts, RequestCounts};

use state::Shared;

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Where to listen; port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Added to every AWS call (not to the admin endpoints). Default zero.
    pub latency: Duration,
    /// Tried in order for every AWS call; the first that fires decides.
    pub faults: Vec<FaultRule>,
    /// Makes fault decisions reproducible: the same seed, the same faults.
    pub seed: u64,
    /// How long a `slow` fault holds its answer. Default 30 s.
    pub slow_delay: Duration,
    /// The flags each region leaves out of Get. Default: what public sources
    /// report of AWS ([`OmittedFlags::aws_default`]).
    pub omitted_flags: OmittedFlags,
    /// The longest session AssumeRole hands out; a request signed with an
    /// expired session answers `ExpiredTokenException`, as AWS does.
    /// Default: none beyond the requested DurationSeconds.
    pub session_lifetime: Option<Duration>,
    /// Make Bedrock's Put check its destinations against the emulator's S3,
    /// IAM and Logs state, as AWS checks them, and answer 400
    /// `ValidationException` "Failed to validate permissions …" for one it
    /// could not use (see `validate.rs`). Default off: benchmarks and most
    /// tests Put destinations that were never created.
    pub validate_destinations: bool,
    /// Listen on an address that is not loopback. The admin API
    /// (`/_emulator/*`) lets anyone who reaches the port rewrite the state,
    /// so [`start`] refuses such an address unless this is set. Default off.
    pub allow_remote: bool,
    /// How long stopping waits for the requests in flight to be answered
    /// before it closes their connections (see [`RunningEmulator::shutdown`]).
    /// Default 5 s.
    pub shutdown_grace: Duration,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            latency: Duration::ZERO,
            faults: Vec::new(),
            seed: 0,
            slow_delay: Duration::from_secs(30),
            omitted_flags: OmittedFlags::aws_default(),
            session_lifetime: None,
            validate_destinations: false,
            allow_remote: false,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// A running emulator. [`RunningEmulator::shutdown`] stops it gracefully;
/// dropping it starts the same graceful stop, which then goes on on the
/// runtime without anyone waiting for it.
pub struct RunningEmulator {
    /// The bound address (with the port chosen when `listen` had port 0).
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    accept_loop: JoinHandle<()>,
}

impl RunningEmulator {
    /// The URL to give the SDK as `AWS_ENDPOINT_URL`, e.g. `http://127.0.0.1:4566`.
    pub fn endpoint_url(&self) -> String {
        let mut addr = self.addr;
        // A wildcard address is not something a client can connect to.
        if addr.ip().is_unspecified() {
            addr.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// Request and fault counters, as `GET /_emulator/stats` returns them.
    pub fn stats(&self) -> EmulatorStats {
        self.shared.stats()
    }

    /// Every stored configuration, as `GET /_emulator/state` returns it.
    pub fn state(&self) -> serde_json::Value {
        serde_json::from_slice(&self.shared.state_json()).expect("the state is JSON")
    }

    /// Every bucket, log group, role and managed policy, as
    /// `GET /_emulator/destinations` returns them.
    pub fn destinations(&self) -> serde_json::Value {
        serde_json::from_slice(&self.shared.destinations_json()).expect("the destinations are JSON")
    }

    /// Replaces every stored configuration, as `PUT /_emulator/state` does;
    /// returns how many targets are configured.
    pub fn replace_state(&self, state: serde_json::Value) -> Result<usize, InvalidStateError> {
        self.shared
            .replace_state_from_json(state.to_string().as_bytes())
    }

    /// Stops gracefully and waits until it has stopped: the listener closes
    /// at once (new connections are refused), idle connections close, and
    /// each request in flight is answered in full, then its connection
    /// closes; a request still unanswered after
    /// [`EmulatorOptions::shutdown_grace`] (a `slow` fault's, say) has its
    /// connection closed without an answer.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.accept_loop.await;
    }
}

/// Why the emulator would not listen on a non-loopback address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to listen on {0}: it is not a loopback address, and the emulator's admin API (/_emulator/*) lets anyone who can reach it rewrite the state; pass --allow-remote to listen there anyway"
)]
pub struct RemoteListenRefused(pub SocketAddr);

/// Loopback only: `127.0.0.0/8`, `::1` and `::ffff:127.x.y.z`.
pub fn is_loopback(addr: SocketAddr) -> bool {
    addr.ip().to_canonical().is_loopback()
}

/// Binds `opts.listen` and serves on the current tokio runtime until the
/// returned handle is shut down or dropped. A non-loopback `listen` is
/// refused (an [`io::ErrorKind::PermissionDenied`] wrapping
/// [`RemoteListenRefused`]) unless `opts.allow_remote`; nothing is bound then.
pub async fn start(opts: EmulatorOptions) -> io::Result<RunningEmulator> {
    if !opts.allow_remote && !is_loopback(opts.listen) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            RemoteListenRefused(opts.listen),
        ));
    }
    let socket = if opts.listen.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // Restarting on a fixed port must not wait for TIME_WAIT to expire.
    socket.set_reuseaddr(true)?;
    socket.bind(opts.listen)?;
    // A deep backlog: benchmarks open a thousand connections at once.
    let listener = socket.listen(4096)?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(opts));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let accept_loop = tokio::spawn(server::accept_loop(listener, shared.clone(), shutdown_rx));
    Ok(RunningEmulator {
        addr,
        shared,
        shutdown,
        accept_loop,
    })
}

/// Runs the emulator for `fleet emulator`: prints one line, `listening on
/// http://ADDR`, to stdout, then serves until Ctrl-C or SIGTERM.
pub async fn serve_until_signal(opts: EmulatorOptions) -> io::Result<()> {
    let latency = opts.latency;
    let faults: Vec<String> = opts.faults.iter().map(ToString::to_string).collect();
    let seed = opts.seed;
    let omitted = opts.omitted_flags.to_string();
    let lifetime = opts.session_lifetime;
    let validate = opts.validate_destinations;
    let remote = opts.allow_remote && !is_loopback(opts.listen);
    let emulator = start(opts).await?;
    let url = emulator.endpoint_url();

    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {url}")?;
    stdout.flush()?;
    drop(stdout);

    eprintln!(
        "emulator: Bedrock model invocation logging, STS, and S3 / IAM / CloudWatch Logs destinations at {url}"
    );
    eprintln!("emulator: export AWS_ENDPOINT_URL={url}");
    eprintln!(
        "emulator: caller account {DEFAULT_ACCOUNT}; admin endpoints {url}/_emulator/state, {url}/_emulator/destinations, {url}/_emulator/events, {url}/_emulator/metrics and {url}/_emulator/stats"
    );
    if !latency.is_zero() {
        eprintln!("emulator: latency {} ms per AWS call", latency.as_millis());
    }
    if !faults.is_empty() {
        eprintln!("emulator: faults {} (seed {seed})", faults.join(", "));
    }
    if !omitted.is_empty() {
        eprintln!("emulator: Get leaves out {omitted}");
    }
    if let Some(lifetime) = lifetime {
        eprintln!(
            "emulator: AssumeRole sessions expire after {} s",
            lifetime.as_secs()
        );
    }

    if validate {
        eprintln!("emulator: Put validates destinations as AWS does");
    }
    if remote {
        eprintln!(
            "emulator: warning: listening on {} (--allow-remote): anyone who can reach it can rewrite the state through {url}/_emulator/",
            emulator.addr
        );
    }

    wait_for_signal().await?;
    eprintln!("emulator: stopping: answering the requests in flight, refusing new connections");
    emulator.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> io::Result<()> {
    tokio::signal::ctrl_c().await
}
