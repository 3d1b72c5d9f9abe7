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
