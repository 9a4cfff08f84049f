//! AccountSnapshot: what the decision core knows about an account, in our own types.
//!
//! A whole-account run builds it by joining the credential report (who has a password, who has
//! MFA) with GetAccountAuthorizationDetails (groups, attached managed policies, tags), without
//! any per-user read. The join is pure and lives here so it is tested without AWS.

use crate::report::{Cell, ReportRow};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// An IAM user as GetAccountAuthorizationDetails (or live reads) describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamUser {
    /// User name.
    pub name: String,
    /// User ARN.
    pub arn: String,
    /// Creation time, when known.
    pub created: Option<DateTime<Utc>>,
    /// Names of the groups the user belongs to.
    pub groups: Vec<String>,
    /// ARNs of the managed policies attached directly to the user.
    pub attached_policy_arns: Vec<String>,
    /// Tags, key to value.
    pub tags: BTreeMap<String, String>,
}

/// An IAM group with the managed policies attached to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamGroup {
    /// Group name.
    pub name: String,
    /// ARNs of the managed policies attached to the group.
    pub attached_policy_arns: Vec<String>,
}

/// Users and groups as GetAccountAuthorizationDetails returns them (all pages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationDetails {
    /// Every IAM user.
    pub users: Vec<IamUser>,
    /// Every IAM group.
    pub groups: Vec<IamGroup>,
}

/// Everything the decision core needs to know about one user (or the root user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    /// User name ([`crate::report::ROOT_USER`] for root).
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Whether this is the account's root user.
    pub is_root: bool,
    /// When the user was created, if known.
    pub created: Option<DateTime<Utc>>,
    /// Whether the user has a console password; `None` when unknown (root, when the account
    /// summary was not read).
    pub password_enabled: Option<bool>,
    /// Whether an MFA device is active.
    pub mfa_active: bool,
    /// Groups, policies and tags; `None` for root, or for a user deleted since the report.
    pub iam: Option<IamUser>,
}

/// The account as the decision core sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// The 12-digit account ID.
    pub account_id: String,
    /// When the credential report was generated (as AWS stamps it).
    pub report_generated_at: Option<DateTime<Utc>>,
    /// Every user of the report, in report order.
    pub users: Vec<UserFacts>,
    /// Every group, by name.
    pub groups: HashMap<String, IamGroup>,
}

impl AccountSnapshot {
    /// Joins credential-report rows with authorization details.
    ///
    /// `root_password_present` comes from the account summary, which is read only when it
    /// matters (a root row without MFA); `None` means "unknown" and is treated as "has one".
    pub fn join(
        rows: Vec<ReportRow>,
        details: AuthorizationDetails,
        root_password_present: Option<bool>,
        report_generated_at: Option<DateTime<Utc>>,
    ) -> AccountSnapshot {
        let account_id = rows
            .iter()
            .find_map(|r| account_id_from_arn(&r.arn))
            .or_else(|| {
                details
                    .users
                    .iter()
                    .find_map(|u| account_id_from_arn(&u.arn))
            })
            .unwrap_or_default();
        let mut by_name: HashMap<String, IamUser> = HashMap::with_capacity(details.users.len());
        by_name.extend(details.users.into_iter().map(|u| (u.name.clone(), u)));
        let users = rows
            .into_iter()
            .map(|row| {
                let is_root = row.is_root();
                let password_enabled = if is_root {
                    root_password_present
                } else {
                    row.password_enabled.value().copied()
                };
                let iam = if is_root {
                    None
                } else {
                    by_name.remove(&row.user)
                };
                UserFacts {
                    created: match row.user_creation_time {
                        Cell::Value(t) => Some(t),
                        _ => iam.as_ref().and_then(|u| u.created),
                    },
                    mfa_active: row.has_mfa(),
                    name: row.user,
                    arn: row.arn,
                    is_root,
                    password_enabled,
                    iam,
                }
            })
            .collect();
        AccountSnapshot {
            account_id,
            report_generated_at,
            users,
            groups: details
                .groups
                .into_iter()
                .map(|g| (g.name.clone(), g))
                .collect(),
        }
    }

    /// Whether the root row lacks MFA, the one case where the account summary is worth a read.
    pub fn root_needs_password_check(rows: &[ReportRow]) -> bool {
        rows.iter().any(|r| r.is_root() && !r.has_mfa())
    }
}

/// The account ID inside an IAM ARN (`arn:aws:iam::123456789012:user/x`), if well formed.
pub fn account_id_from_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::parse;

    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::123456789012:user/alice,2024-01-02T03:04:05+00:00,true,N/A,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
ghost,arn:aws:iam::123456789012:user/ghost,2024-01-02T03:04:05+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

    #[test]
    fn join_attaches_details_by_name_and_keeps_report_order() {
        let rows = parse(REPORT.as_bytes()).unwrap();
        assert!(AccountSnapshot::root_needs_password_check(&rows));
        let details = AuthorizationDetails {
            users: vec![IamUser {
                name: "alice".into(),
                arn: "arn:aws:iam::123456789012:user/alice".into(),
                groups: vec!["MFAEnforced".into()],
                ..IamUser::default()
            }],
            groups: vec![IamGroup {
                name: "MFAEnforced".into(),
                attached_policy_arns: vec!["arn:aws:iam::123456789012:policy/Deny".into()],
            }],
        };
        let snapshot = AccountSnapshot::join(rows, details, Some(false), None);
        assert_eq!(snapshot.account_id, "123456789012");
        let names: Vec<&str> = snapshot.users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["<root_account>", "alice", "ghost"]);
        let root = &snapshot.users[0];
        assert!(root.is_root && root.iam.is_none());
        assert_eq!(root.password_enabled, Some(false));
        let alice = &snapshot.users[1];
        assert_eq!(alice.password_enabled, Some(true));
        assert!(alice.mfa_active);
        assert_eq!(alice.iam.as_ref().unwrap().groups, ["MFAEnforced"]);
        // In the report but gone from IAM since: no details.
        assert!(snapshot.users[2].iam.is_none());
        assert!(snapshot.groups.contains_key("MFAEnforced"));
    }

    #[test]
    fn account_id_comes_from_any_well_formed_arn() {
        assert_eq!(
            account_id_from_arn("arn:aws:iam::123456789012:user/a").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_id_from_arn("arn:aws:iam::aws:policy/x"), None);
        assert_eq!(account_id_from_arn("nonsense"), None);
    }
}
