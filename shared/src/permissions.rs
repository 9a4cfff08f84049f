//! The IAM permissions each read and each action needs, declared next to nothing else.
//!
//! The deployment's role is held against this list (nothing missing, nothing extra), so a new
//! AWS call cannot ship without the permission it needs, and the role cannot keep a power the
//! code no longer uses.

use crate::finding::ActionKind;

/// A read the engine makes, and the permissions it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// GenerateCredentialReport + GetCredentialReport.
    CredentialReport,
    /// GetAccountAuthorizationDetails (users and groups).
    AuthorizationDetails,
    /// GetAccountSummary (does root have a password?), only when root has no MFA.
    AccountSummary,
    /// ListMFADevices + GetLoginProfile: confirm a user before denying them.
    LiveUserState,
    /// GetUser, ListGroupsForUser, ListAttachedUserPolicies + the live state: a user named by
    /// an event.
    User,
    /// ListEntitiesForPolicy: the groups the deny policy is attached to.
    GroupsWithPolicy,
    /// GetGroup: the members of a group named by an event.
    GroupMembers,
    /// ListPolicyVersions + GetPolicyVersion: the deny policy's documents.
    PolicyVersions,
}

impl Read {
    /// Reads of a whole-account run.
    pub const ACCOUNT: [Read; 4] = [
        Read::CredentialReport,
        Read::AuthorizationDetails,
        Read::AccountSummary,
        Read::LiveUserState,
    ];

    /// Reads of an event run.
    pub const EVENT: [Read; 4] = [
        Read::User,
        Read::GroupsWithPolicy,
        Read::GroupMembers,
        Read::PolicyVersions,
    ];

    /// The IAM actions this read calls.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Read::CredentialReport => &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
            Read::AuthorizationDetails => &["iam:GetAccountAuthorizationDetails"],
            Read::AccountSummary => &["iam:GetAccountSummary"],
            Read::LiveUserState => &["iam:ListMFADevices", "iam:GetLoginProfile"],
            Read::User => &[
                "iam:GetUser",
                "iam:ListGroupsForUser",
                "iam:ListAttachedUserPolicies",
                "iam:ListMFADevices",
                "iam:GetLoginProfile",
            ],
            Read::GroupsWithPolicy => &["iam:ListEntitiesForPolicy"],
            Read::GroupMembers => &["iam:GetGroup"],
            Read::PolicyVersions => &["iam:ListPolicyVersions", "iam:GetPolicyVersion"],
        }
    }
}

/// The IAM actions an action calls.
pub fn action_permissions(kind: ActionKind) -> &'static [&'static str] {
    match kind {
        ActionKind::AttachDenyPolicy => &["iam:AttachUserPolicy"],
        ActionKind::AddToEnforcementGroup => &["iam:AddUserToGroup"],
        ActionKind::RestoreDenyPolicy => &[
            "iam:CreatePolicyVersion",
            "iam:DeletePolicyVersion",
            "iam:SetDefaultPolicyVersion",
        ],
    }
}

/// The permission publishing a notification needs (`Publish` and `PublishBatch` alike).
pub const PUBLISH: &str = "sns:Publish";

/// The permission remembering a notice on the user needs (`mfa-enforcer:notified-*` tags).
pub const NOTICE_MEMORY: &str = "iam:TagUser";

const USER_ACTIONS: [ActionKind; 2] = [
    ActionKind::AttachDenyPolicy,
    ActionKind::AddToEnforcementGroup,
];

fn collect(reads: &[Read], actions: &[ActionKind]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = reads
        .iter()
        .flat_map(|r| r.permissions().iter().copied())
        .chain(
            actions
                .iter()
                .flat_map(|a| action_permissions(*a).iter().copied()),
        )
        .chain([PUBLISH, NOTICE_MEMORY])
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Every permission a whole-account run (scheduled-audit) may use, sorted.
pub fn scheduled_audit() -> Vec<&'static str> {
    collect(&Read::ACCOUNT, &USER_ACTIONS)
}

/// Every permission an event run (iam-events) may use, sorted.
pub fn iam_events() -> Vec<&'static str> {
    let actions = [
        USER_ACTIONS[0],
        USER_ACTIONS[1],
        ActionKind::RestoreDenyPolicy,
    ];
    collect(&Read::EVENT, &actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_audit_needs_exactly_these() {
        assert_eq!(
            scheduled_audit(),
            [
                "iam:AddUserToGroup",
                "iam:AttachUserPolicy",
                "iam:GenerateCredentialReport",
                "iam:GetAccountAuthorizationDetails",
                "iam:GetAccountSummary",
                "iam:GetCredentialReport",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
                "iam:TagUser",
                "sns:Publish",
            ]
        );
    }

    #[test]
    fn iam_events_needs_exactly_these() {
        assert_eq!(
            iam_events(),
            [
                "iam:AddUserToGroup",
                "iam:AttachUserPolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicyVersion",
                "iam:GetGroup",
                "iam:GetLoginProfile",
                "iam:GetPolicyVersion",
                "iam:GetUser",
                "iam:ListAttachedUserPolicies",
                "iam:ListEntitiesForPolicy",
                "iam:ListGroupsForUser",
                "iam:ListMFADevices",
                "iam:ListPolicyVersions",
                "iam:SetDefaultPolicyVersion",
                "iam:TagUser",
                "sns:Publish",
            ]
        );
    }
}
