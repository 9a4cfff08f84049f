//! The deny policy's reads on IAM: its default version (GetPolicy and GetPolicyVersion in one
//! round trip when the default is the one seen last), every version, one version's document.

use super::{decode_policy_document, to_chrono, IamReader};
use crate::aws::errors::from_sdk;
use crate::ports::{AwsError, DefaultPolicyVersion, PolicyReader, PolicyVersion};

impl PolicyReader for IamReader {
    async fn default_policy_version(
        &self,
        policy_arn: &str,
    ) -> Result<DefaultPolicyVersion, AwsError> {
        // GetPolicy names the default; ListPolicyVersions' flag is not relied on (moto drops
        // it after a SetDefaultPolicyVersion to the version that already is the default).
        // The version seen last is read beside it: a deny policy's default rarely changes, so
        // both answers usually arrive in one round trip; a wrong guess costs one more read.
        let guess = self.known_default_version(policy_arn);
        let get_policy = async {
            self.client
                .get_policy()
                .policy_arn(policy_arn)
                .send()
                .await
                .map_err(|e| from_sdk("GetPolicy", e))
        };
        let guessed = async {
            match &guess {
                Some(version) => Some(self.policy_version_document(policy_arn, version).await),
                None => None,
            }
        };
        let (policy, guessed) = tokio::join!(get_policy, guessed);
        let policy = policy?
            .policy
            .unwrap_or_else(|| aws_sdk_iam::types::Policy::builder().build());
        let tags = (policy.tags.unwrap_or_default().into_iter())
            .map(|t| (t.key, t.value))
            .collect();
        let id = policy.default_version_id.ok_or_else(|| AwsError {
            operation: "GetPolicy",
            code: None,
            message: format!("{policy_arn} has no default version"),
            retryable: false,
        })?;
        let document = match guessed {
            Some(Ok(document)) if guess.as_deref() == Some(id.as_str()) => document,
            _ => self.policy_version_document(policy_arn, &id).await?,
        };
        self.remember_default_version(policy_arn, &id);
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
