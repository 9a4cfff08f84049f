//! mfa-enforcer's engine: keeps every console IAM user of an AWS account behind MFA.
//!
//! Both Lambdas and the CLI are thin shells around this crate. ARCHITECTURE.md, at the root of
//! the repository, has the whole layout, the way a run goes from its trigger to the last
//! notification, and the rules a change must keep.
//!
//! # Layout
//!
//! The vocabulary and what IAM says, plain data:
//! [`finding`] (status, reason, action, outcome), [`devices`], [`iam_state`], [`tag_keys`],
//! [`recipient`], [`message`], [`settings`].
//!
//! The decision core, pure (values in, values out; no SDK type, no environment, no clock):
//! [`report`] (the credential report parsed), [`snapshot`] (joined with IAM), [`evaluate`]
//! (one finding per user), [`plan`] (actions and the guard), [`notices`] (who is told, when),
//! [`guidance`] (what a user is told to do), [`phishing`] (who must have phishing-resistant MFA), [`event`] (a CloudTrail event, and whom it names),
//! [`policy`] (the deny policy and how it is restored), [`policy_grammar`] (any policy
//! document, read by its grammar), [`roles`] (trust policies judged for MFA, privilege), [`scp`], [`notify`] (rendering),
//! [`run_report`], [`permissions`].
//!
//! The orchestration and its boundary: [`ports`] (the traits), [`engine`] (one file per step,
//! both triggers), [`aws`] (the ports on the AWS SDK), [`in_memory`] (the ports in memory, for
//! tests), and `lambda` (the functions' start-up and errors; feature `lambda`).

/// Declares an enum of the vocabulary: the words of the JSON report, notifications, tags and
/// logs. Every variant's name comes from one derive, in serde's snake_case and strum's alike
/// (`Display`, `FromStr`, `&'static str`, iteration in declaration order), and `as_str` gives
/// it; `shared/tests/vocabulary.rs` round-trips every variant. Defined before the modules, so
/// that each of them can use it without an import.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            strum::IntoStaticStr,
            strum::Display,
            strum::EnumString,
            strum::EnumIter,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        $vis enum $name { $($body)* }

        impl $name {
            /// The snake_case name used in JSON, tables, tags and notifications.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}

pub mod aws;
pub mod devices;
pub mod engine;
pub mod evaluate;
pub mod event;
pub mod export;
pub mod finding;
pub mod guidance;
pub mod iam_state;
#[cfg(any(test, feature = "in-memory"))]
pub mod in_memory;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod message;
pub mod notices;
pub mod notify;
pub mod org;
pub mod permissions;
pub mod phishing;
pub mod plan;
pub mod policy;
pub mod policy_grammar;
pub mod ports;
pub mod recipient;
pub mod report;
pub mod roles;
pub mod run_report;
pub mod runtime;
pub mod scp;
pub mod settings;
pub mod snapshot;
pub mod tag_keys;
