//! The read ports on IAM: the whole account, one user live, root (the deny policy's reads are
//! in `policy_reads.rs`).

use super::decode_policy_document;
use super::pages::{collect_pages, each_page};
use super::{no_such_entity, to_chrono, IamReader, DETAILS_PAGE_SIZE, NEW_USER_WAITS};
use crate::aws::credential_report::{self, GenerateAnswer, GetAnswer, RawReport, ReportApi};
use crate::aws::errors::from_sdk;
use crate::iam_state::{
    AuthorizationDetails, IamGroup, IamRole, IamUser, LiveUser, LiveUserState, LocalPolicy,
    RootState,
};
use crate::ports::{AccountReader, AwsError, FetchedReport, TargetedReader};
use aws_sdk_iam::types::{
    AssignmentStatusType, EntityType, PolicyUsageType, ReportStateType, SummaryKeyType,
};
use chrono::{DateTime, Duration, Utc};
use tracing::debug;

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
        let pages = self
            .client
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Group)
            // Roles and the customer managed policies they may carry come in the same pages:
            // no request per role.
            .filter(EntityType::Role)
            .filter(EntityType::LocalManagedPolicy)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut details = AuthorizationDetails::default();
        each_page(pages, |page| {
            for u in page.user_detail_list.unwrap_or_default() {
                details.users.push(IamUser {
                    name: u.user_name.unwrap_or_default(),
                    arn: u.arn.unwrap_or_default(),
                    id: u.user_id.unwrap_or_default(),
                    created: u.create_date.as_ref().and_then(to_chrono),
                    groups: u.group_list.unwrap_or_default(),
                    attached_policy_arns: u
                        .attached_managed_policies
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.policy_arn)
                        .collect(),
                    inline_policies: inline(u.user_policy_list.unwrap_or_default()),
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
                    inline_policies: inline(g.group_policy_list.unwrap_or_default()),
                });
            }
            for r in page.role_detail_list.unwrap_or_default() {
                details.roles.push(IamRole {
                    name: r.role_name.unwrap_or_default(),
                    arn: r.arn.unwrap_or_default(),
                    id: r.role_id.unwrap_or_default(),
                    path: r.path.unwrap_or_else(|| "/".to_string()),
                    trust_policy: r
                        .assume_role_policy_document
                        .map(|d| decode_policy_document(&d))
                        .unwrap_or_default(),
                    attached_policy_arns: r
                        .attached_managed_policies
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.policy_arn)
                        .collect(),
                    inline_policies: inline(r.role_policy_list.unwrap_or_default()),
                });
            }
            for p in page.policies.unwrap_or_default() {
                let default = (p.policy_version_list.unwrap_or_default().into_iter())
                    .find(|v| v.is_default_version)
                    .and_then(|v| v.document);
                if let (Some(arn), Some(document)) = (p.arn, default) {
                    let document = decode_policy_document(&document);
                    details.policies.push(LocalPolicy { arn, document });
                }
            }
        })
        .await
        .map_err(|e| from_sdk("GetAccountAuthorizationDetails", e))?;
        Ok(details)
    }

    async fn root_password_present(&self) -> Result<Option<bool>, AwsError> {
        Ok(TargetedReader::root_state(self).await?.password_present)
    }

    async fn live_user_state(&self, user: &str) -> Result<LiveUserState, AwsError> {
        Ok(self.live_state_and_devices(user).await?.0)
    }

    async fn assigned_virtual_mfa_devices(&self) -> Result<Vec<(String, String)>, AwsError> {
        let pages = self
            .client
            .list_virtual_mfa_devices()
            .assignment_status(AssignmentStatusType::Assigned)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        collect_pages("ListVirtualMFADevices", pages, |page| {
            (page.virtual_mfa_devices.into_iter())
                .filter_map(|d| Some((d.user?.arn, d.serial_number)))
        })
        .await
    }

    async fn mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError> {
        // A user deleted since has no devices to tell them about.
        Ok(self.serials(user).await?.unwrap_or_default())
    }
}

/// Inline policies as `(name, decoded document)`.
fn inline(policies: Vec<aws_sdk_iam::types::PolicyDetail>) -> Vec<(String, String)> {
    (policies.into_iter())
        .map(|p| {
            let document = p.policy_document.unwrap_or_default();
            let name = p.policy_name.unwrap_or_default();
            (name, decode_policy_document(&document))
        })
        .collect()
}

/// What a live read of a user returns beside GetUser: groups, attached policies, MFA state and
/// devices, active access keys.
type UserParts = (Vec<String>, Vec<String>, (LiveUserState, Vec<String>), u8);

impl IamReader {
    /// GetUser; `None` when there is no such user.
    async fn get_user(&self, user: &str) -> Result<Option<aws_sdk_iam::types::User>, AwsError> {
        match self.client.get_user().user_name(user).send().await {
            Ok(out) => Ok(out.user),
            Err(err) if no_such_entity(&err) => Ok(None),
            Err(err) => Err(from_sdk("GetUser", err)),
        }
    }

    /// ListGroupsForUser, ListAttachedUserPolicies, ListMFADevices + GetLoginProfile and
    /// ListAccessKeys, at once.
    async fn user_parts(&self, user: &str) -> Result<UserParts, AwsError> {
        let groups = self
            .client
            .list_groups_for_user()
            .user_name(user)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        let groups = collect_pages("ListGroupsForUser", groups, |page| {
            page.groups.into_iter().map(|g| g.group_name)
        });
        let policies = self
            .client
            .list_attached_user_policies()
            .user_name(user)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        let policies = collect_pages("ListAttachedUserPolicies", policies, |page| {
            let attached = page.attached_policies.unwrap_or_default();
            attached.into_iter().filter_map(|p| p.policy_arn)
        });
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
        tokio::try_join!(groups, policies, self.live_state_and_devices(user), keys)
    }

    /// A user's MFA devices' serials (ListMFADevices); `None` when there is no such user.
    pub async fn serials(&self, user: &str) -> Result<Option<Vec<String>>, AwsError> {
        match self.client.list_mfa_devices().user_name(user).send().await {
            Ok(out) => Ok(Some(
                out.mfa_devices
                    .into_iter()
                    .map(|d| d.serial_number)
                    .collect(),
            )),
            Err(err) if no_such_entity(&err) => Ok(None),
            Err(err) => Err(from_sdk("ListMFADevices", err)),
        }
    }

    /// A user's live state and their MFA devices' serials (ListMFADevices and GetLoginProfile,
    /// at once: one round trip).
    async fn live_state_and_devices(
        &self,
        user: &str,
    ) -> Result<(LiveUserState, Vec<String>), AwsError> {
        let (serials, profile) = tokio::join!(
            self.serials(user),
            self.client.get_login_profile().user_name(user).send()
        );
        let Some(serials) = serials? else {
            let gone = LiveUserState {
                mfa_active: false,
                password_enabled: false,
                exists: false,
            };
            return Ok((gone, Vec::new()));
        };
        let password_enabled = match profile {
            Ok(_) => true,
            Err(err) if no_such_entity(&err) => false,
            Err(err) => return Err(from_sdk("GetLoginProfile", err)),
        };
        let state = LiveUserState {
            mfa_active: !serials.is_empty(),
            password_enabled,
            exists: true,
        };
        Ok((state, serials))
    }
}

impl TargetedReader for IamReader {
    async fn user(&self, user: &str) -> Result<Option<LiveUser>, AwsError> {
        let mut waits = NEW_USER_WAITS.iter();
        loop {
            // Every read at once, GetUser among them: one round trip. For a user that does not
            // exist (yet: IAM is eventually consistent right after CreateUser) the others fail
            // too, and are not looked at.
            let (found, parts) = tokio::join!(self.get_user(user), self.user_parts(user));
            match found? {
                Some(found) => {
                    let (groups, attached_policy_arns, (state, mfa_devices), active_access_keys) =
                        parts?;
                    return Ok(Some(LiveUser {
                        iam: IamUser {
                            created: to_chrono(&found.create_date),
                            name: found.user_name,
                            arn: found.arn,
                            id: found.user_id,
                            groups,
                            attached_policy_arns,
                            inline_policies: Vec::new(),
                            tags: (found.tags.unwrap_or_default().into_iter())
                                .map(|t| (t.key, t.value))
                                .collect(),
                        },
                        state,
                        mfa_devices,
                        active_access_keys,
                    }));
                }
                None => match waits.next() {
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
            }
        }
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
            access_keys_present: map
                .get(&SummaryKeyType::AccountAccessKeysPresent)
                .map(|n| *n > 0),
        })
    }

    async fn groups_with_policy(&self, policy_arn: &str) -> Result<Vec<String>, AwsError> {
        let pages = self
            .client
            .list_entities_for_policy()
            .policy_arn(policy_arn)
            .entity_filter(EntityType::Group)
            .policy_usage_filter(PolicyUsageType::PermissionsPolicy)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        collect_pages("ListEntitiesForPolicy", pages, |page| {
            let groups = page.policy_groups.unwrap_or_default();
            groups.into_iter().filter_map(|g| g.group_name)
        })
        .await
    }

    async fn group_members(&self, group: &str) -> Result<Option<Vec<String>>, AwsError> {
        let pages = self
            .client
            .get_group()
            .group_name(group)
            .max_items(DETAILS_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut members = Vec::new();
        match each_page(pages, |page| {
            members.extend(page.users.into_iter().map(|u| u.user_name))
        })
        .await
        {
            Ok(()) => Ok(Some(members)),
            Err(err) if no_such_entity(&err) => Ok(None),
            Err(err) => Err(from_sdk("GetGroup", err)),
        }
    }
}
