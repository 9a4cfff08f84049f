//! Lambda entry point: settings and clients once, then the handler to the runtime.
// The engine's future is deep (a whole run: reads, repair, writes, notices); the compiler's
// default limit on its layout query is too low for it.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, LambdaEvent};
use scheduled_audit::handle;
use serde_json::Value;

fn main() -> Result<(), lambda_runtime::Error> {
    mfa_enforcer::runtime::run(|| async {
        let app = mfa_enforcer::lambda::start(|| Ok::<_, String>(())).await?;
        lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(&app, event))).await
    })
}
