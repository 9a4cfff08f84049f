//! One view of a whole organization: which accounts to audit, and the org report. Pure.
//!
//! `mfa-enforcer audit --org` lists the organization's accounts (Organizations), keeps the
//! ACTIVE ones the filters select ([`select`]), assumes an audit role in each and runs the
//! same read path and evaluation as a dry run ([`walk`]); every account ends `audited` or
//! `unreachable` with its error, and one account's failure never stops the others. Nothing is
//! written to any account: enforcement stays with each account's own stack.

pub mod report;
pub mod walk;

use serde::{Deserialize, Serialize};

/// The role `audit --org` assumes in each account unless told otherwise: the one the stack
/// creates with `AuditPrincipalArn` (the StackSet's `NamePrefix` gives it this name).
pub const DEFAULT_AUDIT_ROLE: &str = "mfa-enforcer-audit";

/// An account of the organization, as Organizations lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    /// The 12-digit ID.
    pub id: String,
    /// Its name (anyone who administers the organization chooses it: never trusted as markup).
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
    /// The OUs from the root down to its parent, by ID (`r-abcd`, `ou-abcd-11111111`...).
    pub ou_ids: Vec<String>,
    /// The same, by name (`Root/Workloads/Prod`).
    pub ou_path: String,
}

/// The organization as listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    /// `o-...`.
    pub id: String,
    /// The management account's ID.
    pub management_account_id: String,
    /// Every account, every status.
    pub accounts: Vec<OrgAccount>,
}

/// Which accounts to audit (`--ou`, `--accounts`, `--exclude`, `--include-management-account`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only accounts under these OUs (or roots), at any depth; all when empty.
    pub ous: Vec<String>,
    /// Only these accounts; all when empty.
    pub accounts: Vec<String>,
    /// Never these accounts.
    pub exclude: Vec<String>,
    /// The management account too (it is left out unless asked for: the audit role is
    /// deployed by a StackSet, which never reaches it).
    pub include_management_account: bool,
}

/// Why an account of the organization is not audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Not ACTIVE (suspended, closing).
    NotActive(String),
    /// Left out by the filters.
    Filtered,
    /// The management account, not asked for.
    ManagementAccount,
}

/// The accounts to audit, in the organization's order: ACTIVE ones that every filter keeps.
pub fn select<'a>(org: &'a Organization, selection: &Selection) -> Vec<&'a OrgAccount> {
    org.accounts
        .iter()
        .filter(|a| skipped(org, a, selection).is_none())
        .collect()
}

/// Why `account` is not audited, or `None` when it is.
pub fn skipped(org: &Organization, account: &OrgAccount, selection: &Selection) -> Option<Skipped> {
    if account.status != "ACTIVE" {
        return Some(Skipped::NotActive(account.status.clone()));
    }
    if account.id == org.management_account_id && !selection.include_management_account {
        return Some(Skipped::ManagementAccount);
    }
    let under = selection.ous.is_empty()
        || (account.ou_ids.iter()).any(|ou| selection.ous.iter().any(|s| s == ou));
    let listed = selection.accounts.is_empty() || selection.accounts.contains(&account.id);
    let excluded = selection.exclude.contains(&account.id);
    (!under || !listed || excluded).then_some(Skipped::Filtered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, status: &str, ous: &[&str]) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: format!("acct-{id}"),
            status: status.into(),
            ou_ids: ous.iter().map(|o| o.to_string()).collect(),
            ou_path: "Root".into(),
        }
    }

    fn org() -> Organization {
        Organization {
            id: "o-example".into(),
            management_account_id: "000000000000".into(),
            accounts: vec![
                account("000000000000", "ACTIVE", &["r-root"]),
                account("111111111111", "ACTIVE", &["r-root", "ou-prod"]),
                account("222222222222", "ACTIVE", &["r-root", "ou-prod", "ou-web"]),
                account("333333333333", "SUSPENDED", &["r-root", "ou-prod"]),
                account("444444444444", "ACTIVE", &["r-root", "ou-dev"]),
            ],
        }
    }

    fn ids(selection: &Selection) -> Vec<String> {
        let org = org();
        select(&org, selection)
            .iter()
            .map(|a| a.id.clone())
            .collect()
    }

    #[test]
    fn active_accounts_under_the_ous_listed_and_not_excluded() {
        assert_eq!(
            ids(&Selection::default()),
            ["111111111111", "222222222222", "444444444444"],
            "ACTIVE only, the management account left out"
        );
        let prod = Selection {
            ous: vec!["ou-prod".into()],
            ..Selection::default()
        };
        assert_eq!(ids(&prod), ["111111111111", "222222222222"], "recursive");
        let listed = Selection {
            accounts: vec!["222222222222".into(), "333333333333".into()],
            exclude: vec!["111111111111".into()],
            ..Selection::default()
        };
        assert_eq!(ids(&listed), ["222222222222"]);
        let with_management = Selection {
            include_management_account: true,
            exclude: vec!["444444444444".into()],
            ..Selection::default()
        };
        assert_eq!(
            ids(&with_management),
            ["000000000000", "111111111111", "222222222222"]
        );
        let org = org();
        assert_eq!(
            skipped(&org, &org.accounts[3], &Selection::default()),
            Some(Skipped::NotActive("SUSPENDED".into()))
        );
    }
}
