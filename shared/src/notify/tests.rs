use super::*;
use crate::event::ExemptionChange;
use crate::finding::{Action, ActionKind, FindingFacts, Outcome, Reason, Status};
use crate::message::MAX_SUBJECT_CHARS;
use crate::notices::NoticeKind;
use crate::plan::Guard;
use crate::run_report::{RunReport, Summary};
use chrono::{TimeZone, Utc};

fn report(outcome: Option<Outcome>, guard_tripped: bool, dry_run: bool) -> RunReport {
    let findings = vec![Finding {
        user: "carol".into(),
        arn: "arn:aws:iam::123456789012:user/carol".into(),
        user_id: None,
        status: Status::NonCompliant,
        reasons: vec![Reason::NoMfa],
        mfa_active: false,
        password_enabled: Some(true),
        groups: vec![],
        exempt_until: None,
        mfa_devices: vec![],
        access_keys: Default::default(),
        actions: outcome
            .map(|o| Action {
                kind: ActionKind::AttachDenyPolicy,
                target: "p".into(),
                outcome: o,
                error: None,
                detail: None,
            })
            .into_iter()
            .collect(),
        facts: FindingFacts::default(),
    }];
    let guard = Guard {
        limit: 0,
        would_enforce: 1,
        would_recontain: 0,
        tripped: guard_tripped,
    };
    RunReport {
        account_id: "123456789012".into(),
        generated_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        report_generated_at: None,
        dry_run,
        summary: Summary::count(&findings, Some(&guard)),
        findings,
        roles: None,
        notifications: vec![],
        event: None,
        deny_policy: None,
        enforcement_group_lacks_deny_policy: None,
        security_hub: None,
        exemptions_changed: false,
    }
}

#[test]
fn subject_severity_and_attributes_follow_the_run() {
    let cases = [
        (
            Some(Outcome::Applied),
            false,
            false,
            "MFA enforcer 123456789012: 1 actions applied, 1 non-compliant",
            "info",
        ),
        (
            Some(Outcome::Planned),
            false,
            true,
            "MFA enforcer 123456789012 [dry run]: 1 non-compliant",
            "warning",
        ),
        (
            Some(Outcome::Failed),
            false,
            false,
            "MFA enforcer 123456789012: 1 failed, 1 non-compliant",
            "critical",
        ),
        (
            Some(Outcome::Skipped),
            true,
            false,
            "MFA enforcer 123456789012: guard tripped, 1 users not enforced",
            "critical",
        ),
    ];
    for (outcome, guard, dry_run, subject, severity) in cases {
        let r = report(outcome, guard, dry_run);
        assert!(run_summary_due(&r));
        let n = run_summary(&r);
        assert_eq!(n.subject, subject);
        assert!(n.subject.chars().count() < 100);
        assert_eq!(n.attributes["severity"], severity, "{subject}");
        assert_eq!(n.attributes["event_type"], "run_summary");
        assert_eq!(n.attributes["account_id"], "123456789012");
        assert_eq!(n.json["summary"]["non_compliant"], 1);
        assert_eq!(n.json["non_compliant"][0]["user"], "carol");
        assert!(n.text.contains("carol: no_mfa"), "{}", n.text);
    }
    assert!(run_summary(&report(Some(Outcome::Skipped), true, false))
        .text
        .contains("GUARD TRIPPED"));
}

#[test]
fn a_quiet_run_is_not_announced() {
    let mut r = report(None, false, false);
    r.findings.clear();
    r.summary = Summary::count(&r.findings, None);
    assert!(!run_summary_due(&r));
}

#[test]
fn a_users_notice_says_what_happened_why_and_exactly_what_to_do() {
    let mut r = report(Some(Outcome::Applied), false, false);
    r.findings[0].facts.recipient = Some("carol@example.com".into());
    r.findings[0].access_keys.active = 1;
    let n = user_notice(
        "123456789012",
        &r.findings[0],
        Status::Enforced,
        NoticeKind::Changed,
        chrono::Duration::zero(),
        None,
    );
    assert_eq!(
        n.subject,
        "MFA enforcer 123456789012: carol is restricted until MFA is enrolled"
    );
    assert_eq!(n.attributes["event_type"], "user_enforced");
    assert_eq!(n.attributes["user"], "carol");
    assert_eq!(n.attributes["recipient"], "carol@example.com");
    assert_eq!(n.attributes["severity"], "warning");
    for needle in [
        "Why: no_mfa.",
        "Assign MFA device",
        "aws iam list-mfa-devices --user-name carol",
        "aws sts get-session-token --serial-number <its serial, from list-mfa-devices>",
    ] {
        assert!(n.text.contains(needle), "{needle}\n{}", n.text);
    }
    // No guessed serial, no profile the CLI could not use.
    assert!(!n.text.contains(":mfa/carol"), "{}", n.text);
    assert!(!n.text.contains("[profile"), "{}", n.text);
    // The JSON form carries the same guidance.
    assert_eq!(
        n.json["guidance"]["cli"]["commands"][0],
        "aws iam list-mfa-devices --user-name carol"
    );
    assert_eq!(n.json["guidance"]["console"].as_array().unwrap().len(), 4);
    assert_eq!(n.json["status"], "enforced");
    assert_eq!(n.json["status_found"], "non_compliant");

    let mut grace = r.findings[0].clone();
    grace.status = Status::InGrace;
    grace.facts.created = Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    grace.facts.recipient = None;
    let n = user_notice(
        "123456789012",
        &grace,
        Status::InGrace,
        NoticeKind::Reminder,
        chrono::Duration::hours(72),
        None,
    );
    assert!(
        n.subject.starts_with("Reminder: MFA enforcer"),
        "{}",
        n.subject
    );
    assert!(n.text.contains("before 2026-01-04T00:00:00Z"), "{}", n.text);
    assert!(!n.attributes.contains_key("recipient"));
    assert_eq!(n.attributes["event_type"], "user_in_grace");
}

#[test]
fn alerts_name_the_problem_and_are_critical_or_warning() {
    let failures = vec![("carol".to_string(), "AccessDenied".to_string())];
    let change = ExemptionChange {
        set: vec![],
        removed: vec!["mfa-enforcer:exempt-until".into()],
    };
    let mut erin = report(None, false, false).findings.remove(0);
    erin.user = "erin".into();
    erin.status = Status::Exempt;
    let cases = [
        (
            Alert::GuardTripped {
                would_enforce: 30,
                limit: 20,
            },
            "guard_tripped",
            "critical",
            "guard tripped, 30 users over the limit of 20",
        ),
        (
            Alert::WritesFailed {
                failures: &failures,
            },
            "writes_failed",
            "critical",
            "1 remediation writes failed",
        ),
        (
            Alert::Root {
                reasons: &[Reason::RootNoMfa, Reason::RootPasswordUnknown],
            },
            "root_without_mfa",
            "critical",
            "root user has no MFA",
        ),
        (
            Alert::Root {
                reasons: &[Reason::RootAccessKeysPresent, Reason::RootMfaNotHardware],
            },
            "root_at_risk",
            "critical",
            "root user has access keys, has a virtual MFA device",
        ),
        (
            Alert::ExemptionChanged {
                user: "erin",
                change: &change,
                finding: Some(&erin),
            },
            "exemption_changed",
            "warning",
            "erin exempt from MFA with no end date",
        ),
    ];
    for (a, kind, severity, headline) in cases {
        let n = alert("123456789012", None, &a);
        assert_eq!(n.attributes["event_type"], kind);
        assert_eq!(n.attributes["severity"], severity);
        assert_eq!(n.subject, format!("MFA enforcer 123456789012: {headline}"));
        assert_eq!(n.json["event_type"], kind);
    }
    let n = alert(
        "123456789012",
        None,
        &Alert::WritesFailed {
            failures: &failures,
        },
    );
    assert!(n.text.contains("carol: AccessDenied"), "{}", n.text);
    assert_eq!(n.json["failures"][0]["user"], "carol");
}

#[test]
fn an_exemption_change_says_what_changed_and_where_the_user_stands_now() {
    let mut erin = report(None, false, false).findings.remove(0);
    erin.user = "erin".into();
    erin.status = Status::Exempt;
    erin.exempt_until = Some(Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).unwrap());
    let change = ExemptionChange {
        set: vec![crate::event::TagValue {
            key: "mfa-enforcer:exempt-until".into(),
            value: "9999-12-30".into(),
        }],
        removed: vec![],
    };
    let n = alert(
        "123456789012",
        None,
        &Alert::ExemptionChanged {
            user: "erin",
            change: &change,
            finding: Some(&erin),
        },
    );
    assert_eq!(
        n.subject,
        "MFA enforcer 123456789012: erin exempt from MFA until 9999-12-31T00:00:00Z"
    );
    assert!(
        n.text
            .contains("Tag mfa-enforcer:exempt-until set to \"9999-12-30\" on erin."),
        "{}",
        n.text
    );
    assert_eq!(n.json["change"]["set"][0]["value"], "9999-12-30");
    assert_eq!(n.json["status"], "exempt");

    // Removing the exemption is news too, with where the user stands now.
    let mut carol = report(Some(Outcome::Applied), false, false)
        .findings
        .remove(0);
    carol.status = Status::NonCompliant;
    let removed = ExemptionChange {
        set: vec![],
        removed: vec!["mfa-enforcer:exempt".into()],
    };
    let n = alert(
        "123456789012",
        None,
        &Alert::ExemptionChanged {
            user: "carol",
            change: &removed,
            finding: Some(&carol),
        },
    );
    assert_eq!(
        n.subject,
        "MFA enforcer 123456789012: carol's MFA exemption changed"
    );
    assert!(n
        .text
        .contains("Tag mfa-enforcer:exempt removed from carol."));
    assert!(
        n.text
            .contains("carol is not exempt now (status non_compliant: no_mfa)."),
        "{}",
        n.text
    );
}

#[test]
fn a_run_summary_lists_exempt_users_and_the_deny_policy() {
    let mut r = report(None, false, false);
    let mut erin = r.findings[0].clone();
    erin.user = "erin".into();
    erin.status = Status::Exempt;
    erin.exempt_until = Some(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap());
    let mut frank = erin.clone();
    frank.user = "frank".into();
    frank.exempt_until = None;
    r.findings = vec![erin, frank];
    r.summary = Summary::count(&r.findings, None);
    r.deny_policy = Some(crate::engine::deny_policy::judge(
        "arn:aws:iam::123456789012:policy/D",
        &crate::ports::DefaultPolicyVersion {
            id: "v1".into(),
            document: crate::policy::deny_policy_document().to_string(),
            ..Default::default()
        },
    ));
    assert!(
        !run_summary_due(&r),
        "the same exempt users as last time: quiet"
    );
    r.exemptions_changed = true;
    assert!(
        run_summary_due(&r),
        "changed exemptions alone make a summary due"
    );
    let n = run_summary(&r);
    for needle in [
        "erin: exempt until 2026-07-01T00:00:00Z",
        "frank: exempt with no end date",
        "Deny policy arn:aws:iam::123456789012:policy/D (v1): canonical (release",
    ] {
        assert!(n.text.contains(needle), "{needle}\n{}", n.text);
    }
    assert_eq!(n.json["exempt"][1]["user"], "frank");
    assert_eq!(n.json["exempt"][1]["exempt_until"], serde_json::Value::Null);
    assert_eq!(n.json["deny_policy"]["canonical"], true);
    assert_eq!(n.json["exemptions_changed"], true);
    assert!(n
        .text
        .contains("The exempt users changed since the last summary that listed them (2 now)."));
}

#[test]
fn long_subjects_are_cut_below_the_limit() {
    let long = "x".repeat(300);
    let cut = truncate(&long, MAX_SUBJECT_CHARS);
    assert_eq!(cut.chars().count(), MAX_SUBJECT_CHARS);
    assert!(cut.ends_with("..."));
}
