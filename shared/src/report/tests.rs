use super::cell::utc_timestamp;
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
        "../../../tests/fixtures/reports/aws-real-format.csv"
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
            Column::iter()
                .filter(|c| c.is_used())
                .map(|c| c.name().to_string())
                .collect()
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
