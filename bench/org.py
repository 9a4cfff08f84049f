#!/usr/bin/env python3
"""`mfa-enforcer audit --org` beside c7n-org, on one organization in one fresh moto server each.

    org.py ACCOUNTS USERS [--ours-only]

Seeds ACCOUNTS member accounts of USERS users each (bench/org_seed.py) into a fresh moto
server behind the counting proxy, then runs `mfa-enforcer audit --org` (release build) and,
unless --ours-only, c7n-org (its own pinned venv) with the Cloud Custodian policy of the same
job (bench/c7n/org-policy.yml: console users without MFA) over the same accounts through the
same role. Prints one JSON line per tool: wall seconds, peak RSS, requests by action, per
account, AssumeRole count, and whether it found exactly the seeded console users without MFA.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import harness
from cloud_custodian import BENCH_VENV

C7N_ORG = os.path.join(BENCH_VENV, "bin", "c7n-org")
OURS = os.path.join(harness.ROOT, "target", "release", "mfa-enforcer")
ROLE = "mfa-enforcer-audit"


def result(tool, emu, accounts, code, wall, rss, found, expected):
    counts = emu.counts()
    assume = counts.get("sts:AssumeRole", 0)
    listing = sum(v for k, v in counts.items() if k.startswith("organizations:"))
    per_account = (sum(counts.values()) - assume - listing) / max(accounts, 1)
    return {"tool": tool, "accounts": accounts, "exit": code, "wall_s": round(wall, 3),
            "peak_rss_mb": round(rss, 1), "requests": sum(counts.values()), "assume_role": assume,
            "per_account": round(per_account, 2), "by_action": counts, "found": found,
            "expected": expected, "correct": found == expected}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("accounts", type=int)
    ap.add_argument("users", type=int)
    ap.add_argument("--ours-only", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(OURS):
        sys.exit(f"org: {OURS} is missing (cargo build --release -p mfa-enforcer-cli)")
    with tempfile.TemporaryDirectory() as work:
        policy_doc = os.path.join(work, "deny.json")
        with open(policy_doc, "wb") as f:
            f.write(subprocess.check_output([OURS, "policy-document"]))
        seeder = [harness.PY, os.path.join(harness.BENCH, "org_seed.py"), "--accounts", str(a.accounts),
                  "--users", str(a.users), "--policy-document", policy_doc]
        with harness.emulator(0, work, seeder=seeder) as emu:
            ids, expected = emu.seed["accounts"], emu.seed["expected_without_mfa"]
            emu.reset_counts()
            report = os.path.join(work, "org.json")
            code, wall, rss, _ = harness.run_measured(
                [OURS, "audit", "--org", "--quiet", "--enforcement-group", "MFAEnforcement",
                 "--format", "json", "--output", report], emu.aws_env())
            with open(report) as f:
                found = sum(1 for account in json.load(f)["accounts"] for u in account["findings"]
                            if u["password_enabled"] is True and not u["mfa_active"])
            print(json.dumps(result("mfa-enforcer", emu, len(ids), code, wall, rss, found, expected)), flush=True)
        if a.ours_only:
            return
        if not os.path.exists(C7N_ORG):
            sys.exit(f"org: {C7N_ORG} is missing (run scripts/bootstrap.sh bench)")
        with harness.emulator(0, work, seeder=seeder) as emu:
            ids, expected = emu.seed["accounts"], emu.seed["expected_without_mfa"]
            config = os.path.join(work, "accounts.json")
            with open(config, "w") as f:
                json.dump({"accounts": [{"account_id": i, "name": f"a{i}", "regions": ["us-east-1"],
                                         "role": f"arn:aws:iam::{i}:role/{ROLE}"} for i in ids]}, f)
            out = os.path.join(work, "c7n-out")
            emu.reset_counts()
            code, wall, rss, _ = harness.run_measured(
                [C7N_ORG, "run", "-c", config, "-s", out, "-u",
                 os.path.join(harness.BENCH, "c7n", "org-policy.yml"), "--region", "us-east-1"],
                emu.aws_env())
            found = 0
            for path in glob.glob(os.path.join(out, "*", "us-east-1", "console-without-mfa", "resources.json")):
                with open(path) as f:
                    found += len(json.load(f))
            print(json.dumps(result("c7n-org", emu, len(ids), code, wall, rss, found, expected)), flush=True)


if __name__ == "__main__":
    main()
