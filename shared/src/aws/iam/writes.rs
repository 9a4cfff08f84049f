//! The write ports on IAM: remediations, and the deny policy's repair and tags.

use super::no_such_entity;
use crate::aws::errors::from_sdk;
use crate::ports::{AwsError, PolicyWriter, RemediationWriter};
use aws_sdk_iam::Client;

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
