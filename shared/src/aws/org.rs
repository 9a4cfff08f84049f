//! The organization audit's AWS side: the organization listed (Organizations), and each
//! account audited through a role assumed in it (STS), as a dry run. Feature `org`: the
//! Lambdas never link it.

use super::errors::from_sdk;
use super::{Adapters, Clients};
use crate::engine;
use crate::org::walk::AccountAuditor;
use crate::org::{OrgAccount, Organization};
use crate::ports::AwsError;
use crate::run_report::RunReport;
use crate::settings::{RawSettings, Settings};
use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use std::collections::HashMap;

/// Lists the organization: its ID and management account (DescribeOrganization), every
/// account with its status (ListAccounts, every page), and each account's OUs from the root
/// (ListRoots, then ListOrganizationalUnitsForParent and ListAccountsForParent down the tree:
/// two requests per OU, not one per account).
pub async fn list_organization(config: &SdkConfig) -> Result<Organization, AwsError> {
    let client = aws_sdk_organizations::Client::new(config);
    let described = client
        .describe_organization()
        .send()
        .await
        .map_err(|e| from_sdk("DescribeOrganization", e))?;
    let organization = described
        .organization
        .unwrap_or_else(|| aws_sdk_organizations::types::Organization::builder().build());
    let mut accounts = Vec::new();
    let mut pages = client.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk("ListAccounts", e))?;
        for a in page.accounts.unwrap_or_default() {
            let status = a
                .state
                .map(|s| s.as_str().to_string())
                .or_else(|| a.status.map(|s| s.as_str().to_string()))
                .unwrap_or_default();
            accounts.push(OrgAccount {
                id: a.id.unwrap_or_default(),
                name: a.name.unwrap_or_default(),
                status,
                ou_ids: Vec::new(),
                ou_path: String::new(),
            });
        }
    }
    let (places, ous) = tree(&client).await?;
    for account in &mut accounts {
        if let Some((ids, names)) = places.get(&account.id) {
            account.ou_ids = ids.clone();
            account.ou_path = names.join("/");
        }
    }
    // arn:PARTITION:organizations::MANAGEMENT:organization/o-...
    let partition = (organization.arn.as_deref())
        .and_then(|arn| arn.split(':').nth(1))
        .filter(|p| p.starts_with("aws"))
        .unwrap_or("aws")
        .to_string();
    Ok(Organization {
        id: organization.id.unwrap_or_default(),
        management_account_id: organization.master_account_id.unwrap_or_default(),
        partition,
        ous,
        accounts,
    })
}

/// Where each account sits: account ID to (OU IDs from the root, their names); and every
/// root and OU.
type Places = HashMap<String, (Vec<String>, Vec<String>)>;

async fn tree(client: &aws_sdk_organizations::Client) -> Result<(Places, Vec<String>), AwsError> {
    let roots = client
        .list_roots()
        .send()
        .await
        .map_err(|e| from_sdk("ListRoots", e))?;
    let mut places = HashMap::new();
    let mut ous = Vec::new();
    let mut pending: Vec<(String, Vec<String>, Vec<String>)> = roots
        .roots
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            let id = r.id?;
            let name = r.name.unwrap_or_else(|| "Root".to_string());
            Some((id.clone(), vec![id], vec![name]))
        })
        .collect();
    while let Some((parent, ids, names)) = pending.pop() {
        ous.push(parent.clone());
        let mut ous = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = ous.next().await {
            let page = page.map_err(|e| from_sdk("ListOrganizationalUnitsForParent", e))?;
            for ou in page.organizational_units.unwrap_or_default() {
                let Some(id) = ou.id else { continue };
                let (mut child_ids, mut child_names) = (ids.clone(), names.clone());
                child_ids.push(id.clone());
                child_names.push(ou.name.unwrap_or_else(|| id.clone()));
                pending.push((id, child_ids, child_names));
            }
        }
        let mut children = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = children.next().await {
            let page = page.map_err(|e| from_sdk("ListAccountsForParent", e))?;
            for a in page.accounts.unwrap_or_default() {
                if let Some(id) = a.id {
                    places.insert(id, (ids.clone(), names.clone()));
                }
            }
        }
    }
    Ok((places, ous))
}

/// Audits an account of the organization through a role assumed in it.
pub struct OrgAuditor {
    /// The caller's configuration (the management or delegated administrator account).
    pub base: SdkConfig,
    /// The role to assume in each account (`--role-name`).
    pub role_name: String,
    /// `--external-id`, when the role asks for one.
    pub external_id: Option<String>,
    /// This run's ID, in every session name (`mfa-enforcer-audit-RUN`): CloudTrail in each
    /// account shows which run read it.
    pub run_id: String,
    /// How long the assumed credentials last (900 to 3600 s): as long as an account may take.
    pub session_seconds: i32,
    /// The partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// The settings every account is audited with, but `DENY_POLICY_ARN`, which is built per
    /// account from `deny_policy_name`.
    pub settings: RawSettings,
    /// The deny policy's name in every account (`--deny-policy-name`).
    pub deny_policy_name: String,
}

impl OrgAuditor {
    /// The settings for one account: its deny policy by name, a dry run, no topic.
    pub fn settings_for(&self, account_id: &str) -> Result<Settings, String> {
        let raw = RawSettings {
            deny_policy_arn: Some(format!(
                "arn:{}:iam::{account_id}:policy/{}",
                self.partition, self.deny_policy_name
            )),
            dry_run: Some("true".to_string()),
            topic_arn: None,
            ..self.settings.clone()
        };
        Settings::parse(&raw).map_err(|e| e.to_string())
    }

    async fn assume(&self, account_id: &str) -> Result<SdkConfig, AwsError> {
        let sts = aws_sdk_sts::Client::new(&self.base);
        let role_arn = format!(
            "arn:{}:iam::{account_id}:role/{}",
            self.partition, self.role_name
        );
        let mut request = sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(format!("mfa-enforcer-audit-{}", self.run_id))
            .duration_seconds(self.session_seconds);
        if let Some(external_id) = &self.external_id {
            request = request.external_id(external_id);
        }
        let out = request
            .send()
            .await
            .map_err(|e| from_sdk("AssumeRole", e))?;
        let c = out.credentials.ok_or_else(|| AwsError {
            operation: "AssumeRole",
            code: None,
            message: format!("{role_arn}: no credentials returned"),
            retryable: false,
        })?;
        let credentials = Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            None,
            "mfa-enforcer-audit",
        );
        Ok(self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build())
    }
}

impl AccountAuditor for OrgAuditor {
    async fn audit(&self, account: &OrgAccount) -> Result<RunReport, String> {
        let settings = self.settings_for(&account.id)?;
        let config = self
            .assume(&account.id)
            .await
            .map_err(|e| format!("{e} (role {} in {})", self.role_name, account.id))?;
        let adapters = Adapters::new(&Clients::new(&config));
        let ports = adapters.ports(&settings, true);
        engine::audit_account(ports, &settings, chrono::Utc::now())
            .await
            .map_err(|e| e.to_string())
    }
}
