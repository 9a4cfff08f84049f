#!/usr/bin/env bash
# fuzz.sh [SECONDS]: coverage-guided fuzzing of the credential report and CloudTrail event
# parsers with AFL++ (cargo-afl, pinned, installed under .cache/), SECONDS per target (default
# 120). Separate from `make test`: a long run belongs here. Findings are kept under
# .cache/fuzz/<target>/default/{crashes,hangs}; exits 1 when there is any.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_TARGET=${1:-120}
CARGO_AFL_VERSION=0.18.2
TOOLS="$ROOT/.cache/cargo-afl"
if ! "$TOOLS/bin/cargo-afl" afl --version 2>/dev/null | grep -q "$CARGO_AFL_VERSION"; then
  echo "fuzz: installing cargo-afl $CARGO_AFL_VERSION into $TOOLS" >&2
  cargo install --quiet --locked --root "$TOOLS" cargo-afl --version "$CARGO_AFL_VERSION"
fi
export PATH="$TOOLS/bin:$PATH"
# AFL++ itself, built once from the sources cargo-afl carries (into its own data directory).
cargo afl config --build >/dev/null 2>&1 || cargo afl config --build --force
cd fuzz
echo "fuzz: building the targets with AFL++ instrumentation" >&2
cargo afl build --release --locked
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
findings=0
for pair in credential_report:report cloudtrail_event:event; do
  target=${pair%%:*}
  seeds=seeds/${pair##*:}
  out="$ROOT/.cache/fuzz/$target"
  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s (seeds: fuzz/$seeds)" >&2
  cargo afl fuzz -V "$SECONDS_PER_TARGET" -i "$seeds" -o "$out" "target/release/$target" >"$out.log" 2>&1 \
    || { tail -20 "$out.log" >&2; exit 1; }
  stats="$out/default/fuzzer_stats"
  crashes=$(find "$out/default/crashes" -type f ! -name README.txt | wc -l)
  hangs=$(find "$out/default/hangs" -type f | wc -l)
  execs=$(awk -F: '/^execs_done/ {gsub(/ /,"",$2); print $2}' "$stats")
  edges=$(awk -F: '/^edges_found/ {gsub(/ /,"",$2); print $2}' "$stats")
  corpus=$(awk -F: '/^corpus_count/ {gsub(/ /,"",$2); print $2}' "$stats")
  echo "fuzz: $target: $execs executions, $edges edges, $corpus inputs in the corpus, $crashes crashes, $hangs hangs"
  findings=$((findings + crashes + hangs))
done
[ "$findings" -eq 0 ] || { echo "fuzz: findings under $ROOT/.cache/fuzz" >&2; exit 1; }
