//! IAM reads ([`IamReader`]) and writes ([`IamWriter`]) on aws-sdk-iam.

use super::credential_report::{self, GenerateAnswer, GetAnswer, PollLimits, RawReport, ReportApi};
use super::errors::from_sdk;
use crate::iam_state::{
    AuthorizationDetails, IamGroup, IamUser, LiveUser, LiveUserState, RootState,
};
use crate::ports::{
    AccountReader, AwsError, DefaultPolicyVersion, FetchedReport, PolicyReader, PolicyVersion,
    PolicyWriter, RemediationWriter, TargetedReader,
};
use aws_sdk_iam::types::{
    AssignmentStatusType, EntityType, PolicyUsageType, ReportStateType, SummaryKeyType,
};
use aws_sdk_iam::Client;
use chrono::{DateTime, Duration, Utc};
use tracing::debug;

/// Page size for paginated IAM lists (the API's maximum).
const DETAILS_PAGE_SIZE: i32 = 1000;

/// Waits between GetUser attempts while IAM says NoSuchEntity: right after CreateUser, IAM is
/// eventually consistent. Bounded: 3.5 s in all, then the user counts as absent.
const NEW_USER_WAITS: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(500),
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(2),
];

fn no_such_entity<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_iam::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .is_some_and(|e| e.code() == Some("NoSuchEntity"))
}

/// Decodes IAM's URL-encoded policy documents (RFC 3986 percent-encoding); text that is
/// already JSON is returned as it is.
pub fn decode_policy_document(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(value as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

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
        Ok(self.live_state_and_devices(user).await?.0)
    }

    async fn assigned_virtual_mfa_devices(&self) -> Result<Vec<(String, String)>, AwsError> {
        let mut pages = self
            .client
            .list_virtual_mfa_devices()
            .assignment_status(AssignmentStatusType::Assigned)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut devices = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk("ListVirtualMFADevices", e))?;
            devices.extend(
                page.virtual_mfa_devices
                    .into_iter()
                    .filter_map(|d| Some((d.user?.arn, d.serial_number))),
            );
        }
        Ok(devices)
    }

    async fn mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let out = self
            .client
            .list_mfa_devices()
            .user_name(user)
            .send()
            .await
            .map_err(|e| from_sdk("ListMFADevices", e))?;
        Ok(out
            .mfa_devices
            .into_iter()
            .map(|d| d.serial_number)
            .collect())
    }
}

impl IamReader {
    /// A user's live state and their MFA devices' serials (ListMFADevices, GetLoginProfile).
    async fn live_state_and_devices(
        &self,
        user: &str,
    ) -> Result<(LiveUserState, Vec<String>), AwsError> {
        let devices = match self.client.list_mfa_devices().user_name(user).send().await {
            Ok(out) => out.mfa_devices,
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                let gone = LiveUserState {
                    mfa_active: false,
                    password_enabled: false,
                    exists: false,
                };
                return Ok((gone, Vec::new()));
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
        let state = LiveUserState {
            mfa_active: !devices.is_empty(),
            password_enabled,
            exists: true,
        };
        Ok((
            state,
            devices.into_iter().map(|d| d.serial_number).collect(),
        ))
    }
}

impl TargetedReader for IamReader {
    async fn user(&self, user: &str) -> Result<Option<LiveUser>, AwsError> {
        let mut waits = NEW_USER_WAITS.iter();
        let found = loop {
            match self.client.get_user().user_name(user).send().await {
                Ok(out) => break out.user,
                Err(err) if no_such_entity(&err) => match waits.next() {
                    Some(wait) => {
                        debug!(
                            user,
                            wait_ms = wait.as_millis() as u64,
                            "GetUser: no such user yet; waiting"
                        );
                        tokio::time::sleep(*wait).await;
                    }
                    None => return Ok(None),
                },
                Err(err) => return Err(from_sdk("GetUser", err)),
            }
        };
        let Some(found) = found else {
            return Ok(None);
        };
        let groups = async {
            let mut pages = self
                .client
                .list_groups_for_user()
                .user_name(user)
                .max_items(DETAILS_PAGE_SIZE)
                .into_paginator()
                .send();
            let mut names = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| from_sdk("ListGroupsForUser", e))?;
                names.extend(page.groups.into_iter().map(|g| g.group_name));
            }
            Ok::<_, AwsError>(names)
        };
        let policies = async {
            let mut pages = self
                .client
                .list_attached_user_policies()
                .user_name(user)
                .max_items(DETAILS_PAGE_SIZE)
                .into_paginator()
                .send();
            let mut arns = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| from_sdk("ListAttachedUserPolicies", e))?;
                arns.extend(
                    page.attached_policies
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.policy_arn),
                );
            }
            Ok::<_, AwsError>(arns)
        };
        let keys = async {
            let out = self
                .client
                .list_access_keys()
                .user_name(user)
                .send()
                .await
                .map_err(|e| from_sdk("ListAccessKeys", e))?;
            let active = out
                .access_key_metadata
                .iter()
                .filter(|k| k.status == Some(aws_sdk_iam::types::StatusType::Active))
                .count();
            Ok::<_, AwsError>(u8::try_from(active).unwrap_or(u8::MAX))
        };
        let (groups, attached_policy_arns, (state, mfa_devices), active_access_keys) =
            tokio::try_join!(groups, policies, self.live_state_and_devices(user), keys)?;
        Ok(Some(LiveUser {
            iam: IamUser {
                created: to_chrono(&found.create_date),
                name: found.user_name,
                arn: found.arn,
                groups,
                attached_policy_arns,
                tags: found
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| (t.key, t.value))
                    .collect(),
            },
            state,
            mfa_devices,
            active_access_keys,
        }))
    }

    async fn root_state(&self) -> Result<RootState, AwsError> {
        let out = self
            .client
            .get_account_summary()
            .send()
            .await
            .map_err(|e| from_sdk("GetAccountSummary", e))?;
        let map = out.summary_map.unwrap_or_default();
        Ok(RootState {
            mfa_enabled: map
                .get(&SummaryKeyType::AccountMfaEnabled)
                .is_some_and(|n| *n > 0),
            password_present: map
                .get(&SummaryKeyType::AccountPasswordPresent)
                .map(|n| *n > 0),
        })
    }

    async fn groups_with_policy(&self, policy_arn: &str) -> Result<Vec<String>, AwsError> {
        let mut pages = self
            .client
            .list_entities_for_policy()
            .policy_arn(policy_arn)
            .entity_filter(EntityType::Group)
            .policy_usage_filter(PolicyUsageType::PermissionsPolicy)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut groups = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk("ListEntitiesForPolicy", e))?;
            groups.extend(
                page.policy_groups
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|g| g.group_name),
            );
        }
        Ok(groups)
    }

    async fn group_members(&self, group: &str) -> Result<Option<Vec<String>>, AwsError> {
        let mut pages = self
            .client
            .get_group()
            .group_name(group)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut members = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => members.extend(page.users.into_iter().map(|u| u.user_name)),
                Err(err) if no_such_entity(&err) => return Ok(None),
                Err(err) => return Err(from_sdk("GetGroup", err)),
            }
        }
        Ok(Some(members))
    }
}

impl PolicyReader for IamReader {
    async fn default_policy_version(
        &self,
        policy_arn: &str,
    ) -> Result<DefaultPolicyVersion, AwsError> {
        // GetPolicy names the default; ListPolicyVersions' flag is not relied on (moto drops
        // it after a SetDefaultPolicyVersion to the version that already is the default).
        let policy = self
            .client
            .get_policy()
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| from_sdk("GetPolicy", e))?;
        let policy = policy
            .policy
            .unwrap_or_else(|| aws_sdk_iam::types::Policy::builder().build());
        let tags = policy
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect();
        let id = policy.default_version_id.ok_or_else(|| AwsError {
            operation: "GetPolicy",
            code: None,
            message: format!("{policy_arn} has no default version"),
            retryable: false,
        })?;
        let document = self.policy_version_document(policy_arn, &id).await?;
        Ok(DefaultPolicyVersion { id, document, tags })
    }

    async fn policy_versions(&self, policy_arn: &str) -> Result<Vec<PolicyVersion>, AwsError> {
        // IAM keeps at most five versions: one page.
        let listed = self
            .client
            .list_policy_versions()
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| from_sdk("ListPolicyVersions", e))?;
        Ok(listed
            .versions
            .unwrap_or_default()
            .into_iter()
            .map(|v| PolicyVersion {
                id: v.version_id.unwrap_or_default(),
                created: v.create_date.as_ref().and_then(to_chrono),
            })
            .collect())
    }

    async fn policy_version_document(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> Result<String, AwsError> {
        let version = self
            .client
            .get_policy_version()
            .policy_arn(policy_arn)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| from_sdk("GetPolicyVersion", e))?;
        Ok(version
            .policy_version
            .and_then(|v| v.document)
            .map(|d| decode_policy_document(&d))
            .unwrap_or_default())
    }
}

fn tag(
    key: &str,
    value: &str,
    operation: &'static str,
) -> Result<aws_sdk_iam::types::Tag, AwsError> {
    aws_sdk_iam::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| AwsError {
            operation,
            code: None,
            message: format!("tag {key}: {e}"),
            retryable: false,
        })
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

    async fn tag_user(&self, user: &str, tags: &[(&'static str, String)]) -> Result<(), AwsError> {
        let mut request = self.client.tag_user().user_name(user);
        for (key, value) in tags {
            request = request.tags(tag(key, value, "TagUser")?);
        }
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("TagUser", e))
    }
}

impl PolicyWriter for IamWriter {
    async fn set_default_policy_version(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> Result<(), AwsError> {
        self.client
            .set_default_policy_version()
            .policy_arn(policy_arn)
            .version_id(version_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("SetDefaultPolicyVersion", e))
    }

    async fn tag_policy(
        &self,
        policy_arn: &str,
        tags: &[(&'static str, String)],
    ) -> Result<(), AwsError> {
        let mut request = self.client.tag_policy().policy_arn(policy_arn);
        for (key, value) in tags {
            request = request.tags(tag(key, value, "TagPolicy")?);
        }
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("TagPolicy", e))
    }

    async fn delete_policy_version(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> Result<(), AwsError> {
        match self
            .client
            .delete_policy_version()
            .policy_arn(policy_arn)
            .version_id(version_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if no_such_entity(&err) => Ok(()),
            Err(err) => Err(from_sdk("DeletePolicyVersion", err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_decoded_when_url_encoded() {
        let json = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Resource":"*"}]}"#;
        assert_eq!(decode_policy_document(json), json);
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        assert_eq!(decode_policy_document(encoded), json);
        // A stray percent sign is kept, not an error.
        assert_eq!(decode_policy_document("100%25 %zz"), "100% %zz");
    }

    /// The report states moto never produces, answered by aws-smithy-mocks to the real
    /// adapter: the SDK's error shapes must map to the protocol's states.
    mod report_states {
        use super::*;
        use crate::aws::MAX_ATTEMPTS;
        use aws_config::retry::RetryConfig;
        use aws_sdk_iam::config::{Credentials, Region};
        use aws_sdk_iam::operation::generate_credential_report::{
            GenerateCredentialReportError, GenerateCredentialReportOutput,
        };
        use aws_sdk_iam::operation::get_credential_report::{
            GetCredentialReportError, GetCredentialReportOutput,
        };
        use aws_sdk_iam::types::error::{
            CredentialReportExpiredException, CredentialReportNotPresentException,
            CredentialReportNotReadyException, LimitExceededException,
        };
        use aws_sdk_iam::types::ReportFormatType;
        use aws_smithy_mocks::{
            create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode,
        };
        use aws_smithy_types::Blob;

        const CSV: &str = "user,arn\n";

        fn client(rules: &[&Rule]) -> Client {
            let interceptor = rules.iter().fold(
                MockResponseInterceptor::new().rule_mode(RuleMode::Sequential),
                |i, r| i.with_rule(r),
            );
            let config = aws_sdk_iam::Config::builder()
                .behavior_version_latest()
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("k", "s", None, None, "mocks"))
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(MAX_ATTEMPTS)
                        .with_initial_backoff(std::time::Duration::from_millis(1)),
                )
                .http_client(create_mock_http_client())
                .interceptor(interceptor)
                .build();
            Client::from_conf(config)
        }

        fn fast(client: Client) -> IamReader {
            IamReader::new(client).with_poll_limits(PollLimits {
                first_delay: std::time::Duration::from_millis(1),
                max_delay: std::time::Duration::from_millis(4),
                max_wait: std::time::Duration::from_millis(200),
            })
        }

        fn now() -> DateTime<Utc> {
            DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
        }

        fn report(minutes_old: i64) -> Rule {
            let at = now() - Duration::minutes(minutes_old);
            mock!(Client::get_credential_report).then_output(move || {
                GetCredentialReportOutput::builder()
                    .content(Blob::new(CSV))
                    .report_format(ReportFormatType::TextCsv)
                    .generated_time(aws_smithy_types::DateTime::from_secs(at.timestamp()))
                    .build()
            })
        }

        fn get_error(make: fn() -> GetCredentialReportError) -> Rule {
            mock!(Client::get_credential_report).then_error(make)
        }

        fn generate(state: ReportStateType) -> Rule {
            mock!(Client::generate_credential_report).then_output(move || {
                GenerateCredentialReportOutput::builder()
                    .state(state.clone())
                    .build()
            })
        }

        fn limit_exceeded() -> Rule {
            mock!(Client::generate_credential_report).then_error(|| {
                GenerateCredentialReportError::LimitExceededException(
                    LimitExceededException::builder()
                        .message("slow down")
                        .build(),
                )
            })
        }

        fn expired() -> GetCredentialReportError {
            GetCredentialReportError::CredentialReportExpiredException(
                CredentialReportExpiredException::builder()
                    .message("old")
                    .build(),
            )
        }

        fn in_progress() -> GetCredentialReportError {
            GetCredentialReportError::CredentialReportNotReadyException(
                CredentialReportNotReadyException::builder()
                    .message("busy")
                    .build(),
            )
        }

        fn not_present() -> GetCredentialReportError {
            GetCredentialReportError::CredentialReportNotPresentException(
                CredentialReportNotPresentException::builder()
                    .message("none")
                    .build(),
            )
        }

        #[tokio::test]
        async fn expired_then_limit_exceeded_then_in_progress_ends_with_a_fresh_report() {
            let rules = [
                get_error(expired),
                limit_exceeded(),
                generate(ReportStateType::Started),
                generate(ReportStateType::Inprogress),
                generate(ReportStateType::Complete),
                get_error(in_progress),
                report(0),
            ];
            let reader = fast(client(&rules.iter().collect::<Vec<_>>()));
            let fetched = reader
                .credential_report(Duration::minutes(240), now())
                .await
                .unwrap();
            assert!(fetched.generated_by_this_run);
            assert_eq!(fetched.content, CSV.as_bytes());
            for rule in &rules {
                assert_eq!(rule.num_calls(), 1, "every state answered exactly once");
            }
        }

        #[tokio::test]
        async fn a_stale_report_aws_will_not_regenerate_is_used_as_it_is() {
            let rules = [report(300), generate(ReportStateType::Complete)];
            let reader = fast(client(&rules.iter().collect::<Vec<_>>()));
            let fetched = reader
                .credential_report(Duration::minutes(240), now())
                .await
                .unwrap();
            assert!(!fetched.generated_by_this_run);
            assert_eq!(fetched.age(now()), Duration::minutes(300));
        }

        #[tokio::test]
        async fn a_report_that_never_becomes_ready_gives_a_retryable_error_that_says_so() {
            let rules = [
                get_error(not_present),
                generate(ReportStateType::Started),
                mock!(Client::generate_credential_report)
                    .sequence()
                    .output(|| {
                        GenerateCredentialReportOutput::builder()
                            .state(ReportStateType::Inprogress)
                            .build()
                    })
                    .repeatedly()
                    .build(),
            ];
            let reader = fast(client(&rules.iter().collect::<Vec<_>>()));
            let err = reader
                .credential_report(Duration::minutes(240), now())
                .await
                .unwrap_err();
            assert_eq!(err.code.as_deref(), Some("ReportNotReady"));
            assert!(err.retryable);
            assert!(
                err.message.contains("last state: INPROGRESS"),
                "{}",
                err.message
            );
        }

        #[tokio::test]
        async fn throttling_is_retried_by_the_sdk_and_access_denied_is_not() {
            let throttled = mock!(Client::get_credential_report)
                .sequence()
                .http_status(400, Some(throttling_body()))
                .times(2)
                .output(|| {
                    GetCredentialReportOutput::builder()
                        .content(Blob::new(CSV))
                        .generated_time(aws_smithy_types::DateTime::from_secs(now().timestamp()))
                        .build()
                })
                .build();
            let reader = fast(client(&[&throttled]));
            let fetched = reader
                .credential_report(Duration::minutes(240), now())
                .await
                .unwrap();
            assert_eq!(fetched.content, CSV.as_bytes());
            assert_eq!(throttled.num_calls(), 3);

            let always = mock!(Client::get_credential_report)
                .sequence()
                .http_status(400, Some(throttling_body()))
                .repeatedly()
                .build();
            let err = fast(client(&[&always]))
                .credential_report(Duration::minutes(240), now())
                .await
                .unwrap_err();
            assert_eq!(err.code.as_deref(), Some("Throttling"));
            assert!(err.retryable, "a throttled run is worth running again");
            assert_eq!(always.num_calls(), MAX_ATTEMPTS as usize);

            let denied = mock!(Client::get_credential_report)
                .sequence()
                .http_status(403, Some(error_body("AccessDenied", "no")))
                .repeatedly()
                .build();
            let err = fast(client(&[&denied]))
                .credential_report(Duration::minutes(240), now())
                .await
                .unwrap_err();
            assert_eq!(err.code.as_deref(), Some("AccessDenied"));
            assert!(!err.retryable);
            assert_eq!(denied.num_calls(), 1, "access denied is not retried");
        }

        fn error_body(code: &str, message: &str) -> String {
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
            )
        }

        fn throttling_body() -> String {
            error_body("Throttling", "Rate exceeded")
        }
    }
}
