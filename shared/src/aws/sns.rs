//! Notifications through SNS: one message per notification, text for email, JSON for machines.

use super::errors::from_sdk;
use crate::message::Notification;
use crate::ports::{AwsError, Notifier};
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sns::Client;
use futures_util::stream::{self, StreamExt};
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

/// PublishBatch requests in flight at once: 50 messages. SNS's publish quota is per account and
/// Region, from hundreds to tens of thousands of messages a second
/// (<https://docs.aws.amazon.com/general/latest/gr/sns.html>); a run's notices are one burst
/// of at most a few thousand, and a throttled batch is retried by the SDK like any call.
const BATCHES_AT_ONCE: usize = 5;

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

/// PublishBatch takes at most this many messages per request.
pub const MAX_BATCH_ENTRIES: usize = 10;

/// The bytes a message counts for against SNS's limits: body, subject and attributes.
fn message_size(n: &Notification) -> usize {
    message_body(n).len()
        + n.subject.len()
        + n.attributes
            .iter()
            .map(|(k, v)| k.len() + v.len() + "String".len())
            .sum::<usize>()
}

/// Splits messages into PublishBatch requests: at most 10 each, and at most 256 KiB in all
/// per request (SNS's limit for the whole batch). Returns index ranges, in order.
pub fn batches(messages: &[Notification]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, m) in messages.iter().enumerate() {
        let size = message_size(m);
        if i > start && (i - start == MAX_BATCH_ENTRIES || bytes + size > MAX_MESSAGE_BYTES) {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(start..messages.len());
    }
    out
}

fn attribute(
    key: &str,
    value: &str,
    operation: &'static str,
) -> Result<MessageAttributeValue, AwsError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| AwsError {
            operation,
            code: None,
            message: format!("message attribute {key}: {e}"),
            retryable: false,
        })
}

impl SnsNotifier {
    async fn publish_one_batch(
        &self,
        topic_arn: &str,
        messages: &[Notification],
    ) -> Result<Vec<Result<String, AwsError>>, AwsError> {
        let invalid = |message: String| AwsError {
            operation: "PublishBatch",
            code: None,
            message,
            retryable: false,
        };
        let mut request = self.client.publish_batch().topic_arn(topic_arn);
        for (i, n) in messages.iter().enumerate() {
            let mut entry = PublishBatchRequestEntry::builder()
                .id(i.to_string())
                .subject(&n.subject)
                .message_structure("json")
                .message(message_body(n));
            for (key, value) in &n.attributes {
                entry = entry.message_attributes(key, attribute(key, value, "PublishBatch")?);
            }
            let entry = entry.build().map_err(|e| invalid(e.to_string()))?;
            request = request.publish_batch_request_entries(entry);
        }
        let out = request
            .send()
            .await
            .map_err(|e| from_sdk("PublishBatch", e))?;
        let mut results: Vec<Result<String, AwsError>> = (0..messages.len())
            .map(|_| Err(invalid("SNS did not report on this entry".to_string())))
            .collect();
        for ok in out.successful.unwrap_or_default() {
            let slot = ok.id.as_deref().and_then(|id| id.parse::<usize>().ok());
            if let Some(slot) = slot.and_then(|i| results.get_mut(i)) {
                *slot = Ok(ok.message_id.unwrap_or_default());
            }
        }
        for failed in out.failed.into_iter().flatten() {
            if let Some(slot) = failed
                .id
                .parse::<usize>()
                .ok()
                .and_then(|i| results.get_mut(i))
            {
                *slot = Err(AwsError {
                    operation: "PublishBatch",
                    code: Some(failed.code),
                    message: failed.message.unwrap_or_default(),
                    retryable: !failed.sender_fault,
                });
            }
        }
        Ok(results)
    }
}

impl Notifier for SnsNotifier {
    async fn publish_batch(
        &self,
        topic_arn: &str,
        messages: &[Notification],
    ) -> Vec<Result<String, AwsError>> {
        // The batches go out BATCHES_AT_ONCE at a time, answers kept in order: under real
        // latency, ten batches one after another are ten round trips, five at a time two.
        let answers: Vec<Vec<Result<String, AwsError>>> = stream::iter(batches(messages))
            .map(|range| async move {
                let chunk = &messages[range];
                // A single message goes as a plain Publish: the same cost, the simpler call.
                if let [one] = chunk {
                    return vec![self.publish(topic_arn, one).await];
                }
                match self.publish_one_batch(topic_arn, chunk).await {
                    Ok(chunk_results) => chunk_results,
                    Err(e) => chunk.iter().map(|_| Err(e.clone())).collect(),
                }
            })
            .buffered(BATCHES_AT_ONCE)
            .collect()
            .await;
        answers.into_iter().flatten().collect()
    }

    async fn publish(&self, topic_arn: &str, n: &Notification) -> Result<String, AwsError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(topic_arn)
            .subject(&n.subject)
            .message_structure("json")
            .message(message_body(n));
        for (key, value) in &n.attributes {
            request = request.message_attributes(key, attribute(key, value, "Publish")?);
        }
        let out = request.send().await.map_err(|e| from_sdk("Publish", e))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Action, ActionKind, Finding, FindingFacts, Outcome, Reason, Status};
    use crate::message::Notification;
    use crate::notify::{run_summary, MAX_LISTED_USERS};
    use crate::run_report::{RunReport, Summary};

    /// A first run in a large account: thousands of non-compliant users with the longest names,
    /// paths and error texts IAM allows.
    fn huge_failed_run(users: usize) -> RunReport {
        let findings: Vec<Finding> = (0..users)
            .map(|i| {
                let name = format!("{i:0>64}");
                Finding {
                    user_id: None,
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
                    exempt_until: None,
                    mfa_devices: vec![],
                    access_keys: Default::default(),
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
            roles: None,
            notifications: vec![],
            event: None,
            deny_policy: None,
            enforcement_group_lacks_deny_policy: None,
            security_hub: None,
            exemptions_changed: false,
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
    fn batches_hold_ten_messages_and_never_more_than_the_size_limit() {
        let small = run_summary(&huge_failed_run(1));
        let big = run_summary(&huge_failed_run(5_000));
        let sizes = |messages: &[Notification]| -> Vec<usize> {
            batches(messages).into_iter().map(|r| r.len()).collect()
        };
        assert_eq!(sizes(&vec![small.clone(); 25]), [10, 10, 5]);
        assert_eq!(sizes(&[]), Vec::<usize>::new());
        let mixed = vec![big.clone(), big.clone(), big, small];
        let ranges = batches(&mixed);
        assert!(ranges.len() >= 2, "{ranges:?}");
        assert_eq!(ranges.iter().map(|r| r.len()).sum::<usize>(), 4);
        for r in ranges {
            let total: usize = mixed[r].iter().map(message_size).sum();
            assert!(total <= MAX_MESSAGE_BYTES, "{total}");
        }
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
