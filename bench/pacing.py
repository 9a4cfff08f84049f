#!/usr/bin/env python3
"""IAM writes under throttling: how the writes' concurrency and the SDK's retry mode behave
when IAM refuses writes beyond a rate, as it does in a real account.

    pacing.py [--users 500] [--rate 10] [--delay-ms 20] [--configs standard:8,adaptive:8,...]

For each configuration (AWS_RETRY_MODE:MAX_CONCURRENCY), a first `audit --enforce` run
(bench/e2e_enforcer.py) on a fresh account of --users users behind the counting proxy, which
holds every request --delay-ms and throttles IAM's writes beyond --rate a second (a token
bucket of one second's rate; countproxy.py). Prints one JSON line per configuration: wall
time, the IAM writes made and refused, and the actions and notices that failed anyway. The
floor is writes / rate: a run near it neither crawls nor hammers.
"""
import argparse
import json
import os
import subprocess
import sys

import harness

CONFIGS = "standard:8,adaptive:8,standard:16,adaptive:16"
# The IAM write rate assumed: AWS publishes none (see docs/benchmarks.md, "Writes under throttling").
RATE = 10


def iam_writes(by_action):
    return sum(v for k, v in by_action.items()
               if k.startswith("iam:") and not k.split(":")[1].startswith(("Get", "List", "Generate")))


def measure(users, rate, delay_ms, configs):
    rows = []
    for config in configs.split(","):
        mode, concurrency = config.split(":")
        print(f"pacing: {mode} retries, {concurrency} writes at once, IAM at {rate:g}/s",
              file=sys.stderr, flush=True)
        out = subprocess.run(
            [harness.PY, os.path.join(harness.BENCH, "e2e_enforcer.py"), str(users), "1",
             "--delay-ms", str(delay_ms), "--iam-write-rate", str(rate),
             "--retry-mode", mode, "--concurrency", concurrency],
            check=True, capture_output=True, text=True).stdout
        run = json.loads(out.splitlines()[-1])
        writes = iam_writes(run["by_action"])
        admitted = writes - run["throttled"]
        rows.append({"retry_mode": mode, "concurrency": int(concurrency), "rate": rate,
                     "delay_ms": delay_ms, "wall_s": run["wall_s"], "iam_writes": writes,
                     "throttled": run["throttled"], "floor_s": round(admitted / rate, 1),
                     "actions_applied": run["actions_applied"],
                     "actions_failed": run["actions_failed"], "exit": run["exit"],
                     "correct": run["correct"]})
    return rows


def markdown(rows):
    if not rows:
        return []
    r0 = rows[0]
    md = [f"## Writes under throttling\n",
          f"A first `audit --enforce` run on a fresh account, the proxy holding every request "
          f"{r0['delay_ms']:g} ms and refusing IAM writes beyond **{r0['rate']:g} a second** (a token "
          "bucket; HTTP 400 `Throttling`, as IAM answers), for each retry mode (`AWS_RETRY_MODE`) "
          "and number of writes in flight (`MAX_CONCURRENCY`). The floor is the accepted writes "
          "divided by the rate: no client can go faster.\n",
          "| retry mode | writes at once | wall s | floor s | IAM writes sent | throttled | "
          "actions applied | actions failed | correct |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['retry_mode']} | {r['concurrency']} | {r['wall_s']:.1f} | {r['floor_s']} | "
                  f"{r['iam_writes']} | {r['throttled']} | {r['actions_applied']} | "
                  f"{r['actions_failed']} | {r['correct']} |")
    return md + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--rate", type=float, default=RATE, help="IAM writes a second before throttling")
    ap.add_argument("--delay-ms", type=float, default=20)
    ap.add_argument("--configs", default=CONFIGS, help="AWS_RETRY_MODE:MAX_CONCURRENCY, comma-separated")
    a = ap.parse_args()
    for row in measure(a.users, a.rate, a.delay_ms, a.configs):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
