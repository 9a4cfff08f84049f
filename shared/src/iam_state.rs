//! IAM's users, groups and tags as the reads return them, in our own types: the whole account
//! (GetAccountAuthorizationDetails), one user read live, the root user (GetAccountSummary).
//! Plain data; depends on nothing else of the crate.

use chrono::{DateTime, Utc};

/// An IAM user as GetAccountAuthorizationDetails (or live reads) describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamUser {
    /// User name.
    pub name: String,
    /// User ARN.
    pub arn: String,
    /// The user's unique ID (`AIDA...`; empty when unknown). A user deleted and created again
    /// under the same name gets a new one.
    pub id: String,
    /// Creation time, when known.
    pub created: Option<DateTime<Utc>>,
    /// Names of the groups the user belongs to.
    pub groups: Vec<String>,
    /// ARNs of the managed policies attached directly to the user.
    pub attached_policy_arns: Vec<String>,
    /// Inline policies: `(name, decoded JSON text)` (a whole-account run reads them; a live
    /// read does not).
    pub inline_policies: Vec<(String, String)>,
    /// Tags, key to value.
    pub tags: Tags,
}

/// A user's tags, in the order IAM lists them (at most 50).
///
/// A list, not a map: a user has a handful of tags and the core looks up three or four keys,
/// so a scan is as fast as a lookup, and it costs one allocation where a `BTreeMap` node is
/// ~550 bytes for a single tag (55 MB at 100,000 users).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    /// The value of `key`, if tagged. Keys are compared ignoring ASCII case: IAM keeps one
    /// tag per key whatever its case, and a key written `MFA-ENFORCER:EXEMPT` must count as
    /// the same key (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html#case-sensitivity>).
    /// When the tags hold the key in several cases (an emulator, or an old record), the first
    /// is returned; [`Tags::values`] gives them all.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, its case ignored, in tag order.
    pub fn values<'a, 'k>(&'a self, key: &'k str) -> impl Iterator<Item = &'a str> + use<'a, 'k> {
        self.0
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Sets `key` to `value`, replacing a value it had.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    /// Removes `key`, if tagged.
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    /// Every tag, key then value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl FromIterator<(String, String)> for Tags {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut tags = Tags::default();
        for (key, value) in pairs {
            tags.insert(key, value);
        }
        tags
    }
}

/// An IAM group with the managed policies attached to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamGroup {
    /// Group name.
    pub name: String,
    /// ARNs of the managed policies attached to the group.
    pub attached_policy_arns: Vec<String>,
    /// Inline policies: `(name, decoded JSON text)`.
    pub inline_policies: Vec<(String, String)>,
}

/// An IAM role as GetAccountAuthorizationDetails describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamRole {
    /// Role name.
    pub name: String,
    /// Role ARN.
    pub arn: String,
    /// The role's unique ID (`AROA...`).
    pub id: String,
    /// Path (`/`, `/aws-service-role/...`).
    pub path: String,
    /// The trust policy, decoded JSON text.
    pub trust_policy: String,
    /// ARNs of the managed policies attached to the role.
    pub attached_policy_arns: Vec<String>,
    /// Inline policies: `(name, decoded JSON text)`.
    pub inline_policies: Vec<(String, String)>,
}

/// A customer managed policy and its default version's document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalPolicy {
    /// Policy ARN.
    pub arn: String,
    /// The default version's document, decoded JSON text.
    pub document: String,
}

/// Users, groups, roles and customer managed policies as GetAccountAuthorizationDetails
/// returns them (all pages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationDetails {
    /// Every IAM user.
    pub users: Vec<IamUser>,
    /// Every IAM group.
    pub groups: Vec<IamGroup>,
    /// Every IAM role.
    pub roles: Vec<IamRole>,
    /// Every customer managed policy, with its default version's document.
    pub policies: Vec<LocalPolicy>,
}

/// A user's sign-in state read live, bypassing the credential report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveUserState {
    /// At least one MFA device is enabled (ListMFADevices).
    pub mfa_active: bool,
    /// A login profile exists (GetLoginProfile).
    pub password_enabled: bool,
    /// The user still exists.
    pub exists: bool,
}

/// A user read live for an event run: groups, directly attached policies, tags, MFA devices,
/// password, access keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveUser {
    /// Name, ARN, creation time, groups, attached managed policies, tags.
    pub iam: IamUser,
    /// MFA and console password.
    pub state: LiveUserState,
    /// The serial numbers of every MFA device (ListMFADevices).
    pub mfa_devices: Vec<String>,
    /// How many access keys are active (ListAccessKeys).
    pub active_access_keys: u8,
}

/// The root user's state, as the account summary says (GetAccountSummary).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RootState {
    /// `AccountMFAEnabled`.
    pub mfa_enabled: bool,
    /// `AccountPasswordPresent`, when the summary says.
    pub password_present: Option<bool>,
    /// `AccountAccessKeysPresent`, when the summary says.
    pub access_keys_present: Option<bool>,
}
