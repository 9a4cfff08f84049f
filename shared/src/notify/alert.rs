//! Alerts: what a run announces whatever else it found.

use super::{truncate, until_words, MAX_ERROR_CHARS, MAX_LISTED_USERS};
use crate::event::{ExemptionChange, IamEvent};
use crate::finding::{Finding, Outcome, Status};
use crate::message::{Notification, MAX_SUBJECT_CHARS};
use crate::run_report::DenyPolicyCheck;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
