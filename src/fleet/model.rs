//! The validated fleet: accounts, regions and the resolved targets.
//!
//! Everything here has passed the checks of DESIGN §2; nothing downstream
//! checks it again.

use std::fmt;
use std::sync::Arc;

use super::{ExpandError, Placeholders, ProfileSpec};
use crate::logging::LoggingConfig;

pub use super::region::Region;

/// A 12-digit AWS account id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(id: &str) -> Option<AccountId> {
        (id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())).then(|| AccountId(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account the fleet file manages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: Option<String>,
    /// The role to assume in this account; `None` means the account must be
    /// the caller's own, used directly.
    pub role_arn: Option<String>,
}

impl Account {
    /// How targets of this account are written: its name, or its id when it
    /// has none.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(self.id.as_str())
    }
}

/// One account × region the fleet file manages, with what it must look like.
#[derive(Clone, Debug)]
pub struct Target {
    pub account: Arc<Account>,
    pub region: Region,
    pub profile: Arc<str>,
    /// The expanded configuration, or `None` for a profile with
    /// `enabled = false` (logging must be absent).
    pub desired: Option<LoggingConfig>,
    /// The destinations fleet creates and keeps for this target.
    pub managed: Managed,
}

impl AsRef<Target> for Target {
    fn as_ref(&self) -> &Target {
        self
    }
}

impl Target {
    /// `ACCOUNT/REGION`, as filters and output name targets.
    pub fn id(&self) -> TargetId<'_> {
        TargetId {
            account: self.account.label(),
            region: self.region.as_str(),
        }
    }
}

/// The display form of a target, `ACCOUNT/REGION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetId<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

impl fmt::Display for TargetId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// Settings of the `[fleet]` table that matter after validation.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub concurrency: Option<usize>,
    /// `[fleet] protect = true`: apply refuses changes that weaken logging
    /// unless `--allow-weakening` is given.
    pub protect: bool,
}

/// A profile as declared, kept for `fleet policy` and import.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    /// The profile, checked, to expand for each target.
    pub spec: Arc<ProfileSpec>,
}

impl Profile {
    /// The configuration with its placeholders unexpanded; `None` for a
    /// profile with `enabled = false`.
    pub fn template(&self) -> Option<LoggingConfig> {
        self.spec.unexpanded()
    }

    /// What the profile manages, placeholders unexpanded.
    pub fn managed(&self) -> Managed {
        self.spec.managed(&Placeholders::LITERAL)
    }
}

/// A validated fleet file.
#[derive(Clone, Debug)]
pub struct Fleet {
    /// The file name as given, for messages.
    pub path: String,
    /// sha256 of the file's bytes, recorded in saved plans.
    pub sha256: String,
    pub settings: Settings,
    pub profiles: Vec<Profile>,
    pub accounts: Vec<Arc<Account>>,
    /// Every managed account × region, in file order.
    pub targets: Vec<Target>,
    /// What only AWS can resolve: `[[organizational_units]]` entries and
    /// accounts whose regions are `"enabled"` (none of them in `targets`).
    pub discovery: Arc<super::discovery::Discovery>,
}

impl Fleet {
    /// The configuration profile `profile` asks for in one account × region,
    /// with placeholders expanded and checked as `validate` checks listed
    /// accounts, and what it manages there; `Ok(None)` for a profile with
    /// `enabled = false`. Validation made sure every profile named exists.
    pub fn desired(
        &self,
        profile: &str,
        account: &Account,
        region: &Region,
    ) -> Result<Option<(LoggingConfig, Managed)>, ExpandError> {
        let spec = self
            .profiles
            .iter()
            .find(|p| p.name == profile)
            .expect("validation checks that every profile named is declared");
        let vars = Placeholders {
            account_id: account.id.as_str(),
            account_name: account.label(),
            region: region.as_str(),
            partition: region.partition(),
        };
        spec.spec.expand(&vars).map_err(|values| ExpandError {
            target: format!("for {}/{region}", account.label()),
            values,
        })
    }
}

/// `bucket = { … }` of an S3 destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_after_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

/// `log_group = { … }` of the CloudWatch destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogGroupOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

/// What a target's profile asks fleet to manage, placeholders expanded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Managed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<BucketOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_data_bucket: Option<BucketOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group: Option<LogGroupOptions>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub role: bool,
}

impl Managed {
    pub fn is_empty(&self) -> bool {
        self == &Managed::default()
    }
}

/// The values CloudWatch Logs accepts for `retentionInDays`.
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
