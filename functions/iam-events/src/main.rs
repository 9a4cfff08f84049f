//! Lambda entry point: settings, the enforcer's own roles and clients once, then the handler
//! to the runtime.
// The engine's future is deep (a whole run: reads, repair, writes, notices); the compiler's
// default limit on its layout query is too low for it.
#![recursion_limit = "256"]

use iam_events::{handle, OwnRoles};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

fn main() -> Result<(), lambda_runtime::Error> {
    mfa_enforcer::runtime::run(|| async {
        let app = mfa_enforcer::lambda::start(OwnRoles::from_env).await?;
        lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(&app, event))).await
    })
}
