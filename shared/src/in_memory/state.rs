//! The account an [`super::InMemoryIam`] holds: users, groups, managed policies with versions,
//! root, and the credential report last generated. Plain data that tests build and inspect.

use crate::iam_state::{
    AuthorizationDetails, IamGroup, IamRole, IamUser, LiveUser, LiveUserState, LocalPolicy,
    RootState, Tags,
};
use crate::report::{COLUMNS, ROOT_USER};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;

/// When users and root were created, unless a test says otherwise.
pub fn created_long_ago() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// One IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// When it was created.
    pub created: DateTime<Utc>,
    /// It has a console password (a login profile).
    pub password: bool,
    /// Its MFA devices' serial numbers (a virtual device's serial is `arn:...:mfa/NAME`).
    pub mfa_devices: Vec<String>,
    /// The groups it is in.
    pub groups: Vec<String>,
    /// The managed policies attached to it directly.
    pub policies: Vec<String>,
    /// Its tags.
    pub tags: Tags,
    /// How many access keys are active (0 to 2).
    pub access_keys: u8,
}

impl User {
    /// A console user without MFA, in no group, created long ago.
    pub fn console() -> User {
        User {
            created: created_long_ago(),
            password: true,
            mfa_devices: Vec::new(),
            groups: Vec::new(),
            policies: Vec::new(),
            tags: Tags::default(),
            access_keys: 0,
        }
    }

    /// A user without a console password (API only).
    pub fn api_only() -> User {
        User {
            password: false,
            ..User::console()
        }
    }

    /// The same user with MFA: one device of serial `serial`.
    pub fn with_device(mut self, serial: impl Into<String>) -> User {
        self.mfa_devices.push(serial.into());
        self
    }

    /// The same user in `group`.
    pub fn in_group(mut self, group: &str) -> User {
        self.groups.push(group.to_string());
        self
    }

    /// The same user with `policy` attached directly.
    pub fn with_policy(mut self, policy: &str) -> User {
        self.policies.push(policy.to_string());
        self
    }

    /// The same user tagged `key=value`.
    pub fn tagged(mut self, key: &str, value: &str) -> User {
        self.tags.insert(key, value);
        self
    }
}

/// One IAM group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// The managed policies attached to it.
    pub policies: Vec<String>,
}

/// One IAM role: the enforcer only ever reads roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Role {
    /// Its path (`/`).
    pub path: String,
    /// Its trust policy.
    pub trust_policy: String,
    /// The managed policies attached to it.
    pub policies: Vec<String>,
    /// Its inline policies: `(name, document)`.
    pub inline: Vec<(String, String)>,
}

impl Role {
    /// A role at path `/` with this trust policy and these managed policies attached.
    pub fn trusting(trust_policy: &str, policies: &[&str]) -> Role {
        Role {
            path: "/".to_string(),
            trust_policy: trust_policy.to_string(),
            policies: policies.iter().map(|p| p.to_string()).collect(),
            inline: Vec::new(),
        }
    }
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// `v1`, `v2`...
    pub id: String,
    /// Its document.
    pub document: String,
}

impl Version {
    /// The version as ListPolicyVersions lists it (the in-memory IAM keeps no creation time).
    pub fn listed(&self) -> crate::ports::PolicyVersion {
        crate::ports::PolicyVersion {
            id: self.id.clone(),
            created: None,
        }
    }
}

/// A customer-managed policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagedPolicy {
    /// Its versions, oldest first.
    pub versions: Vec<Version>,
    /// The default version's ID.
    pub default: String,
    /// Its tags.
    pub tags: Vec<(String, String)>,
}

impl ManagedPolicy {
    /// A policy whose versions `v1`, `v2`... hold `documents`, the last one the default.
    pub fn with_versions(documents: &[&str]) -> ManagedPolicy {
        ManagedPolicy {
            versions: documents
                .iter()
                .enumerate()
                .map(|(i, d)| Version {
                    id: format!("v{}", i + 1),
                    document: d.to_string(),
                })
                .collect(),
            default: format!("v{}", documents.len()),
            tags: Vec::new(),
        }
    }

    /// The document of version `id`.
    pub fn document(&self, id: &str) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.document.as_str())
    }
}

/// A credential report as IAM keeps it once generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The CSV.
    pub content: String,
    /// When it was generated.
    pub generated_at: DateTime<Utc>,
}

/// The whole account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The 12-digit account ID.
    pub account_id: String,
    /// Users, by name.
    pub users: BTreeMap<String, User>,
    /// Groups, by name.
    pub groups: BTreeMap<String, Group>,
    /// Roles, by name.
    pub roles: BTreeMap<String, Role>,
    /// Customer-managed policies, by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Root's MFA, password and access keys (GetAccountSummary, and the report's root row).
    pub root: RootState,
    /// The serial of a virtual MFA device assigned to root (ListVirtualMFADevices lists it
    /// with root's ARN), if any.
    pub root_virtual_device: Option<String>,
    /// The credential report last generated, if any.
    pub report: Option<Report>,
}

impl State {
    /// An account with no users, groups or policies; root has MFA and a password.
    pub fn new(account_id: &str) -> State {
        State {
            account_id: account_id.to_string(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            roles: BTreeMap::new(),
            policies: BTreeMap::new(),
            root: RootState {
                mfa_enabled: true,
                password_present: Some(true),
                access_keys_present: Some(false),
            },
            root_virtual_device: None,
            report: None,
        }
    }

    /// A user's ARN.
    pub fn user_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:user/{name}", self.account_id)
    }

    /// A virtual MFA device's serial, named after its user as the console names it.
    pub fn virtual_device(&self, user: &str) -> String {
        format!("arn:aws:iam::{}:mfa/{user}", self.account_id)
    }

    /// Adds (or replaces) a user.
    pub fn add_user(&mut self, name: &str, user: User) {
        self.users.insert(name.to_string(), user);
    }

    /// The credential report IAM would generate now, every column in AWS's order.
    pub fn render_report(&self) -> String {
        let mut csv = COLUMNS.join(",") + "\n";
        let row = |name: &str,
                   arn: &str,
                   created: DateTime<Utc>,
                   password: &str,
                   mfa: bool,
                   keys: u8| {
            format!(
                "{name},{arn},{},{password},N/A,N/A,N/A,{mfa},{},N/A,N/A,N/A,N/A,{},N/A,N/A,N/A,N/A,false,N/A,false,N/A\n",
                created.to_rfc3339(),
                keys >= 1,
                keys >= 2
            )
        };
        csv.push_str(&row(
            ROOT_USER,
            &format!("arn:aws:iam::{}:root", self.account_id),
            created_long_ago(),
            "not_supported",
            self.root.mfa_enabled,
            u8::from(self.root.access_keys_present == Some(true)),
        ));
        for (name, user) in &self.users {
            csv.push_str(&row(
                name,
                &self.user_arn(name),
                user.created,
                if user.password { "true" } else { "false" },
                !user.mfa_devices.is_empty(),
                user.access_keys,
            ));
        }
        csv
    }

    fn iam_user(&self, name: &str, user: &User) -> IamUser {
        IamUser {
            name: name.to_string(),
            arn: self.user_arn(name),
            id: format!("AIDA{}", name.to_uppercase()),
            created: Some(user.created),
            groups: user.groups.clone(),
            attached_policy_arns: user.policies.clone(),
            inline_policies: Vec::new(),
            tags: user.tags.clone(),
        }
    }

    /// What GetAccountAuthorizationDetails returns (every page).
    pub fn authorization_details(&self) -> AuthorizationDetails {
        AuthorizationDetails {
            users: self
                .users
                .iter()
                .map(|(name, user)| self.iam_user(name, user))
                .collect(),
            groups: self
                .groups
                .iter()
                .map(|(name, group)| IamGroup {
                    name: name.clone(),
                    attached_policy_arns: group.policies.clone(),
                    inline_policies: Vec::new(),
                })
                .collect(),
            roles: self
                .roles
                .iter()
                .map(|(name, role)| IamRole {
                    name: name.clone(),
                    arn: format!("arn:aws:iam::{}:role{}{name}", self.account_id, role.path),
                    id: format!("AROA{}", name.to_uppercase()),
                    path: role.path.clone(),
                    trust_policy: role.trust_policy.clone(),
                    attached_policy_arns: role.policies.clone(),
                    inline_policies: role.inline.clone(),
                })
                .collect(),
            policies: self
                .policies
                .iter()
                .filter_map(|(arn, policy)| {
                    Some(LocalPolicy {
                        arn: arn.clone(),
                        document: policy.document(&policy.default)?.to_string(),
                    })
                })
                .collect(),
        }
    }

    /// A user's sign-in state as read live.
    pub fn live_state(&self, name: &str) -> LiveUserState {
        let user = self.users.get(name);
        LiveUserState {
            mfa_active: user.is_some_and(|u| !u.mfa_devices.is_empty()),
            password_enabled: user.is_some_and(|u| u.password),
            exists: user.is_some(),
        }
    }

    /// A user read live, as an event run reads it; `None` when there is no such user.
    pub fn live_user(&self, name: &str) -> Option<LiveUser> {
        let user = self.users.get(name)?;
        Some(LiveUser {
            iam: self.iam_user(name, user),
            state: self.live_state(name),
            mfa_devices: user.mfa_devices.clone(),
            active_access_keys: user.access_keys,
        })
    }

    /// Every virtual device assigned to a user or root: (user ARN, serial).
    pub fn assigned_virtual_devices(&self) -> Vec<(String, String)> {
        let root = self.root_virtual_device.iter().map(|serial| {
            let arn = format!("arn:aws:iam::{}:root", self.account_id);
            (arn, serial.clone())
        });
        root.chain(self.users.iter().flat_map(|(name, user)| {
            user.mfa_devices
                .iter()
                .filter(|serial| serial.contains(":mfa/"))
                .map(|serial| (self.user_arn(name), serial.clone()))
        }))
        .collect()
    }

    /// The members of a group; `None` when there is no such group.
    pub fn members(&self, group: &str) -> Option<Vec<String>> {
        self.groups.contains_key(group).then(|| {
            self.users
                .iter()
                .filter(|(_, u)| u.groups.iter().any(|g| g == group))
                .map(|(name, _)| name.clone())
                .collect()
        })
    }
}
