//! Renders a run report as an aligned table, CSV or JSON.

use mfa_enforcer::finding::{Finding, Status};
use mfa_enforcer::roles::RoleFinding;
use mfa_enforcer::run_report::RunReport;
use std::fmt::Write as _;
use strum::IntoEnumIterator;

/// Output formats of `audit` and `show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table for people, with a summary.
    Table,
    /// The JSON report (the same document the Lambda returns).
    Json,
    /// One CSV row per finding, for spreadsheets.
    Csv,
    /// One self-contained HTML page (no network fetches) with charts and a searchable,
    /// sortable table of users and roles.
    Html,
    /// Security Hub findings (ASFF), one JSON object per line, for
    /// `aws securityhub batch-import-findings` (100 at a time); needs a Region.
    Asff,
    /// OCSF 1.5 Compliance Findings, one JSON object per line (Security Lake, a SIEM); needs
    /// a Region.
    Ocsf,
}

impl Format {
    /// Whether the format names the Region findings belong to (ASFF's product ARN, OCSF's
    /// cloud region).
    pub fn needs_region(self) -> bool {
        matches!(self, Format::Asff | Format::Ocsf)
    }
}

/// Renders `report` in `format`, as a string (for tests).
#[cfg(test)]
pub fn render(report: &RunReport, format: Format) -> Result<String, String> {
    let mut out = Vec::new();
    render_to(report, format, "us-east-1", &mut out)?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Writes `report` in `format` to `out`; JSON is streamed, never held whole in memory.
/// `region` is the Region findings are said to be in (ASFF and OCSF only).
pub fn render_to(
    report: &RunReport,
    format: Format,
    region: &str,
    out: &mut dyn std::io::Write,
) -> Result<(), String> {
    let text = match format {
        Format::Asff | Format::Ocsf => return export_lines(report, format, region, out),
        Format::Table => table(report),
        Format::Csv => csv(report)?,
        Format::Html => crate::html::account(report)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(|e| e.to_string())?;
            "\n".to_string()
        }
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

/// A report's findings as ASFF or OCSF, one JSON object per line.
pub fn export_lines(
    report: &RunReport,
    format: Format,
    region: &str,
    out: &mut dyn std::io::Write,
) -> Result<(), String> {
    use mfa_enforcer::export::{asff, ocsf, ExportContext};
    let ctx = ExportContext::of(report, region);
    let lines: Vec<String> = match format {
        Format::Asff => asff::findings(report, &ctx)
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        _ => ocsf::findings(report, &ctx)
            .iter()
            .map(|v| v.to_string())
            .collect(),
    };
    for line in lines {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn flag(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

fn reasons(f: &Finding) -> String {
    f.reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn actions(f: &Finding) -> String {
    f.actions
        .iter()
        .map(|a| format!("{}:{}", a.kind, a.outcome))
        .collect::<Vec<_>>()
        .join(",")
}

fn table(report: &RunReport) -> String {
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .map(|f| {
            vec![
                f.user.clone(),
                f.status.to_string(),
                flag(Some(f.mfa_active)).to_string(),
                flag(f.password_enabled).to_string(),
                reasons(f),
                actions(f),
            ]
        })
        .collect();
    let header = ["USER", "STATUS", "MFA", "PASSWORD", "REASONS", "ACTIONS"];
    let mut out = aligned(&header, &rows);
    if let Some(roles) = report.roles.as_ref().filter(|r| !r.is_empty()) {
        let rows: Vec<Vec<String>> = roles
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.classification.to_string(),
                    flag(Some(r.privileged)).to_string(),
                    r.principals.join(","),
                    role_reasons(r),
                ]
            })
            .collect();
        let header = [
            "ROLE",
            "CLASSIFICATION",
            "PRIVILEGED",
            "PRINCIPALS",
            "REASONS",
        ];
        out.push('\n');
        out.push_str(&aligned(&header, &rows));
    }
    let s = &report.summary;
    let counts: Vec<String> = Status::iter()
        .map(|st| format!("{} {}", s.status(st), st))
        .collect();
    let _ = writeln!(
        out,
        "\naccount {}{}: {}",
        report.account_id,
        if report.dry_run { " (dry run)" } else { "" },
        counts.join(", ")
    );
    let _ = writeln!(
        out,
        "actions: {} applied, {} already in place, {} planned, {} skipped, {} failed; notifications failed: {}; non-compliant remaining: {}",
        s.actions_applied, s.actions_already_in_place, s.actions_planned, s.actions_skipped, s.actions_failed, s.notifications_failed, s.non_compliant_remaining
    );
    if let Some(r) = &s.roles {
        let _ = writeln!(
            out,
            "roles: {} mfa_required, {} mfa_not_required, {} mfa_bypassable, {} not_applicable; {} privileged, {} privileged without MFA",
            r.mfa_required, r.mfa_not_required, r.mfa_bypassable, r.not_applicable, r.privileged, r.privileged_without_mfa
        );
    }
    if s.guard_tripped {
        let _ = writeln!(
            out,
            "GUARD TRIPPED: {} users would be enforced, more than --max-enforcements-per-run {}; nothing was written",
            s.users_to_enforce, s.max_enforcements_per_run
        );
    }
    if report.dry_run && s.actions_planned > 0 {
        let _ = writeln!(
            out,
            "dry run: nothing was written; run with --enforce to apply the planned actions"
        );
    }
    out
}

/// Columns padded to their widest cell, the last one as it is.
fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for row in rows {
        line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

fn role_reasons(r: &RoleFinding) -> String {
    r.reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A cell a spreadsheet shows as text: one that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be read as a formula (IAM user, group and role names may begin with
/// `=`, `+`, `-` or `@`, and whoever creates a user chooses its name), so it is prefixed with
/// `'`, as OWASP's guidance on CSV injection advises
/// (<https://owasp.org/www-community/attacks/CSV_Injection>).
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Writes one CSV record, every cell made [`spreadsheet_safe`].
fn record<'a>(
    w: &mut csv::Writer<Vec<u8>>,
    cells: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let cells: Vec<std::borrow::Cow<str>> = cells.into_iter().map(spreadsheet_safe).collect();
    w.write_record(cells.iter().map(|c| c.as_bytes()))
        .map_err(|e| e.to_string())
}

/// One row per user, then one per role (`kind` says which; a role's `status` is its
/// classification, and the columns that only users have are empty).
fn csv(report: &RunReport) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "user",
        "arn",
        "status",
        "reasons",
        "mfa_active",
        "password_enabled",
        "groups",
        "actions",
        "kind",
        "privileged",
        "principals",
    ];
    w.write_record(header).map_err(|e| e.to_string())?;
    for f in &report.findings {
        let password = f
            .password_enabled
            .map(|p| p.to_string())
            .unwrap_or_default();
        record(
            &mut w,
            [
                f.user.as_str(),
                f.arn.as_str(),
                f.status.as_str(),
                &reasons(f),
                if f.mfa_active { "true" } else { "false" },
                &password,
                &f.groups.join(","),
                &actions(f),
                "user",
                "",
                "",
            ],
        )?;
    }
    for r in report.roles.iter().flatten() {
        record(
            &mut w,
            [
                r.name.as_str(),
                r.arn.as_str(),
                r.classification.as_str(),
                &role_reasons(r),
                "",
                "",
                "",
                "",
                "role",
                if r.privileged { "true" } else { "false" },
                &r.principals.join(","),
            ],
        )?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mfa_enforcer::finding::{Action, ActionKind, FindingFacts, Outcome, Reason};
    use mfa_enforcer::roles::{RoleClassification, RoleReason};
    use mfa_enforcer::run_report::Summary;

    fn report() -> RunReport {
        let findings = vec![
            Finding {
                user: "<root_account>".into(),
                arn: "arn:aws:iam::123456789012:root".into(),
                user_id: None,
                status: Status::NonCompliant,
                reasons: vec![Reason::RootNoMfa],
                mfa_active: false,
                password_enabled: None,
                groups: vec![],
                exempt_until: None,
                mfa_devices: vec![],
                access_keys: Default::default(),
                actions: vec![],
                facts: FindingFacts::default(),
            },
            Finding {
                user: "carol".into(),
                arn: "arn:aws:iam::123456789012:user/carol".into(),
                user_id: None,
                status: Status::NonCompliant,
                reasons: vec![Reason::NoMfa, Reason::OutsideEnforcementGroup],
                mfa_active: false,
                password_enabled: Some(true),
                groups: vec!["dev".into(), "ops".into()],
                exempt_until: None,
                mfa_devices: vec![],
                access_keys: Default::default(),
                actions: vec![Action {
                    kind: ActionKind::AttachDenyPolicy,
                    target: "p".into(),
                    outcome: Outcome::Planned,
                    error: None,
                    detail: None,
                }],
                facts: FindingFacts::default(),
            },
        ];
        let roles = vec![RoleFinding {
            name: "admin".into(),
            arn: "arn:aws:iam::123456789012:role/admin".into(),
            id: "AROAEXAMPLE".into(),
            path: "/".into(),
            classification: RoleClassification::MfaBypassable,
            privileged: true,
            privileged_by: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            principals: vec!["arn:aws:iam::123456789012:root".into()],
            reasons: vec![RoleReason::MfaIfExistsAdmitsAccessKeys],
        }];
        let mut report = RunReport {
            account_id: "123456789012".into(),
            generated_at: chrono::DateTime::UNIX_EPOCH,
            report_generated_at: None,
            dry_run: true,
            summary: Summary::count(&findings, None),
            findings,
            roles: None,
            notifications: vec![],
            event: None,
            deny_policy: None,
            enforcement_group_lacks_deny_policy: None,
            security_hub: None,
            exemptions_changed: false,
        };
        report.record_roles(roles);
        report
    }

    #[test]
    fn table_aligns_columns_and_summarizes() {
        let t = render(&report(), Format::Table).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "USER            STATUS         MFA  PASSWORD  REASONS                           ACTIONS"
        );
        assert_eq!(
            lines[1],
            "<root_account>  non_compliant  no   ?         root_no_mfa"
        );
        assert_eq!(lines[2], "carol           non_compliant  no   yes       no_mfa,outside_enforcement_group  attach_deny_policy:planned");
        assert!(t.contains("account 123456789012 (dry run): 0 not_applicable, 0 exempt, 0 in_grace, 0 compliant, 0 enforced, 2 non_compliant"));
        assert!(t.contains("run with --enforce"));
        assert_eq!(
            lines[4],
            "ROLE   CLASSIFICATION  PRIVILEGED  PRINCIPALS                      REASONS"
        );
        assert_eq!(lines[5], "admin  mfa_bypassable  yes         arn:aws:iam::123456789012:root  mfa_if_exists_admits_access_keys");
        assert!(t.contains("roles: 0 mfa_required, 0 mfa_not_required, 1 mfa_bypassable, 0 not_applicable; 1 privileged, 1 privileged without MFA"));
    }

    #[test]
    fn csv_quotes_lists() {
        let c = render(&report(), Format::Csv).unwrap();
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(
            lines[0],
            "user,arn,status,reasons,mfa_active,password_enabled,groups,actions,kind,privileged,principals"
        );
        assert_eq!(
            lines[1],
            "<root_account>,arn:aws:iam::123456789012:root,non_compliant,root_no_mfa,false,,,,user,,"
        );
        assert_eq!(
            lines[2],
            "carol,arn:aws:iam::123456789012:user/carol,non_compliant,\"no_mfa,outside_enforcement_group\",false,true,\"dev,ops\",attach_deny_policy:planned,user,,"
        );
        assert_eq!(
            lines[3],
            "admin,arn:aws:iam::123456789012:role/admin,mfa_bypassable,mfa_if_exists_admits_access_keys,,,,,role,true,arn:aws:iam::123456789012:root"
        );
    }

    #[test]
    fn no_cell_is_read_as_a_formula() {
        let mut r = report();
        r.findings[1].user = "=HYPERLINK(\"http://evil.example\",\"x\")".into();
        r.findings[1].groups = vec!["+cmd".into(), "ops".into()];
        r.roles.as_mut().unwrap()[0].name = "@SUM(A1)".into();
        r.roles.as_mut().unwrap()[0].principals = vec!["-2+3".into()];
        let c = render(&r, Format::Csv).unwrap();
        let rows: Vec<Vec<String>> = csv::Reader::from_reader(c.as_bytes())
            .records()
            .map(|row| row.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(rows[1][0], "'=HYPERLINK(\"http://evil.example\",\"x\")");
        assert_eq!(rows[1][6], "'+cmd,ops");
        assert_eq!(rows[2][0], "'@SUM(A1)");
        assert_eq!(rows[2][10], "'-2+3");
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell}"
                );
            }
        }
        for (cell, safe) in [("\tx", "'\tx"), ("\r=1", "'\r=1"), ("a=1", "a=1"), ("", "")] {
            assert_eq!(spreadsheet_safe(cell), safe);
        }
    }

    #[test]
    fn json_is_the_report() {
        let j = render(&report(), Format::Json).unwrap();
        let back: RunReport = serde_json::from_str(&j).unwrap();
        assert_eq!(back, report());
    }
}
