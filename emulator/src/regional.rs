//! What differs between regions in real AWS: the flags a region leaves out of
//! GetModelInvocationLoggingConfiguration.
//!
//! In a region that does not offer a modality, AWS stores the flag a Put sent
//! but leaves it out of Get's answer (terraform-provider-aws issue #49569:
//! `videoDataDeliveryEnabled` is missing in ca-west-1, a perpetual diff for
//! Terraform there). [`OmittedFlags::aws_default`] is the table of such
//! regions that a public source reports; `--omit-flags REGION:FLAGS` replaces
//! it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The five flags, by the modality's short name and the API's member name.
const MODALITIES: [(&str, &str); 5] = [
    ("text", "textDataDeliveryEnabled"),
    ("image", "imageDataDeliveryEnabled"),
    ("embedding", "embeddingDataDeliveryEnabled"),
    ("video", "videoDataDeliveryEnabled"),
    ("audio", "audioDataDeliveryEnabled"),
];

/// Per region, the API members Get leaves out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OmittedFlags(BTreeMap<String, Vec<&'static str>>);

impl OmittedFlags {
    /// What public sources report of AWS: ca-west-1 does not report video
    /// (terraform-provider-aws #49569).
    pub fn aws_default() -> OmittedFlags {
        let mut table = OmittedFlags::default();
        table.0.insert("ca-west-1".into(), vec![MODALITIES[3].1]);
        table
    }

    /// Adds one `REGION:MODALITY[,MODALITY…]` rule.
    pub fn add(&mut self, rule: OmitFlagsRule) {
        let members = self.0.entry(rule.region).or_default();
        for member in rule.members {
            if !members.contains(&member) {
                members.push(member);
            }
        }
    }

    /// The API members Get leaves out in `region`.
    pub(crate) fn in_region(&self, region: &str) -> &[&'static str] {
        self.0.get(region).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for OmittedFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<String> = self
            .0
            .iter()
            .map(|(region, members)| {
                let names: Vec<&str> = members
                    .iter()
                    .filter_map(|m| MODALITIES.iter().find(|(_, api)| api == m))
                    .map(|(short, _)| *short)
                    .collect();
                format!("{region}:{}", names.join(","))
            })
            .collect();
        f.write_str(&rules.join(" "))
    }
}

/// One `--omit-flags` value: `REGION:video,audio`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OmitFlagsRule {
    region: String,
    members: Vec<&'static str>,
}

impl FromStr for OmitFlagsRule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (region, flags) = text
            .split_once(':')
            .ok_or_else(|| format!("`{text}` is not REGION:FLAGS, e.g. ca-west-1:video,audio"))?;
        if region.is_empty() || region.contains('/') {
            return Err(format!("`{region}` is not a region name"));
        }
        let members = flags
            .split(',')
            .map(|flag| {
                MODALITIES
                    .iter()
                    .find(|(short, _)| *short == flag)
                    .map(|(_, api)| *api)
                    .ok_or_else(|| {
                        format!("`{flag}` is not one of text, image, embedding, video, audio")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OmitFlagsRule {
            region: region.to_owned(),
            members,
        })
    }
}

/// The Get body of a stored configuration as `region` answers it: the
/// stored JSON without the members that region leaves out.
pub(crate) fn get_body_in_region(full: serde_json::Value, omitted: &[&str]) -> serde_json::Value {
    let mut full = full;
    if let Some(config) = full
        .get_mut("loggingConfig")
        .and_then(serde_json::Value::as_object_mut)
    {
        for member in omitted {
            config.remove(*member);
        }
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_and_leaves_members_out() {
        let mut table = OmittedFlags::default();
        table.add("eu-south-2:video,audio".parse().unwrap());
        assert_eq!(
            table.in_region("eu-south-2"),
            ["videoDataDeliveryEnabled", "audioDataDeliveryEnabled"]
        );
        assert!(table.in_region("us-east-1").is_empty());
        assert_eq!(table.to_string(), "eu-south-2:video,audio");
        assert!("eu-south-2".parse::<OmitFlagsRule>().is_err());
        assert!("eu-south-2:smell".parse::<OmitFlagsRule>().is_err());

        let body = serde_json::json!({"loggingConfig": {
            "textDataDeliveryEnabled": true, "videoDataDeliveryEnabled": false,
            "s3Config": {"bucketName": "b"}}});
        let answered = get_body_in_region(body, table.in_region("eu-south-2"));
        assert_eq!(
            answered,
            serde_json::json!({"loggingConfig": {
                "textDataDeliveryEnabled": true, "s3Config": {"bucketName": "b"}}})
        );
        assert_eq!(
            OmittedFlags::aws_default().in_region("ca-west-1"),
            ["videoDataDeliveryEnabled"]
        );
    }
}
