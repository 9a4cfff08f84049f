//! The HTML report in a real browser: an org report with an account named like a script and a
//! user named like markup, rendered by `mfa-enforcer show --format html`, opened in headless
//! chromium (scripts/browser.sh installs it; tests/browser/check_html.py drives it): no console
//! error, nothing fetched, no alert, the hostile names shown as text, the numbers those of the
//! JSON, search and sort working. The screenshot is kept as a test artifact
//! (target/test-artifacts/html-report.png).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfa_enforcer::finding::{Finding, FindingFacts, Reason, Status};
use mfa_enforcer::org::report::{AccountEntry, OrgReport, OrgTotals};
use mfa_enforcer::org::OrgAccount;
use mfa_enforcer::roles::{RoleClassification, RoleFinding, RoleReason};
use mfa_enforcer::run_report::{RunReport, Summary};
use mfa_enforcer_tests::{binary, workspace_root};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const HOSTILE: &str = "<script>alert('pwned')</script>";

fn user(name: &str, status: Status) -> Finding {
    Finding {
        user: name.into(),
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        user_id: None,
        status,
        reasons: if status == Status::NonCompliant {
            vec![Reason::NoMfa]
        } else {
            vec![]
        },
        mfa_active: status == Status::Compliant,
        password_enabled: Some(true),
        groups: vec![],
        exempt_until: None,
        mfa_devices: vec![],
        access_keys: Default::default(),
        actions: vec![],
        facts: FindingFacts::default(),
    }
}

fn org_report() -> OrgReport {
    let account = |id: &str, name: &str, ou: &str| OrgAccount {
        id: id.into(),
        name: name.into(),
        status: "ACTIVE".into(),
        ou_ids: vec![],
        ou_path: ou.into(),
    };
    let audited = |acct: &OrgAccount, users: Vec<Finding>, roles: Vec<RoleFinding>| {
        let mut run = RunReport::empty(&acct.id, chrono::Utc::now(), true);
        run.summary = Summary::count(&users, None);
        run.findings = users;
        run.record_roles(roles);
        AccountEntry::audited(acct, run)
    };
    let admin = RoleFinding {
        name: "admin".into(),
        arn: "arn:aws:iam::222222222222:role/admin".into(),
        id: "AROAEXAMPLE".into(),
        path: "/".into(),
        classification: RoleClassification::MfaNotRequired,
        privileged: true,
        privileged_by: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
        principals: vec!["222222222222".into()],
        reasons: vec![RoleReason::AllowWithoutMfa],
    };
    let accounts = vec![
        audited(
            &account("111111111111", HOSTILE, "Root/Prod"),
            vec![
                user("alice", Status::Compliant),
                user("\"><img src=x onerror=alert(1)>", Status::NonCompliant),
            ],
            vec![],
        ),
        audited(
            &account("222222222222", "payments", "Root/Prod/Web"),
            vec![
                user("bob", Status::NonCompliant),
                user("carol", Status::NonCompliant),
            ],
            vec![admin],
        ),
        audited(
            &account("333333333333", "sandbox", "Root/Dev"),
            vec![user("dan", Status::Compliant)],
            vec![],
        ),
        AccountEntry::unreachable(
            &account("444444444444", "legacy", "Root/Dev"),
            "AssumeRole failed: not authorized (AccessDenied)",
        ),
    ];
    let mut totals = OrgTotals::default();
    for a in &accounts {
        totals.add(a);
    }
    OrgReport {
        organization_id: "o-exampleorg1".into(),
        generated_at: chrono::Utc::now(),
        run_id: "20261201T000000Z".into(),
        accounts,
        totals,
    }
}

fn artifacts() -> PathBuf {
    let dir = workspace_root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_html_report_renders_in_a_real_browser_with_the_reports_numbers_and_hostile_names_as_text() {
    let report = org_report();
    let dir = artifacts();
    let json_path = dir.join("org-report.json");
    let html_path = dir.join("html-report.html");
    std::fs::write(&json_path, serde_json::to_string(&report).unwrap()).unwrap();
    let out = Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
        .args(["show", json_path.to_str().unwrap(), "--format", "html"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&html_path, &out.stdout).unwrap();

    let venv = std::env::var("MFA_BROWSER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".venv-browser"));
    let python = venv.join("bin/python");
    assert!(
        python.exists() && std::path::Path::new("/usr/bin/chromedriver").exists(),
        "no browser: run scripts/browser.sh (make test does)"
    );
    let screenshot = dir.join("html-report.png");
    let seen = Command::new(python)
        .arg(workspace_root().join("tests/browser/check_html.py"))
        .arg(&html_path)
        .arg(&screenshot)
        .output()
        .unwrap();
    assert!(
        seen.status.success(),
        "{}",
        String::from_utf8_lossy(&seen.stderr)
    );
    let seen: Value = serde_json::from_slice(&seen.stdout).unwrap();

    assert_eq!(seen["console_errors"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["resources"], 0, "nothing fetched");
    assert_eq!(seen["alert"], false, "no injected script ran");
    assert_eq!(seen["scripts"], 1, "only the page's own script");
    let t = &report.totals;
    for (id, value) in [
        ("accounts", t.accounts),
        ("unreachable", t.unreachable),
        ("non-compliant", t.non_compliant_users),
        ("roles-without-mfa", t.privileged_roles_without_mfa),
        ("non-compliant-accounts", t.non_compliant_accounts),
    ] {
        assert_eq!(seen["totals"][id], value, "{id}: {seen}");
    }
    assert_eq!(seen["statuses"]["non_compliant"], t.users.non_compliant);
    assert_eq!(seen["statuses"]["compliant"], t.users.compliant);
    let texts: Vec<&str> = seen["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains(HOSTILE)),
        "the hostile name is shown as text: {texts:?}"
    );
    assert!(
        texts[0].contains("payments"),
        "ranked first: the most to fix: {texts:?}"
    );
    assert!(texts
        .iter()
        .any(|t| t.contains("legacy") && t.contains("AccessDenied")));
    assert_eq!(seen["rows"], 6, "five users and one role: {seen}");
    assert_eq!(
        seen["shown_after_search"], "3 of 6 shown",
        "the three non-compliant users"
    );
    // Sorted by name, the markup-like name (it begins with a quote) comes first, as text.
    assert!(
        seen["first_after_sort"]
            .as_str()
            .unwrap()
            .contains("\"><img src=x onerror=alert(1)>"),
        "{seen}"
    );
    assert!(
        std::fs::metadata(&screenshot).unwrap().len() > 10_000,
        "a screenshot was saved"
    );
}
