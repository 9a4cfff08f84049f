//! A role's trust policy judged for MFA: who may assume the role, and whether a caller without
//! MFA gets in. Pure.
//!
//! The policy is read by its grammar ([`crate::policy_grammar`]) and its statements for
//! `sts:AssumeRole` are evaluated, as IAM would, in two requests of a caller the trust names:
//! with long-term access keys (no MFA key in the request at all), and with temporary
//! credentials made without MFA (`aws:MultiFactorAuthPresent` false).
//! `aws:MultiFactorAuthPresent` is absent for long-term keys and `aws:MultiFactorAuthAge` is
//! absent without MFA (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthpresent>),
//! which is why `BoolIfExists ... true` on an Allow lets long-term keys in, and a Deny with
//! `BoolIfExists ... false` keeps them out.
//!
//! Conditions on any other key (an external ID, an organization ID, a source IP) are assumed
//! met by an Allow and not met by a Deny: what the trust does not say about MFA is never taken
//! to require it.

use super::{RoleClassification, RoleReason};
use crate::policy_grammar::{
    wildcard_match, Condition, Document, Effect, PrincipalKind, Principals, Statement,
};

/// The action a trust policy grants to AWS principals.
const ASSUME_ROLE: &str = "sts:AssumeRole";
const MFA_PRESENT: &str = "aws:multifactorauthpresent";
const MFA_AGE: &str = "aws:multifactorauthage";

/// Service-linked roles live under this path, which only AWS can create
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html>).
pub const SERVICE_LINKED_PATH: &str = "/aws-service-role/";
/// IAM Identity Center's roles for permission sets live under this path
/// (<https://docs.aws.amazon.com/singlesignon/latest/userguide/using-service-linked-roles.html>).
pub const IDENTITY_CENTER_PATH: &str = "/aws-reserved/sso.amazonaws.com/";

/// What a trust policy says about MFA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustVerdict {
    /// The classification.
    pub classification: RoleClassification,
    /// Every principal an Allow for `sts:AssumeRole` (or a federated or service assume) names,
    /// as written, in order, each once.
    pub principals: Vec<String>,
    /// Why.
    pub reasons: Vec<RoleReason>,
}

/// A request to assume the role, as far as MFA goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// Long-term access keys: neither MFA key is in the request.
    LongTermKeys,
    /// Temporary credentials made without MFA: present is false, no age.
    SessionWithoutMfa,
}

impl Caller {
    fn value(self, key: &str) -> Option<&'static str> {
        match (self, key) {
            (Caller::LongTermKeys, _) => None,
            (Caller::SessionWithoutMfa, MFA_PRESENT) => Some("false"),
            _ => None,
        }
    }
}

/// Judges a role's trust policy (`document`, JSON text) and path.
pub fn classify(document: &str, path: &str) -> TrustVerdict {
    let reserved = if path.starts_with(SERVICE_LINKED_PATH) {
        Some(RoleReason::ServiceLinkedRole)
    } else if path.starts_with(IDENTITY_CENTER_PATH) {
        Some(RoleReason::IdentityCenterRole)
    } else {
        None
    };
    let document = match Document::parse(document) {
        Ok(d) => d,
        // IAM only stores valid documents; one this parser cannot read is never taken to
        // require MFA.
        Err(_) => {
            return TrustVerdict {
                classification: RoleClassification::MfaNotRequired,
                principals: Vec::new(),
                reasons: vec![RoleReason::TrustPolicyUnreadable],
            }
        }
    };
    let principals = named_principals(&document);
    let callers = aws_callers(&document);
    if callers.is_empty() {
        let mut reasons = vec![RoleReason::NoAwsPrincipal];
        reasons.extend(reserved);
        return TrustVerdict {
            classification: RoleClassification::NotApplicable,
            principals,
            reasons,
        };
    }
    let may = |caller: Caller| callers.iter().any(|p| allowed(&document, p, caller));
    let mut reasons = Vec::new();
    // A session made without MFA getting in is the plainest case of no MFA; access keys alone
    // getting in is the `IfExists` bypass.
    let classification = if may(Caller::SessionWithoutMfa) {
        reasons.push(RoleReason::AllowWithoutMfa);
        RoleClassification::MfaNotRequired
    } else if may(Caller::LongTermKeys) {
        reasons.push(RoleReason::MfaIfExistsAdmitsAccessKeys);
        RoleClassification::MfaBypassable
    } else {
        // Nobody gets in without MFA (whether anyone gets in with it is the trust's business).
        if document.statements.iter().any(is_mfa_allow) {
            reasons.push(RoleReason::MfaCondition);
        }
        if document.statements.iter().any(is_mfa_deny) {
            reasons.push(RoleReason::DeniedWithoutMfa);
        }
        RoleClassification::MfaRequired
    };
    if callers.iter().any(|p| p == "*") {
        reasons.push(RoleReason::AnyPrincipal);
    }
    TrustVerdict {
        classification,
        principals,
        reasons,
    }
}

/// Every principal named by an Allow that lets someone assume the role, as written.
fn named_principals(document: &Document) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in document
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        let names_of = match &s.principals {
            Some(Principals::Anyone) => vec!["*".to_string()],
            Some(Principals::Listed(list)) => list.iter().map(|p| p.value.clone()).collect(),
            None => Vec::new(),
        };
        for name in names_of {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The AWS principals an Allow for `sts:AssumeRole` names (`*` for anyone, and for an Allow
/// with `NotPrincipal`, which grants everyone but the listed).
fn aws_callers(document: &Document) -> Vec<String> {
    let mut callers: Vec<String> = Vec::new();
    for s in document
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        if !s.actions.covers(ASSUME_ROLE) {
            continue;
        }
        let found = match (&s.principals, s.principals_negated) {
            (Some(Principals::Anyone), _) | (Some(_), true) => vec!["*".to_string()],
            (Some(Principals::Listed(list)), false) => list
                .iter()
                .filter(|p| p.kind == PrincipalKind::Aws)
                .map(|p| account_or_arn(&p.value))
                .collect(),
            (None, _) => Vec::new(),
        };
        for caller in found {
            if !callers.contains(&caller) {
                callers.push(caller);
            }
        }
    }
    callers
}

/// An AWS principal as compared: an account (`111122223333` and its root ARN alike), or an ARN.
fn account_or_arn(value: &str) -> String {
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_account(value) {
        return format!("account:{value}");
    }
    let parts: Vec<&str> = value.split(':').collect();
    if parts.len() == 6 && parts[2] == "iam" && parts[5] == "root" && is_account(parts[4]) {
        return format!("account:{}", parts[4]);
    }
    value.to_string()
}

/// Whether `caller` (as [`account_or_arn`] gives it) may assume the role in the given request.
fn allowed(document: &Document, caller: &str, request: Caller) -> bool {
    let names = |s: &Statement| match (&s.principals, s.principals_negated) {
        (Some(Principals::Anyone), false) => true,
        (Some(Principals::Listed(list)), false) => list.iter().any(|p| {
            p.kind == PrincipalKind::Aws && {
                let named = account_or_arn(&p.value);
                // A Deny naming an account covers every principal of it; an Allow naming an
                // account lets its principals in only by their own policies, judged as one.
                named == "*"
                    || named == caller
                    || (s.effect == Effect::Deny && account_of(caller).as_ref() == Some(&named))
            }
        }),
        // NotPrincipal: an Allow grants everyone else (taken as anyone); a Deny spares the
        // listed, so it is not relied on.
        (Some(_), true) => s.effect == Effect::Allow,
        (None, _) => false,
    };
    let applies = |s: &&Statement| s.actions.covers(ASSUME_ROLE) && names(s);
    let statements = || document.statements.iter().filter(applies);
    let denied = statements()
        .filter(|s| s.effect == Effect::Deny)
        .any(|s| (s.conditions.iter()).all(|c| holds(c, request, Effect::Deny) == Some(true)));
    let granted = statements().filter(|s| s.effect == Effect::Allow).any(|s| {
        s.conditions
            .iter()
            .all(|c| holds(c, request, Effect::Allow) != Some(false))
    });
    granted && !denied
}

/// The account (`account:ID`) of an ARN caller, as [`account_or_arn`] names accounts.
fn account_of(caller: &str) -> Option<String> {
    let parts: Vec<&str> = caller.split(':').collect();
    (parts.len() >= 6 && parts[0] == "arn").then(|| format!("account:{}", parts[4]))
}

/// Whether a condition holds in the request; `None` for a key other than MFA's, or an
/// operator this judgement does not read. Policy values of `Bool` and `Null` are compared
/// ignoring case for an Allow and exactly for a Deny: where IAM's reading is in doubt, the
/// trust is read the way that lets more callers in.
fn holds(condition: &Condition, request: Caller, effect: Effect) -> Option<bool> {
    let same = |policy: &str, value: &str| match effect {
        Effect::Allow => policy.eq_ignore_ascii_case(value),
        Effect::Deny => policy == value,
    };
    if condition.key != MFA_PRESENT && condition.key != MFA_AGE {
        return None;
    }
    let op = &condition.operator;
    let value = request.value(&condition.key);
    if op.base == "null" {
        // Null: "true" matches an absent key, "false" a present one.
        let absent = value.is_none();
        return Some(
            condition
                .values
                .iter()
                .any(|v| same(v, if absent { "true" } else { "false" })),
        );
    }
    let Some(value) = value else {
        return Some(op.holds_when_absent());
    };
    let any = |test: &dyn Fn(&str) -> Option<bool>| -> Option<bool> {
        let mut result = false;
        for v in &condition.values {
            result |= test(v)?;
        }
        Some(result)
    };
    let number = |text: &str| text.trim().parse::<f64>().ok();
    let base = op.base.as_str();
    match base {
        "bool" => any(&|v| Some(same(v, value))),
        "stringequalsignorecase" => any(&|v| Some(v.eq_ignore_ascii_case(value))),
        "stringequals" => any(&|v| Some(v == value)),
        "stringlike" => any(&|v| Some(wildcard_match(v, value))),
        "stringnotequalsignorecase" => any(&|v| Some(v.eq_ignore_ascii_case(value))).map(|m| !m),
        "stringnotequals" => any(&|v| Some(v == value)).map(|m| !m),
        "stringnotlike" => any(&|v| Some(wildcard_match(v, value))).map(|m| !m),
        _ if base.starts_with("numeric") => {
            let have = number(value)?;
            let compare = |v: &str| -> Option<bool> {
                let limit = number(v)?;
                Some(match base {
                    "numericequals" => have == limit,
                    "numericnotequals" => have != limit,
                    "numericlessthan" => have < limit,
                    "numericlessthanequals" => have <= limit,
                    "numericgreaterthan" => have > limit,
                    "numericgreaterthanequals" => have >= limit,
                    _ => return None,
                })
            };
            any(&compare)
        }
        _ => None,
    }
}

/// An Allow for `sts:AssumeRole` with a condition on an MFA key.
fn is_mfa_allow(s: &Statement) -> bool {
    s.effect == Effect::Allow
        && s.actions.covers(ASSUME_ROLE)
        && s.conditions
            .iter()
            .any(|c| c.key == MFA_PRESENT || c.key == MFA_AGE)
}

/// A Deny for `sts:AssumeRole`, whose only condition keeps out a request
/// without MFA, access keys included (`BoolIfExists aws:MultiFactorAuthPresent false`, or
/// `Null aws:MultiFactorAuthAge true`).
fn is_mfa_deny(s: &Statement) -> bool {
    s.effect == Effect::Deny
        && s.actions.covers(ASSUME_ROLE)
        && !s.conditions.is_empty()
        && s.conditions
            .iter()
            .all(|c| holds(c, Caller::LongTermKeys, Effect::Deny) == Some(true))
}

#[cfg(test)]
mod tests;
