use super::*;
use mfa_enforcer::finding::{FindingFacts, Reason};
use mfa_enforcer::org::report::OrgTotals;
use mfa_enforcer::org::OrgAccount;
use mfa_enforcer::run_report::Summary;
use proptest::prelude::*;

fn finding(user: &str, status: Status) -> Finding {
    Finding {
        user: user.into(),
        arn: format!("arn:aws:iam::123456789012:user/{user}"),
        user_id: None,
        status,
        reasons: vec![Reason::NoMfa],
        mfa_active: false,
        password_enabled: Some(true),
        groups: vec![],
        exempt_until: None,
        mfa_devices: vec![],
        access_keys: Default::default(),
        actions: vec![],
        facts: FindingFacts::default(),
    }
}

fn org_report(account_name: &str, user: &str) -> OrgReport {
    let account = OrgAccount {
        id: "111111111111".into(),
        name: account_name.into(),
        status: "ACTIVE".into(),
        ou_ids: vec![],
        ou_path: format!("Root/{account_name}"),
    };
    let mut run = RunReport::empty("111111111111", chrono::Utc::now(), true);
    run.findings = vec![finding(user, Status::NonCompliant)];
    run.summary = Summary::count(&run.findings, None);
    let audited = AccountEntry::audited(&account, run);
    let gone = AccountEntry::unreachable(&account, format!("AccessDenied for {account_name}"));
    let mut totals = OrgTotals::default();
    totals.add(&audited);
    totals.add(&gone);
    OrgReport {
        organization_id: "o-example".into(),
        generated_at: chrono::Utc::now(),
        run_id: "run".into(),
        accounts: vec![audited, gone],
        totals,
    }
}

/// The markup a page has of its own: every `<` in it, by tag name.
fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .map(|t| {
            t.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '!')
                .collect()
        })
        .collect()
}

#[test]
fn a_hostile_account_name_is_text_and_the_page_fetches_nothing() {
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let html = organization(&org_report(hostile, "\"><svg onload=alert(3)>")).unwrap();
    assert!(!html.contains(hostile) && !html.contains("<img") && !html.contains("<svg onload"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "escaped"
    );
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    for fetch in ["http://", "https://", "src=\"", "@import", "url("] {
        assert!(!html.contains(fetch), "{fetch}");
    }
    assert!(html.contains("default-src 'none'"));
}

#[test]
fn the_numbers_are_the_reports() {
    let report = org_report("prod", "bob");
    let html = organization(&report).unwrap();
    assert!(
        html.contains(r#"id="total-accounts" data-value="2""#),
        "{html}"
    );
    assert!(html.contains(r#"id="total-unreachable" data-value="1""#));
    assert!(html.contains(r#"data-status="non_compliant" data-count="1""#));
    assert!(html.contains(r#"<tr data-account="111111111111"><td>111111111111</td><td>prod</td>"#));
    let mut single = RunReport::empty("123456789012", chrono::Utc::now(), true);
    single.findings = vec![
        finding("ann", Status::Compliant),
        finding("bob", Status::NonCompliant),
    ];
    single.summary = Summary::count(&single.findings, None);
    let html = account(&single).unwrap();
    assert!(html.contains(r#"data-status="compliant" data-count="1""#));
    assert!(html.contains(r#"id="total-users" data-value="2""#));
    assert!(
        !html.contains(r#"id="ranking""#),
        "no org sections for one account"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever names and tags hold, the page's markup is its own.
    #[test]
    fn no_value_becomes_markup(
        name in "[<>&\"'a-z =/]{0,24}",
        user in "[<>&\"'a-z =/+@-]{0,24}",
    ) {
        let clean = organization(&org_report("plain", "plain")).unwrap();
        let html = organization(&org_report(&name, &user)).unwrap();
        prop_assert_eq!(tags(&html), tags(&clean));
    }
}
