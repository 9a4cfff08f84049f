//! The vocabulary: finding, status, reason, action, outcome, as they appear in JSON and logs.
//!
//! Every word here is the word the documentation, the notifications and the JSON report use; the
//! serde names are the contract other tools rely on.

use serde::{Deserialize, Serialize};

vocabulary! {
    /// The one status every user in the credential report gets; reports list them in this order
    /// (`Status::iter()`).
    pub enum Status {
        /// No console password: MFA enforcement does not apply (API-only user, root without password).
        NotApplicable,
        /// Tagged exempt (and the exemption has not expired).
        Exempt,
        /// Console user without MFA, still inside the grace period after creation.
        InGrace,
        /// Console user with MFA, in the enforcement group or under the deny policy.
        Compliant,
        /// Console user without MFA, contained by the deny policy: they can only enroll MFA.
        Enforced,
        /// Any other console user: `reasons` say why.
        NonCompliant,
    }
}

vocabulary! {
    /// Why a user has their status (mostly: why they are non-compliant).
    pub enum Reason {
        /// A console password and no active MFA device.
        NoMfa,
        /// Not a member of the configured enforcement group.
        OutsideEnforcementGroup,
        /// MFA is active but nothing (group or deny policy) would catch its removal; only used when
        /// no enforcement group is configured.
        DenyPolicyMissing,
        /// The root user has no MFA. It can only be reported, never remediated.
        RootNoMfa,
        /// The exemption tag carries an `exempt-until` date that has passed.
        ExemptionExpired,
        /// The `exempt-until` tag is not a date; the exemption is void until it is fixed.
        ExemptionUntilInvalid,
        /// The user is in the credential report but no longer in IAM.
        UserDeleted,
        /// The root user's password state is unknown; treated as having one.
        RootPasswordUnknown,
        /// The deny policy attached to the user is not a canonical document, so it holds nobody:
        /// the user would otherwise be `enforced`.
        DenyPolicyNotCanonical,
        /// The root user has no password and no access keys now (as AWS Organizations' central
        /// root access management leaves member accounts): nobody signs in as root with them,
        /// so MFA does not apply. Outside central management, a password can still be recovered
        /// through the root user's e-mail.
        RootCredentialsAbsent,
        /// The root user has access keys: long-term keys with every permission, which MFA
        /// cannot protect (Security Hub IAM.4).
        RootAccessKeysPresent,
        /// The root user's MFA includes a virtual device (an authenticator app), which a
        /// phishing site can relay; a security key or hardware token cannot be (Security Hub
        /// IAM.6).
        RootMfaNotHardware,
        /// The user is privileged (or in a group `PHISHING_RESISTANT_FOR` names) and none of
        /// their MFA devices is a passkey or security key. Reported, never enforced: IAM's
        /// conditions cannot tell device types apart.
        MfaNotPhishingResistant,
    }
}

vocabulary! {
    /// A remediation the enforcer can make.
    pub enum ActionKind {
        /// Attach the deny-without-MFA policy to the user (`iam:AttachUserPolicy`).
        AttachDenyPolicy,
        /// Add the user to the enforcement group (`iam:AddUserToGroup`).
        AddToEnforcementGroup,
    }
}

vocabulary! {
    /// What became of an action.
    pub enum Outcome {
        /// Written in this run.
        Applied,
        /// Already true before this run; nothing written.
        AlreadyInPlace,
        /// Would be written; this is a dry run.
        Planned,
        /// The write failed; `error` says why.
        Failed,
        /// Not attempted; `detail` says why (guard tripped, user changed since the report).
        Skipped,
    }
}

impl Outcome {
    /// Whether the action's effect holds after the run.
    pub fn holds(self) -> bool {
        matches!(self, Outcome::Applied | Outcome::AlreadyInPlace)
    }
}

/// One remediation for one user, with its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// What it does.
    pub kind: ActionKind,
    /// What it acts with: the deny policy's ARN or the enforcement group's name.
    pub target: String,
    /// What became of it.
    pub outcome: Outcome,
    /// Why it failed (only when `outcome` is `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why it was skipped (only when `outcome` is `skipped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The verdict on one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// User name (`<root_account>` for root).
    pub user: String,
    /// ARN.
    pub arn: String,
    /// The user's unique ID (`AIDA...`), when IAM listed the user (not root, not a user
    /// deleted since the report). Findings exported to Security Hub are keyed by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The status.
    pub status: Status,
    /// Why, in the vocabulary of [`Reason`]; empty when there is nothing to explain.
    pub reasons: Vec<Reason>,
    /// Whether an MFA device is active.
    pub mfa_active: bool,
    /// Whether the user has a console password; `null` when unknown (root).
    pub password_enabled: Option<bool>,
    /// The user's groups.
    pub groups: Vec<String>,
    /// For an `exempt` user: when the exemption ends (`mfa-enforcer:exempt-until`), or
    /// `null` for an exemption without an end date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exempt_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The user's MFA devices as far as the run knows them: every device in an event run; in
    /// a whole-account run the virtual ones (one account-wide read), and the others when a
    /// notice needed them.
    #[serde(default)]
    pub mfa_devices: Vec<crate::devices::MfaDevice>,
    /// The user's long-term access keys.
    #[serde(default)]
    pub access_keys: crate::devices::AccessKeys,
    /// Remediations planned or made for this user.
    pub actions: Vec<Action>,
    /// Facts the plan needs that the report does not show.
    #[serde(skip)]
    pub facts: FindingFacts,
}

/// What the planner and the notices need to know beyond the status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFacts {
    /// The root user (never remediated).
    pub is_root: bool,
    /// The deny policy is attached directly to the user.
    pub deny_attached_to_user: bool,
    /// The user is in the enforcement group.
    pub in_enforcement_group: bool,
    /// The user exists in IAM (it can be written to: tags, policies).
    pub in_iam: bool,
    /// When the user was created, if known.
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    /// The address in the user's `RECIPIENT_TAG_KEY` tag.
    pub recipient: Option<String>,
    /// What the user was last told (the `mfa-enforcer:notified-*` tags).
    pub notified: Option<NoticeMemory>,
    /// The event that started the run released the user from the deny policy (detached it,
    /// or removed them from the enforcement group).
    pub released: bool,
}

impl Finding {
    /// Whether this user is still non-compliant once the run's actions are counted.
    ///
    /// A non-compliant finding is remediated when this run applied something and every one of
    /// its actions holds. Actions that were all already in place did not make it compliant
    /// (for instance an enforcement group that lacks the deny policy), so it remains.
    pub fn remains_non_compliant(&self) -> bool {
        let remediated = self.actions.iter().all(|a| a.outcome.holds())
            && self.actions.iter().any(|a| a.outcome == Outcome::Applied);
        self.status == Status::NonCompliant && !remediated
    }
}

#[cfg(any(test, feature = "in-memory"))]
impl Finding {
    /// A finding for tests: IAM user `user` of account 123456789012 (unique ID `AIDA<user>`),
    /// with `status`, MFA or not (`no_mfa` without), a console password unless
    /// `not_applicable`, nothing else.
    pub fn sample(user: &str, status: Status, mfa_active: bool) -> Finding {
        Finding {
            user: user.to_string(),
            arn: format!("arn:aws:iam::123456789012:user/{user}"),
            user_id: Some(format!("AIDA{}", user.to_uppercase())),
            status,
            reasons: if mfa_active {
                vec![]
            } else {
                vec![Reason::NoMfa]
            },
            mfa_active,
            password_enabled: Some(status != Status::NotApplicable),
            groups: vec![],
            exempt_until: None,
            mfa_devices: vec![],
            access_keys: Default::default(),
            actions: vec![],
            facts: FindingFacts::default(),
        }
    }
}

/// What a user was last told (their `mfa-enforcer:notified-*` tags, read by
/// [`crate::notices::read_memory`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeMemory {
    /// The status they were told about (or that was recorded without a message).
    pub status: Status,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
}
