//! The event run: read live only what a CloudTrail event names, then the engine's common tail.
//!
//! Users named by an event are read live (the credential report can be hours old) and go
//! through the same `evaluate`, `plan`, guard and `apply` as a whole-account run, with the deny
//! policy's default version read beside them. The deny policy's own events check every
//! version and repair it when one is not canonical. Exemption changes and tampering are
//! announced whatever else the run found.

use super::announce::{announce, Outgoing};
use super::deny_policy::{self, Depth};
use super::{act, decide, EngineError};
use crate::devices::partition_of;
use crate::event::{IamEvent, Target};
use crate::iam_state::IamGroup;
use crate::notify::Alert;
use crate::ports::{
    AwsError, Notifier, PolicyReader, PolicyWriter, Ports, RemediationWriter, TargetedReader,
};
use crate::run_report::RunReport;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, UserFacts};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use std::collections::{BTreeSet, HashMap};
use tracing::info;

/// Handles one event that is not ignored: re-evaluates the users it names (or the members of
/// the group it names), or checks the deny policy; then announces what must be announced.
///
/// The account is the event's `recipientAccountId` (the handler has already ignored events of
/// other accounts). Fails when a read fails, and when the deny policy belongs to another
/// account than the event's (before any read); failed writes and notifications are in the
/// report.
pub async fn handle_event<R, W, N>(
    ports: Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
    event: &IamEvent,
    target: &Target,
) -> Result<RunReport, EngineError>
where
    R: TargetedReader + PolicyReader,
    W: RemediationWriter + PolicyWriter,
    N: Notifier,
{
    let account_id = event.account_id.as_str();
    settings.check_deny_policy_account(account_id)?;
    let mut report = match target {
        Target::Ignore(_) => RunReport::empty(account_id, now, ports.writer.is_none()),
        Target::Users {
            users, released, ..
        } => audit_users(&ports, settings, now, account_id, users, *released).await?,
        Target::GroupMembers {
            group,
            deleted,
            released,
        } => {
            let members = ports.reader.group_members(group).await?;
            info!(
                group,
                members = members.as_ref().map_or(0, Vec::len),
                deleted,
                "re-evaluating the group's members"
            );
            audit_users(
                &ports,
                settings,
                now,
                account_id,
                &members.unwrap_or_default(),
                *released,
            )
            .await?
        }
        Target::Root => audit_root(&ports, settings, now, account_id).await?,
        Target::DenyPolicy => {
            let checked = deny_policy::read(ports.reader, &settings.deny_policy_arn).await?;
            let check = deny_policy::keep_canonical(
                ports.reader,
                ports.writer,
                checked,
                Depth::AllVersions,
            )
            .await?;
            let mut report = RunReport::empty(account_id, now, ports.writer.is_none());
            report.record_deny_policy(check);
            report
        }
    };
    report.event = Some(event.clone());
    let alerts = event_alerts(&report, event, target, settings);
    announce(&ports, settings, now, &mut report, alerts).await;
    Ok(report)
}

/// The alerts an event raises beyond the run's own: an exemption changed, the enforcement
/// group deleted.
fn event_alerts(
    report: &RunReport,
    event: &IamEvent,
    target: &Target,
    settings: &Settings,
) -> Vec<Outgoing> {
    let account_id = report.account_id.as_str();
    match target {
        Target::Users {
            users,
            exemption: Some(change),
            ..
        } => users
            .iter()
            .map(|user| {
                let alert = Alert::ExemptionChanged {
                    user,
                    change,
                    finding: report.findings.iter().find(|f| f.user == *user),
                };
                Outgoing::alert(account_id, Some(event), &alert)
            })
            .collect(),
        Target::GroupMembers {
            group,
            deleted: true,
            ..
        } if settings.enforcement_group.as_deref() == Some(group.as_str()) => {
            vec![Outgoing::alert(
                account_id,
                Some(event),
                &Alert::EnforcementGroupDeleted { group },
            )]
        }
        _ => Vec::new(),
    }
}

/// Reports the root user again after it changed its own MFA: the account summary says whether
/// root has MFA and a password. Root is only ever reported.
async fn audit_root<R, W, N>(
    ports: &Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
    account_id: &str,
) -> Result<RunReport, EngineError>
where
    R: TargetedReader,
    W: RemediationWriter,
{
    let state = ports.reader.root_state().await?;
    info!(mfa = state.mfa_enabled, password = ?state.password_present, "root re-read");
    let snapshot = AccountSnapshot {
        account_id: account_id.to_string(),
        users: vec![UserFacts::root(
            account_id,
            partition_of(&settings.deny_policy_arn),
            state,
        )],
        // Root is never written to: the deny policy is not consulted.
        deny_policy_canonical: true,
        ..AccountSnapshot::default()
    };
    let (findings, plan) = decide(&snapshot, settings, now, ports.writer.is_none());
    Ok(act(ports.writer, &snapshot, findings, plan, settings, now).await)
}

/// Reads the named users live (and, once, the groups that carry the deny policy) with the
/// deny policy's default version beside them, then evaluates, plans and applies exactly as a
/// whole-account run does. `released`: the event released them from the deny policy.
async fn audit_users<R, W, N>(
    ports: &Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
    account_id: &str,
    users: &[String],
    released: bool,
) -> Result<RunReport, EngineError>
where
    R: TargetedReader + PolicyReader,
    W: RemediationWriter + PolicyWriter,
{
    let names: Vec<&String> = users.iter().collect::<BTreeSet<_>>().into_iter().collect();
    if names.is_empty() {
        return Ok(RunReport::empty(account_id, now, ports.writer.is_none()));
    }
    let reader = ports.reader;
    let (reads, deny_policy) = tokio::join!(
        stream::iter(names.iter().copied())
            .map(|name| async move { reader.user(name).await.map(|u| (name, u)) })
            .buffered(settings.max_concurrency)
            .collect::<Vec<_>>(),
        deny_policy::read(reader, &settings.deny_policy_arn)
    );
    let deny_policy = deny_policy?;
    // Which groups carry the deny policy matters for users in a group, and for adding anyone
    // to the enforcement group (does it still hold them?): one call, whatever the number of
    // groups, and none for a new user who is in none when nobody is added to a group.
    let in_a_group = reads
        .iter()
        .any(|r| matches!(r, Ok((_, Some(u))) if !u.iam.groups.is_empty()));
    let deny_groups = if in_a_group || settings.remediation.adds_to_group() {
        Some(reader.groups_with_policy(&settings.deny_policy_arn).await?)
    } else {
        None
    };
    let enforcement_group_carries_deny = deny_groups.as_ref().and_then(|groups| {
        settings
            .enforcement_group
            .as_ref()
            .map(|g| groups.contains(g))
    });
    let users = reads
        .into_iter()
        .map(|read| {
            let (name, live) = read?;
            Ok(match live {
                Some(live) => UserFacts {
                    released,
                    ..UserFacts::from_live(live)
                },
                None => {
                    info!(user = %name, "no such user: nothing to enforce");
                    UserFacts::absent(name, account_id, partition_of(&settings.deny_policy_arn))
                }
            })
        })
        .collect::<Result<Vec<_>, AwsError>>()?;
    let deny_policy =
        deny_policy::keep_canonical(reader, ports.writer, deny_policy, Depth::Default).await?;
    let snapshot = AccountSnapshot {
        account_id: account_id.to_string(),
        report_generated_at: None,
        users,
        groups: deny_groups
            .unwrap_or_default()
            .into_iter()
            .map(|name| {
                let group = IamGroup {
                    name: name.clone(),
                    attached_policy_arns: vec![settings.deny_policy_arn.clone()],
                    inline_policies: Vec::new(),
                };
                (name, group)
            })
            .collect::<HashMap<_, _>>(),
        // An event run reads no roles.
        roles: Vec::new(),
        managed_policies: Vec::new(),
        deny_policy_canonical: deny_policy.canonical,
        enforcement_group_carries_deny,
    };
    let (findings, plan) = decide(&snapshot, settings, now, ports.writer.is_none());
    let mut report = act(ports.writer, &snapshot, findings, plan, settings, now).await;
    report.record_deny_policy(deny_policy);
    Ok(report)
}
