//! The rules for the names a fleet file, the command line and AWS
//! Organizations give fleet: account names, IAM role names, and the role
//! ARN built from them. One home each, so `validate`, `import` and discovery
//! never disagree.

use std::fmt;

use super::AccountId;

/// Why a name cannot name an account's targets (`NAME/REGION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadAccountName {
    /// Empty, or a character that breaks `NAME/REGION`, a placeholder or a
    /// TOML string: whitespace, control characters, `/ { } " \`.
    Characters,
    /// Twelve digits that are not the account's own id: `NAME/REGION` would
    /// name another account.
    OtherAccountsId,
}

impl fmt::Display for BadAccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BadAccountName::Characters => {
                "it is empty or has a space, a control character, '/', '{', '}', '\"' or '\\'"
            }
            BadAccountName::OtherAccountsId => "it looks like another account's id",
        })
    }
}

/// Checks a name for the account whose id is written `id` (as given: a
/// fleet file's id may itself be invalid, and is reported on its own).
pub fn check_account_name(name: &str, id: &str) -> Result<(), BadAccountName> {
    if name.is_empty()
        || name.contains(['/', '{', '}', '"', '\\'])
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(BadAccountName::Characters);
    }
    if AccountId::parse(name).is_some() && name != id {
        return Err(BadAccountName::OtherAccountsId);
    }
    Ok(())
}

/// Whether `name` is an IAM role name: 1 to 64 of letters, digits and
/// `+=,.@_-` (IAM's `RoleName` pattern `[\w+=,.@-]+`). A path or an ARN is
/// not a name.
pub fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// The ARN of role `name` in `account`, in `partition` (`aws`, `aws-cn`,
/// `aws-us-gov`).
pub fn role_arn(partition: &str, account: &AccountId, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names() {
        let id = "111111111111";
        assert_eq!(check_account_name("prod-eu", id), Ok(()));
        assert_eq!(check_account_name("111111111111", id), Ok(()));
        assert_eq!(check_account_name("team=a", id), Ok(()));
        for bad in ["", "Prod Workloads", "a/b", "{x}", "a\"b", "a\\b", "a\tb"] {
            assert_eq!(
                check_account_name(bad, id),
                Err(BadAccountName::Characters),
                "{bad:?}"
            );
        }
        assert_eq!(
            check_account_name("222222222222", id),
            Err(BadAccountName::OtherAccountsId)
        );
    }

    #[test]
    fn role_names_and_arns() {
        assert!(is_role_name("BedrockLoggingAdmin"));
        assert!(is_role_name("a+=,.@_-1"));
        for bad in [
            "",
            "path/role",
            "arn:aws:iam::1:role/x",
            "a b",
            "a\"b",
            "a\\b",
        ] {
            assert!(!is_role_name(bad), "{bad:?}");
        }
        assert!(!is_role_name(&"r".repeat(65)));
        let id = AccountId::parse("111111111111").unwrap();
        assert_eq!(
            role_arn("aws-us-gov", &id, "Admin"),
            "arn:aws-us-gov:iam::111111111111:role/Admin"
        );
    }
}
