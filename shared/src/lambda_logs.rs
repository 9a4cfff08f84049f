//! Structured JSON logs for the Lambdas (CloudWatch), set up once in each `main`.

/// Installs a JSON tracing subscriber; the level comes from `RUST_LOG` or
/// `AWS_LAMBDA_LOG_LEVEL` (default `info`).
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_lowercase()))
        .unwrap_or_else(|_| "info".to_string());
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}
