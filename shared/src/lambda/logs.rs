//! Structured JSON logs for the Lambdas (CloudWatch), set up once at start.

use tracing_subscriber::filter::{Directive, EnvFilter};

/// The cap on the Lambda runtime's logs.
const RUNTIME_CAP: &str = "lambda_runtime=debug";

/// Installs a JSON tracing subscriber; the level comes from `RUST_LOG` or
/// `AWS_LAMBDA_LOG_LEVEL` (default `info`).
///
/// Whatever the level, the Lambda runtime's own logs stop at `debug`: at `trace` it logs
/// every raw event, and an event can carry a secret (a CreateLoginProfile's password, should
/// CloudTrail ever pass one on).
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_lowercase()))
        .unwrap_or_else(|_| "info".to_string());
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter(&level))
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}

/// The filter for `level`, with the runtime's raw-event logging cut off.
fn filter(level: &str) -> EnvFilter {
    let filter = EnvFilter::new(level);
    match RUNTIME_CAP.parse::<Directive>() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter, // a constant that parses (tested); never taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_cap_is_a_directive_and_outranks_any_level() {
        assert!(RUNTIME_CAP.parse::<Directive>().is_ok());
        for level in ["trace", "lambda_runtime=trace", "info,lambda_runtime=trace"] {
            let shown = filter(level).to_string();
            assert!(shown.contains(RUNTIME_CAP), "{level}: {shown}");
            assert!(!shown.contains("lambda_runtime=trace"), "{level}: {shown}");
        }
    }
}
