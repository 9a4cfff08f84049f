//! The IAM credential report (CSV) parsed into typed rows; no I/O, no clock.
//!
//! AWS documents 22 columns. Every one of them is parsed into a typed value, because the
//! report mixes real values with sentinels: `N/A` (nothing to report, e.g. a key that was
//! never used), `not_supported` (the column does not apply, e.g. the root user's
//! `password_enabled`) and `no_information` (AWS has no record, e.g. a password last used
//! before IAM tracked it). [`Cell`] keeps that distinction instead of flattening it to `None`.
//!
//! Unknown extra columns are tolerated (AWS adds columns from time to time). Only the columns
//! the engine reads ([`Column::is_used`]) can fail a run: a missing one is an error that names
//! every missing column, a value they cannot have is an error naming the line, user and column.
//! Any other documented column may be missing or hold anything: it becomes
//! [`Cell::Unrecognized`].

mod cell;
mod columns;
mod plain;

pub use cell::Cell;
pub use columns::{Column, COLUMNS};

use cell::{lenient, CellParser};
use chrono::{DateTime, Utc};
use strum::{EnumCount, IntoEnumIterator};
use thiserror::Error;

/// The user name AWS gives the account's root user in the credential report.
pub const ROOT_USER: &str = "<root_account>";

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
/// word at a time (`plain`): this is most of the speed of a 100,000-user report. From the
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
struct ColumnIndex([usize; Column::COUNT]);

impl ColumnIndex {
    fn from_headers<'a>(headers: impl Iterator<Item = &'a [u8]>) -> Result<Self, ReportError> {
        let mut positions = [usize::MAX; Column::COUNT];
        for (position, name) in headers.enumerate() {
            // A UTF-8 byte-order mark would hide the first column's name.
            let name = name.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(name);
            if let Some(column) = Column::iter().find(|c| c.name().as_bytes() == name.trim_ascii())
            {
                positions[column as usize] = position;
            }
        }
        let missing: Vec<String> = Column::iter()
            .filter(|c| positions[*c as usize] == usize::MAX && c.is_used())
            .map(|c| c.name().to_string())
            .collect();
        if missing.is_empty() {
            Ok(ColumnIndex(positions))
        } else {
            Err(ReportError::MissingColumns(missing))
        }
    }

    /// The documented name of the column at `position` in the record, or `extra column N`.
    fn name_at(&self, position: usize) -> String {
        match Column::iter().find(|c| self.0[*c as usize] == position) {
            Some(column) => column.name().to_string(),
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
        let text = |column: Column| match self.0[column as usize] {
            usize::MAX => Ok(""),
            position => field(position),
        };
        let user = text(Column::User)?.to_string();
        let arn = text(Column::Arn)?.to_string();
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
        let flag = |column: Column| cell.flag(column.name(), text(column)?);
        let time = |column: Column| cell.time(column.name(), text(column)?);
        let string = |column: Column| text(column).map(CellParser::string);
        // Columns the engine never reads: anything they hold is accepted.
        let any_flag = |column: Column| Ok::<_, ReportError>(lenient(flag(column)));
        let any_time = |column: Column| Ok::<_, ReportError>(lenient(time(column)));
        use Column::*;
        Ok(ReportRow {
            user_creation_time: time(UserCreationTime)?,
            password_enabled: flag(PasswordEnabled)?,
            password_last_used: any_time(PasswordLastUsed)?,
            password_last_changed: any_time(PasswordLastChanged)?,
            password_next_rotation: any_time(PasswordNextRotation)?,
            mfa_active: flag(MfaActive)?,
            access_keys: [
                AccessKeyColumns {
                    active: flag(AccessKey1Active)?,
                    last_rotated: any_time(AccessKey1LastRotated)?,
                    last_used_date: time(AccessKey1LastUsedDate)?,
                    last_used_region: string(AccessKey1LastUsedRegion)?,
                    last_used_service: string(AccessKey1LastUsedService)?,
                },
                AccessKeyColumns {
                    active: flag(AccessKey2Active)?,
                    last_rotated: any_time(AccessKey2LastRotated)?,
                    last_used_date: time(AccessKey2LastUsedDate)?,
                    last_used_region: string(AccessKey2LastUsedRegion)?,
                    last_used_service: string(AccessKey2LastUsedService)?,
                },
            ],
            certs: [
                CertColumns {
                    active: any_flag(Cert1Active)?,
                    last_rotated: any_time(Cert1LastRotated)?,
                },
                CertColumns {
                    active: any_flag(Cert2Active)?,
                    last_rotated: any_time(Cert2LastRotated)?,
                },
            ],
            user,
            arn,
        })
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
