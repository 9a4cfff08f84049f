//! CloudTrail IAM events (as EventBridge delivers them) -> whom to look at again. Pure.
//!
//! The event never carries state we trust: it only names users, a group or the deny policy,
//! and the engine reads them live. Failed calls, other accounts' events, the enforcer's own
//! calls and event names we do not handle are ignored; a payload that is not a CloudTrail IAM
//! event at all is an error that says what it is instead.

use crate::tag_keys::EXEMPT_UNTIL_TAG;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// EventBridge's detail-type for CloudTrail management events.
pub const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// EventBridge's source for IAM.
pub const IAM_SOURCE: &str = "aws.iam";

/// The events the enforcer handles, named as CloudTrail spells them: the one list from which
/// the event rule's pattern (held to it by the template tests), the fixtures' coverage and
/// [`target`]'s exhaustive match all follow. A new variant does not compile until [`target`]
/// says what it leads to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::EnumIter,
)]
#[allow(clippy::upper_case_acronyms)]
pub enum HandledEvent {
    /// A user is created (perhaps with exemption tags).
    CreateUser,
    /// A user gets a console password.
    CreateLoginProfile,
    /// A user's console password is changed.
    UpdateLoginProfile,
    /// An MFA device is deactivated (a user's, or root's own).
    DeactivateMFADevice,
    /// A virtual MFA device is deleted.
    DeleteVirtualMFADevice,
    /// An MFA device is enabled (a user's, or root's own).
    EnableMFADevice,
    /// A user joins a group.
    AddUserToGroup,
    /// A user leaves a group (perhaps the enforcement group).
    RemoveUserFromGroup,
    /// A policy is detached from a user (perhaps the deny policy).
    DetachUserPolicy,
    /// A user is tagged (perhaps an exemption).
    TagUser,
    /// A user's tags are removed (perhaps an exemption).
    UntagUser,
    /// A policy is detached from a group (perhaps the deny policy).
    DetachGroupPolicy,
    /// A group is deleted (perhaps the enforcement group).
    DeleteGroup,
    /// A policy gets a new version (perhaps the deny policy).
    CreatePolicyVersion,
    /// A policy's default version changes (perhaps the deny policy's).
    SetDefaultPolicyVersion,
    /// A policy version is deleted (perhaps one of the deny policy's).
    DeletePolicyVersion,
}

impl HandledEvent {
    /// Every handled event name, in the order the event rule lists them.
    pub fn names() -> Vec<&'static str> {
        use strum::IntoEnumIterator;
        HandledEvent::iter().map(<&str>::from).collect()
    }
}

/// Who made the call, as CloudTrail's `userIdentity` says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// `IAMUser`, `AssumedRole`, `Root`, `AWSService`...
    #[serde(rename = "type")]
    pub kind: String,
    /// The caller's ARN (an STS assumed-role ARN for roles).
    pub arn: String,
    /// For an assumed role: the role's IAM ARN (`sessionContext.sessionIssuer.arn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// For an IAM user: the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// The parts of a CloudTrail IAM event the enforcer reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamEvent {
    /// `eventName`, e.g. `CreateLoginProfile`.
    pub name: String,
    /// `eventID`, for correlating logs with CloudTrail.
    pub id: String,
    /// `eventTime` as CloudTrail wrote it.
    pub time: String,
    /// `recipientAccountId`: the account the call was made in.
    pub account_id: String,
    /// Who called.
    pub caller: Caller,
    /// `errorCode` when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `requestParameters` (`null` when CloudTrail omits them); not repeated in reports.
    #[serde(skip)]
    pub request: Value,
}

/// Why a payload is not a CloudTrail IAM event we can read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum EventError {
    /// Not an EventBridge event for CloudTrail IAM calls at all.
    #[error("not a CloudTrail IAM event: {0}")]
    NotCloudTrailIam(String),
    /// A CloudTrail IAM event missing a field the enforcer needs.
    #[error("malformed CloudTrail IAM event {event}: {problem}")]
    Malformed {
        /// The event name, or `?` when even that is missing.
        event: String,
        /// What is missing or wrong.
        problem: String,
    },
}

/// What the enforcer knows about itself when it judges an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The account this function runs in; `None` when it cannot tell (events are then not
    /// filtered by account).
    pub account_id: Option<String>,
    /// The roles the enforcer runs as (`ENFORCER_ROLE_ARN`): events they caused are ignored.
    pub own_role_arns: Vec<String>,
    /// `DENY_POLICY_ARN`.
    pub deny_policy_arn: String,
    /// `EXEMPT_TAG_KEY`.
    pub exempt_tag_key: String,
    /// `ENFORCEMENT_GROUP`, when one is used.
    pub enforcement_group: Option<String>,
}

/// Why an event needs no work.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IgnoreReason {
    /// The call failed (`errorCode` present): nothing changed.
    CallFailed,
    /// The call was made in another account.
    OtherAccount,
    /// The enforcer's own role made the call.
    OwnCall,
    /// An event name the enforcer does not handle.
    UnhandledEvent,
    /// A policy other than the deny policy was detached or changed.
    OtherPolicy,
}

impl IgnoreReason {
    /// The snake_case name used in logs and responses (serde's and strum's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A tag key and the value an event set it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagValue {
    /// The key.
    pub key: String,
    /// The value set.
    pub value: String,
}

/// A change to a user's exemption tags (`EXEMPT_TAG_KEY`, `mfa-enforcer:exempt-until`), as the
/// event states it. Every such change is announced, whoever made it: exemptions are audit
/// events, and moving or removing an end date makes a temporary exemption permanent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExemptionChange {
    /// Exemption tags set, with their new values (`TagUser`, `CreateUser`).
    pub set: Vec<TagValue>,
    /// Exemption tags removed (`UntagUser`).
    pub removed: Vec<String>,
}

/// What an event leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Nothing to do.
    Ignore(IgnoreReason),
    /// Re-evaluate these users and remediate like the scheduled run.
    Users {
        /// The users named by the event.
        users: Vec<String>,
        /// The event changed the user's exemption tags: announce it, always.
        exemption: Option<ExemptionChange>,
        /// The event released them from the deny policy (detached it from them, or removed
        /// them from the enforcement group): containing them again is no new enforcement.
        released: bool,
    },
    /// Re-evaluate the members of a group (the deny policy was detached from it, or it was
    /// deleted).
    GroupMembers {
        /// The group.
        group: String,
        /// The group was deleted (its members were removed before: IAM refuses otherwise).
        deleted: bool,
        /// The event released them from the deny policy (it was detached from the group).
        released: bool,
    },
    /// The root user changed its own MFA: report root again (no IAM user to read).
    Root,
    /// Check the deny policy's default version against the canonical document.
    DenyPolicy,
}

/// Reads an EventBridge payload as a CloudTrail IAM event.
///
/// Fails with [`EventError::NotCloudTrailIam`] for anything else (a Scheduled Event, another
/// service's event, a manual payload), and with [`EventError::Malformed`] when a CloudTrail
/// IAM event lacks `detail.eventName`, or an account in `detail.recipientAccountId` or the
/// envelope's `account` (`recipientAccountId` is optional in CloudTrail's record contents:
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>).
pub fn parse(payload: &Value) -> Result<IamEvent, EventError> {
    let detail_type = payload.get("detail-type").and_then(Value::as_str);
    let source = payload.get("source").and_then(Value::as_str);
    if detail_type != Some(CLOUDTRAIL_DETAIL_TYPE) || source != Some(IAM_SOURCE) {
        return Err(EventError::NotCloudTrailIam(format!(
            "expected detail-type {CLOUDTRAIL_DETAIL_TYPE:?} and source {IAM_SOURCE:?}, got detail-type {} and source {}",
            show(detail_type),
            show(source)
        )));
    }
    let detail = payload
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or_else(|| EventError::Malformed {
            event: "?".into(),
            problem: "detail is missing or not an object".into(),
        })?;
    let text = |key: &str| detail.get(key).and_then(Value::as_str).map(str::to_string);
    let name = text("eventName").ok_or_else(|| EventError::Malformed {
        event: "?".into(),
        problem: "detail.eventName is missing".into(),
    })?;
    let account_id = text("recipientAccountId")
        .or_else(|| {
            payload
                .get("account")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| EventError::Malformed {
            event: name.clone(),
            problem: "detail.recipientAccountId and the envelope's account are both missing".into(),
        })?;
    let identity = detail.get("userIdentity").unwrap_or(&Value::Null);
    let field = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let caller = Caller {
        kind: field(identity, "type").unwrap_or_default(),
        arn: field(identity, "arn").unwrap_or_default(),
        role_arn: identity
            .pointer("/sessionContext/sessionIssuer")
            .filter(|issuer| issuer.get("type").and_then(Value::as_str) == Some("Role"))
            .and_then(|issuer| field(issuer, "arn")),
        user_name: (field(identity, "type").as_deref() == Some("IAMUser"))
            .then(|| field(identity, "userName"))
            .flatten(),
    };
    Ok(IamEvent {
        id: text("eventID").unwrap_or_default(),
        time: text("eventTime").unwrap_or_default(),
        error_code: text("errorCode"),
        request: detail
            .get("requestParameters")
            .cloned()
            .unwrap_or(Value::Null),
        name,
        account_id,
        caller,
    })
}

fn show(v: Option<&str>) -> String {
    v.map_or_else(|| "(none)".to_string(), |s| format!("{s:?}"))
}

/// Decides what an event leads to.
///
/// Calls made by the enforcer's own roles are ignored (`own_call`: its writes never loop
/// back), except the ones that concern enforcement itself, which are always re-checked
/// whoever made them: the deny policy's versions written or its default changed, the deny
/// policy detached, exemption tags changed. Re-checking is idempotent, so it cannot loop.
///
/// Fails with [`EventError::Malformed`] when a handled event lacks the request parameter that
/// names its subject (a user, a group, a policy).
pub fn target(event: &IamEvent, context: &Context) -> Result<Target, EventError> {
    if event.error_code.is_some() {
        return Ok(Target::Ignore(IgnoreReason::CallFailed));
    }
    if context
        .account_id
        .as_deref()
        .is_some_and(|own| own != event.account_id)
    {
        return Ok(Target::Ignore(IgnoreReason::OtherAccount));
    }
    let own_call = event
        .caller
        .role_arn
        .as_ref()
        .is_some_and(|role| context.own_role_arns.contains(role));
    match classify(event, context) {
        Ok((_, Concern::Users)) | Err(_) if own_call => Ok(Target::Ignore(IgnoreReason::OwnCall)),
        Ok((target, _)) => Ok(target),
        Err(e) => Err(e),
    }
}

/// Whether an event concerns users only, or enforcement itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Concern {
    /// Users' state: the enforcer's own calls of this kind are its remediations.
    Users,
    /// The deny policy or an exemption: re-checked whoever called.
    Enforcement,
}

fn classify(event: &IamEvent, context: &Context) -> Result<(Target, Concern), EventError> {
    let param = |key: &str| {
        event
            .request
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| EventError::Malformed {
                event: event.name.clone(),
                problem: format!("requestParameters.{key} is missing"),
            })
    };
    let users = |users: Vec<String>| {
        (
            Target::Users {
                users,
                exemption: None,
                released: false,
            },
            Concern::Users,
        )
    };
    let released = |user: String| Target::Users {
        users: vec![user],
        exemption: None,
        released: true,
    };
    let with_exemption = |user: String, change: ExemptionChange| {
        let changed = !change.set.is_empty() || !change.removed.is_empty();
        (
            Target::Users {
                users: vec![user],
                exemption: changed.then_some(change),
                released: false,
            },
            if changed {
                Concern::Enforcement
            } else {
                Concern::Users
            },
        )
    };
    // IAM names are unique whatever their case; a detach naming the policy in another case
    // must not slip through as "another policy".
    let is_deny = |arn: &str| arn.eq_ignore_ascii_case(&context.deny_policy_arn);
    let exemption_keys = [context.exempt_tag_key.as_str(), EXEMPT_UNTIL_TAG];
    let Ok(name) = event.name.parse::<HandledEvent>() else {
        return Ok((Target::Ignore(IgnoreReason::UnhandledEvent), Concern::Users));
    };
    use HandledEvent as E;
    Ok(match name {
        E::CreateLoginProfile | E::UpdateLoginProfile | E::AddUserToGroup => {
            users(vec![param("userName")?])
        }
        E::RemoveUserFromGroup => {
            let user = param("userName")?;
            let group = param("groupName")?;
            if context.enforcement_group.as_deref() == Some(group.as_str()) {
                (released(user), Concern::Users)
            } else {
                users(vec![user])
            }
        }
        // Root acting on its own MFA: AWS's documented sample names the user "AWS ROOT USER",
        // newer records omit userName; either way there is no IAM user to read.
        E::DeactivateMFADevice | E::EnableMFADevice if root_on_itself(event) => {
            (Target::Root, Concern::Users)
        }
        E::DeleteVirtualMFADevice if event.caller.kind == "Root" && root_device(event) => {
            (Target::Root, Concern::Users)
        }
        // A user created with tags: an exemption may be born with the user.
        E::CreateUser | E::TagUser => with_exemption(
            param("userName")?,
            ExemptionChange {
                set: tags_set(&event.request, &exemption_keys),
                removed: Vec::new(),
            },
        ),
        E::UntagUser => with_exemption(
            param("userName")?,
            ExemptionChange {
                set: Vec::new(),
                removed: tag_keys_removed(&event.request, &exemption_keys),
            },
        ),
        // Since 2023 these two may omit userName: the caller acts on themselves.
        E::DeactivateMFADevice | E::EnableMFADevice => users(vec![user_or_caller(event)?]),
        // The request names only the device; by convention (and in the console) a virtual
        // device is named after its user. Deactivation, which must come first, names the user.
        E::DeleteVirtualMFADevice => {
            let serial = param("serialNumber")?;
            let device = serial.rsplit('/').next().unwrap_or_default().to_string();
            users(vec![device])
        }
        E::DetachUserPolicy => {
            if !is_deny(&param("policyArn")?) {
                return Ok((Target::Ignore(IgnoreReason::OtherPolicy), Concern::Users));
            }
            (released(param("userName")?), Concern::Enforcement)
        }
        E::DetachGroupPolicy => {
            if !is_deny(&param("policyArn")?) {
                return Ok((Target::Ignore(IgnoreReason::OtherPolicy), Concern::Users));
            }
            (
                Target::GroupMembers {
                    group: param("groupName")?,
                    deleted: false,
                    released: true,
                },
                Concern::Enforcement,
            )
        }
        E::DeleteGroup => (
            Target::GroupMembers {
                group: param("groupName")?,
                deleted: true,
                released: false,
            },
            Concern::Users,
        ),
        E::CreatePolicyVersion | E::SetDefaultPolicyVersion | E::DeletePolicyVersion => {
            if !is_deny(&param("policyArn")?) {
                return Ok((Target::Ignore(IgnoreReason::OtherPolicy), Concern::Users));
            }
            (Target::DenyPolicy, Concern::Enforcement)
        }
    })
}

/// The user name AWS's documented CloudTrail sample of a root `EnableMFADevice` carries
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html>).
pub const ROOT_USER_NAME: &str = "AWS ROOT USER";

/// Whether the root user called an MFA action on itself: no `userName`, or the literal
/// [`ROOT_USER_NAME`] (a `GetUser` of which would fail with a validation error).
fn root_on_itself(event: &IamEvent) -> bool {
    event.caller.kind == "Root"
        && event
            .request
            .get("userName")
            .and_then(Value::as_str)
            .is_none_or(|name| name == ROOT_USER_NAME)
}

/// Whether a device serial is root's virtual device (`...:mfa/root-account-mfa-device`, the
/// console's name for it; any `mfa/` device deleted by root while no user is named).
fn root_device(event: &IamEvent) -> bool {
    event
        .request
        .get("serialNumber")
        .and_then(Value::as_str)
        .is_some_and(|serial| serial.ends_with(":mfa/root-account-mfa-device"))
}

fn user_or_caller(event: &IamEvent) -> Result<String, EventError> {
    event
        .request
        .get("userName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| event.caller.user_name.clone())
        .ok_or_else(|| EventError::Malformed {
            event: event.name.clone(),
            problem: "requestParameters.userName is missing and the caller is not an IAM user"
                .into(),
        })
}

/// The tags among `keys` that a TagUser or CreateUser request sets, with their values
/// (CloudTrail writes the tags as `[{"key": ..., "value": ...}]`; the API's `Key`/`Value` are
/// accepted too).
fn tags_set(request: &Value, keys: &[&str]) -> Vec<TagValue> {
    request
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            let get = |lower: &str, upper: &str| {
                tag.get(lower)
                    .or_else(|| tag.get(upper))
                    .and_then(Value::as_str)
            };
            let key = get("key", "Key")?;
            // IAM keeps one tag per key whatever its case: MFA-ENFORCER:EXEMPT is the same key.
            keys.iter()
                .any(|k| k.eq_ignore_ascii_case(key))
                .then(|| TagValue {
                    key: key.to_string(),
                    value: get("value", "Value").unwrap_or_default().to_string(),
                })
        })
        .collect()
}

/// The keys among `keys` that an UntagUser request removes (`tagKeys`).
fn tag_keys_removed(request: &Value, keys: &[&str]) -> Vec<String> {
    request
        .get("tagKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|key| keys.iter().any(|k| k.eq_ignore_ascii_case(key)))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DENY: &str = "arn:aws:iam::123456789012:policy/mfa-enforcer-deny";
    const ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer";

    fn context() -> Context {
        Context {
            account_id: Some("123456789012".into()),
            own_role_arns: vec![ROLE.into()],
            deny_policy_arn: DENY.into(),
            exempt_tag_key: "mfa-enforcer:exempt".into(),
            enforcement_group: Some("MFAEnforced".into()),
        }
    }

    fn envelope(name: &str, request: Value) -> Value {
        json!({
            "version": "0", "id": "6f2c1c9e-0000-4000-8000-000000000001",
            "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam",
            "account": "123456789012", "time": "2026-06-15T12:00:00Z", "region": "us-east-1",
            "resources": [],
            "detail": {
                "eventVersion": "1.08",
                "userIdentity": {
                    "type": "IAMUser", "principalId": "AIDAEXAMPLE", "userName": "admin",
                    "arn": "arn:aws:iam::123456789012:user/admin", "accountId": "123456789012"
                },
                "eventTime": "2026-06-15T11:59:58Z", "eventSource": "iam.amazonaws.com",
                "eventName": name, "awsRegion": "us-east-1",
                "requestParameters": request,
                "eventID": "e1", "recipientAccountId": "123456789012"
            }
        })
    }

    fn target_of(payload: &Value) -> Target {
        target(&parse(payload).unwrap(), &context()).unwrap()
    }

    fn users(names: &[&str]) -> Target {
        Target::Users {
            users: names.iter().map(|n| n.to_string()).collect(),
            exemption: None,
            released: false,
        }
    }

    fn released(name: &str) -> Target {
        Target::Users {
            users: vec![name.to_string()],
            exemption: None,
            released: true,
        }
    }

    fn exemption(set: &[(&str, &str)], removed: &[&str]) -> Target {
        Target::Users {
            users: vec!["bob".into()],
            exemption: Some(ExemptionChange {
                set: set
                    .iter()
                    .map(|(k, v)| TagValue {
                        key: k.to_string(),
                        value: v.to_string(),
                    })
                    .collect(),
                removed: removed.iter().map(|k| k.to_string()).collect(),
            }),
            released: false,
        }
    }

    #[test]
    fn each_handled_event_names_its_subject() {
        let cases = [
            ("CreateUser", json!({"userName": "bob"}), users(&["bob"])),
            (
                "CreateLoginProfile",
                json!({"userName": "bob", "passwordResetRequired": true}),
                users(&["bob"]),
            ),
            (
                "UpdateLoginProfile",
                json!({"userName": "bob"}),
                users(&["bob"]),
            ),
            (
                "DeactivateMFADevice",
                json!({"userName": "bob", "serialNumber": "arn:aws:iam::123456789012:mfa/bob"}),
                users(&["bob"]),
            ),
            (
                "DeactivateMFADevice",
                json!({"serialNumber": "arn:aws:iam::123456789012:mfa/x"}),
                users(&["admin"]),
            ),
            (
                "EnableMFADevice",
                json!({"userName": "bob", "serialNumber": "s"}),
                users(&["bob"]),
            ),
            (
                "DeleteVirtualMFADevice",
                json!({"serialNumber": "arn:aws:iam::123456789012:mfa/team/bob"}),
                users(&["bob"]),
            ),
            (
                "AddUserToGroup",
                json!({"userName": "bob", "groupName": "MFAEnforced"}),
                users(&["bob"]),
            ),
            (
                "RemoveUserFromGroup",
                json!({"userName": "bob", "groupName": "MFAEnforced"}),
                released("bob"),
            ),
            (
                "RemoveUserFromGroup",
                json!({"userName": "bob", "groupName": "Developers"}),
                users(&["bob"]),
            ),
            (
                "DetachUserPolicy",
                json!({"userName": "bob", "policyArn": DENY}),
                released("bob"),
            ),
            (
                "DetachUserPolicy",
                json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
                Target::Ignore(IgnoreReason::OtherPolicy),
            ),
            (
                "TagUser",
                json!({"userName": "bob", "tags": [{"key": "team", "value": "x"}]}),
                users(&["bob"]),
            ),
            (
                "TagUser",
                json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:exempt", "value": "TRUE"}]}),
                exemption(&[("mfa-enforcer:exempt", "TRUE")], &[]),
            ),
            // Every change to an exemption tag is news, even one that ends an exemption.
            (
                "TagUser",
                json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:exempt", "value": "false"}]}),
                exemption(&[("mfa-enforcer:exempt", "false")], &[]),
            ),
            (
                "TagUser",
                json!({"userName": "bob", "tags": [{"key": "team", "value": "x"}, {"Key": "mfa-enforcer:exempt-until", "Value": "9999-12-31"}]}),
                exemption(&[("mfa-enforcer:exempt-until", "9999-12-31")], &[]),
            ),
            (
                "UntagUser",
                json!({"userName": "bob", "tagKeys": ["mfa-enforcer:exempt-until", "team"]}),
                exemption(&[], &["mfa-enforcer:exempt-until"]),
            ),
            (
                "UntagUser",
                json!({"userName": "bob", "tagKeys": ["team"]}),
                users(&["bob"]),
            ),
            // IAM keeps one tag per key whatever its case: another case is the same key.
            (
                "UntagUser",
                json!({"userName": "bob", "tagKeys": ["MFA-ENFORCER:EXEMPT-UNTIL"]}),
                exemption(&[], &["MFA-ENFORCER:EXEMPT-UNTIL"]),
            ),
            (
                "DetachUserPolicy",
                json!({"userName": "bob", "policyArn": DENY.to_uppercase().replace("ARN:AWS:IAM", "arn:aws:iam")}),
                released("bob"),
            ),
            (
                "CreateUser",
                json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:exempt", "value": "true"}]}),
                exemption(&[("mfa-enforcer:exempt", "true")], &[]),
            ),
            (
                "DetachGroupPolicy",
                json!({"groupName": "Admins", "policyArn": DENY}),
                Target::GroupMembers {
                    group: "Admins".into(),
                    deleted: false,
                    released: true,
                },
            ),
            (
                "DetachGroupPolicy",
                json!({"groupName": "Admins", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
                Target::Ignore(IgnoreReason::OtherPolicy),
            ),
            (
                "DeleteGroup",
                json!({"groupName": "MFAEnforced"}),
                Target::GroupMembers {
                    group: "MFAEnforced".into(),
                    deleted: true,
                    released: false,
                },
            ),
            (
                "CreatePolicyVersion",
                json!({"policyArn": DENY, "policyDocument": "{}", "setAsDefault": true}),
                Target::DenyPolicy,
            ),
            (
                "SetDefaultPolicyVersion",
                json!({"policyArn": DENY, "versionId": "v1"}),
                Target::DenyPolicy,
            ),
            (
                "DeletePolicyVersion",
                json!({"policyArn": DENY, "versionId": "v2"}),
                Target::DenyPolicy,
            ),
            (
                "CreatePolicyVersion",
                json!({"policyArn": "arn:aws:iam::123456789012:policy/other"}),
                Target::Ignore(IgnoreReason::OtherPolicy),
            ),
            (
                "ListUsers",
                Value::Null,
                Target::Ignore(IgnoreReason::UnhandledEvent),
            ),
            (
                "AttachUserPolicy",
                json!({"userName": "bob", "policyArn": DENY}),
                Target::Ignore(IgnoreReason::UnhandledEvent),
            ),
        ];
        for (name, request, expected) in cases {
            assert_eq!(
                target_of(&envelope(name, request.clone())),
                expected,
                "{name} {request}"
            );
        }
    }

    #[test]
    fn every_handled_event_name_is_classified() {
        for name in HandledEvent::names() {
            let request = json!({"userName": "bob", "groupName": "G", "policyArn": DENY, "serialNumber": "arn:aws:iam::123456789012:mfa/bob"});
            assert_ne!(
                target_of(&envelope(name, request)),
                Target::Ignore(IgnoreReason::UnhandledEvent),
                "{name}"
            );
        }
    }

    #[test]
    fn failed_calls_other_accounts_and_own_calls_are_ignored() {
        let mut failed = envelope("CreateLoginProfile", json!({"userName": "bob"}));
        failed["detail"]["errorCode"] = json!("NoSuchEntityException");
        assert_eq!(target_of(&failed), Target::Ignore(IgnoreReason::CallFailed));

        let mut other = envelope("CreateLoginProfile", json!({"userName": "bob"}));
        other["detail"]["recipientAccountId"] = json!("210987654321");
        assert_eq!(
            target_of(&other),
            Target::Ignore(IgnoreReason::OtherAccount)
        );

        let mut own = envelope(
            "AddUserToGroup",
            json!({"userName": "bob", "groupName": "G"}),
        );
        own["detail"]["userIdentity"] = json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/mfa-enforcer/scheduled-audit",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE, "userName": "mfa-enforcer"}}
        });
        assert_eq!(target_of(&own), Target::Ignore(IgnoreReason::OwnCall));

        // Another role in the same account is not us.
        own["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] =
            json!("arn:aws:iam::123456789012:role/Admin");
        assert_eq!(target_of(&own), users(&["bob"]));

        // Whoever calls, what concerns enforcement itself is always re-checked: policy events
        // and detaching the deny policy (the enforcer's own restore is idempotent, so its
        // events cannot loop), and exemption tags (the enforcer's role may only write
        // mfa-enforcer:notified-* tags; if it ever wrote another, someone must hear).
        let ours = |name: &str, request: Value| {
            let mut e = envelope(name, request);
            e["detail"]["userIdentity"] = json!({
                "type": "AssumedRole",
                "arn": "arn:aws:sts::123456789012:assumed-role/mfa-enforcer/iam-events",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}}
            });
            target_of(&e)
        };
        for name in [
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "DeletePolicyVersion",
        ] {
            assert_eq!(
                ours(name, json!({"policyArn": DENY, "versionId": "v1"})),
                Target::DenyPolicy,
                "{name}"
            );
        }
        assert_eq!(
            ours(
                "DetachUserPolicy",
                json!({"userName": "bob", "policyArn": DENY})
            ),
            released("bob")
        );
        assert_eq!(
            ours(
                "DetachGroupPolicy",
                json!({"groupName": "G", "policyArn": DENY})
            ),
            Target::GroupMembers {
                group: "G".into(),
                deleted: false,
                released: true,
            }
        );
        assert_eq!(
            ours(
                "TagUser",
                json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:exempt", "value": "true"}]})
            ),
            exemption(&[("mfa-enforcer:exempt", "true")], &[])
        );
        // Its notice memory is its own business.
        assert_eq!(
            ours(
                "TagUser",
                json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:notified-status", "value": "enforced"}]})
            ),
            Target::Ignore(IgnoreReason::OwnCall)
        );
        // An own call missing what it names is still only ours, not an error.
        assert_eq!(
            ours("AddUserToGroup", json!({})),
            Target::Ignore(IgnoreReason::OwnCall)
        );

        // Without a known account or role, nothing is filtered on them.
        let open = Context {
            account_id: None,
            own_role_arns: vec![],
            ..context()
        };
        assert_eq!(
            target(&parse(&other).unwrap(), &open).unwrap(),
            users(&["bob"])
        );
    }

    #[test]
    fn callers_are_read_for_users_roles_and_root() {
        let user = parse(&envelope("CreateUser", json!({"userName": "bob"}))).unwrap();
        assert_eq!(user.caller.kind, "IAMUser");
        assert_eq!(user.caller.user_name.as_deref(), Some("admin"));
        assert_eq!(user.caller.role_arn, None);

        let mut root = envelope("CreateUser", json!({"userName": "bob"}));
        root["detail"]["userIdentity"] = json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012"});
        let root = parse(&root).unwrap();
        assert_eq!(root.caller.kind, "Root");
        assert_eq!(root.caller.user_name, None);
        // Root on its own MFA: no IAM user to read, whether userName is absent or the literal
        // "AWS ROOT USER" of AWS's documented sample.
        let as_root = |name: &str, request: Value| {
            let mut e = envelope(name, request);
            e["detail"]["userIdentity"] =
                json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root"});
            target(&parse(&e).unwrap(), &context()).unwrap()
        };
        for request in [
            json!({"serialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device"}),
            json!({"userName": "AWS ROOT USER", "serialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device"}),
        ] {
            for name in ["EnableMFADevice", "DeactivateMFADevice"] {
                assert_eq!(
                    as_root(name, request.clone()),
                    Target::Root,
                    "{name} {request}"
                );
            }
        }
        assert_eq!(
            as_root(
                "DeleteVirtualMFADevice",
                json!({"serialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device"})
            ),
            Target::Root
        );
        // Root acting on an IAM user is a user event.
        assert_eq!(
            as_root(
                "EnableMFADevice",
                json!({"userName": "bob", "serialNumber": "s"})
            ),
            users(&["bob"])
        );
        // An IAM user without userName acts on themselves.
        assert_eq!(
            target_of(&envelope("EnableMFADevice", json!({"serialNumber": "s"}))),
            users(&["admin"])
        );
    }

    #[test]
    fn the_account_comes_from_the_envelope_when_the_record_has_none() {
        let mut e = envelope("CreateLoginProfile", json!({"userName": "bob"}));
        e["detail"]
            .as_object_mut()
            .unwrap()
            .remove("recipientAccountId");
        assert_eq!(parse(&e).unwrap().account_id, "123456789012");
        e.as_object_mut().unwrap().remove("account");
        let err = parse(&e).unwrap_err();
        assert!(err.to_string().contains("recipientAccountId"), "{err}");
    }

    #[test]
    fn payloads_that_are_not_cloudtrail_iam_events_are_rejected_clearly() {
        let cases = [
            (
                json!({"dry_run": true}),
                "got detail-type (none) and source (none)",
            ),
            (
                json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
                "got detail-type \"Scheduled Event\" and source \"aws.events\"",
            ),
            (
                json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "detail": {}}),
                "source \"aws.s3\"",
            ),
        ];
        for (payload, message) in cases {
            let err = parse(&payload).unwrap_err();
            assert!(matches!(err, EventError::NotCloudTrailIam(_)), "{err}");
            assert!(err.to_string().contains(message), "{err}");
        }
        let mut no_name = envelope("CreateUser", json!({}));
        no_name["detail"]
            .as_object_mut()
            .unwrap()
            .remove("eventName");
        assert!(parse(&no_name)
            .unwrap_err()
            .to_string()
            .contains("detail.eventName is missing"));

        let no_user = envelope("CreateLoginProfile", json!({}));
        let err = target(&parse(&no_user).unwrap(), &context()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed CloudTrail IAM event CreateLoginProfile: requestParameters.userName is missing"
        );
    }
}

#[cfg(test)]
mod properties {
    //! Malformed events, randomized from the real-format fixtures: any field missing, any value
    //! of any type, any source: a clear error or an answer, never a panic.
    use super::*;
    use proptest::prelude::*;

    fn fixtures() -> Vec<Value> {
        [
            include_str!(
                "../../tests/fixtures/events/cloudtrail/add-user-to-group-by-enforcer.json"
            ),
            include_str!("../../tests/fixtures/events/cloudtrail/add-user-to-group.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/create-access-key.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/create-login-profile-failed.json"),
            include_str!(
                "../../tests/fixtures/events/cloudtrail/create-login-profile-other-account.json"
            ),
            include_str!("../../tests/fixtures/events/cloudtrail/create-login-profile.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/create-policy-version.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/create-user.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/deactivate-mfa-device.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/delete-group.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/delete-policy-version.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/delete-virtual-mfa-device.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/detach-group-policy.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/detach-user-policy.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/enable-mfa-device.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/remove-user-from-group.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/set-default-policy-version.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/tag-user-exempt.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/untag-user.json"),
            include_str!("../../tests/fixtures/events/cloudtrail/update-login-profile.json"),
        ]
        .iter()
        .map(|text| serde_json::from_str(text).unwrap_or(Value::Null))
        .collect()
    }

    /// Every path to a value in `value`, as a list of keys and indexes.
    fn paths(value: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
        out.push(prefix.clone());
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    prefix.push(Value::String(k.clone()));
                    paths(v, prefix, out);
                    prefix.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    prefix.push(Value::from(i));
                    paths(v, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    fn at<'a>(value: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
        path.iter().try_fold(value, |v, key| match key {
            Value::String(k) => v.get_mut(k.as_str()),
            Value::Number(i) => v.get_mut(i.as_u64().unwrap_or(0) as usize),
            _ => None,
        })
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,12}".prop_map(Value::from),
            Just(Value::from("aws.iam")),
            Just(Value::from("AWS API Call via CloudTrail")),
            Just(Value::from(
                "arn:aws:iam::123456789012:policy/DenyWithoutMFA"
            )),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                proptest::collection::btree_map(".{0,6}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn context() -> Context {
        Context {
            account_id: Some("123456789012".into()),
            own_role_arns: vec!["arn:aws:iam::123456789012:role/mfa-enforcer".into()],
            deny_policy_arn: "arn:aws:iam::123456789012:policy/DenyWithoutMFA".into(),
            exempt_tag_key: "mfa-enforcer:exempt".into(),
            enforcement_group: Some("MFAEnforced".into()),
        }
    }

    proptest! {
        #[test]
        fn mutated_fixtures_give_an_answer_or_a_clear_error(
            fixture in 0usize..20,
            mutations in proptest::collection::vec((any::<proptest::sample::Index>(), any::<bool>(), any_json()), 1..4),
        ) {
            let mut event = fixtures()[fixture].clone();
            for (index, remove, replacement) in mutations {
                let mut all = Vec::new();
                paths(&event, &mut Vec::new(), &mut all);
                let path = all[index.index(all.len())].clone();
                match (remove, path.split_last()) {
                    (true, Some((Value::String(key), parent))) => {
                        if let Some(Value::Object(map)) = at(&mut event, parent) {
                            map.remove(key.as_str());
                        }
                    }
                    _ => {
                        if let Some(slot) = at(&mut event, &path) {
                            *slot = replacement;
                        }
                    }
                }
            }
            // Either it is read (and judged: a target, an ignore reason, or an error naming the
            // event and what it lacks), or it is refused saying what it is not.
            match parse(&event) {
                Err(EventError::NotCloudTrailIam(why)) => prop_assert!(!why.is_empty()),
                Err(EventError::Malformed { problem, .. }) => prop_assert!(!problem.is_empty()),
                Ok(parsed) => {
                    if let Err(EventError::Malformed { event, problem }) = target(&parsed, &context()) {
                        prop_assert_eq!(event, parsed.name.clone());
                        prop_assert!(!problem.is_empty());
                    }
                }
            }
        }

        #[test]
        fn any_json_at_all_gives_an_answer_or_a_clear_error(payload in any_json()) {
            if let Ok(parsed) = parse(&payload) {
                let _ = target(&parsed, &context());
            }
        }
    }

    #[test]
    fn every_fixture_is_read() {
        assert_eq!(fixtures().len(), 20);
        assert!(fixtures().iter().all(|f| parse(f).is_ok()));
    }
}
