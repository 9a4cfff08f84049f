//! The service control policy that prevents what self-heal can only repair: the one source of
//! truth for its text (`mfa-enforcer scp-document`, and the StackSet's optional SCP).
//!
//! In every member account it attaches to, it denies to every principal except the enforcer's
//! own roles, the StackSet execution roles and a break-glass role pattern:
//! - writing the deny policy's versions or deleting it; detaching it from users and groups;
//! - removing users from the enforcement group, renaming or deleting it;
//! - setting or removing any `mfa-enforcer:*` tag on a user (exemptions and notice memory
//!   alike; `CreateUser` with such tags included);
//! - every write to the enforcer's own resources: its functions' code, configuration and
//!   concurrency, its roles (`iam:PassRole` of them included, and creating roles with the
//!   names of the exempt principals), its EventBridge rules and targets, its topic and
//!   subscriptions, and the trail the event path depends on.
//!
//! SCPs do not apply to the management account, nor to service-linked roles
//! (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html>).
//! The StackSet runs as `stacksets-exec-*` roles in member accounts (service-managed
//! permissions: <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html>),
//! which SCPs do affect: they are exempt, and so protected from being created by anyone else.

use serde_json::{json, Value};

/// The most an SCP may hold: 5,120 characters, whitespace included when it is saved through
/// the API or CloudFormation
/// (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html>).
pub const MAX_SCP_CHARS: usize = 5_120;

/// The names the SCP protects, as the StackSet fixes them in every account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpNames {
    /// The deny policy's name (`DenyPolicyName`).
    pub deny_policy: String,
    /// The enforcement group's name (`EnforcementGroupName`).
    pub enforcement_group: String,
    /// The prefix of the enforcer's functions, roles, rules and topic (`NamePrefix`).
    pub prefix: String,
    /// The CloudTrail trail the event path depends on (a name; `*` may stand for any part).
    pub trail: String,
    /// The break-glass role names (`*` may stand for any part): exempt from the SCP.
    pub break_glass_role: String,
}

/// The StackSet's fixed names: what `infra/stackset.yaml` deploys in every account.
pub const STACKSET_DENY_POLICY_NAME: &str = "mfa-enforcer-deny-without-mfa";
/// The StackSet's enforcement group name.
pub const STACKSET_ENFORCEMENT_GROUP: &str = "MFAEnforcement";
/// The StackSet's prefix for the enforcer's own resources.
pub const STACKSET_NAME_PREFIX: &str = "mfa-enforcer";

impl Default for ScpNames {
    fn default() -> Self {
        ScpNames {
            deny_policy: STACKSET_DENY_POLICY_NAME.to_string(),
            enforcement_group: STACKSET_ENFORCEMENT_GROUP.to_string(),
            prefix: STACKSET_NAME_PREFIX.to_string(),
            trail: STACKSET_NAME_PREFIX.to_string(),
            break_glass_role: "mfa-enforcer-break-glass".to_string(),
        }
    }
}

impl ScpNames {
    /// The principals the SCP never applies to: the enforcer's two roles, the StackSet
    /// execution roles (service-managed and self-managed), and the break-glass roles.
    pub fn exempt_principals(&self) -> Vec<String> {
        self.exempt_roles()
            .into_iter()
            .map(|role| format!("arn:*:iam::*:role/{role}"))
            .collect()
    }

    fn exempt_roles(&self) -> Vec<String> {
        vec![
            format!("{}-scheduled-audit", self.prefix),
            format!("{}-iam-events", self.prefix),
            "stacksets-exec-*".to_string(),
            "AWSCloudFormationStackSetExecutionRole".to_string(),
            self.break_glass_role.clone(),
        ]
    }
}

/// The SCP document.
///
/// Three statements, so that it stays well inside the size limit: one denies the protected
/// actions on the protected resources (each action applies to one kind of resource only, so
/// listing them together denies nothing else), and two are scoped by a condition instead of
/// a resource: detaching the deny policy, and writing `mfa-enforcer:*` tags.
pub fn scp_document(names: &ScpNames) -> Value {
    let exempt = names.exempt_principals();
    let prefix = &names.prefix;
    let deny_policy = format!("arn:*:iam::*:policy/{}", names.deny_policy);
    let mut resources = vec![
        deny_policy.clone(),
        format!("arn:*:iam::*:group/{}", names.enforcement_group),
        format!("arn:*:lambda:*:*:function:{prefix}-*"),
        format!("arn:*:iam::*:role/{prefix}-*"),
    ];
    // Nobody else may create (or change) a role with a name the SCP exempts.
    resources.extend(exempt.iter().skip(2).cloned());
    resources.extend([
        format!("arn:*:events:*:*:rule/{prefix}-*"),
        format!("arn:*:sns:*:*:{prefix}"),
        format!("arn:*:sns:*:*:{prefix}:*"),
        format!("arn:*:cloudtrail:*:*:trail/{}", names.trail),
    ]);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ProtectEnforcerResources",
                "Effect": "Deny",
                "Action": [
                    // The deny policy: its versions, and itself.
                    "iam:CreatePolicyVersion",
                    "iam:SetDefaultPolicyVersion",
                    "iam:DeletePolicyVersion",
                    "iam:DeletePolicy",
                    "iam:TagPolicy",
                    "iam:UntagPolicy",
                    // The enforcement group.
                    "iam:RemoveUserFromGroup",
                    "iam:DeleteGroup",
                    "iam:UpdateGroup",
                    // The functions.
                    "lambda:Update*",
                    "lambda:Delete*",
                    "lambda:Put*",
                    "lambda:AddPermission",
                    "lambda:RemovePermission",
                    "lambda:PublishVersion",
                    "lambda:TagResource",
                    "lambda:UntagResource",
                    // The roles.
                    "iam:PassRole",
                    "iam:CreateRole",
                    "iam:DeleteRole*",
                    "iam:UpdateRole*",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:AttachRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:PutRole*",
                    "iam:TagRole",
                    "iam:UntagRole",
                    // The EventBridge rules and their targets.
                    "events:DeleteRule",
                    "events:DisableRule",
                    "events:PutRule",
                    "events:PutTargets",
                    "events:RemoveTargets",
                    "events:TagResource",
                    "events:UntagResource",
                    // The topic and its subscriptions.
                    "sns:DeleteTopic",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:Unsubscribe",
                    "sns:SetSubscriptionAttributes",
                    "sns:PutDataProtectionPolicy",
                    "sns:TagResource",
                    "sns:UntagResource",
                    // The trail.
                    "cloudtrail:StopLogging",
                    "cloudtrail:DeleteTrail",
                    "cloudtrail:UpdateTrail",
                    "cloudtrail:PutEventSelectors",
                ],
                "Resource": resources,
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": exempt}},
            },
            {
                "Sid": "KeepTheDenyPolicyAttached",
                "Effect": "Deny",
                "Action": ["iam:DetachUserPolicy", "iam:DetachGroupPolicy"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"iam:PolicyARN": deny_policy},
                    "ArnNotLike": {"aws:PrincipalArn": exempt},
                },
            },
            {
                "Sid": "KeepEnforcerTags",
                "Effect": "Deny",
                "Action": ["iam:TagUser", "iam:UntagUser", "iam:CreateUser"],
                "Resource": "*",
                "Condition": {
                    "ForAnyValue:StringLike": {"aws:TagKeys": "mfa-enforcer:*"},
                    "ArnNotLike": {"aws:PrincipalArn": exempt},
                },
            },
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_the_scp_size_limit_as_saved() {
        // CloudFormation and the API save the document as given: compact JSON is what counts.
        let long = ScpNames {
            break_glass_role: format!("{}*", "b".repeat(63)),
            trail: "organization-trail-with-a-long-name".into(),
            ..ScpNames::default()
        };
        for names in [ScpNames::default(), long] {
            let text = scp_document(&names).to_string();
            assert!(text.len() <= MAX_SCP_CHARS, "{} characters", text.len());
        }
    }

    #[test]
    fn every_statement_denies_and_spares_only_the_exempt_principals() {
        let names = ScpNames::default();
        let doc = scp_document(&names);
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 3);
        for s in statements {
            assert_eq!(s["Effect"], "Deny", "{s}");
            assert_eq!(
                s["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
                json!(names.exempt_principals()),
                "{s}"
            );
        }
        assert_eq!(
            names.exempt_principals(),
            [
                "arn:*:iam::*:role/mfa-enforcer-scheduled-audit",
                "arn:*:iam::*:role/mfa-enforcer-iam-events",
                "arn:*:iam::*:role/stacksets-exec-*",
                "arn:*:iam::*:role/AWSCloudFormationStackSetExecutionRole",
                "arn:*:iam::*:role/mfa-enforcer-break-glass",
            ]
        );
        // Nobody else may create a role that the SCP would exempt.
        let protected: Vec<&str> = statements[0]["Resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        for exempt in names.exempt_principals() {
            assert!(
                protected
                    .iter()
                    .any(|p| *p == exempt || exempt.starts_with(p.trim_end_matches('*'))),
                "{exempt} is not protected: {protected:?}"
            );
        }
    }
}
