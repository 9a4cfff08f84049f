//! `mfa-enforcer audit --org`: every account of an organization, read-only, in one report that
//! is written as accounts finish.

use crate::render::{spreadsheet_safe, Format};
use crate::{fail, EXIT_CLEAN, EXIT_NON_COMPLIANT};
use clap::Args;
use mfa_enforcer::aws::org::{list_organization, OrgAuditor};
use mfa_enforcer::org::report::{AccountEntry, AccountStatus, OrgReport, OrgTotals};
use mfa_enforcer::org::walk::walk;
use mfa_enforcer::org::{check, select, Selection};
use mfa_enforcer::run_report::RunReport;
use mfa_enforcer::settings::RawSettings;
use std::io::{IsTerminal as _, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Flags of `audit` for a whole organization.
#[derive(Debug, Clone, Args)]
pub struct OrgFlags {
    /// Audit every account of the organization (read-only; run with the management account's
    /// or a delegated administrator's credentials). Refuses --enforce: enforcement stays with
    /// each account's own stack.
    #[arg(long)]
    pub org: bool,
    /// Only the accounts under this OU or root, at any depth (repeatable).
    #[arg(long = "ou", value_name = "ID", requires = "org")]
    pub ous: Vec<String>,
    /// Only these accounts (comma-separated IDs).
    #[arg(long, value_name = "IDS", value_delimiter = ',', requires = "org")]
    pub accounts: Vec<String>,
    /// Never these accounts (comma-separated IDs).
    #[arg(long, value_name = "IDS", value_delimiter = ',', requires = "org")]
    pub exclude: Vec<String>,
    /// Audit the management account too (StackSets never deploy the audit role there: give
    /// it a stack of its own first).
    #[arg(long, requires = "org")]
    pub include_management_account: bool,
    /// The role assumed in each account.
    #[arg(long, value_name = "NAME", default_value = mfa_enforcer::org::DEFAULT_AUDIT_ROLE, requires = "org")]
    pub role_name: String,
    /// The external ID the role asks for, if any.
    #[arg(long, value_name = "ID", requires = "org")]
    pub external_id: Option<String>,
    /// The deny policy's name in every account (the StackSet gives it this one).
    #[arg(long, value_name = "NAME", default_value = mfa_enforcer::scp::STACKSET_DENY_POLICY_NAME, requires = "org")]
    pub deny_policy_name: String,
    /// Accounts audited at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64), requires = "org")]
    pub concurrency: u16,
    /// The longest one account may take before it is reported unreachable.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(10..=3600), requires = "org")]
    pub account_timeout: u64,
}

/// Runs the organization audit: 0 when every account was audited and nothing is
/// non-compliant, 2 when anything is non-compliant or unreachable, 1 when the organization
/// could not be listed (or the output not written).
pub async fn run(
    flags: &OrgFlags,
    settings: RawSettings,
    config: aws_config::SdkConfig,
    format: Format,
    output: Option<&std::path::Path>,
    quiet: bool,
) -> ExitCode {
    let org = match list_organization(&config).await {
        Ok(org) => org,
        Err(e) => return fail(format!("the organization could not be listed: {e}")),
    };
    let selection = Selection {
        ous: flags.ous.clone(),
        accounts: flags.accounts.clone(),
        exclude: flags.exclude.clone(),
        include_management_account: flags.include_management_account,
    };
    if let Err(e) = check(&org, &selection) {
        return fail(e);
    }
    let accounts: Vec<_> = select(&org, &selection).into_iter().cloned().collect();
    if !quiet {
        let left_out = org.accounts.len() - accounts.len();
        if left_out > 0 {
            eprintln!(
                "{left_out} accounts left out (not ACTIVE, the management account, or filtered)"
            );
        }
    }
    let now = chrono::Utc::now();
    let run_id = now.format("%Y%m%dT%H%M%SZ").to_string();
    let partition = org.partition.clone();
    let auditor = OrgAuditor {
        base: config,
        role_name: flags.role_name.clone(),
        external_id: flags.external_id.clone(),
        run_id: run_id.clone(),
        session_seconds: flags.account_timeout.clamp(900, 3600) as i32,
        partition,
        settings,
        deny_policy_name: flags.deny_policy_name.clone(),
    };
    // The settings every account gets, checked once before any account is touched.
    if let Err(e) = auditor.settings_for("000000000000") {
        return fail(e);
    }
    let mut out: Box<dyn Write> = match output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => return fail(format!("writing {}: {e}", path.display())),
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let region = auditor
        .base
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let mut sink = Sink::new(format, &region, &mut out);
    let mut progress = Progress::new(accounts.len(), quiet);
    let mut totals = OrgTotals::default();
    let mut failure = sink.begin(&org.id, now, &run_id).err();
    let concurrency = usize::from(flags.concurrency);
    let limit = Duration::from_secs(flags.account_timeout);
    walk(&auditor, accounts, concurrency, limit, |entry| {
        totals.add(&entry);
        progress.done(&entry);
        if failure.is_none() {
            failure = sink.account(&entry).err();
        }
    })
    .await;
    progress.finish(&totals);
    if let Some(e) = failure.or_else(|| sink.end(&totals).err()) {
        return fail(format!("writing the report: {e}"));
    }
    if let Err(e) = out.flush() {
        return fail(format!("writing the report: {e}"));
    }
    ExitCode::from(if totals.all_compliant() {
        EXIT_CLEAN
    } else {
        EXIT_NON_COMPLIANT
    })
}

/// A progress bar on standard error when it is a terminal, a quiet line per account otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Progress {
    fn new(total: usize, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} accounts ({per_sec}, {eta} left) {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        if !quiet && bar.is_none() {
            eprintln!("auditing {total} accounts");
        }
        Progress { bar, quiet }
    }

    fn done(&mut self, entry: &AccountEntry) {
        let line = describe(entry);
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(line);
            }
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }

    fn finish(&mut self, totals: &OrgTotals) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if !self.quiet {
            eprintln!(
                "{} accounts: {} audited ({} compliant, {} not), {} unreachable",
                totals.accounts,
                totals.audited,
                totals.compliant_accounts,
                totals.non_compliant_accounts,
                totals.unreachable
            );
        }
    }
}

fn describe(entry: &AccountEntry) -> String {
    match entry.status {
        AccountStatus::Audited => format!(
            "account {} ({}): audited; non-compliant users: {}; privileged roles without MFA: {}",
            entry.account_id,
            entry.name,
            entry.non_compliant_users(),
            entry.privileged_roles_without_mfa()
        ),
        AccountStatus::Unreachable => format!(
            "account {} ({}): unreachable: {}",
            entry.account_id,
            entry.name,
            entry.error.as_deref().unwrap_or_default()
        ),
    }
}

/// Where the report goes, one account at a time.
pub struct Sink<'a> {
    format: Format,
    /// The Region findings belong to (ASFF, OCSF).
    region: String,
    /// When the organization's run was made (every account's findings carry it).
    generated_at: chrono::DateTime<chrono::Utc>,
    out: &'a mut dyn Write,
    first: bool,
    /// HTML ranks and charts the whole organization: it keeps every entry until the end.
    held: Option<OrgReport>,
}

type WriteResult = Result<(), String>;

const TABLE_HEADER: &str =
    "ACCOUNT       STATUS       USERS  NON_COMPLIANT  ROLES_NO_MFA  ROOT      OU / NAME / ERROR";

impl<'a> Sink<'a> {
    /// A sink writing `format` to `out`.
    pub fn new(format: Format, region: &str, out: &'a mut dyn Write) -> Sink<'a> {
        Sink {
            format,
            region: region.to_string(),
            generated_at: chrono::DateTime::UNIX_EPOCH,
            out,
            first: true,
            held: None,
        }
    }

    fn write(&mut self, text: &str) -> WriteResult {
        self.out
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())
    }

    /// The report's head.
    pub fn begin(
        &mut self,
        organization_id: &str,
        generated_at: chrono::DateTime<chrono::Utc>,
        run_id: &str,
    ) -> WriteResult {
        self.generated_at = generated_at;
        match self.format {
            Format::Asff | Format::Ocsf => Ok(()),
            Format::Json => {
                let head = serde_json::json!({
                    "organization_id": organization_id,
                    "generated_at": generated_at,
                    "run_id": run_id,
                });
                let head = head.to_string();
                let open = head.strip_suffix('}').unwrap_or(&head).to_string();
                self.write(&format!("{open},\"accounts\":[\n"))
            }
            Format::Table => self.write(&format!(
                "organization {organization_id}, run {run_id}\n\n{TABLE_HEADER}\n"
            )),
            Format::Csv => self.csv(&[CSV_HEADER.map(String::from).to_vec()]),
            Format::Html => {
                self.held = Some(OrgReport {
                    organization_id: organization_id.to_string(),
                    generated_at,
                    run_id: run_id.to_string(),
                    accounts: Vec::new(),
                    totals: OrgTotals::default(),
                });
                Ok(())
            }
        }
    }

    /// One account, as soon as it finished.
    pub fn account(&mut self, entry: &AccountEntry) -> WriteResult {
        match self.format {
            Format::Json => {
                let comma = if self.first { "" } else { ",\n" };
                self.first = false;
                let body = serde_json::to_string(entry).map_err(|e| e.to_string())?;
                self.write(&format!("{comma}{body}"))
            }
            Format::Table => {
                let users = entry.findings.len();
                let root = if entry.root_at_risk() { "at risk" } else { "-" };
                let tail = match &entry.error {
                    Some(e) => format!("{} / {} / {e}", entry.ou_path, entry.name),
                    None => format!("{} / {}", entry.ou_path, entry.name),
                };
                let line = format!(
                    "{:<12}  {:<11}  {:>5}  {:>13}  {:>12}  {:<8}  {}\n",
                    entry.account_id,
                    entry.status,
                    users,
                    entry.non_compliant_users(),
                    entry.privileged_roles_without_mfa(),
                    root,
                    tail
                );
                self.write(&line)
            }
            Format::Csv => self.csv(&csv_rows(entry)),
            Format::Asff | Format::Ocsf => {
                // An unreachable account has no findings: the table and JSON name it.
                let mut run = RunReport::empty(&entry.account_id, self.generated_at, true);
                run.findings = entry.findings.clone();
                run.roles = Some(entry.roles.clone());
                crate::render::export_lines(&run, self.format, &self.region, self.out)
            }
            Format::Html => {
                let held = self.held.as_mut().ok_or("the report was not begun")?;
                held.accounts.push(entry.clone());
                Ok(())
            }
        }
    }

    /// The totals, and the report's end.
    pub fn end(&mut self, totals: &OrgTotals) -> WriteResult {
        match self.format {
            Format::Json => {
                let totals = serde_json::to_string(totals).map_err(|e| e.to_string())?;
                self.write(&format!("\n],\"totals\":{totals}}}\n"))
            }
            Format::Table => self.write(&format!(
                "\n{} accounts: {} audited ({} compliant, {} non-compliant), {} unreachable; {} non-compliant users, {} privileged roles without MFA, {} roots at risk\n",
                totals.accounts,
                totals.audited,
                totals.compliant_accounts,
                totals.non_compliant_accounts,
                totals.unreachable,
                totals.non_compliant_users,
                totals.privileged_roles_without_mfa,
                totals.root_at_risk
            )),
            Format::Csv | Format::Asff | Format::Ocsf => Ok(()),
            Format::Html => {
                let mut held = self.held.take().ok_or("the report was not begun")?;
                held.totals = totals.clone();
                let page = crate::html::organization(&held)?;
                self.write(&page)
            }
        }
    }

    /// Writes CSV rows, every cell [`spreadsheet_safe`] (the header's too, harmlessly).
    fn csv(&mut self, rows: &[Vec<String>]) -> WriteResult {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in rows {
            let cells: Vec<std::borrow::Cow<str>> =
                row.iter().map(|c| spreadsheet_safe(c)).collect();
            w.write_record(cells.iter().map(|c| c.as_bytes()))
                .map_err(|e| e.to_string())?;
        }
        let bytes = w.into_inner().map_err(|e| e.to_string())?;
        self.out.write_all(&bytes).map_err(|e| e.to_string())
    }
}

const CSV_HEADER: [&str; 12] = [
    "account_id",
    "account_name",
    "ou_path",
    "account_status",
    "error",
    "kind",
    "name",
    "arn",
    "status",
    "reasons",
    "privileged",
    "actions",
];

/// An account's CSV rows: one per user and role (one row alone for an unreachable account).
fn csv_rows(entry: &AccountEntry) -> Vec<Vec<String>> {
    let account = [
        entry.account_id.clone(),
        entry.name.clone(),
        entry.ou_path.clone(),
        entry.status.to_string(),
        entry.error.clone().unwrap_or_default(),
    ];
    let row = |rest: [String; 7]| account.iter().cloned().chain(rest).collect::<Vec<_>>();
    if entry.status == AccountStatus::Unreachable {
        return vec![row(Default::default())];
    }
    let join = |v: Vec<&str>| v.join(",");
    let users = entry.findings.iter().map(|f| {
        row([
            "user".into(),
            f.user.clone(),
            f.arn.clone(),
            f.status.to_string(),
            join(f.reasons.iter().map(|r| r.as_str()).collect()),
            String::new(),
            f.actions
                .iter()
                .map(|a| format!("{}:{}", a.kind, a.outcome))
                .collect::<Vec<_>>()
                .join(","),
        ])
    });
    let roles = entry.roles.iter().map(|r| {
        row([
            "role".into(),
            r.name.clone(),
            r.arn.clone(),
            r.classification.to_string(),
            join(r.reasons.iter().map(|x| x.as_str()).collect()),
            r.privileged.to_string(),
            String::new(),
        ])
    });
    users.chain(roles).collect()
}

/// Renders a saved org report (from `audit --org --format json`).
pub fn show(report: &OrgReport, format: Format, region: &str, out: &mut dyn Write) -> WriteResult {
    let mut sink = Sink::new(format, region, out);
    sink.begin(&report.organization_id, report.generated_at, &report.run_id)?;
    for entry in &report.accounts {
        sink.account(entry)?;
    }
    sink.end(&report.totals)
}

/// The exit status a saved org report stands for.
pub fn exit_code(report: &OrgReport) -> ExitCode {
    ExitCode::from(if report.totals.all_compliant() {
        EXIT_CLEAN
    } else {
        EXIT_NON_COMPLIANT
    })
}
