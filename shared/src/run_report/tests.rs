use super::*;
use crate::finding::{Action, ActionKind, FindingFacts};

fn finding(status: Status, outcomes: &[Outcome]) -> Finding {
    Finding {
        user: "u".into(),
        arn: "arn:aws:iam::123456789012:user/u".into(),
        user_id: None,
        status,
        reasons: vec![],
        mfa_active: false,
        password_enabled: Some(true),
        groups: vec![],
        exempt_until: None,
        mfa_devices: vec![],
        access_keys: Default::default(),
        actions: outcomes
            .iter()
            .map(|o| Action {
                kind: ActionKind::AttachDenyPolicy,
                target: "p".into(),
                outcome: *o,
                error: None,
                detail: None,
            })
            .collect(),
        facts: FindingFacts::default(),
    }
}

fn report(findings: Vec<Finding>, guard: Guard) -> RunReport {
    RunReport {
        account_id: "123456789012".into(),
        generated_at: DateTime::<Utc>::MIN_UTC,
        report_generated_at: None,
        dry_run: false,
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

const OPEN: Guard = Guard {
    limit: 20,
    would_enforce: 0,
    would_recontain: 0,
    tripped: false,
};

#[test]
fn verdict_table() {
    use Outcome::*;
    let cases = [
        (
            "all compliant",
            vec![finding(Status::Compliant, &[])],
            OPEN,
            Verdict::Clean,
        ),
        (
            "remediated",
            vec![finding(Status::NonCompliant, &[Applied])],
            OPEN,
            Verdict::Clean,
        ),
        (
            "remediated, one part already there",
            vec![finding(Status::NonCompliant, &[Applied, AlreadyInPlace])],
            OPEN,
            Verdict::Clean,
        ),
        (
            "only already in place",
            vec![finding(Status::NonCompliant, &[AlreadyInPlace])],
            OPEN,
            Verdict::NonCompliantRemain,
        ),
        (
            "dry run",
            vec![finding(Status::NonCompliant, &[Planned])],
            OPEN,
            Verdict::NonCompliantRemain,
        ),
        (
            "root",
            vec![finding(Status::NonCompliant, &[])],
            OPEN,
            Verdict::NonCompliantRemain,
        ),
        (
            "guard",
            vec![finding(Status::NonCompliant, &[Skipped])],
            Guard {
                tripped: true,
                ..OPEN
            },
            Verdict::NonCompliantRemain,
        ),
        (
            "half applied",
            vec![finding(Status::NonCompliant, &[Applied, Failed])],
            OPEN,
            Verdict::Failed,
        ),
    ];
    for (name, findings, guard, verdict) in cases {
        assert_eq!(report(findings, guard).verdict(), verdict, "{name}");
    }
}

#[test]
fn summary_counts_statuses_and_outcomes() {
    use Outcome::*;
    let s = Summary::count(
        &[
            finding(Status::Compliant, &[]),
            finding(Status::NonCompliant, &[Applied, AlreadyInPlace]),
            finding(Status::NonCompliant, &[Failed]),
            finding(Status::Enforced, &[]),
        ],
        Some(&Guard {
            limit: 5,
            would_enforce: 2,
            would_recontain: 0,
            tripped: false,
        }),
    );
    assert_eq!((s.compliant, s.non_compliant, s.enforced), (1, 2, 1));
    assert_eq!(s.non_compliant_remaining, 1);
    assert_eq!(
        (
            s.actions_applied,
            s.actions_already_in_place,
            s.actions_failed
        ),
        (1, 1, 1)
    );
    assert_eq!((s.max_enforcements_per_run, s.users_to_enforce), (5, 2));
}

#[test]
fn a_failed_notification_fails_the_run() {
    let mut r = report(vec![finding(Status::Compliant, &[])], OPEN);
    r.record_notification(NotificationRecord {
        kind: "run_summary".into(),
        user: None,
        outcome: Outcome::Failed,
        message_id: None,
        error: Some("boom".into()),
    });
    assert_eq!(r.verdict(), Verdict::Failed);
    assert_eq!(
        (r.summary.actions_failed, r.summary.notifications_failed),
        (0, 1)
    );
    let failure = r.failure().unwrap();
    assert_eq!((failure.failed, failure.notifications_failed), (0, 1));
    assert!(failure
        .to_string()
        .starts_with("0 action(s) and 1 notification(s) failed"));
}

#[test]
fn json_round_trips_with_the_contract_names() {
    let r = report(
        vec![finding(Status::NonCompliant, &[Outcome::Planned])],
        OPEN,
    );
    let json = serde_json::to_value(&r).unwrap();
    for key in [
        "account_id",
        "generated_at",
        "report_generated_at",
        "dry_run",
        "summary",
        "findings",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    for key in [
        "not_applicable",
        "exempt",
        "in_grace",
        "compliant",
        "enforced",
        "non_compliant",
        "actions_applied",
        "actions_failed",
        "notifications_failed",
        "guard_tripped",
    ] {
        assert!(json["summary"].get(key).is_some(), "summary.{key}");
    }
    let f = &json["findings"][0];
    for key in [
        "user",
        "arn",
        "status",
        "reasons",
        "mfa_active",
        "password_enabled",
        "groups",
        "actions",
    ] {
        assert!(f.get(key).is_some(), "finding.{key}");
    }
    assert_eq!(f["status"], "non_compliant");
    assert_eq!(f["actions"][0]["kind"], "attach_deny_policy");
    assert_eq!(f["actions"][0]["outcome"], "planned");
    assert!(f["actions"][0].get("error").is_none());
    let back: RunReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}
