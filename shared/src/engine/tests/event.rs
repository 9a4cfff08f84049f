//! The event run: what each kind of event reads, writes and announces, and every branch of a
//! deny policy repair it starts.

use super::*;
use crate::engine::{handle_event, EngineError};
use crate::event::{parse, target, Context, IamEvent, Target};
use crate::finding::{Outcome, Status};
use crate::run_report::{RunReport, Verdict};
use serde_json::{json, Value};

const ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer-events";

/// A CloudTrail IAM event as EventBridge delivers it.
fn event(name: &str, request: Value, caller: Value) -> IamEvent {
    parse(&json!({
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": ACCOUNT_ID,
        "detail": {
            "eventName": name,
            "eventID": "7f1a3c0e-0000-4000-8000-000000000001",
            "eventTime": "2026-06-15T11:59:58Z",
            "recipientAccountId": ACCOUNT_ID,
            "userIdentity": caller,
            "requestParameters": request,
        }
    }))
    .unwrap()
}

fn person() -> Value {
    json!({"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/admin", "userName": "admin"})
}

fn enforcer() -> Value {
    json!({
        "type": "AssumedRole",
        "arn": "arn:aws:sts::123456789012:assumed-role/mfa-enforcer-events/run",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}}
    })
}

fn root() -> Value {
    json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root"})
}

async fn handle(
    iam: &InMemoryIam,
    sns: &InMemorySns,
    settings: &Settings,
    event: &IamEvent,
) -> Result<RunReport, EngineError> {
    let context = Context {
        account_id: Some(ACCOUNT_ID.into()),
        own_role_arns: vec![ROLE.into()],
        deny_policy_arn: settings.deny_policy_arn.clone(),
        exempt_tag_key: settings.exempt_tag_key.clone(),
        enforcement_group: settings.enforcement_group.clone(),
    };
    let target = target(event, &context).unwrap();
    assert!(!matches!(target, Target::Ignore(_)), "{target:?}");
    handle_event(ports(iam, sns, settings), settings, now(), event, &target).await
}

fn finding<'a>(report: &'a RunReport, user: &str) -> &'a crate::finding::Finding {
    report.findings.iter().find(|f| f.user == user).unwrap()
}

#[tokio::test]
async fn a_new_password_without_mfa_is_contained_reading_only_the_user_and_the_policy() {
    let iam = account(vec![("ann", User::console())]);
    let sns = InMemorySns::new();
    let e = event("CreateLoginProfile", json!({"userName": "ann"}), person());
    let report = handle(&iam, &sns, &settings(&[]), &e).await.unwrap();
    assert_eq!(
        report.event.as_ref().map(|e| e.name.as_str()),
        Some("CreateLoginProfile")
    );
    assert_eq!(finding(&report, "ann").actions[0].outcome, Outcome::Applied);
    assert_eq!(iam.writes(), ["AttachUserPolicy ann", "TagUser ann"]);
    // No report, no account-wide read: the user and the deny policy; no group lookup for a
    // user in no group.
    assert_eq!(iam.reads(), ["GetPolicy", "GetUser"]);
    assert_eq!(sns.event_types(), ["user_enforced", "run_summary"]);
    assert!(iam.state().users["ann"]
        .policies
        .contains(&DENY.to_string()));
}

#[tokio::test]
async fn a_user_in_a_group_costs_one_read_for_every_group_that_carries_the_deny_policy() {
    let iam = account(vec![("ann", User::console().in_group(GROUP))]);
    let sns = InMemorySns::new();
    let e = event(
        "AddUserToGroup",
        json!({"userName": "ann", "groupName": GROUP}),
        person(),
    );
    let report = handle(&iam, &sns, &settings(&[]), &e).await.unwrap();
    assert_eq!(finding(&report, "ann").status, Status::Enforced);
    assert_eq!(
        iam.reads(),
        ["GetPolicy", "GetUser", "ListEntitiesForPolicy"]
    );
    // Enforced through the group: nothing to attach; she is told once.
    assert_eq!(iam.writes(), ["TagUser ann"]);
}

#[tokio::test]
async fn an_event_naming_a_user_gone_since_writes_nothing() {
    let iam = account(vec![]);
    let sns = InMemorySns::new();
    let e = event("UpdateLoginProfile", json!({"userName": "ghost"}), person());
    let report = handle(&iam, &sns, &settings(&[]), &e).await.unwrap();
    let ghost = finding(&report, "ghost");
    assert_eq!(ghost.status, Status::NotApplicable);
    assert_eq!(ghost.arn, "arn:aws:iam::123456789012:user/ghost");
    assert!(ghost.actions.is_empty());
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn the_deny_policy_detached_from_the_group_recontains_its_members_past_the_guard() {
    let members: Vec<(&str, User)> = ["ann", "ben", "cat"]
        .into_iter()
        .map(|n| (n, User::console().in_group(GROUP)))
        .collect();
    let iam = account(members);
    // An insider frees the whole group; the guard allows one new enforcement per run.
    iam.change(|s| s.groups.get_mut(GROUP).unwrap().policies.clear());
    let sns = InMemorySns::new();
    let e = event(
        "DetachGroupPolicy",
        json!({"groupName": GROUP, "policyArn": DENY}),
        person(),
    );
    let report = handle(
        &iam,
        &sns,
        &settings(&[("MAX_ENFORCEMENTS_PER_RUN", "1")]),
        &e,
    )
    .await
    .unwrap();
    assert!(!report.summary.guard_tripped);
    assert_eq!(report.summary.users_to_recontain, 3);
    let mut attached: Vec<String> = iam
        .writes()
        .into_iter()
        .filter(|w| w.starts_with("AttachUserPolicy"))
        .collect();
    attached.sort();
    assert_eq!(
        attached,
        [
            "AttachUserPolicy ann",
            "AttachUserPolicy ben",
            "AttachUserPolicy cat"
        ]
    );
}

#[tokio::test]
async fn the_enforcement_group_deleted_is_announced() {
    let iam = account(vec![]);
    iam.change(|s| {
        s.groups.remove(GROUP);
    });
    let sns = InMemorySns::new();
    let e = event("DeleteGroup", json!({"groupName": GROUP}), person());
    let report = handle(&iam, &sns, &settings(&[]), &e).await.unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(sns.event_types(), ["enforcement_group_deleted"]);
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn an_exemption_granted_by_anyone_even_the_enforcer_is_announced() {
    let iam = account(vec![(
        "ann",
        User::console().tagged("mfa-enforcer:exempt", "true"),
    )]);
    let sns = InMemorySns::new();
    let e = event(
        "TagUser",
        json!({"userName": "ann", "tags": [{"key": "mfa-enforcer:exempt", "value": "true"}]}),
        enforcer(),
    );
    let report = handle(&iam, &sns, &settings(&[]), &e).await.unwrap();
    assert_eq!(finding(&report, "ann").status, Status::Exempt);
    assert_eq!(sns.event_types(), ["exemption_changed"]);
    let alert = &sns.sent()[0];
    assert!(
        alert.subject.contains("ann exempt from MFA"),
        "{}",
        alert.subject
    );
    assert!(iam.writes().is_empty(), "exempt users are never written to");
}

#[tokio::test]
async fn root_changing_its_own_mfa_is_reported_from_the_account_summary_and_never_written() {
    let iam = account(vec![]);
    iam.change(|s| s.root.mfa_enabled = false);
    let sns = InMemorySns::new();
    let e = event(
        "DeactivateMFADevice",
        json!({"serialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device"}),
        root(),
    );
    let report = handle(&iam, &sns, &settings(&[]), &e).await.unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].status, Status::NonCompliant);
    assert_eq!(report.findings[0].arn, "arn:aws:iam::123456789012:root");
    assert_eq!(iam.reads(), ["GetAccountSummary"]);
    assert!(iam.writes().is_empty());
    assert_eq!(sns.event_types(), ["root_without_mfa", "run_summary"]);
}

#[tokio::test]
async fn a_dry_run_plans_and_writes_nothing() {
    let iam = account(vec![("ann", User::console())]);
    let sns = InMemorySns::new();
    let e = event("CreateLoginProfile", json!({"userName": "ann"}), person());
    let report = handle(&iam, &sns, &settings(&[("DRY_RUN", "true")]), &e)
        .await
        .unwrap();
    assert_eq!(finding(&report, "ann").actions[0].outcome, Outcome::Planned);
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn a_deny_policy_of_another_account_stops_the_run_before_any_read() {
    let iam = account(vec![("ann", User::console())]);
    let sns = InMemorySns::new();
    let e = event("CreateLoginProfile", json!({"userName": "ann"}), person());
    let settings = settings(&[(
        "DENY_POLICY_ARN",
        "arn:aws:iam::210987654321:policy/DenyWithoutMFA",
    )]);
    let err = handle(&iam, &sns, &settings, &e).await.unwrap_err();
    assert!(matches!(err, EngineError::Setting(_)), "{err}");
    assert!(iam.calls().is_empty());
}

#[tokio::test]
async fn a_failed_read_fails_the_run_and_writes_nothing() {
    let iam = account(vec![("ann", User::console())]);
    iam.fail("GetUser", Some("ann"), "Throttling");
    let sns = InMemorySns::new();
    let e = event("CreateLoginProfile", json!({"userName": "ann"}), person());
    let err = handle(&iam, &sns, &settings(&[]), &e).await.unwrap_err();
    assert!(err.retryable(), "{err}");
    assert!(iam.writes().is_empty());
    assert!(sns.sent().is_empty());
}

#[tokio::test]
async fn a_user_event_on_a_tampered_deny_policy_attaches_nothing_and_repairs_it() {
    let iam = tampered(vec![("ann", User::console())]);
    let sns = InMemorySns::new();
    let e = event("CreateLoginProfile", json!({"userName": "ann"}), person());
    let report = handle(&iam, &sns, &settings(&[]), &e).await.unwrap();
    assert_eq!(finding(&report, "ann").actions[0].outcome, Outcome::Skipped);
    assert_eq!(
        iam.writes(),
        ["SetDefaultPolicyVersion v1", "DeletePolicyVersion v2"]
    );
    assert_eq!(sns.event_types()[0], "deny_policy_changed");
}

/// A `CreatePolicyVersion` of the deny policy (checks every version).
fn version_written() -> IamEvent {
    event(
        "CreatePolicyVersion",
        json!({"policyArn": DENY, "setAsDefault": false}),
        person(),
    )
}

/// The deny policy with versions `v1`... holding `documents`, `default` the default.
fn deny_policy(iam: &InMemoryIam, documents: &[&str], default: &str) {
    iam.change(|s| {
        let mut p = ManagedPolicy::with_versions(documents);
        p.default = default.to_string();
        s.policies.insert(DENY.into(), p);
    });
}

fn versions(iam: &InMemoryIam) -> (String, Vec<String>) {
    let p = &iam.state().policies[DENY];
    (
        p.default.clone(),
        p.versions.iter().map(|v| v.id.clone()).collect(),
    )
}

#[tokio::test]
async fn a_version_written_beside_a_canonical_default_is_removed_and_announced() {
    let iam = account(vec![]);
    deny_policy(&iam, &[&canonical(), TAMPERED], "v1");
    let sns = InMemorySns::new();
    let report = handle(&iam, &sns, &settings(&[]), &version_written())
        .await
        .unwrap();
    let check = report.deny_policy.as_ref().unwrap();
    assert!(check.canonical);
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(iam.writes(), ["DeletePolicyVersion v2"]);
    assert_eq!(versions(&iam), ("v1".into(), vec!["v1".into()]));
    assert_eq!(sns.event_types(), ["deny_policy_changed", "run_summary"]);
    assert!(sns.sent()[0].text.contains(TAMPERED));
}

#[tokio::test]
async fn a_version_deleted_under_the_repair_makes_the_event_run_read_again() {
    let iam = account(vec![]);
    let c = canonical();
    deny_policy(&iam, &[&c, &c, TAMPERED], "v3");
    // Someone deletes v2 (the newest canonical) just before this run makes it the default.
    iam.then_fail("NoSuchEntity", |s| {
        if let Some(p) = s.policies.get_mut(DENY) {
            p.versions.retain(|v| v.id != "v2");
        }
    });
    let report = handle(
        &iam,
        &InMemorySns::new(),
        &settings(&[]),
        &version_written(),
    )
    .await
    .unwrap();
    assert_eq!(
        iam.writes(),
        [
            "SetDefaultPolicyVersion v2",
            "SetDefaultPolicyVersion v1",
            "DeletePolicyVersion v3"
        ]
    );
    assert_eq!(versions(&iam), ("v1".into(), vec!["v1".into()]));
    assert_eq!(report.verdict(), Verdict::Clean);
    assert_eq!(report.deny_policy.unwrap().outcome, Outcome::Applied);
}

#[tokio::test]
async fn a_version_made_the_default_under_the_repair_is_undone_on_the_next_read() {
    let iam = account(vec![]);
    deny_policy(&iam, &[&canonical(), TAMPERED, TAMPERED], "v2");
    iam.then_succeed(); // SetDefaultPolicyVersion v1
    iam.then_succeed(); // DeletePolicyVersion v2
    iam.then_fail("DeleteConflict", |s| {
        if let Some(p) = s.policies.get_mut(DENY) {
            p.default = "v3".into();
        }
    });
    let report = handle(
        &iam,
        &InMemorySns::new(),
        &settings(&[]),
        &version_written(),
    )
    .await
    .unwrap();
    assert_eq!(
        iam.writes(),
        [
            "SetDefaultPolicyVersion v1",
            "DeletePolicyVersion v2",
            "DeletePolicyVersion v3",
            "SetDefaultPolicyVersion v1",
            "DeletePolicyVersion v3"
        ]
    );
    assert_eq!(versions(&iam), ("v1".into(), vec!["v1".into()]));
    assert_eq!(report.deny_policy.unwrap().outcome, Outcome::Applied);
}

#[tokio::test]
async fn conflicts_that_never_end_fail_the_event_run_visibly() {
    let iam = account(vec![]);
    deny_policy(&iam, &[&canonical(), TAMPERED], "v2");
    for _ in 0..crate::engine::deny_policy::REPAIR_ATTEMPTS {
        iam.then_fail("ConcurrentModification", |_| {});
    }
    let sns = InMemorySns::new();
    let report = handle(&iam, &sns, &settings(&[]), &version_written())
        .await
        .unwrap();
    let check = report.deny_policy.as_ref().unwrap();
    assert_eq!(check.outcome, Outcome::Failed);
    assert_eq!(report.summary.actions_failed, 1);
    assert_eq!(report.verdict(), Verdict::Failed);
    assert_eq!(sns.event_types()[0], "deny_policy_changed");
}

#[tokio::test]
async fn a_refused_repair_fails_at_once() {
    let iam = account(vec![]);
    deny_policy(&iam, &[&canonical(), TAMPERED], "v2");
    iam.fail("SetDefaultPolicyVersion", None, "AccessDenied");
    let report = handle(
        &iam,
        &InMemorySns::new(),
        &settings(&[]),
        &version_written(),
    )
    .await
    .unwrap();
    assert_eq!(iam.writes(), ["SetDefaultPolicyVersion v1"]);
    assert_eq!(report.deny_policy.unwrap().outcome, Outcome::Failed);
}

#[tokio::test]
async fn with_no_canonical_version_the_event_run_writes_nothing_and_says_what_to_run() {
    let iam = account(vec![]);
    deny_policy(&iam, &[TAMPERED], "v1");
    let sns = InMemorySns::new();
    let report = handle(&iam, &sns, &settings(&[]), &version_written())
        .await
        .unwrap();
    let check = report.deny_policy.as_ref().unwrap();
    assert_eq!(check.outcome, Outcome::Skipped);
    assert!(!check.operator_commands.is_empty());
    assert!(iam.writes().is_empty());
    assert_eq!(sns.event_types()[0], "deny_policy_changed");
}
