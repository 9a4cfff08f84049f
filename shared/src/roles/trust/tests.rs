use super::*;
use RoleClassification::*;

/// The table of trust policies from AWS's documentation and well-known templates; its
/// expectations are held to principalmapper's evaluator by `tests/policy_eval/trust.py`
/// (`tests/tests/policy_evaluation.rs`).
const TABLE: &str = include_str!("../../../../tests/fixtures/trust_policies.json");

#[test]
fn every_trust_policy_of_the_table_is_classified_as_expected() {
    let cases: Vec<serde_json::Value> = serde_json::from_str(TABLE).unwrap();
    assert!(cases.len() >= 20, "the table lost cases");
    let mut seen = std::collections::BTreeSet::new();
    for case in &cases {
        let document = case["document"].to_string();
        let verdict = classify(&document, case["path"].as_str().unwrap());
        let expected: RoleClassification = case["expected"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            verdict.classification, expected,
            "{}: {verdict:?}",
            case["name"]
        );
        seen.insert(expected);
    }
    assert_eq!(seen.len(), 4, "every classification appears in the table");
}

fn verdict(document: &str) -> TrustVerdict {
    classify(document, "/")
}

#[test]
fn reasons_and_principals_say_why() {
    let v = verdict(
        r#"{"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "111122223333"]},
             "Action": "sts:AssumeRole"}]}"#,
    );
    assert_eq!(v.classification, MfaNotRequired);
    assert_eq!(v.reasons, [RoleReason::AllowWithoutMfa]);
    assert_eq!(
        v.principals,
        [
            "ec2.amazonaws.com",
            "arn:aws:iam::111122223333:root",
            "111122223333"
        ]
    );

    let v = verdict(
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}}}"#,
    );
    assert_eq!(v.classification, MfaBypassable);
    assert_eq!(
        v.reasons,
        [
            RoleReason::MfaIfExistsAdmitsAccessKeys,
            RoleReason::AnyPrincipal
        ]
    );

    let v = classify(
        r#"{"Statement": {"Effect": "Allow", "Principal": {"Service": "autoscaling.amazonaws.com"},
            "Action": "sts:AssumeRole"}}"#,
        "/aws-service-role/autoscaling.amazonaws.com/",
    );
    assert_eq!(v.classification, NotApplicable);
    assert_eq!(
        v.reasons,
        [RoleReason::NoAwsPrincipal, RoleReason::ServiceLinkedRole]
    );
}

#[test]
fn a_reserved_path_never_excuses_an_aws_principal() {
    // Judged by path *and* principal: a role under a reserved path that trusts an account
    // without MFA is what its trust says.
    let v = classify(
        r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}}"#,
        "/aws-reserved/sso.amazonaws.com/",
    );
    assert_eq!(v.classification, MfaNotRequired);
}

#[test]
fn a_deny_counts_only_when_it_keeps_out_access_keys_for_every_caller() {
    let allow =
        r#"{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}"#;
    let with = |deny: &str| verdict(&format!(r#"{{"Statement": [{allow}, {deny}]}}"#));
    // Bool false misses long-term keys (no key at all): only sessions are kept out.
    let v = with(
        r#"{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}"#,
    );
    assert_eq!(v.classification, MfaBypassable);
    // Another condition narrows the Deny: it may not apply.
    let v = with(
        r#"{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                      "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}"#,
    );
    assert_eq!(v.classification, MfaNotRequired);
    // A Deny for another principal leaves this one in.
    let v = with(
        r#"{"Effect": "Deny", "Principal": {"AWS": "444455556666"}, "Action": "sts:AssumeRole",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}"#,
    );
    assert_eq!(v.classification, MfaNotRequired);
    // NotPrincipal on a Deny spares someone: not relied on.
    let v = with(
        r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "444455556666"}, "Action": "sts:AssumeRole",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}"#,
    );
    assert_eq!(v.classification, MfaNotRequired);
    // IAM's reading of "False" is in doubt: a Deny is not relied on for it.
    let v = with(
        r#"{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "False"}}}"#,
    );
    assert_eq!(v.classification, MfaNotRequired);
    // A Deny naming the account covers a user of it that an Allow names.
    let v = verdict(
        r#"{"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole",
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}"#,
    );
    assert_eq!(v.classification, MfaRequired);
    // The root ARN and the bare account ID are the same principal.
    let v = with(
        r#"{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "sts:*", "Condition": {"Null": {"aws:MultiFactorAuthAge": "true"}}}"#,
    );
    assert_eq!(v.classification, MfaRequired);
    assert_eq!(v.reasons, [RoleReason::DeniedWithoutMfa]);
}

#[test]
fn conditions_that_do_not_require_mfa_are_not_taken_for_it() {
    for (condition, expected) in [
        // A list is any-of: "false" lets sessions without MFA in.
        (
            r#"{"Bool": {"aws:MultiFactorAuthPresent": ["true", "false"]}}"#,
            MfaNotRequired,
        ),
        (
            r#"{"ForAllValues:Bool": {"aws:MultiFactorAuthPresent": "true"}}"#,
            MfaBypassable,
        ),
        (
            r#"{"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}"#,
            MfaNotRequired,
        ),
        (
            r#"{"NumericLessThan": {"AWS:MULTIFACTORAUTHAGE": 3600}}"#,
            MfaRequired,
        ),
        (
            r#"{"Null": {"aws:MultiFactorAuthAge": "false"}}"#,
            MfaRequired,
        ),
        (
            r#"{"Null": {"aws:MultiFactorAuthAge": "true"}}"#,
            MfaNotRequired,
        ),
        (
            r#"{"StringEquals": {"aws:MultiFactorAuthPresent": "true"}}"#,
            MfaRequired,
        ),
        // A negated operator holds when the key is absent: access keys get in.
        (
            r#"{"StringNotEquals": {"aws:MultiFactorAuthPresent": "false"}}"#,
            MfaBypassable,
        ),
        (
            r#"{"StringNotLike": {"aws:MultiFactorAuthPresent": "f*"}}"#,
            MfaBypassable,
        ),
        (
            r#"{"NumericNotEquals": {"aws:MultiFactorAuthAge": "0"}}"#,
            MfaNotRequired,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals": {"aws:MultiFactorAuthPresent": "false"}}"#,
            MfaRequired,
        ),
        (
            r#"{"StringEquals": {"sts:ExternalId": "x"}}"#,
            MfaNotRequired,
        ),
        (
            r#"{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}"#,
            MfaNotRequired,
        ),
    ] {
        let v = verdict(&format!(
            r#"{{"Statement": {{"Effect": "Allow", "Principal": {{"AWS": "111122223333"}},
                "Action": "sts:AssumeRole", "Condition": {condition}}}}}"#
        ));
        assert_eq!(v.classification, expected, "{condition}");
    }
}

#[test]
fn only_assume_role_counts_and_an_unreadable_trust_is_never_safe() {
    let v = verdict(
        r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"},
            "Action": ["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]}}"#,
    );
    assert_eq!(v.classification, NotApplicable);
    let v = verdict(
        r#"{"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": 3}}"#,
    );
    assert_eq!(v.classification, MfaNotRequired);
    assert_eq!(v.reasons, [RoleReason::TrustPolicyUnreadable]);
}
