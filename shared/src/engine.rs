//! The one orchestration path: gather -> evaluate -> plan -> confirm -> apply -> report -> notify.
//!
//! A dry run is a run without a writer: the same plan, reported and not applied. Every action
//! ends with an outcome; nothing is swallowed, and the report's verdict says whether anything
//! failed.

use crate::deny_check::{self, Depth};
use crate::evaluate::{evaluate, evaluate_user};
use crate::event::IamEvent;
use crate::finding::{Finding, Outcome, Status};
use crate::iam_state::LiveUserState;
use crate::notices::{exempt_digest, memory_tags, plan_notices, NoticeKind};
use crate::notify::{self, Alert};
use crate::plan::{plan, Plan, UserPlan};
use crate::ports::{
    AccountReader, AwsError, Notifier, PolicyReader, PolicyWriter, RemediationWriter,
};
use crate::report::ReportError;
use crate::run_report::{NotificationRecord, RunReport, Summary};
use crate::settings::{Settings, SettingsError};
use crate::snapshot::{self, AccountSnapshot};
use crate::tag_keys::EXEMPT_DIGEST_TAG;
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
    /// A setting turned out wrong for the account read (the deny policy of another account),
    /// before anything was written.
    #[error(transparent)]
    Setting(#[from] SettingsError),
}

impl EngineError {
    /// Whether running again later may succeed (throttling, timeouts, a report still generating).
    pub fn retryable(&self) -> bool {
        match self {
            EngineError::Read(e) => e.retryable,
            EngineError::Report(_) | EngineError::Setting(_) => false,
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

/// Audits the whole account: credential report plus authorization details, and the deny
/// policy's default version beside them; no per-user reads except the live confirmation of
/// users about to be denied when the report is old.
///
/// Nothing is attached unless the deny policy's default version is canonical; when it is not,
/// a run with a writer repairs it from the versions that exist (see [`crate::deny_check`]).
///
/// Fails when the account cannot be read, and when the deny policy belongs to another account
/// than the one read (before any write); write and publish failures are recorded in the
/// report (outcome `failed`) and in its verdict.
pub async fn audit_account<R, W, N>(
    ports: Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<RunReport, EngineError>
where
    R: AccountReader + PolicyReader,
    W: RemediationWriter + PolicyWriter,
    N: Notifier,
{
    let (gathered, deny_policy) = tokio::join!(
        gather(ports.reader, settings, now),
        deny_check::read(ports.reader, &settings.deny_policy_arn)
    );
    let (mut snapshot, report_age) = gathered?;
    // Before any write, and before a failed read of another account's policy can hide it: the
    // deny policy must be this account's.
    settings.check_deny_policy_account(&snapshot.account_id)?;
    let deny_policy = deny_policy?;
    let deny_policy =
        deny_check::keep_canonical(ports.reader, ports.writer, deny_policy, Depth::Default).await?;
    snapshot.deny_policy_canonical = deny_policy.canonical;
    let (mut findings, mut plan) = decide(&snapshot, settings, now, ports.writer.is_none());
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
    let mut report = act(ports.writer, &snapshot, findings, plan, settings, now).await;
    complete_devices(ports.reader, &mut report.findings, settings).await;
    let digest_found = deny_policy.exempt_digest.clone();
    report.record_deny_policy(deny_policy);
    report.exemptions_changed = digest_found != Some(exempt_digest(&report.findings))
        && !(digest_found.is_none() && report.summary.exempt == 0);
    announce(
        ports.writer,
        ports.notifier,
        settings,
        now,
        &mut report,
        Vec::new(),
    )
    .await;
    Ok(report)
}

/// Reads the credential report and the authorization details and joins them; returns the
/// snapshot (its deny policy not yet judged) and the report's age.
async fn gather<R: AccountReader>(
    reader: &R,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(AccountSnapshot, chrono::Duration), EngineError> {
    let fetched = reader
        .credential_report(settings.report_max_age, now)
        .await?;
    let report_age = fetched.age(now);
    let (generated_at, generated_by_this_run) =
        (fetched.generated_at, fetched.generated_by_this_run);
    let rows = snapshot::report_users(&fetched.content)?;
    // Only the users' facts are kept, not the CSV: it is as large as they are.
    drop(fetched);
    info!(
        users = rows.len(),
        generated_at = %generated_at,
        generated_by_this_run,
        age_minutes = report_age.num_minutes(),
        "credential report read"
    );
    let root_needs_check = AccountSnapshot::root_needs_password_check(&rows);
    let (details, devices) = tokio::try_join!(
        reader.authorization_details(),
        reader.assigned_virtual_mfa_devices()
    )?;
    info!(
        users = details.users.len(),
        groups = details.groups.len(),
        "authorization details read"
    );
    let root_password_present = if root_needs_check {
        match reader.root_password_present().await {
            Ok(present) => present,
            Err(e) => {
                warn!(error = %e, "could not read the account summary; root is treated as having a password");
                None
            }
        }
    } else {
        None
    };
    let mut snapshot =
        AccountSnapshot::join(rows, details, root_password_present, Some(generated_at));
    snapshot.attach_virtual_devices(devices);
    snapshot.judge_enforcement_group(settings);
    Ok((snapshot, report_age))
}

/// Reads every MFA device of the users whose notice needs them: held to MFA by this run, with
/// access keys, and no device known that gives CLI sessions (a whole-account run knows only
/// the virtual ones). One ListMFADevices each; a failure leaves the notice with what is known.
async fn complete_devices<R: AccountReader>(
    reader: &R,
    findings: &mut [Finding],
    settings: &Settings,
) {
    let needed: Vec<usize> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            crate::notices::held_to_mfa(f)
                && f.access_keys.active > 0
                && !f.mfa_devices.iter().any(|d| d.kind.gives_cli_sessions())
        })
        .map(|(i, _)| i)
        .collect();
    let read: Vec<_> = stream::iter(needed)
        .map(|i| {
            let user = findings[i].user.clone();
            async move { (i, reader.mfa_devices(&user).await) }
        })
        .buffer_unordered(settings.max_concurrency)
        .collect()
        .await;
    for (i, result) in read {
        match result {
            Ok(serials) => {
                findings[i].mfa_devices = serials
                    .iter()
                    .map(|s| crate::devices::MfaDevice::from_serial(s))
                    .collect();
            }
            Err(e) => {
                warn!(user = %findings[i].user, error = %e, "could not list the user's MFA devices; the notice says what is known")
            }
        }
    }
}

/// Evaluates every user of the snapshot and plans their remediation (pure; logs the plan).
pub(crate) fn decide(
    snapshot: &AccountSnapshot,
    settings: &Settings,
    now: DateTime<Utc>,
    dry_run: bool,
) -> (Vec<Finding>, Plan) {
    let findings = evaluate(snapshot, settings, now);
    let plan = plan(&findings, settings, &snapshot.account_facts());
    log_plan(&plan, dry_run);
    (findings, plan)
}

/// Applies the plan when there is a writer, and returns the report of the run.
pub(crate) async fn act<W: RemediationWriter>(
    writer: Option<&W>,
    snapshot: &AccountSnapshot,
    mut findings: Vec<Finding>,
    mut plan: Plan,
    settings: &Settings,
    now: DateTime<Utc>,
) -> RunReport {
    if let Some(writer) = writer {
        apply(writer, &mut plan, settings).await;
    }
    for user in plan.users {
        findings[user.finding].actions = user.actions;
    }
    // Only where the group is the remediation: with REMEDIATION=attach-policy the group only
    // marks users with MFA, and the deny policy is attached to users directly anyway.
    let lacking = (settings.remediation.adds_to_group()
        && snapshot.account_facts().group_is_hollow())
    .then(|| settings.enforcement_group.clone())
    .flatten();
    RunReport {
        report_generated_at: snapshot.report_generated_at,
        summary: Summary::count(&findings, Some(&plan.guard)),
        findings,
        enforcement_group_lacks_deny_policy: lacking,
        ..RunReport::empty(&snapshot.account_id, now, writer.is_none())
    }
}

/// A message about to be published, and what to remember once it is.
pub(crate) struct Outgoing {
    /// `kind` of its notification record.
    pub kind: String,
    /// The user it is about (a notice).
    pub user: Option<String>,
    /// The message.
    pub message: crate::message::Notification,
    /// For a user's notice: the status to record on the user once it is published.
    pub remember: Option<Status>,
}

impl Outgoing {
    /// An alert.
    pub fn alert(account_id: &str, event: Option<&IamEvent>, alert: &Alert<'_>) -> Outgoing {
        Outgoing {
            kind: alert.kind().to_string(),
            user: None,
            message: notify::alert(account_id, event, alert),
            remember: None,
        }
    }
}

/// How many messages are rendered and published before the next ones are rendered.
const RENDER_AT_ONCE: usize = 100;

/// A message to send: ready, or a user's notice still to be rendered.
enum Pending {
    Ready(Outgoing),
    Notice(crate::notices::Notice),
}

impl Pending {
    fn render(self, report: &RunReport, settings: &Settings) -> Outgoing {
        match self {
            Pending::Ready(o) => o,
            Pending::Notice(notice) => {
                let finding = &report.findings[notice.finding];
                Outgoing {
                    kind: notify::user_event_type(notice.status, notice.kind).to_string(),
                    user: Some(finding.user.clone()),
                    message: notify::user_notice(
                        &report.account_id,
                        finding,
                        notice.status,
                        notice.kind,
                        settings.grace_period,
                    ),
                    remember: Some(notice.status),
                }
            }
        }
    }
}

/// The alerts a finished run raises by itself: the deny policy changed, guard tripped, writes
/// failed, root without MFA.
fn run_alerts(report: &RunReport) -> Vec<Outgoing> {
    let mut alerts = Vec::new();
    let s = &report.summary;
    let account = report.account_id.as_str();
    if let Some(check) = report.deny_policy.as_ref().filter(|c| c.needs_alert()) {
        let alert = Alert::DenyPolicyChanged { check };
        alerts.push(Outgoing::alert(account, report.event.as_ref(), &alert));
    }
    if let Some(group) = &report.enforcement_group_lacks_deny_policy {
        let alert = Alert::EnforcementGroupLacksDenyPolicy { group };
        alerts.push(Outgoing::alert(account, report.event.as_ref(), &alert));
    }
    if s.guard_tripped {
        let alert = Alert::GuardTripped {
            would_enforce: s.users_to_enforce,
            limit: s.max_enforcements_per_run,
        };
        alerts.push(Outgoing::alert(account, report.event.as_ref(), &alert));
    }
    let failures: Vec<(String, String)> = report
        .findings
        .iter()
        .flat_map(|f| {
            f.actions
                .iter()
                .filter(|a| a.outcome == Outcome::Failed)
                .map(|a| (f.user.clone(), a.error.clone().unwrap_or_default()))
        })
        .collect();
    if !failures.is_empty() {
        let alert = Alert::WritesFailed {
            failures: &failures,
        };
        alerts.push(Outgoing::alert(account, report.event.as_ref(), &alert));
    }
    if report
        .findings
        .iter()
        .any(|f| f.facts.is_root && f.status == Status::NonCompliant)
    {
        alerts.push(Outgoing::alert(account, None, &Alert::RootWithoutMfa));
    }
    alerts
}

/// Tells whoever must hear about the run, when a topic is configured: alerts (the run's own
/// and `extra` ones), each user whose status changed or who is due a reminder (not in a dry
/// run, when the guard tripped or when the deny policy was not canonical: nothing is
/// written then, not even a notice's memory, so notices would repeat), and the run summary
/// when one is due; all in as few requests as SNS allows. Each published notice is then remembered on
/// the user's tags. Every message and memory write is recorded in the report; a failure fails
/// the run but never undoes an enforcement.
pub(crate) async fn announce<W: RemediationWriter + PolicyWriter, N: Notifier>(
    writer: Option<&W>,
    notifier: Option<&N>,
    settings: &Settings,
    now: DateTime<Utc>,
    report: &mut RunReport,
    extra: Vec<Outgoing>,
) {
    if let (Some(notifier), Some(topic)) = (notifier, settings.topic_arn.as_deref()) {
        let mut pending: Vec<Pending> =
            run_alerts(report).into_iter().map(Pending::Ready).collect();
        pending.extend(extra.into_iter().map(Pending::Ready));
        let mut remember = Vec::new();
        // A tripped guard, or a deny policy that is not canonical, means nothing is written to
        // users, not even a notice's memory; the alert goes to the security team instead.
        let deny_policy_canonical = report.deny_policy.as_ref().is_none_or(|c| c.canonical);
        if writer.is_some() && !report.summary.guard_tripped && deny_policy_canonical {
            for notice in plan_notices(&report.findings, now, settings.remind_after) {
                if notice.kind == NoticeKind::RecordOnly {
                    remember.push((report.findings[notice.finding].user.clone(), notice.status));
                } else {
                    pending.push(Pending::Notice(notice));
                }
            }
        }
        if notify::run_summary_due(report) {
            pending.push(Pending::Ready(Outgoing {
                kind: notify::RUN_SUMMARY.to_string(),
                user: None,
                message: notify::run_summary(report),
                remember: None,
            }));
        }
        if !pending.is_empty() {
            info!(messages = pending.len(), "publishing");
        }
        // Rendered a slice at a time: thousands of notices never sit in memory at once.
        let mut pending = pending.into_iter().peekable();
        while pending.peek().is_some() {
            let (about, messages): (Vec<_>, Vec<_>) = pending
                .by_ref()
                .take(RENDER_AT_ONCE)
                .map(|p| {
                    let o = p.render(report, settings);
                    ((o.kind, o.user, o.remember), o.message)
                })
                .unzip();
            let results = notifier.publish_batch(topic, &messages).await;
            for ((kind, user, status), result) in about.into_iter().zip(results) {
                if let (Ok(_), Some(user), Some(status)) = (&result, &user, status) {
                    remember.push((user.clone(), status));
                }
                report.record_notification(record(kind, user, result));
            }
        }
        if let Some(writer) = writer {
            let written: Vec<_> = stream::iter(remember)
                .map(|(user, status)| async move {
                    let tags = memory_tags(status, now);
                    let result = writer.tag_user(&user, &tags).await;
                    (user, result)
                })
                .buffer_unordered(settings.max_concurrency)
                .collect()
                .await;
            for (user, result) in written {
                if let Err(e) = result {
                    error!(user = %user, error = %e, "recording the notice on the user failed");
                    report.record_notification(record(
                        notify::NOTICE_MEMORY.to_string(),
                        Some(user),
                        Err(e),
                    ));
                }
            }
            remember_exemptions(writer, settings, report).await;
        }
    }
    let s = &report.summary;
    info!(
        non_compliant = s.non_compliant,
        remaining = s.non_compliant_remaining,
        applied = s.actions_applied,
        failed = s.actions_failed,
        notifications_failed = s.notifications_failed,
        guard_tripped = s.guard_tripped,
        "run finished"
    );
}

/// Once a summary that lists the exempt users is out, remembers which exemptions it listed
/// (a digest on the deny policy's `mfa-enforcer:exempt-digest` tag), so that the next summary
/// is due only when they change again. Not remembered, they are listed again next run.
async fn remember_exemptions<W: PolicyWriter>(
    writer: &W,
    settings: &Settings,
    report: &mut RunReport,
) {
    let summary_sent = report
        .notifications
        .iter()
        .any(|n| n.kind == notify::RUN_SUMMARY && n.outcome == Outcome::Applied);
    // A run that writes nothing (guard tripped, deny policy not canonical) writes this neither.
    let writes_nothing =
        report.summary.guard_tripped || report.deny_policy.as_ref().is_some_and(|c| !c.canonical);
    if !(report.exemptions_changed && summary_sent) || writes_nothing {
        return;
    }
    let tags = [(EXEMPT_DIGEST_TAG, exempt_digest(&report.findings))];
    if let Err(e) = writer.tag_policy(&settings.deny_policy_arn, &tags).await {
        error!(error = %e, "remembering the exemptions announced failed");
        report.record_notification(record(notify::EXEMPTION_MEMORY.to_string(), None, Err(e)));
    }
}

fn record(
    kind: String,
    user: Option<String>,
    result: Result<String, AwsError>,
) -> NotificationRecord {
    match result {
        Ok(id) => NotificationRecord {
            kind,
            user,
            outcome: Outcome::Applied,
            message_id: Some(id),
            error: None,
        },
        Err(e) => {
            error!(kind, error = %e, "publishing a notification failed");
            NotificationRecord {
                kind,
                user,
                outcome: Outcome::Failed,
                message_id: None,
                error: Some(e.to_string()),
            }
        }
    }
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
                    *finding = evaluate_user(
                        &facts,
                        &snapshot.groups,
                        snapshot.deny_policy_canonical,
                        settings,
                        now,
                    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{ActionKind, Status};
    use crate::iam_state::{AuthorizationDetails, IamGroup, IamUser};
    use crate::message::Notification;
    use crate::policy::deny_policy_document;
    use crate::ports::FetchedReport;
    use crate::settings::RawSettings;
    use chrono::{Duration, TimeZone};
    use std::collections::HashMap;
    use std::sync::Mutex;

    const DENY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";
    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
    }

    fn row(user: &str, password: &str, mfa: bool) -> String {
        let arn = if user == "<root_account>" {
            "arn:aws:iam::123456789012:root".to_string()
        } else {
            format!("arn:aws:iam::123456789012:user/{user}")
        };
        format!("{user},{arn},2024-01-01T00:00:00+00:00,{password},N/A,N/A,N/A,{mfa},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")
    }

    /// An account in memory: a report of a given age, users, and scripted live answers.
    struct FakeAccount {
        report: String,
        report_age: Duration,
        users: Vec<IamUser>,
        live: HashMap<String, Result<LiveUserState, AwsError>>,
        root_password: Option<bool>,
        /// The deny policy's versions `(id, document)`, and which is the default.
        policy: Vec<(String, String)>,
        default_version: String,
        /// GetPolicy fails with this, when set.
        policy_error: Option<AwsError>,
        /// ListVirtualMFADevices: (user ARN, serial).
        virtual_devices: Vec<(String, String)>,
        /// ListMFADevices, by user.
        all_devices: HashMap<String, Vec<String>>,
        calls: Mutex<Vec<String>>,
    }

    impl FakeAccount {
        fn new(rows: &[String], users: &[&str]) -> Self {
            FakeAccount {
                policy: vec![("v1".into(), deny_policy_document().to_string())],
                default_version: "v1".into(),
                policy_error: None,
                virtual_devices: Vec::new(),
                all_devices: HashMap::new(),
                report: format!("{HEADER}\n{}\n", rows.join("\n")),
                report_age: Duration::zero(),
                users: users
                    .iter()
                    .map(|u| IamUser {
                        name: u.to_string(),
                        arn: format!("arn:aws:iam::123456789012:user/{u}"),
                        ..IamUser::default()
                    })
                    .collect(),
                live: HashMap::new(),
                root_password: None,
                calls: Mutex::new(vec![]),
            }
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl AccountReader for FakeAccount {
        async fn credential_report(
            &self,
            _: Duration,
            now: DateTime<Utc>,
        ) -> Result<FetchedReport, AwsError> {
            self.calls.lock().unwrap().push("report".into());
            Ok(FetchedReport {
                content: self.report.clone().into_bytes(),
                generated_at: now - self.report_age,
                generated_by_this_run: false,
            })
        }
        async fn authorization_details(&self) -> Result<AuthorizationDetails, AwsError> {
            self.calls.lock().unwrap().push("details".into());
            Ok(AuthorizationDetails {
                users: self.users.clone(),
                groups: vec![IamGroup {
                    name: "MFAEnforced".into(),
                    attached_policy_arns: vec![DENY.into()],
                }],
            })
        }
        async fn root_password_present(&self) -> Result<Option<bool>, AwsError> {
            self.calls.lock().unwrap().push("summary".into());
            Ok(self.root_password)
        }
        async fn live_user_state(&self, user: &str) -> Result<LiveUserState, AwsError> {
            self.calls.lock().unwrap().push(format!("live {user}"));
            self.live.get(user).cloned().unwrap_or(Ok(LiveUserState {
                mfa_active: false,
                password_enabled: true,
                exists: true,
            }))
        }
        async fn assigned_virtual_mfa_devices(&self) -> Result<Vec<(String, String)>, AwsError> {
            self.calls.lock().unwrap().push("virtual devices".into());
            Ok(self.virtual_devices.clone())
        }
        async fn mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError> {
            self.calls.lock().unwrap().push(format!("devices {user}"));
            Ok(self.all_devices.get(user).cloned().unwrap_or_default())
        }
    }

    impl PolicyReader for FakeAccount {
        async fn default_policy_version(
            &self,
            _: &str,
        ) -> Result<crate::ports::DefaultPolicyVersion, AwsError> {
            self.calls.lock().unwrap().push("policy".into());
            if let Some(e) = &self.policy_error {
                return Err(e.clone());
            }
            let document = self
                .policy_version_document("", &self.default_version)
                .await?;
            Ok(crate::ports::DefaultPolicyVersion {
                id: self.default_version.clone(),
                document,
                tags: Vec::new(),
            })
        }
        async fn policy_versions(
            &self,
            _: &str,
        ) -> Result<Vec<crate::ports::PolicyVersion>, AwsError> {
            self.calls.lock().unwrap().push("versions".into());
            Ok(self
                .policy
                .iter()
                .map(|(id, _)| crate::ports::PolicyVersion {
                    id: id.clone(),
                    created: None,
                })
                .collect())
        }
        async fn policy_version_document(&self, _: &str, id: &str) -> Result<String, AwsError> {
            Ok(self
                .policy
                .iter()
                .find(|(v, _)| v == id)
                .map(|(_, d)| d.clone())
                .unwrap_or_default())
        }
    }

    fn denied(operation: &'static str) -> AwsError {
        AwsError {
            operation,
            code: Some("AccessDenied".into()),
            message: "not allowed".into(),
            retryable: false,
        }
    }

    /// Records writes; fails for the users listed.
    #[derive(Default)]
    struct FakeWriter {
        fail_for: Vec<String>,
        writes: Mutex<Vec<String>>,
    }

    impl RemediationWriter for FakeWriter {
        async fn attach_user_policy(&self, user: &str, _: &str) -> Result<(), AwsError> {
            self.writes.lock().unwrap().push(format!("attach {user}"));
            if self.fail_for.iter().any(|u| u == user) {
                Err(denied("AttachUserPolicy"))
            } else {
                Ok(())
            }
        }
        async fn add_user_to_group(&self, user: &str, _: &str) -> Result<(), AwsError> {
            self.writes.lock().unwrap().push(format!("add {user}"));
            Ok(())
        }
        async fn tag_user(
            &self,
            user: &str,
            tags: &[(&'static str, String)],
        ) -> Result<(), AwsError> {
            let status = &tags[0].1;
            self.writes
                .lock()
                .unwrap()
                .push(format!("tag {user} {status}"));
            Ok(())
        }
    }

    impl PolicyWriter for FakeWriter {
        async fn set_default_policy_version(&self, _: &str, id: &str) -> Result<(), AwsError> {
            self.writes
                .lock()
                .unwrap()
                .push(format!("set-default {id}"));
            Ok(())
        }
        async fn tag_policy(
            &self,
            _: &str,
            tags: &[(&'static str, String)],
        ) -> Result<(), AwsError> {
            self.writes
                .lock()
                .unwrap()
                .push(format!("tag-policy {}", tags[0].0));
            Ok(())
        }
        async fn delete_policy_version(&self, _: &str, id: &str) -> Result<(), AwsError> {
            self.writes
                .lock()
                .unwrap()
                .push(format!("delete-version {id}"));
            Ok(())
        }
    }

    struct FakeNotifier {
        fail: bool,
        sent: Mutex<Vec<Notification>>,
    }

    impl Notifier for FakeNotifier {
        async fn publish(&self, _: &str, message: &Notification) -> Result<String, AwsError> {
            self.sent.lock().unwrap().push(message.clone());
            if self.fail {
                Err(denied("Publish"))
            } else {
                Ok("message-1".into())
            }
        }
    }

    fn settings(extra: &[(&str, &str)]) -> Settings {
        let mut vars = vec![
            ("DENY_POLICY_ARN", DENY),
            ("ENFORCEMENT_GROUP", "MFAEnforced"),
            (
                "TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:mfa-enforcer",
            ),
        ];
        vars.extend_from_slice(extra);
        Settings::parse(&RawSettings::from_lookup(|k| {
            vars.iter()
                .rev()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }))
        .unwrap()
    }

    async fn run(
        account: &FakeAccount,
        writer: Option<&FakeWriter>,
        notifier: &FakeNotifier,
        settings: &Settings,
    ) -> RunReport {
        audit_account(
            Ports {
                reader: account,
                writer,
                notifier: Some(notifier),
            },
            settings,
            now(),
        )
        .await
        .unwrap()
    }

    fn quiet() -> FakeNotifier {
        FakeNotifier {
            fail: false,
            sent: Mutex::new(vec![]),
        }
    }

    fn outcome_of(report: &RunReport, user: &str) -> Vec<(Outcome, Option<String>)> {
        let f = report.findings.iter().find(|f| f.user == user).unwrap();
        f.actions
            .iter()
            .map(|a| (a.outcome, a.detail.clone()))
            .collect()
    }

    #[tokio::test]
    async fn stale_report_is_confirmed_live_and_users_who_changed_are_left_alone() {
        let mut account = FakeAccount::new(
            &[
                row("ann", "true", false),
                row("ben", "true", false),
                row("cat", "true", false),
                row("dan", "true", false),
                row("eve", "true", true),
            ],
            &["ann", "ben", "cat", "dan", "eve"],
        );
        account.report_age = Duration::hours(3);
        account.live.insert(
            "ben".into(),
            Ok(LiveUserState {
                mfa_active: true,
                password_enabled: true,
                exists: true,
            }),
        );
        account.live.insert(
            "cat".into(),
            Ok(LiveUserState {
                mfa_active: false,
                password_enabled: false,
                exists: true,
            }),
        );
        account
            .live
            .insert("dan".into(), Err(denied("ListMFADevices")));
        let writer = FakeWriter::default();
        let report = run(&account, Some(&writer), &quiet(), &settings(&[])).await;

        assert_eq!(outcome_of(&report, "ann"), [(Outcome::Applied, None)]);
        assert_eq!(
            outcome_of(&report, "ben"),
            [(Outcome::Skipped, Some(MFA_ENROLLED_SINCE_REPORT.into()))]
        );
        assert_eq!(
            outcome_of(&report, "cat"),
            [(Outcome::Skipped, Some(PASSWORD_REMOVED_SINCE_REPORT.into()))]
        );
        // MFA in the report too (outside the group): nothing changed, so it is remediated.
        assert_eq!(outcome_of(&report, "eve"), [(Outcome::Applied, None)]);
        let dan = report.findings.iter().find(|f| f.user == "dan").unwrap();
        assert_eq!(
            dan.actions[0].outcome,
            Outcome::Failed,
            "unconfirmed users are not denied"
        );
        assert!(dan.actions[0]
            .error
            .as_deref()
            .unwrap()
            .contains("could not confirm"));
        // Re-evaluated with what is true now.
        let ben = report.findings.iter().find(|f| f.user == "ben").unwrap();
        assert!(ben.mfa_active);
        assert_eq!(
            ben.status,
            Status::NonCompliant,
            "MFA now, still outside the group"
        );
        let cat = report.findings.iter().find(|f| f.user == "cat").unwrap();
        assert_eq!(cat.status, Status::NotApplicable);
        let mut writes = writer.writes.lock().unwrap().clone();
        writes.sort();
        assert_eq!(
            writes,
            [
                "attach ann",
                "attach eve",
                // Each user is told where they stand, and that is remembered on them; eve
                // has MFA and is now under the deny policy: compliant, told that her access
                // keys now need an MFA session (user_held_to_mfa).
                "tag ann enforced",
                "tag ben non_compliant",
                "tag dan non_compliant",
                "tag eve compliant",
            ]
        );
        assert_eq!(report.verdict(), crate::run_report::Verdict::Failed);
    }

    #[tokio::test]
    async fn fresh_report_needs_no_live_reads() {
        let account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
        let writer = FakeWriter::default();
        run(&account, Some(&writer), &quiet(), &settings(&[])).await;
        let mut calls = account.calls();
        calls.sort();
        assert_eq!(calls, ["details", "policy", "report", "virtual devices"]);
    }

    const TAMPERED: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn tampered(rows: &[String], users: &[&str]) -> FakeAccount {
        let mut account = FakeAccount::new(rows, users);
        account.policy.push(("v2".into(), TAMPERED.into()));
        account.default_version = "v2".into();
        account
    }

    #[tokio::test]
    async fn a_tampered_deny_policy_holds_nobody_gets_nothing_attached_and_is_repaired() {
        let mut account = tampered(
            &[row("ann", "true", false), row("ben", "true", false)],
            &["ann", "ben"],
        );
        // ben was enforced before the tampering.
        account.users[1].attached_policy_arns = vec![DENY.into()];
        let writer = FakeWriter::default();
        let notifier = quiet();
        let report = run(&account, Some(&writer), &notifier, &settings(&[])).await;

        let check = report.deny_policy.as_ref().unwrap();
        assert!(!check.canonical);
        assert_eq!(check.default_version, "v2");
        assert_eq!(check.outcome, Outcome::Applied);
        assert_eq!(report.summary.enforced, 0, "nobody counts as enforced");
        let ben = report.findings.iter().find(|f| f.user == "ben").unwrap();
        assert_eq!(ben.status, Status::NonCompliant);
        assert!(ben
            .reasons
            .contains(&crate::finding::Reason::DenyPolicyNotCanonical));
        assert_eq!(
            outcome_of(&report, "ann"),
            [(
                Outcome::Skipped,
                Some(crate::plan::DENY_POLICY_NOT_CANONICAL.into())
            )]
        );
        // The repair, and nothing written to any user (not even a notice's memory).
        assert_eq!(
            *writer.writes.lock().unwrap(),
            ["set-default v1", "delete-version v2"]
        );
        let deleted = &check.actions[1];
        assert_eq!(deleted.document.as_deref(), Some(TAMPERED));
        let kinds: Vec<String> = notifier
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|n| n.attributes["event_type"].clone())
            .collect();
        assert_eq!(kinds, ["deny_policy_changed", "run_summary"]);
        let alert = &notifier.sent.lock().unwrap()[0];
        assert_eq!(alert.attributes["severity"], "critical");
        assert!(alert.text.contains(TAMPERED), "{}", alert.text);
    }

    #[tokio::test]
    async fn a_dry_run_on_a_tampered_deny_policy_plans_the_repair_and_writes_nothing() {
        let account = tampered(&[row("ann", "true", false)], &["ann"]);
        let report = run(&account, None, &quiet(), &settings(&[])).await;
        let check = report.deny_policy.as_ref().unwrap();
        assert_eq!(check.outcome, Outcome::Planned);
        let planned: Vec<(&str, &str)> = check
            .actions
            .iter()
            .map(|a| (a.kind.as_str(), a.version.as_str()))
            .collect();
        assert_eq!(
            planned,
            [("set_default_version", "v1"), ("delete_version", "v2")]
        );
    }

    #[tokio::test]
    async fn with_no_canonical_version_left_nothing_is_written_and_the_operator_is_told_how() {
        let mut account = tampered(&[row("ann", "true", false)], &["ann"]);
        account.policy.remove(0);
        let writer = FakeWriter::default();
        let notifier = quiet();
        let report = run(&account, Some(&writer), &notifier, &settings(&[])).await;
        let check = report.deny_policy.as_ref().unwrap();
        assert_eq!(check.outcome, Outcome::Skipped);
        assert_eq!(check.detail.as_deref(), Some("no_canonical_version"));
        assert!(writer.writes.lock().unwrap().is_empty());
        let alert = &notifier.sent.lock().unwrap()[0];
        assert_eq!(alert.attributes["event_type"], "deny_policy_changed");
        assert!(
            alert.text.contains(&format!(
                "aws iam create-policy-version --policy-arn {DENY} --policy-document file://deny-without-mfa.json --set-as-default"
            )),
            "{}",
            alert.text
        );
        assert!(alert.text.contains("mfa-enforcer policy-document >"));
    }

    #[tokio::test]
    async fn a_deny_policy_that_cannot_be_read_fails_the_run_with_no_false_alarm() {
        let mut account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
        account.policy_error = Some(AwsError {
            operation: "GetPolicy",
            code: Some("Throttling".into()),
            message: "Rate exceeded".into(),
            retryable: true,
        });
        let writer = FakeWriter::default();
        let notifier = quiet();
        let err = audit_account(
            Ports {
                reader: &account,
                writer: Some(&writer),
                notifier: Some(&notifier),
            },
            &settings(&[]),
            now(),
        )
        .await
        .unwrap_err();
        assert!(err.retryable(), "{err}");
        assert!(err.to_string().contains("GetPolicy failed"), "{err}");
        assert!(writer.writes.lock().unwrap().is_empty());
        assert!(notifier.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_deny_policy_of_another_account_stops_the_run_before_any_write() {
        let account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
        let writer = FakeWriter::default();
        let err = audit_account(
            Ports {
                reader: &account,
                writer: Some(&writer),
                notifier: Some(&quiet()),
            },
            &settings(&[(
                "DENY_POLICY_ARN",
                "arn:aws:iam::210987654321:policy/DenyWithoutMFA",
            )]),
            now(),
        )
        .await
        .unwrap_err();
        let EngineError::Setting(e) = &err else {
            panic!("expected a settings error, got {err}")
        };
        assert_eq!(e.variable, "DENY_POLICY_ARN");
        assert!(!err.retryable());
        assert!(writer.writes.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn one_failed_write_does_not_stop_the_others_and_fails_the_run() {
        let users: Vec<String> = (0..30).map(|i| format!("u{i:02}")).collect();
        let rows: Vec<String> = users.iter().map(|u| row(u, "true", false)).collect();
        let names: Vec<&str> = users.iter().map(String::as_str).collect();
        let account = FakeAccount::new(&rows, &names);
        let writer = FakeWriter {
            fail_for: vec!["u07".into()],
            ..FakeWriter::default()
        };
        let report = run(
            &account,
            Some(&writer),
            &quiet(),
            &settings(&[("MAX_ENFORCEMENTS_PER_RUN", "30"), ("REMEDIATION", "both")]),
        )
        .await;
        assert_eq!(report.summary.actions_failed, 1);
        // u07's attach failed; its group add still ran (actions of a user run in order, each recorded).
        assert_eq!(report.summary.actions_applied, 59);
        assert_eq!(report.summary.non_compliant_remaining, 1);
        let u07 = report.findings.iter().find(|f| f.user == "u07").unwrap();
        assert_eq!(u07.actions[0].kind, ActionKind::AttachDenyPolicy);
        assert_eq!(
            u07.actions[0].error.as_deref(),
            Some("AttachUserPolicy failed: not allowed (AccessDenied)")
        );
        assert_eq!(report.verdict(), crate::run_report::Verdict::Failed);
    }

    #[tokio::test]
    async fn dry_run_has_no_writer_and_still_reports_the_plan() {
        let account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
        let notifier = quiet();
        let report = run(&account, None, &notifier, &settings(&[])).await;
        assert!(report.dry_run);
        assert_eq!(outcome_of(&report, "ann"), [(Outcome::Planned, None)]);
        assert_eq!(notifier.sent.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_publish_is_recorded_and_never_undoes_enforcement() {
        let account = FakeAccount::new(&[row("ann", "true", false)], &["ann"]);
        let writer = FakeWriter::default();
        let notifier = FakeNotifier {
            fail: true,
            sent: Mutex::new(vec![]),
        };
        let report = run(&account, Some(&writer), &notifier, &settings(&[])).await;
        assert_eq!(outcome_of(&report, "ann"), [(Outcome::Applied, None)]);
        let kinds: Vec<(&str, Outcome)> = report
            .notifications
            .iter()
            .map(|n| (n.kind.as_str(), n.outcome))
            .collect();
        assert_eq!(
            kinds,
            [
                ("user_enforced", Outcome::Failed),
                ("run_summary", Outcome::Failed)
            ]
        );
        assert_eq!(report.summary.actions_failed, 0);
        assert_eq!(report.summary.notifications_failed, 2);
        assert_eq!(report.verdict(), crate::run_report::Verdict::Failed);
        // A notice that was not delivered is not remembered: the next run tells them again.
        assert_eq!(*writer.writes.lock().unwrap(), ["attach ann"]);
    }

    #[tokio::test]
    async fn root_without_mfa_is_reported_never_remediated_and_the_summary_is_read_only_then() {
        let mut account = FakeAccount::new(&[row("<root_account>", "not_supported", false)], &[]);
        account.root_password = Some(true);
        let writer = FakeWriter::default();
        let notifier = quiet();
        let report = run(&account, Some(&writer), &notifier, &settings(&[])).await;
        let sent: Vec<String> = notifier
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|n| n.attributes["event_type"].clone())
            .collect();
        assert_eq!(sent, ["root_without_mfa", "run_summary"]);
        let root = &report.findings[0];
        assert_eq!(
            (root.status, root.reasons.clone()),
            (
                Status::NonCompliant,
                vec![crate::finding::Reason::RootNoMfa]
            )
        );
        assert!(root.actions.is_empty());
        assert!(writer.writes.lock().unwrap().is_empty());
        let mut calls = account.calls();
        calls.sort();
        assert_eq!(
            calls,
            ["details", "policy", "report", "summary", "virtual devices"]
        );
        assert_eq!(
            report.verdict(),
            crate::run_report::Verdict::NonCompliantRemain
        );

        account.root_password = Some(false);
        let report = run(&account, Some(&writer), &quiet(), &settings(&[])).await;
        assert_eq!(report.findings[0].status, Status::NotApplicable);

        let with_mfa = FakeAccount::new(&[row("<root_account>", "not_supported", true)], &[]);
        run(&with_mfa, Some(&writer), &quiet(), &settings(&[])).await;
        assert!(
            !with_mfa.calls().contains(&"summary".to_string()),
            "no summary read when root has MFA"
        );
    }

    #[tokio::test]
    async fn malformed_report_fails_the_run_with_the_parse_error() {
        let mut account = FakeAccount::new(&[], &[]);
        account.report = "user,arn\nx,y\n".into();
        let err = audit_account(
            Ports {
                reader: &account,
                writer: None::<&FakeWriter>,
                notifier: None::<&FakeNotifier>,
            },
            &settings(&[]),
            now(),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("missing required columns"),
            "{err}"
        );
        assert!(!err.retryable());
    }
}
