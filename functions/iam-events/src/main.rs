//! Lambda entry point: tracing, settings, clients once, then the handler to the runtime.
// The engine's future is deep (a whole run: reads, repair, writes, notices); the compiler's
// default limit on its layout query is too low for it.
#![recursion_limit = "256"]

use iam_events::{handle, App, OwnRoles};
use lambda_runtime::{service_fn, LambdaEvent};
use mfa_enforcer::aws::{load_config, Clients, ConfigOverrides};
use mfa_enforcer::settings::{RawSettings, Settings};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mfa_enforcer::lambda_logs::init();
    let settings = Settings::parse(&RawSettings::from_env()).map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        e
    })?;
    let own_roles = OwnRoles::from_env().map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        e
    })?;
    let config = load_config(&ConfigOverrides::default()).await;
    let app = App::new(settings, own_roles, &Clients::new(&config));
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(&app, event))).await
}
