//! Reliability under injected faults: throttling, HTTP 500/503, dropped connections and slow
//! answers between the enforcer and moto (tests/src/fault_proxy.rs).
//!
//! Two kinds of proof. The CLI, with the production retry policy, under 10% faults of every
//! kind on every call: the account converges within two runs. The fault matrix, every kind x
//! every phase at 100% on the scheduled-audit handler: the run fails visibly, writes nothing
//! wrong, and the next run without faults converges. "Wrong" is any IAM write other than
//! the deny policy and the notice memory on a user who was non-compliant, and the exemption
//! digest on the deny policy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use iam_events::{OwnRoles, Response};
use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::engine;
use mfa_enforcer::finding::{Outcome, Status};
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::ports::Ports;
use mfa_enforcer::run_report::RunReport;
use mfa_enforcer_tests::fault_proxy::{Fault, FaultProxy, Rule};
use mfa_enforcer_tests::{binary, fixture, Account, Moto, UserSpec, GROUP};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

const EXEMPT: &str = "mfa-enforcer:exempt";

/// The users of an account and which of them an enforcer may write to.
struct Seeded {
    account: Account,
    /// Console users without MFA, or with MFA outside the enforcement group; everyone else
    /// (exempt, compliant, API-only) must never be written to.
    non_compliant: BTreeSet<String>,
}

/// `scale` users of each kind: console without MFA, console with MFA outside the group,
/// compliant (MFA, in the group), exempt (console without MFA, tagged), API-only.
async fn seed(moto: &Moto, scale: usize) -> Seeded {
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    let mut non_compliant = BTreeSet::new();
    for i in 0..scale {
        let kinds = [
            (format!("nomfa-{i:02}"), UserSpec::console(), true),
            (format!("outside-{i:02}"), UserSpec::console().mfa(), true),
            (
                format!("ok-{i:02}"),
                UserSpec::console().mfa().group(GROUP),
                false,
            ),
            (
                format!("exempt-{i:02}"),
                UserSpec::console().tag(EXEMPT, "true"),
                false,
            ),
            (format!("api-{i:02}"), UserSpec::api_only(), false),
        ];
        for (name, spec, enforce) in kinds {
            account.user(&name, spec).await;
            if enforce {
                non_compliant.insert(name);
            }
        }
    }
    Seeded {
        account,
        non_compliant,
    }
}

/// IAM writes moto received that an enforcer must never make: anything but the deny policy
/// and the notice memory, or either of them on a user who was not non-compliant.
fn wrong_writes(moto: &Moto, seeded: &Seeded) -> Vec<String> {
    moto.recorded_calls()
        .into_iter()
        .filter(|c| c.action.starts_with("iam:"))
        .filter(|c| {
            let op = &c.action[4..];
            !(op.starts_with("Get") || op.starts_with("List") || op == "GenerateCredentialReport")
        })
        .filter(|c| {
            let only_keys = |prefix: &str| {
                c.params
                    .iter()
                    .filter(|(k, _)| k.ends_with(".Key"))
                    .all(|(_, v)| v.starts_with(prefix))
            };
            if c.action == "iam:TagPolicy" {
                // Remembering which exemptions the summary listed: the deny policy, that key.
                return !(c.param("PolicyArn") == Some(seeded.account.deny_policy_arn.as_str())
                    && only_keys(mfa_enforcer::tag_keys::EXEMPT_DIGEST_TAG));
            }
            let user = c.param("UserName").unwrap_or_default();
            let allowed = seeded.non_compliant.contains(user)
                && match c.action.as_str() {
                    "iam:AttachUserPolicy" => {
                        c.param("PolicyArn") == Some(seeded.account.deny_policy_arn.as_str())
                    }
                    "iam:TagUser" => only_keys("mfa-enforcer:notified-"),
                    _ => false,
                };
            !allowed
        })
        .map(|c| format!("{} {:?}", c.action, c.param("UserName")))
        .collect()
}

/// A dry run without faults: the users still non-compliant.
async fn still_non_compliant(moto: &Moto, seeded: &Seeded) -> Vec<String> {
    let clients = Clients::new(&moto.sdk_config().await);
    let reader = clients.reader();
    let ports: Ports<'_, _, mfa_enforcer::aws::IamWriter, mfa_enforcer::aws::SnsNotifier> = Ports {
        reader: &reader,
        writer: None,
        notifier: None,
    };
    let settings = seeded
        .account
        .settings(&[("MAX_ENFORCEMENTS_PER_RUN", "1000")]);
    let report = engine::audit_account(ports, &settings, chrono::Utc::now())
        .await
        .unwrap();
    report
        .findings
        .iter()
        .filter(|f| f.status == Status::NonCompliant)
        .map(|f| f.user.clone())
        .collect()
}

/// The CLI through the proxy: `audit --enforce --format json`, logs at info on stderr.
fn cli(moto: &Moto, proxy: &FaultProxy, seeded: &Seeded) -> std::process::Output {
    Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
        .args(["audit", "--enforce", "--format", "json"])
        .env_clear()
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .env("DENY_POLICY_ARN", &seeded.account.deny_policy_arn)
        .env("ENFORCEMENT_GROUP", GROUP)
        .env("TOPIC_ARN", &seeded.account.topic_arn)
        .env("MAX_ENFORCEMENTS_PER_RUN", "1000")
        .output()
        .unwrap()
}

/// Every failure of a run shows in its exit status and its logs: a failed action or
/// notification in the report, or no report at all. Returns how many failed.
fn failures_are_visible(out: &std::process::Output) -> usize {
    let logs = String::from_utf8_lossy(&out.stderr);
    let Ok(report) = serde_json::from_slice::<RunReport>(&out.stdout) else {
        assert_eq!(
            out.status.code(),
            Some(1),
            "no report, yet not a failure: {logs}"
        );
        assert!(logs.contains("mfa-enforcer: error:"), "{logs}");
        return 1;
    };
    let mut failed = 0;
    let mut notifications_failed = 0;
    for finding in &report.findings {
        for action in finding
            .actions
            .iter()
            .filter(|a| a.outcome == Outcome::Failed)
        {
            failed += 1;
            assert!(
                action.error.is_some(),
                "{}: a failure without its error",
                finding.user
            );
            assert!(
                logs.lines()
                    .any(|l| l.contains(&finding.user) && l.contains("failed")),
                "{} failed without a log line: {logs}",
                finding.user
            );
        }
    }
    for record in report
        .notifications
        .iter()
        .filter(|n| n.outcome == Outcome::Failed)
    {
        notifications_failed += 1;
        assert!(record.error.is_some());
        assert!(logs.contains("failed"), "{logs}");
    }
    let policy_failed = report.deny_policy.iter().flat_map(|c| &c.actions);
    failed += policy_failed
        .filter(|a| a.outcome == Outcome::Failed)
        .count();
    assert_eq!(report.summary.actions_failed, failed);
    assert_eq!(report.summary.notifications_failed, notifications_failed);
    let expected_exit = if failed + notifications_failed > 0 {
        1
    } else if report.summary.non_compliant_remaining > 0 {
        2
    } else {
        0
    };
    assert_eq!(out.status.code(), Some(expected_exit), "{logs}");
    failed + notifications_failed
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_percent_faults_of_every_kind_converge_within_two_runs() {
    let moto = Moto::start();
    let seeded = seed(&moto, 40).await;
    let proxy = FaultProxy::start(moto.port(), 20261123);
    // 10% of every request, 2% of each kind.
    proxy.set_rules(
        Fault::kinds(Duration::from_millis(300))
            .into_iter()
            .map(|fault| Rule::new("*", fault, 0.02 / (1.0 - 0.02 * 4.0)))
            .collect(),
    );
    moto.reset_recording();
    let mut failed = Vec::new();
    for _ in 0..2 {
        let out = cli(&moto, &proxy, &seeded);
        failed.push(failures_are_visible(&out));
    }
    let injected: u32 = proxy.injected().values().sum();
    let forwarded: u32 = proxy.forwarded().values().sum();
    eprintln!(
        "injected {injected} faults in {} requests: {:?}; forwarded {:?}",
        injected + forwarded,
        proxy.injected(),
        proxy.forwarded()
    );
    assert!(
        injected >= 5,
        "too few faults to prove anything: {:?}",
        proxy.injected()
    );
    assert_eq!(wrong_writes(&moto, &seeded), Vec::<String>::new());
    assert_eq!(
        still_non_compliant(&moto, &seeded).await,
        Vec::<String>::new(),
        "failures per run: {failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_that_outlast_the_retries_show_in_the_report_the_exit_status_and_the_logs() {
    let moto = Moto::start();
    let seeded = seed(&moto, 1).await;
    moto.reset_recording();
    let proxy = FaultProxy::start(moto.port(), 3);
    proxy.set_rules(vec![
        Rule::new("iam:AttachUserPolicy", Fault::Status503, 1.0),
        Rule::new("sns:*", Fault::Throttle, 1.0),
    ]);
    let out = cli(&moto, &proxy, &seeded);
    let failed = failures_are_visible(&out);
    // Two users could not be denied, and no message got out (the run summary and the alert).
    assert!(
        failed >= 3,
        "{failed}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: RunReport = serde_json::from_slice(&out.stdout).unwrap();
    for user in &seeded.non_compliant {
        let finding = report.findings.iter().find(|f| &f.user == user).unwrap();
        let error = finding.actions[0].error.as_deref().unwrap();
        assert!(error.contains("ServiceUnavailable"), "{user}: {error}");
    }
    assert!(moto.recorded_iam_writes().is_empty());
    proxy.set_rules(vec![]);
    assert_eq!(failures_are_visible(&cli(&moto, &proxy, &seeded)), 0);
    assert!(still_non_compliant(&moto, &seeded).await.is_empty());
}

/// Which calls make up each phase of a whole-account run.
const PHASES: [(&str, &str); 7] = [
    (
        "report",
        "iam:GenerateCredentialReport|iam:GetCredentialReport",
    ),
    ("details", "iam:GetAccountAuthorizationDetails"),
    ("deny policy", "iam:GetPolicy|iam:GetPolicyVersion"),
    ("confirm", "iam:ListMFADevices|iam:GetLoginProfile"),
    ("attach", "iam:AttachUserPolicy"),
    ("memory", "iam:TagUser"),
    ("publish", "sns:Publish|sns:PublishBatch"),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_fault_in_every_phase_fails_visibly_writes_nothing_wrong_and_the_next_run_converges()
{
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.port(), 7);
    let config = moto
        .sdk_config_fast_retries(&proxy.endpoint(), Duration::from_millis(500))
        .await;
    let clients = Clients::new(&config);
    let mut matrix = BTreeMap::new();
    for (phase, actions) in PHASES {
        for fault in Fault::kinds(Duration::from_millis(800)) {
            moto.reset();
            proxy.set_rules(vec![]);
            let seeded = seed(&moto, 1).await;
            // A report made before the run is old (moto stamps 2015): users are confirmed
            // live before they are denied, so the confirm phase runs.
            seeded
                .account
                .iam
                .generate_credential_report()
                .send()
                .await
                .unwrap();
            moto.reset_recording();
            let settings = seeded
                .account
                .settings(&[("DRY_RUN", "false"), ("MAX_ENFORCEMENTS_PER_RUN", "1000")]);
            let app = scheduled_audit::App::new(settings.clone(), (), &clients);
            let event = || LambdaEvent::new(json!({}), Context::default());

            proxy.set_rules(vec![Rule::new(actions, fault, 1.0)]);
            let first = scheduled_audit::handle(&app, event()).await;
            let injected: u32 = proxy.injected().values().sum();
            proxy.reset_counts();
            let first_failed = match &first {
                Err(scheduled_audit::HandlerError::Engine(_)) => {
                    assert!(
                        moto.recorded_iam_writes().is_empty(),
                        "{phase}/{}: a run that could not read the account wrote: {:?}",
                        fault.name(),
                        moto.recorded_iam_writes()
                    );
                    "read failed"
                }
                Err(scheduled_audit::HandlerError::ActionsFailed(f)) => {
                    assert!(f.failed + f.notifications_failed > 0);
                    "run failed (writes or notices)"
                }
                Err(other) => panic!("{phase}/{}: {other}", fault.name()),
                Ok(_) if matches!(fault, Fault::Slow(_)) => "no failure",
                Ok(report) => panic!(
                    "{phase}/{}: every call failed and the run says ok: {:?}",
                    fault.name(),
                    report.summary
                ),
            };
            assert!(injected > 0, "{phase}/{}: nothing injected", fault.name());
            let wrong_first = wrong_writes(&moto, &seeded);

            proxy.set_rules(vec![]);
            let second = scheduled_audit::handle(&app, event()).await;
            let converged = match &second {
                Ok(report) => report.summary.non_compliant_remaining == 0,
                Err(e) => panic!(
                    "{phase}/{}: the run after the fault failed: {e}",
                    fault.name()
                ),
            } && still_non_compliant(&moto, &seeded).await.is_empty();
            let wrong = wrong_first.len() + wrong_writes(&moto, &seeded).len();
            assert_eq!(wrong_writes(&moto, &seeded), Vec::<String>::new());
            assert_eq!(wrong_first, Vec::<String>::new());
            assert!(converged, "{phase}/{}: did not converge", fault.name());
            matrix.insert(
                (phase, fault.name()),
                format!("{first_failed}; converged; {wrong} wrong writes"),
            );
        }
    }
    eprintln!("fault matrix (100% of the phase's calls in run 1, none in run 2):");
    for ((phase, kind), cell) in &matrix {
        eprintln!("  {phase:<8} {kind:<9} {cell}");
    }
    assert_eq!(matrix.len(), PHASES.len() * 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_run_that_cannot_read_fails_retryable_and_its_retry_enforces() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.port(), 11);
    let seeded = seed(&moto, 0).await;
    // The user the fixture's CreateLoginProfile names.
    seeded.account.user("nina", UserSpec::console()).await;
    let config = moto
        .sdk_config_fast_retries(&proxy.endpoint(), Duration::from_millis(500))
        .await;
    let app = iam_events::App::new(
        seeded.account.settings(&[("DRY_RUN", "false")]),
        OwnRoles::default(),
        &Clients::new(&config),
    );
    let event: Value =
        serde_json::from_str(&fixture("events/cloudtrail/create-login-profile.json")).unwrap();
    let invoke = || {
        let mut context = Context::default();
        context.invoked_function_arn = format!(
            "arn:aws:lambda:us-east-1:{}:function:iam-events",
            mfa_enforcer_tests::ACCOUNT
        );
        LambdaEvent::new(event.clone(), context)
    };
    for fault in Fault::kinds(Duration::from_millis(800)) {
        moto.reset_recording();
        proxy.set_rules(vec![Rule::new(
            "iam:GetUser|iam:ListMFADevices",
            fault,
            1.0,
        )]);
        let first = iam_events::handle(&app, invoke()).await;
        if !matches!(fault, Fault::Slow(_)) || first.is_err() {
            let diagnostic = lambda_runtime::Diagnostic::from(first.unwrap_err());
            assert_eq!(
                diagnostic.error_type,
                "ReadFailed.Retryable",
                "{}",
                fault.name()
            );
        }
        assert!(moto.recorded_iam_writes().is_empty(), "{}", fault.name());
    }
    proxy.set_rules(vec![]);
    match iam_events::handle(&app, invoke()).await.unwrap() {
        Response::Report(report) => assert_eq!(report.summary.actions_applied, 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        seeded.account.attached("nina").await,
        vec![seeded.account.deny_policy_arn.as_str()]
    );
}

/// A deny policy that cannot be read is a read failure like any other: retryable, nothing
/// attached, and no tampering alert (the policy may be perfectly fine).
#[tokio::test(flavor = "multi_thread")]
async fn a_deny_policy_that_cannot_be_read_fails_the_event_run_without_a_false_alarm() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(moto.port(), 13);
    let seeded = seed(&moto, 0).await;
    seeded.account.user("nina", UserSpec::console()).await;
    let config = moto
        .sdk_config_fast_retries(&proxy.endpoint(), Duration::from_millis(500))
        .await;
    let app = iam_events::App::new(
        seeded.account.settings(&[("DRY_RUN", "false")]),
        OwnRoles::default(),
        &Clients::new(&config),
    );
    let mut context = Context::default();
    context.invoked_function_arn = format!(
        "arn:aws:lambda:us-east-1:{}:function:iam-events",
        mfa_enforcer_tests::ACCOUNT
    );
    for fixture_name in ["create-login-profile.json", "create-policy-version.json"] {
        let event: Value =
            serde_json::from_str(&fixture(&format!("events/cloudtrail/{fixture_name}"))).unwrap();
        moto.reset_recording();
        proxy.set_rules(vec![Rule::new("iam:GetPolicy", Fault::Throttle, 1.0)]);
        let err = iam_events::handle(&app, LambdaEvent::new(event, context.clone()))
            .await
            .unwrap_err();
        assert_eq!(
            lambda_runtime::Diagnostic::from(err).error_type,
            "ReadFailed.Retryable",
            "{fixture_name}"
        );
        assert!(moto.recorded_iam_writes().is_empty(), "{fixture_name}");
        assert!(
            seeded.account.drain_queue().await.is_empty(),
            "{fixture_name}: no alert for a policy nobody could read"
        );
    }
    assert!(seeded.account.attached("nina").await.is_empty());
}
