//! The only code that touches aws-sdk-*: the ports implemented, errors mapped, retries configured.

pub mod credential_report;
mod errors;
mod iam;
#[cfg(feature = "org")]
pub mod org;
pub mod retry;
mod security_hub;
mod sns;

pub use iam::{decode_policy_document, IamReader, IamWriter};
pub use security_hub::SecurityHubImporter;
pub use sns::{message_body, SnsNotifier, MAX_MESSAGE_BYTES};

pub use retry::{retry_config, MAX_ATTEMPTS};

use crate::ports::Ports;
use crate::settings::{Settings, SettingsError};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The longest one attempt of a call may take before it is abandoned (and retried). Without
/// it, a connection that never answers would hold a Lambda until its own timeout. Generous:
/// a 1,000-user page of GetAccountAuthorizationDetails or a 100,000-user report is seconds.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The longest a connection may take to open.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the AWS configuration comes from, beyond the standard chain (environment, profiles,
/// `AWS_ENDPOINT_URL`, container and instance credentials).
#[derive(Debug, Clone, Default)]
pub struct ConfigOverrides {
    /// A named profile (`--profile`), instead of `AWS_PROFILE`.
    pub profile: Option<String>,
    /// A region (`--region`), instead of `AWS_REGION`.
    pub region: Option<String>,
}

/// Loads the shared AWS configuration once per process. Fails on a bad `AWS_RETRY_MODE` or
/// `AWS_MAX_ATTEMPTS` (see [`retry`]), naming it.
pub async fn load_config(overrides: &ConfigOverrides) -> Result<SdkConfig, SettingsError> {
    let retry = retry_config(|name| std::env::var(name).ok())?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        );
    if let Some(profile) = &overrides.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &overrides.region {
        loader = loader.region(Region::new(region.clone()));
    }
    Ok(loader.load().await)
}

/// The clients a run needs, built once from one configuration.
#[derive(Debug, Clone)]
pub struct Clients {
    /// IAM (a global service).
    pub iam: aws_sdk_iam::Client,
    /// SNS (regional: the topic's region is the configured one).
    pub sns: aws_sdk_sns::Client,
    /// Security Hub (regional: findings go to the configured Region).
    pub security_hub: aws_sdk_securityhub::Client,
}

impl Clients {
    /// Builds the clients.
    pub fn new(config: &SdkConfig) -> Self {
        Clients {
            iam: aws_sdk_iam::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            security_hub: aws_sdk_securityhub::Client::new(config),
        }
    }

    /// The read side.
    pub fn reader(&self) -> IamReader {
        IamReader::new(self.iam.clone())
    }

    /// The write side, for runs that enforce.
    pub fn writer(&self) -> IamWriter {
        IamWriter::new(self.iam.clone())
    }

    /// The notifier.
    pub fn notifier(&self) -> SnsNotifier {
        SnsNotifier::new(self.sns.clone())
    }
}

/// The AWS adapter of every port, built once per process from one set of clients.
#[derive(Debug, Clone)]
pub struct Adapters {
    /// IAM reads.
    pub reader: IamReader,
    /// IAM writes.
    pub writer: IamWriter,
    /// SNS.
    pub notifier: SnsNotifier,
    /// Security Hub.
    pub findings_hub: SecurityHubImporter,
}

impl Adapters {
    /// Builds the adapters.
    pub fn new(clients: &Clients) -> Adapters {
        Adapters {
            reader: clients.reader(),
            writer: clients.writer(),
            notifier: clients.notifier(),
            findings_hub: SecurityHubImporter::new(clients.security_hub.clone()),
        }
    }

    /// The ports of one run: see [`Ports::new`].
    pub fn ports(
        &self,
        settings: &Settings,
        dry_run: bool,
    ) -> Ports<'_, IamReader, IamWriter, SnsNotifier> {
        Ports::new(
            &self.reader,
            &self.writer,
            &self.notifier,
            settings,
            dry_run,
        )
    }
}
