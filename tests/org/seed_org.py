#!/usr/bin/env python3
"""Seeds an AWS organization into a moto server, for the organization audit's tests.

    seed_org.py PORT ACCOUNTS POLICY_DOCUMENT_FILE

An organization (the caller's account is its management account) with OUs
Root/{Prod/{Web,Api},Dev,Sandbox} and ACCOUNTS member accounts spread over them. In each member
account, reached through moto's AssumeRole, the stack's fixed names exist (the deny policy
mfa-enforcer-deny-without-mfa with the given document, the group MFAEnforcement carrying it),
and account i gets, by i % 4:

    0  a console user with MFA in the group                       compliant
    1  that, and a console user without MFA                       1 non-compliant user
    2  no user                                                    compliant
    3  a role trusting the account without MFA, allowed * on *    1 privileged role without MFA

The last account is closed (SUSPENDED or PENDING_CLOSURE: never audited).
Prints {"organization_id", "management_account_id", "ous": {name: id}, "accounts": [{"id",
"name", "ou", "kind"}]} as JSON.
"""
import json
import sys

import boto3

port, count, policy_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
endpoint = f"http://127.0.0.1:{port}"
common = dict(endpoint_url=endpoint, region_name="us-east-1")
caller = dict(aws_access_key_id="testing", aws_secret_access_key="testing", **common)
org = boto3.client("organizations", **caller)
sts = boto3.client("sts", **caller)
organization = org.create_organization(FeatureSet="ALL")["Organization"]
root = org.list_roots()["Roots"][0]["Id"]


def ou(parent, name):
    return org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]


prod = ou(root, "Prod")
ous = {"Root": root, "Prod": prod, "Web": ou(prod, "Web"), "Api": ou(prod, "Api"),
       "Dev": ou(root, "Dev"), "Sandbox": ou(root, "Sandbox")}
homes = ["Web", "Api", "Dev", "Sandbox", "Prod"]
document = open(policy_file).read()
everything = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
accounts = []
for i in range(count):
    created = org.create_account(Email=f"a{i}@example.com", AccountName=f"account-{i:02d}")
    account_id = created["CreateAccountStatus"]["AccountId"]
    home = homes[i % len(homes)]
    org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ous[home])
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/seed",
                                  RoleSessionName="seed")["Credentials"]
    iam = boto3.client("iam", aws_access_key_id=credentials["AccessKeyId"],
                       aws_secret_access_key=credentials["SecretAccessKey"],
                       aws_session_token=credentials["SessionToken"], **common)
    deny = iam.create_policy(PolicyName="mfa-enforcer-deny-without-mfa",
                             PolicyDocument=document)["Policy"]["Arn"]
    iam.create_group(GroupName="MFAEnforcement")
    iam.attach_group_policy(GroupName="MFAEnforcement", PolicyArn=deny)
    kind = ["compliant", "user_without_mfa", "empty", "role_without_mfa"][i % 4]
    if kind in ("compliant", "user_without_mfa"):
        iam.create_user(UserName="alice")
        iam.create_login_profile(UserName="alice", Password="Correct-Horse-1")
        iam.add_user_to_group(GroupName="MFAEnforcement", UserName="alice")
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial,
                              AuthenticationCode1="123456", AuthenticationCode2="654321")
    if kind == "user_without_mfa":
        iam.create_user(UserName="bob")
        iam.create_login_profile(UserName="bob", Password="Correct-Horse-1")
    if kind == "role_without_mfa":
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "sts:AssumeRole"}]})
        iam.create_role(RoleName="admin", AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName="admin", PolicyName="everything", PolicyDocument=everything)
    accounts.append({"id": account_id, "name": f"account-{i:02d}", "ou": home, "kind": kind})
org.close_account(AccountId=accounts[-1]["id"])
accounts[-1]["kind"] = "closed"
print(json.dumps({"organization_id": organization["Id"],
                  "management_account_id": organization["MasterAccountId"],
                  "ous": ous, "accounts": accounts}))
