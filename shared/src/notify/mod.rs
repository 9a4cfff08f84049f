//! Notification rendering: subject, plain text, JSON and message attributes. Pure.
//!
//! Each message has a subject under 100 characters (SNS's limit for email), a text body a
//! person reads in a mail client, and a JSON form for machines; subscribers route on the
//! attributes with SNS filter policies.
//!
//! - `summary`: the run summary, and when one is due;
//! - `alert`: what a run announces whatever else it found (tampering, exemptions, failures);
//! - `user_notice`: a user's notice about their own status.

mod alert;
mod summary;
mod user_notice;

pub use alert::{alert, Alert};
pub use summary::{run_severity, run_summary, run_summary_due};
pub use user_notice::{user_event_type, user_notice};

use crate::finding::Finding;

/// The `kind` recorded for a run summary.
pub const RUN_SUMMARY: &str = "run_summary";

/// The `kind` recorded when remembering a notice on the user (its tags) failed.
pub const NOTICE_MEMORY: &str = "notice_memory";

/// The `kind` recorded when remembering the exemptions a summary listed (a tag on the deny
/// policy) failed.
pub const EXEMPTION_MEMORY: &str = "exemption_memory";

/// How many non-compliant users a run summary lists by name. SNS rejects messages over
/// 256 KiB; a first run in a large account can find thousands. The full list is in the run
/// report (the Lambda's response, the CLI's `--format json`), the summary says how many it left out.
pub const MAX_LISTED_USERS: usize = 50;

/// Error and skip texts are quoted up to this many characters in a notification.
const MAX_ERROR_CHARS: usize = 300;

/// "until 2026-07-01T00:00:00Z" or "with no end date".
pub(crate) fn until_words(finding: &Finding) -> String {
    match finding.exempt_until {
        Some(t) => format!(
            "until {}",
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        None => "with no end date".to_string(),
    }
}

/// `text` cut to `max_chars` characters, `...` marking the cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max_chars - 3).collect();
    out.push_str("...");
    out
}

#[cfg(test)]
mod tests;
