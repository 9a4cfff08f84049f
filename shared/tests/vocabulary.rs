//! One vocabulary from code to notification: every enum whose names other tools read (the JSON
//! report, notifications, tags, logs) spells each variant the same way in serde, strum and
//! `as_str`, and reads back to the same variant from JSON and from text (a tag's value).
#![allow(clippy::unwrap_used)]

use mfa_enforcer::devices::MfaDeviceType;
use mfa_enforcer::event::{HandledEvent, IgnoreReason};
use mfa_enforcer::finding::NoticeMemory;
use mfa_enforcer::finding::{ActionKind, Outcome, Reason, Status};
use mfa_enforcer::iam_state::Tags;
use mfa_enforcer::notices::{memory_tags, read_memory};
use mfa_enforcer::run_report::PolicyActionKind;
use mfa_enforcer::settings::Remediation;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashSet;
use std::fmt::{Debug, Display};
use std::str::FromStr;
use strum::IntoEnumIterator;

/// Checks every variant of `T`; returns the names, in variant order.
fn round_trips<T>(case: fn(&str) -> bool) -> Vec<&'static str>
where
    T: IntoEnumIterator + Serialize + DeserializeOwned + FromStr + Display + Debug + Copy,
    T: PartialEq + Into<&'static str>,
{
    let mut names = Vec::new();
    for variant in T::iter() {
        let name: &'static str = variant.into();
        assert!(case(name), "{variant:?} is named {name:?}");
        assert_eq!(variant.to_string(), name, "{variant:?}: Display");
        let json = serde_json::to_value(variant).unwrap();
        assert_eq!(json, serde_json::json!(name), "{variant:?}: serde");
        assert_eq!(serde_json::from_value::<T>(json).unwrap(), variant);
        assert!(name.parse::<T>().ok() == Some(variant), "{name}: FromStr");
        names.push(name);
    }
    let unique: HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    assert!(!names.is_empty());
    names
}

fn snake_case(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with('_')
        && !name.ends_with('_')
}

#[test]
fn report_vocabulary_is_one_spelling_everywhere() {
    let statuses = round_trips::<Status>(snake_case);
    assert_eq!(
        statuses,
        [
            "not_applicable",
            "exempt",
            "in_grace",
            "compliant",
            "enforced",
            "non_compliant"
        ]
    );
    for status in Status::iter() {
        assert_eq!(status.as_str(), status.to_string());
    }
    round_trips::<Reason>(snake_case);
    round_trips::<Outcome>(snake_case);
    round_trips::<IgnoreReason>(snake_case);
    round_trips::<MfaDeviceType>(snake_case);
    round_trips::<mfa_enforcer::roles::RoleClassification>(snake_case);
    round_trips::<mfa_enforcer::roles::RoleReason>(snake_case);
    assert_eq!(
        round_trips::<ActionKind>(snake_case),
        ["attach_deny_policy", "add_to_enforcement_group"]
    );
    assert_eq!(
        round_trips::<PolicyActionKind>(snake_case),
        ["set_default_version", "delete_version"]
    );
}

#[test]
fn notice_memory_reads_back_every_status_it_writes() {
    let at = chrono::DateTime::parse_from_rfc3339("2026-06-15T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    for status in Status::iter() {
        let tags: Tags = memory_tags(status, at)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(
            read_memory(&tags),
            Some(NoticeMemory { status, at }),
            "{status}"
        );
    }
    // A value no status has is no memory (the next notice is sent as a change).
    let tags: Tags = [
        ("mfa-enforcer:notified-status", "Enforced"),
        ("mfa-enforcer:notified-at", "2026-06-15T12:00:00Z"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(read_memory(&tags), None);
}

#[test]
fn remediation_values_are_the_settings_words() {
    let names: Vec<&str> = Remediation::iter().map(<&str>::from).collect();
    assert_eq!(names, ["attach-policy", "add-to-group", "both"]);
    for r in Remediation::iter() {
        assert_eq!(r.to_string().parse::<Remediation>().unwrap(), r);
        assert_eq!(
            r.to_string().to_uppercase().parse::<Remediation>().unwrap(),
            r
        );
    }
}

#[test]
fn handled_events_are_named_as_cloudtrail_spells_them() {
    let names = HandledEvent::names();
    assert_eq!(names.len(), 16);
    for name in &names {
        let event: HandledEvent = name.parse().unwrap();
        assert_eq!(<&str>::from(event), *name);
        assert!(name.chars().next().unwrap().is_ascii_uppercase(), "{name}");
    }
    // CloudTrail's spelling, not a PascalCase guess.
    assert!(names.contains(&"EnableMFADevice"));
    assert!(names.contains(&"DeleteVirtualMFADevice"));
    assert!("EnableMfaDevice".parse::<HandledEvent>().is_err());
}
