#!/usr/bin/env bash
# bootstrap.sh [infra|bench]: makes one of the project's Python venvs with pinned versions and
# prints its path. Idempotent: does nothing when the venv matches the pins.
#   (no argument)  .venv: moto server, boto3, cargo-lambda, zig      (MFA_VENV overrides)
#   infra          .venv-infra: cfn-lint, checkov, aws-sam-translator, the IAM policy
#                  evaluator and linter (principalmapper, parliament)  (MFA_INFRA_VENV overrides)
#   bench          .venv-bench: Cloud Custodian, for `make bench`     (MFA_BENCH_VENV overrides)
#   browser        .venv-browser: selenium, for the HTML report's test (MFA_BROWSER_VENV overrides)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  "") VENV=${MFA_VENV:-$ROOT/.venv}; SUFFIX=""; PROBE=moto_server; WHAT="moto server, boto3, cargo-lambda, zig" ;;
  infra) VENV=${MFA_INFRA_VENV:-$ROOT/.venv-infra}; SUFFIX="-infra"; PROBE=checkov; WHAT="cfn-lint, checkov, aws-sam-translator, principalmapper, parliament" ;;
  bench) VENV=${MFA_BENCH_VENV:-$ROOT/.venv-bench}; SUFFIX="-bench"; PROBE=custodian; WHAT="Cloud Custodian" ;;
  browser) VENV=${MFA_BROWSER_VENV:-$ROOT/.venv-browser}; SUFFIX="-browser"; PROBE=python; WHAT="selenium" ;;
  *) echo "bootstrap: unknown venv ${1}; expected nothing, infra, bench or browser" >&2; exit 2 ;;
esac
REQUIREMENTS="$ROOT/scripts/requirements$SUFFIX.txt"
CONSTRAINTS="$ROOT/scripts/constraints$SUFFIX.txt"
STAMP="$VENV/.pins"
want=$(cat "$REQUIREMENTS" "$CONSTRAINTS" | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/$PROBE" ]; then
  echo "$VENV"
  exit 0
fi
command -v python3 >/dev/null || { echo "bootstrap: python3 is required" >&2; exit 1; }
echo "bootstrap: creating $VENV ($WHAT; pinned)" >&2
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS" -c "$CONSTRAINTS" >&2
echo "$want" >"$STAMP"
echo "$VENV"
