#!/usr/bin/env python3
"""The event path's round trips: how much a request's latency adds to one event.

    event_path.py [--delays 0,20,60] [--events 15]

For each delay D, a fresh moto server behind the counting proxy holding every request D ms
(bench/countproxy.py), a seeded 10-user account with a topic, and `--events` new users with a
console password and no MFA; then the event function's handler (bench/examples/event_path.rs)
handles a `CreateLoginProfile` for each, one after another, in one process (a warm Lambda: the
first event is cold). Prints, per delay, the median wall time of the warm events and the
requests per event, then the round trips the delay adds: (median at D - median at 0) / D.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import boto3

import harness

EXAMPLE = os.path.join(harness.ROOT, "target", "release", "examples", "event_path")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delays", default="0,20,60")
    ap.add_argument("--events", type=int, default=15)
    ap.add_argument("--binary", default=EXAMPLE, help="the event_path example's build")
    a = ap.parse_args()
    if not os.path.exists(a.binary):
        sys.exit(f"event_path: {a.binary} is missing "
                 "(cargo build --release -p mfa-enforcer-bench --example event_path)")
    rows = []
    for delay in [float(d) for d in a.delays.split(",")]:
        with tempfile.TemporaryDirectory() as work:
            document = os.path.join(work, "deny.json")
            with open(document, "wb") as f:
                f.write(subprocess.check_output(
                    [os.path.join(os.path.dirname(a.binary), "..", "mfa-enforcer"),
                     "policy-document"]))
            with harness.emulator(10, work, document, delay) as emu:
                iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{emu.moto_port}",
                                   region_name="us-east-1", aws_access_key_id="testing",
                                   aws_secret_access_key="testing")
                users = [f"new-{i}" for i in range(a.events)]
                for user in users:
                    iam.create_user(UserName=user)
                    iam.create_login_profile(UserName=user, Password="Initial-Passw0rd!")
                env = emu.aws_env(DENY_POLICY_ARN=emu.seed["deny_policy_arn"],
                                  TOPIC_ARN=emu.seed["topic_arn"], DRY_RUN="false",
                                  RUST_LOG="error")
                emu.reset_counts()
                out = subprocess.run([a.binary] + users, env=env, check=True,
                                     capture_output=True, text=True).stdout
                counts = emu.counts()
        # The handler also prints its EMF metrics line: only the example's own lines count.
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        runs = [r for r in lines if "user" in r]
        assert all(r["ok"] for r in runs), runs
        warm = [r["ms"] for r in runs[1:]]
        rows.append({"delay_ms": delay, "median_ms": round(statistics.median(warm), 1),
                     "first_ms": round(runs[0]["ms"], 1),
                     "requests_per_event": round(sum(counts.values()) / len(runs), 2),
                     "by_action": counts})
    base = rows[0]["median_ms"]
    for row in rows:
        if row["delay_ms"]:
            row["added_round_trips"] = round((row["median_ms"] - base) / row["delay_ms"], 2)
        print(json.dumps(row))


if __name__ == "__main__":
    main()
