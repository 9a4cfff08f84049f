#!/usr/bin/env python3
"""mfa-enforcer on a fresh seeded moto account, counted by the peers' proxy.

    e2e_enforcer.py N [RUNS]

Starts moto server and ../shared/peers/countproxy.py on free loopback ports, seeds N users with
../shared/peers/seed.py (the same account Cloud Custodian gets in run_c7n.sh), then runs
`mfa-enforcer audit --enforce` RUNS times (default 2: the second run meets an enforced account)
and prints one JSON line per run, in run_c7n.sh's shape: wall seconds, peak RSS, API requests by
action, and whether the users it found are exactly the seed's expected ones.

Needs the project venv (scripts/bootstrap.sh) and a release build of the CLI; `make bench` does both.
    PEERS_DIR  where the peers' scripts are (default: ../shared/peers from the repository root)
"""
import json
import os
import statistics
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get("PEERS_DIR", os.path.join(ROOT, "..", "shared", "peers"))
VENV = os.environ.get("MFA_VENV", os.path.join(ROOT, ".venv"))
PY = os.path.join(VENV, "bin", "python3")
CLI = os.path.join(ROOT, "target", "release", "mfa-enforcer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def wait_until_up(url):
    for _ in range(300):
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"e2e: {url} did not answer within 30 s")


def run_measured(argv, env):
    """Runs argv; returns (exit status, wall seconds, peak RSS in MB, stdout)."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        out.seek(0)
        return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024, out.read()


def moto_read_seconds(port):
    """moto's own time for the three reads of a run on an enforced account, through boto3
    straight to moto (median of 5 rounds): what a second run cannot go below on the emulator."""
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
    n = int(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    for path in (PY, CLI, os.path.join(PEERS, "seed.py")):
        if not os.path.exists(path):
            sys.exit(f"e2e: {path} is missing (run `make bench`, or set PEERS_DIR/MFA_VENV)")
    moto_port, proxy_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as work:
        moto = subprocess.Popen(
            [os.path.join(VENV, "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
            stdout=open(os.path.join(work, "moto.log"), "w"), stderr=subprocess.STDOUT)
        proxy = subprocess.Popen([PY, os.path.join(PEERS, "countproxy.py"), str(proxy_port), str(moto_port)])
        try:
            wait_until_up(f"http://127.0.0.1:{moto_port}/moto-api/")
            wait_until_up(f"http://127.0.0.1:{proxy_port}/__counts")
            # The deny policy gets this build's canonical document, as a deployed stack has.
            document = os.path.join(work, "deny-without-mfa.json")
            with open(document, "wb") as f:
                f.write(subprocess.check_output([CLI, "policy-document"]))
            seed = json.loads(subprocess.check_output(
                [PY, os.path.join(PEERS, "seed.py"), "--port", str(moto_port), "--users", str(n),
                 "--policy-document", document]))
            expected = sorted(seed["expected_without_mfa"] + seed["expected_mfa_but_outside_group"])
            env = dict(os.environ,
                       AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy_port}",
                       AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                       AWS_REGION="us-east-1", DENY_POLICY_ARN=seed["deny_policy_arn"],
                       ENFORCEMENT_GROUP="MFAEnforced", TOPIC_ARN=seed["topic_arn"],
                       MAX_ENFORCEMENTS_PER_RUN=str(n + 1))
            for run in range(1, runs + 1):
                get(f"http://127.0.0.1:{proxy_port}/__reset")
                code, wall, rss, out = run_measured(
                    [CLI, "audit", "--enforce", "--format", "json", "--quiet"], env)
                counts = json.loads(get(f"http://127.0.0.1:{proxy_port}/__counts"))
                report = json.loads(out) if out else {}
                findings = report.get("findings", [])
                applied = sorted(f["user"] for f in findings
                                 if any(a["outcome"] == "applied" for a in f["actions"]))
                result = {"tool": "mfa-enforcer", "run": run, "users": n, "exit": code,
                          "wall_s": round(wall, 3), "peak_rss_mb": round(rss, 1),
                          "requests": sum(counts.values()), "by_action": counts}
                if run == 1:
                    result.update(found=len(applied), expected=len(expected),
                                  correct=applied == expected and code == 0)
                else:
                    writes = sum(v for k, v in counts.items() if not k.split(":")[1].startswith(("Get", "List", "Generate")))
                    result.update(writes=writes, correct=writes == 0 and code == 0,
                                  moto_reads_s=round(moto_read_seconds(moto_port), 3))
                print(json.dumps(result), flush=True)
        finally:
            proxy.terminate()
            moto.terminate()
            proxy.wait()
            moto.wait()


if __name__ == "__main__":
    main()
