//! Declared permissions held to the calls actually made, as Cloud Custodian's tests hold each
//! action's declared permissions to the API calls it makes.
//!
//! The scheduled run, the event run and the CLI run against moto behind the counting proxy
//! (tests/src/fault_proxy.rs), on an account seeded so that every path of the code runs:
//! users to enforce and to add to the group, a user held to MFA whose devices must be listed,
//! an exemption to remember, a tampered deny policy to repair, root without MFA, a report old
//! enough to confirm users live. Every `service:Action` observed must be declared in
//! `mfa_enforcer::permissions` for that path and granted to that function's role in
//! infra/template.yaml. And the other way: every permission a path declares is observed, so
//! a permission the code no longer uses cannot stay granted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::permissions;
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer_tests::fault_proxy::FaultProxy;
use mfa_enforcer_tests::{binary, template, Account, Device, Moto, UserSpec, ACCOUNT, GROUP};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;

/// The observed requests as the permissions they need. `PublishBatch` is authorized by
/// `sns:Publish` ("Grants permission to both publish and publish batch":
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html>).
fn observed(proxy: &FaultProxy) -> BTreeSet<String> {
    proxy
        .forwarded()
        .into_keys()
        .map(|action| match action.as_str() {
            "sns:PublishBatch" => permissions::PUBLISH.to_string(),
            _ => action,
        })
        .collect()
}

/// What a whole-account run declares and moto cannot show it calling: moto's credential report
/// has no root row, so root's password is never asked about (the engine's unit test
/// `root_without_mfa_is_reported_never_remediated_and_the_summary_is_read_only_then` shows
/// the call against the in-memory IAM, whose report has one).
const UNOBSERVABLE_ON_MOTO: [&str; 1] = ["iam:GetAccountSummary"];

/// Holds what a path was observed to call to what it declares and (when it is a function)
/// to what its role grants; `unobservable` are declared calls this emulator cannot provoke.
fn hold(
    path: &str,
    observed: &BTreeSet<String>,
    declared: &[&str],
    unobservable: &[&str],
    role: Option<&str>,
) {
    let declared: BTreeSet<String> = declared.iter().map(|p| p.to_string()).collect();
    let undeclared: Vec<_> = observed.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "{path} called what permissions.rs does not declare: {undeclared:?}"
    );
    let unused: Vec<_> = declared
        .difference(observed)
        .filter(|p| !unobservable.contains(&p.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "{path} declares what it never called here: {unused:?} (observed {observed:?})"
    );
    if let Some(role) = role {
        let granted = template::granted(&template::load(), role);
        let missing: Vec<_> = observed.difference(&granted).collect();
        assert!(missing.is_empty(), "{role} does not grant {missing:?}");
    }
}

/// An account on which every path of a whole-account run is taken.
async fn seed(moto: &Moto) -> Account {
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    // Enforced (AttachUserPolicy, AddUserToGroup, TagUser for the notice).
    account.user("ann", UserSpec::console()).await;
    // MFA on a hardware token, an access key, outside the group: held to MFA, and the notice
    // needs every device (ListMFADevices).
    account
        .user(
            "hal",
            UserSpec::console()
                .device(Device::Hardware("GAHT12345678".into()))
                .key(),
        )
        .await;
    // An exemption the summary lists, then remembers on the deny policy (TagPolicy).
    account
        .user(
            "xia",
            UserSpec::console().tag("mfa-enforcer:exempt", "true"),
        )
        .await;
    // A tampered deny policy: repaired from its versions (ListPolicyVersions, GetPolicyVersion,
    // SetDefaultPolicyVersion, DeletePolicyVersion).
    account.tamper_deny_policy().await;
    account
}

fn lambda_context() -> Context {
    let mut context = Context::default();
    context.invoked_function_arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:f");
    context
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheduled_run_calls_only_what_it_declares_and_its_role_grants() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.port(), 1);
    let account = seed(&moto).await;
    let clients = Clients::new(
        &moto
            .sdk_config_fast_retries(&proxy.endpoint(), std::time::Duration::from_secs(5))
            .await,
    );
    let settings = account.settings(&[
        ("DRY_RUN", "false"),
        ("REMEDIATION", "both"),
        ("SECURITY_HUB", "true"),
        // Every run confirms the users it is about to deny (ListMFADevices, GetLoginProfile).
        ("CONFIRM_AFTER_MINUTES", "0"),
    ]);
    let app = scheduled_audit::App::new(settings, (), &clients);
    // The first run repairs the deny policy and writes nothing else; the second enforces.
    for _ in 0..2 {
        let _ = scheduled_audit::handle(&app, LambdaEvent::new(json!({}), lambda_context())).await;
    }
    assert!(
        !account.attached("ann").await.is_empty(),
        "nothing was enforced"
    );
    hold(
        "scheduled-audit",
        &observed(&proxy),
        &permissions::scheduled_audit(),
        &UNOBSERVABLE_ON_MOTO,
        Some("ScheduledAuditRole"),
    );
}

/// An EventBridge envelope for a CloudTrail IAM event made by a person.
fn event(name: &str, request: Value) -> Value {
    json!({
        "version": "0", "id": "0", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam", "account": ACCOUNT, "time": "2026-06-15T11:59:58Z",
        "region": "us-east-1", "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/admin"), "userName": "admin"},
            "eventTime": "2026-06-15T11:59:58Z", "eventSource": "iam.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1", "eventID": format!("{name}-1"),
            "recipientAccountId": ACCOUNT, "requestParameters": request,
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_event_run_calls_only_what_it_declares_and_its_role_grants() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.port(), 2);
    let account = seed(&moto).await;
    account.user("ben", UserSpec::console().group(GROUP)).await;
    let clients = Clients::new(
        &moto
            .sdk_config_fast_retries(&proxy.endpoint(), std::time::Duration::from_secs(5))
            .await,
    );
    let settings = account.settings(&[
        ("DRY_RUN", "false"),
        ("REMEDIATION", "both"),
        ("SECURITY_HUB", "true"),
    ]);
    let app = iam_events::App::new(settings, iam_events::OwnRoles::default(), &clients);
    let deny = account.deny_policy_arn.clone();
    let events = [
        // The deny policy's own event: every version checked, the tampering repaired.
        event(
            "CreatePolicyVersion",
            json!({"policyArn": deny, "setAsDefault": true}),
        ),
        // A user: read live (GetUser and the rest), enforced (attach, add, tag).
        event("CreateLoginProfile", json!({"userName": "ann"})),
        // A group's members (GetGroup), the groups that carry the deny policy.
        event(
            "DetachGroupPolicy",
            json!({"groupName": GROUP, "policyArn": deny}),
        ),
        // Root's own MFA (GetAccountSummary).
        json!({
            "version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.iam", "account": ACCOUNT, "time": "2026-06-15T11:59:58Z",
            "region": "us-east-1", "resources": [],
            "detail": {
                "userIdentity": {"type": "Root", "arn": format!("arn:aws:iam::{ACCOUNT}:root")},
                "eventName": "DeactivateMFADevice", "eventID": "root-1",
                "recipientAccountId": ACCOUNT,
                "requestParameters": {"serialNumber": format!("arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device")},
            }
        }),
    ];
    for payload in events {
        let _ = iam_events::handle(&app, LambdaEvent::new(payload, lambda_context())).await;
    }
    assert!(
        !account.attached("ann").await.is_empty(),
        "nothing was enforced"
    );
    hold(
        "iam-events",
        &observed(&proxy),
        &permissions::iam_events(),
        &[],
        Some("IamEventsRole"),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_calls_only_what_a_whole_account_run_declares() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.port(), 3);
    let account = seed(&moto).await;
    for _ in 0..2 {
        let out = Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
            .args([
                "audit",
                "--enforce",
                "--format",
                "json",
                "--quiet",
                "--security-hub",
                "true",
            ])
            .env_clear()
            .envs(moto.env())
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .env("DENY_POLICY_ARN", &account.deny_policy_arn)
            .env("ENFORCEMENT_GROUP", GROUP)
            .env("REMEDIATION", "both")
            .env("TOPIC_ARN", &account.topic_arn)
            .env("CONFIRM_AFTER_MINUTES", "0")
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c != 1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        !account.attached("ann").await.is_empty(),
        "nothing was enforced"
    );
    hold(
        "the CLI",
        &observed(&proxy),
        &permissions::scheduled_audit(),
        &UNOBSERVABLE_ON_MOTO,
        None,
    );
}
