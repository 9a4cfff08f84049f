//! Settings from the environment or CLI flags, validated once, with errors naming the variable.
//!
//! Both Lambdas read [`RawSettings::from_env`]; the CLI fills [`RawSettings`] from its flags
//! (each flag falls back to the same variable). Either way [`Settings::parse`] is the only
//! place a value is checked, so the Lambda and the CLI cannot disagree about what is valid.

use chrono::Duration;
use strum::{Display, EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};
use thiserror::Error;

/// Default `EXEMPT_TAG_KEY`.
pub const DEFAULT_EXEMPT_TAG_KEY: &str = "mfa-enforcer:exempt";
/// Default `MAX_ENFORCEMENTS_PER_RUN`: small enough that a mistaken first deployment touches
/// few people, large enough for the day-to-day trickle of new console users.
pub const DEFAULT_MAX_ENFORCEMENTS_PER_RUN: usize = 20;
/// Default `REPORT_MAX_AGE_MINUTES`: AWS regenerates the credential report at most every 4 hours.
pub const DEFAULT_REPORT_MAX_AGE_MINUTES: i64 = 240;
/// Default `CONFIRM_AFTER_MINUTES`: an older report is re-checked live before anyone is denied.
pub const DEFAULT_CONFIRM_AFTER_MINUTES: i64 = 15;
/// Default `MAX_CONCURRENCY`: IAM writes in flight at once. Chosen by `bench/pacing.py` with
/// the adaptive retry mode (`aws/retry.rs`): under IAM throttling, 16 writes in flight finish
/// as soon as 8 and are refused as rarely (the client's rate limiter paces them); without
/// throttling, they halve the round trips a first run waits for.
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;
/// Default of `RECIPIENT_TAG_KEY`.
pub const DEFAULT_RECIPIENT_TAG_KEY: &str = "email";
/// Default of `REMIND_AFTER_HOURS`.
pub const DEFAULT_REMIND_AFTER_HOURS: i64 = 24;
/// Default of `SECURITY_HUB_REFRESH_DAYS`: an unchanged finding is imported again weekly, far
/// inside the 90 days after which Security Hub deletes a finding nobody updated.
pub const DEFAULT_SECURITY_HUB_REFRESH_DAYS: i64 = 7;

/// What a non-compliant user gets. Its names are `REMEDIATION`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, Display, EnumString, EnumIter)]
#[strum(serialize_all = "kebab-case", ascii_case_insensitive)]
pub enum Remediation {
    /// `attach-policy` (default): the deny policy is attached to the user.
    AttachPolicy,
    /// `add-to-group`: the user is added to the enforcement group (which carries the deny policy).
    AddToGroup,
    /// `both`: the deny policy is attached and the user is added to the enforcement group.
    Both,
}

impl Remediation {
    /// Whether this remediation attaches the deny policy to the user.
    pub fn attaches_policy(self) -> bool {
        matches!(self, Remediation::AttachPolicy | Remediation::Both)
    }

    /// Whether this remediation adds the user to the enforcement group.
    pub fn adds_to_group(self) -> bool {
        matches!(self, Remediation::AddToGroup | Remediation::Both)
    }
}

/// Validated settings shared by every trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `DENY_POLICY_ARN`: the deny-without-MFA managed policy.
    pub deny_policy_arn: String,
    /// `ENFORCEMENT_GROUP`: the MFA enforcement group's name, when one is used.
    pub enforcement_group: Option<String>,
    /// `TOPIC_ARN`: where notifications go; none are sent when unset.
    pub topic_arn: Option<String>,
    /// `EXEMPT_TAG_KEY`: a user tagged with this key and the value `true` is exempt.
    pub exempt_tag_key: String,
    /// `GRACE_PERIOD_HOURS`: how long a new console user may go without MFA.
    pub grace_period: Duration,
    /// `MAX_ENFORCEMENTS_PER_RUN`: the guard; a run that would enforce more users writes nothing.
    pub max_enforcements_per_run: usize,
    /// `REMEDIATION`: what a non-compliant user gets.
    pub remediation: Remediation,
    /// `DRY_RUN`: compute and report the plan, write nothing.
    pub dry_run: bool,
    /// `REPORT_MAX_AGE_MINUTES`: an existing credential report younger than this is reused.
    pub report_max_age: Duration,
    /// `CONFIRM_AFTER_MINUTES`: with a report older than this, users are re-checked live
    /// (MFA devices, login profile) before they are denied.
    pub confirm_after: Duration,
    /// `MAX_CONCURRENCY`: IAM writes and live checks in flight at once.
    pub max_concurrency: usize,
    /// `RECIPIENT_TAG_KEY`: the user tag whose value is sent as the `recipient` attribute.
    pub recipient_tag_key: String,
    /// `RECIPIENT_DOMAINS`: the only mail domains a `recipient` may have (lowercase); empty
    /// allows any. Anyone who can tag a user chooses the tag's text: without a list, they can
    /// send that user's notices to an address of their own.
    pub recipient_domains: Vec<String>,
    /// `REMIND_AFTER_HOURS`: a user still `in_grace` or `enforced` is reminded this often.
    pub remind_after: Duration,
    /// `PHISHING_RESISTANT_FOR`: whose MFA must include a passkey or security key (reported,
    /// never enforced).
    pub phishing_resistant_for: PhishingResistantFor,
    /// `ADMIN_ROLE_ARN`: the stack's MFA-protected admin role, when it has one: users who may
    /// assume it are shown its `~/.aws/config` profile.
    pub admin_role_arn: Option<String>,
    /// `ADMIN_GROUP`: the group allowed to assume the admin role (set with `ADMIN_ROLE_ARN`);
    /// its members get the profile.
    pub admin_group: Option<String>,
    /// `SECURITY_HUB`: import every run's findings into Security Hub (off by default).
    pub security_hub: bool,
    /// `SECURITY_HUB_REFRESH_DAYS`: an unchanged finding is imported again once its last
    /// import is this old.
    pub security_hub_refresh: Duration,
}

/// Whose MFA must be phishing-resistant (a passkey or security key). IAM's conditions cannot
/// tell device types apart (`aws:MultiFactorAuthPresent` is true for an authenticator app
/// too), so this is reported and announced, never enforced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PhishingResistantFor {
    /// `none` (default): nobody.
    #[default]
    Nobody,
    /// `privileged`: users who carry a privileged policy, directly or through a group
    /// ([`crate::roles::privilege`]).
    Privileged,
    /// The members of these groups.
    Groups(Vec<String>),
}

/// Settings as text, before validation: one field per variable, `None` when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSettings {
    /// `DENY_POLICY_ARN`.
    pub deny_policy_arn: Option<String>,
    /// `ENFORCEMENT_GROUP`.
    pub enforcement_group: Option<String>,
    /// `TOPIC_ARN`.
    pub topic_arn: Option<String>,
    /// `EXEMPT_TAG_KEY`.
    pub exempt_tag_key: Option<String>,
    /// `GRACE_PERIOD_HOURS`.
    pub grace_period_hours: Option<String>,
    /// `MAX_ENFORCEMENTS_PER_RUN`.
    pub max_enforcements_per_run: Option<String>,
    /// `REMEDIATION`.
    pub remediation: Option<String>,
    /// `DRY_RUN`.
    pub dry_run: Option<String>,
    /// `REPORT_MAX_AGE_MINUTES`.
    pub report_max_age_minutes: Option<String>,
    /// `CONFIRM_AFTER_MINUTES`.
    pub confirm_after_minutes: Option<String>,
    /// `MAX_CONCURRENCY`.
    pub max_concurrency: Option<String>,
    /// `RECIPIENT_TAG_KEY`.
    pub recipient_tag_key: Option<String>,
    /// `RECIPIENT_DOMAINS`.
    pub recipient_domains: Option<String>,
    /// `REMIND_AFTER_HOURS`.
    pub remind_after_hours: Option<String>,
    /// `PHISHING_RESISTANT_FOR`.
    pub phishing_resistant_for: Option<String>,
    /// `ADMIN_ROLE_ARN`.
    pub admin_role_arn: Option<String>,
    /// `ADMIN_GROUP`.
    pub admin_group: Option<String>,
    /// `SECURITY_HUB`.
    pub security_hub: Option<String>,
    /// `SECURITY_HUB_REFRESH_DAYS`.
    pub security_hub_refresh_days: Option<String>,
}

/// The environment variables the settings come from, in documentation order.
pub const VARIABLES: [&str; 19] = [
    "DENY_POLICY_ARN",
    "ENFORCEMENT_GROUP",
    "TOPIC_ARN",
    "EXEMPT_TAG_KEY",
    "GRACE_PERIOD_HOURS",
    "MAX_ENFORCEMENTS_PER_RUN",
    "REMEDIATION",
    "DRY_RUN",
    "REPORT_MAX_AGE_MINUTES",
    "CONFIRM_AFTER_MINUTES",
    "MAX_CONCURRENCY",
    "RECIPIENT_TAG_KEY",
    "RECIPIENT_DOMAINS",
    "REMIND_AFTER_HOURS",
    "PHISHING_RESISTANT_FOR",
    "ADMIN_ROLE_ARN",
    "ADMIN_GROUP",
    "SECURITY_HUB",
    "SECURITY_HUB_REFRESH_DAYS",
];

/// A setting that is missing or invalid. The message names the variable and the bad value.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{variable} {problem}")]
pub struct SettingsError {
    /// The environment variable (the CLI flag of the same name falls back to it).
    pub variable: &'static str,
    /// What is wrong and what is accepted: "is invalid: ..." or "is required: ...".
    pub problem: String,
}

impl RawSettings {
    /// Reads every variable through `lookup` (empty values count as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        RawSettings {
            deny_policy_arn: get("DENY_POLICY_ARN"),
            enforcement_group: get("ENFORCEMENT_GROUP"),
            topic_arn: get("TOPIC_ARN"),
            exempt_tag_key: get("EXEMPT_TAG_KEY"),
            grace_period_hours: get("GRACE_PERIOD_HOURS"),
            max_enforcements_per_run: get("MAX_ENFORCEMENTS_PER_RUN"),
            remediation: get("REMEDIATION"),
            dry_run: get("DRY_RUN"),
            report_max_age_minutes: get("REPORT_MAX_AGE_MINUTES"),
            confirm_after_minutes: get("CONFIRM_AFTER_MINUTES"),
            max_concurrency: get("MAX_CONCURRENCY"),
            recipient_tag_key: get("RECIPIENT_TAG_KEY"),
            recipient_domains: get("RECIPIENT_DOMAINS"),
            remind_after_hours: get("REMIND_AFTER_HOURS"),
            phishing_resistant_for: get("PHISHING_RESISTANT_FOR"),
            admin_role_arn: get("ADMIN_ROLE_ARN"),
            admin_group: get("ADMIN_GROUP"),
            security_hub: get("SECURITY_HUB"),
            security_hub_refresh_days: get("SECURITY_HUB_REFRESH_DAYS"),
        }
    }

    /// Reads every variable from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

impl Settings {
    /// The account the deny policy belongs to (validated: twelve digits).
    pub fn deny_policy_account(&self) -> &str {
        self.deny_policy_arn.split(':').nth(4).unwrap_or_default()
    }

    /// Checks that the deny policy belongs to `account`, the account being audited, before
    /// anything is written. An empty `account` (not known yet: an account without users)
    /// passes, since nothing can be written to it either.
    ///
    /// Fails naming `DENY_POLICY_ARN` and both accounts.
    pub fn check_deny_policy_account(&self, account: &str) -> Result<(), SettingsError> {
        let owner = self.deny_policy_account();
        if account.is_empty() || owner == account {
            Ok(())
        } else {
            Err(invalid(
                "DENY_POLICY_ARN",
                format!(
                    "{:?} belongs to account {owner}, but the account audited is {account}; \
                     give the deny policy of the account the credentials reach",
                    self.deny_policy_arn
                ),
            ))
        }
    }

    /// Validates raw settings, filling documented defaults.
    ///
    /// Fails with the first invalid or missing variable, naming it and the value it had.
    pub fn parse(raw: &RawSettings) -> Result<Settings, SettingsError> {
        let deny_policy_arn =
            policy_arn(
                raw.deny_policy_arn
                    .as_deref()
                    .ok_or_else(|| SettingsError {
                        variable: "DENY_POLICY_ARN",
                        problem: "is required: the ARN of the deny-without-MFA managed policy"
                            .to_string(),
                    })?,
            )?;
        let enforcement_group = raw
            .enforcement_group
            .as_deref()
            .map(|g| group_name("ENFORCEMENT_GROUP", g))
            .transpose()?;
        let topic_arn = raw.topic_arn.as_deref().map(topic_arn).transpose()?;
        let exempt_tag_key = tag_key(
            "EXEMPT_TAG_KEY",
            raw.exempt_tag_key.as_deref(),
            DEFAULT_EXEMPT_TAG_KEY,
        )?;
        let recipient_tag_key = tag_key(
            "RECIPIENT_TAG_KEY",
            raw.recipient_tag_key.as_deref(),
            DEFAULT_RECIPIENT_TAG_KEY,
        )?;
        let grace_hours = whole_number(
            "GRACE_PERIOD_HOURS",
            raw.grace_period_hours.as_deref(),
            0,
            0..=24 * 365,
        )?;
        let max_enforcements = whole_number(
            "MAX_ENFORCEMENTS_PER_RUN",
            raw.max_enforcements_per_run.as_deref(),
            DEFAULT_MAX_ENFORCEMENTS_PER_RUN as i64,
            0..=1_000_000,
        )?;
        let remediation = match raw.remediation.as_deref().map(str::trim) {
            None => Remediation::AttachPolicy,
            Some(r) => r.parse::<Remediation>().map_err(|_| {
                let mut names: Vec<&str> = Remediation::iter().map(<&str>::from).collect();
                let last = names.pop().unwrap_or_default();
                invalid(
                    "REMEDIATION",
                    format!("expected {} or {last}, got {r:?}", names.join(", ")),
                )
            })?,
        };
        if remediation.adds_to_group() && enforcement_group.is_none() {
            return Err(invalid(
                "REMEDIATION",
                format!("{remediation} needs ENFORCEMENT_GROUP to name the enforcement group"),
            ));
        }
        let dry_run = boolean("DRY_RUN", raw.dry_run.as_deref(), true)?;
        let report_max_age = whole_number(
            "REPORT_MAX_AGE_MINUTES",
            raw.report_max_age_minutes.as_deref(),
            DEFAULT_REPORT_MAX_AGE_MINUTES,
            0..=7 * 24 * 60,
        )?;
        let confirm_after = whole_number(
            "CONFIRM_AFTER_MINUTES",
            raw.confirm_after_minutes.as_deref(),
            DEFAULT_CONFIRM_AFTER_MINUTES,
            0..=7 * 24 * 60,
        )?;
        let max_concurrency = whole_number(
            "MAX_CONCURRENCY",
            raw.max_concurrency.as_deref(),
            DEFAULT_MAX_CONCURRENCY as i64,
            1..=64,
        )?;
        let remind_after_hours = whole_number(
            "REMIND_AFTER_HOURS",
            raw.remind_after_hours.as_deref(),
            DEFAULT_REMIND_AFTER_HOURS,
            1..=24 * 365,
        )?;
        let admin_role_arn = raw.admin_role_arn.as_deref().map(role_arn).transpose()?;
        let admin_group = raw
            .admin_group
            .as_deref()
            .map(|g| group_name("ADMIN_GROUP", g))
            .transpose()?;
        // Both or neither: without a group, every notified user would get the admin profile.
        match (&admin_role_arn, &admin_group) {
            (Some(_), None) => {
                return Err(invalid(
                    "ADMIN_ROLE_ARN",
                    "needs ADMIN_GROUP, the group whose members may assume it (only they are shown its profile)",
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "ADMIN_GROUP",
                    "needs ADMIN_ROLE_ARN, the role its members may assume",
                ))
            }
            _ => {}
        }
        // IAM group names are unique ignoring case.
        if let (Some(group), Some(enforcement)) = (&admin_group, &enforcement_group) {
            if group.eq_ignore_ascii_case(enforcement) {
                return Err(invalid(
                    "ADMIN_GROUP",
                    format!("{group:?} is the enforcement group, which every compliant user is in; the admin group is a group of its own"),
                ));
            }
        }
        let security_hub = boolean("SECURITY_HUB", raw.security_hub.as_deref(), false)?;
        // At most 60 days: well inside the 90 after which Security Hub deletes a finding.
        let security_hub_refresh_days = whole_number(
            "SECURITY_HUB_REFRESH_DAYS",
            raw.security_hub_refresh_days.as_deref(),
            DEFAULT_SECURITY_HUB_REFRESH_DAYS,
            1..=60,
        )?;
        Ok(Settings {
            deny_policy_arn,
            enforcement_group,
            topic_arn,
            exempt_tag_key,
            grace_period: Duration::hours(grace_hours),
            max_enforcements_per_run: max_enforcements as usize,
            remediation,
            dry_run,
            report_max_age: Duration::minutes(report_max_age),
            confirm_after: Duration::minutes(confirm_after),
            max_concurrency: max_concurrency as usize,
            recipient_tag_key,
            recipient_domains: recipient_domains(raw.recipient_domains.as_deref())?,
            remind_after: Duration::hours(remind_after_hours),
            phishing_resistant_for: phishing_resistant_for(raw.phishing_resistant_for.as_deref())?,
            admin_role_arn,
            admin_group,
            security_hub,
            security_hub_refresh: Duration::days(security_hub_refresh_days),
        })
    }
}

/// Checks an IAM role ARN as `ADMIN_ROLE_ARN` is checked (the CLI's `cli-profile` takes one).
pub fn check_role_arn(text: &str) -> Result<String, SettingsError> {
    role_arn(text)
}

impl Settings {
    /// The admin role `finding`'s user may assume, when the stack has one and they are in
    /// `ADMIN_GROUP`.
    pub fn admin_role_for(&self, finding: &crate::finding::Finding) -> Option<&str> {
        let group = self.admin_group.as_deref()?;
        let member = finding.groups.iter().any(|g| g.eq_ignore_ascii_case(group));
        self.admin_role_arn.as_deref().filter(|_| member)
    }

    /// Whether an address may be a notice's `recipient`: any, without `RECIPIENT_DOMAINS`;
    /// otherwise one whose domain is listed (letter case ignored).
    pub fn recipient_allowed(&self, address: &str) -> bool {
        self.recipient_domains.is_empty()
            || address.rsplit_once('@').is_some_and(|(_, domain)| {
                self.recipient_domains
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(domain))
            })
    }
}

mod values;
use values::{
    boolean, group_name, invalid, phishing_resistant_for, policy_arn, recipient_domains, role_arn,
    tag_key, topic_arn, whole_number,
};

#[cfg(test)]
mod tests;
