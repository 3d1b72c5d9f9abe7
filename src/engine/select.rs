//! Narrowing a run to some targets: `--target`/`--exclude` globs on
//! `ACCOUNT/REGION` and `--partition K/N` for sharding across CI jobs.

use std::fmt;
use std::str::FromStr;

use globset::{Glob, GlobBuilder, GlobMatcher};
use sha2::{Digest, Sha256};

use crate::fleet::Target;

/// Shard K of N (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub k: u32,
    pub n: u32,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!(
                "`{text}` is not K/N: write the shard number and the shard count, e.g. 2/5 (1 ≤ K ≤ N)"
            )
        };
        let (k, n) = text.split_once('/').ok_or_else(usage)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| usage())?,
            n.trim().parse().map_err(|_| usage())?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(usage());
        }
        Ok(Partition { k, n })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl Partition {
    /// The shard (1-based) a target belongs to: a stable hash of
    /// `account_id/region`, so adding a target moves no other.
    pub fn shard_of(account_id: &str, region: &str, n: u32) -> u32 {
        let digest = Sha256::digest(format!("{account_id}/{region}").as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(n)) as u32 + 1
    }

    pub fn contains(&self, target: &Target) -> bool {
        Self::shard_of(target.account.id.as_str(), target.region.as_str(), self.n) == self.k
    }
}

/// Why a selection is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectError {
    #[error("{flag} `{pattern}` is not a valid glob: {reason}")]
    BadGlob {
        flag: &'static str,
        pattern: String,
        reason: String,
    },
    #[error("{flag} `{pattern}` matches no target{}", near_list(.near))]
    NoMatch {
        flag: &'static str,
        pattern: String,
        near: Vec<String>,
    },
}

fn near_list(near: &[String]) -> String {
    if near.is_empty() {
        "; targets are written ACCOUNT/REGION, ACCOUNT being the account's name (or its id)"
            .to_owned()
    } else {
        format!("; near matches: {}", near.join(", "))
    }
}

struct Pattern {
    text: String,
    matcher: GlobMatcher,
}

/// The targets a run covers.
#[derive(Default)]
pub struct Selection {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
    partition: Option<Partition>,
}

impl Selection {
    pub fn new(
        include: &[String],
        exclude: &[String],
        partition: Option<Partition>,
    ) -> Result<Self, SelectError> {
        let compile = |flag: &'static str, text: &String| {
            // A pattern without '/' names accounts: `prod` means `prod/*`.
            let full = if text.contains('/') {
                text.clone()
            } else {
                format!("{text}/*")
            };
            GlobBuilder::new(&full)
                .literal_separator(true)
                .build()
                .map(|glob: Glob| Pattern {
                    text: text.clone(),
                    matcher: glob.compile_matcher(),
                })
                .map_err(|err| SelectError::BadGlob {
                    flag,
                    pattern: text.clone(),
                    reason: err.kind().to_string(),
                })
        };
        Ok(Selection {
            include: include
                .iter()
                .map(|t| compile("--target", t))
                .collect::<Result<_, _>>()?,
            exclude: exclude
                .iter()
                .map(|t| compile("--exclude", t))
                .collect::<Result<_, _>>()?,
            partition,
        })
    }

    pub fn is_everything(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty() && self.partition.is_none()
    }

    /// Keeps the selected targets, in order. A `--target` glob that matches
    /// no target at all is an error that lists the nearest targets (a typo
    /// must never silently plan nothing); an `--exclude` glob that matches
    /// nothing excludes nothing (see [`Selection::unmatched_excludes`]).
    pub fn apply<T>(
        &self,
        items: Vec<T>,
        target: impl Fn(&T) -> &Target,
    ) -> Result<Vec<T>, SelectError> {
        if let Some(unmatched) = self
            .unmatched(&self.include, "--target", &items, &target)
            .next()
        {
            return Err(unmatched);
        }
        Ok(items
            .into_iter()
            .filter(|item| {
                let t = target(item);
                (self.include.is_empty() || self.include.iter().any(|p| hits(p, t)))
                    && !self.exclude.iter().any(|p| hits(p, t))
                    && self.partition.is_none_or(|p| p.contains(t))
            })
            .collect())
    }

    /// The `--exclude` globs that match none of `items`, for a warning: a
    /// standing exclude in CI must not break the day its account leaves.
    pub fn unmatched_excludes<T>(
        &self,
        items: &[T],
        target: impl Fn(&T) -> &Target,
    ) -> Vec<SelectError> {
        self.unmatched(&self.exclude, "--exclude", items, &target)
            .collect()
    }

    fn unmatched<'a, T>(
        &'a self,
        patterns: &'a [Pattern],
        flag: &'static str,
        items: &'a [T],
        target: &'a impl Fn(&T) -> &Target,
    ) -> impl Iterator<Item = SelectError> + 'a {
        patterns
            .iter()
            .filter(move |pattern| !items.iter().any(|item| hits(pattern, target(item))))
            .map(move |pattern| SelectError::NoMatch {
                flag,
                pattern: pattern.text.clone(),
                near: nearest(
                    &pattern.text,
                    items.iter().map(|i| target(i).id().to_string()),
                ),
            })
    }
}

/// Whether a glob matches a target by its name form or its id form.
fn hits(pattern: &Pattern, target: &Target) -> bool {
    let by_label = target.id().to_string();
    let by_id = format!("{}/{}", target.account.id, target.region);
    pattern.matcher.is_match(&by_label) || pattern.matcher.is_match(&by_id)
}

/// Up to five target names closest to a pattern that matched nothing.
fn nearest(pattern: &str, names: impl Iterator<Item = String>) -> Vec<String> {
    let plain: String = pattern.chars().filter(|c| !"*?[]{}".contains(*c)).collect();
    let mut scored: Vec<(f64, String)> = names
        .map(|name| (strsim::jaro_winkler(&plain, &name), name))
        .filter(|(score, _)| *score > 0.6)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(5).map(|(_, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tests::fleet;

    fn ids(selection: &Selection) -> Result<Vec<String>, SelectError> {
        let fleet = fleet();
        selection
            .apply(fleet.targets, |t| t)
            .map(|ts| ts.iter().map(|t| t.id().to_string()).collect())
    }

    #[test]
    fn globs_on_names_and_ids() {
        let s = Selection::new(&["prod/*".into()], &[], None).unwrap();
        assert_eq!(ids(&s).unwrap(), ["prod/us-east-1", "prod/eu-west-1"]);
        let s = Selection::new(&["*/eu-*".into()], &["dev".into()], None).unwrap();
        assert_eq!(ids(&s).unwrap(), ["prod/eu-west-1"]);
        let s = Selection::new(&["222222222222/us-east-1".into()], &[], None).unwrap();
        assert_eq!(ids(&s).unwrap(), ["dev/us-east-1"]);
    }

    #[test]
    fn a_glob_matching_nothing_lists_near_matches() {
        let s = Selection::new(&["prd/us-east-1".into()], &[], None).unwrap();
        let err = ids(&s).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "--target `prd/us-east-1` matches no target; near matches: prod/us-east-1"
            ),
            "{err}"
        );
        let s = Selection::new(&[], &["zzz/*".into()], None).unwrap();
        assert_eq!(ids(&s).unwrap().len(), fleet().targets.len());
        let unmatched = s.unmatched_excludes(&fleet().targets, |t| t);
        assert_eq!(unmatched.len(), 1);
        assert!(
            unmatched[0]
                .to_string()
                .contains("--exclude `zzz/*` matches no target")
        );
        assert!(Selection::new(&["[".into()], &[], None).is_err());
    }

    #[test]
    fn partitions_parse_and_reject_nonsense() {
        assert_eq!("2/5".parse::<Partition>(), Ok(Partition { k: 2, n: 5 }));
        for bad in ["0/3", "4/3", "1/0", "x/3", "3", ""] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    /// A small deterministic generator, so the property runs the same
    /// cases every time.
    fn accounts(seed: u64, count: usize) -> Vec<String> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..count)
            .map(|_| format!("{:012}", rng.u64(0..1_000_000_000_000)))
            .collect()
    }

    #[test]
    fn shards_are_disjoint_cover_everything_and_are_stable() {
        let regions = crate::fleet::BEDROCK_REGIONS;
        for seed in 0..20u64 {
            let fleet_accounts = accounts(seed, 1 + (seed as usize * 7) % 40);
            for n in 1..=16u32 {
                let mut seen = std::collections::HashMap::new();
                for account in &fleet_accounts {
                    for region in regions {
                        let shard = Partition::shard_of(account, region, n);
                        assert!((1..=n).contains(&shard));
                        assert!(seen.insert((account.clone(), *region), shard).is_none());
                    }
                }
                // Adding an account moves no existing target between shards.
                let extra = accounts(seed + 1000, 1);
                for ((account, region), shard) in &seen {
                    assert_eq!(Partition::shard_of(account, region, n), *shard);
                }
                for region in regions {
                    assert!((1..=n).contains(&Partition::shard_of(&extra[0], region, n)));
                }
                if n > 1 && fleet_accounts.len() * regions.len() > 100 {
                    let used: std::collections::HashSet<_> = seen.values().collect();
                    assert_eq!(used.len(), n as usize, "every shard gets targets");
                }
            }
        }
    }
}
