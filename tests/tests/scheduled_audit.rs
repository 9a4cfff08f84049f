//! Whole-account runs against a real moto server: the scheduled-audit handler, its binary
//! through the Lambda Runtime API, and the CLI, asserting moto's final state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::finding::Status;
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::run_report::{RunReport, Verdict};
use mfa_enforcer::settings::Settings;
use mfa_enforcer_tests::runtime_api::{Answer, RuntimeApi};
use mfa_enforcer_tests::{binary, fixture, Account, Moto, UserSpec, GROUP};
use scheduled_audit::{handle, App, HandlerError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

const EXEMPT: &str = "mfa-enforcer:exempt";

/// One user per status (and reason) a fresh account can show, created "now".
async fn seed(moto: &Moto) -> Account {
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    let users = [
        ("alice", UserSpec::console().mfa().group(GROUP)),
        ("bob-api", UserSpec::api_only()),
        (
            "carol",
            UserSpec::console().tag("email", "carol@example.com"),
        ),
        ("dave", UserSpec::console().mfa()),
        ("erin-exempt", UserSpec::console().tag(EXEMPT, "true")),
        ("frank", UserSpec::console().deny()),
        ("hank", UserSpec::console().group(GROUP)),
        (
            "ivan-expired",
            UserSpec::console()
                .tag(EXEMPT, "true")
                .tag("mfa-enforcer:exempt-until", "2024-01-31"),
        ),
        ("judy-dev", UserSpec::console().mfa().group("Developers")),
    ];
    for (name, spec) in users {
        account.user(name, spec).await;
    }
    account
}

async fn invoke(
    moto: &Moto,
    settings: Settings,
    payload: Value,
) -> Result<RunReport, HandlerError> {
    let clients = Clients::new(&moto.sdk_config().await);
    let app = App::new(settings, (), &clients);
    handle(&app, LambdaEvent::new(payload, Context::default())).await
}

fn statuses(report: &RunReport) -> BTreeMap<String, Status> {
    report
        .findings
        .iter()
        .map(|f| (f.user.clone(), f.status))
        .collect()
}

fn status_map(pairs: &[(&str, Status)]) -> BTreeMap<String, Status> {
    pairs.iter().map(|(u, s)| (u.to_string(), *s)).collect()
}

fn before() -> BTreeMap<String, Status> {
    use Status::*;
    status_map(&[
        ("alice", Compliant),
        ("bob-api", NotApplicable),
        ("carol", NonCompliant),
        ("dave", NonCompliant),
        ("erin-exempt", Exempt),
        ("frank", Enforced),
        ("hank", Enforced),
        ("ivan-expired", NonCompliant),
        ("judy-dev", NonCompliant),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn enforcing_run_denies_exactly_the_non_compliant_and_a_second_run_writes_nothing() {
    let moto = Moto::start();
    let account = seed(&moto).await;
    moto.reset_recording();

    let report = invoke(&moto, account.settings(&[]), json!({"dry_run": false}))
        .await
        .unwrap();
    let requests = moto.recorded_actions();
    assert_eq!(statuses(&report), before());
    assert!(!report.dry_run);
    assert_eq!(report.account_id, "123456789012");
    let s = &report.summary;
    assert_eq!(
        (
            s.non_compliant,
            s.actions_applied,
            s.actions_failed,
            s.non_compliant_remaining
        ),
        (4, 4, 0, 0)
    );
    assert_eq!(report.verdict(), Verdict::Clean);
    let carol = report.findings.iter().find(|f| f.user == "carol").unwrap();
    assert_eq!(
        carol.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        ["no_mfa", "outside_enforcement_group"]
    );
    let ivan = report
        .findings
        .iter()
        .find(|f| f.user == "ivan-expired")
        .unwrap();
    assert_eq!(ivan.reasons[0].as_str(), "exemption_expired");

    // Moto's final state: the deny policy exactly where expected, nobody else touched.
    let deny = vec![account.deny_policy_arn.clone()];
    for (user, expected) in [
        ("alice", vec![]),
        ("bob-api", vec![]),
        ("carol", deny.clone()),
        ("dave", deny.clone()),
        ("erin-exempt", vec![]),
        ("frank", deny.clone()),
        ("hank", vec![]),
        ("ivan-expired", deny.clone()),
        ("judy-dev", deny.clone()),
    ] {
        assert_eq!(
            account.attached(user).await,
            expected,
            "policies attached to {user}"
        );
    }
    assert!(
        account.groups_of("erin-exempt").await.is_empty(),
        "exempt user untouched"
    );
    // Every request of the run: the report (get, generate, poll, get), the authorization
    // details and the virtual MFA devices (one page each) and, beside them, the deny policy's
    // default version (GetPolicy, GetPolicyVersion); then one attach per non-compliant user,
    // one batch of messages, then one tag per user told about their status. Never a per-user
    // read.
    let reads = [
        "iam:GetCredentialReport",
        "iam:GenerateCredentialReport",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:GetAccountAuthorizationDetails",
        "iam:ListVirtualMFADevices",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    ];
    let mut read_part: Vec<&str> = requests[..reads.len()].iter().map(String::as_str).collect();
    read_part.sort();
    let mut expected_reads = reads.to_vec();
    expected_reads.sort();
    assert_eq!(read_part, expected_reads, "{requests:?}");
    let mut writes = vec!["iam:AttachUserPolicy"; 4];
    writes.push("sns:PublishBatch");
    writes.extend(["iam:TagUser"; 6]);
    // The summary listed erin-exempt: remembered on the deny policy, so that only a change
    // to the exemptions makes the next summary due.
    writes.push("iam:TagPolicy");
    assert_eq!(&requests[reads.len()..], writes, "{requests:?}");

    // The messages reached the subscribed queue, with routable attributes: the run summary,
    // and one notice per user now held by the deny policy: restricted until they enroll, or,
    // for dave and judy who have MFA, held to it (their access keys would now need an MFA
    // session).
    let messages = account.drain_queue().await;
    let attribute = |m: &Value, key: &str| {
        m["MessageAttributes"][key]["Value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let mut notices: Vec<(String, String)> = messages
        .iter()
        .filter(|m| attribute(m, "event_type") != "run_summary")
        .map(|m| (attribute(m, "event_type"), attribute(m, "user")))
        .collect();
    notices.sort();
    let mut expected: Vec<(String, String)> = ["carol", "frank", "hank", "ivan-expired"]
        .map(|u| ("user_enforced".to_string(), u.to_string()))
        .to_vec();
    expected.extend(["dave", "judy-dev"].map(|u| ("user_held_to_mfa".to_string(), u.to_string())));
    expected.sort();
    assert_eq!(notices, expected);
    let carol = messages
        .iter()
        .find(|m| attribute(m, "user") == "carol")
        .unwrap();
    assert_eq!(attribute(carol, "recipient"), "carol@example.com");
    assert_eq!(attribute(carol, "severity"), "warning");
    let carol_body: Value = serde_json::from_str(carol["Message"].as_str().unwrap()).unwrap();
    assert_eq!(carol_body["status"], "enforced");
    // Carol has no access keys: nothing about the CLI, and no guessed device serial.
    assert_eq!(carol_body["guidance"]["cli"], Value::Null);
    assert_eq!(carol_body["mfa_devices"], serde_json::json!([]));
    assert_eq!(
        carol_body["guidance"]["console"].as_array().unwrap().len(),
        4
    );
    assert!(carol["Subject"]
        .as_str()
        .unwrap()
        .contains("carol is restricted until MFA is enrolled"));

    let summaries: Vec<&Value> = messages
        .iter()
        .filter(|m| attribute(m, "event_type") == "run_summary")
        .collect();
    assert_eq!(summaries.len(), 1, "{messages:?}");
    let envelope = summaries[0];
    assert!(envelope["Subject"]
        .as_str()
        .unwrap()
        .starts_with("MFA enforcer 123456789012: 4 actions applied"));
    assert_eq!(attribute(envelope, "severity"), "info");
    assert_eq!(attribute(envelope, "account_id"), "123456789012");
    let body: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(body["summary"]["actions_applied"], 4);
    assert_eq!(body["non_compliant"].as_array().unwrap().len(), 4);

    // Second run: everyone is compliant or contained, no write, nothing to announce.
    moto.reset_recording();
    let again = invoke(&moto, account.settings(&[]), json!({"dry_run": false}))
        .await
        .unwrap();
    use Status::*;
    assert_eq!(
        statuses(&again),
        status_map(&[
            ("alice", Compliant),
            ("bob-api", NotApplicable),
            ("carol", Enforced),
            ("dave", Compliant),
            ("erin-exempt", Exempt),
            ("frank", Enforced),
            ("hank", Enforced),
            ("ivan-expired", Enforced),
            ("judy-dev", Compliant),
        ])
    );
    assert_eq!(again.summary.non_compliant, 0);
    assert!(
        moto.recorded_iam_writes().is_empty(),
        "second run wrote {:?}",
        moto.recorded_iam_writes()
    );
    assert!(
        account.drain_queue().await.is_empty(),
        "a quiet run sends no summary: the exemptions are those the last one listed"
    );

    // A new exemption is news for the next whole-account run, even without the event function.
    account
        .iam
        .tag_user()
        .user_name("dave")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key(EXEMPT)
                .value("true")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    invoke(&moto, account.settings(&[]), json!({"dry_run": false}))
        .await
        .unwrap();
    let news = account.drain_queue().await;
    assert_eq!(news.len(), 1, "{news:?}");
    assert_eq!(attribute(&news[0], "event_type"), "run_summary");
    assert_eq!(attribute(&news[0], "severity"), "info");
    let body: Value = serde_json::from_str(news[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(body["exemptions_changed"], true);
    let exempt: Vec<&str> = body["exempt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user"].as_str().unwrap())
        .collect();
    assert_eq!(exempt, ["dave", "erin-exempt"]);
    assert!(news[0]["Subject"]
        .as_str()
        .unwrap()
        .ends_with("0 non-compliant, 2 exempt"));
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_plans_the_same_actions_and_writes_nothing() {
    let moto = Moto::start();
    let account = seed(&moto).await;
    moto.reset_recording();
    let dry = invoke(
        &moto,
        account.settings(&[("REMEDIATION", "both")]),
        json!({"dry_run": true}),
    )
    .await
    .unwrap();
    assert!(dry.dry_run);
    assert!(
        moto.recorded_iam_writes().is_empty(),
        "dry run wrote {:?}",
        moto.recorded_iam_writes()
    );
    assert_eq!(account.attached("carol").await, Vec::<String>::new());
    assert_eq!(dry.verdict(), Verdict::NonCompliantRemain);
    let planned: Vec<(String, String, String)> = dry
        .findings
        .iter()
        .flat_map(|f| {
            f.actions
                .iter()
                .map(move |a| (f.user.clone(), a.kind.to_string(), a.outcome.to_string()))
        })
        .collect();

    // The enforce run applies exactly what the dry run planned.
    let wet = invoke(
        &moto,
        account.settings(&[("REMEDIATION", "both")]),
        json!({"dry_run": false}),
    )
    .await
    .unwrap();
    let applied: Vec<(String, String, String)> = wet
        .findings
        .iter()
        .flat_map(|f| {
            f.actions
                .iter()
                .map(move |a| (f.user.clone(), a.kind.to_string(), a.outcome.to_string()))
        })
        .collect();
    let same_plan: Vec<(String, String, String)> = planned
        .iter()
        .map(|(u, k, o)| (u.clone(), k.clone(), o.replace("planned", "applied")))
        .collect();
    assert_eq!(applied, same_plan);
    assert!(planned.contains(&(
        "carol".into(),
        "add_to_enforcement_group".into(),
        "planned".into()
    )));
    assert_eq!(account.groups_of("carol").await, [GROUP]);
    assert_eq!(account.groups_of("judy-dev").await.len(), 2);
    // A dry run still tells people what would happen.
    let messages = account.drain_queue().await;
    assert!(
        messages[0]["Subject"]
            .as_str()
            .unwrap()
            .contains("[dry run]"),
        "{messages:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn guard_trips_above_the_limit_writes_nothing_and_alerts() {
    let moto = Moto::start();
    let account = seed(&moto).await;
    moto.reset_recording();
    let report = invoke(
        &moto,
        account.settings(&[("MAX_ENFORCEMENTS_PER_RUN", "3")]),
        json!({"dry_run": false}),
    )
    .await
    .unwrap();
    assert!(report.summary.guard_tripped);
    assert_eq!(report.summary.users_to_enforce, 4);
    assert_eq!(report.verdict(), Verdict::NonCompliantRemain);
    assert!(moto.recorded_iam_writes().is_empty());
    assert!(report
        .findings
        .iter()
        .flat_map(|f| &f.actions)
        .all(|a| a.outcome.as_str() == "skipped" && a.detail.as_deref() == Some("guard_tripped")));
    let messages = account.drain_queue().await;
    assert_eq!(
        messages[0]["MessageAttributes"]["severity"]["Value"],
        "critical"
    );
    assert!(messages[0]["Subject"]
        .as_str()
        .unwrap()
        .contains("guard tripped"));
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_event_follows_dry_run_setting_and_bad_payloads_are_rejected() {
    let moto = Moto::start();
    let account = seed(&moto).await;
    let scheduled: Value = serde_json::from_str(&fixture("events/scheduled-event.json")).unwrap();
    // DRY_RUN defaults to true: a fresh deployment writes nothing.
    let report = invoke(&moto, account.settings(&[]), scheduled.clone())
        .await
        .unwrap();
    assert!(report.dry_run);
    let report = invoke(&moto, account.settings(&[("DRY_RUN", "false")]), scheduled)
        .await
        .unwrap();
    assert_eq!(report.summary.actions_applied, 4);
    let err = invoke(&moto, account.settings(&[]), json!({"dry-run": false}))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown field(s) dry-run"),
        "{err}"
    );
}

fn cli(moto: &Moto, account: &Account, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"));
    command
        .args(args)
        .env_clear()
        .envs(moto.env())
        .env("DENY_POLICY_ARN", &account.deny_policy_arn)
        .env("ENFORCEMENT_GROUP", GROUP);
    command.output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_and_lambda_handler_give_the_same_findings_and_exit_codes_follow_the_result() {
    let moto = Moto::start();
    let account = seed(&moto).await;
    let out = cli(&moto, &account, &["audit", "--format", "json", "--quiet"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "non-compliant users remain after a dry run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    let from_lambda = serde_json::to_value(
        invoke(&moto, account.settings(&[]), json!({"dry_run": true}))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(from_cli["findings"], from_lambda["findings"]);
    assert_eq!(from_cli["findings"].as_array().unwrap().len(), 9);

    // Table and CSV render the same findings.
    let table = String::from_utf8(cli(&moto, &account, &["audit", "-q"]).stdout).unwrap();
    assert!(
        table.lines().any(|l| l.starts_with("carol ")
            && l.contains("non_compliant")
            && l.contains("attach_deny_policy:planned")),
        "{table}"
    );
    let csv = String::from_utf8(cli(&moto, &account, &["audit", "-q", "--format", "csv"]).stdout)
        .unwrap();
    assert_eq!(csv.lines().count(), 10);

    // Enforce: exit 0 once nothing non-compliant remains; then the report goes to a file.
    let out = cli(&moto, &account, &["audit", "--enforce", "-q"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file =
        std::env::temp_dir().join(format!("mfa-enforcer-report-{}.json", std::process::id()));
    let out = cli(
        &moto,
        &account,
        &[
            "audit",
            "-q",
            "--format",
            "json",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let saved: RunReport = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved.summary.non_compliant, 0);
    let shown = cli(&moto, &account, &["show", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("0 non_compliant"));
    std::fs::remove_file(&file).unwrap();

    // Bad settings: exit 1, a message naming the flag and the variable, nothing written.
    moto.reset_recording();
    let out = cli(
        &moto,
        &account,
        &["audit", "--enforce", "--max-enforcements-per-run", "lots"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--max-enforcements-per-run (MAX_ENFORCEMENTS_PER_RUN) is invalid"),
        "{stderr}"
    );
    assert!(
        moto.recorded_actions().is_empty(),
        "nothing may be called with bad settings"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_binary_runs_a_scheduled_event_through_the_runtime_api() {
    let moto = Moto::start();
    let account = seed(&moto).await;
    let api = RuntimeApi::serve(fixture("events/scheduled-event.json"));
    let mut child = Command::new(binary("scheduled-audit", "scheduled-audit"))
        .env_clear()
        .envs(moto.env())
        .envs(api.env())
        .env("DENY_POLICY_ARN", &account.deny_policy_arn)
        .env("ENFORCEMENT_GROUP", GROUP)
        .env("TOPIC_ARN", &account.topic_arn)
        .env("DRY_RUN", "false")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let answer = api.answer(Duration::from_secs(60));
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let Some(Answer::Response(body)) = answer else {
        panic!("expected a response, got {answer:?}")
    };
    let report: RunReport = serde_json::from_str(&body).unwrap();
    assert_eq!(report.summary.actions_applied, 4);
    assert_eq!(
        account.attached("carol").await,
        vec![account.deny_policy_arn.clone()]
    );
    // Logs are JSON lines with structured fields.
    let logs = String::from_utf8(output.stdout).unwrap();
    let applied: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["outcome"] == "applied")
        .collect();
    assert_eq!(applied.len(), 4, "{logs}");
    assert!(applied
        .iter()
        .any(|l| l["fields"]["user"] == "carol" && l["fields"]["action"] == "attach_deny_policy"));
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_setting_fails_the_lambda_at_start_naming_the_variable() {
    let api = RuntimeApi::serve(fixture("events/scheduled-event.json"));
    let output = Command::new(binary("scheduled-audit", "scheduled-audit"))
        .env_clear()
        .envs(api.env())
        .env("AWS_REGION", "us-east-1")
        .env(
            "DENY_POLICY_ARN",
            "arn:aws:iam::123456789012:policy/DenyWithoutMFA",
        )
        .env("GRACE_PERIOD_HOURS", "soon")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let logs = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        logs.contains("GRACE_PERIOD_HOURS is invalid: expected a whole number, got \\\"soon\\\""),
        "{logs}"
    );
    assert!(
        api.first_next_at().is_none(),
        "must fail before asking for an event"
    );
}
