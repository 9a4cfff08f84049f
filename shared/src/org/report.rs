//! The org report: one entry per account (`audited` with what its dry run found, or
//! `unreachable` with why), and the organization's totals. Written as accounts finish, so
//! that memory does not grow with the number of findings; read back whole by `show`.

use super::OrgAccount;
use crate::finding::{Finding, Status};
use crate::roles::RoleFinding;
use crate::run_report::{DenyPolicyCheck, RunReport, Summary};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

vocabulary! {
    /// What became of one account.
    pub enum AccountStatus {
        /// Its role was assumed and it was read: `summary`, `findings`, `roles` say what.
        Audited,
        /// It could not be checked: `error` says why (role missing, access denied, throttled
        /// past retries, timed out, its deny policy unreadable).
        Unreachable,
    }
}

/// One account of the org report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountEntry {
    /// The 12-digit ID.
    pub account_id: String,
    /// Its name in Organizations.
    pub name: String,
    /// Its OUs by name, from the root (`Root/Workloads/Prod`).
    pub ou_path: String,
    /// `audited` or `unreachable`.
    pub status: AccountStatus,
    /// Why it is unreachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The single-account summary's fields (audited accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// One finding per user, root included (audited accounts).
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// One verdict per role (audited accounts).
    #[serde(default)]
    pub roles: Vec<RoleFinding>,
    /// The deny policy's check (audited accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_policy: Option<DenyPolicyCheck>,
}

impl AccountEntry {
    /// An account audited: what its dry run found.
    pub fn audited(account: &OrgAccount, report: RunReport) -> AccountEntry {
        AccountEntry {
            account_id: account.id.clone(),
            name: account.name.clone(),
            ou_path: account.ou_path.clone(),
            status: AccountStatus::Audited,
            error: None,
            summary: Some(report.summary),
            findings: report.findings,
            roles: report.roles.unwrap_or_default(),
            deny_policy: report.deny_policy,
        }
    }

    /// An account that could not be checked, and why.
    pub fn unreachable(account: &OrgAccount, error: impl Into<String>) -> AccountEntry {
        AccountEntry {
            account_id: account.id.clone(),
            name: account.name.clone(),
            ou_path: account.ou_path.clone(),
            status: AccountStatus::Unreachable,
            error: Some(error.into()),
            summary: None,
            findings: Vec::new(),
            roles: Vec::new(),
            deny_policy: None,
        }
    }

    /// Console users without MFA (or otherwise non-compliant), root included.
    pub fn non_compliant_users(&self) -> usize {
        self.summary.as_ref().map_or(0, |s| s.non_compliant)
    }

    /// Privileged roles a caller without MFA may assume.
    pub fn privileged_roles_without_mfa(&self) -> usize {
        self.roles
            .iter()
            .filter(|r| r.privileged_without_mfa())
            .count()
    }

    /// Whether root is at risk (no MFA, access keys, phishable MFA).
    pub fn root_at_risk(&self) -> bool {
        (self.findings.iter())
            .any(|f| f.user == crate::report::ROOT_USER && f.status == Status::NonCompliant)
    }

    /// Whether the deny policy was found not canonical.
    pub fn deny_policy_not_canonical(&self) -> bool {
        self.deny_policy.as_ref().is_some_and(|d| !d.canonical)
    }

    /// Whether the account needs someone's attention: unreachable, or anything non-compliant.
    pub fn needs_attention(&self) -> bool {
        self.status == AccountStatus::Unreachable
            || self.non_compliant_users() > 0
            || self.privileged_roles_without_mfa() > 0
            || self.deny_policy_not_canonical()
    }
}

/// The organization's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgTotals {
    /// Accounts in the report.
    pub accounts: usize,
    /// Accounts audited.
    pub audited: usize,
    /// Accounts that could not be checked.
    pub unreachable: usize,
    /// Audited accounts with nothing non-compliant.
    pub compliant_accounts: usize,
    /// Audited accounts with something non-compliant.
    pub non_compliant_accounts: usize,
    /// Users by status, summed over the audited accounts.
    pub users: Summary,
    /// Non-compliant users, summed.
    pub non_compliant_users: usize,
    /// Privileged roles assumable without MFA, summed.
    pub privileged_roles_without_mfa: usize,
    /// Accounts whose root user is at risk.
    pub root_at_risk: usize,
    /// Accounts whose deny policy is not canonical.
    pub deny_policy_not_canonical: usize,
}

impl OrgTotals {
    /// Counts one more account.
    pub fn add(&mut self, entry: &AccountEntry) {
        self.accounts += 1;
        match entry.status {
            AccountStatus::Unreachable => self.unreachable += 1,
            AccountStatus::Audited => {
                self.audited += 1;
                if entry.needs_attention() {
                    self.non_compliant_accounts += 1;
                } else {
                    self.compliant_accounts += 1;
                }
            }
        }
        if let Some(s) = &entry.summary {
            for status in <Status as strum::IntoEnumIterator>::iter() {
                self.users.add_status(status, s.status(status));
            }
        }
        self.non_compliant_users += entry.non_compliant_users();
        self.privileged_roles_without_mfa += entry.privileged_roles_without_mfa();
        self.root_at_risk += usize::from(entry.root_at_risk());
        self.deny_policy_not_canonical += usize::from(entry.deny_policy_not_canonical());
    }

    /// Whether every account was audited and nothing is non-compliant.
    pub fn all_compliant(&self) -> bool {
        self.unreachable == 0 && self.non_compliant_accounts == 0
    }
}

/// The org report, whole (as `show` reads it back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgReport {
    /// `o-...`.
    pub organization_id: String,
    /// When the run started.
    pub generated_at: DateTime<Utc>,
    /// This run's ID (in every assumed role's session name).
    pub run_id: String,
    /// One entry per account, in the order they finished.
    pub accounts: Vec<AccountEntry>,
    /// The totals.
    pub totals: OrgTotals,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> OrgAccount {
        OrgAccount {
            id: "111111111111".into(),
            name: "prod".into(),
            status: "ACTIVE".into(),
            ou_ids: vec!["r-root".into()],
            ou_path: "Root".into(),
        }
    }

    #[test]
    fn totals_count_audited_unreachable_and_what_needs_attention() {
        let mut report = RunReport::empty("111111111111", Utc::now(), true);
        report.summary.compliant = 3;
        let clean = AccountEntry::audited(&account(), report.clone());
        report.summary.non_compliant = 2;
        let dirty = AccountEntry::audited(&account(), report);
        let gone = AccountEntry::unreachable(&account(), "AssumeRole failed: AccessDenied");
        let mut totals = OrgTotals::default();
        for e in [&clean, &dirty, &gone] {
            totals.add(e);
        }
        assert_eq!(
            (totals.accounts, totals.audited, totals.unreachable),
            (3, 2, 1)
        );
        assert_eq!(
            (totals.compliant_accounts, totals.non_compliant_accounts),
            (1, 1)
        );
        assert_eq!((totals.users.compliant, totals.non_compliant_users), (6, 2));
        assert!(!totals.all_compliant());
        let mut only_clean = OrgTotals::default();
        only_clean.add(&clean);
        assert!(only_clean.all_compliant());
        assert!(gone.needs_attention() && dirty.needs_attention() && !clean.needs_attention());
    }
}
