//! The engine's steps against IAM and SNS in memory ([`crate::in_memory`]).

mod account;
mod deny_policy;
mod event;

use crate::in_memory::{Group, InMemoryIam, InMemorySns, ManagedPolicy, State, User, ACCOUNT_ID};
use crate::policy::deny_policy_document;
use crate::ports::Ports;
use crate::settings::{RawSettings, Settings};
use chrono::{DateTime, TimeZone, Utc};

const DENY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";
const GROUP: &str = "MFAEnforced";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:mfa-enforcer";
/// What a tampering leaves: a document that allows everything.
const TAMPERED: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

fn canonical() -> String {
    deny_policy_document().to_string()
}

/// An account with the deny policy (canonical), the enforcement group carrying it, and `users`.
fn account(users: Vec<(&str, User)>) -> InMemoryIam {
    let mut state = State::new(ACCOUNT_ID);
    state
        .policies
        .insert(DENY.into(), ManagedPolicy::with_versions(&[&canonical()]));
    state.groups.insert(
        GROUP.into(),
        Group {
            policies: vec![DENY.into()],
        },
    );
    for (name, user) in users {
        state.add_user(name, user);
    }
    InMemoryIam::new(state)
}

/// The same account whose deny policy has a tampered `v2` made the default.
fn tampered(users: Vec<(&str, User)>) -> InMemoryIam {
    let iam = account(users);
    iam.change(|s| {
        s.policies.insert(
            DENY.into(),
            ManagedPolicy::with_versions(&[&canonical(), TAMPERED]),
        );
    });
    iam
}

/// Settings with the deny policy, the enforcement group and a topic; `extra` overrides.
fn settings(extra: &[(&str, &str)]) -> Settings {
    let mut vars = vec![
        ("DENY_POLICY_ARN", DENY),
        ("ENFORCEMENT_GROUP", GROUP),
        ("TOPIC_ARN", TOPIC),
        ("DRY_RUN", "false"),
    ];
    vars.extend_from_slice(extra);
    Settings::parse(&RawSettings::from_lookup(|k| {
        vars.iter()
            .rev()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }))
    .unwrap()
}

/// The ports of a run on `iam` and `sns`: a dry run when `settings.dry_run`.
fn ports<'a>(
    iam: &'a InMemoryIam,
    sns: &'a InMemorySns,
    settings: &Settings,
) -> Ports<'a, InMemoryIam, InMemoryIam, InMemorySns> {
    Ports::new(iam, iam, sns, settings, settings.dry_run)
}
