//! The deny policy's check and repair, including every branch of a repair that meets a
//! concurrent change.

use super::*;
use crate::engine::deny_policy::*;
use crate::finding::Outcome;
use crate::policy::{self, RELEASES};
use crate::ports::DefaultPolicyVersion;
use crate::run_report::DenyPolicyCheck;

/// IAM holding only the deny policy, its versions `v1`... holding `documents`, and `default`.
fn with_versions(documents: &[&str], default: &str) -> InMemoryIam {
    let iam = account(vec![]);
    iam.change(|s| {
        let mut p = ManagedPolicy::with_versions(documents);
        p.default = default.to_string();
        s.policies.insert(DENY.into(), p);
    });
    iam
}

async fn run(iam: &InMemoryIam, dry: bool, depth: Depth) -> DenyPolicyCheck {
    let checked = read(iam, DENY).await.unwrap();
    keep_canonical(iam, (!dry).then_some(iam), checked, depth)
        .await
        .unwrap()
}

/// The policy's default and its versions now.
fn versions(iam: &InMemoryIam) -> (String, Vec<String>) {
    let p = &iam.state().policies[DENY];
    (
        p.default.clone(),
        p.versions.iter().map(|v| v.id.clone()).collect(),
    )
}

fn remove_version(id: &'static str) -> impl FnOnce(&mut State) + Send {
    move |s: &mut State| {
        if let Some(p) = s.policies.get_mut(DENY) {
            p.versions.retain(|v| v.id != id);
        }
    }
}

#[tokio::test]
async fn a_canonical_default_costs_nothing_more_unless_every_version_is_asked_for() {
    let c = canonical();
    let policy = with_versions(&[&c, TAMPERED], "v1");
    let check = run(&policy, false, Depth::Default).await;
    assert!(check.canonical);
    assert_eq!(check.outcome, Outcome::AlreadyInPlace);
    assert!(policy.writes().is_empty());
    // The deny policy's own events look at every version: a version written beside the
    // default is removed, its document kept.
    let check = run(&policy, false, Depth::AllVersions).await;
    assert!(check.canonical);
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(policy.writes(), ["DeletePolicyVersion v2"]);
    assert_eq!(check.actions[0].document.as_deref(), Some(TAMPERED));
    assert!(check.needs_alert());
    // And then there is nothing left to do.
    let again = run(&policy, false, Depth::AllVersions).await;
    assert_eq!(again.outcome, Outcome::AlreadyInPlace);
    assert!(!again.needs_alert());
}

#[tokio::test]
async fn a_version_deleted_under_a_repair_makes_it_read_again_and_choose_another() {
    let c = canonical();
    let policy = with_versions(&[&c, &c, TAMPERED], "v3");
    // Someone deletes v2 (the newest canonical) just before this run makes it the default.
    policy.then_fail("NoSuchEntity", remove_version("v2"));
    let check = run(&policy, false, Depth::Default).await;
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(
        policy.writes(),
        [
            "SetDefaultPolicyVersion v2",
            "SetDefaultPolicyVersion v1",
            "DeletePolicyVersion v3"
        ]
    );
    assert_eq!(versions(&policy), ("v1".into(), vec!["v1".into()]));
    // The superseded attempt is not reported as a failure.
    assert!(check.actions.iter().all(|a| a.outcome == Outcome::Applied));
}

#[tokio::test]
async fn a_version_made_the_default_under_a_repair_is_undone_on_the_next_read() {
    let c = canonical();
    let policy = with_versions(&[&c, TAMPERED, TAMPERED], "v2");
    // After this run makes v1 the default, an attacker makes v3 the default again just
    // before it is deleted: IAM refuses (DeleteConflict).
    policy.then_succeed(); // set-default v1
    policy.then_succeed(); // delete v2
    policy.then_fail("DeleteConflict", |s| {
        if let Some(p) = s.policies.get_mut(DENY) {
            p.default = "v3".into();
        }
    });
    let check = run(&policy, false, Depth::Default).await;
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(
        policy.writes(),
        [
            "SetDefaultPolicyVersion v1",
            "DeletePolicyVersion v2",
            "DeletePolicyVersion v3",
            "SetDefaultPolicyVersion v1",
            "DeletePolicyVersion v3"
        ]
    );
    assert_eq!(versions(&policy), ("v1".into(), vec!["v1".into()]));
}

#[tokio::test]
async fn conflicts_that_never_end_fail_the_repair_visibly() {
    let c = canonical();
    let policy = with_versions(&[&c, TAMPERED], "v2");
    for _ in 0..REPAIR_ATTEMPTS {
        policy.then_fail("ConcurrentModification", |_| {});
    }
    let check = run(&policy, false, Depth::Default).await;
    assert_eq!(check.outcome, Outcome::Failed);
    let last = check.actions.last().unwrap();
    assert_eq!(last.outcome, Outcome::Failed);
    assert!(last
        .error
        .as_deref()
        .unwrap()
        .contains("ConcurrentModification"));
    assert_eq!(policy.writes().len(), REPAIR_ATTEMPTS);
}

#[tokio::test]
async fn a_write_that_is_refused_fails_the_repair_at_once() {
    let c = canonical();
    let policy = with_versions(&[&c, TAMPERED], "v2");
    policy.then_fail("AccessDenied", |_| {});
    let check = run(&policy, false, Depth::Default).await;
    assert_eq!(check.outcome, Outcome::Failed);
    assert_eq!(policy.writes(), ["SetDefaultPolicyVersion v1"]);
}

#[tokio::test]
async fn an_update_undone_by_the_previous_release_is_brought_forward_by_the_next_run() {
    let older = RELEASES[RELEASES.len() - 2].text;
    let newest = RELEASES[RELEASES.len() - 1].text;
    let policy = with_versions(&[older, newest], "v1");
    let check = run(&policy, false, Depth::Default).await;
    assert!(check.canonical && check.redeploy_recommended);
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(policy.writes(), ["SetDefaultPolicyVersion v2"]);
    // The older document stays, as a restore point; the next run needs nothing.
    let again = run(&policy, false, Depth::Default).await;
    assert!(!again.redeploy_recommended);
    assert_eq!(again.outcome, Outcome::AlreadyInPlace);
    // With no newer version present, there is nothing to bring forward: a redeploy is.
    let alone = with_versions(&[older], "v1");
    let check = run(&alone, false, Depth::Default).await;
    assert!(check.redeploy_recommended);
    assert_eq!(check.outcome, Outcome::AlreadyInPlace);
    assert!(alone.writes().is_empty());
}

#[tokio::test]
async fn only_released_documents_are_canonical_and_older_ones_ask_for_a_redeploy() {
    // judge() knows only the real releases; an unknown document is not canonical.
    let check = judge(
        DENY,
        &DefaultPolicyVersion {
            id: "v1".into(),
            document: r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
            ..Default::default()
        },
    );
    assert!(!check.canonical);
    let newest = policy::newest_release();
    let check = judge(
        DENY,
        &DefaultPolicyVersion {
            id: "v1".into(),
            document: newest.text.into(),
            ..Default::default()
        },
    );
    assert!(check.canonical);
    assert_eq!(check.release.as_deref(), Some(newest.version));
    assert!(!check.redeploy_recommended);
    for release in RELEASES {
        let check = judge(
            DENY,
            &DefaultPolicyVersion {
                id: "v1".into(),
                document: release.text.into(),
                ..Default::default()
            },
        );
        assert_eq!(
            check.redeploy_recommended,
            release.version != newest.version,
            "{}",
            release.version
        );
    }
}

#[tokio::test]
async fn a_repeated_key_is_never_canonical_and_says_why() {
    let text = canonical().replacen(
        r#""Effect":"Deny""#,
        r#""Effect":"Allow","Effect":"Deny""#,
        1,
    );
    let check = judge(
        DENY,
        &DefaultPolicyVersion {
            id: "v2".into(),
            document: text,
            ..Default::default()
        },
    );
    assert!(!check.canonical);
    assert!(check
        .document_error
        .as_deref()
        .unwrap()
        .contains("appears twice"));
}
