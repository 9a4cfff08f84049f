use super::*;
use crate::settings::RawSettings;
use chrono::{Duration, TimeZone};

const DENY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";
const GROUP: &str = "MFAEnforced";

fn settings(group: bool, grace_hours: &str) -> Settings {
    Settings::parse(&RawSettings {
        deny_policy_arn: Some(DENY.into()),
        enforcement_group: group.then(|| GROUP.into()),
        grace_period_hours: Some(grace_hours.into()),
        ..RawSettings::default()
    })
    .unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

/// A user described by a short spec.
#[derive(Clone, Default)]
struct U {
    password: Option<bool>,
    mfa: bool,
    groups: &'static [&'static str],
    deny_on_user: bool,
    tags: &'static [(&'static str, &'static str)],
    age_hours: i64,
    root: bool,
    deleted: bool,
}

fn facts(u: &U) -> UserFacts {
    let name = if u.root { "<root_account>" } else { "u" };
    UserFacts {
        name: name.into(),
        arn: "arn:aws:iam::123456789012:user/u".into(),
        is_root: u.root,
        created: Some(now() - Duration::hours(u.age_hours)),
        password_enabled: u.password,
        mfa_active: u.mfa,
        mfa_devices: vec![],
        access_keys: Default::default(),
        released: false,
        must_resist_phishing: false,
        iam: (!u.root && !u.deleted).then(|| IamUser {
            name: name.into(),
            groups: u.groups.iter().map(|g| g.to_string()).collect(),
            attached_policy_arns: if u.deny_on_user {
                vec![DENY.into()]
            } else {
                vec![]
            },
            tags: u
                .tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..IamUser::default()
        }),
    }
}

fn groups() -> HashMap<String, IamGroup> {
    [
        (GROUP, vec![DENY.to_string()]),
        ("Developers", vec![]),
        ("Contained", vec![DENY.to_string()]),
    ]
    .into_iter()
    .map(|(n, p)| {
        (
            n.to_string(),
            IamGroup {
                name: n.into(),
                attached_policy_arns: p,
                inline_policies: Vec::new(),
            },
        )
    })
    .collect()
}

// A table of cases reads best as tuples.
#[allow(clippy::type_complexity)]
#[test]
fn status_table() {
    use Reason::*;
    use Status::*;
    let console = U {
        password: Some(true),
        age_hours: 1000,
        ..U::default()
    };
    let exempt = &[("mfa-enforcer:exempt", "true")][..];
    // (name, user, group configured, grace hours, expected status, expected reasons)
    let cases: Vec<(&str, U, bool, &str, Status, Vec<Reason>)> = vec![
        (
            "api-only user",
            U {
                password: Some(false),
                ..console.clone()
            },
            true,
            "0",
            NotApplicable,
            vec![],
        ),
        (
            "password unknown (not_supported) on an IAM user",
            U {
                password: None,
                ..console.clone()
            },
            true,
            "0",
            NotApplicable,
            vec![],
        ),
        (
            "deleted since the report",
            U {
                deleted: true,
                ..console.clone()
            },
            true,
            "0",
            NotApplicable,
            vec![UserDeleted],
        ),
        (
            "exempt without MFA",
            U {
                tags: exempt,
                ..console.clone()
            },
            true,
            "0",
            Exempt,
            vec![],
        ),
        (
            "exempt value is case-insensitive",
            U {
                tags: &[("mfa-enforcer:exempt", " TRUE ")],
                ..console.clone()
            },
            true,
            "0",
            Exempt,
            vec![],
        ),
        (
            "exempt tag false is no exemption",
            U {
                tags: &[("mfa-enforcer:exempt", "false")],
                ..console.clone()
            },
            true,
            "0",
            NonCompliant,
            vec![NoMfa, OutsideEnforcementGroup],
        ),
        (
            "exempt until tomorrow",
            U {
                tags: &[
                    ("mfa-enforcer:exempt", "true"),
                    (EXEMPT_UNTIL_TAG, "2026-06-16"),
                ],
                ..console.clone()
            },
            true,
            "0",
            Exempt,
            vec![],
        ),
        (
            "exempt until end of today",
            U {
                tags: &[
                    ("mfa-enforcer:exempt", "true"),
                    (EXEMPT_UNTIL_TAG, "2026-06-15"),
                ],
                ..console.clone()
            },
            true,
            "0",
            Exempt,
            vec![],
        ),
        (
            "exemption expired yesterday",
            U {
                tags: &[
                    ("mfa-enforcer:exempt", "true"),
                    (EXEMPT_UNTIL_TAG, "2026-06-14"),
                ],
                ..console.clone()
            },
            true,
            "0",
            NonCompliant,
            vec![ExemptionExpired, NoMfa, OutsideEnforcementGroup],
        ),
        (
            "exemption expired an hour ago (timestamp)",
            U {
                tags: &[
                    ("mfa-enforcer:exempt", "true"),
                    (EXEMPT_UNTIL_TAG, "2026-06-15T11:00:00Z"),
                ],
                ..console.clone()
            },
            true,
            "0",
            NonCompliant,
            vec![ExemptionExpired, NoMfa, OutsideEnforcementGroup],
        ),
        (
            "exempt-until not a date voids",
            U {
                tags: &[
                    ("mfa-enforcer:exempt", "true"),
                    (EXEMPT_UNTIL_TAG, "next week"),
                ],
                ..console.clone()
            },
            true,
            "0",
            NonCompliant,
            vec![ExemptionUntilInvalid, NoMfa, OutsideEnforcementGroup],
        ),
        (
            "new user in grace",
            U {
                age_hours: 2,
                ..console.clone()
            },
            true,
            "24",
            InGrace,
            vec![],
        ),
        (
            "grace over",
            U {
                age_hours: 25,
                ..console.clone()
            },
            true,
            "24",
            NonCompliant,
            vec![NoMfa, OutsideEnforcementGroup],
        ),
        (
            "grace 0 means none",
            U {
                age_hours: 0,
                ..console.clone()
            },
            true,
            "0",
            NonCompliant,
            vec![NoMfa, OutsideEnforcementGroup],
        ),
        (
            "MFA and in group",
            U {
                mfa: true,
                groups: &[GROUP],
                ..console.clone()
            },
            true,
            "0",
            Compliant,
            vec![],
        ),
        (
            "MFA, deny on user, outside group",
            U {
                mfa: true,
                deny_on_user: true,
                ..console.clone()
            },
            true,
            "0",
            Compliant,
            vec![],
        ),
        (
            "MFA, outside group",
            U {
                mfa: true,
                groups: &["Developers"],
                ..console.clone()
            },
            true,
            "0",
            NonCompliant,
            vec![OutsideEnforcementGroup],
        ),
        (
            "MFA, no group configured, no deny",
            U {
                mfa: true,
                ..console.clone()
            },
            false,
            "0",
            NonCompliant,
            vec![DenyPolicyMissing],
        ),
        (
            "MFA, no group configured, deny via a group",
            U {
                mfa: true,
                groups: &["Contained"],
                ..console.clone()
            },
            false,
            "0",
            Compliant,
            vec![],
        ),
        (
            "no MFA, deny on user",
            U {
                deny_on_user: true,
                ..console.clone()
            },
            true,
            "0",
            Enforced,
            vec![],
        ),
        (
            "no MFA, in enforcement group with deny",
            U {
                groups: &[GROUP],
                ..console.clone()
            },
            true,
            "0",
            Enforced,
            vec![],
        ),
        (
            "no MFA, in another group with deny",
            U {
                groups: &["Contained"],
                ..console.clone()
            },
            true,
            "0",
            Enforced,
            vec![],
        ),
        (
            "no MFA, nothing",
            console.clone(),
            true,
            "0",
            NonCompliant,
            vec![NoMfa, OutsideEnforcementGroup],
        ),
        (
            "no MFA, nothing, no group configured",
            console.clone(),
            false,
            "0",
            NonCompliant,
            vec![NoMfa],
        ),
        (
            "exempt beats grace and enforcement",
            U {
                tags: exempt,
                deny_on_user: true,
                age_hours: 1,
                ..console.clone()
            },
            true,
            "24",
            Exempt,
            vec![],
        ),
        (
            "root with MFA",
            U {
                root: true,
                mfa: true,
                password: Some(true),
                ..U::default()
            },
            true,
            "0",
            Compliant,
            vec![],
        ),
        (
            "root without MFA, with password",
            U {
                root: true,
                password: Some(true),
                ..U::default()
            },
            true,
            "0",
            NonCompliant,
            vec![RootNoMfa],
        ),
        (
            "root without MFA, password unknown",
            U {
                root: true,
                password: None,
                ..U::default()
            },
            true,
            "0",
            NonCompliant,
            vec![RootNoMfa, RootPasswordUnknown],
        ),
        (
            "root without password",
            U {
                root: true,
                password: Some(false),
                ..U::default()
            },
            true,
            "0",
            NotApplicable,
            vec![RootCredentialsAbsent],
        ),
    ];
    for (name, user, group, grace, status, reasons) in cases {
        let finding = evaluate_user(
            &facts(&user),
            &groups(),
            true,
            &settings(group, grace),
            now(),
        );
        assert_eq!(
            (finding.status, finding.reasons),
            (status, reasons),
            "case: {name}"
        );
    }
}

#[test]
fn a_deny_policy_that_is_not_canonical_holds_nobody() {
    use Reason::*;
    let console = U {
        password: Some(true),
        age_hours: 1000,
        ..U::default()
    };
    // (name, user, expected status, expected reasons) with the deny policy not canonical.
    let cases: Vec<(&str, U, Status, Vec<Reason>)> = vec![
        (
            "deny attached, no MFA: not enforced",
            U {
                deny_on_user: true,
                ..console.clone()
            },
            Status::NonCompliant,
            vec![NoMfa, OutsideEnforcementGroup, DenyPolicyNotCanonical],
        ),
        (
            "in the enforcement group, no MFA: not enforced",
            U {
                groups: &[GROUP],
                ..console.clone()
            },
            Status::NonCompliant,
            vec![NoMfa, DenyPolicyNotCanonical],
        ),
        (
            "nothing attached, no MFA: non-compliant as always",
            console.clone(),
            Status::NonCompliant,
            vec![NoMfa, OutsideEnforcementGroup],
        ),
        (
            "MFA in the group: MFA is what counts",
            U {
                mfa: true,
                groups: &[GROUP],
                ..console.clone()
            },
            Status::Compliant,
            vec![],
        ),
    ];
    for (name, user, status, reasons) in cases {
        let f = evaluate_user(&facts(&user), &groups(), false, &settings(true, "0"), now());
        assert_eq!((f.status, f.reasons), (status, reasons), "case: {name}");
    }
}

#[test]
fn an_exempt_finding_says_when_its_exemption_ends() {
    let exempt = |tags: &'static [(&'static str, &'static str)]| {
        let u = U {
            password: Some(true),
            age_hours: 1000,
            tags,
            ..U::default()
        };
        let f = evaluate_user(&facts(&u), &groups(), true, &settings(true, "0"), now());
        (f.status, f.exempt_until)
    };
    assert_eq!(
        exempt(&[("mfa-enforcer:exempt", "true")]),
        (Status::Exempt, None)
    );
    assert_eq!(
        exempt(&[
            ("mfa-enforcer:exempt", "true"),
            (EXEMPT_UNTIL_TAG, "2026-06-30")
        ]),
        (
            Status::Exempt,
            Some(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap())
        )
    );
    // Expired: no longer exempt, and no end date to show.
    assert_eq!(
        exempt(&[
            ("mfa-enforcer:exempt", "true"),
            (EXEMPT_UNTIL_TAG, "2026-01-01")
        ])
        .1,
        None
    );
}

#[test]
fn exemption_tags_count_whatever_their_case_and_an_ambiguity_never_widens_one() {
    let status = |tags: &'static [(&'static str, &'static str)]| {
        let u = U {
            password: Some(true),
            age_hours: 1000,
            tags,
            ..U::default()
        };
        let f = evaluate_user(&facts(&u), &groups(), true, &settings(true, "0"), now());
        (f.status, f.reasons, f.exempt_until)
    };
    // The end date counts in any case: removing it "in another case" is no way around it.
    assert_eq!(
        status(&[
            ("MFA-Enforcer:Exempt", "true"),
            ("MFA-ENFORCER:EXEMPT-UNTIL", "2026-01-01")
        ])
        .1,
        vec![
            Reason::ExemptionExpired,
            Reason::NoMfa,
            Reason::OutsideEnforcementGroup
        ]
    );
    // Two end dates that disagree: void, not the later one.
    assert!(status(&[
        ("mfa-enforcer:exempt", "true"),
        ("mfa-enforcer:exempt-until", "2026-07-01"),
        ("MFA-ENFORCER:EXEMPT-UNTIL", "9999-12-31"),
    ])
    .1
    .contains(&Reason::ExemptionUntilInvalid));
    // Two exemption flags that disagree: not exempt.
    assert_eq!(
        status(&[
            ("mfa-enforcer:exempt", "true"),
            ("MFA-ENFORCER:EXEMPT", "false")
        ])
        .0,
        Status::NonCompliant
    );
}

#[test]
fn facts_for_the_planner() {
    let u = U {
        password: Some(true),
        groups: &[GROUP],
        deny_on_user: true,
        ..U::default()
    };
    let f = evaluate_user(&facts(&u), &groups(), true, &settings(true, "0"), now());
    assert_eq!(
        f.facts,
        FindingFacts {
            is_root: false,
            deny_attached_to_user: true,
            in_enforcement_group: true,
            in_iam: true,
            created: Some(now()),
            recipient: None,
            notified: None,
            released: false,
        }
    );
    assert_eq!(f.groups, [GROUP]);
}

#[test]
fn every_user_gets_exactly_one_finding_in_order() {
    let snapshot = AccountSnapshot {
        users: vec![
            facts(&U {
                root: true,
                ..U::default()
            }),
            facts(&U {
                password: Some(true),
                ..U::default()
            }),
            facts(&U {
                password: Some(false),
                ..U::default()
            }),
        ],
        groups: groups(),
        deny_policy_canonical: true,
        ..AccountSnapshot::default()
    };
    let findings = evaluate(&snapshot, &settings(true, "0"), now());
    let statuses: Vec<Status> = findings.iter().map(|f| f.status).collect();
    assert_eq!(
        statuses,
        [
            Status::NonCompliant,
            Status::NonCompliant,
            Status::NotApplicable
        ]
    );
}

/// Root as AWS runs it now: credentials removed centrally, access keys, phishable MFA.
#[test]
fn root_summaries_name_every_risk() {
    use crate::devices::{AccessKeys, MfaDevice};
    use Reason::*;
    use Status::*;
    let virtual_device = MfaDevice::from_serial("arn:aws:iam::123456789012:mfa/root-phone");
    let security_key =
        MfaDevice::from_serial("arn:aws:iam::123456789012:u2f/root/key-ABCDEFGHIJKLMNOPQRST");
    let keys = AccessKeys {
        active: 1,
        last_used: None,
    };
    let cases = [
        (
            "no credentials",
            false,
            Some(false),
            vec![],
            0,
            NotApplicable,
            vec![RootCredentialsAbsent],
        ),
        (
            "access keys, no password",
            false,
            Some(false),
            vec![],
            1,
            NonCompliant,
            vec![RootAccessKeysPresent],
        ),
        (
            "virtual MFA only",
            true,
            None,
            vec![virtual_device.clone()],
            0,
            NonCompliant,
            vec![RootMfaNotHardware],
        ),
        (
            "security key",
            true,
            None,
            vec![security_key.clone()],
            0,
            Compliant,
            vec![],
        ),
        // A whole-account run lists only virtual devices: a root with MFA and none of them
        // listed has a hardware device or a security key.
        (
            "MFA, no virtual device",
            true,
            None,
            vec![],
            0,
            Compliant,
            vec![],
        ),
        (
            "security key and an app",
            true,
            None,
            vec![security_key, virtual_device],
            0,
            NonCompliant,
            vec![RootMfaNotHardware],
        ),
        (
            "no MFA, keys, password",
            false,
            Some(true),
            vec![],
            2,
            NonCompliant,
            vec![RootNoMfa, RootAccessKeysPresent],
        ),
    ];
    for (name, mfa, password, devices, active, status, reasons) in cases {
        let mut user = facts(&U {
            root: true,
            mfa,
            password,
            ..U::default()
        });
        user.mfa_devices = devices;
        user.access_keys = AccessKeys { active, ..keys };
        let finding = evaluate_user(&user, &HashMap::new(), true, &settings(true, "0"), now());
        assert_eq!(
            (finding.status, finding.reasons),
            (status, reasons),
            "{name}"
        );
    }
}
