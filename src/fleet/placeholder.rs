//! `{account_id}`, `{account_name}`, `{region}` and `{partition}` in
//! profile values.

/// The values placeholders expand to for one target.
pub struct Placeholders<'a> {
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub region: &'a str,
    pub partition: &'a str,
}

use crate::logging::{CloudWatchConfig, LoggingConfig, S3Config};

impl Placeholders<'static> {
    /// The placeholders themselves: "expanding" with these leaves a
    /// template as written.
    pub const LITERAL: Placeholders<'static> = Placeholders {
        account_id: "{account_id}",
        account_name: "{account_name}",
        region: "{region}",
        partition: "{partition}",
    };
}

/// One target's own values, to turn back into placeholders.
#[derive(Clone, Copy, Debug)]
pub struct OwnValues<'a> {
    pub account_id: &'a str,
    /// `None` for an account without a name (its id names its targets).
    pub account_name: Option<&'a str>,
    /// `None` for a value that is not regional (an IAM role).
    pub region: Option<&'a str>,
}

impl OwnValues<'_> {
    /// `text` with the target's account id, region and account name turned
    /// back into `{account_id}`, `{region}` and `{account_name}`: whole words
    /// only (an ASCII letter or digit on either side is not a boundary), the
    /// longest value first, so a name inside a region (or the reverse) never
    /// splits the longer word. `import` and the plan's grouping of identical
    /// changes both use it, so they agree on what a template is.
    pub fn templated(&self, text: &str) -> String {
        let mut needles: Vec<(&str, &str)> = vec![(self.account_id, "{account_id}")];
        if let Some(region) = self.region {
            needles.push((region, "{region}"));
        }
        if let Some(name) = self.account_name
            && name != self.account_id
        {
            needles.push((name, "{account_name}"));
        }
        needles.sort_by_key(|(needle, _)| std::cmp::Reverse(needle.len()));
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        'scan: while at < text.len() {
            if boundary(text[..at].chars().next_back()) {
                for (needle, placeholder) in &needles {
                    if !needle.is_empty()
                        && text[at..].starts_with(needle)
                        && boundary(text[at + needle.len()..].chars().next())
                    {
                        out.push_str(placeholder);
                        at += needle.len();
                        continue 'scan;
                    }
                }
            }
            let c = text[at..].chars().next().expect("at is a char boundary");
            out.push(c);
            at += c.len_utf8();
        }
        out
    }
}

const NAMES: [&str; 4] = ["account_id", "account_name", "region", "partition"];

/// Finds the first `{…}` that is not a known placeholder.
pub fn check(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(after.to_owned());
        };
        let name = &after[..close];
        if !NAMES.contains(&name) {
            return Err(name.to_owned());
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

impl Placeholders<'_> {
    /// Replaces every known placeholder. Unknown ones were rejected when the
    /// profile was checked.
    pub fn expand(&self, template: &str) -> String {
        if !template.contains('{') {
            return template.to_owned();
        }
        template
            .replace("{account_id}", self.account_id)
            .replace("{account_name}", self.account_name)
            .replace("{region}", self.region)
            .replace("{partition}", self.partition)
    }
}

impl Placeholders<'_> {
    /// A profile's configuration with every placeholder expanded.
    pub fn expand_config(&self, config: &LoggingConfig) -> LoggingConfig {
        let s3 = |s3: &S3Config| {
            S3Config::new(
                self.expand(&s3.bucket_name),
                s3.key_prefix.as_deref().map(|p| self.expand(p)),
            )
        };
        LoggingConfig {
            s3_config: config.s3_config.as_ref().map(s3),
            cloudwatch_config: config
                .cloudwatch_config
                .as_ref()
                .map(|cw| CloudWatchConfig {
                    log_group_name: self.expand(&cw.log_group_name),
                    role_arn: self.expand(&cw.role_arn),
                    large_data_delivery_s3_config: cw
                        .large_data_delivery_s3_config
                        .as_ref()
                        .map(s3),
                }),
            ..config.clone()
        }
    }
}

/// Whether `arn` has the form AWS accepts for a CloudWatch logging role:
/// `arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+`.
pub fn is_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws") else {
        return false;
    };
    let rest = match rest.strip_prefix('-') {
        Some(suffix) => match suffix.find(':') {
            Some(0) | None => return false,
            Some(colon) => &suffix[colon..],
        },
        None => rest,
    };
    let Some(rest) = rest.strip_prefix(":iam::") else {
        return false;
    };
    let (account, rest) = rest.split_at(rest.find(':').unwrap_or(rest.len()));
    let account_ok =
        account.is_empty() || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    account_ok
        && rest
            .strip_prefix(":role/")
            .is_some_and(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_values_are_turned_back_into_placeholders_as_whole_words() {
        let own = OwnValues {
            account_id: "111111111111",
            account_name: Some("prod"),
            region: Some("us-east-1"),
        };
        assert_eq!(
            own.templated("logs-prod-1 production"),
            "logs-{account_name}-1 production"
        );
        assert_eq!(
            own.templated("/aws/bedrock/prod"),
            "/aws/bedrock/{account_name}"
        );
        assert_eq!(
            own.templated("arn:aws:iam::111111111111:role/x 1111111111112"),
            "arn:aws:iam::{account_id}:role/x 1111111111112"
        );
        assert_eq!(own.templated("us-east-1x us-east-1"), "us-east-1x {region}");
        // A name that is also the id is the id.
        let unnamed = OwnValues {
            account_id: "111111111111",
            account_name: Some("111111111111"),
            region: None,
        };
        assert_eq!(unnamed.templated("a-111111111111"), "a-{account_id}");
    }

    #[test]
    fn role_arn_pattern() {
        assert!(is_role_arn("arn:aws:iam::111111111111:role/x"));
        assert!(is_role_arn("arn:aws-us-gov:iam::111111111111:role/path/x"));
        assert!(is_role_arn("arn:aws:iam:::role/x"));
        assert!(!is_role_arn("arn:aws:iam::11111111111:role/x"));
        assert!(!is_role_arn("arn:aws:iam::111111111111:user/x"));
        assert!(!is_role_arn("arn:aws:iam::111111111111:role/"));
        assert!(!is_role_arn("arn:aws-:iam::111111111111:role/x"));
        assert!(!is_role_arn("bedrock-role"));
    }

    #[test]
    fn placeholders_expand_and_unknown_ones_are_found() {
        let vars = Placeholders {
            account_id: "111111111111",
            account_name: "prod",
            region: "eu-west-1",
            partition: "aws",
        };
        assert_eq!(
            vars.expand("logs-{account_id}-{region}-{account_name}"),
            "logs-111111111111-eu-west-1-prod"
        );
        assert_eq!(check("a-{acount_id}"), Err("acount_id".into()));
        assert_eq!(check("a-{region}"), Ok(()));
    }
}
