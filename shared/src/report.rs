//! The IAM credential report (CSV) parsed into typed rows; no I/O, no clock.
//!
//! AWS documents 22 columns. Every one of them is parsed into a typed value, because the
//! report mixes real values with sentinels: `N/A` (nothing to report, e.g. a key that was
//! never used), `not_supported` (the column does not apply, e.g. the root user's
//! `password_enabled`) and `no_information` (AWS has no record, e.g. a password last used
//! before IAM tracked it). [`Cell`] keeps that distinction instead of flattening it to `None`.
//!
//! Unknown extra columns are tolerated (AWS adds columns from time to time); a missing
//! documented column is an error that names every missing column.

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
}

/// The documented columns, in AWS's order. All are required.
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
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(content);
    let headers = reader.byte_headers().map_err(|e| csv_error(&e, 1))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(ReportError::Empty);
    }
    let index = ColumnIndex::from_headers(&headers)?;
    // One row per line: sized once, so that large reports are not copied as the list grows.
    let lines = content.iter().filter(|b| **b == b'\n').count();
    let mut rows = Vec::with_capacity(lines + 1);
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                rows.push(index.row(&record, line)?);
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(csv_error(&e, line));
            }
        }
    }
    Ok(rows)
}

fn csv_error(e: &csv::Error, line: u64) -> ReportError {
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        _ => e.to_string(),
    };
    ReportError::Csv { line, message }
}

/// Where each documented column sits in this report's header.
struct ColumnIndex([usize; COLUMNS.len()]);

impl ColumnIndex {
    fn from_headers(headers: &csv::ByteRecord) -> Result<Self, ReportError> {
        let mut positions = [usize::MAX; COLUMNS.len()];
        for (position, name) in headers.iter().enumerate() {
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
            .filter(|(_, p)| *p == usize::MAX)
            .map(|(c, _)| (*c).to_string())
            .collect();
        if missing.is_empty() {
            Ok(ColumnIndex(positions))
        } else {
            Err(ReportError::MissingColumns(missing))
        }
    }

    fn row(&self, record: &csv::ByteRecord, line: u64) -> Result<ReportRow, ReportError> {
        let text = |column: usize| -> Result<&str, ReportError> {
            std::str::from_utf8(&record[self.0[column]]).map_err(|_| ReportError::Csv {
                line,
                message: format!("column {} is not UTF-8", COLUMNS[column]),
            })
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
        Ok(ReportRow {
            user_creation_time: time(2)?,
            password_enabled: flag(3)?,
            password_last_used: time(4)?,
            password_last_changed: time(5)?,
            password_next_rotation: time(6)?,
            mfa_active: flag(7)?,
            access_keys: [
                AccessKeyColumns {
                    active: flag(8)?,
                    last_rotated: time(9)?,
                    last_used_date: time(10)?,
                    last_used_region: string(11)?,
                    last_used_service: string(12)?,
                },
                AccessKeyColumns {
                    active: flag(13)?,
                    last_rotated: time(14)?,
                    last_used_date: time(15)?,
                    last_used_region: string(16)?,
                    last_used_service: string(17)?,
                },
            ],
            certs: [
                CertColumns {
                    active: flag(18)?,
                    last_rotated: time(19)?,
                },
                CertColumns {
                    active: flag(20)?,
                    last_rotated: time(21)?,
                },
            ],
            user,
            arn,
        })
    }
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
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let time = date.and_hms_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?)?;
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
                "missing columns",
                format!("{without_mfa_and_cert}\n"),
                ReportError::MissingColumns(vec![
                    "mfa_active".into(),
                    "cert_2_last_rotated".into(),
                ]),
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
    fn quoted_fields_are_unquoted() {
        let quoted = ALICE.replacen("alice,", "\"alice\",", 1);
        let rows = parse(report(&[&quoted]).as_bytes()).unwrap();
        assert_eq!(rows[0].user, "alice");
    }
}
