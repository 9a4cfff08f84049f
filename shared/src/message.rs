//! A rendered message, ready for any transport: the one type the renderers produce and the
//! notifier publishes. Depends on nothing else of the crate.

use serde_json::Value;
use std::collections::BTreeMap;

/// SNS rejects subjects of 100 characters or more.
pub const MAX_SUBJECT_CHARS: usize = 99;

/// A rendered message.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The subject line (at most [`MAX_SUBJECT_CHARS`]).
    pub subject: String,
    /// The body for people (email).
    pub text: String,
    /// The body for machines (SQS, Lambda, HTTP subscribers).
    pub json: Value,
    /// SNS message attributes: `event_type`, `severity`, `account_id`.
    pub attributes: BTreeMap<String, String>,
}
