//! Answers of the destination services (S3, IAM, CloudWatch Logs) before they
//! become HTTP responses, and each protocol's error shape: the SDK reads an
//! error's code from a different place in each.

use bytes::Bytes;

/// An answer: status, headers and body.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn new(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.into(),
        }
    }

    /// No body at all (S3's 204s, HeadBucket).
    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub(crate) fn xml(status: u16, body: String) -> Reply {
        Reply::new(status, "application/xml", body)
    }

    pub(crate) fn json(body: serde_json::Value) -> Reply {
        Reply::new(200, "application/x-amz-json-1.1", body.to_string())
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

/// How a service writes its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// S3: `<Error><Code>…` in the body.
    RestXml,
    /// IAM (and STS): an awsQuery `ErrorResponse` in the service's namespace.
    Query(&'static str),
    /// CloudWatch Logs and CloudTrail: `{"__type": CODE, "message": …}`.
    AwsJson,
    /// CloudWatch (Smithy RPC v2 CBOR): the same map in CBOR, and the code
    /// again in `x-amzn-query-error`, as CloudWatch is awsQuery-compatible.
    Cbor,
}

pub(crate) const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

impl Protocol {
    pub(crate) fn error(self, status: u16, code: &str, message: &str, request_id: &str) -> Reply {
        match self {
            Protocol::RestXml => s3_error(status, code, message, &[], request_id),
            Protocol::Query(namespace) => {
                let kind = if status >= 500 { "Receiver" } else { "Sender" };
                Reply::xml(
                    status,
                    format!(
                        "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                        super::xml::escape(message)
                    ),
                )
            }
            Protocol::AwsJson => Reply::new(
                status,
                "application/x-amz-json-1.1",
                serde_json::json!({ "__type": code, "message": message }).to_string(),
            )
            .header("x-amzn-errortype", code),
            Protocol::Cbor => {
                let kind = if status >= 500 { "Receiver" } else { "Sender" };
                Reply::new(
                    status,
                    "application/cbor",
                    super::cbor::error_body(code, message),
                )
                .header("smithy-protocol", "rpc-v2-cbor")
                .header("x-amzn-query-error", format!("{code};{kind}"))
            }
        }
    }
}

/// An S3 error document; `extra` are elements such as `BucketName` that S3
/// adds to some errors.
pub(crate) fn s3_error(
    status: u16,
    code: &str,
    message: &str,
    extra: &[(&str, &str)],
    request_id: &str,
) -> Reply {
    use super::xml::escape;
    let extra: String = extra
        .iter()
        .map(|(name, value)| format!("<{name}>{}</{name}>", escape(value)))
        .collect();
    Reply::xml(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message>{extra}<RequestId>{request_id}</RequestId><HostId>emulator</HostId></Error>",
            escape(message)
        ),
    )
}
