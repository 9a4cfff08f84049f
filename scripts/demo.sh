#!/usr/bin/env bash
# demo.sh: the whole story on a local AWS emulator, from a fresh machine with Rust and python3.
#  1. makes the pinned venv (moto server, cargo-lambda, zig) if needed and builds the binaries;
#  2. starts moto on a free loopback port with a demo account: one user per status;
#  3. runs the scheduled-audit Lambda through the Lambda runtime (cargo lambda watch + invoke)
#     with a Scheduled Event, enforcing (DRY_RUN=false);
#  4. prints the findings table and the notifications that reached the SQS queue subscribed to
#     the topic (the run summary, a notice per user); then a second run, which finds nothing
#     left to do and tells nobody anything;
#  5. stops everything.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=$(scripts/bootstrap.sh)
export PATH="$VENV/bin:$PATH"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

step "Building mfa-enforcer and the scheduled-audit Lambda"
cargo build --quiet -p mfa-enforcer-cli -p scheduled-audit
CLI="$ROOT/target/debug/mfa-enforcer"
"$CLI" policy-document >"$WORK/policy.json"

step "Starting moto server with the demo account"
"$VENV/bin/python" scripts/demo_account.py --policy-file "$WORK/policy.json" --info "$WORK/account.json" \
  >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 600); do [ -f "$WORK/account.json" ] && break; sleep 0.1; done
[ -f "$WORK/account.json" ] || { cat "$WORK/moto.log"; echo "demo: moto did not start" >&2; exit 1; }
info() { python3 -c "import json,sys;print(json.load(open('$WORK/account.json'))['$1'])"; }
ENDPOINT=$(info endpoint)
echo "moto at $ENDPOINT; demo users and the status each should have:"
python3 -c "import json;d=json.load(open('$WORK/account.json'));[print(f'  {u:<16} {s}') for u,s in d['expected_before'].items()]"

export AWS_ENDPOINT_URL=$ENDPOINT AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export DENY_POLICY_ARN=$(info deny_policy_arn) ENFORCEMENT_GROUP=$(info enforcement_group) \
  TOPIC_ARN=$(info topic_arn) GRACE_PERIOD_HOURS=72 DRY_RUN=false RUST_LOG=info

step "Starting the Lambda runtime emulator (cargo lambda watch)"
INVOKE_PORT=$(free_port)
cargo lambda watch --invoke-port "$INVOKE_PORT" --invoke-address 127.0.0.1 -p scheduled-audit \
  >"$WORK/lambda.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do (echo >"/dev/tcp/127.0.0.1/$INVOKE_PORT") 2>/dev/null && break; sleep 0.2; done

invoke() {
  cargo lambda invoke scheduled-audit --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" \
    --data-file tests/fixtures/events/scheduled-event.json >"$1" 2>"$WORK/invoke.err" \
    || { cat "$WORK/invoke.err" "$WORK/lambda.log" >&2; exit 1; }
}

step "Invoking scheduled-audit with a Scheduled Event (DRY_RUN=false: enforcing)"
invoke "$WORK/run1.json"
"$CLI" show "$WORK/run1.json" || true

step "The notifications that reached the SQS queue subscribed to the topic"
"$VENV/bin/python" - "$(info queue_url)" <<'PY'
import json, sys, boto3
sqs = boto3.client("sqs", region_name="us-east-1")
messages = []
while True:
    batch = sqs.receive_message(QueueUrl=sys.argv[1], MaxNumberOfMessages=10).get("Messages", [])
    if not batch:
        break
    for m in batch:
        messages.append(json.loads(m["Body"]))
        sqs.delete_message(QueueUrl=sys.argv[1], ReceiptHandle=m["ReceiptHandle"])
attrs = lambda e: {k: v["Value"] for k, v in e.get("MessageAttributes", {}).items()}
print(f"{len(messages)} messages:")
for e in messages:
    print(f"  {attrs(e)['event_type']:<16} {e['Subject']}")
summary = next(e for e in messages if attrs(e)["event_type"] == "run_summary")
body = json.loads(summary["Message"])
print("\nThe run summary (JSON form, as SQS subscribers get it), attributes", attrs(summary))
print(json.dumps({k: body[k] for k in ("event_type", "account_id", "dry_run", "summary")}, indent=2))
print("Non-compliant users in the summary:", [u["user"] for u in body["non_compliant"]])
carol = next(e for e in messages if attrs(e).get("user") == "carol")
print("\nCarol's notice, attributes", attrs(carol))
print("Subject:", carol["Subject"])
notice = json.loads(carol["Message"])
print(json.dumps({k: notice[k] for k in ("event_type", "user", "status", "reasons", "recipient", "mfa_devices", "guidance")}, indent=2))
print("(email subscribers get the same notice as text: the console steps, and the AWS CLI part for users with access keys)")
PY
step "Second run: everyone is compliant or contained, nothing to write"
invoke "$WORK/run2.json"
"$CLI" show "$WORK/run2.json" && echo "(exit 0: no non-compliant user remains)"

step "Done: moto and the Lambda emulator are stopped"
