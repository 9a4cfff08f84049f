//! Event runs against a real moto server: the iam-events handler fed real-format CloudTrail
//! envelopes (tests/fixtures/events/cloudtrail), and its binary through the Lambda Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use iam_events::{handle, App, HandlerError, OwnRoles, Response};
use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::event::{self, IgnoreReason, Target};
use mfa_enforcer::finding::{ActionKind, Outcome, Status};
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::run_report::RunReport;
use mfa_enforcer::settings::Settings;
use mfa_enforcer_tests::runtime_api::{Answer, RuntimeApi};
use mfa_enforcer_tests::{binary, fixture, Account, Moto, UserSpec, ACCOUNT, GROUP};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// The enforcer's role in the fixtures (`add-user-to-group-by-enforcer.json`).
const ENFORCER_ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer-EnforcerRole-1A2B3C4D5E6F";
const EXEMPT: &str = "mfa-enforcer:exempt";
const ENFORCE: &[(&str, &str)] = &[("DRY_RUN", "false")];

fn cloudtrail(name: &str) -> Value {
    serde_json::from_str(&fixture(&format!("events/cloudtrail/{name}"))).unwrap()
}

async fn seeded() -> (Moto, Account) {
    let moto = Moto::start();
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    (moto, account)
}

async fn invoke(moto: &Moto, settings: Settings, payload: Value) -> Result<Response, HandlerError> {
    let clients = Clients::new(&moto.sdk_config().await);
    let app = App::new(settings, OwnRoles(vec![ENFORCER_ROLE.into()]), &clients);
    let mut context = Context::default();
    context.invoked_function_arn =
        format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:iam-events");
    handle(&app, LambdaEvent::new(payload, context)).await
}

async fn report_of(moto: &Moto, settings: Settings, fixture_name: &str) -> RunReport {
    match invoke(moto, settings, cloudtrail(fixture_name))
        .await
        .unwrap()
    {
        Response::Report(report) => *report,
        other => panic!("{fixture_name}: expected a report, got {other:?}"),
    }
}

/// Messages that reached the queue, as (event_type attribute, parsed JSON body).
async fn messages(account: &Account) -> Vec<(String, Value)> {
    account
        .drain_queue()
        .await
        .into_iter()
        .map(|envelope| {
            let kind = envelope["MessageAttributes"]["event_type"]["Value"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let body = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
            (kind, body)
        })
        .collect()
}

#[test]
fn every_fixture_leads_where_the_readme_says() {
    let context = event::Context {
        account_id: Some(ACCOUNT.into()),
        own_role_arns: vec![ENFORCER_ROLE.into()],
        deny_policy_arn: format!("arn:aws:iam::{ACCOUNT}:policy/DenyWithoutMFA"),
        exempt_tag_key: EXEMPT.into(),
    };
    let nina = || Target::Users {
        users: vec!["nina".into()],
        exemption_granted: false,
    };
    let group = |deleted| Target::GroupMembers {
        group: GROUP.into(),
        deleted,
    };
    let cases = [
        ("create-user.json", nina()),
        ("create-login-profile.json", nina()),
        ("update-login-profile.json", nina()),
        ("deactivate-mfa-device.json", nina()),
        ("delete-virtual-mfa-device.json", nina()),
        ("enable-mfa-device.json", nina()),
        ("add-user-to-group.json", nina()),
        ("remove-user-from-group.json", nina()),
        ("detach-user-policy.json", nina()),
        (
            "tag-user-exempt.json",
            Target::Users {
                users: vec!["nina".into()],
                exemption_granted: true,
            },
        ),
        ("untag-user.json", nina()),
        ("detach-group-policy.json", group(false)),
        ("delete-group.json", group(true)),
        ("create-policy-version.json", Target::DenyPolicy),
        ("set-default-policy-version.json", Target::DenyPolicy),
        ("delete-policy-version.json", Target::DenyPolicy),
        (
            "create-login-profile-failed.json",
            Target::Ignore(IgnoreReason::CallFailed),
        ),
        (
            "create-login-profile-other-account.json",
            Target::Ignore(IgnoreReason::OtherAccount),
        ),
        (
            "add-user-to-group-by-enforcer.json",
            Target::Ignore(IgnoreReason::OwnCall),
        ),
        (
            "create-access-key.json",
            Target::Ignore(IgnoreReason::UnhandledEvent),
        ),
    ];
    let mut covered: Vec<String> = Vec::new();
    for (name, expected) in cases {
        let parsed = event::parse(&cloudtrail(name)).unwrap();
        assert_eq!(
            event::target(&parsed, &context).unwrap(),
            expected,
            "{name}"
        );
        covered.push(parsed.name);
    }
    for handled in event::HANDLED_EVENTS {
        assert!(
            covered.iter().any(|c| c == handled),
            "no fixture for {handled}"
        );
    }
    // The callers in the fixtures: an IAM user, an SSO role, root.
    let kinds: Vec<String> = [
        "create-user.json",
        "create-login-profile.json",
        "update-login-profile.json",
    ]
    .iter()
    .map(|f| event::parse(&cloudtrail(f)).unwrap().caller.kind)
    .collect();
    assert_eq!(kinds, ["IAMUser", "AssumedRole", "Root"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_login_profile_without_mfa_is_denied_in_one_invocation() {
    let (moto, account) = seeded().await;
    account.user("nina", UserSpec::console()).await;
    moto.reset_recording();

    let report = report_of(
        &moto,
        account.settings(ENFORCE),
        "create-login-profile.json",
    )
    .await;
    let calls = moto.recorded_actions();

    assert_eq!(report.findings.len(), 1);
    let nina = &report.findings[0];
    assert_eq!(
        (nina.user.as_str(), nina.status),
        ("nina", Status::NonCompliant)
    );
    assert_eq!(nina.actions.len(), 1);
    assert_eq!(
        (nina.actions[0].kind, nina.actions[0].outcome),
        (ActionKind::AttachDenyPolicy, Outcome::Applied)
    );
    assert_eq!(report.event.as_ref().unwrap().name, "CreateLoginProfile");
    assert_eq!(
        account.attached("nina").await,
        vec![account.deny_policy_arn.clone()]
    );

    // Only what one user needs: no credential report, no whole-account read, and no
    // ListEntitiesForPolicy for a user in no group. 8 calls in all.
    let mut sorted = calls.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "iam:AttachUserPolicy",
            "iam:GetLoginProfile",
            "iam:GetUser",
            "iam:ListAttachedUserPolicies",
            "iam:ListGroupsForUser",
            "iam:ListMFADevices",
            "iam:TagUser",
            "sns:PublishBatch",
        ],
        "{calls:?}"
    );
    let notes = messages(&account).await;
    let kinds: Vec<&str> = notes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["user_enforced", "run_summary"]);
    assert_eq!(notes[0].1["user"], "nina");
    assert_eq!(notes[1].1["non_compliant"][0]["user"], "nina");
}

#[tokio::test(flavor = "multi_thread")]
async fn create_user_without_a_login_profile_is_not_applicable_and_dry_run_writes_nothing() {
    let (moto, account) = seeded().await;
    account.user("nina", UserSpec::api_only()).await;
    let report = report_of(&moto, account.settings(ENFORCE), "create-user.json").await;
    assert_eq!(report.findings[0].status, Status::NotApplicable);
    assert!(report.findings[0].actions.is_empty());

    // The login profile arrives; DRY_RUN defaults to true: planned, not written.
    account
        .iam
        .create_login_profile()
        .user_name("nina")
        .password("Pw-nina-123!")
        .send()
        .await
        .unwrap();
    moto.reset_recording();
    let report = report_of(&moto, account.settings(&[]), "create-login-profile.json").await;
    assert!(report.dry_run);
    assert_eq!(report.findings[0].actions[0].outcome, Outcome::Planned);
    assert!(
        moto.recorded_iam_writes().is_empty(),
        "{:?}",
        moto.recorded_iam_writes()
    );
    assert!(account.attached("nina").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn detaching_the_deny_policy_from_a_user_is_undone() {
    let (moto, account) = seeded().await;
    account.user("nina", UserSpec::console().deny()).await;
    account
        .iam
        .detach_user_policy()
        .user_name("nina")
        .policy_arn(&account.deny_policy_arn)
        .send()
        .await
        .unwrap();
    let report = report_of(&moto, account.settings(ENFORCE), "detach-user-policy.json").await;
    assert_eq!(report.findings[0].actions[0].outcome, Outcome::Applied);
    assert_eq!(
        account.attached("nina").await,
        vec![account.deny_policy_arn.clone()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn detaching_the_deny_policy_from_a_group_denies_its_members_directly() {
    let (moto, account) = seeded().await;
    account.user("nina", UserSpec::console().group(GROUP)).await;
    account
        .user("omar", UserSpec::console().mfa().group(GROUP))
        .await;
    account
        .iam
        .detach_group_policy()
        .group_name(GROUP)
        .policy_arn(&account.deny_policy_arn)
        .send()
        .await
        .unwrap();
    moto.reset_recording();
    let report = report_of(&moto, account.settings(ENFORCE), "detach-group-policy.json").await;
    let by_user: Vec<(&str, Status)> = report
        .findings
        .iter()
        .map(|f| (f.user.as_str(), f.status))
        .collect();
    assert_eq!(
        by_user,
        [("nina", Status::NonCompliant), ("omar", Status::Compliant)]
    );
    assert_eq!(
        account.attached("nina").await,
        vec![account.deny_policy_arn.clone()]
    );
    assert!(account.attached("omar").await.is_empty());
    // The deny policy for nina, and the memory of telling her.
    assert_eq!(
        moto.recorded_iam_writes(),
        ["iam:AttachUserPolicy", "iam:TagUser"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_default_is_set_back_to_the_canonical_version_it_replaced_and_announced() {
    let (moto, account) = seeded().await;
    account.tamper_deny_policy().await;
    let report = report_of(
        &moto,
        account.settings(ENFORCE),
        "create-policy-version.json",
    )
    .await;
    let check = report.deny_policy.as_ref().unwrap();
    assert!(!check.canonical);
    assert_eq!(check.default_version, "v2");
    assert_eq!(check.actions[0].kind, ActionKind::RestoreDenyPolicy);
    assert_eq!(check.actions[0].outcome, Outcome::Applied);
    assert_eq!(
        check.actions[0].detail.as_deref(),
        Some("default set back to v1")
    );
    assert_eq!(report.summary.actions_applied, 1);
    // No new version: the tampered one stays, not in effect, for the investigation.
    assert_eq!(
        account.deny_policy_versions().await,
        [("v1".into(), true, true), ("v2".into(), false, false)]
    );

    let notes = messages(&account).await;
    let alert = notes
        .iter()
        .find(|(kind, _)| kind == "deny_policy_changed")
        .unwrap();
    assert_eq!(alert.1["severity"], "critical");
    assert_eq!(alert.1["found_version"], "v2");
    assert_eq!(alert.1["action"]["outcome"], "applied");

    // The event of our own restore finds the canonical document: nothing more to do.
    moto.reset_recording();
    let again = report_of(
        &moto,
        account.settings(ENFORCE),
        "set-default-policy-version.json",
    )
    .await;
    assert!(again.deny_policy.as_ref().unwrap().canonical);
    assert!(moto.recorded_iam_writes().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_canonical_version_left_a_new_default_is_created_pruning_the_oldest_at_the_limit() {
    let (moto, account) = seeded().await;
    // v2..v6 tampered fill IAM's five once v1 (canonical) is deleted; v6 is the default.
    for _ in 0..4 {
        account.tamper_deny_policy().await;
    }
    account.delete_deny_policy_version("v1").await;
    account.tamper_deny_policy().await;
    let report = report_of(
        &moto,
        account.settings(ENFORCE),
        "create-policy-version.json",
    )
    .await;
    let check = report.deny_policy.as_ref().unwrap();
    assert_eq!(check.default_version, "v6");
    assert_eq!(check.actions[0].outcome, Outcome::Applied);
    assert_eq!(
        check.actions[0].detail.as_deref(),
        Some("new default v7; pruned v2")
    );
    let versions = account.deny_policy_versions().await;
    assert_eq!(versions.len(), 5);
    assert!(
        !versions.iter().any(|(id, _, _)| id == "v2"),
        "{versions:?}"
    );
    assert_eq!(
        versions
            .iter()
            .filter(|(_, _, canonical)| *canonical)
            .collect::<Vec<_>>(),
        [&("v7".to_string(), true, true)]
    );
}

/// Two runs for one tampering at once (its CreatePolicyVersion and SetDefaultPolicyVersion
/// events arrive together): the same end state as one run, without errors or duplicates.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_restores_end_with_one_canonical_default_and_no_duplicates() {
    for canonical_left in [true, false, false, false] {
        let (moto, account) = seeded().await;
        account.tamper_deny_policy().await;
        if !canonical_left {
            account.delete_deny_policy_version("v1").await;
        }
        let (a, b) = tokio::join!(
            invoke(
                &moto,
                account.settings(ENFORCE),
                cloudtrail("create-policy-version.json")
            ),
            invoke(
                &moto,
                account.settings(ENFORCE),
                cloudtrail("set-default-policy-version.json")
            ),
        );
        for (run, response) in [("first", a), ("second", b)] {
            let Response::Report(report) = response.unwrap() else {
                panic!("{run}: expected a report")
            };
            let action = &report.deny_policy.as_ref().unwrap().actions[0];
            assert!(
                matches!(action.outcome, Outcome::Applied | Outcome::AlreadyInPlace),
                "canonical left: {canonical_left}, {run} run: {action:?}"
            );
        }
        let versions = account.deny_policy_versions().await;
        let canonical: Vec<_> = versions.iter().filter(|(_, _, c)| *c).collect();
        assert_eq!(
            canonical.len(),
            1,
            "canonical left: {canonical_left}: {versions:?}"
        );
        assert!(
            canonical[0].1,
            "the canonical version is the default: {versions:?}"
        );
        // Only the tampered version besides it: nothing created twice.
        assert_eq!(
            versions.len(),
            2,
            "canonical left: {canonical_left}: {versions:?}"
        );
        drop(moto);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exempt_users_are_untouched_and_every_exemption_is_announced() {
    let (moto, account) = seeded().await;
    account
        .user("nina", UserSpec::console().tag(EXEMPT, "true"))
        .await;
    moto.reset_recording();
    let report = report_of(&moto, account.settings(ENFORCE), "tag-user-exempt.json").await;
    assert_eq!(report.findings[0].status, Status::Exempt);
    assert!(report.findings[0].actions.is_empty());
    let report = report_of(
        &moto,
        account.settings(ENFORCE),
        "create-login-profile.json",
    )
    .await;
    assert_eq!(report.findings[0].status, Status::Exempt);
    assert!(moto.recorded_iam_writes().is_empty());
    assert!(account.attached("nina").await.is_empty());

    let notes = messages(&account).await;
    let kinds: Vec<&str> = notes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["exemption_granted"], "only the exemption is news");
    assert_eq!(notes[0].1["user"], "nina");
    assert_eq!(
        notes[0].1["event"]["caller"]["arn"],
        "arn:aws:iam::123456789012:user/admin"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ignored_events_make_no_calls_and_bad_payloads_are_rejected() {
    let (moto, account) = seeded().await;
    moto.reset_recording();
    for (name, reason) in [
        ("create-login-profile-failed.json", "call_failed"),
        ("create-login-profile-other-account.json", "other_account"),
        ("add-user-to-group-by-enforcer.json", "own_call"),
        ("create-access-key.json", "unhandled_event"),
    ] {
        let response = invoke(&moto, account.settings(ENFORCE), cloudtrail(name))
            .await
            .unwrap();
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["ignored"], reason, "{name}");
    }
    assert!(
        moto.recorded_actions().is_empty(),
        "{:?}",
        moto.recorded_actions()
    );

    let scheduled: Value = serde_json::from_str(&fixture("events/scheduled-event.json")).unwrap();
    let err = invoke(&moto, account.settings(ENFORCE), scheduled)
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::BadEvent(_)));
    assert!(
        err.to_string().contains("not a CloudTrail IAM event"),
        "{err}"
    );
    assert_eq!(lambda_runtime::Diagnostic::from(err).error_type, "BadEvent");
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_binary_handles_a_cloudtrail_fixture_through_the_runtime_api() {
    let (moto, account) = seeded().await;
    account.user("nina", UserSpec::console()).await;
    let api = RuntimeApi::serve(fixture("events/cloudtrail/create-login-profile.json"));
    let mut child = Command::new(binary("iam-events", "iam-events"))
        .env_clear()
        .envs(moto.env())
        .envs(api.env())
        .env("DENY_POLICY_ARN", &account.deny_policy_arn)
        .env("ENFORCEMENT_GROUP", GROUP)
        .env("TOPIC_ARN", &account.topic_arn)
        .env("ENFORCER_ROLE_ARN", ENFORCER_ROLE)
        .env("DRY_RUN", "false")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let answer = api.answer(Duration::from_secs(60));
    child.kill().unwrap();
    child.wait().unwrap();
    let Some(Answer::Response(body)) = answer else {
        panic!("expected a response, got {answer:?}")
    };
    let report: RunReport = serde_json::from_str(&body).unwrap();
    assert_eq!(report.findings[0].user, "nina");
    assert_eq!(report.findings[0].actions[0].outcome, Outcome::Applied);
    assert_eq!(
        account.attached("nina").await,
        vec![account.deny_policy_arn.clone()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_user_event_re_evaluates_the_named_user_against_moto() {
    let (moto, account) = seeded().await;
    account.user("nina", UserSpec::console()).await;
    for name in [
        "create-user.json",
        "update-login-profile.json",
        "deactivate-mfa-device.json",
        "delete-virtual-mfa-device.json",
        "enable-mfa-device.json",
        "add-user-to-group.json",
        "remove-user-from-group.json",
        "untag-user.json",
    ] {
        let report = report_of(&moto, account.settings(ENFORCE), name).await;
        assert_eq!(report.findings.len(), 1, "{name}");
        assert_eq!(report.findings[0].user, "nina", "{name}");
        assert_eq!(
            report.findings[0].actions[0].outcome,
            Outcome::Applied,
            "{name}"
        );
        assert_eq!(
            account.attached("nina").await,
            vec![account.deny_policy_arn.clone()],
            "{name}"
        );
        // Undo, so that the next event has something to enforce.
        account
            .iam
            .detach_user_policy()
            .user_name("nina")
            .policy_arn(&account.deny_policy_arn)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_the_enforcement_group_is_announced() {
    let (moto, account) = seeded().await;
    account
        .iam
        .detach_group_policy()
        .group_name(GROUP)
        .policy_arn(&account.deny_policy_arn)
        .send()
        .await
        .unwrap();
    account
        .iam
        .delete_group()
        .group_name(GROUP)
        .send()
        .await
        .unwrap();
    moto.reset_recording();
    let report = report_of(&moto, account.settings(ENFORCE), "delete-group.json").await;
    assert!(report.findings.is_empty());
    assert!(moto.recorded_iam_writes().is_empty());
    let notes = messages(&account).await;
    let kinds: Vec<&str> = notes.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["enforcement_group_deleted"]);
    assert_eq!(notes[0].1["group"], GROUP);
    assert_eq!(notes[0].1["severity"], "critical");
}
