#!/usr/bin/env bash
# bootstrap.sh: makes the project's Python venv (moto server, boto3, cargo-lambda, zig) with
# pinned versions. Idempotent: does nothing when the venv matches the pins. Prints the venv path.
#   MFA_VENV  where the venv lives (default: <repo>/.venv)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${MFA_VENV:-$ROOT/.venv}
STAMP="$VENV/.pins"
want=$(cat "$ROOT/scripts/requirements.txt" "$ROOT/scripts/constraints.txt" | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/moto_server" ]; then
  echo "$VENV"
  exit 0
fi
command -v python3 >/dev/null || { echo "bootstrap: python3 is required" >&2; exit 1; }
echo "bootstrap: creating $VENV (moto server, boto3, cargo-lambda, zig; pinned)" >&2
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  -r "$ROOT/scripts/requirements.txt" -c "$ROOT/scripts/constraints.txt" >&2
echo "$want" >"$STAMP"
echo "$VENV"
