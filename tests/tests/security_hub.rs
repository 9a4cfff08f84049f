//! Findings into moto's Security Hub through the scheduled-audit handler, and the formats checked
//! by their owners' definitions (botocore's model, py-ocsf-models, the EMF specification).
//!
//! moto accepts any batch size and ignores GetFindings' filters: the limits are asserted here on
//! the recorded requests, and the engine filters what it reads back itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::Clients;
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer::run_report::RunReport;
use mfa_enforcer_tests::{
    binary, python_tool, venv, workspace_root, Account, Moto, UserSpec, GROUP,
};
use scheduled_audit::{handle, App};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

const EXEMPT: &str = "mfa-enforcer:exempt";

async fn run(moto: &Moto, account: &Account) -> RunReport {
    let settings = account.settings(&[("SECURITY_HUB", "true"), ("DRY_RUN", "false")]);
    let clients = Clients::new(&moto.sdk_config().await);
    let app = App::new(settings, (), &clients);
    let payload = json!({"dry_run": false});
    match handle(&app, LambdaEvent::new(payload, Context::default())).await {
        Ok(report) => report,
        Err(e) => panic!("run failed: {e}"),
    }
}

/// Every finding moto holds, by ID: (compliance status, record state, workflow status).
async fn held(moto: &Moto) -> BTreeMap<String, (String, String, Option<String>)> {
    Box::pin(held_unboxed(moto)).await
}

async fn held_unboxed(moto: &Moto) -> BTreeMap<String, (String, String, Option<String>)> {
    let hub = Clients::new(&moto.sdk_config().await).security_hub;
    let found = hub.get_findings().max_results(100).send().await.unwrap();
    found
        .findings
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            (
                f.id.unwrap(),
                (
                    f.compliance.unwrap().status.unwrap().as_str().to_string(),
                    f.record_state.unwrap().as_str().to_string(),
                    f.workflow
                        .and_then(|w| w.status)
                        .map(|s| s.as_str().to_string()),
                ),
            )
        })
        .collect()
}

/// An analyst takes a finding (moto has no BatchUpdateFindings: its import merges, which sets
/// the workflow as the analyst's update would).
async fn analyst_takes(moto: &Moto, id: &str) {
    let hub = Clients::new(&moto.sdk_config().await).security_hub;
    let current = hub.get_findings().send().await.unwrap().findings.unwrap();
    let mut taken = current
        .into_iter()
        .find(|f| f.id.as_deref() == Some(id))
        .unwrap();
    taken.workflow = Some(
        aws_sdk_securityhub::types::Workflow::builder()
            .status(aws_sdk_securityhub::types::WorkflowStatus::Notified)
            .build(),
    );
    hub.batch_import_findings()
        .findings(taken)
        .send()
        .await
        .unwrap();
}

fn user_id(report: &RunReport, name: &str) -> String {
    let f = report.findings.iter().find(|f| f.user == name).unwrap();
    format!(
        "mfa-enforcer/{}/console_mfa/{}",
        report.account_id,
        f.user_id.as_deref().unwrap()
    )
}

fn imports(moto: &Moto) -> Vec<Value> {
    moto.recorded_calls()
        .into_iter()
        .filter(|c| c.action == "securityhub:BatchImportFindings")
        .map(|c| serde_json::from_str(&c.body).unwrap())
        .collect()
}

/// A moto server with an account seeded: the deny policy, the group, a topic.
async fn seeded() -> (Moto, Account) {
    let moto = Moto::start();
    let account = Account::seed(
        &moto.sdk_config().await,
        &deny_policy_document().to_string(),
    )
    .await;
    (moto, account)
}

fn count(moto: &Moto, action: &str) -> usize {
    moto.recorded_actions()
        .iter()
        .filter(|a| *a == action)
        .count()
}

// Each test's body is boxed: Security Hub's finding type is large, and a debug build's
// futures holding it would not fit the test thread's stack.
#[tokio::test(flavor = "multi_thread")]
async fn findings_follow_the_account_through_runs_and_analysts_keep_their_workflow() {
    Box::pin(lifecycle()).await;
}

async fn lifecycle() {
    let (moto, account) = seeded().await;
    for (name, spec) in [
        ("alice", UserSpec::console().mfa().group(GROUP)),
        ("bob-api", UserSpec::api_only()),
        ("carol", UserSpec::console()),
        ("erin", UserSpec::console().tag(EXEMPT, "true")),
    ] {
        account.user(name, spec).await;
    }
    // First run: one finding per console user (alice, carol, erin), nothing for the API-only
    // user (moto's credential report has no root row: root's checks are the unit tests').
    moto.reset_recording();
    let first = run(&moto, &account).await;
    let export = first.security_hub.clone().unwrap();
    assert_eq!(
        (export.counts.new, export.imported, export.failed),
        (3, 3, 0)
    );
    assert_eq!(count(&moto, "securityhub:GetFindings"), 1);
    assert_eq!(count(&moto, "securityhub:BatchImportFindings"), 1);
    let findings = held(&moto).await;
    assert_eq!(findings.len(), 3, "{findings:?}");
    let status = |f: &BTreeMap<String, (String, String, Option<String>)>, id: &str| {
        f.get(id)
            .map(|(c, r, _)| (c.clone(), r.clone()))
            .unwrap_or_else(|| panic!("{id} not in {f:?}"))
    };
    let (alice, carol, erin) = (
        user_id(&first, "alice"),
        user_id(&first, "carol"),
        user_id(&first, "erin"),
    );
    assert_eq!(
        status(&findings, &alice),
        ("PASSED".into(), "ACTIVE".into())
    );
    // Carol was contained by this run: still no MFA, so still FAILED.
    assert_eq!(
        status(&findings, &carol),
        ("FAILED".into(), "ACTIVE".into())
    );
    assert_eq!(
        status(&findings, &erin),
        ("WARNING".into(), "ACTIVE".into())
    );

    // Nothing changed: nothing imported, one page read.
    moto.reset_recording();
    let second = run(&moto, &account).await;
    let export = second.security_hub.clone().unwrap();
    assert_eq!(
        (export.counts.unchanged, export.imported),
        (3, 0),
        "{export:?}"
    );
    assert_eq!(count(&moto, "securityhub:BatchImportFindings"), 0);
    assert_eq!(export.requests, 1);

    Box::pin(analyst_takes(&moto, &carol)).await;

    // Carol enrolls MFA, erin is deleted: carol's turns PASSED, erin's is archived, the
    // analyst's workflow survives, and nothing we import carries a workflow.
    account.enable_mfa("carol").await;
    account
        .iam
        .untag_user()
        .user_name("erin")
        .tag_keys(EXEMPT)
        .send()
        .await
        .unwrap();
    account
        .iam
        .delete_login_profile()
        .user_name("erin")
        .send()
        .await
        .unwrap();
    account
        .iam
        .delete_user()
        .user_name("erin")
        .send()
        .await
        .unwrap();
    moto.reset_recording();
    let third = run(&moto, &account).await;
    let export = third.security_hub.clone().unwrap();
    assert_eq!(
        (export.counts.changed, export.counts.archived, export.failed),
        (1, 1, 0),
        "{export:?}"
    );
    let findings = held(&moto).await;
    assert_eq!(
        status(&findings, &carol),
        ("PASSED".into(), "ACTIVE".into())
    );
    assert_eq!(findings[&carol].2.as_deref(), Some("NOTIFIED"));
    assert_eq!(status(&findings, &erin).1, "ARCHIVED");
    for request in imports(&moto) {
        for f in request["Findings"].as_array().unwrap() {
            for analysts in ["Workflow", "Note", "UserDefinedFields", "VerificationState"] {
                assert!(f.get(analysts).is_none(), "{analysts} sent: {f}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_with_250_findings_imports_them_in_requests_under_the_limits() {
    Box::pin(limits()).await;
}

async fn limits() {
    let (moto, account) = seeded().await;
    for i in 0..250 {
        account
            .user(
                &format!("user-{i:03}"),
                UserSpec::console().mfa().group(GROUP),
            )
            .await;
    }
    moto.reset_recording();
    let report = run(&moto, &account).await;
    let export = report.security_hub.unwrap();
    assert_eq!((export.counts.new, export.imported), (250, 250));
    let requests = imports(&moto);
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| r["Findings"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    for r in &requests {
        assert!(r.to_string().len() <= 6_000_000);
    }
    assert_eq!(held(&moto).await.len(), 100, "the first page of 100");
}

/// Runs `tests/formats/validate.py` on `lines`.
fn validate(kind: &str, lines: &str) -> Value {
    python_tool(
        &venv(),
        &workspace_root().join("tests/formats/validate.py"),
        &[kind],
        lines,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn asff_ocsf_and_emf_pass_their_owners_definitions_and_bad_ones_do_not() {
    let (moto, account) = seeded().await;
    for (name, spec) in [
        ("alice", UserSpec::console().mfa().group(GROUP)),
        ("carol", UserSpec::console()),
        ("erin", UserSpec::console().tag(EXEMPT, "true")),
    ] {
        account.user(name, spec).await;
    }
    account
        .iam
        .create_role()
        .role_name("admin")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let saved = std::env::temp_dir().join(format!("mfa-enforcer-formats-{}.json", moto.port()));
    let cli = binary("mfa-enforcer-cli", "mfa-enforcer");
    let audit = Command::new(&cli)
        .args(["audit", "--format", "json", "--output"])
        .arg(&saved)
        .args(["--deny-policy-arn", &account.deny_policy_arn])
        .envs(moto.env())
        .output()
        .unwrap();
    assert!(audit.status.code().is_some_and(|c| c != 1), "{audit:?}");
    let lines = |format: &str| {
        let out = Command::new(&cli)
            .args(["show", "--format", format])
            .arg(&saved)
            .envs(moto.env())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let (asff, ocsf) = (lines("asff"), lines("ocsf"));
    // alice, carol, erin, the admin role.
    assert_eq!(asff.lines().count(), 4, "{asff}");
    let answer = validate("asff", &asff);
    assert_eq!(answer["errors"], json!([]), "{answer}");
    assert_eq!(answer["max_findings_per_request"], 100);
    let answer = validate("ocsf", &ocsf);
    assert_eq!(answer["errors"], json!([]), "{answer}");
    assert_eq!(answer["lines"], 4);

    // The validators refuse what is wrong: a member outside the shape, a missing member, an
    // attribute outside the class, a metric with no value.
    let mut bad: Value = serde_json::from_str(asff.lines().next().unwrap()).unwrap();
    bad["Workflow"] = json!({"State": "NEW", "Bogus": 1});
    bad.as_object_mut().unwrap().remove("Title");
    let answer = validate("asff", &bad.to_string());
    let errors = answer["errors"].to_string();
    assert!(
        errors.contains("Bogus") && errors.contains("Title"),
        "{answer}"
    );
    let mut bad: Value = serde_json::from_str(ocsf.lines().next().unwrap()).unwrap();
    bad["not_ocsf"] = json!(1);
    assert_ne!(validate("ocsf", &bad.to_string())["errors"], json!([]));

    let report: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let line = mfa_enforcer::export::emf::line(&report, 1500);
    let answer = validate("emf", &line);
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let mut bad: Value = serde_json::from_str(&line).unwrap();
    bad.as_object_mut().unwrap().remove("ActionsApplied");
    assert_ne!(validate("emf", &bad.to_string())["errors"], json!([]));
    let _ = std::fs::remove_file(&saved);

    // `show` refuses ASFF without a Region, naming the flag.
    let out = Command::new(&cli)
        .args(["show", "--format", "asff", "-"])
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --region"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_run_imports_the_user_it_judged_within_seconds_and_archives_nothing() {
    Box::pin(event_run()).await;
}

async fn event_run() {
    let (moto, account) = seeded().await;
    account
        .user("alice", UserSpec::console().mfa().group(GROUP))
        .await;
    // A whole-account run first: alice's finding is in Security Hub.
    run(&moto, &account).await;
    account.user("dan", UserSpec::console()).await;
    let settings = account.settings(&[("SECURITY_HUB", "true"), ("DRY_RUN", "false")]);
    let clients = Clients::new(&moto.sdk_config().await);
    let app = iam_events::App::new(settings, iam_events::OwnRoles::default(), &clients);
    let event = json!({
        "version": "0", "id": "0", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam", "account": "123456789012", "time": "2026-06-15T11:59:58Z",
        "region": "us-east-1", "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/admin", "userName": "admin"},
            "eventTime": "2026-06-15T11:59:58Z", "eventSource": "iam.amazonaws.com",
            "eventName": "CreateLoginProfile", "awsRegion": "us-east-1", "eventID": "e-1",
            "recipientAccountId": "123456789012", "requestParameters": {"userName": "dan"},
        }
    });
    let mut context = Context::default();
    context.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f".into();
    moto.reset_recording();
    let response = iam_events::handle(&app, LambdaEvent::new(event, context))
        .await
        .unwrap();
    let iam_events::Response::Report(report) = response else {
        panic!("the event was ignored");
    };
    let export = report.security_hub.clone().unwrap();
    assert_eq!(
        (export.counts.new, export.imported, export.counts.archived),
        (1, 1, 0)
    );
    assert_eq!(count(&moto, "securityhub:GetFindings"), 1);
    assert_eq!(count(&moto, "securityhub:BatchImportFindings"), 1);
    let findings = held(&moto).await;
    // dan contained within the event run: FAILED (no MFA yet); alice untouched, still active.
    assert_eq!(findings[&user_id(&report, "dan")].0, "FAILED");
    assert_eq!(findings.len(), 2);
    assert!(findings.values().all(|(_, state, _)| state == "ACTIVE"));
}
