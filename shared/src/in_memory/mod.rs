//! IAM and SNS in memory: every port implemented over one account that the writes change, with
//! scripted failures and concurrent changes. The engine's tests, the event run's and the
//! property tests run against it, beside the AWS adapters in [`crate::aws`]; no network.
//!
//! It keeps the IAM behaviour the engine relies on: a credential report is generated once and
//! served until it is older than the age asked for; writes to a user, group, policy or version
//! that does not exist fail with `NoSuchEntity`; the default version cannot be deleted
//! (`DeleteConflict`); attaching a policy or adding to a group twice is one change.

mod ports;
mod sns;
mod state;

pub use sns::InMemorySns;
pub use state::{created_long_ago, Group, ManagedPolicy, Report, Role, State, User, Version};

use crate::ports::AwsError;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

/// The account ID tests use unless they say otherwise.
pub const ACCOUNT_ID: &str = "123456789012";

/// A change another party makes to the account while a run is under way.
pub type Change = Box<dyn FnOnce(&mut State) + Send>;

/// One call the engine made, named by the IAM API it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The API (`GetCredentialReport`, `AttachUserPolicy`...).
    pub api: &'static str,
    /// What it named: a user, a group, a policy's version...; empty for account-wide reads.
    pub subject: String,
    /// Whether it writes.
    pub write: bool,
}

impl Call {
    /// `API subject`, the form tests compare.
    pub fn describe(&self) -> String {
        if self.subject.is_empty() {
            self.api.to_string()
        } else {
            format!("{} {}", self.api, self.subject)
        }
    }
}

/// A failure every matching call meets.
struct Fault {
    api: &'static str,
    subject: Option<String>,
    code: &'static str,
}

/// IAM in memory. Every read and write port is implemented (see the module documentation).
pub struct InMemoryIam {
    state: Mutex<State>,
    faults: Mutex<Vec<Fault>>,
    next_writes: Mutex<VecDeque<Option<(&'static str, Change)>>>,
    calls: Mutex<Vec<Call>>,
}

impl InMemoryIam {
    /// IAM holding `state`.
    pub fn new(state: State) -> InMemoryIam {
        InMemoryIam {
            state: Mutex::new(state),
            faults: Mutex::new(Vec::new()),
            next_writes: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Changes the account (as a person or another tool would, between or during runs).
    pub fn change(&self, change: impl FnOnce(&mut State)) {
        change(&mut lock(&self.state));
    }

    /// The account as it is now.
    pub fn state(&self) -> State {
        lock(&self.state).clone()
    }

    /// Every call made so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.calls).clone()
    }

    /// The writes made so far (`API subject`), in order.
    pub fn writes(&self) -> Vec<String> {
        lock(&self.calls)
            .iter()
            .filter(|c| c.write)
            .map(Call::describe)
            .collect()
    }

    /// The reads made so far, by API, sorted (the order of concurrent reads is not fixed).
    pub fn reads(&self) -> Vec<&'static str> {
        let mut reads: Vec<_> = lock(&self.calls)
            .iter()
            .filter(|c| !c.write)
            .map(|c| c.api)
            .collect();
        reads.sort_unstable();
        reads
    }

    /// Forgets the calls made so far.
    pub fn clear_calls(&self) {
        lock(&self.calls).clear();
    }

    /// Every call to `api` (naming `subject`, or any) fails with `code` from now on.
    pub fn fail(&self, api: &'static str, subject: Option<&str>, code: &'static str) {
        lock(&self.faults).push(Fault {
            api,
            subject: subject.map(str::to_string),
            code,
        });
    }

    /// The next write fails with `code`, after `change` (a concurrent run or a person got
    /// there first). Scripted writes are consumed in order, whatever their API.
    pub fn then_fail(&self, code: &'static str, change: impl FnOnce(&mut State) + Send + 'static) {
        lock(&self.next_writes).push_back(Some((code, Box::new(change))));
    }

    /// The next write succeeds (to script a failure after it).
    pub fn then_succeed(&self) {
        lock(&self.next_writes).push_back(None);
    }

    /// Records a read, failing it when a fault matches.
    fn read(&self, api: &'static str, subject: &str) -> Result<MutexGuard<'_, State>, AwsError> {
        self.record(api, subject, false);
        self.fault(api, subject)?;
        Ok(lock(&self.state))
    }

    /// Records a write, fails it when a fault or the script says so, and applies it otherwise.
    fn write(
        &self,
        api: &'static str,
        subject: &str,
        apply: impl FnOnce(&mut State) -> Result<(), &'static str>,
    ) -> Result<(), AwsError> {
        self.record(api, subject, true);
        self.fault(api, subject)?;
        let scripted = lock(&self.next_writes).pop_front().flatten();
        let mut state = lock(&self.state);
        if let Some((code, change)) = scripted {
            change(&mut state);
            return Err(error(api, code));
        }
        apply(&mut state).map_err(|code| error(api, code))
    }

    fn record(&self, api: &'static str, subject: &str, write: bool) {
        lock(&self.calls).push(Call {
            api,
            subject: subject.to_string(),
            write,
        });
    }

    fn fault(&self, api: &'static str, subject: &str) -> Result<(), AwsError> {
        match lock(&self.faults)
            .iter()
            .find(|f| f.api == api && f.subject.as_deref().is_none_or(|s| s == subject))
        {
            Some(fault) => Err(error(api, fault.code)),
            None => Ok(()),
        }
    }
}

/// The error IAM answers with: throttling is retryable, as the SDK classifies it.
pub fn error(operation: &'static str, code: &str) -> AwsError {
    AwsError {
        operation,
        code: Some(code.to_string()),
        message: format!("scripted {code}"),
        retryable: matches!(code, "Throttling" | "ServiceUnavailable"),
    }
}

/// A poisoned lock means a test already failed; its state is still the best to report from.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
