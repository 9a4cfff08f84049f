//! The iam-events handler: a CloudTrail IAM event (EventBridge) in, the users it names
//! re-evaluated and remediated, the JSON report out.
//!
//! The event only says whom to look at again; everything is read live. Failed calls, other
//! accounts' events, the enforcer's own calls (`ENFORCER_ROLE_ARN`) and event names it does
//! not handle are acknowledged with `{"ignored": ...}`. A payload that is not a CloudTrail IAM
//! event is an error (`BadEvent`), as is a run where any write or notification failed
//! (`ActionsFailed`, so CloudWatch counts it and EventBridge's retry policy applies).

use chrono::Utc;
use lambda_runtime::{Diagnostic, LambdaEvent};
use mfa_enforcer::engine::{self, EngineError};
use mfa_enforcer::event::{self, Context, EventError, IgnoreReason, Target};
use mfa_enforcer::lambda::{self, ACTIONS_FAILED};
use mfa_enforcer::run_report::{RunFailed, RunReport};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use tracing::{debug, info};

/// What the handler runs with: settings, AWS adapters and the enforcer's own roles, built once
/// per process.
pub type App = lambda::App<OwnRoles>;

/// The variable naming the roles the enforcer runs as; events they caused are ignored.
pub const ENFORCER_ROLE_ARN: &str = "ENFORCER_ROLE_ARN";

/// The enforcer's own roles, from `ENFORCER_ROLE_ARN` (optional; comma-separated: each
/// function has its own role).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnRoles(pub Vec<String>);

impl OwnRoles {
    /// Reads and checks `ENFORCER_ROLE_ARN`.
    pub fn from_env() -> Result<OwnRoles, String> {
        OwnRoles::parse(std::env::var(ENFORCER_ROLE_ARN).ok().as_deref())
    }

    /// Checks a value: unset or blank means "none known"; otherwise each comma-separated item
    /// must be an IAM role ARN.
    pub fn parse(value: Option<&str>) -> Result<OwnRoles, String> {
        let is_role = |arn: &str| {
            let parts: Vec<&str> = arn.split(':').collect();
            parts.len() == 6
                && parts[0] == "arn"
                && parts[2] == "iam"
                && parts[5].starts_with("role/")
        };
        value
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|arn| {
                if is_role(arn) {
                    Ok(arn.to_string())
                } else {
                    Err(format!(
                        "{ENFORCER_ROLE_ARN} is invalid: expected IAM role ARNs (arn:aws:iam::123456789012:role/NAME), comma-separated, got {arn:?}"
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(OwnRoles)
    }
}

/// What an invocation answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// The event needed no work.
    Ignored {
        /// Why.
        ignored: IgnoreReason,
        /// The event's name.
        event_name: String,
        /// The event's CloudTrail ID.
        event_id: String,
    },
    /// The report of the run: findings for the users the event named.
    Report(Box<RunReport>),
}

/// Why an invocation failed.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// Not a CloudTrail IAM event, or one missing what it must name.
    #[error("bad event: {0}")]
    BadEvent(#[from] EventError),
    /// A read failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The run finished but some writes or notifications failed; the report is in the logs.
    #[error(transparent)]
    ActionsFailed(#[from] RunFailed),
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        let error_type = match &e {
            HandlerError::BadEvent(_) => "BadEvent",
            HandlerError::Engine(inner) => lambda::engine_error_type(inner),
            HandlerError::ActionsFailed(_) => ACTIONS_FAILED,
        };
        lambda::diagnostic(error_type, &e)
    }
}

/// The account in a Lambda function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
pub fn account_of_function(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

/// Handles one invocation: see the crate documentation.
pub async fn handle(app: &App, invocation: LambdaEvent<Value>) -> Result<Response, HandlerError> {
    let started = std::time::Instant::now();
    let event = event::parse(&invocation.payload)?;
    let context = Context {
        account_id: account_of_function(&invocation.context.invoked_function_arn),
        own_role_arns: app.state.0.clone(),
        deny_policy_arn: app.settings.deny_policy_arn.clone(),
        exempt_tag_key: app.settings.exempt_tag_key.clone(),
        enforcement_group: app.settings.enforcement_group.clone(),
    };
    let target = event::target(&event, &context)?;
    if let Target::Ignore(reason) = target {
        debug!(event_name = %event.name, event_id = %event.id, reason = reason.as_str(), "event ignored");
        return Ok(Response::Ignored {
            ignored: reason,
            event_name: event.name,
            event_id: event.id,
        });
    }
    let dry_run = app.settings.dry_run;
    info!(event_name = %event.name, event_id = %event.id, caller = %event.caller.arn, ?target, dry_run, request_id = %invocation.context.request_id, "event run starting");
    let ports = app.ports(dry_run);
    let report = engine::handle_event(ports, &app.settings, Utc::now(), &event, &target).await?;
    Ok(Response::Report(Box::new(
        app.finish(report, started).await?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_roles_must_be_role_arns() {
        assert_eq!(OwnRoles::parse(None).unwrap(), OwnRoles(vec![]));
        assert_eq!(OwnRoles::parse(Some("  ")).unwrap(), OwnRoles(vec![]));
        let a = "arn:aws:iam::123456789012:role/service/mfa-enforcer-audit";
        let b = "arn:aws:iam::123456789012:role/mfa-enforcer-events";
        assert_eq!(
            OwnRoles::parse(Some(&format!("{a}, {b}"))).unwrap(),
            OwnRoles(vec![a.into(), b.into()])
        );
        for bad in [
            "mfa-enforcer",
            "arn:aws:iam::123456789012:user/bob",
            "arn:aws:sts::123456789012:assumed-role/mfa-enforcer/x",
        ] {
            let err = OwnRoles::parse(Some(&format!("{a},{bad}"))).unwrap_err();
            assert!(err.starts_with("ENFORCER_ROLE_ARN is invalid"), "{err}");
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn the_account_comes_from_the_function_arn() {
        assert_eq!(
            account_of_function("arn:aws:lambda:us-east-1:123456789012:function:iam-events"),
            Some("123456789012".into())
        );
        assert_eq!(account_of_function(""), None);
        assert_eq!(
            account_of_function("arn:aws:lambda:us-east-1:local:function:x"),
            None
        );
    }

    #[test]
    fn diagnostics_name_the_failure() {
        let bad = HandlerError::BadEvent(EventError::NotCloudTrailIam("x".into()));
        assert_eq!(Diagnostic::from(bad).error_type, "BadEvent");
        let failed = HandlerError::ActionsFailed(mfa_enforcer::run_report::RunFailed {
            failed: 1,
            notifications_failed: 0,
            findings_failed: 0,
            applied: 0,
            remaining: 1,
        });
        let d = Diagnostic::from(failed);
        assert_eq!(d.error_type, "ActionsFailed");
        assert!(d
            .error_message
            .starts_with("1 action(s) and 0 notification(s) failed"));
    }
}
