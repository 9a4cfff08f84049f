//! The deny-without-MFA policy document: the one source of truth for its text, and every
//! document this project has released.
//!
//! While `aws:MultiFactorAuthPresent` is false (or absent: `BoolIfExists`, so long-term access
//! keys are caught too) every action is denied except what a user needs to enroll MFA, change a
//! first-login password and get an MFA session. The deployment template and the demo account
//! take the document from here (`mfa-enforcer policy-document`).
//!
//! A stack keeps the document of the release that deployed it until it is redeployed, so a
//! newer CLI (or an organization-wide audit) must still recognise the documents of earlier
//! releases: [`RELEASES`] lists them all, oldest first, as the exact JSON that shipped.

pub mod restore;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Map, Value};
use std::fmt;

/// The actions a user without MFA may still call: enrolling and resyncing their own MFA
/// device (virtual, passkey or security key), seeing their devices and the password policy,
/// changing a first-login password, and getting an MFA-backed session.
pub const ALLOWED_WITHOUT_MFA: [&str; 10] = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "iam:ChangePassword",
    "iam:GetAccountPasswordPolicy",
    "sts:GetSessionToken",
];

/// What a contained user may do to their own IAM user without MFA (and, with the `Allow`
/// statements, even when no other policy lets them): these actions on anyone else's user are
/// denied without MFA by [`DENY_OTHERS_SID`], as is creating a virtual device not named after
/// the user.
pub const OWN_USER_ACTIONS: [&str; 6] = [
    "iam:EnableMFADevice",
    "iam:GetMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ResyncMFADevice",
    "iam:ChangePassword",
];

/// Every statement ID of the document starts with this, so that a reader sees at once whose
/// document it is.
pub const SID_PREFIX: &str = "MfaEnforcer";

/// The statement ID of the deny statement.
pub const DENY_SID: &str = "MfaEnforcerDenyAllExceptListedIfNoMFA";

/// The statement ID of the deny statement that keeps the self-service actions to the user's own
/// user while they have no MFA.
pub const DENY_OTHERS_SID: &str = "MfaEnforcerDenyOtherUsersMFAIfNoMFA";

/// The user's own IAM user, in any partition and account.
const OWN_USER: &str = "arn:*:iam::*:user/${aws:username}";

/// The virtual MFA devices a contained user may create: named after them.
pub const OWN_VIRTUAL_DEVICES: &str = "arn:*:iam::*:mfa/${aws:username}*";

/// The actions [`DENY_OTHERS_SID`] denies on anything but the user's own user and devices.
fn others_denied() -> Vec<&'static str> {
    let mut actions = vec!["iam:CreateVirtualMFADevice"];
    actions.extend(OWN_USER_ACTIONS);
    actions
}

/// The canonical deny-without-MFA policy document of this release.
///
/// It follows AWS's example "Allows MFA-authenticated IAM users to manage their own MFA device"
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_iam_mfa-selfmanage.html>):
/// `Allow` statements let the user enroll by themselves whatever their other policies (a
/// `ReadOnlyAccess` user could not otherwise), and the `Deny` with `NotAction` and
/// `BoolIfExists` denies everything else without MFA. Beyond AWS's example, which lets a
/// contained administrator enable MFA devices on other users, a second `Deny` keeps those
/// actions to the user's own user until they sign in with MFA. It also keeps
/// `iam:ChangePassword` and `iam:GetAccountPasswordPolicy` allowed, for the password change a
/// first console sign-in may require (AWS's example omits them; the trade-off is that someone
/// who stole the password can change it, which MFA enrollment ends).
pub fn deny_policy_document() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "MfaEnforcerAllowViewAccountInfo",
                "Effect": "Allow",
                "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
                "Resource": "*"
            },
            {
                // Named after the user (`bob`, `bob-phone`): nobody contained can take a device
                // name someone else needs.
                "Sid": "MfaEnforcerAllowCreateOwnVirtualMFADevice",
                "Effect": "Allow",
                "Action": "iam:CreateVirtualMFADevice",
                "Resource": OWN_VIRTUAL_DEVICES
            },
            {
                "Sid": "MfaEnforcerAllowManageOwnMFA",
                "Effect": "Allow",
                "Action": OWN_USER_ACTIONS,
                "Resource": OWN_USER
            },
            {
                "Sid": "MfaEnforcerAllowDeactivateOwnMFAOnlyWithMFA",
                "Effect": "Allow",
                "Action": "iam:DeactivateMFADevice",
                "Resource": OWN_USER,
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            },
            {
                "Sid": DENY_SID,
                "Effect": "Deny",
                "NotAction": ALLOWED_WITHOUT_MFA,
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
            },
            {
                "Sid": DENY_OTHERS_SID,
                "Effect": "Deny",
                "Action": others_denied(),
                "NotResource": [OWN_USER, OWN_VIRTUAL_DEVICES],
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
            }
        ]
    })
}

/// A release of the deny policy document, exactly as it shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// The mfa-enforcer version that shipped it (`0.1.0`).
    pub version: &'static str,
    /// The document, as JSON text.
    pub text: &'static str,
}

/// Every deny policy document this project has released, oldest first; the last one is
/// [`deny_policy_document`] (a test holds them equal). A released document never changes:
/// a new document is a new entry.
///
/// A new document ships in two releases: one that adds it here (so that every function and CLI
/// of that release recognises it) and a later one whose template deploys it. Otherwise, during
/// the stack update that deploys it, the event function of the release before (which reads
/// the deny policy's new default version before it is itself updated) would take the new
/// document for tampering and repair it away.
pub static RELEASES: &[Release] = &[
    Release {
        version: "0.1.0",
        text: include_str!("releases/0.1.0.json"),
    },
    Release {
        version: "0.2.0",
        text: include_str!("releases/0.2.0.json"),
    },
];

/// The newest release: the document this build deploys.
pub fn newest_release() -> &'static Release {
    // RELEASES is a non-empty constant (a test says so).
    &RELEASES[RELEASES.len() - 1]
}

/// IAM keeps at most this many versions of a managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;

/// Parses a policy document strictly: a JSON object in which no object repeats a key.
///
/// IAM and serde may disagree on which of two equal keys wins, so a document with a repeated
/// key is never taken to be anything: it fails, naming the key.
pub fn parse_document(text: &str) -> Result<Value, String> {
    let value = serde_json::from_str::<Strict>(text)
        .map_err(|e| e.to_string())?
        .0;
    if value.is_object() {
        Ok(value)
    } else {
        Err("a policy document is a JSON object".to_string())
    }
}

/// The release whose document `text` is, if any. Whitespace and key order do not matter;
/// anything else does: an unparseable document, or one that repeats a key, matches none.
pub fn canonical_release(text: &str) -> Option<&'static Release> {
    let document = parse_document(text).ok()?;
    RELEASES
        .iter()
        .rev()
        .find(|release| serde_json::from_str::<Value>(release.text).is_ok_and(|r| r == document))
}

/// Whether a policy document (JSON text) is one this project released.
pub fn is_canonical(text: &str) -> bool {
    canonical_release(text).is_some()
}

/// A JSON value read by a deserializer that refuses repeated object keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format!("the key {key:?} appears twice")));
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_means_the_same_json_whatever_the_layout() {
        let canonical = deny_policy_document();
        assert!(is_canonical(&canonical.to_string()));
        assert!(is_canonical(
            &serde_json::to_string_pretty(&canonical).unwrap()
        ));
        let deny = canonical["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .position(|s| s["Sid"] == DENY_SID)
            .unwrap();
        let mut weakened = canonical.clone();
        weakened["Statement"][deny]["NotAction"]
            .as_array_mut()
            .unwrap()
            .push(json!("*"));
        assert!(!is_canonical(&weakened.to_string()));
        let mut conditionless = canonical.clone();
        conditionless["Statement"][deny]
            .as_object_mut()
            .unwrap()
            .remove("Condition");
        assert!(!is_canonical(&conditionless.to_string()));
        // Statement order is meaningful text: a reordered document is another document.
        let mut reordered = canonical;
        reordered["Statement"].as_array_mut().unwrap().reverse();
        assert!(!is_canonical(&reordered.to_string()));
        assert!(!is_canonical("not json"));
        assert!(!is_canonical("[]"));
    }

    #[test]
    fn a_document_that_repeats_a_key_is_never_canonical() {
        // serde_json alone keeps the last "Effect" and would call this the canonical document;
        // IAM might keep the first.
        let text = deny_policy_document().to_string().replacen(
            r#""Effect":"Deny""#,
            r#""Effect":"Allow","Effect":"Deny""#,
            1,
        );
        assert!(
            text.contains(r#""Effect":"Allow","Effect":"Deny""#),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            deny_policy_document()
        );
        assert!(!is_canonical(&text));
        let err = parse_document(&text).unwrap_err();
        assert!(err.contains(r#"the key "Effect" appears twice"#), "{err}");
        // Nested and top-level repeats alike.
        assert!(parse_document(r#"{"Version":"1","Version":"2"}"#).is_err());
        assert!(parse_document(r#"{"a":[{"b":1,"c":{"d":1,"d":2}}]}"#).is_err());
        assert!(parse_document(r#"{"a":[{"b":1},{"b":2}]}"#).is_ok());
    }

    #[test]
    fn every_release_is_recognised_and_the_newest_is_this_build() {
        assert!(!RELEASES.is_empty());
        assert_eq!(
            serde_json::from_str::<Value>(newest_release().text).unwrap(),
            deny_policy_document(),
            "the newest release is the document this build deploys"
        );
        let mut versions = Vec::new();
        for release in RELEASES {
            assert_eq!(
                canonical_release(release.text).map(|r| r.version),
                Some(release.version)
            );
            versions.push(release.version);
        }
        let mut sorted = versions.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), versions.len(), "one entry per release");
    }

    #[test]
    fn denies_everything_but_enrollment_when_mfa_is_absent_or_false() {
        let doc = deny_policy_document();
        assert_eq!(doc["Version"], "2012-10-17");
        let statements = doc["Statement"].as_array().unwrap();
        for s in statements {
            assert!(s["Sid"].as_str().unwrap().starts_with(SID_PREFIX), "{s}");
        }
        let by_sid = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).unwrap();
        let deny = by_sid(DENY_SID);
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Resource"], "*");
        // NotAction, not Action: everything outside the carve-outs is denied.
        assert!(deny.get("Action").is_none());
        // BoolIfExists: a request without the key (long-term access keys) is denied too.
        assert_eq!(
            deny["Condition"],
            json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
        );
        let carve_outs: Vec<&str> = deny["NotAction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        // Nothing that could undo the enforcement is carved out, or allowed without MFA.
        for forbidden in [
            "iam:DeactivateMFADevice",
            "iam:DeleteVirtualMFADevice",
            "iam:DetachUserPolicy",
            "iam:RemoveUserFromGroup",
            "iam:*",
            "*",
        ] {
            assert!(
                !carve_outs.contains(&forbidden),
                "{forbidden} must stay denied"
            );
        }
        // The self-service actions are kept to the user's own user without MFA.
        let others = by_sid(DENY_OTHERS_SID);
        assert_eq!(others["Effect"], "Deny");
        assert_eq!(
            others["NotResource"],
            json!([OWN_USER, OWN_VIRTUAL_DEVICES])
        );
        assert_eq!(others["Condition"], deny["Condition"]);
        // Every Allow is scoped: nothing is allowed on anything but the user's own user, their
        // devices, or the two account-wide reads IAM cannot scope.
        for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
            let resource = s["Resource"].as_str().unwrap();
            assert!(
                resource == OWN_USER || resource == OWN_VIRTUAL_DEVICES || resource == "*",
                "{s}"
            );
            if resource == "*" {
                assert_eq!(
                    s["Action"],
                    json!(["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"])
                );
            }
        }
        // What is proven by a real evaluator is in tests/tests/policy_evaluation.rs.
    }

    #[test]
    fn fits_the_managed_policy_size_limit() {
        // IAM counts managed policy size without whitespace; the limit is 6,144 characters.
        for release in RELEASES {
            let compact = parse_document(release.text).unwrap().to_string();
            assert!(compact.len() < 6144, "{}", release.version);
        }
    }
}
