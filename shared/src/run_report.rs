//! RunReport: the JSON result of a run (findings, summary, notifications) and its verdict.
//!
//! The field names are a contract (docs/report.md, "The JSON report"); the CLI, both Lambdas and the
//! notifications all speak it.

use crate::event::IamEvent;
use crate::finding::{Finding, Outcome, Status};
use crate::plan::Guard;
use crate::roles::{RoleCounts, RoleFinding};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What one run found and did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The 12-digit account ID.
    pub account_id: String,
    /// When this run finished.
    pub generated_at: DateTime<Utc>,
    /// When the credential report it used was generated (`null` for event runs that read live).
    pub report_generated_at: Option<DateTime<Utc>>,
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// Counts.
    pub summary: Summary,
    /// One finding per user of the credential report, root included, in report order.
    pub findings: Vec<Finding>,
    /// A whole-account run's verdict on every role, in IAM's order (`null` in event runs,
    /// which do not read roles). Roles are only reported, never written to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleFinding>>,
    /// Messages published about this run.
    #[serde(default)]
    pub notifications: Vec<NotificationRecord>,
    /// The CloudTrail event that started an event run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<IamEvent>,
    /// The check of the deny policy (every run makes one; `null` only in an ignored event's
    /// report or a run that never got that far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_policy: Option<DenyPolicyCheck>,
    /// With `REMEDIATION` adding users to the enforcement group: the group (named) no longer
    /// carries the deny policy (or no longer exists), so the users it should hold were given the
    /// deny policy directly, and `enforcement_group_lacks_deny_policy` is alerted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcement_group_lacks_deny_policy: Option<String>,
    /// What the run sent to Security Hub (`SECURITY_HUB=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_hub: Option<SecurityHubExport>,
    /// A whole-account run found the exempt users (or their end dates) changed since the last
    /// run summary that listed them: its summary is due. Not part of the JSON report.
    #[serde(skip)]
    pub exemptions_changed: bool,
}

/// What a run found in the deny policy, and what it did about it.
///
/// Every run reads the deny policy's default version before relying on it. Users count as
/// `enforced` only when it is `canonical`; otherwise nothing is attached in that run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenyPolicyCheck {
    /// The deny policy's ARN.
    #[serde(alias = "policy_arn")]
    pub arn: String,
    /// The default version found (`v3`).
    pub default_version: String,
    /// Whether that version's document is one this project released.
    pub canonical: bool,
    /// The release whose document it is (`0.1.0`), when it is canonical.
    #[serde(default)]
    pub release: Option<String>,
    /// The release this build deploys.
    #[serde(default)]
    pub newest_release: String,
    /// Canonical, but from an older release: redeploy the stack to get the newest document.
    #[serde(default)]
    pub redeploy_recommended: bool,
    /// Why the default document is unreadable as a policy (a key written twice...), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_error: Option<String>,
    /// What became of keeping the deny policy canonical: `already_in_place` (nothing to do),
    /// `applied` (restored), `planned` (dry run), `failed`, or `skipped` (no canonical version
    /// left: an operator runs `operator_commands`).
    #[serde(default = "already_in_place")]
    pub outcome: Outcome,
    /// Why it was skipped (`no_canonical_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The writes of a restore: a canonical version made the default, non-canonical ones deleted.
    #[serde(default)]
    pub actions: Vec<PolicyAction>,
    /// When no canonical version is left: what an operator runs, with their own credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operator_commands: Vec<String>,
    /// The policy's `mfa-enforcer:exempt-digest` tag as read. Not part of the JSON report.
    #[serde(skip)]
    pub exempt_digest: Option<String>,
}

/// What a run sent to Security Hub: how many findings were new, changed, refreshed, left
/// alone or archived, and how the requests went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityHubExport {
    /// The product imported to (the account's default product, in the run's Region).
    pub product_arn: String,
    /// Findings by what became of them.
    #[serde(flatten)]
    pub counts: SyncCounts,
    /// Findings Security Hub accepted.
    pub imported: usize,
    /// Findings it refused, or that a failed request carried.
    pub failed: usize,
    /// Requests made: GetFindings pages and BatchImportFindings.
    pub requests: usize,
    /// Why imports failed (the first few, one line each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// How many findings of each kind a run imported, skipped or archived.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    /// Not in Security Hub before.
    pub new: usize,
    /// Said something else before (a status, a severity, a reason).
    pub changed: usize,
    /// Unchanged, imported again because the last import is older than the refresh interval.
    pub refreshed: usize,
    /// Unchanged and recent: not imported.
    pub unchanged: usize,
    /// The user or role is gone (or no longer a console user): archived.
    pub archived: usize,
}

fn already_in_place() -> Outcome {
    Outcome::AlreadyInPlace
}

/// A write to the deny policy's versions. The enforcer never writes a document: it only makes
/// an existing version the default, or deletes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyAction {
    /// What it does.
    pub kind: PolicyActionKind,
    /// The version it acts on (`v1`).
    pub version: String,
    /// What became of it.
    pub outcome: Outcome,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a deleted version: its document, kept for the investigation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

vocabulary! {
    /// The kinds of [`PolicyAction`].
    pub enum PolicyActionKind {
        /// `SetDefaultPolicyVersion` to a canonical version.
        SetDefaultVersion,
        /// `DeletePolicyVersion` of a non-canonical version.
        DeleteVersion,
    }
}

/// Counts per status and per action outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Users with status `not_applicable`.
    pub not_applicable: usize,
    /// Users with status `exempt`.
    pub exempt: usize,
    /// Users with status `in_grace`.
    pub in_grace: usize,
    /// Users with status `compliant`.
    pub compliant: usize,
    /// Users with status `enforced`.
    pub enforced: usize,
    /// Users with status `non_compliant` (as found, before this run's actions).
    pub non_compliant: usize,
    /// Non-compliant users this run did not remediate (dry run, guard, failure, root).
    pub non_compliant_remaining: usize,
    /// Actions left `planned` (dry run).
    pub actions_planned: usize,
    /// Actions written in this run.
    pub actions_applied: usize,
    /// Actions found already in place.
    pub actions_already_in_place: usize,
    /// Actions not attempted (guard tripped, user changed since the report).
    pub actions_skipped: usize,
    /// Actions that failed: users' remediations and the deny policy's repair.
    pub actions_failed: usize,
    /// Notifications that failed: a publish, or remembering what was published (a notice's
    /// memory on the user, the exemptions listed on the deny policy).
    #[serde(default)]
    pub notifications_failed: usize,
    /// Users `PHISHING_RESISTANT_FOR` names whose MFA includes no passkey or security key.
    #[serde(default)]
    pub mfa_not_phishing_resistant: usize,
    /// Roles by classification (a whole-account run only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<RoleCounts>,
    /// Whether the blast-radius guard stopped every write.
    pub guard_tripped: bool,
    /// The guard's limit (`MAX_ENFORCEMENTS_PER_RUN`).
    pub max_enforcements_per_run: usize,
    /// Users the plan would newly enforce (what the guard counts).
    pub users_to_enforce: usize,
    /// Users the plan would contain again, released since they were enforced (not counted by
    /// the guard).
    #[serde(default)]
    pub users_to_recontain: usize,
}

/// A message published about the run, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// What the message is: `run_summary`, an alert (`guard_tripped`...), a user's notice
    /// (`user_enforced`...), or `notice_memory` (recording a notice on the user's tags).
    pub kind: String,
    /// The user a notice is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `applied` (published) or `failed`.
    pub outcome: Outcome,
    /// The SNS message ID, when published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Why publishing failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a run ended, for exit codes and Lambda errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No non-compliant user remains and nothing failed.
    Clean,
    /// Some users remain non-compliant (dry run, root, guard tripped), or a privileged role
    /// may be assumed without MFA; nothing failed.
    NonCompliantRemain,
    /// A write or a notification failed.
    Failed,
}

impl Summary {
    /// Counts the findings and their actions.
    pub fn count(findings: &[Finding], guard: Option<&Guard>) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            *s.status_mut(f.status) += 1;
            if f.remains_non_compliant() {
                s.non_compliant_remaining += 1;
            }
            if f.reasons
                .contains(&crate::finding::Reason::MfaNotPhishingResistant)
            {
                s.mfa_not_phishing_resistant += 1;
            }
            for a in &f.actions {
                s.count_action(a.outcome);
            }
        }
        if let Some(g) = guard {
            s.guard_tripped = g.tripped;
            s.max_enforcements_per_run = g.limit;
            s.users_to_enforce = g.would_enforce;
            s.users_to_recontain = g.would_recontain;
        }
        s
    }

    /// Counts one action's outcome.
    pub fn count_action(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Planned => self.actions_planned += 1,
            Outcome::Applied => self.actions_applied += 1,
            Outcome::AlreadyInPlace => self.actions_already_in_place += 1,
            Outcome::Skipped => self.actions_skipped += 1,
            Outcome::Failed => self.actions_failed += 1,
        }
    }

    /// Adds `n` users of `status` (an organization's totals).
    pub fn add_status(&mut self, status: Status, n: usize) {
        *self.status_mut(status) += n;
    }

    fn status_mut(&mut self, status: Status) -> &mut usize {
        match status {
            Status::NotApplicable => &mut self.not_applicable,
            Status::Exempt => &mut self.exempt,
            Status::InGrace => &mut self.in_grace,
            Status::Compliant => &mut self.compliant,
            Status::Enforced => &mut self.enforced,
            Status::NonCompliant => &mut self.non_compliant,
        }
    }

    /// The count for one status.
    pub fn status(&self, status: Status) -> usize {
        match status {
            Status::NotApplicable => self.not_applicable,
            Status::Exempt => self.exempt,
            Status::InGrace => self.in_grace,
            Status::Compliant => self.compliant,
            Status::Enforced => self.enforced,
            Status::NonCompliant => self.non_compliant,
        }
    }
}

/// A run that finished, but with failed writes or notifications: the error a Lambda returns
/// so that CloudWatch counts it (after logging the whole report).
#[derive(Debug, Clone, Copy, Error, PartialEq, Eq)]
#[error("{failed} action(s) and {notifications_failed} notification(s) failed{} ({applied} applied, {remaining} user(s) still non-compliant); see the run report in the logs", findings_failed_text(*findings_failed))]
pub struct RunFailed {
    /// Failed actions.
    pub failed: usize,
    /// Failed notifications.
    pub notifications_failed: usize,
    /// Findings Security Hub did not take.
    pub findings_failed: usize,
    /// Applied actions.
    pub applied: usize,
    /// Non-compliant users left.
    pub remaining: usize,
}

fn findings_failed_text(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", and {n} Security Hub finding(s) were not imported")
    }
}

impl RunReport {
    /// A report with nothing found yet, for `account_id` at `now`; findings and counts are
    /// filled by the run.
    pub fn empty(account_id: &str, now: DateTime<Utc>, dry_run: bool) -> RunReport {
        RunReport {
            account_id: account_id.to_string(),
            generated_at: now,
            report_generated_at: None,
            dry_run,
            summary: Summary::default(),
            findings: Vec::new(),
            roles: None,
            notifications: Vec::new(),
            event: None,
            deny_policy: None,
            enforcement_group_lacks_deny_policy: None,
            security_hub: None,
            exemptions_changed: false,
        }
    }

    /// The failure to report when anything failed ([`Verdict::Failed`]); `None` otherwise.
    pub fn failure(&self) -> Option<RunFailed> {
        let s = &self.summary;
        (self.verdict() == Verdict::Failed).then_some(RunFailed {
            failed: s.actions_failed,
            notifications_failed: s.notifications_failed,
            findings_failed: self.security_hub.as_ref().map_or(0, |h| h.failed),
            applied: s.actions_applied,
            remaining: s.non_compliant_remaining,
        })
    }

    /// How the run ended: failed beats non-compliant beats clean.
    pub fn verdict(&self) -> Verdict {
        let findings_failed = self.security_hub.as_ref().is_some_and(|h| h.failed > 0);
        if self.summary.actions_failed > 0
            || self.summary.notifications_failed > 0
            || findings_failed
        {
            Verdict::Failed
        } else if self.summary.non_compliant_remaining > 0
            || self.summary.guard_tripped
            || self.privileged_roles_without_mfa().next().is_some()
        {
            Verdict::NonCompliantRemain
        } else {
            Verdict::Clean
        }
    }

    /// Records the run's verdict on every role, and counts them.
    pub fn record_roles(&mut self, roles: Vec<RoleFinding>) {
        self.summary.roles = Some(RoleCounts::count(&roles));
        self.roles = Some(roles);
    }

    /// The privileged roles a caller without MFA may assume.
    pub fn privileged_roles_without_mfa(&self) -> impl Iterator<Item = &RoleFinding> {
        (self.roles.iter().flatten()).filter(|r| r.privileged_without_mfa())
    }

    /// Records the run's check of the deny policy, counting its writes with the actions.
    pub fn record_deny_policy(&mut self, check: DenyPolicyCheck) {
        for action in &check.actions {
            self.summary.count_action(action.outcome);
        }
        self.deny_policy = Some(check);
    }

    /// Records a notification's outcome, counting a failure.
    pub fn record_notification(&mut self, record: NotificationRecord) {
        if record.outcome == Outcome::Failed {
            self.summary.notifications_failed += 1;
        }
        self.notifications.push(record);
    }
}

#[cfg(test)]
mod tests;
