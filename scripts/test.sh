#!/usr/bin/env bash
# test.sh: every check the project has, from a fresh clone: the Python venvs (moto server; the
# template linters), formatting, clippy with warnings as errors, the deployment templates
# (cfn-lint, checkov, the StackSet's expanded template), a headless browser, then every unit
# and integration test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export MFA_VENV
MFA_VENV=$(scripts/bootstrap.sh)
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== templates: cfn-lint, checkov (no network: --skip-download)"
INFRA_VENV=$(scripts/bootstrap.sh infra)
export MFA_INFRA_VENV=$INFRA_VENV
"$INFRA_VENV/bin/cfn-lint" infra/template.yaml infra/stackset.yaml
"$INFRA_VENV/bin/checkov" --quiet --compact --skip-download --framework cloudformation \
  -f infra/template.yaml -f infra/stackset.yaml
# The StackSet deploys the expanded template: expand it offline and lint that too.
EXPANDED=$(mktemp --suffix=.json)
"$INFRA_VENV/bin/python" scripts/package_stackset.py --expand-only --out "$EXPANDED" >/dev/null
"$INFRA_VENV/bin/cfn-lint" "$EXPANDED"
rm -f "$EXPANDED"
echo "== a real browser for the HTML report's test (chromium, chromium-driver, selenium)"
export MFA_BROWSER_VENV
MFA_BROWSER_VENV=$(scripts/browser.sh)
echo "== cargo test"
cargo test --workspace --locked
