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

const CREATE_LOGIN_PROFILE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/events/cloudtrail/create-login-profile.json"
));

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
            // The real CloudTrail shape (the tests' fixture), naming this user.
            let mut event: serde_json::Value = serde_json::from_str(CREATE_LOGIN_PROFILE).unwrap();
            event["detail"]["eventID"] = json!(user);
            event["detail"]["requestParameters"]["userName"] = json!(user);
            event["detail"]["responseElements"]["loginProfile"]["userName"] = json!(user);
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
