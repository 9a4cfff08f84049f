"""Validates findings and metric lines the way their owners define them, not by our own reading.

    python validate.py asff|ocsf|emf < LINES

Reads JSON lines on standard input and prints {"valid": N, "errors": [...]} (exit 0 either way;
the Rust test asserts). Each format is checked against its maintained definition:

- asff: botocore's Security Hub service model (the AwsSecurityFinding shape, recursively:
  required members, no member outside the shape, types, enums, minimum lengths), and the
  BatchImportFindings request's limit on the number of findings;
- ocsf: the pinned py-ocsf-models' ComplianceFinding (OCSF 1.5.0), strict, with every attribute
  outside the class refused (the models ignore unknown attributes by default); `cloud` (the
  cloud profile's attribute) against the package's Cloud object; class, category and type IDs;
- emf: the Embedded Metric Format specification's schema
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
  restated as JSON Schema, plus what its text requires beyond the schema: every dimension and
  metric a directive names is a member of the root, at most 100 metrics per directive, at most
  30 dimensions per set, values numbers (or arrays of at most 100 numbers).
"""

import json
import re
import sys


def asff_validator():
    import botocore.session

    model = botocore.session.get_session().get_service_model("securityhub")

    def check(shape, value, path, errors):
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                errors.append(f"{path}: expected an object")
                return
            for name in shape.required_members:
                if name not in value:
                    errors.append(f"{path}: missing required member {name}")
            for name, member in value.items():
                if name not in shape.members:
                    errors.append(f"{path}: {name} is not a member of {shape.name}")
                else:
                    check(shape.members[name], member, f"{path}.{name}", errors)
        elif kind == "list":
            if not isinstance(value, list):
                errors.append(f"{path}: expected a list")
                return
            low, high = shape.metadata.get("min"), shape.metadata.get("max")
            if low is not None and len(value) < low or high is not None and len(value) > high:
                errors.append(f"{path}: {len(value)} items, outside [{low}, {high}]")
            for i, item in enumerate(value):
                check(shape.member, item, f"{path}[{i}]", errors)
        elif kind == "map":
            if not isinstance(value, dict):
                errors.append(f"{path}: expected a map")
                return
            for k, v in value.items():
                check(shape.key, k, f"{path} key", errors)
                check(shape.value, v, f"{path}.{k}", errors)
        elif kind == "string":
            if not isinstance(value, str):
                errors.append(f"{path}: expected a string")
                return
            if shape.enum and value not in shape.enum:
                errors.append(f"{path}: {value!r} not one of {shape.enum}")
            if len(value) < shape.metadata.get("min", 0):
                errors.append(f"{path}: shorter than {shape.metadata['min']}")
            pattern = shape.metadata.get("pattern")
            if pattern and not re.search(pattern, value):
                errors.append(f"{path}: {value!r} does not match {pattern}")
        elif kind in ("integer", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append(f"{path}: expected an integer")
        elif kind in ("double", "float"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                errors.append(f"{path}: expected a number")
        elif kind == "boolean":
            if not isinstance(value, bool):
                errors.append(f"{path}: expected a boolean")
        else:
            errors.append(f"{path}: unexpected shape type {kind}")

    finding = model.shape_for("AwsSecurityFinding")
    request = model.operation_model("BatchImportFindings").input_shape

    def validate(lines):
        errors = []
        for n, line in enumerate(lines):
            check(finding, json.loads(line), f"line {n + 1}", errors)
        findings = request.members["Findings"]
        most = findings.metadata.get("max")
        # What one request may carry: the test cuts its lines into requests of at most this.
        return errors, {"max_findings_per_request": most}

    return validate


def ocsf_validator():
    from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
    from py_ocsf_models.objects.cloud import Cloud
    from pydantic import ValidationError

    def validate(lines):
        errors = []
        for n, line in enumerate(lines):
            where = f"line {n + 1}"
            d = json.loads(line)
            cloud = d.pop("cloud", None)
            if cloud is None:
                errors.append(f"{where}: no cloud (the cloud profile's attribute)")
            else:
                try:
                    Cloud.model_validate_json(json.dumps(cloud), strict=True, extra="forbid")
                except ValidationError as e:
                    errors.append(f"{where}: cloud: {e}")
                if "cloud" not in d.get("metadata", {}).get("profiles", []):
                    errors.append(f"{where}: cloud without metadata.profiles naming it")
            try:
                ComplianceFinding.model_validate_json(json.dumps(d), strict=True, extra="forbid")
            except ValidationError as e:
                errors.append(f"{where}: {e}")
            if d.get("class_uid") != 2003 or d.get("category_uid") != 2:
                errors.append(f"{where}: not a Compliance Finding (class 2003, category 2)")
            if d.get("type_uid") != d.get("class_uid", 0) * 100 + d.get("activity_id", 0):
                errors.append(f"{where}: type_uid is not class_uid * 100 + activity_id")
            if d.get("metadata", {}).get("version") != "1.5.0":
                errors.append(f"{where}: metadata.version is not 1.5.0")
        return errors, {}

    return validate


UNITS = (
    "Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|"
    "Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes/Second|Kilobytes/Second|"
    "Megabytes/Second|Gigabytes/Second|Terabytes/Second|Bits/Second|Kilobits/Second|"
    "Megabits/Second|Gigabits/Second|Terabits/Second|Count/Second|None"
)

EMF_SCHEMA = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "properties": {
                            "Namespace": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "Dimensions": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "array",
                                    "maxItems": 30,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 250},
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "properties": {
                                        "Name": {"type": "string", "minLength": 1, "maxLength": 1024},
                                        "Unit": {"type": "string", "pattern": f"^({UNITS})$"},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def emf_validator():
    import jsonschema

    def validate(lines):
        errors = []
        for n, line in enumerate(lines):
            where = f"line {n + 1}"
            d = json.loads(line)
            for e in jsonschema.Draft7Validator(EMF_SCHEMA).iter_errors(d):
                errors.append(f"{where}: {'/'.join(map(str, e.path))}: {e.message}")
            for directive in d.get("_aws", {}).get("CloudWatchMetrics", []):
                if directive.get("Namespace", "").startswith("AWS/"):
                    errors.append(f"{where}: namespace AWS/ is reserved")
                for dims in directive.get("Dimensions", []):
                    for dim in dims:
                        value = d.get(dim)
                        if not isinstance(value, str) or not 0 < len(value) <= 1024:
                            errors.append(f"{where}: dimension {dim} is not a root string")
                for metric in directive.get("Metrics", []):
                    value = d.get(metric.get("Name"))
                    numbers = value if isinstance(value, list) else [value]
                    if len(numbers) > 100 or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers
                    ):
                        errors.append(f"{where}: metric {metric.get('Name')} has no number at the root")
        return errors, {}

    return validate


def main():
    kind = sys.argv[1]
    validate = {"asff": asff_validator, "ocsf": ocsf_validator, "emf": emf_validator}[kind]()
    lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
    errors, facts = validate(lines)
    print(json.dumps({"valid": len(lines) - len({e.split(':')[0] for e in errors}), "lines": len(lines), "errors": errors[:50], **facts}))


if __name__ == "__main__":
    main()
