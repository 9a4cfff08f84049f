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
    /// The partition (`aws`, `aws-cn`, `aws-us-gov`), from the organization's ARN.
    pub partition: String,
    /// Every root and OU, by ID.
    pub ous: Vec<String>,
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

/// Checks the filters against the organization before anything is assumed: every OU and
/// account named must exist (a typo must not turn into an empty, "compliant" run), and at
/// least one account must be left to audit. The error names what is wrong.
pub fn check(org: &Organization, selection: &Selection) -> Result<(), String> {
    let unknown_ous: Vec<&str> = (selection.ous.iter())
        .filter(|o| !org.ous.contains(o))
        .map(String::as_str)
        .collect();
    if !unknown_ous.is_empty() {
        return Err(format!(
            "--ou {}: no such root or OU in organization {}",
            unknown_ous.join(", "),
            org.id
        ));
    }
    let known = |id: &String| org.accounts.iter().any(|a| &a.id == id);
    for (flag, ids) in [
        ("--accounts", &selection.accounts),
        ("--exclude", &selection.exclude),
    ] {
        let unknown: Vec<&str> = ids
            .iter()
            .filter(|i| !known(i))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "{flag} {}: no such account in organization {}",
                unknown.join(", "),
                org.id
            ));
        }
    }
    if select(org, selection).is_empty() {
        let skipped: Vec<String> = (org.accounts.iter())
            .filter_map(|a| skipped(org, a, selection).map(|why| format!("{} ({why})", a.id)))
            .take(10)
            .collect();
        return Err(format!(
            "no account to audit: every account was left out: {}",
            skipped.join(", ")
        ));
    }
    Ok(())
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::NotActive(status) => write!(f, "{status}"),
            Skipped::Filtered => write!(f, "filtered out"),
            Skipped::ManagementAccount => {
                write!(
                    f,
                    "the management account: add --include-management-account"
                )
            }
        }
    }
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
            partition: "aws".into(),
            ous: vec![
                "r-root".into(),
                "ou-prod".into(),
                "ou-web".into(),
                "ou-dev".into(),
            ],
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

    #[test]
    fn a_typo_in_a_filter_is_an_error_never_an_empty_run() {
        let org = org();
        let check = |selection: Selection| super::check(&org, &selection);
        assert!(check(Selection::default()).is_ok());
        let err = check(Selection {
            ous: vec!["ou-prdo".into()],
            ..Selection::default()
        })
        .unwrap_err();
        assert!(
            err.contains("--ou ou-prdo") && err.contains("o-example"),
            "{err}"
        );
        let err = check(Selection {
            accounts: vec!["999999999999".into()],
            ..Selection::default()
        })
        .unwrap_err();
        assert!(err.contains("--accounts 999999999999"), "{err}");
        let err = check(Selection {
            exclude: vec!["12".into()],
            ..Selection::default()
        })
        .unwrap_err();
        assert!(err.contains("--exclude 12"), "{err}");
        // Only the management account, not asked for, or only a suspended one: nothing left.
        let err = check(Selection {
            accounts: vec!["000000000000".into()],
            ..Selection::default()
        })
        .unwrap_err();
        assert!(
            err.contains("no account to audit") && err.contains("--include-management-account"),
            "{err}"
        );
        let err = check(Selection {
            accounts: vec!["333333333333".into()],
            ..Selection::default()
        })
        .unwrap_err();
        assert!(err.contains("333333333333 (SUSPENDED)"), "{err}");
    }
}
