//! STS over the awsQuery protocol: form-encoded requests, XML responses.

use super::identity::{
    AssumedSession, Caller, issue_access_key, issue_session_token, now_ms, parse_role_arn, role_id,
};
use super::xml::escape;

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An STS error, rendered as an awsQuery `ErrorResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl StsError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> StsError {
        StsError {
            status,
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> StsError {
        StsError::new(400, "ValidationError", message)
    }

    pub(crate) fn to_xml(&self, request_id: &str) -> String {
        let kind = if self.status >= 500 {
            "Receiver"
        } else {
            "Sender"
        };
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            self.code,
            escape(&self.message)
        )
    }
}

/// The decoded parameters of an awsQuery request body.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Form {
        Form(
            body.split(|&b| b == b'&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let mut halves = pair.splitn(2, |&b| b == b'=');
                    let name = url_decode(halves.next().unwrap_or_default());
                    let value = url_decode(halves.next().unwrap_or_default());
                    (name, value)
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

fn url_decode(bytes: &[u8]) -> String {
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(byte) => {
                        decoded.push(byte);
                        i += 2;
                    }
                    None => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

pub(crate) fn get_caller_identity(caller: &Caller, request_id: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        escape(&caller.arn()),
        escape(&caller.user_id()),
        caller.account
    )
}

/// The account of the role an AssumeRole request names, if its ARN is valid.
pub(crate) fn role_account(form: &Form) -> Option<&str> {
    parse_role_arn(form.get("RoleArn")?, true).map(|arn| arn.account)
}

/// `lifetime`: the longest session to hand out, whatever was asked for.
pub(crate) fn assume_role(
    form: &Form,
    request_id: &str,
    lifetime: Option<std::time::Duration>,
) -> Result<String, StsError> {
    let role_arn = form.get("RoleArn").ok_or_else(|| {
        StsError::validation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
    })?;
    let arn = parse_role_arn(role_arn, true).ok_or_else(|| {
        StsError::validation(format!(
            "{role_arn} is invalid: a role ARN has the form arn:aws:iam::ACCOUNT_ID:role/NAME"
        ))
    })?;
    let session_name = form.get("RoleSessionName").ok_or_else(|| {
        StsError::validation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
    })?;
    let valid_session_name = (2..=64).contains(&session_name.len())
        && session_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !valid_session_name {
        return Err(StsError::validation(format!(
            "1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    let duration = match form.get("DurationSeconds") {
        None => 3600,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|seconds| (900..=43200).contains(seconds))
            .ok_or_else(|| {
                StsError::validation(format!(
                    "1 validation error detected: Value '{text}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"
                ))
            })?,
    };
    let mut lifetime_ms = duration as u64 * 1000;
    if let Some(limit) = lifetime {
        lifetime_ms = lifetime_ms.min(limit.as_millis() as u64);
    }
    // Whole seconds, as AWS writes Expiration; the token expires exactly then.
    let expires_at_ms = (now_ms() + lifetime_ms) / 1000 * 1000;
    let expiration = jiff::Timestamp::from_millisecond(expires_at_ms as i64)
        .unwrap_or(jiff::Timestamp::MAX)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();

    let session = AssumedSession {
        role_name: arn.role_name.to_owned(),
        session_name: session_name.to_owned(),
        expires_at_ms: Some(expires_at_ms),
    };
    let access_key = issue_access_key(arn.account);
    let session_token = issue_session_token(&session);
    Ok(format!(
        "<AssumeRoleResponse xmlns=\"{NAMESPACE}\"><AssumeRoleResult><Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>emulator/secret/{access_key}</SecretAccessKey><SessionToken>{session_token}</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>{}:{}</AssumedRoleId><Arn>arn:{}:sts::{}:assumed-role/{}/{}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></AssumeRoleResponse>",
        role_id(arn.account, arn.role_name),
        escape(session_name),
        arn.partition,
        arn.account,
        escape(arn.role_name),
        escape(session_name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_bodies() {
        let form = Form::parse(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2FX&RoleSessionName=a+b&Bad=%zz&Tail=%4");
        assert_eq!(form.get("Action"), Some("AssumeRole"));
        assert_eq!(
            form.get("RoleArn"),
            Some("arn:aws:iam::222222222222:role/X")
        );
        assert_eq!(form.get("RoleSessionName"), Some("a b"));
        assert_eq!(form.get("Bad"), Some("%zz"));
        assert_eq!(form.get("Tail"), Some("%4"));
        assert_eq!(form.get("Missing"), None);
    }

    #[test]
    fn assume_role_validates_its_parameters() {
        let err = |body: &str| assume_role(&Form::parse(body.as_bytes()), "r", None).unwrap_err();
        assert_eq!(err("RoleSessionName=s").code, "ValidationError");
        assert!(
            err("RoleArn=arn:aws:iam::1:role/X&RoleSessionName=s1")
                .message
                .contains("is invalid")
        );
        assert!(
            err("RoleArn=arn:aws:iam::222222222222:role/X")
                .message
                .contains("roleSessionName")
        );
        assert!(
            err("RoleArn=arn:aws:iam::222222222222:role/X&RoleSessionName=a")
                .message
                .contains("roleSessionName")
        );
        assert!(
            err("RoleArn=arn:aws:iam::222222222222:role/X&RoleSessionName=ab&DurationSeconds=60")
                .message
                .contains("durationSeconds")
        );
        let ok = assume_role(
            &Form::parse(b"RoleArn=arn:aws:iam::222222222222:role/X&RoleSessionName=fleet"),
            "r",
            None,
        )
        .unwrap();
        assert!(ok.contains("<AccessKeyId>ASIAEM222222222222"), "{ok}");
        assert!(
            ok.contains("<Arn>arn:aws:sts::222222222222:assumed-role/X/fleet</Arn>"),
            "{ok}"
        );
    }

    #[test]
    fn escapes_xml() {
        let err = StsError::new(403, "AccessDenied", "a <b> & 'c'");
        assert!(
            err.to_xml("id")
                .contains("<Message>a &lt;b&gt; &amp; &apos;c&apos;</Message>")
        );
        assert!(err.to_xml("id").contains("<Type>Sender</Type>"));
    }
}
