//! The `mfa-enforcer` command: argument parsing and the commands, on the shared engine.
//!
//! `audit` runs the same engine as the scheduled Lambda, dry-run unless `--enforce`. Exit
//! status: 0 no non-compliant user remains, 2 some remain (or the guard tripped), 1 the run
//! failed (bad input, unreadable account, a failed write).

pub mod html;
pub mod org;
pub mod profile;
pub mod render;
mod show;

use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use mfa_enforcer::aws::{load_config, Adapters, Clients, ConfigOverrides};
use mfa_enforcer::engine::{self, EngineError};
use mfa_enforcer::run_report::{RunReport, Verdict};
use mfa_enforcer::settings::{RawSettings, Settings, SettingsError};
use render::{render_to, Format};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when no non-compliant user remains.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status when the run failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status when non-compliant users remain or the guard tripped.
pub const EXIT_NON_COMPLIANT: u8 = 2;

/// Keeps every console IAM user of an AWS account behind MFA.
#[derive(Debug, Parser)]
#[command(name = "mfa-enforcer", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit the account's console users for MFA; with --enforce, remediate them.
    ///
    /// Reads the IAM credential report and GetAccountAuthorizationDetails, gives every user a
    /// status (not_applicable, exempt, in_grace, compliant, enforced, non_compliant) and plans
    /// remediation for non-compliant users. Nothing is written unless --enforce is given.
    ///
    /// Every setting flag falls back to the environment variable of the same name (shown in
    /// brackets), so the CLI and the Lambda read one configuration. AWS credentials, region
    /// and endpoint come from the standard chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...).
    ///
    /// Exit status: 0 no non-compliant user remains; 2 some remain or the guard tripped;
    /// 1 the run failed.
    Audit(Box<AuditArgs>),
    /// Print the deny-without-MFA policy document (the canonical one, as JSON).
    PolicyDocument,
    /// Print the service control policy that protects the enforcer in member accounts.
    ///
    /// It denies, to every principal but the enforcer's own roles, the StackSet execution
    /// roles and your break-glass roles: changing or detaching the deny policy, leaving or
    /// deleting the enforcement group, writing any mfa-enforcer:* tag on a user (exemptions
    /// included), and every write to the enforcer's functions, roles, rules, topic and trail.
    /// The defaults are the names infra/stackset.yaml gives every account. SCPs never apply
    /// to the management account; detach the SCP there to break glass completely.
    ScpDocument(ScpArgs),
    /// Render a saved JSON report (from `audit --format json`, `audit --org --format json`, or
    /// the Lambda) as a table or CSV.
    Show(ShowArgs),
    /// Print the ~/.aws/config profile a user needs to assume the MFA-protected admin role.
    ///
    /// Reads the user's MFA devices and prints a profile with role_arn, source_profile and
    /// mfa_serial (an authenticator app's serial, or a hardware token's), so that the AWS CLI
    /// asks for the code. The profile is named after the role: append it to ~/.aws/config
    /// unless a section of that name is there already. Fails, saying why, when the user has no
    /// such device: a passkey or security key works only in the console.
    CliProfile(profile::CliProfileArgs),
}

/// Flags of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Apply the plan. Without it the run is a dry run: the same plan, nothing written.
    #[arg(long)]
    pub enforce: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only errors on standard error (no progress lines).
    #[arg(long, short)]
    pub quiet: bool,
    /// The settings shared with the Lambda.
    #[command(
        flatten,
        next_help_heading = "Settings (each falls back to the environment variable in brackets)"
    )]
    pub settings: SettingFlags,
    /// AWS named profile.
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (SNS is regional; IAM is global).
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,
    /// The whole organization.
    #[command(flatten, next_help_heading = "A whole organization (read-only)")]
    pub org: org::OrgFlags,
}

/// One flag per setting; each falls back to its environment variable.
#[derive(Debug, Args)]
pub struct SettingFlags {
    /// ARN of the deny-without-MFA managed policy (required).
    #[arg(long, env = "DENY_POLICY_ARN", value_name = "ARN")]
    pub deny_policy_arn: Option<String>,
    /// Name of the MFA enforcement group; console users with MFA outside it are non-compliant.
    #[arg(long, env = "ENFORCEMENT_GROUP", value_name = "GROUP")]
    pub enforcement_group: Option<String>,
    /// SNS topic for the run summary; nothing is published when unset.
    #[arg(long, env = "TOPIC_ARN", value_name = "ARN")]
    pub topic_arn: Option<String>,
    /// Tag key that exempts a user when its value is "true" [default: mfa-enforcer:exempt].
    #[arg(long, env = "EXEMPT_TAG_KEY", value_name = "KEY")]
    pub exempt_tag_key: Option<String>,
    /// Hours a new console user may go without MFA [default: 0].
    #[arg(long, env = "GRACE_PERIOD_HOURS", value_name = "HOURS")]
    pub grace_period_hours: Option<String>,
    /// The guard: if more users would be enforced, nothing is written [default: 20].
    #[arg(long, env = "MAX_ENFORCEMENTS_PER_RUN", value_name = "N")]
    pub max_enforcements_per_run: Option<String>,
    /// attach-policy, add-to-group or both [default: attach-policy].
    #[arg(long, env = "REMEDIATION", value_name = "HOW")]
    pub remediation: Option<String>,
    /// Reuse a credential report younger than this [default: 240].
    #[arg(long, env = "REPORT_MAX_AGE_MINUTES", value_name = "MINUTES")]
    pub report_max_age_minutes: Option<String>,
    /// With an older report, re-check users live before denying them [default: 15].
    #[arg(long, env = "CONFIRM_AFTER_MINUTES", value_name = "MINUTES")]
    pub confirm_after_minutes: Option<String>,
    /// IAM writes and live checks in flight at once [default: 16]. Throttled calls are retried
    /// as AWS_RETRY_MODE (default adaptive) and AWS_MAX_ATTEMPTS (default 6) say.
    #[arg(long, env = "MAX_CONCURRENCY", value_name = "N")]
    pub max_concurrency: Option<String>,
    /// User tag whose value (an address) is sent as the `recipient` attribute [default: email].
    #[arg(long, env = "RECIPIENT_TAG_KEY", value_name = "KEY")]
    pub recipient_tag_key: Option<String>,
    /// Mail domains a recipient address may have, comma-separated [default: any].
    #[arg(long, env = "RECIPIENT_DOMAINS", value_name = "DOMAINS")]
    pub recipient_domains: Option<String>,
    /// Remind a user still in_grace or enforced at most this often [default: 24].
    #[arg(long, env = "REMIND_AFTER_HOURS", value_name = "HOURS")]
    pub remind_after_hours: Option<String>,
    /// Whose MFA must include a passkey or security key: none, privileged, or group names,
    /// comma-separated; reported, never enforced [default: none].
    #[arg(long, env = "PHISHING_RESISTANT_FOR", value_name = "WHO")]
    pub phishing_resistant_for: Option<String>,
    /// The stack's MFA-protected admin role: its profile is shown to those who may assume it.
    #[arg(long, env = "ADMIN_ROLE_ARN", value_name = "ARN")]
    pub admin_role_arn: Option<String>,
    /// The group whose members may assume the admin role (never the enforcement group).
    #[arg(long, env = "ADMIN_GROUP", value_name = "GROUP")]
    pub admin_group: Option<String>,
    /// Import the run's findings into Security Hub (its account's default product, in the
    /// configured Region): true or false [default: false].
    #[arg(long, env = "SECURITY_HUB", value_name = "BOOL")]
    pub security_hub: Option<String>,
    /// Import an unchanged finding again once its last import is this old, 1 to 60 [default: 7].
    #[arg(long, env = "SECURITY_HUB_REFRESH_DAYS", value_name = "DAYS")]
    pub security_hub_refresh_days: Option<String>,
}

/// Flags of `scp-document`.
#[derive(Debug, Args)]
pub struct ScpArgs {
    /// Role names exempt from the SCP, to break glass, e.g. BreakGlass*: `*` and `?` after at
    /// least 3 literal characters (a CloudFormation `${Parameter}` passes through as it is).
    #[arg(long, value_name = "ROLE_NAME_PATTERN")]
    pub break_glass_role: String,
    /// The deny policy's name in every account.
    #[arg(long, value_name = "NAME", default_value = mfa_enforcer::scp::STACKSET_DENY_POLICY_NAME)]
    pub deny_policy_name: String,
    /// The enforcement group's name in every account.
    #[arg(long, value_name = "GROUP", default_value = mfa_enforcer::scp::STACKSET_ENFORCEMENT_GROUP)]
    pub enforcement_group: String,
    /// The prefix of the enforcer's functions, roles, rules and topic (the stack's NamePrefix).
    #[arg(long, value_name = "PREFIX", default_value = mfa_enforcer::scp::STACKSET_NAME_PREFIX)]
    pub name_prefix: String,
    /// The CloudTrail trail the event path depends on (`*` matches any part).
    #[arg(long, value_name = "TRAIL_NAME", default_value = mfa_enforcer::scp::STACKSET_NAME_PREFIX)]
    pub trail_name: String,
    /// The exemption tag key (EXEMPT_TAG_KEY), when not the default.
    #[arg(long, value_name = "KEY", default_value = mfa_enforcer::settings::DEFAULT_EXEMPT_TAG_KEY)]
    pub exempt_tag_key: String,
    /// The topic's KMS key (the stack's TopicKmsKeyArn), when it has one.
    #[arg(long, value_name = "ARN")]
    pub topic_kms_key_arn: Option<String>,
    /// Also exempt AWSCloudFormationStackSetExecutionRole (self-managed StackSets only).
    #[arg(long)]
    pub self_managed_stackset: bool,
    /// One line, as the size limit counts it, instead of indented.
    #[arg(long)]
    pub compact: bool,
}

/// Flags of `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The JSON report ("-" for standard input).
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The Region the findings belong to, for --format asff or ocsf (Security Hub is
    /// regional; a saved report does not say).
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,
}

impl SettingFlags {
    /// The flags as raw settings (`enforce` decides `DRY_RUN`; the variable is not read).
    pub fn raw(&self, enforce: bool) -> RawSettings {
        let v = |o: &Option<String>| o.clone().filter(|s| !s.trim().is_empty());
        RawSettings {
            deny_policy_arn: v(&self.deny_policy_arn),
            enforcement_group: v(&self.enforcement_group),
            topic_arn: v(&self.topic_arn),
            exempt_tag_key: v(&self.exempt_tag_key),
            grace_period_hours: v(&self.grace_period_hours),
            max_enforcements_per_run: v(&self.max_enforcements_per_run),
            remediation: v(&self.remediation),
            dry_run: Some((!enforce).to_string()),
            report_max_age_minutes: v(&self.report_max_age_minutes),
            confirm_after_minutes: v(&self.confirm_after_minutes),
            max_concurrency: v(&self.max_concurrency),
            recipient_tag_key: v(&self.recipient_tag_key),
            recipient_domains: v(&self.recipient_domains),
            remind_after_hours: v(&self.remind_after_hours),
            phishing_resistant_for: v(&self.phishing_resistant_for),
            admin_role_arn: v(&self.admin_role_arn),
            admin_group: v(&self.admin_group),
            security_hub: v(&self.security_hub),
            security_hub_refresh_days: v(&self.security_hub_refresh_days),
        }
    }
}

/// A settings error in CLI terms: the flag and its variable.
pub fn describe_settings_error(e: &SettingsError) -> String {
    let flag = format!("--{}", e.variable.to_lowercase().replace('_', "-"));
    format!("{flag} ({}) {}", e.variable, e.problem)
}

/// Runs the parsed command line and returns the process exit status.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Audit(args) => audit(*args).await,
        Command::PolicyDocument => {
            println!("{:#}", mfa_enforcer::policy::deny_policy_document());
            ExitCode::from(EXIT_CLEAN)
        }
        Command::ScpDocument(args) => scp_document(&args),
        Command::Show(args) => show::show(args),
        Command::CliProfile(args) => profile::cli_profile(args).await,
    }
}

fn scp_document(args: &ScpArgs) -> ExitCode {
    use mfa_enforcer::scp::{scp_document, ScpNames, MAX_SCP_CHARS};
    let is_placeholder = |v: &str| v.starts_with("${") && v.ends_with('}');
    if !is_placeholder(&args.break_glass_role) {
        if let Err(e) = mfa_enforcer::scp::check_break_glass_pattern(&args.break_glass_role) {
            return fail(format!("--break-glass-role: {e}"));
        }
    }
    let names = ScpNames {
        deny_policy: args.deny_policy_name.clone(),
        enforcement_group: args.enforcement_group.clone(),
        prefix: args.name_prefix.clone(),
        trail: args.trail_name.clone(),
        break_glass_role: args.break_glass_role.clone(),
        exempt_tag_key: args.exempt_tag_key.clone(),
        topic_kms_key: args.topic_kms_key_arn.clone(),
        self_managed_stackset: args.self_managed_stackset,
    };
    let document = scp_document(&names);
    let compact = document.to_string();
    if compact.len() > MAX_SCP_CHARS {
        return fail(format!(
            "the SCP would be {} characters, over AWS's limit of {MAX_SCP_CHARS}; shorten --break-glass-role or --trail-name",
            compact.len()
        ));
    }
    if args.compact {
        println!("{compact}");
    } else {
        println!("{document:#}");
    }
    ExitCode::from(EXIT_CLEAN)
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("mfa-enforcer: error: {message}");
    ExitCode::from(EXIT_FAILED)
}

fn init_tracing(quiet: bool) {
    init_tracing_at(if quiet { "error" } else { "info" });
}

fn init_tracing_at(default: &str) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .compact()
        .init();
}

async fn audit(args: AuditArgs) -> ExitCode {
    if args.org.org {
        // One line per account says what happened; the engine's own progress per account
        // would bury it (RUST_LOG still shows it).
        init_tracing_at(if args.quiet { "error" } else { "warn" });
        if let Some(refused) = org_refuses(&args) {
            return fail(refused);
        }
        let config = match load_config(&ConfigOverrides {
            profile: args.profile.clone(),
            region: args.region.clone(),
        })
        .await
        {
            Ok(config) => config,
            Err(e) => return fail(e),
        };
        if config.region().is_none() {
            return fail("no AWS region: give --region, set AWS_REGION, or use a profile that has one (STS is regional)");
        }
        let mut settings = args.settings.raw(false);
        // Every account of a StackSet has the same group.
        settings.enforcement_group = (settings.enforcement_group)
            .or_else(|| Some(mfa_enforcer::scp::STACKSET_ENFORCEMENT_GROUP.to_string()));
        return org::run(
            &args.org,
            settings,
            config,
            args.format,
            args.output.as_deref(),
            args.quiet,
        )
        .await;
    }
    init_tracing(args.quiet);
    let settings = match Settings::parse(&args.settings.raw(args.enforce)) {
        Ok(s) => s,
        Err(e) => return fail(describe_settings_error(&e)),
    };
    let overrides = ConfigOverrides {
        profile: args.profile.clone(),
        region: args.region.clone(),
    };
    let config = match load_config(&overrides).await {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    if config.region().is_none() {
        return fail(
            "no AWS region: give --region, set AWS_REGION, or use a profile that has one \
             (SNS is regional; IAM is global)",
        );
    }
    let adapters = Adapters::new(&Clients::new(&config));
    let ports = adapters.ports(&settings, !args.enforce);
    let report = match engine::audit_account(ports, &settings, Utc::now()).await {
        Ok(r) => r,
        Err(EngineError::Setting(e)) => return fail(describe_settings_error(&e)),
        Err(e) => return fail(e),
    };
    let mut report = report;
    if settings.security_hub {
        Box::pin(engine::export_findings(
            &adapters.findings_hub,
            &mut report,
            settings.security_hub_refresh,
            Utc::now(),
        ))
        .await;
    }
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    if let Err(e) = emit(&report, args.format, &region, args.output.as_ref()) {
        return fail(e);
    }
    exit_code(&report)
}

/// What `audit --org` refuses, before any AWS call: it only reads, and every account's deny
/// policy is found by name.
fn org_refuses(args: &AuditArgs) -> Option<String> {
    if args.enforce {
        return Some("--org refuses --enforce: an organization audit only reads; enforcement stays with each account's own stack".into());
    }
    if args.settings.deny_policy_arn.is_some() {
        return Some("--org finds the deny policy of every account by name: give --deny-policy-name (default mfa-enforcer-deny-without-mfa), not --deny-policy-arn (DENY_POLICY_ARN)".into());
    }
    if args.settings.topic_arn.is_some() {
        return Some("--org publishes nothing: leave out --topic-arn (TOPIC_ARN)".into());
    }
    if args.settings.security_hub.is_some() {
        return Some("--org imports nothing into Security Hub (each account's stack does, with SecurityHub=true); for findings by hand use --format asff: leave out --security-hub (SECURITY_HUB)".into());
    }
    None
}

/// The exit status for a finished run.
pub fn exit_code(report: &RunReport) -> ExitCode {
    ExitCode::from(match report.verdict() {
        Verdict::Clean => EXIT_CLEAN,
        Verdict::NonCompliantRemain => EXIT_NON_COMPLIANT,
        Verdict::Failed => EXIT_FAILED,
    })
}

fn emit(
    report: &RunReport,
    format: Format,
    region: &str,
    output: Option<&PathBuf>,
) -> Result<(), String> {
    use std::io::Write as _;
    match output {
        Some(path) => {
            let writing = |e: String| format!("writing {}: {e}", path.display());
            let file = std::fs::File::create(path).map_err(|e| writing(e.to_string()))?;
            let mut out = std::io::BufWriter::new(file);
            render_to(report, format, region, &mut out).map_err(writing)?;
            out.flush().map_err(|e| writing(e.to_string()))
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            render_to(report, format, region, &mut out)?;
            out.flush().map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn settings_errors_name_flag_and_variable() {
        let e = SettingsError {
            variable: "GRACE_PERIOD_HOURS",
            problem: "is invalid: expected a whole number, got \"x\"".into(),
        };
        assert_eq!(
            describe_settings_error(&e),
            "--grace-period-hours (GRACE_PERIOD_HOURS) is invalid: expected a whole number, got \"x\""
        );
    }

    #[test]
    fn enforce_decides_dry_run_and_blank_flags_are_unset() {
        let cli = Cli::try_parse_from([
            "mfa-enforcer",
            "audit",
            "--deny-policy-arn",
            "arn:aws:iam::123456789012:policy/D",
            "--enforcement-group",
            " ",
        ])
        .unwrap();
        let Command::Audit(args) = cli.command else {
            panic!("audit expected")
        };
        let raw = args.settings.raw(args.enforce);
        assert_eq!(raw.dry_run.as_deref(), Some("true"));
        assert_eq!(raw.enforcement_group, None);
        assert_eq!(args.settings.raw(true).dry_run.as_deref(), Some("false"));
    }
}
