//! IAM reads ([`IamReader`]) and writes ([`IamWriter`]) on aws-sdk-iam.

use super::credential_report::{self, GenerateAnswer, GetAnswer, PollLimits, RawReport, ReportApi};
use super::errors::from_sdk;
use crate::ports::{AccountReader, AwsError, FetchedReport, LiveUserState, RemediationWriter};
use crate::snapshot::{AuthorizationDetails, IamGroup, IamUser};
use aws_sdk_iam::types::{EntityType, ReportStateType, SummaryKeyType};
use aws_sdk_iam::Client;
use chrono::{DateTime, Duration, Utc};

/// Page size for GetAccountAuthorizationDetails (the API's maximum).
const DETAILS_PAGE_SIZE: i32 = 1000;

/// Reads an account through IAM. Holds no write method at all.
#[derive(Debug, Clone)]
pub struct IamReader {
    client: Client,
    poll: PollLimits,
}

impl IamReader {
    /// A reader on an IAM client, with the default report polling limits.
    pub fn new(client: Client) -> Self {
        IamReader {
            client,
            poll: PollLimits::default(),
        }
    }

    /// The same reader with other report polling limits.
    pub fn with_poll_limits(mut self, poll: PollLimits) -> Self {
        self.poll = poll;
        self
    }
}

fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

impl ReportApi for IamReader {
    async fn get(&self) -> Result<GetAnswer, AwsError> {
        match self.client.get_credential_report().send().await {
            Ok(out) => {
                let content = out.content.map(|b| b.into_inner()).unwrap_or_default();
                let generated_at =
                    out.generated_time
                        .as_ref()
                        .and_then(to_chrono)
                        .ok_or_else(|| AwsError {
                            operation: "GetCredentialReport",
                            code: None,
                            message: "the report has no GeneratedTime".to_string(),
                            retryable: false,
                        })?;
                Ok(GetAnswer::Report(RawReport {
                    content,
                    generated_at,
                }))
            }
            Err(err) => match err.as_service_error() {
                Some(e) if e.is_credential_report_not_present_exception() => {
                    Ok(GetAnswer::NotPresent)
                }
                Some(e) if e.is_credential_report_expired_exception() => Ok(GetAnswer::Expired),
                Some(e) if e.is_credential_report_not_ready_exception() => {
                    Ok(GetAnswer::InProgress)
                }
                _ => Err(from_sdk("GetCredentialReport", err)),
            },
        }
    }

    async fn generate(&self) -> Result<GenerateAnswer, AwsError> {
        match self.client.generate_credential_report().send().await {
            Ok(out) => Ok(match out.state {
                Some(ReportStateType::Complete) => GenerateAnswer::Complete,
                Some(ReportStateType::Started) => GenerateAnswer::Started,
                _ => GenerateAnswer::InProgress,
            }),
            Err(err) => match err.as_service_error() {
                Some(e) if e.is_limit_exceeded_exception() => Ok(GenerateAnswer::LimitExceeded),
                _ => Err(from_sdk("GenerateCredentialReport", err)),
            },
        }
    }
}

impl AccountReader for IamReader {
    async fn credential_report(
        &self,
        max_age: Duration,
        now: DateTime<Utc>,
    ) -> Result<FetchedReport, AwsError> {
        credential_report::fetch(self, self.poll, max_age, now).await
    }

    async fn authorization_details(&self) -> Result<AuthorizationDetails, AwsError> {
        let mut pages = self
            .client
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Group)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut details = AuthorizationDetails::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk("GetAccountAuthorizationDetails", e))?;
            for u in page.user_detail_list.unwrap_or_default() {
                details.users.push(IamUser {
                    name: u.user_name.unwrap_or_default(),
                    arn: u.arn.unwrap_or_default(),
                    created: u.create_date.as_ref().and_then(to_chrono),
                    groups: u.group_list.unwrap_or_default(),
                    attached_policy_arns: u
                        .attached_managed_policies
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.policy_arn)
                        .collect(),
                    tags: u
                        .tags
                        .unwrap_or_default()
                        .into_iter()
                        .map(|t| (t.key, t.value))
                        .collect(),
                });
            }
            for g in page.group_detail_list.unwrap_or_default() {
                details.groups.push(IamGroup {
                    name: g.group_name.unwrap_or_default(),
                    attached_policy_arns: g
                        .attached_managed_policies
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.policy_arn)
                        .collect(),
                });
            }
        }
        Ok(details)
    }

    async fn root_password_present(&self) -> Result<Option<bool>, AwsError> {
        let out = self
            .client
            .get_account_summary()
            .send()
            .await
            .map_err(|e| from_sdk("GetAccountSummary", e))?;
        Ok(out
            .summary_map
            .and_then(|m| m.get(&SummaryKeyType::AccountPasswordPresent).copied())
            .map(|n| n > 0))
    }

    async fn live_user_state(&self, user: &str) -> Result<LiveUserState, AwsError> {
        let devices = match self.client.list_mfa_devices().user_name(user).send().await {
            Ok(out) => out.mfa_devices,
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                return Ok(LiveUserState {
                    mfa_active: false,
                    password_enabled: false,
                    exists: false,
                });
            }
            Err(err) => return Err(from_sdk("ListMFADevices", err)),
        };
        let password_enabled = match self.client.get_login_profile().user_name(user).send().await {
            Ok(_) => true,
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                false
            }
            Err(err) => return Err(from_sdk("GetLoginProfile", err)),
        };
        Ok(LiveUserState {
            mfa_active: !devices.is_empty(),
            password_enabled,
            exists: true,
        })
    }
}

/// Writes remediations through IAM. Built only for runs that enforce.
#[derive(Debug, Clone)]
pub struct IamWriter {
    client: Client,
}

impl IamWriter {
    /// A writer on an IAM client.
    pub fn new(client: Client) -> Self {
        IamWriter { client }
    }
}

impl RemediationWriter for IamWriter {
    async fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.client
            .attach_user_policy()
            .user_name(user)
            .policy_arn(policy_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("AttachUserPolicy", e))
    }

    async fn add_user_to_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        self.client
            .add_user_to_group()
            .user_name(user)
            .group_name(group)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("AddUserToGroup", e))
    }
}
