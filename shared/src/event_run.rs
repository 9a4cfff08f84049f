//! The event path: read live only what a CloudTrail event names, then the engine's common tail.
//!
//! Users named by an event are read live (the credential report can be hours old) and go
//! through the same `evaluate`, `plan`, guard and `apply` as a whole-account run. The deny
//! policy's default version is compared with the canonical document and restored when it
//! differs. Exemptions and tampering are announced whatever else the run found.

use crate::engine::{act, announce, decide, EngineError, Outgoing, Ports};
use crate::event::{IamEvent, Target};
use crate::finding::{Action, ActionKind, Outcome};
use crate::notify::Alert;
use crate::policy;
use crate::ports::{
    AwsError, Notifier, PolicyVersions, PolicyWriter, RemediationWriter, TargetedReader,
};
use crate::run_report::{DenyPolicyCheck, RunReport};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, IamGroup, UserFacts};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use std::collections::{BTreeSet, HashMap};
use tracing::{info, warn};

/// Handles one event that is not ignored: re-evaluates the users it names (or the members of
/// the group it names), or checks the deny policy; then announces what must be announced.
///
/// The account is the event's `recipientAccountId` (the handler has already ignored events of
/// other accounts). Fails only when a read fails; failed writes and notifications are in the
/// report.
pub async fn handle_event<R, W, N>(
    ports: Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
    event: &IamEvent,
    target: &Target,
) -> Result<RunReport, EngineError>
where
    R: TargetedReader,
    W: RemediationWriter + PolicyWriter,
    N: Notifier,
{
    let account_id = event.account_id.as_str();
    let mut alerts_due = Vec::new();
    let mut report = match target {
        Target::Ignore(_) => RunReport::empty(account_id, now, ports.writer.is_none()),
        Target::Users {
            users,
            exemption_granted,
        } => {
            let report = audit_users(&ports, settings, now, account_id, users).await?;
            if *exemption_granted {
                alerts_due.extend(users.iter().map(|u| AlertDue::Exemption(u.clone())));
            }
            report
        }
        Target::GroupMembers { group, deleted } => {
            let members = ports.reader.group_members(group).await?;
            info!(
                group,
                members = members.as_ref().map_or(0, Vec::len),
                deleted,
                "re-evaluating the group's members"
            );
            if *deleted && settings.enforcement_group.as_deref() == Some(group.as_str()) {
                alerts_due.push(AlertDue::GroupDeleted(group.clone()));
            }
            audit_users(
                &ports,
                settings,
                now,
                account_id,
                &members.unwrap_or_default(),
            )
            .await?
        }
        Target::DenyPolicy => {
            let report = check_deny_policy(&ports, settings, now, account_id).await?;
            if report.deny_policy.as_ref().is_some_and(|c| !c.canonical) {
                alerts_due.push(AlertDue::DenyPolicy);
            }
            report
        }
    };
    report.event = Some(event.clone());
    let mut alerts = Vec::new();
    for due in alerts_due {
        let check = report.deny_policy.as_ref();
        let alert = match &due {
            AlertDue::Exemption(user) => Alert::ExemptionGranted { user },
            AlertDue::GroupDeleted(group) => Alert::EnforcementGroupDeleted { group },
            AlertDue::DenyPolicy => match check {
                Some(c) => Alert::DenyPolicyChanged {
                    policy_arn: &c.policy_arn,
                    found_version: &c.default_version,
                    action: c.actions.first(),
                },
                None => continue,
            },
        };
        alerts.push(Outgoing::alert(account_id, Some(event), &alert));
    }
    announce(
        ports.writer,
        ports.notifier,
        settings,
        now,
        &mut report,
        alerts,
    )
    .await;
    Ok(report)
}

/// An alert decided before the report exists, rendered once it does.
enum AlertDue {
    Exemption(String),
    GroupDeleted(String),
    DenyPolicy,
}

/// Reads the named users live (and, once, the groups that carry the deny policy), then
/// evaluates, plans and applies exactly as a whole-account run does.
async fn audit_users<R, W, N>(
    ports: &Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
    account_id: &str,
    users: &[String],
) -> Result<RunReport, EngineError>
where
    R: TargetedReader,
    W: RemediationWriter,
{
    let names: Vec<&String> = users.iter().collect::<BTreeSet<_>>().into_iter().collect();
    if names.is_empty() {
        return Ok(RunReport::empty(account_id, now, ports.writer.is_none()));
    }
    let reader = ports.reader;
    let reads = stream::iter(names.iter().copied())
        .map(|name| async move { reader.user(name).await.map(|u| (name, u)) })
        .buffered(settings.max_concurrency)
        .collect::<Vec<_>>()
        .await;
    // Which groups carry the deny policy matters only for users in a group: one call,
    // whatever the number of groups, and none for a new user who is in none.
    let in_a_group = reads
        .iter()
        .any(|r| matches!(r, Ok((_, Some(u))) if !u.iam.groups.is_empty()));
    let deny_groups = if in_a_group {
        reader.groups_with_policy(&settings.deny_policy_arn).await?
    } else {
        Vec::new()
    };
    let users = reads
        .into_iter()
        .map(|read| {
            let (name, live) = read?;
            Ok(match live {
                Some(live) => UserFacts {
                    name: live.iam.name.clone(),
                    arn: live.iam.arn.clone(),
                    is_root: false,
                    created: live.iam.created,
                    password_enabled: Some(live.state.password_enabled),
                    mfa_active: live.state.mfa_active,
                    iam: Some(live.iam),
                },
                None => {
                    info!(user = %name, "no such user: nothing to enforce");
                    UserFacts {
                        name: name.clone(),
                        arn: format!("arn:aws:iam::{account_id}:user/{name}"),
                        is_root: false,
                        created: None,
                        password_enabled: Some(false),
                        mfa_active: false,
                        iam: None,
                    }
                }
            })
        })
        .collect::<Result<Vec<_>, AwsError>>()?;
    let snapshot = AccountSnapshot {
        account_id: account_id.to_string(),
        report_generated_at: None,
        users,
        groups: deny_groups
            .into_iter()
            .map(|name| {
                let group = IamGroup {
                    name: name.clone(),
                    attached_policy_arns: vec![settings.deny_policy_arn.clone()],
                };
                (name, group)
            })
            .collect::<HashMap<_, _>>(),
    };
    let (findings, plan) = decide(&snapshot, settings, now, ports.writer.is_none());
    Ok(act(ports.writer, &snapshot, findings, plan, settings, now).await)
}

/// How many times a restore starts over after a conflict with a concurrent run: a version
/// deleted, or IAM's limit reached, between this run's read and its write.
const RESTORE_ATTEMPTS: usize = 3;

/// Compares the deny policy's default version with the canonical document; when they differ,
/// makes the canonical document the default again, unless this is a dry run: an existing
/// canonical version becomes the default, or else a new one is created (pruning the oldest
/// non-default version at IAM's limit of five).
///
/// Safe against concurrent runs (two events of one tampering arrive together): they choose
/// the same existing version; a run that created a version removes the copies another left;
/// a conflict makes the run read again and start over, at most [`RESTORE_ATTEMPTS`] times.
async fn check_deny_policy<R, W, N>(
    ports: &Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
    account_id: &str,
) -> Result<RunReport, EngineError>
where
    R: TargetedReader,
    W: PolicyWriter,
{
    let arn = settings.deny_policy_arn.as_str();
    let mut checked: Option<(String, bool)> = None;
    let mut actions = Vec::new();
    for attempt in 1..=RESTORE_ATTEMPTS {
        let found = ports.reader.policy_versions(arn).await?;
        let default_version = found
            .versions
            .iter()
            .find(|v| v.is_default)
            .map(|v| v.id.clone())
            .unwrap_or_default();
        let canonical = policy::is_canonical(&found.default_document);
        let (_, tampered) = checked.get_or_insert_with(|| (default_version.clone(), !canonical));
        if canonical {
            if *tampered {
                // Restored between this run's first read and now, by a concurrent run.
                info!(policy = arn, version = %default_version, "deny policy restored by a concurrent run");
                actions.push(restore_action(
                    arn,
                    Outcome::AlreadyInPlace,
                    Some(format!(
                        "default {default_version} is canonical again (a concurrent restore)"
                    )),
                ));
            } else {
                info!(policy = arn, version = %default_version, "deny policy is canonical");
            }
            break;
        }
        warn!(policy = arn, version = %default_version, "deny policy's default version is not the canonical document");
        let states = version_states(ports.reader, arn, &found).await?;
        let plan = policy::restore(&states);
        let Some(writer) = ports.writer else {
            actions.push(restore_action(arn, Outcome::Planned, Some(describe(plan))));
            break;
        };
        match apply_restore(ports.reader, writer, arn, plan).await {
            Ok(detail) => {
                info!(policy = arn, detail, "deny policy restored");
                actions.push(restore_action(arn, Outcome::Applied, Some(detail)));
                break;
            }
            Err(e) if is_conflict(&e) && attempt < RESTORE_ATTEMPTS => {
                info!(policy = arn, error = %e, attempt, "restore met a concurrent change; reading again");
            }
            Err(e) => {
                warn!(policy = arn, error = %e, "restoring the deny policy failed");
                let mut action = restore_action(arn, Outcome::Failed, Some(describe(plan)));
                action.error = Some(e.to_string());
                actions.push(action);
                break;
            }
        }
    }
    let (default_version, tampered) = checked.unwrap_or_default();
    let canonical = !tampered;
    let mut report = RunReport::empty(account_id, now, ports.writer.is_none());
    for action in &actions {
        report.summary.count_action(action.outcome);
    }
    report.deny_policy = Some(DenyPolicyCheck {
        policy_arn: arn.to_string(),
        default_version,
        canonical,
        actions,
    });
    Ok(report)
}

fn restore_action(arn: &str, outcome: Outcome, detail: Option<String>) -> Action {
    Action {
        kind: ActionKind::RestoreDenyPolicy,
        target: arn.to_string(),
        outcome,
        error: None,
        detail,
    }
}

/// What a restore would do, in words.
fn describe(plan: policy::Restore<'_>) -> String {
    match plan {
        policy::Restore::InPlace => "already canonical".to_string(),
        policy::Restore::SetDefault(version) => format!("makes {version} the default again"),
        policy::Restore::Create { prune: None } => "creates a new default version".to_string(),
        policy::Restore::Create { prune: Some(v) } => {
            format!("creates a new default version; prunes {v}")
        }
    }
}

/// Errors that mean another run changed the policy's versions since they were read.
fn is_conflict(e: &AwsError) -> bool {
    matches!(
        e.code.as_deref(),
        Some("NoSuchEntity" | "LimitExceeded" | "ConcurrentModification")
    )
}

/// Every version with whether its document is the canonical one (one read per non-default
/// version: only when the default is not canonical, so only after a tampering).
async fn version_states<'a, R: TargetedReader>(
    reader: &R,
    arn: &str,
    found: &'a PolicyVersions,
) -> Result<Vec<policy::VersionState<'a, DateTime<Utc>>>, AwsError> {
    let mut states = Vec::with_capacity(found.versions.len());
    for v in &found.versions {
        let canonical = if v.is_default {
            policy::is_canonical(&found.default_document)
        } else {
            policy::is_canonical(&reader.policy_version_document(arn, &v.id).await?)
        };
        states.push(policy::VersionState {
            id: v.id.as_str(),
            is_default: v.is_default,
            created: v.created,
            canonical,
        });
    }
    Ok(states)
}

/// Carries out a restore and says what it did. After creating a version it removes the
/// canonical copies a concurrent restore may have created too.
async fn apply_restore<R: TargetedReader, W: PolicyWriter>(
    reader: &R,
    writer: &W,
    arn: &str,
    plan: policy::Restore<'_>,
) -> Result<String, AwsError> {
    match plan {
        policy::Restore::InPlace => Ok("already canonical".to_string()),
        policy::Restore::SetDefault(version) => {
            writer.set_default_policy_version(arn, version).await?;
            Ok(format!("default set back to {version}"))
        }
        policy::Restore::Create { prune } => {
            if let Some(version) = prune {
                writer.delete_policy_version(arn, version).await?;
            }
            let document = policy::deny_policy_document().to_string();
            let created = writer.create_default_policy_version(arn, &document).await?;
            let found = reader.policy_versions(arn).await?;
            let states = version_states(reader, arn, &found).await?;
            let duplicates = policy::duplicates(&states);
            for version in &duplicates {
                writer.delete_policy_version(arn, version).await?;
            }
            let default = states.iter().find(|v| v.is_default).map_or("?", |v| v.id);
            let mut detail = if default == created {
                format!("new default {created}")
            } else {
                format!("created {created}; {default}, from a concurrent restore, is the default")
            };
            if let Some(pruned) = prune {
                detail.push_str(&format!("; pruned {pruned}"));
            }
            if !duplicates.is_empty() {
                detail.push_str(&format!("; removed duplicates {}", duplicates.join(", ")));
            }
            Ok(detail)
        }
    }
}
