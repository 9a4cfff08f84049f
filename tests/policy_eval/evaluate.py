#!/usr/bin/env python3
"""Answers IAM authorization questions with a real policy evaluator: principalmapper's local
authorization check (pinned in the infra venv), which evaluates identity policies, group
policies, resource policies and SCPs with their conditions, `...IfExists` and policy variables.

Reads one JSON document on standard input:

    {"cases": [{
        "principal": {"arn": "arn:aws:iam::123456789012:user/alice",
                      "policies": [DOCUMENT, ...],          # attached and inline alike
                      "groups": [[DOCUMENT, ...], ...]},    # each group's policies
                   | {"service": "cloudwatch.amazonaws.com"}  # a service principal: only the
                                                             # resource policy can allow it
        "action": "iam:EnableMFADevice",
        "resource": "arn:aws:iam::123456789012:user/alice",
        "context": {"aws:MultiFactorAuthPresent": "false"},  # condition keys of the request
        "resource_policy": DOCUMENT | null, "resource_owner": "123456789012" | null,
        "scps": [[DOCUMENT, ...], ...] | null                # one list per level of the org
    }, ...]}

and writes {"allowed": [true, false, ...]}, one answer per case, in order. Keys the evaluator
would otherwise infer (aws:username, aws:PrincipalArn...) come from the principal.
"""
import collections
import collections.abc
import json
import sys

# principalmapper 1.1.5 predates Python 3.10, which removed these aliases.
collections.Mapping = collections.abc.Mapping
collections.MutableMapping = collections.abc.MutableMapping

from principalmapper.common import Group, Node, Policy  # noqa: E402
from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    resource_policy_matching_statements,
)
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402


def policies(documents, prefix):
    return [Policy(f"{prefix}/p{i}", f"p{i}", doc) for i, doc in enumerate(documents)]


def node(spec):
    arn = spec["arn"]
    groups = [
        Group(f"{arn.split(':user/')[0]}:group/g{i}", policies(docs, f"{arn}/g{i}"))
        for i, docs in enumerate(spec.get("groups", []))
    ]
    is_role = ":role/" in arn
    return Node(
        arn,
        "AIDAEXAMPLE" + str(abs(hash(arn)) % 10**8),
        policies(spec.get("policies", []), arn),
        groups if not is_role else [],
        {"Version": "2012-10-17", "Statement": []} if is_role else None,
        None,
        0,
        not is_role,
        False,
        None,
        False,
        None,
    )


def service_answer(case):
    """A service principal calls with the service's own identity: IAM and SCPs do not apply, the
    resource policy decides (an explicit Deny wins, then an Allow is needed)."""
    context = CaseInsensitiveDict(case.get("context", {}))
    matching = resource_policy_matching_statements(
        case["principal"]["service"], case["resource_policy"], case["action"], case["resource"], context
    )
    effects = {statement["Effect"] for statement in matching}
    return "Allow" in effects and "Deny" not in effects


def answer(case):
    if "service" in case["principal"]:
        return service_answer(case)
    scps = case.get("scps")
    scp_groups = None
    if scps is not None:
        scp_groups = [policies(level, f"scp{i}") for i, level in enumerate(scps)]
    return bool(
        local_check_authorization_full(
            node(case["principal"]),
            case["action"],
            case["resource"],
            case.get("context", {}),
            case.get("resource_policy"),
            case.get("resource_owner"),
            scp_groups,
            None,
        )
    )


def main():
    request = json.load(sys.stdin)
    json.dump({"allowed": [answer(c) for c in request["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
