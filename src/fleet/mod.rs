//! The fleet file: raw serde structs → a validated [`Fleet`], with
//! placeholders expanded and every problem tied to `file:line:col`.

mod diagnostic;
pub mod discovery;
mod keys;
mod model;
pub mod names;
mod placeholder;
mod profile;
mod raw;
mod region;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use toml::Spanned;

pub use diagnostic::{FleetFileError, Problem, SourceFile};
pub use model::{
    Account, AccountId, BucketOptions, Fleet, LogGroupOptions, Managed, Profile, RETENTION_DAYS,
    Settings, Target, TargetId,
};
pub use placeholder::{OwnValues, Placeholders, is_role_arn};
pub use profile::{ExpandError, InvalidValue, ProfileSpec, Text, ValueProblem};
pub use region::{BEDROCK_REGIONS, Region};

use crate::logging::LoggingConfig;
use discovery::{
    Assignment, Discovery, EnabledAccount, ExplicitEntry, RegionKey, RegionRule, RegionSpec,
    Regions,
};
use raw::{RawAccount, RawFile, RawProfile};

/// A loaded fleet file and the warnings found in it.
#[derive(Debug)]
pub struct Loaded {
    pub fleet: Fleet,
    pub warnings: Vec<Problem>,
}

/// Reads and validates a fleet file.
pub fn load(file: &std::path::Path) -> Result<Loaded, FleetFileError> {
    // Read from the path as given (it need not be UTF-8); named as shown.
    let path = &file.display().to_string();
    let bytes = std::fs::read(file).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => FleetFileError::Missing {
            path: path.to_owned(),
        },
        _ => FleetFileError::Read {
            path: path.to_owned(),
            source,
        },
    })?;
    let text = String::from_utf8(bytes).map_err(|err| FleetFileError::Read {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, err),
    })?;
    parse(path, text)
}

/// Validates fleet file text; `name` is used in messages.
pub fn parse(name: &str, text: String) -> Result<Loaded, FleetFileError> {
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let file = SourceFile::new(name, text);
    let (raw, unknown_keys): (RawFile, _) = match keys::read(&file.text) {
        Ok(read) => read,
        Err(unread) => {
            let mut problems: Vec<Problem> = unread
                .unknown_keys
                .iter()
                .chain(&unread.fatal)
                .map(|err| syntax_problem(&file, err))
                .collect();
            problems.sort_by_key(|p| p.span.start);
            return Err(FleetFileError::Invalid {
                path: name.to_owned(),
                problems,
            });
        }
    };
    let mut checker = Checker {
        file: &file,
        problems: unknown_keys
            .iter()
            .map(|err| syntax_problem(&file, err))
            .collect(),
        fleet_regions_invalid: false,
        regionless_accounts: Vec::new(),
    };
    let fleet = checker.validate(raw, sha256);
    let mut problems = checker.problems;
    problems.sort_by_key(|p| p.span.start);
    let (errors, warnings): (Vec<_>, Vec<_>) = problems.into_iter().partition(Problem::is_error);
    match fleet {
        Some(fleet) if errors.is_empty() => Ok(Loaded { fleet, warnings }),
        _ => Err(FleetFileError::Invalid {
            path: name.to_owned(),
            problems: errors.into_iter().chain(warnings).collect(),
        }),
    }
}

/// Turns a TOML or serde error into a problem, adding a "did you mean" for
/// unknown keys.
fn syntax_problem(file: &SourceFile, err: &toml::de::Error) -> Problem {
    let span = err.span().unwrap_or(0..0);
    let message = err.message().trim().to_owned();
    let mut problem = Problem::error(file, span, message.clone());
    if let Some(unknown) = keys::unknown_field(err) {
        problem = problem.label("unknown key");
        problem = match unknown.closest {
            Some(candidate) => problem.help(format!("did you mean `{candidate}`?")),
            None => problem.help(format!(
                "the keys allowed here are: {}",
                unknown.expected.join(", ")
            )),
        };
    } else if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        problem = problem
            .label(format!("`{field}` is missing here"))
            .help(format!("add `{field} = …` to this table"));
    } else if message.contains("invalid type") {
        problem = problem.label("wrong type");
        if message.contains("expected a string") {
            problem = problem.help("write this value in double quotes, e.g. id = \"111111111111\"");
        }
    }
    problem
}

/// A problem just recorded, to add its label and help to.
struct Added<'a>(&'a mut Problem);

impl Added<'_> {
    fn label(self, label: impl Into<String>) -> Self {
        self.0.label = label.into();
        self
    }

    fn help(self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }
}

struct Checker<'f> {
    file: &'f SourceFile,
    problems: Vec<Problem>,
    /// `[fleet] regions` is set but invalid (already reported).
    fleet_regions_invalid: bool,
    /// Accounts without regions while `[fleet]` has none either: one cause,
    /// reported once.
    regionless_accounts: Vec<Range<usize>>,
}

/// A validated account and, per managed region, the profile it gets.
struct ResolvedAccount {
    model: Account,
    /// Empty when the account's regions are `"enabled"`.
    regions: Vec<(Region, Spanned<String>)>,
    rule: RegionRule,
    overrides: BTreeMap<Region, String>,
}

impl<'f> Checker<'f> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) -> Added<'_> {
        self.problems.push(Problem::error(self.file, span, message));
        Added(self.problems.last_mut().expect("just pushed"))
    }

    fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    fn validate(&mut self, raw: RawFile, sha256: String) -> Option<Fleet> {
        let file = self.file;
        let (fleet_span, fleet) = match raw.fleet {
            Some(fleet) => {
                let span = fleet.span();
                (span, Some(fleet.into_inner()))
            }
            None => (0..0, None),
        };
        let mut settings = Settings::default();
        let mut default_regions: Option<RegionSpec> = None;
        let mut role_name: Option<Spanned<String>> = None;
        if let Some(fleet) = fleet {
            // An invalid `[fleet] regions` is one error, not one more per
            // account that relies on it.
            self.fleet_regions_invalid = fleet.regions.is_some();
            default_regions = fleet
                .regions
                .and_then(|regions| self.region_spec(regions, true));
            self.fleet_regions_invalid &= default_regions.is_none();
            role_name = fleet.role_name;
            if let Some(name) = &role_name
                && !names::is_role_name(name.get_ref())
            {
                self.error(name.span(), "role_name must be a plain IAM role name")
                    .help("give only the name, e.g. role_name = \"BedrockLoggingAdmin\"; use an account's role_arn for a full ARN");
            }
            settings.external_id = fleet.external_id.map(Spanned::into_inner);
            settings.session_name = fleet.session_name.map(Spanned::into_inner);
            settings.protect = fleet.protect.unwrap_or(false);
            if let Some(concurrency) = fleet.concurrency {
                match usize::try_from(*concurrency.get_ref()) {
                    Ok(n) if n >= 1 => settings.concurrency = Some(n),
                    _ => {
                        self.error(concurrency.span(), "concurrency must be at least 1")
                            .help("remove the key to use the default of 64");
                    }
                }
            }
        }

        let mut templates: HashMap<String, Arc<ProfileSpec>> = HashMap::new();
        let mut profiles = Vec::new();
        // Values already reported, or that cannot be expanded (an unknown
        // placeholder, reported once): each is reported at most once.
        let mut reported_templates: HashSet<Range<usize>> = HashSet::new();
        for (name, profile) in raw.profiles {
            let template = self.profile(&name, profile);
            for text in template.texts() {
                if placeholder::check(&text.value).is_err() {
                    reported_templates.insert(text.span.clone());
                }
            }
            let template = Arc::new(template);
            profiles.push(Profile {
                name: name.get_ref().clone(),
                spec: template.clone(),
            });
            templates.insert(name.into_inner(), template);
        }

        if raw.accounts.is_empty() && raw.organizational_units.is_empty() {
            self.push(
                Problem::error(file, fleet_span.clone(), "the fleet file lists no accounts")
                    .help("add at least one [[accounts]] table with id and profile, or an [[organizational_units]] table"),
            );
        }

        let mut accounts = Vec::new();
        let mut targets = Vec::new();
        let mut seen_ids: HashMap<String, Range<usize>> = HashMap::new();
        let mut seen_names: HashMap<String, Range<usize>> = HashMap::new();
        let mut roleless: Option<Range<usize>> = None;
        let mut expanded_profiles: HashSet<String> = HashSet::new();
        let mut discovery = Discovery::default();
        for account in raw.accounts {
            let account_span = account.span();
            let line = file.line_col(account_span.start).0;
            let account = account.into_inner();
            let Some(resolved) = self.account(
                &account,
                account_span,
                &mut seen_ids,
                &mut seen_names,
                default_regions.as_ref(),
                role_name.as_ref(),
                &mut roleless,
                &templates,
            ) else {
                continue;
            };
            let ResolvedAccount {
                model: account_model,
                regions,
                rule,
                overrides,
            } = resolved;
            let account_model = Arc::new(account_model);
            discovery.explicit.insert(
                account_model.id.clone(),
                ExplicitEntry {
                    line,
                    rule,
                    overridden: overrides.keys().cloned().collect(),
                },
            );
            if rule.enabled {
                discovery.enabled_accounts.push(EnabledAccount {
                    account: account_model.clone(),
                    assignment: Assignment {
                        profile: account.profile.get_ref().clone(),
                        regions: Regions::Enabled,
                        rule,
                        region_profiles: overrides,
                    },
                });
            }
            for (region, profile_name) in regions {
                let template = &templates[profile_name.get_ref()];
                expanded_profiles.insert(profile_name.get_ref().clone());
                let vars = Placeholders {
                    account_id: account_model.id.as_str(),
                    account_name: account_model.label(),
                    region: region.as_str(),
                    partition: region.partition(),
                };
                let (desired, managed) = match self.expand(template, &vars, &mut reported_templates)
                {
                    Some((config, managed)) => (Some(config), managed),
                    None => (None, Managed::default()),
                };

                targets.push(Target {
                    account: account_model.clone(),
                    region,
                    profile: Arc::from(profile_name.get_ref().as_str()),
                    desired,
                    managed,
                });
            }
            accounts.push(account_model);
        }
        self.check_shared_destinations(&targets, &templates);
        self.report_regionless_accounts();
        // A profile no listed target uses (an OU's, or one kept for later)
        // is checked with example values, so its mistakes show today.
        let mut unexpanded: Vec<(&String, &Arc<ProfileSpec>)> = templates
            .iter()
            .filter(|(name, template)| template.enabled && !expanded_profiles.contains(*name))
            .collect();
        unexpanded.sort_by_key(|(name, _)| *name);
        for (name, template) in unexpanded {
            self.expand_example(name, template, &mut reported_templates);
        }
        discovery.units = self.organizational_units(
            raw.organizational_units,
            default_regions.as_ref(),
            role_name.as_ref(),
            &templates,
        );

        if self.problems.iter().any(Problem::is_error) {
            return None;
        }
        Some(Fleet {
            path: file.name.clone(),
            sha256,
            settings,
            profiles,
            accounts,
            targets,
            discovery: Arc::new(discovery),
        })
    }

    /// One error for every account that has no regions because `[fleet]`
    /// has none: the fix is one line in `[fleet]`.
    fn report_regionless_accounts(&mut self) {
        let spans = std::mem::take(&mut self.regionless_accounts);
        let Some(first) = spans.first().cloned() else {
            return;
        };
        if spans.len() == 1 {
            self.error(first, "this account has no regions")
                .help("set regions = [...] in [fleet] for every account, or in this account");
            return;
        }
        let lines: Vec<String> = spans
            .iter()
            .map(|span| self.file.line_col(span.start).0.to_string())
            .collect();
        let shown = if lines.len() > 10 {
            format!("{}, …", lines[..10].join(", "))
        } else {
            lines.join(", ")
        };
        self.error(
            first,
            format!(
                "{} accounts have no regions (the accounts on lines {shown})",
                spans.len()
            ),
        )
        .help("set regions = [...] in [fleet] for every account, or in each account");
    }

    fn regions(&mut self, regions: Spanned<Vec<Spanned<String>>>) -> Vec<Spanned<Region>> {
        let mut out: Vec<Spanned<Region>> = Vec::new();
        for name in regions.into_inner() {
            let span = name.span();
            let Some(region) = Region::parse(name.get_ref()) else {
                self.error(
                    span,
                    format!("`{}` is not an AWS region name", name.get_ref()),
                )
                .help("regions are written like \"us-east-1\" or \"eu-central-1\"");
                continue;
            };
            if let Some(first) = out.iter().find(|r| r.get_ref() == &region) {
                let (line, _) = self.file.line_col(first.span().start);
                self.error(span, format!("region {region} is listed twice"))
                    .help(format!(
                        "remove this entry; it is already listed on line {line}"
                    ));
                continue;
            }
            if !region.is_known_bedrock_region() {
                self.push(
                    Problem::warning(
                        self.file,
                        span.clone(),
                        format!("{region} is not in fleet's list of Bedrock regions"),
                    )
                    .help("check the name; if AWS has just opened Bedrock there, this warning is safe to ignore"),
                );
            }
            out.push(Spanned::new(span, region));
        }
        out
    }

    fn profile(&mut self, name: &Spanned<String>, profile: Spanned<RawProfile>) -> ProfileSpec {
        let span = profile.span();
        let profile = profile.into_inner();
        let enabled = profile.enabled.as_ref().is_none_or(|e| *e.get_ref());
        let has_destination = profile.s3_config.is_some() || profile.cloudwatch_config.is_some();
        if enabled && !has_destination {
            self.error(
                name.span(),
                format!("profile `{}` has no logging destination", name.get_ref()),
            )
            .help("add [profiles.NAME.s3_config] or [profiles.NAME.cloudwatch_config], or set enabled = false to require that logging is off");
        }
        if !enabled && has_destination {
            let at = profile.enabled.as_ref().map_or(span, |e| e.span());
            self.error(
                at,
                format!(
                    "profile `{}` is disabled but declares destinations",
                    name.get_ref()
                ),
            )
            .help("a profile with enabled = false means \"no logging\": remove its s3_config and cloudwatch_config");
        }
        if enabled {
            self.check_managed(&profile);
        }
        let template = ProfileSpec::new(self.file, &profile, enabled);
        for text in template.texts() {
            if let Err(unknown) = placeholder::check(&text.value) {
                self.error(
                    text.span.clone(),
                    format!("unknown placeholder `{{{unknown}}}`"),
                )
                .label("unknown placeholder")
                .help(
                    "the placeholders are {account_id}, {account_name}, {region} and {partition}",
                );
            }
        }
        template
    }

    /// One bucket or log group managed by two profiles must be managed the
    /// same way: fleet cannot keep two retentions on one log group.
    fn check_shared_destinations(
        &mut self,
        targets: &[Target],
        templates: &HashMap<String, Arc<ProfileSpec>>,
    ) {
        type Key = (String, String, String);
        let mut seen: HashMap<Key, (String, String)> = HashMap::new();
        let mut reported: HashSet<Key> = HashSet::new();
        for target in targets {
            let Some(config) = &target.desired else {
                continue;
            };
            let account = target.account.id.to_string();
            let mut managed: Vec<(Key, String, Option<Range<usize>>)> = Vec::new();
            let [bucket_span, large_data_span, log_group_span] =
                templates[&*target.profile].managed_spans();
            if let (Some(s3), Some(options)) = (&config.s3_config, &target.managed.bucket) {
                managed.push((
                    (account.clone(), "bucket".into(), s3.bucket_name.clone()),
                    format!("{options:?}"),
                    bucket_span,
                ));
            }
            if let Some(cw) = &config.cloudwatch_config {
                if let (Some(s3), Some(options)) = (
                    &cw.large_data_delivery_s3_config,
                    &target.managed.large_data_bucket,
                ) {
                    managed.push((
                        (account.clone(), "bucket".into(), s3.bucket_name.clone()),
                        format!("{options:?}"),
                        large_data_span.clone(),
                    ));
                }
                if let Some(options) = &target.managed.log_group {
                    managed.push((
                        (
                            account.clone(),
                            format!("log group in {}", target.region),
                            cw.log_group_name.clone(),
                        ),
                        format!("{options:?}"),
                        log_group_span.clone(),
                    ));
                }
            }
            for (key, options, span) in managed {
                let first = seen
                    .entry(key.clone())
                    .or_insert_with(|| (target.profile.to_string(), options.clone()));
                if first.1 != options && reported.insert(key.clone()) {
                    let (first_profile, span) = (first.0.clone(), span.unwrap_or(0..0));
                    self.error(
                        span,
                        format!(
                            "{} {} of account {} is managed by profiles `{first_profile}` and `{}` with different options",
                            key.1, key.2, key.0, target.profile
                        ),
                    )
                    .label("differs from the other profile")
                    .help("give the two profiles the same options here, or different names for the resource");
                }
            }
        }
    }

    /// The options of managed destinations: values CloudWatch and S3 accept.
    fn check_managed(&mut self, profile: &RawProfile) {
        let cloudwatch = profile.cloudwatch_config.as_ref().map(Spanned::get_ref);
        let buckets = profile.s3_config.iter().map(|s3| s3.get_ref()).chain(
            cloudwatch
                .iter()
                .filter_map(|cw| cw.large_data_delivery_s3_config.as_ref())
                .map(|s3| s3.get_ref()),
        );
        for bucket in buckets.filter_map(|s3| s3.bucket.as_ref()) {
            if let Some(days) = &bucket.get_ref().expire_after_days
                && (*days.get_ref() < 1 || *days.get_ref() > i64::from(u32::MAX))
            {
                self.error(
                        days.span(),
                        format!("expire_after_days = {} is not a number of days", days.get_ref()),
                    )
                    .label("must be 1 or more")
                    .help("logs older than this many days are deleted; use 1 or more, or leave the key out to keep them");
            }
        }
        if let Some(group) = cloudwatch.and_then(|cw| cw.log_group.as_ref())
            && let Some(days) = &group.get_ref().retention_in_days
        {
            let accepted =
                u32::try_from(*days.get_ref()).is_ok_and(|d| RETENTION_DAYS.contains(&d));
            if !accepted {
                let closest = RETENTION_DAYS
                    .iter()
                    .min_by_key(|d| (i64::from(**d) - days.get_ref()).abs())
                    .copied()
                    .unwrap_or(30);
                self.error(
                    days.span(),
                    format!(
                        "retention_in_days = {} is not a retention CloudWatch Logs accepts",
                        days.get_ref()
                    ),
                )
                .label("not an accepted retention")
                .help(format!(
                    "use one of {} (closest: {closest})",
                    RETENTION_DAYS.map(|d| d.to_string()).join(", ")
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn account(
        &mut self,
        account: &RawAccount,
        span: Range<usize>,
        seen_ids: &mut HashMap<String, Range<usize>>,
        seen_names: &mut HashMap<String, Range<usize>>,
        default_regions: Option<&RegionSpec>,
        role_name: Option<&Spanned<String>>,
        roleless: &mut Option<Range<usize>>,
        templates: &HashMap<String, Arc<ProfileSpec>>,
    ) -> Option<ResolvedAccount> {
        let file = self.file;
        let before = self.problems.len();
        let id = AccountId::parse(account.id.get_ref());
        if id.is_none() {
            self.error(
                account.id.span(),
                format!("`{}` is not an AWS account id", account.id.get_ref()),
            )
            .label("expected 12 digits")
            .help("account ids are exactly 12 digits, written as a string: id = \"111111111111\"");
        }
        if let Some(first) = seen_ids.get(account.id.get_ref()) {
            let (line, _) = file.line_col(first.start);
            self.error(
                account.id.span(),
                format!("account {} is listed twice", account.id.get_ref()),
            )
            .label("second entry")
            .help(format!(
                "each account × region is managed by exactly one entry; merge this entry into the one on line {line}"
            ));
        } else {
            seen_ids.insert(account.id.get_ref().clone(), account.id.span());
        }
        if let Some(name) = &account.name {
            let text = name.get_ref();
            match names::check_account_name(text, account.id.get_ref()) {
                Ok(()) => {}
                Err(names::BadAccountName::Characters) => {
                    self.error(name.span(), format!("`{text}` cannot be an account name"))
                        .help("names appear in targets as NAME/REGION: use letters, digits, '-', '_' or '.'");
                }
                Err(names::BadAccountName::OtherAccountsId) => {
                    self.error(
                        name.span(),
                        "an account name must not look like another account's id",
                    )
                    .help("targets are written NAME/REGION, so this name would be ambiguous");
                }
            }
            if let Some(first) = seen_names.get(text) {
                let (line, _) = file.line_col(first.start);
                self.error(name.span(), format!("account name `{text}` is used twice"))
                    .help(format!(
                        "names must be unique; the other account with this name is on line {line}"
                    ));
            } else {
                seen_names.insert(text.clone(), name.span());
            }
        }
        if !templates.contains_key(account.profile.get_ref()) {
            self.unknown_profile(&account.profile, templates);
        }

        let (spec, key) = match &account.regions {
            Some(raw) => (self.region_spec(raw.clone(), false), RegionKey::Account),
            None => {
                if default_regions.is_none() && !self.fleet_regions_invalid {
                    // Reported once for all such accounts, after the loop.
                    self.regionless_accounts.push(span.clone());
                }
                (default_regions.cloned(), RegionKey::Fleet)
            }
        };
        let rule = RegionRule {
            key,
            enabled: spec.as_ref().is_some_and(RegionSpec::is_enabled),
        };
        let regions: Vec<Spanned<Region>> =
            spec.as_ref().map_or(Vec::new(), |s| s.listed().to_vec());
        let overrides = self.region_overrides(
            account.region_profiles.as_ref(),
            spec.as_ref(),
            "account",
            templates,
        );

        let role_arn = match (&account.role_arn, role_name) {
            (Some(arn), _) => {
                if !is_role_arn(arn.get_ref()) {
                    self.error(
                        arn.span(),
                        format!("`{}` is not an IAM role ARN", arn.get_ref()),
                    )
                    .help("write it as arn:aws:iam::111111111111:role/NAME");
                }
                Some(arn.get_ref().clone())
            }
            (None, Some(name)) => {
                let partition = regions.first().map_or("aws", |r| r.get_ref().partition());
                id.as_ref()
                    .map(|id| names::role_arn(partition, id, name.get_ref()))
            }
            (None, None) => {
                if let Some(first) = roleless.clone() {
                    let (line, _) = file.line_col(first.start);
                    self.error(account.id.span(), "this account has no role to assume")
                        .help(format!(
                            "only the caller's own account can do without a role, and the account on line {line} already does; set role_name in [fleet] or role_arn here"
                        ));
                } else {
                    *roleless = Some(account.id.span());
                }
                None
            }
        };

        if self.problems[before..].iter().any(Problem::is_error) {
            return None;
        }
        let resolved = regions
            .into_iter()
            .map(|region| {
                let region = region.into_inner();
                let profile = match overrides.get(&region) {
                    Some(profile) => Spanned::new(account.profile.span(), profile.clone()),
                    None => account.profile.clone(),
                };
                (region, profile)
            })
            .collect();
        let model = Account {
            id: id.expect("checked above"),
            name: account.name.as_ref().map(|n| n.get_ref().clone()),
            role_arn,
        };
        Some(ResolvedAccount {
            model,
            regions: resolved,
            rule,
            overrides,
        })
    }

    fn unknown_profile(
        &mut self,
        name: &Spanned<String>,
        templates: &HashMap<String, Arc<ProfileSpec>>,
    ) {
        let closest = templates
            .keys()
            .map(|candidate| (strsim::jaro_winkler(name.get_ref(), candidate), candidate))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, c)| c.clone());
        let mut known: Vec<&String> = templates.keys().collect();
        known.sort();
        let help = match closest {
            Some(candidate) => format!("did you mean `{candidate}`?"),
            None if known.is_empty() => "declare it as [profiles.NAME]".to_owned(),
            None => format!(
                "declare [profiles.{}] or use one of: {}",
                name.get_ref(),
                known
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.error(
            name.span(),
            format!("profile `{}` does not exist", name.get_ref()),
        )
        .label("unknown profile")
        .help(help);
    }

    /// Expands a profile for one target and checks what AWS would check.
    /// Each template value is reported once, for the first target it fails.
    fn expand(
        &mut self,
        template: &ProfileSpec,
        vars: &Placeholders<'_>,
        reported: &mut HashSet<Range<usize>>,
    ) -> Option<(LoggingConfig, Managed)> {
        let target = format!("for {}/{}", vars.account_name, vars.region);
        self.expand_for(template, vars, target, reported)
    }

    /// Checks a profile that no listed target expands, with an example
    /// account and region for its placeholders.
    fn expand_example(
        &mut self,
        name: &str,
        template: &ProfileSpec,
        reported: &mut HashSet<Range<usize>>,
    ) {
        const EXAMPLE_ACCOUNT: &str = "111111111111";
        let region = "us-east-1";
        let vars = Placeholders {
            account_id: EXAMPLE_ACCOUNT,
            account_name: EXAMPLE_ACCOUNT,
            region,
            partition: "aws",
        };
        let target = format!(
            "in profile `{name}` (expanded for an example target, {EXAMPLE_ACCOUNT}/{region})"
        );
        self.expand_for(template, &vars, target, reported);
    }

    fn expand_for(
        &mut self,
        template: &ProfileSpec,
        vars: &Placeholders<'_>,
        target: String,
        reported: &mut HashSet<Range<usize>>,
    ) -> Option<(LoggingConfig, Managed)> {
        match template.expand(vars) {
            Ok(expanded) => expanded,
            Err(invalid) => {
                // Each value is reported once, for the first target it
                // fails (and a value that is not a known template not at all).
                for value in invalid {
                    if reported.insert(value.span.clone()) {
                        let added = self
                            .error(value.span.clone(), value.message(&target))
                            .label(value.label());
                        if let Some(help) = value.help() {
                            added.help(help);
                        }
                    }
                }
                None
            }
        }
    }
}
