//! The pure core on synthetic real-format accounts: parse the credential report, join it with
//! the authorization details, evaluate every user, plan. Goal: 100,000 users in at most 100 ms.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use mfa_enforcer::evaluate::evaluate;
use mfa_enforcer::plan::plan;
use mfa_enforcer::snapshot::{report_users, AccountSnapshot};
use mfa_enforcer_bench::{account, now, settings};
use std::hint::black_box;

fn core(c: &mut Criterion) {
    let settings = settings();
    let mut group = c.benchmark_group("core");
    group.sample_size(20);
    for users in [1_000usize, 10_000, 100_000] {
        let (csv, details) = account(users);
        group.throughput(Throughput::Elements(users as u64));
        // What a run keeps of the report: every column parsed and checked, a few kept per user.
        group.bench_with_input(BenchmarkId::new("parse", users), &csv, |b, csv| {
            b.iter_with_large_drop(|| report_users(black_box(csv)))
        });
        group.bench_with_input(
            BenchmarkId::new("parse_evaluate_plan", users),
            &(csv, details),
            |b, (csv, details)| {
                // The details are consumed by the join; their copy is made outside the timing.
                // The results are returned, so freeing them is not timed: a run frees them
                // after its writes, not on the way to the plan.
                b.iter_batched(
                    || details.clone(),
                    |details| {
                        let users = report_users(black_box(csv)).unwrap_or_default();
                        let mut snapshot = AccountSnapshot::join(users, details, None, Some(now()));
                        snapshot.deny_policy_canonical = true;
                        let findings = evaluate(&snapshot, &settings, now());
                        let plan = plan(&findings, &settings, &snapshot.account_facts());
                        (snapshot, findings, plan)
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, core);
criterion_main!(benches);
