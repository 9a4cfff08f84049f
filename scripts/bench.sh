#!/usr/bin/env bash
# bench.sh: regenerates BENCHMARKS.md. Criterion on the pure core (parse, evaluate, plan at
# 1k/10k/100k users), the arm64 zips (make build), then bench/compare.py: mfa-enforcer and Cloud
# Custodian side by side on identical seeded moto accounts (../shared/peers), cold start, memory.
# Takes a while (seeding 10,000 users into moto is most of it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=$(scripts/bootstrap.sh)
PEERS_DIR=${PEERS_DIR:-$ROOT/../shared/peers}
[ -x "$PEERS_DIR/run_c7n.sh" ] || { echo "bench: $PEERS_DIR/run_c7n.sh not found (set PEERS_DIR)" >&2; exit 1; }
bash "$PEERS_DIR/setup.sh"
scripts/build.sh
cargo build --quiet --release -p mfa-enforcer-cli -p scheduled-audit
CORE=$(mktemp)
cargo bench --quiet -p mfa-enforcer-bench 2>/dev/null | grep -E '^core/|time:' | grep -v '%' >"$CORE" || true
PEERS_DIR=$PEERS_DIR "$VENV/bin/python3" bench/compare.py --core "$CORE" "$@"
rm -f "$CORE"
