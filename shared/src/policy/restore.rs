//! How the deny policy is brought back to a canonical document without ever writing one. Pure.
//!
//! The enforcer never authors policy content: it may only make an existing version the
//! default (`SetDefaultPolicyVersion`) and delete versions that are not the default
//! (`DeletePolicyVersion`); neither can grant anything that is not already written down.
//! Policy versions are immutable, so a version whose document is canonical stays canonical.
//! After a repair, every non-canonical version is gone: nobody, the enforcer's own role
//! included, can make one the default again.

use chrono::{DateTime, Utc};

/// One version of the deny policy, as a restore sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionState<'a> {
    /// `v1`, `v2`...
    pub id: &'a str,
    /// Whether it is the default (effective) version.
    pub is_default: bool,
    /// When it was created, if known.
    pub created: Option<DateTime<Utc>>,
    /// The release whose document it holds, as an index into [`super::RELEASES`]; `None`
    /// when its document is not canonical.
    pub release: Option<usize>,
}

impl VersionState<'_> {
    /// Whether its document is one this project released.
    pub fn canonical(&self) -> bool {
        self.release.is_some()
    }
}

/// What it takes to leave the deny policy with a canonical default and nothing else that
/// could be made the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restore<'a> {
    /// The default is canonical and every other version is canonical too: nothing to do.
    InPlace,
    /// Make `set_default` the default (when the default is not canonical), then delete every
    /// version that is not canonical.
    Repair {
        /// The canonical version to make the default; `None` when the default already is.
        set_default: Option<&'a str>,
        /// Non-canonical versions, to delete once they are not the default.
        delete: Vec<&'a str>,
    },
    /// No version is canonical. The enforcer writes nothing: an operator must create one
    /// (see [`operator_commands`]), deleting `prune` first when IAM's limit is reached.
    NoCanonicalVersion {
        /// The oldest non-default version, when the policy already has IAM's maximum.
        prune: Option<&'a str>,
    },
}

/// Decides the restore from every version of the deny policy.
///
/// With several canonical versions the newest release wins, then the newest version, so that
/// concurrent runs pick the same one; a canonical default of an older release than one that
/// exists is brought forward too.
pub fn restore<'a>(versions: &[VersionState<'a>]) -> Restore<'a> {
    let non_canonical: Vec<&'a str> = versions
        .iter()
        .filter(|v| !v.canonical())
        .map(|v| v.id)
        .collect();
    let best = versions
        .iter()
        .filter(|v| v.canonical())
        .max_by_key(|v| (v.release, v.created, version_number(v.id)));
    if let Some(default) = versions.iter().find(|v| v.is_default && v.canonical()) {
        // A canonical default of an older release than a version that exists (a switch back
        // to a weaker document, say) is brought forward; it stays as a restore point.
        let set_default = best.filter(|b| b.release > default.release).map(|b| b.id);
        return if non_canonical.is_empty() && set_default.is_none() {
            Restore::InPlace
        } else {
            Restore::Repair {
                set_default,
                delete: non_canonical,
            }
        };
    }
    match best {
        Some(v) => Restore::Repair {
            set_default: Some(v.id),
            delete: non_canonical,
        },
        None => Restore::NoCanonicalVersion {
            prune: version_to_prune(versions),
        },
    }
}

/// The version to delete before a new one can be created: the oldest non-default version,
/// when the policy already has IAM's maximum of versions (versions without a creation time
/// count as oldest, ties go to the lowest version number).
fn version_to_prune<'a>(versions: &[VersionState<'a>]) -> Option<&'a str> {
    if versions.len() < super::MAX_POLICY_VERSIONS {
        return None;
    }
    versions
        .iter()
        .filter(|v| !v.is_default)
        .min_by_key(|v| (v.created, version_number(v.id)))
        .map(|v| v.id)
}

/// The file name the operator commands write the canonical document to.
pub const DOCUMENT_FILE: &str = "deny-without-mfa.json";

/// The commands an operator runs, with their own credentials, to give the deny policy a
/// canonical default again when no version holds one. Redeploying an unchanged stack would
/// not: CloudFormation sees no change to make.
pub fn operator_commands(policy_arn: &str, prune: Option<&str>) -> Vec<String> {
    let mut commands = vec![format!("mfa-enforcer policy-document > {DOCUMENT_FILE}")];
    if let Some(version) = prune {
        commands.push(format!(
            "aws iam delete-policy-version --policy-arn {policy_arn} --version-id {version}"
        ));
    }
    commands.push(format!(
        "aws iam create-policy-version --policy-arn {policy_arn} --policy-document file://{DOCUMENT_FILE} --set-as-default"
    ));
    commands
}

fn version_number(id: &str) -> u64 {
    id.trim_start_matches('v').parse().unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Versions from `(id, default, release)`, created in order.
    fn versions(spec: &[(&'static str, bool, Option<usize>)]) -> Vec<VersionState<'static>> {
        spec.iter()
            .enumerate()
            .map(|(i, (id, is_default, release))| VersionState {
                id,
                is_default: *is_default,
                created: Utc.timestamp_opt(1_700_000_000 + i as i64, 0).single(),
                release: *release,
            })
            .collect()
    }

    #[test]
    fn a_restore_only_ever_picks_an_existing_canonical_version_and_removes_the_rest() {
        const R: Option<usize> = Some(0);
        type Spec = &'static [(&'static str, bool, Option<usize>)];
        let cases: &[(Spec, Restore<'static>)] = &[
            (&[("v1", true, R)], Restore::InPlace),
            // A tampering made v2 the default; v1 still holds the document.
            (
                &[("v1", false, R), ("v2", true, None)],
                Restore::Repair {
                    set_default: Some("v1"),
                    delete: vec!["v2"],
                },
            ),
            // A non-default version written beside a canonical default: deleted, nothing else.
            (
                &[("v1", true, R), ("v2", false, None)],
                Restore::Repair {
                    set_default: None,
                    delete: vec!["v2"],
                },
            ),
            // Two canonical versions: the newest, so that concurrent runs agree.
            (
                &[("v1", false, R), ("v2", false, R), ("v3", true, None)],
                Restore::Repair {
                    set_default: Some("v2"),
                    delete: vec!["v3"],
                },
            ),
            // The newest release wins over a newer version of an older release.
            (
                &[
                    ("v1", false, Some(1)),
                    ("v2", false, Some(0)),
                    ("v3", true, None),
                ],
                Restore::Repair {
                    set_default: Some("v1"),
                    delete: vec!["v3"],
                },
            ),
            // An older release as the default while a newer one exists: brought forward.
            (
                &[("v1", false, Some(1)), ("v2", true, Some(0))],
                Restore::Repair {
                    set_default: Some("v1"),
                    delete: vec![],
                },
            ),
            // An older release with no newer one: canonical, kept (a redeploy is recommended).
            (&[("v1", true, Some(0))], Restore::InPlace),
            (
                &[("v1", false, Some(0)), ("v2", true, Some(1))],
                Restore::InPlace,
            ),
            (
                &[("v1", true, None)],
                Restore::NoCanonicalVersion { prune: None },
            ),
            (
                &[
                    ("v1", false, None),
                    ("v2", false, None),
                    ("v3", false, None),
                    ("v4", false, None),
                    ("v5", true, None),
                ],
                Restore::NoCanonicalVersion { prune: Some("v1") },
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(restore(&versions(spec)), *expected, "{spec:?}");
        }
    }

    #[test]
    fn undated_versions_are_pruned_first_then_the_lowest_number() {
        let mut v = versions(&[
            ("v7", false, None),
            ("v6", false, None),
            ("v3", true, None),
            ("v4", false, None),
            ("v5", false, None),
        ]);
        v[0].created = None;
        v[1].created = None;
        assert_eq!(
            restore(&v),
            Restore::NoCanonicalVersion { prune: Some("v6") }
        );
    }

    #[test]
    fn operator_commands_create_the_canonical_document_as_the_default() {
        let arn = "arn:aws:iam::123456789012:policy/DenyWithoutMFA";
        assert_eq!(
            operator_commands(arn, None),
            [
                "mfa-enforcer policy-document > deny-without-mfa.json",
                "aws iam create-policy-version --policy-arn arn:aws:iam::123456789012:policy/DenyWithoutMFA --policy-document file://deny-without-mfa.json --set-as-default",
            ]
        );
        let with_prune = operator_commands(arn, Some("v2"));
        assert_eq!(with_prune.len(), 3);
        assert_eq!(
            with_prune[1],
            "aws iam delete-policy-version --policy-arn arn:aws:iam::123456789012:policy/DenyWithoutMFA --version-id v2"
        );
    }
}
