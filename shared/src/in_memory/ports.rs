//! Every port of [`crate::ports`] on [`InMemoryIam`], each call named by the IAM API the AWS
//! adapter makes for it.

use super::{InMemoryIam, Report, State, Version};
use crate::iam_state::{AuthorizationDetails, LiveUser, LiveUserState, RootState};
use crate::ports::{
    AccountReader, AwsError, DefaultPolicyVersion, FetchedReport, PolicyReader, PolicyVersion,
    PolicyWriter, RemediationWriter, TargetedReader,
};
use chrono::{DateTime, Duration, Utc};

const NO_SUCH_ENTITY: &str = "NoSuchEntity";

impl AccountReader for InMemoryIam {
    async fn credential_report(
        &self,
        max_age: Duration,
        now: DateTime<Utc>,
    ) -> Result<FetchedReport, AwsError> {
        let mut state = self.read("GetCredentialReport", "")?;
        if let Some(report) = state
            .report
            .as_ref()
            .filter(|r| now.signed_duration_since(r.generated_at) <= max_age)
        {
            return Ok(FetchedReport {
                content: report.content.clone().into_bytes(),
                generated_at: report.generated_at,
                generated_by_this_run: false,
            });
        }
        let report = Report {
            content: state.render_report(),
            generated_at: now,
        };
        state.report = Some(report.clone());
        Ok(FetchedReport {
            content: report.content.into_bytes(),
            generated_at: now,
            generated_by_this_run: true,
        })
    }

    async fn authorization_details(&self) -> Result<AuthorizationDetails, AwsError> {
        Ok(self
            .read("GetAccountAuthorizationDetails", "")?
            .authorization_details())
    }

    async fn root_password_present(&self) -> Result<Option<bool>, AwsError> {
        Ok(self.read("GetAccountSummary", "")?.root.password_present)
    }

    async fn live_user_state(&self, user: &str) -> Result<LiveUserState, AwsError> {
        Ok(self.read("ListMFADevices", user)?.live_state(user))
    }

    async fn assigned_virtual_mfa_devices(&self) -> Result<Vec<(String, String)>, AwsError> {
        Ok(self
            .read("ListVirtualMFADevices", "")?
            .assigned_virtual_devices())
    }

    async fn mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let state = self.read("ListMFADevices", user)?;
        match state.users.get(user) {
            Some(u) => Ok(u.mfa_devices.clone()),
            None => Err(super::error("ListMFADevices", NO_SUCH_ENTITY)),
        }
    }
}

impl TargetedReader for InMemoryIam {
    async fn user(&self, user: &str) -> Result<Option<LiveUser>, AwsError> {
        Ok(self.read("GetUser", user)?.live_user(user))
    }

    async fn groups_with_policy(&self, policy_arn: &str) -> Result<Vec<String>, AwsError> {
        let state = self.read("ListEntitiesForPolicy", policy_arn)?;
        Ok(state
            .groups
            .iter()
            .filter(|(_, g)| g.policies.iter().any(|p| p == policy_arn))
            .map(|(name, _)| name.clone())
            .collect())
    }

    async fn root_state(&self) -> Result<RootState, AwsError> {
        Ok(self.read("GetAccountSummary", "")?.root)
    }

    async fn group_members(&self, group: &str) -> Result<Option<Vec<String>>, AwsError> {
        Ok(self.read("GetGroup", group)?.members(group))
    }
}

impl PolicyReader for InMemoryIam {
    async fn default_policy_version(
        &self,
        policy_arn: &str,
    ) -> Result<DefaultPolicyVersion, AwsError> {
        let state = self.read("GetPolicy", policy_arn)?;
        let policy = state
            .policies
            .get(policy_arn)
            .ok_or_else(|| super::error("GetPolicy", NO_SUCH_ENTITY))?;
        Ok(DefaultPolicyVersion {
            id: policy.default.clone(),
            document: policy
                .document(&policy.default)
                .unwrap_or_default()
                .to_string(),
            tags: policy.tags.clone(),
        })
    }

    async fn policy_versions(&self, policy_arn: &str) -> Result<Vec<PolicyVersion>, AwsError> {
        let state = self.read("ListPolicyVersions", policy_arn)?;
        let policy = state
            .policies
            .get(policy_arn)
            .ok_or_else(|| super::error("ListPolicyVersions", NO_SUCH_ENTITY))?;
        Ok(policy.versions.iter().map(Version::listed).collect())
    }

    async fn policy_version_document(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> Result<String, AwsError> {
        let state = self.read("GetPolicyVersion", version_id)?;
        state
            .policies
            .get(policy_arn)
            .and_then(|p| p.document(version_id))
            .map(str::to_string)
            .ok_or_else(|| super::error("GetPolicyVersion", NO_SUCH_ENTITY))
    }
}

impl RemediationWriter for InMemoryIam {
    async fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.write("AttachUserPolicy", user, |s| {
            if !s.policies.contains_key(policy_arn) {
                return Err(NO_SUCH_ENTITY);
            }
            let user = s.users.get_mut(user).ok_or(NO_SUCH_ENTITY)?;
            if !user.policies.iter().any(|p| p == policy_arn) {
                user.policies.push(policy_arn.to_string());
            }
            Ok(())
        })
    }

    async fn add_user_to_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        self.write("AddUserToGroup", user, |s| {
            if !s.groups.contains_key(group) {
                return Err(NO_SUCH_ENTITY);
            }
            let user = s.users.get_mut(user).ok_or(NO_SUCH_ENTITY)?;
            if !user.groups.iter().any(|g| g == group) {
                user.groups.push(group.to_string());
            }
            Ok(())
        })
    }

    async fn tag_user(&self, user: &str, tags: &[(&'static str, String)]) -> Result<(), AwsError> {
        self.write("TagUser", user, |s| {
            let user = s.users.get_mut(user).ok_or(NO_SUCH_ENTITY)?;
            for (key, value) in tags {
                user.tags.insert(*key, value.clone());
            }
            Ok(())
        })
    }
}

impl PolicyWriter for InMemoryIam {
    async fn set_default_policy_version(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> Result<(), AwsError> {
        self.write("SetDefaultPolicyVersion", version_id, |s| {
            let policy = s.policies.get_mut(policy_arn).ok_or(NO_SUCH_ENTITY)?;
            if policy.document(version_id).is_none() {
                return Err(NO_SUCH_ENTITY);
            }
            policy.default = version_id.to_string();
            Ok(())
        })
    }

    async fn tag_policy(
        &self,
        policy_arn: &str,
        tags: &[(&'static str, String)],
    ) -> Result<(), AwsError> {
        self.write("TagPolicy", policy_arn, |s| {
            let policy = s.policies.get_mut(policy_arn).ok_or(NO_SUCH_ENTITY)?;
            for (key, value) in tags {
                policy.tags.retain(|(k, _)| k != key);
                policy.tags.push((key.to_string(), value.clone()));
            }
            Ok(())
        })
    }

    async fn delete_policy_version(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> Result<(), AwsError> {
        self.write("DeletePolicyVersion", version_id, |s| {
            let policy = s.policies.get_mut(policy_arn).ok_or(NO_SUCH_ENTITY)?;
            if policy.default == version_id {
                return Err("DeleteConflict");
            }
            let before = policy.versions.len();
            policy.versions.retain(|v| v.id != version_id);
            if policy.versions.len() == before {
                return Err(NO_SUCH_ENTITY);
            }
            Ok(())
        })
    }
}

impl InMemoryIam {
    /// Generates the credential report now (`at`), as IAM would: runs within the report's
    /// maximum age are served this one, whatever changes after.
    pub fn generate_report(&self, at: DateTime<Utc>) {
        self.change(|s: &mut State| {
            s.report = Some(Report {
                content: s.render_report(),
                generated_at: at,
            });
        });
    }
}
