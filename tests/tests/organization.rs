//! `mfa-enforcer audit --org` against one moto server holding an organization of 51 member
//! accounts in a tree of OUs (tests/org/seed_org.py), each seeded differently, behind the
//! fault proxy: one account's AssumeRole is denied (its audit role is missing: moto's
//! AssumeRole never checks that a role exists), one account's AssumeRole is throttled past
//! every retry, one account is closed. Every other account comes back audited with what it
//! holds; the two come back unreachable with why; the closed one and the management account
//! are left out; the filters select the right accounts; no request writes to any account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mfa_enforcer::org::report::{AccountStatus, OrgReport};
use mfa_enforcer::policy::deny_policy_document;
use mfa_enforcer_tests::fault_proxy::{Fault, FaultProxy, Rule};
use mfa_enforcer_tests::{binary, venv, workspace_root, Moto};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

struct Org {
    moto: Moto,
    proxy: FaultProxy,
    seeded: Value,
    dir: std::path::PathBuf,
}

impl Org {
    fn seed(accounts: usize) -> Org {
        let moto = Moto::start();
        let dir = std::env::temp_dir().join(format!("mfa-enforcer-org-{}", moto.port()));
        std::fs::create_dir_all(&dir).unwrap();
        let policy = dir.join("policy.json");
        std::fs::write(&policy, deny_policy_document().to_string()).unwrap();
        let out = Command::new(venv().join("bin/python"))
            .arg(workspace_root().join("tests/org/seed_org.py"))
            .arg(moto.port().to_string())
            .arg(accounts.to_string())
            .arg(&policy)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seeded = serde_json::from_slice(&out.stdout).unwrap();
        let proxy = FaultProxy::start(moto.port(), 16);
        Org {
            moto,
            proxy,
            seeded,
            dir,
        }
    }

    fn accounts(&self) -> Vec<&Value> {
        self.seeded["accounts"].as_array().unwrap().iter().collect()
    }

    fn account(&self, index: usize) -> String {
        self.accounts()[index]["id"].as_str().unwrap().to_string()
    }

    fn cli(&self, args: &[&str]) -> Output {
        Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
            .arg("audit")
            .args(["--org", "--quiet"])
            .args(args)
            .env_clear()
            .envs(self.moto.env())
            .env("AWS_ENDPOINT_URL", self.proxy.endpoint())
            .output()
            .unwrap()
    }
}

impl Drop for Org {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn every_account_is_audited_or_unreachable_with_why_and_nothing_is_written() {
    let org = Org::seed(52);
    let denied = org.account(2);
    let throttled = org.account(6);
    org.proxy.set_rules(vec![
        Rule::new("sts:AssumeRole", Fault::Denied, 1.0).when_body_contains(&denied),
        Rule::new("sts:AssumeRole", Fault::Throttle, 1.0).when_body_contains(&throttled),
    ]);
    org.moto.reset_recording();
    let report_path = org.dir.join("org.json");
    let out = org.cli(&[
        "--format",
        "json",
        "--output",
        report_path.to_str().unwrap(),
        "--account-timeout",
        "10",
        "--concurrency",
        "16",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "unreachable accounts: exit 2\n{stderr}"
    );

    // Nothing written anywhere: only reads (and GenerateCredentialReport, which writes no
    // IAM entity) reached moto.
    assert!(
        org.moto.recorded_iam_writes().is_empty(),
        "{:?}",
        org.moto.recorded_iam_writes()
    );
    let services: BTreeSet<String> = org
        .moto
        .recorded_actions()
        .iter()
        .filter(|a| !a.starts_with("iam:"))
        .cloned()
        .collect();
    assert_eq!(
        services,
        BTreeSet::from(
            [
                "organizations:DescribeOrganization",
                "organizations:ListAccounts",
                "organizations:ListAccountsForParent",
                "organizations:ListOrganizationalUnitsForParent",
                "organizations:ListRoots",
                "sts:AssumeRole",
            ]
            .map(String::from)
        )
    );

    // Every IAM call made is one the audit role grants (permissions::org_audit, which
    // tests/tests/template.rs holds to the role both ways).
    let granted = mfa_enforcer::permissions::org_audit();
    let iam_calls: BTreeSet<String> = (org.moto.recorded_actions().into_iter())
        .filter(|a| a.starts_with("iam:"))
        .collect();
    let ungranted: Vec<_> = (iam_calls.iter())
        .filter(|a| !granted.contains(&a.as_str()))
        .collect();
    assert!(ungranted.is_empty(), "{ungranted:?}");
    assert!(iam_calls.contains("iam:GetAccountAuthorizationDetails"));

    let report: OrgReport =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report.organization_id, org.seeded["organization_id"]);
    let by_id: BTreeMap<&str, _> = report
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a))
        .collect();
    let management = org.seeded["management_account_id"].as_str().unwrap();
    assert!(
        !by_id.contains_key(management),
        "the management account only on request"
    );
    assert_eq!(
        report.accounts.len(),
        51,
        "every ACTIVE member account, once"
    );
    for (i, seeded) in org.accounts().iter().enumerate() {
        let id = seeded["id"].as_str().unwrap();
        let kind = seeded["kind"].as_str().unwrap();
        if kind == "closed" {
            assert!(!by_id.contains_key(id), "a closed account is not audited");
            continue;
        }
        let entry = by_id[id];
        assert_eq!(entry.name, seeded["name"].as_str().unwrap());
        assert!(
            entry.ou_path.ends_with(seeded["ou"].as_str().unwrap()),
            "{}",
            entry.ou_path
        );
        if i == 2 {
            assert_eq!(entry.status, AccountStatus::Unreachable);
            assert!(
                entry.error.as_deref().unwrap().contains("AccessDenied"),
                "{:?}",
                entry.error
            );
            continue;
        }
        if i == 6 {
            assert_eq!(entry.status, AccountStatus::Unreachable);
            let error = entry.error.as_deref().unwrap();
            assert!(
                error.contains("Throttling") || error.contains("timed out"),
                "{error}"
            );
            continue;
        }
        assert_eq!(
            entry.status,
            AccountStatus::Audited,
            "{id}: {:?}",
            entry.error
        );
        let expected = match kind {
            "user_without_mfa" => (1, 0),
            "role_without_mfa" => (0, 1),
            _ => (0, 0),
        };
        assert_eq!(
            (
                entry.non_compliant_users(),
                entry.privileged_roles_without_mfa()
            ),
            expected,
            "{id} ({kind})"
        );
    }
    let t = &report.totals;
    assert_eq!((t.accounts, t.audited, t.unreachable), (51, 49, 2));
    let seeded_kind = |k: &str| {
        (org.accounts().iter().enumerate())
            .filter(|(i, a)| a["kind"] == k && *i != 2 && *i != 6)
            .count()
    };
    assert_eq!(t.non_compliant_users, seeded_kind("user_without_mfa"));
    assert_eq!(
        t.privileged_roles_without_mfa,
        seeded_kind("role_without_mfa")
    );

    // The saved report renders again, with the same exit status.
    let show = Command::new(binary("mfa-enforcer-cli", "mfa-enforcer"))
        .args(["show", report_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(show.status.code(), Some(2));
    let table = String::from_utf8_lossy(&show.stdout);
    assert!(table.contains("51 accounts: 49 audited"), "{table}");
    assert!(table.contains(&format!("{denied}  unreachable")), "{table}");
}

#[test]
fn filters_select_the_accounts_and_org_refuses_to_write() {
    let org = Org::seed(12);
    let ids = |out: &Output| -> BTreeSet<String> {
        assert!(
            out.status.code().is_some_and(|c| c == 0 || c == 2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        csv::Reader::from_reader(out.stdout.as_slice())
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect()
    };
    let seeded_in = |ous: &[&str]| -> BTreeSet<String> {
        org.accounts()
            .iter()
            .filter(|a| a["kind"] != "closed" && ous.contains(&a["ou"].as_str().unwrap()))
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    let prod = org.seeded["ous"]["Prod"].as_str().unwrap();
    assert_eq!(
        ids(&org.cli(&["--format", "csv", "--ou", prod])),
        seeded_in(&["Prod", "Web", "Api"]),
        "an OU and every OU below it"
    );
    let dev = org.seeded["ous"]["Dev"].as_str().unwrap();
    let sandbox = org.seeded["ous"]["Sandbox"].as_str().unwrap();
    assert_eq!(
        ids(&org.cli(&["--format", "csv", "--ou", dev, "--ou", sandbox])),
        seeded_in(&["Dev", "Sandbox"])
    );
    let (a, b) = (org.account(0), org.account(1));
    assert_eq!(
        ids(&org.cli(&[
            "--format",
            "csv",
            "--accounts",
            &format!("{a},{b}"),
            "--exclude",
            &b
        ])),
        BTreeSet::from([a.clone()])
    );
    let management = org.seeded["management_account_id"].as_str().unwrap();
    let with_management = ids(&org.cli(&["--format", "csv", "--include-management-account"]));
    assert!(with_management.contains(management));

    for (args, says) in [
        (vec!["--enforce"], "refuses --enforce"),
        (
            vec!["--deny-policy-arn", "arn:aws:iam::123456789012:policy/x"],
            "--deny-policy-name",
        ),
    ] {
        let out = org.cli(&args);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}"
        );
    }
}
