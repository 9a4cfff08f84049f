//! Every invalid setting is rejected at start, by every binary, with a message that names it:
//! the Lambdas fail before they ask for an event (so the deployment fails loudly, not the
//! first run), and the CLI exits 1 naming the flag and the variable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfa_enforcer::settings::VARIABLES;
use mfa_enforcer_tests::runtime_api::RuntimeApi;
use mfa_enforcer_tests::{binary, fixture};
use std::process::Command;

const DENY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";

/// A value each variable must refuse, and what the message must say of it.
fn bad_value(variable: &str) -> (String, &'static str) {
    let (value, says) = match variable {
        "DENY_POLICY_ARN" => ("DenyWithoutMFA", "expected an IAM managed policy ARN"),
        "ENFORCEMENT_GROUP" => ("MFA Enforced", "expected an IAM group name"),
        "TOPIC_ARN" => ("mfa-enforcer", "expected an SNS topic ARN"),
        "EXEMPT_TAG_KEY" => ("aws:exempt", "not starting with aws:"),
        "GRACE_PERIOD_HOURS" => ("a day", "expected a whole number"),
        "MAX_ENFORCEMENTS_PER_RUN" => ("-5", "out of range"),
        "REMEDIATION" => ("quarantine", "expected attach-policy, add-to-group or both"),
        "DRY_RUN" => ("perhaps", "expected true or false"),
        "REPORT_MAX_AGE_MINUTES" => ("99999999", "out of range"),
        "CONFIRM_AFTER_MINUTES" => ("1.5", "expected a whole number"),
        "MAX_CONCURRENCY" => ("0", "out of range"),
        "RECIPIENT_TAG_KEY" => ("aws:email", "not starting with aws:"),
        "RECIPIENT_DOMAINS" => ("example.com, not a domain", "expected mail domains"),
        "REMIND_AFTER_HOURS" => ("0", "out of range"),
        "PHISHING_RESISTANT_FOR" => ("admins,not a group", "expected none, privileged"),
        "ADMIN_ROLE_ARN" => (
            "arn:aws:iam::123456789012:user/admin",
            "expected an IAM role ARN",
        ),
        "ADMIN_GROUP" => ("Admins", "needs ADMIN_ROLE_ARN"),
        "SECURITY_HUB" => ("yes", "expected true or false"),
        "SECURITY_HUB_REFRESH_DAYS" => ("90", "out of range"),
        other => panic!("{other} has no bad value here: every setting needs one"),
    };
    (value.to_string(), says)
}

/// Runs a Lambda binary with one bad setting: (its output, whether it asked for an event).
fn lambda(package: &str, variable: &str, value: &str) -> (String, bool) {
    let api = RuntimeApi::serve(fixture("events/scheduled-event.json"));
    let mut command = Command::new(binary(package, package));
    command
        .env_clear()
        .envs(api.env())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("DENY_POLICY_ARN", DENY)
        .env(variable, value);
    if variable == "REMEDIATION" {
        command.env("ENFORCEMENT_GROUP", "MFAEnforced");
    }
    let output = command.output().unwrap();
    assert!(
        !output.status.success(),
        "{package} accepted {variable}={value:?}"
    );
    let logs = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (logs, api.first_next_at().is_some())
}

#[test]
fn both_lambdas_refuse_every_bad_setting_before_asking_for_an_event() {
    for package in ["scheduled-audit", "iam-events"] {
        for variable in VARIABLES {
            let (value, says) = bad_value(variable);
            let (logs, asked) = lambda(package, variable, &value);
            assert!(!asked, "{package} {variable}: asked for an event first");
            assert!(
                logs.contains(&format!("{variable} is invalid")) && logs.contains(says),
                "{package} {variable}={value:?}: {logs}"
            );
        }
    }
    let (logs, asked) = lambda("iam-events", "ENFORCER_ROLE_ARN", "mfa-enforcer-role");
    assert!(!asked);
    assert!(
        logs.contains("ENFORCER_ROLE_ARN is invalid") && logs.contains("mfa-enforcer-role"),
        "{logs}"
    );
}

#[test]
fn the_lambdas_refuse_to_start_without_the_deny_policy() {
    for package in ["scheduled-audit", "iam-events"] {
        let (logs, asked) = lambda(package, "DENY_POLICY_ARN", "");
        assert!(!asked, "{package}");
        assert!(
            logs.contains("DENY_POLICY_ARN is required"),
            "{package}: {logs}"
        );
    }
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
        .args(args)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn the_cli_refuses_every_bad_flag_and_variable_naming_both() {
    for variable in VARIABLES.iter().filter(|v| **v != "DRY_RUN") {
        let (value, says) = bad_value(variable);
        let flag = format!("--{}", variable.to_lowercase().replace('_', "-"));
        let mut env = vec![("AWS_REGION", "us-east-1"), ("DENY_POLICY_ARN", DENY)];
        if *variable == "REMEDIATION" {
            env.push(("ENFORCEMENT_GROUP", "MFAEnforced"));
        }
        // As a flag, then as the variable the flag falls back to.
        let flag_and_value = format!("{flag}={value}");
        for (args, env) in [
            (vec!["audit", flag_and_value.as_str()], env.clone()),
            (
                vec!["audit"],
                [env.clone(), vec![(*variable, value.as_str())]].concat(),
            ),
        ] {
            let (code, stderr) = cli(&args, &env);
            assert_eq!(code, Some(1), "{variable}={value:?}: {stderr}");
            assert!(
                stderr.contains(&format!("{flag} ({variable}) is invalid"))
                    && stderr.contains(says),
                "{variable}={value:?}: {stderr}"
            );
        }
    }
    // DRY_RUN is not the CLI's: --enforce decides.
    let (code, stderr) = cli(
        &["audit"],
        &[("AWS_REGION", "us-east-1"), ("DENY_POLICY_ARN", "nope")],
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("--deny-policy-arn (DENY_POLICY_ARN) is invalid"),
        "{stderr}"
    );
}

#[test]
fn the_cli_refuses_to_run_without_a_region_saying_how_to_give_one() {
    let (code, stderr) = cli(&["audit"], &[("DENY_POLICY_ARN", DENY)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no AWS region"), "{stderr}");
    assert!(
        stderr.contains("--region") && stderr.contains("AWS_REGION"),
        "{stderr}"
    );
}

#[test]
fn a_bad_retry_variable_stops_the_lambdas_and_the_cli_naming_it() {
    // The SDK's own variables: its loader would panic on these; ours names them instead.
    for (variable, value) in [("AWS_RETRY_MODE", "legacy"), ("AWS_MAX_ATTEMPTS", "0")] {
        for package in ["scheduled-audit", "iam-events"] {
            let (logs, asked) = lambda(package, variable, value);
            assert!(!asked, "{package} {variable}: asked for an event first");
            assert!(
                logs.contains(&format!("{variable} is invalid")) && logs.contains(value),
                "{package} {variable}={value:?}: {logs}"
            );
        }
        let (code, stderr) = cli(
            &["audit"],
            &[
                ("AWS_REGION", "us-east-1"),
                ("DENY_POLICY_ARN", DENY),
                (variable, value),
            ],
        );
        assert_eq!(code, Some(1), "{variable}={value:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{variable} is invalid")) && !stderr.contains("panicked"),
            "{variable}={value:?}: {stderr}"
        );
    }
}
