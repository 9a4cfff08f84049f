//! How a failed call is tried again: the SDK's own variables, `AWS_RETRY_MODE` and
//! `AWS_MAX_ATTEMPTS`, checked here (the SDK would panic on a bad value) with this tool's
//! defaults when they are unset.
//!
//! AWS publishes no per-API rate for IAM, and IAM answers `Throttling` when writes come too
//! fast. The defaults were chosen by `bench/pacing.py` (docs/benchmarks.md, "Writes under
//! throttling"): the adaptive mode keeps the standard mode's jittered exponential backoff and
//! adds a client-side rate limiter that slows down on the first throttling answer and speeds up
//! again as calls succeed, so a first run in a large account settles at whatever rate IAM
//! grants instead of spending its retries. The variables are the SDKs' own
//! (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>).

use crate::settings::SettingsError;
use aws_config::retry::{RetryConfig, RetryMode};

/// Default `AWS_MAX_ATTEMPTS`: attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 6;

/// Default `AWS_RETRY_MODE`.
pub const RETRY_MODE: RetryMode = RetryMode::Adaptive;

/// The retry configuration from `AWS_RETRY_MODE` and `AWS_MAX_ATTEMPTS` read through `lookup`
/// (unset or empty: the defaults above). Fails naming the variable and what it accepts.
pub fn retry_config(lookup: impl Fn(&str) -> Option<String>) -> Result<RetryConfig, SettingsError> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let mode = match get("AWS_RETRY_MODE") {
        None => RETRY_MODE,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "standard" => RetryMode::Standard,
            "adaptive" => RetryMode::Adaptive,
            _ => {
                return Err(SettingsError {
                    variable: "AWS_RETRY_MODE",
                    problem: format!("is invalid: {v:?}; expected standard or adaptive"),
                })
            }
        },
    };
    let attempts = match get("AWS_MAX_ATTEMPTS") {
        None => MAX_ATTEMPTS,
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n @ 1..=20) => n,
            _ => {
                return Err(SettingsError {
                    variable: "AWS_MAX_ATTEMPTS",
                    problem: format!(
                        "is invalid: {v:?}; expected a whole number from 1 (no retry) to 20"
                    ),
                })
            }
        },
    };
    let config = match mode {
        RetryMode::Adaptive => RetryConfig::adaptive(),
        _ => RetryConfig::standard(),
    };
    Ok(config.with_max_attempts(attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<RetryConfig, SettingsError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        retry_config(|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn unset_means_the_defaults() {
        let config = from(&[]).unwrap();
        assert_eq!(config.mode(), RETRY_MODE);
        assert_eq!(config.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(from(&[("AWS_RETRY_MODE", " ")]).unwrap().mode(), RETRY_MODE);
    }

    #[test]
    fn the_sdk_variables_choose_mode_and_attempts() {
        let config = from(&[("AWS_RETRY_MODE", "Standard"), ("AWS_MAX_ATTEMPTS", "3")]).unwrap();
        assert_eq!(config.mode(), RetryMode::Standard);
        assert_eq!(config.max_attempts(), 3);
        let config = from(&[("AWS_RETRY_MODE", "adaptive"), ("AWS_MAX_ATTEMPTS", "1")]).unwrap();
        assert_eq!(config.mode(), RetryMode::Adaptive);
        assert_eq!(config.max_attempts(), 1);
    }

    #[test]
    fn bad_values_are_named() {
        let e = from(&[("AWS_RETRY_MODE", "legacy")]).unwrap_err();
        assert_eq!(e.variable, "AWS_RETRY_MODE");
        assert!(e.to_string().contains("\"legacy\""), "{e}");
        for bad in ["0", "21", "six", "-1"] {
            let e = from(&[("AWS_MAX_ATTEMPTS", bad)]).unwrap_err();
            assert_eq!(e.variable, "AWS_MAX_ATTEMPTS", "{bad}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }
}
