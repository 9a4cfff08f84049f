//! The orchestration: one file per step, each a function over ports and plain values.
//!
//! ```text
//! account run: gather, deny_policy::read -> keep_canonical -> decide -> confirm -> act
//!              -> complete_devices -> announce
//! event run:   what the event names, deny_policy::read -> keep_canonical -> decide -> act
//!              -> announce
//! ```
//!
//! - `account`: the whole-account run (credential report + authorization details);
//! - `event`: the event run (only what a CloudTrail event names, read live);
//! - `deny_policy`: the deny policy checked before any run relies on it, and repaired;
//! - `confirm`: users about to be denied re-read live when the report is old;
//! - `apply`: the plan's writes;
//! - `announce`: alerts, notices and the run summary, and what is remembered of them;
//! - `security_hub`: the run's findings into Security Hub, after the run (`SECURITY_HUB`).
//!
//! Both triggers share the tail: `decide` (evaluate and plan, pure), `act` (apply, then the
//! report) and `announce::announce`. A dry run is a run without a writer: the same plan,
//! reported and not applied. Every action ends with an outcome; nothing is swallowed, and the
//! report's verdict says whether anything failed.

mod account;
mod announce;
mod apply;
pub(crate) mod confirm;
pub(crate) mod deny_policy;
mod event;
mod security_hub;

pub use account::audit_account;
pub use confirm::{
    MFA_ENROLLED_SINCE_REPORT, PASSWORD_REMOVED_SINCE_REPORT, USER_DELETED_SINCE_REPORT,
};
pub use deny_policy::NO_CANONICAL_VERSION;
pub use event::handle_event;
pub use security_hub::export_findings;

use crate::evaluate::evaluate;
use crate::finding::Finding;
use crate::plan::{plan, Plan};
use crate::ports::{AwsError, RemediationWriter};
use crate::report::ReportError;
use crate::run_report::{RunReport, Summary};
use crate::settings::{Settings, SettingsError};
use crate::snapshot::AccountSnapshot;
use chrono::{DateTime, Utc};
use thiserror::Error;
use tracing::{debug, error, info};

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
        apply::apply(writer, &mut plan, settings).await;
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

#[cfg(test)]
mod tests;
