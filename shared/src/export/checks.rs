//! What a run's report says, as checks: one result per console user, per root check (whole-
//! account runs) and per role that an AWS principal may assume. Every export format renders
//! these; none judges anything itself.

use crate::finding::{Finding, Reason, Status};
use crate::report::ROOT_USER;
use crate::roles::{RoleClassification, RoleFinding};
use crate::run_report::RunReport;

vocabulary! {
    /// What is checked. The names are the findings' generator IDs (`mfa-enforcer/console_mfa`).
    pub enum Check {
        /// An IAM user with a console password has MFA and is held by the deny policy.
        ConsoleMfa,
        /// The root user has MFA.
        RootMfa,
        /// The root user's MFA is hardware (no virtual device).
        RootHardwareMfa,
        /// The root user has no access keys.
        RootAccessKeys,
        /// A role's trust policy lets no caller assume it without MFA.
        RoleTrustMfa,
    }
}

vocabulary! {
    /// Whether the subject meets the check (ASFF's `Compliance.Status`, OCSF's
    /// `compliance.status_id`).
    pub enum Compliance {
        /// It does.
        Passed,
        /// Not yet, by decision: an exemption or the grace period of a new user.
        Warning,
        /// It does not.
        Failed,
    }
}

vocabulary! {
    /// How urgent a result is; the names are ASFF's labels, lowercased.
    pub enum Severity {
        /// Nothing to do.
        Informational,
        /// Contained, or decided: look when convenient.
        Low,
        /// A console user without MFA, or not held: as Security Hub rates IAM.5.
        Medium,
        /// Reserved for what is urgent without being an open door.
        High,
        /// The root user at risk, or a privileged role open without MFA.
        Critical,
    }
}

/// What kind of thing a result is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// An IAM user.
    User,
    /// An IAM role.
    Role,
    /// The account (its root user).
    Account,
}

/// What a result is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// User, role or the account's root user.
    pub kind: SubjectKind,
    /// Its ARN.
    pub arn: String,
    /// The user's or role's name; `root` for the root user.
    pub name: String,
    /// IAM's unique ID of the user or role; the account ID for root. A user deleted and
    /// created again gets a new one, so a new result, not the old one's history.
    pub unique_id: String,
}

/// One check of one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// What was checked.
    pub check: Check,
    /// Of what.
    pub subject: Subject,
    /// Met or not.
    pub compliance: Compliance,
    /// How urgent.
    pub severity: Severity,
    /// The run's word for the subject: a user's status (`enforced`), a role's classification.
    pub state: &'static str,
    /// The run's reasons for it, in the report's words.
    pub reasons: Vec<&'static str>,
    /// One or two sentences for a person.
    pub description: String,
}

impl Check {
    /// The generator ID: one per check.
    pub fn generator_id(self) -> String {
        format!("{}/{}", super::PRODUCT_NAME, self.as_str())
    }

    /// The title of a result of this check.
    pub fn title(self) -> &'static str {
        match self {
            Check::ConsoleMfa => "IAM user with a console password must have MFA",
            Check::RootMfa => "The root user must have MFA",
            Check::RootHardwareMfa => "The root user's MFA must be a hardware device",
            Check::RootAccessKeys => "The root user must have no access keys",
            Check::RoleTrustMfa => "A role's trust policy must require MFA",
        }
    }

    /// The Security Hub controls that check the same thing
    /// (<https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html>).
    pub fn security_hub_controls(self) -> &'static [&'static str] {
        match self {
            Check::ConsoleMfa => &["IAM.5", "IAM.19"],
            Check::RootMfa => &["IAM.9"],
            Check::RootHardwareMfa => &["IAM.6"],
            Check::RootAccessKeys => &["IAM.4"],
            // No control looks at a trust policy's MFA condition.
            Check::RoleTrustMfa => &[],
        }
    }

    /// The CIS AWS Foundations Benchmark requirements those controls map to, as Security Hub
    /// writes them in `RelatedRequirements` (same page).
    pub fn cis_requirements(self) -> &'static [&'static str] {
        match self {
            Check::ConsoleMfa => &[
                "CIS AWS Foundations Benchmark v1.2.0/1.2",
                "CIS AWS Foundations Benchmark v1.4.0/1.10",
                "CIS AWS Foundations Benchmark v3.0.0/1.10",
                "CIS AWS Foundations Benchmark v5.0.0/1.9",
            ],
            Check::RootMfa => &[
                "CIS AWS Foundations Benchmark v1.2.0/1.13",
                "CIS AWS Foundations Benchmark v1.4.0/1.5",
                "CIS AWS Foundations Benchmark v3.0.0/1.5",
                "CIS AWS Foundations Benchmark v5.0.0/1.4",
            ],
            Check::RootHardwareMfa => &[
                "CIS AWS Foundations Benchmark v1.2.0/1.14",
                "CIS AWS Foundations Benchmark v1.4.0/1.6",
                "CIS AWS Foundations Benchmark v3.0.0/1.6",
                "CIS AWS Foundations Benchmark v5.0.0/1.5",
            ],
            Check::RootAccessKeys => &[
                "CIS AWS Foundations Benchmark v1.2.0/1.12",
                "CIS AWS Foundations Benchmark v1.4.0/1.4",
                "CIS AWS Foundations Benchmark v3.0.0/1.4",
                "CIS AWS Foundations Benchmark v5.0.0/1.3",
            ],
            Check::RoleTrustMfa => &[],
        }
    }

    /// Every related requirement: the Security Hub controls (`Security Hub control/IAM.5`)
    /// and the CIS requirements.
    pub fn related_requirements(self) -> Vec<String> {
        self.security_hub_controls()
            .iter()
            .map(|c| format!("Security Hub control/{c}"))
            .chain(self.cis_requirements().iter().map(|r| r.to_string()))
            .collect()
    }

    /// ASFF finding types
    /// (<https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html>).
    pub fn types(self) -> &'static str {
        match self {
            Check::RoleTrustMfa => "Software and Configuration Checks/AWS Security Best Practices",
            _ => "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark",
        }
    }

    /// What to do, and AWS's page about it.
    pub fn remediation(self) -> (&'static str, &'static str) {
        match self {
            Check::ConsoleMfa => (
                "Enroll an MFA device (a passkey or security key is best); until then the deny policy allows nothing but enrolling one.",
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable.html",
            ),
            Check::RootMfa | Check::RootHardwareMfa => (
                "Sign in as root and assign a hardware MFA device or a passkey/security key; remove virtual devices.",
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html",
            ),
            Check::RootAccessKeys => (
                "Delete the root user's access keys; use IAM roles instead.",
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html",
            ),
            Check::RoleTrustMfa => (
                "Add Bool aws:MultiFactorAuthPresent true (not BoolIfExists) to the trust policy's Allow.",
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html",
            ),
        }
    }
}

/// Every check result of a run, users first (report order), then root's, then roles (IAM's
/// order). Left out: users without a console password (MFA does not apply; AWS Config sends
/// no finding for what is not applicable either), users IAM no longer lists, roles only
/// services or federated identities assume, and root in an event run (which reads too
/// little of it).
pub fn check_results(report: &RunReport) -> Vec<CheckResult> {
    let mut results: Vec<CheckResult> = report
        .findings
        .iter()
        .filter(|f| f.user != ROOT_USER)
        .filter_map(user_result)
        .collect();
    if report.event.is_none() {
        if let Some(root) = report.findings.iter().find(|f| f.user == ROOT_USER) {
            results.extend(root_results(root, &report.account_id));
        }
    }
    results.extend(report.roles.iter().flatten().filter_map(role_result));
    results
}

fn words(reasons: &[Reason]) -> Vec<&'static str> {
    reasons.iter().map(|r| r.as_str()).collect()
}

/// A user's status once this run's actions count: a non-compliant user this run contained
/// is `enforced` now (or `compliant`, with MFA), as the next run will find them.
fn status_after_run(f: &Finding) -> Status {
    match f.status {
        Status::NonCompliant if !f.remains_non_compliant() => {
            if f.mfa_active {
                Status::Compliant
            } else {
                Status::Enforced
            }
        }
        status => status,
    }
}

fn user_result(f: &Finding) -> Option<CheckResult> {
    let unique_id = f.user_id.clone()?;
    let name = &f.user;
    let status = status_after_run(f);
    let (compliance, severity, description) = match status {
        Status::NotApplicable => return None,
        Status::Compliant => (
            Compliance::Passed,
            Severity::Informational,
            format!("{name} has a console password and MFA, and the deny policy holds them."),
        ),
        Status::Enforced => (
            Compliance::Failed,
            Severity::Low,
            format!(
                "{name} has a console password and no MFA. Contained: the deny policy allows them nothing but enrolling MFA."
            ),
        ),
        Status::NonCompliant => (
            Compliance::Failed,
            Severity::Medium,
            format!(
                "{name} has a console password {} and is not contained by the deny policy.",
                if f.mfa_active { "and MFA" } else { "and no MFA" }
            ),
        ),
        Status::Exempt => (
            Compliance::Warning,
            Severity::Low,
            match f.exempt_until {
                Some(until) => format!(
                    "{name} is exempt from MFA enforcement until {}.",
                    super::timestamp(until)
                ),
                None => format!("{name} is exempt from MFA enforcement, with no end date."),
            },
        ),
        Status::InGrace => (
            Compliance::Warning,
            Severity::Low,
            format!("{name} is a new console user without MFA, inside the grace period."),
        ),
    };
    Some(CheckResult {
        check: Check::ConsoleMfa,
        subject: Subject {
            kind: SubjectKind::User,
            arn: f.arn.clone(),
            name: name.clone(),
            unique_id,
        },
        compliance,
        severity,
        state: status.as_str(),
        // A user this run contained has no reason left, as the next run will find them.
        reasons: if status == f.status {
            words(&f.reasons)
        } else {
            Vec::new()
        },
        description,
    })
}

fn root_results(root: &Finding, account_id: &str) -> Vec<CheckResult> {
    let has = |r: Reason| root.reasons.contains(&r);
    let result = |check: Check, failed: bool, description: String| CheckResult {
        check,
        subject: Subject {
            kind: SubjectKind::Account,
            arn: root.arn.clone(),
            name: "root".to_string(),
            unique_id: account_id.to_string(),
        },
        compliance: if failed {
            Compliance::Failed
        } else {
            Compliance::Passed
        },
        severity: if failed {
            Severity::Critical
        } else {
            Severity::Informational
        },
        state: root.status.as_str(),
        reasons: words(&root.reasons),
        description,
    };
    let keys = has(Reason::RootAccessKeysPresent);
    let mut results = vec![result(
        Check::RootAccessKeys,
        keys,
        if keys {
            "The root user has access keys: long-term keys with every permission, which MFA cannot protect.".into()
        } else {
            "The root user has no access keys.".into()
        },
    )];
    // Without a password or keys nobody signs in as root: its MFA does not apply.
    if has(Reason::RootCredentialsAbsent) {
        return results;
    }
    let virtual_device = has(Reason::RootMfaNotHardware);
    results.push(result(
        Check::RootMfa,
        !root.mfa_active,
        if root.mfa_active {
            "The root user has MFA.".into()
        } else {
            "The root user has no MFA.".into()
        },
    ));
    results.push(result(
        Check::RootHardwareMfa,
        !root.mfa_active || virtual_device,
        if !root.mfa_active {
            "The root user has no MFA at all.".into()
        } else if virtual_device {
            "The root user's MFA includes a virtual device, which a phishing site can relay.".into()
        } else {
            "The root user's MFA is hardware: no virtual device is assigned to root.".into()
        },
    ));
    results
}

fn role_result(role: &RoleFinding) -> Option<CheckResult> {
    if role.id.is_empty() || role.classification == RoleClassification::NotApplicable {
        return None;
    }
    let open = role.classification.assumable_without_mfa();
    let name = &role.name;
    let privileged = if role.privileged {
        "privileged"
    } else {
        "not privileged"
    };
    let (severity, description) = match (open, role.privileged) {
        (false, _) => (
            Severity::Informational,
            format!("{name} ({privileged}) can be assumed only with MFA."),
        ),
        (true, true) => (
            Severity::Critical,
            format!(
                "{name} is privileged and can be assumed without MFA ({}): a leaked access key of anyone its trust names opens an administrator's session.",
                role.classification
            ),
        ),
        (true, false) => (
            Severity::Low,
            format!(
                "{name} (not privileged) can be assumed without MFA ({}).",
                role.classification
            ),
        ),
    };
    Some(CheckResult {
        check: Check::RoleTrustMfa,
        subject: Subject {
            kind: SubjectKind::Role,
            arn: role.arn.clone(),
            name: name.clone(),
            unique_id: role.id.clone(),
        },
        compliance: if open {
            Compliance::Failed
        } else {
            Compliance::Passed
        },
        severity,
        state: role.classification.as_str(),
        reasons: role.reasons.iter().map(|r| r.as_str()).collect(),
        description,
    })
}
