//! MFA devices and access keys as a finding describes them: what kind each device is, and
//! whether the user calls AWS with long-term keys. Pure.
//!
//! The kind comes from the serial number's form alone, as AWS documents it
//! (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_MFADevice.html>): a virtual device's
//! serial is its ARN (`arn:aws:iam::123456789012:mfa/phone-1`), a passkey's or security key's
//! is a `u2f` ARN (`arn:aws:iam::123456789012:u2f/user/bob/key-ABCD...`), a hardware TOTP
//! token's is the serial printed on it (`GAHT12345678`). Anything else is `unknown`, never an
//! error. Only TOTP devices (virtual or hardware) give an MFA session for the AWS CLI: STS
//! accepts a TOTP code, not a passkey or security key
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_fido_supported_configurations.html>).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

vocabulary! {
    /// What kind of MFA device a serial number names.
    pub enum MfaDeviceType {
        /// An authenticator app (`arn:...:mfa/NAME`).
        Virtual,
        /// A passkey or FIDO security key (`arn:...:u2f/...`): console sign-in only.
        PasskeyOrSecurityKey,
        /// A hardware TOTP token (its printed serial).
        HardwareTotp,
        /// A form AWS does not document.
        Unknown,
    }
}

impl MfaDeviceType {
    /// Whether it gives a one-time code STS accepts (`get-session-token`, `mfa_serial`).
    pub fn gives_cli_sessions(self) -> bool {
        matches!(self, MfaDeviceType::Virtual | MfaDeviceType::HardwareTotp)
    }
}

/// One MFA device of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaDevice {
    /// Its serial number, as IAM lists it.
    pub serial: String,
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: MfaDeviceType,
}

impl MfaDevice {
    /// A device from its serial number.
    pub fn from_serial(serial: &str) -> MfaDevice {
        MfaDevice {
            serial: serial.to_string(),
            kind: classify(serial),
        }
    }
}

/// The kind of device a serial number names.
pub fn classify(serial: &str) -> MfaDeviceType {
    let serial = serial.trim();
    if let Some(rest) = serial.strip_prefix("arn:") {
        // arn:PARTITION:iam::ACCOUNT:RESOURCE
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() == 5
            && parts[0].starts_with("aws")
            && parts[1] == "iam"
            && parts[2].is_empty()
        {
            if parts[4].starts_with("mfa/") && parts[4].len() > 4 {
                return MfaDeviceType::Virtual;
            }
            if parts[4].starts_with("u2f/") && parts[4].len() > 4 {
                return MfaDeviceType::PasskeyOrSecurityKey;
            }
        }
        return MfaDeviceType::Unknown;
    }
    let hardware =
        (9..=256).contains(&serial.len()) && serial.bytes().all(|b| b.is_ascii_alphanumeric());
    if hardware {
        MfaDeviceType::HardwareTotp
    } else {
        MfaDeviceType::Unknown
    }
}

/// A user's long-term access keys, as far as the run knows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeys {
    /// How many are active (0 to 2).
    pub active: u8,
    /// When one of them was last used, when known (the credential report says; an event run,
    /// which reads `ListAccessKeys`, does not know).
    #[serde(default)]
    pub last_used: Option<DateTime<Utc>>,
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` when it cannot tell.
pub fn partition_of(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| p.starts_with("aws"))
        .unwrap_or("aws")
}

#[cfg(test)]
mod tests {
    use super::*;
    use MfaDeviceType::*;

    #[test]
    fn serials_are_classified_by_their_documented_form() {
        let cases = [
            ("arn:aws:iam::123456789012:mfa/phone-1", Virtual),
            ("arn:aws:iam::123456789012:mfa/team/bob", Virtual),
            ("arn:aws-cn:iam::123456789012:mfa/bob", Virtual),
            ("arn:aws-us-gov:iam::123456789012:mfa/bob", Virtual),
            (
                "arn:aws:iam::123456789012:u2f/user/Bob/fidosecuritykey1-7XNL7NFNLZ123456789EXAMPLE",
                PasskeyOrSecurityKey,
            ),
            ("GAHT12345678", HardwareTotp),
            ("GAKT12345678", HardwareTotp),
            ("arn:aws:iam::123456789012:mfa/", Unknown),
            ("arn:aws:s3:::bucket", Unknown),
            ("arn:aws:iam::123456789012:user/bob", Unknown),
            ("short", Unknown),
            ("has space 12345", Unknown),
            ("", Unknown),
        ];
        for (serial, kind) in cases {
            assert_eq!(classify(serial), kind, "{serial:?}");
        }
        assert!(Virtual.gives_cli_sessions() && HardwareTotp.gives_cli_sessions());
        assert!(!PasskeyOrSecurityKey.gives_cli_sessions() && !Unknown.gives_cli_sessions());
    }

    #[test]
    fn the_partition_comes_from_the_arn() {
        assert_eq!(
            partition_of("arn:aws-cn:iam::123456789012:user/bob"),
            "aws-cn"
        );
        assert_eq!(
            partition_of("arn:aws-us-gov:iam::123456789012:user/bob"),
            "aws-us-gov"
        );
        assert_eq!(partition_of("arn:aws:iam::123456789012:user/bob"), "aws");
        assert_eq!(partition_of("not an arn"), "aws");
    }
}
