#!/usr/bin/env bash
# browser.sh: what the HTML report's test needs, on a fresh Debian machine: Debian's chromium
# and chromium-driver (apt-get, as root or through sudo; browser downloads by playwright or
# pyppeteer cannot be reached here) and the selenium venv. Prints the venv's path.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "browser: installing chromium and chromium-driver (apt-get)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y --no-install-recommends chromium chromium-driver >&2 \
    || { $SUDO apt-get update >&2 && $SUDO apt-get install -y --no-install-recommends chromium chromium-driver >&2; }
fi
"$ROOT/scripts/bootstrap.sh" browser
