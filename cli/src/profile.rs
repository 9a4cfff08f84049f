//! `mfa-enforcer cli-profile`: the `~/.aws/config` profile a user needs to assume the
//! MFA-protected admin role from the AWS CLI, from their real device serial.

use crate::fail;
use clap::Args;
use mfa_enforcer::aws::{load_config, Clients, ConfigOverrides};
use mfa_enforcer::devices::{MfaDevice, MfaDeviceType};
use mfa_enforcer::guidance::admin_profile;
use std::process::ExitCode;

/// Flags of `cli-profile`.
#[derive(Debug, Args)]
pub struct CliProfileArgs {
    /// The IAM user the profile is for; their MFA devices are read (ListMFADevices).
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// The role to assume: the stack's admin role (its AdminRoleArn output).
    #[arg(long, env = "ADMIN_ROLE_ARN", value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The profile that holds the user's own access keys [default: --profile, else default].
    #[arg(long, value_name = "NAME")]
    pub source_profile: Option<String>,
    /// AWS named profile to read the user's devices with.
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region.
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,
}

/// Prints the profile, or says why there is none: no such user, or no device that gives the
/// one-time code the CLI asks for (a passkey or security key works only in the console).
pub async fn cli_profile(args: CliProfileArgs) -> ExitCode {
    let Some(role_arn) = args.role_arn.as_deref().filter(|r| !r.trim().is_empty()) else {
        return fail("--role-arn (ADMIN_ROLE_ARN) is required: the admin role's ARN (the stack's AdminRoleArn output)");
    };
    if let Err(e) = mfa_enforcer::settings::check_role_arn(role_arn) {
        return fail(format!("--role-arn (ADMIN_ROLE_ARN) {}", e.problem));
    }
    let overrides = ConfigOverrides {
        profile: args.profile.clone(),
        region: args.region.clone(),
    };
    let config = match load_config(&overrides).await {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    let reader = Clients::new(&config).reader();
    let serials = match reader.serials(&args.user).await {
        Ok(Some(serials)) => serials,
        Ok(None) => return fail(format!("there is no IAM user named {:?}", args.user)),
        Err(e) => return fail(e),
    };
    match choose_device(&serials) {
        Ok(device) => {
            let source = (args.source_profile.as_deref())
                .or(args.profile.as_deref())
                .unwrap_or("default");
            print!("{}", admin_profile(role_arn, &device.serial, source));
            ExitCode::from(crate::EXIT_CLEAN)
        }
        Err(why) => fail(format!("{}: {why}", args.user)),
    }
}

/// The device whose code the CLI will ask for: an authenticator app first, then a hardware
/// TOTP token; never a passkey or security key, which STS does not accept.
pub fn choose_device(serials: &[String]) -> Result<MfaDevice, String> {
    let devices: Vec<MfaDevice> = serials.iter().map(|s| MfaDevice::from_serial(s)).collect();
    let by_kind = |kind| devices.iter().find(|d| d.kind == kind).cloned();
    if let Some(device) =
        by_kind(MfaDeviceType::Virtual).or_else(|| by_kind(MfaDeviceType::HardwareTotp))
    {
        return Ok(device);
    }
    Err(if devices.is_empty() {
        "has no MFA device: enroll an authenticator app first (Security credentials > Assign MFA device)".to_string()
    } else {
        "has no authenticator app or hardware TOTP device: a passkey or security key works only in the console, \
         and the CLI needs a one-time code; add an authenticator app beside it"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_first_then_a_token_never_a_security_key() {
        let app = "arn:aws:iam::123456789012:mfa/ann".to_string();
        let token = "GAHT12345678".to_string();
        let key = "arn:aws:iam::123456789012:u2f/user/ann/key-ABCDEFGHIJKL".to_string();
        assert_eq!(
            choose_device(&[key.clone(), token.clone(), app.clone()])
                .unwrap()
                .serial,
            app
        );
        assert_eq!(
            choose_device(&[key.clone(), token.clone()]).unwrap().serial,
            token
        );
        assert!(choose_device(&[key])
            .unwrap_err()
            .contains("works only in the console"));
        assert!(choose_device(&[])
            .unwrap_err()
            .contains("has no MFA device"));
    }
}
