//! Telling whoever must hear about a run: alerts, users' notices, the run summary, in as few
//! SNS requests as it allows, and what is remembered of them (a notice on the user's tags, the
//! exemptions listed on the deny policy's).

use crate::event::IamEvent;
use crate::finding::{Outcome, Status};
use crate::message::Notification;
use crate::notices::{exempt_digest, memory_tags, plan_notices, Notice, NoticeKind};
use crate::notify::{self, Alert};
use crate::ports::{AwsError, Notifier, PolicyWriter, Ports, RemediationWriter};
use crate::run_report::{NotificationRecord, RunReport};
use crate::settings::Settings;
use crate::tag_keys::EXEMPT_DIGEST_TAG;
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tracing::{error, info};

/// A message about to be published, and what to remember once it is.
pub struct Outgoing {
    /// `kind` of its notification record.
    pub kind: String,
    /// The user it is about (a notice).
    pub user: Option<String>,
    /// The message.
    pub message: Notification,
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
    Notice(Notice),
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
                        settings.admin_role_for(finding),
                    ),
                    remember: Some(notice.status),
                }
            }
        }
    }
}

/// The alerts a finished run raises by itself: the deny policy changed, guard tripped, writes
/// failed, root at risk, privileged roles assumable without MFA.
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
    let root =
        (report.findings.iter()).find(|f| f.facts.is_root && f.status == Status::NonCompliant);
    if let Some(root) = root {
        let alert = Alert::Root {
            reasons: &root.reasons,
        };
        alerts.push(Outgoing::alert(account, None, &alert));
    }
    let roles: Vec<_> = report.privileged_roles_without_mfa().collect();
    if !roles.is_empty() {
        let alert = Alert::PrivilegedRolesWithoutMfa { roles: &roles };
        alerts.push(Outgoing::alert(account, None, &alert));
    }
    alerts
}

/// Tells whoever must hear about the run, when a topic is configured: alerts (the run's own
/// and `extra` ones), each user whose status changed or who is due a reminder, and the run
/// summary when one is due; all in as few requests as SNS allows. Each published notice is
/// then remembered on the user's tags, and the exemptions a summary listed on the deny
/// policy's. Every message and memory write is recorded in the report; a failure fails the
/// run but never undoes an enforcement.
pub async fn announce<R, W: RemediationWriter + PolicyWriter, N: Notifier>(
    ports: &Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
    report: &mut RunReport,
    extra: Vec<Outgoing>,
) {
    let writer = ports.writer;
    if let (Some(notifier), Some(topic)) = (ports.notifier, settings.topic_arn.as_deref()) {
        let (pending, mut remember) = messages(report, extra, writer.is_some(), settings, now);
        remember.extend(publish(notifier, topic, pending, report, settings).await);
        if let Some(writer) = writer {
            remember_notices(writer, remember, settings, now, report).await;
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

/// A user, and the status to record on them as told.
type Told = (String, Status);

/// What the run has to say, in the order it is sent: alerts, users' notices, the summary.
/// Also returns the users whose memory changes without a message (`RecordOnly`).
///
/// Users hear nothing in a dry run (`writes` false), when the guard tripped, or when the deny
/// policy is not canonical: nothing is written to users then, not even a notice's memory, so
/// notices would repeat every run; the alert goes to the security team instead.
fn messages(
    report: &RunReport,
    extra: Vec<Outgoing>,
    writes: bool,
    settings: &Settings,
    now: DateTime<Utc>,
) -> (Vec<Pending>, Vec<Told>) {
    let mut pending: Vec<Pending> = run_alerts(report)
        .into_iter()
        .chain(extra)
        .map(Pending::Ready)
        .collect();
    let mut record_only = Vec::new();
    let deny_policy_canonical = report.deny_policy.as_ref().is_none_or(|c| c.canonical);
    if writes && !report.summary.guard_tripped && deny_policy_canonical {
        for notice in plan_notices(&report.findings, now, settings.remind_after) {
            if notice.kind == NoticeKind::RecordOnly {
                record_only.push((report.findings[notice.finding].user.clone(), notice.status));
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
    (pending, record_only)
}

/// Renders and publishes the messages, a slice at a time (thousands of notices never sit in
/// memory at once), and records each outcome; returns the users told.
async fn publish<N: Notifier>(
    notifier: &N,
    topic: &str,
    pending: Vec<Pending>,
    report: &mut RunReport,
    settings: &Settings,
) -> Vec<Told> {
    if !pending.is_empty() {
        info!(messages = pending.len(), "publishing");
    }
    let mut told = Vec::new();
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
                told.push((user.clone(), status));
            }
            report.record_notification(record(kind, user, result));
        }
    }
    told
}

/// Records on each user told what they were told and when (their `mfa-enforcer:notified-*`
/// tags), users in parallel; a failed write is recorded as a failed notification.
async fn remember_notices<W: RemediationWriter>(
    writer: &W,
    told: Vec<Told>,
    settings: &Settings,
    now: DateTime<Utc>,
    report: &mut RunReport,
) {
    let written: Vec<_> = stream::iter(told)
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
