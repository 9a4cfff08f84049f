#!/usr/bin/env bash
# test.sh: every check the project has, from a fresh clone: the Python venv (moto server),
# formatting, clippy with warnings as errors, then every unit and integration test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export MFA_VENV
MFA_VENV=$(scripts/bootstrap.sh)
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
