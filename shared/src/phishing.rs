//! Phishing-resistant MFA for the people who matter most: who must have it
//! (`PHISHING_RESISTANT_FOR`), and whether their devices give it. Pure.
//!
//! A passkey or security key (FIDO2) is bound to the site it signs in to, so a phishing page
//! cannot relay it; an authenticator app's or a hardware token's code can be typed into one
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_fido.html>).
//! IAM's conditions cannot tell device types apart: `aws:MultiFactorAuthPresent` is true for
//! any of them. So this is reported and announced, never enforced.

use crate::devices::{MfaDevice, MfaDeviceType};
use crate::iam_state::{IamGroup, IamUser};
use crate::roles::privilege::{privileged_by, ManagedDocuments};
use crate::settings::PhishingResistantFor;
use std::collections::HashMap;

/// Whether `user` must have phishing-resistant MFA: a member of a listed group, or privileged
/// by a policy of their own or of one of their groups.
pub fn in_scope(
    user: &IamUser,
    groups: &HashMap<String, IamGroup>,
    managed: &ManagedDocuments<'_>,
    scope: &PhishingResistantFor,
) -> bool {
    match scope {
        PhishingResistantFor::Nobody => false,
        // IAM group names are unique ignoring case.
        PhishingResistantFor::Groups(listed) => {
            (user.groups.iter()).any(|g| listed.iter().any(|l| l.eq_ignore_ascii_case(g)))
        }
        PhishingResistantFor::Privileged => {
            let own = privileged_by(&user.attached_policy_arns, &user.inline_policies, managed);
            !own.is_empty()
                || (user.groups.iter().filter_map(|g| groups.get(g))).any(|g| {
                    !privileged_by(&g.attached_policy_arns, &g.inline_policies, managed).is_empty()
                })
        }
    }
}

/// Whether any of the devices is a passkey or security key.
pub fn resists_phishing(devices: &[MfaDevice]) -> bool {
    devices
        .iter()
        .any(|d| d.kind == MfaDeviceType::PasskeyOrSecurityKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam_state::LocalPolicy;

    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

    fn user(groups: &[&str], policies: &[&str]) -> IamUser {
        IamUser {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            attached_policy_arns: policies.iter().map(|p| p.to_string()).collect(),
            ..IamUser::default()
        }
    }

    #[test]
    fn privileged_directly_or_through_a_group_or_listed_by_group() {
        let groups = HashMap::from([
            (
                "Admins".to_string(),
                IamGroup {
                    name: "Admins".into(),
                    attached_policy_arns: vec![],
                    inline_policies: vec![(
                        "all".into(),
                        r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#
                            .into(),
                    )],
                },
            ),
            ("Dev".to_string(), IamGroup::default()),
        ]);
        let policies: Vec<LocalPolicy> = Vec::new();
        let managed = ManagedDocuments::new(&policies);
        let privileged = PhishingResistantFor::Privileged;
        assert!(in_scope(
            &user(&[], &[ADMIN]),
            &groups,
            &managed,
            &privileged
        ));
        assert!(in_scope(
            &user(&["Admins"], &[]),
            &groups,
            &managed,
            &privileged
        ));
        assert!(!in_scope(
            &user(&["Dev"], &[]),
            &groups,
            &managed,
            &privileged
        ));
        let listed = PhishingResistantFor::Groups(vec!["DEV".into()]);
        assert!(in_scope(&user(&["Dev"], &[]), &groups, &managed, &listed));
        assert!(!in_scope(&user(&[], &[ADMIN]), &groups, &managed, &listed));
        let nobody = PhishingResistantFor::Nobody;
        assert!(!in_scope(&user(&[], &[ADMIN]), &groups, &managed, &nobody));
    }

    #[test]
    fn only_a_passkey_or_security_key_resists_phishing() {
        let app = MfaDevice::from_serial("arn:aws:iam::123456789012:mfa/phone");
        let token = MfaDevice::from_serial("GAHT12345678");
        let key = MfaDevice::from_serial("arn:aws:iam::123456789012:u2f/user/bob/key-ABCDEFGHIJKL");
        assert!(!resists_phishing(&[app.clone(), token.clone()]));
        assert!(resists_phishing(&[app, key]));
        assert!(!resists_phishing(&[]));
    }
}
