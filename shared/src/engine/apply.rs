//! The plan's writes: users in parallel up to `MAX_CONCURRENCY`, one user's actions in order.

use crate::finding::{ActionKind, Outcome};
use crate::plan::Plan;
use crate::ports::RemediationWriter;
use crate::settings::Settings;
use futures_util::stream::{self, StreamExt};
use tracing::{error, info};

/// Applies every planned action, users in parallel up to `MAX_CONCURRENCY`, one user's
/// actions in order. One user's failure never stops the others.
pub async fn apply<W: RemediationWriter>(writer: &W, plan: &mut Plan, settings: &Settings) {
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
                    ActionKind::AttachDenyPolicy => {
                        writer.attach_user_policy(&user_plan.user, &action.target).await
                    }
                    ActionKind::AddToEnforcementGroup => {
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
