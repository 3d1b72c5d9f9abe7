//! AWS regions: their form, their partition, and where Bedrock runs.

use std::fmt;

/// Regions where Amazon Bedrock is offered, as of late 2026. AWS adds
/// regions, so a region missing here is a warning, never an error; `fleet
/// audit --all-regions` scans exactly this list.
pub const BEDROCK_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "ca-central-1",
    "ca-west-1",
    "sa-east-1",
    "mx-central-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "af-south-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
];

/// Regions launched since March 2019: disabled in an account until someone
/// enables them (AWS docs, "Enable or disable AWS Regions in your account").
/// Every other commercial region is enabled in every account and cannot be
/// disabled.
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// A region name of the AWS form (`us-east-1`, `us-gov-west-1`, `cn-north-1`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    /// Accepts a name of the AWS form: a two-letter area, one or more
    /// lowercase words, and a number, separated by dashes.
    pub fn parse(name: &str) -> Option<Region> {
        let parts: Vec<&str> = name.split('-').collect();
        let well_formed = parts.len() >= 3
            && parts[0].len() == 2
            && parts[0].bytes().all(|b| b.is_ascii_lowercase())
            && parts[1..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty();
        well_formed.then(|| Region(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_known_bedrock_region(&self) -> bool {
        BEDROCK_REGIONS.contains(&self.0.as_str())
    }

    /// True for a region an account must enable before using it.
    pub fn is_opt_in(&self) -> bool {
        OPT_IN_REGIONS.contains(&self.0.as_str())
    }

    /// The partition the region belongs to, as it appears in ARNs.
    pub fn partition(&self) -> &'static str {
        if self.0.starts_with("cn-") {
            "aws-cn"
        } else if self.0.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_aws_forms_and_rejects_others() {
        for ok in ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-7"] {
            assert!(Region::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "us-east",
            "US-east-1",
            "useast1",
            "us--1",
            "u-east-1",
            "us-east-1a",
            "",
        ] {
            assert!(Region::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn partitions() {
        assert_eq!(Region::parse("cn-north-1").unwrap().partition(), "aws-cn");
        assert_eq!(
            Region::parse("us-gov-east-1").unwrap().partition(),
            "aws-us-gov"
        );
        assert_eq!(Region::parse("eu-west-1").unwrap().partition(), "aws");
    }
}
