#!/usr/bin/env bash
# bench.sh: regenerates BENCHMARKS.md from the repository alone. Criterion on the pure core
# (parse, evaluate, plan at 1k/10k/100k users), the arm64 zips (make build), then
# bench/compare.py: mfa-enforcer and Cloud Custodian (its own pinned venv) side by side on
# identical seeded moto accounts behind a request-counting proxy, cold start, memory; then
# both again under 20 and 60 ms of latency a request, the event path, the Lambda cost, and IAM
# writes under throttling.
# Takes a while (seeding 10,000 users into moto is most of it). Arguments go to compare.py.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export MFA_VENV MFA_BENCH_VENV
MFA_VENV=$(scripts/bootstrap.sh)
MFA_BENCH_VENV=$(scripts/bootstrap.sh bench)
scripts/build.sh
cargo build --quiet --release -p mfa-enforcer-cli -p scheduled-audit
cargo build --quiet --release -p mfa-enforcer-bench --example event_path
CORE=$(mktemp)
cargo bench --quiet -p mfa-enforcer-bench 2>/dev/null | grep -E '^core/|time:' | grep -v '%' >"$CORE" || true
"$MFA_VENV/bin/python3" bench/compare.py --core "$CORE" "$@"
rm -f "$CORE"
