#!/usr/bin/env python3
"""mfa-enforcer on a fresh benchmark account, every request counted.

    e2e_enforcer.py N [RUNS] [--delay-ms D] [--security-hub]
                    [--iam-write-rate R] [--concurrency C] [--retry-mode M] [--max-attempts A]

Seeds N users (bench/account.py, the account Cloud Custodian gets in bench/cloud_custodian.py)
into a fresh moto server behind the counting proxy, the deny policy holding this build's
document, then runs `mfa-enforcer audit --enforce` RUNS times (default 2: the second run meets an
enforced account) and prints one JSON line per run, in cloud_custodian.py's shape: wall seconds,
peak RSS, requests by action, and whether the users it acted on are exactly the account's
non-compliant ones. --delay-ms and --iam-write-rate are the proxy's latency and IAM write
throttling (countproxy.py); --concurrency, --retry-mode and --max-attempts set MAX_CONCURRENCY,
AWS_RETRY_MODE and AWS_MAX_ATTEMPTS for the run (unset: the tool's defaults).

Needs the project venv (scripts/bootstrap.sh) and a release build of the CLI; `make bench` does both.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import harness

CLI = os.path.join(harness.ROOT, "target", "release", "mfa-enforcer")


def moto_read_seconds(port):
    """moto's own time for the reads of a run on an enforced account, through boto3 straight to
    moto (median of 5 rounds): what a second run cannot go below on the emulator."""
    import boto3
    iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    rounds = []
    for _ in range(5):
        start = time.monotonic()
        iam.get_credential_report()
        iam.generate_credential_report()
        pages = iam.get_paginator("get_account_authorization_details")
        for _ in pages.paginate(Filter=["User", "Group"], PaginationConfig={"PageSize": 1000}):
            pass
        rounds.append(time.monotonic() - start)
    return statistics.median(rounds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("users", type=int)
    ap.add_argument("runs", type=int, nargs="?", default=2)
    ap.add_argument("--delay-ms", type=float, default=0)
    ap.add_argument("--security-hub", action="store_true",
                    help="import the findings into (moto's) Security Hub too")
    ap.add_argument("--iam-write-rate", type=float, default=0,
                    help="IAM writes a second before the proxy throttles (0: never)")
    ap.add_argument("--concurrency", type=int, help="MAX_CONCURRENCY")
    ap.add_argument("--retry-mode", choices=("standard", "adaptive"), help="AWS_RETRY_MODE")
    ap.add_argument("--max-attempts", type=int, help="AWS_MAX_ATTEMPTS")
    a = ap.parse_args()
    tuning = {name: str(value) for name, value in (("MAX_CONCURRENCY", a.concurrency),
                                                   ("AWS_RETRY_MODE", a.retry_mode),
                                                   ("AWS_MAX_ATTEMPTS", a.max_attempts))
              if value is not None}
    if not os.path.exists(CLI):
        sys.exit(f"e2e: {CLI} is missing (cargo build --release -p mfa-enforcer-cli, or make bench)")
    with tempfile.TemporaryDirectory() as work:
        # The deny policy gets this build's canonical document, as a deployed stack has.
        document = os.path.join(work, "deny-without-mfa.json")
        with open(document, "wb") as f:
            f.write(subprocess.check_output([CLI, "policy-document"]))
        with harness.emulator(a.users, work, document, a.delay_ms,
                              iam_write_rate=a.iam_write_rate) as emu:
            env = emu.aws_env(DENY_POLICY_ARN=emu.seed["deny_policy_arn"],
                              ENFORCEMENT_GROUP="MFAEnforced", TOPIC_ARN=emu.seed["topic_arn"],
                              MAX_ENFORCEMENTS_PER_RUN=str(a.users + 1),
                              SECURITY_HUB=str(a.security_hub).lower(), **tuning)
            for run in range(1, a.runs + 1):
                emu.reset_counts()
                cpu = {}
                code, wall, rss, out = harness.run_measured(
                    [CLI, "audit", "--enforce", "--format", "json", "--quiet"], env, cpu=cpu)
                counts, throttled = emu.counts(), emu.throttled()
                report = json.loads(out) if out else {}
                applied = sorted(f["user"] for f in report.get("findings", [])
                                 if any(x["outcome"] == "applied" for x in f["actions"]))
                summary = report.get("summary", {})
                result = {"tool": "mfa-enforcer", "run": run, "users": a.users, "exit": code,
                          "wall_s": round(wall, 3), "cpu_s": round(cpu["s"], 3),
                          "peak_rss_mb": round(rss, 1), "requests": sum(counts.values()),
                          "by_action": counts, "throttled": sum(throttled.values()),
                          "actions_applied": summary.get("actions_applied"),
                          "actions_failed": summary.get("actions_failed")}
                if run == 1:
                    expected = emu.expected()
                    result.update(found=len(applied), expected=len(expected),
                                  correct=applied == expected and code == 0)
                else:
                    writes = harness.writes(counts)
                    result.update(writes=writes, correct=writes == 0 and code == 0,
                                  moto_reads_s=round(moto_read_seconds(emu.moto_port), 3))
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
