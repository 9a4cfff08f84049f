//! SNS in memory: every message published is kept; publishing can be made to fail.

use crate::message::Notification;
use crate::ports::{AwsError, Notifier};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// A topic in memory.
#[derive(Default)]
pub struct InMemorySns {
    sent: Mutex<Vec<Notification>>,
    failing: AtomicBool,
}

impl InMemorySns {
    /// A topic that accepts every message.
    pub fn new() -> InMemorySns {
        InMemorySns::default()
    }

    /// From now on every publish fails (`AuthorizationError`), the message kept anyway.
    pub fn fail(&self) {
        self.failing.store(true, Ordering::SeqCst);
    }

    /// Every message published (or attempted), in order.
    pub fn sent(&self) -> Vec<Notification> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The `event_type` of every message, in order.
    pub fn event_types(&self) -> Vec<String> {
        self.sent()
            .iter()
            .map(|n| n.attributes.get("event_type").cloned().unwrap_or_default())
            .collect()
    }
}

impl Notifier for InMemorySns {
    async fn publish(&self, _topic_arn: &str, message: &Notification) -> Result<String, AwsError> {
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sent.push(message.clone());
        if self.failing.load(Ordering::SeqCst) {
            Err(super::error("Publish", "AuthorizationError"))
        } else {
            Ok(format!("message-{}", sent.len()))
        }
    }
}
