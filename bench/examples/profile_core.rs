//! One parse + evaluate + plan of N users, for profilers (callgrind, perf, heaptrack).
#![allow(missing_docs)]
use mfa_enforcer::evaluate::evaluate;
use mfa_enforcer::plan::plan;
use mfa_enforcer::snapshot::{report_users, AccountSnapshot};
use mfa_enforcer_bench::{account, now, settings};

fn main() {
    let users: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let settings = settings();
    let (csv, details) = account(users);
    let mut total = 0;
    for _ in 0..rounds {
        let details = details.clone();
        let start = std::time::Instant::now();
        let rows = report_users(&csv).unwrap_or_default();
        let parsed = start.elapsed();
        let snapshot = AccountSnapshot::join(rows, details, None, Some(now()));
        let joined = start.elapsed();
        let findings = evaluate(&snapshot, &settings, now());
        let evaluated = start.elapsed();
        let p = plan(&findings, &settings);
        total += p.planned_actions();
        let planned = start.elapsed();
        drop(p);
        drop(findings);
        drop(snapshot);
        eprintln!(
            "parse {parsed:?} join {:?} evaluate {:?} plan {:?} drop {:?}",
            joined - parsed,
            evaluated - joined,
            planned - evaluated,
            start.elapsed() - planned
        );
    }
    println!("{total}");
}
