//! `mfa-enforcer show`: a saved JSON report (from `audit --format json`, `audit --org --format
//! json`, or the Lambda) rendered again, as a table, CSV, JSON or HTML.

use crate::{emit, exit_code, fail, org, ShowArgs};
use clap::ValueEnum as _;
use mfa_enforcer::run_report::RunReport;
use std::io::Read as _;
use std::process::ExitCode;

/// Renders a saved report (single account or organization) and exits as the run it stands for
/// would have.
pub fn show(args: ShowArgs) -> ExitCode {
    let region = args.region.clone().unwrap_or_default();
    if args.format.needs_region() && region.is_empty() {
        return fail(format!(
            "--format {} needs --region (or AWS_REGION): findings belong to a Region, and a saved report does not say which",
            args.format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
        ));
    }
    let text = if args.input.as_os_str() == "-" {
        let mut s = String::new();
        match std::io::stdin().read_to_string(&mut s) {
            Ok(_) => s,
            Err(e) => return fail(format!("reading standard input: {e}")),
        }
    } else {
        match std::fs::read_to_string(&args.input) {
            Ok(s) => s,
            Err(e) => return fail(format!("reading {}: {e}", args.input.display())),
        }
    };
    if text.contains("\"organization_id\"") {
        let mut report: mfa_enforcer::org::report::OrgReport = match serde_json::from_str(&text) {
            Ok(r) => r,
            Err(e) => {
                return fail(format!(
                    "{} is not an mfa-enforcer org report: {e}",
                    args.input.display()
                ))
            }
        };
        // The totals (and so the exit status) are counted again from the accounts, never
        // taken from the file.
        report.totals = mfa_enforcer::org::report::OrgTotals::default();
        for entry in &report.accounts {
            report.totals.add(entry);
        }
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let written = org::show(&report, args.format, &region, &mut out);
        return match written.and_then(|()| {
            use std::io::Write as _;
            out.flush().map_err(|e| e.to_string())
        }) {
            Ok(()) => org::exit_code(&report),
            Err(e) => fail(e),
        };
    }
    let report: RunReport = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            return fail(format!(
                "{} is not an mfa-enforcer JSON report: {e}",
                args.input.display()
            ))
        }
    };
    match emit(&report, args.format, &region, None) {
        Ok(()) => exit_code(&report),
        Err(e) => fail(e),
    }
}
