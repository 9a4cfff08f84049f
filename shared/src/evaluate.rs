//! evaluate(&snapshot, &settings, now) -> findings: one status per user. Pure.
//!
//! The order of the rules is the documented one (docs/report.md, "How a status is decided"):
//! root first, then no password, exemption, grace, MFA.

use crate::finding::{Finding, FindingFacts, Reason, Status};
use crate::iam_state::{IamGroup, IamUser};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, UserFacts};
use crate::tag_keys::EXEMPT_UNTIL_TAG;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// Evaluates every user of the snapshot, in snapshot order.
pub fn evaluate(
    snapshot: &AccountSnapshot,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    snapshot
        .users
        .iter()
        .map(|user| {
            evaluate_user(
                user,
                &snapshot.groups,
                snapshot.deny_policy_canonical,
                settings,
                now,
            )
        })
        .collect()
}

/// Evaluates one user against the groups they may belong to. `deny_policy_canonical` is the
/// run's verdict on the deny policy: a non-canonical one holds nobody.
pub fn evaluate_user(
    user: &UserFacts,
    groups: &HashMap<String, IamGroup>,
    deny_policy_canonical: bool,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Finding {
    let iam = user.iam.as_ref();
    let member_of = iam.map(|u| u.groups.clone()).unwrap_or_default();
    let deny = &settings.deny_policy_arn;
    let deny_attached_to_user =
        iam.is_some_and(|u| u.attached_policy_arns.iter().any(|p| p == deny));
    let deny_via_group = member_of.iter().any(|g| {
        groups
            .get(g)
            .is_some_and(|group| group.attached_policy_arns.iter().any(|p| p == deny))
    });
    let in_enforcement_group = settings
        .enforcement_group
        .as_ref()
        .is_some_and(|eg| member_of.iter().any(|g| g == eg));
    let facts = FindingFacts {
        is_root: user.is_root,
        deny_attached_to_user,
        in_enforcement_group,
        in_iam: iam.is_some(),
        created: user.created.or(iam.and_then(|u| u.created)),
        recipient: iam
            .and_then(|u| u.tags.get(&settings.recipient_tag_key))
            .and_then(crate::recipient::email_address)
            .filter(|address| settings.recipient_allowed(address)),
        notified: iam.and_then(|u| crate::notices::read_memory(&u.tags)),
        released: user.released,
    };
    let deny = DenyPolicy {
        in_effect: deny_attached_to_user || deny_via_group,
        canonical: deny_policy_canonical,
    };
    let (status, mut reasons) = decide(user, iam, settings, now, deny, in_enforcement_group);
    if user.must_resist_phishing
        && user.mfa_active
        && !crate::phishing::resists_phishing(&user.mfa_devices)
    {
        reasons.push(Reason::MfaNotPhishingResistant);
    }
    let exempt_until = match (status, iam) {
        (Status::Exempt, Some(iam)) => match exemption(iam, &settings.exempt_tag_key, now) {
            Exemption::Active { until } => until,
            _ => None,
        },
        _ => None,
    };
    Finding {
        user: user.name.clone(),
        arn: user.arn.clone(),
        user_id: iam.map(|u| u.id.clone()).filter(|id| !id.is_empty()),
        status,
        reasons,
        mfa_active: user.mfa_active,
        password_enabled: user.password_enabled,
        groups: member_of,
        exempt_until,
        mfa_devices: user.mfa_devices.clone(),
        access_keys: user.access_keys,
        actions: Vec::new(),
        facts,
    }
}

/// The deny policy as it bears on one user.
#[derive(Debug, Clone, Copy)]
struct DenyPolicy {
    /// Attached to the user, or to one of their groups.
    in_effect: bool,
    /// Its default version is a canonical document (the run's check).
    canonical: bool,
}

fn decide(
    user: &UserFacts,
    iam: Option<&IamUser>,
    settings: &Settings,
    now: DateTime<Utc>,
    deny: DenyPolicy,
    in_enforcement_group: bool,
) -> (Status, Vec<Reason>) {
    if user.is_root {
        return root(user);
    }
    if user.password_enabled != Some(true) {
        return (Status::NotApplicable, vec![]);
    }
    let Some(iam) = iam else {
        // Listed in the report, gone from IAM: nothing to enforce on.
        return (Status::NotApplicable, vec![Reason::UserDeleted]);
    };
    let mut reasons = Vec::new();
    match exemption(iam, &settings.exempt_tag_key, now) {
        Exemption::Active { .. } => return (Status::Exempt, vec![]),
        Exemption::Void(reason) => reasons.push(reason),
        Exemption::None => {}
    }
    let group_configured = settings.enforcement_group.is_some();
    if user.mfa_active {
        // MFA is what matters; the group or the deny policy only catch its removal (and a
        // removal is an event of its own, re-evaluated at once).
        if in_enforcement_group || deny.in_effect {
            return (Status::Compliant, reasons);
        }
        reasons.push(if group_configured {
            Reason::OutsideEnforcementGroup
        } else {
            Reason::DenyPolicyMissing
        });
        return (Status::NonCompliant, reasons);
    }
    let created = user.created.or(iam.created);
    if created.is_some_and(|c| now.signed_duration_since(c) < settings.grace_period) {
        return (Status::InGrace, reasons);
    }
    if deny.in_effect && deny.canonical {
        return (Status::Enforced, reasons);
    }
    reasons.push(Reason::NoMfa);
    if group_configured && !in_enforcement_group {
        reasons.push(Reason::OutsideEnforcementGroup);
    }
    if deny.in_effect {
        // Held by a deny policy whose content is unknown: it holds nobody.
        reasons.push(Reason::DenyPolicyNotCanonical);
    }
    (Status::NonCompliant, reasons)
}

/// The root user: only ever reported. Without MFA it may sign in with a password alone; with
/// access keys it calls AWS with every permission and no MFA at all; with a virtual device its
/// MFA can be phished. With neither password nor keys (credentials removed centrally), nobody
/// signs in as root.
fn root(user: &UserFacts) -> (Status, Vec<Reason>) {
    let mut risks = Vec::new();
    if user.access_keys.active > 0 {
        risks.push(Reason::RootAccessKeysPresent);
    }
    if user.mfa_active
        && (user.mfa_devices.iter()).any(|d| d.kind == crate::devices::MfaDeviceType::Virtual)
    {
        risks.push(Reason::RootMfaNotHardware);
    }
    let mut reasons = match (user.mfa_active, user.password_enabled) {
        (true, _) | (false, Some(false)) => Vec::new(),
        (false, Some(true)) => vec![Reason::RootNoMfa],
        (false, None) => vec![Reason::RootNoMfa, Reason::RootPasswordUnknown],
    };
    reasons.extend(risks);
    if !reasons.is_empty() {
        return (Status::NonCompliant, reasons);
    }
    match user.mfa_active {
        true => (Status::Compliant, reasons),
        false => (Status::NotApplicable, vec![Reason::RootCredentialsAbsent]),
    }
}

enum Exemption {
    None,
    /// Exempt, until the end date when there is one.
    Active {
        until: Option<DateTime<Utc>>,
    },
    /// Tagged exempt, but the exemption does not count: why.
    Void(Reason),
}

/// Tag keys are matched ignoring case (IAM keeps one tag per key whatever its case). Should
/// a key still appear in several cases, the exemption holds only when every `EXEMPT_TAG_KEY`
/// says `true`, and end dates that disagree void it: an ambiguity never widens an exemption.
fn exemption(iam: &IamUser, key: &str, now: DateTime<Utc>) -> Exemption {
    let mut flags = iam.tags.values(key).peekable();
    let tagged = flags.peek().is_some() && flags.all(|v| v.trim().eq_ignore_ascii_case("true"));
    if !tagged {
        return Exemption::None;
    }
    let mut ends: Vec<&str> = iam.tags.values(EXEMPT_UNTIL_TAG).map(str::trim).collect();
    ends.dedup();
    if ends.len() > 1 {
        return Exemption::Void(Reason::ExemptionUntilInvalid);
    }
    match ends.first().map(|v| parse_until(v)) {
        None => Exemption::Active { until: None },
        Some(Some(until)) if now < until => Exemption::Active { until: Some(until) },
        Some(Some(_)) => Exemption::Void(Reason::ExemptionExpired),
        // A typo must not grant a permanent exemption: void until the tag is fixed.
        Some(None) => Exemption::Void(Reason::ExemptionUntilInvalid),
    }
}

/// `YYYY-MM-DD` (valid through the end of that day, UTC) or an RFC 3339 timestamp.
fn parse_until(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests;
