//! No credentials, session tokens or passwords in logs, notifications or reports.
//!
//! The real binaries (the CLI, both Lambdas through a Runtime API stub) run against moto with
//! canary values for the secret key, the session token and the users' passwords, an event that
//! carries a password in the clear (CloudTrail hides it; a forged or future event may not), at
//! the log levels a user would set, and everything they said is searched for the canaries:
//! standard output and error, the Lambda's answer, and every message on the topic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer_tests::runtime_api::{Answer, RuntimeApi};
use mfa_enforcer_tests::{binary, fixture, Account, Moto, UserSpec, GROUP};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

const SECRET_KEY: &str = "canary+Secret/Key0123456789abcdefghijklmn";
const SESSION_TOKEN: &str = "canarySessionToken//0123456789+ABCDEFGHIJKL=";
const PASSWORD: &str = "Canary-Passw0rd!42";

/// The canaries, as they are and in the encodings a leak would take (URL and JSON escaping).
fn canaries() -> Vec<String> {
    let mut all = Vec::new();
    for secret in [SECRET_KEY, SESSION_TOKEN, PASSWORD] {
        all.push(secret.to_string());
        all.push(
            secret
                .replace('/', "%2F")
                .replace('+', "%2B")
                .replace('=', "%3D"),
        );
        all.push(secret.replace('/', "\\/"));
        // A fragment is a leak too: a truncated log line must not carry half a secret.
        all.push(secret[..secret.len() / 2].to_string());
    }
    all
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.is_empty() || what.contains("messages"),
        "{what}: nothing captured"
    );
    for canary in canaries() {
        assert!(
            !text.contains(&canary),
            "{what} contains a secret ({canary:?}):\n{text}"
        );
    }
}

/// An account with users whose console passwords are the canary.
async fn seed(moto: &Moto) -> Account {
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    for name in ["nina", "olga"] {
        account.user(name, UserSpec::api_only()).await;
        account
            .iam
            .create_login_profile()
            .user_name(name)
            .password(PASSWORD)
            .send()
            .await
            .unwrap();
    }
    account
}

/// Credentials with the canaries, for a child process.
fn canary_env(moto: &Moto) -> Vec<(&'static str, String)> {
    let mut env = moto.env();
    env.retain(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY");
    env.push(("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()));
    env.push(("AWS_SESSION_TOKEN", SESSION_TOKEN.into()));
    env
}

async fn messages(account: &Account) -> String {
    serde_json::to_string(&account.drain_queue().await).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_says_no_secret_at_any_log_level() {
    for level in ["info", "debug", "trace"] {
        let moto = Moto::start();
        let account = seed(&moto).await;
        let out = Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
            .args(["audit", "--enforce", "--format", "json"])
            .env_clear()
            .envs(canary_env(&moto))
            .env("RUST_LOG", level)
            .env("DENY_POLICY_ARN", &account.deny_policy_arn)
            .env("ENFORCEMENT_GROUP", GROUP)
            .env("TOPIC_ARN", &account.topic_arn)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert_clean(
            &format!("CLI report ({level})"),
            &String::from_utf8_lossy(&out.stdout),
        );
        assert_clean(&format!("CLI logs ({level})"), &stderr);
        assert_clean(&format!("messages ({level})"), &messages(&account).await);
    }
}

/// Runs a Lambda binary on one event through the Runtime API stub; returns (answer, logs).
fn lambda(
    moto: &Moto,
    account: &Account,
    package: &str,
    event: &Value,
    level: &str,
) -> (String, String) {
    let api = RuntimeApi::serve(event.to_string());
    // Logs go to a file: a pipe nobody reads until the end would fill and stall the function.
    let log_path = std::env::temp_dir().join(format!(
        "mfa-enforcer-secrets-{}-{package}-{level}.log",
        std::process::id()
    ));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(binary(package, package))
        .env_clear()
        .envs(canary_env(moto))
        .envs(api.env())
        .env("RUST_LOG", level)
        .env("DENY_POLICY_ARN", &account.deny_policy_arn)
        .env("ENFORCEMENT_GROUP", GROUP)
        .env("TOPIC_ARN", &account.topic_arn)
        .env("DRY_RUN", "false")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let answer = api.answer(Duration::from_secs(60));
    // The stub holds the next invocation: the process waits there until it is stopped.
    child.kill().unwrap();
    child.wait().unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    let answer = match answer {
        Some(Answer::Response(body)) => body,
        other => panic!("{package}: expected an answer, got {other:?}\n{logs}"),
    };
    (answer, logs)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lambdas_say_no_secret_even_for_an_event_that_carries_a_password() {
    let mut event: Value =
        serde_json::from_str(&fixture("events/cloudtrail/create-login-profile.json")).unwrap();
    event["detail"]["requestParameters"]["password"] = json!(PASSWORD);
    let scheduled: Value = serde_json::from_str(&fixture("events/scheduled-event.json")).unwrap();
    for level in ["info", "debug", "trace"] {
        let moto = Moto::start();
        let account = seed(&moto).await;
        let (answer, logs) = lambda(&moto, &account, "iam-events", &event, level);
        assert!(answer.contains("\"applied\""), "{answer}");
        assert_clean(&format!("iam-events answer ({level})"), &answer);
        assert_clean(&format!("iam-events logs ({level})"), &logs);
        let (answer, logs) = lambda(&moto, &account, "scheduled-audit", &scheduled, level);
        assert_clean(&format!("scheduled-audit answer ({level})"), &answer);
        assert_clean(&format!("scheduled-audit logs ({level})"), &logs);
        assert_clean(&format!("messages ({level})"), &messages(&account).await);
    }
}
