//! A profile as checked: its values as written, placeholders unexpanded,
//! each with where it is in the fleet file, and the one expansion for a
//! target that `validate` (for listed accounts) and discovery (for the
//! accounts it finds) both use.

use std::ops::Range;

use toml::Spanned;

use super::diagnostic::SourceFile;
use super::placeholder::{Placeholders, is_role_arn};
use super::raw::{RawBucketOptions, RawCloudWatch, RawLogGroupOptions, RawProfile, RawS3};
use super::{BucketOptions, LogGroupOptions, Managed};
use crate::logging::{CloudWatchConfig, LoggingConfig, S3Config};

/// One profile value as written, and where.
#[derive(Clone, Debug)]
pub struct Text {
    pub value: String,
    /// The value's bytes in the fleet file.
    pub span: Range<usize>,
    /// `file:line:col` of the value, for messages after validation.
    pub location: String,
}

impl Text {
    fn new(file: &SourceFile, value: &Spanned<String>) -> Text {
        let (line, col) = file.line_col(value.span().start);
        Text {
            value: value.get_ref().clone(),
            span: value.span(),
            location: format!("{}:{line}:{col}", file.name),
        }
    }
}

/// A profile, checked: its placeholders are known ones and its numbers are
/// values AWS accepts. What only a target can tell (a bucket name after
/// expansion) is checked by [`ProfileSpec::expand`].
#[derive(Clone, Debug)]
pub struct ProfileSpec {
    pub enabled: bool,
    /// text, image, embedding, video, audio.
    flags: [bool; 5],
    s3: Option<S3Spec>,
    cloudwatch: Option<CloudWatchSpec>,
}

#[derive(Clone, Debug)]
struct S3Spec {
    bucket_name: Text,
    key_prefix: Option<Text>,
    /// `bucket = { … }`: fleet manages the bucket.
    bucket: Option<Managing<BucketSpec>>,
}

#[derive(Clone, Debug)]
struct BucketSpec {
    expire_after_days: Option<u32>,
    kms_key_arn: Option<Text>,
}

#[derive(Clone, Debug)]
struct CloudWatchSpec {
    log_group_name: Text,
    role_arn: Text,
    large_data: Option<S3Spec>,
    log_group: Option<Managing<LogGroupSpec>>,
    /// `role = {}`: fleet manages the role.
    role: bool,
}

#[derive(Clone, Debug)]
struct LogGroupSpec {
    retention_in_days: Option<u32>,
    kms_key_arn: Option<Text>,
}

/// Options of a destination fleet manages, and where the table is.
#[derive(Clone, Debug)]
struct Managing<T> {
    options: T,
    span: Range<usize>,
}

impl ProfileSpec {
    /// The profile as the file declares it. Numbers out of range are left
    /// out (the validator reports them); a disabled profile has no
    /// destinations.
    pub(super) fn new(file: &SourceFile, profile: &RawProfile, enabled: bool) -> ProfileSpec {
        let flag = |f: Option<bool>| f.unwrap_or(true);
        let days =
            |d: &Option<Spanned<i64>>| d.as_ref().and_then(|d| u32::try_from(*d.get_ref()).ok());
        let text = |t: &Spanned<String>| Text::new(file, t);
        let s3 = |raw: &Spanned<RawS3>| {
            let raw = raw.get_ref();
            S3Spec {
                bucket_name: text(&raw.bucket_name),
                key_prefix: raw.key_prefix.as_ref().map(text),
                bucket: raw
                    .bucket
                    .as_ref()
                    .map(|b: &Spanned<RawBucketOptions>| Managing {
                        options: BucketSpec {
                            expire_after_days: days(&b.get_ref().expire_after_days),
                            kms_key_arn: b.get_ref().kms_key_arn.as_ref().map(text),
                        },
                        span: b.span(),
                    }),
            }
        };
        let cloudwatch = |cw: &RawCloudWatch| CloudWatchSpec {
            log_group_name: text(&cw.log_group_name),
            role_arn: text(&cw.role_arn),
            large_data: cw.large_data_delivery_s3_config.as_ref().map(s3),
            log_group: cw
                .log_group
                .as_ref()
                .map(|g: &Spanned<RawLogGroupOptions>| Managing {
                    options: LogGroupSpec {
                        retention_in_days: days(&g.get_ref().retention_in_days),
                        kms_key_arn: g.get_ref().kms_key_arn.as_ref().map(text),
                    },
                    span: g.span(),
                }),
            role: cw.role.is_some(),
        };
        ProfileSpec {
            enabled,
            flags: [
                flag(profile.text_data_delivery_enabled),
                flag(profile.image_data_delivery_enabled),
                flag(profile.embedding_data_delivery_enabled),
                flag(profile.video_data_delivery_enabled),
                flag(profile.audio_data_delivery_enabled),
            ],
            s3: profile.s3_config.as_ref().filter(|_| enabled).map(s3),
            cloudwatch: profile
                .cloudwatch_config
                .as_ref()
                .filter(|_| enabled)
                .map(|cw| cloudwatch(cw.get_ref())),
        }
    }

    /// Every value that may hold placeholders.
    pub(super) fn texts(&self) -> Vec<&Text> {
        let mut out = Vec::new();
        fn s3_texts<'t>(s3: &'t S3Spec, out: &mut Vec<&'t Text>) {
            out.push(&s3.bucket_name);
            out.extend(&s3.key_prefix);
            if let Some(key) = s3
                .bucket
                .as_ref()
                .and_then(|b| b.options.kms_key_arn.as_ref())
            {
                out.push(key);
            }
        }
        if let Some(bucket) = &self.s3 {
            s3_texts(bucket, &mut out);
        }
        if let Some(cw) = &self.cloudwatch {
            if let Some(large) = &cw.large_data {
                s3_texts(large, &mut out);
            }
            out.push(&cw.log_group_name);
            out.push(&cw.role_arn);
            if let Some(key) = cw
                .log_group
                .as_ref()
                .and_then(|g| g.options.kms_key_arn.as_ref())
            {
                out.push(key);
            }
        }
        out
    }

    /// Where the `bucket = { … }` of the S3 destination, the large-data
    /// bucket and the `log_group = { … }` tables are, if any.
    pub(super) fn managed_spans(&self) -> [Option<Range<usize>>; 3] {
        let bucket =
            |s3: Option<&S3Spec>| s3.and_then(|s3| s3.bucket.as_ref()).map(|b| b.span.clone());
        let cw = self.cloudwatch.as_ref();
        [
            bucket(self.s3.as_ref()),
            bucket(cw.and_then(|cw| cw.large_data.as_ref())),
            cw.and_then(|cw| cw.log_group.as_ref())
                .map(|g| g.span.clone()),
        ]
    }

    /// The configuration with every placeholder replaced by `vars`, not
    /// checked; `None` for a disabled profile.
    fn config(&self, vars: &Placeholders<'_>) -> Option<LoggingConfig> {
        let s3 = |s3: &S3Spec| {
            S3Config::new(
                vars.expand(&s3.bucket_name.value),
                s3.key_prefix.as_ref().map(|p| vars.expand(&p.value)),
            )
        };
        let [text, image, embedding, video, audio] = self.flags;
        self.enabled.then(|| LoggingConfig {
            text_data_delivery_enabled: Some(text),
            image_data_delivery_enabled: Some(image),
            embedding_data_delivery_enabled: Some(embedding),
            video_data_delivery_enabled: Some(video),
            audio_data_delivery_enabled: Some(audio),
            s3_config: self.s3.as_ref().map(s3),
            cloudwatch_config: self.cloudwatch.as_ref().map(|cw| CloudWatchConfig {
                log_group_name: vars.expand(&cw.log_group_name.value),
                role_arn: vars.expand(&cw.role_arn.value),
                large_data_delivery_s3_config: cw.large_data.as_ref().map(s3),
            }),
        })
    }

    /// The configuration as written, placeholders and all.
    pub fn unexpanded(&self) -> Option<LoggingConfig> {
        self.config(&Placeholders::LITERAL)
    }

    /// What the profile manages for one target, placeholders expanded.
    pub fn managed(&self, vars: &Placeholders<'_>) -> Managed {
        let bucket = |s3: &S3Spec| {
            s3.bucket.as_ref().map(|b| BucketOptions {
                expire_after_days: b.options.expire_after_days,
                kms_key_arn: b
                    .options
                    .kms_key_arn
                    .as_ref()
                    .map(|k| vars.expand(&k.value)),
            })
        };
        let cw = self.cloudwatch.as_ref();
        Managed {
            bucket: self.s3.as_ref().and_then(bucket),
            large_data_bucket: cw.and_then(|cw| cw.large_data.as_ref()).and_then(bucket),
            log_group: cw
                .and_then(|cw| cw.log_group.as_ref())
                .map(|g| LogGroupOptions {
                    retention_in_days: g.options.retention_in_days,
                    kms_key_arn: g
                        .options
                        .kms_key_arn
                        .as_ref()
                        .map(|k| vars.expand(&k.value)),
                }),
            role: cw.is_some_and(|cw| cw.role),
        }
    }

    /// The configuration and managed destinations for one target, checked
    /// as AWS would check them; `Ok(None)` for a disabled profile. Every
    /// value that fails is in the error, in the file's order.
    pub fn expand(
        &self,
        vars: &Placeholders<'_>,
    ) -> Result<Option<(LoggingConfig, Managed)>, Vec<InvalidValue>> {
        let Some(config) = self.config(vars) else {
            return Ok(None);
        };
        let mut checks: Vec<(&Text, &'static str, &str, Rule)> = Vec::new();
        if let (Some(spec), Some(live)) = (&self.s3, &config.s3_config) {
            spec.checks(live, &mut checks);
        }
        let mut foreign_role = None;
        if let (Some(spec), Some(live)) = (&self.cloudwatch, &config.cloudwatch_config) {
            checks.push((
                &spec.log_group_name,
                "log_group_name",
                &live.log_group_name,
                valid_log_group,
            ));
            checks.push((&spec.role_arn, "role_arn", &live.role_arn, valid_role_arn));
            if let (Some(spec), Some(live)) =
                (&spec.large_data, &live.large_data_delivery_s3_config)
            {
                spec.checks(live, &mut checks);
            }
            // A role fleet manages must be in the target's own account:
            // fleet creates it there.
            let account = live.role_arn.split(':').nth(4).unwrap_or_default();
            if spec.role && account != vars.account_id {
                foreign_role = Some(InvalidValue {
                    span: spec.role_arn.span.clone(),
                    location: spec.role_arn.location.clone(),
                    problem: ValueProblem::ForeignRole {
                        expanded: live.role_arn.clone(),
                        account: account.to_owned(),
                        own: vars.account_id.to_owned(),
                    },
                });
            }
        }
        let invalid: Vec<InvalidValue> = checks
            .into_iter()
            .filter_map(|(text, field, expanded, rule)| {
                rule(expanded).err().map(|why| InvalidValue {
                    span: text.span.clone(),
                    location: text.location.clone(),
                    problem: ValueProblem::Invalid {
                        field,
                        expanded: expanded.to_owned(),
                        why,
                    },
                })
            })
            .chain(foreign_role)
            .collect();
        if invalid.is_empty() {
            Ok(Some((config, self.managed(vars))))
        } else {
            Err(invalid)
        }
    }
}

/// What AWS accepts for one kind of value: `Err` says why not.
type Rule = fn(&str) -> Result<(), String>;

impl S3Spec {
    fn checks<'a>(
        &'a self,
        live: &'a S3Config,
        checks: &mut Vec<(&'a Text, &'static str, &'a str, Rule)>,
    ) {
        checks.push((
            &self.bucket_name,
            "bucket_name",
            &live.bucket_name,
            valid_bucket_name,
        ));
        if let (Some(text), Some(prefix)) = (&self.key_prefix, &live.key_prefix) {
            checks.push((text, "key_prefix", prefix, valid_key_prefix));
        }
    }
}

/// A profile value that is not valid for one target once expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidValue {
    pub span: Range<usize>,
    /// `file:line:col` of the value as written.
    pub location: String,
    pub problem: ValueProblem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueProblem {
    /// Not a value AWS accepts for `field`.
    Invalid {
        field: &'static str,
        expanded: String,
        why: String,
    },
    /// `role = {}` with a role ARN in another account than the target's.
    ForeignRole {
        expanded: String,
        account: String,
        own: String,
    },
}

impl InvalidValue {
    /// What is wrong, for `target` (`for prod/us-east-1`, or `in profile
    /// `p` (expanded for an example target, …)`).
    pub fn message(&self, target: &str) -> String {
        match &self.problem {
            ValueProblem::Invalid {
                field,
                expanded,
                why,
            } => format!("{field} `{expanded}` {target} {why}"),
            ValueProblem::ForeignRole {
                expanded,
                account,
                own,
            } => format!(
                "role_arn `{expanded}` {target} names account {account}, but `role = {{}}` makes fleet create the role in the target's own account {own}"
            ),
        }
    }

    pub fn label(&self) -> String {
        match &self.problem {
            ValueProblem::Invalid { field, .. } => format!("invalid {field} after expansion"),
            ValueProblem::ForeignRole { .. } => {
                "a managed role must be in the target's account".into()
            }
        }
    }

    pub fn help(&self) -> Option<&'static str> {
        match &self.problem {
            ValueProblem::Invalid { .. } => None,
            ValueProblem::ForeignRole { .. } => Some(
                "write the account as {account_id}, e.g. arn:{partition}:iam::{account_id}:role/NAME, or remove `role = {}` and manage the role yourself",
            ),
        }
    }
}

/// A profile that cannot be expanded for a target discovery found: every
/// value that fails, each at `file:line:col`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.values.iter().map(|v| format!("{}: {}", v.location, v.message(&self.target))).collect::<Vec<_>>().join("; "))]
pub struct ExpandError {
    /// `for NAME/REGION`.
    pub target: String,
    pub values: Vec<InvalidValue>,
}

fn valid_role_arn(arn: &str) -> Result<(), String> {
    if is_role_arn(arn) {
        Ok(())
    } else {
        Err("is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)".into())
    }
}

fn valid_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "is {} characters long; S3 bucket names have 3 to 63",
            name.len()
        ));
    }
    let allowed = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let ends_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !allowed || !ends_ok(name.bytes().next()) || !ends_ok(name.bytes().last()) {
        return Err("is not a valid S3 bucket name (lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)".into());
    }
    Ok(())
}

fn valid_key_prefix(prefix: &str) -> Result<(), String> {
    if prefix.len() > 1024 {
        return Err(format!(
            "is {} characters long; key prefixes have at most 1024",
            prefix.len()
        ));
    }
    Ok(())
}

fn valid_log_group(name: &str) -> Result<(), String> {
    if !(1..=512).contains(&name.len()) {
        return Err(format!(
            "is {} characters long; log group names have 1 to 512",
            name.len()
        ));
    }
    let allowed = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    if !allowed {
        return Err("has characters a log group name cannot have (letters, digits, '.', '_', '-', '/', '#')".into());
    }
    Ok(())
}
