//! SDK failures as fleet reports them: the AWS error code and message, or
//! one readable line saying what went wrong on the way and what to do. No
//! SDK debug formatting (`DispatchFailure { … }`) ever reaches the user;
//! the whole cause chain is kept for `-v`.

use std::error::Error;
use std::io;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::Response;

use crate::engine::{ApiError, ErrorCode};

/// An SDK failure as fleet reports it.
pub fn api_error<E>(err: SdkError<E, Response>) -> ApiError
where
    E: ProvideErrorMetadata + Error + 'static,
{
    match &err {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let service = context.err();
            match service.code() {
                // AWS answers every call it refuses with an error code. A
                // client error without one, or an "unknown operation", comes
                // from an endpoint that does not implement this service.
                None if (400..500).contains(&status) => ApiError::new(
                    ErrorCode::NotServed,
                    format!(
                        "the endpoint answered HTTP {status} without an AWS error: it does not serve this AWS service"
                    ),
                ),
                Some(code @ ("UnknownOperationException" | "InvalidAction")) => ApiError::new(
                    ErrorCode::NotServed,
                    format!("the endpoint does not serve this AWS service ({code})"),
                ),
                Some(code) => ApiError::new(
                    ErrorCode::Aws(code.to_owned()),
                    service
                        .message()
                        .map_or_else(|| format!("HTTP status {status}"), one_line),
                ),
                None => ApiError::new(
                    ErrorCode::Http(status),
                    service
                        .message()
                        .map_or_else(|| format!("HTTP status {status}"), one_line),
                ),
            }
        }
        SdkError::TimeoutError(_) => ApiError::new(
            ErrorCode::Timeout,
            "no answer within the operation timeout (--operation-timeout)",
        ),
        SdkError::DispatchFailure(failure) => dispatch_error(failure.as_connector_error(), &err),
        // A client error whose body is not this service's protocol comes,
        // like one without an error code, from an endpoint that does not
        // implement the service.
        SdkError::ResponseError(context) if context.raw().status().is_client_error() => {
            ApiError::new(
                ErrorCode::NotServed,
                format!(
                    "the endpoint answered HTTP {} in a form this AWS service never uses: it does not serve this AWS service",
                    context.raw().status().as_u16()
                ),
            )
        }
        SdkError::ResponseError(_) => ApiError::new(
            ErrorCode::ResponseError,
            format!("the answer could not be read: {}", innermost(&err)),
        ),
        _ => ApiError::new(
            ErrorCode::RequestError,
            format!("the request could not be sent: {}", innermost(&err)),
        ),
    }
}

/// A call's failure with how many attempts the SDK made; a throttled call
/// also says how to throttle less.
pub(crate) fn after_attempts(err: ApiError, attempts: u32, throttled: bool) -> ApiError {
    let throttled = throttled || err.is_throttling();
    if attempts <= 1 && !throttled {
        return err;
    }
    let plural = if attempts == 1 { "" } else { "s" };
    let hint = if throttled {
        "; AWS throttled it: lower --concurrency or raise --max-attempts"
    } else {
        ""
    };
    ApiError::new(
        err.code,
        format!(
            "{} (gave up after {attempts} attempt{plural}{hint})",
            err.message
        ),
    )
}

/// A call that never got an answer: no credentials, no connection, or no
/// answer in time.
fn dispatch_error(connector: Option<&ConnectorError>, err: &(dyn Error + 'static)) -> ApiError {
    if let Some(credentials) = find::<CredentialsError>(err) {
        return match credentials {
            CredentialsError::CredentialsNotLoaded(_) => ApiError::new(
                ErrorCode::NoCredentials,
                "no AWS credentials found (environment, AWS_PROFILE, SSO, web identity, container and instance metadata were tried); set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
            ),
            _ => ApiError::new(
                ErrorCode::CredentialsError,
                format!("cannot load AWS credentials: {}", innermost(credentials)),
            ),
        };
    }
    match connector {
        Some(connector) if connector.is_timeout() => ApiError::new(
            ErrorCode::Timeout,
            "no connection within the connect timeout (--connect-timeout)",
        ),
        Some(connector) if connector.is_io() => {
            let cause = find::<io::Error>(err).map_or_else(|| innermost(err), io_cause);
            ApiError::new(
                ErrorCode::ConnectionError,
                format!("cannot connect to the endpoint: {cause}"),
            )
        }
        _ => ApiError::new(
            ErrorCode::ConnectionError,
            format!("the call could not be sent: {}", innermost(err)),
        ),
    }
}

/// An I/O error without its `(os error N)` suffix.
fn io_cause(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    text.to_lowercase()
}

/// The first error of type `T` in the cause chain.
fn find<'e, T: Error + 'static>(err: &'e (dyn Error + 'static)) -> Option<&'e T> {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

/// The deepest cause's message, on one line.
fn innermost(err: &(dyn Error + 'static)) -> String {
    let mut deepest = err;
    while let Some(source) = deepest.source() {
        deepest = source;
    }
    one_line(&deepest.to_string())
}

/// Every message of the cause chain, outermost first, each once: what `-v`
/// adds to a one-line error.
pub fn cause_chain(err: &(dyn Error + 'static)) -> Vec<String> {
    let mut chain: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(err) = current {
        let text = err.to_string();
        if !chain.iter().any(|seen| seen.contains(&text)) {
            chain.push(text);
        }
        current = err.source();
    }
    chain
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_causes_lose_the_os_error_number() {
        let err = io::Error::from_raw_os_error(111);
        assert_eq!(io_cause(&err), "connection refused");
    }

    #[test]
    fn failures_after_retries_say_how_many_attempts() {
        let err = ApiError::new("ThrottlingException", "Rate exceeded");
        assert_eq!(
            after_attempts(err, 8, true).message,
            "Rate exceeded (gave up after 8 attempts; AWS throttled it: lower --concurrency or raise --max-attempts)"
        );
        let err = ApiError::new("InternalServerException", "oops");
        assert_eq!(
            after_attempts(err, 3, false).message,
            "oops (gave up after 3 attempts)"
        );
        let err = ApiError::new("AccessDeniedException", "no");
        assert_eq!(after_attempts(err, 1, false).message, "no");
    }

    #[test]
    fn messages_are_one_line() {
        assert_eq!(one_line("a\n  b c\n"), "a b c");
    }
}
