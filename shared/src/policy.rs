//! The deny-without-MFA policy document: the one source of truth for its text.
//!
//! While `aws:MultiFactorAuthPresent` is false (or absent: `BoolIfExists`, so long-term access
//! keys are caught too) every action is denied except what a user needs to enroll MFA, change a
//! first-login password and get an MFA session. The deployment template and the demo account
//! take the document from here (`mfa-enforcer policy-document`).

use serde_json::{json, Value};

/// The actions a user without MFA may still call: enrolling a virtual MFA device, changing a
/// first-login password, and getting an MFA-backed session.
pub const ALLOWED_WITHOUT_MFA: [&str; 9] = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "iam:ChangePassword",
    "iam:GetAccountPasswordPolicy",
    "sts:GetSessionToken",
];

/// The statement ID of the deny statement.
pub const DENY_SID: &str = "DenyAllExceptListedIfNoMFA";

/// The canonical deny-without-MFA policy document.
pub fn deny_policy_document() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": DENY_SID,
                "Effect": "Deny",
                "NotAction": ALLOWED_WITHOUT_MFA,
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
            }
        ]
    })
}

/// IAM keeps at most this many versions of a managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;

/// Whether a policy document (JSON text) is the canonical document. Whitespace and key order
/// do not matter; anything else does (an unparseable document does not match).
pub fn is_canonical(document: &str) -> bool {
    serde_json::from_str::<Value>(document).is_ok_and(|doc| doc == deny_policy_document())
}

/// The version to delete before a new one can be created: the oldest non-default version,
/// when the policy already has IAM's maximum. `versions` are `(id, is_default, created)`;
/// versions without a creation time count as oldest, ties go to the lowest version number.
pub fn version_to_prune<'a, T: Ord + Copy>(
    versions: impl IntoIterator<Item = (&'a str, bool, Option<T>)>,
) -> Option<&'a str> {
    let versions: Vec<_> = versions.into_iter().collect();
    if versions.len() < MAX_POLICY_VERSIONS {
        return None;
    }
    versions
        .into_iter()
        .filter(|(_, is_default, _)| !is_default)
        .min_by_key(|(id, _, created)| (*created, version_number(id)))
        .map(|(id, _, _)| id)
}

/// One version of the deny policy, as a restore sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionState<'a, T> {
    /// `v1`, `v2`...
    pub id: &'a str,
    /// Whether it is the default (effective) version.
    pub is_default: bool,
    /// When it was created, if known.
    pub created: Option<T>,
    /// Whether its document is the canonical one.
    pub canonical: bool,
}

/// What it takes to make the canonical document the deny policy's default again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restore<'a> {
    /// The default version is canonical: nothing to do.
    InPlace,
    /// A non-default version is canonical (typically the one a tampering replaced): make it
    /// the default. No new version, and two runs doing it at once pick the same one.
    SetDefault(&'a str),
    /// No version is canonical: create one as the default, after deleting `prune` when IAM's
    /// limit of versions is reached.
    Create {
        /// The version to delete first, if any.
        prune: Option<&'a str>,
    },
}

/// Decides how to restore the deny policy from its versions.
pub fn restore<'a, T: Ord + Copy>(versions: &[VersionState<'a, T>]) -> Restore<'a> {
    if versions.iter().any(|v| v.is_default && v.canonical) {
        return Restore::InPlace;
    }
    let newest_canonical = versions
        .iter()
        .filter(|v| v.canonical)
        .max_by_key(|v| (v.created, version_number(v.id)));
    match newest_canonical {
        Some(v) => Restore::SetDefault(v.id),
        None => Restore::Create {
            prune: version_to_prune(versions.iter().map(|v| (v.id, v.is_default, v.created))),
        },
    }
}

/// Non-default copies of the canonical document while the default is canonical: what two
/// restores creating a version at once leave behind. Deleting them changes nothing in effect.
pub fn duplicates<'a, T>(versions: &[VersionState<'a, T>]) -> Vec<&'a str> {
    if !versions.iter().any(|v| v.is_default && v.canonical) {
        return Vec::new();
    }
    versions
        .iter()
        .filter(|v| !v.is_default && v.canonical)
        .map(|v| v.id)
        .collect()
}

fn version_number(id: &str) -> u64 {
    id.trim_start_matches('v').parse().unwrap_or(u64::MAX)
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
        let mut weakened = canonical.clone();
        weakened["Statement"][0]["NotAction"]
            .as_array_mut()
            .unwrap()
            .push(json!("s3:*"));
        assert!(!is_canonical(&weakened.to_string()));
        let mut conditionless = canonical;
        conditionless["Statement"][0]
            .as_object_mut()
            .unwrap()
            .remove("Condition");
        assert!(!is_canonical(&conditionless.to_string()));
        assert!(!is_canonical("not json"));
    }

    #[test]
    fn the_oldest_non_default_version_is_pruned_only_at_the_limit() {
        let four = [
            ("v1", false, Some(1)),
            ("v2", true, Some(2)),
            ("v3", false, Some(3)),
            ("v4", false, Some(4)),
        ];
        assert_eq!(version_to_prune(four), None);
        let five = [
            ("v1", true, Some(1)),
            ("v2", false, Some(2)),
            ("v3", false, Some(3)),
            ("v4", false, Some(4)),
            ("v5", false, Some(5)),
        ];
        assert_eq!(version_to_prune(five), Some("v2"));
        let undated = [
            ("v7", false, None),
            ("v6", false, None),
            ("v3", true, Some(3)),
            ("v4", false, Some(4)),
            ("v5", false, Some(5)),
        ];
        assert_eq!(version_to_prune(undated), Some("v6"));
    }

    fn versions(spec: &[(&'static str, bool, bool)]) -> Vec<VersionState<'static, u32>> {
        spec.iter()
            .enumerate()
            .map(|(i, (id, is_default, canonical))| VersionState {
                id,
                is_default: *is_default,
                created: Some(i as u32),
                canonical: *canonical,
            })
            .collect()
    }

    #[test]
    fn a_restore_reuses_a_canonical_version_before_it_creates_one() {
        // (versions as (id, default, canonical), expected restore, expected duplicates)
        type Case = (
            &'static [(&'static str, bool, bool)],
            Restore<'static>,
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (&[("v1", true, true)], Restore::InPlace, &[]),
            // A tampering made v2 the default; v1 still holds the document.
            (
                &[("v1", false, true), ("v2", true, false)],
                Restore::SetDefault("v1"),
                &[],
            ),
            // Two canonical versions to choose from: the newest, so concurrent runs agree.
            (
                &[
                    ("v1", false, true),
                    ("v2", false, true),
                    ("v3", true, false),
                ],
                Restore::SetDefault("v2"),
                &[],
            ),
            (&[("v1", true, false)], Restore::Create { prune: None }, &[]),
            (
                &[
                    ("v1", false, false),
                    ("v2", false, false),
                    ("v3", false, false),
                    ("v4", false, false),
                    ("v5", true, false),
                ],
                Restore::Create { prune: Some("v1") },
                &[],
            ),
            // Two restores created v2 and v3 at once; v3 won the default.
            (
                &[
                    ("v1", false, false),
                    ("v2", false, true),
                    ("v3", true, true),
                ],
                Restore::InPlace,
                &["v2"],
            ),
        ];
        for (spec, expected, dups) in cases {
            let v = versions(spec);
            assert_eq!(restore(&v), *expected, "{spec:?}");
            assert_eq!(duplicates(&v), *dups, "{spec:?}");
        }
    }

    #[test]
    fn denies_everything_but_enrollment_when_mfa_is_absent_or_false() {
        let doc = deny_policy_document();
        assert_eq!(doc["Version"], "2012-10-17");
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        let deny = &statements[0];
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
        for needed in [
            "iam:EnableMFADevice",
            "iam:CreateVirtualMFADevice",
            "iam:ChangePassword",
            "iam:GetAccountPasswordPolicy",
            "sts:GetSessionToken",
        ] {
            assert!(carve_outs.contains(&needed), "{needed} must stay allowed");
        }
        // Nothing that could undo the enforcement is carved out.
        for forbidden in [
            "iam:DeactivateMFADevice",
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
    }

    #[test]
    fn fits_the_managed_policy_size_limit() {
        // IAM counts managed policy size without whitespace; the limit is 6,144 characters.
        assert!(deny_policy_document().to_string().len() < 6144);
    }
}
