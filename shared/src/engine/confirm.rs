//! Live confirmation: when the credential report is older than `CONFIRM_AFTER_MINUTES`, each
//! user about to be denied is read again; someone who changed since is left alone this run.

use crate::evaluate::evaluate_user;
use crate::finding::{Action, Finding, Outcome};
use crate::iam_state::LiveUserState;
use crate::plan::{Plan, UserPlan};
use crate::ports::AccountReader;
use crate::settings::Settings;
use crate::snapshot::AccountSnapshot;
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tracing::{info, warn};

/// Detail of an action skipped because the user enrolled MFA after the report was generated.
pub const MFA_ENROLLED_SINCE_REPORT: &str = "mfa_enrolled_since_report";
/// Detail of an action skipped because the user lost their console password since the report.
pub const PASSWORD_REMOVED_SINCE_REPORT: &str = "password_removed_since_report";
/// Detail of an action skipped because the user was deleted since the report.
pub const USER_DELETED_SINCE_REPORT: &str = "user_deleted_since_report";

/// Re-reads each user about to be denied; someone who enrolled MFA (or lost their password,
/// or was deleted) since the report is left alone, with a re-evaluated finding.
pub async fn confirm<R: AccountReader>(
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
                if let Some(facts) = snapshot.users.iter().find(|u| u.name == finding.user) {
                    *finding = evaluate_user(
                        &facts.clone().confirmed(&live),
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

fn mark(user_plan: &mut UserPlan, outcome: Outcome, mut annotate: impl FnMut(&mut Action)) {
    for action in &mut user_plan.actions {
        if action.outcome == Outcome::Planned {
            action.outcome = outcome;
            annotate(action);
        }
    }
}
