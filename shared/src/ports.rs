//! The traits the engine needs (IAM reads, IAM writes, notifications), in our own types.
//!
//! Reads and writes are separate traits: a dry run is handed no writer at all, so it cannot
//! write by construction. Implementations for AWS live in [`crate::aws`]; unit tests of the
//! engine use small fakes.

use crate::export::asff::AsffFinding;
use crate::iam_state::{AuthorizationDetails, LiveUser, LiveUserState, RootState};
use crate::message::Notification;
use chrono::{DateTime, Duration, Utc};
use std::future::Future;
use thiserror::Error;

/// A credential report as fetched, still CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedReport {
    /// The CSV content, already decoded.
    pub content: Vec<u8>,
    /// When AWS says it was generated.
    pub generated_at: DateTime<Utc>,
    /// Whether this run started its generation (then it is fresh whatever its stamp says).
    pub generated_by_this_run: bool,
}

impl FetchedReport {
    /// How old the report's content is at `now`: zero for a report this run generated.
    pub fn age(&self, now: DateTime<Utc>) -> Duration {
        if self.generated_by_this_run {
            Duration::zero()
        } else {
            now.signed_duration_since(self.generated_at)
                .max(Duration::zero())
        }
    }
}

/// One version of a managed policy, as ListPolicyVersions lists it.
///
/// Which version is the default comes from [`PolicyReader::default_policy_version`] (GetPolicy)
/// only: the listing's own flag is not relied on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// `v1`, `v2`...
    pub id: String,
    /// When it was created.
    pub created: Option<DateTime<Utc>>,
}

/// A managed policy's default version and its document, and the policy's tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultPolicyVersion {
    /// The default version's ID (`v1`).
    pub id: String,
    /// Its document, decoded JSON text.
    pub document: String,
    /// The policy's tags (GetPolicy returns them with the default version's ID).
    pub tags: Vec<(String, String)>,
}

/// An AWS call that failed, in our terms.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{operation} failed: {message}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct AwsError {
    /// The API operation, e.g. `AttachUserPolicy`.
    pub operation: &'static str,
    /// The AWS error code, when the service sent one (`Throttling`, `AccessDenied`, ...).
    pub code: Option<String>,
    /// A human-readable message.
    pub message: String,
    /// Whether trying again later may succeed (throttling, timeouts, 5xx).
    pub retryable: bool,
}

/// Reads of the account. Every method names the IAM permission it needs in
/// [`crate::permissions`].
pub trait AccountReader: Sync {
    /// The credential report, reused when younger than `max_age`, generated otherwise.
    fn credential_report(
        &self,
        max_age: Duration,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<FetchedReport, AwsError>> + Send;

    /// Every user and group with memberships, attached managed policies and tags.
    fn authorization_details(
        &self,
    ) -> impl Future<Output = Result<AuthorizationDetails, AwsError>> + Send;

    /// Whether the root user has a console password (account summary), when AWS says.
    fn root_password_present(&self) -> impl Future<Output = Result<Option<bool>, AwsError>> + Send;

    /// A user's MFA and password state, read live.
    fn live_user_state(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<LiveUserState, AwsError>> + Send;

    /// Every virtual MFA device assigned to someone, as `(user ARN, serial)`
    /// (ListVirtualMFADevices, assigned ones, every page): one account-wide read.
    fn assigned_virtual_mfa_devices(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, String)>, AwsError>> + Send;

    /// The serial numbers of a user's MFA devices, every kind (ListMFADevices).
    fn mfa_devices(&self, user: &str)
        -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
}

/// Reads of a few named things, for event runs: never a whole-account read.
pub trait TargetedReader: Sync {
    /// A user read live; `None` when there is no such user (after a short, bounded wait:
    /// IAM is eventually consistent right after CreateUser).
    fn user(&self, user: &str) -> impl Future<Output = Result<Option<LiveUser>, AwsError>> + Send;

    /// The groups a managed policy is attached to.
    fn groups_with_policy(
        &self,
        policy_arn: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;

    /// The root user's MFA and password, from the account summary: an event about root's own
    /// MFA names no IAM user to read.
    fn root_state(&self) -> impl Future<Output = Result<RootState, AwsError>> + Send;

    /// The members of a group; `None` when the group does not exist.
    fn group_members(
        &self,
        group: &str,
    ) -> impl Future<Output = Result<Option<Vec<String>>, AwsError>> + Send;
}

/// Reads of a managed policy's versions: the deny policy is checked before any run relies on it.
pub trait PolicyReader: Sync {
    /// The default version of a managed policy and its document (GetPolicy, then
    /// GetPolicyVersion).
    fn default_policy_version(
        &self,
        policy_arn: &str,
    ) -> impl Future<Output = Result<DefaultPolicyVersion, AwsError>> + Send;

    /// Every version of a managed policy (ListPolicyVersions).
    fn policy_versions(
        &self,
        policy_arn: &str,
    ) -> impl Future<Output = Result<Vec<PolicyVersion>, AwsError>> + Send;

    /// The document of one version of a managed policy, decoded JSON text.
    fn policy_version_document(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// Writes that bring the deny policy back to a canonical document. There is no way to write a
/// document: the enforcer only chooses among versions that exist, and deletes the others.
pub trait PolicyWriter: Sync {
    /// Makes an existing version of a managed policy its default.
    fn set_default_policy_version(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Sets tags on a managed policy (the deny policy's `mfa-enforcer:exempt-digest`: which
    /// exemptions the security team has last been told about).
    fn tag_policy(
        &self,
        policy_arn: &str,
        tags: &[(&'static str, String)],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Deletes a non-default version of a managed policy; a version already gone (deleted by
    /// a concurrent run) counts as deleted.
    fn delete_policy_version(
        &self,
        policy_arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Remediating writes to IAM. Both are idempotent in IAM itself.
pub trait RemediationWriter: Sync {
    /// Attaches a managed policy to a user.
    fn attach_user_policy(
        &self,
        user: &str,
        policy_arn: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Adds a user to a group.
    fn add_user_to_group(
        &self,
        user: &str,
        group: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Sets tags on a user (the notice memory, `mfa-enforcer:notified-*`).
    fn tag_user(
        &self,
        user: &str,
        tags: &[(&'static str, String)],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Publishing notifications.
pub trait Notifier: Sync {
    /// Publishes one message to a topic and returns its message ID.
    fn publish(
        &self,
        topic_arn: &str,
        message: &Notification,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;

    /// Publishes many messages, in as few requests as the transport allows; one result per
    /// message, in order. By default, one `publish` each.
    fn publish_batch(
        &self,
        topic_arn: &str,
        messages: &[Notification],
    ) -> impl Future<Output = Vec<Result<String, AwsError>>> + Send {
        async move {
            let mut results = Vec::with_capacity(messages.len());
            for message in messages {
                results.push(self.publish(topic_arn, message).await);
            }
            results
        }
    }
}

/// Security Hub, where a run's findings go (`SECURITY_HUB=true`).
pub trait FindingsHub: Sync {
    /// The Region findings are imported to.
    fn region(&self) -> &str;

    /// Our `ACTIVE` findings in `product_arn`: all of them, or only those with `ids`; and how
    /// many requests that took (GetFindings, 100 a page).
    fn active_findings(
        &self,
        product_arn: &str,
        ids: Option<&[String]>,
    ) -> impl Future<Output = Result<(Vec<AsffFinding>, usize), AwsError>> + Send;

    /// Imports one request's findings (at most 100, 6 MB: [`crate::export::hub::batches`]);
    /// returns those Security Hub refused, as `(ID, why)`.
    fn import(
        &self,
        findings: &[AsffFinding],
    ) -> impl Future<Output = Result<Vec<(String, String)>, AwsError>> + Send;
}

/// The parts a run talks to. `writer: None` makes a dry run; `notifier: None` sends nothing.
pub struct Ports<'a, R, W, N> {
    /// IAM reads.
    pub reader: &'a R,
    /// IAM writes; absent for a dry run.
    pub writer: Option<&'a W>,
    /// Notifications; absent when no topic is configured.
    pub notifier: Option<&'a N>,
}

impl<'a, R, W, N> Ports<'a, R, W, N> {
    /// The ports of one run: no writer for a dry run (it cannot write by construction), no
    /// notifier when no topic is configured. The Lambdas and the CLI build their runs here.
    pub fn new(
        reader: &'a R,
        writer: &'a W,
        notifier: &'a N,
        settings: &crate::settings::Settings,
        dry_run: bool,
    ) -> Self {
        Ports {
            reader,
            writer: (!dry_run).then_some(writer),
            notifier: settings.topic_arn.is_some().then_some(notifier),
        }
    }
}
