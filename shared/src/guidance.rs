//! What a user is told to do, in terms of their own devices and keys. Pure.
//!
//! Every notice carries the same guidance as its e-mail text in its JSON form (console steps,
//! AWS CLI commands), so that chat bots and ticketing systems can show it. Two rules keep it
//! honest:
//! - every MFA serial printed is one of the user's real devices, in their account's partition
//!   (a user who has no device yet is shown how to list their serial once they have one, never
//!   a guessed one);
//! - no guidance prints a `~/.aws/config` profile the AWS CLI cannot use: the CLI reads
//!   `mfa_serial` only in a profile that assumes a role (`role_arn` and `source_profile`)
//!   (<https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html>), so without
//!   a role to name there is no profile block at all.
//!
//! The CLI part appears only for users with active access keys: for them alone does anything
//! change on the command line.

use crate::devices::{MfaDevice, MfaDeviceType};
use crate::finding::Finding;
use serde::Serialize;

/// IAM lets a user have this many MFA devices
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_enable_fido.html>).
pub const MAX_MFA_DEVICES: usize = 8;

/// What a user should do, for their notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guidance {
    /// Steps in the AWS console.
    pub console: Vec<String>,
    /// What changes for the AWS CLI and SDKs, for a user with active access keys.
    pub cli: Option<CliGuidance>,
}

/// The command-line part of a user's guidance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CliGuidance {
    /// What changed, in one sentence.
    pub summary: String,
    /// Commands to run, with the user's real serial where one is known.
    pub commands: Vec<String>,
    /// A `~/.aws/config` block, only when it names a role (`role_arn`, `source_profile`,
    /// `mfa_serial`); none otherwise.
    pub config: Option<String>,
    /// Anything else worth knowing.
    pub notes: Vec<String>,
}

/// Which notice the guidance is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Situation {
    /// The user has no MFA yet (in grace, enforced, or not yet contained).
    NeedsMfa,
    /// The user has MFA and this run put them under the deny policy.
    HeldToMfa,
}

/// The guidance for a finding's user in `account_id`.
pub fn guidance(finding: &Finding, account_id: &str, situation: Situation) -> Guidance {
    let user = finding.user.as_str();
    let console = match situation {
        Situation::NeedsMfa => vec![
            format!("Sign in to account {account_id} as {user}."),
            "Open your security credentials (your name at the top right > Security credentials).".to_string(),
            format!(
                "Under Multi-factor authentication (MFA), choose Assign MFA device: a passkey, a security \
                 key, or an authenticator app (name an app's device after you: {user}, or {user}-phone)."
            ),
            "Sign out and sign in again, with MFA.".to_string(),
        ],
        Situation::HeldToMfa => vec![
            "nothing changes: you already sign in with MFA.".to_string(),
        ],
    };
    let cli = (finding.access_keys.active > 0).then(|| cli_guidance(finding, situation));
    Guidance { console, cli }
}

fn cli_guidance(finding: &Finding, situation: Situation) -> CliGuidance {
    let user = finding.user.as_str();
    let keys = match finding.access_keys.active {
        1 => "your access key".to_string(),
        n => format!("your {n} access keys"),
    };
    let list = format!("aws iam list-mfa-devices --user-name {user}");
    let session = |serial: &str| {
        format!("aws sts get-session-token --serial-number {serial} --token-code <6-digit code>")
    };
    let export = "Export the AccessKeyId, SecretAccessKey and SessionToken it returns as \
                  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (valid 12 hours)."
        .to_string();
    let role = |serial: &str| {
        format!(
            "If you assume a role with the CLI, add mfa_serial = {serial} to that role's profile (the one \
             with role_arn and source_profile): the CLI then asks for the code."
        )
    };
    let totp: Vec<&MfaDevice> = finding
        .mfa_devices
        .iter()
        .filter(|d| d.kind.gives_cli_sessions())
        .collect();
    let only_keys = !finding.mfa_devices.is_empty()
        && finding
            .mfa_devices
            .iter()
            .all(|d| d.kind == MfaDeviceType::PasskeyOrSecurityKey);
    match situation {
        Situation::HeldToMfa => match totp.first() {
            Some(device) => CliGuidance {
                summary: format!(
                    "Calls made with {keys} now need an MFA session: without one, everything but MFA \
                     self-service is denied."
                ),
                commands: vec![session(&device.serial)],
                config: None,
                notes: vec![export, role(&device.serial)],
            },
            None if only_keys => CliGuidance {
                summary: format!(
                    "Calls made with {keys} now need an MFA session, and passkeys and security keys cannot \
                     give one: STS accepts only one-time codes. Add an authenticator app or a hardware \
                     TOTP device beside them (IAM allows up to {MAX_MFA_DEVICES} MFA devices per user)."
                ),
                commands: vec![list],
                config: None,
                notes: vec![
                    format!(
                        "Security credentials > Assign MFA device > Authenticator app (name it after you: \
                         {user}-phone); then get a session with its serial:"
                    ),
                    session("<its serial, from list-mfa-devices>"),
                    export,
                ],
            },
            None => CliGuidance {
                summary: format!(
                    "Calls made with {keys} now need an MFA session from an authenticator app or a \
                     hardware TOTP device."
                ),
                commands: vec![list, session("<the serial of an app or TOTP device>")],
                config: None,
                notes: vec![
                    export,
                    "A passkey or security key cannot give a CLI session: add an authenticator app \
                     beside it if you have none."
                        .to_string(),
                ],
            },
        },
        Situation::NeedsMfa => CliGuidance {
            summary: format!(
                "Once you enroll MFA, calls made with {keys} need an MFA session, and only an \
                 authenticator app or a hardware TOTP device can give one (a passkey or security key \
                 cannot: STS accepts only one-time codes)."
            ),
            commands: vec![list, session("<its serial, from list-mfa-devices>")],
            config: None,
            notes: vec![export],
        },
    }
}

/// A `~/.aws/config` profile that assumes `role_arn` with the user's MFA device: the CLI
/// asks for the device's code and passes it to AssumeRole
/// (<https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-role.html>). Named after
/// the role; the user's own long-term keys come from `source_profile`.
pub fn admin_profile(role_arn: &str, mfa_serial: &str, source_profile: &str) -> String {
    let name = role_arn.rsplit('/').next().unwrap_or("admin");
    format!(
        "[profile {name}]\nrole_arn = {role_arn}\nsource_profile = {source_profile}\nmfa_serial = {mfa_serial}\n"
    )
}

impl Guidance {
    /// For a user who may assume the stack's admin role (`role_arn`) and has a TOTP device:
    /// the role's profile, with that device's serial. Nothing changes for anyone else (no
    /// access keys, or no device the CLI can use).
    pub fn with_admin_role(mut self, finding: &Finding, role_arn: &str) -> Guidance {
        let device = finding
            .mfa_devices
            .iter()
            .find(|d| d.kind.gives_cli_sessions());
        if let (Some(cli), Some(device)) = (self.cli.as_mut(), device) {
            cli.config = Some(admin_profile(role_arn, &device.serial, "default"));
            cli.notes.push(format!(
                "To administer the account, use the admin role: aws --profile {} sts \
                 get-caller-identity asks for your code once an hour.",
                role_arn.rsplit('/').next().unwrap_or("admin")
            ));
        }
        self
    }
}

/// The guidance as text, for an e-mail.
pub fn render_text(guidance: &Guidance) -> String {
    let mut text = String::new();
    match guidance.console.as_slice() {
        [only] => text.push_str(&format!("In the console: {only}\n")),
        steps => {
            text.push_str("In the console:\n");
            for (i, step) in steps.iter().enumerate() {
                text.push_str(&format!("{}. {step}\n", i + 1));
            }
        }
    }
    if let Some(cli) = &guidance.cli {
        text.push_str(&format!("\nFrom the AWS CLI and SDKs: {}\n\n", cli.summary));
        for command in &cli.commands {
            text.push_str(&format!("  {command}\n"));
        }
        if let Some(config) = &cli.config {
            text.push_str(&format!("\nAdd to ~/.aws/config:\n\n{config}\n"));
        }
        for note in &cli.notes {
            text.push_str(&format!("\n{note}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::AccessKeys;
    use crate::finding::{FindingFacts, Status};

    fn user(devices: &[&str], keys: u8) -> Finding {
        Finding {
            user: "bob".into(),
            arn: "arn:aws-cn:iam::123456789012:user/bob".into(),
            user_id: None,
            status: Status::NonCompliant,
            reasons: vec![],
            mfa_active: !devices.is_empty(),
            password_enabled: Some(true),
            groups: vec![],
            exempt_until: None,
            mfa_devices: devices.iter().map(|s| MfaDevice::from_serial(s)).collect(),
            access_keys: AccessKeys {
                active: keys,
                last_used: None,
            },
            actions: vec![],
            facts: FindingFacts::default(),
        }
    }

    const PHONE: &str = "arn:aws-cn:iam::123456789012:mfa/phone-1";
    const KEY: &str = "arn:aws-cn:iam::123456789012:u2f/user/bob/yubikey-ABCDEFGH";

    #[test]
    fn a_user_held_to_mfa_gets_a_session_command_with_their_real_serial() {
        let g = guidance(
            &user(&[KEY, PHONE], 1),
            "123456789012",
            Situation::HeldToMfa,
        );
        let cli = g.cli.unwrap();
        assert_eq!(
            cli.commands,
            [format!(
                "aws sts get-session-token --serial-number {PHONE} --token-code <6-digit code>"
            )]
        );
        assert!(cli.summary.contains("your access key now need"));
        assert!(cli.notes[1].contains(&format!("mfa_serial = {PHONE}")));
        assert_eq!(cli.config, None, "no role to name: no profile block");
        // A hardware token works as well.
        let g = guidance(
            &user(&["GAHT12345678"], 2),
            "123456789012",
            Situation::HeldToMfa,
        );
        assert!(g.cli.unwrap().commands[0].contains("--serial-number GAHT12345678"));
    }

    #[test]
    fn passkeys_alone_are_told_plainly_that_the_cli_needs_a_totp_device() {
        let g = guidance(&user(&[KEY], 1), "123456789012", Situation::HeldToMfa);
        let cli = g.cli.unwrap();
        assert!(cli
            .summary
            .contains("passkeys and security keys cannot give one"));
        assert!(cli.summary.contains("up to 8 MFA devices"));
        assert!(
            !cli.commands.iter().any(|c| c.contains(KEY)),
            "a u2f serial is no use to STS"
        );
    }

    #[test]
    fn users_without_access_keys_hear_nothing_about_the_cli() {
        for situation in [Situation::HeldToMfa, Situation::NeedsMfa] {
            assert_eq!(
                guidance(&user(&[PHONE], 0), "123456789012", situation).cli,
                None
            );
        }
        let g = guidance(&user(&[PHONE], 0), "123456789012", Situation::HeldToMfa);
        assert_eq!(g.console.len(), 1, "console sign-in is unchanged");
    }

    #[test]
    fn a_user_without_mfa_is_never_shown_a_guessed_serial() {
        let g = guidance(&user(&[], 1), "123456789012", Situation::NeedsMfa);
        let text = render_text(&g);
        assert!(!text.contains(":mfa/"), "{text}");
        assert!(
            text.contains("aws iam list-mfa-devices --user-name bob"),
            "{text}"
        );
        assert!(
            text.contains("name an app's device after you: bob, or bob-phone"),
            "{text}"
        );
    }
}
