#!/usr/bin/env python3
"""Packages mfa-enforcer for a service-managed StackSet (see docs/deploy.md, "Roll out to an organization").

Service-managed StackSets cannot run the AWS::Serverless transform, so this script:
  1. points each function's CodeUri at its zip in S3 (built by `make build`: target/lambda/NAME/bootstrap.zip);
  2. expands infra/template.yaml into plain CloudFormation with AWS's own SAM translator
     (samtranslator, installed with cfn-lint in the infra venv);
  3. with --bucket: uploads the zips and the expanded template, and prints the TemplateURL to
     give infra/stackset.yaml.

    package_stackset.py --bucket BUCKET [--prefix mfa-enforcer/] [--region us-east-1]
    package_stackset.py --expand-only --out FILE [--bucket example]   (offline: no upload)

The bucket must be in us-east-1 and readable by the organization's accounts (a bucket policy
granting s3:GetObject with the condition aws:PrincipalOrgID).
"""
import argparse, hashlib, json, os, sys

import yaml
from samtranslator.parser import parser
from samtranslator.translator.translator import Translator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTIONS = {"ScheduledAuditFunction": "scheduled-audit", "IamEventsFunction": "iam-events"}


def zip_path(binary):
    return os.path.join(ROOT, "target", "lambda", binary, "bootstrap.zip")


def code_key(prefix, binary, expand_only):
    path = zip_path(binary)
    if expand_only and not os.path.exists(path):
        return f"{prefix}{binary}/bootstrap.zip"
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()[:16]
    return f"{prefix}{binary}/{digest}.zip"


def expand(bucket, keys, region):
    # The translator reads the region for pseudo parameters; nothing is called.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    template = yaml.safe_load(open(os.path.join(ROOT, "infra", "template.yaml")))
    for logical_id, binary in FUNCTIONS.items():
        function = template["Resources"][logical_id]
        function.pop("Metadata", None)
        function["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": keys[binary]}
    template["Globals"]["Function"].pop("CodeUri", None)
    translator = Translator(managed_policy_map={}, sam_parser=parser.Parser(), plugins=[])
    expanded = translator.translate(sam_template=template, parameter_values={})
    leftovers = [k for k, r in expanded["Resources"].items() if r["Type"].startswith("AWS::Serverless::")]
    if "Transform" in expanded or leftovers:
        sys.exit(f"package: the expansion left SAM resources behind: {leftovers}")
    return expanded


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bucket", default="example-bucket", help="S3 bucket for the code and the template")
    ap.add_argument("--prefix", default="mfa-enforcer/", help="key prefix in the bucket")
    ap.add_argument("--region", default="us-east-1", help="the bucket's region (StackSets deploy to us-east-1)")
    ap.add_argument("--expand-only", action="store_true", help="write the expanded template, upload nothing")
    ap.add_argument("--out", help="where to write the expanded template (JSON)")
    a = ap.parse_args()
    if not a.expand_only:
        missing = [zip_path(b) for b in FUNCTIONS.values() if not os.path.exists(zip_path(b))]
        if missing:
            sys.exit(f"package: {', '.join(missing)} missing: run `make build` first")
    keys = {b: code_key(a.prefix, b, a.expand_only) for b in FUNCTIONS.values()}
    expanded = json.dumps(expand(a.bucket, keys, a.region), indent=1, sort_keys=True)
    if a.out:
        open(a.out, "w").write(expanded + "\n")
    if a.expand_only:
        print(a.out or expanded)
        return
    import boto3  # only needed for the upload
    s3 = boto3.client("s3", region_name=a.region)
    for binary, key in keys.items():
        print(f"uploading {zip_path(binary)} to s3://{a.bucket}/{key}", file=sys.stderr)
        s3.upload_file(zip_path(binary), a.bucket, key)
    template_key = f"{a.prefix}template-{hashlib.sha256(expanded.encode()).hexdigest()[:16]}.json"
    s3.put_object(Bucket=a.bucket, Key=template_key, Body=expanded.encode())
    print(f"https://{a.bucket}.s3.{a.region}.amazonaws.com/{template_key}")


if __name__ == "__main__":
    main()
