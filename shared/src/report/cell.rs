//! One cell of the credential report: a value, or one of the report's documented sentinels,
//! and how each kind of column is read.

use super::ReportError;
use chrono::{DateTime, FixedOffset, Utc};

/// One cell of the credential report: a value, or one of the report's documented sentinels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<T> {
    /// A real value.
    Value(T),
    /// `N/A`: nothing to report (for instance an access key that was never used).
    NotApplicable,
    /// `not_supported`: the column does not apply to this row (for instance root's password).
    NotSupported,
    /// `no_information`: AWS holds no record (for instance a password last used before 2014).
    NoInformation,
    /// A column the engine never reads was missing, or held a value it could not parse.
    Unrecognized,
}

impl<T> Cell<T> {
    /// The value, when the cell holds one rather than a sentinel.
    pub fn value(&self) -> Option<&T> {
        match self {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// A cell of a column the engine never reads: a value it could not parse (or an absent column,
/// read as empty) is [`Cell::Unrecognized`] instead of an error. Errors reading the text itself
/// (not UTF-8) still fail: they mean the CSV is broken.
pub(super) fn lenient<T>(parsed: Result<Cell<T>, ReportError>) -> Cell<T> {
    parsed.unwrap_or(Cell::Unrecognized)
}

pub(super) struct CellParser<'a> {
    pub(super) line: u64,
    pub(super) user: &'a str,
}

impl CellParser<'_> {
    fn sentinel<T>(text: &str) -> Option<Cell<T>> {
        match text {
            "N/A" => Some(Cell::NotApplicable),
            "not_supported" => Some(Cell::NotSupported),
            "no_information" => Some(Cell::NoInformation),
            _ => None,
        }
    }

    fn bad(&self, column: &'static str, value: &str, expected: &'static str) -> ReportError {
        ReportError::BadValue {
            line: self.line,
            user: self.user.to_string(),
            column,
            value: value.chars().take(64).collect(),
            expected,
        }
    }

    pub(super) fn flag(&self, column: &'static str, text: &str) -> Result<Cell<bool>, ReportError> {
        match text {
            "true" | "TRUE" | "True" => Ok(Cell::Value(true)),
            "false" | "FALSE" | "False" => Ok(Cell::Value(false)),
            other => Self::sentinel(other).ok_or_else(|| {
                self.bad(
                    column,
                    other,
                    "true, false, N/A, not_supported or no_information",
                )
            }),
        }
    }

    pub(super) fn time(
        &self,
        column: &'static str,
        text: &str,
    ) -> Result<Cell<DateTime<Utc>>, ReportError> {
        if let Some(sentinel) = Self::sentinel(text) {
            return Ok(sentinel);
        }
        if let Some(t) = utc_timestamp(text) {
            return Ok(Cell::Value(t));
        }
        DateTime::<FixedOffset>::parse_from_rfc3339(text)
            .map(|t| Cell::Value(t.with_timezone(&Utc)))
            .map_err(|_| {
                self.bad(
                    column,
                    text,
                    "an ISO 8601 timestamp, N/A, not_supported or no_information",
                )
            })
    }

    pub(super) fn string(text: &str) -> Cell<String> {
        Self::sentinel(text).unwrap_or_else(|| Cell::Value(text.to_string()))
    }
}

/// The two ASCII digits at `at` as a number; unrolled, as a row holds seven timestamps.
#[inline]
fn two_digits(b: &[u8], at: usize) -> Option<u32> {
    let (tens, ones) = (b[at].wrapping_sub(b'0'), b[at + 1].wrapping_sub(b'0'));
    (tens < 10 && ones < 10).then(|| u32::from(tens) * 10 + u32::from(ones))
}

/// The form AWS writes, `2024-01-02T03:04:05+00:00` (or with `Z`), read without the general
/// RFC 3339 parser: a report holds seven timestamps per user, and this is most of parsing it.
/// Anything else returns `None` and goes to the general parser.
pub(super) fn utc_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let utc_suffix = match b.len() {
        25 => &b[19..] == b"+00:00",
        20 => b[19] == b'Z',
        _ => false,
    };
    if !utc_suffix
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(two_digits(b, 0)? * 100 + two_digits(b, 2)?).ok()?,
        two_digits(b, 5)?,
        two_digits(b, 8)?,
    )?;
    let time = date.and_hms_opt(two_digits(b, 11)?, two_digits(b, 14)?, two_digits(b, 17)?)?;
    Some(time.and_utc())
}
