//! Notifications through SNS: one message per notification, text for email, JSON for machines.

use super::errors::from_sdk;
use crate::notify::Notification;
use crate::ports::{AwsError, Notifier};
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;
use serde_json::json;

/// Publishes to SNS topics.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
}

impl SnsNotifier {
    /// A notifier on an SNS client.
    pub fn new(client: Client) -> Self {
        SnsNotifier { client }
    }
}

/// The SNS `Message` for `MessageStructure: json`: the text for email and SMS-like protocols,
/// the JSON document for SQS, Lambda and HTTP(S) subscribers.
pub fn message_body(n: &Notification) -> String {
    let machine = n.json.to_string();
    json!({
        "default": n.text,
        "email": n.text,
        "email-json": machine,
        "sqs": machine,
        "lambda": machine,
        "http": machine,
        "https": machine,
        "firehose": machine,
    })
    .to_string()
}

impl Notifier for SnsNotifier {
    async fn publish(&self, topic_arn: &str, n: &Notification) -> Result<String, AwsError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(topic_arn)
            .subject(&n.subject)
            .message_structure("json")
            .message(message_body(n));
        for (key, value) in &n.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| AwsError {
                    operation: "Publish",
                    code: None,
                    message: format!("message attribute {key}: {e}"),
                    retryable: false,
                })?;
            request = request.message_attributes(key, attribute);
        }
        let out = request.send().await.map_err(|e| from_sdk("Publish", e))?;
        Ok(out.message_id.unwrap_or_default())
    }
}
