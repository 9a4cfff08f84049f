//! What to import into Security Hub, given what it already holds: new and changed findings,
//! unchanged ones only when their last import grows old, and the findings of users and roles
//! that are gone, archived. Then the imports cut into requests within the API's limits. Pure.
//!
//! Security Hub deletes a finding not updated for 90 days
//! (<https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings.html>), so
//! an unchanged finding is imported again once its last import is older than the refresh
//! interval (`SECURITY_HUB_REFRESH_DAYS`, 7 by default, at most 60). An update is kept only
//! when its `UpdatedAt` is later than the stored one, so every import carries the run's time.

use super::asff::{AsffFinding, ACTIVE, ARCHIVED, FIELD_FINGERPRINT};
use super::{timestamp, PRODUCT_NAME};
pub use crate::run_report::SyncCounts;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// At most this many findings per BatchImportFindings request
/// (<https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html>).
pub const MAX_FINDINGS_PER_REQUEST: usize = 100;

/// At most this many bytes per request (6 MB; the same page). Counted on the findings' JSON,
/// with room left for the request's own framing.
pub const MAX_REQUEST_BYTES: usize = 6_000_000 - 10_000;

/// What one run does to Security Hub's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncPlan {
    /// The findings to import, in order: new, changed, refreshed, archived.
    pub imports: Vec<AsffFinding>,
    /// Counts.
    pub counts: SyncCounts,
}

/// Whether a finding in Security Hub is one of ours (Security Hub's `GetFindings` filters are
/// a request's; an emulator ignores them, so the check is made again here).
pub fn is_ours(finding: &AsffFinding, product_arn: &str, account_id: &str) -> bool {
    finding.product_arn == product_arn
        && finding.aws_account_id == account_id
        && finding
            .generator_id
            .starts_with(&format!("{PRODUCT_NAME}/"))
}

/// Plans a run's imports. `existing` are our `ACTIVE` findings in Security Hub (others are
/// ignored); with `archive_missing` (a whole-account run, which sees every user and role),
/// those the run no longer makes are archived; an event run sees a few users and archives
/// nothing.
pub fn plan_sync(
    desired: Vec<AsffFinding>,
    existing: &[AsffFinding],
    now: DateTime<Utc>,
    refresh: Duration,
    archive_missing: bool,
) -> SyncPlan {
    let existing: HashMap<&str, &AsffFinding> = existing
        .iter()
        .filter(|f| f.record_state == ACTIVE)
        .map(|f| (f.id.as_str(), f))
        .collect();
    let mut plan = SyncPlan::default();
    let mut seen = std::collections::HashSet::new();
    for mut finding in desired {
        seen.insert(finding.id.clone());
        match existing.get(finding.id.as_str()) {
            None => {
                plan.counts.new += 1;
                plan.imports.push(finding);
            }
            Some(old) => {
                // When it was first found stays what Security Hub holds.
                finding.created_at = old.created_at.clone();
                let same = old.product_fields.get(FIELD_FINGERPRINT)
                    == finding.product_fields.get(FIELD_FINGERPRINT);
                let stale = DateTime::parse_from_rfc3339(&old.updated_at)
                    .map(|at| now.signed_duration_since(at) >= refresh)
                    .unwrap_or(true);
                if !same {
                    plan.counts.changed += 1;
                    plan.imports.push(finding);
                } else if stale {
                    plan.counts.refreshed += 1;
                    plan.imports.push(finding);
                } else {
                    plan.counts.unchanged += 1;
                }
            }
        }
    }
    if archive_missing {
        let mut gone: Vec<&&AsffFinding> = existing
            .iter()
            .filter(|(id, _)| !seen.contains(**id))
            .map(|(_, f)| f)
            .collect();
        gone.sort_by(|a, b| a.id.cmp(&b.id));
        for old in gone {
            plan.counts.archived += 1;
            plan.imports.push(archived(old, now));
        }
    }
    plan
}

/// A finding as it was, archived now. Only the members we own are sent again: what Security
/// Hub or an analyst added (workflow, notes, its own product fields) is not ours to send.
fn archived(old: &AsffFinding, now: DateTime<Utc>) -> AsffFinding {
    let mut f = old.clone();
    f.record_state = ARCHIVED.to_string();
    f.updated_at = timestamp(now);
    f.product_fields
        .retain(|k, _| k.starts_with(&format!("{PRODUCT_NAME}/")));
    f
}

/// The imports cut into requests: at most [`MAX_FINDINGS_PER_REQUEST`] findings and
/// [`MAX_REQUEST_BYTES`] of JSON each, in order. A single finding larger than the byte limit
/// still gets a request of its own (Security Hub refuses it by itself; 240 KB per finding is
/// its limit, far above what we make).
pub fn batches(findings: &[AsffFinding]) -> Vec<&[AsffFinding]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, f) in findings.iter().enumerate() {
        let size = serde_json::to_vec(f).map(|v| v.len() + 1).unwrap_or(0);
        let full = i - start == MAX_FINDINGS_PER_REQUEST || bytes + size > MAX_REQUEST_BYTES;
        if full && i > start {
            out.push(&findings[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < findings.len() {
        out.push(&findings[start..]);
    }
    out
}
