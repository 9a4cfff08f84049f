//! plan(findings) -> actions per user, and the blast-radius guard. Pure.
//!
//! Only `non_compliant` IAM users get actions: never exempt, compliant, enforced, in-grace or
//! not-applicable users, and never root (it can only be reported). An action whose effect the
//! snapshot already shows is `already_in_place` and costs no write.

use crate::finding::{Action, ActionKind, Finding, Outcome, Status};
use crate::settings::Settings;
use serde::Serialize;

/// Detail of actions skipped because the guard tripped.
pub const GUARD_TRIPPED: &str = "guard_tripped";

/// Detail of actions skipped because the run found the deny policy's default version not
/// canonical: attaching a policy whose content is unknown could grant anything.
pub const DENY_POLICY_NOT_CANONICAL: &str = "deny_policy_not_canonical";

/// The actions planned for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPlan {
    /// Index of the user's finding in the findings the plan was made from.
    pub finding: usize,
    /// The user name.
    pub user: String,
    /// One action per remediation kind, `planned` or `already_in_place`.
    pub actions: Vec<Action>,
    /// The user was contained before (the notice memory says `enforced`, or the event that
    /// started the run released them): writing to them again is no new enforcement, and the
    /// guard does not count it.
    pub recontain: bool,
}

impl UserPlan {
    /// Whether this user would get at least one write.
    pub fn writes(&self) -> bool {
        self.actions.iter().any(|a| a.outcome == Outcome::Planned)
    }
}

/// The blast-radius guard's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Guard {
    /// `MAX_ENFORCEMENTS_PER_RUN`.
    pub limit: usize,
    /// Users this run would newly enforce (write to, not counting re-containment).
    pub would_enforce: usize,
    /// Users this run would contain again: released since they were enforced.
    pub would_recontain: usize,
    /// Whether `would_enforce` exceeds `limit`: then nothing is written.
    pub tripped: bool,
}

/// What a plan needs to know of the account beyond the findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountFacts {
    /// The run found the deny policy's default version canonical.
    pub deny_policy_canonical: bool,
    /// The enforcement group carries the deny policy: `Some(false)` when it does not (or no
    /// longer exists), `None` when no group is configured or the run could not tell.
    pub enforcement_group_carries_deny: Option<bool>,
}

impl AccountFacts {
    /// Facts for a run whose deny policy is canonical and whose group, if any, carries it.
    pub fn sound() -> AccountFacts {
        AccountFacts {
            deny_policy_canonical: true,
            enforcement_group_carries_deny: Some(true),
        }
    }

    /// Whether the enforcement group holds nobody (it does not carry the deny policy): users
    /// added to it get the deny policy attached directly as well.
    pub fn group_is_hollow(&self) -> bool {
        self.enforcement_group_carries_deny == Some(false)
    }
}

/// A run's plan: the actions per user, and whether the guard allows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Users with actions, in findings order.
    pub users: Vec<UserPlan>,
    /// The guard's verdict.
    pub guard: Guard,
}

impl Plan {
    /// Number of actions still `planned`.
    pub fn planned_actions(&self) -> usize {
        self.users
            .iter()
            .flat_map(|u| &u.actions)
            .filter(|a| a.outcome == Outcome::Planned)
            .count()
    }
}

/// Plans the remediation of every `non_compliant` IAM user.
///
/// When the enforcement group no longer carries the deny policy, a user it should hold gets the
/// deny policy attached directly as well, so that nobody is left non-compliant run after run.
/// When the run found the deny policy not canonical, every action that would write is `skipped`
/// with detail `deny_policy_not_canonical`: the enforcement group carries the same policy, so
/// neither attaching it nor adding to the group is safe. When more users would be newly
/// enforced than `MAX_ENFORCEMENTS_PER_RUN`, every planned action becomes `skipped` with detail
/// `guard_tripped`: the plan is still reported, nothing is written. Users contained again after
/// being released do not count against the guard: an insider who frees a group of contained
/// users cannot keep them free by making them too many.
pub fn plan(findings: &[Finding], settings: &Settings, account: &AccountFacts) -> Plan {
    let mut users: Vec<UserPlan> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.status == Status::NonCompliant && !f.facts.is_root)
        .map(|(index, f)| UserPlan {
            finding: index,
            user: f.user.clone(),
            actions: actions_for(f, settings, account),
            recontain: f.facts.released
                || f.facts
                    .notified
                    .is_some_and(|m| m.status == Status::Enforced),
        })
        .collect();
    if !account.deny_policy_canonical {
        skip_planned(&mut users, DENY_POLICY_NOT_CANONICAL);
    }
    let writing = || users.iter().filter(|u| u.writes());
    let would_enforce = writing().filter(|u| !u.recontain).count();
    let would_recontain = writing().filter(|u| u.recontain).count();
    let tripped = would_enforce > settings.max_enforcements_per_run;
    if tripped {
        skip_planned(&mut users, GUARD_TRIPPED);
    }
    Plan {
        users,
        guard: Guard {
            limit: settings.max_enforcements_per_run,
            would_enforce,
            would_recontain,
            tripped,
        },
    }
}

fn skip_planned(users: &mut [UserPlan], detail: &str) {
    for action in users.iter_mut().flat_map(|u| &mut u.actions) {
        if action.outcome == Outcome::Planned {
            action.outcome = Outcome::Skipped;
            action.detail = Some(detail.to_string());
        }
    }
}

fn actions_for(finding: &Finding, settings: &Settings, account: &AccountFacts) -> Vec<Action> {
    let action = |kind, target: &str, in_place: bool| Action {
        kind,
        target: target.to_string(),
        outcome: if in_place {
            Outcome::AlreadyInPlace
        } else {
            Outcome::Planned
        },
        error: None,
        detail: None,
    };
    let mut actions = Vec::new();
    let group_holds_nobody = settings.remediation.adds_to_group() && account.group_is_hollow();
    if settings.remediation.attaches_policy() || group_holds_nobody {
        actions.push(action(
            ActionKind::AttachDenyPolicy,
            &settings.deny_policy_arn,
            finding.facts.deny_attached_to_user,
        ));
    }
    if let (true, Some(group)) = (
        settings.remediation.adds_to_group(),
        &settings.enforcement_group,
    ) {
        actions.push(action(
            ActionKind::AddToEnforcementGroup,
            group,
            finding.facts.in_enforcement_group,
        ));
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{FindingFacts, Reason};
    use crate::settings::RawSettings;
    use strum::IntoEnumIterator;

    const DENY: &str = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";

    fn settings(remediation: &str, max: &str) -> Settings {
        Settings::parse(&RawSettings {
            deny_policy_arn: Some(DENY.into()),
            enforcement_group: Some("MFAEnforced".into()),
            remediation: Some(remediation.into()),
            max_enforcements_per_run: Some(max.into()),
            ..RawSettings::default()
        })
        .unwrap()
    }

    fn finding(user: &str, status: Status, facts: FindingFacts) -> Finding {
        Finding {
            user: user.into(),
            arn: format!("arn:aws:iam::123456789012:user/{user}"),
            user_id: None,
            status,
            reasons: vec![Reason::NoMfa],
            mfa_active: false,
            password_enabled: Some(true),
            groups: vec![],
            exempt_until: None,
            mfa_devices: vec![],
            access_keys: Default::default(),
            actions: vec![],
            facts,
        }
    }

    fn kinds_and_outcomes(plan: &UserPlan) -> Vec<(ActionKind, Outcome)> {
        plan.actions.iter().map(|a| (a.kind, a.outcome)).collect()
    }

    #[test]
    fn only_non_compliant_iam_users_get_actions() {
        let findings: Vec<Finding> = Status::iter()
            .map(|s| finding(s.as_str(), s, FindingFacts::default()))
            .chain([finding(
                "<root_account>",
                Status::NonCompliant,
                FindingFacts {
                    is_root: true,
                    ..FindingFacts::default()
                },
            )])
            .collect();
        let plan = plan(
            &findings,
            &settings("attach-policy", "20"),
            &AccountFacts::sound(),
        );
        let users: Vec<&str> = plan.users.iter().map(|u| u.user.as_str()).collect();
        assert_eq!(users, ["non_compliant"]);
        assert_eq!(plan.users[0].finding, 5);
    }

    #[test]
    fn remediation_decides_the_actions_and_snapshot_marks_what_is_in_place() {
        use ActionKind::*;
        use Outcome::*;
        let none = FindingFacts::default();
        let in_group = FindingFacts {
            in_enforcement_group: true,
            ..none.clone()
        };
        let attached = FindingFacts {
            deny_attached_to_user: true,
            ..none.clone()
        };
        let cases = [
            (
                "attach-policy",
                none.clone(),
                vec![(AttachDenyPolicy, Planned)],
            ),
            (
                "add-to-group",
                none.clone(),
                vec![(AddToEnforcementGroup, Planned)],
            ),
            (
                "both",
                none.clone(),
                vec![
                    (AttachDenyPolicy, Planned),
                    (AddToEnforcementGroup, Planned),
                ],
            ),
            (
                "both",
                in_group.clone(),
                vec![
                    (AttachDenyPolicy, Planned),
                    (AddToEnforcementGroup, AlreadyInPlace),
                ],
            ),
            (
                "both",
                attached,
                vec![
                    (AttachDenyPolicy, AlreadyInPlace),
                    (AddToEnforcementGroup, Planned),
                ],
            ),
            (
                "add-to-group",
                in_group,
                vec![(AddToEnforcementGroup, AlreadyInPlace)],
            ),
        ];
        for (remediation, facts, expected) in cases {
            let p = plan(
                &[finding("u", Status::NonCompliant, facts.clone())],
                &settings(remediation, "20"),
                &AccountFacts::sound(),
            );
            assert_eq!(
                kinds_and_outcomes(&p.users[0]),
                expected,
                "{remediation} {facts:?}"
            );
        }
        let p = plan(
            &[finding("u", Status::NonCompliant, none)],
            &settings("both", "20"),
            &AccountFacts::sound(),
        );
        assert_eq!(p.users[0].actions[0].target, DENY);
        assert_eq!(p.users[0].actions[1].target, "MFAEnforced");
    }

    #[test]
    fn guard_counts_users_with_writes_and_trips_above_the_limit() {
        let users = |n: usize| -> Vec<Finding> {
            (0..n)
                .map(|i| {
                    finding(
                        &format!("u{i}"),
                        Status::NonCompliant,
                        FindingFacts::default(),
                    )
                })
                .collect()
        };
        for (n, limit, tripped) in [
            (0, 0, false),
            (3, 3, false),
            (4, 3, true),
            (1, 0, true),
            (50, 20, true),
        ] {
            let p = plan(
                &users(n),
                &settings("both", &limit.to_string()),
                &AccountFacts::sound(),
            );
            assert_eq!(
                p.guard,
                Guard {
                    limit,
                    would_enforce: n,
                    would_recontain: 0,
                    tripped
                },
                "n={n} limit={limit}"
            );
            let outcomes: Vec<Outcome> = p
                .users
                .iter()
                .flat_map(|u| &u.actions)
                .map(|a| a.outcome)
                .collect();
            assert_eq!(outcomes.len(), 2 * n);
            if tripped {
                assert!(outcomes.iter().all(|o| *o == Outcome::Skipped));
                assert!(p
                    .users
                    .iter()
                    .flat_map(|u| &u.actions)
                    .all(|a| a.detail.as_deref() == Some(GUARD_TRIPPED)));
                assert_eq!(p.planned_actions(), 0);
            } else {
                assert_eq!(p.planned_actions(), 2 * n);
            }
        }
    }

    #[test]
    fn users_whose_actions_are_all_in_place_do_not_count_against_the_guard() {
        let in_group = FindingFacts {
            in_enforcement_group: true,
            ..FindingFacts::default()
        };
        let findings = vec![
            finding("a", Status::NonCompliant, in_group),
            finding("b", Status::NonCompliant, FindingFacts::default()),
        ];
        let p = plan(
            &findings,
            &settings("add-to-group", "1"),
            &AccountFacts::sound(),
        );
        assert_eq!(p.guard.would_enforce, 1);
        assert!(!p.guard.tripped);
    }

    #[test]
    fn nothing_is_written_while_the_deny_policy_is_not_canonical() {
        let findings: Vec<Finding> = (0..30)
            .map(|i| {
                finding(
                    &format!("u{i}"),
                    Status::NonCompliant,
                    FindingFacts::default(),
                )
            })
            .collect();
        let p = plan(
            &findings,
            &settings("both", "20"),
            &AccountFacts {
                deny_policy_canonical: false,
                ..AccountFacts::sound()
            },
        );
        assert_eq!(p.planned_actions(), 0);
        assert!(p
            .users
            .iter()
            .flat_map(|u| &u.actions)
            .all(|a| a.outcome == Outcome::Skipped
                && a.detail.as_deref() == Some(DENY_POLICY_NOT_CANONICAL)));
        // Nothing would be written, so the guard has nothing to stop.
        assert_eq!((p.guard.would_enforce, p.guard.tripped), (0, false));
    }

    #[test]
    fn planning_twice_gives_the_same_plan() {
        let findings = vec![finding("a", Status::NonCompliant, FindingFacts::default())];
        let s = settings("both", "20");
        assert_eq!(
            plan(&findings, &s, &AccountFacts::sound()),
            plan(&findings, &s, &AccountFacts::sound())
        );
    }
}
