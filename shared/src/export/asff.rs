//! Check results as AWS Security Finding Format findings, for Security Hub.
//!
//! The shape follows botocore's `AwsSecurityFinding`; `tests/asff/validate.py` checks every
//! finding we make against that service model. What we set and why
//! (<https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html>):
//! - `Id` is `mfa-enforcer/<account>/<check>/<unique ID>`: IAM's unique ID, so a user deleted
//!   and created again under the same name starts a new finding, not the old one's workflow;
//! - `Severity` and `Types` are set beside `FindingProviderFields`, where a provider's own
//!   values belong once an analyst may have changed the top-level ones
//!   (<https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_FindingProviderFields.html>);
//! - `Workflow`, `Note`, `UserDefinedFields` and `VerificationState` are never set: they are the
//!   analysts' (<https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html>);
//! - `ProductFields` carry the check, the run's word for the subject, its reasons, and a
//!   fingerprint of everything else, by which an unchanged finding is not imported again.

use super::checks::{CheckResult, SubjectKind};
use super::{check_results, timestamp, ExportContext, PRODUCT_NAME};
use crate::run_report::RunReport;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// ASFF's schema version (the only one there is).
pub const SCHEMA_VERSION: &str = "2018-10-08";

/// `ProductFields` keys, as `company/product/field`
/// (<https://docs.aws.amazon.com/securityhub/latest/userguide/asff-top-level-attributes.html>).
pub const FIELD_CHECK: &str = "mfa-enforcer/mfa-enforcer/check";
/// The run's word for the subject (`enforced`, `mfa_bypassable`).
pub const FIELD_STATE: &str = "mfa-enforcer/mfa-enforcer/state";
/// The run's reasons, comma-separated.
pub const FIELD_REASONS: &str = "mfa-enforcer/mfa-enforcer/reasons";
/// A hash of the finding without its times: equal means unchanged.
pub const FIELD_FINGERPRINT: &str = "mfa-enforcer/mfa-enforcer/fingerprint";

/// `RecordState` of a finding that still applies.
pub const ACTIVE: &str = "ACTIVE";
/// `RecordState` of a finding whose user or role is gone.
pub const ARCHIVED: &str = "ARCHIVED";

/// One ASFF finding: the members we set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// Stable: account, check, unique ID.
    pub id: String,
    /// The account's default product.
    pub product_arn: String,
    /// `mfa-enforcer`.
    pub product_name: String,
    /// `mfa-enforcer`.
    pub company_name: String,
    /// `mfa-enforcer/<check>`.
    pub generator_id: String,
    /// The account the subject is in.
    pub aws_account_id: String,
    /// The Region imported to.
    #[serde(default)]
    pub region: String,
    /// Type taxonomy paths.
    pub types: Vec<String>,
    /// When first found (kept across imports).
    pub created_at: String,
    /// When this run found it.
    pub updated_at: String,
    /// The severity as first set (an analyst may change it; Security Hub keeps theirs).
    pub severity: AsffSeverity,
    /// The provider's own severity and types.
    pub finding_provider_fields: ProviderFields,
    /// One line.
    pub title: String,
    /// For a person.
    pub description: String,
    /// What to do.
    pub remediation: Remediation,
    /// Ours: check, state, reasons, fingerprint.
    pub product_fields: BTreeMap<String, String>,
    /// The user, role or account.
    pub resources: Vec<Resource>,
    /// Met or not, and the controls it relates to.
    pub compliance: AsffCompliance,
    /// `ACTIVE`, or `ARCHIVED` once the subject is gone.
    pub record_state: String,
}

/// ASFF `Severity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    /// `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`.
    pub label: String,
    /// Our own word (`medium`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

/// ASFF `FindingProviderFields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderFields {
    /// The provider's severity.
    pub severity: AsffSeverity,
    /// The provider's types.
    pub types: Vec<String>,
}

/// ASFF `Remediation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Remediation {
    /// Text and URL.
    pub recommendation: Recommendation,
}

/// ASFF `Recommendation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation {
    /// What to do (at most 512 characters).
    pub text: String,
    /// AWS's page about it.
    pub url: String,
}

/// ASFF `Resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    /// `AwsIamUser`, `AwsIamRole`, `AwsAccount`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The ARN (`AWS::::Account:<id>` for the account).
    pub id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// The Region imported to.
    pub region: String,
    /// The user's or role's unique ID and name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ResourceDetails>,
}

/// ASFF `ResourceDetails`: the members we set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceDetails {
    /// `AwsIamUserDetails`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_iam_user: Option<IamUserDetails>,
    /// `AwsIamRoleDetails`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_iam_role: Option<IamRoleDetails>,
}

/// `AwsIamUserDetails`: ID and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamUserDetails {
    /// `AIDA...`.
    pub user_id: String,
    /// The name.
    pub user_name: String,
}

/// `AwsIamRoleDetails`: ID and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamRoleDetails {
    /// `AROA...`.
    pub role_id: String,
    /// The name.
    pub role_name: String,
}

/// ASFF `Compliance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    /// `PASSED`, `WARNING`, `FAILED`.
    pub status: String,
    /// Security Hub controls and CIS requirements (at most 32).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_requirements: Vec<String>,
}

/// Every finding of a run, in [`check_results`]' order, `ACTIVE`, first found now.
pub fn findings(report: &RunReport, ctx: &ExportContext) -> Vec<AsffFinding> {
    check_results(report)
        .iter()
        .map(|r| finding(r, ctx))
        .collect()
}

/// One check result as a finding.
pub fn finding(result: &CheckResult, ctx: &ExportContext) -> AsffFinding {
    let subject = &result.subject;
    let at = timestamp(ctx.at);
    let severity = AsffSeverity {
        label: result.severity.as_str().to_uppercase(),
        original: Some(result.severity.as_str().to_string()),
    };
    let types = vec![result.check.types().to_string()];
    let (text, url) = result.check.remediation();
    let (kind, id, details) = match subject.kind {
        SubjectKind::User => (
            "AwsIamUser",
            subject.arn.clone(),
            Some(ResourceDetails {
                aws_iam_user: Some(IamUserDetails {
                    user_id: subject.unique_id.clone(),
                    user_name: subject.name.clone(),
                }),
                ..ResourceDetails::default()
            }),
        ),
        SubjectKind::Role => (
            "AwsIamRole",
            subject.arn.clone(),
            Some(ResourceDetails {
                aws_iam_role: Some(IamRoleDetails {
                    role_id: subject.unique_id.clone(),
                    role_name: subject.name.clone(),
                }),
                ..ResourceDetails::default()
            }),
        ),
        SubjectKind::Account => (
            "AwsAccount",
            format!("AWS::::Account:{}", ctx.account_id),
            None,
        ),
    };
    let mut f = AsffFinding {
        schema_version: SCHEMA_VERSION.to_string(),
        id: format!(
            "{PRODUCT_NAME}/{}/{}/{}",
            ctx.account_id,
            result.check.as_str(),
            subject.unique_id
        ),
        product_arn: ctx.product_arn(),
        product_name: PRODUCT_NAME.to_string(),
        company_name: PRODUCT_NAME.to_string(),
        generator_id: result.check.generator_id(),
        aws_account_id: ctx.account_id.clone(),
        region: ctx.region.clone(),
        types: types.clone(),
        created_at: at.clone(),
        updated_at: at,
        severity: severity.clone(),
        finding_provider_fields: ProviderFields { severity, types },
        title: format!("{}: {}", result.check.title(), subject.name),
        description: result.description.clone(),
        remediation: Remediation {
            recommendation: Recommendation {
                text: text.to_string(),
                url: url.to_string(),
            },
        },
        product_fields: BTreeMap::from([
            (FIELD_CHECK.to_string(), result.check.as_str().to_string()),
            (FIELD_STATE.to_string(), result.state.to_string()),
        ]),
        resources: vec![Resource {
            kind: kind.to_string(),
            id,
            partition: ctx.partition.clone(),
            region: ctx.region.clone(),
            details,
        }],
        compliance: AsffCompliance {
            status: result.compliance.as_str().to_uppercase(),
            related_requirements: result.check.related_requirements(),
        },
        record_state: ACTIVE.to_string(),
    };
    // Security Hub refuses empty strings: no reasons, no field.
    if !result.reasons.is_empty() {
        f.product_fields
            .insert(FIELD_REASONS.to_string(), result.reasons.join(","));
    }
    f.title = truncate(&f.title, 256);
    f.description = truncate(&f.description, 1024);
    let print = fingerprint(&f);
    f.product_fields
        .insert(FIELD_FINGERPRINT.to_string(), print);
    f
}

/// A hash of what a finding says, times and the fingerprint itself left out: two imports
/// with the same fingerprint say the same thing. FNV-1a (64 bits) over the JSON: stable
/// across releases and platforms, and collisions only cost a skipped refresh.
pub fn fingerprint(finding: &AsffFinding) -> String {
    let mut f = finding.clone();
    f.created_at.clear();
    f.updated_at.clear();
    f.product_fields.remove(FIELD_FINGERPRINT);
    let text = serde_json::to_string(&f).unwrap_or_default();
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// `text` cut to at most `max` characters (ASFF counts characters), with an ellipsis.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}
