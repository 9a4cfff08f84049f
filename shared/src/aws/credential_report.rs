//! Getting a fresh-enough credential report: reuse, or generate and poll with bounded backoff.
//!
//! The protocol: GetCredentialReport answers with the current report or an error
//! (`ReportNotPresent`, `ReportExpired`, `ReportInProgress`); GenerateCredentialReport starts a
//! generation (`STARTED`), says one is running (`INPROGRESS`) or done (`COMPLETE`), or refuses
//! for now (`LimitExceeded`). AWS regenerates at most every 4 hours, so a `COMPLETE` answer to
//! the first Generate means the report we already hold is the newest there is.
//!
//! The loop is written against [`ReportApi`] so that every state is unit tested without AWS;
//! waits use tokio's clock, so tests run on paused time.

use crate::ports::{AwsError, FetchedReport};
use chrono::{DateTime, Duration as Age, Utc};
use std::future::Future;
use std::time::Duration;
use tracing::{debug, info};

/// A report as GetCredentialReport returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReport {
    /// The CSV content.
    pub content: Vec<u8>,
    /// AWS's `GeneratedTime`.
    pub generated_at: DateTime<Utc>,
}

/// What GetCredentialReport answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetAnswer {
    /// The report.
    Report(RawReport),
    /// `ReportNotPresent`: never generated.
    NotPresent,
    /// `ReportExpired`: too old to serve.
    Expired,
    /// `ReportInProgress`: a generation is running.
    InProgress,
}

/// What GenerateCredentialReport answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerateAnswer {
    /// `STARTED`: this call started a generation.
    Started,
    /// `INPROGRESS`.
    InProgress,
    /// `COMPLETE`: a report is ready.
    Complete,
    /// `LimitExceeded`: refused for now.
    LimitExceeded,
}

/// The two calls of the protocol.
pub trait ReportApi: Sync {
    /// GetCredentialReport.
    fn get(&self) -> impl Future<Output = Result<GetAnswer, AwsError>> + Send;
    /// GenerateCredentialReport.
    fn generate(&self) -> impl Future<Output = Result<GenerateAnswer, AwsError>> + Send;
}

/// Bounds on waiting for a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollLimits {
    /// The first wait; each next wait doubles, up to `max_delay`.
    pub first_delay: Duration,
    /// The longest single wait.
    pub max_delay: Duration,
    /// The total time spent waiting before giving up.
    pub max_wait: Duration,
}

impl Default for PollLimits {
    fn default() -> Self {
        PollLimits {
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_wait: Duration::from_secs(180),
        }
    }
}

enum Next {
    Generate,
    Get,
}

/// Returns a report no older than `max_age` when one exists, or generates one and waits for it.
///
/// Fails when a call fails for a reason other than the protocol's states, or when the report
/// is not ready within `limits.max_wait` (the error says how long it waited and for what).
pub async fn fetch<A: ReportApi>(
    api: &A,
    limits: PollLimits,
    max_age: Age,
    now: DateTime<Utc>,
) -> Result<FetchedReport, AwsError> {
    let existing = match api.get().await? {
        GetAnswer::Report(report) if now.signed_duration_since(report.generated_at) <= max_age => {
            debug!(generated_at = %report.generated_at, "reusing the existing credential report");
            return Ok(fetched(report, false));
        }
        GetAnswer::Report(report) => Some(report),
        other => {
            debug!(answer = ?other, "no usable credential report");
            None
        }
    };
    let mut started = false;
    let mut next = Next::Generate;
    let mut waited = Duration::ZERO;
    let mut delay = limits.first_delay;
    let mut last_state: &str;
    loop {
        match next {
            Next::Generate => match api.generate().await? {
                GenerateAnswer::Complete => {
                    if let (false, Some(report)) = (started, &existing) {
                        // Nothing new was generated: what we hold is the newest report.
                        return Ok(fetched(report.clone(), false));
                    }
                    next = Next::Get;
                    continue;
                }
                GenerateAnswer::Started => {
                    info!("credential report generation started");
                    started = true;
                    last_state = "STARTED";
                }
                GenerateAnswer::InProgress => last_state = "INPROGRESS",
                GenerateAnswer::LimitExceeded => last_state = "LimitExceeded",
            },
            Next::Get => match api.get().await? {
                GetAnswer::Report(report) => return Ok(fetched(report, started)),
                GetAnswer::InProgress => last_state = "ReportInProgress",
                GetAnswer::NotPresent | GetAnswer::Expired => {
                    last_state = "report gone after COMPLETE";
                    next = Next::Generate;
                }
            },
        }
        if waited + delay > limits.max_wait {
            return Err(AwsError {
                operation: "GenerateCredentialReport",
                code: Some("ReportNotReady".to_string()),
                message: format!(
                    "the credential report was not ready after waiting {}s (last state: {last_state}); \
                     a large account can take longer: run again in a few minutes",
                    waited.as_secs()
                ),
                retryable: true,
            });
        }
        debug!(
            delay_ms = delay.as_millis() as u64,
            state = last_state,
            "waiting for the credential report"
        );
        tokio::time::sleep(delay).await;
        waited += delay;
        delay = (delay * 2).min(limits.max_delay);
    }
}

fn fetched(report: RawReport, generated_by_this_run: bool) -> FetchedReport {
    FetchedReport {
        content: report.content,
        generated_at: report.generated_at,
        generated_by_this_run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::Mutex;

    /// Answers scripted in order; records every call.
    struct Script {
        gets: Mutex<Vec<GetAnswer>>,
        generates: Mutex<Vec<GenerateAnswer>>,
        calls: Mutex<Vec<&'static str>>,
    }

    impl Script {
        fn new(gets: Vec<GetAnswer>, generates: Vec<GenerateAnswer>) -> Self {
            Script {
                gets: Mutex::new(gets),
                generates: Mutex::new(generates),
                calls: Mutex::new(vec![]),
            }
        }
        fn calls(&self) -> Vec<&'static str> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl ReportApi for Script {
        async fn get(&self) -> Result<GetAnswer, AwsError> {
            self.calls.lock().unwrap().push("get");
            let mut gets = self.gets.lock().unwrap();
            Ok(if gets.is_empty() {
                GetAnswer::InProgress
            } else {
                gets.remove(0)
            })
        }
        async fn generate(&self) -> Result<GenerateAnswer, AwsError> {
            self.calls.lock().unwrap().push("generate");
            let mut generates = self.generates.lock().unwrap();
            Ok(if generates.is_empty() {
                GenerateAnswer::InProgress
            } else {
                generates.remove(0)
            })
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
    }

    fn report(minutes_old: i64) -> GetAnswer {
        GetAnswer::Report(RawReport {
            content: b"csv".to_vec(),
            generated_at: now() - Age::minutes(minutes_old),
        })
    }

    const MAX_AGE: i64 = 240;

    async fn run(script: &Script) -> Result<FetchedReport, AwsError> {
        fetch(script, PollLimits::default(), Age::minutes(MAX_AGE), now()).await
    }

    // A table of cases reads best as tuples.
    #[allow(clippy::type_complexity)]
    #[tokio::test(start_paused = true)]
    async fn state_table() {
        use GenerateAnswer::*;
        // (name, get answers, generate answers, expected calls, generated by this run, age of result)
        let cases: Vec<(
            &str,
            Vec<GetAnswer>,
            Vec<GenerateAnswer>,
            Vec<&str>,
            bool,
            i64,
        )> = vec![
            (
                "fresh report reused",
                vec![report(10)],
                vec![],
                vec!["get"],
                false,
                10,
            ),
            (
                "report at the age limit reused",
                vec![report(MAX_AGE)],
                vec![],
                vec!["get"],
                false,
                MAX_AGE,
            ),
            (
                "not present: generate, poll, get",
                vec![GetAnswer::NotPresent, report(0)],
                vec![Started, Complete],
                vec!["get", "generate", "generate", "get"],
                true,
                0,
            ),
            (
                "expired: generate",
                vec![GetAnswer::Expired, report(0)],
                vec![Started, InProgress, Complete],
                vec!["get", "generate", "generate", "generate", "get"],
                true,
                0,
            ),
            (
                "in progress at first get",
                vec![GetAnswer::InProgress, report(1)],
                vec![InProgress, Complete],
                vec!["get", "generate", "generate", "get"],
                false,
                1,
            ),
            (
                "limit exceeded then started",
                vec![GetAnswer::NotPresent, report(0)],
                vec![LimitExceeded, Started, Complete],
                vec!["get", "generate", "generate", "generate", "get"],
                true,
                0,
            ),
            (
                "stale report, AWS will not regenerate yet",
                vec![report(300)],
                vec![Complete],
                vec!["get", "generate"],
                false,
                300,
            ),
            (
                "stale report, regeneration started",
                vec![report(300), report(0)],
                vec![Started, Complete],
                vec!["get", "generate", "generate", "get"],
                true,
                0,
            ),
            (
                "report still in progress after complete",
                vec![GetAnswer::NotPresent, GetAnswer::InProgress, report(0)],
                vec![Started, Complete],
                vec!["get", "generate", "generate", "get", "get"],
                true,
                0,
            ),
            (
                "report gone after complete: generate again",
                vec![GetAnswer::NotPresent, GetAnswer::NotPresent, report(0)],
                vec![Started, Complete, Complete],
                vec!["get", "generate", "generate", "get", "generate", "get"],
                true,
                0,
            ),
        ];
        for (name, gets, generates, calls, by_us, age) in cases {
            let script = Script::new(gets, generates);
            let got = run(&script).await.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(script.calls(), calls, "{name}");
            assert_eq!(got.generated_by_this_run, by_us, "{name}");
            assert_eq!(
                now().signed_duration_since(got.generated_at).num_minutes(),
                age,
                "{name}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_is_bounded_with_a_clear_error() {
        let script = Script::new(vec![GetAnswer::NotPresent], vec![GenerateAnswer::Started]);
        let started = tokio::time::Instant::now();
        let err = run(&script).await.unwrap_err();
        let waited = started.elapsed();
        assert!(
            waited <= PollLimits::default().max_wait,
            "waited {waited:?}"
        );
        assert!(
            waited >= Duration::from_secs(150),
            "gave up early: {waited:?}"
        );
        assert_eq!(err.code.as_deref(), Some("ReportNotReady"));
        assert!(err.retryable);
        assert!(
            err.message.contains("last state: INPROGRESS"),
            "{}",
            err.message
        );
        // Backoff: far fewer polls than one per 500 ms.
        let polls = script.calls().iter().filter(|c| **c == "generate").count();
        assert!(polls < 30, "{polls} polls");
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_stop_at_once() {
        struct Denied;
        impl ReportApi for Denied {
            async fn get(&self) -> Result<GetAnswer, AwsError> {
                Err(AwsError {
                    operation: "GetCredentialReport",
                    code: Some("AccessDenied".into()),
                    message: "no".into(),
                    retryable: false,
                })
            }
            async fn generate(&self) -> Result<GenerateAnswer, AwsError> {
                unreachable!("must not be called after a failed get")
            }
        }
        let err = fetch(&Denied, PollLimits::default(), Age::minutes(1), now())
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("AccessDenied"));
    }
}
