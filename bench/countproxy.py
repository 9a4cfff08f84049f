#!/usr/bin/env python3
"""A reverse proxy that counts AWS API calls on their way to a local emulator. Stdlib only.

    countproxy.py --port P --upstream U [--delay-ms D] [--write-delay-ms W] [--jitter-ms J] [--seed S]
                  [--iam-write-rate R] [--iam-write-burst B]

Forwards every request to 127.0.0.1:U and counts it as `service:Action`: the service is the
SigV4 credential scope's (`.../us-east-1/iam/aws4_request`), the action the JSON protocol's
`X-Amz-Target` or the query protocol's `Action` field (in the body or the URL).

The latency model: every read (Get*, List*, Generate*, Describe*) is held --delay-ms, every write
--write-delay-ms (default: the same), plus a jitter drawn uniformly from [0, --jitter-ms) by a
generator seeded with --seed, as a real endpoint's round trip would be.

Throttling: with --iam-write-rate, IAM's writes draw from a token bucket (R tokens a second, at
most B held); a write that finds it empty is answered as IAM throttles, HTTP 400 `Throttling` /
`Rate exceeded`, after its latency, and never reaches the emulator. Throttled requests are
counted among the requests (they were made) and apart, by action.

Paths answered here, never forwarded: GET /_counts (the counts, as JSON), GET /_throttled
(the throttled ones), POST /_reset (zeroes both).
"""
import argparse
import http.client
import json
import random
import re
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Hop-by-hop headers, and the length we set ourselves.
NOT_FORWARDED = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
                 "transfer-encoding", "upgrade", "content-length", "host"}
SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def action_of(headers, path, body):
    scope = SCOPE.search(headers.get("Authorization", ""))
    service = scope.group(1) if scope else "unsigned"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.split('.')[-1]}"
    if service == "securityhub":
        # REST-JSON: the path names the operation.
        route = urllib.parse.urlsplit(path).path
        if route.endswith("/findings/import"):
            return "securityhub:BatchImportFindings"
        if route.endswith("/findings"):
            return "securityhub:GetFindings"
        return f"securityhub:{route}"
    fields = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    if body and "json" not in headers.get("Content-Type", ""):
        fields.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
    name = fields.get("Action", ["?"])[0]
    return f"{service}:{name}"


READS = ("Get", "List", "Generate", "Describe")


class Latency:
    """How long a request is held: a base by kind (read or write) plus seeded jitter."""

    def __init__(self, read_ms, write_ms, jitter_ms, seed):
        self.read_s, self.write_s, self.jitter_s = read_ms / 1000, write_ms / 1000, jitter_ms / 1000
        self.random, self.lock = random.Random(seed), threading.Lock()

    def of(self, action):
        base = self.read_s if action.split(":")[-1].startswith(READS) else self.write_s
        if not self.jitter_s:
            return base
        with self.lock:
            return base + self.random.uniform(0, self.jitter_s)


class WriteBucket:
    """IAM's writes, paced as a throttling endpoint would: `rate` a second, `burst` at most."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens, self.at, self.lock = burst, time.monotonic(), threading.Lock()

    def admits(self, action):
        service, name = action.split(":", 1)
        if not self.rate or service != "iam" or name.startswith(READS):
            return True
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


THROTTLED = (b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
             b'<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>'
             b'</Error><RequestId>countproxy</RequestId></ErrorResponse>')


def serve(port, upstream, latency, bucket):
    counts, throttled, lock, local = Counter(), Counter(), threading.Lock(), threading.local()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body, content_type="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/_counts":
                with lock:
                    return self.reply(200, json.dumps(dict(counts)).encode())
            if self.path == "/_throttled":
                with lock:
                    return self.reply(200, json.dumps(dict(throttled)).encode())
            if self.path == "/_reset":
                with lock:
                    counts.clear()
                    throttled.clear()
                return self.reply(200, b"{}")
            action = action_of(self.headers, self.path, body)
            admitted = bucket.admits(action)
            with lock:
                counts[action] += 1
                if not admitted:
                    throttled[action] += 1
            hold = latency.of(action)
            if hold:
                time.sleep(hold)
            if not admitted:
                return self.reply(400, THROTTLED, "text/xml")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in NOT_FORWARDED}
            headers["Host"] = f"127.0.0.1:{upstream}"
            for attempt in (1, 2):
                if getattr(local, "conn", None) is None:
                    local.conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=300)
                try:
                    local.conn.request(self.command, self.path, body=body, headers=headers)
                    answer = local.conn.getresponse()
                    data = answer.read()
                    break
                except (http.client.HTTPException, OSError):
                    local.conn.close()
                    local.conn = None
                    if attempt == 2:
                        return self.reply(502, b"upstream unreachable", "text/plain")
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in NOT_FORWARDED:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

    class Server(ThreadingHTTPServer):
        # socketserver's default backlog is 5: a client opening 16 connections at once would see
        # some of its SYNs dropped and retried a second later, time no real endpoint adds.
        request_queue_size = 256
        daemon_threads = True

    Server(("127.0.0.1", port), Proxy).serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, default=0, help="each read's latency")
    ap.add_argument("--write-delay-ms", type=float, help="each write's latency (default: --delay-ms)")
    ap.add_argument("--jitter-ms", type=float, default=0, help="uniform extra latency, at most this")
    ap.add_argument("--seed", type=int, default=1, help="the jitter's seed")
    ap.add_argument("--iam-write-rate", type=float, default=0,
                    help="IAM writes a second before throttling (default 0: never throttled)")
    ap.add_argument("--iam-write-burst", type=float, default=0,
                    help="IAM writes allowed at once after a pause (default: one second's rate)")
    a = ap.parse_args()
    write = a.delay_ms if a.write_delay_ms is None else a.write_delay_ms
    bucket = WriteBucket(a.iam_write_rate, a.iam_write_burst or a.iam_write_rate)
    serve(a.port, a.upstream, Latency(a.delay_ms, write, a.jitter_ms, a.seed), bucket)


if __name__ == "__main__":
    main()
