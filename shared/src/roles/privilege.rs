//! Whether a role (or a user) is privileged: it carries AdministratorAccess (or a variant),
//! IAMFullAccess or PowerUserAccess, or a policy that allows every action on every resource, or
//! every IAM action or one that escalates (attaching or writing policies, creating keys) on
//! every IAM resource. Pure.
//!
//! Conditions on such a statement are ignored: a privilege that holds only sometimes is still
//! one to protect with MFA.

use crate::iam_state::LocalPolicy;
use crate::policy_grammar::{wildcard_match, Document, Effect};
use std::collections::HashMap;

/// The AWS managed policies that make their holder privileged, by name: full access to
/// everything (`AdministratorAccess`, and its variants such as `AdministratorAccess-Amplify`,
/// whose names begin with it), to IAM (and so to everything), or to everything but IAM and
/// Organizations
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html>).
pub const PRIVILEGED_AWS_MANAGED: [&str; 3] =
    ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"];

/// IAM actions that let their holder grant themselves anything: write a policy onto a
/// principal, rewrite a policy or a trust, or become another user.
pub const ESCALATING_IAM_ACTIONS: [&str; 14] = [
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:PutUserPermissionsBoundary",
];

/// The documents of the account's customer managed policies, by ARN.
pub struct ManagedDocuments<'a>(HashMap<&'a str, &'a str>);

impl<'a> ManagedDocuments<'a> {
    /// Indexes the policies' default documents.
    pub fn new(policies: &'a [LocalPolicy]) -> Self {
        ManagedDocuments(
            policies
                .iter()
                .map(|p| (p.arn.as_str(), p.document.as_str()))
                .collect(),
        )
    }
}

/// The attached policies (ARNs) and inline ones (`(name, document)`) that make their holder
/// privileged: AWS managed ones by ARN, customer managed ones by ARN, inline ones as
/// `inline:NAME`.
pub fn privileged_by(
    attached: &[String],
    inline: &[(String, String)],
    managed: &ManagedDocuments<'_>,
) -> Vec<String> {
    let mut found = Vec::new();
    for arn in attached {
        let privileged = match aws_managed_name(arn) {
            Some(name) => privileged_aws_managed(name),
            None => managed
                .0
                .get(arn.as_str())
                .is_some_and(|d| grants_privilege(d)),
        };
        if privileged {
            found.push(arn.clone());
        }
    }
    for (name, document) in inline {
        if grants_privilege(document) {
            found.push(format!("inline:{name}"));
        }
    }
    found
}

/// The name of an AWS managed policy (`arn:PARTITION:iam::aws:policy/PATH/NAME`).
fn aws_managed_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let path_and_name = rest.strip_prefix("iam::aws:policy/")?;
    let name = path_and_name.rsplit('/').next()?;
    partition.starts_with("aws").then_some(name)
}

/// Whether an AWS managed policy's name is one of [`PRIVILEGED_AWS_MANAGED`] (or a variant of
/// AdministratorAccess).
fn privileged_aws_managed(name: &str) -> bool {
    name.starts_with("AdministratorAccess") || PRIVILEGED_AWS_MANAGED.contains(&name)
}

/// Whether a policy document lets its holder do anything, or grant themselves anything: an
/// Allow of every action (`*`, or a `NotAction`: everything but a few) on every resource, or
/// of every IAM action or an escalating one ([`ESCALATING_IAM_ACTIONS`]) on every IAM
/// resource. A resource pattern covers "every resource" when it is `*`, `arn:*` or the like
/// (and, for IAM, `arn:aws:iam::ACCOUNT:*`); a `NotResource` is taken to cover everything.
/// A document that cannot be read counts as privileged: it is never taken to be harmless.
pub fn grants_privilege(document: &str) -> bool {
    let Ok(document) = Document::parse(document) else {
        return true;
    };
    document
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .any(|s| {
            let on = |service: &str| {
                s.resources.as_ref().is_some_and(|r| {
                    r.negated || r.patterns.iter().any(|p| covers_service(p, service))
                })
            };
            let every_action = s.actions.negated || s.actions.covers("*");
            let escalates = s.actions.covers("iam:*")
                || ESCALATING_IAM_ACTIONS.iter().any(|a| s.actions.covers(a));
            (every_action && on("*")) || ((every_action || escalates) && on("iam"))
        })
}

/// Whether a resource pattern covers every resource of `service` (`*`: of every service):
/// `*`, or an ARN pattern whose partition matches `aws`, whose service is `service` or a
/// wildcard, and whose resource part (any region and account) is `*`.
fn covers_service(pattern: &str, service: &str) -> bool {
    if pattern.trim() == "*" {
        return true;
    }
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let wild = |p: &str| p.chars().all(|c| c == '*' || c == '?') && !p.is_empty();
    match parts.as_slice() {
        // `arn:*` or `arn:aws:*`: the last part's `*` runs over everything after it.
        ["arn", rest @ ..] if rest.last().is_some_and(|p| *p == "*") && rest.len() < 5 => rest
            [..rest.len() - 1]
            .iter()
            .enumerate()
            .all(|(i, p)| match i {
                0 => wildcard_match(p, "aws"),
                _ => wild(p) || (service != "*" && *p == service),
            }),
        ["arn", partition, svc, _region, _account, resource] => {
            wildcard_match(partition, "aws")
                && (wild(svc) || (service != "*" && wildcard_match(svc, service)))
                && wild(resource)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs() -> Vec<LocalPolicy> {
        vec![
            LocalPolicy {
                arn: "arn:aws:iam::111122223333:policy/admin-ish".into(),
                document: r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#
                    .into(),
            },
            LocalPolicy {
                arn: "arn:aws:iam::111122223333:policy/read".into(),
                document:
                    r#"{"Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}}"#
                        .into(),
            },
        ]
    }

    #[test]
    fn privileged_by_aws_managed_customer_managed_and_inline_policies() {
        let policies = docs();
        let managed = ManagedDocuments::new(&policies);
        let attached = [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws-us-gov:iam::aws:policy/PowerUserAccess",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
            "arn:aws:iam::111122223333:policy/admin-ish",
            "arn:aws:iam::111122223333:policy/read",
            // A customer policy named like AWS's is judged by its document.
            "arn:aws:iam::111122223333:policy/AdministratorAccess",
        ]
        .map(String::from);
        let inline = [
            ("iam-all".to_string(), r#"{"Statement": [{"Effect": "Allow", "Action": ["iam:*"], "Resource": ["*"]}]}"#.to_string()),
            ("iam-one-role".to_string(), r#"{"Statement": {"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::*:role/x"}}"#.to_string()),
            ("all-but-iam".to_string(), r#"{"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}"#.to_string()),
            ("iam-read".to_string(), r#"{"Statement": {"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}}"#.to_string()),
            ("denies".to_string(), r#"{"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}"#.to_string()),
        ];
        assert_eq!(
            privileged_by(&attached, &inline, &managed),
            [
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "arn:aws-us-gov:iam::aws:policy/PowerUserAccess",
                "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
                "arn:aws:iam::111122223333:policy/admin-ish",
                "inline:iam-all",
                "inline:all-but-iam",
            ]
        );
    }

    #[test]
    fn star_on_star_needs_both_stars() {
        assert!(grants_privilege(
            r#"{"Statement": {"Effect": "Allow", "Action": ["s3:*", "*"], "Resource": ["*"]}}"#
        ));
        assert!(!grants_privilege(
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}}"#
        ));
        assert!(grants_privilege(
            r#"{"Statement": {"Effect": "Allow", "Action": "IAM:*", "Resource": "*"}}"#
        ));
        assert!(grants_privilege("not json"), "unreadable is never harmless");
    }

    #[test]
    fn every_resource_written_as_an_arn_pattern_and_escalating_iam_actions() {
        let allow = |action: &str, resource: &str| {
            format!(
                r#"{{"Statement": {{"Effect": "Allow", "Action": {action}, "Resource": {resource}}}}}"#
            )
        };
        for (action, resource, privileged) in [
            (r#""*""#, r#""arn:*""#, true),
            (r#""*""#, r#""arn:aws:*""#, true),
            (r#""*""#, r#""arn:*:*:*:*:*""#, true),
            (r#""*""#, r#""arn:aws:s3:::*""#, false),
            (r#""iam:*""#, r#""arn:aws:iam::111122223333:*""#, true),
            (r#""iam:*""#, r#""arn:aws:iam::*:*""#, true),
            (r#""*""#, r#""arn:aws:iam::111122223333:*""#, true),
            (r#""iam:*""#, r#""arn:aws:iam::111122223333:role/x""#, false),
            (r#"["iam:AttachUserPolicy"]"#, r#""*""#, true),
            (
                r#""iam:CreatePolicyVersion""#,
                r#""arn:aws:iam::*:*""#,
                true,
            ),
            (r#""iam:Put*""#, r#""*""#, true),
            (r#""iam:Get*""#, r#""*""#, false),
            (r#""s3:*""#, r#""*""#, false),
        ] {
            assert_eq!(
                grants_privilege(&allow(action, resource)),
                privileged,
                "{action} on {resource}"
            );
        }
        assert!(grants_privilege(
            r#"{"Statement": {"Effect": "Allow", "NotAction": "s3:*", "Resource": ["arn:aws:iam::*:*", "arn:aws:s3:::b"]}}"#
        ));
        assert!(grants_privilege(
            r#"{"Statement": {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"}}"#
        ));
    }
}
