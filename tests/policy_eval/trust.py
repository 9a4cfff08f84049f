#!/usr/bin/env python3
"""Holds the fixture table of role trust policies (tests/fixtures/trust_policies.json) to a real
IAM policy evaluator, so that the table the Rust trust-policy classifier is tested against is
itself proven, not just asserted.

Usage: trust.py FIXTURE [--check]

For each case, asks principalmapper (through evaluate.py, in the infra venv) whether a probe
principal may call sts:AssumeRole on arn:aws:iam::111122223333:role<path><name>, with the case's
document as the role's trust policy, under three request contexts:

    long_term_keys       IAM user access keys: no aws:MultiFactorAuthPresent, no ...Age key
    session_without_mfa  temporary credentials without MFA: aws:MultiFactorAuthPresent "false"
    with_mfa             aws:MultiFactorAuthPresent "true", aws:MultiFactorAuthAge "60"

The probes are the AWS principals the trust's Allow statements name: a user or role ARN is used
as is; an account root ARN, an account ID or "*" becomes the IAM user
arn:aws:iam::<account>:user/probe ("*": account 111122223333). A trust naming no AWS principal
(services, federated providers) gets the probe user of 111122223333, which it must refuse. Each
probe has an identity policy allowing sts:AssumeRole on "*", so the trust alone decides; every
context also carries aws:PrincipalOrgID "o-exampleorgid" and aws:PrincipalAccount. A context
counts as allowed when any probe is allowed.

Two things the caller, not the trust, decides are filled in as a real caller would:
- sts:ExternalId: the caller passes it to AssumeRole, so the probe passes the value the trust
  asks for (it is not an MFA control, and without it every context would be refused);
- condition values are stringified (true -> "true", 3600 -> "3600"), as IAM reads them:
  principalmapper 1.1.5 compares them as written and so misreads an unquoted JSON boolean.

Writes {"cases": [{"name", "long_term_keys", "session_without_mfa", "with_mfa", "probes",
"classification"}, ...]} on standard output. The answers map to a classification:

    (b) allowed                         mfa_not_required
    (a) allowed, (b) refused            mfa_bypassable
    (a), (b) refused, (c) allowed       mfa_required
    all refused                         not_applicable

and each case's "expected" must agree; disagreements go to standard error, and with --check the
script exits 1 on any.
"""
import argparse
import copy
import json
import re
import sys

from evaluate import answer  # also applies the collections aliases principalmapper needs

OWN_ACCOUNT = "111122223333"
ORG_ID = "o-exampleorgid"
ALLOW_ASSUME_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
}
CONTEXTS = {
    "long_term_keys": {},
    "session_without_mfa": {"aws:MultiFactorAuthPresent": "false"},
    "with_mfa": {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "60"},
}
CLASSIFICATIONS = ("mfa_required", "mfa_not_required", "mfa_bypassable", "not_applicable")
ACCOUNT_ID = re.compile(r"\d{12}")
ROOT_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")
USER_OR_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):(user|role)/.+")


def listify(value):
    return value if isinstance(value, list) else [value]


def statements(document):
    return listify(document.get("Statement", []))


def probe_arn(principal):
    """The IAM principal that stands for one entry of a Principal element."""
    if principal == "*":
        return f"arn:aws:iam::{OWN_ACCOUNT}:user/probe"
    if ACCOUNT_ID.fullmatch(principal):
        return f"arn:aws:iam::{principal}:user/probe"
    root = ROOT_ARN.fullmatch(principal)
    if root:
        return f"arn:aws:iam::{root.group(1)}:user/probe"
    if USER_OR_ROLE_ARN.fullmatch(principal):
        return principal
    raise ValueError(f"no probe for principal {principal!r}")


def probes(document):
    """Probe ARNs for the AWS principals the trust's Allow statements name, in order."""
    found = []
    for statement in statements(document):
        if statement.get("Effect") != "Allow" or "Principal" not in statement:
            continue
        principal = statement["Principal"]
        entries = ["*"] if principal == "*" else listify(principal.get("AWS", []))
        for entry in entries:
            arn = probe_arn(entry)
            if arn not in found:
                found.append(arn)
    return found or [f"arn:aws:iam::{OWN_ACCOUNT}:user/probe"]


def caller_supplied_keys(document):
    """Condition keys the caller sets in its own request (sts:ExternalId), with the value the
    trust asks for."""
    keys = {}
    for statement in statements(document):
        for operator, block in statement.get("Condition", {}).items():
            if "String" not in operator:
                continue
            for key, value in block.items():
                if key.lower() == "sts:externalid" and "sts:ExternalId" not in keys:
                    keys["sts:ExternalId"] = str(listify(value)[0])
    return keys


def as_iam_string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def stringified(document):
    """The document with every condition value a string, as IAM reads it."""
    document = copy.deepcopy(document)
    for statement in statements(document):
        for block in statement.get("Condition", {}).values():
            for key, value in block.items():
                block[key] = (
                    [as_iam_string(v) for v in value] if isinstance(value, list) else as_iam_string(value)
                )
    return document


def account_of(arn):
    return arn.split(":")[4]


def evaluate(case):
    """The evaluator's answer for each context: is any probe allowed to assume the role?"""
    document = stringified(case["document"])
    role = f"arn:aws:iam::{OWN_ACCOUNT}:role{case.get('path', '/')}{case['name']}"
    extra = caller_supplied_keys(document)
    principals = probes(document)
    result = {"name": case["name"]}
    for label, mfa_keys in CONTEXTS.items():
        result[label] = any(
            answer({
                "principal": {"arn": arn, "policies": [ALLOW_ASSUME_ROLE]},
                "action": "sts:AssumeRole",
                "resource": role,
                "context": {
                    **mfa_keys,
                    **extra,
                    "aws:PrincipalOrgID": ORG_ID,
                    "aws:PrincipalAccount": account_of(arn),
                },
                "resource_policy": document,
                "resource_owner": OWN_ACCOUNT,
            })
            for arn in principals
        )
    result["probes"] = principals
    result["classification"] = classify(result)
    return result


def classify(result):
    """The classification the three answers mean, or None for a combination that has none."""
    a, b, c = result["long_term_keys"], result["session_without_mfa"], result["with_mfa"]
    if b:
        return "mfa_not_required"  # a session made without MFA gets in (access keys or not)
    if a:
        return "mfa_bypassable"
    return "mfa_required" if c else "not_applicable"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixture", help="path of trust_policies.json")
    parser.add_argument("--check", action="store_true", help="exit 1 on any disagreement")
    args = parser.parse_args()

    with open(args.fixture) as f:
        cases = json.load(f)

    results = [evaluate(case) for case in cases]
    json.dump({"cases": results}, sys.stdout, indent=2)
    sys.stdout.write("\n")

    disagreements = 0
    for case, result in zip(cases, results):
        expected = case["expected"]
        if expected not in CLASSIFICATIONS:
            raise SystemExit(f"{case['name']}: unknown expected classification {expected!r}")
        if result["classification"] != expected:
            disagreements += 1
            print(
                f"DISAGREE {case['name']}: fixture says {expected}, evaluator says "
                f"{result['classification']} (long_term_keys={result['long_term_keys']}, "
                f"session_without_mfa={result['session_without_mfa']}, "
                f"with_mfa={result['with_mfa']})",
                file=sys.stderr,
            )
    print(f"{len(cases)} cases, {disagreements} disagreements", file=sys.stderr)
    if args.check and disagreements:
        sys.exit(1)


if __name__ == "__main__":
    main()
