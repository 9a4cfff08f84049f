#!/usr/bin/env bash
# build.sh: the deployable zips, `cargo lambda build --release --arm64`, linked with zig from
# PyPI's ziglang (in the project venv). Prints each zip and its size.
#   target/lambda/scheduled-audit/bootstrap.zip, target/lambda/iam-events/bootstrap.zip
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=$(scripts/bootstrap.sh)
# cargo-lambda finds zig as `python3 -m ziglang`: the venv's python3 must come first.
export PATH="$VENV/bin:$PATH"
cargo lambda build --release --arm64 --output-format zip -p scheduled-audit -p iam-events
for name in scheduled-audit iam-events; do
  zip="target/lambda/$name/bootstrap.zip"
  [ -f "$zip" ] || { echo "build: $zip was not produced" >&2; exit 1; }
  printf '%-40s %8d bytes (%s)\n' "$zip" "$(stat -c %s "$zip")" "$(du -h "$zip" | cut -f1)"
done
