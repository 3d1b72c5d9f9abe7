//! Resolving what a fleet file leaves to AWS: the accounts under each
//! `[[organizational_units]]` entry and the enabled regions of accounts
//! whose regions are `"enabled"`, over the small [`DiscoveryApi`] trait.
//!
//! The walk lists every OU at most once, and all OUs of one level of the
//! tree at once: a run makes one round of Organizations calls per OU level,
//! however many entries share the tree. Ownership is decided before any
//! account is read: an `[[accounts]]` entry always wins over an OU entry,
//! and two OU entries that would manage one account differently are an
//! error for the whole run.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;

use super::ApiError;
use crate::fleet::Managed;
use crate::fleet::discovery::{Assignment, Discovery, RegionRule, Regions, UnitEntry};
use crate::fleet::names::{BadAccountName, check_account_name};
use crate::fleet::{Account, AccountId, BEDROCK_REGIONS, Fleet, Region, Target};

/// An account as AWS Organizations lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: AccountId,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`, `PENDING_ACTIVATION`.
    pub state: String,
}

impl OrgAccount {
    pub fn is_active(&self) -> bool {
        self.state == "ACTIVE"
    }
}

/// The calls discovery makes.
pub trait DiscoveryApi: Sync {
    /// Every account directly under an OU or root, all pages, with the
    /// caller's credentials.
    fn accounts_under(
        &self,
        parent: &str,
    ) -> impl Future<Output = Result<Vec<OrgAccount>, ApiError>> + Send;
    /// The ids of the OUs directly under an OU or root, all pages.
    fn units_under(
        &self,
        parent: &str,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
    /// The regions enabled in an account (`ENABLED` and
    /// `ENABLED_BY_DEFAULT`), read with that account's own credentials.
    fn enabled_regions(
        &self,
        account: &Account,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send;
}

/// The entry an account's targets come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// An `[[accounts]]` entry.
    Account { line: usize },
    /// An `[[organizational_units]]` entry; `parent` is the OU (or root)
    /// the account sits in directly.
    OrganizationalUnit {
        id: String,
        name: Option<String>,
        line: usize,
        parent: String,
    },
}

impl Source {
    /// The line of the fleet file entry.
    pub fn line(&self) -> usize {
        match self {
            Source::Account { line } | Source::OrganizationalUnit { line, .. } => *line,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Account { line } => write!(f, "[[accounts]] line {line}"),
            Source::OrganizationalUnit {
                id,
                name,
                line,
                parent,
            } => {
                write!(f, "{id}")?;
                if let Some(name) = name {
                    write!(f, " ({name}, line {line})")?;
                } else {
                    write!(f, " (line {line})")?;
                }
                if parent != id {
                    write!(f, " via {parent}")?;
                }
                Ok(())
            }
        }
    }
}

/// Where an account's targets came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSource {
    pub source: Source,
    pub rule: RegionRule,
    /// Regions whose profile `region_profiles` sets.
    pub overridden: BTreeSet<Region>,
}

impl AccountSource {
    /// Whether the account's targets depend on AWS: found under an OU, or
    /// with regions read from the account.
    pub fn is_discovered(&self) -> bool {
        self.rule.enabled || matches!(self.source, Source::OrganizationalUnit { .. })
    }

    /// `region_profiles` when it decided the region's profile, else `profile`.
    pub fn profile_rule(&self, region: &Region) -> &'static str {
        if self.overridden.contains(region) {
            "region_profiles"
        } else {
            "profile"
        }
    }
}

/// An OU entry, as results name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnitRef {
    pub id: String,
    pub name: Option<String>,
    pub line: usize,
}

impl UnitRef {
    fn of(entry: &UnitEntry) -> UnitRef {
        UnitRef {
            id: entry.id.clone(),
            name: entry.name.clone(),
            line: entry.line,
        }
    }
}

impl fmt::Display for UnitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({name}, line {})", self.id, self.line),
            None => write!(f, "{} (line {})", self.id, self.line),
        }
    }
}

/// An account under an OU that an `[[accounts]]` entry manages instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overridden {
    pub account: Arc<Account>,
    pub unit: UnitRef,
    /// The line of the `[[accounts]]` entry.
    pub line: usize,
}

/// An account under an OU that is not `ACTIVE`: reported, never touched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inactive {
    pub account: OrgAccount,
    pub unit: UnitRef,
}

/// An account an entry's `exclude` left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excluded {
    pub account: OrgAccount,
    pub unit: UnitRef,
    pub pattern: String,
}

/// A name from Organizations that cannot name targets, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unnamed {
    pub account: OrgAccount,
    pub reason: UnnamedReason,
}

/// Why an Organizations name does not name an account's targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnnamedReason {
    Bad(BadAccountName),
    /// Another account of the run has the same name.
    Taken,
}

impl fmt::Display for UnnamedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnnamedReason::Bad(why) => why.fmt(f),
            UnnamedReason::Taken => f.write_str("another account of the fleet has the same name"),
        }
    }
}

/// An account (or one of its targets, when `region` is set) that could not
/// be resolved: its targets are not planned, and the run fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    pub account: Arc<Account>,
    pub region: Option<Region>,
    pub error: ApiError,
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.region {
            Some(region) => write!(f, "{}/{region}", self.account.label())?,
            None => write!(f, "{}", self.account.label())?,
        }
        if self.account.name.is_some() {
            write!(f, " ({})", self.account.id)?;
        }
        write!(f, ": {}", self.error)
    }
}

/// Two OU entries that would manage one account differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub account: OrgAccount,
    pub first: UnitRef,
    pub second: UnitRef,
    pub why: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "account {} ({}) is under two [[organizational_units]] entries that disagree ({}): {} and {}",
            self.account.id, self.account.name, self.why, self.first, self.second
        )
    }
}

/// An Organizations call that failed, and the entry that needed it.
#[derive(Debug, thiserror::Error)]
#[error("cannot list {parent} for the [[organizational_units]] entry {unit}: {error}{}", organizations_hint(.error))]
pub struct OrganizationsFailure {
    pub unit: UnitRef,
    pub parent: String,
    pub error: ApiError,
}

/// Why discovery could not give an answer safe to act on.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(transparent)]
    Organizations(Box<OrganizationsFailure>),
    #[error("{}; each account is managed by exactly one entry: add it to one entry's exclude, or give it an [[accounts]] entry", conflict_lines(.0))]
    Conflicts(Vec<Conflict>),
}

fn conflict_lines(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn organizations_hint(error: &ApiError) -> &'static str {
    match error.code.aws().unwrap_or_default() {
        "AccessDeniedException" | "AWSOrganizationsNotInUseException" => {
            " (discovery needs the credentials of the organization's management account or of a delegated administrator)"
        }
        "ParentNotFoundException" | "OrganizationalUnitNotFoundException" => {
            " (check the id with `aws organizations list-roots` and `list-organizational-units-for-parent`)"
        }
        _ => "",
    }
}

/// A fleet with every target resolved, and what discovery found on the way.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The fleet file's fleet with its `targets` and `accounts` complete:
    /// `[[accounts]]` entries in file order, then each OU entry's accounts
    /// in file order and by account id.
    pub fleet: Fleet,
    pub sources: HashMap<AccountId, AccountSource>,
    pub overridden: Vec<Overridden>,
    pub inactive: Vec<Inactive>,
    pub excluded: Vec<Excluded>,
    pub unnamed: Vec<Unnamed>,
    /// Accounts or targets that could not be resolved: left out of the
    /// run, which fails.
    pub unresolved: Vec<Unresolved>,
}

impl Resolved {
    fn new(fleet: Fleet) -> Resolved {
        let sources = fleet
            .discovery
            .explicit
            .iter()
            .map(|(id, entry)| {
                let source = AccountSource {
                    source: Source::Account { line: entry.line },
                    rule: entry.rule,
                    overridden: entry.overridden.clone(),
                };
                (id.clone(), source)
            })
            .collect();
        Resolved {
            fleet,
            sources,
            overridden: Vec::new(),
            inactive: Vec::new(),
            excluded: Vec::new(),
            unnamed: Vec::new(),
            unresolved: Vec::new(),
        }
    }

    /// The source of a target's account.
    pub fn source_of(&self, target: &Target) -> Option<&AccountSource> {
        self.sources.get(&target.account.id)
    }

    /// How many of `targets` depend on discovery.
    pub fn discovered<'t>(&self, targets: impl IntoIterator<Item = &'t Target>) -> usize {
        targets
            .into_iter()
            .filter(|t| self.source_of(t).is_some_and(AccountSource::is_discovered))
            .count()
    }

    /// How many of `targets` come from OU entries.
    pub fn from_units<'t>(&self, targets: impl IntoIterator<Item = &'t Target>) -> usize {
        targets
            .into_iter()
            .filter(|t| {
                self.source_of(t)
                    .is_some_and(|s| matches!(s.source, Source::OrganizationalUnit { .. }))
            })
            .count()
    }
}

/// The trivial case of [`resolve`]: a fleet that needs no discovery has its
/// listed targets already. Makes no call.
pub fn resolve_listed(fleet: Fleet) -> Resolved {
    Resolved::new(fleet)
}

/// One Organizations listing of the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Listing {
    Accounts,
    Units,
}

/// What the walk has learnt of one OU.
#[derive(Default)]
struct Known {
    accounts: Option<Vec<OrgAccount>>,
    units: Option<Vec<String>>,
}

/// Resolves every target of `fleet`: walks the OU entries' trees, decides
/// who manages each account, reads the enabled regions of the accounts that
/// need them, and expands their profiles. At most `concurrency` calls are
/// in flight. The fleet's listed targets are moved, not copied.
pub async fn resolve<A: DiscoveryApi>(
    api: &A,
    fleet: Fleet,
    concurrency: usize,
) -> Result<Resolved, DiscoveryError> {
    let discovery = fleet.discovery.clone();
    let reached = walk(api, &discovery.units, concurrency).await?;
    let mut resolved = Resolved::new(fleet);
    let listed_accounts = std::mem::take(&mut resolved.fleet.accounts);
    let claims = claim(&listed_accounts, &discovery, reached, &mut resolved)?;

    // Names: an Organizations name names targets only if it is usable and
    // no other account of the run has it.
    let mut taken: HashSet<String> = listed_accounts
        .iter()
        .filter_map(|a| a.name.clone())
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for claim in &claims {
        *counts.entry(claim.account.name.as_str()).or_default() += 1;
    }
    let mut discovered: Vec<(Arc<Account>, &UnitEntry)> = Vec::new();
    for claim in &claims {
        let org = &claim.account;
        let name = if let Err(why) = check_account_name(&org.name, org.id.as_str()) {
            resolved.unnamed.push(Unnamed {
                account: org.clone(),
                reason: UnnamedReason::Bad(why),
            });
            None
        } else if counts[org.name.as_str()] > 1 || taken.contains(&org.name) {
            resolved.unnamed.push(Unnamed {
                account: org.clone(),
                reason: UnnamedReason::Taken,
            });
            None
        } else {
            taken.insert(org.name.clone());
            Some(org.name.clone())
        };
        let account = Arc::new(Account {
            id: org.id.clone(),
            name,
            role_arn: Some(claim.entry.role_arn(&org.id)),
        });
        resolved.sources.insert(
            org.id.clone(),
            AccountSource {
                source: Source::OrganizationalUnit {
                    id: claim.entry.id.clone(),
                    name: claim.entry.name.clone(),
                    line: claim.entry.line,
                    parent: claim.parent.clone(),
                },
                rule: claim.entry.assignment.rule,
                overridden: claim
                    .entry
                    .assignment
                    .region_profiles
                    .keys()
                    .cloned()
                    .collect(),
            },
        );
        discovered.push((account, claim.entry));
    }

    // Enabled regions, for every account that needs them, at once.
    let needs_regions: Vec<Arc<Account>> = discovery
        .enabled_accounts
        .iter()
        .map(|e| e.account.clone())
        .chain(
            discovered
                .iter()
                .filter(|(_, entry)| entry.assignment.regions == Regions::Enabled)
                .map(|(account, _)| account.clone()),
        )
        .collect();
    let enabled: HashMap<AccountId, Result<Vec<Region>, ApiError>> =
        futures::stream::iter(needs_regions)
            .map(|account| async move {
                let regions = api.enabled_regions(&account).await.map(|names| {
                    // Bedrock's regions, in fleet's order of that list.
                    let names: HashSet<String> = names.into_iter().collect();
                    BEDROCK_REGIONS
                        .iter()
                        .filter(|r| names.contains(**r))
                        .filter_map(|r| Region::parse(r))
                        .collect()
                });
                (account.id.clone(), regions)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;

    // Targets: listed accounts in file order, then discovered ones.
    let mut listed: HashMap<AccountId, Vec<Target>> = HashMap::new();
    for target in std::mem::take(&mut resolved.fleet.targets) {
        listed
            .entry(target.account.id.clone())
            .or_default()
            .push(target);
    }
    let enabled_entries: HashMap<&AccountId, &Assignment> = discovery
        .enabled_accounts
        .iter()
        .map(|e| (&e.account.id, &e.assignment))
        .collect();
    let mut targets = Vec::new();
    for account in &listed_accounts {
        match enabled_entries.get(&account.id) {
            Some(assignment) => {
                add_targets(account, assignment, &enabled, &mut resolved, &mut targets);
            }
            None => targets.extend(listed.remove(&account.id).into_iter().flatten()),
        }
    }
    for (account, entry) in &discovered {
        add_targets(
            account,
            &entry.assignment,
            &enabled,
            &mut resolved,
            &mut targets,
        );
    }
    resolved.fleet.accounts = listed_accounts
        .into_iter()
        .chain(discovered.into_iter().map(|(account, _)| account))
        .collect();
    resolved.fleet.targets = targets;
    Ok(resolved)
}

fn add_targets(
    account: &Arc<Account>,
    assignment: &Assignment,
    enabled: &HashMap<AccountId, Result<Vec<Region>, ApiError>>,
    resolved: &mut Resolved,
    targets: &mut Vec<Target>,
) {
    let regions = match &assignment.regions {
        Regions::Listed(regions) => regions.clone(),
        Regions::Enabled => match enabled.get(&account.id) {
            Some(Ok(regions)) => regions.clone(),
            Some(Err(error)) => {
                resolved.unresolved.push(Unresolved {
                    account: account.clone(),
                    region: None,
                    error: ApiError::new(
                        error.code.clone(),
                        format!(
                            "cannot read the account's enabled regions: {}",
                            error.message
                        ),
                    ),
                });
                return;
            }
            None => Vec::new(),
        },
    };
    for region in regions {
        let profile = assignment.profile_for(&region);
        match resolved.fleet.desired(profile, account, &region) {
            Ok(desired) => {
                let (desired, managed) = match desired {
                    Some((config, managed)) => (Some(config), managed),
                    None => (None, Managed::default()),
                };
                targets.push(Target {
                    account: account.clone(),
                    region,
                    profile: Arc::from(profile),
                    desired,
                    managed,
                })
            }
            Err(invalid) => resolved.unresolved.push(Unresolved {
                account: account.clone(),
                region: Some(region),
                error: ApiError::new(super::ErrorCode::InvalidProfile, invalid.to_string()),
            }),
        }
    }
}

/// An account an OU entry manages.
struct Claim<'f> {
    account: OrgAccount,
    entry: &'f UnitEntry,
    parent: String,
}

/// Decides who manages each account found: `[[accounts]]` entries first,
/// inactive and excluded accounts nobody, then the first OU entry that
/// reaches it, provided every other entry reaching it agrees.
fn claim<'f>(
    listed: &[Arc<Account>],
    discovery: &'f Discovery,
    reached: Vec<Vec<(OrgAccount, String)>>,
    resolved: &mut Resolved,
) -> Result<Vec<Claim<'f>>, DiscoveryError> {
    let explicit: HashMap<&AccountId, &Arc<Account>> = listed.iter().map(|a| (&a.id, a)).collect();
    let mut claims: Vec<Claim<'f>> = Vec::new();
    let mut claimed: HashMap<AccountId, usize> = HashMap::new();
    let mut inactive: HashSet<AccountId> = HashSet::new();
    let mut conflicts = Vec::new();
    for (entry, mut accounts) in discovery.units.iter().zip(reached) {
        accounts.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        accounts.dedup_by(|a, b| a.0.id == b.0.id);
        for (account, parent) in accounts {
            if let Some(pattern) = entry.excluded_by(&account.id, &account.name) {
                resolved.excluded.push(Excluded {
                    account,
                    unit: UnitRef::of(entry),
                    pattern: pattern.to_owned(),
                });
                continue;
            }
            if let Some(listed) = explicit.get(&account.id) {
                resolved.overridden.push(Overridden {
                    account: (*listed).clone(),
                    unit: UnitRef::of(entry),
                    line: discovery.explicit[&account.id].line,
                });
                continue;
            }
            if !account.is_active() {
                if inactive.insert(account.id.clone()) {
                    resolved.inactive.push(Inactive {
                        account,
                        unit: UnitRef::of(entry),
                    });
                }
                continue;
            }
            match claimed.get(&account.id) {
                None => {
                    claimed.insert(account.id.clone(), claims.len());
                    claims.push(Claim {
                        account,
                        entry,
                        parent,
                    });
                }
                Some(&index) => {
                    let first = claims[index].entry;
                    if let Some(why) = first.disagreement(entry) {
                        conflicts.push(Conflict {
                            account,
                            first: UnitRef::of(first),
                            second: UnitRef::of(entry),
                            why,
                        });
                    }
                }
            }
        }
    }
    if conflicts.is_empty() {
        Ok(claims)
    } else {
        Err(DiscoveryError::Conflicts(conflicts))
    }
}

/// Every account each OU entry reaches, with the OU it sits in directly.
/// Level by level: all listings one level needs are made at once, and each
/// OU is listed at most once whichever entries reach it.
async fn walk<A: DiscoveryApi>(
    api: &A,
    units: &[UnitEntry],
    concurrency: usize,
) -> Result<Vec<Vec<(OrgAccount, String)>>, DiscoveryError> {
    let mut known: HashMap<String, Known> = HashMap::new();
    let mut reached: Vec<Vec<(OrgAccount, String)>> = vec![Vec::new(); units.len()];
    let mut visited: HashSet<(usize, String)> = HashSet::new();
    let mut frontier: Vec<(usize, String)> = Vec::new();
    for (index, unit) in units.iter().enumerate() {
        if visited.insert((index, unit.id.clone())) {
            frontier.push((index, unit.id.clone()));
        }
    }
    while !frontier.is_empty() {
        // This level's listings, each once, naming the first entry that
        // needs it for error messages.
        let mut wanted: BTreeMap<(String, Listing), usize> = BTreeMap::new();
        for (index, parent) in &frontier {
            let have = known.get(parent);
            if have.is_none_or(|k| k.accounts.is_none()) {
                wanted
                    .entry((parent.clone(), Listing::Accounts))
                    .or_insert(*index);
            }
            if units[*index].recursive && have.is_none_or(|k| k.units.is_none()) {
                wanted
                    .entry((parent.clone(), Listing::Units))
                    .or_insert(*index);
            }
        }
        let results: Vec<_> = futures::stream::iter(wanted)
            .map(|((parent, listing), index)| async move {
                let result = match listing {
                    Listing::Accounts => api.accounts_under(&parent).await.map(Ok),
                    Listing::Units => api.units_under(&parent).await.map(Err),
                };
                (parent, index, result)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut first_error = None;
        for (parent, index, result) in results {
            match result {
                Ok(Ok(accounts)) => known.entry(parent).or_default().accounts = Some(accounts),
                Ok(Err(children)) => known.entry(parent).or_default().units = Some(children),
                Err(error) => {
                    // Report the first entry in file order, whatever order
                    // the answers came in.
                    if first_error
                        .as_ref()
                        .is_none_or(|(i, _, _): &(usize, String, ApiError)| index < *i)
                    {
                        first_error = Some((index, parent, error));
                    }
                }
            }
        }
        if let Some((index, parent, error)) = first_error {
            return Err(DiscoveryError::Organizations(Box::new(
                OrganizationsFailure {
                    unit: UnitRef::of(&units[index]),
                    parent,
                    error,
                },
            )));
        }
        let mut next = Vec::new();
        for (index, parent) in frontier {
            let here = &known[&parent];
            for account in here.accounts.iter().flatten() {
                reached[index].push((account.clone(), parent.clone()));
            }
            if units[index].recursive {
                for child in here.units.iter().flatten() {
                    if visited.insert((index, child.clone())) {
                        next.push((index, child.clone()));
                    }
                }
            }
        }
        frontier = next;
    }
    Ok(reached)
}

#[cfg(test)]
pub(crate) mod tests;
