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
            // At least one: an account with nothing to export still could not be checked.
            export.failed = desired.len().max(1);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::asff::AsffFinding;
    use crate::finding::{Finding, Status};
    use crate::ports::AwsError;
    use chrono::TimeZone;
    use std::sync::Mutex;

    /// Security Hub in memory: what it holds, a read that may fail, IDs it refuses.
    #[derive(Default)]
    struct Hub {
        held: Mutex<Vec<AsffFinding>>,
        read_fails: bool,
        refuse: Vec<String>,
        requests: Mutex<Vec<usize>>,
    }

    impl FindingsHub for Hub {
        fn region(&self) -> &str {
            "eu-west-1"
        }

        async fn active_findings(
            &self,
            _product_arn: &str,
            ids: Option<&[String]>,
        ) -> Result<(Vec<AsffFinding>, usize), AwsError> {
            if self.read_fails {
                return Err(AwsError {
                    operation: "GetFindings",
                    code: Some("InvalidAccessException".into()),
                    message: "Account is not subscribed to AWS Security Hub".into(),
                    retryable: false,
                });
            }
            let held = self.held.lock().unwrap().clone();
            let found = held
                .into_iter()
                .filter(|f| ids.is_none_or(|ids| ids.contains(&f.id)))
                .collect();
            Ok((found, 1))
        }

        async fn import(
            &self,
            findings: &[AsffFinding],
        ) -> Result<Vec<(String, String)>, AwsError> {
            self.requests.lock().unwrap().push(findings.len());
            let mut held = self.held.lock().unwrap();
            let mut refused = Vec::new();
            for f in findings {
                if self.refuse.contains(&f.id) {
                    refused.push((f.id.clone(), "InvalidInput: no".to_string()));
                    continue;
                }
                held.retain(|h| h.id != f.id);
                held.push(f.clone());
            }
            Ok(refused)
        }
    }

    fn report(users: &[(&str, Status)]) -> RunReport {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let mut r = RunReport::empty("123456789012", now, true);
        r.findings = users
            .iter()
            .map(|(name, status)| Finding::sample(name, *status, *status == Status::Compliant))
            .collect();
        r
    }

    #[tokio::test]
    async fn an_unreadable_hub_fails_every_finding_and_the_run_says_why() {
        let hub = Hub {
            read_fails: true,
            ..Hub::default()
        };
        let mut r = report(&[("a", Status::Compliant), ("b", Status::NonCompliant)]);
        let at = r.generated_at;
        export_findings(&hub, &mut r, Duration::days(7), at).await;
        let export = r.security_hub.clone().unwrap();
        assert_eq!((export.failed, export.imported), (2, 0));
        assert!(export.errors[0].contains("not subscribed"), "{export:?}");
        assert!(hub.requests.lock().unwrap().is_empty());
        let failure = r.failure().unwrap();
        assert_eq!(failure.findings_failed, 2);
        assert!(failure.to_string().contains("2 Security Hub finding(s)"));
    }

    #[tokio::test]
    async fn refused_findings_are_counted_and_the_rest_imported() {
        let hub = Hub {
            refuse: vec!["mfa-enforcer/123456789012/console_mfa/AIDAB".into()],
            ..Hub::default()
        };
        let mut r = report(&[("a", Status::Compliant), ("b", Status::NonCompliant)]);
        let at = r.generated_at;
        export_findings(&hub, &mut r, Duration::days(7), at).await;
        let export = r.security_hub.clone().unwrap();
        assert_eq!((export.imported, export.failed, export.requests), (1, 1, 2));
        assert!(export.errors[0].ends_with("AIDAB: InvalidInput: no"));
        // The next run imports what was refused, and only that.
        let mut again = report(&[("a", Status::Compliant), ("b", Status::NonCompliant)]);
        let hub = Hub {
            held: Mutex::new(hub.held.into_inner().unwrap()),
            ..Hub::default()
        };
        let at = again.generated_at;
        export_findings(&hub, &mut again, Duration::days(7), at).await;
        let export = again.security_hub.unwrap();
        assert_eq!((export.counts.new, export.counts.unchanged), (1, 1));
    }
}
