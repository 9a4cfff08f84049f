//! The enforcer can never be turned against the account (issue: trust), against moto:
//!
//! - a tampered deny policy (a new default version that allows everything) is found by a
//!   scheduled run and a CLI run alike: `canonical: false`, nobody `enforced`, nothing
//!   attached, a critical alert; with a writer the policy is repaired from the version that
//!   still holds the canonical document, and no version is ever written;
//! - the CLI refuses an AWS-managed policy as `--deny-policy-arn` before any AWS call, and the
//!   deny policy of another account before any write, naming the flag.
//!
//! The event path's side of the same claims is in `iam_events.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::finding::{Outcome, Reason, Status};
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::run_report::RunReport;
use mfa_enforcer_tests::{binary, Account, Moto, UserSpec, GROUP, TAMPERED_POLICY};
use serde_json::{json, Value};
use std::process::Command;

/// An enforced user, a user to enforce, and a tampered deny policy.
async fn tampered(moto: &Moto) -> Account {
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    account.user("frank", UserSpec::console().deny()).await;
    account.user("carol", UserSpec::console()).await;
    account.tamper_deny_policy().await;
    moto.reset_recording();
    account
}

fn cli(moto: &Moto, deny_policy_arn: &str, args: &[&str]) -> std::process::Output {
    Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
        .args(args)
        .env_clear()
        .envs(moto.env())
        .env("DENY_POLICY_ARN", deny_policy_arn)
        .env("ENFORCEMENT_GROUP", GROUP)
        .output()
        .unwrap()
}

/// What a run must show about a tampered deny policy, whoever ran it.
fn assert_held(report: &RunReport) {
    let check = report
        .deny_policy
        .as_ref()
        .expect("every run checks the deny policy");
    assert!(!check.canonical, "{check:?}");
    assert_eq!(check.default_version, "v2");
    assert_eq!(report.summary.enforced, 0, "nobody counts as enforced");
    let frank = report.findings.iter().find(|f| f.user == "frank").unwrap();
    assert_eq!(frank.status, Status::NonCompliant);
    assert!(frank.reasons.contains(&Reason::DenyPolicyNotCanonical));
    for f in &report.findings {
        for a in &f.actions {
            assert_ne!(a.outcome, Outcome::Applied, "{}: {a:?}", f.user);
        }
    }
}

fn alerts(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| m["MessageAttributes"]["event_type"]["Value"] == "deny_policy_changed")
        .map(|m| serde_json::from_str(m["Message"].as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_run_relies_on_no_tampered_deny_policy_and_repairs_it_without_writing_one() {
    let moto = Moto::start();
    let account = tampered(&moto).await;
    let app = scheduled_audit::App::new(
        account.settings(&[("DRY_RUN", "false")]),
        (),
        &Clients::new(&moto.sdk_config().await),
    );
    let report = scheduled_audit::handle(&app, LambdaEvent::new(json!({}), Context::default()))
        .await
        .unwrap();
    assert_held(&report);
    assert_eq!(
        report.deny_policy.as_ref().unwrap().outcome,
        Outcome::Applied
    );
    assert_eq!(
        moto.recorded_iam_writes(),
        ["iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion"],
        "the repair, and nothing attached or tagged"
    );
    assert_eq!(
        account.deny_policy_versions().await,
        [("v1".into(), true, true)]
    );
    let alert = alerts(&account.drain_queue().await);
    assert_eq!(alert.len(), 1);
    assert_eq!(alert[0]["severity"], "critical");
    assert_eq!(
        alert[0]["deny_policy"]["actions"][1]["document"],
        TAMPERED_POLICY
    );

    // The next run relies on the repaired policy: carol is enforced, frank is again.
    moto.reset_recording();
    let next = scheduled_audit::handle(&app, LambdaEvent::new(json!({}), Context::default()))
        .await
        .unwrap();
    assert!(next.deny_policy.as_ref().unwrap().canonical);
    assert_eq!(next.summary.enforced, 1);
    assert_eq!(
        account.attached("carol").await,
        vec![account.deny_policy_arn.clone()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cli_run_reports_a_tampered_deny_policy_attaches_nothing_and_alerts() {
    let moto = Moto::start();
    let account = tampered(&moto).await;
    let out = cli(
        &moto,
        &account.deny_policy_arn,
        &[
            "audit",
            "--format",
            "json",
            "--topic-arn",
            &account.topic_arn,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: RunReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_held(&report);
    let check = report.deny_policy.as_ref().unwrap();
    // A dry run says what the repair would be, and writes nothing.
    assert_eq!(check.outcome, Outcome::Planned);
    assert!(moto.recorded_iam_writes().is_empty());
    assert_eq!(alerts(&account.drain_queue().await).len(), 1);

    // With --enforce it repairs, still attaching nothing in that run.
    let out = cli(
        &moto,
        &account.deny_policy_arn,
        &["audit", "--format", "json", "--enforce"],
    );
    let report: RunReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_held(&report);
    assert_eq!(
        moto.recorded_iam_writes(),
        ["iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion"]
    );
    assert!(account.attached("carol").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_refuses_an_aws_managed_policy_before_any_call_and_another_accounts_before_any_write(
) {
    let moto = Moto::start();
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    account.user("carol", UserSpec::console()).await;
    for arn in [
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
    ] {
        moto.reset_recording();
        let out = cli(&moto, arn, &["audit", "--enforce"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("--deny-policy-arn (DENY_POLICY_ARN) is invalid")
                && stderr.contains("AWS-managed policy"),
            "{stderr}"
        );
        assert!(moto.recorded_actions().is_empty(), "no AWS call at all");
    }

    // Another account's policy (readable or not): refused once the account is known, before
    // any write.
    moto.reset_recording();
    let other = "arn:aws:iam::210987654321:policy/DenyWithoutMFA";
    let out = cli(&moto, other, &["audit", "--enforce"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--deny-policy-arn (DENY_POLICY_ARN)") && stderr.contains("210987654321"),
        "{stderr}"
    );
    assert!(moto.recorded_iam_writes().is_empty());
    assert!(account.attached("carol").await.is_empty());
}
