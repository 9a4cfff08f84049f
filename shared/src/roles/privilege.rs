//! Whether a role (or a user) is privileged: it carries AdministratorAccess, IAMFullAccess or
//! PowerUserAccess, or a policy that allows every action, or every IAM action, on every
//! resource. Pure.
//!
//! Conditions on such a statement are ignored: a privilege that holds only sometimes is still
//! one to protect with MFA.

use crate::iam_state::LocalPolicy;
use crate::policy_grammar::{Document, Effect};
use std::collections::HashMap;

/// The AWS managed policies that make their holder privileged, by name: full access to
/// everything, to IAM (and so to everything), or to everything but IAM and Organizations
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html>).
pub const PRIVILEGED_AWS_MANAGED: [&str; 3] =
    ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"];

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
            Some(name) => PRIVILEGED_AWS_MANAGED.contains(&name),
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

/// The name of an AWS managed policy (`arn:PARTITION:iam::aws:policy/NAME`, at the root path).
fn aws_managed_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("iam::aws:policy/")?;
    (partition.starts_with("aws") && !name.contains('/')).then_some(name)
}

/// Whether a policy document allows, on every resource, every action (`*`, or a `NotAction`:
/// everything but a few) or every IAM action (which grants the rest).
pub fn grants_privilege(document: &str) -> bool {
    let Ok(document) = Document::parse(document) else {
        return false;
    };
    document
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .any(|s| {
            // The pattern itself is matched as text: only `*`-like patterns cover `*`, only
            // `iam:*`-like ones cover `iam:*`.
            let every_resource = s.resources.as_ref().is_some_and(|r| r.covers("*"));
            let every_action = s.actions.negated || s.actions.covers("*");
            every_resource && (every_action || s.actions.covers("iam:*"))
        })
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
        assert!(!grants_privilege("not json"));
    }
}
