//! A run's counts as one CloudWatch Embedded Metric Format line: printed to a Lambda's standard
//! output, CloudWatch Logs extracts the metrics from it, at no API cost and with no agent
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//!
//! The line is one JSON object: `_aws` (a `Timestamp` in milliseconds and one metric directive:
//! namespace, dimension sets, metrics with their units) and, at the top level, every metric's
//! value and every dimension's value, as the specification requires. At most 100 metrics per
//! directive and 30 dimensions per set: we write 17 and 1. `tests/emf/validate.py` checks the
//! line against the specification's schema and cross-references.

use crate::finding::Status;
use crate::run_report::RunReport;
use serde_json::{json, Map, Value};

/// The metrics' namespace (a custom one may not start with `AWS/`).
pub const NAMESPACE: &str = "MfaEnforcer";

/// The one dimension: `Run` = `account` (a whole-account run) or `event`. Counts of users by
/// status come from account runs only: an event run sees the few users it names.
pub const DIMENSION: &str = "Run";

/// Unit names of the specification.
const COUNT: &str = "Count";
const MILLISECONDS: &str = "Milliseconds";
/// A 0/1 gauge has no unit.
const NONE: &str = "None";

/// The metrics of one run, in order: name, unit, value.
pub fn metrics(report: &RunReport, duration_ms: u64) -> Vec<(&'static str, &'static str, f64)> {
    let s = &report.summary;
    let n = |v: usize| v as f64;
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let mut out = Vec::new();
    if report.event.is_none() {
        for (status, name) in [
            (Status::Compliant, "UsersCompliant"),
            (Status::Enforced, "UsersEnforced"),
            (Status::NonCompliant, "UsersNonCompliant"),
            (Status::Exempt, "UsersExempt"),
            (Status::InGrace, "UsersInGrace"),
            (Status::NotApplicable, "UsersNotApplicable"),
        ] {
            out.push((name, COUNT, n(s.status(status))));
        }
        out.push(("NonCompliantRemaining", COUNT, n(s.non_compliant_remaining)));
        out.push((
            "PrivilegedRolesWithoutMfa",
            COUNT,
            n(report.privileged_roles_without_mfa().count()),
        ));
    }
    out.push(("ActionsApplied", COUNT, n(s.actions_applied)));
    out.push(("ActionsFailed", COUNT, n(s.actions_failed)));
    out.push(("NotificationsFailed", COUNT, n(s.notifications_failed)));
    out.push(("GuardTripped", NONE, flag(s.guard_tripped)));
    if let Some(check) = &report.deny_policy {
        out.push(("DenyPolicyNotCanonical", NONE, flag(!check.canonical)));
    }
    if let Some(hub) = &report.security_hub {
        out.push(("SecurityHubFailed", COUNT, n(hub.failed)));
    }
    out.push(("RunDuration", MILLISECONDS, duration_ms as f64));
    out.push(("RunCompleted", COUNT, 1.0));
    out
}

/// The EMF line of a run that lasted `duration_ms`.
pub fn line(report: &RunReport, duration_ms: u64) -> String {
    let metrics = metrics(report, duration_ms);
    let run = if report.event.is_some() {
        "event"
    } else {
        "account"
    };
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": report.generated_at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": metrics
                    .iter()
                    .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    root.insert(DIMENSION.into(), Value::from(run));
    for (name, _, value) in metrics {
        root.insert(name.into(), json!(value));
    }
    Value::Object(root).to_string()
}
