//! Notifications against a real moto server with an SQS queue subscribed to the topic: who hears
//! what, once; reminders after the interval (time is a parameter of the engine, not a sleep);
//! a failed publish recorded while the enforcement stands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::engine::audit_account;
use mfa_enforcer::finding::Outcome;
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::ports::Ports;
use mfa_enforcer::run_report::{RunReport, Verdict};
use mfa_enforcer::settings::Settings;
use mfa_enforcer_tests::{Account, Moto, UserSpec};
use serde_json::Value;

async fn run_at(moto: &Moto, settings: &Settings, now: DateTime<Utc>) -> RunReport {
    let clients = Clients::new(&moto.sdk_config().await);
    let (reader, writer, notifier) = (clients.reader(), clients.writer(), clients.notifier());
    let ports = Ports {
        reader: &reader,
        writer: Some(&writer),
        notifier: Some(&notifier),
    };
    audit_account(ports, settings, now).await.unwrap()
}

/// (event_type, user, reminder) of every message waiting in the queue.
async fn inbox(account: &Account) -> Vec<(String, String, bool)> {
    let mut all: Vec<(String, String, bool)> = account
        .drain_queue()
        .await
        .iter()
        .map(|m| {
            let attribute = |k: &str| {
                m["MessageAttributes"][k]["Value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            };
            let body: Value = serde_json::from_str(m["Message"].as_str().unwrap()).unwrap();
            (
                attribute("event_type"),
                attribute("user"),
                body["reminder"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    all.sort();
    all
}

fn told(event_type: &str, user: &str, reminder: bool) -> (String, String, bool) {
    (event_type.to_string(), user.to_string(), reminder)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_hears_once_per_change_and_is_reminded_after_the_interval() {
    let moto = Moto::start();
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    account
        .user("gina", UserSpec::console().tag("email", "gina@example.com"))
        .await;
    let settings = account.settings(&[("DRY_RUN", "false"), ("GRACE_PERIOD_HOURS", "48")]);
    let start = Utc::now();

    // New: in grace, told once.
    run_at(&moto, &settings, start).await;
    assert_eq!(
        inbox(&account).await,
        [told("user_in_grace", "gina", false)]
    );

    // An hour later: nothing new, nothing sent, nothing written.
    moto.reset_recording();
    run_at(&moto, &settings, start + Duration::hours(1)).await;
    assert!(inbox(&account).await.is_empty());
    assert!(moto.recorded_iam_writes().is_empty());

    // After REMIND_AFTER_HOURS (24): a reminder.
    run_at(&moto, &settings, start + Duration::hours(25)).await;
    assert_eq!(inbox(&account).await, [told("user_in_grace", "gina", true)]);
    run_at(&moto, &settings, start + Duration::hours(26)).await;
    assert!(
        inbox(&account).await.is_empty(),
        "reminded at most once per interval"
    );

    // Grace over: denied, told once that they are restricted, plus the run summary.
    let report = run_at(&moto, &settings, start + Duration::hours(49)).await;
    assert_eq!(report.findings[0].actions[0].outcome, Outcome::Applied);
    assert_eq!(
        inbox(&account).await,
        [
            told("run_summary", "", false),
            told("user_enforced", "gina", false)
        ]
    );
    run_at(&moto, &settings, start + Duration::hours(50)).await;
    assert!(inbox(&account).await.is_empty());

    // The memory is on the user, under mfa-enforcer: tags.
    let tags = account
        .iam
        .get_user()
        .user_name("gina")
        .send()
        .await
        .unwrap()
        .user
        .unwrap()
        .tags
        .unwrap();
    let status = tags
        .iter()
        .find(|t| t.key == "mfa-enforcer:notified-status")
        .unwrap();
    assert_eq!(status.value, "enforced");
    assert!(tags.iter().any(|t| t.key == "mfa-enforcer:notified-at"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_publish_is_recorded_while_the_deny_policy_stays_attached() {
    let moto = Moto::start();
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    account.user("nina", UserSpec::console()).await;
    let settings = account.settings(&[
        ("DRY_RUN", "false"),
        (
            "TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:no-such-topic",
        ),
    ]);
    moto.reset_recording();
    let report = run_at(&moto, &settings, Utc::now()).await;

    assert_eq!(report.findings[0].actions[0].outcome, Outcome::Applied);
    assert_eq!(
        account.attached("nina").await,
        vec![account.deny_policy_arn.clone()]
    );
    assert!(!report.notifications.is_empty());
    for n in &report.notifications {
        assert_eq!(n.outcome, Outcome::Failed, "{n:?}");
        assert!(n.error.as_deref().unwrap().contains("Publish"), "{n:?}");
    }
    assert_eq!(report.verdict(), Verdict::Failed);
    // Not delivered, so not remembered: the next run tells nina again.
    assert_eq!(moto.recorded_iam_writes(), ["iam:AttachUserPolicy"]);
}
