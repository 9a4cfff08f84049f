//! The scheduled-audit handler: a Scheduled Event or a manual payload in, the JSON report out.
//!
//! Accepted payloads:
//! - an EventBridge "Scheduled Event" (`source` `aws.events`): enforces unless `DRY_RUN`;
//! - a manual invoke `{"dry_run": true|false}` (`{}` follows `DRY_RUN`).
//!
//! The handler returns the JSON report, or an error when any write or notification failed
//! (so CloudWatch counts it), when the account could not be read, or when the payload is not
//! one of the above.

use chrono::Utc;
use lambda_runtime::{Diagnostic, LambdaEvent};
use mfa_enforcer::engine::{self, EngineError};
use mfa_enforcer::lambda::{self, ACTIONS_FAILED};
use mfa_enforcer::run_report::{RunFailed, RunReport};
use serde_json::Value;
use thiserror::Error;
use tracing::info;

/// What the handler runs with: settings and AWS adapters, built once per process.
pub type App = lambda::App;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The EventBridge schedule.
    Schedule,
    /// A manual invoke; `None` follows `DRY_RUN`.
    Manual {
        /// The payload's `dry_run`.
        dry_run: Option<bool>,
    },
}

impl Trigger {
    /// Recognizes a payload, or says exactly what is wrong with it.
    pub fn parse(payload: &Value) -> Result<Trigger, HandlerError> {
        let Some(object) = payload.as_object() else {
            return Err(HandlerError::BadPayload(format!(
                "expected a JSON object (a Scheduled Event or {{\"dry_run\": true|false}}), got {}",
                kind_of(payload)
            )));
        };
        if let Some(detail_type) = object.get("detail-type") {
            let source = object
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return if detail_type == "Scheduled Event" && source == "aws.events" {
                Ok(Trigger::Schedule)
            } else {
                Err(HandlerError::BadPayload(format!(
                    "unsupported EventBridge event: detail-type {detail_type}, source {source:?}; \
                     this function takes Scheduled Events (CloudTrail IAM events go to iam-events)"
                )))
            };
        }
        let unknown: Vec<&str> = object
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "dry_run")
            .collect();
        if !unknown.is_empty() {
            return Err(HandlerError::BadPayload(format!(
                "unknown field(s) {} in manual payload; expected {{\"dry_run\": true|false}}",
                unknown.join(", ")
            )));
        }
        match object.get("dry_run") {
            None => Ok(Trigger::Manual { dry_run: None }),
            Some(Value::Bool(b)) => Ok(Trigger::Manual { dry_run: Some(*b) }),
            Some(other) => Err(HandlerError::BadPayload(format!(
                "dry_run must be true or false, got {other}"
            ))),
        }
    }

    /// Whether this trigger runs dry, given the `DRY_RUN` setting.
    pub fn dry_run(self, setting: bool) -> bool {
        match self {
            Trigger::Schedule | Trigger::Manual { dry_run: None } => setting,
            Trigger::Manual { dry_run: Some(d) } => d,
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Why an invocation failed.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The payload is neither a Scheduled Event nor a manual payload.
    #[error("bad payload: {0}")]
    BadPayload(String),
    /// The account could not be read.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The run finished but some writes or notifications failed; the report is in the logs.
    #[error(transparent)]
    ActionsFailed(#[from] RunFailed),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        let error_type = match &e {
            HandlerError::BadPayload(_) => "BadPayload",
            HandlerError::Engine(inner) => lambda::engine_error_type(inner),
            HandlerError::ActionsFailed(_) => ACTIONS_FAILED,
        };
        lambda::diagnostic(error_type, &e)
    }
}

/// Handles one invocation: see the crate documentation.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<RunReport, HandlerError> {
    let started = std::time::Instant::now();
    let trigger = Trigger::parse(&event.payload)?;
    let dry_run = trigger.dry_run(app.settings.dry_run);
    info!(?trigger, dry_run, request_id = %event.context.request_id, "run starting");
    let report = engine::audit_account(app.ports(dry_run), &app.settings, Utc::now()).await?;
    Ok(app.finish(report, started).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads() {
        let schedule = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-06-15T12:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/mfa-enforcer-schedule"], "detail": {}
        });
        assert_eq!(Trigger::parse(&schedule).unwrap(), Trigger::Schedule);
        assert_eq!(
            Trigger::parse(&json!({"dry_run": true})).unwrap(),
            Trigger::Manual {
                dry_run: Some(true)
            }
        );
        assert_eq!(
            Trigger::parse(&json!({"dry_run": false})).unwrap(),
            Trigger::Manual {
                dry_run: Some(false)
            }
        );
        assert_eq!(
            Trigger::parse(&json!({})).unwrap(),
            Trigger::Manual { dry_run: None }
        );

        let bad = [
            (json!("run"), "expected a JSON object"),
            (json!(null), "got null"),
            (json!({"dryrun": true}), "unknown field(s) dryrun"),
            (
                json!({"dry_run": "yes"}),
                "dry_run must be true or false, got \"yes\"",
            ),
            (
                json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.iam"}),
                "CloudTrail IAM events go to iam-events",
            ),
        ];
        for (payload, message) in bad {
            let err = Trigger::parse(&payload).unwrap_err();
            assert!(err.to_string().contains(message), "{payload}: {err}");
            assert_eq!(Diagnostic::from(err).error_type, "BadPayload");
        }
    }

    #[test]
    fn dry_run_follows_the_payload_then_the_setting() {
        assert!(Trigger::Schedule.dry_run(true));
        assert!(!Trigger::Schedule.dry_run(false));
        assert!(Trigger::Manual {
            dry_run: Some(true)
        }
        .dry_run(false));
        assert!(!Trigger::Manual {
            dry_run: Some(false)
        }
        .dry_run(true));
        assert!(Trigger::Manual { dry_run: None }.dry_run(true));
    }
}
