//! The event function's handler on `CreateLoginProfile` events, one per user named on the
//! command line, against the AWS endpoint of the environment (`AWS_ENDPOINT_URL`: the counting
//! proxy of `bench/event_path.py`, which holds every request as long as a real round trip).
//! Prints one JSON line per event: the user and the handler's wall time in milliseconds.
//! The settings come from the environment, as the Lambda's do.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
use lambda_runtime::{Context, LambdaEvent};
use mfa_enforcer::aws::{load_config, Clients, ConfigOverrides};
use mfa_enforcer::settings::{RawSettings, Settings};
use serde_json::json;
use std::time::Instant;

fn main() {
    let users: Vec<String> = std::env::args().skip(1).collect();
    mfa_enforcer::runtime::run(move || async move {
        let settings = Settings::parse(&RawSettings::from_env()).expect("settings");
        let config = load_config(&ConfigOverrides::default())
            .await
            .expect("retry settings");
        let app = iam_events::App::new(
            settings,
            iam_events::OwnRoles::default(),
            &Clients::new(&config),
        );
        for user in users {
            let event = json!({
                "version": "0", "id": "0", "detail-type": "AWS API Call via CloudTrail",
                "source": "aws.iam", "account": "123456789012", "time": "2026-06-15T11:59:58Z",
                "region": "us-east-1", "resources": [],
                "detail": {
                    "eventVersion": "1.09",
                    "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/admin", "userName": "admin"},
                    "eventTime": "2026-06-15T11:59:58Z", "eventSource": "iam.amazonaws.com",
                    "eventName": "CreateLoginProfile", "awsRegion": "us-east-1", "eventID": user,
                    "recipientAccountId": "123456789012", "requestParameters": {"userName": user},
                }
            });
            let mut context = Context::default();
            context.invoked_function_arn =
                "arn:aws:lambda:us-east-1:123456789012:function:iam-events".into();
            let start = Instant::now();
            let answer = iam_events::handle(&app, LambdaEvent::new(event, context)).await;
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            println!("{}", json!({"user": user, "ms": ms, "ok": answer.is_ok()}));
        }
    });
}
