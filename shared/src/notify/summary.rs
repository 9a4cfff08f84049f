//! The run summary: what a run found and did, for the security team.

use super::{truncate, until_words, MAX_ERROR_CHARS, MAX_LISTED_USERS, RUN_SUMMARY};
use crate::finding::{Finding, Reason, Status};
use crate::message::{Notification, MAX_SUBJECT_CHARS};
use crate::run_report::{DenyPolicyCheck, RunReport};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use strum::IntoEnumIterator;

/// Whether a run is worth a summary: something is non-compliant, something changed or failed,
/// or (a whole-account run) the exempt users changed since the last summary that listed them:
/// a stack without the event function would otherwise never show an exemption to anyone; or
/// a privileged role or user is open to a caller without MFA or to phishing.
pub fn run_summary_due(report: &RunReport) -> bool {
    let s = &report.summary;
    s.non_compliant > 0
        || s.actions_applied > 0
        || s.actions_failed > 0
        || s.guard_tripped
        || report.exemptions_changed
        || s.roles
            .as_ref()
            .is_some_and(|r| r.privileged_without_mfa > 0)
        || s.mfa_not_phishing_resistant > 0
}

/// Severity of a run: `critical` when something failed or the guard tripped, `warning` when
/// users remain non-compliant or a privileged role may be assumed without MFA, `info` otherwise.
pub fn run_severity(report: &RunReport) -> &'static str {
    let s = &report.summary;
    if s.actions_failed > 0 || s.guard_tripped {
        "critical"
    } else if s.non_compliant_remaining > 0
        || report.privileged_roles_without_mfa().next().is_some()
    {
        "warning"
    } else {
        "info"
    }
}

/// Renders the run summary.
pub fn run_summary(report: &RunReport) -> Notification {
    let s = &report.summary;
    let mode = if report.dry_run { " [dry run]" } else { "" };
    let headline = if s.guard_tripped {
        format!("guard tripped, {} users not enforced", s.users_to_enforce)
    } else {
        let mut parts = Vec::new();
        if s.actions_applied > 0 {
            parts.push(format!("{} actions applied", s.actions_applied));
        }
        if s.actions_failed > 0 {
            parts.push(format!("{} failed", s.actions_failed));
        }
        parts.push(format!("{} non-compliant", s.non_compliant));
        if s.exempt > 0 {
            parts.push(format!("{} exempt", s.exempt));
        }
        parts.join(", ")
    };
    let subject = truncate(
        &format!("MFA enforcer {}{mode}: {headline}", report.account_id),
        MAX_SUBJECT_CHARS,
    );

    let mut text = String::new();
    let _ = writeln!(
        text,
        "mfa-enforcer run summary for account {}{mode}",
        report.account_id
    );
    let _ = writeln!(
        text,
        "Run finished at {}.",
        report.generated_at.to_rfc3339()
    );
    if let Some(t) = report.report_generated_at {
        let _ = writeln!(text, "Credential report generated at {}.", t.to_rfc3339());
    }
    if let Some(check) = &report.deny_policy {
        let _ = writeln!(text, "\n{}", deny_policy_line(check));
    }
    let _ = writeln!(text, "\nUsers by status:");
    for status in Status::iter() {
        let _ = writeln!(text, "  {:<15} {}", status.as_str(), s.status(status));
    }
    let _ = writeln!(
        text,
        "\nActions: {} applied, {} already in place, {} planned, {} skipped, {} failed.",
        s.actions_applied,
        s.actions_already_in_place,
        s.actions_planned,
        s.actions_skipped,
        s.actions_failed
    );
    if s.guard_tripped {
        let _ = writeln!(
            text,
            "\nGUARD TRIPPED: {} users would have been enforced, more than MAX_ENFORCEMENTS_PER_RUN={}. \
             Nothing was written. Review the findings (run a dry run), then raise the limit for one run if they are right.",
            s.users_to_enforce, s.max_enforcements_per_run
        );
    }
    let non_compliant: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::NonCompliant)
        .collect();
    let listed = &non_compliant[..non_compliant.len().min(MAX_LISTED_USERS)];
    let not_listed = non_compliant.len() - listed.len();
    if !listed.is_empty() {
        let _ = writeln!(text, "\nNon-compliant users:");
        for f in listed {
            let reasons: Vec<&str> = f.reasons.iter().map(|r| r.as_str()).collect();
            let actions: Vec<String> = f
                .actions
                .iter()
                .map(|a| match &a.error {
                    Some(e) => format!(
                        "{} {} ({})",
                        a.kind,
                        a.outcome,
                        truncate(e, MAX_ERROR_CHARS)
                    ),
                    None => format!("{} {}", a.kind, a.outcome),
                })
                .collect();
            let _ = writeln!(
                text,
                "  {}: {}; {}",
                f.user,
                reasons.join(", "),
                if actions.is_empty() {
                    "no action (report only)".to_string()
                } else {
                    actions.join(", ")
                }
            );
        }
        if not_listed > 0 {
            let _ = writeln!(
                text,
                "  ... and {not_listed} more, not listed here: run a dry run (mfa-enforcer audit) for the full list."
            );
        }
    }

    let phishable: Vec<&Finding> = (report.findings.iter())
        .filter(|f| f.reasons.contains(&Reason::MfaNotPhishingResistant))
        .collect();
    if !phishable.is_empty() {
        let _ = writeln!(
            text,
            "\nUsers whose MFA must resist phishing (PHISHING_RESISTANT_FOR) and has no passkey or \
             security key ({}; reported, never enforced):",
            phishable.len()
        );
        for f in phishable.iter().take(MAX_LISTED_USERS) {
            let _ = writeln!(text, "  {}", f.user);
        }
        if phishable.len() > MAX_LISTED_USERS {
            let _ = writeln!(
                text,
                "  ... and {} more.",
                phishable.len() - MAX_LISTED_USERS
            );
        }
    }
    if let Some(roles) = &s.roles {
        let _ = writeln!(
            text,
            "\nRoles: {} require MFA, {} do not, {} bypassable (BoolIfExists), {} not applicable; \
             {} privileged, {} of them assumable without MFA.",
            roles.mfa_required,
            roles.mfa_not_required,
            roles.mfa_bypassable,
            roles.not_applicable,
            roles.privileged,
            roles.privileged_without_mfa
        );
        let open: Vec<_> = report.privileged_roles_without_mfa().collect();
        for role in open.iter().take(MAX_LISTED_USERS) {
            let _ = writeln!(text, "  {}: {}", role.name, role.classification);
        }
        if open.len() > MAX_LISTED_USERS {
            let _ = writeln!(text, "  ... and {} more.", open.len() - MAX_LISTED_USERS);
        }
    }

    let exempt: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Exempt)
        .collect();
    let exempt_listed = &exempt[..exempt.len().min(MAX_LISTED_USERS)];
    if report.exemptions_changed {
        let _ = writeln!(
            text,
            "\nThe exempt users changed since the last summary that listed them ({} now).",
            exempt.len()
        );
    }
    if !exempt_listed.is_empty() {
        let _ = writeln!(
            text,
            "\nExempt users (never denied; review that each is intended):"
        );
        for f in exempt_listed {
            let _ = writeln!(text, "  {}: exempt {}", f.user, until_words(f));
        }
        if exempt.len() > exempt_listed.len() {
            let _ = writeln!(
                text,
                "  ... and {} more, not listed here.",
                exempt.len() - exempt_listed.len()
            );
        }
    }

    let json = json!({
        "event_type": RUN_SUMMARY,
        "account_id": report.account_id,
        "generated_at": report.generated_at,
        "report_generated_at": report.report_generated_at,
        "dry_run": report.dry_run,
        "deny_policy": report.deny_policy.as_ref().map(|c| json!({
            "arn": c.arn,
            "default_version": c.default_version,
            "canonical": c.canonical,
            "release": c.release,
            "redeploy_recommended": c.redeploy_recommended,
            "outcome": c.outcome,
        })),
        "exempt": exempt_listed.iter().map(|f| json!({
            "user": f.user,
            "exempt_until": f.exempt_until,
        })).collect::<Vec<_>>(),
        "exempt_not_listed": exempt.len() - exempt_listed.len(),
        "exemptions_changed": report.exemptions_changed,
        "summary": s,
        "non_compliant": listed.iter().map(|f| json!({
            "user": f.user,
            "arn": f.arn,
            "reasons": f.reasons,
            "actions": f.actions.iter().map(|a| {
                let mut a = a.clone();
                a.error = a.error.map(|e| truncate(&e, MAX_ERROR_CHARS));
                a.detail = a.detail.map(|d| truncate(&d, MAX_ERROR_CHARS));
                a
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "non_compliant_not_listed": not_listed,
    });
    let attributes = BTreeMap::from([
        ("event_type".to_string(), RUN_SUMMARY.to_string()),
        ("severity".to_string(), run_severity(report).to_string()),
        ("account_id".to_string(), report.account_id.clone()),
    ]);
    Notification {
        subject,
        text,
        json,
        attributes,
    }
}

/// One line on the deny policy for a run summary.
fn deny_policy_line(check: &DenyPolicyCheck) -> String {
    let head = format!("Deny policy {} ({})", check.arn, check.default_version);
    match (&check.release, check.redeploy_recommended) {
        (Some(release), false) => format!("{head}: canonical (release {release})."),
        (Some(release), true) => format!(
            "{head}: canonical (release {release}); release {} has a newer document: redeploy the stack.",
            check.newest_release
        ),
        (None, _) => format!(
            "{head}: NOT CANONICAL; nobody counts as enforced and nothing was attached (see the deny_policy_changed alert)."
        ),
    }
}
