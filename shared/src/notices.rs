//! Who is told about their own status, and when to remind them. Pure.
//!
//! A user hears once per status change (to `non_compliant`, `enforced` or `in_grace`) and is
//! reminded at most every `REMIND_AFTER_HOURS` while still `in_grace` or `enforced`. The memory
//! lives on the IAM user itself, in two tags, so there is no datastore to run: what status they
//! were last told about, and when.

use crate::finding::{Finding, NoticeMemory, Status};
use crate::iam_state::Tags;
use crate::tag_keys::{NOTIFIED_AT_TAG, NOTIFIED_STATUS_TAG};
use chrono::{DateTime, Duration, Utc};

/// Reads what a user was last told from their tags; `None` when either tag is missing or
/// unreadable (then the next notice is sent as a change: a lost memory costs one message,
/// never a missed one).
pub fn read_memory(tags: &Tags) -> Option<NoticeMemory> {
    let status = tags
        .get(NOTIFIED_STATUS_TAG)?
        .trim()
        .parse::<Status>()
        .ok()?;
    let at = DateTime::parse_from_rfc3339(tags.get(NOTIFIED_AT_TAG)?.trim())
        .ok()?
        .with_timezone(&Utc);
    Some(NoticeMemory { status, at })
}

/// The tags that record telling a user about `status` at `now`.
pub fn memory_tags(status: Status, now: DateTime<Utc>) -> [(&'static str, String); 2] {
    [
        (NOTIFIED_STATUS_TAG, status.as_str().to_string()),
        (
            NOTIFIED_AT_TAG,
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
    ]
}

/// A digest of the exempt users and their end dates, in the form [`crate::tag_keys::EXEMPT_DIGEST_TAG`] holds
/// (64-bit FNV-1a in hex, over the sorted list; the digest of no exemption at all is that of
/// the empty list). Not a secret: only a change detector.
pub fn exempt_digest(findings: &[Finding]) -> String {
    let mut lines: Vec<String> = findings
        .iter()
        .filter(|f| f.status == Status::Exempt)
        .map(|f| {
            let until = f.exempt_until.map(|t| t.to_rfc3339()).unwrap_or_default();
            format!("{}\0{until}\n", f.user)
        })
        .collect();
    lines.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in lines.concat().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Why a user gets a message (or only a new memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Their status changed to one they must hear about.
    Changed,
    /// Still `in_grace` or `enforced`, and the last message is older than the interval.
    Reminder,
    /// Their status moved to one that needs no message (they enrolled MFA, say): the memory
    /// is updated so that a later change is noticed.
    RecordOnly,
    /// They have MFA and this run put them under the deny policy: console sign-in is unchanged,
    /// but calls with their access keys now need an MFA session (`user_held_to_mfa`).
    HeldToMfa,
}

/// One user's notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    /// Index into the findings.
    pub finding: usize,
    /// The status after this run's actions.
    pub status: Status,
    /// Why.
    pub kind: NoticeKind,
}

/// The status a user has once this run's actions are counted: a non-compliant user whose
/// remediation holds is now `enforced` (no MFA) or `compliant` (MFA, now under the deny
/// policy or in the enforcement group).
pub fn status_after_run(finding: &Finding) -> Status {
    match (finding.status, finding.remains_non_compliant()) {
        (Status::NonCompliant, false) if finding.mfa_active => Status::Compliant,
        (Status::NonCompliant, false) => Status::Enforced,
        (status, _) => status,
    }
}

/// Whether this run put a user who has MFA under the deny policy (attached it, or added them
/// to the enforcement group): they were non-compliant, and what was applied holds.
pub fn held_to_mfa(finding: &Finding) -> bool {
    finding.status == Status::NonCompliant
        && finding.mfa_active
        && !finding.remains_non_compliant()
        && finding
            .actions
            .iter()
            .any(|a| a.outcome == crate::finding::Outcome::Applied)
}

/// The statuses a user is told about.
pub fn announced(status: Status) -> bool {
    matches!(
        status,
        Status::NonCompliant | Status::Enforced | Status::InGrace
    )
}

/// Decides who hears what. Root (no tags), exempt users (never written to) and users gone from
/// IAM get nothing.
pub fn plan_notices(
    findings: &[Finding],
    now: DateTime<Utc>,
    remind_after: Duration,
) -> Vec<Notice> {
    findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.facts.in_iam && !f.facts.is_root && f.status != Status::Exempt)
        .filter_map(|(i, f)| {
            let status = status_after_run(f);
            let memory = f.facts.notified;
            let kind = match memory {
                _ if held_to_mfa(f) => NoticeKind::HeldToMfa,
                _ if !announced(status) => match memory {
                    Some(m) if m.status != status => NoticeKind::RecordOnly,
                    _ => return None,
                },
                Some(m) if m.status == status => {
                    let reminds = matches!(status, Status::InGrace | Status::Enforced);
                    if reminds && now.signed_duration_since(m.at) >= remind_after {
                        NoticeKind::Reminder
                    } else {
                        return None;
                    }
                }
                _ => NoticeKind::Changed,
            };
            Some(Notice {
                finding: i,
                status,
                kind,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Action, ActionKind, FindingFacts, Outcome};
    use chrono::TimeZone;

    #[test]
    fn the_exemption_digest_changes_with_who_is_exempt_and_until_when_only() {
        let exempt = |user: &str, until: Option<i64>| {
            let mut f = finding(Status::Exempt, None, None);
            f.user = user.into();
            f.exempt_until = until.and_then(|d| Utc.timestamp_opt(d, 0).single());
            f
        };
        let other = finding(Status::Compliant, None, None);
        let base = exempt_digest(&[exempt("a", None), exempt("b", Some(1_900_000_000))]);
        // Order and other users do not matter.
        assert_eq!(
            exempt_digest(&[
                other.clone(),
                exempt("b", Some(1_900_000_000)),
                exempt("a", None)
            ]),
            base
        );
        // Who and until when do.
        for changed in [
            vec![exempt("a", None)],
            vec![exempt("a", None), exempt("b", Some(1_900_000_001))],
            vec![exempt("a", None), exempt("b", None)],
            vec![
                exempt("a", None),
                exempt("b", Some(1_900_000_000)),
                exempt("c", None),
            ],
        ] {
            assert_ne!(exempt_digest(&changed), base);
        }
        assert_eq!(exempt_digest(&[other]), exempt_digest(&[]));
        assert_eq!(base.len(), 16);
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
    }

    fn finding(status: Status, outcome: Option<Outcome>, told: Option<(Status, i64)>) -> Finding {
        Finding {
            user: "u".into(),
            arn: "arn:aws:iam::123456789012:user/u".into(),
            user_id: None,
            status,
            reasons: vec![],
            mfa_active: false,
            password_enabled: Some(true),
            groups: vec![],
            exempt_until: None,
            mfa_devices: vec![],
            access_keys: Default::default(),
            actions: outcome
                .map(|o| Action {
                    kind: ActionKind::AttachDenyPolicy,
                    target: "p".into(),
                    outcome: o,
                    error: None,
                    detail: None,
                })
                .into_iter()
                .collect(),
            facts: FindingFacts {
                in_iam: true,
                notified: told.map(|(status, hours_ago)| NoticeMemory {
                    status,
                    at: now() - Duration::hours(hours_ago),
                }),
                ..FindingFacts::default()
            },
        }
    }

    #[test]
    fn told_once_per_change_reminded_after_the_interval() {
        use NoticeKind::*;
        use Status::*;
        let cases: [(Finding, Option<(Status, NoticeKind)>); 13] = [
            // Newly enforced by this run.
            (
                finding(NonCompliant, Some(Outcome::Applied), None),
                Some((Enforced, Changed)),
            ),
            // Non-compliant and the write failed: told so.
            (
                finding(NonCompliant, Some(Outcome::Failed), None),
                Some((NonCompliant, Changed)),
            ),
            // Already told they are non-compliant: no reminder for that status.
            (
                finding(
                    NonCompliant,
                    Some(Outcome::Failed),
                    Some((NonCompliant, 100)),
                ),
                None,
            ),
            // From in_grace to enforced: a change.
            (
                finding(NonCompliant, Some(Outcome::Applied), Some((InGrace, 1))),
                Some((Enforced, Changed)),
            ),
            (finding(Enforced, None, Some((Enforced, 23))), None),
            (
                finding(Enforced, None, Some((Enforced, 24))),
                Some((Enforced, Reminder)),
            ),
            (finding(InGrace, None, None), Some((InGrace, Changed))),
            (
                finding(InGrace, None, Some((InGrace, 30))),
                Some((InGrace, Reminder)),
            ),
            // MFA but outside the group, now under the deny policy: compliant, and told that
            // calls with their access keys now need an MFA session.
            (
                Finding {
                    mfa_active: true,
                    ..finding(NonCompliant, Some(Outcome::Applied), None)
                },
                Some((Compliant, HeldToMfa)),
            ),
            // Enrolled MFA since: remember it, say nothing.
            (
                finding(Compliant, None, Some((Enforced, 2))),
                Some((Compliant, RecordOnly)),
            ),
            (finding(Compliant, None, Some((Compliant, 2))), None),
            (finding(Compliant, None, None), None),
            // Exempt users are never written to, even to update a memory.
            (finding(Exempt, None, Some((Enforced, 2))), None),
        ];
        for (i, (f, expected)) in cases.into_iter().enumerate() {
            let got = plan_notices(&[f], now(), Duration::hours(24))
                .first()
                .map(|n| (n.status, n.kind));
            assert_eq!(got, expected, "case {i}");
        }
    }

    #[test]
    fn root_and_deleted_users_get_nothing() {
        let mut root = finding(Status::NonCompliant, None, None);
        root.facts.is_root = true;
        let mut gone = finding(Status::NonCompliant, None, None);
        gone.facts.in_iam = false;
        assert!(plan_notices(&[root, gone], now(), Duration::hours(24)).is_empty());
    }

    #[test]
    fn memory_round_trips_through_tags_and_bad_tags_count_as_none() {
        let tags: crate::iam_state::Tags = memory_tags(Status::InGrace, now())
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(tags.get(NOTIFIED_AT_TAG), Some("2026-06-15T12:00:00Z"));
        assert_eq!(
            read_memory(&tags),
            Some(NoticeMemory {
                status: Status::InGrace,
                at: now()
            })
        );
        let mut bad = tags.clone();
        bad.insert(NOTIFIED_STATUS_TAG, "sort-of");
        assert_eq!(read_memory(&bad), None);
        let mut undated = tags;
        undated.remove(NOTIFIED_AT_TAG);
        assert_eq!(read_memory(&undated), None);
    }
}
