//! The deny policy, checked before any run relies on it and brought back when it was changed.
//!
//! Every run reads the deny policy's default version (GetPolicy + GetPolicyVersion: two reads,
//! beside its other reads) and compares it with every document this project released
//! ([`crate::policy::RELEASES`]). Only a canonical default lets users count as `enforced` and
//! lets the run attach anything: attaching a policy whose content is unknown could grant
//! anything at all.
//!
//! When the default is not canonical (and, for the deny policy's own CloudTrail events,
//! whenever any version is not), every version is read and the policy is repaired without a
//! word of policy being written ([`crate::policy::restore`]): a canonical version becomes the
//! default, then every non-canonical version is deleted, its document kept in the report and
//! the alert. When no canonical version is left the run writes nothing and says what an
//! operator must run.

use crate::finding::Outcome;
use crate::policy::restore::{self, Restore, VersionState};
use crate::policy::{self, RELEASES};
use crate::ports::{AwsError, DefaultPolicyVersion, PolicyReader, PolicyWriter};
use crate::run_report::{DenyPolicyCheck, PolicyAction, PolicyActionKind};
use tracing::{info, warn};

/// Detail of a restore that could not happen because no version holds a canonical document.
pub const NO_CANONICAL_VERSION: &str = "no_canonical_version";

/// How far a check looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// The default version only; the other versions are read only to repair a non-canonical
    /// default. Whole-account runs and user events.
    Default,
    /// Every version, so that a non-canonical version written beside a canonical default is
    /// removed too. The deny policy's own events.
    AllVersions,
}

/// How many times a repair starts over after a concurrent change (a version deleted, or
/// made the default, between this run's read and its write).
const REPAIR_ATTEMPTS: usize = 3;

/// Judges the default version as read. Pure.
pub fn judge(arn: &str, default: &DefaultPolicyVersion) -> DenyPolicyCheck {
    let newest = policy::newest_release();
    let release = policy::canonical_release(&default.document);
    let document_error = policy::parse_document(&default.document).err();
    DenyPolicyCheck {
        arn: arn.to_string(),
        default_version: default.id.clone(),
        canonical: release.is_some(),
        release: release.map(|r| r.version.to_string()),
        newest_release: newest.version.to_string(),
        redeploy_recommended: release.is_some_and(|r| r.version != newest.version),
        document_error,
        outcome: Outcome::AlreadyInPlace,
        detail: None,
        actions: Vec::new(),
        operator_commands: Vec::new(),
        exempt_digest: default
            .tags
            .iter()
            .find(|(k, _)| k == crate::tag_keys::EXEMPT_DIGEST_TAG)
            .map(|(_, v)| v.clone()),
    }
}

impl DenyPolicyCheck {
    /// Whether someone must hear about it: the default was not canonical, or versions had to
    /// be (or would be) removed.
    pub fn needs_alert(&self) -> bool {
        !self.canonical || !self.actions.is_empty()
    }
}

/// The default version as read, and the verdict on it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The verdict, and (once [`keep_canonical`] ran) what was done.
    pub check: DenyPolicyCheck,
    /// The default version read.
    pub default: DefaultPolicyVersion,
}

/// Reads the default version and judges it.
///
/// Fails when the policy cannot be read (throttled, denied, missing): the run then fails as a
/// read failure, with no tampering alert.
pub async fn read<R: PolicyReader>(reader: &R, arn: &str) -> Result<Checked, AwsError> {
    let default = reader.default_policy_version(arn).await?;
    let check = judge(arn, &default);
    if check.canonical {
        info!(policy = arn, version = %check.default_version, release = ?check.release, "deny policy is canonical");
    } else {
        warn!(policy = arn, version = %check.default_version, "deny policy's default version is not a canonical document");
    }
    Ok(Checked { check, default })
}

/// Makes sure the deny policy stays canonical: repairs it when the default is not (or, at
/// [`Depth::AllVersions`], when any version is not), unless this is a dry run (no writer),
/// in which case the repair is reported as `planned`. Returns the check with what was done.
///
/// Safe against concurrent runs: they choose the same version; deleting a version already
/// gone counts as done; a conflict makes the run read again, at most [`REPAIR_ATTEMPTS`]
/// times. Fails only when a read fails; a failed write is recorded in the check.
pub async fn keep_canonical<R: PolicyReader, W: PolicyWriter>(
    reader: &R,
    writer: Option<&W>,
    checked: Checked,
    depth: Depth,
) -> Result<DenyPolicyCheck, AwsError> {
    let Checked { mut check, default } = checked;
    // A canonical default of an older release is worth a look at every version: a stack
    // update may have left the newer document as a non-default version (the previous
    // release's event function, which does not know it, made the old one the default again).
    if check.canonical && !check.redeploy_recommended && depth == Depth::Default {
        return Ok(check);
    }
    let arn = check.arn.clone();
    let mut default = default;
    for attempt in 1..=REPAIR_ATTEMPTS {
        if attempt > 1 {
            default = reader.default_policy_version(&arn).await?;
        }
        let versions = read_versions(reader, &arn, &default).await?;
        let states: Vec<VersionState<'_>> = versions
            .iter()
            .map(|v| VersionState {
                id: &v.id,
                is_default: v.id == default.id,
                created: v.created,
                release: release_index(&v.document),
            })
            .collect();
        let planned: Vec<PolicyAction> = match restore::restore(&states) {
            Restore::InPlace => {
                if check.actions.is_empty() {
                    check.outcome = Outcome::AlreadyInPlace;
                } else {
                    // A concurrent run finished what this one started.
                    check.outcome = Outcome::Applied;
                }
                return Ok(check);
            }
            Restore::NoCanonicalVersion { prune } => {
                warn!(policy = %arn, "no version of the deny policy is canonical: nothing written; an operator must create one");
                check.outcome = Outcome::Skipped;
                check.detail = Some(NO_CANONICAL_VERSION.to_string());
                check.operator_commands = restore::operator_commands(&arn, prune);
                return Ok(check);
            }
            Restore::Repair {
                set_default,
                delete,
            } => set_default
                .map(|v| action(PolicyActionKind::SetDefaultVersion, v, None))
                .into_iter()
                .chain(delete.into_iter().map(|v| {
                    let document = versions
                        .iter()
                        .find(|r| r.id == v)
                        .map(|r| r.document.clone());
                    action(PolicyActionKind::DeleteVersion, v, document)
                }))
                .collect(),
        };
        let Some(writer) = writer else {
            check.actions = planned;
            check.outcome = Outcome::Planned;
            return Ok(check);
        };
        let mut conflict = false;
        for mut action in planned {
            let result = match action.kind {
                PolicyActionKind::SetDefaultVersion => {
                    writer
                        .set_default_policy_version(&arn, &action.version)
                        .await
                }
                PolicyActionKind::DeleteVersion => {
                    writer.delete_policy_version(&arn, &action.version).await
                }
            };
            match result {
                Ok(()) => {
                    info!(policy = %arn, action = action.kind.as_str(), version = %action.version, outcome = "applied", "deny policy");
                    action.outcome = Outcome::Applied;
                    check.actions.push(action);
                }
                Err(e) if is_conflict(&e) && attempt < REPAIR_ATTEMPTS => {
                    info!(policy = %arn, error = %e, attempt, "repair met a concurrent change; reading again");
                    conflict = true;
                    break;
                }
                Err(e) => {
                    warn!(policy = %arn, error = %e, action = action.kind.as_str(), version = %action.version, "repairing the deny policy failed");
                    action.outcome = Outcome::Failed;
                    action.error = Some(e.to_string());
                    check.actions.push(action);
                    check.outcome = Outcome::Failed;
                    return Ok(check);
                }
            }
        }
        if !conflict {
            info!(policy = %arn, actions = check.actions.len(), "deny policy repaired");
            check.outcome = Outcome::Applied;
            return Ok(check);
        }
    }
    // Unreachable: the last attempt treats a conflict as a failure.
    check.outcome = Outcome::Failed;
    Ok(check)
}

/// A version with its document.
struct VersionRead {
    id: String,
    created: Option<chrono::DateTime<chrono::Utc>>,
    document: String,
}

/// Every version and its document: one GetPolicyVersion per version but the default, whose
/// document is already known.
async fn read_versions<R: PolicyReader>(
    reader: &R,
    arn: &str,
    default: &DefaultPolicyVersion,
) -> Result<Vec<VersionRead>, AwsError> {
    let listed = reader.policy_versions(arn).await?;
    let mut versions = Vec::with_capacity(listed.len());
    for v in listed {
        let document = if v.id == default.id {
            default.document.clone()
        } else {
            reader.policy_version_document(arn, &v.id).await?
        };
        versions.push(VersionRead {
            id: v.id,
            created: v.created,
            document,
        });
    }
    Ok(versions)
}

fn release_index(document: &str) -> Option<usize> {
    let release = policy::canonical_release(document)?;
    RELEASES.iter().position(|r| r.version == release.version)
}

fn action(kind: PolicyActionKind, version: &str, document: Option<String>) -> PolicyAction {
    PolicyAction {
        kind,
        version: version.to_string(),
        outcome: Outcome::Planned,
        error: None,
        document,
    }
}

/// Errors that mean another run (or person) changed the versions since they were read: a
/// version deleted (`NoSuchEntity`), a version to delete made the default (`DeleteConflict`).
fn is_conflict(e: &AwsError) -> bool {
    matches!(
        e.code.as_deref(),
        Some("NoSuchEntity" | "DeleteConflict" | "ConcurrentModification")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::deny_policy_document;
    use crate::ports::PolicyVersion;
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
}
