//! Synthetic accounts in the real formats, for benchmarks of the pure core.
//!
//! A credential report with every documented column and a matching GetAccountAuthorizationDetails
//! answer: a root row, then `users` users with a deterministic mix of console and API-only
//! users, MFA, group membership, the deny policy and exemption tags.

use chrono::{DateTime, TimeZone, Utc};
use mfa_enforcer::iam_state::{AuthorizationDetails, IamGroup, IamUser};
use mfa_enforcer::settings::{RawSettings, Settings};
use std::fmt::Write as _;

/// The deny policy of the synthetic account.
pub const DENY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";
/// Its enforcement group.
pub const GROUP: &str = "MFAEnforced";

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// "Now" for the synthetic account.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A credential report (CSV) and authorization details for `users` users.
pub fn account(users: usize) -> (Vec<u8>, AuthorizationDetails) {
    let mut csv = String::with_capacity(users * 260);
    let _ = writeln!(csv, "{HEADER}");
    let _ = writeln!(csv, "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-06-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A");
    let mut details = AuthorizationDetails {
        users: Vec::with_capacity(users),
        groups: vec![IamGroup {
            name: GROUP.into(),
            attached_policy_arns: vec![DENY.into()],
            inline_policies: Vec::new(),
        }],
        ..AuthorizationDetails::default()
    };
    for i in 0..users {
        let name = format!("user{i:06}");
        let console = i % 20 < 11;
        let mfa = console && i % 5 < 2;
        let (password, last_used) = if console {
            ("true", "2026-06-10T08:00:00+00:00")
        } else {
            ("false", "N/A")
        };
        let key = if console {
            "false,N/A,N/A,N/A,N/A"
        } else {
            "true,2025-01-01T00:00:00+00:00,2026-06-14T00:00:00+00:00,us-east-1,iam"
        };
        let _ = writeln!(
            csv,
            "{name},arn:aws:iam::123456789012:user/{name},2024-01-01T00:00:00+00:00,{password},{last_used},{last_used},N/A,{mfa},{key},false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
        );
        let mut user = IamUser {
            arn: format!("arn:aws:iam::123456789012:user/{name}"),
            id: String::new(),
            name,
            ..IamUser::default()
        };
        if i % 10 < 3 {
            user.groups.push(GROUP.into());
        }
        if i % 7 == 0 {
            user.attached_policy_arns.push(DENY.into());
        }
        if i % 20 == 3 {
            user.tags.insert("mfa-enforcer:exempt", "true");
        }
        user.tags.insert("team", format!("t{}", i % 7));
        details.users.push(user);
    }
    (csv.into_bytes(), details)
}

/// The settings the benchmarks run with: the enforcement group configured, no limit in the way.
pub fn settings() -> Settings {
    let raw = RawSettings::from_lookup(|name| match name {
        "DENY_POLICY_ARN" => Some(DENY.into()),
        "ENFORCEMENT_GROUP" => Some(GROUP.into()),
        "MAX_ENFORCEMENTS_PER_RUN" => Some("1000000".into()),
        _ => None,
    });
    Settings::parse(&raw).unwrap_or_else(|e| panic!("bench settings: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mfa_enforcer::evaluate::evaluate;
    use mfa_enforcer::finding::Status;
    use mfa_enforcer::snapshot::AccountSnapshot;

    #[test]
    fn the_synthetic_account_parses_and_has_every_kind_of_user() {
        let (csv, details) = account(1_000);
        let rows = mfa_enforcer::snapshot::report_users(&csv).unwrap();
        assert_eq!(rows.len(), 1_001);
        let mut snapshot = AccountSnapshot::join(rows, details, None, Some(now()));
        snapshot.deny_policy_canonical = true;
        let findings = evaluate(&snapshot, &settings(), now());
        for status in [
            Status::NotApplicable,
            Status::Exempt,
            Status::Compliant,
            Status::Enforced,
            Status::NonCompliant,
        ] {
            assert!(findings.iter().any(|f| f.status == status), "no {status}");
        }
    }
}
