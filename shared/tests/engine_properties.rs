//! Properties of the whole engine over random accounts, run against IAM in memory
//! ([`mfa_enforcer::in_memory`]), which applies the engine's writes to its own state:
//!
//! - exempt, compliant and not-applicable users are never written to; only non-compliant
//!   users get the deny policy or the group; notices are remembered only on users told;
//! - a run whose guard trips writes nothing at all;
//! - after one enforcing run, a second writes no remediation and leaves no non-compliant user
//!   (but root), even when the enforcement group no longer carries the deny policy;
//! - evaluating and planning twice gives the same findings and the same plan;
//! - with a tampered deny policy, nothing is written to any user, the policy is repaired
//!   without a new version, and the next run enforces as if nothing had happened.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use mfa_enforcer::engine::audit_account;
use mfa_enforcer::evaluate::evaluate;
use mfa_enforcer::finding::{Outcome, Status};
use mfa_enforcer::in_memory::{self, InMemoryIam, InMemorySns, ManagedPolicy, ACCOUNT_ID};
use mfa_enforcer::plan::{plan, AccountFacts};
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::ports::Ports;
use mfa_enforcer::settings::{RawSettings, Remediation, Settings};
use mfa_enforcer::snapshot::{report_users, AccountSnapshot};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const DENY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";
const GROUP: &str = "MFAEnforced";
const EXEMPT: &str = "mfa-enforcer:exempt";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

#[derive(Debug, Clone)]
struct User {
    name: String,
    /// `Some(true)` console password, `Some(false)` none.
    password: bool,
    mfa: bool,
    groups: Vec<String>,
    deny: bool,
    tags: Vec<(String, String)>,
    age_hours: i64,
    /// Still in IAM (else only in the report: deleted since).
    in_iam: bool,
}

#[derive(Debug, Clone)]
struct Account {
    users: Vec<User>,
    /// The enforcement group carries the deny policy (the template makes it so).
    group_has_deny: bool,
    remediation: Remediation,
    grace_hours: i64,
    limit: usize,
    /// The deny policy's versions `(id, document)`, its default, and its tags.
    policy: Vec<(String, String)>,
    default_version: String,
    policy_tags: Vec<(String, String)>,
}

/// What a tampering leaves: v1 canonical, v2 allowing everything and made the default.
const TAMPERED: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn user(i: usize) -> impl Strategy<Value = User> {
    let tags = prop_oneof![
        4 => Just(vec![]),
        1 => Just(vec![(EXEMPT.to_string(), "true".to_string())]),
        1 => Just(vec![(EXEMPT.to_string(), " TRUE ".to_string())]),
        1 => Just(vec![(EXEMPT.to_string(), "false".to_string())]),
        1 => Just(vec![
            (EXEMPT.to_string(), "true".to_string()),
            ("mfa-enforcer:exempt-until".to_string(), "2026-01-01".to_string()),
        ]),
        1 => Just(vec![
            (EXEMPT.to_string(), "true".to_string()),
            ("mfa-enforcer:exempt-until".to_string(), "2027-01-01".to_string()),
        ]),
        1 => Just(vec![
            (EXEMPT.to_string(), "true".to_string()),
            ("mfa-enforcer:exempt-until".to_string(), "soon".to_string()),
        ]),
        1 => Just(vec![("email".to_string(), format!("u{i}@example.com"))]),
    ];
    let groups = proptest::sample::subsequence(vec![GROUP, "Developers"], 0..=2)
        .prop_map(|g| g.into_iter().map(str::to_string).collect::<Vec<_>>());
    (
        proptest::bool::weighted(0.7),
        proptest::bool::ANY,
        groups,
        proptest::bool::weighted(0.2),
        tags,
        0i64..100,
        proptest::bool::weighted(0.95),
    )
        .prop_map(
            move |(password, mfa, groups, deny, tags, age_hours, in_iam)| User {
                name: format!("user{i:03}"),
                password,
                mfa,
                groups,
                deny,
                tags,
                age_hours,
                in_iam,
            },
        )
}

fn account() -> impl Strategy<Value = Account> {
    (0usize..30)
        .prop_flat_map(|n| {
            (
                (0..n).map(user).collect::<Vec<_>>(),
                proptest::bool::weighted(0.8),
                prop_oneof![
                    Just(Remediation::AttachPolicy),
                    Just(Remediation::AddToGroup),
                    Just(Remediation::Both)
                ],
                prop_oneof![Just(0i64), Just(48)],
                0usize..=n + 1,
                proptest::bool::weighted(0.2),
            )
        })
        .prop_map(
            |(users, group_has_deny, remediation, grace_hours, limit, tampered)| {
                let mut policy = vec![("v1".to_string(), deny_policy_document().to_string())];
                if tampered {
                    policy.push(("v2".to_string(), TAMPERED.to_string()));
                }
                Account {
                    users,
                    group_has_deny,
                    remediation,
                    grace_hours,
                    limit,
                    default_version: policy[policy.len() - 1].0.clone(),
                    policy,
                    policy_tags: Vec::new(),
                }
            },
        )
}

fn settings(account: &Account) -> Settings {
    let remediation = account.remediation.to_string();
    let grace = account.grace_hours.to_string();
    let limit = account.limit.to_string();
    let vars: BTreeMap<&str, &str> = BTreeMap::from([
        ("DENY_POLICY_ARN", DENY),
        ("ENFORCEMENT_GROUP", GROUP),
        (
            "TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:mfa-enforcer",
        ),
        ("REMEDIATION", remediation.as_str()),
        ("GRACE_PERIOD_HOURS", grace.as_str()),
        ("MAX_ENFORCEMENTS_PER_RUN", limit.as_str()),
        ("DRY_RUN", "false"),
    ]);
    Settings::parse(&RawSettings::from_lookup(|k| {
        vars.get(k).map(|v| v.to_string())
    }))
    .unwrap()
}

/// IAM in memory holding the account; the credential report generated now, before the users
/// deleted since were deleted.
fn iam(account: &Account) -> InMemoryIam {
    let mut state = in_memory::State::new(ACCOUNT_ID);
    let mut policy = ManagedPolicy::with_versions(
        &account
            .policy
            .iter()
            .map(|(_, d)| d.as_str())
            .collect::<Vec<_>>(),
    );
    policy.default = account.default_version.clone();
    policy.tags = account.policy_tags.clone();
    state.policies.insert(DENY.into(), policy);
    let group_policies = if account.group_has_deny {
        vec![DENY.to_string()]
    } else {
        vec![]
    };
    state.groups.insert(
        GROUP.into(),
        in_memory::Group {
            policies: group_policies,
        },
    );
    state
        .groups
        .insert("Developers".into(), in_memory::Group::default());
    for u in &account.users {
        let mut user = in_memory::User {
            created: now() - Duration::hours(u.age_hours),
            password: u.password,
            groups: u.groups.clone(),
            ..in_memory::User::console()
        };
        if u.mfa {
            user.mfa_devices.push(state.virtual_device(&u.name));
        }
        if u.deny {
            user.policies.push(DENY.into());
        }
        for (key, value) in &u.tags {
            user.tags.insert(key.clone(), value.clone());
        }
        state.add_user(&u.name, user);
    }
    let iam = InMemoryIam::new(state);
    iam.generate_report(now());
    iam.change(|s| {
        for u in account.users.iter().filter(|u| !u.in_iam) {
            s.users.remove(&u.name);
        }
    });
    iam
}

fn run(iam: &InMemoryIam, settings: &Settings) -> mfa_enforcer::run_report::RunReport {
    let sns = InMemorySns::new();
    let ports = Ports::new(iam, iam, &sns, settings, false);
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(audit_account(ports, settings, now()))
        .unwrap()
}

/// The writes made since the last call, as (API, subject).
fn take_writes(iam: &InMemoryIam) -> Vec<(String, String)> {
    let writes = iam
        .calls()
        .into_iter()
        .filter(|c| c.write)
        .map(|c| (c.api.to_string(), c.subject))
        .collect();
    iam.clear_calls();
    writes
}

/// What a run may add to a user: the deny policy, the enforcement group, the notice tags.
fn only_enforcement_was_added(
    before: &in_memory::State,
    after: &in_memory::State,
) -> Result<(), String> {
    for (name, a) in &after.users {
        let Some(b) = before.users.get(name) else {
            return Err(format!("{name} appeared"));
        };
        let added = |x: &[String], y: &[String]| -> BTreeSet<String> {
            x.iter().filter(|p| !y.contains(p)).cloned().collect()
        };
        let policies = added(&a.policies, &b.policies);
        if policies.iter().any(|p| p != DENY) {
            return Err(format!("{name} got {policies:?}"));
        }
        let groups = added(&a.groups, &b.groups);
        if groups.iter().any(|g| g != GROUP) {
            return Err(format!("{name} was added to {groups:?}"));
        }
        for (key, value) in a.tags.iter() {
            if b.tags.get(key) != Some(value) && !key.starts_with("mfa-enforcer:notified-") {
                return Err(format!("{name} was tagged {key}={value}"));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_engine_writes_only_where_it_must_and_converges(account in account()) {
        let settings = settings(&account);
        let iam = iam(&account);
        let before = iam.state();

        let tampered = account.default_version != "v1";
        let first = if tampered {
            // Nothing is written to anyone while the deny policy is not canonical; the policy
            // is repaired from the version that holds the document, then the account is
            // enforced as if it had never been touched.
            let held = run(&iam, &settings);
            let check = held.deny_policy.as_ref().unwrap();
            prop_assert!(!check.canonical);
            prop_assert_eq!(held.summary.enforced, 0);
            prop_assert_eq!(
                take_writes(&iam),
                vec![
                    ("SetDefaultPolicyVersion".to_string(), "v1".to_string()),
                    ("DeletePolicyVersion".to_string(), "v2".to_string())
                ]
            );
            let policy = iam.state().policies[DENY].clone();
            prop_assert_eq!(policy.versions.len(), 1);
            prop_assert_eq!(policy.default.as_str(), "v1");
            run(&iam, &settings)
        } else {
            run(&iam, &settings)
        };
        prop_assert!(first.deny_policy.as_ref().unwrap().canonical);
        let status: BTreeMap<&str, Status> =
            first.findings.iter().map(|f| (f.user.as_str(), f.status)).collect();
        let writes = take_writes(&iam);
        if let Err(e) = only_enforcement_was_added(&before, &iam.state()) {
            prop_assert!(false, "{}", e);
        }
        if first.summary.guard_tripped {
            prop_assert!(writes.is_empty(), "the guard tripped and still: {:?}", writes);
            prop_assert!(first.summary.users_to_enforce > account.limit);
            return Ok(());
        }
        for (kind, user) in &writes {
            if kind == "TagPolicy" {
                // Remembering which exemptions the summary listed: only when there are some.
                prop_assert!(first.summary.exempt > 0, "{:?}", writes);
                continue;
            }
            let s = status[user.as_str()];
            match kind.as_str() {
                "AttachUserPolicy" | "AddUserToGroup" => prop_assert_eq!(s, Status::NonCompliant, "{} {}", kind, user),
                _ => prop_assert!(
                    matches!(s, Status::NonCompliant | Status::Enforced | Status::InGrace),
                    "{} told and tagged as {}", user, s
                ),
            }
        }
        prop_assert!(first.summary.users_to_enforce <= account.limit);

        let second = run(&iam, &settings);
        let remediations: Vec<_> = take_writes(&iam)
            .into_iter()
            .filter(|(kind, _)| kind != "TagUser")
            .collect();
        prop_assert!(remediations.is_empty(), "second run wrote {:?}", remediations);
        // Nobody is left non-compliant, not even in an enforcement group that no longer
        // carries the deny policy: they get it attached directly (and the run alerts).
        for f in &second.findings {
            prop_assert!(
                f.status != Status::NonCompliant || f.facts.is_root,
                "{} still non-compliant: {:?}", f.user, f.reasons
            );
        }
        prop_assert_eq!(
            first.enforcement_group_lacks_deny_policy.is_some(),
            !account.group_has_deny && settings.remediation.adds_to_group()
        );
    }

    #[test]
    fn evaluating_and_planning_twice_gives_the_same_answer(account in account()) {
        let settings = settings(&account);
        let state = iam(&account).state();
        let report = state.report.clone().unwrap().content;
        let snapshot = || {
            let mut s = AccountSnapshot::join(report_users(report.as_bytes()).unwrap(), state.authorization_details(), Some(true), Some(now()));
            s.deny_policy_canonical = true;
            s
        };
        let (a, b) = (snapshot(), snapshot());
        let (fa, fb) = (evaluate(&a, &settings, now()), evaluate(&b, &settings, now()));
        prop_assert_eq!(&fa, &fb);
        let (pa, pb) = (plan(&fa, &settings, &AccountFacts::sound()), plan(&fb, &settings, &AccountFacts::sound()));
        prop_assert_eq!(&pa, &pb);
        // The guard: over the limit, nothing stays planned; under it, nothing is held back.
        let held = pa.users.iter().flat_map(|u| &u.actions).filter(|a| a.outcome == Outcome::Skipped).count();
        if pa.guard.tripped {
            prop_assert!(pa.guard.would_enforce > pa.guard.limit);
            prop_assert_eq!(pa.planned_actions(), 0);
        } else {
            prop_assert!(pa.guard.would_enforce <= pa.guard.limit);
            prop_assert_eq!(held, 0);
        }
        for user_plan in &pa.users {
            let finding = &fa[user_plan.finding];
            prop_assert_eq!(finding.status, Status::NonCompliant);
            prop_assert!(!finding.facts.is_root && finding.facts.in_iam);
        }
    }
}
