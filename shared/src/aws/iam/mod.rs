//! IAM through aws-sdk-iam: reads ([`IamReader`], [`reads`]) and writes ([`IamWriter`],
//! [`writes`]), every list read a page at a time ([`pages`]).

mod pages;
mod policy_reads;
mod reads;
mod writes;

pub use writes::IamWriter;

use super::credential_report::PollLimits;
use aws_sdk_iam::Client;
use chrono::{DateTime, Utc};

/// Page size for paginated IAM lists (the API's maximum).
const DETAILS_PAGE_SIZE: i32 = 1000;

/// Waits between GetUser attempts while IAM says NoSuchEntity: right after CreateUser, IAM is
/// eventually consistent. Bounded: 3.5 s in all, then the user counts as absent.
const NEW_USER_WAITS: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(500),
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(2),
];

fn no_such_entity<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_iam::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .is_some_and(|e| e.code() == Some("NoSuchEntity"))
}

/// Decodes IAM's URL-encoded policy documents (RFC 3986 percent-encoding); text that is
/// already JSON is returned as it is.
pub fn decode_policy_document(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(value as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads an account through IAM. Holds no write method at all.
#[derive(Debug, Clone)]
pub struct IamReader {
    client: Client,
    poll: PollLimits,
    /// The default version each policy had when last read (shared by clones: one per process,
    /// so a warm Lambda remembers it between events).
    known_defaults: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
}

impl IamReader {
    /// A reader on an IAM client, with the default report polling limits.
    pub fn new(client: Client) -> Self {
        IamReader {
            client,
            poll: PollLimits::default(),
            known_defaults: Default::default(),
        }
    }

    /// The default version `policy_arn` had when last read, if it was.
    fn known_default_version(&self, policy_arn: &str) -> Option<String> {
        let known = self
            .known_defaults
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        known.get(policy_arn).cloned()
    }

    /// Remembers `policy_arn`'s default version.
    fn remember_default_version(&self, policy_arn: &str, version: &str) {
        let mut known = self
            .known_defaults
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        known.insert(policy_arn.to_string(), version.to_string());
    }

    /// The same reader with other report polling limits.
    pub fn with_poll_limits(mut self, poll: PollLimits) -> Self {
        self.poll = poll;
        self
    }
}

/// An SDK timestamp as chrono's.
fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

#[cfg(test)]
mod tests;
