use super::asff::{self, AsffFinding, ACTIVE, ARCHIVED, FIELD_FINGERPRINT};
use super::hub::{batches, plan_sync, MAX_FINDINGS_PER_REQUEST, MAX_REQUEST_BYTES};
use super::*;
use crate::finding::{Finding, Reason, Status};
use crate::roles::{RoleClassification, RoleFinding};
use crate::run_report::RunReport;
use chrono::{Duration, TimeZone, Utc};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn user(name: &str, status: Status, mfa: bool) -> Finding {
    Finding::sample(name, status, mfa)
}

fn role(name: &str, classification: RoleClassification, privileged: bool) -> RoleFinding {
    RoleFinding {
        name: name.into(),
        arn: format!("arn:aws:iam::123456789012:role/{name}"),
        id: format!("AROA{}", name.to_uppercase()),
        path: "/".into(),
        classification,
        privileged,
        privileged_by: vec![],
        principals: vec!["123456789012".into()],
        reasons: vec![],
    }
}

fn report() -> RunReport {
    let mut r = RunReport::empty("123456789012", now(), true);
    let mut root = user(crate::report::ROOT_USER, Status::NonCompliant, true);
    root.arn = "arn:aws:iam::123456789012:root".into();
    root.user_id = None;
    root.reasons = vec![Reason::RootMfaNotHardware];
    let mut ghost = user("ghost", Status::NonCompliant, false);
    ghost.user_id = None;
    r.findings = vec![
        root,
        user("alice", Status::Compliant, true),
        user("bob", Status::NonCompliant, false),
        user("carol", Status::Enforced, false),
        user("erin", Status::Exempt, false),
        user("gina", Status::InGrace, false),
        user("api", Status::NotApplicable, false),
        ghost,
    ];
    r.record_roles(vec![
        role("admin", RoleClassification::MfaBypassable, true),
        role("reader", RoleClassification::MfaNotRequired, false),
        role("guarded", RoleClassification::MfaRequired, true),
        role("lambda", RoleClassification::NotApplicable, false),
    ]);
    r
}

fn event() -> crate::event::IamEvent {
    let text = include_str!("../../../tests/fixtures/events/cloudtrail/add-user-to-group.json");
    crate::event::parse(&serde_json::from_str(text).unwrap()).unwrap()
}

fn ctx(r: &RunReport) -> ExportContext {
    ExportContext::of(r, "eu-west-1")
}

#[test]
fn each_console_user_root_check_and_assumable_role_gets_one_result_that_tells_the_truth_about_mfa()
{
    let results = check_results(&report());
    let got: Vec<(String, &str, Compliance, Severity)> = results
        .iter()
        .map(|r| {
            (
                r.subject.name.clone(),
                r.check.as_str(),
                r.compliance,
                r.severity,
            )
        })
        .collect();
    use Compliance::*;
    use Severity::*;
    let want = [
        ("alice", "console_mfa", Passed, Informational),
        ("bob", "console_mfa", Failed, Medium),
        // Contained, yet still without MFA: failed, at a low severity.
        ("carol", "console_mfa", Failed, Low),
        ("erin", "console_mfa", Warning, Low),
        ("gina", "console_mfa", Warning, Low),
        ("root", "root_access_keys", Passed, Informational),
        ("root", "root_mfa", Passed, Informational),
        ("root", "root_hardware_mfa", Failed, Critical),
        ("admin", "role_trust_mfa", Failed, Critical),
        ("reader", "role_trust_mfa", Failed, Low),
        ("guarded", "role_trust_mfa", Passed, Informational),
    ];
    let want: Vec<(String, &str, Compliance, Severity)> = want
        .iter()
        .map(|(n, c, s, v)| (n.to_string(), *c, *s, *v))
        .collect();
    // Left out: `api` (no console), `ghost` (no longer in IAM), `lambda` (services only).
    assert_eq!(got, want);
    let carol = &results[2];
    assert!(carol.description.contains("Contained"), "{carol:?}");
}

#[test]
fn a_user_remediated_by_this_run_is_exported_as_they_now_are() {
    let mut r = RunReport::empty("123456789012", now(), false);
    let mut dan = user("dan", Status::NonCompliant, false);
    dan.actions = vec![crate::finding::Action {
        kind: crate::finding::ActionKind::AttachDenyPolicy,
        target: "arn".into(),
        outcome: crate::finding::Outcome::Applied,
        error: None,
        detail: None,
    }];
    r.findings = vec![dan];
    let results = check_results(&r);
    assert_eq!(results[0].state, "enforced");
    assert_eq!(results[0].severity, Severity::Low);
}

#[test]
fn root_without_credentials_has_only_its_access_key_check_and_event_runs_export_no_root() {
    let mut r = RunReport::empty("123456789012", now(), true);
    let mut root = user(crate::report::ROOT_USER, Status::NotApplicable, false);
    root.reasons = vec![Reason::RootCredentialsAbsent];
    r.findings = vec![root.clone()];
    let checks: Vec<Check> = check_results(&r).iter().map(|c| c.check).collect();
    assert_eq!(checks, [Check::RootAccessKeys]);
    root.reasons = vec![Reason::RootNoMfa, Reason::RootAccessKeysPresent];
    root.status = Status::NonCompliant;
    r.findings = vec![root];
    let failed: Vec<Check> = check_results(&r)
        .iter()
        .filter(|c| c.compliance == Compliance::Failed)
        .map(|c| c.check)
        .collect();
    assert_eq!(
        failed,
        [
            Check::RootAccessKeys,
            Check::RootMfa,
            Check::RootHardwareMfa
        ]
    );
    r.event = Some(event());
    assert!(check_results(&r).is_empty());
}

#[test]
fn asff_ids_are_stable_per_account_check_and_unique_id_and_every_member_is_ours() {
    let r = report();
    let findings = asff::findings(&r, &ctx(&r));
    let mut ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains(&"mfa-enforcer/123456789012/console_mfa/AIDABOB"));
    assert!(ids.contains(&"mfa-enforcer/123456789012/root_mfa/123456789012"));
    assert!(ids.contains(&"mfa-enforcer/123456789012/role_trust_mfa/AROAADMIN"));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), findings.len(), "IDs are unique");
    let bob = findings.iter().find(|f| f.id.ends_with("AIDABOB")).unwrap();
    assert_eq!(
        bob.product_arn,
        "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    );
    assert_eq!(bob.generator_id, "mfa-enforcer/console_mfa");
    assert_eq!(bob.compliance.status, "FAILED");
    assert_eq!(bob.severity.label, "MEDIUM");
    assert_eq!(bob.finding_provider_fields.severity.label, "MEDIUM");
    assert_eq!(bob.resources[0].kind, "AwsIamUser");
    assert!(bob
        .compliance
        .related_requirements
        .contains(&"Security Hub control/IAM.5".to_string()));
    assert!(bob
        .compliance
        .related_requirements
        .contains(&"CIS AWS Foundations Benchmark v1.4.0/1.10".to_string()));
    let json = serde_json::to_value(bob).unwrap();
    for analysts in ["Workflow", "Note", "UserDefinedFields", "VerificationState"] {
        assert!(json.get(analysts).is_none(), "{analysts} is the analysts'");
    }
    let root = findings
        .iter()
        .find(|f| f.id.contains("/root_hardware_mfa/"))
        .unwrap();
    assert_eq!(root.resources[0].kind, "AwsAccount");
    assert_eq!(root.resources[0].id, "AWS::::Account:123456789012");
}

#[test]
fn the_fingerprint_ignores_times_and_changes_with_what_the_finding_says() {
    let r = report();
    let a = &asff::findings(&r, &ctx(&r))[1];
    let mut later = r.clone();
    later.generated_at = now() + Duration::days(3);
    let b = &asff::findings(&later, &ctx(&later))[1];
    assert_ne!(a.updated_at, b.updated_at);
    assert_eq!(
        a.product_fields[FIELD_FINGERPRINT],
        b.product_fields[FIELD_FINGERPRINT]
    );
    let mut enrolled = r.clone();
    enrolled.findings[2] = user("bob", Status::Compliant, true);
    let c = &asff::findings(&enrolled, &ctx(&enrolled))[1];
    assert_eq!(a.id, c.id);
    assert_ne!(
        a.product_fields[FIELD_FINGERPRINT],
        c.product_fields[FIELD_FINGERPRINT]
    );
}

fn held(findings: &[AsffFinding], imported_at: chrono::DateTime<Utc>) -> Vec<AsffFinding> {
    findings
        .iter()
        .cloned()
        .map(|mut f| {
            f.updated_at = timestamp(imported_at);
            f.created_at = "2026-01-01T00:00:00.000Z".into();
            f
        })
        .collect()
}

#[test]
fn only_new_changed_and_stale_findings_are_imported_and_the_gone_are_archived() {
    let r = report();
    let desired = asff::findings(&r, &ctx(&r));
    let week = Duration::days(7);
    // First run: everything is new.
    let first = plan_sync(desired.clone(), &[], now(), week, true);
    assert_eq!(first.counts.new, desired.len());
    assert_eq!(first.imports.len(), desired.len());
    // The same a day later: nothing to import.
    let existing = held(&desired, now() - Duration::days(1));
    let second = plan_sync(desired.clone(), &existing, now(), week, true);
    assert_eq!(second.imports, vec![]);
    assert_eq!(second.counts.unchanged, desired.len());
    // Eight days later: every finding refreshed, keeping when it was first found.
    let stale = held(&desired, now() - Duration::days(8));
    let refreshed = plan_sync(desired.clone(), &stale, now(), week, true);
    assert_eq!(refreshed.counts.refreshed, desired.len());
    assert!(refreshed
        .imports
        .iter()
        .all(|f| f.created_at == "2026-01-01T00:00:00.000Z"));
    // Bob enrolled and erin left: one changed, one archived (an event run archives nothing).
    let mut next = r.clone();
    next.findings[2] = user("bob", Status::Compliant, true);
    next.findings.retain(|f| f.user != "erin");
    let wanted = asff::findings(&next, &ctx(&next));
    let plan = plan_sync(wanted.clone(), &existing, now(), week, true);
    assert_eq!((plan.counts.changed, plan.counts.archived), (1, 1));
    let archived = plan.imports.last().unwrap();
    assert!(archived.id.ends_with("AIDAERIN"));
    assert_eq!(archived.record_state, ARCHIVED);
    assert_eq!(archived.updated_at, timestamp(now()));
    let event = plan_sync(wanted, &existing, now(), week, false);
    assert_eq!(event.counts.archived, 0);
    // Archived findings in Security Hub are not ours to keep in step.
    let mut gone = existing.clone();
    gone.iter_mut()
        .for_each(|f| f.record_state = ARCHIVED.into());
    assert_eq!(
        plan_sync(vec![], &gone, now(), week, true).counts.archived,
        0
    );
    assert!(existing.iter().all(|f| f.record_state == ACTIVE));
}

#[test]
fn requests_hold_at_most_100_findings_and_6_mb() {
    let r = report();
    let one = asff::findings(&r, &ctx(&r)).remove(1);
    let many: Vec<AsffFinding> = (0..250)
        .map(|i| {
            let mut f = one.clone();
            f.id = format!("{}-{i}", f.id);
            f
        })
        .collect();
    let sizes: Vec<usize> = batches(&many).iter().map(|b| b.len()).collect();
    assert_eq!(sizes, [100, 100, 50]);
    // Findings of ~200 KB each (Security Hub allows 240 KB): 6 MB comes before 100 findings.
    let big: Vec<AsffFinding> = (0..100)
        .map(|i| {
            let mut f = one.clone();
            f.id = format!("{}-{i}", f.id);
            f.description = "x".repeat(200_000);
            f
        })
        .collect();
    let cut = batches(&big);
    assert!(cut.len() > 1);
    for batch in &cut {
        let bytes: usize = batch
            .iter()
            .map(|f| serde_json::to_vec(f).unwrap().len() + 1)
            .sum();
        assert!(bytes <= MAX_REQUEST_BYTES && batch.len() <= MAX_FINDINGS_PER_REQUEST);
    }
    assert_eq!(cut.iter().map(|b| b.len()).sum::<usize>(), 100);
    assert!(batches(&[]).is_empty());
}

#[test]
fn the_ocsf_finding_is_a_compliance_finding_with_the_same_id_and_verdict() {
    let r = report();
    let lines = ocsf::findings(&r, &ctx(&r));
    let asff = asff::findings(&r, &ctx(&r));
    assert_eq!(lines.len(), asff.len());
    for (o, a) in lines.iter().zip(&asff) {
        assert_eq!(o["class_uid"], 2003);
        assert_eq!(o["type_uid"], 200301);
        assert_eq!(o["finding_info"]["uid"], a.id.as_str());
        assert_eq!(o["time"], now().timestamp_millis());
        let status = match a.compliance.status.as_str() {
            "PASSED" => 1,
            "WARNING" => 2,
            _ => 3,
        };
        assert_eq!(o["compliance"]["status_id"], status);
        assert_eq!(o["cloud"]["account"]["uid"], "123456789012");
    }
}

#[test]
fn the_emf_line_names_every_metric_at_its_root_and_event_runs_count_no_users() {
    let mut r = report();
    r.summary = crate::run_report::Summary::count(&r.findings, None);
    let line: serde_json::Value = serde_json::from_str(&emf::line(&r, 1234)).unwrap();
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "MfaEnforcer");
    assert_eq!(line["_aws"]["Timestamp"], now().timestamp_millis());
    assert_eq!(line["Run"], "account");
    let names: Vec<&str> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert!(names.len() <= 100);
    for name in &names {
        assert!(line[name].is_number(), "{name} has no value at the root");
    }
    assert_eq!(line["UsersNonCompliant"], 3.0);
    assert_eq!(line["RunDuration"], 1234.0);
    assert_eq!(line["PrivilegedRolesWithoutMfa"], 1.0);
    r.event = Some(event());
    let event: serde_json::Value = serde_json::from_str(&emf::line(&r, 5)).unwrap();
    assert_eq!(event["Run"], "event");
    assert!(event.get("UsersCompliant").is_none());
    assert!(event.get("ActionsApplied").is_some());
}
