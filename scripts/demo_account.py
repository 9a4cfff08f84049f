#!/usr/bin/env python3
"""Runs moto server on a free loopback port with a seeded demo account, until stopped.

    demo_account.py --policy-file POLICY.json --info INFO.json

Seeds, in account 123456789012: the deny-without-MFA policy (document from POLICY.json, which
`mfa-enforcer policy-document` prints), the MFAEnforced group carrying it, an SNS topic with an
SQS queue subscribed, and one user per status the enforcer can give (see USERS). Users are
backdated 90 days, except the one meant to be in its grace period, because moto stamps every
user "now" and offers no API to say otherwise.

When the account is ready, writes INFO.json (endpoint, ARNs, queue URL, expected statuses) and
serves until SIGTERM/SIGINT. Only loopback is used.
"""
import argparse
import datetime
import json
import signal
import socket
import sys
import threading

import boto3
from moto.server import ThreadedMotoServer

ACCOUNT = "123456789012"
GROUP = "MFAEnforced"
EXEMPT = "mfa-enforcer:exempt"
EXEMPT_UNTIL = "mfa-enforcer:exempt-until"

# name -> (console password, MFA, in MFAEnforced, deny attached to user, tags, backdated, status
# expected before the enforcer runs, status expected after an enforcing run)
USERS = {
    "alice": (True, True, True, False, {}, True, "compliant", "compliant"),
    "bob-api": (False, False, False, False, {}, True, "not_applicable", "not_applicable"),
    "carol": (True, False, False, False, {"email": "carol@example.com"}, True, "non_compliant",
              "enforced"),
    "dave": (True, True, False, False, {}, True, "non_compliant", "compliant"),
    "erin-breakglass": (True, False, False, False, {EXEMPT: "true"}, True, "exempt", "exempt"),
    "frank": (True, False, False, True, {}, True, "enforced", "enforced"),
    "gina-new": (True, False, False, False, {}, False, "in_grace", "in_grace"),
    "hank": (True, False, True, False, {}, True, "enforced", "enforced"),
    "ivan": (True, False, False, False, {EXEMPT: "true", EXEMPT_UNTIL: "2024-01-31"}, True,
             "non_compliant", "enforced"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(endpoint, policy_document):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    iam, sns, sqs = boto3.client("iam", **kw), boto3.client("sns", **kw), boto3.client("sqs", **kw)
    policy_arn = iam.create_policy(PolicyName="DenyWithoutMFA",
                                   PolicyDocument=json.dumps(policy_document))["Policy"]["Arn"]
    iam.create_group(GroupName=GROUP)
    iam.attach_group_policy(GroupName=GROUP, PolicyArn=policy_arn)
    topic_arn = sns.create_topic(Name="mfa-enforcer")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="mfa-enforcer-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    for name, (console, mfa, grouped, deny, tags, _, _, _) in USERS.items():
        iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        if console:
            iam.create_login_profile(UserName=name, Password=f"Demo-{name}-pw1!")
        else:
            iam.create_access_key(UserName=name)
        if mfa:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"][
                "SerialNumber"]
            iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                                  AuthenticationCode1="123456", AuthenticationCode2="654321")
        if grouped:
            iam.add_user_to_group(GroupName=GROUP, UserName=name)
        if deny:
            iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
    return policy_arn, topic_arn, queue_url


def backdate(days):
    from moto.iam.models import iam_backends
    users = iam_backends[ACCOUNT]["global"].users
    then = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(days=days)
    for name, spec in USERS.items():
        if spec[5]:
            users[name].create_date = then


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--policy-file", required=True)
    ap.add_argument("--info", required=True, help="where to write the account's details (JSON)")
    ap.add_argument("--port", type=int, default=0, help="default: a free loopback port")
    a = ap.parse_args()
    with open(a.policy_file) as f:
        policy_document = json.load(f)
    port = a.port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    policy_arn, topic_arn, queue_url = seed(endpoint, policy_document)
    backdate(90)
    info = {"endpoint": endpoint, "port": port, "account_id": ACCOUNT, "deny_policy_arn": policy_arn,
            "enforcement_group": GROUP, "topic_arn": topic_arn, "queue_url": queue_url,
            "expected_before": {n: s[6] for n, s in USERS.items()},
            "expected_after": {n: s[7] for n, s in USERS.items()}}
    with open(a.info + ".tmp", "w") as f:
        json.dump(info, f, indent=2)
    import os
    os.replace(a.info + ".tmp", a.info)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
