//! parse + join + evaluate + plan of N users, R times, for profilers (perf, callgrind,
//! heaptrack): `cargo run --release -p mfa-enforcer-bench --example profile_core -- N R`.
//! Prints the fastest time of each phase over the rounds: on a shared machine the minimum is
//! the figure least disturbed by others.
#![allow(missing_docs)]
use mfa_enforcer::evaluate::evaluate;
use mfa_enforcer::plan::plan;
use mfa_enforcer::snapshot::{report_users, AccountSnapshot};
use mfa_enforcer_bench::{account, now, settings};
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse().ok());
    let users: usize = args.next().flatten().unwrap_or(100_000);
    let rounds: usize = args.next().flatten().unwrap_or(1);
    let settings = settings();
    let (csv, details) = account(users);
    let mut fastest = [Duration::MAX; 5];
    let mut planned = 0;
    for _ in 0..rounds {
        let details = details.clone();
        let mut lap = Instant::now();
        let mut phase = |i: usize| {
            fastest[i] = fastest[i].min(lap.elapsed());
            lap = Instant::now();
        };
        let users = report_users(&csv).unwrap_or_default();
        phase(0);
        let mut snapshot = AccountSnapshot::join(users, details, None, Some(now()));
        snapshot.deny_policy_canonical = true;
        phase(1);
        let findings = evaluate(&snapshot, &settings, now());
        phase(2);
        let plan = plan(&findings, &settings, &snapshot.account_facts());
        phase(3);
        planned = plan.planned_actions();
        drop((plan, findings, snapshot));
        phase(4);
    }
    let [parse, join, evaluate, plan, drop] = fastest;
    println!(
        "{users} users, fastest of {rounds}: parse {parse:?} join {join:?} evaluate {evaluate:?} \
         plan {plan:?} (sum {:?}); drop {drop:?}; {planned} actions planned",
        parse + join + evaluate + plan
    );
}
