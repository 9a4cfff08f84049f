//! The whole-account run, against fakes.

use crate::engine::confirm::{MFA_ENROLLED_SINCE_REPORT, PASSWORD_REMOVED_SINCE_REPORT};
use crate::engine::*;
use crate::finding::Outcome;
use crate::finding::{ActionKind, Status};
use crate::iam_state::LiveUserState;
use crate::iam_state::{AuthorizationDetails, IamGroup, IamUser};
use crate::message::Notification;
use crate::policy::deny_policy_document;
use crate::ports::FetchedReport;
use crate::ports::{
    AccountReader, AwsError, Notifier, PolicyReader, PolicyWriter, Ports, RemediationWriter,
};
use crate::run_report::RunReport;
use crate::settings::RawSettings;
use crate::settings::Settings;
use chrono::{DateTime, Utc};
use chrono::{Duration, TimeZone};
use std::collections::HashMap;
use std::sync::Mutex;

const DENY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";
const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

fn row(user: &str, password: &str, mfa: bool) -> String {
    let arn = if user == "<root_account>" {
        "arn:aws:iam::123456789012:root".to_string()
    } else {
        format!("arn:aws:iam::123456789012:user/{user}")
    };
    format!("{user},{arn},2024-01-01T00:00:00+00:00,{password},N/A,N/A,N/A,{mfa},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")
}

/// An account in memory: a report of a given age, users, and scripted live answers.
struct FakeAccount {
    report: String,
    report_age: Duration,
    users: Vec<IamUser>,
    live: HashMap<String, Result<LiveUserState, AwsError>>,
    root_password: Option<bool>,
    /// The deny policy's versions `(id, document)`, and which is the default.
    policy: Vec<(String, String)>,
    default_version: String,
    /// GetPolicy fails with this, when set.
    policy_error: Option<AwsError>,
    /// ListVirtualMFADevices: (user ARN, serial).
    virtual_devices: Vec<(String, String)>,
    /// ListMFADevices, by user.
    all_devices: HashMap<String, Vec<String>>,
    calls: Mutex<Vec<String>>,
}

impl FakeAccount {
    fn new(rows: &[String], users: &[&str]) -> Self {
        FakeAccount {
            policy: vec![("v1".into(), deny_policy_document().to_string())],
            default_version: "v1".into(),
            policy_error: None,
            virtual_devices: Vec::new(),
            all_devices: HashMap::new(),
            report: format!("{HEADER}\n{}\n", rows.join("\n")),
            report_age: Duration::zero(),
            users: users
                .iter()
                .map(|u| IamUser {
                    name: u.to_string(),
                    arn: format!("arn:aws:iam::123456789012:user/{u}"),
                    ..IamUser::default()
                })
                .collect(),
            live: HashMap::new(),
            root_password: None,
            calls: Mutex::new(vec![]),
        }
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl AccountReader for FakeAccount {
    async fn credential_report(
        &self,
        _: Duration,
        now: DateTime<Utc>,
    ) -> Result<FetchedReport, AwsError> {
        self.calls.lock().unwrap().push("report".into());
        Ok(FetchedReport {
            content: self.report.clone().into_bytes(),
            generated_at: now - self.report_age,
            generated_by_this_run: false,
        })
    }
    async fn authorization_details(&self) -> Result<AuthorizationDetails, AwsError> {
        self.calls.lock().unwrap().push("details".into());
        Ok(AuthorizationDetails {
            users: self.users.clone(),
            groups: vec![IamGroup {
                name: "MFAEnforced".into(),
                attached_policy_arns: vec![DENY.into()],
            }],
        })
    }
    async fn root_password_present(&self) -> Result<Option<bool>, AwsError> {
        self.calls.lock().unwrap().push("summary".into());
        Ok(self.root_password)
    }
    async fn live_user_state(&self, user: &str) -> Result<LiveUserState, AwsError> {
        self.calls.lock().unwrap().push(format!("live {user}"));
        self.live.get(user).cloned().unwrap_or(Ok(LiveUserState {
            mfa_active: false,
            password_enabled: true,
            exists: true,
        }))
    }
    async fn assigned_virtual_mfa_devices(&self) -> Result<Vec<(String, String)>, AwsError> {
        self.calls.lock().unwrap().push("virtual devices".into());
        Ok(self.virtual_devices.clone())
    }
    async fn mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.calls.lock().unwrap().push(format!("devices {user}"));
        Ok(self.all_devices.get(user).cloned().unwrap_or_default())
    }
}

impl PolicyReader for FakeAccount {
    async fn default_policy_version(
        &self,
        _: &str,
    ) -> Result<crate::ports::DefaultPolicyVersion, AwsError> {
        self.calls.lock().unwrap().push("policy".into());
        if let Some(e) = &self.policy_error {
            return Err(e.clone());
        }
        let document = self
            .policy_version_document("", &self.default_version)
            .await?;
        Ok(crate::ports::DefaultPolicyVersion {
            id: self.default_version.clone(),
            document,
            tags: Vec::new(),
        })
    }
    async fn policy_versions(&self, _: &str) -> Result<Vec<crate::ports::PolicyVersion>, AwsError> {
        self.calls.lock().unwrap().push("versions".into());
        Ok(self
            .policy
            .iter()
            .map(|(id, _)| crate::ports::PolicyVersion {
                id: id.clone(),
                created: None,
            })
            .collect())
    }
    async fn policy_version_document(&self, _: &str, id: &str) -> Result<String, AwsError> {
        Ok(self
            .policy
            .iter()
            .find(|(v, _)| v == id)
            .map(|(_, d)| d.clone())
            .unwrap_or_default())
    }
}

fn denied(operation: &'static str) -> AwsError {
    AwsError {
        operation,
        code: Some("AccessDenied".into()),
        message: "not allowed".into(),
        retryable: false,
    }
}

/// Records writes; fails for the users listed.
#[derive(Default)]
struct FakeWriter {
    fail_for: Vec<String>,
    writes: Mutex<Vec<String>>,
}

impl RemediationWriter for FakeWriter {
    async fn attach_user_policy(&self, user: &str, _: &str) -> Result<(), AwsError> {
        self.writes.lock().unwrap().push(format!("attach {user}"));
        if self.fail_for.iter().any(|u| u == user) {
            Err(denied("AttachUserPolicy"))
        } else {
            Ok(())
        }
    }
    async fn add_user_to_group(&self, user: &str, _: &str) -> Result<(), AwsError> {
        self.writes.lock().unwrap().push(format!("add {user}"));
        Ok(())
    }
    async fn tag_user(&self, user: &str, tags: &[(&'static str, String)]) -> Result<(), AwsError> {
        let status = &tags[0].1;
        self.writes
            .lock()
            .unwrap()
            .push(format!("tag {user} {status}"));
        Ok(())
    }
}

impl PolicyWriter for FakeWriter {
    async fn set_default_policy_version(&self, _: &str, id: &str) -> Result<(), AwsError> {
        self.writes
            .lock()
            .unwrap()
            .push(format!("set-default {id}"));
        Ok(())
    }
    async fn tag_policy(&self, _: &str, tags: &[(&'static str, String)]) -> Result<(), AwsError> {
        self.writes
            .lock()
            .unwrap()
            .push(format!("tag-policy {}", tags[0].0));
        Ok(())
    }
    async fn delete_policy_version(&self, _: &str, id: &str) -> Result<(), AwsError> {
        self.writes
            .lock()
            .unwrap()
            .push(format!("delete-version {id}"));
        Ok(())
    }
}

struct FakeNotifier {
    fail: bool,
    sent: Mutex<Vec<Notification>>,
}

impl Notifier for FakeNotifier {
    async fn publish(&self, _: &str, message: &Notification) -> Result<String, AwsError> {
        self.sent.lock().unwrap().push(message.clone());
        if self.fail {
            Err(denied("Publish"))
        } else {
            Ok("message-1".into())
        }
    }
}

fn settings(extra: &[(&str, &str)]) -> Settings {
    let mut vars = vec![
        ("DENY_POLICY_ARN", DENY),
        ("ENFORCEMENT_GROUP", "MFAEnforced"),
        (
            "TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:mfa-enforcer",
        ),
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

async fn run(
    account: &FakeAccount,
    writer: Option<&FakeWriter>,
    notifier: &FakeNotifier,
    settings: &Settings,
) -> RunReport {
    audit_account(
        Ports {
            reader: account,
            writer,
            notifier: Some(notifier),
        },
        settings,
        now(),
    )
    .await
    .unwrap()
}

fn quiet() -> FakeNotifier {
    FakeNotifier {
        fail: false,
        sent: Mutex::new(vec![]),
    }
}

fn outcome_of(report: &RunReport, user: &str) -> Vec<(Outcome, Option<String>)> {
    let f = report.findings.iter().find(|f| f.user == user).unwrap();
    f.actions
        .iter()
        .map(|a| (a.outcome, a.detail.clone()))
        .collect()
}

#[tokio::test]
async fn stale_report_is_confirmed_live_and_users_who_changed_are_left_alone() {
    let mut account = FakeAccount::new(
        &[
            row("ann", "true", false),
            row("ben", "true", false),
            row("cat", "true", false),
            row("dan", "true", false),
            row("eve", "true", true),
        ],
        &["ann", "ben", "cat", "dan", "eve"],
    );
    account.report_age = Duration::hours(3);
    account.live.insert(
        "ben".into(),
        Ok(LiveUserState {
            mfa_active: true,
            password_enabled: true,
            exists: true,
        }),
    );
    account.live.insert(
        "cat".into(),
        Ok(LiveUserState {
            mfa_active: false,
            password_enabled: false,
            exists: true,
        }),
    );
    account
        .live
        .insert("dan".into(), Err(denied("ListMFADevices")));
    let writer = FakeWriter::default();
    let report = run(&account, Some(&writer), &quiet(), &settings(&[])).await;

    assert_eq!(outcome_of(&report, "ann"), [(Outcome::Applied, None)]);
    assert_eq!(
        outcome_of(&report, "ben"),
        [(Outcome::Skipped, Some(MFA_ENROLLED_SINCE_REPORT.into()))]
    );
    assert_eq!(
        outcome_of(&report, "cat"),
        [(Outcome::Skipped, Some(PASSWORD_REMOVED_SINCE_REPORT.into()))]
    );
    // MFA in the report too (outside the group): nothing changed, so it is remediated.
    assert_eq!(outcome_of(&report, "eve"), [(Outcome::Applied, None)]);
    let dan = report.findings.iter().find(|f| f.user == "dan").unwrap();
    assert_eq!(
        dan.actions[0].outcome,
        Outcome::Failed,
        "unconfirmed users are not denied"
    );
    assert!(dan.actions[0]
        .error
        .as_deref()
        .unwrap()
        .contains("could not confirm"));
    // Re-evaluated with what is true now.
    let ben = report.findings.iter().find(|f| f.user == "ben").unwrap();
    assert!(ben.mfa_active);
    assert_eq!(
        ben.status,
        Status::NonCompliant,
        "MFA now, still outside the group"
    );
    let cat = report.findings.iter().find(|f| f.user == "cat").unwrap();
    assert_eq!(cat.status, Status::NotApplicable);
    let mut writes = writer.writes.lock().unwrap().clone();
    writes.sort();
    assert_eq!(
        writes,
        [
            "attach ann",
            "attach eve",
            // Each user is told where they stand, and that is remembered on them; eve
            // has MFA and is now under the deny policy: compliant, told that her access
            // keys now need an MFA session (user_held_to_mfa).
            "tag ann enforced",
            "tag ben non_compliant",
            "tag dan non_compliant",
            "tag eve compliant",
        ]
    );
    assert_eq!(report.verdict(), crate::run_report::Verdict::Failed);
}

#[tokio::test]
async fn fresh_report_needs_no_live_reads() {
    let account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
    let writer = FakeWriter::default();
    run(&account, Some(&writer), &quiet(), &settings(&[])).await;
    let mut calls = account.calls();
    calls.sort();
    assert_eq!(calls, ["details", "policy", "report", "virtual devices"]);
}

const TAMPERED: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn tampered(rows: &[String], users: &[&str]) -> FakeAccount {
    let mut account = FakeAccount::new(rows, users);
    account.policy.push(("v2".into(), TAMPERED.into()));
    account.default_version = "v2".into();
    account
}

#[tokio::test]
async fn a_tampered_deny_policy_holds_nobody_gets_nothing_attached_and_is_repaired() {
    let mut account = tampered(
        &[row("ann", "true", false), row("ben", "true", false)],
        &["ann", "ben"],
    );
    // ben was enforced before the tampering.
    account.users[1].attached_policy_arns = vec![DENY.into()];
    let writer = FakeWriter::default();
    let notifier = quiet();
    let report = run(&account, Some(&writer), &notifier, &settings(&[])).await;

    let check = report.deny_policy.as_ref().unwrap();
    assert!(!check.canonical);
    assert_eq!(check.default_version, "v2");
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(report.summary.enforced, 0, "nobody counts as enforced");
    let ben = report.findings.iter().find(|f| f.user == "ben").unwrap();
    assert_eq!(ben.status, Status::NonCompliant);
    assert!(ben
        .reasons
        .contains(&crate::finding::Reason::DenyPolicyNotCanonical));
    assert_eq!(
        outcome_of(&report, "ann"),
        [(
            Outcome::Skipped,
            Some(crate::plan::DENY_POLICY_NOT_CANONICAL.into())
        )]
    );
    // The repair, and nothing written to any user (not even a notice's memory).
    assert_eq!(
        *writer.writes.lock().unwrap(),
        ["set-default v1", "delete-version v2"]
    );
    let deleted = &check.actions[1];
    assert_eq!(deleted.document.as_deref(), Some(TAMPERED));
    let kinds: Vec<String> = notifier
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|n| n.attributes["event_type"].clone())
        .collect();
    assert_eq!(kinds, ["deny_policy_changed", "run_summary"]);
    let alert = &notifier.sent.lock().unwrap()[0];
    assert_eq!(alert.attributes["severity"], "critical");
    assert!(alert.text.contains(TAMPERED), "{}", alert.text);
}

#[tokio::test]
async fn a_dry_run_on_a_tampered_deny_policy_plans_the_repair_and_writes_nothing() {
    let account = tampered(&[row("ann", "true", false)], &["ann"]);
    let report = run(&account, None, &quiet(), &settings(&[])).await;
    let check = report.deny_policy.as_ref().unwrap();
    assert_eq!(check.outcome, Outcome::Planned);
    let planned: Vec<(&str, &str)> = check
        .actions
        .iter()
        .map(|a| (a.kind.as_str(), a.version.as_str()))
        .collect();
    assert_eq!(
        planned,
        [("set_default_version", "v1"), ("delete_version", "v2")]
    );
}

#[tokio::test]
async fn with_no_canonical_version_left_nothing_is_written_and_the_operator_is_told_how() {
    let mut account = tampered(&[row("ann", "true", false)], &["ann"]);
    account.policy.remove(0);
    let writer = FakeWriter::default();
    let notifier = quiet();
    let report = run(&account, Some(&writer), &notifier, &settings(&[])).await;
    let check = report.deny_policy.as_ref().unwrap();
    assert_eq!(check.outcome, Outcome::Skipped);
    assert_eq!(check.detail.as_deref(), Some("no_canonical_version"));
    assert!(writer.writes.lock().unwrap().is_empty());
    let alert = &notifier.sent.lock().unwrap()[0];
    assert_eq!(alert.attributes["event_type"], "deny_policy_changed");
    assert!(
        alert.text.contains(&format!(
            "aws iam create-policy-version --policy-arn {DENY} --policy-document file://deny-without-mfa.json --set-as-default"
        )),
        "{}",
        alert.text
    );
    assert!(alert.text.contains("mfa-enforcer policy-document >"));
}

#[tokio::test]
async fn a_deny_policy_that_cannot_be_read_fails_the_run_with_no_false_alarm() {
    let mut account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
    account.policy_error = Some(AwsError {
        operation: "GetPolicy",
        code: Some("Throttling".into()),
        message: "Rate exceeded".into(),
        retryable: true,
    });
    let writer = FakeWriter::default();
    let notifier = quiet();
    let err = audit_account(
        Ports {
            reader: &account,
            writer: Some(&writer),
            notifier: Some(&notifier),
        },
        &settings(&[]),
        now(),
    )
    .await
    .unwrap_err();
    assert!(err.retryable(), "{err}");
    assert!(err.to_string().contains("GetPolicy failed"), "{err}");
    assert!(writer.writes.lock().unwrap().is_empty());
    assert!(notifier.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_deny_policy_of_another_account_stops_the_run_before_any_write() {
    let account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
    let writer = FakeWriter::default();
    let err = audit_account(
        Ports {
            reader: &account,
            writer: Some(&writer),
            notifier: Some(&quiet()),
        },
        &settings(&[(
            "DENY_POLICY_ARN",
            "arn:aws:iam::210987654321:policy/DenyWithoutMFA",
        )]),
        now(),
    )
    .await
    .unwrap_err();
    let EngineError::Setting(e) = &err else {
        panic!("expected a settings error, got {err}")
    };
    assert_eq!(e.variable, "DENY_POLICY_ARN");
    assert!(!err.retryable());
    assert!(writer.writes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn one_failed_write_does_not_stop_the_others_and_fails_the_run() {
    let users: Vec<String> = (0..30).map(|i| format!("u{i:02}")).collect();
    let rows: Vec<String> = users.iter().map(|u| row(u, "true", false)).collect();
    let names: Vec<&str> = users.iter().map(String::as_str).collect();
    let account = FakeAccount::new(&rows, &names);
    let writer = FakeWriter {
        fail_for: vec!["u07".into()],
        ..FakeWriter::default()
    };
    let report = run(
        &account,
        Some(&writer),
        &quiet(),
        &settings(&[("MAX_ENFORCEMENTS_PER_RUN", "30"), ("REMEDIATION", "both")]),
    )
    .await;
    assert_eq!(report.summary.actions_failed, 1);
    // u07's attach failed; its group add still ran (actions of a user run in order, each recorded).
    assert_eq!(report.summary.actions_applied, 59);
    assert_eq!(report.summary.non_compliant_remaining, 1);
    let u07 = report.findings.iter().find(|f| f.user == "u07").unwrap();
    assert_eq!(u07.actions[0].kind, ActionKind::AttachDenyPolicy);
    assert_eq!(
        u07.actions[0].error.as_deref(),
        Some("AttachUserPolicy failed: not allowed (AccessDenied)")
    );
    assert_eq!(report.verdict(), crate::run_report::Verdict::Failed);
}

#[tokio::test]
async fn dry_run_has_no_writer_and_still_reports_the_plan() {
    let account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
    let notifier = quiet();
    let report = run(&account, None, &notifier, &settings(&[])).await;
    assert!(report.dry_run);
    assert_eq!(outcome_of(&report, "ann"), [(Outcome::Planned, None)]);
    assert_eq!(notifier.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_publish_is_recorded_and_never_undoes_enforcement() {
    let account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
    let writer = FakeWriter::default();
    let notifier = FakeNotifier {
        fail: true,
        sent: Mutex::new(vec![]),
    };
    let report = run(&account, Some(&writer), &notifier, &settings(&[])).await;
    assert_eq!(outcome_of(&report, "ann"), [(Outcome::Applied, None)]);
    let kinds: Vec<(&str, Outcome)> = report
        .notifications
        .iter()
        .map(|n| (n.kind.as_str(), n.outcome))
        .collect();
    assert_eq!(
        kinds,
        [
            ("user_enforced", Outcome::Failed),
            ("run_summary", Outcome::Failed)
        ]
    );
    assert_eq!(report.summary.actions_failed, 0);
    assert_eq!(report.summary.notifications_failed, 2);
    assert_eq!(report.verdict(), crate::run_report::Verdict::Failed);
    // A notice that was not delivered is not remembered: the next run tells them again.
    assert_eq!(*writer.writes.lock().unwrap(), ["attach ann"]);
}

#[tokio::test]
async fn root_without_mfa_is_reported_never_remediated_and_the_summary_is_read_only_then() {
    let mut account = FakeAccount::new(&[row("<root_account>", "not_supported", false)], &[]);
    account.root_password = Some(true);
    let writer = FakeWriter::default();
    let notifier = quiet();
    let report = run(&account, Some(&writer), &notifier, &settings(&[])).await;
    let sent: Vec<String> = notifier
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|n| n.attributes["event_type"].clone())
        .collect();
    assert_eq!(sent, ["root_without_mfa", "run_summary"]);
    let root = &report.findings[0];
    assert_eq!(
        (root.status, root.reasons.clone()),
        (
            Status::NonCompliant,
            vec![crate::finding::Reason::RootNoMfa]
        )
    );
    assert!(root.actions.is_empty());
    assert!(writer.writes.lock().unwrap().is_empty());
    let mut calls = account.calls();
    calls.sort();
    assert_eq!(
        calls,
        ["details", "policy", "report", "summary", "virtual devices"]
    );
    assert_eq!(
        report.verdict(),
        crate::run_report::Verdict::NonCompliantRemain
    );

    account.root_password = Some(false);
    let report = run(&account, Some(&writer), &quiet(), &settings(&[])).await;
    assert_eq!(report.findings[0].status, Status::NotApplicable);

    let with_mfa = FakeAccount::new(&[row("<root_account>", "not_supported", true)], &[]);
    run(&with_mfa, Some(&writer), &quiet(), &settings(&[])).await;
    assert!(
        !with_mfa.calls().contains(&"summary".to_string()),
        "no summary read when root has MFA"
    );
}

#[tokio::test]
async fn malformed_report_fails_the_run_with_the_parse_error() {
    let mut account = FakeAccount::new(&[], &[]);
    account.report = "user,arn\nx,y\n".into();
    let err = audit_account(
        Ports {
            reader: &account,
            writer: None::<&FakeWriter>,
            notifier: None::<&FakeNotifier>,
        },
        &settings(&[]),
        now(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("missing required columns"),
        "{err}"
    );
    assert!(!err.retryable());
}
