//! Check results as OCSF 1.5.0 Compliance Findings (class 2003), one JSON object per line, for
//! Security Lake or a SIEM (<https://schema.ocsf.io/1.5.0/classes/compliance_finding>).
//!
//! Every attribute is the class's own or its `cloud` profile's; `tests/ocsf/validate.py`
//! checks each line with the pinned `py-ocsf-models` (its models ignore unknown attributes,
//! so the test also rejects any attribute outside the class). Times are milliseconds since
//! the epoch, as OCSF's `timestamp_t` is.

use super::checks::{CheckResult, Compliance, Severity, SubjectKind};
use super::{check_results, ExportContext, PRODUCT_NAME, PRODUCT_VERSION};
use crate::run_report::RunReport;
use serde_json::{json, Value};

/// The OCSF version written.
pub const OCSF_VERSION: &str = "1.5.0";
/// Compliance Finding.
pub const CLASS_UID: u32 = 2003;
/// Findings.
pub const CATEGORY_UID: u32 = 2;
/// Activity `Create`: each line is the finding as this run made it.
pub const ACTIVITY_CREATE: u32 = 1;

fn severity_id(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Informational => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// OCSF's compliance `status_id`: 1 Pass, 2 Warning, 3 Fail.
fn compliance_status_id(c: Compliance) -> u8 {
    match c {
        Compliance::Passed => 1,
        Compliance::Warning => 2,
        Compliance::Failed => 3,
    }
}

/// Every finding of a run, in [`check_results`]' order.
pub fn findings(report: &RunReport, ctx: &ExportContext) -> Vec<Value> {
    check_results(report)
        .iter()
        .map(|r| finding(r, ctx))
        .collect()
}

/// One check result as a Compliance Finding.
pub fn finding(result: &CheckResult, ctx: &ExportContext) -> Value {
    let time = ctx.at.timestamp_millis();
    let (severity_id, severity) = severity_id(result.severity);
    let status_id = compliance_status_id(result.compliance);
    let subject = &result.subject;
    let resource_type = match subject.kind {
        SubjectKind::User => "AwsIamUser",
        SubjectKind::Role => "AwsIamRole",
        SubjectKind::Account => "AwsAccount",
    };
    let (text, url) = result.check.remediation();
    let uid = format!(
        "{PRODUCT_NAME}/{}/{}/{}",
        ctx.account_id,
        result.check.as_str(),
        subject.unique_id
    );
    let title = format!("{}: {}", result.check.title(), subject.name);
    let mut labels = vec![format!("state:{}", result.state)];
    labels.extend(result.reasons.iter().map(|r| format!("reason:{r}")));
    let standards: Vec<&str> = result
        .check
        .cis_requirements()
        .iter()
        .filter_map(|r| r.split('/').next())
        .collect();
    json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        // The finding's own workflow: new each run; an analyst's triage lives elsewhere.
        "status_id": 1,
        "status": "New",
        "time": time,
        "message": result.description,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "event_code": result.check.as_str(),
            "uid": uid,
            "product": {
                "name": PRODUCT_NAME,
                "vendor_name": PRODUCT_NAME,
                "version": PRODUCT_VERSION,
            },
        },
        "cloud": {
            "provider": "AWS",
            "region": ctx.region,
            "account": {
                "uid": ctx.account_id,
                "name": ctx.account_id,
                "type": "AWS Account",
                "type_id": 10,
            },
        },
        "finding_info": {
            "uid": uid,
            "title": title,
            "desc": result.description,
            "created_time": time,
            "types": [result.check.types()],
        },
        "compliance": {
            "standards": if standards.is_empty() { vec![PRODUCT_NAME] } else { standards },
            "control": result.check.as_str(),
            "requirements": result.check.related_requirements(),
            "status_id": status_id,
        },
        "resources": [{
            "uid": subject.arn,
            "name": subject.name,
            "type": resource_type,
            "cloud_partition": ctx.partition,
            "region": ctx.region,
            "labels": labels,
        }],
        "remediation": {
            "desc": text,
            "references": [url],
        },
    })
}
