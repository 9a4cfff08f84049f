//! The deny policy's check and repair, against a policy whose writes can meet a concurrent change.

use crate::engine::deny_policy::*;
use crate::finding::Outcome;
use crate::policy::deny_policy_document;
use crate::policy::{self, RELEASES};
use crate::ports::PolicyVersion;
use crate::ports::{AwsError, DefaultPolicyVersion, PolicyReader, PolicyWriter};
use crate::run_report::DenyPolicyCheck;
use std::sync::Mutex;

const ARN: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";
const TAMPERED: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// A deny policy in memory whose writes can be made to fail once, the way a concurrent
/// change makes them fail, before the change itself happens.
struct Policy {
    state: Mutex<State>,
}

/// An error code to answer with, after a concurrent change to the state.
type Scripted = (&'static str, Box<dyn FnOnce(&mut State) + Send>);

struct State {
    versions: Vec<(String, String)>,
    default: String,
    /// Errors to return, in order, from the next writes (`None`: succeed).
    script: Vec<Option<Scripted>>,
    writes: Vec<String>,
}

impl Policy {
    fn new(versions: &[(&str, &str)], default: &str) -> Policy {
        Policy {
            state: Mutex::new(State {
                versions: versions
                    .iter()
                    .map(|(v, d)| (v.to_string(), d.to_string()))
                    .collect(),
                default: default.to_string(),
                script: Vec::new(),
                writes: Vec::new(),
            }),
        }
    }

    /// The next write fails with `code` after `change` is applied (a concurrent run
    /// got there first).
    fn then_fail(&self, code: &'static str, change: impl FnOnce(&mut State) + Send + 'static) {
        self.state
            .lock()
            .unwrap()
            .script
            .push(Some((code, Box::new(change))));
    }

    /// The next write succeeds (to script a failure after it).
    fn then_succeed(&self) {
        self.state.lock().unwrap().script.push(None);
    }

    fn write(&self, what: String, apply: impl FnOnce(&mut State)) -> Result<(), AwsError> {
        let mut state = self.state.lock().unwrap();
        state.writes.push(what);
        if !state.script.is_empty() {
            if let Some((code, change)) = state.script.remove(0) {
                change(&mut state);
                return Err(AwsError {
                    operation: "test",
                    code: Some(code.to_string()),
                    message: "concurrent change".into(),
                    retryable: false,
                });
            }
        }
        apply(&mut state);
        Ok(())
    }
}

impl PolicyReader for Policy {
    async fn default_policy_version(&self, _: &str) -> Result<DefaultPolicyVersion, AwsError> {
        let state = self.state.lock().unwrap();
        let document = state
            .versions
            .iter()
            .find(|(v, _)| *v == state.default)
            .map(|(_, d)| d.clone())
            .unwrap_or_default();
        Ok(DefaultPolicyVersion {
            id: state.default.clone(),
            document,
            tags: Vec::new(),
        })
    }
    async fn policy_versions(&self, _: &str) -> Result<Vec<PolicyVersion>, AwsError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .versions
            .iter()
            .map(|(id, _)| PolicyVersion {
                id: id.clone(),
                created: None,
            })
            .collect())
    }
    async fn policy_version_document(&self, _: &str, id: &str) -> Result<String, AwsError> {
        let state = self.state.lock().unwrap();
        state
            .versions
            .iter()
            .find(|(v, _)| v == id)
            .map(|(_, d)| d.clone())
            .ok_or(AwsError {
                operation: "GetPolicyVersion",
                code: Some("NoSuchEntity".into()),
                message: "gone".into(),
                retryable: false,
            })
    }
}

impl PolicyWriter for Policy {
    async fn set_default_policy_version(&self, _: &str, id: &str) -> Result<(), AwsError> {
        self.write(format!("set-default {id}"), |s| {
            assert!(s.versions.iter().any(|(v, _)| v == id));
            s.default = id.to_string();
        })
    }
    async fn tag_policy(&self, _: &str, _: &[(&'static str, String)]) -> Result<(), AwsError> {
        unreachable!("a repair never tags")
    }
    async fn delete_policy_version(&self, _: &str, id: &str) -> Result<(), AwsError> {
        self.write(format!("delete {id}"), |s| {
            assert_ne!(s.default, id, "IAM refuses to delete the default");
            s.versions.retain(|(v, _)| v != id);
        })
    }
}

fn canonical() -> String {
    deny_policy_document().to_string()
}

async fn run(policy: &Policy, dry: bool, depth: Depth) -> DenyPolicyCheck {
    let checked = read(policy, ARN).await.unwrap();
    keep_canonical(policy, (!dry).then_some(policy), checked, depth)
        .await
        .unwrap()
}

fn writes(policy: &Policy) -> Vec<String> {
    policy.state.lock().unwrap().writes.clone()
}

#[tokio::test]
async fn a_canonical_default_costs_nothing_more_unless_every_version_is_asked_for() {
    let c = canonical();
    let policy = Policy::new(&[("v1", &c), ("v2", TAMPERED)], "v1");
    let check = run(&policy, false, Depth::Default).await;
    assert!(check.canonical);
    assert_eq!(check.outcome, Outcome::AlreadyInPlace);
    assert!(writes(&policy).is_empty());
    // The deny policy's own events look at every version: a version written beside the
    // default is removed, its document kept.
    let check = run(&policy, false, Depth::AllVersions).await;
    assert!(check.canonical);
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(writes(&policy), ["delete v2"]);
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
    let policy = Policy::new(&[("v1", &c), ("v2", &c), ("v3", TAMPERED)], "v3");
    // Someone deletes v2 (the newest canonical) just before this run makes it the default.
    policy.then_fail("NoSuchEntity", |s| s.versions.retain(|(v, _)| v != "v2"));
    let check = run(&policy, false, Depth::Default).await;
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(
        writes(&policy),
        ["set-default v2", "set-default v1", "delete v3"]
    );
    let state = policy.state.lock().unwrap();
    assert_eq!(state.default, "v1");
    assert_eq!(state.versions.len(), 1);
    // The superseded attempt is not reported as a failure.
    assert!(check.actions.iter().all(|a| a.outcome == Outcome::Applied));
}

#[tokio::test]
async fn a_version_made_the_default_under_a_repair_is_undone_on_the_next_read() {
    let c = canonical();
    let policy = Policy::new(&[("v1", &c), ("v2", TAMPERED), ("v3", TAMPERED)], "v2");
    // After this run makes v1 the default, an attacker makes v3 the default again just
    // before it is deleted: IAM refuses (DeleteConflict).
    policy.then_succeed(); // set-default v1
    policy.then_succeed(); // delete v2
    policy.then_fail("DeleteConflict", |s| s.default = "v3".into());
    let check = run(&policy, false, Depth::Default).await;
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(
        writes(&policy),
        [
            "set-default v1",
            "delete v2",
            "delete v3",
            "set-default v1",
            "delete v3"
        ]
    );
    let state = policy.state.lock().unwrap();
    assert_eq!((state.default.as_str(), state.versions.len()), ("v1", 1));
}

#[tokio::test]
async fn conflicts_that_never_end_fail_the_repair_visibly() {
    let c = canonical();
    let policy = Policy::new(&[("v1", &c), ("v2", TAMPERED)], "v2");
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
    assert_eq!(writes(&policy).len(), REPAIR_ATTEMPTS);
}

#[tokio::test]
async fn a_write_that_is_refused_fails_the_repair_at_once() {
    let c = canonical();
    let policy = Policy::new(&[("v1", &c), ("v2", TAMPERED)], "v2");
    policy.then_fail("AccessDenied", |_| {});
    let check = run(&policy, false, Depth::Default).await;
    assert_eq!(check.outcome, Outcome::Failed);
    assert_eq!(writes(&policy), ["set-default v1"]);
}

#[tokio::test]
async fn an_update_undone_by_the_previous_release_is_brought_forward_by_the_next_run() {
    let older = RELEASES[RELEASES.len() - 2].text;
    let newest = RELEASES[RELEASES.len() - 1].text;
    let policy = Policy::new(&[("v1", older), ("v2", newest)], "v1");
    let check = run(&policy, false, Depth::Default).await;
    assert!(check.canonical && check.redeploy_recommended);
    assert_eq!(check.outcome, Outcome::Applied);
    assert_eq!(writes(&policy), ["set-default v2"]);
    // The older document stays, as a restore point; the next run needs nothing.
    let again = run(&policy, false, Depth::Default).await;
    assert!(!again.redeploy_recommended);
    assert_eq!(again.outcome, Outcome::AlreadyInPlace);
    // With no newer version present, there is nothing to bring forward: a redeploy is.
    let alone = Policy::new(&[("v1", older)], "v1");
    let check = run(&alone, false, Depth::Default).await;
    assert!(check.redeploy_recommended);
    assert_eq!(check.outcome, Outcome::AlreadyInPlace);
    assert!(writes(&alone).is_empty());
}

#[tokio::test]
async fn only_released_documents_are_canonical_and_older_ones_ask_for_a_redeploy() {
    // judge() knows only the real releases; an unknown document is not canonical.
    let check = judge(
        ARN,
        &DefaultPolicyVersion {
            id: "v1".into(),
            document: r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
            ..Default::default()
        },
    );
    assert!(!check.canonical);
    let newest = policy::newest_release();
    let check = judge(
        ARN,
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
            ARN,
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
        ARN,
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
