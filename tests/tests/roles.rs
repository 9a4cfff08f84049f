//! Roles against moto: the trust policies of the table (tests/fixtures/trust_policies.json),
//! seeded as real roles, come back classified in the JSON report of a scheduled run; a
//! privileged role a caller without MFA may assume raises one critical alert listing it; no
//! request of the run writes to a role, and reading them costs no request per role.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::roles::RoleClassification;
use mfa_enforcer_tests::{fixture, Account, Moto};
use scheduled_audit::{handle, App};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

#[tokio::test(flavor = "multi_thread")]
async fn seeded_roles_come_back_classified_and_a_privileged_one_without_mfa_is_alerted() {
    let moto = Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let config = moto.sdk_config().await;
    let account = Account::seed(&config, &deny_policy_document().to_string()).await;
    let table: Vec<Value> = serde_json::from_str(&fixture("trust_policies.json")).unwrap();
    let mut expected = BTreeMap::new();
    for case in &table {
        let name = case["name"].as_str().unwrap();
        // moto (like IAM) refuses to create roles under AWS's reserved paths: those cases
        // are judged by the unit tests and the evaluator only.
        let path = case["path"].as_str().unwrap();
        if path != "/" {
            continue;
        }
        account
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(case["document"].to_string())
            .send()
            .await
            .unwrap();
        expected.insert(
            name.to_string(),
            case["expected"].as_str().unwrap().to_string(),
        );
    }
    // Privileged: one without MFA (AWS managed policy), one with MFA, one by an inline policy.
    for (role, how) in [
        ("account_root_no_condition", "managed"),
        ("account_root_bool_mfa_present", "managed"),
        ("account_root_boolifexists_mfa_present", "inline"),
    ] {
        match how {
            "managed" => {
                account
                    .iam
                    .attach_role_policy()
                    .role_name(role)
                    .policy_arn(ADMIN)
                    .send()
                    .await
                    .unwrap();
            }
            _ => {
                account
                    .iam
                    .put_role_policy()
                    .role_name(role)
                    .policy_name("everything")
                    .policy_document(
                        json!({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
                        .to_string(),
                    )
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    moto.reset_recording();

    let clients = Clients::new(&config);
    let app = App::new(account.settings(&[]), (), &clients);
    let report = handle(
        &app,
        LambdaEvent::new(json!({"dry_run": false}), Context::default()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));

    let roles = report.roles.as_ref().unwrap();
    let classified: BTreeMap<String, String> = roles
        .iter()
        .map(|r| (r.name.clone(), r.classification.to_string()))
        .collect();
    assert_eq!(classified, expected);
    let privileged: BTreeMap<&str, bool> = roles
        .iter()
        .filter(|r| r.privileged)
        .map(|r| (r.name.as_str(), r.privileged_without_mfa()))
        .collect();
    assert_eq!(
        privileged,
        BTreeMap::from([
            ("account_root_bool_mfa_present", false),
            ("account_root_boolifexists_mfa_present", true),
            ("account_root_no_condition", true),
        ])
    );
    let counts = report.summary.roles.as_ref().unwrap();
    assert_eq!(counts.privileged_without_mfa, 2);
    assert_eq!(
        counts.mfa_required
            + counts.mfa_not_required
            + counts.mfa_bypassable
            + counts.not_applicable,
        expected.len()
    );
    let bypassable = roles
        .iter()
        .find(|r| r.classification == RoleClassification::MfaBypassable)
        .unwrap();
    assert_eq!(
        bypassable.privileged_by,
        ["inline:everything"],
        "an inline policy is named as such"
    );

    // One critical alert, listing both roles and no other.
    let messages = account.drain_queue().await;
    let alerts: Vec<&Value> = messages
        .iter()
        .filter(|m| m["MessageAttributes"]["event_type"]["Value"] == "privileged_roles_without_mfa")
        .collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0]["MessageAttributes"]["severity"]["Value"],
        "critical"
    );
    let body = alerts[0]["Message"].as_str().unwrap();
    assert!(body.contains("account_root_no_condition"), "{body}");
    assert!(
        body.contains("account_root_boolifexists_mfa_present"),
        "{body}"
    );
    assert!(!body.contains("account_root_bool_mfa_present"), "{body}");

    // Roles are read, never written, and cost no request each.
    let requests = moto.recorded_actions();
    let role_requests: Vec<&String> = requests
        .iter()
        .filter(|a| a.contains("Role") || a.contains("AttachedRolePolicies"))
        .collect();
    assert!(role_requests.is_empty(), "{role_requests:?}");
    let details_pages = requests
        .iter()
        .filter(|a| *a == "iam:GetAccountAuthorizationDetails")
        .count();
    assert_eq!(details_pages, 1, "{requests:?}");
}
