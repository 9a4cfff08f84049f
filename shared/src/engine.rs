//! The one orchestration path: gather -> evaluate -> plan -> confirm -> apply -> report -> notify.
//!
//! A dry run is a run without a writer: the same plan, reported and not applied. Every action
//! ends with an outcome; nothing is swallowed, and the report's verdict says whether anything
//! failed.

use crate::evaluate::{evaluate, evaluate_user};
use crate::finding::{Finding, Outcome};
use crate::notify;
use crate::plan::{plan, Plan, UserPlan};
use crate::ports::{AccountReader, AwsError, LiveUserState, Notifier, RemediationWriter};
use crate::report::{self, ReportError};
use crate::run_report::{NotificationRecord, RunReport, Summary};
use crate::settings::Settings;
use crate::snapshot::AccountSnapshot;
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use thiserror::Error;
use tracing::{debug, error, info, warn};

/// Detail of an action skipped because the user enrolled MFA after the report was generated.
pub const MFA_ENROLLED_SINCE_REPORT: &str = "mfa_enrolled_since_report";
/// Detail of an action skipped because the user lost their console password since the report.
pub const PASSWORD_REMOVED_SINCE_REPORT: &str = "password_removed_since_report";
/// Detail of an action skipped because the user was deleted since the report.
pub const USER_DELETED_SINCE_REPORT: &str = "user_deleted_since_report";

/// Why a run could not produce a report at all.
#[derive(Debug, Error)]
pub enum EngineError {
    /// An AWS read failed (after the SDK's own retries).
    #[error("reading the account: {0}")]
    Read(#[from] AwsError),
    /// The credential report could not be parsed.
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl EngineError {
    /// Whether running again later may succeed (throttling, timeouts, a report still generating).
    pub fn retryable(&self) -> bool {
        match self {
            EngineError::Read(e) => e.retryable,
            EngineError::Report(_) => false,
        }
    }
}

/// The parts a run talks to. `writer: None` makes a dry run; `notifier: None` sends nothing.
pub struct Ports<'a, R, W, N> {
    /// IAM reads.
    pub reader: &'a R,
    /// IAM writes; absent for a dry run.
    pub writer: Option<&'a W>,
    /// Notifications; absent when no topic is configured.
    pub notifier: Option<&'a N>,
}

/// Audits the whole account: credential report plus authorization details, no per-user reads
/// except the live confirmation of users about to be denied when the report is old.
///
/// Fails only when the account cannot be read; write and publish failures are recorded in the
/// report (outcome `failed`) and in its verdict.
pub async fn audit_account<R, W, N>(
    ports: Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<RunReport, EngineError>
where
    R: AccountReader,
    W: RemediationWriter,
    N: Notifier,
{
    let fetched = ports
        .reader
        .credential_report(settings.report_max_age, now)
        .await?;
    let rows = report::parse(&fetched.content)?;
    let report_age = fetched.age(now);
    info!(
        users = rows.len(),
        generated_at = %fetched.generated_at,
        generated_by_this_run = fetched.generated_by_this_run,
        age_minutes = report_age.num_minutes(),
        "credential report read"
    );
    let root_needs_check = AccountSnapshot::root_needs_password_check(&rows);
    let details = ports.reader.authorization_details().await?;
    info!(
        users = details.users.len(),
        groups = details.groups.len(),
        "authorization details read"
    );
    let root_password_present = if root_needs_check {
        match ports.reader.root_password_present().await {
            Ok(present) => present,
            Err(e) => {
                warn!(error = %e, "could not read the account summary; root is treated as having a password");
                None
            }
        }
    } else {
        None
    };
    let snapshot = AccountSnapshot::join(
        rows,
        details,
        root_password_present,
        Some(fetched.generated_at),
    );
    let mut findings = evaluate(&snapshot, settings, now);
    let mut plan = plan(&findings, settings);
    log_plan(&plan, ports.writer.is_none());

    if !plan.guard.tripped && plan.planned_actions() > 0 && report_age > settings.confirm_after {
        info!(
            users = plan.users.iter().filter(|u| u.writes()).count(),
            report_age_minutes = report_age.num_minutes(),
            "report is older than CONFIRM_AFTER_MINUTES: confirming users live before denying them"
        );
        confirm(
            ports.reader,
            &snapshot,
            &mut findings,
            &mut plan,
            settings,
            now,
        )
        .await;
    }
    if let Some(writer) = ports.writer {
        apply(writer, &mut plan, settings).await;
    }
    for user in plan.users {
        findings[user.finding].actions = user.actions;
    }
    let mut report = RunReport {
        account_id: snapshot.account_id.clone(),
        generated_at: now,
        report_generated_at: snapshot.report_generated_at,
        dry_run: ports.writer.is_none(),
        summary: Summary::count(&findings, Some(&plan.guard)),
        findings,
        notifications: Vec::new(),
    };
    if let (Some(notifier), Some(topic)) = (ports.notifier, settings.topic_arn.as_deref()) {
        publish_summary(notifier, topic, &mut report).await;
    }
    let s = &report.summary;
    info!(
        non_compliant = s.non_compliant,
        remaining = s.non_compliant_remaining,
        applied = s.actions_applied,
        failed = s.actions_failed,
        guard_tripped = s.guard_tripped,
        "run finished"
    );
    Ok(report)
}

fn log_plan(plan: &Plan, dry_run: bool) {
    let g = &plan.guard;
    if g.tripped {
        error!(
            would_enforce = g.would_enforce,
            limit = g.limit,
            "GUARD TRIPPED: more users would be enforced than MAX_ENFORCEMENTS_PER_RUN; nothing will be written"
        );
    } else {
        info!(
            users_to_enforce = g.would_enforce,
            actions = plan.planned_actions(),
            dry_run,
            "plan ready"
        );
    }
    for user in &plan.users {
        for action in &user.actions {
            debug!(user = %user.user, action = %action.kind, outcome = %action.outcome, "planned");
        }
    }
}

/// Re-reads each user about to be denied; someone who enrolled MFA (or lost their password,
/// or was deleted) since the report is left alone, with a re-evaluated finding.
async fn confirm<R: AccountReader>(
    reader: &R,
    snapshot: &AccountSnapshot,
    findings: &mut [Finding],
    plan: &mut Plan,
    settings: &Settings,
    now: DateTime<Utc>,
) {
    let checks: Vec<_> = stream::iter(plan.users.iter().enumerate().filter(|(_, u)| u.writes()))
        .map(|(i, u)| async move { (i, reader.live_user_state(&u.user).await) })
        .buffer_unordered(settings.max_concurrency)
        .collect()
        .await;
    for (i, result) in checks {
        let user_plan = &mut plan.users[i];
        let finding = &mut findings[user_plan.finding];
        match result {
            Ok(live) => {
                let Some(detail) = change_since_report(finding, &live) else {
                    continue;
                };
                info!(user = %user_plan.user, detail, "changed since the report: left alone this run");
                if let Some(mut facts) = snapshot
                    .users
                    .iter()
                    .find(|u| u.name == finding.user)
                    .cloned()
                {
                    facts.mfa_active = live.mfa_active;
                    facts.password_enabled = Some(live.password_enabled);
                    if !live.exists {
                        facts.iam = None;
                    }
                    *finding = evaluate_user(&facts, &snapshot.groups, settings, now);
                }
                mark(user_plan, Outcome::Skipped, |a| {
                    a.detail = Some(detail.to_string())
                });
            }
            Err(e) => {
                warn!(user = %user_plan.user, error = %e, "could not confirm the user live; not denying them this run");
                let message = format!("could not confirm the user before denying: {e}");
                mark(user_plan, Outcome::Failed, |a| {
                    a.error = Some(message.clone())
                });
            }
        }
    }
}

/// What changed since the report that makes denying this user wrong, if anything: the user
/// was deleted, enrolled MFA, or lost their console password.
fn change_since_report(finding: &Finding, live: &LiveUserState) -> Option<&'static str> {
    if !live.exists {
        Some(USER_DELETED_SINCE_REPORT)
    } else if live.mfa_active && !finding.mfa_active {
        Some(MFA_ENROLLED_SINCE_REPORT)
    } else if !live.password_enabled && finding.password_enabled == Some(true) {
        Some(PASSWORD_REMOVED_SINCE_REPORT)
    } else {
        None
    }
}

fn mark(
    user_plan: &mut UserPlan,
    outcome: Outcome,
    mut annotate: impl FnMut(&mut crate::finding::Action),
) {
    for action in &mut user_plan.actions {
        if action.outcome == Outcome::Planned {
            action.outcome = outcome;
            annotate(action);
        }
    }
}

/// Applies every planned action, users in parallel up to `MAX_CONCURRENCY`, one user's
/// actions in order. One user's failure never stops the others.
async fn apply<W: RemediationWriter>(writer: &W, plan: &mut Plan, settings: &Settings) {
    let total = plan.users.iter().filter(|u| u.writes()).count();
    if total == 0 {
        return;
    }
    info!(users = total, "applying");
    let mut done = 0usize;
    let mut progress = stream::iter(plan.users.iter_mut().filter(|u| u.writes()))
        .map(|user_plan| async move {
            for action in user_plan.actions.iter_mut().filter(|a| a.outcome == Outcome::Planned) {
                let result = match action.kind {
                    crate::finding::ActionKind::AttachDenyPolicy => {
                        writer.attach_user_policy(&user_plan.user, &action.target).await
                    }
                    crate::finding::ActionKind::AddToEnforcementGroup => {
                        writer.add_user_to_group(&user_plan.user, &action.target).await
                    }
                };
                match result {
                    Ok(()) => {
                        action.outcome = Outcome::Applied;
                        info!(user = %user_plan.user, action = %action.kind, outcome = "applied", "action");
                    }
                    Err(e) => {
                        action.outcome = Outcome::Failed;
                        action.error = Some(e.to_string());
                        error!(user = %user_plan.user, action = %action.kind, error = %e, outcome = "failed", "action");
                    }
                }
            }
        })
        .buffer_unordered(settings.max_concurrency);
    while progress.next().await.is_some() {
        done += 1;
        if done.is_multiple_of(100) && done < total {
            info!(done, total, "applying");
        }
    }
}

async fn publish_summary<N: Notifier>(notifier: &N, topic: &str, report: &mut RunReport) {
    if !notify::run_summary_due(report) {
        return;
    }
    let message = notify::run_summary(report);
    let record = match notifier.publish(topic, &message).await {
        Ok(id) => NotificationRecord {
            kind: notify::RUN_SUMMARY.to_string(),
            outcome: Outcome::Applied,
            message_id: Some(id),
            error: None,
        },
        Err(e) => {
            error!(error = %e, "publishing the run summary failed");
            NotificationRecord {
                kind: notify::RUN_SUMMARY.to_string(),
                outcome: Outcome::Failed,
                message_id: None,
                error: Some(e.to_string()),
            }
        }
    };
    report.record_notification(record);
}
