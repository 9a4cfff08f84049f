//! Properties of the whole engine over random accounts, run against an in-memory IAM that
//! applies the engine's writes to its own state:
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
use mfa_enforcer::iam_state::{AuthorizationDetails, IamGroup, IamUser, LiveUserState};
use mfa_enforcer::message::Notification;
use mfa_enforcer::plan::{plan, AccountFacts};
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::ports::{
    AccountReader, AwsError, DefaultPolicyVersion, FetchedReport, Notifier, PolicyReader,
    PolicyVersion, PolicyWriter, Ports, RemediationWriter,
};
use mfa_enforcer::report::COLUMNS;
use mfa_enforcer::settings::{RawSettings, Remediation, Settings};
use mfa_enforcer::snapshot::{report_users, AccountSnapshot};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Mutex;

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

/// IAM in memory: serves the account, applies writes to it, records them.
struct Iam {
    account: Mutex<Account>,
    writes: Mutex<Vec<(String, String)>>,
}

impl Iam {
    fn report(&self) -> String {
        let account = self.account.lock().unwrap();
        let mut csv = COLUMNS.join(",") + "\n";
        csv.push_str("<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
        for u in &account.users {
            let created = (now() - Duration::hours(u.age_hours)).to_rfc3339();
            csv.push_str(&format!(
                "{name},arn:aws:iam::123456789012:user/{name},{created},{password},N/A,N/A,N/A,{mfa},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
                name = u.name,
                password = u.password,
                mfa = u.mfa,
            ));
        }
        csv
    }

    fn details(&self) -> AuthorizationDetails {
        let account = self.account.lock().unwrap();
        AuthorizationDetails {
            users: account
                .users
                .iter()
                .filter(|u| u.in_iam)
                .map(|u| IamUser {
                    name: u.name.clone(),
                    arn: format!("arn:aws:iam::123456789012:user/{}", u.name),
                    created: Some(now() - Duration::hours(u.age_hours)),
                    groups: u.groups.clone(),
                    attached_policy_arns: if u.deny { vec![DENY.into()] } else { vec![] },
                    tags: u.tags.iter().cloned().collect(),
                })
                .collect(),
            groups: vec![
                IamGroup {
                    name: GROUP.into(),
                    attached_policy_arns: if account.group_has_deny {
                        vec![DENY.into()]
                    } else {
                        vec![]
                    },
                },
                IamGroup {
                    name: "Developers".into(),
                    attached_policy_arns: vec![],
                },
            ],
        }
    }

    fn write(&self, kind: &str, user: &str, apply: impl FnOnce(&mut User)) {
        self.writes
            .lock()
            .unwrap()
            .push((kind.to_string(), user.to_string()));
        let mut account = self.account.lock().unwrap();
        if let Some(u) = account
            .users
            .iter_mut()
            .find(|u| u.name == user && u.in_iam)
        {
            apply(u);
        }
    }

    fn take_writes(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.writes.lock().unwrap())
    }
}

impl AccountReader for Iam {
    async fn credential_report(
        &self,
        _: Duration,
        now: DateTime<Utc>,
    ) -> Result<FetchedReport, AwsError> {
        Ok(FetchedReport {
            content: self.report().into_bytes(),
            generated_at: now,
            generated_by_this_run: true,
        })
    }
    async fn authorization_details(&self) -> Result<AuthorizationDetails, AwsError> {
        Ok(self.details())
    }
    async fn root_password_present(&self) -> Result<Option<bool>, AwsError> {
        Ok(Some(true))
    }
    async fn live_user_state(&self, user: &str) -> Result<LiveUserState, AwsError> {
        let account = self.account.lock().unwrap();
        let u = account.users.iter().find(|u| u.name == user && u.in_iam);
        Ok(LiveUserState {
            mfa_active: u.is_some_and(|u| u.mfa),
            password_enabled: u.is_some_and(|u| u.password),
            exists: u.is_some(),
        })
    }
    async fn assigned_virtual_mfa_devices(&self) -> Result<Vec<(String, String)>, AwsError> {
        let account = self.account.lock().unwrap();
        Ok(account
            .users
            .iter()
            .filter(|u| u.in_iam && u.mfa)
            .map(|u| {
                (
                    format!("arn:aws:iam::123456789012:user/{}", u.name),
                    format!("arn:aws:iam::123456789012:mfa/{}", u.name),
                )
            })
            .collect())
    }
    async fn mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let account = self.account.lock().unwrap();
        Ok(account
            .users
            .iter()
            .filter(|u| u.name == user && u.in_iam && u.mfa)
            .map(|u| format!("arn:aws:iam::123456789012:mfa/{}", u.name))
            .collect())
    }
}

impl RemediationWriter for Iam {
    async fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        assert_eq!(policy_arn, DENY, "only the deny policy is ever attached");
        self.write("attach", user, |u| u.deny = true);
        Ok(())
    }
    async fn add_user_to_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        assert_eq!(
            group, GROUP,
            "users are only ever added to the enforcement group"
        );
        self.write("add", user, |u| u.groups.push(group.to_string()));
        Ok(())
    }
    async fn tag_user(&self, user: &str, tags: &[(&'static str, String)]) -> Result<(), AwsError> {
        for (key, _) in tags {
            assert!(key.starts_with("mfa-enforcer:notified-"), "{key}");
        }
        self.write("tag", user, |u| {
            for (key, value) in tags {
                u.tags.retain(|(k, _)| k != key);
                u.tags.push((key.to_string(), value.clone()));
            }
        });
        Ok(())
    }
}

impl PolicyReader for Iam {
    async fn default_policy_version(&self, arn: &str) -> Result<DefaultPolicyVersion, AwsError> {
        assert_eq!(arn, DENY);
        let account = self.account.lock().unwrap();
        let id = account.default_version.clone();
        let document = account
            .policy
            .iter()
            .find(|(v, _)| *v == id)
            .unwrap()
            .1
            .clone();
        Ok(DefaultPolicyVersion {
            id,
            document,
            tags: account.policy_tags.clone(),
        })
    }
    async fn policy_versions(&self, _: &str) -> Result<Vec<PolicyVersion>, AwsError> {
        let account = self.account.lock().unwrap();
        Ok(account
            .policy
            .iter()
            .map(|(id, _)| PolicyVersion {
                id: id.clone(),
                created: None,
            })
            .collect())
    }
    async fn policy_version_document(&self, _: &str, id: &str) -> Result<String, AwsError> {
        let account = self.account.lock().unwrap();
        Ok(account
            .policy
            .iter()
            .find(|(v, _)| v == id)
            .unwrap()
            .1
            .clone())
    }
}

impl PolicyWriter for Iam {
    async fn set_default_policy_version(&self, _: &str, id: &str) -> Result<(), AwsError> {
        self.writes
            .lock()
            .unwrap()
            .push(("set-default".into(), id.into()));
        let mut account = self.account.lock().unwrap();
        assert!(account.policy.iter().any(|(v, _)| v == id));
        account.default_version = id.to_string();
        Ok(())
    }
    async fn tag_policy(&self, _: &str, tags: &[(&'static str, String)]) -> Result<(), AwsError> {
        self.writes
            .lock()
            .unwrap()
            .push(("tag-policy".into(), tags[0].0.into()));
        let mut account = self.account.lock().unwrap();
        for (key, value) in tags {
            account.policy_tags.retain(|(k, _)| k != key);
            account.policy_tags.push((key.to_string(), value.clone()));
        }
        Ok(())
    }
    async fn delete_policy_version(&self, _: &str, id: &str) -> Result<(), AwsError> {
        self.writes
            .lock()
            .unwrap()
            .push(("delete-version".into(), id.into()));
        let mut account = self.account.lock().unwrap();
        assert_ne!(account.default_version, id, "the default is never deleted");
        account.policy.retain(|(v, _)| v != id);
        Ok(())
    }
}

struct Sns;

impl Notifier for Sns {
    async fn publish(&self, _: &str, _: &Notification) -> Result<String, AwsError> {
        Ok("id".into())
    }
}

fn run(iam: &Iam, settings: &Settings) -> mfa_enforcer::run_report::RunReport {
    let ports = Ports {
        reader: iam,
        writer: Some(iam),
        notifier: Some(&Sns),
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(audit_account(ports, settings, now()))
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_engine_writes_only_where_it_must_and_converges(account in account()) {
        let settings = settings(&account);
        let iam = Iam { account: Mutex::new(account.clone()), writes: Mutex::new(vec![]) };

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
                iam.take_writes(),
                vec![("set-default".to_string(), "v1".to_string()), ("delete-version".to_string(), "v2".to_string())]
            );
            let a = iam.account.lock().unwrap().clone();
            prop_assert_eq!(a.policy.len(), 1);
            prop_assert_eq!(a.default_version.as_str(), "v1");
            run(&iam, &settings)
        } else {
            run(&iam, &settings)
        };
        prop_assert!(first.deny_policy.as_ref().unwrap().canonical);
        let status: BTreeMap<&str, Status> =
            first.findings.iter().map(|f| (f.user.as_str(), f.status)).collect();
        let writes = iam.take_writes();
        if first.summary.guard_tripped {
            prop_assert!(writes.is_empty(), "the guard tripped and still: {:?}", writes);
            prop_assert!(first.summary.users_to_enforce > account.limit);
            return Ok(());
        }
        for (kind, user) in &writes {
            if kind == "tag-policy" {
                // Remembering which exemptions the summary listed: only when there are some.
                prop_assert!(first.summary.exempt > 0, "{:?}", writes);
                continue;
            }
            let s = status[user.as_str()];
            match kind.as_str() {
                "attach" | "add" => prop_assert_eq!(s, Status::NonCompliant, "{} {}", kind, user),
                _ => prop_assert!(
                    matches!(s, Status::NonCompliant | Status::Enforced | Status::InGrace),
                    "{} told and tagged as {}", user, s
                ),
            }
        }
        prop_assert!(first.summary.users_to_enforce <= account.limit);

        let second = run(&iam, &settings);
        let remediations: Vec<_> = iam
            .take_writes()
            .into_iter()
            .filter(|(kind, _)| kind != "tag")
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
        let iam = Iam { account: Mutex::new(account), writes: Mutex::new(vec![]) };
        let snapshot = || {
            let mut s = AccountSnapshot::join(report_users(iam.report().as_bytes()).unwrap(), iam.details(), Some(true), Some(now()));
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
