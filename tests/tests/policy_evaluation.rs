//! Security claims proven, not read: every policy the project ships is handed, as it would be
//! deployed, to a real IAM policy evaluator (principalmapper's local authorization check, in
//! the infra venv: `tests/policy_eval/evaluate.py`) over tables of principals and requests,
//! and linted by parliament (`tests/policy_eval/lint.py`).
//!
//! - The deny policy, for a user with only it, with it and ReadOnlyAccess, and with it and
//!   AdministratorAccess: without MFA exactly the enrollment and password actions on their own
//!   user are allowed, everything else (those actions on another user included) is denied;
//!   with MFA the deny no longer applies.
//! - The service control policy denies a plain administrator every protected action and spares
//!   the enforcer's roles, the StackSet's execution roles and the break-glass roles.
//! - The topic policy lets only the two functions, the named operators (and CloudWatch, a
//!   service principal) publish.
//! - Each function's role, as deployed, can do nothing beyond attaching the deny policy,
//!   adding to the enforcement group, tagging `mfa-enforcer:notified-*` keys, publishing to its
//!   topic and choosing among or deleting the deny policy's existing versions.
//! - The role-trust classifier agrees with the evaluator on the table of trust policies
//!   (`tests/fixtures/trust_policies.json`, `tests/policy_eval/trust.py`): whether a caller
//!   with access keys, or with a session made without MFA, may assume each role.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::scp::{scp_document, ScpNames};
use mfa_enforcer_tests::cfn::Deployment;
use mfa_enforcer_tests::{policy_tool, workspace_root};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const ACCOUNT: &str = "123456789012";
const DENY: &str = "arn:aws:iam::123456789012:policy/mfa-enforcer-deny-without-mfa";
const GROUP: &str = "arn:aws:iam::123456789012:group/MFAEnforcement";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:mfa-enforcer";
const SCHEDULED_ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer-scheduled-audit";
const EVENTS_ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer-iam-events";
const SCHEDULED_ALARM: &str =
    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mfa-enforcer-scheduled-audit-errors";
const EVENTS_ALARM: &str =
    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mfa-enforcer-iam-events-errors";
const REMAIN_ALARM: &str =
    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mfa-enforcer-non-compliant-users-remain";
const DENY_ALARM: &str =
    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mfa-enforcer-deny-policy-not-canonical";
/// The account's own Security Hub product (where a custom integration imports) and its hub.
const PRODUCT: &str = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default";
const HUB: &str = "arn:aws:securityhub:us-east-1:123456789012:hub/default";

fn allow_all() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// One question for the evaluator, and the answer the claim needs.
struct Case {
    name: String,
    request: Value,
    allowed: bool,
}

/// Asks the evaluator every case at once and fails listing every wrong answer.
fn check(cases: &[Case]) {
    let answer = policy_tool(
        "evaluate.py",
        &json!({"cases": cases.iter().map(|c| &c.request).collect::<Vec<_>>()}),
    );
    let answers = answer["allowed"].as_array().unwrap();
    assert_eq!(answers.len(), cases.len());
    let wrong: Vec<String> = cases
        .iter()
        .zip(answers)
        .filter(|(c, a)| a.as_bool() != Some(c.allowed))
        .map(|(c, a)| {
            format!(
                "{}: expected allowed={}, evaluator said {a}",
                c.name, c.allowed
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

fn template(file: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join("infra").join(file)).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The per-account stack as the StackSet deploys it in us-east-1 (fixed names).
fn deployment(operators: &[&str]) -> Deployment {
    Deployment {
        refs: BTreeMap::from([
            ("AWS::AccountId".into(), json!(ACCOUNT)),
            ("AWS::Partition".into(), json!("aws")),
            ("AWS::Region".into(), json!("us-east-1")),
            ("AWS::StackName".into(), json!("StackSet-mfa-enforcer-1")),
            ("DenyPolicy".into(), json!(DENY)),
            ("Topic".into(), json!(TOPIC)),
            ("EnforcementGroup".into(), json!("MFAEnforcement")),
            ("NamePrefix".into(), json!("mfa-enforcer")),
            (
                "OperatorPrincipalArns".into(),
                json!(if operators.is_empty() { vec![""] } else { operators.to_vec() }),
            ),
            ("TopicKmsKeyArn".into(), json!("")),
        ]),
        attributes: BTreeMap::from([
            ("ScheduledAuditRole.Arn".into(), SCHEDULED_ROLE.into()),
            ("IamEventsRole.Arn".into(), EVENTS_ROLE.into()),
            ("EnforcementGroup.Arn".into(), GROUP.into()),
            (
                "ScheduledAuditLogs.Arn".into(),
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/mfa-enforcer-scheduled-audit:*".into(),
            ),
            (
                "IamEventsLogs.Arn".into(),
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/mfa-enforcer-iam-events:*".into(),
            ),
            (
                "FailedEventsQueue.Arn".into(),
                "arn:aws:sqs:us-east-1:123456789012:failed".into(),
            ),
            ("ScheduledAuditErrorsAlarm.Arn".into(), SCHEDULED_ALARM.into()),
            ("IamEventsErrorsAlarm.Arn".into(), EVENTS_ALARM.into()),
            ("NonCompliantUsersRemainAlarm.Arn".into(), REMAIN_ALARM.into()),
            ("DenyPolicyNotCanonicalAlarm.Arn".into(), DENY_ALARM.into()),
            (
                "AdminRole.Arn".into(),
                "arn:aws:iam::123456789012:role/mfa-enforcer-admin".into(),
            ),
        ]),
        conditions: BTreeMap::from([
            ("InUsEast1".into(), true),
            ("HasTopicKey".into(), false),
            ("HasNamePrefix".into(), true),
            // Deployed with SecurityHub=true: what the roles may do then is what is proven.
            ("ImportsToSecurityHub".into(), true),
        ]),
    }
}

/// A role's inline policies as deployed.
fn role_policies(role: &str) -> Vec<Value> {
    let t = template("template.yaml");
    let d = deployment(&[]);
    t["Resources"][role]["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| d.resolve(&p["PolicyDocument"]).unwrap())
        .collect()
}

/// The Get/List/Describe pattern of AWS's ReadOnlyAccess, on the services the table asks about.
fn read_only() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
        "iam:Get*", "iam:List*", "s3:Get*", "s3:List*", "ec2:Describe*", "sts:GetCallerIdentity"
    ], "Resource": "*"}]})
}

#[test]
fn a_user_under_the_deny_policy_can_only_enroll_by_themselves_until_they_use_mfa() {
    let user = |name: &str| format!("arn:aws:iam::{ACCOUNT}:user/{name}");
    let device = |name: &str| format!("arn:aws:iam::{ACCOUNT}:mfa/{name}");
    // (what, action, resource, allowed by the deny policy's own Allow statements)
    let own: Vec<(&str, &str, String)> = vec![
        (
            "create a virtual device named after them",
            "iam:CreateVirtualMFADevice",
            device("alice"),
        ),
        (
            "create one named alice-phone",
            "iam:CreateVirtualMFADevice",
            device("alice-phone"),
        ),
        ("enable it", "iam:EnableMFADevice", user("alice")),
        (
            "see a passkey or security key",
            "iam:GetMFADevice",
            user("alice"),
        ),
        ("list their devices", "iam:ListMFADevices", user("alice")),
        ("resync a device", "iam:ResyncMFADevice", user("alice")),
        ("read their user", "iam:GetUser", user("alice")),
        (
            "change a first-login password",
            "iam:ChangePassword",
            user("alice"),
        ),
        (
            "list virtual devices",
            "iam:ListVirtualMFADevices",
            "*".to_string(),
        ),
        (
            "read the password policy",
            "iam:GetAccountPasswordPolicy",
            "*".to_string(),
        ),
    ];
    let others: Vec<(&str, &str, String)> = vec![
        (
            "enable a device on another user",
            "iam:EnableMFADevice",
            user("bob"),
        ),
        (
            "resync another user's device",
            "iam:ResyncMFADevice",
            user("bob"),
        ),
        (
            "list another user's devices",
            "iam:ListMFADevices",
            user("bob"),
        ),
        ("read another user", "iam:GetUser", user("bob")),
        (
            "take another user's device name",
            "iam:CreateVirtualMFADevice",
            device("bob"),
        ),
        (
            "take a generic device name",
            "iam:CreateVirtualMFADevice",
            device("admin"),
        ),
    ];
    let everything_else: Vec<(&str, &str, String)> = vec![
        (
            "deactivate their own device",
            "iam:DeactivateMFADevice",
            user("alice"),
        ),
        (
            "delete a virtual device",
            "iam:DeleteVirtualMFADevice",
            device("alice"),
        ),
        (
            "detach the deny policy",
            "iam:DetachUserPolicy",
            user("alice"),
        ),
        (
            "leave the group",
            "iam:RemoveUserFromGroup",
            format!("arn:aws:iam::{ACCOUNT}:group/MFAEnforcement"),
        ),
        ("create access keys", "iam:CreateAccessKey", user("alice")),
        (
            "read an object",
            "s3:GetObject",
            "arn:aws:s3:::bucket/key".to_string(),
        ),
        ("list instances", "ec2:DescribeInstances", "*".to_string()),
        (
            "assume a role",
            "sts:AssumeRole",
            format!("arn:aws:iam::{ACCOUNT}:role/Admin"),
        ),
        ("create a user", "iam:CreateUser", user("eve")),
    ];
    let deny = deny_policy_document();
    let principals: [(&str, Vec<Value>); 3] = [
        ("only the deny policy", vec![deny.clone()]),
        (
            "the deny policy and ReadOnlyAccess",
            vec![deny.clone(), read_only()],
        ),
        (
            "the deny policy and AdministratorAccess",
            vec![deny.clone(), allow_all()],
        ),
    ];
    let no_mfa = [json!({}), json!({"aws:MultiFactorAuthPresent": "false"})];
    let with_mfa = json!({"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "30"});
    let mut cases = Vec::new();
    let mut add = |who: &str,
                   policies: &[Value],
                   what: &str,
                   action: &str,
                   resource: &str,
                   context: &Value,
                   allowed: bool| {
        cases.push(Case {
            name: format!("{who}, {context}: {what} ({action} on {resource})"),
            request: json!({"principal": {"arn": user("alice"), "policies": policies},
                            "action": action, "resource": resource, "context": context}),
            allowed,
        });
    };
    for (who, policies) in &principals {
        let admin = who.ends_with("AdministratorAccess");
        let reads = who.ends_with("ReadOnlyAccess");
        for context in &no_mfa {
            for (what, action, resource) in &own {
                add(who, policies, what, action, resource, context, true);
            }
            for (what, action, resource) in others.iter().chain(&everything_else) {
                add(who, policies, what, action, resource, context, false);
            }
        }
        // Getting an MFA session is never denied (with no policy allowing it, STS decides;
        // with one, the deny stays out of the way).
        if admin {
            for context in &no_mfa {
                add(
                    who,
                    policies,
                    "get an MFA session",
                    "sts:GetSessionToken",
                    "*",
                    context,
                    true,
                );
            }
        }
        // With MFA the deny no longer applies: what is allowed is what their other policies
        // (and the deny policy's own Allow statements) allow.
        for (what, action, resource) in &own {
            add(who, policies, what, action, resource, &with_mfa, true);
        }
        add(
            who,
            policies,
            "deactivate their own device",
            "iam:DeactivateMFADevice",
            &user("alice"),
            &with_mfa,
            true,
        );
        add(
            who,
            policies,
            "read an object",
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
            &with_mfa,
            admin || reads,
        );
        add(
            who,
            policies,
            "read another user",
            "iam:GetUser",
            &user("bob"),
            &with_mfa,
            admin || reads,
        );
        add(
            who,
            policies,
            "enable a device on another user",
            "iam:EnableMFADevice",
            &user("bob"),
            &with_mfa,
            admin,
        );
        add(
            who,
            policies,
            "create a user",
            "iam:CreateUser",
            &user("eve"),
            &with_mfa,
            admin,
        );
    }
    check(&cases);
}

#[test]
fn the_scp_stops_an_administrator_and_spares_the_enforcer_the_stackset_and_break_glass() {
    let names = ScpNames {
        break_glass_role: "BreakGlass*".into(),
        ..ScpNames::default()
    };
    let member = "111122223333";
    let scps = json!([[allow_all(), scp_document(&names)]]);
    let arn = |rest: &str| format!("arn:aws:{rest}");
    let deny = arn(&format!(
        "iam::{member}:policy/mfa-enforcer-deny-without-mfa"
    ));
    let tags = |keys: &[&str]| json!({"aws:TagKeys": keys});
    let policy_arn = |p: &str| json!({"iam:PolicyARN": p});
    let none = json!({});
    // (what, action, resource, context)
    let protected: Vec<(&str, &str, String, Value)> = vec![
        (
            "write a deny policy version",
            "iam:CreatePolicyVersion",
            deny.clone(),
            none.clone(),
        ),
        (
            "change its default",
            "iam:SetDefaultPolicyVersion",
            deny.clone(),
            none.clone(),
        ),
        (
            "delete a version",
            "iam:DeletePolicyVersion",
            deny.clone(),
            none.clone(),
        ),
        (
            "delete the deny policy",
            "iam:DeletePolicy",
            deny.clone(),
            none.clone(),
        ),
        (
            "silence the exemption digest",
            "iam:TagPolicy",
            deny.clone(),
            tags(&["mfa-enforcer:exempt-digest"]),
        ),
        (
            "detach it from a user",
            "iam:DetachUserPolicy",
            arn(&format!("iam::{member}:user/bob")),
            policy_arn(&deny),
        ),
        (
            "detach it from a group",
            "iam:DetachGroupPolicy",
            arn(&format!("iam::{member}:group/Admins")),
            policy_arn(&deny),
        ),
        (
            "leave the group",
            "iam:RemoveUserFromGroup",
            arn(&format!("iam::{member}:group/MFAEnforcement")),
            none.clone(),
        ),
        (
            "delete the group",
            "iam:DeleteGroup",
            arn(&format!("iam::{member}:group/MFAEnforcement")),
            none.clone(),
        ),
        (
            "rename the group",
            "iam:UpdateGroup",
            arn(&format!("iam::{member}:group/MFAEnforcement")),
            none.clone(),
        ),
        (
            "exempt a user",
            "iam:TagUser",
            arn(&format!("iam::{member}:user/bob")),
            tags(&["mfa-enforcer:exempt"]),
        ),
        (
            "move an end date",
            "iam:TagUser",
            arn(&format!("iam::{member}:user/bob")),
            tags(&["team", "mfa-enforcer:exempt-until"]),
        ),
        (
            "remove an end date",
            "iam:UntagUser",
            arn(&format!("iam::{member}:user/bob")),
            tags(&["mfa-enforcer:exempt-until"]),
        ),
        (
            "forge notice memory",
            "iam:TagUser",
            arn(&format!("iam::{member}:user/bob")),
            tags(&["mfa-enforcer:notified-status"]),
        ),
        (
            "remove an end date in another case",
            "iam:UntagUser",
            arn(&format!("iam::{member}:user/bob")),
            tags(&["MFA-ENFORCER:EXEMPT-UNTIL"]),
        ),
        (
            "give the group another policy",
            "iam:AttachGroupPolicy",
            arn(&format!("iam::{member}:group/MFAEnforcement")),
            policy_arn("arn:aws:iam::aws:policy/AdministratorAccess"),
        ),
        (
            "write an inline group policy",
            "iam:PutGroupPolicy",
            arn(&format!("iam::{member}:group/MFAEnforcement")),
            none.clone(),
        ),
        (
            "invoke a function with a forged event",
            "lambda:InvokeFunction",
            arn(&format!(
                "lambda:us-east-1:{member}:function:mfa-enforcer-iam-events"
            )),
            none.clone(),
        ),
        (
            "silence an error alarm",
            "cloudwatch:DisableAlarmActions",
            arn(&format!(
                "cloudwatch:us-east-1:{member}:alarm:mfa-enforcer-iam-events-errors"
            )),
            none.clone(),
        ),
        (
            "create a user born exempt",
            "iam:CreateUser",
            arn(&format!("iam::{member}:user/eve")),
            tags(&["mfa-enforcer:exempt"]),
        ),
        (
            "replace a function's code",
            "lambda:UpdateFunctionCode",
            arn(&format!(
                "lambda:us-east-1:{member}:function:mfa-enforcer-iam-events"
            )),
            none.clone(),
        ),
        (
            "reconfigure a function",
            "lambda:UpdateFunctionConfiguration",
            arn(&format!(
                "lambda:us-east-1:{member}:function:mfa-enforcer-scheduled-audit"
            )),
            none.clone(),
        ),
        (
            "throttle a function to zero",
            "lambda:PutFunctionConcurrency",
            arn(&format!(
                "lambda:us-east-1:{member}:function:mfa-enforcer-iam-events"
            )),
            none.clone(),
        ),
        (
            "delete a function",
            "lambda:DeleteFunction",
            arn(&format!(
                "lambda:us-east-1:{member}:function:mfa-enforcer-iam-events"
            )),
            none.clone(),
        ),
        (
            "pass the enforcer's role to new code",
            "iam:PassRole",
            arn(&format!("iam::{member}:role/mfa-enforcer-scheduled-audit")),
            none.clone(),
        ),
        (
            "widen the enforcer's role",
            "iam:PutRolePolicy",
            arn(&format!("iam::{member}:role/mfa-enforcer-iam-events")),
            none.clone(),
        ),
        (
            "let anyone assume it",
            "iam:UpdateAssumeRolePolicy",
            arn(&format!("iam::{member}:role/mfa-enforcer-iam-events")),
            none.clone(),
        ),
        (
            "create a role the SCP would exempt",
            "iam:CreateRole",
            arn(&format!("iam::{member}:role/BreakGlassMallory")),
            none.clone(),
        ),
        (
            "create a look-alike StackSet role",
            "iam:CreateRole",
            arn(&format!("iam::{member}:role/stacksets-exec-evil")),
            none.clone(),
        ),
        (
            "disable the event rule",
            "events:DisableRule",
            arn(&format!(
                "events:us-east-1:{member}:rule/mfa-enforcer-iam-events"
            )),
            none.clone(),
        ),
        (
            "retarget the event rule",
            "events:PutTargets",
            arn(&format!(
                "events:us-east-1:{member}:rule/mfa-enforcer-iam-events"
            )),
            none.clone(),
        ),
        (
            "remove the schedule's target",
            "events:RemoveTargets",
            arn(&format!(
                "events:us-east-1:{member}:rule/mfa-enforcer-schedule"
            )),
            none.clone(),
        ),
        (
            "rewrite the topic policy",
            "sns:SetTopicAttributes",
            arn(&format!("sns:us-east-1:{member}:mfa-enforcer")),
            none.clone(),
        ),
        (
            "delete the topic",
            "sns:DeleteTopic",
            arn(&format!("sns:us-east-1:{member}:mfa-enforcer")),
            none.clone(),
        ),
        (
            "unsubscribe the security team",
            "sns:Unsubscribe",
            arn(&format!("sns:us-east-1:{member}:mfa-enforcer:0b2f9c1e")),
            none.clone(),
        ),
        (
            "stop the trail",
            "cloudtrail:StopLogging",
            arn(&format!("cloudtrail:us-east-1:{member}:trail/mfa-enforcer")),
            none.clone(),
        ),
        (
            "delete the trail",
            "cloudtrail:DeleteTrail",
            arn(&format!("cloudtrail:us-east-1:{member}:trail/mfa-enforcer")),
            none.clone(),
        ),
        (
            "blind the trail",
            "cloudtrail:PutEventSelectors",
            arn(&format!("cloudtrail:us-east-1:{member}:trail/mfa-enforcer")),
            none.clone(),
        ),
        (
            "narrow the trail",
            "cloudtrail:UpdateTrail",
            arn(&format!("cloudtrail:us-east-1:{member}:trail/mfa-enforcer")),
            none.clone(),
        ),
    ];
    // What the SCP must leave alone, so that it is no blanket deny.
    let unprotected: Vec<(&str, &str, String, Value)> = vec![
        (
            "detach another policy",
            "iam:DetachUserPolicy",
            arn(&format!("iam::{member}:user/bob")),
            policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ),
        (
            "tag a user otherwise",
            "iam:TagUser",
            arn(&format!("iam::{member}:user/bob")),
            tags(&["team"]),
        ),
        (
            "create a user",
            "iam:CreateUser",
            arn(&format!("iam::{member}:user/eve")),
            none.clone(),
        ),
        (
            "leave another group",
            "iam:RemoveUserFromGroup",
            arn(&format!("iam::{member}:group/Developers")),
            none.clone(),
        ),
        (
            "deploy other code",
            "lambda:UpdateFunctionCode",
            arn(&format!("lambda:us-east-1:{member}:function:payments")),
            none.clone(),
        ),
        (
            "pass another role",
            "iam:PassRole",
            arn(&format!("iam::{member}:role/AppRole")),
            none.clone(),
        ),
        (
            "stop another trail",
            "cloudtrail:StopLogging",
            arn(&format!("cloudtrail:us-east-1:{member}:trail/dev")),
            none.clone(),
        ),
        (
            "invoke another function",
            "lambda:InvokeFunction",
            arn(&format!("lambda:us-east-1:{member}:function:payments")),
            none.clone(),
        ),
    ];
    let principal = |role: &str| json!({"arn": format!("arn:aws:iam::{member}:role/{role}"), "policies": [allow_all()]});
    let exempt = [
        "mfa-enforcer-scheduled-audit",
        "mfa-enforcer-iam-events",
        "stacksets-exec-8a2c1f00e1b2",
        "BreakGlassAlice",
    ];
    // Not exempt: the self-managed StackSet role (this StackSet is service-managed), and a
    // look-alike of an exempt name. (A look-alike in another case is not asked: principalmapper
    // matches ARNs ignoring case, IAM's ArnNotLike does not.)
    let not_exempt = [
        "Admin",
        "AWSCloudFormationStackSetExecutionRole",
        "mfa-enforcer-scheduled-audit-copy",
    ];
    let mut cases = Vec::new();
    let mut add =
        |who: &str, what: &str, action: &str, resource: &str, context: &Value, allowed: bool| {
            cases.push(Case {
                name: format!("{who}: {what} ({action})"),
                request: json!({"principal": principal(who), "action": action, "resource": resource,
                            "context": context, "scps": scps}),
                allowed,
            });
        };
    for (what, action, resource, context) in &protected {
        for role in not_exempt {
            add(role, what, action, resource, context, false);
        }
        for role in exempt {
            add(role, what, action, resource, context, true);
        }
    }
    for (what, action, resource, context) in &unprotected {
        add("Admin", what, action, resource, context, true);
    }
    check(&cases);
}

#[test]
fn only_the_functions_the_named_operators_and_alarms_may_publish_to_the_topic() {
    let t = template("template.yaml");
    let publish_anything = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]});
    let mut cases = Vec::new();
    for operators in [vec![], vec!["arn:aws:iam::123456789012:role/Operator"]] {
        let policy = deployment(&operators)
            .resolve(&t["Resources"]["TopicPolicy"]["Properties"]["PolicyDocument"])
            .unwrap();
        let who: [(&str, bool); 5] = [
            (SCHEDULED_ROLE, true),
            (EVENTS_ROLE, true),
            (
                "arn:aws:iam::123456789012:role/Operator",
                !operators.is_empty(),
            ),
            ("arn:aws:iam::123456789012:user/admin", false),
            ("arn:aws:iam::123456789012:role/DeveloperRole", false),
        ];
        for (arn, allowed) in who {
            let policies = if arn.ends_with("user/admin") {
                allow_all()
            } else {
                publish_anything.clone()
            };
            cases.push(Case {
                name: format!("{arn} with operators {operators:?}"),
                request: json!({"principal": {"arn": arn, "policies": [policies]},
                                "action": "sns:Publish", "resource": TOPIC, "context": {},
                                "resource_policy": policy, "resource_owner": ACCOUNT}),
                allowed,
            });
        }
    }
    // CloudWatch publishes as a service principal: only this stack's alarms may.
    let policy = deployment(&[])
        .resolve(&t["Resources"]["TopicPolicy"]["Properties"]["PolicyDocument"])
        .unwrap();
    let other_alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:made-up-by-someone";
    for (alarm, account, allowed) in [
        (SCHEDULED_ALARM, ACCOUNT, true),
        (EVENTS_ALARM, ACCOUNT, true),
        (REMAIN_ALARM, ACCOUNT, true),
        (DENY_ALARM, ACCOUNT, true),
        (other_alarm, ACCOUNT, false),
        (SCHEDULED_ALARM, "210987654321", false),
    ] {
        cases.push(Case {
            name: format!("cloudwatch.amazonaws.com for {alarm} of {account}"),
            request: json!({"principal": {"service": "cloudwatch.amazonaws.com"},
                            "action": "sns:Publish", "resource": TOPIC,
                            "context": {"aws:SourceArn": alarm, "aws:SourceAccount": account,
                                        "aws:PrincipalServiceName": "cloudwatch.amazonaws.com"},
                            "resource_policy": policy}),
            allowed,
        });
    }
    check(&cases);
}

#[test]
fn each_function_role_can_do_only_what_the_readme_says() {
    let user = "arn:aws:iam::123456789012:user/bob";
    let other_policy = "arn:aws:iam::123456789012:policy/Other";
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let tags = |keys: &[&str]| json!({"aws:TagKeys": keys});
    // (what, action, resource, context, allowed)
    let table: Vec<(&str, &str, &str, Value, bool)> = vec![
        (
            "attach the deny policy",
            "iam:AttachUserPolicy",
            user,
            json!({"iam:PolicyARN": DENY}),
            true,
        ),
        (
            "attach AdministratorAccess",
            "iam:AttachUserPolicy",
            user,
            json!({"iam:PolicyARN": admin}),
            false,
        ),
        (
            "attach another policy",
            "iam:AttachUserPolicy",
            user,
            json!({"iam:PolicyARN": other_policy}),
            false,
        ),
        (
            "add to the enforcement group",
            "iam:AddUserToGroup",
            GROUP,
            json!({}),
            true,
        ),
        (
            "add to another group",
            "iam:AddUserToGroup",
            "arn:aws:iam::123456789012:group/Admins",
            json!({}),
            false,
        ),
        (
            "remember a notice",
            "iam:TagUser",
            user,
            tags(&["mfa-enforcer:notified-status", "mfa-enforcer:notified-at"]),
            true,
        ),
        (
            "exempt a user",
            "iam:TagUser",
            user,
            tags(&["mfa-enforcer:exempt"]),
            false,
        ),
        (
            "exempt a user beside a notice",
            "iam:TagUser",
            user,
            tags(&["mfa-enforcer:notified-status", "mfa-enforcer:exempt"]),
            false,
        ),
        (
            "write a deny policy version",
            "iam:CreatePolicyVersion",
            DENY,
            json!({}),
            false,
        ),
        (
            "write another policy's version",
            "iam:CreatePolicyVersion",
            other_policy,
            json!({}),
            false,
        ),
        (
            "choose among the deny policy's versions",
            "iam:SetDefaultPolicyVersion",
            DENY,
            json!({}),
            true,
        ),
        (
            "choose another policy's version",
            "iam:SetDefaultPolicyVersion",
            other_policy,
            json!({}),
            false,
        ),
        (
            "delete a deny policy version",
            "iam:DeletePolicyVersion",
            DENY,
            json!({}),
            true,
        ),
        (
            "delete another policy's version",
            "iam:DeletePolicyVersion",
            other_policy,
            json!({}),
            false,
        ),
        (
            "read the deny policy",
            "iam:GetPolicy",
            DENY,
            json!({}),
            true,
        ),
        (
            "publish to its topic",
            "sns:Publish",
            TOPIC,
            json!({}),
            true,
        ),
        (
            "publish elsewhere",
            "sns:Publish",
            "arn:aws:sns:us-east-1:123456789012:other",
            json!({}),
            false,
        ),
        (
            "detach anything",
            "iam:DetachUserPolicy",
            user,
            json!({"iam:PolicyARN": DENY}),
            false,
        ),
        (
            "remove from a group",
            "iam:RemoveUserFromGroup",
            GROUP,
            json!({}),
            false,
        ),
        (
            "give a user a password",
            "iam:CreateLoginProfile",
            user,
            json!({}),
            false,
        ),
        (
            "create access keys",
            "iam:CreateAccessKey",
            user,
            json!({}),
            false,
        ),
        ("pass a role", "iam:PassRole", EVENTS_ROLE, json!({}), false),
        (
            "import findings about its own account",
            "securityhub:BatchImportFindings",
            PRODUCT,
            json!({"securityhub:TargetAccount": ACCOUNT}),
            true,
        ),
        (
            "import findings about another account",
            "securityhub:BatchImportFindings",
            PRODUCT,
            json!({"securityhub:TargetAccount": "210987654321"}),
            false,
        ),
        (
            "import findings into another product",
            "securityhub:BatchImportFindings",
            "arn:aws:securityhub:us-east-1:123456789012:product/prowler/prowler",
            json!({"securityhub:TargetAccount": ACCOUNT}),
            false,
        ),
        (
            "read findings back",
            "securityhub:GetFindings",
            HUB,
            json!({}),
            true,
        ),
        (
            "change an analyst's workflow",
            "securityhub:BatchUpdateFindings",
            HUB,
            json!({}),
            false,
        ),
        (
            "turn Security Hub off",
            "securityhub:DisableSecurityHub",
            HUB,
            json!({}),
            false,
        ),
        (
            "assume a role",
            "sts:AssumeRole",
            "arn:aws:iam::123456789012:role/Admin",
            json!({}),
            false,
        ),
    ];
    // Only the whole-account run remembers which exemptions its summary listed.
    let digest = |role: &str| role == "ScheduledAuditRole";
    let mut cases = Vec::new();
    for (role, arn) in [
        ("ScheduledAuditRole", SCHEDULED_ROLE),
        ("IamEventsRole", EVENTS_ROLE),
    ] {
        let policies = role_policies(role);
        let own: Vec<(&str, &str, &str, Value, bool)> = vec![
            (
                "remember the exemptions announced",
                "iam:TagPolicy",
                DENY,
                tags(&["mfa-enforcer:exempt-digest"]),
                digest(role),
            ),
            (
                "tag the deny policy otherwise",
                "iam:TagPolicy",
                DENY,
                tags(&["mfa-enforcer:exempt-digest", "owner"]),
                false,
            ),
            (
                "tag another policy",
                "iam:TagPolicy",
                other_policy,
                tags(&["mfa-enforcer:exempt-digest"]),
                false,
            ),
            (
                "untag the deny policy",
                "iam:UntagPolicy",
                DENY,
                tags(&["mfa-enforcer:exempt-digest"]),
                false,
            ),
        ];
        for (what, action, resource, context, allowed) in table.iter().chain(&own) {
            cases.push(Case {
                name: format!("{role}: {what}"),
                request: json!({"principal": {"arn": arn, "policies": policies},
                                "action": action, "resource": resource, "context": context}),
                allowed: *allowed,
            });
        }
    }
    check(&cases);
}

#[test]
fn every_policy_the_project_ships_passes_parliament() {
    let t = template("template.yaml");
    let d = deployment(&["arn:aws:iam::123456789012:role/Operator"]);
    let mut policies = BTreeMap::new();
    policies.insert(
        "deny policy (policy-document)".to_string(),
        deny_policy_document(),
    );
    for release in mfa_enforcer::policy::RELEASES {
        policies.insert(
            format!("deny policy of release {}", release.version),
            serde_json::from_str(release.text).unwrap(),
        );
    }
    policies.insert(
        "service control policy (scp-document)".to_string(),
        scp_document(&ScpNames {
            break_glass_role: "BreakGlass*".into(),
            ..ScpNames::default()
        }),
    );
    for (name, resource) in t["Resources"].as_object().unwrap() {
        let properties = &resource["Properties"];
        match resource["Type"].as_str().unwrap() {
            "AWS::IAM::ManagedPolicy" => {
                policies.insert(
                    name.clone(),
                    d.resolve(&properties["PolicyDocument"]).unwrap(),
                );
            }
            "AWS::IAM::Role" | "AWS::IAM::Group" => {
                let inline = properties["Policies"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for (i, p) in inline.iter().enumerate() {
                    policies.insert(
                        format!("{name} policy {i}"),
                        d.resolve(&p["PolicyDocument"]).unwrap(),
                    );
                }
            }
            _ => {}
        }
    }
    assert!(policies.len() >= 7, "{:?}", policies.keys());
    let answer = policy_tool("lint.py", &json!({"policies": policies}));
    let findings: BTreeMap<String, Vec<String>> =
        serde_json::from_value(answer["findings"].clone()).unwrap();
    assert_eq!(findings.len(), policies.len());
    let dirty: Vec<_> = findings.iter().filter(|(_, f)| !f.is_empty()).collect();
    assert!(dirty.is_empty(), "parliament findings: {dirty:#?}");
}

#[test]
fn the_role_trust_classifier_agrees_with_the_evaluator_on_every_trust_policy_of_the_table() {
    let fixture = workspace_root().join("tests/fixtures/trust_policies.json");
    let out = std::process::Command::new(mfa_enforcer_tests::infra_venv().join("bin/python"))
        .arg(workspace_root().join("tests/policy_eval/trust.py"))
        .arg(&fixture)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the evaluator disagrees with the table: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Value = serde_json::from_slice(&out.stdout).unwrap();
    let table: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let answers = answers["cases"].as_array().unwrap();
    assert_eq!(answers.len(), table.len());
    let mut disagreements = Vec::new();
    for (case, answer) in table.iter().zip(answers) {
        let ours = mfa_enforcer::roles::trust::classify(
            &case["document"].to_string(),
            case["path"].as_str().unwrap(),
        );
        let evaluator = answer["classification"].as_str().unwrap_or("none");
        if ours.classification.as_str() != evaluator {
            disagreements.push(format!(
                "{}: ours {}, evaluator {evaluator} ({answer})",
                case["name"], ours.classification
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
