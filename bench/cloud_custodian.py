#!/usr/bin/env python3
"""Cloud Custodian doing mfa-enforcer's job on a fresh benchmark account.

    cloud_custodian.py N [RUNS] [--report-delay S] [--delay-ms D]

Seeds N users (bench/account.py) into a fresh moto server behind the counting proxy, runs the
policy in bench/c7n/policy.yml RUNS times (default 2: the second run meets the account the first
enforced) and prints one JSON line per run: wall seconds, peak RSS, requests by action, and
whether the users it acted on are exactly the account's non-compliant ones. --report-delay is
the policy's report_delay (Cloud Custodian's default, 10 s, unless given).

Cloud Custodian comes from its own pinned venv: `scripts/bootstrap.sh bench` (MFA_BENCH_VENV).
"""
import argparse
import json
import os
import string
import sys
import tempfile

import harness

BENCH_VENV = os.environ.get("MFA_BENCH_VENV", os.path.join(harness.ROOT, ".venv-bench"))
CUSTODIAN = os.path.join(BENCH_VENV, "bin", "custodian")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("users", type=int)
    ap.add_argument("runs", type=int, nargs="?", default=2)
    ap.add_argument("--report-delay", type=float, default=10)
    ap.add_argument("--delay-ms", type=float, default=0)
    a = ap.parse_args()
    if not os.path.exists(CUSTODIAN):
        sys.exit(f"cloud_custodian: {CUSTODIAN} is missing (run scripts/bootstrap.sh bench)")
    with tempfile.TemporaryDirectory() as work, \
            harness.emulator(a.users, work, delay_ms=a.delay_ms) as emu:
        with open(os.path.join(harness.BENCH, "c7n", "policy.yml")) as f:
            policy = string.Template(f.read()).substitute(
                deny_policy=emu.seed["deny_policy_arn"], topic=emu.seed["topic_arn"],
                report_delay=a.report_delay)
        path = os.path.join(work, "policy.yml")
        with open(path, "w") as f:
            f.write(policy)
        for run in range(1, a.runs + 1):
            emu.reset_counts()
            out = os.path.join(work, f"out-{run}")
            cpu = {}
            code, wall, rss, _ = harness.run_measured(
                [CUSTODIAN, "run", "--cache", os.path.join(work, f"cache-{run}"), "-s", out,
                 "--region", "us-east-1", path], emu.aws_env(), cpu=cpu)
            if code != 0:
                sys.exit(f"cloud_custodian: custodian exited {code}")
            with open(os.path.join(out, "mfa-enforce", "resources.json")) as f:
                found = sorted(r["UserName"] for r in json.load(f))
            counts = emu.counts()
            result = {"tool": "c7n", "run": run, "users": a.users, "wall_s": round(wall, 3),
                      "cpu_s": round(cpu["s"], 3), "peak_rss_mb": round(rss, 1), "requests": sum(counts.values()),
                      "by_action": counts}
            if run == 1:
                expected = emu.expected()
                result.update(found=len(found), expected=len(expected), correct=found == expected)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
