//! Roles, judged for MFA and privilege: report-only, never written to. Pure.
//!
//! A whole-account run reads every role with its trust policy and policies in the same
//! GetAccountAuthorizationDetails pages as the users; [`judge`] says, for each, whether a caller
//! without MFA may assume it ([`trust::classify`]) and whether it is privileged
//! ([`privilege::privileged_by`]). A privileged role assumable without MFA is a door that
//! console MFA does not close: a leaked access key of anyone allowed to assume it opens an
//! administrator's session.

pub mod privilege;
pub mod trust;

use crate::iam_state::{IamRole, LocalPolicy};
use serde::{Deserialize, Serialize};

vocabulary! {
    /// What a role's trust policy says about MFA.
    pub enum RoleClassification {
        /// No AWS principal may assume it without MFA.
        MfaRequired,
        /// An AWS principal may assume it without MFA.
        MfaNotRequired,
        /// Only `BoolIfExists aws:MultiFactorAuthPresent true` stands in the way, and it lets
        /// long-term access keys in without MFA.
        MfaBypassable,
        /// Only services or federated identities may assume it (MFA is theirs to ask for).
        NotApplicable,
    }
}

impl RoleClassification {
    /// Whether a caller without MFA may assume a role so classified.
    pub fn assumable_without_mfa(self) -> bool {
        matches!(
            self,
            RoleClassification::MfaNotRequired | RoleClassification::MfaBypassable
        )
    }
}

vocabulary! {
    /// Why a role has its classification.
    pub enum RoleReason {
        /// An Allow lets AWS principals assume it without any MFA condition.
        AllowWithoutMfa,
        /// `BoolIfExists aws:MultiFactorAuthPresent true` on an Allow: long-term access keys
        /// carry no MFA key at all, so they get in without MFA.
        MfaIfExistsAdmitsAccessKeys,
        /// The Allow requires MFA (`Bool ... true`, an MFA age limit, or `Null ... false`).
        MfaCondition,
        /// A Deny keeps out every request without MFA (`BoolIfExists ... false`).
        DeniedWithoutMfa,
        /// The trust names any principal (`*`); only its conditions narrow who.
        AnyPrincipal,
        /// Only services or federated identities are trusted.
        NoAwsPrincipal,
        /// A service-linked role (path `/aws-service-role/`), whose trust AWS owns.
        ServiceLinkedRole,
        /// An IAM Identity Center role (path `/aws-reserved/sso.amazonaws.com/`).
        IdentityCenterRole,
        /// The trust policy could not be read; it is not taken to require MFA.
        TrustPolicyUnreadable,
    }
}

/// The verdict on one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleFinding {
    /// Role name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// The role's unique ID (`AROA...`). Findings exported to Security Hub are keyed by it.
    #[serde(default)]
    pub id: String,
    /// Path (`/`, `/aws-service-role/...`).
    pub path: String,
    /// What its trust policy says about MFA.
    pub classification: RoleClassification,
    /// Whether it carries a privileged policy (see `privileged_by`).
    pub privileged: bool,
    /// The policies that make it privileged: AWS managed ones by ARN, customer managed ones
    /// by ARN, inline ones as `inline:NAME`.
    #[serde(default)]
    pub privileged_by: Vec<String>,
    /// The principals its trust policy lets assume it, as written.
    pub principals: Vec<String>,
    /// Why it has its classification.
    pub reasons: Vec<RoleReason>,
}

impl RoleFinding {
    /// A privileged role a caller without MFA may assume: a `critical` alert.
    pub fn privileged_without_mfa(&self) -> bool {
        self.privileged && self.classification.assumable_without_mfa()
    }
}

/// Roles counted by classification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleCounts {
    /// Roles `mfa_required`.
    pub mfa_required: usize,
    /// Roles `mfa_not_required`.
    pub mfa_not_required: usize,
    /// Roles `mfa_bypassable`.
    pub mfa_bypassable: usize,
    /// Roles `not_applicable`.
    pub not_applicable: usize,
    /// Privileged roles.
    pub privileged: usize,
    /// Privileged roles a caller without MFA may assume.
    pub privileged_without_mfa: usize,
}

impl RoleCounts {
    /// Counts the roles.
    pub fn count(roles: &[RoleFinding]) -> RoleCounts {
        let mut counts = RoleCounts::default();
        for role in roles {
            *match role.classification {
                RoleClassification::MfaRequired => &mut counts.mfa_required,
                RoleClassification::MfaNotRequired => &mut counts.mfa_not_required,
                RoleClassification::MfaBypassable => &mut counts.mfa_bypassable,
                RoleClassification::NotApplicable => &mut counts.not_applicable,
            } += 1;
            counts.privileged += usize::from(role.privileged);
            counts.privileged_without_mfa += usize::from(role.privileged_without_mfa());
        }
        counts
    }
}

/// Judges every role, in the order given; `policies` are the account's customer managed
/// policies (their default versions), to judge the ones attached to roles.
pub fn judge(roles: &[IamRole], policies: &[LocalPolicy]) -> Vec<RoleFinding> {
    let documents = privilege::ManagedDocuments::new(policies);
    roles
        .iter()
        .map(|role| {
            let verdict = trust::classify(&role.trust_policy, &role.path);
            let privileged_by = privilege::privileged_by(
                &role.attached_policy_arns,
                &role.inline_policies,
                &documents,
            );
            RoleFinding {
                name: role.name.clone(),
                arn: role.arn.clone(),
                id: role.id.clone(),
                path: role.path.clone(),
                classification: verdict.classification,
                privileged: !privileged_by.is_empty(),
                privileged_by,
                principals: verdict.principals,
                reasons: verdict.reasons,
            }
        })
        .collect()
}
