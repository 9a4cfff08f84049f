//! AccountSnapshot: what the decision core knows about an account, in our own types.
//!
//! A whole-account run builds it by joining the credential report (who has a password, who has
//! MFA) with GetAccountAuthorizationDetails (groups, attached managed policies, tags), without
//! any per-user read. The join is pure and lives here so it is tested without AWS.

use crate::iam_state::{
    AuthorizationDetails, IamGroup, IamRole, IamUser, LiveUser, LiveUserState, LocalPolicy,
    RootState,
};
use crate::report::{self, ReportError, ReportRow};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

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
    /// The MFA devices known (see [`crate::finding::Finding::mfa_devices`]).
    pub mfa_devices: Vec<crate::devices::MfaDevice>,
    /// The long-term access keys.
    pub access_keys: crate::devices::AccessKeys,
    /// The event that started the run released the user from the deny policy.
    pub released: bool,
    /// `PHISHING_RESISTANT_FOR` names the user, and every MFA device of theirs is known.
    pub must_resist_phishing: bool,
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
    /// Every role (only ever read: judged, reported, never written to).
    pub roles: Vec<IamRole>,
    /// Every customer managed policy, to judge the roles that carry one.
    pub managed_policies: Vec<LocalPolicy>,
    /// Whether the run found the deny policy's default version canonical. `false` until a
    /// run's check says so: then nobody counts as `enforced` and nothing is attached.
    pub deny_policy_canonical: bool,
    /// Whether the enforcement group carries the deny policy; `None` when no group is
    /// configured or the run cannot tell (see [`AccountSnapshot::judge_enforcement_group`]).
    pub enforcement_group_carries_deny: Option<bool>,
}

impl UserFacts {
    /// What the report says of one user; `iam` is filled in by [`AccountSnapshot::join`].
    ///
    /// Root's `password_enabled` is `not_supported` in the report, so it starts unknown.
    pub fn from_row(row: ReportRow) -> UserFacts {
        UserFacts {
            is_root: row.is_root(),
            created: row.user_creation_time.value().copied(),
            password_enabled: row.password_enabled.value().copied(),
            mfa_active: row.has_mfa(),
            mfa_devices: Vec::new(),
            access_keys: row.access_keys(),
            released: false,
            must_resist_phishing: false,
            name: row.user,
            arn: row.arn,
            iam: None,
        }
    }
}

impl UserFacts {
    /// What a live read says of a user (an event run: there is no report).
    pub fn from_live(live: LiveUser) -> UserFacts {
        UserFacts {
            name: live.iam.name.clone(),
            arn: live.iam.arn.clone(),
            is_root: false,
            created: live.iam.created,
            password_enabled: Some(live.state.password_enabled),
            mfa_active: live.state.mfa_active,
            mfa_devices: live
                .mfa_devices
                .iter()
                .map(|s| crate::devices::MfaDevice::from_serial(s))
                .collect(),
            access_keys: crate::devices::AccessKeys {
                active: live.active_access_keys,
                last_used: None,
            },
            released: false,
            must_resist_phishing: false,
            iam: Some(live.iam),
        }
    }

    /// These facts as a live re-read of the user's sign-in state corrects them (live
    /// confirmation of a user about to be denied, when the report is old): MFA and password as
    /// read now, and no IAM user any more if it was deleted.
    pub fn confirmed(mut self, live: &LiveUserState) -> UserFacts {
        self.mfa_active = live.mfa_active;
        self.password_enabled = Some(live.password_enabled);
        if !live.exists {
            self.iam = None;
        }
        self
    }

    /// A user an event named who does not exist (any more): nothing to enforce on, and no
    /// password. The ARN is the one the user had, in `partition` (`aws`, `aws-cn`...).
    pub fn absent(name: &str, account_id: &str, partition: &str) -> UserFacts {
        UserFacts {
            name: name.to_string(),
            arn: format!("arn:{partition}:iam::{account_id}:user/{name}"),
            is_root: false,
            created: None,
            password_enabled: Some(false),
            mfa_active: false,
            mfa_devices: Vec::new(),
            access_keys: crate::devices::AccessKeys::default(),
            released: false,
            must_resist_phishing: false,
            iam: None,
        }
    }

    /// The root user as the account summary describes it (an event run: no report).
    pub fn root(account_id: &str, partition: &str, state: RootState) -> UserFacts {
        UserFacts {
            name: crate::report::ROOT_USER.to_string(),
            arn: format!("arn:{partition}:iam::{account_id}:root"),
            is_root: true,
            created: None,
            password_enabled: state.password_present,
            mfa_active: state.mfa_enabled,
            mfa_devices: Vec::new(),
            access_keys: crate::devices::AccessKeys {
                active: u8::from(state.access_keys_present == Some(true)),
                last_used: None,
            },
            released: false,
            must_resist_phishing: false,
            iam: None,
        }
    }
}

/// The users of a credential report, each parsed whole and kept as the few facts the decision
/// core reads (see [`report::parse_each`]).
///
/// Fails as [`report::parse`] does.
pub fn report_users(content: &[u8]) -> Result<Vec<UserFacts>, ReportError> {
    let mut users = Vec::with_capacity(report::row_capacity(content));
    report::parse_each(content, |row| users.push(UserFacts::from_row(row)))?;
    Ok(users)
}

impl AccountSnapshot {
    /// Joins the credential report's users (see [`report_users`]) with authorization details.
    ///
    /// `root_password_present` comes from the account summary, which is read only when it
    /// matters (a root row without MFA); `None` means "unknown" and is treated as "has one".
    pub fn join(
        mut users: Vec<UserFacts>,
        details: AuthorizationDetails,
        root_password_present: Option<bool>,
        report_generated_at: Option<DateTime<Utc>>,
    ) -> AccountSnapshot {
        let account_id = users
            .iter()
            .find_map(|u| account_id_from_arn(&u.arn))
            .or_else(|| {
                let users = details.users.iter().map(|u| &u.arn);
                let roles = details.roles.iter().map(|r| &r.arn);
                users.chain(roles).find_map(|arn| account_id_from_arn(arn))
            })
            .unwrap_or_default();
        let positions = match_by_name(&users, &details.users);
        let mut iam_users: Vec<Option<IamUser>> = details.users.into_iter().map(Some).collect();
        for (user, position) in users.iter_mut().zip(positions) {
            if user.is_root {
                user.password_enabled = root_password_present;
                continue;
            }
            user.iam = position.and_then(|i| iam_users[i].take());
            if user.created.is_none() {
                user.created = user.iam.as_ref().and_then(|u| u.created);
            }
        }
        AccountSnapshot {
            account_id,
            report_generated_at,
            users,
            groups: details
                .groups
                .into_iter()
                .map(|g| (g.name.clone(), g))
                .collect(),
            roles: details.roles,
            managed_policies: details.policies,
            deny_policy_canonical: false,
            enforcement_group_carries_deny: None,
        }
    }

    /// Judges the enforcement group from the snapshot's groups, which must be complete (every
    /// group, or every group the deny policy is attached to): does it still carry the deny
    /// policy? A group that no longer exists does not.
    pub fn judge_enforcement_group(&mut self, settings: &crate::settings::Settings) {
        self.enforcement_group_carries_deny = settings.enforcement_group.as_ref().map(|name| {
            self.groups
                .get(name)
                .is_some_and(|g| g.attached_policy_arns.contains(&settings.deny_policy_arn))
        });
    }

    /// What the plan needs to know of the account.
    pub fn account_facts(&self) -> crate::plan::AccountFacts {
        crate::plan::AccountFacts {
            deny_policy_canonical: self.deny_policy_canonical,
            enforcement_group_carries_deny: self.enforcement_group_carries_deny,
        }
    }

    /// Gives each user the virtual MFA devices assigned to them (`(user ARN, serial)`, as
    /// ListVirtualMFADevices lists them; root's ARN ends in `:root`).
    pub fn attach_virtual_devices(&mut self, devices: Vec<(String, String)>) {
        let mut by_user: HashMap<String, Vec<crate::devices::MfaDevice>> = HashMap::new();
        for (arn, serial) in devices {
            by_user
                .entry(arn)
                .or_default()
                .push(crate::devices::MfaDevice::from_serial(&serial));
        }
        for user in &mut self.users {
            if let Some(devices) = by_user.remove(&user.arn) {
                user.mfa_devices = devices;
            }
        }
    }

    /// The users with a password and MFA whom `PHISHING_RESISTANT_FOR` names: their devices are
    /// read, then [`UserFacts::must_resist_phishing`] set.
    pub fn phishing_scope(&self, scope: &crate::settings::PhishingResistantFor) -> Vec<usize> {
        let managed = crate::roles::privilege::ManagedDocuments::new(&self.managed_policies);
        (self.users.iter().enumerate())
            .filter(|(_, u)| u.password_enabled == Some(true) && u.mfa_active)
            .filter(|(_, u)| {
                (u.iam.as_ref()).is_some_and(|iam| {
                    crate::phishing::in_scope(iam, &self.groups, &managed, scope)
                })
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether the root row lacks MFA, the one case where the account summary is worth a read.
    pub fn root_needs_password_check(users: &[UserFacts]) -> bool {
        users.iter().any(|u| u.is_root && !u.mfa_active)
    }
}

/// For each report user, the position of the IAM user of the same name in `iam_users`.
///
/// Both lists come from IAM's one list of users and, as far as seen (moto, the fixtures),
/// in the same order: they are walked together, and a name is looked up in a map (built on
/// the first disagreement) only where they differ. At 100,000 users the walk is ~10x faster
/// than hashing every name, whose cost is cache misses on names scattered through memory.
/// Root has no IAM user.
fn match_by_name(users: &[UserFacts], iam_users: &[IamUser]) -> Vec<Option<usize>> {
    let mut by_name: Option<HashMap<&str, usize>> = None;
    let mut next = 0;
    users
        .iter()
        .map(|user| {
            if user.is_root {
                return None;
            }
            if iam_users.get(next).is_some_and(|u| u.name == user.name) {
                next += 1;
                return Some(next - 1);
            }
            let by_name = by_name.get_or_insert_with(|| {
                iam_users
                    .iter()
                    .enumerate()
                    .map(|(i, u)| (u.name.as_str(), i))
                    .collect()
            });
            let found = by_name.get(user.name.as_str()).copied();
            if let Some(i) = found {
                next = i + 1;
            }
            found
        })
        .collect()
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

    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::123456789012:user/alice,2024-01-02T03:04:05+00:00,true,N/A,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
ghost,arn:aws:iam::123456789012:user/ghost,2024-01-02T03:04:05+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

    #[test]
    fn join_attaches_details_by_name_and_keeps_report_order() {
        let rows = report_users(REPORT.as_bytes()).unwrap();
        assert!(AccountSnapshot::root_needs_password_check(&rows));
        let details = AuthorizationDetails {
            users: vec![IamUser {
                name: "alice".into(),
                arn: "arn:aws:iam::123456789012:user/alice".into(),
                id: String::new(),
                groups: vec!["MFAEnforced".into()],
                ..IamUser::default()
            }],
            groups: vec![IamGroup {
                name: "MFAEnforced".into(),
                attached_policy_arns: vec!["arn:aws:iam::123456789012:policy/Deny".into()],
                inline_policies: Vec::new(),
            }],
            ..AuthorizationDetails::default()
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

    fn facts(name: &str) -> UserFacts {
        UserFacts {
            mfa_devices: vec![],
            access_keys: Default::default(),
            released: false,
            must_resist_phishing: false,
            name: name.into(),
            arn: format!("arn:aws:iam::123456789012:user/{name}"),
            is_root: name == crate::report::ROOT_USER,
            created: None,
            password_enabled: Some(true),
            mfa_active: false,
            iam: None,
        }
    }

    fn iam(name: &str) -> IamUser {
        IamUser {
            name: name.into(),
            ..IamUser::default()
        }
    }

    #[test]
    fn users_are_matched_by_name_whatever_the_order_of_either_list() {
        // (report order, IAM order, expected IAM position for each report user)
        type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [Option<usize>]);
        let cases: &[Case] = &[
            (
                &["a", "b", "c"],
                &["a", "b", "c"],
                &[Some(0), Some(1), Some(2)],
            ),
            (
                &["c", "b", "a"],
                &["a", "b", "c"],
                &[Some(2), Some(1), Some(0)],
            ),
            (
                &["<root_account>", "a", "b"],
                &["a", "b"],
                &[None, Some(0), Some(1)],
            ),
            // Gone from IAM, new in IAM since the report, and the walk picking up after a gap.
            (
                &["a", "ghost", "b", "c"],
                &["a", "new", "b", "c"],
                &[Some(0), None, Some(2), Some(3)],
            ),
            (
                &["b", "c", "a"],
                &["a", "b", "c", "d"],
                &[Some(1), Some(2), Some(0)],
            ),
            (&[], &["a"], &[]),
            (&["a"], &[], &[None]),
        ];
        for (report, iam_order, expected) in cases {
            let users: Vec<UserFacts> = report.iter().map(|n| facts(n)).collect();
            let iam_users: Vec<IamUser> = iam_order.iter().map(|n| iam(n)).collect();
            assert_eq!(
                match_by_name(&users, &iam_users),
                *expected,
                "report {report:?}, IAM {iam_order:?}"
            );
        }
    }

    #[test]
    fn a_name_twice_in_the_report_gets_the_iam_user_once() {
        let users = vec![facts("a"), facts("a")];
        let details = AuthorizationDetails {
            users: vec![iam("a")],
            ..AuthorizationDetails::default()
        };
        let snapshot = AccountSnapshot::join(users, details, None, None);
        assert!(snapshot.users[0].iam.is_some());
        assert!(snapshot.users[1].iam.is_none());
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
