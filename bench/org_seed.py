#!/usr/bin/env python3
"""Seeds a deterministic AWS organization into a moto server, for `make bench`.

    org_seed.py --endpoint URL --accounts N --users U --policy-document FILE

N member accounts under Root/{Prod,Dev} with, in each (reached through moto's AssumeRole),
the StackSet's fixed names (the deny policy mfa-enforcer-deny-without-mfa, the group
MFAEnforcement carrying it) and U users: 55% console users, 40% of those with a virtual MFA
device, 30% of all in the group. Prints {"accounts": [ids], "expected_without_mfa": n}: the
console users without MFA across the organization, what every tool must find.
"""
import argparse
import json
import random

import boto3

ap = argparse.ArgumentParser()
ap.add_argument("--endpoint", required=True)
ap.add_argument("--accounts", type=int, required=True)
ap.add_argument("--users", type=int, required=True)
ap.add_argument("--policy-document", required=True)
a = ap.parse_args()
common = dict(endpoint_url=a.endpoint, region_name="us-east-1")
caller = dict(aws_access_key_id="testing", aws_secret_access_key="testing", **common)
org = boto3.client("organizations", **caller)
sts = boto3.client("sts", **caller)
org.create_organization(FeatureSet="ALL")
root = org.list_roots()["Roots"][0]["Id"]
ous = [org.create_organizational_unit(ParentId=root, Name=n)["OrganizationalUnit"]["Id"]
       for n in ("Prod", "Dev")]
document = open(a.policy_document).read()
rng = random.Random(7)
ids, without_mfa = [], 0
for i in range(a.accounts):
    account_id = org.create_account(Email=f"a{i}@example.com",
                                    AccountName=f"account-{i:04d}")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ous[i % 2])
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/seed", RoleSessionName="seed")["Credentials"]
    iam = boto3.client("iam", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                       aws_session_token=c["SessionToken"], **common)
    deny = iam.create_policy(PolicyName="mfa-enforcer-deny-without-mfa", PolicyDocument=document)["Policy"]["Arn"]
    iam.create_group(GroupName="MFAEnforcement")
    iam.attach_group_policy(GroupName="MFAEnforcement", PolicyArn=deny)
    for u in range(a.users):
        name = f"user{u:04d}"
        iam.create_user(UserName=name)
        if rng.random() < 0.30:
            iam.add_user_to_group(GroupName="MFAEnforcement", UserName=name)
        if rng.random() < 0.55:
            iam.create_login_profile(UserName=name, Password="Correct-Horse-1")
            if rng.random() < 0.40:
                serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
                iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                                      AuthenticationCode1="123456", AuthenticationCode2="654321")
            else:
                without_mfa += 1
    ids.append(account_id)
print(json.dumps({"accounts": ids, "expected_without_mfa": without_mfa}))
