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
    /// ListVirtualMFADevices (assigned): every user's virtual devices, one account-wide read.
    VirtualMfaDevices,
    /// ListMFADevices + GetLoginProfile: confirm a user before denying them (ListMFADevices
    /// alone: the devices of a user whose notice needs them).
    LiveUserState,
    /// GetUser, ListGroupsForUser, ListAttachedUserPolicies, ListAccessKeys + the live state:
    /// a user named by an event.
    User,
    /// ListEntitiesForPolicy: the groups the deny policy is attached to.
    GroupsWithPolicy,
    /// GetGroup: the members of a group named by an event.
    GroupMembers,
    /// GetPolicy + GetPolicyVersion: the deny policy's default version, read by every run.
    DenyPolicy,
    /// ListPolicyVersions + GetPolicyVersion: every version of the deny policy, read to
    /// repair it.
    PolicyVersions,
}

impl Read {
    /// Reads of a whole-account run.
    pub const ACCOUNT: [Read; 7] = [
        Read::CredentialReport,
        Read::AuthorizationDetails,
        Read::AccountSummary,
        Read::VirtualMfaDevices,
        Read::LiveUserState,
        Read::DenyPolicy,
        Read::PolicyVersions,
    ];

    /// Reads of an event run.
    pub const EVENT: [Read; 6] = [
        Read::User,
        Read::AccountSummary,
        Read::GroupsWithPolicy,
        Read::GroupMembers,
        Read::DenyPolicy,
        Read::PolicyVersions,
    ];

    /// The IAM actions this read calls.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Read::CredentialReport => &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
            Read::AuthorizationDetails => &["iam:GetAccountAuthorizationDetails"],
            Read::AccountSummary => &["iam:GetAccountSummary"],
            Read::VirtualMfaDevices => &["iam:ListVirtualMFADevices"],
            Read::LiveUserState => &["iam:ListMFADevices", "iam:GetLoginProfile"],
            Read::User => &[
                "iam:GetUser",
                "iam:ListGroupsForUser",
                "iam:ListAttachedUserPolicies",
                "iam:ListMFADevices",
                "iam:GetLoginProfile",
                "iam:ListAccessKeys",
            ],
            Read::GroupsWithPolicy => &["iam:ListEntitiesForPolicy"],
            Read::GroupMembers => &["iam:GetGroup"],
            Read::DenyPolicy => &["iam:GetPolicy", "iam:GetPolicyVersion"],
            Read::PolicyVersions => &["iam:ListPolicyVersions", "iam:GetPolicyVersion"],
        }
    }
}

/// The IAM actions an action calls.
pub fn action_permissions(kind: ActionKind) -> &'static [&'static str] {
    match kind {
        ActionKind::AttachDenyPolicy => &["iam:AttachUserPolicy"],
        ActionKind::AddToEnforcementGroup => &["iam:AddUserToGroup"],
    }
}

/// The permissions repairing the deny policy needs: choosing among existing versions and
/// deleting the others. Never `iam:CreatePolicyVersion`: the enforcer authors no policy.
pub const POLICY_REPAIR: [&str; 2] = ["iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion"];

/// The permission publishing a notification needs (`Publish` and `PublishBatch` alike).
pub const PUBLISH: &str = "sns:Publish";

/// The permission remembering a notice on the user needs (`mfa-enforcer:notified-*` tags).
pub const NOTICE_MEMORY: &str = "iam:TagUser";

/// The permission remembering which exemptions a whole-account run's summary listed needs
/// (the deny policy's `mfa-enforcer:exempt-digest` tag).
pub const EXEMPTION_MEMORY: &str = "iam:TagPolicy";

/// The permissions exporting findings to Security Hub needs (`SECURITY_HUB=true`): ours read
/// back, then imported. Granted only when the stack's `SecurityHub` parameter is true.
pub const SECURITY_HUB: [&str; 2] = ["securityhub:BatchImportFindings", "securityhub:GetFindings"];

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
        .chain(POLICY_REPAIR)
        .chain(SECURITY_HUB)
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Every permission a whole-account run (scheduled-audit) may use, sorted.
pub fn scheduled_audit() -> Vec<&'static str> {
    let mut all = collect(&Read::ACCOUNT, &USER_ACTIONS);
    all.push(EXEMPTION_MEMORY);
    all.sort_unstable();
    all
}

/// Every permission an event run (iam-events) may use, sorted.
pub fn iam_events() -> Vec<&'static str> {
    collect(&Read::EVENT, &USER_ACTIONS)
}

/// What the organization audit's role needs in each account (`audit --org`): the
/// whole-account run's reads, as a dry run, and nothing else: no action, no publish, no
/// repair of the deny policy.
pub fn org_audit() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = (Read::ACCOUNT.iter())
        .flat_map(|r| r.permissions().iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_org_audit_only_reads() {
        let reads = org_audit();
        assert!(
            reads.iter().all(|p| {
                let action = p.trim_start_matches("iam:");
                ["Get", "List", "GenerateCredentialReport"]
                    .iter()
                    .any(|r| action.starts_with(r))
            }),
            "{reads:?}"
        );
        assert_eq!(reads.len(), 10, "{reads:?}");
    }

    #[test]
    fn no_role_may_author_policy_content() {
        for list in [scheduled_audit(), iam_events(), org_audit()] {
            assert!(!list.contains(&"iam:CreatePolicyVersion"), "{list:?}");
            assert!(!list.contains(&"iam:CreatePolicy"), "{list:?}");
        }
    }

    #[test]
    fn scheduled_audit_needs_exactly_these() {
        assert_eq!(
            scheduled_audit(),
            [
                "iam:AddUserToGroup",
                "iam:AttachUserPolicy",
                "iam:DeletePolicyVersion",
                "iam:GenerateCredentialReport",
                "iam:GetAccountAuthorizationDetails",
                "iam:GetAccountSummary",
                "iam:GetCredentialReport",
                "iam:GetLoginProfile",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListMFADevices",
                "iam:ListPolicyVersions",
                "iam:ListVirtualMFADevices",
                "iam:SetDefaultPolicyVersion",
                "iam:TagPolicy",
                "iam:TagUser",
                "securityhub:BatchImportFindings",
                "securityhub:GetFindings",
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
                "iam:DeletePolicyVersion",
                "iam:GetAccountSummary",
                "iam:GetGroup",
                "iam:GetLoginProfile",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:GetUser",
                "iam:ListAccessKeys",
                "iam:ListAttachedUserPolicies",
                "iam:ListEntitiesForPolicy",
                "iam:ListGroupsForUser",
                "iam:ListMFADevices",
                "iam:ListPolicyVersions",
                "iam:SetDefaultPolicyVersion",
                "iam:TagUser",
                "securityhub:BatchImportFindings",
                "securityhub:GetFindings",
                "sns:Publish",
            ]
        );
    }
}
