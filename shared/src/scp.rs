//! The service control policy that prevents what self-heal can only repair: the one source of
//! truth for its text (`mfa-enforcer scp-document`, and the StackSet's optional SCP).
//!
//! In every member account it attaches to, it denies to every principal except the enforcer's
//! own roles, the StackSet execution roles and a break-glass role pattern:
//! - writing the deny policy's versions or deleting it; detaching it from users and groups;
//! - removing users from the enforcement group, changing its policies, renaming or deleting it;
//! - setting or removing the enforcer's tags on a user, in any case (the exemption and its end
//!   date, the notice memory; `CreateUser` with them included);
//! - every write to the enforcer's own resources: its functions' code, configuration and
//!   concurrency, its roles (`iam:PassRole` of them included, and creating roles with the
//!   names of the exempt principals), invoking its functions by hand, its EventBridge rules and
//!   targets, its topic and subscriptions, its error alarms and the topic's KMS key, and the
//!   trail the event path depends on.
//!
//! SCPs do not apply to the management account, nor to service-linked roles
//! (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html>).
//! The StackSet runs as `stacksets-exec-*` roles in member accounts (service-managed
//! permissions: <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html>),
//! which SCPs do affect: they are exempt, and so protected from being created by anyone else.

use crate::tag_keys;
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
    /// The prefix of the enforcer's functions, roles, rules, alarms and topic (`NamePrefix`).
    pub prefix: String,
    /// The CloudTrail trail the event path depends on (a name; `*` may stand for any part).
    pub trail: String,
    /// The break-glass role names (`*` may stand for any part after a literal prefix): exempt
    /// from the SCP.
    pub break_glass_role: String,
    /// `EXEMPT_TAG_KEY`, when not the default.
    pub exempt_tag_key: String,
    /// The topic's KMS key (`TopicKmsKeyArn`), when it has one: disabling it would silence
    /// every alert.
    pub topic_kms_key: Option<String>,
    /// Exempt `AWSCloudFormationStackSetExecutionRole` too (self-managed StackSets only; the
    /// StackSet of this project is service-managed and runs as `stacksets-exec-*`).
    pub self_managed_stackset: bool,
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
            exempt_tag_key: crate::settings::DEFAULT_EXEMPT_TAG_KEY.to_string(),
            topic_kms_key: None,
            self_managed_stackset: false,
        }
    }
}

/// Checks a break-glass role name pattern: IAM role-name characters with `*` or `?`, at least
/// three literal characters before the first wildcard (a bare `*` would exempt every role).
///
/// Fails saying what is wrong.
pub fn check_break_glass_pattern(pattern: &str) -> Result<(), String> {
    let literal = pattern.find(['*', '?']).unwrap_or(pattern.len());
    let valid = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-*?".contains(c);
    if pattern.len() > 64 || !pattern.chars().all(valid) {
        Err(format!(
            "{pattern:?} is not a role name pattern (up to 64 of letters, digits, +=,.@_- and * or ?)"
        ))
    } else if literal < 3 {
        Err(format!(
            "{pattern:?} must start with at least 3 literal characters: a pattern that matches any role would exempt every role"
        ))
    } else {
        Ok(())
    }
}

impl ScpNames {
    /// The principals the SCP never applies to: the enforcer's two roles, the StackSet's
    /// execution roles, and the break-glass roles.
    pub fn exempt_principals(&self) -> Vec<String> {
        let mut roles = vec![
            format!("{}-scheduled-audit", self.prefix),
            format!("{}-iam-events", self.prefix),
            "stacksets-exec-*".to_string(),
        ];
        if self.self_managed_stackset {
            roles.push("AWSCloudFormationStackSetExecutionRole".to_string());
        }
        roles.push(self.break_glass_role.clone());
        roles
            .into_iter()
            .map(|role| format!("arn:*:iam::*:role/{role}"))
            .collect()
    }

    /// The user tag keys only exempt principals may write, compared ignoring case as IAM
    /// compares tag keys: the exemption, its end date, and the notice memory.
    pub fn protected_tag_keys(&self) -> Vec<String> {
        let mut keys = vec![
            self.exempt_tag_key.clone(),
            tag_keys::EXEMPT_UNTIL_TAG.to_string(),
            tag_keys::NOTIFIED_STATUS_TAG.to_string(),
            tag_keys::NOTIFIED_AT_TAG.to_string(),
        ];
        keys.dedup();
        keys
    }
}

/// The SCP document.
///
/// Three statements, so that it stays well inside the size limit: one denies the protected
/// actions on the protected resources (each action applies to one kind of resource only, so
/// listing them together denies nothing else), and two are scoped by a condition instead of
/// a resource: detaching the deny policy, and writing the enforcer's user tags.
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
        format!("arn:*:cloudwatch:*:*:alarm:{prefix}-*"),
        format!("arn:*:cloudtrail:*:*:trail/{}", names.trail),
    ]);
    let mut actions = vec![
        // The deny policy: its versions, its tags, and itself.
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:DeletePolicy",
        "iam:TagPolicy",
        "iam:UntagPolicy",
        // The enforcement group: its members, its policies, itself.
        "iam:RemoveUserFromGroup",
        "iam:AttachGroupPolicy",
        "iam:DetachGroupPolicy",
        "iam:PutGroupPolicy",
        "iam:DeleteGroupPolicy",
        "iam:DeleteGroup",
        "iam:UpdateGroup",
        // The functions: their code, configuration, concurrency, permissions; invoking them
        // by hand too (a forged event or a manual enforcing run). Their own triggers invoke
        // them as service principals, which SCPs do not affect.
        "lambda:Update*",
        "lambda:Delete*",
        "lambda:Put*",
        "lambda:AddPermission",
        "lambda:RemovePermission",
        "lambda:PublishVersion",
        "lambda:InvokeFunction",
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
        // The error alarms.
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DisableAlarmActions",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:SetAlarmState",
        // The trail.
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors",
    ];
    if let Some(key) = &names.topic_kms_key {
        resources.push(key.clone());
        actions.extend([
            "kms:DisableKey",
            "kms:ScheduleKeyDeletion",
            "kms:PutKeyPolicy",
        ]);
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ProtectEnforcerResources",
                "Effect": "Deny",
                "Action": actions,
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
                    // IAM compares tag keys ignoring case: so does this.
                    "ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": names.protected_tag_keys()},
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
    fn a_break_glass_pattern_must_name_something() {
        for ok in ["BreakGlass*", "mfa-enforcer-break-glass", "Ops?Admin"] {
            assert_eq!(check_break_glass_pattern(ok), Ok(()), "{ok}");
        }
        for bad in [
            "*",
            "B*",
            "?reakGlass",
            "Break Glass",
            "Role/BreakGlass",
            "",
        ] {
            assert!(check_break_glass_pattern(bad).is_err(), "{bad:?}");
        }
        assert!(check_break_glass_pattern(&"b".repeat(65)).is_err());
    }

    #[test]
    fn fits_the_scp_size_limit_as_saved() {
        // CloudFormation and the API save the document as given: compact JSON is what counts.
        let long = ScpNames {
            break_glass_role: format!("{}*", "b".repeat(63)),
            trail: "organization-trail-with-a-long-name".into(),
            exempt_tag_key: "k".repeat(128),
            topic_kms_key: Some(
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                    .into(),
            ),
            self_managed_stackset: true,
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
                "arn:*:iam::*:role/mfa-enforcer-break-glass",
            ]
        );
        let self_managed = ScpNames {
            self_managed_stackset: true,
            ..ScpNames::default()
        };
        assert!(self_managed
            .exempt_principals()
            .contains(&"arn:*:iam::*:role/AWSCloudFormationStackSetExecutionRole".to_string()));
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
