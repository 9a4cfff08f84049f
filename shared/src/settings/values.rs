//! Each kind of setting value checked, with an error naming the variable and the value.

use super::{PhishingResistantFor, SettingsError};

pub(super) fn invalid(variable: &'static str, problem: impl std::fmt::Display) -> SettingsError {
    SettingsError {
        variable,
        problem: format!("is invalid: {problem}"),
    }
}

pub(super) fn whole_number(
    variable: &'static str,
    value: Option<&str>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, SettingsError> {
    let Some(text) = value else {
        return Ok(default);
    };
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| invalid(variable, format!("expected a whole number, got {text:?}")))?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(invalid(
            variable,
            format!(
                "{n} is out of range (allowed: {} to {})",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// Checks the deny policy's ARN: `arn:<partition>:iam::<12-digit account>:policy/<path/name>`,
/// a customer-managed policy. An AWS-managed policy (`arn:<partition>:iam::aws:policy/...`) is
/// refused outright: attaching, say, AdministratorAccess "as the deny policy" would grant what
/// it was meant to deny.
pub(super) fn policy_arn(text: &str) -> Result<String, SettingsError> {
    let text = text.trim();
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let shaped = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[5]
            .strip_prefix("policy/")
            .is_some_and(|name| !name.is_empty() && !name.ends_with('/'));
    if shaped && parts[4] == "aws" {
        return Err(invalid(
            "DENY_POLICY_ARN",
            format!(
                "{text:?} is an AWS-managed policy; the deny policy is the customer-managed policy \
                 mfa-enforcer's stack creates (its document is `mfa-enforcer policy-document`)"
            ),
        ));
    }
    if shaped && parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_string())
    } else {
        Err(invalid(
            "DENY_POLICY_ARN",
            format!(
                "expected an IAM managed policy ARN like arn:aws:iam::123456789012:policy/DenyWithoutMFA, got {text:?}"
            ),
        ))
    }
}

/// Checks an SNS topic ARN: `arn:<partition>:sns:<region>:<account>:<name>`.
pub(super) fn topic_arn(text: &str) -> Result<String, SettingsError> {
    let text = text.trim();
    let parts: Vec<&str> = text.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty();
    if ok {
        Ok(text.to_string())
    } else {
        Err(invalid(
            "TOPIC_ARN",
            format!("expected an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:mfa-enforcer, got {text:?}"),
        ))
    }
}

/// IAM group names: 1-128 characters of `[\w+=,.@-]`.
pub(super) fn group_name(variable: &'static str, text: &str) -> Result<String, SettingsError> {
    let text = text.trim();
    let valid_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if !text.is_empty() && text.len() <= 128 && text.chars().all(valid_char) {
        Ok(text.to_string())
    } else {
        Err(invalid(
            variable,
            format!(
                "expected an IAM group name (1-128 of letters, digits and _+=,.@-), got {text:?}"
            ),
        ))
    }
}

pub(super) fn boolean(
    variable: &'static str,
    value: Option<&str>,
    default: bool,
) -> Result<bool, SettingsError> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) if v == "false" || v == "0" => Ok(false),
        Some(v) => Err(invalid(
            variable,
            format!("expected true or false, got {v:?}"),
        )),
    }
}

/// Mail domains, comma-separated (`example.com, example.org`), lowercased; none when unset.
pub(super) fn recipient_domains(value: Option<&str>) -> Result<Vec<String>, SettingsError> {
    let Some(text) = value else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            crate::recipient::email_address(&format!("x@{d}"))
                .map(|_| d.to_ascii_lowercase())
                .ok_or_else(|| {
                    invalid(
                        "RECIPIENT_DOMAINS",
                        format!(
                            "expected mail domains like example.com, comma-separated, got {d:?}"
                        ),
                    )
                })
        })
        .collect()
}

/// A tag key: at most 128 characters, not in the reserved `aws:` namespace.
pub(super) fn tag_key(
    variable: &'static str,
    value: Option<&str>,
    default: &str,
) -> Result<String, SettingsError> {
    match value.map(str::trim) {
        None => Ok(default.to_string()),
        Some(key) if key.len() <= 128 && !key.to_ascii_lowercase().starts_with("aws:") => {
            Ok(key.to_string())
        }
        Some(key) => Err(invalid(
            variable,
            format!(
                "expected a tag key of at most 128 characters, not starting with aws:, got {key:?}"
            ),
        )),
    }
}

/// `none`, `privileged`, or IAM group names, comma-separated.
pub(super) fn phishing_resistant_for(
    value: Option<&str>,
) -> Result<PhishingResistantFor, SettingsError> {
    const VARIABLE: &str = "PHISHING_RESISTANT_FOR";
    match value.map(str::trim) {
        None => Ok(PhishingResistantFor::Nobody),
        Some(v) if v.eq_ignore_ascii_case("none") => Ok(PhishingResistantFor::Nobody),
        Some(v) if v.eq_ignore_ascii_case("privileged") => Ok(PhishingResistantFor::Privileged),
        Some(v) => {
            let groups = v
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(|g| group_name(VARIABLE, g))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    invalid(
                        VARIABLE,
                        format!(
                            "expected none, privileged, or IAM group names, comma-separated; {}",
                            e.problem.trim_start_matches("is invalid: ")
                        ),
                    )
                })?;
            if groups.is_empty() {
                return Err(invalid(
                    VARIABLE,
                    format!(
                        "expected none, privileged, or IAM group names, comma-separated, got {v:?}"
                    ),
                ));
            }
            Ok(PhishingResistantFor::Groups(groups))
        }
    }
}

/// An IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<path/name>`.
pub(super) fn role_arn(text: &str) -> Result<String, SettingsError> {
    let text = text.trim();
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|name| !name.is_empty() && !name.ends_with('/'));
    if ok {
        Ok(text.to_string())
    } else {
        Err(invalid(
            "ADMIN_ROLE_ARN",
            format!(
                "expected an IAM role ARN like arn:aws:iam::123456789012:role/admin, got {text:?}"
            ),
        ))
    }
}
