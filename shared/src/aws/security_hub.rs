//! Security Hub: our findings read back (GetFindings) and imported (BatchImportFindings).
//!
//! The SDK's types are converted to and from [`AsffFinding`] member by member; only the
//! members we set travel. Filters ask Security Hub for our product, generator prefix, account
//! and `ACTIVE` findings; what comes back is checked again ([`hub::is_ours`]), since an
//! emulator may ignore filters.

use crate::aws::errors::from_sdk;
use crate::export::asff::{
    AsffCompliance, AsffFinding, AsffSeverity, IamRoleDetails, IamUserDetails, ProviderFields,
    Recommendation, Remediation, Resource, ResourceDetails, ACTIVE,
};
use crate::export::{hub, PRODUCT_NAME};
use crate::ports::{AwsError, FindingsHub};
use aws_sdk_securityhub::types as sh;
use aws_sdk_securityhub::Client;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Keeps requests under a rate, allowing a burst first (a token bucket): a request that finds
/// no token waits for one.
#[derive(Debug)]
struct Pace {
    per_second: f64,
    burst: f64,
    /// Tokens left (negative: owed by requests already waiting) and when they were counted.
    state: Mutex<(f64, Instant)>,
}

impl Pace {
    fn new(per_second: f64, burst: f64) -> Self {
        Pace {
            per_second,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Waits for this request's turn.
    async fn turn(&self) {
        let wait = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let refilled = state.0 + now.duration_since(state.1).as_secs_f64() * self.per_second;
            let left = refilled.min(self.burst) - 1.0;
            *state = (left, now);
            Duration::from_secs_f64((-left).max(0.0) / self.per_second)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Security Hub's rates: GetFindings 3 requests a second in bursts of 6, BatchImportFindings
/// 10 in bursts of 30 (<https://docs.aws.amazon.com/securityhub/1.0/APIReference/Welcome.html>).
/// Requests keep under them, so that a large account's pages are not throttled.
const GET_FINDINGS_RATE: (f64, f64) = (3.0, 6.0);
const IMPORT_RATE: (f64, f64) = (10.0, 30.0);

/// GetFindings takes at most 20 values per filter attribute
/// (<https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFindingFilters.html>).
const IDS_PER_FILTER: usize = 20;

/// The Security Hub port on the AWS SDK.
#[derive(Debug)]
pub struct SecurityHubImporter {
    client: Client,
    region: String,
    reads: Pace,
    imports: Pace,
}

impl Clone for SecurityHubImporter {
    /// A clone paces its own requests.
    fn clone(&self) -> Self {
        SecurityHubImporter::new(self.client.clone())
    }
}

impl SecurityHubImporter {
    /// An importer into the client's Region.
    pub fn new(client: Client) -> Self {
        let region = client
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default();
        SecurityHubImporter {
            client,
            region,
            reads: Pace::new(GET_FINDINGS_RATE.0, GET_FINDINGS_RATE.1),
            imports: Pace::new(IMPORT_RATE.0, IMPORT_RATE.1),
        }
    }
}

fn filter(value: &str, comparison: sh::StringFilterComparison) -> sh::StringFilter {
    sh::StringFilter::builder()
        .value(value)
        .comparison(comparison)
        .build()
}

impl FindingsHub for SecurityHubImporter {
    fn region(&self) -> &str {
        &self.region
    }

    async fn active_findings(
        &self,
        product_arn: &str,
        ids: Option<&[String]>,
    ) -> Result<(Vec<AsffFinding>, usize), AwsError> {
        let account = product_arn.split(':').nth(4).unwrap_or_default();
        let base = sh::AwsSecurityFindingFilters::builder()
            .product_arn(filter(product_arn, sh::StringFilterComparison::Equals))
            .aws_account_id(filter(account, sh::StringFilterComparison::Equals))
            .generator_id(filter(
                &format!("{PRODUCT_NAME}/"),
                sh::StringFilterComparison::Prefix,
            ))
            .record_state(filter(ACTIVE, sh::StringFilterComparison::Equals));
        let queries: Vec<sh::AwsSecurityFindingFilters> = match ids {
            None => vec![base.build()],
            Some(ids) => ids
                .chunks(IDS_PER_FILTER)
                .map(|chunk| {
                    chunk
                        .iter()
                        .fold(base.clone(), |b, id| {
                            b.id(filter(id, sh::StringFilterComparison::Equals))
                        })
                        .build()
                })
                .collect(),
        };
        let mut found = Vec::new();
        let mut requests = 0;
        for query in queries {
            let mut pages = self
                .client
                .get_findings()
                .filters(query)
                .max_results(100)
                .into_paginator()
                .send();
            loop {
                self.reads.turn().await;
                let Some(page) = pages.next().await else {
                    break;
                };
                requests += 1;
                let page = page.map_err(|e| from_sdk("GetFindings", e))?;
                found.extend(
                    page.findings
                        .unwrap_or_default()
                        .into_iter()
                        .map(from_sdk_finding),
                );
            }
        }
        let account = account.to_string();
        found.retain(|f| {
            hub::is_ours(f, product_arn, &account)
                && f.record_state == ACTIVE
                && ids.is_none_or(|ids| ids.contains(&f.id))
        });
        Ok((found, requests))
    }

    async fn import(&self, findings: &[AsffFinding]) -> Result<Vec<(String, String)>, AwsError> {
        let sdk: Vec<sh::AwsSecurityFinding> = findings.iter().map(to_sdk_finding).collect();
        self.imports.turn().await;
        let out = self
            .client
            .batch_import_findings()
            .set_findings(Some(sdk))
            .send()
            .await
            .map_err(|e| from_sdk("BatchImportFindings", e))?;
        Ok(out
            .failed_findings
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                (
                    f.id.unwrap_or_default(),
                    format!(
                        "{}: {}",
                        f.error_code.unwrap_or_default(),
                        f.error_message.unwrap_or_default()
                    ),
                )
            })
            .collect())
    }
}

fn to_sdk_finding(f: &AsffFinding) -> sh::AwsSecurityFinding {
    let severity = |s: &AsffSeverity| {
        sh::Severity::builder()
            .label(sh::SeverityLabel::from(s.label.as_str()))
            .set_original(s.original.clone())
            .build()
    };
    let provider = &f.finding_provider_fields;
    let resources = f
        .resources
        .iter()
        .map(|r| {
            let details = r.details.as_ref().map(|d| {
                sh::ResourceDetails::builder()
                    .set_aws_iam_user(d.aws_iam_user.as_ref().map(|u| {
                        sh::AwsIamUserDetails::builder()
                            .user_id(&u.user_id)
                            .user_name(&u.user_name)
                            .build()
                    }))
                    .set_aws_iam_role(d.aws_iam_role.as_ref().map(|role| {
                        sh::AwsIamRoleDetails::builder()
                            .role_id(&role.role_id)
                            .role_name(&role.role_name)
                            .build()
                    }))
                    .build()
            });
            sh::Resource::builder()
                .r#type(&r.kind)
                .id(&r.id)
                .partition(sh::Partition::from(r.partition.as_str()))
                .region(&r.region)
                .set_details(details)
                .build()
        })
        .collect();
    sh::AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .product_name(&f.product_name)
        .company_name(&f.company_name)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .region(&f.region)
        .set_types(Some(f.types.clone()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(severity(&f.severity))
        .finding_provider_fields(
            sh::FindingProviderFields::builder()
                .severity(
                    sh::FindingProviderSeverity::builder()
                        .label(sh::SeverityLabel::from(provider.severity.label.as_str()))
                        .set_original(provider.severity.original.clone())
                        .build(),
                )
                .set_types(Some(provider.types.clone()))
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .remediation(
            sh::Remediation::builder()
                .recommendation(
                    sh::Recommendation::builder()
                        .text(&f.remediation.recommendation.text)
                        .url(&f.remediation.recommendation.url)
                        .build(),
                )
                .build(),
        )
        .set_product_fields(Some(f.product_fields.clone().into_iter().collect()))
        .set_resources(Some(resources))
        .compliance(
            sh::Compliance::builder()
                .status(sh::ComplianceStatus::from(f.compliance.status.as_str()))
                .set_related_requirements(
                    (!f.compliance.related_requirements.is_empty())
                        .then(|| f.compliance.related_requirements.clone()),
                )
                .build(),
        )
        .record_state(sh::RecordState::from(f.record_state.as_str()))
        .build()
}

fn from_sdk_finding(f: sh::AwsSecurityFinding) -> AsffFinding {
    let severity = |label: Option<&sh::SeverityLabel>, original: Option<String>| AsffSeverity {
        label: label.map(|l| l.as_str().to_string()).unwrap_or_default(),
        original,
    };
    let provider = f
        .finding_provider_fields
        .unwrap_or_else(|| sh::FindingProviderFields::builder().build());
    let provider_severity = provider
        .severity
        .unwrap_or_else(|| sh::FindingProviderSeverity::builder().build());
    let recommendation = f
        .remediation
        .and_then(|r| r.recommendation)
        .unwrap_or_else(|| sh::Recommendation::builder().build());
    let compliance = f
        .compliance
        .unwrap_or_else(|| sh::Compliance::builder().build());
    AsffFinding {
        schema_version: f.schema_version.unwrap_or_default(),
        id: f.id.unwrap_or_default(),
        product_arn: f.product_arn.unwrap_or_default(),
        product_name: f.product_name.unwrap_or_default(),
        company_name: f.company_name.unwrap_or_default(),
        generator_id: f.generator_id.unwrap_or_default(),
        aws_account_id: f.aws_account_id.unwrap_or_default(),
        region: f.region.unwrap_or_default(),
        types: f.types.unwrap_or_default(),
        created_at: f.created_at.unwrap_or_default(),
        updated_at: f.updated_at.unwrap_or_default(),
        severity: {
            let s = f
                .severity
                .unwrap_or_else(|| sh::Severity::builder().build());
            severity(s.label.as_ref(), s.original)
        },
        finding_provider_fields: ProviderFields {
            severity: severity(provider_severity.label.as_ref(), provider_severity.original),
            types: provider.types.unwrap_or_default(),
        },
        title: f.title.unwrap_or_default(),
        description: f.description.unwrap_or_default(),
        remediation: Remediation {
            recommendation: Recommendation {
                text: recommendation.text.unwrap_or_default(),
                url: recommendation.url.unwrap_or_default(),
            },
        },
        product_fields: f.product_fields.unwrap_or_default().into_iter().collect(),
        resources: f
            .resources
            .unwrap_or_default()
            .into_iter()
            .map(|r| Resource {
                details: r.details.map(|d| ResourceDetails {
                    aws_iam_user: d.aws_iam_user.map(|u| IamUserDetails {
                        user_id: u.user_id.unwrap_or_default(),
                        user_name: u.user_name.unwrap_or_default(),
                    }),
                    aws_iam_role: d.aws_iam_role.map(|role| IamRoleDetails {
                        role_id: role.role_id.unwrap_or_default(),
                        role_name: role.role_name.unwrap_or_default(),
                    }),
                }),
                kind: r.r#type.unwrap_or_default(),
                id: r.id.unwrap_or_default(),
                partition: r
                    .partition
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                region: r.region.unwrap_or_default(),
            })
            .collect(),
        compliance: AsffCompliance {
            status: compliance
                .status
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            related_requirements: compliance.related_requirements.unwrap_or_default(),
        },
        record_state: f
            .record_state
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| ACTIVE.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::asff;
    use crate::export::checks::{Check, CheckResult, Compliance, Severity, Subject, SubjectKind};
    use crate::export::ExportContext;

    #[tokio::test(start_paused = true)]
    async fn requests_keep_under_the_rate_after_a_burst() {
        let pace = Pace::new(3.0, 6.0);
        let start = tokio::time::Instant::now();
        for _ in 0..6 {
            pace.turn().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(5),
            "the burst goes at once"
        );
        for _ in 0..3 {
            pace.turn().await;
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(990) && elapsed < Duration::from_millis(1100),
            "three more take a second: {elapsed:?}"
        );
    }

    /// What goes out comes back the same: an archive resends a finding as it was read.
    #[test]
    fn a_finding_survives_the_round_trip_through_the_sdk_types() {
        let ctx = ExportContext {
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            at: chrono::DateTime::UNIX_EPOCH,
        };
        for kind in [SubjectKind::User, SubjectKind::Role, SubjectKind::Account] {
            let result = CheckResult {
                check: Check::ConsoleMfa,
                subject: Subject {
                    kind,
                    arn: "arn:aws:iam::123456789012:user/alice".into(),
                    name: "alice".into(),
                    unique_id: "AIDAALICE".into(),
                },
                compliance: Compliance::Failed,
                severity: Severity::Medium,
                state: "non_compliant",
                reasons: vec!["no_mfa"],
                description: "alice has no MFA.".into(),
            };
            let finding = asff::finding(&result, &ctx);
            let sdk = to_sdk_finding(&finding);
            assert_eq!(from_sdk_finding(sdk), finding);
        }
    }
}
