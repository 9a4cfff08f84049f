//! A run's findings for the places security teams already look: Security Hub ([`asff`]), an
//! OCSF pipeline ([`ocsf`]), CloudWatch metrics from the logs ([`emf`]). Pure.
//!
//! One judgement, three shapes: [`checks`] turns a [`RunReport`] into [`CheckResult`]s (one per
//! console user, per root check, per role a caller might assume), and each format renders
//! those. A status, a reason and a check have the same name in every format, in the JSON report
//! and in the notifications.

pub mod asff;
pub mod checks;
pub mod emf;
pub mod hub;
pub mod ocsf;

pub use checks::{check_results, Check, CheckResult, Compliance, Severity, Subject};

use chrono::{DateTime, SecondsFormat, Utc};

/// Where and when the findings were made: what no finding carries on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportContext {
    /// The 12-digit account ID.
    pub account_id: String,
    /// The Region the findings are imported to (Security Hub is regional; IAM is not).
    pub region: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: from the ARNs the run read.
    pub partition: String,
    /// When the run finished: every finding's `UpdatedAt`.
    pub at: DateTime<Utc>,
}

impl ExportContext {
    /// The context of a run's report, in `region`; the partition comes from the report's ARNs
    /// (`aws` when it has none).
    pub fn of(report: &crate::run_report::RunReport, region: &str) -> ExportContext {
        let partition = report
            .findings
            .iter()
            .map(|f| f.arn.as_str())
            .chain(report.roles.iter().flatten().map(|r| r.arn.as_str()))
            .find_map(|arn| arn.strip_prefix("arn:")?.split(':').next())
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_string();
        ExportContext {
            account_id: report.account_id.clone(),
            region: region.to_string(),
            partition,
            at: report.generated_at,
        }
    }

    /// The account's own product in Security Hub, where a custom integration imports
    /// (<https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-custom-providers.html>).
    pub fn product_arn(&self) -> String {
        format!(
            "arn:{}:securityhub:{}:{}:product/{}/default",
            self.partition, self.region, self.account_id, self.account_id
        )
    }
}

/// A time as ASFF and the JSON report write it: RFC 3339, milliseconds, `Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The product's name in every format.
pub const PRODUCT_NAME: &str = "mfa-enforcer";

/// The release that made the findings.
pub const PRODUCT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests;
