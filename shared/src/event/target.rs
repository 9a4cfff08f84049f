//! What an event leads to: whom to look at again, or why nothing.

use super::{
    Context, EventError, ExemptionChange, HandledEvent, IamEvent, IgnoreReason, TagValue, Target,
};
use crate::tag_keys::EXEMPT_UNTIL_TAG;
use serde_json::Value;

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
