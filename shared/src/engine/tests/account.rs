//! The whole-account run.

use super::*;
use crate::engine::audit_account;
use crate::engine::confirm::{MFA_ENROLLED_SINCE_REPORT, PASSWORD_REMOVED_SINCE_REPORT};
use crate::engine::EngineError;
use crate::finding::{ActionKind, Outcome, Reason, Status};
use crate::in_memory::Report;
use crate::run_report::{RunReport, Verdict};
use crate::tag_keys::NOTIFIED_STATUS_TAG;
use chrono::Duration;

async fn run(iam: &InMemoryIam, sns: &InMemorySns, settings: &Settings) -> RunReport {
    audit_account(ports(iam, sns, settings), settings, now())
        .await
        .unwrap()
}

fn outcome_of(report: &RunReport, user: &str) -> Vec<(Outcome, Option<String>)> {
    let f = report.findings.iter().find(|f| f.user == user).unwrap();
    f.actions
        .iter()
        .map(|a| (a.outcome, a.detail.clone()))
        .collect()
}

/// The status each user was told about, as their tags now say.
fn told(iam: &InMemoryIam) -> Vec<(String, String)> {
    iam.state()
        .users
        .iter()
        .filter_map(|(name, u)| {
            u.tags
                .get(NOTIFIED_STATUS_TAG)
                .map(|s| (name.clone(), s.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn stale_report_is_confirmed_live_and_users_who_changed_are_left_alone() {
    let iam = account(vec![
        ("ann", User::console()),
        ("ben", User::console()),
        ("cat", User::console()),
        ("dan", User::console()),
        (
            "eve",
            User::console().with_device("arn:aws:iam::123456789012:mfa/eve"),
        ),
    ]);
    iam.generate_report(now() - Duration::hours(3));
    // Since the report: ben enrolled MFA, cat lost her password, and dan cannot be read.
    iam.change(|s| {
        let device = s.virtual_device("ben");
        s.users.get_mut("ben").unwrap().mfa_devices.push(device);
        s.users.get_mut("cat").unwrap().password = false;
    });
    iam.fail("ListMFADevices", Some("dan"), "AccessDenied");
    let report = run(&iam, &InMemorySns::new(), &settings(&[])).await;

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
    let mut attached: Vec<String> = iam
        .writes()
        .into_iter()
        .filter(|w| w.starts_with("AttachUserPolicy"))
        .collect();
    attached.sort();
    assert_eq!(attached, ["AttachUserPolicy ann", "AttachUserPolicy eve"]);
    // Each user is told where they stand, and that is remembered on them; eve has MFA and
    // is now under the deny policy: compliant, told that her access keys now need an MFA
    // session (user_held_to_mfa).
    assert_eq!(
        told(&iam),
        [
            ("ann".to_string(), "enforced".to_string()),
            ("ben".into(), "non_compliant".into()),
            ("dan".into(), "non_compliant".into()),
            ("eve".into(), "compliant".into()),
        ]
    );
    assert_eq!(report.verdict(), Verdict::Failed);
}

#[tokio::test]
async fn fresh_report_needs_no_live_reads() {
    let iam = account(vec![("ann", User::console())]);
    run(&iam, &InMemorySns::new(), &settings(&[])).await;
    assert_eq!(
        iam.reads(),
        [
            "GetAccountAuthorizationDetails",
            "GetCredentialReport",
            "GetPolicy",
            "ListVirtualMFADevices"
        ]
    );
}

#[tokio::test]
async fn a_tampered_deny_policy_holds_nobody_gets_nothing_attached_and_is_repaired() {
    // ben was enforced before the tampering.
    let iam = tampered(vec![
        ("ann", User::console()),
        ("ben", User::console().with_policy(DENY)),
    ]);
    let sns = InMemorySns::new();
    let report = run(&iam, &sns, &settings(&[])).await;

    let check = report.deny_policy.as_ref().unwrap();
    assert!(!check.canonical);
    assert_eq!(check.default_version, "v2");
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(report.summary.enforced, 0, "nobody counts as enforced");
    let ben = report.findings.iter().find(|f| f.user == "ben").unwrap();
    assert_eq!(ben.status, Status::NonCompliant);
    assert!(ben.reasons.contains(&Reason::DenyPolicyNotCanonical));
    assert_eq!(
        outcome_of(&report, "ann"),
        [(
            Outcome::Skipped,
            Some(crate::plan::DENY_POLICY_NOT_CANONICAL.into())
        )]
    );
    // The repair, and nothing written to any user (not even a notice's memory).
    assert_eq!(
        iam.writes(),
        ["SetDefaultPolicyVersion v1", "DeletePolicyVersion v2"]
    );
    let policy = &iam.state().policies[DENY];
    assert_eq!((policy.default.as_str(), policy.versions.len()), ("v1", 1));
    let deleted = &check.actions[1];
    assert_eq!(deleted.document.as_deref(), Some(TAMPERED));
    assert_eq!(sns.event_types(), ["deny_policy_changed", "run_summary"]);
    let alert = &sns.sent()[0];
    assert_eq!(alert.attributes["severity"], "critical");
    assert!(alert.text.contains(TAMPERED), "{}", alert.text);
}

#[tokio::test]
async fn a_dry_run_on_a_tampered_deny_policy_plans_the_repair_and_writes_nothing() {
    let iam = tampered(vec![("ann", User::console())]);
    let report = run(&iam, &InMemorySns::new(), &settings(&[("DRY_RUN", "true")])).await;
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
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn with_no_canonical_version_left_nothing_is_written_and_the_operator_is_told_how() {
    let iam = account(vec![("ann", User::console())]);
    iam.change(|s| {
        s.policies
            .insert(DENY.into(), ManagedPolicy::with_versions(&[TAMPERED]));
    });
    let sns = InMemorySns::new();
    let report = run(&iam, &sns, &settings(&[])).await;
    let check = report.deny_policy.as_ref().unwrap();
    assert_eq!(check.outcome, Outcome::Skipped);
    assert_eq!(check.detail.as_deref(), Some("no_canonical_version"));
    assert!(iam.writes().is_empty());
    let alert = &sns.sent()[0];
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
    let iam = account(vec![("ann", User::console())]);
    iam.fail("GetPolicy", None, "Throttling");
    let sns = InMemorySns::new();
    let settings = settings(&[]);
    let err = audit_account(ports(&iam, &sns, &settings), &settings, now())
        .await
        .unwrap_err();
    assert!(err.retryable(), "{err}");
    assert!(err.to_string().contains("GetPolicy failed"), "{err}");
    assert!(iam.writes().is_empty());
    assert!(sns.sent().is_empty());
}

#[tokio::test]
async fn a_deny_policy_of_another_account_stops_the_run_before_any_write() {
    let iam = account(vec![("ann", User::console())]);
    let sns = InMemorySns::new();
    let settings = settings(&[(
        "DENY_POLICY_ARN",
        "arn:aws:iam::210987654321:policy/DenyWithoutMFA",
    )]);
    let err = audit_account(ports(&iam, &sns, &settings), &settings, now())
        .await
        .unwrap_err();
    let EngineError::Setting(e) = &err else {
        panic!("expected a settings error, got {err}")
    };
    assert_eq!(e.variable, "DENY_POLICY_ARN");
    assert!(!err.retryable());
    assert!(iam.writes().is_empty());
    assert!(sns.sent().is_empty());
}

#[tokio::test]
async fn one_failed_write_does_not_stop_the_others_and_fails_the_run() {
    let iam = account(
        (0..30)
            .map(|i| (format!("u{i:02}"), User::console()))
            .collect::<Vec<_>>()
            .iter()
            .map(|(n, u)| (n.as_str(), u.clone()))
            .collect(),
    );
    iam.fail("AttachUserPolicy", Some("u07"), "AccessDenied");
    let report = run(
        &iam,
        &InMemorySns::new(),
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
        Some("AttachUserPolicy failed: scripted AccessDenied (AccessDenied)")
    );
    assert!(iam.state().users["u07"].groups.contains(&GROUP.to_string()));
    assert_eq!(report.verdict(), Verdict::Failed);
}

#[tokio::test]
async fn dry_run_has_no_writer_and_still_reports_the_plan() {
    let iam = account(vec![("ann", User::console())]);
    let sns = InMemorySns::new();
    let report = run(&iam, &sns, &settings(&[("DRY_RUN", "true")])).await;
    assert!(report.dry_run);
    assert_eq!(outcome_of(&report, "ann"), [(Outcome::Planned, None)]);
    assert_eq!(sns.event_types(), ["run_summary"]);
    assert!(iam.writes().is_empty());
}

#[tokio::test]
async fn a_failed_publish_is_recorded_and_never_undoes_enforcement() {
    let iam = account(vec![("ann", User::console())]);
    let sns = InMemorySns::new();
    sns.fail();
    let report = run(&iam, &sns, &settings(&[])).await;
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
    assert_eq!(report.verdict(), Verdict::Failed);
    // A notice that was not delivered is not remembered: the next run tells them again.
    assert_eq!(iam.writes(), ["AttachUserPolicy ann"]);
}

#[tokio::test]
async fn root_without_mfa_is_reported_never_remediated_and_the_summary_is_read_only_then() {
    let iam = account(vec![]);
    iam.change(|s| s.root.mfa_enabled = false);
    let sns = InMemorySns::new();
    let report = run(&iam, &sns, &settings(&[])).await;
    assert_eq!(sns.event_types(), ["root_without_mfa", "run_summary"]);
    let root = &report.findings[0];
    assert_eq!(
        (root.status, root.reasons.clone()),
        (Status::NonCompliant, vec![Reason::RootNoMfa])
    );
    assert!(root.actions.is_empty());
    assert!(iam.writes().is_empty());
    assert_eq!(
        iam.reads(),
        [
            "GetAccountAuthorizationDetails",
            "GetAccountSummary",
            "GetCredentialReport",
            "GetPolicy",
            "ListVirtualMFADevices"
        ]
    );
    assert_eq!(report.verdict(), Verdict::NonCompliantRemain);

    iam.change(|s| s.root.password_present = Some(false));
    let report = run(&iam, &InMemorySns::new(), &settings(&[])).await;
    assert_eq!(report.findings[0].status, Status::NotApplicable);

    let with_mfa = account(vec![]);
    run(&with_mfa, &InMemorySns::new(), &settings(&[])).await;
    assert!(
        !with_mfa.reads().contains(&"GetAccountSummary"),
        "no summary read when root has MFA"
    );
}

#[tokio::test]
async fn malformed_report_fails_the_run_with_the_parse_error() {
    let iam = account(vec![]);
    iam.change(|s| {
        s.report = Some(Report {
            content: "user,arn\nx,y\n".into(),
            generated_at: now(),
        })
    });
    let sns = InMemorySns::new();
    let settings = settings(&[]);
    let err = audit_account(ports(&iam, &sns, &settings), &settings, now())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("missing required columns"),
        "{err}"
    );
    assert!(!err.retryable());
}

#[tokio::test]
async fn a_second_run_finds_nothing_to_write() {
    let iam = account(vec![
        ("ann", User::console()),
        (
            "bob",
            User::console().with_device("arn:aws:iam::123456789012:mfa/bob"),
        ),
        ("api", User::api_only()),
    ]);
    let first = run(&iam, &InMemorySns::new(), &settings(&[])).await;
    assert_eq!(first.summary.actions_applied, 2);
    assert!(iam.state().users["ann"]
        .policies
        .contains(&DENY.to_string()));
    iam.clear_calls();
    // The next day, with a new report: ann is enforced, bob compliant; nothing to write.
    iam.change(|s| s.report = None);
    let second = run(&iam, &InMemorySns::new(), &settings(&[])).await;
    assert!(iam.writes().is_empty(), "{:?}", iam.writes());
    assert_eq!((second.summary.enforced, second.summary.compliant), (1, 2));
}

#[tokio::test]
async fn roles_are_judged_in_the_same_reads_and_a_privileged_one_without_mfa_is_alerted_never_written(
) {
    use crate::in_memory::Role;
    use crate::roles::RoleClassification;
    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    let trust = |condition: &str| {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Allow",
                "Principal": {{"AWS": "arn:aws:iam::123456789012:root"}},
                "Action": "sts:AssumeRole", "Condition": {{{condition}}}}}}}"#
        )
    };
    let iam = account(vec![]);
    iam.change(|s| {
        let roles = [
            ("admin-open", Role::trusting(&trust(""), &[ADMIN])),
            (
                "admin-mfa",
                Role::trusting(
                    &trust(r#""Bool": {"aws:MultiFactorAuthPresent": "true"}"#),
                    &[ADMIN],
                ),
            ),
            (
                "admin-ifexists",
                Role::trusting(
                    &trust(r#""BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}"#),
                    &[ADMIN],
                ),
            ),
            ("reader-open", Role::trusting(&trust(""), &[])),
            (
                "ec2",
                Role::trusting(
                    r#"{"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}}"#,
                    &[ADMIN],
                ),
            ),
        ];
        for (name, role) in roles {
            s.roles.insert(name.to_string(), role);
        }
    });
    let sns = InMemorySns::new();
    let report = run(&iam, &sns, &settings(&[])).await;
    let roles = report.roles.as_ref().unwrap();
    let judged: Vec<(&str, RoleClassification, bool)> = roles
        .iter()
        .map(|r| (r.name.as_str(), r.classification, r.privileged))
        .collect();
    assert_eq!(
        judged,
        [
            ("admin-ifexists", RoleClassification::MfaBypassable, true),
            ("admin-mfa", RoleClassification::MfaRequired, true),
            ("admin-open", RoleClassification::MfaNotRequired, true),
            ("ec2", RoleClassification::NotApplicable, true),
            ("reader-open", RoleClassification::MfaNotRequired, false),
        ]
    );
    let counts = report.summary.roles.clone().unwrap();
    assert_eq!(
        (counts.mfa_not_required, counts.privileged_without_mfa),
        (2, 2)
    );
    assert_eq!(
        sns.event_types(),
        ["privileged_roles_without_mfa", "run_summary"]
    );
    let alert = &sns.sent()[0];
    assert_eq!(alert.attributes["severity"], "critical");
    assert!(alert.text.contains("admin-open") && alert.text.contains("admin-ifexists"));
    assert!(!alert.text.contains("admin-mfa") && !alert.text.contains("reader-open"));
    assert_eq!(report.verdict(), Verdict::NonCompliantRemain);
    // No request per role: the same reads as an account without roles, and no write.
    assert!(iam.writes().is_empty());
    assert_eq!(
        iam.reads(),
        [
            "GetAccountAuthorizationDetails",
            "GetCredentialReport",
            "GetPolicy",
            "ListVirtualMFADevices"
        ]
    );
}

#[tokio::test]
async fn privileged_users_without_a_passkey_or_security_key_are_reported_never_written() {
    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    let key = "arn:aws:iam::123456789012:u2f/user/kim/key-ABCDEFGHIJKLMNOP";
    let iam = account(vec![
        (
            "ann",
            User::console()
                .with_device("arn:aws:iam::123456789012:mfa/ann")
                .in_group(GROUP)
                .with_policy(ADMIN),
        ),
        (
            "kim",
            User::console()
                .with_device(key)
                .in_group(GROUP)
                .with_policy(ADMIN),
        ),
        (
            "tom",
            User::console()
                .with_device("GAHT12345678")
                .in_group(GROUP)
                .with_policy(ADMIN),
        ),
        (
            "dev",
            User::console()
                .with_device("arn:aws:iam::123456789012:mfa/dev")
                .in_group(GROUP),
        ),
    ]);
    let sns = InMemorySns::new();
    let report = run(
        &iam,
        &sns,
        &settings(&[("PHISHING_RESISTANT_FOR", "privileged")]),
    )
    .await;
    let flagged: Vec<(&str, Status)> = report
        .findings
        .iter()
        .filter(|f| f.reasons.contains(&Reason::MfaNotPhishingResistant))
        .map(|f| (f.user.as_str(), f.status))
        .collect();
    // A hardware TOTP token's code can be phished as an app's can.
    assert_eq!(
        flagged,
        [("ann", Status::Compliant), ("tom", Status::Compliant)]
    );
    assert_eq!(report.summary.mfa_not_phishing_resistant, 2);
    assert!(iam.writes().is_empty(), "reported, never enforced");
    let device_reads = iam
        .reads()
        .iter()
        .filter(|r| **r == "ListMFADevices")
        .count();
    assert_eq!(
        device_reads, 3,
        "only the privileged users' devices are read"
    );
    let summary = sns
        .sent()
        .into_iter()
        .last()
        .unwrap_or_else(|| panic!("{:?}", report.notifications));
    assert!(
        summary.text.contains("PHISHING_RESISTANT_FOR"),
        "{}",
        summary.text
    );
    assert!(summary.text.contains("  ann\n") && summary.text.contains("  tom\n"));

    // Without the setting nobody is judged and nothing extra is read.
    let iam_default = account(vec![(
        "ann",
        User::console()
            .with_device("arn:aws:iam::123456789012:mfa/ann")
            .in_group(GROUP)
            .with_policy(ADMIN),
    )]);
    let report = run(&iam_default, &InMemorySns::new(), &settings(&[])).await;
    assert_eq!(report.summary.mfa_not_phishing_resistant, 0);
    assert!(!iam_default.reads().contains(&"ListMFADevices"));
}

#[tokio::test]
async fn root_as_aws_runs_it_now_credentials_removed_access_keys_or_a_virtual_device() {
    // Root's credentials removed centrally: no password, no keys, no MFA. Nobody signs in.
    let removed = account(vec![]);
    removed.change(|s| {
        s.root.mfa_enabled = false;
        s.root.password_present = Some(false);
    });
    let sns = InMemorySns::new();
    let report = run(&removed, &sns, &settings(&[])).await;
    assert_eq!(
        (
            report.findings[0].status,
            report.findings[0].reasons.clone()
        ),
        (Status::NotApplicable, vec![Reason::RootCredentialsAbsent])
    );
    assert!(sns.event_types().is_empty(), "nothing to tell");
    assert_eq!(report.verdict(), Verdict::Clean);

    // Access keys (the credential report's root row) beside MFA, and a virtual device.
    let keys = account(vec![]);
    keys.change(|s| {
        s.root.access_keys_present = Some(true);
        s.root_virtual_device = Some("arn:aws:iam::123456789012:mfa/root-phone".to_string());
    });
    let sns = InMemorySns::new();
    let report = run(&keys, &sns, &settings(&[])).await;
    assert_eq!(
        (
            report.findings[0].status,
            report.findings[0].reasons.clone()
        ),
        (
            Status::NonCompliant,
            vec![Reason::RootAccessKeysPresent, Reason::RootMfaNotHardware]
        )
    );
    assert_eq!(sns.event_types(), ["root_at_risk", "run_summary"]);
    let alert = &sns.sent()[0];
    assert_eq!(alert.attributes["severity"], "critical");
    assert!(
        alert.text.contains("IAM.4") && alert.text.contains("IAM.6"),
        "{}",
        alert.text
    );
    assert_eq!(
        alert.json["reasons"],
        serde_json::json!(["root_access_keys_present", "root_mfa_not_hardware"])
    );
    assert!(keys.writes().is_empty(), "root is only ever reported");
    assert!(
        !keys.reads().contains(&"GetAccountSummary"),
        "root has MFA: the summary is not needed"
    );
}

#[tokio::test]
async fn a_users_devices_are_read_once_when_both_the_phishing_scope_and_the_notice_need_them() {
    // Privileged, a security key only, an access key, outside the group: the phishing scope
    // reads her devices, and her held-to-MFA notice needs them too.
    let key = "arn:aws:iam::123456789012:u2f/user/kim/key-ABCDEFGHIJKLMNOP";
    let mut kim = User::console()
        .with_device(key)
        .with_policy("arn:aws:iam::aws:policy/AdministratorAccess");
    kim.access_keys = 1;
    let iam = account(vec![("kim", kim)]);
    let report = run(
        &iam,
        &InMemorySns::new(),
        &settings(&[("PHISHING_RESISTANT_FOR", "privileged")]),
    )
    .await;
    let kim = report.findings.iter().find(|f| f.user == "kim").unwrap();
    assert_eq!(kim.mfa_devices.len(), 1);
    let reads = iam
        .reads()
        .iter()
        .filter(|r| **r == "ListMFADevices")
        .count();
    assert_eq!(reads, 1, "one ListMFADevices for both");
}
