//! The people the enforcer acts on can always get back in by themselves and hear exactly what
//! changed for them, against moto:
//!
//! - a user with MFA newly held by the deny policy hears it (`user_held_to_mfa`) in terms of
//!   their own devices: their real TOTP serial, or plainly that passkeys and security keys
//!   cannot give a CLI session; a user without access keys is not told about the CLI at all;
//!   no notice ever prints a profile the AWS CLI cannot use;
//! - an enforcement group that no longer carries the deny policy strands nobody;
//! - users released from the deny policy are contained again whatever their number, while new
//!   users still trip the guard;
//! - root's own MFA events, in both shapes, and a record without `recipientAccountId` are
//!   handled without error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use iam_events::{OwnRoles, Response};
use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::devices::{AccessKeys, MfaDevice};
use mfa_enforcer::finding::{Finding, FindingFacts, Reason, Status};
use mfa_enforcer::notices::NoticeKind;
use mfa_enforcer::notify::user_notice;
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::run_report::RunReport;
use mfa_enforcer_tests::{fixture, Account, Device, Moto, UserSpec, ACCOUNT, GROUP};
use serde_json::{json, Value};

async fn seeded(moto: &Moto) -> Account {
    Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await
}

async fn scheduled(moto: &Moto, account: &Account, extra: &[(&str, &str)]) -> RunReport {
    let mut settings = vec![("DRY_RUN", "false")];
    settings.extend_from_slice(extra);
    let app = scheduled_audit::App::new(
        account.settings(&settings),
        (),
        &Clients::new(&moto.sdk_config().await),
    );
    scheduled_audit::handle(&app, LambdaEvent::new(json!({}), Context::default()))
        .await
        .unwrap()
}

/// The notices that reached the queue, by user: (event_type, subject, text body, JSON body).
async fn notices(account: &Account) -> Vec<(String, String, String, Value)> {
    let mut out = Vec::new();
    for envelope in account.drain_queue().await {
        let attribute = |key: &str| {
            envelope["MessageAttributes"][key]["Value"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        let json: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        // SQS subscribers get the JSON form; the text form is rendered from the same finding
        // (the e-mail protocol): checked through the JSON's guidance here, and in full below.
        out.push((
            attribute("event_type"),
            attribute("user"),
            envelope["Subject"].as_str().unwrap_or_default().to_string(),
            json,
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn users_held_to_mfa_hear_what_changes_in_terms_of_their_own_devices() {
    let moto = Moto::start();
    let account = seeded(&moto).await;
    let phone = |name: &str| Device::Virtual(name.to_string());
    account
        .user("pia", UserSpec::console().device(phone("phone-1")).key())
        .await;
    account
        .user(
            "quinn",
            UserSpec::console().device(Device::SecurityKey).key(),
        )
        .await;
    account
        .user("ravi", UserSpec::console().device(phone("ravi")))
        .await;
    account
        .user(
            "sam",
            UserSpec::console()
                .device(Device::Hardware("GAHT12345678".into()))
                .key(),
        )
        .await;
    moto.reset_recording();
    let report = scheduled(&moto, &account, &[]).await;
    for user in ["pia", "quinn", "ravi", "sam"] {
        let f = report.findings.iter().find(|f| f.user == user).unwrap();
        assert_eq!(f.status, Status::NonCompliant, "{user}");
        assert_eq!(
            account.attached(user).await,
            vec![account.deny_policy_arn.clone()]
        );
    }
    // Only the users whose notice needs more than the virtual devices listed account-wide
    // were read one by one: quinn (a security key) and sam (a hardware token).
    let mut listed: Vec<String> = moto
        .recorded_calls()
        .into_iter()
        .filter(|c| c.action == "iam:ListMFADevices")
        .map(|c| c.param("UserName").unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, ["quinn", "sam"]);

    let notices = notices(&account).await;
    let notice = |user: &str| {
        notices
            .iter()
            .find(|(_, u, _, _)| u == user)
            .unwrap_or_else(|| panic!("no notice for {user}: {notices:?}"))
    };
    for user in ["pia", "quinn", "ravi", "sam"] {
        let (kind, _, subject, _) = notice(user);
        assert_eq!(kind, "user_held_to_mfa", "{user}");
        assert!(
            subject.ends_with(&format!("{user} is now held to MFA")),
            "{subject}"
        );
    }
    let pia = &notice("pia").3;
    let serial = format!("arn:aws:iam::{ACCOUNT}:mfa/phone-1");
    assert_eq!(pia["mfa_devices"][0]["serial"], serial);
    assert_eq!(pia["mfa_devices"][0]["type"], "virtual");
    assert_eq!(pia["access_keys"]["active"], 1);
    let cli = &pia["guidance"]["cli"];
    assert!(
        cli["summary"].as_str().unwrap().contains("your access key"),
        "{cli}"
    );
    assert_eq!(
        cli["commands"][0],
        format!("aws sts get-session-token --serial-number {serial} --token-code <6-digit code>")
    );
    let quinn = &notice("quinn").3["guidance"]["cli"];
    assert!(
        quinn["summary"]
            .as_str()
            .unwrap()
            .contains("passkeys and security keys cannot give one"),
        "{quinn}"
    );
    assert!(
        !quinn.to_string().contains("u2f/"),
        "a u2f serial is no use to STS: {quinn}"
    );
    assert_eq!(
        notice("ravi").3["guidance"]["cli"],
        Value::Null,
        "no access keys: no CLI"
    );
    assert!(notice("sam").3["guidance"]["cli"]["commands"][0]
        .as_str()
        .unwrap()
        .contains("--serial-number GAHT12345678"));

    // The e-mail text of the same notices says the same.
    let finding = |user: &str| {
        report
            .findings
            .iter()
            .find(|f| f.user == user)
            .unwrap()
            .clone()
    };
    let text = |user: &str| {
        user_notice(
            ACCOUNT,
            &finding(user),
            Status::Compliant,
            NoticeKind::HeldToMfa,
            chrono::Duration::zero(),
            None,
        )
        .text
    };
    assert!(text("pia").contains(&serial), "{}", text("pia"));
    assert!(
        text("pia").contains("your access key now need an MFA session"),
        "{}",
        text("pia")
    );
    assert!(text("quinn").contains("Add an authenticator app or a hardware TOTP device"));
    assert!(!text("ravi").contains("AWS CLI"), "{}", text("ravi"));
}

const ADMIN_ROLE: &str = "arn:aws:iam::123456789012:role/mfa-enforcer-admin";

/// Every `[profile ...]` block of a text, as `(name, keys)`.
fn profile_blocks(text: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line
            .strip_prefix("[profile ")
            .and_then(|l| l.strip_suffix(']'))
        {
            blocks.push((name.to_string(), Vec::new()));
        } else if let (Some((key, _)), Some(block)) = (line.split_once('='), blocks.last_mut()) {
            block.1.push(key.trim().to_string());
        } else if line.is_empty() {
            continue;
        }
    }
    blocks
}

#[test]
fn no_notice_prints_a_profile_the_aws_cli_cannot_use() {
    // Every notice the enforcer can send, for every kind of user it can send one to.
    let device_sets: [&[&str]; 5] = [
        &[],
        &["arn:aws:iam::123456789012:mfa/phone-1"],
        &["arn:aws:iam::123456789012:u2f/user/u/key-ABCDEFGH"],
        &["GAHT12345678"],
        &[
            "arn:aws:iam::123456789012:u2f/user/u/key-ABCDEFGH",
            "arn:aws:iam::123456789012:mfa/u",
        ],
    ];
    let mut checked = 0;
    let mut admin_profiles = 0;
    for (devices, admin_role) in device_sets
        .iter()
        .flat_map(|d| [(d, None), (d, Some(ADMIN_ROLE))])
    {
        for keys in [0, 1, 2] {
            for (status, kind) in [
                (Status::Enforced, NoticeKind::Changed),
                (Status::Enforced, NoticeKind::Reminder),
                (Status::InGrace, NoticeKind::Changed),
                (Status::NonCompliant, NoticeKind::Changed),
                (Status::Compliant, NoticeKind::HeldToMfa),
            ] {
                let finding = Finding {
                    user: "u".into(),
                    arn: "arn:aws:iam::123456789012:user/u".into(),
                    user_id: None,
                    status: Status::NonCompliant,
                    reasons: vec![Reason::NoMfa],
                    mfa_active: !devices.is_empty(),
                    password_enabled: Some(true),
                    groups: vec![],
                    exempt_until: None,
                    mfa_devices: devices.iter().map(|s| MfaDevice::from_serial(s)).collect(),
                    access_keys: AccessKeys {
                        active: keys,
                        last_used: None,
                    },
                    actions: vec![],
                    facts: FindingFacts::default(),
                };
                let n = user_notice(
                    ACCOUNT,
                    &finding,
                    status,
                    kind,
                    chrono::Duration::hours(24),
                    admin_role,
                );
                let config = n.json["guidance"]["cli"]["config"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let blocks = profile_blocks(&config);
                if admin_role.is_some() && !blocks.is_empty() {
                    admin_profiles += 1;
                    assert_eq!(blocks[0].0, "mfa-enforcer-admin", "{config}");
                    assert!(
                        config.contains(&format!("role_arn = {ADMIN_ROLE}")),
                        "{config}"
                    );
                }
                for text in [n.text, config] {
                    for (name, keys) in profile_blocks(&text) {
                        if keys.iter().any(|k| k == "mfa_serial") {
                            for needed in ["role_arn", "source_profile"] {
                                assert!(
                                    keys.iter().any(|k| k == needed),
                                    "[profile {name}] has mfa_serial without {needed}:\n{text}"
                                );
                            }
                        }
                    }
                    // And never a serial the user does not have.
                    for serial in text
                        .split_whitespace()
                        .filter(|w| w.contains(":mfa/") || w.contains(":u2f/"))
                    {
                        let serial = serial.trim_end_matches(|c: char| !c.is_alphanumeric());
                        assert!(
                            devices
                                .iter()
                                .any(|d| d.starts_with(serial) || serial.starts_with(d)),
                            "{serial} is not one of {devices:?}:\n{text}"
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 150);
    // The admin role's profile reaches exactly the users who can use it: access keys (1 or 2)
    // and a TOTP device (an app, a token, a key beside an app), in each of the 5 notices.
    assert_eq!(admin_profiles, 2 * 3 * 5);
    // The checker itself finds a bad block.
    let bad =
        "[profile carol-mfa]\nsource_profile = carol\nmfa_serial = arn:aws:iam::1:mfa/carol\n";
    assert_eq!(
        profile_blocks(bad),
        [(
            "carol-mfa".to_string(),
            vec!["source_profile".to_string(), "mfa_serial".to_string()]
        )]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_enforcement_group_without_the_deny_policy_strands_nobody() {
    let moto = Moto::start();
    let account = seeded(&moto).await;
    account.user("tom", UserSpec::console()).await;
    account.user("uma", UserSpec::console().group(GROUP)).await;
    account
        .iam
        .detach_group_policy()
        .group_name(GROUP)
        .policy_arn(&account.deny_policy_arn)
        .send()
        .await
        .unwrap();
    let group_mode = [("REMEDIATION", "add-to-group")];
    let report = scheduled(&moto, &account, &group_mode).await;
    assert_eq!(
        report.enforcement_group_lacks_deny_policy.as_deref(),
        Some(GROUP)
    );
    for user in ["tom", "uma"] {
        assert_eq!(
            account.attached(user).await,
            vec![account.deny_policy_arn.clone()],
            "{user}"
        );
        assert_eq!(account.groups_of(user).await, [GROUP], "{user}");
    }
    let kinds: Vec<String> = notices(&account).await.into_iter().map(|n| n.0).collect();
    assert!(
        kinds.contains(&"enforcement_group_lacks_deny_policy".to_string()),
        "{kinds:?}"
    );
    // Nobody is left non-compliant: the next run has nothing to write.
    moto.reset_recording();
    let again = scheduled(&moto, &account, &group_mode).await;
    assert_eq!(again.summary.non_compliant, 0);
    assert_eq!(again.summary.enforced, 2);
    assert!(
        moto.recorded_iam_writes().is_empty(),
        "{:?}",
        moto.recorded_iam_writes()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn released_users_are_contained_again_whatever_their_number_and_new_ones_trip_the_guard() {
    let moto = Moto::start();
    let account = seeded(&moto).await;
    let contained: Vec<String> = (0..25).map(|i| format!("held{i:02}")).collect();
    for name in &contained {
        account.user(name, UserSpec::console()).await;
    }
    let first = scheduled(&moto, &account, &[("MAX_ENFORCEMENTS_PER_RUN", "100")]).await;
    assert_eq!(first.summary.actions_applied, 25);
    // An insider frees all of them at once.
    for name in &contained {
        account
            .iam
            .detach_user_policy()
            .user_name(name)
            .policy_arn(&account.deny_policy_arn)
            .send()
            .await
            .unwrap();
    }
    account.drain_queue().await;
    // One run with the default limit of 20 contains all 25 again: they were enforced before.
    let run = scheduled(&moto, &account, &[]).await;
    assert!(!run.summary.guard_tripped, "{:?}", run.summary);
    assert_eq!(run.summary.users_to_enforce, 0);
    assert_eq!(run.summary.users_to_recontain, 25);
    assert_eq!(run.summary.enforced, 0, "as found: released");
    for name in &contained {
        assert_eq!(
            account.attached(name).await,
            vec![account.deny_policy_arn.clone()],
            "{name}"
        );
    }
    // 25 new users still trip it.
    for i in 0..25 {
        account
            .user(&format!("new{i:02}"), UserSpec::console())
            .await;
    }
    moto.reset_recording();
    let tripped = scheduled(&moto, &account, &[]).await;
    assert!(tripped.summary.guard_tripped);
    assert_eq!(tripped.summary.users_to_enforce, 25);
    assert!(moto.recorded_iam_writes().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn root_mfa_events_in_both_shapes_and_records_without_a_recipient_account_are_handled() {
    let moto = Moto::start();
    let account = seeded(&moto).await;
    account.user("nina", UserSpec::console()).await;
    let app = iam_events::App::new(
        account.settings(&[("DRY_RUN", "false")]),
        OwnRoles::default(),
        &Clients::new(&moto.sdk_config().await),
    );
    let invoke = |name: &str| {
        let payload: Value =
            serde_json::from_str(&fixture(&format!("events/cloudtrail/{name}"))).unwrap();
        let mut context = Context::default();
        context.invoked_function_arn =
            format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:iam-events");
        iam_events::handle(&app, LambdaEvent::new(payload, context))
    };
    for name in [
        "enable-mfa-device-root-sample.json",
        "enable-mfa-device-root.json",
    ] {
        moto.reset_recording();
        let Response::Report(report) = invoke(name).await.unwrap_or_else(|e| panic!("{name}: {e}"))
        else {
            panic!("{name}: expected a report")
        };
        assert_eq!(report.findings.len(), 1, "{name}");
        assert_eq!(report.findings[0].user, "<root_account>", "{name}");
        assert!(
            report.findings[0].actions.is_empty(),
            "root is only reported"
        );
        let iam_calls: Vec<String> = moto
            .recorded_actions()
            .into_iter()
            .filter(|c| c.starts_with("iam:"))
            .collect();
        assert_eq!(
            iam_calls,
            ["iam:GetAccountSummary"],
            "{name}: no IAM user read"
        );
    }
    let Response::Report(report) = invoke("create-login-profile-no-recipient.json")
        .await
        .unwrap()
    else {
        panic!("expected a report")
    };
    assert_eq!(report.account_id, ACCOUNT);
    assert_eq!(report.findings[0].user, "nina");
    assert_eq!(
        account.attached("nina").await,
        vec![account.deny_policy_arn.clone()]
    );
}
