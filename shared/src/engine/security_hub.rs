//! The run's findings into Security Hub (`SECURITY_HUB=true`): what it holds of ours is read,
//! only what is new, changed or due for a refresh is imported, and, in a whole-account run,
//! the findings of users and roles that are gone are archived ([`crate::export::hub`]).
//!
//! A dry run exports too: a finding reports what is, and writes nothing to IAM. Nothing here
//! fails the run's reading or writing; refused findings and failed requests are counted in
//! the report's `security_hub`, and fail its verdict.

use crate::export::hub::{batches, plan_sync};
use crate::export::{asff, ExportContext};
use crate::ports::FindingsHub;
use crate::run_report::{RunReport, SecurityHubExport};
use chrono::{DateTime, Duration, Utc};
use tracing::{info, warn};

/// At most this many error lines are kept in the report.
const MAX_ERRORS: usize = 10;

/// Imports `report`'s findings and records what became of them in `report.security_hub`.
/// An event run that judged nobody makes no request.
pub async fn export_findings<H: FindingsHub>(
    hub: &H,
    report: &mut RunReport,
    refresh: Duration,
    now: DateTime<Utc>,
) {
    let ctx = ExportContext::of(report, hub.region());
    let desired = asff::findings(report, &ctx);
    let whole_account = report.event.is_none();
    if !whole_account && desired.is_empty() {
        return;
    }
    let mut export = SecurityHubExport {
        product_arn: ctx.product_arn(),
        ..SecurityHubExport::default()
    };
    let ids: Vec<String> = desired.iter().map(|f| f.id.clone()).collect();
    let existing = hub
        .active_findings(&export.product_arn, (!whole_account).then_some(&ids[..]))
        .await;
    let existing = match existing {
        Ok((existing, requests)) => {
            export.requests += requests;
            existing
        }
        Err(e) => {
            warn!(error = %e, "Security Hub: our findings could not be read; nothing imported");
            export.failed = desired.len();
            export.errors.push(e.to_string());
            report.security_hub = Some(export);
            return;
        }
    };
    let plan = plan_sync(desired, &existing, now, refresh, whole_account);
    export.counts = plan.counts;
    for batch in batches(&plan.imports) {
        export.requests += 1;
        match hub.import(batch).await {
            Ok(refused) => {
                export.imported += batch.len() - refused.len();
                export.failed += refused.len();
                for (id, why) in refused {
                    keep(&mut export.errors, format!("{id}: {why}"));
                }
            }
            Err(e) => {
                export.failed += batch.len();
                keep(&mut export.errors, e.to_string());
            }
        }
    }
    info!(
        imported = export.imported,
        failed = export.failed,
        unchanged = export.counts.unchanged,
        archived = export.counts.archived,
        requests = export.requests,
        "Security Hub findings exported"
    );
    report.security_hub = Some(export);
}

fn keep(errors: &mut Vec<String>, error: String) {
    if errors.len() < MAX_ERRORS {
        errors.push(error);
    }
}
