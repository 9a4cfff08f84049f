//! The stack's MFA-protected admin role (off by default), held to a real IAM policy evaluator
//! as deployed: only a listed admin in the admin group, signed in with MFA within the age
//! limit, may assume it; access keys alone, a session without MFA, stale MFA, a group member
//! not listed, PowerUserAccess or any `sts:AssumeRole` on `*`, and the enforcement group
//! (every compliant user is in it) may not. And `mfa-enforcer cli-profile` against moto: the
//! profile it prints is read by botocore's own config-file parser with `role_arn`,
//! `source_profile` and the user's real `mfa_serial`; it refuses, saying why, a user with
//! only a security key, with no device, or who does not exist.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::roles::{trust, RoleClassification};
use mfa_enforcer_tests::cfn::Deployment;
use mfa_enforcer_tests::template::{load, resource};
use mfa_enforcer_tests::{binary, policy_tool, venv, Account, Device, Moto, UserSpec};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Command;

const ACCOUNT: &str = "123456789012";
const ADMIN_ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer-admin";

fn deployment() -> Deployment {
    Deployment {
        refs: BTreeMap::from([
            ("AWS::AccountId".into(), json!(ACCOUNT)),
            ("AWS::Partition".into(), json!("aws")),
            // CloudFormation gives every parameter, a Number too, as a string.
            ("AdminMfaMaxAgeSeconds".into(), json!("3600")),
            ("AdminGroupName".into(), json!("MFAAdmins")),
            ("AdminPolicyArn".into(), json!("")),
            (
                "AdminPrincipalArns".into(),
                json!([format!("arn:aws:iam::{ACCOUNT}:user/ann")]),
            ),
            ("NamePrefix".into(), json!("mfa-enforcer")),
        ]),
        attributes: BTreeMap::from([("AdminRole.Arn".into(), ADMIN_ROLE.into())]),
        conditions: BTreeMap::from([
            ("CreatesAdminRole".into(), true),
            ("HasAdminPolicyArn".into(), false),
            ("HasNamePrefix".into(), true),
        ]),
    }
}

#[test]
fn only_the_listed_admins_with_recent_mfa_may_assume_the_admin_role() {
    let t = load();
    assert_eq!(
        t["Parameters"]["CreateAdminRole"]["Default"], "false",
        "off by default"
    );
    for name in ["AdminRole", "AdminGroup"] {
        assert_eq!(
            resource(&t, name)["Condition"],
            "CreatesAdminRole",
            "{name}"
        );
    }
    let d = deployment();
    let role = d.resolve(&resource(&t, "AdminRole")["Properties"]).unwrap();
    let trust_policy = &role["AssumeRolePolicyDocument"];
    assert_eq!(
        role["ManagedPolicyArns"],
        json!(["arn:aws:iam::aws:policy/AdministratorAccess"])
    );
    // The project's own classifier agrees.
    assert_eq!(
        trust::classify(&trust_policy.to_string(), "/").classification,
        RoleClassification::MfaRequired
    );
    let group = d
        .resolve(&resource(&t, "AdminGroup")["Properties"])
        .unwrap();
    assert_eq!(group["GroupName"], "MFAAdmins");
    let group_policy = group["Policies"][0]["PolicyDocument"].clone();
    // The CloudFormation rule keeps the admin group apart from the enforcement group.
    let rule = t["Rules"]["AdminRoleHasItsOwnGroup"].to_string();
    assert!(
        rule.contains("AdminGroupName") && rule.contains("EnforcementGroupName"),
        "{rule}"
    );

    let user = |name: &str, policies: Value, groups: Value| json!({"arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"), "policies": policies, "groups": groups});
    let admin = user("ann", json!([]), json!([[group_policy]]));
    let unlisted = user("bob", json!([]), json!([[group_policy]]));
    let enforced = user("eve", json!([]), json!([[deny_policy_document()]]));
    // PowerUserAccess allows sts:AssumeRole on every role: with an account-wide trust, it
    // would be an administrator's session.
    let power_user = user(
        "pat",
        json!([{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}]}]),
        json!([]),
    );
    let assume_anything = user(
        "sam",
        json!([{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": "sts:AssumeRole", "Resource": "*"}]}]),
        json!([]),
    );
    let mfa =
        |age: &str| json!({"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": age});
    let cases = [
        (
            "listed admin in the group, MFA a minute ago",
            &admin,
            mfa("60"),
            true,
        ),
        (
            "listed admin, access keys (no MFA key at all)",
            &admin,
            json!({}),
            false,
        ),
        (
            "listed admin, session without MFA",
            &admin,
            json!({"aws:MultiFactorAuthPresent": "false"}),
            false,
        ),
        (
            "listed admin, MFA two hours ago",
            &admin,
            mfa("7200"),
            false,
        ),
        (
            "in the admin group but not listed, with MFA",
            &unlisted,
            mfa("60"),
            false,
        ),
        ("PowerUserAccess, with MFA", &power_user, mfa("60"), false),
        (
            "sts:AssumeRole on *, with MFA",
            &assume_anything,
            mfa("60"),
            false,
        ),
        ("enforcement group, with MFA", &enforced, mfa("60"), false),
        (
            "enforcement group, without MFA",
            &enforced,
            json!({}),
            false,
        ),
    ];
    let requests: Vec<Value> = cases
        .iter()
        .map(|(_, principal, context, _)| {
            json!({"principal": principal, "action": "sts:AssumeRole", "resource": ADMIN_ROLE,
                   "context": context, "resource_policy": trust_policy, "resource_owner": ACCOUNT})
        })
        .collect();
    let answers = policy_tool("evaluate.py", &json!({ "cases": requests }));
    let wrong: Vec<String> = cases
        .iter()
        .zip(answers["allowed"].as_array().unwrap())
        .filter(|((_, _, _, allowed), answer)| answer.as_bool() != Some(*allowed))
        .map(|((name, _, _, allowed), answer)| format!("{name}: expected {allowed}, got {answer}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn both_functions_know_the_admin_role_and_group_only_when_the_stack_has_them() {
    let t = load();
    for function in ["ScheduledAuditFunction", "IamEventsFunction"] {
        let env = &resource(&t, function)["Properties"]["Environment"]["Variables"];
        assert_eq!(
            env["ADMIN_ROLE_ARN"]["Fn::If"][0], "CreatesAdminRole",
            "{function}"
        );
        assert_eq!(env["ADMIN_ROLE_ARN"]["Fn::If"][2], "", "{function}");
        assert_eq!(
            env["ADMIN_GROUP"]["Fn::If"][0], "CreatesAdminRole",
            "{function}"
        );
    }
    assert_eq!(
        t["Outputs"]["AdminRoleArn"]["Condition"],
        "CreatesAdminRole"
    );
}

fn cli_profile(moto: &Moto, args: &[&str]) -> std::process::Output {
    Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
        .arg("cli-profile")
        .args(args)
        .env_clear()
        .envs(moto.env())
        .output()
        .unwrap()
}

/// Parses an `~/.aws/config` file with botocore's own parser: `{profile: {key: value}}`.
fn parse_aws_config(text: &str) -> Value {
    let path = std::env::temp_dir().join(format!("mfa-enforcer-aws-config-{}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let out = Command::new(venv().join("bin/python"))
        .args([
            "-c",
            "import json, sys, botocore.configloader as c; \
             print(json.dumps(c.load_config(sys.argv[1])['profiles']))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_profile_prints_a_profile_the_aws_cli_reads_or_says_why_not() {
    let moto = Moto::start();
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    for (name, device) in [
        ("ann", Some(Device::Virtual("ann-phone".into()))),
        ("kim", Some(Device::SecurityKey)),
        ("bob", None),
    ] {
        account.user(name, UserSpec::console()).await;
        if let Some(device) = device {
            account.enable_device(name, &device).await;
        }
    }

    let out = cli_profile(&moto, &["--user", "ann", "--role-arn", ADMIN_ROLE]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let profiles = parse_aws_config(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(
        profiles["mfa-enforcer-admin"],
        json!({
            "role_arn": ADMIN_ROLE,
            "source_profile": "default",
            "mfa_serial": format!("arn:aws:iam::{ACCOUNT}:mfa/ann-phone"),
        })
    );

    for (args, says) in [
        (
            vec!["--user", "kim", "--role-arn", ADMIN_ROLE],
            "works only in the console",
        ),
        (
            vec!["--user", "bob", "--role-arn", ADMIN_ROLE],
            "has no MFA device",
        ),
        (
            vec!["--user", "ghost", "--role-arn", ADMIN_ROLE],
            "no IAM user named \"ghost\"",
        ),
        (
            vec!["--user", "ann"],
            "--role-arn (ADMIN_ROLE_ARN) is required",
        ),
        (
            vec![
                "--user",
                "ann",
                "--role-arn",
                "arn:aws:iam::123456789012:user/x",
            ],
            "expected an IAM role ARN",
        ),
    ] {
        let out = cli_profile(&moto, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing half-printed");
    }
}
