//! infra/template.yaml held against the code: the deny policy document, each role's
//! permissions both ways (nothing missing, nothing extra) and how narrowly they are granted,
//! the event names of the rule, and the parameter defaults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfa_enforcer::event::HandledEvent;
use mfa_enforcer::permissions;
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::settings::{RawSettings, Settings, VARIABLES};
use mfa_enforcer::tag_keys::{EXEMPT_DIGEST_TAG, NOTIFIED_AT_TAG, NOTIFIED_STATUS_TAG};
use mfa_enforcer_tests::template::{self, granted, list, resource, statements};
use mfa_enforcer_tests::workspace_root;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

fn template() -> Value {
    template::load()
}

fn statement_for<'a>(statements: &'a [Value], action: &str) -> Vec<&'a Value> {
    statements
        .iter()
        .filter(|s| list(&s["Action"]).iter().any(|a| a == action))
        .collect()
}

const ROLES: [(&str, &str); 2] = [
    ("ScheduledAuditRole", "ScheduledAuditLogs"),
    ("IamEventsRole", "IamEventsLogs"),
];

#[test]
fn the_deny_policy_is_the_canonical_document() {
    let t = template();
    assert_eq!(
        resource(&t, "DenyPolicy")["Properties"]["PolicyDocument"],
        deny_policy_document()
    );
    // The enforcement group carries it and nothing else: the deny policy is self-sufficient.
    let group = &resource(&t, "EnforcementGroup")["Properties"]["ManagedPolicyArns"];
    assert_eq!(*group, json!([{"Ref": "DenyPolicy"}]));
    assert!(resource(&t, "EnforcementGroup")["Properties"]
        .get("Policies")
        .is_none());
}

#[test]
fn each_role_grants_exactly_what_the_code_declares() {
    let t = template();
    let infrastructure = |role: &str| -> BTreeSet<String> {
        // Not calls of our code: logs for the runtime, the topic's key for SNS, the on-failure
        // destination for Lambda.
        let mut extra = vec![
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "kms:GenerateDataKey",
            "kms:Decrypt",
        ];
        if role == "IamEventsRole" {
            extra.push("sqs:SendMessage");
        }
        extra.into_iter().map(String::from).collect()
    };
    for ((role, _), code) in ROLES
        .iter()
        .zip([permissions::scheduled_audit(), permissions::iam_events()])
    {
        let mut expected: BTreeSet<String> = code.iter().map(|p| p.to_string()).collect();
        expected.extend(infrastructure(role));
        let granted = granted(&t, role);
        let missing: Vec<_> = expected.difference(&granted).collect();
        let extra: Vec<_> = granted.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{role}: missing {missing:?}, extra {extra:?}"
        );
    }
}

#[test]
fn writes_are_granted_only_on_what_the_enforcer_owns() {
    let t = template();
    for (role, logs) in ROLES {
        let all = statements(&t, role);
        for s in &all {
            for action in list(&s["Action"]) {
                assert!(!action.contains('*'), "{role}: wildcard action {action}");
            }
        }
        // Only the actions IAM cannot scope get Resource "*".
        let unscoped: BTreeSet<String> = all
            .iter()
            .filter(|s| s["Resource"] == "*")
            .flat_map(|s| list(&s["Action"]))
            .collect();
        let allowed_unscoped: BTreeSet<String> = [
            "iam:GenerateCredentialReport",
            "iam:GetCredentialReport",
            "iam:GetAccountAuthorizationDetails",
            "iam:GetAccountSummary",
            "iam:ListVirtualMFADevices",
        ]
        .map(String::from)
        .into();
        assert!(
            unscoped.is_subset(&allowed_unscoped),
            "{role}: {unscoped:?}"
        );

        for s in statement_for(&all, "iam:AttachUserPolicy") {
            assert_eq!(
                s["Condition"]["ArnEquals"]["iam:PolicyARN"],
                json!({"Ref": "DenyPolicy"}),
                "{role}"
            );
        }
        for s in statement_for(&all, "iam:AddUserToGroup") {
            assert_eq!(
                s["Resource"],
                json!({"Fn::GetAtt": ["EnforcementGroup", "Arn"]}),
                "{role}"
            );
        }
        for s in statement_for(&all, "iam:TagUser") {
            let pattern = s["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"]
                .as_str()
                .unwrap();
            let prefix = pattern.strip_suffix('*').unwrap();
            assert!(prefix.starts_with("mfa-enforcer:"), "{role}: {pattern}");
            for key in [NOTIFIED_STATUS_TAG, NOTIFIED_AT_TAG] {
                assert!(key.starts_with(prefix), "{role}: {key} outside {pattern}");
            }
        }
        for s in statement_for(&all, "iam:TagPolicy") {
            assert_eq!(s["Resource"], json!({"Ref": "DenyPolicy"}), "{role}");
            assert_eq!(
                s["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"],
                json!(EXEMPT_DIGEST_TAG),
                "{role}"
            );
        }
        for s in statement_for(&all, "sns:Publish") {
            assert_eq!(s["Resource"], json!({"Ref": "Topic"}), "{role}");
        }
        for action in [
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:ListPolicyVersions",
            "iam:SetDefaultPolicyVersion",
            "iam:DeletePolicyVersion",
            "iam:ListEntitiesForPolicy",
        ] {
            for s in statement_for(&all, action) {
                assert_eq!(
                    s["Resource"],
                    json!({"Ref": "DenyPolicy"}),
                    "{role} {action}"
                );
            }
        }
        for s in statement_for(&all, "logs:PutLogEvents") {
            assert_eq!(
                s["Resource"],
                json!({"Fn::GetAtt": [logs, "Arn"]}),
                "{role}"
            );
        }
    }
}

#[test]
fn no_role_of_the_stack_may_author_policy_content() {
    let t = template();
    let resources = t["Resources"].as_object().unwrap();
    let roles: BTreeSet<&String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
        .map(|(name, _)| name)
        .collect();
    // The optional admin role is for people, who administer the account with it (after MFA);
    // the enforcer never runs as it.
    assert_eq!(
        roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        [
            "AdminRole",
            "AuditRole",
            "IamEventsRole",
            "ScheduledAuditRole"
        ]
    );
    assert!(resources["AdminRole"]["Properties"]["Policies"].is_null());
    for role in roles.into_iter().filter(|r| *r != "AdminRole") {
        let granted = granted(&t, role);
        for forbidden in [
            "iam:CreatePolicyVersion",
            "iam:CreatePolicy",
            "iam:PutUserPolicy",
            "iam:PutGroupPolicy",
            "iam:AttachGroupPolicy",
            "iam:DetachUserPolicy",
            "iam:DetachGroupPolicy",
        ] {
            assert!(!granted.contains(forbidden), "{role} may {forbidden}");
        }
    }
}

fn stackset() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("infra/stackset.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

#[test]
fn the_stackset_fixes_the_names_and_its_scp_is_the_scp_document() {
    use mfa_enforcer::scp::{scp_document, ScpNames};
    let t = stackset();
    let stack = &t["Resources"]["MfaEnforcerStackSet"]["Properties"];
    let passed: BTreeMap<String, Value> = stack["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["ParameterKey"].as_str().unwrap().to_string(),
                p["ParameterValue"].clone(),
            )
        })
        .collect();
    let names = ScpNames {
        break_glass_role: "${BreakGlassRoleNamePattern}".into(),
        trail: "${ProtectedTrailName}".into(),
        ..ScpNames::default()
    };
    assert_eq!(passed["DenyPolicyName"], json!(names.deny_policy));
    assert_eq!(
        passed["EnforcementGroupName"],
        json!(names.enforcement_group)
    );
    assert_eq!(passed["NamePrefix"], json!(names.prefix));
    // Every parameter the StackSet passes is one the per-account template has.
    let template = template();
    for key in passed.keys() {
        assert!(
            template["Parameters"].get(key).is_some(),
            "the template has no parameter {key}"
        );
    }

    let scp = &t["Resources"]["ProtectEnforcerScp"];
    assert_eq!(scp["Condition"], "CreatesScp");
    assert_eq!(scp["Properties"]["Type"], "SERVICE_CONTROL_POLICY");
    assert_eq!(
        scp["Properties"]["TargetIds"],
        json!({"Ref": "OrganizationalUnitIds"})
    );
    let content = scp["Properties"]["Content"]["Fn::Sub"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(content).unwrap(),
        scp_document(&names),
        "regenerate it: mfa-enforcer scp-document --break-glass-role '${{BreakGlassRoleNamePattern}}' --trail-name '${{ProtectedTrailName}}' --compact"
    );
    // Both substitutions are parameters of the StackSet, and nothing else is substituted.
    let subs: Vec<&str> = content
        .split("${")
        .skip(1)
        .map(|s| s.split('}').next().unwrap())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(subs, ["BreakGlassRoleNamePattern", "ProtectedTrailName"]);
    for sub in subs {
        assert!(t["Parameters"].get(sub).is_some(), "{sub}");
    }
    // The longest names the parameters allow still fit the SCP size limit.
    let longest = content
        .replace("${BreakGlassRoleNamePattern}", &"b".repeat(64))
        .replace("${ProtectedTrailName}", &"t".repeat(128));
    assert!(
        longest.len() <= mfa_enforcer::scp::MAX_SCP_CHARS,
        "{}",
        longest.len()
    );
}

#[test]
fn only_the_enforcer_alarms_and_named_operators_may_publish_to_the_topic() {
    let t = template();
    let policy = &resource(&t, "TopicPolicy")["Properties"]["PolicyDocument"]["Statement"];
    let deny = &policy[0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Principal"], "*");
    assert_eq!(deny["Action"], "sns:Publish");
    let exempt = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"].to_string();
    for needed in [
        "ScheduledAuditRole",
        "IamEventsRole",
        "OperatorPrincipalArns",
    ] {
        assert!(exempt.contains(needed), "{needed} not exempt: {exempt}");
    }
    // Service principals (CloudWatch alarms) have no aws:PrincipalArn: the deny is limited
    // to requests that are not a service's.
    assert_eq!(
        deny["Condition"]["Null"],
        json!({"aws:PrincipalServiceName": "true"})
    );
    let alarms = &policy[1];
    assert_eq!(alarms["Effect"], "Allow");
    assert_eq!(
        alarms["Principal"],
        json!({"Service": "cloudwatch.amazonaws.com"})
    );
    assert_eq!(
        alarms["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!({"Ref": "AWS::AccountId"})
    );
}

#[test]
fn the_event_rule_sends_exactly_the_handled_events() {
    let t = template();
    let pattern = &resource(&t, "IamEventsFunction")["Properties"]["Events"]["IamApiCalls"]
        ["Properties"]["Pattern"];
    assert_eq!(pattern["source"], json!(["aws.iam"]));
    assert_eq!(
        pattern["detail-type"],
        json!(["AWS API Call via CloudTrail"])
    );
    assert_eq!(list(&pattern["detail"]["eventName"]), HandledEvent::names());
    // Both functions' roles are the enforcer's own: their events are ignored.
    let env = &resource(&t, "IamEventsFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(
        env["ENFORCER_ROLE_ARN"],
        json!({"Fn::Sub": "${ScheduledAuditRole.Arn},${IamEventsRole.Arn}"})
    );
}

#[test]
fn every_setting_is_a_parameter_with_the_codes_default() {
    let t = template();
    let parameters = &t["Parameters"];
    let owned = BTreeMap::from([
        ("DENY_POLICY_ARN", "arn:aws:iam::123456789012:policy/Deny"),
        ("ENFORCEMENT_GROUP", "MFAEnforcement"),
        (
            "TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:mfa-enforcer",
        ),
    ]);
    for function in ["ScheduledAuditFunction", "IamEventsFunction"] {
        let env = &resource(&t, function)["Properties"]["Environment"]["Variables"];
        let from_template = RawSettings::from_lookup(|name| {
            if let Some(v) = owned.get(name) {
                return Some(v.to_string());
            }
            // Set only with the optional admin role (CreateAdminRole, "false" by default).
            if env[name]["Fn::If"][0] == "CreatesAdminRole" {
                assert_eq!(parameters["CreateAdminRole"]["Default"], "false");
                return Some(env[name]["Fn::If"][2].as_str().unwrap().to_string());
            }
            let parameter = env[name]["Ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{function}: {name} is not a parameter"));
            match &parameters[parameter]["Default"] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                other => panic!("{parameter}: default {other}"),
            }
        });
        for name in VARIABLES {
            assert!(env.get(name).is_some(), "{function} does not set {name}");
        }
        let from_code = RawSettings::from_lookup(|name| owned.get(name).map(|v| v.to_string()));
        assert_eq!(
            Settings::parse(&from_template).unwrap(),
            Settings::parse(&from_code).unwrap(),
            "{function}"
        );
    }
}

#[test]
fn the_audit_role_grants_exactly_the_org_audits_reads_to_one_principal_of_the_organization() {
    let t = template();
    let role = resource(&t, "AuditRole");
    assert_eq!(
        role["Condition"], "CreatesAuditRole",
        "only with AuditPrincipalArn"
    );
    assert_eq!(t["Parameters"]["AuditPrincipalArn"]["Default"], "");
    let granted = granted(&t, "AuditRole");
    let declared: BTreeSet<String> = permissions::org_audit()
        .iter()
        .map(|p| p.to_string())
        .collect();
    let missing: Vec<_> = declared.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&declared).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "AuditRole: missing {missing:?}, extra {extra:?}"
    );
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        trust["Principal"]["AWS"],
        json!({"Ref": "AuditPrincipalArn"})
    );
    assert_eq!(
        trust["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
        json!({"Ref": "AuditOrganizationId"})
    );
    assert_eq!(
        role["Properties"]["RoleName"]["Fn::If"][2],
        mfa_enforcer::org::DEFAULT_AUDIT_ROLE,
        "the name audit --org assumes by default"
    );
    // The StackSet passes both parameters through.
    let stackset: Value = serde_yaml::from_str(
        &std::fs::read_to_string(workspace_root().join("infra/stackset.yaml")).unwrap(),
    )
    .unwrap();
    let passed =
        stackset["Resources"]["MfaEnforcerStackSet"]["Properties"]["Parameters"].to_string();
    assert!(passed.contains("AuditPrincipalArn") && passed.contains("AuditOrganizationId"));
}

/// The metric names a run of each kind (`account`, `event`) emits: every optional one included.
fn emitted() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    use mfa_enforcer::export::emf;
    let mut report = mfa_enforcer::run_report::RunReport::empty(
        "123456789012",
        chrono::DateTime::UNIX_EPOCH,
        false,
    );
    report.deny_policy = Some(
        serde_json::from_value(json!({"arn": "x", "default_version": "v1", "canonical": true}))
            .unwrap(),
    );
    report.security_hub = Some(Default::default());
    let names = |r: &mfa_enforcer::run_report::RunReport| -> BTreeSet<&'static str> {
        emf::metrics(r, 0).into_iter().map(|(n, _, _)| n).collect()
    };
    let account = names(&report);
    let event = mfa_enforcer_tests::fixture("events/cloudtrail/add-user-to-group.json");
    report.event =
        Some(mfa_enforcer::event::parse(&serde_json::from_str(&event).unwrap()).unwrap());
    BTreeMap::from([("account", account), ("event", names(&report))])
}

#[test]
fn the_dashboard_and_the_alarms_read_only_metrics_the_runs_emit() {
    let t = template();
    let emitted = emitted();
    let body = resource(&t, "Dashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .to_string();
    // The alarms it shows are the stack's own.
    for reference in body.split("${").skip(1) {
        let name = reference.split('}').next().unwrap();
        if let Some(alarm) = name.strip_suffix(".Arn") {
            assert_eq!(resource(&t, alarm)["Type"], "AWS::CloudWatch::Alarm");
        }
    }
    let mut plain = String::new();
    for (i, part) in body.split("${").enumerate() {
        match i {
            0 => plain.push_str(part),
            _ => plain.push_str(&format!("x{}", part.split_once('}').unwrap().1)),
        }
    }
    let dashboard: Value = serde_json::from_str(&plain).expect("the dashboard body is JSON");
    let mut shown = 0;
    for widget in dashboard["widgets"].as_array().unwrap() {
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (namespace, name, dimension, run) = (
                metric[0].as_str().unwrap(),
                metric[1].as_str().unwrap(),
                metric[2].as_str().unwrap(),
                metric[3].as_str().unwrap(),
            );
            assert_eq!((namespace, dimension), ("MfaEnforcer", "Run"));
            assert!(
                emitted[run].contains(name),
                "the dashboard shows {name} of {run} runs, which they never emit"
            );
            shown += 1;
        }
    }
    assert!(shown >= 10, "{shown} metrics shown");
    let hours = &t["Parameters"]["NonCompliantAlarmHours"];
    for (name, alarm) in t["Resources"].as_object().unwrap() {
        let p = &alarm["Properties"];
        if alarm["Type"] != "AWS::CloudWatch::Alarm" || p["Namespace"] != "MfaEnforcer" {
            continue;
        }
        let metric = p["MetricName"].as_str().unwrap();
        assert!(emitted["account"].contains(metric), "{name}: {metric}");
        assert_eq!(
            p["Dimensions"],
            json!([{"Name": "Run", "Value": "account"}])
        );
        // CloudWatch: Period × EvaluationPeriods at most 7 days.
        let evaluations = p["EvaluationPeriods"].as_u64().unwrap();
        let periods: Vec<u64> = match &p["Period"] {
            Value::Number(n) => vec![n.as_u64().unwrap()],
            _ => list(&hours["AllowedValues"])
                .iter()
                .map(|h| {
                    let seconds = t["Mappings"]["AlarmWindow"][h]["Seconds"].as_u64().unwrap();
                    assert_eq!(seconds, h.parse::<u64>().unwrap() * 3600, "{h} hours");
                    seconds
                })
                .collect(),
        };
        for period in periods {
            assert!(
                period % 60 == 0 && period * evaluations <= 7 * 86_400,
                "{name}"
            );
        }
        assert_eq!(p["AlarmActions"], json!([{"Ref": "Topic"}]), "{name}");
    }
}
