//! CloudTrail IAM events (as EventBridge delivers them) -> whom to look at again. Pure.
//!
//! The event never carries state we trust: it only names users, a group or the deny policy,
//! and the engine reads them live. Failed calls, other accounts' events, the enforcer's own
//! calls and event names we do not handle are ignored; a payload that is not a CloudTrail IAM
//! event at all is an error that says what it is instead.

mod target;

pub use target::{target, ROOT_USER_NAME};

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

vocabulary! {
    /// Why an event needs no work.
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
