//! The plain reader and the `csv` crate give the same answer on every report the plain
//! reader accepts; neither panics on anything.
use super::cell::utc_timestamp;
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
        ReportError::EmptyIdentity { column, .. } => ReportError::EmptyIdentity { line: 0, column },
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
