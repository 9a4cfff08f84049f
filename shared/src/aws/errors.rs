//! SDK errors become [`AwsError`]: operation, AWS error code, message, and whether to retry.

use crate::ports::AwsError;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// AWS error codes that mean "try again later".
const RETRYABLE_CODES: [&str; 9] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "ServiceFailure",
    "InternalFailure",
    "InternalError",
];

/// Maps any SDK error to our error, keeping the code and the whole error chain's message.
pub(crate) fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_string);
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => code
            .as_deref()
            .is_some_and(|c| RETRYABLE_CODES.contains(&c)),
        _ => false,
    };
    let message = match err.message() {
        Some(m) => m.to_string(),
        None => DisplayErrorContext(&err).to_string(),
    };
    AwsError {
        operation,
        code,
        message,
        retryable,
    }
}
