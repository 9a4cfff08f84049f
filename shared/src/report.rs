//! The IAM credential report (CSV) parsed into typed rows; no I/O, no clock.
//!
//! AWS documents 22 columns. Every one of them is parsed into a typed value, because the
//! report mixes real values with sentinels: `N/A` (nothing to report, e.g. a key that was
//! never used), `not_supported` (the column does not apply, e.g. the root user's
//! `password_enabled`) and `no_information` (AWS has no record, e.g. a password last used
//! before IAM tracked it). [`Cell`] keeps that distinction instead of flattening it to `None`.
//!
//! Unknown extra columns are tolerated (AWS adds columns from time to time). Only the columns
//! the engine reads ([`USED_COLUMNS`]) can fail a run: a missing one is an error that names
//! every missing column, a value they cannot have is an error naming the line, user and column.
//! Any other documented column may be missing or hold anything: it becomes
//! [`Cell::Unrecognized`].

mod plain;

use chrono::{DateTime, FixedOffset, Utc};
use thiserror::Error;

/// The user name AWS gives the account's root user in the credential report.
pub const ROOT_USER: &str = "<root_account>";

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

/// The two columns that describe one access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyColumns {
    /// `access_key_N_active`.
    pub active: Cell<bool>,
    /// `access_key_N_last_rotated`.
    pub last_rotated: Cell<DateTime<Utc>>,
    /// `access_key_N_last_used_date`.
    pub last_used_date: Cell<DateTime<Utc>>,
    /// `access_key_N_last_used_region`.
    pub last_used_region: Cell<String>,
    /// `access_key_N_last_used_service`.
    pub last_used_service: Cell<String>,
}

/// The two columns that describe one X.509 signing certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertColumns {
    /// `cert_N_active`.
    pub active: Cell<bool>,
    /// `cert_N_last_rotated`.
    pub last_rotated: Cell<DateTime<Utc>>,
}

/// One row of the credential report: one IAM user, or the root user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// `user`: the IAM user name, or [`ROOT_USER`].
    pub user: String,
    /// `arn`.
    pub arn: String,
    /// `user_creation_time`.
    pub user_creation_time: Cell<DateTime<Utc>>,
    /// `password_enabled`: whether the user has a console password (`not_supported` for root).
    pub password_enabled: Cell<bool>,
    /// `password_last_used`.
    pub password_last_used: Cell<DateTime<Utc>>,
    /// `password_last_changed`.
    pub password_last_changed: Cell<DateTime<Utc>>,
    /// `password_next_rotation`.
    pub password_next_rotation: Cell<DateTime<Utc>>,
    /// `mfa_active`: whether an MFA device is enabled for the user.
    pub mfa_active: Cell<bool>,
    /// `access_key_1_*` and `access_key_2_*`.
    pub access_keys: [AccessKeyColumns; 2],
    /// `cert_1_*` and `cert_2_*`.
    pub certs: [CertColumns; 2],
}

impl ReportRow {
    /// Whether this row is the account's root user.
    pub fn is_root(&self) -> bool {
        self.user == ROOT_USER
    }

    /// Whether an MFA device is active; a sentinel counts as "no MFA" (the safe reading).
    pub fn has_mfa(&self) -> bool {
        matches!(self.mfa_active, Cell::Value(true))
    }

    /// The active access keys, and when one was last used.
    pub fn access_keys(&self) -> crate::devices::AccessKeys {
        let active = self
            .access_keys
            .iter()
            .filter(|k| matches!(k.active, Cell::Value(true)));
        crate::devices::AccessKeys {
            active: active.clone().count() as u8,
            last_used: active
                .filter_map(|k| k.last_used_date.value().copied())
                .max(),
        }
    }
}

/// The columns the engine reads: required, and strictly parsed.
pub const USED_COLUMNS: [&str; 9] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_used_date",
];

/// The documented columns, in AWS's order
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html>).
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// Why a credential report could not be read. Every variant names what was wrong and where.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReportError {
    /// The report has no header line at all.
    #[error("credential report is empty: expected a CSV header line")]
    Empty,
    /// Documented columns are absent from the header.
    #[error("credential report is missing required columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// The CSV itself is malformed (wrong number of fields, bad quoting, not UTF-8).
    #[error("credential report line {line}: malformed CSV: {message}")]
    Csv {
        /// 1-based line number in the report.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// A cell holds a value its column cannot have.
    #[error("credential report line {line}, user {user:?}, column {column}: unexpected value {value:?} ({expected})")]
    BadValue {
        /// 1-based line number in the report.
        line: u64,
        /// The row's user name.
        user: String,
        /// The column's name.
        column: &'static str,
        /// The offending text (never a secret: the report holds none).
        value: String,
        /// What the column accepts.
        expected: &'static str,
    },
    /// A row has an empty user name or ARN.
    #[error("credential report line {line}: empty {column}")]
    EmptyIdentity {
        /// 1-based line number in the report.
        line: u64,
        /// `user` or `arn`.
        column: &'static str,
    },
}

/// Parses a whole credential report.
///
/// Returns one row per user, the root row included, in report order. Fails on the first
/// problem with an error naming the line, user and column, so a partial report never reaches
/// the decision core.
pub fn parse(content: &[u8]) -> Result<Vec<ReportRow>, ReportError> {
    let mut rows = Vec::with_capacity(row_capacity(content));
    parse_each(content, |row| rows.push(row))?;
    Ok(rows)
}

/// Parses a whole credential report and hands each row to `visit`, in report order, without
/// holding them all: a caller that keeps a few columns per user never holds every column of
/// every user (a row is ~330 bytes; at 100,000 users that is 33 MB written for nothing).
///
/// Every row is parsed and checked before the next; on the first problem it fails with the
/// error [`parse`] names. A caller must discard what it collected when this fails.
///
/// Two readers give the same rows. AWS writes no quotes (IAM names cannot hold one, and a
/// comma in a name is the only reason to quote), so lines are split on commas directly, a
/// word at a time ([`plain`]): this is most of the speed of a 100,000-user report. From the
/// first line with a quote, a `\r` inside it or bytes that are not UTF-8, the `csv` crate
/// reads the rest. A property test holds the two to the same answers.
pub fn parse_each(content: &[u8], mut visit: impl FnMut(ReportRow)) -> Result<(), ReportError> {
    match plain::parse(content, &mut visit)? {
        plain::Stop::End => Ok(()),
        plain::Stop::Csv { from, line, header } => {
            parse_csv(&content[from..], line, header, &mut visit)
        }
    }
}

/// A capacity for one row per user that is enough for any report AWS writes, without reading
/// the report twice to count its lines: a row is at least ~150 bytes (an ARN, a creation
/// time and 20 more columns). Memory reserved and never written is never made resident.
pub(crate) fn row_capacity(content: &[u8]) -> usize {
    content.len() / 128 + 1
}

fn wrong_width(line: u64, width: usize, found: usize) -> ReportError {
    ReportError::Csv {
        line,
        message: format!("expected {width} fields, found {found}"),
    }
}

/// The `csv` crate's reader, for text from line `first_line` on, fields checked for UTF-8
/// one by one so that an error names the column. `header` is the header when the plain reader
/// already read it; otherwise the first line is the header.
fn parse_csv(
    content: &[u8],
    first_line: u64,
    mut header: Option<(ColumnIndex, usize)>,
    visit: &mut impl FnMut(ReportRow),
) -> Result<(), ReportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(content);
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => {
                return match header {
                    Some(_) => Ok(()),
                    None => Err(ReportError::Empty),
                }
            }
            Ok(true) => {
                let line = first_line - 1 + record.position().map_or(1, |p| p.line());
                let Some((index, width)) = &header else {
                    header = Some((ColumnIndex::from_headers(record.iter())?, record.len()));
                    continue;
                };
                if record.len() != *width {
                    return Err(wrong_width(line, *width, record.len()));
                }
                let text = |position: usize| {
                    std::str::from_utf8(&record[position]).map_err(|_| ReportError::Csv {
                        line,
                        message: format!("column {} is not UTF-8", index.name_at(position)),
                    })
                };
                visit(index.row(text, line)?);
            }
            Err(e) => {
                let line = first_line - 1 + e.position().map_or(1, |p| p.line());
                return Err(csv_error(&e, line));
            }
        }
    }
}

fn csv_error(e: &csv::Error, line: u64) -> ReportError {
    ReportError::Csv {
        line,
        message: e.to_string(),
    }
}

/// Where each documented column sits in this report's header.
struct ColumnIndex([usize; COLUMNS.len()]);

impl ColumnIndex {
    fn from_headers<'a>(headers: impl Iterator<Item = &'a [u8]>) -> Result<Self, ReportError> {
        let mut positions = [usize::MAX; COLUMNS.len()];
        for (position, name) in headers.enumerate() {
            // A UTF-8 byte-order mark would hide the first column's name.
            let name = name.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(name);
            if let Some(i) = COLUMNS
                .iter()
                .position(|c| c.as_bytes() == name.trim_ascii())
            {
                positions[i] = position;
            }
        }
        let missing: Vec<String> = COLUMNS
            .iter()
            .zip(positions)
            .filter(|(c, p)| *p == usize::MAX && USED_COLUMNS.contains(c))
            .map(|(c, _)| (*c).to_string())
            .collect();
        if missing.is_empty() {
            Ok(ColumnIndex(positions))
        } else {
            Err(ReportError::MissingColumns(missing))
        }
    }

    /// The documented name of the column at `position` in the record, or `extra column N`.
    fn name_at(&self, position: usize) -> String {
        match self.0.iter().position(|p| *p == position) {
            Some(column) => COLUMNS[column].to_string(),
            None => format!("extra column {}", position + 1),
        }
    }

    /// Builds a row from a record; `field(position)` gives the text at a position in it.
    fn row<'r>(
        &self,
        field: impl Fn(usize) -> Result<&'r str, ReportError>,
        line: u64,
    ) -> Result<ReportRow, ReportError> {
        // A column the engine never reads may be missing: it reads as empty, then Unrecognized.
        let text = |column: usize| match self.0[column] {
            usize::MAX => Ok(""),
            position => field(position),
        };
        let user = text(0)?.to_string();
        let arn = text(1)?.to_string();
        if user.is_empty() {
            return Err(ReportError::EmptyIdentity {
                line,
                column: "user",
            });
        }
        if arn.is_empty() {
            return Err(ReportError::EmptyIdentity {
                line,
                column: "arn",
            });
        }
        let cell = CellParser { line, user: &user };
        let flag = |column: usize| cell.flag(COLUMNS[column], text(column)?);
        let time = |column: usize| cell.time(COLUMNS[column], text(column)?);
        let string = |column: usize| text(column).map(CellParser::string);
        // Columns the engine never reads: anything they hold is accepted.
        let any_flag = |column: usize| Ok::<_, ReportError>(lenient(flag(column)));
        let any_time = |column: usize| Ok::<_, ReportError>(lenient(time(column)));
        Ok(ReportRow {
            user_creation_time: time(2)?,
            password_enabled: flag(3)?,
            password_last_used: any_time(4)?,
            password_last_changed: any_time(5)?,
            password_next_rotation: any_time(6)?,
            mfa_active: flag(7)?,
            access_keys: [
                AccessKeyColumns {
                    active: flag(8)?,
                    last_rotated: any_time(9)?,
                    last_used_date: time(10)?,
                    last_used_region: string(11)?,
                    last_used_service: string(12)?,
                },
                AccessKeyColumns {
                    active: flag(13)?,
                    last_rotated: any_time(14)?,
                    last_used_date: time(15)?,
                    last_used_region: string(16)?,
                    last_used_service: string(17)?,
                },
            ],
            certs: [
                CertColumns {
                    active: any_flag(18)?,
                    last_rotated: any_time(19)?,
                },
                CertColumns {
                    active: any_flag(20)?,
                    last_rotated: any_time(21)?,
                },
            ],
            user,
            arn,
        })
    }
}

/// A cell of a column the engine never reads: a value it could not parse (or an absent column,
/// read as empty) is [`Cell::Unrecognized`] instead of an error. Errors reading the text itself
/// (not UTF-8) still fail: they mean the CSV is broken.
fn lenient<T>(parsed: Result<Cell<T>, ReportError>) -> Cell<T> {
    parsed.unwrap_or(Cell::Unrecognized)
}

struct CellParser<'a> {
    line: u64,
    user: &'a str,
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

    fn flag(&self, column: &'static str, text: &str) -> Result<Cell<bool>, ReportError> {
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

    fn time(&self, column: &'static str, text: &str) -> Result<Cell<DateTime<Utc>>, ReportError> {
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

    fn string(text: &str) -> Cell<String> {
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
fn utc_timestamp(text: &str) -> Option<DateTime<Utc>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_fast_timestamp_path_agrees_with_rfc_3339() {
        for text in [
            "2024-01-02T03:04:05+00:00",
            "2024-01-02T03:04:05Z",
            "2024-02-29T23:59:59+00:00",
        ] {
            let general = DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(utc_timestamp(text), Some(general), "{text}");
        }
        // Not the AWS form, or not a time at all: left to the general parser.
        for text in [
            "2024-01-02T03:04:05+02:00",
            "2024-01-02T03:04:05.123+00:00",
            "2024-13-02T03:04:05+00:00",
            "2023-02-29T03:04:05+00:00",
            "2024-01-02 03:04:05+00:00",
            "abcd-01-02T03:04:05+00:00",
        ] {
            assert_eq!(utc_timestamp(text), None, "{text}");
        }
    }

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    /// A root row exactly as AWS writes it.
    const ROOT: &str = "<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,2024-05-01T10:00:00+00:00,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
    const ALICE: &str = "alice,arn:aws:iam::123456789012:user/alice,2024-01-02T03:04:05+00:00,true,no_information,2024-01-02T03:04:05+00:00,N/A,true,true,2024-01-02T03:04:05+00:00,2024-06-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
    const BOB_API: &str = "bob,arn:aws:iam::123456789012:user/bob,2024-02-02T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-02-02T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";

    fn report(lines: &[&str]) -> String {
        let mut text = String::from(HEADER);
        for line in lines {
            text.push('\n');
            text.push_str(line);
        }
        text.push('\n');
        text
    }

    #[test]
    fn parses_root_console_and_api_rows_with_sentinels() {
        let rows = parse(report(&[ROOT, ALICE, BOB_API]).as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);

        let root = &rows[0];
        assert!(root.is_root());
        assert_eq!(root.password_enabled, Cell::NotSupported);
        assert_eq!(root.password_last_changed, Cell::NotSupported);
        assert!(!root.has_mfa());

        let alice = &rows[1];
        assert_eq!(alice.user, "alice");
        assert_eq!(alice.password_enabled, Cell::Value(true));
        assert_eq!(alice.password_last_used, Cell::NoInformation);
        assert_eq!(alice.password_next_rotation, Cell::NotApplicable);
        assert!(alice.has_mfa());
        assert_eq!(
            alice.user_creation_time,
            Cell::Value(Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap())
        );
        assert_eq!(
            alice.access_keys[0].last_used_region,
            Cell::Value("us-east-1".to_string())
        );
        assert_eq!(alice.access_keys[1].active, Cell::Value(false));

        let bob = &rows[2];
        assert_eq!(bob.password_enabled, Cell::Value(false));
        assert_eq!(bob.access_keys[0].active, Cell::Value(true));
        assert_eq!(bob.access_keys[0].last_used_date, Cell::NotApplicable);
    }

    #[test]
    fn tolerates_extra_columns_anywhere_and_reordered_columns() {
        // An unknown column in the middle and one at the end; values follow their header.
        let mut columns: Vec<&str> = HEADER.split(',').collect();
        columns.insert(3, "future_column");
        columns.push("another_one");
        columns.swap(0, 1); // arn before user
        let mut alice: Vec<&str> = ALICE.split(',').collect();
        alice.insert(3, "whatever");
        alice.push("x");
        alice.swap(0, 1);
        let text = format!("{}\n{}\n", columns.join(","), alice.join(","));
        let rows = parse(text.as_bytes()).unwrap();
        assert_eq!(rows[0].user, "alice");
        assert_eq!(rows[0].arn, "arn:aws:iam::123456789012:user/alice");
        assert!(rows[0].has_mfa());
    }

    #[test]
    fn byte_order_mark_and_crlf_line_endings_are_accepted() {
        let text = format!("\u{feff}{HEADER}\r\n{ALICE}\r\n");
        let rows = parse(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].user, "alice");
    }

    #[test]
    fn header_only_report_has_no_rows() {
        assert_eq!(parse(HEADER.as_bytes()).unwrap(), vec![]);
    }

    #[test]
    fn malformed_reports_name_what_is_wrong() {
        let without_mfa_and_cert: String = HEADER
            .split(',')
            .filter(|c| *c != "mfa_active" && *c != "cert_2_last_rotated")
            .collect::<Vec<_>>()
            .join(",");
        let cases: Vec<(&str, String, ReportError)> = vec![
            ("empty", String::new(), ReportError::Empty),
            (
                // Only the columns the engine reads are required: cert_2_last_rotated is not.
                "missing columns",
                format!("{without_mfa_and_cert}\n"),
                ReportError::MissingColumns(vec!["mfa_active".into()]),
            ),
            (
                "truncated row",
                report(&[ALICE, "carol,arn:aws:iam::123456789012:user/carol,2024"]),
                ReportError::Csv {
                    line: 3,
                    message: "expected 22 fields, found 3".into(),
                },
            ),
            (
                "odd boolean",
                report(&[&ALICE.replacen(",true,no_information", ",yes,no_information", 1)]),
                ReportError::BadValue {
                    line: 2,
                    user: "alice".into(),
                    column: "password_enabled",
                    value: "yes".into(),
                    expected: "true, false, N/A, not_supported or no_information",
                },
            ),
            (
                "odd timestamp",
                report(&[&ALICE.replacen("2024-01-02T03:04:05+00:00", "yesterday", 1)]),
                ReportError::BadValue {
                    line: 2,
                    user: "alice".into(),
                    column: "user_creation_time",
                    value: "yesterday".into(),
                    expected: "an ISO 8601 timestamp, N/A, not_supported or no_information",
                },
            ),
            (
                "empty user",
                report(&[&ALICE.replacen("alice,", ",", 1)]),
                ReportError::EmptyIdentity {
                    line: 2,
                    column: "user",
                },
            ),
        ];
        for (name, text, expected) in cases {
            assert_eq!(parse(text.as_bytes()), Err(expected), "case {name}");
        }
    }

    #[test]
    fn columns_the_engine_never_reads_may_hold_anything_or_be_missing() {
        // Every unused column garbled, and one missing altogether.
        let garbled = "alice,arn:aws:iam::123456789012:user/alice,2024-01-02T03:04:05+00:00,true,last tuesday,??,someday,false,true,not a date,2024-06-01T00:00:00+00:00,moon-1,s3,false,-,N/A,N/A,N/A,maybe,never,0,x";
        let rows = parse(report(&[garbled]).as_bytes()).unwrap();
        let alice = &rows[0];
        assert_eq!(alice.password_last_used, Cell::Unrecognized);
        assert_eq!(alice.password_next_rotation, Cell::Unrecognized);
        assert_eq!(alice.access_keys[0].last_rotated, Cell::Unrecognized);
        assert_eq!(alice.certs[0].active, Cell::Unrecognized);
        // The columns the engine reads are read as ever.
        assert_eq!(alice.password_enabled, Cell::Value(true));
        assert!(!alice.has_mfa());
        assert_eq!(alice.access_keys().active, 1);
        let without_certs: String = HEADER
            .split(',')
            .filter(|c| !c.starts_with("cert_"))
            .collect::<Vec<_>>()
            .join(",");
        let short = ALICE.rsplitn(5, ',').last().unwrap();
        let rows = parse(format!("{without_certs}\n{short}\n").as_bytes()).unwrap();
        assert_eq!(rows[0].certs[1].last_rotated, Cell::Unrecognized);
        // A used column still fails the run, naming itself.
        let bad = garbled.replacen(",false,true,not a date", ",false,perhaps,not a date", 1);
        let err = parse(report(&[&bad]).as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("column access_key_1_active"),
            "{err}"
        );
    }

    #[test]
    fn errors_read_as_sentences() {
        let err = parse(b"user,arn\n").unwrap_err();
        assert!(err.to_string().starts_with(
            "credential report is missing required columns: user_creation_time, password_enabled"
        ));
    }

    #[test]
    fn a_whole_report_in_aws_format() {
        let rows = parse(include_bytes!(
            "../../tests/fixtures/reports/aws-real-format.csv"
        ))
        .unwrap();
        let users: Vec<&str> = rows.iter().map(|r| r.user.as_str()).collect();
        assert_eq!(users, ["<root_account>", "alice", "build-bot", "old-timer"]);
        assert!(rows[0].is_root() && rows[0].has_mfa());
        assert_eq!(rows[0].password_enabled, Cell::NotSupported);
        assert!(rows[0].password_last_used.value().is_some());
        let alice = &rows[1];
        assert_eq!(
            alice.access_keys[1].last_used_service,
            Cell::Value("ec2".to_string())
        );
        assert_eq!(
            alice.password_next_rotation,
            Cell::Value(Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap())
        );
        let bot = &rows[2];
        assert_eq!(bot.arn, "arn:aws:iam::111122223333:user/ci/build-bot");
        assert_eq!(bot.password_enabled, Cell::Value(false));
        assert_eq!(bot.certs[0].active, Cell::Value(true));
        assert_eq!(rows[3].password_last_used, Cell::NoInformation);
    }

    #[test]
    fn huge_and_degenerate_reports_end_in_an_error_not_a_panic_or_a_stall() {
        // One 16 MB line: no header to speak of.
        let one_line = vec![b'x'; 16 << 20];
        assert_eq!(
            parse(&one_line),
            Err(ReportError::MissingColumns(
                USED_COLUMNS.iter().map(|c| c.to_string()).collect()
            ))
        );
        // 200,000 columns, then rows of one field each.
        let mut wide = HEADER.to_string();
        wide.push_str(&",extra".repeat(200_000));
        wide.push_str(&"\nx".repeat(100_000));
        let err = parse(wide.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            ReportError::Csv {
                line: 2,
                message: "expected 200022 fields, found 1".into()
            }
        );
        // 100,000 blank lines and nothing else.
        assert_eq!(
            parse("\r\n".repeat(100_000).as_bytes()),
            Err(ReportError::Empty)
        );
        // A valid report cut at every byte: rows or an error, never a panic.
        let text = report(&[ROOT, ALICE, BOB_API]);
        for end in 0..text.len() {
            let _ = parse(&text.as_bytes()[..end]);
        }
    }

    #[test]
    fn quoted_fields_are_unquoted() {
        let quoted = ALICE.replacen("alice,", "\"alice\",", 1);
        let rows = parse(report(&[&quoted]).as_bytes()).unwrap();
        assert_eq!(rows[0].user, "alice");
    }
}

#[cfg(test)]
mod properties {
    //! The plain reader and the `csv` crate give the same answer on every report the plain
    //! reader accepts; neither panics on anything.
    use super::*;
    use proptest::prelude::*;

    fn value_for(column: &str) -> BoxedStrategy<String> {
        let pick = |values: &'static [&'static str]| {
            proptest::sample::select(values)
                .prop_map(str::to_string)
                .boxed()
        };
        match column {
            "user" => "[A-Za-z0-9_+=.@-]{0,12}".boxed(),
            "arn" => "arn:aws:iam::[0-9]{12}:user/[a-z/]{0,6}[a-z]{1,6}".boxed(),
            c if c.ends_with("_active") || c == "password_enabled" => pick(&[
                "true",
                "false",
                "TRUE",
                "False",
                "N/A",
                "not_supported",
                "no_information",
                "yes",
                "",
            ]),
            c if c.ends_with("_region") || c.ends_with("_service") => {
                pick(&["us-east-1", "s3", "N/A", "no_information", "", "a b"])
            }
            _ => pick(&[
                "2024-01-02T03:04:05+00:00",
                "2024-01-02T03:04:05Z",
                "2024-01-02T03:04:05.250+02:00",
                "2024-02-30T03:04:05+00:00",
                "N/A",
                "not_supported",
                "no_information",
                "yesterday",
            ]),
        }
    }

    /// A report without quotes: shuffled and extra columns, rows with any mix of valid and
    /// invalid values, some rows cut short or too long, `\n` or `\r\n`, blank lines.
    fn plain_report() -> impl Strategy<Value = (String, bool, bool)> {
        let mut names: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        names.push("future_column".into());
        (
            Just(names).prop_shuffle(),
            0usize..COLUMNS.len() + 2,
            proptest::bool::ANY,
            proptest::bool::weighted(0.2),
        )
            .prop_flat_map(|(mut names, drop_at, crlf, blank_lines)| {
                // Sometimes a documented column is missing from the header.
                if drop_at < names.len() && drop_at % 5 == 0 {
                    names.remove(drop_at);
                }
                let row = names
                    .iter()
                    .map(|n| value_for(n))
                    .collect::<Vec<_>>()
                    .prop_map(|v| v.join(","));
                let shape = prop_oneof![8 => Just(0i8), 1 => Just(-1i8), 1 => Just(1i8)];
                let rows = proptest::collection::vec((row, shape), 0..6);
                (Just(names), rows, Just(crlf), Just(blank_lines))
            })
            .prop_map(|(names, rows, crlf, blank_lines)| {
                let end = if crlf { "\r\n" } else { "\n" };
                let mut text = names.join(",") + end;
                for (row, shape) in rows {
                    let row = match shape {
                        -1 => row
                            .rsplit_once(',')
                            .map_or(String::new(), |(a, _)| a.to_string()),
                        1 => format!("{row},extra"),
                        _ => row,
                    };
                    text.push_str(&row);
                    text.push_str(end);
                    if blank_lines {
                        text.push_str(end);
                    }
                }
                (text, crlf, blank_lines)
            })
    }

    fn without_line(e: ReportError) -> ReportError {
        match e {
            ReportError::Csv { message, .. } => ReportError::Csv { line: 0, message },
            ReportError::BadValue {
                user,
                column,
                value,
                expected,
                ..
            } => ReportError::BadValue {
                line: 0,
                user,
                column,
                value,
                expected,
            },
            ReportError::EmptyIdentity { column, .. } => {
                ReportError::EmptyIdentity { line: 0, column }
            }
            other => other,
        }
    }

    fn plain_rows(content: &[u8]) -> Result<Vec<ReportRow>, ReportError> {
        let mut rows = Vec::new();
        match plain::parse(content, &mut |row| rows.push(row))? {
            plain::Stop::End => Ok(rows),
            plain::Stop::Csv { line, .. } => panic!("the plain reader stopped at line {line}"),
        }
    }

    fn csv_rows(content: &[u8]) -> Result<Vec<ReportRow>, ReportError> {
        let mut rows = Vec::new();
        parse_csv(content, 1, None, &mut |row| rows.push(row)).map(|()| rows)
    }

    proptest! {
        #[test]
        fn the_plain_reader_agrees_with_the_csv_crate((text, crlf, blank_lines) in plain_report()) {
            let content = text.as_bytes();
            let ours = plain_rows(content);
            let theirs = csv_rows(content);
            if blank_lines || crlf {
                // The csv crate numbers a line after blank lines as the first blank one, and
                // one after a `\r\n` header as the header's; the plain reader counts lines.
                prop_assert_eq!(ours.map_err(without_line), theirs.map_err(without_line));
            } else {
                prop_assert_eq!(ours, theirs);
            }
        }

        #[test]
        fn from_a_line_that_is_not_plain_the_csv_crate_reads_the_rest(
            (text, _, _) in plain_report(),
            line in 0usize..8,
            twist in 0usize..4,
            at in 0usize..64,
        ) {
            // One line gets what the plain reader leaves to the csv crate: a quoted field, a
            // quote inside a field, a lone `\r`, a byte that is not UTF-8.
            let mut lines: Vec<Vec<u8>> = text.split('\n').map(|l| l.as_bytes().to_vec()).collect();
            let target = line % lines.len();
            let l = &mut lines[target];
            let at = if l.is_empty() { 0 } else { at % l.len() };
            match twist {
                0 => {
                    let start = l[..at].iter().rposition(|b| *b == b',').map_or(0, |i| i + 1);
                    let end = l[at..].iter().position(|b| *b == b',' || *b == b'\r').map_or(l.len(), |i| at + i);
                    l.insert(end, b'"');
                    l.insert(start, b'"');
                }
                1 => l.insert(at, b'"'),
                2 => l.insert(at, b'\r'),
                _ => l.insert(at, 0xff),
            }
            let content = lines.join(&b'\n');
            let mut ours = Vec::new();
            let ours = parse_each(&content, |row| ours.push(row)).map(|()| ours);
            let theirs = csv_rows(&content);
            prop_assert_eq!(ours.map_err(without_line), theirs.map_err(without_line));
        }

        #[test]
        fn the_fast_timestamp_reader_agrees_with_rfc_3339(
            year in 0u32..10_000, month in 0u32..14, day in 0u32..33,
            hour in 0u32..26, minute in 0u32..62, second in 0u32..62, zulu in proptest::bool::ANY,
        ) {
            let zone = if zulu { "Z" } else { "+00:00" };
            let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{zone}");
            let general = DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc));
            // chrono reads a leap second (:60) that the fast reader refuses: then the general
            // reader still gets the text, so only agreement where the fast one answers counts.
            match utc_timestamp(&text) {
                Some(fast) => prop_assert_eq!(Some(fast), general, "{}", text),
                None => prop_assert!(general.is_none() || second == 60, "{}", text),
            }
        }

        #[test]
        fn any_bytes_give_rows_or_an_error_never_a_panic(content in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse(&content);
        }

        #[test]
        fn a_valid_report_with_any_bytes_appended_never_panics(
            tail in proptest::collection::vec(any::<u8>(), 0..512),
            quoted in proptest::bool::ANY,
        ) {
            let mut content = tests_support::valid_report(quoted).into_bytes();
            content.extend_from_slice(&tail);
            let _ = parse(&content);
        }
    }

    mod tests_support {
        pub fn valid_report(quoted: bool) -> String {
            let header = super::COLUMNS.join(",");
            let user = if quoted { "\"alice\"" } else { "alice" };
            format!("{header}\n{user},arn:aws:iam::123456789012:user/alice,2024-01-02T03:04:05+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
        }
    }
}
