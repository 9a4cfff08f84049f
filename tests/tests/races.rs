//! Races: a scheduled run and event runs on the same users at the same time run without
//! errors and, once one more run has followed them, end in the same state as the same runs one
//! after the other: attaching twice, adding to the group twice and repairing the deny policy
//! twice are all safe. (The follow-up run is part of the contract, not a retry: a run that
//! read the deny policy before a concurrent repair attaches nothing, by design, and the next
//! run enforces.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use iam_events::{OwnRoles, Response};
use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer_tests::{fixture, Account, Moto, UserSpec, ACCOUNT, GROUP};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Users the runs share: nina is named by the CreateLoginProfile fixture; the deny policy has a
/// tampered default (the CreatePolicyVersion fixture's doing).
async fn seed(moto: &Moto) -> Account {
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    account.user("nina", UserSpec::console()).await;
    account.user("carol", UserSpec::console()).await;
    account.user("dave", UserSpec::console().mfa()).await;
    account
        .user("alice", UserSpec::console().mfa().group(GROUP))
        .await;
    account
        .user(
            "erin",
            UserSpec::console().tag("mfa-enforcer:exempt", "true"),
        )
        .await;
    account.tamper_deny_policy().await;
    account
}

/// What the runs are for: each user's policies, groups and last notice; the deny policy's
/// versions (id, default, canonical).
async fn state(account: &Account) -> Value {
    let mut users = BTreeMap::new();
    for name in ["alice", "carol", "dave", "erin", "nina"] {
        let mut policies = account.attached(name).await;
        policies.sort();
        let mut groups = account.groups_of(name).await;
        groups.sort();
        let tags = account
            .iam
            .list_user_tags()
            .user_name(name)
            .send()
            .await
            .unwrap()
            .tags;
        let notified = tags
            .iter()
            .find(|t| t.key == "mfa-enforcer:notified-status")
            .map(|t| t.value.clone());
        users.insert(
            name,
            json!({"policies": policies, "groups": groups, "notified": notified}),
        );
    }
    let versions = account.deny_policy_versions().await;
    json!({"users": users, "deny_policy_versions": versions})
}

struct Runs {
    scheduled: scheduled_audit::App,
    events: iam_events::App,
}

impl Runs {
    async fn new(moto: &Moto, account: &Account) -> Runs {
        let clients = Clients::new(&moto.sdk_config().await);
        let settings = account.settings(&[("DRY_RUN", "false")]);
        Runs {
            scheduled: scheduled_audit::App::new(settings.clone(), (), &clients),
            events: iam_events::App::new(settings, OwnRoles::default(), &clients),
        }
    }

    async fn scheduled(&self) {
        let event = LambdaEvent::new(json!({}), Context::default());
        let report = scheduled_audit::handle(&self.scheduled, event)
            .await
            .unwrap();
        assert_eq!(report.summary.actions_failed, 0, "{:?}", report.summary);
    }

    async fn event(&self, name: &str) {
        let payload: Value =
            serde_json::from_str(&fixture(&format!("events/cloudtrail/{name}"))).unwrap();
        let mut context = Context::default();
        context.invoked_function_arn =
            format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:iam-events");
        match iam_events::handle(&self.events, LambdaEvent::new(payload, context))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
        {
            Response::Report(report) => {
                assert_eq!(
                    report.summary.actions_failed, 0,
                    "{name}: {:?}",
                    report.summary
                )
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_at_once_end_as_runs_one_after_the_other() {
    // One after the other, on a fresh account.
    let moto = Moto::start();
    let account = seed(&moto).await;
    let runs = Runs::new(&moto, &account).await;
    runs.scheduled().await;
    runs.event("create-login-profile.json").await;
    runs.event("create-policy-version.json").await;
    runs.event("set-default-policy-version.json").await;
    runs.scheduled().await;
    let expected = state(&account).await;
    drop(moto);

    // All at once, a few times over: each run against fresh moto.
    for round in 0..3 {
        let moto = Moto::start();
        let account = seed(&moto).await;
        let runs = Runs::new(&moto, &account).await;
        tokio::join!(
            runs.scheduled(),
            runs.event("create-login-profile.json"),
            runs.event("create-policy-version.json"),
            runs.event("set-default-policy-version.json"),
        );
        runs.scheduled().await;
        assert_eq!(state(&account).await, expected, "round {round}");
    }
}
