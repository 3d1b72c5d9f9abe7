//! The HTTP side: accepting connections, routing requests to Bedrock, STS,
//! S3, IAM, CloudWatch Logs or the admin endpoints, latency and fault
//! injection.
//!
//! Every service shares the one port, as they share one `AWS_ENDPOINT_URL`:
//! a request is routed by the service of its SigV4 credential scope (`s3`,
//! `iam`, `logs`), then by its path, query or `X-Amz-Target`; Bedrock, STS
//! and the Account API keep their paths.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::account::{self, AccountError};
use super::bedrock;
use super::cloudtrail::WriteCall;
use super::faults::{FaultKind, Operation, Service};
use super::identity::Caller;
use super::s3::{self, S3Request};
use super::state::Shared;
use super::sts::{self, Form, StsError};
use super::validate::check_destinations;
use super::wire::{IAM_NAMESPACE, Protocol, Reply};
use super::{iam, logs};

const LOGGING_PATH: &str = "/logging/modelinvocations";
/// What aws-sdk-cloudtrail sends; AWS also accepts the target with its
/// `com.amazonaws.cloudtrail.v20131101.` namespace.
const LOOKUP_EVENTS_TARGET: &str = "CloudTrail_20131101.LookupEvents";
const GET_METRIC_DATA_PATH: &str = "/service/GraniteServiceVersion20100801/operation/GetMetricData";
const LOOKUP_EVENTS_NAMESPACE: &str = "com.amazonaws.cloudtrail.v20131101.";
const ADMIN_PREFIX: &str = "/_emulator/";
/// Far above any real request; the Put body of a logging config is under 4 KiB.
const MAX_AWS_BODY: usize = 1 << 20;
/// The largest state the benchmark loads, 100,000 targets with both
/// destinations (bench/gen_fleet.py's profile), is 51.3 MB as compact JSON
/// (about 513 bytes a target) and 61.3 MB indented; 64 MiB (67.1 MB) holds
/// either, and a bigger body answers 413. See `a_benchmark_state_fits_the_cap`.
pub(crate) const MAX_ADMIN_BODY: usize = 64 << 20;
/// How long an oversized admin body is read and thrown away before its 413,
/// so the client sees the answer instead of a reset connection.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
const EMPTY_OBJECT: &[u8] = b"{}";

type Body = Full<Bytes>;

/// Returned by the service to make hyper close the connection without
/// writing a response: the `drop` fault.
#[derive(Debug)]
pub(crate) struct DroppedConnection;

impl fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by an emulated fault")
    }
}

impl std::error::Error for DroppedConnection {}

/// Serves connections until `shutdown` changes or its sender is dropped,
/// then stops gracefully: the listener closes at once, so new connections
/// are refused; idle keep-alive connections close; a request in flight gets
/// its whole response (then its connection closes) if it is answered within
/// `shutdown_grace`, and is cut off after that.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    // Owning the connections' tasks is what lets the grace end: the ones
    // left when it does are aborted, here or when the set is dropped.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, shared.clone(), graceful.watcher()));
                }
                Err(err) => {
                    // Usually out of file descriptors; back off instead of spinning.
                    eprintln!("emulator: accepting a connection failed: {err}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            // Finished connections leave the set, so it holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let grace = shared.options.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!(
            "emulator: requests still unanswered after {} ms: closing their connections",
            grace.as_millis()
        );
    }
    connections.shutdown().await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Watcher,
) {
    // Responses are small and written whole; waiting for more to coalesce
    // (Nagle) would only add delayed-ACK stalls on keep-alive connections.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| handle(shared.clone(), peer, request));
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    // Client resets and dropped-connection faults end a connection with an
    // error; neither is news.
    let _ = shutdown.watch(connection).await;
}

/// A decoded AWS call.
enum Call {
    Get,
    Put(Bytes),
    Delete,
    GetCallerIdentity,
    AssumeRole(Form),
}

impl Call {
    fn operation(&self) -> Operation {
        match self {
            Call::Get => Operation::Get,
            Call::Put(_) => Operation::Put,
            Call::Delete => Operation::Delete,
            Call::GetCallerIdentity => Operation::GetCallerIdentity,
            Call::AssumeRole(_) => Operation::AssumeRole,
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Body>, DroppedConnection> {
    let path = request.uri().path();
    if let Some(admin_path) = path.strip_prefix(ADMIN_PREFIX) {
        let admin_path = admin_path.to_owned();
        return Ok(handle_admin(&shared, &admin_path, request).await);
    }

    let caller = Caller::from_headers(request.headers());
    if matches!(
        caller.service.as_str(),
        "s3" | "iam" | "logs" | "cloudtrail" | "monitoring"
    ) {
        return handle_destination(&shared, caller, request).await;
    }
    if request.method() == Method::POST && request.uri().path() == account::LIST_REGIONS_PATH {
        return Ok(list_regions(&shared, &caller, request).await);
    }
    let user_agent = request
        .headers()
        .get(hyper::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let call = match decode_call(&shared, request).await {
        Ok(call) => call,
        Err(response) => return Ok(response),
    };
    let write = match &call {
        Call::Put(body) => Some((
            "PutModelInvocationLoggingConfiguration",
            serde_json::from_slice(body).unwrap_or(serde_json::Value::Null),
        )),
        Call::Delete => Some((
            "DeleteModelInvocationLoggingConfiguration",
            serde_json::Value::Null,
        )),
        _ => None,
    };
    let response = answer_call(&shared, &caller, call).await?;
    match write {
        Some((event_name, request_parameters)) => {
            let source_ip = peer.ip().to_canonical().to_string();
            let call = (event_name, request_parameters, source_ip, user_agent);
            Ok(record_write(&shared, &caller, call, response).await)
        }
        None => Ok(response),
    }
}

/// Records a Bedrock write in CloudTrail as it was answered: the request id,
/// and for a refusal the error code and message.
async fn record_write(
    shared: &Shared,
    caller: &Caller,
    (event_name, request_parameters, source_ip, user_agent): (
        &'static str,
        serde_json::Value,
        String,
        String,
    ),
    response: Response<Body>,
) -> Response<Body> {
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let error = (parts.status.as_u16() >= 400).then(|| {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|json| json["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        (header("x-amzn-errortype"), message)
    });
    let request_id = header("x-amzn-requestid");
    shared.trail.record(
        caller,
        WriteCall {
            event_name,
            request_parameters,
            error,
            request_id: &request_id,
            source_ip,
            user_agent,
        },
    );
    Response::from_parts(parts, Full::new(body))
}

/// A Bedrock or STS call: counted, delayed, refused or faulted, then answered.
async fn answer_call(
    shared: &Arc<Shared>,
    caller: &Caller,
    call: Call,
) -> Result<Response<Body>, DroppedConnection> {
    let shared = shared.clone();
    let caller = caller.clone();

    let operation = call.operation();
    shared.count_request(operation);
    let target = caller.target();
    let fault = match &call {
        // A fault scoped to an account should make that account unreachable,
        // so AssumeRole is matched against the role's account.
        Call::AssumeRole(form) => match sts::role_account(form) {
            Some(account) => shared.fault_for(&format!("{account}/{}", caller.region), operation),
            None => shared.fault_for(&target, operation),
        },
        _ => shared.fault_for(&target, operation),
    };

    let latency = shared.options.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(rejection) = rejection(&shared, &caller, operation) {
        return Ok(rejection);
    }
    match (fault, &call) {
        (None, _) => {}
        (Some(FaultKind::Drop), _) => return Err(DroppedConnection),
        (Some(FaultKind::Slow), _) => tokio::time::sleep(shared.options.slow_delay).await,
        // `FaultRule::covers` gives IAM lag to Puts only; an invalid Put still
        // gets its validation error, as AWS validates the request first.
        (Some(FaultKind::IamLag), Call::Put(body)) => {
            let message = match bedrock::parse_put(body) {
                Ok(config) => config.permission_failure(),
                Err(message) => message,
            };
            return Ok(bedrock_error(
                &shared,
                StatusCode::BAD_REQUEST,
                "ValidationException",
                &message,
            ));
        }
        (Some(kind), _) => return Ok(fault_response(&shared, kind, operation, &caller)),
    }

    Ok(match call {
        Call::Get => {
            let body = shared
                .logging_config_body(&target)
                .unwrap_or_else(|| Bytes::from_static(EMPTY_OBJECT));
            json_response(&shared, StatusCode::OK, body)
        }
        Call::Put(body) => match bedrock::parse_put(&body) {
            Ok(config) => {
                let checked = match shared.options.validate_destinations {
                    true => check_destinations(&shared, &caller.account, &caller.region, &config),
                    false => Ok(()),
                };
                if let Err(message) = checked {
                    shared.count_invalid_destinations();
                    return Ok(bedrock_error(
                        &shared,
                        StatusCode::BAD_REQUEST,
                        "ValidationException",
                        &message,
                    ));
                }
                shared.put_logging_config(target, config);
                json_response(&shared, StatusCode::OK, Bytes::from_static(EMPTY_OBJECT))
            }
            Err(message) => bedrock_error(
                &shared,
                StatusCode::BAD_REQUEST,
                "ValidationException",
                &message,
            ),
        },
        Call::Delete => {
            shared.delete_logging_config(&target);
            json_response(&shared, StatusCode::OK, Bytes::from_static(EMPTY_OBJECT))
        }
        Call::GetCallerIdentity => {
            let request_id = shared.request_id();
            xml_response(
                StatusCode::OK,
                &request_id,
                sts::get_caller_identity(&caller, &request_id),
            )
        }
        Call::AssumeRole(form) => {
            let request_id = shared.request_id();
            match sts::assume_role(&form, &request_id, shared.options.session_lifetime) {
                Ok(xml) => xml_response(StatusCode::OK, &request_id, xml),
                Err(err) => sts_error(&shared, &err),
            }
        }
    })
}

/// A decoded S3, IAM, CloudWatch Logs or CloudTrail call.
enum DestinationCall {
    S3(S3Request),
    Iam(Operation, Form),
    Logs(Operation, Bytes),
    CloudTrail(Bytes),
    CloudWatch(Bytes),
}

impl DestinationCall {
    fn operation(&self) -> Operation {
        match self {
            DestinationCall::S3(request) => request.operation,
            DestinationCall::Iam(operation, _) | DestinationCall::Logs(operation, _) => *operation,
            DestinationCall::CloudTrail(_) => Operation::LookupEvents,
            DestinationCall::CloudWatch(_) => Operation::GetMetricData,
        }
    }
}

/// The S3, IAM and Logs calls: decoded, counted, delayed, refused or faulted
/// like the Bedrock calls, then answered by their service's module.
async fn handle_destination(
    shared: &Shared,
    caller: Caller,
    request: Request<Incoming>,
) -> Result<Response<Body>, DroppedConnection> {
    let request_id = shared.request_id();
    let protocol = match caller.service.as_str() {
        "s3" => Protocol::RestXml,
        "iam" => Protocol::Query(IAM_NAMESPACE),
        "monitoring" => Protocol::Cbor,
        _ => Protocol::AwsJson,
    };
    let (parts, body) = request.into_parts();
    let body = match read_body(body, MAX_AWS_BODY).await {
        Ok(body) => body,
        Err(message) => {
            let reply = protocol.error(400, "MalformedInput", &message, &request_id);
            return Ok(reply_response(reply));
        }
    };
    let refused = |(status, code, message): (u16, &'static str, String)| {
        protocol.error(status, code, &message, &request_id)
    };
    let decoded = match caller.service.as_str() {
        "s3" => s3::decode(
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            body,
            &request_id,
        )
        .map(DestinationCall::S3),
        "iam" => {
            let form = Form::parse(&body);
            iam::decode(&form)
                .map(|operation| DestinationCall::Iam(operation, form))
                .map_err(refused)
        }
        "monitoring" if parts.uri.path() == GET_METRIC_DATA_PATH => {
            Ok(DestinationCall::CloudWatch(body))
        }
        "monitoring" => {
            let message = format!(
                "the emulator's CloudWatch serves only POST {GET_METRIC_DATA_PATH}, not {}",
                parts.uri.path()
            );
            Err(refused((400, "UnknownOperationException", message)))
        }
        "cloudtrail" => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|value| value.to_str().ok());
            let bare = target.map(|t| t.strip_prefix(LOOKUP_EVENTS_NAMESPACE).unwrap_or(t));
            if bare == Some(LOOKUP_EVENTS_TARGET) {
                Ok(DestinationCall::CloudTrail(body))
            } else {
                let message = format!(
                    "the emulator's CloudTrail serves only {LOOKUP_EVENTS_TARGET}, not {}",
                    target.unwrap_or("(no X-Amz-Target)")
                );
                Err(refused((400, "UnknownOperationException", message)))
            }
        }
        _ => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|value| value.to_str().ok());
            logs::decode(target)
                .map(|operation| DestinationCall::Logs(operation, body))
                .map_err(refused)
        }
    };
    let call = match decoded {
        Ok(call) => call,
        Err(reply) => return Ok(reply_response(reply)),
    };

    let operation = call.operation();
    shared.count_request(operation);
    let fault = shared.fault_for(&caller.target(), operation);
    let latency = shared.options.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(reply) = destination_rejection(shared, &caller, operation, protocol, &request_id) {
        return Ok(reply_response(reply));
    }
    match fault {
        None => {}
        Some(FaultKind::Drop) => return Err(DroppedConnection),
        Some(FaultKind::Slow) => tokio::time::sleep(shared.options.slow_delay).await,
        Some(kind) => {
            let reply = destination_fault(kind, operation, protocol, &caller, &request_id);
            return Ok(reply_response(reply));
        }
    }
    let reply = match call {
        DestinationCall::S3(request) => shared.s3.handle(&caller, request, &request_id),
        DestinationCall::Iam(operation, form) => {
            shared.iam.handle(&caller, operation, &form, &request_id)
        }
        DestinationCall::Logs(operation, body) => {
            shared.logs.handle(&caller, operation, &body, &request_id)
        }
        DestinationCall::CloudWatch(body) => shared.metrics.get_metric_data(&caller, &body),
        DestinationCall::CloudTrail(body) => {
            shared.trail.lookup_events(&caller, &body, &request_id)
        }
    };
    Ok(reply_response(reply))
}

/// An expired session or a region not enabled, in the words of each
/// service. IAM is global, so only an expired session refuses it.
fn destination_rejection(
    shared: &Shared,
    caller: &Caller,
    operation: Operation,
    protocol: Protocol,
    request_id: &str,
) -> Option<Reply> {
    const EXPIRED: &str = "The security token included in the request is expired";
    let service = operation.service();
    if caller.session.as_ref().is_some_and(|s| s.is_expired()) {
        shared.count_expired_token();
        let (status, code, message) = match service {
            Service::S3 => (400, "ExpiredToken", "The provided token has expired."),
            Service::Iam => (403, "ExpiredToken", EXPIRED),
            _ => (400, "ExpiredTokenException", EXPIRED),
        };
        return Some(protocol.error(status, code, message, request_id));
    }
    if !operation.is_global() && !shared.regions.is_enabled(&caller.account, &caller.region) {
        shared.count_region_not_enabled();
        let (status, code, message) = match service {
            Service::S3 => (
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            ),
            _ => (
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        };
        return Some(protocol.error(status, code, message, request_id));
    }
    None
}

/// A fault as each destination service answers it: S3 throttles with 503
/// `SlowDown`, IAM with 400 `Throttling`, Logs with 400 `ThrottlingException`
/// (and denies with a 400, as CloudWatch Logs does).
fn destination_fault(
    kind: FaultKind,
    operation: Operation,
    protocol: Protocol,
    caller: &Caller,
    request_id: &str,
) -> Reply {
    let denied = format!(
        "User: {} is not authorized to perform: {} (emulated fault)",
        caller.arn(),
        operation.action()
    );
    let (status, code, message) = match (operation.service(), kind) {
        (Service::S3, FaultKind::Throttle) => (
            503,
            "SlowDown",
            "Please reduce your request rate.".to_owned(),
        ),
        (Service::S3, FaultKind::Denied) => (403, "AccessDenied", "Access Denied".to_owned()),
        (Service::S3, _) => (
            500,
            "InternalError",
            "We encountered an internal error. Please try again. (emulated fault)".to_owned(),
        ),
        (Service::Iam, FaultKind::Throttle) => (400, "Throttling", "Rate exceeded".to_owned()),
        (Service::Iam, FaultKind::Denied) => (403, "AccessDenied", denied),
        (Service::Iam, _) => (
            500,
            "ServiceFailure",
            "Service failed to process the request (emulated fault)".to_owned(),
        ),
        (_, FaultKind::Throttle) => (400, "ThrottlingException", "Rate exceeded".to_owned()),
        (_, FaultKind::Denied) => (400, "AccessDeniedException", denied),
        (_, _) => (
            500,
            "ServiceUnavailableException",
            "The service cannot complete the request. (emulated fault)".to_owned(),
        ),
    };
    protocol.error(status, code, &message, request_id)
}

fn reply_response(reply: Reply) -> Response<Body> {
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    response
}

/// What AWS answers, whatever the request, when the credentials have expired
/// or the region is not enabled in the account.
fn rejection(shared: &Shared, caller: &Caller, operation: Operation) -> Option<Response<Body>> {
    const EXPIRED: &str = "The security token included in the request is expired";
    if caller.session.as_ref().is_some_and(|s| s.is_expired()) {
        shared.count_expired_token();
        return Some(if operation.is_sts() {
            sts_error(shared, &StsError::new(400, "ExpiredToken", EXPIRED))
        } else {
            bedrock_error(
                shared,
                StatusCode::BAD_REQUEST,
                "ExpiredTokenException",
                EXPIRED,
            )
        });
    }
    // STS is global; Bedrock in a region the account has not enabled does
    // not know the credentials at all.
    if !operation.is_sts() && !shared.regions.is_enabled(&caller.account, &caller.region) {
        shared.count_region_not_enabled();
        return Some(bedrock_error(
            shared,
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    None
}

/// The Account API's ListRegions, with the emulator's latency; never faulted
/// (an account whose regions cannot be read is emulated by faulting its
/// AssumeRole).
async fn list_regions(
    shared: &Shared,
    caller: &Caller,
    request: Request<Incoming>,
) -> Response<Body> {
    let latency = shared.options.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if caller.session.as_ref().is_some_and(|s| s.is_expired()) {
        return rejection(shared, caller, Operation::Get).expect("an expired session is rejected");
    }
    let answer = match read_body(request.into_body(), MAX_AWS_BODY).await {
        Ok(body) => shared.regions.list_regions(&caller.account, &body),
        Err(message) => Err(AccountError {
            status: 400,
            code: "ValidationException",
            message,
        }),
    };
    match answer {
        Ok(body) => json_response(shared, StatusCode::OK, body.into()),
        Err(err) => bedrock_error(
            shared,
            StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST),
            err.code,
            &err.message,
        ),
    }
}

/// Reads which AWS call a request is, or the error response for one that is none.
async fn decode_call(shared: &Shared, request: Request<Incoming>) -> Result<Call, Response<Body>> {
    let path = request.uri().path();
    Ok(match (request.method(), path) {
        (&Method::GET, LOGGING_PATH) => Call::Get,
        (&Method::DELETE, LOGGING_PATH) => Call::Delete,
        (&Method::PUT, LOGGING_PATH) => match read_body(request.into_body(), MAX_AWS_BODY).await {
            Ok(body) => Call::Put(body),
            Err(message) => {
                return Err(bedrock_error(
                    shared,
                    StatusCode::BAD_REQUEST,
                    "ValidationException",
                    &message,
                ));
            }
        },
        (_, LOGGING_PATH) => {
            let message = format!("{} {LOGGING_PATH} is not an operation", request.method());
            return Err(bedrock_error(
                shared,
                StatusCode::METHOD_NOT_ALLOWED,
                "UnknownOperationException",
                &message,
            ));
        }
        (&Method::POST, "/") => {
            let form = match read_body(request.into_body(), MAX_AWS_BODY).await {
                Ok(body) => Form::parse(&body),
                Err(message) => {
                    return Err(sts_error(
                        shared,
                        &StsError::new(400, "MalformedInput", message),
                    ));
                }
            };
            match form.get("Action") {
                Some("GetCallerIdentity") => Call::GetCallerIdentity,
                Some("AssumeRole") => Call::AssumeRole(form),
                other => {
                    let message = format!(
                        "Could not find operation {} for version 2011-06-15",
                        other.unwrap_or("(no Action)")
                    );
                    return Err(sts_error(
                        shared,
                        &StsError::new(400, "InvalidAction", message),
                    ));
                }
            }
        }
        (method, path) => {
            let message = format!("the emulator serves no {method} {path}");
            return Err(bedrock_error(
                shared,
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                &message,
            ));
        }
    })
}

fn fault_response(
    shared: &Shared,
    kind: FaultKind,
    operation: Operation,
    caller: &Caller,
) -> Response<Body> {
    let denied = format!(
        "User: {} is not authorized to perform: {} in region {} because the region is not enabled for account {} (emulated fault)",
        caller.arn(),
        operation.action(),
        caller.region,
        caller.account
    );
    if operation.is_sts() {
        let err = match kind {
            FaultKind::Throttle => StsError::new(400, "Throttling", "Rate exceeded"),
            FaultKind::Denied => StsError::new(403, "AccessDenied", denied),
            _ => StsError::new(
                500,
                "InternalFailure",
                "An internal error occurred (emulated fault)",
            ),
        };
        return sts_error(shared, &err);
    }
    match kind {
        FaultKind::Throttle => bedrock_error(
            shared,
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        ),
        FaultKind::Denied => bedrock_error(
            shared,
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            &denied,
        ),
        _ => bedrock_error(
            shared,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            "Internal server error (emulated fault)",
        ),
    }
}

async fn handle_admin(shared: &Shared, path: &str, request: Request<Incoming>) -> Response<Body> {
    let admin_error = |status, message: String| {
        let body =
            serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap_or_default();
        json_response(shared, status, body.into())
    };
    match (request.method(), path) {
        (&Method::GET, "state") => {
            json_response(shared, StatusCode::OK, shared.state_json().into())
        }
        (&Method::PUT, "state") => {
            let body = match read_admin_body(shared, request).await {
                Ok(body) => body,
                Err(response) => return response,
            };
            match shared.replace_state_from_json(&body) {
                Ok(count) => {
                    let body = format!("{{\"targets\":{count}}}");
                    json_response(shared, StatusCode::OK, body.into())
                }
                Err(err) => admin_error(StatusCode::BAD_REQUEST, err.to_string()),
            }
        }
        (&Method::GET, "regions") => {
            json_response(shared, StatusCode::OK, shared.regions.changes_json().into())
        }
        (&Method::PUT, "regions") => {
            let body = match read_admin_body(shared, request).await {
                Ok(body) => body,
                Err(response) => return response,
            };
            match shared.regions.replace_from_json(&body) {
                Ok(count) => {
                    let body = format!("{{\"accounts\":{count}}}");
                    json_response(shared, StatusCode::OK, body.into())
                }
                Err(err) => admin_error(StatusCode::BAD_REQUEST, err.message),
            }
        }
        (&Method::GET, "events") => {
            json_response(shared, StatusCode::OK, shared.trail.events_json().into())
        }
        (&Method::GET, "metrics") => {
            json_response(shared, StatusCode::OK, shared.metrics.json().into())
        }
        (&Method::PUT, "metrics") => {
            let body = match read_admin_body(shared, request).await {
                Ok(body) => body,
                Err(response) => return response,
            };
            match shared.metrics.replace_from_json(&body) {
                Ok(count) => {
                    let body = format!("{{\"metrics\":{count}}}");
                    json_response(shared, StatusCode::OK, body.into())
                }
                Err(message) => admin_error(StatusCode::BAD_REQUEST, message),
            }
        }
        (&Method::GET, "destinations") => {
            json_response(shared, StatusCode::OK, shared.destinations_json().into())
        }
        (&Method::GET, "stats") => {
            let body = serde_json::to_vec(&shared.stats()).unwrap_or_default();
            json_response(shared, StatusCode::OK, body.into())
        }
        (&Method::DELETE, "stats") => {
            shared.reset_stats();
            json_response(shared, StatusCode::OK, Bytes::from_static(EMPTY_OBJECT))
        }
        (method, _) => admin_error(
            StatusCode::NOT_FOUND,
            format!(
                "no admin endpoint {method} {ADMIN_PREFIX}{path}; try GET or PUT {ADMIN_PREFIX}state, GET {ADMIN_PREFIX}destinations, GET {ADMIN_PREFIX}events, GET or PUT {ADMIN_PREFIX}metrics, GET or PUT {ADMIN_PREFIX}regions, GET or DELETE {ADMIN_PREFIX}stats"
            ),
        ),
    }
}

/// An admin body of at most [`MAX_ADMIN_BODY`]; a bigger one (by its
/// Content-Length, or as it arrives) is 413 Payload Too Large.
async fn read_admin_body(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<Bytes, Response<Body>> {
    let too_large = || {
        let message = format!(
            "the request body is larger than the admin API's limit of {MAX_ADMIN_BODY} bytes ({} MiB)",
            MAX_ADMIN_BODY >> 20
        );
        let body = serde_json::to_vec(
            &serde_json::json!({ "message": message, "limit_bytes": MAX_ADMIN_BODY }),
        )
        .unwrap_or_default();
        json_response(shared, StatusCode::PAYLOAD_TOO_LARGE, body.into())
    };
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_ADMIN_BODY as u64) {
        // Read and discard (never buffer) what the client is still sending
        // before answering: closing with unread data, or answering while it
        // still writes, can reset the connection and lose the 413.
        let mut body = request.into_body();
        let drain = async { while let Some(Ok(_)) = body.frame().await {} };
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
        return Err(too_large());
    }
    match Limited::new(request.into_body(), MAX_ADMIN_BODY)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(err) => {
            let body = serde_json::to_vec(&serde_json::json!({
                "message": format!("could not read the request body: {err}")
            }))
            .unwrap_or_default();
            Err(json_response(shared, StatusCode::BAD_REQUEST, body.into()))
        }
    }
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, String> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|err| format!("could not read the request body: {err}"))
}

fn json_response(shared: &Shared, status: StatusCode, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(request_id) = HeaderValue::from_str(&shared.request_id()) {
        headers.insert("x-amzn-requestid", request_id);
    }
    response
}

/// A restJson1 error: the code in `x-amzn-ErrorType`, the message in the body.
fn bedrock_error(
    shared: &Shared,
    status: StatusCode,
    code: &'static str,
    message: &str,
) -> Response<Body> {
    let body = serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap_or_default();
    let mut response = json_response(shared, status, body.into());
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(code));
    response
}

fn xml_response(status: StatusCode, request_id: &str, xml: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(xml)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(request_id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", request_id);
    }
    response
}

fn sts_error(shared: &Shared, err: &StsError) -> Response<Body> {
    let request_id = shared.request_id();
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    xml_response(status, &request_id, err.to_xml(&request_id))
}
