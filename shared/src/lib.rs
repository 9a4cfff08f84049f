//! mfa-enforcer's engine: keeps every console IAM user of an AWS account behind MFA.
//!
//! Both Lambdas and the CLI are thin shells around this crate.
//!
//! # Layout
//!
//! Data flows trigger -> gather -> decide -> act:
//!
//! - [`report`]: the credential report CSV -> typed rows (root row, `N/A`, `not_supported`...);
//!   its `plain` reader splits quote-free lines a word at a time, the `csv` crate reads the rest.
//! - [`snapshot`]: [`snapshot::AccountSnapshot`], users joined with groups, policies and tags;
//!   [`snapshot::report_users`] keeps the few facts per user a run needs, straight from the CSV.
//! - [`evaluate`]: `evaluate(&snapshot, &settings, now) -> findings` (pure).
//! - [`event`]: CloudTrail IAM events -> whom to look at again (pure).
//! - [`plan`]: findings -> actions, and the blast-radius guard (pure).
//! - [`finding`]: the vocabulary (status, reason, action, outcome) as JSON spells it.
//! - [`devices`]: MFA devices by kind (virtual, passkey or security key, hardware TOTP) and
//!   access keys (pure).
//! - [`policy`]: the deny-without-MFA policy document, the one source of truth, every released
//!   document, and (`policy::restore`) how a changed deny policy is repaired without writing one.
//! - [`deny_check`]: the deny policy read before any run relies on it, and repaired.
//! - [`scp`]: the service control policy that prevents tampering up front.
//! - [`notices`]: who is told about their own status, and when reminded (pure).
//! - [`guidance`]: what a user is told to do, with their real devices and keys (pure).
//! - [`notify`]: notification rendering (pure).
//! - [`run_report`]: the JSON report of a run and its verdict.
//! - [`settings`]: settings from the environment or flags, validated once.
//! - [`permissions`]: the IAM permission each read and action needs.
//! - [`ports`]: the traits the engine needs, in our own types.
//! - [`aws`]: the only module that touches aws-sdk-*.
//! - [`lambda_logs`]: JSON logs for the Lambdas.
//! - [`engine`]: the one orchestration path (whole account), and the tail every run shares.
//! - [`event_run`]: the event path: read live what an event names, then the same tail.
//!
//! The pure modules take values and return values: no SDK types, no environment, no clock.

pub mod aws;
pub mod devices;
pub mod engine;
pub mod evaluate;
pub mod event;
pub mod finding;
pub mod guidance;
pub mod iam_state;
pub mod in_memory;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod message;
pub mod notices;
pub mod notify;
pub mod permissions;
pub mod plan;
pub mod policy;
pub mod ports;
pub mod recipient;
pub mod report;
pub mod run_report;
pub mod scp;
pub mod settings;
pub mod snapshot;
pub mod tag_keys;
