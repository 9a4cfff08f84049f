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

#[cfg(test)]
mod tests {
    use super::*;

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
