//! A user's notice: their status, what changed for them, and what to do, with their own
//! devices and keys.

use super::truncate;
use crate::finding::{Finding, Status};
use crate::guidance::{self, Situation};
use crate::message::{Notification, MAX_SUBJECT_CHARS};
use crate::notices::NoticeKind;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
/// marked as one. `admin_role`, for a user who may assume the stack's admin role, adds its
/// `~/.aws/config` profile.
pub fn user_notice(
    account_id: &str,
    finding: &Finding,
    status: Status,
    kind: NoticeKind,
    grace_period: chrono::Duration,
    admin_role: Option<&str>,
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
    let mut guidance = guidance::guidance(finding, account_id, situation);
    if let Some(role) = admin_role {
        guidance = guidance.with_admin_role(finding, role);
    }
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
