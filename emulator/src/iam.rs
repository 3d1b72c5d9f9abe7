//! IAM roles and their policies (awsQuery, `POST /` signed for `iam`), global
//! per account as in AWS: the calls fleet makes to check and to keep the
//! role Bedrock assumes to write to CloudWatch Logs.
//!
//! Documents come back URL-encoded, as IAM returns them, and are kept as
//! they were sent. Names of roles and policies are unique without regard to
//! case, as IAM's are. The quotas a growing trust policy meets are
//! enforced: 2,048 characters for a trust policy and 10,240 for a role's
//! inline policies together, whitespace not counted. Only customer managed
//! policies exist (CreatePolicy); AWS managed policies are not emulated.

use std::collections::{BTreeMap, HashMap};
use std::sync::{PoisonError, RwLock};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::faults::Operation;
use super::identity::{Caller, parse_role_arn, partition_of, role_id};
use super::policy;
use super::s3::bedrock_source_arn;
use super::sts::Form;
use super::wire::{IAM_NAMESPACE, Protocol, Reply};
use super::xml::escape;

/// IAM's default quota on a trust policy (ACLSizePerRole), in characters
/// other than whitespace.
const MAX_TRUST_POLICY: usize = 2048;
/// IAM's quota on all the inline policies of a role together.
const MAX_INLINE_POLICIES: usize = 10_240;
/// The quota on a customer managed policy.
const MAX_MANAGED_POLICY: usize = 6144;

/// IAM encodes documents as RFC 3986 does: everything but the unreserved characters.
const DOCUMENT_ENCODING: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Every account's roles and customer managed policies.
#[derive(Default)]
pub(crate) struct Iam {
    accounts: RwLock<HashMap<String, AccountIam>>,
}

#[derive(Default)]
struct AccountIam {
    /// By lowercased name: IAM names are unique regardless of case.
    roles: BTreeMap<String, Role>,
    /// By lowercased name.
    policies: BTreeMap<String, ManagedPolicy>,
}

struct Role {
    name: String,
    path: String,
    created: String,
    description: Option<String>,
    max_session_duration: u32,
    trust_policy: String,
    /// By name, as put.
    inline_policies: BTreeMap<String, String>,
    /// Managed policy ARNs, in the order attached.
    attached: Vec<String>,
}

struct ManagedPolicy {
    name: String,
    path: String,
    created: String,
    document: String,
    attachments: u32,
}

/// Reads which IAM call a form is.
pub(crate) fn decode(form: &Form) -> Result<Operation, (u16, &'static str, String)> {
    use Operation::*;
    Ok(match form.get("Action") {
        Some("CreateRole") => CreateRole,
        Some("GetRole") => GetRole,
        Some("DeleteRole") => DeleteRole,
        Some("UpdateAssumeRolePolicy") => UpdateAssumeRolePolicy,
        Some("PutRolePolicy") => PutRolePolicy,
        Some("GetRolePolicy") => GetRolePolicy,
        Some("DeleteRolePolicy") => DeleteRolePolicy,
        Some("ListRolePolicies") => ListRolePolicies,
        Some("ListAttachedRolePolicies") => ListAttachedRolePolicies,
        Some("AttachRolePolicy") => AttachRolePolicy,
        Some("DetachRolePolicy") => DetachRolePolicy,
        Some("CreatePolicy") => CreatePolicy,
        Some("GetPolicy") => GetPolicy,
        Some("GetPolicyVersion") => GetPolicyVersion,
        other => {
            return Err((
                400,
                "InvalidAction",
                format!(
                    "Could not find operation {} for version 2010-05-08",
                    other.unwrap_or("(no Action)")
                ),
            ));
        }
    })
}

#[derive(Debug)]
struct Failure {
    status: u16,
    code: &'static str,
    message: String,
}

fn fail(status: u16, code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        status,
        code,
        message: message.into(),
    }
}

fn no_such_role(name: &str) -> Failure {
    fail(
        404,
        "NoSuchEntity",
        format!("The role with name {name} cannot be found."),
    )
}

fn no_such_policy(arn: &str) -> Failure {
    fail(
        404,
        "NoSuchEntity",
        format!("Policy {arn} does not exist or is not attachable."),
    )
}

/// A required parameter, or IAM's validation error naming it.
fn required<'a>(form: &'a Form, name: &str, member: &str) -> Result<&'a str, Failure> {
    form.get(name).ok_or_else(|| {
        fail(
            400,
            "ValidationError",
            format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"),
        )
    })
}

/// `[\w+=,.@-]+` within `max` characters, the pattern of IAM names.
fn name(form: &Form, parameter: &str, member: &str, max: usize) -> Result<String, Failure> {
    let value = required(form, parameter, member)?;
    let valid = (1..=max).contains(&value.chars().count())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !valid {
        return Err(fail(
            400,
            "ValidationError",
            format!(
                "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max} and satisfy regular expression pattern: [\\w+=,.@-]+"
            ),
        ));
    }
    Ok(value.to_owned())
}

fn path(form: &Form) -> Result<String, Failure> {
    let path = form.get("Path").unwrap_or("/");
    if !(path.starts_with('/') && path.ends_with('/')) || path.len() > 512 {
        return Err(fail(
            400,
            "ValidationError",
            format!(
                "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters. ({path})"
            ),
        ));
    }
    Ok(path.to_owned())
}

/// Characters a quota counts: IAM does not count whitespace.
fn quota_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DocumentKind {
    Trust,
    Identity,
}

/// IAM's checks of a policy document: JSON with statements, a trust policy
/// without resources, an identity policy without principals.
fn check_document(document: &str, kind: DocumentKind) -> Result<(), Failure> {
    let malformed = |message: &str| fail(400, "MalformedPolicyDocument", message);
    let parsed: Value = serde_json::from_str(document)
        .map_err(|_| malformed("This policy contains invalid Json"))?;
    let statements = match parsed.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => return Err(malformed("Syntax errors in policy.")),
    };
    for statement in &statements {
        if !matches!(
            statement.get("Effect").and_then(Value::as_str),
            Some("Allow" | "Deny")
        ) {
            return Err(malformed("Syntax errors in policy."));
        }
        if statement.get("Action").is_none() && statement.get("NotAction").is_none() {
            return Err(malformed("Policy statement must contain actions."));
        }
        match kind {
            DocumentKind::Trust => {
                if statement.get("Resource").is_some() {
                    return Err(malformed("Has prohibited field Resource"));
                }
                if statement.get("Principal").is_none() && statement.get("NotPrincipal").is_none() {
                    return Err(malformed("Syntax errors in policy."));
                }
            }
            DocumentKind::Identity => {
                if statement.get("Principal").is_some() {
                    return Err(malformed("Policy document should not specify a principal."));
                }
                if statement.get("Resource").is_none() && statement.get("NotResource").is_none() {
                    return Err(malformed("Policy statement must contain resources."));
                }
            }
        }
    }
    Ok(())
}

fn trust_document(form: &Form, parameter: &str, member: &str) -> Result<String, Failure> {
    let document = required(form, parameter, member)?;
    check_document(document, DocumentKind::Trust)?;
    if quota_size(document) > MAX_TRUST_POLICY {
        return Err(fail(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY}"),
        ));
    }
    Ok(document.to_owned())
}

fn encode(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ENCODING).to_string()
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn policy_id(account: &str, name: &str) -> String {
    // The same stable hash as role ids, with the prefix of policy ids.
    format!("ANPA{}", &role_id(account, name)[4..])
}

fn response(action: &str, result: Option<&str>, request_id: &str) -> String {
    let result = result
        .map(|inner| format!("<{action}Result>{inner}</{action}Result>"))
        .unwrap_or_default();
    format!(
        "<{action}Response xmlns=\"{IAM_NAMESPACE}\">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// `MaxItems` and `Marker` over `items`: the page and the next marker.
fn page<T>(form: &Form, items: Vec<T>) -> Result<(Vec<T>, Option<String>), Failure> {
    let invalid = || fail(400, "ValidationError", "Invalid MaxItems or Marker");
    let max = match form.get("MaxItems") {
        None => 100,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(invalid)?,
    };
    let start = match form.get("Marker") {
        None => 0,
        Some(text) => text.parse::<usize>().map_err(|_| invalid())?,
    };
    let total = items.len();
    let end = (start + max).min(total);
    let page = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    Ok((page, (end < total).then(|| end.to_string())))
}

fn page_xml(marker: Option<String>) -> String {
    match marker {
        Some(marker) => format!("<IsTruncated>true</IsTruncated><Marker>{marker}</Marker>"),
        None => "<IsTruncated>false</IsTruncated>".to_owned(),
    }
}

impl Role {
    fn arn(&self, partition: &str, account: &str) -> String {
        format!(
            "arn:{partition}:iam::{account}:role{}{}",
            self.path, self.name
        )
    }

    fn to_xml(&self, partition: &str, account: &str) -> String {
        let description = self
            .description
            .as_deref()
            .map(|text| format!("<Description>{}</Description>", escape(text)))
            .unwrap_or_default();
        format!(
            "<Role><Path>{}</Path><RoleName>{}</RoleName><RoleId>{}</RoleId><Arn>{}</Arn><CreateDate>{}</CreateDate><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument>{description}<MaxSessionDuration>{}</MaxSessionDuration><RoleLastUsed/></Role>",
            escape(&self.path),
            escape(&self.name),
            role_id(account, &self.name),
            escape(&self.arn(partition, account)),
            self.created,
            encode(&self.trust_policy),
            self.max_session_duration,
        )
    }
}

impl ManagedPolicy {
    fn arn(&self, partition: &str, account: &str) -> String {
        format!(
            "arn:{partition}:iam::{account}:policy{}{}",
            self.path, self.name
        )
    }

    fn to_xml(&self, partition: &str, account: &str) -> String {
        format!(
            "<Policy><PolicyName>{}</PolicyName><PolicyId>{}</PolicyId><Arn>{}</Arn><Path>{}</Path><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>{}</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable><CreateDate>{}</CreateDate><UpdateDate>{}</UpdateDate></Policy>",
            escape(&self.name),
            policy_id(account, &self.name),
            escape(&self.arn(partition, account)),
            escape(&self.path),
            self.attachments,
            self.created,
            self.created,
        )
    }
}

impl AccountIam {
    fn role_mut(&mut self, name: &str) -> Result<&mut Role, Failure> {
        self.roles
            .get_mut(&name.to_lowercase())
            .ok_or_else(|| no_such_role(name))
    }

    /// The customer managed policy an ARN names in this account.
    fn policy_key(&self, arn: &str, partition: &str, account: &str) -> Option<String> {
        self.policies
            .iter()
            .find(|(_, policy)| policy.arn(partition, account) == arn)
            .map(|(key, _)| key.clone())
    }
}

impl Iam {
    pub(crate) fn handle(
        &self,
        caller: &Caller,
        operation: Operation,
        form: &Form,
        request_id: &str,
    ) -> Reply {
        match self.answer(caller, operation, form, request_id) {
            Ok(xml) => Reply::xml(200, xml),
            Err(failure) => Protocol::Query(IAM_NAMESPACE).error(
                failure.status,
                failure.code,
                &failure.message,
                request_id,
            ),
        }
        .header("x-amzn-requestid", request_id)
    }

    fn answer(
        &self,
        caller: &Caller,
        operation: Operation,
        form: &Form,
        request_id: &str,
    ) -> Result<String, Failure> {
        let account = caller.account.as_str();
        let partition = caller.partition();
        let mut accounts = self
            .accounts
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let iam = accounts.entry(account.to_owned()).or_default();
        let action = operation_action(operation);
        let done = |result: Option<&str>| Ok(response(action, result, request_id));
        use Operation::*;
        match operation {
            CreateRole => {
                let role_name = name(form, "RoleName", "roleName", 64)?;
                let trust_policy =
                    trust_document(form, "AssumeRolePolicyDocument", "assumeRolePolicyDocument")?;
                let path = path(form)?;
                let max_session_duration = match form.get("MaxSessionDuration") {
                    None => 3600,
                    Some(text) => text
                        .parse()
                        .ok()
                        .filter(|seconds| (3600..=43200).contains(seconds))
                        .ok_or_else(|| {
                            fail(400, "ValidationError", format!("1 validation error detected: Value '{text}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200"))
                        })?,
                };
                let key = role_name.to_lowercase();
                if iam.roles.contains_key(&key) {
                    return Err(fail(
                        409,
                        "EntityAlreadyExists",
                        format!("Role with name {role_name} already exists."),
                    ));
                }
                let role = Role {
                    name: role_name,
                    path,
                    created: now(),
                    description: form.get("Description").map(str::to_owned),
                    max_session_duration,
                    trust_policy,
                    inline_policies: BTreeMap::new(),
                    attached: Vec::new(),
                };
                let xml = role.to_xml(partition, account);
                iam.roles.insert(key, role);
                done(Some(&xml))
            }
            GetRole => {
                let role_name = required(form, "RoleName", "roleName")?;
                let role = iam.role_mut(role_name)?;
                done(Some(&role.to_xml(partition, account)))
            }
            DeleteRole => {
                let role_name = required(form, "RoleName", "roleName")?;
                let role = iam.role_mut(role_name)?;
                if !role.inline_policies.is_empty() {
                    return Err(fail(
                        409,
                        "DeleteConflict",
                        "Cannot delete entity, must delete policies first.",
                    ));
                }
                if !role.attached.is_empty() {
                    return Err(fail(
                        409,
                        "DeleteConflict",
                        "Cannot delete entity, must detach all policies first.",
                    ));
                }
                iam.roles.remove(&role_name.to_lowercase());
                done(None)
            }
            UpdateAssumeRolePolicy => {
                let role_name = required(form, "RoleName", "roleName")?;
                let document = trust_document(form, "PolicyDocument", "policyDocument")?;
                iam.role_mut(role_name)?.trust_policy = document;
                done(None)
            }
            PutRolePolicy => {
                let role_name = required(form, "RoleName", "roleName")?;
                let policy_name = name(form, "PolicyName", "policyName", 128)?;
                let document = required(form, "PolicyDocument", "policyDocument")?;
                check_document(document, DocumentKind::Identity)?;
                let role = iam.role_mut(role_name)?;
                let others: usize = role
                    .inline_policies
                    .iter()
                    .filter(|(existing, _)| !existing.eq_ignore_ascii_case(&policy_name))
                    .map(|(_, document)| quota_size(document))
                    .sum();
                if others + quota_size(document) > MAX_INLINE_POLICIES {
                    return Err(fail(
                        409,
                        "LimitExceeded",
                        format!(
                            "Maximum policy size of {MAX_INLINE_POLICIES} bytes exceeded for role {}",
                            role.name
                        ),
                    ));
                }
                // Putting a policy of an existing name (in any case) replaces it.
                role.inline_policies
                    .retain(|existing, _| !existing.eq_ignore_ascii_case(&policy_name));
                role.inline_policies
                    .insert(policy_name, document.to_owned());
                done(None)
            }
            GetRolePolicy => {
                let role_name = required(form, "RoleName", "roleName")?;
                let policy_name = required(form, "PolicyName", "policyName")?;
                let role = iam.role_mut(role_name)?;
                let (stored_name, document) = role
                    .inline_policies
                    .iter()
                    .find(|(existing, _)| existing.eq_ignore_ascii_case(policy_name))
                    .ok_or_else(|| {
                        fail(
                            404,
                            "NoSuchEntity",
                            format!("The role policy with name {policy_name} cannot be found."),
                        )
                    })?;
                done(Some(&format!(
                    "<RoleName>{}</RoleName><PolicyName>{}</PolicyName><PolicyDocument>{}</PolicyDocument>",
                    escape(&role.name),
                    escape(stored_name),
                    encode(document)
                )))
            }
            DeleteRolePolicy => {
                let role_name = required(form, "RoleName", "roleName")?;
                let policy_name = required(form, "PolicyName", "policyName")?;
                let role = iam.role_mut(role_name)?;
                let before = role.inline_policies.len();
                role.inline_policies
                    .retain(|existing, _| !existing.eq_ignore_ascii_case(policy_name));
                if role.inline_policies.len() == before {
                    return Err(fail(
                        404,
                        "NoSuchEntity",
                        format!("The role policy with name {policy_name} cannot be found."),
                    ));
                }
                done(None)
            }
            ListRolePolicies => {
                let role_name = required(form, "RoleName", "roleName")?;
                let role = iam.role_mut(role_name)?;
                let names: Vec<String> = role.inline_policies.keys().cloned().collect();
                let (names, marker) = page(form, names)?;
                let members: String = names
                    .iter()
                    .map(|name| format!("<member>{}</member>", escape(name)))
                    .collect();
                done(Some(&format!(
                    "<PolicyNames>{members}</PolicyNames>{}",
                    page_xml(marker)
                )))
            }
            ListAttachedRolePolicies => {
                let role_name = required(form, "RoleName", "roleName")?;
                let role = iam.role_mut(role_name)?;
                let attached = role.attached.clone();
                let (attached, marker) = page(form, attached)?;
                let members: String = attached
                    .iter()
                    .map(|arn| {
                        let name = arn.rsplit('/').next().unwrap_or(arn);
                        format!(
                            "<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                            escape(name),
                            escape(arn)
                        )
                    })
                    .collect();
                done(Some(&format!(
                    "<AttachedPolicies>{members}</AttachedPolicies>{}",
                    page_xml(marker)
                )))
            }
            AttachRolePolicy | DetachRolePolicy => {
                let role_name = required(form, "RoleName", "roleName")?;
                let arn = required(form, "PolicyArn", "policyArn")?;
                let key = iam
                    .policy_key(arn, partition, account)
                    .ok_or_else(|| no_such_policy(arn))?;
                let role = iam.role_mut(role_name)?;
                let attached = role.attached.iter().any(|existing| existing == arn);
                let change: i32 = match (operation, attached) {
                    (AttachRolePolicy, false) => {
                        role.attached.push(arn.to_owned());
                        1
                    }
                    (AttachRolePolicy, true) => 0,
                    (_, true) => {
                        role.attached.retain(|existing| existing != arn);
                        -1
                    }
                    (_, false) => {
                        return Err(fail(
                            404,
                            "NoSuchEntity",
                            format!("Policy {arn} was not found."),
                        ));
                    }
                };
                if let Some(policy) = iam.policies.get_mut(&key) {
                    policy.attachments = policy.attachments.saturating_add_signed(change);
                }
                done(None)
            }
            CreatePolicy => {
                let policy_name = name(form, "PolicyName", "policyName", 128)?;
                let document = required(form, "PolicyDocument", "policyDocument")?;
                check_document(document, DocumentKind::Identity)?;
                if quota_size(document) > MAX_MANAGED_POLICY {
                    return Err(fail(
                        409,
                        "LimitExceeded",
                        format!("Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY}"),
                    ));
                }
                let path = path(form)?;
                let key = policy_name.to_lowercase();
                if iam.policies.contains_key(&key) {
                    return Err(fail(
                        409,
                        "EntityAlreadyExists",
                        format!(
                            "A policy called {policy_name} already exists. Duplicate names are not allowed."
                        ),
                    ));
                }
                let policy = ManagedPolicy {
                    name: policy_name,
                    path,
                    created: now(),
                    document: document.to_owned(),
                    attachments: 0,
                };
                let xml = policy.to_xml(partition, account);
                iam.policies.insert(key, policy);
                done(Some(&xml))
            }
            GetPolicy => {
                let arn = required(form, "PolicyArn", "policyArn")?;
                let key = iam
                    .policy_key(arn, partition, account)
                    .ok_or_else(|| no_such_policy(arn))?;
                done(Some(&iam.policies[&key].to_xml(partition, account)))
            }
            GetPolicyVersion => {
                let arn = required(form, "PolicyArn", "policyArn")?;
                let version = required(form, "VersionId", "versionId")?;
                let key = iam
                    .policy_key(arn, partition, account)
                    .ok_or_else(|| no_such_policy(arn))?;
                if version != "v1" {
                    return Err(fail(
                        404,
                        "NoSuchEntity",
                        format!(
                            "Policy {arn} version {version} does not exist or is not attachable."
                        ),
                    ));
                }
                let policy = &iam.policies[&key];
                done(Some(&format!(
                    "<PolicyVersion><Document>{}</Document><VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>{}</CreateDate></PolicyVersion>",
                    encode(&policy.document),
                    policy.created
                )))
            }
            other => unreachable!("{} is not an IAM call", other.name()),
        }
    }

    /// Whether Bedrock, logging for `account` in `region`, can use `role_arn`
    /// to write to `log_group`: the role is the account's, trusts the
    /// service principal, and its policies allow creating a stream and
    /// putting events in that group.
    pub(crate) fn bedrock_can_deliver(
        &self,
        account: &str,
        region: &str,
        role_arn: &str,
        log_group: &str,
    ) -> bool {
        let Some(arn) = parse_role_arn(role_arn, true) else {
            return false;
        };
        if arn.account != account {
            return false;
        }
        let accounts = self.accounts.read().unwrap_or_else(PoisonError::into_inner);
        let Some(iam) = accounts.get(account) else {
            return false;
        };
        let Some(role) = iam.roles.get(&arn.role_name.to_lowercase()) else {
            return false;
        };
        if role.arn(arn.partition, account) != role_arn {
            return false;
        }
        let partition = partition_of(region);
        let source_arn = bedrock_source_arn(partition, region, account);
        let trust = policy::Request {
            service: Some("bedrock.amazonaws.com"),
            action: "sts:AssumeRole",
            resource: None,
            source_account: account,
            source_arn: &source_arn,
        };
        if !policy::allows(&role.trust_policy, &trust) {
            return false;
        }
        let stream = format!(
            "arn:{partition}:logs:{region}:{account}:log-group:{log_group}:log-stream:aws/bedrock/modelinvocations"
        );
        let documents: Vec<&str> = role
            .inline_policies
            .values()
            .map(String::as_str)
            .chain(role.attached.iter().filter_map(|attached| {
                iam.policies
                    .values()
                    .find(|policy| &policy.arn(arn.partition, account) == attached)
                    .map(|policy| policy.document.as_str())
            }))
            .collect();
        ["logs:CreateLogStream", "logs:PutLogEvents"]
            .iter()
            .all(|action| {
                let request = policy::Request {
                    service: None,
                    action,
                    resource: Some(&stream),
                    source_account: account,
                    source_arn: "",
                };
                documents
                    .iter()
                    .any(|document| policy::allows(document, &request))
            })
    }

    /// Every account's roles and policies as the admin endpoint shows them.
    pub(crate) fn state_json(&self) -> (Value, Value) {
        let document = |text: &str| {
            serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        };
        let accounts = self.accounts.read().unwrap_or_else(PoisonError::into_inner);
        let mut sorted: Vec<(&String, &AccountIam)> = accounts.iter().collect();
        sorted.sort_by_key(|(account, _)| *account);
        let mut roles = serde_json::Map::new();
        let mut policies = serde_json::Map::new();
        for (account, iam) in sorted {
            if !iam.roles.is_empty() {
                let entries = iam.roles.values().map(|role| {
                    let inline: serde_json::Map<String, Value> = role
                        .inline_policies
                        .iter()
                        .map(|(name, text)| (name.clone(), document(text)))
                        .collect();
                    (
                        role.name.clone(),
                        json!({
                            "path": role.path,
                            "trust_policy": document(&role.trust_policy),
                            "inline_policies": inline,
                            "attached_policies": role.attached,
                        }),
                    )
                });
                roles.insert(account.clone(), Value::Object(entries.collect()));
            }
            if !iam.policies.is_empty() {
                let entries = iam.policies.values().map(|policy| {
                    (
                        policy.name.clone(),
                        json!({
                            "path": policy.path,
                            "document": document(&policy.document),
                            "attachments": policy.attachments,
                        }),
                    )
                });
                policies.insert(account.clone(), Value::Object(entries.collect()));
            }
        }
        (Value::Object(roles), Value::Object(policies))
    }
}

/// The awsQuery action name of an IAM operation, as its response element says it.
fn operation_action(operation: Operation) -> &'static str {
    operation
        .action()
        .strip_prefix("iam:")
        .expect("an IAM operation's action is iam:…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_encoded_like_iam() {
        assert_eq!(
            encode(r#"{"Version": "2012-10-17"}"#),
            "%7B%22Version%22%3A%20%222012-10-17%22%7D"
        );
    }

    #[test]
    fn documents_are_checked_like_iam() {
        let trust = r#"{"Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
        assert!(check_document(trust, DocumentKind::Trust).is_ok());
        assert!(check_document(trust, DocumentKind::Identity).is_err());
        let with_resource = r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}]}"#;
        assert_eq!(
            check_document(with_resource, DocumentKind::Trust)
                .err()
                .unwrap()
                .message,
            "Has prohibited field Resource"
        );
        assert_eq!(
            check_document("{", DocumentKind::Identity)
                .err()
                .unwrap()
                .message,
            "This policy contains invalid Json"
        );
        assert_eq!(quota_size("{ \"a\" :\n 1 }"), 7);
    }
}
