//! Event runs against a real moto server: the iam-events handler fed real-format CloudTrail
//! envelopes (tests/fixtures/events/cloudtrail), and its binary through the Lambda Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use iam_events::{handle, App, HandlerError, OwnRoles, Response};
use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::event::{self, ExemptionChange, IgnoreReason, TagValue, Target};
use mfa_enforcer::finding::{ActionKind, Outcome, Status};
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::run_report::RunReport;
use mfa_enforcer::settings::Settings;
use mfa_enforcer_tests::runtime_api::{Answer, RuntimeApi};
use mfa_enforcer_tests::{
    binary, fixture, Account, Moto, UserSpec, ACCOUNT, GROUP, TAMPERED_POLICY,
};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// The enforcer's role in the fixtures (`add-user-to-group-by-enforcer.json`).
const ENFORCER_ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer-EnforcerRole-1A2B3C4D5E6F";
const EXEMPT: &str = "mfa-enforcer:exempt";
const UNTIL: &str = "mfa-enforcer:exempt-until";
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
        enforcement_group: Some(GROUP.into()),
    };
    let nina = || Target::Users {
        users: vec!["nina".into()],
        exemption: None,
        released: false,
    };
    // Released from the deny policy: containing her again is no new enforcement.
    let nina_released = || Target::Users {
        users: vec!["nina".into()],
        exemption: None,
        released: true,
    };
    let group = |deleted| Target::GroupMembers {
        group: GROUP.into(),
        deleted,
        released: !deleted,
    };
    let cases = [
        ("create-user.json", nina()),
        ("create-login-profile.json", nina()),
        ("update-login-profile.json", nina()),
        ("deactivate-mfa-device.json", nina()),
        ("delete-virtual-mfa-device.json", nina()),
        ("enable-mfa-device.json", nina()),
        ("add-user-to-group.json", nina()),
        ("remove-user-from-group.json", nina_released()),
        ("detach-user-policy.json", nina_released()),
        (
            "tag-user-exempt.json",
            Target::Users {
                users: vec!["nina".into()],
                exemption: Some(ExemptionChange {
                    set: vec![TagValue {
                        key: EXEMPT.into(),
                        value: "true".into(),
                    }],
                    removed: vec![],
                }),
                released: false,
            },
        ),
        (
            "untag-user.json",
            Target::Users {
                users: vec!["nina".into()],
                exemption: Some(ExemptionChange {
                    set: vec![],
                    removed: vec![EXEMPT.into()],
                }),
                released: false,
            },
        ),
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
    for handled in event::HandledEvent::names() {
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
    // ListEntitiesForPolicy for a user in no group; the deny policy's default version is read
    // before it is attached, and the user's access keys (for their notice). 11 calls in all.
    let mut sorted = calls.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "iam:AttachUserPolicy",
            "iam:GetLoginProfile",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:GetUser",
            "iam:ListAccessKeys",
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
    // She was released by the event: containing her again is no new enforcement.
    assert_eq!(report.summary.users_to_enforce, 0);
    assert_eq!(report.summary.users_to_recontain, 1);
}

/// The CloudTrail event of a policy write made by the enforcer's own role: what its own
/// restore sends back through EventBridge.
fn own_call(fixture_name: &str) -> Value {
    let mut event = cloudtrail(fixture_name);
    event["detail"]["userIdentity"] = serde_json::json!({
        "type": "AssumedRole",
        "arn": "arn:aws:sts::123456789012:assumed-role/mfa-enforcer-EnforcerRole-1A2B3C4D5E6F/iam-events",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ENFORCER_ROLE}}
    });
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_default_is_set_back_to_the_canonical_version_and_the_tampered_one_deleted() {
    let (moto, account) = seeded().await;
    account.user("nina", UserSpec::console().deny()).await;
    account.tamper_deny_policy().await;
    moto.reset_recording();
    let report = report_of(
        &moto,
        account.settings(ENFORCE),
        "create-policy-version.json",
    )
    .await;
    let check = report.deny_policy.as_ref().unwrap();
    assert!(!check.canonical);
    assert_eq!(check.default_version, "v2");
    assert_eq!(check.outcome, Outcome::Applied);
    let actions: Vec<(&str, &str, Outcome)> = check
        .actions
        .iter()
        .map(|a| (a.kind.as_str(), a.version.as_str(), a.outcome))
        .collect();
    assert_eq!(
        actions,
        [
            ("set_default_version", "v1", Outcome::Applied),
            ("delete_version", "v2", Outcome::Applied)
        ]
    );
    assert_eq!(check.actions[1].document.as_deref(), Some(TAMPERED_POLICY));
    // Nothing else: no version written, nothing attached, nobody tagged.
    assert_eq!(
        moto.recorded_iam_writes(),
        ["iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion"]
    );
    assert_eq!(
        account.deny_policy_versions().await,
        [("v1".into(), true, true)],
        "no version is left that anyone could make the default again"
    );

    let notes = messages(&account).await;
    let alert = notes
        .iter()
        .find(|(kind, _)| kind == "deny_policy_changed")
        .unwrap();
    assert_eq!(alert.1["severity"], "critical");
    assert_eq!(alert.1["deny_policy"]["default_version"], "v2");
    assert_eq!(alert.1["deny_policy"]["outcome"], "applied");
    assert_eq!(
        alert.1["deny_policy"]["actions"][1]["document"], TAMPERED_POLICY,
        "the deleted document is kept for the investigation"
    );

    // The events of our own restore come back: re-checked, found canonical, nothing to do.
    for fixture_name in [
        "set-default-policy-version.json",
        "delete-policy-version.json",
    ] {
        moto.reset_recording();
        let again = match invoke(&moto, account.settings(ENFORCE), own_call(fixture_name))
            .await
            .unwrap()
        {
            Response::Report(report) => *report,
            other => panic!("{fixture_name}: the enforcer's own policy event was {other:?}"),
        };
        let check = again.deny_policy.as_ref().unwrap();
        assert!(check.canonical);
        assert_eq!(check.outcome, Outcome::AlreadyInPlace);
        assert!(moto.recorded_iam_writes().is_empty(), "{fixture_name}");
        assert!(
            messages(&account).await.is_empty(),
            "{fixture_name}: no alert"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_canonical_version_left_nothing_is_written_and_the_alert_says_how_to_restore() {
    let (moto, account) = seeded().await;
    account.user("nina", UserSpec::console()).await;
    account.tamper_deny_policy().await;
    account.delete_deny_policy_version("v1").await;
    moto.reset_recording();
    let report = report_of(
        &moto,
        account.settings(ENFORCE),
        "create-policy-version.json",
    )
    .await;
    let check = report.deny_policy.as_ref().unwrap();
    assert_eq!(check.outcome, Outcome::Skipped);
    assert_eq!(check.detail.as_deref(), Some("no_canonical_version"));
    assert!(moto.recorded_iam_writes().is_empty());
    let command = format!(
        "aws iam create-policy-version --policy-arn {} --policy-document file://deny-without-mfa.json --set-as-default",
        account.deny_policy_arn
    );
    assert_eq!(check.operator_commands.last(), Some(&command));
    let notes = messages(&account).await;
    let alert = notes
        .iter()
        .find(|(kind, _)| kind == "deny_policy_changed")
        .unwrap();
    assert_eq!(alert.1["deny_policy"]["operator_commands"][1], command);

    // A user event meanwhile attaches nothing: the policy's content is unknown.
    moto.reset_recording();
    let user_run = report_of(
        &moto,
        account.settings(ENFORCE),
        "create-login-profile.json",
    )
    .await;
    assert!(!user_run.deny_policy.as_ref().unwrap().canonical);
    assert_eq!(user_run.findings[0].status, Status::NonCompliant);
    assert_eq!(user_run.findings[0].actions[0].outcome, Outcome::Skipped);
    assert_eq!(user_run.summary.enforced, 0);
    assert!(moto.recorded_iam_writes().is_empty());
    assert!(account.attached("nina").await.is_empty());
    let kinds: Vec<String> = messages(&account)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        kinds.contains(&"deny_policy_changed".to_string()),
        "the user event alerts too: {kinds:?}"
    );
    assert!(
        !kinds.iter().any(|k| k.starts_with("user_")),
        "nobody is told anything while the policy's content is unknown: {kinds:?}"
    );
}

/// Two runs for one tampering at once (its CreatePolicyVersion and SetDefaultPolicyVersion
/// events arrive together): the same end state as one run, whichever interleaving happens.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_restores_end_with_one_canonical_default_and_nothing_else() {
    for canonical_left in [true, true, false, false] {
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
            let check = report.deny_policy.as_ref().unwrap();
            let expected: &[Outcome] = if canonical_left {
                // Either run may find the other's work done.
                &[Outcome::Applied, Outcome::AlreadyInPlace]
            } else {
                &[Outcome::Skipped]
            };
            assert!(
                expected.contains(&check.outcome),
                "canonical left: {canonical_left}, {run} run: {check:?}"
            );
            assert!(
                check.actions.iter().all(|a| a.outcome == Outcome::Applied),
                "{check:?}"
            );
        }
        let versions = account.deny_policy_versions().await;
        let expected: Vec<(String, bool, bool)> = if canonical_left {
            vec![("v1".into(), true, true)]
        } else {
            vec![("v2".into(), true, false)]
        };
        assert_eq!(versions, expected, "canonical left: {canonical_left}");
        drop(moto);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exempt_users_are_untouched_and_every_exemption_change_is_announced() {
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
    assert_eq!(kinds, ["exemption_changed"], "only the exemption is news");
    assert_eq!(notes[0].1["user"], "nina");
    assert_eq!(notes[0].1["status"], "exempt");
    assert_eq!(
        notes[0].1["event"]["caller"]["arn"],
        "arn:aws:iam::123456789012:user/admin"
    );

    // An end date set, moved out to the far future, then removed: each is news, and says
    // where nina stands afterwards.
    let steps: [(&str, Option<&str>, &str); 3] = [
        (
            "TagUser",
            Some("2027-01-01"),
            "nina exempt from MFA until 2027-01-02T00:00:00Z",
        ),
        (
            "TagUser",
            Some("9999-12-30"),
            "nina exempt from MFA until 9999-12-31T00:00:00Z",
        ),
        ("UntagUser", None, "nina exempt from MFA with no end date"),
    ];
    for (name, until, subject_end) in steps {
        let mut event = cloudtrail("tag-user-exempt.json");
        event["detail"]["eventName"] = Value::from(name);
        match until {
            Some(date) => {
                account
                    .iam
                    .tag_user()
                    .user_name("nina")
                    .tags(
                        aws_sdk_iam::types::Tag::builder()
                            .key(UNTIL)
                            .value(date)
                            .build()
                            .unwrap(),
                    )
                    .send()
                    .await
                    .unwrap();
                event["detail"]["requestParameters"] = serde_json::json!({
                    "userName": "nina", "tags": [{"key": UNTIL, "value": date}]
                });
            }
            None => {
                account
                    .iam
                    .untag_user()
                    .user_name("nina")
                    .tag_keys(UNTIL)
                    .send()
                    .await
                    .unwrap();
                event["detail"]["requestParameters"] =
                    serde_json::json!({"userName": "nina", "tagKeys": [UNTIL]});
            }
        }
        invoke(&moto, account.settings(ENFORCE), event)
            .await
            .unwrap();
        let notes = messages(&account).await;
        let alert = notes
            .iter()
            .find(|(kind, _)| kind == "exemption_changed")
            .unwrap_or_else(|| panic!("{name} {until:?}: no alert in {notes:?}"));
        let envelope_subject = alert.1["event_type"].as_str().unwrap();
        assert_eq!(envelope_subject, "exemption_changed");
        let expected_until = until.map(|d| {
            let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
            day.succ_opt()
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
        });
        assert_eq!(
            alert.1["exempt_until"],
            serde_json::json!(expected_until),
            "{subject_end}"
        );
    }

    // A stack with only the scheduled run still surfaces every exemption: the run summary
    // lists them with their end dates.
    let app = scheduled_audit::App::new(
        account.settings(&[]),
        (),
        &Clients::new(&moto.sdk_config().await),
    );
    scheduled_audit::handle(
        &app,
        LambdaEvent::new(serde_json::json!({}), Context::default()),
    )
    .await
    .unwrap();
    let notes = messages(&account).await;
    let summary = notes
        .iter()
        .find(|(kind, _)| kind == "run_summary")
        .expect("a run with an exempt user sends a summary");
    assert_eq!(summary.1["exempt"][0]["user"], "nina");
    assert_eq!(summary.1["exempt"][0]["exempt_until"], Value::Null);
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
