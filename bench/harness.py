"""What both benchmark runners share: a fresh emulator behind the counting proxy, seeded with
the benchmark account (bench/account.py), and a process measured for wall time and peak RSS."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
VENV = os.environ.get("MFA_VENV", os.path.join(ROOT, ".venv"))
PY = os.path.join(VENV, "bin", "python3")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, method="GET"):
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.read()


def wait_until_up(url):
    for _ in range(300):
        try:
            call(url)
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"bench: {url} did not answer within 30 s")


def run_measured(argv, env, cwd=None, cpu=None):
    """Runs argv; returns (exit status, wall seconds, peak RSS in MB, stdout). With `cpu` (a
    dict), also stores the process's CPU seconds (user + system) under cpu["s"]."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        if cpu is not None:
            cpu["s"] = usage.ru_utime + usage.ru_stime
        out.seek(0)
        return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024, out.read()


class Emulator:
    """A running moto server with the counting proxy in front, and the seeded account."""

    def __init__(self, moto_port, proxy_port, seed):
        self.moto_port, self.proxy_port, self.seed = moto_port, proxy_port, seed
        self.endpoint = f"http://127.0.0.1:{proxy_port}"

    def reset_counts(self):
        call(f"{self.endpoint}/_reset", method="POST")

    def counts(self):
        return json.loads(call(f"{self.endpoint}/_counts"))

    def throttled(self):
        return json.loads(call(f"{self.endpoint}/_throttled"))

    def expected(self):
        return sorted(self.seed["expected_without_mfa"] + self.seed["expected_mfa_but_outside_group"])

    def aws_env(self, **extra):
        return dict(os.environ, AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID="testing",
                    AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
                    AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
                    AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", **extra)


@contextmanager
def emulator(users, work, policy_document=None, delay_ms=0, seeder=None, write_delay_ms=None,
             jitter_ms=0, seed=1, iam_write_rate=0):
    """Starts moto and the proxy on free loopback ports, seeds `users` users (or runs `seeder`,
    an argv to which `--endpoint URL` is added, for what it prints); stops both after. The
    proxy holds each request `delay_ms` (writes `write_delay_ms`) plus up to `jitter_ms`, and
    with `iam_write_rate` throttles IAM's writes beyond that many a second (countproxy.py)."""
    for path in (PY, os.path.join(VENV, "bin", "moto_server")):
        if not os.path.exists(path):
            sys.exit(f"bench: {path} is missing (run scripts/bootstrap.sh, or set MFA_VENV)")
    moto_port, proxy_port = free_port(), free_port()
    moto = subprocess.Popen(
        [os.path.join(VENV, "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=open(os.path.join(work, "moto.log"), "w"), stderr=subprocess.STDOUT)
    proxy = subprocess.Popen([PY, os.path.join(BENCH, "countproxy.py"), "--port", str(proxy_port),
                              "--upstream", str(moto_port), "--delay-ms", str(delay_ms),
                              "--write-delay-ms", str(delay_ms if write_delay_ms is None else write_delay_ms),
                              "--jitter-ms", str(jitter_ms), "--seed", str(seed),
                              "--iam-write-rate", str(iam_write_rate)])
    try:
        wait_until_up(f"http://127.0.0.1:{moto_port}/moto-api/")
        wait_until_up(f"http://127.0.0.1:{proxy_port}/_counts")
        argv = [PY, os.path.join(BENCH, "account.py"), "--endpoint",
                f"http://127.0.0.1:{moto_port}", "--users", str(users)]
        if policy_document:
            argv += ["--policy-document", policy_document]
        if seeder:
            argv = seeder + ["--endpoint", f"http://127.0.0.1:{moto_port}"]
        seed = json.loads(subprocess.check_output(argv))
        yield Emulator(moto_port, proxy_port, seed)
    finally:
        proxy.terminate()
        moto.terminate()
        proxy.wait()
        moto.wait()


def reads(by_action):
    return sum(v for k, v in by_action.items()
               if k.split(":")[1].startswith(("Get", "List", "Generate")))


def writes(by_action):
    return sum(by_action.values()) - reads(by_action)
