//! What both Lambda functions share, so that each function's `lib.rs` is its handler and
//! nothing else: start-up (JSON logs, settings, AWS clients, once per process), the state a
//! handler runs with, and how a run's failure becomes the Lambda error CloudWatch counts.
//!
//! Built with the crate's `lambda` feature (the CLI does not need the Lambda runtime).

pub mod logs;

use crate::aws::{
    load_config, Adapters, Clients, ConfigOverrides, IamReader, IamWriter, SnsNotifier,
};
use crate::engine::EngineError;
use crate::ports::Ports;
use crate::run_report::{RunFailed, RunReport};
use crate::settings::{RawSettings, Settings};
use lambda_runtime::Diagnostic;
use std::fmt::Display;
use tracing::error;

/// The error type of a run whose writes or notifications failed.
pub const ACTIONS_FAILED: &str = "ActionsFailed";

/// What a handler runs with, built once per process: the settings, the AWS adapters, and the
/// function's own state (`()` when it has none).
pub struct App<S = ()> {
    /// The validated settings.
    pub settings: Settings,
    /// The AWS adapter of every port.
    pub adapters: Adapters,
    /// The function's own state.
    pub state: S,
}

impl<S> App<S> {
    /// Builds the app from validated settings, the function's state and AWS clients.
    pub fn new(settings: Settings, state: S, clients: &Clients) -> Self {
        App {
            settings,
            adapters: Adapters::new(clients),
            state,
        }
    }

    /// The ports of one run: no writer when `dry_run`, no notifier without a topic.
    pub fn ports(&self, dry_run: bool) -> Ports<'_, IamReader, IamWriter, SnsNotifier> {
        self.adapters.ports(&self.settings, dry_run)
    }
}

/// Starts a function: JSON logs, then the settings from the environment and the function's
/// own `state`, then the AWS clients. A bad setting stops the function here, logged with the
/// variable it names, before any invocation is accepted.
pub async fn start<S, E: Display>(
    state: impl FnOnce() -> Result<S, E>,
) -> Result<App<S>, lambda_runtime::Error> {
    logs::init();
    let settings = Settings::parse(&RawSettings::from_env()).map_err(invalid_configuration)?;
    let state = state().map_err(|e| invalid_configuration(e.to_string()))?;
    let config = load_config(&ConfigOverrides::default())
        .await
        .map_err(invalid_configuration)?;
    Ok(App::new(settings, state, &Clients::new(&config)))
}

fn invalid_configuration<E: Display>(e: E) -> E {
    error!(error = %e, "invalid configuration");
    e
}

impl<S> App<S> {
    /// Finishes a run that started at `started`: its findings into Security Hub (with
    /// `SECURITY_HUB`), its metrics as one EMF line on standard output (CloudWatch extracts
    /// them from the log), then [`conclude`].
    pub async fn finish(
        &self,
        mut report: RunReport,
        started: std::time::Instant,
    ) -> Result<RunReport, RunFailed> {
        if self.settings.security_hub {
            // Boxed: Security Hub's finding type is large, and its futures would otherwise sit
            // on the worker thread's stack.
            Box::pin(crate::engine::export_findings(
                &self.adapters.findings_hub,
                &mut report,
                self.settings.security_hub_refresh,
                chrono::Utc::now(),
            ))
            .await;
        }
        let duration = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        // Printed, not logged: the JSON log layer would nest it, and CloudWatch would not
        // find its `_aws` member at the top level.
        println!("{}", crate::export::emf::line(&report, duration));
        conclude(report)
    }
}

/// A finished run's answer: its report, or, when a write or a notification failed, the
/// failure that fails the invocation (after the whole report is logged, so it reaches
/// CloudWatch in full).
pub fn conclude(report: RunReport) -> Result<RunReport, RunFailed> {
    match report.failure() {
        Some(failure) => {
            error!(report = %serde_json::to_string(&report).unwrap_or_default(), "run finished with failures");
            Err(failure)
        }
        None => Ok(report),
    }
}

/// The Lambda error type of a run that could not finish: `InvalidSetting` (a setting wrong
/// for the account read), `ReadFailed.Retryable` (throttling, timeouts), `ReadFailed`.
pub fn engine_error_type(e: &EngineError) -> &'static str {
    match e {
        EngineError::Setting(_) => "InvalidSetting",
        e if e.retryable() => "ReadFailed.Retryable",
        _ => "ReadFailed",
    }
}

/// The Lambda error for `error`, of type `error_type`.
pub fn diagnostic(error_type: &str, error: &impl Display) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_string(),
        error_message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::AwsError;
    use chrono::TimeZone;

    #[test]
    fn engine_errors_name_their_kind() {
        let read = |retryable| {
            EngineError::Read(AwsError {
                operation: "GetCredentialReport",
                code: Some("Throttling".into()),
                message: "slow down".into(),
                retryable,
            })
        };
        assert_eq!(engine_error_type(&read(true)), "ReadFailed.Retryable");
        assert_eq!(engine_error_type(&read(false)), "ReadFailed");
        let setting = crate::settings::Settings::parse(&RawSettings::default()).unwrap_err();
        assert_eq!(
            engine_error_type(&EngineError::Setting(setting)),
            "InvalidSetting"
        );
        let d = diagnostic(ACTIONS_FAILED, &"1 action(s) failed");
        assert_eq!(
            (d.error_type.as_str(), d.error_message.as_str()),
            ("ActionsFailed", "1 action(s) failed")
        );
    }

    #[test]
    fn a_run_with_a_failure_concludes_in_error() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap();
        let clean = RunReport::empty("123456789012", now, false);
        assert!(conclude(clean).is_ok());
        let mut failed = RunReport::empty("123456789012", now, false);
        failed.summary.notifications_failed = 1;
        let failure = conclude(failed).unwrap_err();
        assert_eq!(failure.notifications_failed, 1);
    }
}
