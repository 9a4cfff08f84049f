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

/// SNS rejects a `Publish` whose message is larger than 256 KiB.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The SNS `Message` for `MessageStructure: json`: the text for email, the JSON document for
/// every other protocol (SQS, Lambda, HTTP(S), Firehose, email-json). Each protocol named here
/// is one more copy counted against SNS's 256 KiB limit, so the JSON goes in `default` once.
pub fn message_body(n: &Notification) -> String {
    json!({
        "default": n.json.to_string(),
        "email": n.text,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Action, ActionKind, Finding, FindingFacts, Outcome, Reason, Status};
    use crate::notify::{run_summary, MAX_LISTED_USERS};
    use crate::run_report::{RunReport, Summary};

    /// A first run in a large account: thousands of non-compliant users with the longest names,
    /// paths and error texts IAM allows.
    fn huge_failed_run(users: usize) -> RunReport {
        let findings: Vec<Finding> = (0..users)
            .map(|i| {
                let name = format!("{i:0>64}");
                Finding {
                    arn: format!(
                        "arn:aws:iam::123456789012:user/{}/{name}",
                        "p\"ath".repeat(100)
                    ),
                    user: name,
                    status: Status::NonCompliant,
                    reasons: vec![Reason::NoMfa, Reason::OutsideEnforcementGroup],
                    mfa_active: false,
                    password_enabled: Some(true),
                    groups: vec![],
                    actions: vec![Action {
                        kind: ActionKind::AttachDenyPolicy,
                        target: "arn:aws:iam::123456789012:policy/mfa-enforcer-deny".into(),
                        outcome: Outcome::Failed,
                        error: Some("\"quoted\" and \\escaped\\ ".repeat(500)),
                        detail: None,
                    }],
                    facts: FindingFacts::default(),
                }
            })
            .collect();
        RunReport {
            account_id: "123456789012".into(),
            generated_at: chrono::DateTime::UNIX_EPOCH,
            report_generated_at: None,
            dry_run: false,
            summary: Summary::count(&findings, None),
            findings,
            notifications: vec![],
            event: None,
            deny_policy: None,
        }
    }

    #[test]
    fn a_summary_of_thousands_of_users_fits_in_one_sns_message() {
        let n = run_summary(&huge_failed_run(5_000));
        let body = message_body(&n);
        let attributes: usize = n.attributes.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(
            body.len() + n.subject.len() + attributes < MAX_MESSAGE_BYTES,
            "{} bytes",
            body.len()
        );
        assert_eq!(
            n.json["non_compliant"].as_array().map(Vec::len),
            Some(MAX_LISTED_USERS)
        );
        assert_eq!(n.json["non_compliant_not_listed"], 5_000 - MAX_LISTED_USERS);
        assert_eq!(n.json["summary"]["non_compliant"], 5_000);
        assert!(n.text.contains("and 4950 more, not listed"), "{}", n.text);
    }

    #[test]
    fn email_gets_the_text_and_every_other_protocol_the_json() {
        let n = run_summary(&huge_failed_run(1));
        let body: serde_json::Value = serde_json::from_str(&message_body(&n)).unwrap();
        assert_eq!(body["email"], n.text.as_str());
        let machine: serde_json::Value =
            serde_json::from_str(body["default"].as_str().unwrap()).unwrap();
        assert_eq!(machine, n.json);
        assert_eq!(machine["non_compliant_not_listed"], 0);
    }
}
