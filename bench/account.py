#!/usr/bin/env python3
"""Seeds one synthetic account into a moto server: the account every tool compared gets.

    account.py --endpoint URL --users N [--policy-document FILE] [--salt S]

Each user's traits are drawn from a hash of (salt, index, trait), so the same N gives the same
account on every run and machine, and user i is the same whatever N is:
  - 55 in 100 have a console password; 2 in 5 of those have an enabled virtual MFA device;
  - the others are API-only, with an access key;
  - 3 in 10 of all users are in the MFAEnforced group (which carries no policy: the job is the
    same for both tools, attach the deny policy to users who need it);
  - 1 in 20 are tagged mfa-enforcer:exempt=true; every user has a team tag.
Creates the DenyWithoutMFA managed policy (--policy-document, or a minimal deny document), the
MFAEnforced group and the mfa-enforcer topic, then prints one JSON object: their ARNs and the
console users, not exempt, that a correct run must find (without MFA; with MFA, outside the
group).
"""
import argparse
import hashlib
import json

import boto3

MINIMAL_DENY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "DenyEverythingButMfaEnrollmentWithoutMfa",
        "Effect": "Deny",
        "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices",
                      "iam:ChangePassword", "sts:GetSessionToken"],
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }],
}


def chance(salt, index, trait):
    """A number in [0, 1) fixed by (salt, index, trait)."""
    digest = hashlib.sha256(f"{salt}/{index}/{trait}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True, help="the emulator, http://127.0.0.1:PORT")
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--policy-document", help="the deny policy's document (JSON file)")
    ap.add_argument("--salt", default="mfa-enforcer-bench")
    a = ap.parse_args()
    document = MINIMAL_DENY
    if a.policy_document:
        with open(a.policy_document) as f:
            document = json.load(f)
    clients = dict(endpoint_url=a.endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
    iam, sns = boto3.client("iam", **clients), boto3.client("sns", **clients)
    policy = iam.create_policy(PolicyName="DenyWithoutMFA",
                               PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    iam.create_group(GroupName="MFAEnforced")
    topic = sns.create_topic(Name="mfa-enforcer")["TopicArn"]
    without_mfa, outside_group, console, with_mfa = [], [], 0, 0
    for i in range(a.users):
        name = f"user{i:05d}"
        exempt = chance(a.salt, i, "exempt") < 0.05
        tags = [{"Key": "team", "Value": f"team-{i % 7}"}]
        if exempt:
            tags.append({"Key": "mfa-enforcer:exempt", "Value": "true"})
        iam.create_user(UserName=name, Tags=tags)
        has_console = chance(a.salt, i, "console") < 0.55
        has_mfa = has_console and chance(a.salt, i, "mfa") < 0.40
        if has_console:
            console += 1
            iam.create_login_profile(UserName=name, Password=f"Bench-{name}-Pw1!")
        else:
            iam.create_access_key(UserName=name)
        if has_mfa:
            with_mfa += 1
            serial = iam.create_virtual_mfa_device(
                VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
            iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                                  AuthenticationCode1="123456", AuthenticationCode2="654321")
        in_group = chance(a.salt, i, "group") < 0.30
        if in_group:
            iam.add_user_to_group(GroupName="MFAEnforced", UserName=name)
        if has_console and not exempt:
            if not has_mfa:
                without_mfa.append(name)
            elif not in_group:
                outside_group.append(name)
    print(json.dumps({"users": a.users, "console": console, "console_with_mfa": with_mfa,
                      "deny_policy_arn": policy, "topic_arn": topic,
                      "expected_without_mfa": without_mfa,
                      "expected_mfa_but_outside_group": outside_group}))


if __name__ == "__main__":
    main()
