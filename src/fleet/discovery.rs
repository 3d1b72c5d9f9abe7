//! The parts of a fleet file that only AWS can resolve:
//! `[[organizational_units]]` entries (every account under an OU, found
//! through AWS Organizations) and `regions = "enabled"` (the regions enabled
//! in each account, from the Account API).
//!
//! Validation checks them here as far as the file alone allows; the engine
//! (`engine::discovery`) resolves them when a command that uses the network
//! runs, and expands profiles for the accounts it finds with
//! [`Discovery::desired`], which applies exactly the checks `validate`
//! applies to listed accounts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};
use toml::Spanned;

use super::raw::{RawRegions, RawUnit};
use super::{Checker, Problem, ProfileSpec};
use crate::fleet::{Account, AccountId, Region};

/// The key whose value decided an account's regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionKey {
    /// `[fleet] regions`.
    Fleet,
    /// `regions` of an `[[accounts]]` entry.
    Account,
    /// `regions` of an `[[organizational_units]]` entry.
    Unit,
}

/// How an account's regions were decided: which key, and whether it said
/// `"enabled"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegionRule {
    pub key: RegionKey,
    pub enabled: bool,
}

impl fmt::Display for RegionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.key {
            RegionKey::Fleet => "fleet.regions",
            RegionKey::Account => "account.regions",
            RegionKey::Unit => "organizational_unit.regions",
        };
        if self.enabled {
            write!(f, "enabled ({key})")
        } else {
            f.write_str(key)
        }
    }
}

/// An account's managed regions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Regions {
    Listed(Vec<Region>),
    /// The regions enabled in the account that fleet knows Bedrock runs in,
    /// read when a command runs.
    Enabled,
}

/// What an entry asks of every account × region it manages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub profile: String,
    pub regions: Regions,
    pub rule: RegionRule,
    pub region_profiles: BTreeMap<Region, String>,
}

impl Assignment {
    /// The profile of one region.
    pub fn profile_for(&self, region: &Region) -> &str {
        self.region_profiles
            .get(region)
            .map_or(self.profile.as_str(), String::as_str)
    }
}

/// One `exclude` value of an `[[organizational_units]]` entry.
#[derive(Clone, Debug)]
pub struct Exclusion {
    pub text: String,
    /// `None` for an account id, matched exactly.
    matcher: Option<GlobMatcher>,
}

impl Exclusion {
    pub fn matches(&self, id: &AccountId, name: &str) -> bool {
        match &self.matcher {
            None => self.text == id.as_str(),
            Some(glob) => glob.is_match(name) || glob.is_match(id.as_str()),
        }
    }
}

/// An `[[organizational_units]]` entry.
#[derive(Clone, Debug)]
pub struct UnitEntry {
    /// `ou-…` or a root id `r-…`.
    pub id: String,
    pub name: Option<String>,
    /// The line of the entry's `[[organizational_units]]` header.
    pub line: usize,
    pub recursive: bool,
    pub exclude: Vec<Exclusion>,
    pub role_name: String,
    pub assignment: Assignment,
}

impl UnitEntry {
    /// How messages name the entry: `ou-ab12-34cd56ef (workloads, line 40)`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} ({name}, line {})", self.id, self.line),
            None => format!("{} (line {})", self.id, self.line),
        }
    }

    /// The `exclude` value that leaves this account out, if any.
    pub fn excluded_by(&self, id: &AccountId, name: &str) -> Option<&str> {
        self.exclude
            .iter()
            .find(|e| e.matches(id, name))
            .map(|e| e.text.as_str())
    }

    /// The role assumed in an account this entry manages.
    pub fn role_arn(&self, account: &AccountId) -> String {
        let partition = match &self.assignment.regions {
            Regions::Listed(regions) => regions.first().map_or("aws", Region::partition),
            Regions::Enabled => "aws",
        };
        super::names::role_arn(partition, account, &self.role_name)
    }

    /// Why two entries cannot both manage one account, or `None` when they
    /// would manage it identically.
    pub fn disagreement(&self, other: &UnitEntry) -> Option<String> {
        let (a, b) = (&self.assignment, &other.assignment);
        let mut why = Vec::new();
        if a.profile != b.profile {
            why.push(format!("profile `{}` against `{}`", a.profile, b.profile));
        }
        if a.regions != b.regions {
            why.push(format!(
                "regions {} against {}",
                describe_regions(&a.regions),
                describe_regions(&b.regions)
            ));
        }
        if a.region_profiles != b.region_profiles {
            why.push("different region_profiles".to_owned());
        }
        if self.role_name != other.role_name {
            why.push(format!(
                "role_name `{}` against `{}`",
                self.role_name, other.role_name
            ));
        }
        (!why.is_empty()).then(|| why.join(", "))
    }
}

fn describe_regions(regions: &Regions) -> String {
    match regions {
        Regions::Enabled => "\"enabled\"".to_owned(),
        Regions::Listed(list) => format!(
            "[{}]",
            list.iter()
                .map(Region::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Where an `[[accounts]]` entry is and how its regions were decided.
#[derive(Clone, Debug)]
pub struct ExplicitEntry {
    /// The line of the entry's `[[accounts]]` header.
    pub line: usize,
    pub rule: RegionRule,
    /// Regions that `region_profiles` overrides.
    pub overridden: BTreeSet<Region>,
}

/// An `[[accounts]]` entry whose regions are `"enabled"`.
#[derive(Clone, Debug)]
pub struct EnabledAccount {
    pub account: Arc<Account>,
    pub assignment: Assignment,
}

/// What a fleet file leaves to AWS to resolve.
#[derive(Debug, Default)]
pub struct Discovery {
    pub units: Vec<UnitEntry>,
    pub enabled_accounts: Vec<EnabledAccount>,
    /// Every `[[accounts]]` entry, by account id.
    pub explicit: HashMap<AccountId, ExplicitEntry>,
}

impl Discovery {
    /// Whether any target depends on AWS Organizations or the Account API.
    pub fn is_needed(&self) -> bool {
        !self.units.is_empty() || !self.enabled_accounts.is_empty()
    }
}

/// Regions as a key says them, before the checker knows which account
/// they are for.
#[derive(Clone, Debug)]
pub(super) enum RegionSpec {
    Listed(Vec<Spanned<Region>>),
    Enabled,
}

impl RegionSpec {
    pub(super) fn is_enabled(&self) -> bool {
        matches!(self, RegionSpec::Enabled)
    }

    pub(super) fn listed(&self) -> &[Spanned<Region>] {
        match self {
            RegionSpec::Listed(regions) => regions,
            RegionSpec::Enabled => &[],
        }
    }
}

/// `ou-` + 4–32 lowercase letters or digits + `-` + 8–32 more, as AWS
/// Organizations writes OU ids.
fn is_unit_id(id: &str) -> bool {
    let part = |text: &str, min: usize| {
        (min..=32).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    id.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, unit)| part(root, 4) && part(unit, 8))
}

/// `r-` + 4–32 lowercase letters or digits: an organization's root.
fn is_root_id(id: &str) -> bool {
    id.strip_prefix("r-").is_some_and(|rest| {
        (4..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

impl Checker<'_> {
    /// A `regions` value: a list (checked as before) or `"enabled"`.
    pub(super) fn region_spec(
        &mut self,
        raw: Spanned<RawRegions>,
        allow_empty: bool,
    ) -> Option<RegionSpec> {
        let span = raw.span();
        match raw.into_inner() {
            RawRegions::Word(word) if word == "enabled" => Some(RegionSpec::Enabled),
            RawRegions::Word(word) => {
                let help = match Region::parse(&word) {
                    Some(region) => format!("a list of one region is written regions = [\"{region}\"]; regions = \"enabled\" means every region enabled in the account"),
                    None => "write regions = [\"us-east-1\", …], or regions = \"enabled\" for every region enabled in the account".to_owned(),
                };
                self.error(span, format!("`{word}` is not a list of regions"))
                    .label("expected a list or \"enabled\"")
                    .help(help);
                None
            }
            RawRegions::List(list) => {
                if list.is_empty() && !allow_empty {
                    self.error(span.clone(), "regions is empty")
                        .help("list at least one region, or remove the key to use [fleet] regions");
                }
                Some(RegionSpec::Listed(self.regions(Spanned::new(span, list))))
            }
        }
    }

    /// A `region_profiles` table for regions decided by `spec`: every region
    /// must be managed (any well-formed region when they are `"enabled"`)
    /// and every profile must exist.
    pub(super) fn region_overrides(
        &mut self,
        raw: Option<&BTreeMap<Spanned<String>, Spanned<String>>>,
        spec: Option<&RegionSpec>,
        what: &str,
        templates: &HashMap<String, Arc<ProfileSpec>>,
    ) -> BTreeMap<Region, String> {
        let mut overrides = BTreeMap::new();
        for (region, profile) in raw.into_iter().flatten() {
            let name = region.get_ref();
            let parsed = Region::parse(name);
            match (spec, &parsed) {
                (_, None) => {
                    self.error(region.span(), format!("`{name}` is not an AWS region name"))
                        .help("regions are written like \"us-east-1\" or \"eu-central-1\"");
                }
                (Some(RegionSpec::Listed(listed)), Some(parsed))
                    if !listed.iter().any(|r| r.get_ref() == parsed) =>
                {
                    self.error(
                        region.span(),
                        format!("region_profiles names {name}, which this {what} does not manage"),
                    )
                    .help(format!(
                        "add the region to this {what}'s regions, or remove the override"
                    ));
                }
                _ => {}
            }
            if !templates.contains_key(profile.get_ref()) {
                self.unknown_profile(profile, templates);
            }
            if let Some(parsed) = parsed {
                overrides.insert(parsed, profile.get_ref().clone());
            }
        }
        overrides
    }

    /// Checks every `[[organizational_units]]` entry.
    pub(super) fn organizational_units(
        &mut self,
        raw: Vec<Spanned<RawUnit>>,
        default_regions: Option<&RegionSpec>,
        role_name: Option<&Spanned<String>>,
        templates: &HashMap<String, Arc<ProfileSpec>>,
    ) -> Vec<UnitEntry> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut units = Vec::new();
        for unit in raw {
            let span = unit.span();
            let line = self.file.line_col(span.start).0;
            let before = self.problems.len();
            let unit = unit.into_inner();
            let entry = self.organizational_unit(
                unit,
                span,
                line,
                &mut seen,
                default_regions,
                role_name,
                templates,
            );
            if !self.problems[before..].iter().any(Problem::is_error)
                && let Some(entry) = entry
            {
                units.push(entry);
            }
        }
        units
    }

    #[allow(clippy::too_many_arguments)]
    fn organizational_unit(
        &mut self,
        unit: RawUnit,
        span: Range<usize>,
        line: usize,
        seen: &mut HashMap<String, usize>,
        default_regions: Option<&RegionSpec>,
        fleet_role: Option<&Spanned<String>>,
        templates: &HashMap<String, Arc<ProfileSpec>>,
    ) -> Option<UnitEntry> {
        let id = unit.id.get_ref();
        if !is_unit_id(id) && !is_root_id(id) {
            self.error(
                unit.id.span(),
                format!("`{id}` is not an organizational unit or root id"),
            )
            .label("expected ou-… or r-…")
            .help("OU ids look like \"ou-ab12-34cd56ef\" and root ids like \"r-ab12\" (aws organizations list-roots / list-organizational-units-for-parent)");
        }
        if let Some(first) = seen.get(id) {
            self.error(
                unit.id.span(),
                format!("organizational unit {id} is listed twice"),
            )
            .label("second entry")
            .help(format!(
                "each account × region is managed by exactly one entry; merge this entry into the one on line {first}"
            ));
        } else {
            seen.insert(id.clone(), line);
        }
        if let Some(name) = &unit.name
            && name.get_ref().trim().is_empty()
        {
            self.error(name.span(), "the name of an entry cannot be empty")
                .help("remove the key, or give a name that says what the OU holds");
        }
        if !templates.contains_key(unit.profile.get_ref()) {
            self.unknown_profile(&unit.profile, templates);
        }

        let (spec, key) = match unit.regions {
            Some(raw) => (self.region_spec(raw, false), RegionKey::Unit),
            None => {
                if default_regions.is_none() && !self.fleet_regions_invalid {
                    self.error(span.clone(), "this organizational unit entry has no regions")
                        .help("set regions = [...] or regions = \"enabled\" in [fleet] for every entry, or in this one");
                }
                (default_regions.cloned(), RegionKey::Fleet)
            }
        };
        let region_profiles = self.region_overrides(
            unit.region_profiles.as_ref(),
            spec.as_ref(),
            "organizational unit entry",
            templates,
        );

        let mut exclude = Vec::new();
        for pattern in unit.exclude.iter().flatten() {
            let text = pattern.get_ref();
            if text.is_empty() {
                self.error(pattern.span(), "an empty exclude matches no account")
                    .help("give an account id (\"111111111111\") or a glob on account names (\"sandbox-*\")");
                continue;
            }
            if AccountId::parse(text).is_some() {
                exclude.push(Exclusion {
                    text: text.clone(),
                    matcher: None,
                });
                continue;
            }
            match GlobBuilder::new(text).build() {
                Ok(glob) => exclude.push(Exclusion {
                    text: text.clone(),
                    matcher: Some(glob.compile_matcher()),
                }),
                Err(err) => {
                    self.error(
                        pattern.span(),
                        format!("`{text}` is not a valid glob: {}", err.kind()),
                    )
                    .help(
                        "exclude takes account ids and globs on account names, e.g. \"sandbox-*\"",
                    );
                }
            }
        }

        let role_name = match (&unit.role_name, fleet_role) {
            (Some(name), _) => {
                if !super::names::is_role_name(name.get_ref()) {
                    self.error(name.span(), "role_name must be a plain IAM role name")
                        .help("give only the name, e.g. role_name = \"BedrockLoggingAdmin\"");
                }
                Some(name.get_ref().clone())
            }
            (None, Some(name)) => Some(name.get_ref().clone()),
            (None, None) => {
                self.error(unit.id.span(), "accounts under this organizational unit have no role to assume")
                    .help("fleet reaches discovered accounts by role: set role_name in [fleet] or in this entry");
                None
            }
        };

        let regions = match spec? {
            RegionSpec::Enabled => Regions::Enabled,
            RegionSpec::Listed(list) => {
                Regions::Listed(list.into_iter().map(Spanned::into_inner).collect())
            }
        };
        Some(UnitEntry {
            id: id.clone(),
            name: unit.name.map(Spanned::into_inner),
            line,
            recursive: unit.recursive.unwrap_or(true),
            exclude,
            role_name: role_name?,
            assignment: Assignment {
                profile: unit.profile.into_inner(),
                rule: RegionRule {
                    key,
                    enabled: regions == Regions::Enabled,
                },
                regions,
                region_profiles,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_and_root_ids() {
        for ok in ["ou-ab12-34cd56ef", "ou-abcd-0123456789abcdef"] {
            assert!(is_unit_id(ok), "{ok}");
        }
        for bad in [
            "ou-ab1-34cd56ef",
            "ou-ab12-34cd56e",
            "ou-AB12-34cd56ef",
            "ou-ab12",
            "r-ab12",
        ] {
            assert!(!is_unit_id(bad), "{bad}");
        }
        assert!(is_root_id("r-ab12"));
        assert!(!is_root_id("r-ab1"));
        assert!(!is_root_id("ou-ab12-34cd56ef"));
    }

    #[test]
    fn exclusions_match_ids_exactly_and_globs_on_names() {
        let exact = Exclusion {
            text: "111111111111".into(),
            matcher: None,
        };
        let glob = Exclusion {
            text: "sandbox-*".into(),
            matcher: Some(Glob::new("sandbox-*").unwrap().compile_matcher()),
        };
        let id = AccountId::parse("111111111111").unwrap();
        let other = AccountId::parse("222222222222").unwrap();
        assert!(exact.matches(&id, "x"));
        assert!(!exact.matches(&other, "x"));
        assert!(glob.matches(&other, "sandbox-7"));
        assert!(!glob.matches(&other, "prod"));
    }

    use globset::Glob;
}
