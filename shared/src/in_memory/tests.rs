//! The IAM behaviour the in-memory IAM claims to keep.

use super::*;
use crate::ports::{AccountReader, PolicyReader, PolicyWriter, RemediationWriter, TargetedReader};
use chrono::{Duration, TimeZone, Utc};

const POLICY: &str = "arn:aws:iam::123456789012:policy/P";

fn iam() -> InMemoryIam {
    let mut state = State::new(ACCOUNT_ID);
    state
        .policies
        .insert(POLICY.into(), ManagedPolicy::with_versions(&["{}", "{}"]));
    state.groups.insert("G".into(), Group::default());
    state.add_user("ann", User::console().in_group("G"));
    InMemoryIam::new(state)
}

#[tokio::test]
async fn a_report_is_served_until_older_than_asked_then_generated_again() {
    let iam = iam();
    let t0 = Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap();
    let first = iam.credential_report(Duration::hours(4), t0).await.unwrap();
    assert!(first.generated_by_this_run);
    iam.change(|s| s.add_user("ben", User::console()));
    let later = t0 + Duration::hours(3);
    let cached = iam
        .credential_report(Duration::hours(4), later)
        .await
        .unwrap();
    assert_eq!(
        (cached.generated_at, cached.generated_by_this_run),
        (t0, false)
    );
    assert!(!String::from_utf8(cached.content).unwrap().contains("ben,"));
    let fresh = iam
        .credential_report(Duration::hours(1), later)
        .await
        .unwrap();
    assert!(fresh.generated_by_this_run);
    assert!(String::from_utf8(fresh.content)
        .unwrap()
        .contains("\nben,arn:aws:iam::123456789012:user/ben,"));
}

#[tokio::test]
async fn writes_to_what_does_not_exist_fail_as_iam_fails_them() {
    let iam = iam();
    let code = |r: Result<(), crate::ports::AwsError>| r.unwrap_err().code.unwrap();
    assert_eq!(
        code(iam.attach_user_policy("ghost", POLICY).await),
        "NoSuchEntity"
    );
    assert_eq!(
        code(
            iam.attach_user_policy("ann", "arn:aws:iam::123456789012:policy/X")
                .await
        ),
        "NoSuchEntity"
    );
    assert_eq!(
        code(iam.add_user_to_group("ann", "Nope").await),
        "NoSuchEntity"
    );
    assert_eq!(
        code(iam.delete_policy_version(POLICY, "v2").await),
        "DeleteConflict"
    );
    assert_eq!(
        code(iam.set_default_policy_version(POLICY, "v9").await),
        "NoSuchEntity"
    );
    iam.delete_policy_version(POLICY, "v1").await.unwrap();
    assert_eq!(
        code(iam.delete_policy_version(POLICY, "v1").await),
        "NoSuchEntity"
    );
    // Attaching twice is one attachment.
    iam.attach_user_policy("ann", POLICY).await.unwrap();
    iam.attach_user_policy("ann", POLICY).await.unwrap();
    assert_eq!(iam.state().users["ann"].policies, [POLICY]);
    assert_eq!(
        iam.group_members("G").await.unwrap(),
        Some(vec!["ann".into()])
    );
    assert_eq!(iam.group_members("Nope").await.unwrap(), None);
    assert!(iam.user("ghost").await.unwrap().is_none());
}

#[tokio::test]
async fn scripted_writes_are_consumed_in_order_and_faults_match_their_subject() {
    let iam = iam();
    iam.then_succeed();
    iam.then_fail("ConcurrentModification", |s| {
        s.add_user("eve", User::console())
    });
    iam.tag_user("ann", &[("k", "v".into())]).await.unwrap();
    let err = iam.tag_user("ann", &[("k", "w".into())]).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("ConcurrentModification"));
    assert_eq!(err.operation, "TagUser");
    let state = iam.state();
    assert!(
        state.users.contains_key("eve"),
        "the concurrent change happened"
    );
    assert_eq!(
        state.users["ann"].tags.get("k"),
        Some("v"),
        "the failed write did not"
    );
    iam.fail("GetUser", Some("eve"), "Throttling");
    assert!(iam.user("ann").await.is_ok());
    let err = iam.user("eve").await.unwrap_err();
    assert!(err.retryable);
    assert_eq!(iam.writes(), ["TagUser ann", "TagUser ann"]);
    assert_eq!(iam.reads(), ["GetUser", "GetUser"]);
    assert!(iam.default_policy_version(POLICY).await.is_ok());
}
