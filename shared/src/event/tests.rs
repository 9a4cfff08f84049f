use super::*;
use serde_json::json;

const DENY: &str = "arn:aws:iam::123456789012:policy/mfa-enforcer-deny";
const ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer";

fn context() -> Context {
    Context {
        account_id: Some("123456789012".into()),
        own_role_arns: vec![ROLE.into()],
        deny_policy_arn: DENY.into(),
        exempt_tag_key: "mfa-enforcer:exempt".into(),
        enforcement_group: Some("MFAEnforced".into()),
    }
}

fn envelope(name: &str, request: Value) -> Value {
    json!({
        "version": "0", "id": "6f2c1c9e-0000-4000-8000-000000000001",
        "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam",
        "account": "123456789012", "time": "2026-06-15T12:00:00Z", "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser", "principalId": "AIDAEXAMPLE", "userName": "admin",
                "arn": "arn:aws:iam::123456789012:user/admin", "accountId": "123456789012"
            },
            "eventTime": "2026-06-15T11:59:58Z", "eventSource": "iam.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1",
            "requestParameters": request,
            "eventID": "e1", "recipientAccountId": "123456789012"
        }
    })
}

fn target_of(payload: &Value) -> Target {
    target(&parse(payload).unwrap(), &context()).unwrap()
}

fn users(names: &[&str]) -> Target {
    Target::Users {
        users: names.iter().map(|n| n.to_string()).collect(),
        exemption: None,
        released: false,
    }
}

fn released(name: &str) -> Target {
    Target::Users {
        users: vec![name.to_string()],
        exemption: None,
        released: true,
    }
}

fn exemption(set: &[(&str, &str)], removed: &[&str]) -> Target {
    Target::Users {
        users: vec!["bob".into()],
        exemption: Some(ExemptionChange {
            set: set
                .iter()
                .map(|(k, v)| TagValue {
                    key: k.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            removed: removed.iter().map(|k| k.to_string()).collect(),
        }),
        released: false,
    }
}

#[test]
fn each_handled_event_names_its_subject() {
    let cases = [
        ("CreateUser", json!({"userName": "bob"}), users(&["bob"])),
        (
            "CreateLoginProfile",
            json!({"userName": "bob", "passwordResetRequired": true}),
            users(&["bob"]),
        ),
        (
            "UpdateLoginProfile",
            json!({"userName": "bob"}),
            users(&["bob"]),
        ),
        (
            "DeactivateMFADevice",
            json!({"userName": "bob", "serialNumber": "arn:aws:iam::123456789012:mfa/bob"}),
            users(&["bob"]),
        ),
        (
            "DeactivateMFADevice",
            json!({"serialNumber": "arn:aws:iam::123456789012:mfa/x"}),
            users(&["admin"]),
        ),
        (
            "EnableMFADevice",
            json!({"userName": "bob", "serialNumber": "s"}),
            users(&["bob"]),
        ),
        (
            "DeleteVirtualMFADevice",
            json!({"serialNumber": "arn:aws:iam::123456789012:mfa/team/bob"}),
            users(&["bob"]),
        ),
        (
            "AddUserToGroup",
            json!({"userName": "bob", "groupName": "MFAEnforced"}),
            users(&["bob"]),
        ),
        (
            "RemoveUserFromGroup",
            json!({"userName": "bob", "groupName": "MFAEnforced"}),
            released("bob"),
        ),
        (
            "RemoveUserFromGroup",
            json!({"userName": "bob", "groupName": "Developers"}),
            users(&["bob"]),
        ),
        (
            "DetachUserPolicy",
            json!({"userName": "bob", "policyArn": DENY}),
            released("bob"),
        ),
        (
            "DetachUserPolicy",
            json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
            Target::Ignore(IgnoreReason::OtherPolicy),
        ),
        (
            "TagUser",
            json!({"userName": "bob", "tags": [{"key": "team", "value": "x"}]}),
            users(&["bob"]),
        ),
        (
            "TagUser",
            json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:exempt", "value": "TRUE"}]}),
            exemption(&[("mfa-enforcer:exempt", "TRUE")], &[]),
        ),
        // Every change to an exemption tag is news, even one that ends an exemption.
        (
            "TagUser",
            json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:exempt", "value": "false"}]}),
            exemption(&[("mfa-enforcer:exempt", "false")], &[]),
        ),
        (
            "TagUser",
            json!({"userName": "bob", "tags": [{"key": "team", "value": "x"}, {"Key": "mfa-enforcer:exempt-until", "Value": "9999-12-31"}]}),
            exemption(&[("mfa-enforcer:exempt-until", "9999-12-31")], &[]),
        ),
        (
            "UntagUser",
            json!({"userName": "bob", "tagKeys": ["mfa-enforcer:exempt-until", "team"]}),
            exemption(&[], &["mfa-enforcer:exempt-until"]),
        ),
        (
            "UntagUser",
            json!({"userName": "bob", "tagKeys": ["team"]}),
            users(&["bob"]),
        ),
        // IAM keeps one tag per key whatever its case: another case is the same key.
        (
            "UntagUser",
            json!({"userName": "bob", "tagKeys": ["MFA-ENFORCER:EXEMPT-UNTIL"]}),
            exemption(&[], &["MFA-ENFORCER:EXEMPT-UNTIL"]),
        ),
        (
            "DetachUserPolicy",
            json!({"userName": "bob", "policyArn": DENY.to_uppercase().replace("ARN:AWS:IAM", "arn:aws:iam")}),
            released("bob"),
        ),
        (
            "CreateUser",
            json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:exempt", "value": "true"}]}),
            exemption(&[("mfa-enforcer:exempt", "true")], &[]),
        ),
        (
            "DetachGroupPolicy",
            json!({"groupName": "Admins", "policyArn": DENY}),
            Target::GroupMembers {
                group: "Admins".into(),
                deleted: false,
                released: true,
            },
        ),
        (
            "DetachGroupPolicy",
            json!({"groupName": "Admins", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
            Target::Ignore(IgnoreReason::OtherPolicy),
        ),
        (
            "DeleteGroup",
            json!({"groupName": "MFAEnforced"}),
            Target::GroupMembers {
                group: "MFAEnforced".into(),
                deleted: true,
                released: false,
            },
        ),
        (
            "CreatePolicyVersion",
            json!({"policyArn": DENY, "policyDocument": "{}", "setAsDefault": true}),
            Target::DenyPolicy,
        ),
        (
            "SetDefaultPolicyVersion",
            json!({"policyArn": DENY, "versionId": "v1"}),
            Target::DenyPolicy,
        ),
        (
            "DeletePolicyVersion",
            json!({"policyArn": DENY, "versionId": "v2"}),
            Target::DenyPolicy,
        ),
        (
            "CreatePolicyVersion",
            json!({"policyArn": "arn:aws:iam::123456789012:policy/other"}),
            Target::Ignore(IgnoreReason::OtherPolicy),
        ),
        (
            "ListUsers",
            Value::Null,
            Target::Ignore(IgnoreReason::UnhandledEvent),
        ),
        (
            "AttachUserPolicy",
            json!({"userName": "bob", "policyArn": DENY}),
            Target::Ignore(IgnoreReason::UnhandledEvent),
        ),
    ];
    for (name, request, expected) in cases {
        assert_eq!(
            target_of(&envelope(name, request.clone())),
            expected,
            "{name} {request}"
        );
    }
}

#[test]
fn every_handled_event_name_is_classified() {
    for name in HandledEvent::names() {
        let request = json!({"userName": "bob", "groupName": "G", "policyArn": DENY, "serialNumber": "arn:aws:iam::123456789012:mfa/bob"});
        assert_ne!(
            target_of(&envelope(name, request)),
            Target::Ignore(IgnoreReason::UnhandledEvent),
            "{name}"
        );
    }
}

#[test]
fn failed_calls_other_accounts_and_own_calls_are_ignored() {
    let mut failed = envelope("CreateLoginProfile", json!({"userName": "bob"}));
    failed["detail"]["errorCode"] = json!("NoSuchEntityException");
    assert_eq!(target_of(&failed), Target::Ignore(IgnoreReason::CallFailed));

    let mut other = envelope("CreateLoginProfile", json!({"userName": "bob"}));
    other["detail"]["recipientAccountId"] = json!("210987654321");
    assert_eq!(
        target_of(&other),
        Target::Ignore(IgnoreReason::OtherAccount)
    );

    let mut own = envelope(
        "AddUserToGroup",
        json!({"userName": "bob", "groupName": "G"}),
    );
    own["detail"]["userIdentity"] = json!({
        "type": "AssumedRole",
        "arn": "arn:aws:sts::123456789012:assumed-role/mfa-enforcer/scheduled-audit",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE, "userName": "mfa-enforcer"}}
    });
    assert_eq!(target_of(&own), Target::Ignore(IgnoreReason::OwnCall));

    // Another role in the same account is not us.
    own["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] =
        json!("arn:aws:iam::123456789012:role/Admin");
    assert_eq!(target_of(&own), users(&["bob"]));

    // Whoever calls, what concerns enforcement itself is always re-checked: policy events
    // and detaching the deny policy (the enforcer's own restore is idempotent, so its
    // events cannot loop), and exemption tags (the enforcer's role may only write
    // mfa-enforcer:notified-* tags; if it ever wrote another, someone must hear).
    let ours = |name: &str, request: Value| {
        let mut e = envelope(name, request);
        e["detail"]["userIdentity"] = json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/mfa-enforcer/iam-events",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}}
        });
        target_of(&e)
    };
    for name in [
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
        "DeletePolicyVersion",
    ] {
        assert_eq!(
            ours(name, json!({"policyArn": DENY, "versionId": "v1"})),
            Target::DenyPolicy,
            "{name}"
        );
    }
    assert_eq!(
        ours(
            "DetachUserPolicy",
            json!({"userName": "bob", "policyArn": DENY})
        ),
        released("bob")
    );
    assert_eq!(
        ours(
            "DetachGroupPolicy",
            json!({"groupName": "G", "policyArn": DENY})
        ),
        Target::GroupMembers {
            group: "G".into(),
            deleted: false,
            released: true,
        }
    );
    assert_eq!(
        ours(
            "TagUser",
            json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:exempt", "value": "true"}]})
        ),
        exemption(&[("mfa-enforcer:exempt", "true")], &[])
    );
    // Its notice memory is its own business.
    assert_eq!(
        ours(
            "TagUser",
            json!({"userName": "bob", "tags": [{"key": "mfa-enforcer:notified-status", "value": "enforced"}]})
        ),
        Target::Ignore(IgnoreReason::OwnCall)
    );
    // An own call missing what it names is still only ours, not an error.
    assert_eq!(
        ours("AddUserToGroup", json!({})),
        Target::Ignore(IgnoreReason::OwnCall)
    );

    // Without a known account or role, nothing is filtered on them.
    let open = Context {
        account_id: None,
        own_role_arns: vec![],
        ..context()
    };
    assert_eq!(
        target(&parse(&other).unwrap(), &open).unwrap(),
        users(&["bob"])
    );
}

#[test]
fn callers_are_read_for_users_roles_and_root() {
    let user = parse(&envelope("CreateUser", json!({"userName": "bob"}))).unwrap();
    assert_eq!(user.caller.kind, "IAMUser");
    assert_eq!(user.caller.user_name.as_deref(), Some("admin"));
    assert_eq!(user.caller.role_arn, None);

    let mut root = envelope("CreateUser", json!({"userName": "bob"}));
    root["detail"]["userIdentity"] = json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012"});
    let root = parse(&root).unwrap();
    assert_eq!(root.caller.kind, "Root");
    assert_eq!(root.caller.user_name, None);
    // Root on its own MFA: no IAM user to read, whether userName is absent or the literal
    // "AWS ROOT USER" of AWS's documented sample.
    let as_root = |name: &str, request: Value| {
        let mut e = envelope(name, request);
        e["detail"]["userIdentity"] =
            json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root"});
        target(&parse(&e).unwrap(), &context()).unwrap()
    };
    for request in [
        json!({"serialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device"}),
        json!({"userName": "AWS ROOT USER", "serialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device"}),
    ] {
        for name in ["EnableMFADevice", "DeactivateMFADevice"] {
            assert_eq!(
                as_root(name, request.clone()),
                Target::Root,
                "{name} {request}"
            );
        }
    }
    assert_eq!(
        as_root(
            "DeleteVirtualMFADevice",
            json!({"serialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device"})
        ),
        Target::Root
    );
    // Root acting on an IAM user is a user event.
    assert_eq!(
        as_root(
            "EnableMFADevice",
            json!({"userName": "bob", "serialNumber": "s"})
        ),
        users(&["bob"])
    );
    // An IAM user without userName acts on themselves.
    assert_eq!(
        target_of(&envelope("EnableMFADevice", json!({"serialNumber": "s"}))),
        users(&["admin"])
    );
}

#[test]
fn the_account_comes_from_the_envelope_when_the_record_has_none() {
    let mut e = envelope("CreateLoginProfile", json!({"userName": "bob"}));
    e["detail"]
        .as_object_mut()
        .unwrap()
        .remove("recipientAccountId");
    assert_eq!(parse(&e).unwrap().account_id, "123456789012");
    e.as_object_mut().unwrap().remove("account");
    let err = parse(&e).unwrap_err();
    assert!(err.to_string().contains("recipientAccountId"), "{err}");
}

#[test]
fn payloads_that_are_not_cloudtrail_iam_events_are_rejected_clearly() {
    let cases = [
        (
            json!({"dry_run": true}),
            "got detail-type (none) and source (none)",
        ),
        (
            json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
            "got detail-type \"Scheduled Event\" and source \"aws.events\"",
        ),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "detail": {}}),
            "source \"aws.s3\"",
        ),
    ];
    for (payload, message) in cases {
        let err = parse(&payload).unwrap_err();
        assert!(matches!(err, EventError::NotCloudTrailIam(_)), "{err}");
        assert!(err.to_string().contains(message), "{err}");
    }
    let mut no_name = envelope("CreateUser", json!({}));
    no_name["detail"]
        .as_object_mut()
        .unwrap()
        .remove("eventName");
    assert!(parse(&no_name)
        .unwrap_err()
        .to_string()
        .contains("detail.eventName is missing"));

    let no_user = envelope("CreateLoginProfile", json!({}));
    let err = target(&parse(&no_user).unwrap(), &context()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed CloudTrail IAM event CreateLoginProfile: requestParameters.userName is missing"
    );
}
