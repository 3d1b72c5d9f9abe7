//! `fleet audit` with `[fleet] protect = true`: whether each account is
//! covered by a service control policy that holds fleet's lock (the
//! statement `fleet policy --scp` prints first), attached to the account,
//! one of its OUs or the root.
//!
//! Only the organization's management account or a delegated
//! administrator can read attached policies; anybody else gets "cannot
//! tell", never "unlocked".

use futures::{StreamExt, stream};
use serde_json::Value;

use super::ApiError;
use crate::fleet::AccountId;

/// The Sid of the lock statement in the SCP fleet prints.
pub const LOCK_SID: &str = "ProtectBedrockInvocationLogging";

/// The two actions the lock must deny.
const LOCKED_ACTIONS: [&str; 2] = [
    "bedrock:PutModelInvocationLoggingConfiguration",
    "bedrock:DeleteModelInvocationLoggingConfiguration",
];

/// A service control policy in effect for an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyInEffect {
    pub name: String,
    /// Where it is attached: the account, an OU or the root id.
    pub target: String,
    pub content: String,
}

/// What Organizations says of one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyView {
    /// The organization's management account: SCPs never restrict it.
    Management,
    /// Every SCP attached to the account, its OUs and the root.
    Policies(Vec<PolicyInEffect>),
}

/// The Organizations reads the check makes, with the caller's credentials.
pub trait LockApi: Sync {
    /// The organization's management account id (`DescribeOrganization`).
    fn management_account(&self) -> impl Future<Output = Result<Option<String>, ApiError>> + Send;

    /// Every SCP attached to a member account, its OUs and the root.
    fn policies_in_effect(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<PolicyView, ApiError>> + Send;
}

/// Whether an account is locked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockState {
    /// A policy in effect denies both writes of logging.
    Locked {
        policy: String,
        target: String,
    },
    /// No policy in effect denies them.
    Unlocked,
    /// SCPs do not apply to the management account.
    Management,
    CannotTell(ApiError),
}

impl LockState {
    /// A sentence for a warning or a note; `None` when locked.
    pub fn problem(&self, account: &AccountId) -> Option<String> {
        match self {
            LockState::Locked { .. } => None,
            LockState::Unlocked => Some(format!(
                "protect = true, but no service control policy attached to account {account}, its OUs or the root holds fleet's lock: any principal allowed to can still turn its logging off; `fleet policy --scp` prints the lock to attach"
            )),
            LockState::Management => Some(format!(
                "account {account} is the organization's management account: service control policies never restrict it, so no SCP can lock its logging"
            )),
            LockState::CannotTell(err) => Some(format!(
                "cannot tell whether a service control policy locks logging in account {account} (only the management account or a delegated administrator can read them): {err}"
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            LockState::Locked { .. } => "locked",
            LockState::Unlocked => "unlocked",
            LockState::Management => "management_account",
            LockState::CannotTell(_) => "cannot_tell",
        }
    }
}

/// Whether a policy document denies both writes of the logging
/// configuration (by fleet's Sid, or any Deny statement naming them, or a
/// wildcard that covers them).
pub fn holds_lock(content: &str) -> bool {
    let Ok(document) = serde_json::from_str::<Value>(content) else {
        return false;
    };
    let statements = match &document["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return false,
    };
    statements.iter().any(|statement| {
        if statement["Effect"] != "Deny" {
            return false;
        }
        let actions: Vec<&str> = match &statement["Action"] {
            Value::String(one) => vec![one.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        LOCKED_ACTIONS
            .iter()
            .all(|wanted| actions.iter().any(|a| covers(a, wanted)))
    })
}

/// IAM action matching: case-insensitive, `*` matches any run.
fn covers(pattern: &str, action: &str) -> bool {
    fn matches(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], a) || (!a.is_empty() && matches(p, &a[1..])),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => matches(&p[1..], &a[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), action.as_bytes())
}

/// The state of one account from what Organizations returned.
pub fn lock_state(view: Result<PolicyView, ApiError>) -> LockState {
    match view {
        Err(err) => LockState::CannotTell(err),
        Ok(PolicyView::Management) => LockState::Management,
        Ok(PolicyView::Policies(policies)) => policies
            .into_iter()
            .find(|p| holds_lock(&p.content))
            .map_or(LockState::Unlocked, |p| LockState::Locked {
                policy: p.name,
                target: p.target,
            }),
    }
}

/// Checks every account, at most `concurrency` at a time, in the order
/// given: the organization is described once, then each member account's
/// policies are read.
pub async fn check_locks<A: LockApi>(
    api: &A,
    accounts: &[AccountId],
    concurrency: usize,
) -> Vec<(AccountId, LockState)> {
    let management = match api.management_account().await {
        Ok(management) => management,
        Err(err) => {
            return accounts
                .iter()
                .map(|a| (a.clone(), LockState::CannotTell(err.clone())))
                .collect();
        }
    };
    let management = &management;
    stream::iter(accounts)
        .map(|account| async move {
            let view = if management.as_deref() == Some(account.as_str()) {
                Ok(PolicyView::Management)
            } else {
                api.policies_in_effect(account).await
            };
            (account.clone(), lock_state(view))
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleets_own_scp_holds_the_lock_and_others_do_not() {
        let managed = super::super::policy::ManagedArns::default();
        let (scp, _) = super::super::policy::lock_scp(&["fleet".to_owned()], None, &managed);
        assert!(holds_lock(&scp.to_string()));
        assert!(holds_lock(
            r#"{"Statement":{"Effect":"Deny","Action":"bedrock:*","Resource":"*"}}"#
        ));
        assert!(!holds_lock(
            r#"{"Statement":[{"Effect":"Deny","Action":["bedrock:PutModelInvocationLoggingConfiguration"],"Resource":"*"}]}"#
        ));
        assert!(!holds_lock(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        ));
        assert!(!holds_lock("not json"));
    }

    #[test]
    fn states() {
        let lock = r#"{"Statement":{"Effect":"Deny","Action":"bedrock:*ModelInvocationLogging*","Resource":"*"}}"#;
        let view = PolicyView::Policies(vec![
            PolicyInEffect {
                name: "FullAWSAccess".into(),
                target: "r-1".into(),
                content: r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#.into(),
            },
            PolicyInEffect {
                name: "lock".into(),
                target: "ou-1".into(),
                content: lock.into(),
            },
        ]);
        assert_eq!(
            lock_state(Ok(view)),
            LockState::Locked {
                policy: "lock".into(),
                target: "ou-1".into()
            }
        );
        assert_eq!(
            lock_state(Ok(PolicyView::Policies(Vec::new()))),
            LockState::Unlocked
        );
        assert_eq!(
            lock_state(Ok(PolicyView::Management)),
            LockState::Management
        );
    }
}
