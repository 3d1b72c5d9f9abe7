//! Who is calling, and from which region, read from the SigV4 `Authorization`
//! header without verifying the signature.
//!
//! The emulator keeps no credential table: the access key id that AssumeRole
//! hands out carries the role's account (`ASIAEM` + 12 digits + 2 characters),
//! and its session token carries the role and session names. Any other access
//! key id belongs to [`DEFAULT_ACCOUNT`], as with moto.

use std::sync::atomic::{AtomicU64, Ordering};

use hyper::HeaderMap;

/// The account of every caller whose access key AssumeRole did not issue.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// The region of a request that carries no SigV4 credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";

const ACCESS_KEY_MARKER: &str = "ASIAEM";
const SESSION_TOKEN_MARKER: &str = "FLEETEMU";

/// The identity and region of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub(crate) account: String,
    pub(crate) region: String,
    /// The credential scope's service (`bedrock`, `sts`, `s3`, `iam`,
    /// `logs`, …): requests on one port are routed by it. Empty when the
    /// request is not signed.
    pub(crate) service: String,
    /// The role and session names, for credentials AssumeRole issued.
    pub(crate) session: Option<AssumedSession>,
    /// The SigV4 access key id; empty when the request is not signed.
    pub(crate) access_key_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssumedSession {
    pub(crate) role_name: String,
    pub(crate) session_name: String,
    /// When the credentials stop working, in milliseconds since the Unix
    /// epoch; `None` for a token without one (never expires).
    pub(crate) expires_at_ms: Option<u64>,
}

impl AssumedSession {
    /// True once the session's credentials no longer work.
    pub(crate) fn is_expired(&self) -> bool {
        self.expires_at_ms.is_some_and(|expiry| now_ms() >= expiry)
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

impl Caller {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Caller {
        let scope = headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(credential_scope);
        let (access_key, region, service) = scope.unwrap_or(("", DEFAULT_REGION, ""));
        let account = account_of_access_key(access_key);
        let session = account
            .and_then(|_| headers.get("x-amz-security-token"))
            .and_then(|value| value.to_str().ok())
            .and_then(decode_session_token);
        Caller {
            account: account.unwrap_or(DEFAULT_ACCOUNT).to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            session,
            access_key_id: access_key.to_owned(),
        }
    }

    pub(crate) fn target(&self) -> String {
        format!("{}/{}", self.account, self.region)
    }

    pub(crate) fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// The caller's ARN, as GetCallerIdentity and access-denied messages show it.
    pub(crate) fn arn(&self) -> String {
        let partition = self.partition();
        match &self.session {
            Some(session) => format!(
                "arn:{partition}:sts::{}:assumed-role/{}/{}",
                self.account, session.role_name, session.session_name
            ),
            None => format!("arn:{partition}:iam::{}:user/emulator", self.account),
        }
    }

    pub(crate) fn user_id(&self) -> String {
        match &self.session {
            Some(session) => format!(
                "{}:{}",
                role_id(&self.account, &session.role_name),
                session.session_name
            ),
            None => "AIDAEMULATORUSER0001".to_owned(),
        }
    }

    /// The user name CloudTrail shows: the session's name, or the IAM user's.
    pub(crate) fn user_name(&self) -> &str {
        match &self.session {
            Some(session) => &session.session_name,
            None => "emulator",
        }
    }

    /// CloudTrail's `userIdentity`: an `AssumedRole` for AssumeRole's
    /// credentials, otherwise the IAM user `emulator` that `arn()` names.
    pub(crate) fn cloudtrail_identity(&self) -> serde_json::Value {
        let partition = self.partition();
        match &self.session {
            Some(session) => {
                let role_id = role_id(&self.account, &session.role_name);
                serde_json::json!({
                    "type": "AssumedRole",
                    "principalId": self.user_id(),
                    "arn": self.arn(),
                    "accountId": self.account,
                    "accessKeyId": self.access_key_id,
                    "sessionContext": {
                        "sessionIssuer": {
                            "type": "Role",
                            "principalId": role_id,
                            "arn": format!("arn:{partition}:iam::{}:role/{}", self.account, session.role_name),
                            "accountId": self.account,
                            "userName": session.role_name,
                        }
                    }
                })
            }
            None => serde_json::json!({
                "type": "IAMUser",
                "principalId": self.user_id(),
                "arn": self.arn(),
                "accountId": self.account,
                "accessKeyId": self.access_key_id,
                "userName": self.user_name(),
            }),
        }
    }
}

/// `(access key id, region, service)` from `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
fn credential_scope(authorization: &str) -> Option<(&str, &str, &str)> {
    let start = authorization.find("Credential=")? + "Credential=".len();
    let credential = authorization[start..].split([',', ' ']).next()?;
    let mut parts = credential.split('/');
    let access_key = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next().filter(|region| !region.is_empty())?;
    let service = parts.next().unwrap_or("");
    Some((access_key, region, service))
}

fn account_of_access_key(access_key: &str) -> Option<&str> {
    let account = access_key.strip_prefix(ACCESS_KEY_MARKER)?.get(..12)?;
    is_account_id(account).then_some(account)
}

/// The parts of a role ARN that matches
/// `^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoleArn<'a> {
    pub(crate) partition: &'a str,
    /// Empty when the ARN omits it (allowed only when `require_account` is false).
    pub(crate) account: &'a str,
    /// The role's name, without its path.
    pub(crate) role_name: &'a str,
}

pub(crate) fn parse_role_arn(arn: &str, require_account: bool) -> Option<RoleArn<'_>> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let suffix = partition.strip_prefix("aws")?;
    if !(suffix.is_empty() || suffix.len() > 1 && suffix.starts_with('-')) {
        return None;
    }
    let rest = rest.strip_prefix("iam::")?;
    let (account, rest) = rest.split_once(':')?;
    if !(is_account_id(account) || account.is_empty() && !require_account) {
        return None;
    }
    let path = rest.strip_prefix("role/")?;
    // `.+` in the pattern: at least one character, none of them a line break.
    if path.is_empty() || path.contains(['\n', '\r']) {
        return None;
    }
    let role_name = path.rsplit('/').next().filter(|name| !name.is_empty())?;
    Some(RoleArn {
        partition,
        account,
        role_name,
    })
}

pub(crate) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A stable, role-specific unique id in the `AROA…` form AWS uses.
pub(crate) fn role_id(account: &str, role_name: &str) -> String {
    let hash = role_name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("AROA{account}{:08X}", hash as u32)
}

/// Credentials that address `account` when used against the emulator.
pub(crate) fn issue_access_key(account: &str) -> String {
    const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    static ISSUED: AtomicU64 = AtomicU64::new(0);
    let n = ISSUED.fetch_add(1, Ordering::Relaxed) as usize;
    let suffix = [BASE32[(n / 32) % 32], BASE32[n % 32]];
    format!(
        "{ACCESS_KEY_MARKER}{account}{}",
        std::str::from_utf8(&suffix).expect("base32 is ASCII")
    )
}

/// The token carries the role, the session name and the expiry, so the
/// emulator needs no table of the sessions it issued.
pub(crate) fn issue_session_token(session: &AssumedSession) -> String {
    let mut names = format!("{}/{}", session.role_name, session.session_name);
    if let Some(expiry) = session.expires_at_ms {
        names.push_str(&format!("/{expiry}"));
    }
    format!("{SESSION_TOKEN_MARKER}{}", hex::encode(names))
}

fn decode_session_token(token: &str) -> Option<AssumedSession> {
    let names = hex::decode(token.strip_prefix(SESSION_TOKEN_MARKER)?).ok()?;
    let names = String::from_utf8(names).ok()?;
    // Role names cannot contain `/`; session names cannot either.
    let mut parts = names.split('/');
    let (role_name, session_name) = (parts.next()?, parts.next()?);
    let expires_at_ms = match parts.next() {
        Some(expiry) => Some(expiry.parse().ok()?),
        None => None,
    };
    Some(AssumedSession {
        role_name: role_name.to_owned(),
        session_name: session_name.to_owned(),
        expires_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(authorization: &str, token: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_str(authorization).unwrap(),
        );
        if let Some(token) = token {
            headers.insert(
                "x-amz-security-token",
                HeaderValue::from_str(token).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn reads_account_and_region_from_the_credential_scope() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261125/eu-west-1/bedrock/aws4_request, SignedHeaders=host, Signature=abc";
        let caller = Caller::from_headers(&headers(auth, None));
        assert_eq!(caller.account, DEFAULT_ACCOUNT);
        assert_eq!(caller.region, "eu-west-1");
        assert_eq!(caller.service, "bedrock");
        assert_eq!(caller.session, None);

        let key = issue_access_key("222222222222");
        let session = AssumedSession {
            role_name: "Admin".into(),
            session_name: "fleet".into(),
            expires_at_ms: Some(now_ms() + 60_000),
        };
        let token = issue_session_token(&session);
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={key}/20261125/cn-north-1/sts/aws4_request, SignedHeaders=host, Signature=abc"
        );
        let caller = Caller::from_headers(&headers(&auth, Some(&token)));
        assert_eq!(caller.target(), "222222222222/cn-north-1");
        assert_eq!(caller.session, Some(session));
        assert_eq!(
            caller.arn(),
            "arn:aws-cn:sts::222222222222:assumed-role/Admin/fleet"
        );
    }

    #[test]
    fn parses_role_arns_like_the_aws_pattern() {
        let arn = parse_role_arn("arn:aws-cn:iam::222222222222:role/path/Admin", true).unwrap();
        assert_eq!(
            (arn.partition, arn.account, arn.role_name),
            ("aws-cn", "222222222222", "Admin")
        );
        assert!(parse_role_arn("arn:aws:iam:::role/x", false).is_some());
        for bad in [
            "arn:aws:iam:::role/x",
            "arn:aws:iam::12345:role/x",
            "arn:aws:iam::222222222222:user/x",
            "arn:aws:iam::222222222222:role/",
            "arn:aws-:iam::222222222222:role/x",
            "arn:azure:iam::222222222222:role/x",
            "arn:aws:sts::222222222222:role/x",
            "not an arn",
        ] {
            assert_eq!(parse_role_arn(bad, true), None, "{bad}");
        }
    }

    #[test]
    fn no_authorization_is_the_default_caller_in_us_east_1() {
        let caller = Caller::from_headers(&HeaderMap::new());
        assert_eq!(caller.target(), "123456789012/us-east-1");
    }
}
