//! Notification rendering: subject, plain text, JSON and message attributes. Pure.
//!
//! Each message has a subject under 100 characters (SNS's limit for email), a text body a
//! person reads in a mail client, and a JSON form for machines; subscribers route on the
//! attributes with SNS filter policies.

use crate::event::{ExemptionChange, IamEvent};
use crate::finding::{Finding, Outcome, Status};
use crate::guidance::{self, Situation};
use crate::message::{Notification, MAX_SUBJECT_CHARS};
use crate::notices::NoticeKind;
use crate::run_report::{DenyPolicyCheck, RunReport};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use strum::IntoEnumIterator;

/// The `kind` recorded for a run summary.
pub const RUN_SUMMARY: &str = "run_summary";

/// The `kind` recorded when remembering a notice on the user (its tags) failed.
pub const NOTICE_MEMORY: &str = "notice_memory";

/// The `kind` recorded when remembering the exemptions a summary listed (a tag on the deny
/// policy) failed.
pub const EXEMPTION_MEMORY: &str = "exemption_memory";

/// How many non-compliant users a run summary lists by name. SNS rejects messages over
/// 256 KiB; a first run in a large account can find thousands. The full list is in the run
/// report (the Lambda's response, the CLI's `--format json`), the summary says how many it left out.
pub const MAX_LISTED_USERS: usize = 50;

/// Error and skip texts are quoted up to this many characters in a notification.
const MAX_ERROR_CHARS: usize = 300;

/// Whether a run is worth a summary: something is non-compliant, something changed or failed,
/// or (a whole-account run) the exempt users changed since the last summary that listed them:
/// a stack without the event function would otherwise never show an exemption to anyone.
pub fn run_summary_due(report: &RunReport) -> bool {
    let s = &report.summary;
    s.non_compliant > 0
        || s.actions_applied > 0
        || s.actions_failed > 0
        || s.guard_tripped
        || report.exemptions_changed
}

/// Severity of a run: `critical` when something failed or the guard tripped, `warning` when
/// users remain non-compliant, `info` otherwise.
pub fn run_severity(report: &RunReport) -> &'static str {
    let s = &report.summary;
    if s.actions_failed > 0 || s.guard_tripped {
        "critical"
    } else if s.non_compliant_remaining > 0 {
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

/// Something a run announces whatever else it found: changes to who is exempt, tampering
/// with what keeps users behind MFA, and its own failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert<'a> {
    /// A user's exemption tags changed (set, moved, removed). Allowed, always announced:
    /// exemptions are audit events.
    ExemptionChanged {
        /// The user.
        user: &'a str,
        /// What the event changed.
        change: &'a ExemptionChange,
        /// The user as the run found them afterwards (their status says whether they are
        /// exempt now, and until when), when they exist.
        finding: Option<&'a Finding>,
    },
    /// The deny policy's default version is not canonical, or a version that is not canonical
    /// had to be removed.
    DenyPolicyChanged {
        /// What the run found and did.
        check: &'a DenyPolicyCheck,
    },
    /// The enforcement group was deleted.
    EnforcementGroupDeleted {
        /// The group.
        group: &'a str,
    },
    /// The enforcement group no longer carries the deny policy (or no longer exists).
    EnforcementGroupLacksDenyPolicy {
        /// The group.
        group: &'a str,
    },
    /// The guard stopped every write of a run.
    GuardTripped {
        /// Users the plan would have written to.
        would_enforce: usize,
        /// `MAX_ENFORCEMENTS_PER_RUN`.
        limit: usize,
    },
    /// Writes failed: these users' remediation did not happen.
    WritesFailed {
        /// `(user, error)` for each failed action.
        failures: &'a [(String, String)],
    },
    /// The root user has a console password (or may have one) and no MFA.
    RootWithoutMfa,
}

/// A deleted version's document is quoted up to this many characters in an alert's text (the
/// JSON form carries it whole: a managed policy is at most 6,144 characters).
const MAX_DOCUMENT_CHARS: usize = 2_000;

impl Alert<'_> {
    /// The `event_type` attribute and the notification record's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Alert::ExemptionChanged { .. } => "exemption_changed",
            Alert::DenyPolicyChanged { .. } => "deny_policy_changed",
            Alert::EnforcementGroupDeleted { .. } => "enforcement_group_deleted",
            Alert::EnforcementGroupLacksDenyPolicy { .. } => "enforcement_group_lacks_deny_policy",
            Alert::GuardTripped { .. } => "guard_tripped",
            Alert::WritesFailed { .. } => "writes_failed",
            Alert::RootWithoutMfa => "root_without_mfa",
        }
    }

    fn severity(&self) -> &'static str {
        match self {
            Alert::ExemptionChanged { .. } => "warning",
            _ => "critical",
        }
    }

    fn headline(&self) -> String {
        match self {
            Alert::ExemptionChanged { user, finding, .. } => {
                match finding.filter(|f| f.status == Status::Exempt) {
                    Some(f) => format!("{user} exempt from MFA {}", until_words(f)),
                    None => format!("{user}'s MFA exemption changed"),
                }
            }
            Alert::DenyPolicyChanged { check } => {
                let found = &check.default_version;
                match (check.canonical, check.outcome) {
                    (true, Outcome::Applied) => "deny policy versions repaired".into(),
                    (true, Outcome::Failed) => "deny policy versions: REPAIR FAILED".into(),
                    (true, _) => "deny policy versions to repair (dry run)".into(),
                    (false, Outcome::Applied) => format!("deny policy changed ({found}), restored"),
                    (false, Outcome::Failed) => {
                        format!("deny policy changed ({found}), RESTORE FAILED")
                    }
                    (false, Outcome::Skipped) => {
                        format!("deny policy changed ({found}), NO CANONICAL VERSION LEFT")
                    }
                    (false, _) => format!("deny policy changed ({found}), not restored (dry run)"),
                }
            }
            Alert::EnforcementGroupDeleted { group } => {
                format!("enforcement group {group} deleted")
            }
            Alert::EnforcementGroupLacksDenyPolicy { group } => {
                format!("enforcement group {group} does not carry the deny policy")
            }
            Alert::GuardTripped {
                would_enforce,
                limit,
            } => format!("guard tripped, {would_enforce} users over the limit of {limit}"),
            Alert::WritesFailed { failures } => {
                format!("{} remediation writes failed", failures.len())
            }
            Alert::RootWithoutMfa => "root user has no MFA".to_string(),
        }
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

/// "until 2026-07-01T00:00:00Z" or "with no end date".
fn until_words(finding: &Finding) -> String {
    match finding.exempt_until {
        Some(t) => format!(
            "until {}",
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        None => "with no end date".to_string(),
    }
}

/// Renders an alert, with the CloudTrail event that caused it when there is one.
pub fn alert(account_id: &str, event: Option<&IamEvent>, alert: &Alert<'_>) -> Notification {
    let headline = alert.headline();
    let subject = truncate(
        &format!("MFA enforcer {account_id}: {headline}"),
        MAX_SUBJECT_CHARS,
    );
    let mut text = String::new();
    let _ = writeln!(text, "mfa-enforcer, account {account_id}: {headline}.");
    if let Some(event) = event {
        let _ = writeln!(
            text,
            "\nCloudTrail event {} ({}) at {} by {} ({}).",
            event.name, event.id, event.time, event.caller.arn, event.caller.kind
        );
    }
    let mut json = json!({
        "event_type": alert.kind(),
        "severity": alert.severity(),
        "account_id": account_id,
        "event": event,
    });
    match alert {
        Alert::ExemptionChanged {
            user,
            change,
            finding,
        } => {
            for tag in &change.set {
                let _ = writeln!(text, "\nTag {} set to {:?} on {user}.", tag.key, tag.value);
            }
            for key in &change.removed {
                let _ = writeln!(text, "\nTag {key} removed from {user}.");
            }
            let now = match finding {
                Some(f) if f.status == Status::Exempt => format!(
                    "{user} is now exempt {}: mfa-enforcer will not deny them without MFA. \
                     If that is not intended, remove the tag; an mfa-enforcer:exempt-until date limits it.",
                    until_words(f)
                ),
                Some(f) => format!(
                    "{user} is not exempt now (status {}{}).",
                    f.status,
                    if f.reasons.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": {}",
                            f.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                        )
                    }
                ),
                None => format!("{user} was not found."),
            };
            let _ = writeln!(text, "\n{now}");
            json["user"] = json!(user);
            json["change"] = json!(change);
            json["status"] = json!(finding.map(|f| f.status));
            json["exempt_until"] = json!(finding.and_then(|f| f.exempt_until));
        }
        Alert::DenyPolicyChanged { check } => {
            render_deny_policy(&mut text, check);
            json["deny_policy"] = json!(check);
        }
        Alert::EnforcementGroupDeleted { group } => {
            let _ = writeln!(
                text,
                "\nUsers it held are re-evaluated as they leave it; recreate it (or redeploy the stack) \
                 to keep ENFORCEMENT_GROUP meaningful."
            );
            json["group"] = json!(group);
        }
        Alert::EnforcementGroupLacksDenyPolicy { group } => {
            let _ = writeln!(
                text,
                "\nThe enforcement group {group} no longer carries the deny policy (or no longer exists): \
                 being in it holds nobody. Users it should hold were given the deny policy directly. \
                 Attach the deny policy to the group again (or redeploy the stack)."
            );
            json["group"] = json!(group);
        }
        Alert::GuardTripped {
            would_enforce,
            limit,
        } => {
            let _ = writeln!(
                text,
                "\n{would_enforce} users would have been enforced, more than MAX_ENFORCEMENTS_PER_RUN={limit}. \
                 Nothing was written. Review the findings (run a dry run), then raise the limit for one run if they are right."
            );
            json["would_enforce"] = json!(would_enforce);
            json["limit"] = json!(limit);
        }
        Alert::WritesFailed { failures } => {
            let _ = writeln!(text, "\nThese users are not contained yet:");
            for (user, error) in failures.iter().take(MAX_LISTED_USERS) {
                let _ = writeln!(text, "  {user}: {}", truncate(error, MAX_ERROR_CHARS));
            }
            if failures.len() > MAX_LISTED_USERS {
                let _ = writeln!(
                    text,
                    "  ... and {} more.",
                    failures.len() - MAX_LISTED_USERS
                );
            }
            let _ = writeln!(text, "\nThe next run tries again; check the enforcer role's permissions if this repeats.");
            json["failures"] = failures
                .iter()
                .take(MAX_LISTED_USERS)
                .map(|(user, error)| json!({"user": user, "error": truncate(error, MAX_ERROR_CHARS)}))
                .collect();
            json["failures_not_listed"] = json!(failures.len().saturating_sub(MAX_LISTED_USERS));
        }
        Alert::RootWithoutMfa => {
            let _ = writeln!(
                text,
                "\nThe root user can sign in without MFA. mfa-enforcer never writes to root: sign in as root \
                 and enable MFA (Security credentials > Multi-factor authentication), or remove the root password."
            );
        }
    }
    let attributes = BTreeMap::from([
        ("event_type".to_string(), alert.kind().to_string()),
        ("severity".to_string(), alert.severity().to_string()),
        ("account_id".to_string(), account_id.to_string()),
    ]);
    Notification {
        subject,
        text,
        json,
        attributes,
    }
}

fn render_deny_policy(text: &mut String, check: &DenyPolicyCheck) {
    let arn = &check.arn;
    let found = &check.default_version;
    if check.canonical {
        let _ = writeln!(
            text,
            "\nThe default version of {arn} ({found}) is canonical, but the policy's versions needed repair \
             (a version that is not canonical, or an older release made the default)."
        );
    } else {
        let _ = writeln!(
            text,
            "\nThe default version of {arn} ({found}) is not a canonical deny-without-MFA document{}. \
             Until it is, no user counts as enforced and nothing is attached to anyone.",
            check
                .document_error
                .as_deref()
                .map(|e| format!(" ({})", truncate(e, MAX_ERROR_CHARS)))
                .unwrap_or_default()
        );
    }
    for action in &check.actions {
        let _ = writeln!(
            text,
            "Action: {} {} {}{}.",
            action.kind.as_str(),
            action.version,
            action.outcome,
            action
                .error
                .as_deref()
                .map(|e| format!(": {}", truncate(e, MAX_ERROR_CHARS)))
                .unwrap_or_default()
        );
        if let Some(document) = &action.document {
            let _ = writeln!(
                text,
                "Document of {}, kept for the investigation:\n{}",
                action.version,
                truncate(document, MAX_DOCUMENT_CHARS)
            );
        }
    }
    if !check.operator_commands.is_empty() {
        let _ = writeln!(
            text,
            "\nNo version of the policy holds a canonical document, and mfa-enforcer never writes one. \
             With your own credentials, run:\n"
        );
        for command in &check.operator_commands {
            let _ = writeln!(text, "  {command}");
        }
        let _ = writeln!(
            text,
            "\nRedeploying an unchanged stack would not restore it: CloudFormation sees nothing to change."
        );
    }
}

/// The `event_type` of a user's notice about their status.
pub fn user_event_type(status: Status, kind: NoticeKind) -> &'static str {
    match (status, kind) {
        (_, NoticeKind::HeldToMfa) => "user_held_to_mfa",
        (Status::Enforced, _) => "user_enforced",
        (Status::InGrace, _) => "user_in_grace",
        _ => "user_non_compliant",
    }
}

/// Renders a user's notice: what happened, why, and exactly what to do now, with their own
/// devices and keys (see [`crate::guidance`]).
///
/// `grace_period` dates the end of an `in_grace` user's grace; a [`NoticeKind::Reminder`] is
/// marked as one.
pub fn user_notice(
    account_id: &str,
    finding: &Finding,
    status: Status,
    kind: NoticeKind,
    grace_period: chrono::Duration,
) -> Notification {
    let user = finding.user.as_str();
    let reminder = kind == NoticeKind::Reminder;
    let prefix = if reminder { "Reminder: " } else { "" };
    let (headline, severity, what, situation) = match (status, kind) {
        (_, NoticeKind::HeldToMfa) => (
            format!("{user} is now held to MFA"),
            "warning",
            "Your IAM user is now under mfa-enforcer's deny policy: whatever is done without MFA is \
             denied, except MFA self-service. You sign in to the console with MFA, so nothing changes \
             there."
                .to_string(),
            Situation::HeldToMfa,
        ),
        (Status::Enforced, _) => (
            format!("{user} is restricted until MFA is enrolled"),
            "warning",
            "Your IAM user can no longer do anything in this AWS account except enroll an MFA device \
             and change its own password, because it has no MFA. Access comes back as soon as you \
             sign in with MFA."
                .to_string(),
            Situation::NeedsMfa,
        ),
        (Status::InGrace, _) => {
            let deadline = finding
                .facts
                .created
                .map(|c| (c + grace_period).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            (
                format!("{user} must enroll MFA"),
                "info",
                format!(
                    "Your IAM user can sign in to the console without MFA. Enroll an MFA device {}: \
                     after that, everything but MFA enrollment is denied until you do.",
                    deadline.map_or("soon".to_string(), |d| format!("before {d}"))
                ),
                Situation::NeedsMfa,
            )
        }
        _ => (
            format!("{user} is not MFA compliant"),
            "warning",
            "Your IAM user can sign in to the console and is not yet held to MFA. Enroll an MFA \
             device now; mfa-enforcer will restrict users without one."
                .to_string(),
            Situation::NeedsMfa,
        ),
    };
    let subject = truncate(
        &format!("{prefix}MFA enforcer {account_id}: {headline}"),
        MAX_SUBJECT_CHARS,
    );
    let reasons: Vec<&str> = finding.reasons.iter().map(|r| r.as_str()).collect();
    let guidance = guidance::guidance(finding, account_id, situation);
    let mut text = String::new();
    let _ = writeln!(text, "{prefix}{headline} (AWS account {account_id}).\n");
    let _ = writeln!(text, "{what}\n");
    if !reasons.is_empty() {
        let _ = writeln!(text, "Why: {}.\n", reasons.join(", "));
    }
    text.push_str(&guidance::render_text(&guidance));
    let event_type = user_event_type(status, kind);
    let json = json!({
        "event_type": event_type,
        "severity": severity,
        "account_id": account_id,
        "user": user,
        "arn": finding.arn,
        "status": status,
        "status_found": finding.status,
        "reasons": finding.reasons,
        "actions": finding.actions,
        "reminder": reminder,
        "recipient": finding.facts.recipient,
        "mfa_devices": finding.mfa_devices,
        "access_keys": finding.access_keys,
        "guidance": guidance,
    });
    let mut attributes = BTreeMap::from([
        ("event_type".to_string(), event_type.to_string()),
        ("severity".to_string(), severity.to_string()),
        ("account_id".to_string(), account_id.to_string()),
        ("user".to_string(), user.to_string()),
    ]);
    if let Some(recipient) = &finding.facts.recipient {
        attributes.insert("recipient".to_string(), recipient.clone());
    }
    Notification {
        subject,
        text,
        json,
        attributes,
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max_chars - 3).collect();
    out.push_str("...");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Action, ActionKind, FindingFacts, Outcome, Reason};
    use crate::plan::Guard;
    use crate::run_report::Summary;
    use chrono::{TimeZone, Utc};

    fn report(outcome: Option<Outcome>, guard_tripped: bool, dry_run: bool) -> RunReport {
        let findings = vec![Finding {
            user: "carol".into(),
            arn: "arn:aws:iam::123456789012:user/carol".into(),
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
            notifications: vec![],
            event: None,
            deny_policy: None,
            enforcement_group_lacks_deny_policy: None,
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
                Alert::RootWithoutMfa,
                "root_without_mfa",
                "critical",
                "root user has no MFA",
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
}
