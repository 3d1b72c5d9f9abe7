//! Import: read live configurations and turn them into a fleet file in which
//! identical configurations (once account ids, account names and regions are
//! placeholders again) share one profile.

use std::collections::HashMap;
use std::sync::Arc;

use super::plan::{TargetPlan, plan_targets};
use super::{ApiError, LoggingApi, Progress};
use crate::fleet::names;
use crate::fleet::{Account, AccountId, OwnValues, Placeholders, Region, Target};
use crate::logging::{CloudWatchConfig, LoggingConfig, S3Config};

/// Why the command line of an import is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportInputError {
    #[error(
        "--account `{0}` is not an AWS account id: write 12 digits, optionally =NAME (111111111111=prod)"
    )]
    AccountId(String),
    #[error(
        "--account `{0}`: `{1}` cannot be an account name; names appear in targets as NAME/REGION: use letters, digits, '-', '_' or '.'"
    )]
    AccountName(String, String),
    #[error("account {0} is given twice")]
    DuplicateAccount(String),
    #[error("account name `{0}` is given twice; names must be unique")]
    DuplicateName(String),
    #[error("--regions `{0}` is not an AWS region name; regions are written like us-east-1")]
    Region(String),
    #[error("region {0} is given twice")]
    DuplicateRegion(String),
    #[error("--role-name `{0}` must be a plain IAM role name, like BedrockLoggingAdmin")]
    RoleName(String),
}

/// One `--account ID[=NAME]`.
pub fn parse_account(text: &str) -> Result<Account, ImportInputError> {
    let (id, name) = match text.split_once('=') {
        Some((id, name)) => (id.trim(), Some(name.trim())),
        None => (text.trim(), None),
    };
    let id = AccountId::parse(id).ok_or_else(|| ImportInputError::AccountId(text.to_owned()))?;
    if let Some(name) = name
        && names::check_account_name(name, id.as_str()).is_err()
    {
        return Err(ImportInputError::AccountName(
            text.to_owned(),
            name.to_owned(),
        ));
    }
    Ok(Account {
        id,
        name: name.map(str::to_owned),
        role_arn: None,
    })
}

/// What to import, checked.
#[derive(Clone, Debug)]
pub struct ImportRequest {
    pub accounts: Vec<Account>,
    pub regions: Vec<Region>,
    pub role_name: Option<String>,
    pub include_absent: bool,
}

impl ImportRequest {
    /// Checks the command line's accounts, regions and role name.
    pub fn new(
        accounts: &[String],
        regions: &[String],
        role_name: Option<String>,
        include_absent: bool,
    ) -> Result<ImportRequest, ImportInputError> {
        let mut parsed: Vec<Account> = Vec::new();
        for text in accounts {
            let account = parse_account(text)?;
            if parsed.iter().any(|a| a.id == account.id) {
                return Err(ImportInputError::DuplicateAccount(account.id.to_string()));
            }
            if let Some(name) = &account.name
                && parsed.iter().any(|a| a.name.as_ref() == Some(name))
            {
                return Err(ImportInputError::DuplicateName(name.clone()));
            }
            parsed.push(account);
        }
        let mut checked: Vec<Region> = Vec::new();
        for text in regions {
            let region =
                Region::parse(text.trim()).ok_or_else(|| ImportInputError::Region(text.clone()))?;
            if checked.contains(&region) {
                return Err(ImportInputError::DuplicateRegion(region.to_string()));
            }
            checked.push(region);
        }
        if let Some(name) = &role_name
            && !names::is_role_name(name)
        {
            return Err(ImportInputError::RoleName(name.clone()));
        }
        Ok(ImportRequest {
            accounts: parsed,
            regions: checked,
            role_name,
            include_absent,
        })
    }

    /// Every account × region to read. The caller's own account is read
    /// directly; the others through `role_name`, with the partition of the
    /// first region, as the fleet file will build it. An account with no
    /// role that is not the caller's gets no role ARN, and reading it fails
    /// with `NoRoleToAssume`.
    pub fn targets(&self, caller: &AccountId) -> Vec<Target> {
        let partition = self.regions.first().map_or("aws", Region::partition);
        let mut targets = Vec::new();
        for account in &self.accounts {
            let role_arn = match &self.role_name {
                Some(role) if &account.id != caller => {
                    Some(names::role_arn(partition, &account.id, role))
                }
                _ => None,
            };
            let account = Arc::new(Account {
                role_arn,
                ..account.clone()
            });
            for region in &self.regions {
                targets.push(Target {
                    account: account.clone(),
                    region: region.clone(),
                    profile: Arc::from(""),
                    desired: None,
                    managed: Default::default(),
                });
            }
        }
        targets
    }
}

/// Reads every target of an import with at most `concurrency` calls in
/// flight, the same way plan reads.
pub async fn read_targets<A: LoggingApi>(
    api: &A,
    targets: Vec<Target>,
    concurrency: usize,
    progress: &dyn Progress,
) -> Vec<TargetPlan> {
    plan_targets(api, targets, concurrency, progress)
        .await
        .targets
}

/// A profile of the imported file: its name and its configuration with
/// placeholders, `None` for the `enabled = false` profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedProfile {
    pub name: String,
    pub config: Option<LoggingConfig>,
    /// How many targets use it.
    pub targets: usize,
}

/// An account of the imported file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedAccount {
    pub id: AccountId,
    pub name: Option<String>,
    /// Its most common profile.
    pub profile: String,
    /// Its own regions, when it does not manage every imported region.
    pub regions: Option<Vec<Region>>,
    /// Regions whose profile is not `profile`, in region order.
    pub region_profiles: Vec<(Region, String)>,
    /// Regions read that have no logging and are left unmanaged (without
    /// `--include-absent`).
    pub left_out: Vec<Region>,
}

/// The fleet file an import produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedFleet {
    pub regions: Vec<Region>,
    pub role_name: Option<String>,
    /// Most used first.
    pub profiles: Vec<ImportedProfile>,
    pub accounts: Vec<ImportedAccount>,
    /// Accounts with no logging in any region read, left out of the file
    /// (without `--include-absent`).
    pub accounts_left_out: Vec<AccountId>,
}

/// Why an import produces no file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error(
        "{} target{} could not be read; no fleet file was printed, because a partial one would make the next apply change regions it does not know",
        .0.len(),
        if .0.len() == 1 { "" } else { "s" }
    )]
    Unreadable(Vec<(String, ApiError)>),
    #[error(
        "{target}: {key} `{value}` has a character a fleet file cannot hold ('{{' or '}}' would be read as a placeholder)"
    )]
    Unrepresentable {
        target: String,
        key: &'static str,
        value: String,
    },
    #[error(
        "no account has logging in any region read, so there is nothing to import; pass --include-absent to manage these regions with an `enabled = false` profile"
    )]
    NothingLogs,
}

/// The value of a configuration with this target's account id, account name
/// and region turned back into placeholders.
pub fn templated(config: &LoggingConfig, target: &Target) -> Result<LoggingConfig, ImportError> {
    let account = &target.account;
    let vars = Placeholders {
        account_id: account.id.as_str(),
        account_name: account.label(),
        region: target.region.as_str(),
        partition: target.region.partition(),
    };
    let own = OwnValues {
        account_id: account.id.as_str(),
        account_name: account.name.as_deref(),
        region: Some(target.region.as_str()),
    };
    let template = |key: &'static str, value: &str| -> Result<String, ImportError> {
        if value.contains(['{', '}']) {
            return Err(ImportError::Unrepresentable {
                target: target.id().to_string(),
                key,
                value: value.to_owned(),
            });
        }
        let templated = own.templated(value);
        // The file must expand back to exactly what is live.
        Ok(if vars.expand(&templated) == value {
            templated
        } else {
            value.to_owned()
        })
    };
    let s3 = |key_bucket: &'static str, key_prefix: &'static str, s3: &S3Config| {
        Ok::<_, ImportError>(S3Config {
            bucket_name: template(key_bucket, &s3.bucket_name)?,
            key_prefix: s3
                .key_prefix
                .as_deref()
                .map(|p| template(key_prefix, p))
                .transpose()?,
        })
    };
    let s3_config = config
        .s3_config
        .as_ref()
        .map(|b| s3("s3_config.bucket_name", "s3_config.key_prefix", b))
        .transpose()?;
    let cloudwatch_config = match &config.cloudwatch_config {
        Some(cw) => Some(CloudWatchConfig {
            log_group_name: template("cloudwatch_config.log_group_name", &cw.log_group_name)?,
            role_arn: template("cloudwatch_config.role_arn", &cw.role_arn)?,
            large_data_delivery_s3_config: cw
                .large_data_delivery_s3_config
                .as_ref()
                .map(|b| {
                    s3(
                        "cloudwatch_config.large_data_delivery_s3_config.bucket_name",
                        "cloudwatch_config.large_data_delivery_s3_config.key_prefix",
                        b,
                    )
                })
                .transpose()?,
        }),
        None => None,
    };
    Ok(LoggingConfig {
        s3_config,
        cloudwatch_config,
        ..config.clone()
    })
}

/// Replaces, in one pass, each needle where it stands as a whole word (not
/// next to a letter or digit), so what a replacement inserts is never
/// matched again.
/// A profile name that says what the configuration logs to.
fn base_name(config: &LoggingConfig) -> &'static str {
    match (&config.s3_config, &config.cloudwatch_config) {
        (Some(_), Some(_)) => "s3-cloudwatch",
        (Some(_), None) => "s3",
        (None, Some(_)) => "cloudwatch",
        (None, None) => "empty",
    }
}

/// Builds the fleet file from what was read. Any unreadable target means no
/// file at all.
pub fn build(request: &ImportRequest, reads: &[TargetPlan]) -> Result<ImportedFleet, ImportError> {
    let unreadable: Vec<(String, ApiError)> = reads
        .iter()
        .filter_map(|r| {
            r.live
                .as_ref()
                .err()
                .map(|e| (r.target.id().to_string(), e.clone()))
        })
        .collect();
    if !unreadable.is_empty() {
        return Err(ImportError::Unreadable(unreadable));
    }

    // Each target's configuration with placeholders (None: no logging), and
    // the distinct ones in order of first appearance.
    let mut distinct: Vec<Option<LoggingConfig>> = Vec::new();
    let mut uses: HashMap<Option<LoggingConfig>, usize> = HashMap::new();
    let mut per_target: Vec<(&Target, Option<usize>)> = Vec::new();
    for read in reads {
        let live = read
            .live
            .as_ref()
            .expect("unreadable targets returned above");
        let config = live
            .as_ref()
            .map(|c| templated(c, &read.target))
            .transpose()?;
        if config.is_none() && !request.include_absent {
            per_target.push((&read.target, None));
            continue;
        }
        let index = match distinct.iter().position(|d| *d == config) {
            Some(index) => index,
            None => {
                distinct.push(config.clone());
                distinct.len() - 1
            }
        };
        *uses.entry(config).or_default() += 1;
        per_target.push((&read.target, Some(index)));
    }
    if distinct.is_empty() {
        return Err(ImportError::NothingLogs);
    }

    // Most used first; ties in order of first appearance. Names say what
    // the profile logs to, numbered when several log to the same kinds.
    let mut order: Vec<usize> = (0..distinct.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(uses[&distinct[i]]));
    let mut names: Vec<String> = vec![String::new(); distinct.len()];
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for &i in &order {
        let base = distinct[i].as_ref().map_or("off", base_name);
        let total = distinct
            .iter()
            .filter(|d| d.as_ref().map_or("off", base_name) == base)
            .count();
        let n = seen.entry(base).or_default();
        *n += 1;
        names[i] = if total == 1 {
            base.to_owned()
        } else {
            format!("{base}-{n}")
        };
    }
    let profiles = order
        .iter()
        .map(|&i| ImportedProfile {
            name: names[i].clone(),
            config: distinct[i].clone(),
            targets: uses[&distinct[i]],
        })
        .collect();

    let mut accounts = Vec::new();
    let mut accounts_left_out = Vec::new();
    for account in &request.accounts {
        let mine: Vec<(&Region, Option<usize>)> = per_target
            .iter()
            .filter(|(t, _)| t.account.id == account.id)
            .map(|(t, p)| (&t.region, *p))
            .collect();
        let managed: Vec<(&Region, usize)> = mine
            .iter()
            .filter_map(|(r, p)| p.map(|p| (*r, p)))
            .collect();
        if managed.is_empty() {
            accounts_left_out.push(account.id.clone());
            continue;
        }
        // The most common profile; ties go to the most used profile overall.
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for (_, p) in &managed {
            *counts.entry(*p).or_default() += 1;
        }
        let rank = |p: usize| order.iter().position(|&o| o == p).unwrap_or(usize::MAX);
        let main = *counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(rank(*b.0).cmp(&rank(*a.0))))
            .map(|(p, _)| p)
            .expect("managed is not empty");
        let left_out: Vec<Region> = mine
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(r, _)| (*r).clone())
            .collect();
        accounts.push(ImportedAccount {
            id: account.id.clone(),
            name: account.name.clone(),
            profile: names[main].clone(),
            regions: (!left_out.is_empty())
                .then(|| managed.iter().map(|(r, _)| (*r).clone()).collect()),
            region_profiles: managed
                .iter()
                .filter(|(_, p)| *p != main)
                .map(|(r, p)| ((*r).clone(), names[*p].clone()))
                .collect(),
            left_out,
        });
    }
    Ok(ImportedFleet {
        regions: request.regions.clone(),
        role_name: request.role_name.clone(),
        profiles,
        accounts,
        accounts_left_out,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::engine::NoProgress;
    use crate::engine::fake::FakeApi;

    fn s3_config(bucket: &str, prefix: Option<&str>) -> LoggingConfig {
        LoggingConfig {
            text_data_delivery_enabled: Some(true),
            image_data_delivery_enabled: Some(false),
            embedding_data_delivery_enabled: Some(true),
            video_data_delivery_enabled: Some(false),
            audio_data_delivery_enabled: Some(false),
            s3_config: Some(S3Config::new(bucket, prefix.map(str::to_owned))),
            cloudwatch_config: None,
        }
    }

    fn request(include_absent: bool) -> ImportRequest {
        ImportRequest::new(
            &[
                "111111111111=prod".into(),
                "222222222222=dev".into(),
                "333333333333".into(),
            ],
            &["us-east-1".into(), "eu-west-1".into(), "ap-south-1".into()],
            Some("Admin".into()),
            include_absent,
        )
        .unwrap()
    }

    fn put(api: &FakeApi, account: &str, region: &str, config: LoggingConfig) {
        api.state
            .lock()
            .unwrap()
            .insert((account.into(), region.into()), config);
    }

    #[test]
    fn inputs_are_checked() {
        let err = |accounts: &[&str], regions: &[&str], role: Option<&str>| {
            ImportRequest::new(
                &accounts.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                &regions.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                role.map(str::to_owned),
                false,
            )
            .unwrap_err()
            .to_string()
        };
        assert!(
            err(&["12345"], &["us-east-1"], None)
                .starts_with("--account `12345` is not an AWS account id")
        );
        assert!(
            err(&["111111111111=a b"], &["us-east-1"], None)
                .contains("`a b` cannot be an account name")
        );
        assert_eq!(
            err(&["111111111111", "111111111111=x"], &["us-east-1"], None),
            "account 111111111111 is given twice"
        );
        assert_eq!(
            err(&["111111111111=x", "222222222222=x"], &["us-east-1"], None),
            "account name `x` is given twice; names must be unique"
        );
        assert!(
            err(&["111111111111"], &["useast1"], None)
                .starts_with("--regions `useast1` is not an AWS region name")
        );
        assert_eq!(
            err(&["111111111111"], &["us-east-1", "us-east-1"], None),
            "region us-east-1 is given twice"
        );
        assert!(
            err(
                &["111111111111"],
                &["us-east-1"],
                Some("arn:aws:iam::1:role/x")
            )
            .starts_with("--role-name")
        );
        let ok = request(false);
        let caller = AccountId::parse("111111111111").unwrap();
        let targets = ok.targets(&caller);
        assert_eq!(targets.len(), 9);
        assert_eq!(
            targets[0].account.role_arn, None,
            "the caller's own account is read directly"
        );
        assert_eq!(
            targets[3].account.role_arn.as_deref(),
            Some("arn:aws:iam::222222222222:role/Admin")
        );
    }

    #[test]
    fn placeholders_replace_whole_words_only() {
        let prod = Arc::new(Account {
            id: AccountId::parse("111111111111").unwrap(),
            name: Some("prod".into()),
            role_arn: None,
        });
        let target = Target {
            account: prod,
            region: Region::parse("us-east-1").unwrap(),
            profile: Arc::from(""),
            desired: None,
            managed: Default::default(),
        };
        let mut config = s3_config(
            "logs-111111111111-us-east-1",
            Some("production/prod/us-east-1x"),
        );
        config.cloudwatch_config = Some(CloudWatchConfig {
            log_group_name: "/aws/bedrock/prod".into(),
            role_arn: "arn:aws:iam::111111111111:role/prod-logs".into(),
            large_data_delivery_s3_config: None,
        });
        let t = templated(&config, &target).unwrap();
        let s3 = t.s3_config.unwrap();
        assert_eq!(s3.bucket_name, "logs-{account_id}-{region}");
        assert_eq!(
            s3.key_prefix.as_deref(),
            Some("production/{account_name}/us-east-1x")
        );
        let cw = t.cloudwatch_config.unwrap();
        assert_eq!(cw.log_group_name, "/aws/bedrock/{account_name}");
        assert_eq!(
            cw.role_arn,
            "arn:aws:iam::{account_id}:role/{account_name}-logs"
        );

        let braces = s3_config("b", Some("x{region}"));
        assert!(matches!(
            templated(&braces, &target),
            Err(ImportError::Unrepresentable {
                key: "s3_config.key_prefix",
                ..
            })
        ));
    }

    #[tokio::test]
    async fn identical_configs_share_a_profile() {
        let request = request(false);
        let api = FakeApi::default();
        // Every account logs to its own per-region bucket in us-east-1 and
        // eu-west-1 (one profile); prod's ap-south-1 has a prefix (a second
        // one); dev's ap-south-1 logs to CloudWatch (a third); 333… has
        // nothing in ap-south-1.
        for (account, _) in [
            ("111111111111", "prod"),
            ("222222222222", "dev"),
            ("333333333333", ""),
        ] {
            for region in ["us-east-1", "eu-west-1"] {
                put(
                    &api,
                    account,
                    region,
                    s3_config(&format!("logs-{account}-{region}"), None),
                );
            }
        }
        put(
            &api,
            "111111111111",
            "ap-south-1",
            s3_config("logs-111111111111-ap-south-1", Some("prod")),
        );
        let mut cw = s3_config("x", None);
        cw.s3_config = None;
        cw.cloudwatch_config = Some(CloudWatchConfig {
            log_group_name: "/aws/bedrock/dev".into(),
            role_arn: "arn:aws:iam::222222222222:role/logs".into(),
            large_data_delivery_s3_config: None,
        });
        put(&api, "222222222222", "ap-south-1", cw);
        let caller = AccountId::parse("111111111111").unwrap();
        let reads = read_targets(&api, request.targets(&caller), 4, &NoProgress).await;
        let imported = build(&request, &reads).unwrap();
        let profiles: Vec<(&str, usize)> = imported
            .profiles
            .iter()
            .map(|p| (p.name.as_str(), p.targets))
            .collect();
        assert_eq!(profiles, [("s3-1", 6), ("s3-2", 1), ("cloudwatch", 1)]);
        assert_eq!(
            imported.profiles[1].config.as_ref().unwrap().s3_config,
            Some(S3Config::new(
                "logs-{account_id}-{region}",
                Some("{account_name}".into())
            ))
        );
        let prod = &imported.accounts[0];
        assert_eq!(prod.profile, "s3-1");
        assert_eq!(prod.regions, None);
        assert_eq!(
            prod.region_profiles,
            [(Region::parse("ap-south-1").unwrap(), "s3-2".to_owned())]
        );
        let other = &imported.accounts[2];
        assert_eq!(
            other
                .regions
                .as_ref()
                .unwrap()
                .iter()
                .map(Region::as_str)
                .collect::<Vec<_>>(),
            ["us-east-1", "eu-west-1"]
        );
        assert_eq!(other.left_out, [Region::parse("ap-south-1").unwrap()]);

        let with_absent = build(
            &ImportRequest {
                include_absent: true,
                ..request.clone()
            },
            &reads,
        )
        .unwrap();
        let names: Vec<&str> = with_absent
            .profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["s3-1", "s3-2", "cloudwatch", "off"]);
        assert_eq!(with_absent.accounts[2].regions, None);
        assert_eq!(
            with_absent.accounts[2].region_profiles,
            [(Region::parse("ap-south-1").unwrap(), "off".to_owned())]
        );
    }

    #[tokio::test]
    async fn unreadable_targets_or_nothing_logging_give_no_file() {
        let request = request(false);
        let mut api = FakeApi::default();
        let caller = AccountId::parse("111111111111").unwrap();
        let reads = read_targets(&api, request.targets(&caller), 4, &NoProgress).await;
        assert_eq!(build(&request, &reads), Err(ImportError::NothingLogs));
        let absent = build(
            &ImportRequest {
                include_absent: true,
                ..request.clone()
            },
            &reads,
        )
        .unwrap();
        assert_eq!(absent.profiles.len(), 1);
        assert_eq!(absent.accounts.len(), 3);

        api.denied = HashSet::from(["222222222222/eu-west-1".to_owned()]);
        let reads = read_targets(&api, request.targets(&caller), 4, &NoProgress).await;
        match build(&request, &reads) {
            Err(ImportError::Unreadable(targets)) => {
                assert_eq!(targets.len(), 1);
                assert_eq!(targets[0].0, "dev/eu-west-1");
                assert_eq!(targets[0].1.code, "AccessDeniedException");
            }
            other => panic!("{other:?}"),
        }
    }
}
