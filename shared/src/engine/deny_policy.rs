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
pub const REPAIR_ATTEMPTS: usize = 3;

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
        let Some(planned) = plan_repair(&versions, &default, &mut check) else {
            return Ok(check);
        };
        let Some(writer) = writer else {
            check.actions = planned;
            check.outcome = Outcome::Planned;
            return Ok(check);
        };
        if write_repair(writer, planned, attempt, &mut check).await == Written::Done {
            return Ok(check);
        }
    }
    // Unreachable: the last attempt treats a conflict as a failure.
    check.outcome = Outcome::Failed;
    Ok(check)
}

/// The writes that bring the versions read back to canonical ([`restore::restore`]), or `None`
/// when there is nothing to write, with the check's outcome set: already in place (or put in
/// place by a concurrent run), or no canonical version left (and what an operator must run).
fn plan_repair(
    versions: &[VersionRead],
    default: &DefaultPolicyVersion,
    check: &mut DenyPolicyCheck,
) -> Option<Vec<PolicyAction>> {
    let states: Vec<VersionState<'_>> = versions
        .iter()
        .map(|v| VersionState {
            id: &v.id,
            is_default: v.id == default.id,
            created: v.created,
            release: release_index(&v.document),
        })
        .collect();
    match restore::restore(&states) {
        Restore::InPlace => {
            check.outcome = if check.actions.is_empty() {
                Outcome::AlreadyInPlace
            } else {
                // A concurrent run finished what this one started.
                Outcome::Applied
            };
            None
        }
        Restore::NoCanonicalVersion { prune } => {
            warn!(policy = %check.arn, "no version of the deny policy is canonical: nothing written; an operator must create one");
            check.outcome = Outcome::Skipped;
            check.detail = Some(NO_CANONICAL_VERSION.to_string());
            check.operator_commands = restore::operator_commands(&check.arn, prune);
            None
        }
        Restore::Repair {
            set_default,
            delete,
        } => Some(
            set_default
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
        ),
    }
}

/// How a repair's writes ended.
#[derive(Debug, PartialEq, Eq)]
enum Written {
    /// Every write made, or one failed: the check says which.
    Done,
    /// A concurrent change met a write (and attempts remain): read again.
    Conflict,
}

/// Makes the repair's writes in order, recording each in the check; stops at the first
/// failure, or at a conflict while attempts remain.
async fn write_repair<W: PolicyWriter>(
    writer: &W,
    planned: Vec<PolicyAction>,
    attempt: usize,
    check: &mut DenyPolicyCheck,
) -> Written {
    let arn = check.arn.clone();
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
                return Written::Conflict;
            }
            Err(e) => {
                warn!(policy = %arn, error = %e, action = action.kind.as_str(), version = %action.version, "repairing the deny policy failed");
                action.outcome = Outcome::Failed;
                action.error = Some(e.to_string());
                check.actions.push(action);
                check.outcome = Outcome::Failed;
                return Written::Done;
            }
        }
    }
    info!(policy = %arn, actions = check.actions.len(), "deny policy repaired");
    check.outcome = Outcome::Applied;
    Written::Done
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
