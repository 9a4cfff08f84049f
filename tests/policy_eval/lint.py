#!/usr/bin/env python3
"""Lints IAM policies with parliament (pinned in the infra venv).

Reads {"policies": {"NAME": DOCUMENT, ...}} on standard input and writes
{"findings": {"NAME": ["ISSUE: detail", ...], ...}}; a clean policy has an empty list.
"""
import json
import sys

from parliament import analyze_policy_string


def main():
    request = json.load(sys.stdin)
    findings = {}
    for name, document in request["policies"].items():
        policy = analyze_policy_string(json.dumps(document))
        findings[name] = [f"{f.issue}: {f.detail} ({f.location})" for f in policy.findings]
    json.dump({"findings": findings}, sys.stdout)


if __name__ == "__main__":
    main()
