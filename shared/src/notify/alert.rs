//! Alerts: what a run announces whatever else it found.

use super::{truncate, until_words, MAX_ERROR_CHARS, MAX_LISTED_USERS};
use crate::event::{ExemptionChange, IamEvent};
use crate::finding::{Finding, Outcome, Reason, Status};
use crate::message::{Notification, MAX_SUBJECT_CHARS};
use crate::roles::RoleFinding;
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
    /// The root user is at risk: a console password (or maybe one) and no MFA, access keys,
    /// or phishable MFA. Root is only ever reported.
    Root {
        /// Why (the root finding's reasons).
        reasons: &'a [Reason],
    },
    /// Privileged roles that a caller without MFA may assume (whole-account runs; listed).
    PrivilegedRolesWithoutMfa {
        /// The roles.
        roles: &'a [&'a RoleFinding],
    },
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
            // Without MFA, root's alert keeps the name it has always had.
            Alert::Root { reasons } if reasons.contains(&Reason::RootNoMfa) => "root_without_mfa",
            Alert::Root { .. } => "root_at_risk",
            Alert::PrivilegedRolesWithoutMfa { .. } => "privileged_roles_without_mfa",
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
            Alert::Root { reasons } => {
                let words: Vec<&str> = reasons.iter().filter_map(|r| root_words(*r)).collect();
                format!("root user {}", words.join(", "))
            }
            Alert::PrivilegedRolesWithoutMfa { roles } => {
                format!("{} privileged roles assumable without MFA", roles.len())
            }
        }
    }
}

/// A root reason in the words of a headline.
fn root_words(reason: Reason) -> Option<&'static str> {
    match reason {
        Reason::RootNoMfa => Some("has no MFA"),
        Reason::RootAccessKeysPresent => Some("has access keys"),
        Reason::RootMfaNotHardware => Some("has a virtual MFA device"),
        _ => None,
    }
}

/// What to do about a root reason.
fn root_advice(reason: Reason) -> Option<&'static str> {
    match reason {
        Reason::RootNoMfa => Some(
            "The root user can sign in without MFA: sign in as root and enable MFA (Security \
             credentials > Multi-factor authentication), or remove the root password.",
        ),
        Reason::RootPasswordUnknown => {
            Some("Whether root has a password could not be read; it is taken to have one.")
        }
        Reason::RootAccessKeysPresent => Some(
            "The root user has access keys (Security Hub IAM.4): they carry every permission \
             and no MFA protects them. Delete them (Security credentials > Access keys).",
        ),
        Reason::RootMfaNotHardware => Some(
            "The root user's MFA includes a virtual device (Security Hub IAM.6), whose codes a \
             phishing site can relay: register a security key or passkey and remove it.",
        ),
        _ => None,
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
        Alert::Root { reasons } => {
            let _ = writeln!(text);
            for reason in reasons.iter() {
                if let Some(advice) = root_advice(*reason) {
                    let _ = writeln!(text, "- {advice}");
                }
            }
            let _ = writeln!(
                text,
                "\nmfa-enforcer never writes to root. With AWS Organizations' central root access \
                 management, a member account's root credentials can be removed altogether."
            );
            json["reasons"] = json!(reasons);
        }
        Alert::PrivilegedRolesWithoutMfa { roles } => {
            let _ = writeln!(
                text,
                "\nThese roles carry administrator-level policies and their trust policy lets a \
                 caller without MFA assume them: a leaked access key of anyone they trust is an \
                 administrator's session. mfa-enforcer never writes to roles: require \
                 aws:MultiFactorAuthPresent (Bool, true) in each trust policy.\n"
            );
            for role in roles.iter().take(MAX_LISTED_USERS) {
                let _ = writeln!(
                    text,
                    "  {} ({}): trusts {}; privileged by {}",
                    role.name,
                    role.classification,
                    role.principals.join(", "),
                    role.privileged_by.join(", ")
                );
            }
            if roles.len() > MAX_LISTED_USERS {
                let _ = writeln!(text, "  ... and {} more.", roles.len() - MAX_LISTED_USERS);
            }
            json["roles"] = roles
                .iter()
                .take(MAX_LISTED_USERS)
                .map(|r| {
                    json!({"name": r.name, "arn": r.arn, "classification": r.classification,
                                "principals": r.principals, "privileged_by": r.privileged_by})
                })
                .collect();
            json["roles_not_listed"] = json!(roles.len().saturating_sub(MAX_LISTED_USERS));
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
