use super::*;

const POLICY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";

fn raw(pairs: &[(&str, &str)]) -> RawSettings {
    let mut all: Vec<(&str, &str)> = vec![("DENY_POLICY_ARN", POLICY)];
    all.extend_from_slice(pairs);
    RawSettings::from_lookup(|name| {
        all.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_string())
    })
}

#[test]
fn defaults_are_the_documented_ones() {
    let s = Settings::parse(&raw(&[])).unwrap();
    assert_eq!(s.deny_policy_arn, POLICY);
    assert_eq!(s.enforcement_group, None);
    assert_eq!(s.topic_arn, None);
    assert_eq!(s.exempt_tag_key, "mfa-enforcer:exempt");
    assert_eq!(s.grace_period, Duration::zero());
    assert_eq!(s.max_enforcements_per_run, 20);
    assert_eq!(s.remediation, Remediation::AttachPolicy);
    assert!(s.dry_run, "a fresh deployment must not write until told to");
    assert_eq!(s.report_max_age, Duration::minutes(240));
    assert_eq!(s.confirm_after, Duration::minutes(15));
    assert_eq!(s.max_concurrency, 16);
}

#[test]
fn every_value_is_read() {
    let s = Settings::parse(&raw(&[
        ("ENFORCEMENT_GROUP", "MFAEnforced"),
        ("TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:alerts"),
        ("EXEMPT_TAG_KEY", "break-glass"),
        ("GRACE_PERIOD_HOURS", "48"),
        ("MAX_ENFORCEMENTS_PER_RUN", "500"),
        ("REMEDIATION", "Both"),
        ("DRY_RUN", "false"),
        ("REPORT_MAX_AGE_MINUTES", "60"),
        ("CONFIRM_AFTER_MINUTES", "5"),
        ("MAX_CONCURRENCY", "4"),
    ]))
    .unwrap();
    assert_eq!(s.enforcement_group.as_deref(), Some("MFAEnforced"));
    assert_eq!(
        s.topic_arn.as_deref(),
        Some("arn:aws:sns:eu-west-1:123456789012:alerts")
    );
    assert_eq!(s.exempt_tag_key, "break-glass");
    assert_eq!(s.grace_period, Duration::hours(48));
    assert_eq!(s.max_enforcements_per_run, 500);
    assert_eq!(s.remediation, Remediation::Both);
    assert!(!s.dry_run);
    assert_eq!(s.report_max_age, Duration::minutes(60));
    assert_eq!(s.confirm_after, Duration::minutes(5));
    assert_eq!(s.max_concurrency, 4);
}

#[test]
fn other_partitions_are_accepted_and_aws_managed_policies_refused_in_any() {
    for arn in [
        "arn:aws-us-gov:iam::123456789012:policy/path/Deny",
        "arn:aws-cn:iam::123456789012:policy/Deny",
    ] {
        assert!(
            Settings::parse(&raw(&[("DENY_POLICY_ARN", arn)])).is_ok(),
            "{arn}"
        );
    }
    for arn in [
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        "arn:aws-cn:iam::aws:policy/AdministratorAccess",
        "arn:aws-us-gov:iam::aws:policy/IAMFullAccess",
    ] {
        let err = Settings::parse(&raw(&[("DENY_POLICY_ARN", arn)])).unwrap_err();
        assert_eq!(err.variable, "DENY_POLICY_ARN");
        assert!(err.problem.contains("is an AWS-managed policy"), "{err}");
        assert!(err.problem.contains(arn), "{err}");
    }
}

#[test]
fn recipients_may_be_limited_to_listed_domains() {
    let any = Settings::parse(&raw(&[])).unwrap();
    assert!(any.recipient_allowed("carol@anything.example"));
    let listed = Settings::parse(&raw(&[(
        "RECIPIENT_DOMAINS",
        " Example.com, corp.example.org ",
    )]))
    .unwrap();
    assert_eq!(
        listed.recipient_domains,
        ["example.com", "corp.example.org"]
    );
    assert!(listed.recipient_allowed("carol@EXAMPLE.com"));
    assert!(listed.recipient_allowed("dan@corp.example.org"));
    assert!(!listed.recipient_allowed("mallory@evil.example"));
    assert!(!listed.recipient_allowed("mallory@example.com.evil.example"));
    let err = Settings::parse(&raw(&[("RECIPIENT_DOMAINS", "example.com,@evil")])).unwrap_err();
    assert_eq!(err.variable, "RECIPIENT_DOMAINS");
}

#[test]
fn the_deny_policy_must_belong_to_the_audited_account() {
    let s = Settings::parse(&raw(&[])).unwrap();
    assert_eq!(s.deny_policy_account(), "123456789012");
    assert!(s.check_deny_policy_account("123456789012").is_ok());
    assert!(
        s.check_deny_policy_account("").is_ok(),
        "unknown: nothing to write to"
    );
    let err = s.check_deny_policy_account("210987654321").unwrap_err();
    assert_eq!(err.variable, "DENY_POLICY_ARN");
    assert!(
        err.problem
            .contains("belongs to account 123456789012, but the account audited is 210987654321"),
        "{err}"
    );
}

#[test]
fn invalid_values_name_their_variable() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "DENY_POLICY_ARN",
            "DenyWithoutMFA",
            "expected an IAM managed policy ARN",
        ),
        (
            "DENY_POLICY_ARN",
            "arn:aws:iam::123:policy/x",
            "expected an IAM managed policy ARN",
        ),
        (
            "DENY_POLICY_ARN",
            "arn:aws:iam::123456789012:role/x",
            "expected an IAM managed policy ARN",
        ),
        (
            "ENFORCEMENT_GROUP",
            "has space",
            "expected an IAM group name",
        ),
        ("TOPIC_ARN", "mfa-topic", "expected an SNS topic ARN"),
        ("EXEMPT_TAG_KEY", "aws:exempt", "not starting with aws:"),
        (
            "GRACE_PERIOD_HOURS",
            "two",
            "expected a whole number, got \"two\"",
        ),
        ("GRACE_PERIOD_HOURS", "-1", "-1 is out of range"),
        ("MAX_ENFORCEMENTS_PER_RUN", "1.5", "expected a whole number"),
        (
            "REMEDIATION",
            "quarantine",
            "expected attach-policy, add-to-group or both",
        ),
        ("DRY_RUN", "maybe", "expected true or false"),
        ("REPORT_MAX_AGE_MINUTES", "99999999", "out of range"),
        ("CONFIRM_AFTER_MINUTES", "soon", "expected a whole number"),
        ("MAX_CONCURRENCY", "0", "0 is out of range"),
    ];
    for (variable, value, message) in cases {
        let err = Settings::parse(&raw(&[(variable, value)])).unwrap_err();
        assert_eq!(err.variable, *variable, "{variable}={value}");
        assert!(
            err.to_string().contains(message)
                && err
                    .to_string()
                    .starts_with(&format!("{variable} is invalid: ")),
            "{variable}={value}: {err}"
        );
    }
}

#[test]
fn missing_policy_and_group_remediation_without_group_are_rejected() {
    let err = Settings::parse(&RawSettings::default()).unwrap_err();
    assert_eq!(err.variable, "DENY_POLICY_ARN");
    assert!(err.to_string().contains("is required"));

    for remediation in ["add-to-group", "both"] {
        let err = Settings::parse(&raw(&[("REMEDIATION", remediation)])).unwrap_err();
        assert_eq!(err.variable, "REMEDIATION");
        assert!(err.to_string().contains("needs ENFORCEMENT_GROUP"), "{err}");
    }
}

#[test]
fn blank_values_count_as_unset() {
    let s = Settings::parse(&raw(&[("ENFORCEMENT_GROUP", "  "), ("DRY_RUN", "")])).unwrap();
    assert_eq!(s.enforcement_group, None);
    assert!(s.dry_run);
}

#[test]
fn phishing_resistant_for_is_nobody_privileged_or_groups() {
    let scope = |v: &str| Settings::parse(&raw(&[("PHISHING_RESISTANT_FOR", v)]));
    assert_eq!(
        Settings::parse(&raw(&[])).unwrap().phishing_resistant_for,
        PhishingResistantFor::Nobody
    );
    assert_eq!(
        scope("NONE").unwrap().phishing_resistant_for,
        PhishingResistantFor::Nobody
    );
    assert_eq!(
        scope(" privileged ").unwrap().phishing_resistant_for,
        PhishingResistantFor::Privileged
    );
    assert_eq!(
        scope("Admins, break-glass,")
            .unwrap()
            .phishing_resistant_for,
        PhishingResistantFor::Groups(vec!["Admins".into(), "break-glass".into()])
    );
    assert_eq!(scope(" , ").unwrap_err().variable, "PHISHING_RESISTANT_FOR");
    let err = scope("Admins,not a group").unwrap_err();
    assert_eq!(err.variable, "PHISHING_RESISTANT_FOR");
    assert!(
        err.problem
            .contains("expected none, privileged, or IAM group names")
            && err.problem.contains("\"not a group\""),
        "{}",
        err.problem
    );
}

#[test]
fn the_admin_group_needs_the_role_and_is_never_the_enforcement_group() {
    const ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer-admin";
    let s = Settings::parse(&raw(&[
        ("ADMIN_ROLE_ARN", ROLE),
        ("ADMIN_GROUP", "MFAAdmins"),
    ]))
    .unwrap();
    assert_eq!(
        (s.admin_role_arn.as_deref(), s.admin_group.as_deref()),
        (Some(ROLE), Some("MFAAdmins"))
    );
    let err = Settings::parse(&raw(&[("ADMIN_GROUP", "MFAAdmins")])).unwrap_err();
    assert_eq!(err.variable, "ADMIN_GROUP");
    let err = Settings::parse(&raw(&[("ADMIN_ROLE_ARN", ROLE)])).unwrap_err();
    assert_eq!(err.variable, "ADMIN_ROLE_ARN");
    assert!(err.problem.contains("needs ADMIN_GROUP"), "{}", err.problem);
    let err = Settings::parse(&raw(&[
        ("ADMIN_ROLE_ARN", ROLE),
        ("ADMIN_GROUP", "mfaenforced"),
        ("ENFORCEMENT_GROUP", "MFAEnforced"),
    ]))
    .unwrap_err();
    assert!(
        err.problem.contains("is the enforcement group"),
        "{}",
        err.problem
    );
    let err = Settings::parse(&raw(&[
        ("ADMIN_ROLE_ARN", "arn:aws:iam::aws:role/x"),
        ("ADMIN_GROUP", "MFAAdmins"),
    ]))
    .unwrap_err();
    assert_eq!(err.variable, "ADMIN_ROLE_ARN");
}
