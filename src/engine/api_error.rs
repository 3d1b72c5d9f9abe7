//! What went wrong in one call: AWS's own error code, or one of fleet's.

use std::fmt;

/// What went wrong in one call, as AWS (or the network) said it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiError {
    /// The AWS error code (`AccessDeniedException`, `ThrottlingException`)
    /// or fleet's own (`ConnectionError`, `Timeout`, `AssumeRoleFailed`).
    pub code: ErrorCode,
    pub message: String,
}

/// An error code: AWS's, as AWS spelled it, or one of fleet's own
/// conditions. Written (saved plans, JSON output) and shown as the string
/// each variant names; the strings are those fleet has always written, so
/// older saved plans read back as the same variants.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A code AWS answered with, e.g. `AccessDeniedException`.
    Aws(String),
    /// An HTTP client or server error without an AWS error code (`HTTP403`).
    Http(u16),
    /// The endpoint does not implement the service it was asked (an
    /// emulator or proxy answering 404 or "unknown operation"): not a
    /// missing permission, and not the target's fault.
    NotServed,
    /// The call went to a region the account has not enabled.
    RegionNotEnabled,
    /// The run has no AWS credentials at all.
    NoCredentials,
    /// AWS credentials exist but could not be loaded.
    CredentialsError,
    /// The endpoint cannot be reached, or the call could not be sent.
    ConnectionError,
    /// No connection or no answer within the timeouts.
    Timeout,
    /// An answer that could not be read.
    ResponseError,
    /// A request that could not be sent for a reason other than the network.
    RequestError,
    /// AssumeRole failed without an STS error code.
    AssumeRoleFailed,
    /// An account that is not the caller's has no role to assume.
    NoRoleToAssume,
    /// A request fleet could not build (the SDK refused its input).
    InvalidRequest,
    /// An AWS answer fleet cannot use (e.g. an account id that is not one).
    InvalidResponse,
    /// sts:GetCallerIdentity named no account.
    InvalidIdentity,
    /// A bucket that exists, but in another region than the target's.
    BucketInAnotherRegion,
    /// A target whose profile cannot be expanded for it.
    InvalidProfile,
}

impl ErrorCode {
    /// fleet's own codes: those a written string is read back as.
    const FLEET: [ErrorCode; 15] = [
        ErrorCode::NotServed,
        ErrorCode::RegionNotEnabled,
        ErrorCode::NoCredentials,
        ErrorCode::CredentialsError,
        ErrorCode::ConnectionError,
        ErrorCode::Timeout,
        ErrorCode::ResponseError,
        ErrorCode::RequestError,
        ErrorCode::AssumeRoleFailed,
        ErrorCode::NoRoleToAssume,
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidResponse,
        ErrorCode::InvalidIdentity,
        ErrorCode::BucketInAnotherRegion,
        ErrorCode::InvalidProfile,
    ];

    /// The code a written string stands for: one of fleet's, an HTTP
    /// status (`HTTP403`), or else AWS's.
    pub fn from_wire(code: &str) -> ErrorCode {
        if let Some(status) = code
            .strip_prefix("HTTP")
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'))
            .and_then(|digits| digits.parse().ok())
        {
            return ErrorCode::Http(status);
        }
        Self::FLEET
            .into_iter()
            .find(|fleet| fleet.as_str() == code)
            .unwrap_or_else(|| ErrorCode::Aws(code.to_owned()))
    }

    /// AWS's code, `None` for fleet's own.
    pub fn aws(&self) -> Option<&str> {
        match self {
            ErrorCode::Aws(code) => Some(code),
            _ => None,
        }
    }

    /// Whether AWS refused the call for lack of a permission.
    pub fn is_access_denied(&self) -> bool {
        match self {
            ErrorCode::Http(403) => true,
            ErrorCode::Aws(code) => {
                code.contains("AccessDenied")
                    || matches!(
                        code.as_str(),
                        "Forbidden" | "UnauthorizedOperation" | "AuthorizationError"
                    )
            }
            _ => false,
        }
    }

    /// Whether AWS throttled the call (`ThrottlingException`, S3's
    /// `Throttling`, …).
    pub fn is_throttling(&self) -> bool {
        self.aws().is_some_and(Self::names_throttling)
    }

    /// Whether an AWS error code (as in the `x-amzn-errortype` header) is
    /// one of throttling.
    pub fn names_throttling(code: &str) -> bool {
        code.contains("Throttl")
    }

    /// Whether AWS rejected the credentials themselves ("The security token
    /// included in the request is invalid"), as it does in a region the
    /// account has not enabled.
    pub fn is_rejected_token(&self) -> bool {
        matches!(
            self.aws(),
            Some("UnrecognizedClientException" | "InvalidClientTokenId")
        )
    }

    /// Whether the endpoint could not be reached or did not answer in time.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ErrorCode::ConnectionError | ErrorCode::Timeout)
    }

    /// The string the code is written and shown as.
    fn as_str(&self) -> std::borrow::Cow<'_, str> {
        let fleet = match self {
            ErrorCode::Aws(code) => return code.as_str().into(),
            ErrorCode::Http(status) => return format!("HTTP{status}").into(),
            ErrorCode::NotServed => "NotServed",
            ErrorCode::RegionNotEnabled => "RegionNotEnabled",
            ErrorCode::NoCredentials => "NoCredentials",
            ErrorCode::CredentialsError => "CredentialsError",
            ErrorCode::ConnectionError => "ConnectionError",
            ErrorCode::Timeout => "Timeout",
            ErrorCode::ResponseError => "ResponseError",
            ErrorCode::RequestError => "RequestError",
            ErrorCode::AssumeRoleFailed => "AssumeRoleFailed",
            ErrorCode::NoRoleToAssume => "NoRoleToAssume",
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::InvalidResponse => "InvalidResponse",
            ErrorCode::InvalidIdentity => "InvalidIdentity",
            ErrorCode::BucketInAnotherRegion => "BucketInAnotherRegion",
            ErrorCode::InvalidProfile => "InvalidProfile",
        };
        fleet.into()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> ErrorCode {
        ErrorCode::from_wire(code)
    }
}

impl From<String> for ErrorCode {
    fn from(code: String) -> ErrorCode {
        ErrorCode::from_wire(&code)
    }
}

/// For tests only: fleet decides on variants and named methods, never on
/// a code's text.
#[cfg(test)]
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(ErrorCode::from_wire(&code))
    }
}

impl ApiError {
    pub fn new(code: impl Into<ErrorCode>, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// True when the call went to a region the account has not enabled.
    pub fn is_region_not_enabled(&self) -> bool {
        self.code == ErrorCode::RegionNotEnabled
    }

    pub fn is_not_served(&self) -> bool {
        self.code == ErrorCode::NotServed
    }

    /// Whether AWS refused the call for lack of a permission.
    pub fn is_access_denied(&self) -> bool {
        self.code.is_access_denied()
    }

    /// Whether AWS throttled the call.
    pub fn is_throttling(&self) -> bool {
        self.code.is_throttling()
    }

    /// AWS's answer to a Put while a new role or policy has not propagated
    /// yet. AWS says so only in words, so this reads them: the one place
    /// fleet decides on an AWS message.
    pub fn is_permission_lag(&self) -> bool {
        self.code.aws() == Some("ValidationException")
            && self.message.contains("Failed to validate permissions")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code fleet writes, as it wrote them before codes were typed.
    const WIRE: [(&str, ErrorCode); 19] = [
        ("NotServed", ErrorCode::NotServed),
        ("RegionNotEnabled", ErrorCode::RegionNotEnabled),
        ("NoCredentials", ErrorCode::NoCredentials),
        ("CredentialsError", ErrorCode::CredentialsError),
        ("ConnectionError", ErrorCode::ConnectionError),
        ("Timeout", ErrorCode::Timeout),
        ("ResponseError", ErrorCode::ResponseError),
        ("RequestError", ErrorCode::RequestError),
        ("AssumeRoleFailed", ErrorCode::AssumeRoleFailed),
        ("NoRoleToAssume", ErrorCode::NoRoleToAssume),
        ("InvalidRequest", ErrorCode::InvalidRequest),
        ("InvalidResponse", ErrorCode::InvalidResponse),
        ("InvalidIdentity", ErrorCode::InvalidIdentity),
        ("BucketInAnotherRegion", ErrorCode::BucketInAnotherRegion),
        ("InvalidProfile", ErrorCode::InvalidProfile),
        ("HTTP403", ErrorCode::Http(403)),
        ("HTTP500", ErrorCode::Http(500)),
        ("HTTP", ErrorCode::Aws(String::new())),
        ("HTTP0403", ErrorCode::Aws(String::new())),
    ];

    #[test]
    fn codes_are_written_and_read_as_the_old_strings() {
        for (wire, code) in WIRE {
            let code = match code {
                ErrorCode::Aws(_) => ErrorCode::Aws(wire.to_owned()),
                code => code,
            };
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{wire}\""));
            assert_eq!(code.to_string(), wire);
            let read: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(read, code, "{wire}");
        }
        let aws = ErrorCode::Aws("AccessDeniedException".to_owned());
        assert_eq!(
            serde_json::to_string(&aws).unwrap(),
            "\"AccessDeniedException\""
        );
        assert_eq!(
            serde_json::from_str::<ErrorCode>("\"AccessDeniedException\"").unwrap(),
            aws
        );
    }

    #[test]
    fn an_error_written_by_the_old_format_reads_back_typed() {
        let old = r#"{"code":"RegionNotEnabled","message":"region ap-east-1 is not enabled"}"#;
        let err: ApiError = serde_json::from_str(old).unwrap();
        assert!(err.is_region_not_enabled());
        assert_eq!(serde_json::to_string(&err).unwrap(), old);
        assert_eq!(
            err.to_string(),
            "RegionNotEnabled: region ap-east-1 is not enabled"
        );
        let old = r#"{"code":"ThrottlingException","message":"Rate exceeded"}"#;
        let err: ApiError = serde_json::from_str(old).unwrap();
        assert!(err.is_throttling());
        assert_eq!(serde_json::to_string(&err).unwrap(), old);
    }

    #[test]
    fn aws_codes_are_classified_in_one_place() {
        let code = |c: &str| ErrorCode::from_wire(c);
        assert!(code("AccessDeniedException").is_access_denied());
        assert!(code("AccessDenied").is_access_denied());
        assert!(code("HTTP403").is_access_denied());
        assert!(code("UnauthorizedOperation").is_access_denied());
        assert!(!code("ThrottlingException").is_access_denied());
        assert!(!ErrorCode::NotServed.is_access_denied());
        assert!(code("Throttling").is_throttling());
        assert!(code("ThrottlingException").is_throttling());
        assert!(!ErrorCode::Timeout.is_throttling());
        assert!(code("UnrecognizedClientException").is_rejected_token());
        assert!(code("InvalidClientTokenId").is_rejected_token());
        assert!(ErrorCode::Timeout.is_unreachable());
        assert!(ErrorCode::ConnectionError.is_unreachable());
        assert!(!ErrorCode::NoCredentials.is_unreachable());
        let lag = ApiError::new(
            "ValidationException",
            "Failed to validate permissions for log group",
        );
        assert!(lag.is_permission_lag());
        assert!(!ApiError::new("ValidationException", "bad bucket").is_permission_lag());
    }
}
