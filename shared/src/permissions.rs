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
}

impl Read {
    /// Every read.
    pub const ALL: [Read; 4] = [
        Read::CredentialReport,
        Read::AuthorizationDetails,
        Read::AccountSummary,
        Read::LiveUserState,
    ];

    /// The IAM actions this read calls.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Read::CredentialReport => &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
            Read::AuthorizationDetails => &["iam:GetAccountAuthorizationDetails"],
            Read::AccountSummary => &["iam:GetAccountSummary"],
            Read::LiveUserState => &["iam:ListMFADevices", "iam:GetLoginProfile"],
        }
    }
}

/// The IAM action a remediation calls.
pub fn action_permission(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::AttachDenyPolicy => "iam:AttachUserPolicy",
        ActionKind::AddToEnforcementGroup => "iam:AddUserToGroup",
    }
}

/// The permission publishing a notification needs.
pub const PUBLISH: &str = "sns:Publish";

/// Every permission a whole-account run (scheduled-audit) may use, sorted.
pub fn scheduled_audit() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Read::ALL
        .iter()
        .flat_map(|r| r.permissions().iter().copied())
        .chain(
            [
                ActionKind::AttachDenyPolicy,
                ActionKind::AddToEnforcementGroup,
            ]
            .map(action_permission),
        )
        .chain([PUBLISH])
        .collect();
    all.sort_unstable();
    all.dedup();
    all
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
                "sns:Publish",
            ]
        );
    }
}
