//! Auditing many accounts at once: bounded concurrency, a time limit per account, and each
//! account's outcome handed on as soon as it is known (so nothing accumulates). One account's
//! failure never stops the others.

use super::report::AccountEntry;
use super::OrgAccount;
use crate::run_report::RunReport;
use futures_util::stream::{self, StreamExt};
use std::future::Future;
use std::time::Duration;

/// Audits one account (assume its role, run the dry-run read path): the report, or why not.
///
/// Its futures need not be `Send`: the walk polls them all on its own task.
pub trait AccountAuditor: Sync {
    /// Audits `account`.
    fn audit(&self, account: &OrgAccount) -> impl Future<Output = Result<RunReport, String>>;
}

/// Audits every account, `concurrency` at a time, each within `limit`; calls `done` with each
/// account's entry as it finishes (in the order they finish).
pub async fn walk<A: AccountAuditor>(
    auditor: &A,
    accounts: Vec<OrgAccount>,
    concurrency: usize,
    limit: Duration,
    mut done: impl FnMut(AccountEntry),
) {
    let mut finished = stream::iter(accounts)
        .map(|account| async move {
            let entry = match tokio::time::timeout(limit, auditor.audit(&account)).await {
                Ok(Ok(report)) => AccountEntry::audited(&account, report),
                Ok(Err(error)) => AccountEntry::unreachable(&account, error),
                Err(_) => AccountEntry::unreachable(
                    &account,
                    format!("timed out after {} s", limit.as_secs()),
                ),
            };
            entry
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(entry) = finished.next().await {
        done(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::report::AccountStatus;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Scripted {
        in_flight: AtomicUsize,
        most: AtomicUsize,
    }

    impl AccountAuditor for Scripted {
        async fn audit(&self, account: &OrgAccount) -> Result<RunReport, String> {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            let result = match account.id.as_str() {
                "000000000002" => Err("AssumeRole failed: AccessDenied".to_string()),
                "000000000003" => {
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    unreachable!("timed out before")
                }
                id => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Ok(RunReport::empty(id, chrono::Utc::now(), true))
                }
            };
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            result
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_account_ends_audited_or_unreachable_with_bounded_concurrency() {
        let accounts: Vec<OrgAccount> = (0..20)
            .map(|i| OrgAccount {
                id: format!("{i:012}"),
                name: format!("a{i}"),
                status: "ACTIVE".into(),
                ou_ids: vec![],
                ou_path: "Root".into(),
            })
            .collect();
        let auditor = Scripted {
            in_flight: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        };
        let mut entries = Vec::new();
        walk(&auditor, accounts, 4, Duration::from_secs(30), |e| {
            entries.push(e)
        })
        .await;
        assert_eq!(entries.len(), 20);
        assert!(auditor.most.load(Ordering::SeqCst) <= 4);
        let unreachable: Vec<(&str, &str)> = entries
            .iter()
            .filter(|e| e.status == AccountStatus::Unreachable)
            .map(|e| {
                (
                    e.account_id.as_str(),
                    e.error.as_deref().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(unreachable.len(), 2);
        assert!(unreachable.contains(&("000000000002", "AssumeRole failed: AccessDenied")));
        assert!(unreachable.contains(&("000000000003", "timed out after 30 s")));
    }
}
