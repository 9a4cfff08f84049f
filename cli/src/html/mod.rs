//! `--format html`: one self-contained file that opens in any browser. Nothing is fetched
//! (inline CSS, inline SVG charts, a little inline script to search and sort, and a
//! Content-Security-Policy that allows nothing else); every value from AWS is escaped by the
//! template engine (minijinja, HTML auto-escaping): names, tags and account names are chosen
//! by whoever creates them.

use mfa_enforcer::finding::{Finding, Status};
use mfa_enforcer::org::report::{AccountEntry, AccountStatus, OrgReport};
use mfa_enforcer::roles::{RoleClassification, RoleFinding};
use mfa_enforcer::run_report::RunReport;
use serde::Serialize;
use strum::IntoEnumIterator;

const TEMPLATE: &str = include_str!("../../templates/report.html.j2");

/// The longest bar of a chart, in SVG units.
const BAR: usize = 280;

#[derive(Serialize)]
struct Page {
    title: String,
    subtitle: String,
    generated_at: String,
    version: &'static str,
    org: bool,
    totals: Vec<Total>,
    statuses: Vec<Bar>,
    roles: Vec<Bar>,
    ranking: Vec<Ranked>,
    unreachable: Vec<Unreachable>,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct Total {
    id: &'static str,
    label: &'static str,
    value: usize,
    bad: bool,
}

#[derive(Serialize)]
struct Bar {
    status: &'static str,
    count: usize,
    width: usize,
    color: &'static str,
}

#[derive(Serialize)]
struct Ranked {
    account_id: String,
    name: String,
    ou_path: String,
    non_compliant: usize,
    roles_without_mfa: usize,
    root: &'static str,
}

#[derive(Serialize)]
struct Unreachable {
    account_id: String,
    name: String,
    ou_path: String,
    error: String,
}

#[derive(Serialize)]
struct Row {
    account: String,
    kind: &'static str,
    name: String,
    arn: String,
    status: &'static str,
    reasons: String,
    actions: String,
}

/// A number at a glance; `alarming` ones are red when not zero.
fn total(id: &'static str, label: &'static str, value: usize, alarming: bool) -> Total {
    Total {
        id,
        label,
        value,
        bad: alarming && value > 0,
    }
}

fn color(status: &str) -> &'static str {
    match status {
        "compliant" | "mfa_required" => "#17b26a",
        "non_compliant" | "mfa_not_required" | "mfa_bypassable" => "#d92d20",
        "enforced" | "in_grace" | "exempt" => "#f79009",
        _ => "#98a2b3",
    }
}

fn bars(counts: Vec<(&'static str, usize)>) -> Vec<Bar> {
    let most = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    counts
        .into_iter()
        .map(|(status, count)| Bar {
            status,
            count,
            width: count * BAR / most,
            color: color(status),
        })
        .collect()
}

fn user_row(account: &str, f: &Finding) -> Row {
    Row {
        account: account.to_string(),
        kind: "user",
        name: f.user.clone(),
        arn: f.arn.clone(),
        status: f.status.as_str(),
        reasons: f
            .reasons
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        actions: (f.actions.iter())
            .map(|a| format!("{} {}", a.kind, a.outcome))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn role_row(account: &str, r: &RoleFinding) -> Row {
    let mut reasons: Vec<&str> = r.reasons.iter().map(|x| x.as_str()).collect();
    if r.privileged {
        reasons.push("privileged");
    }
    Row {
        account: account.to_string(),
        kind: "role",
        name: r.name.clone(),
        arn: r.arn.clone(),
        status: r.classification.as_str(),
        reasons: reasons.join(", "),
        actions: String::new(),
    }
}

fn role_bars<'a>(roles: impl Iterator<Item = &'a RoleFinding> + Clone) -> Vec<Bar> {
    bars(
        RoleClassification::iter()
            .map(|c| {
                (
                    c.as_str(),
                    roles.clone().filter(|r| r.classification == c).count(),
                )
            })
            .collect(),
    )
}

/// One account's report as a page.
pub fn account(report: &RunReport) -> Result<String, String> {
    let s = &report.summary;
    let roles = report.roles.as_deref().unwrap_or_default();
    let page = Page {
        title: format!("MFA in account {}", report.account_id),
        subtitle: if report.dry_run {
            "dry run".into()
        } else {
            "enforcing run".into()
        },
        generated_at: report.generated_at.to_rfc3339(),
        version: env!("CARGO_PKG_VERSION"),
        org: false,
        totals: vec![
            total("users", "users", report.findings.len(), false),
            total(
                "non-compliant",
                "non-compliant users",
                s.non_compliant,
                true,
            ),
            total("roles", "roles", roles.len(), false),
            total(
                "roles-without-mfa",
                "privileged roles without MFA",
                roles.iter().filter(|r| r.privileged_without_mfa()).count(),
                true,
            ),
        ],
        statuses: bars(
            Status::iter()
                .map(|st| (st.as_str(), s.status(st)))
                .collect(),
        ),
        roles: role_bars(roles.iter()),
        ranking: Vec::new(),
        unreachable: Vec::new(),
        rows: (report.findings.iter())
            .map(|f| user_row(&report.account_id, f))
            .chain(roles.iter().map(|r| role_row(&report.account_id, r)))
            .collect(),
    };
    render(&page)
}

/// An organization's report as a page.
pub fn organization(report: &OrgReport) -> Result<String, String> {
    let t = &report.totals;
    let mut ranked: Vec<&AccountEntry> = (report.accounts.iter())
        .filter(|a| a.status == AccountStatus::Audited && a.needs_attention())
        .collect();
    ranked.sort_by_key(|a| {
        std::cmp::Reverse((
            a.non_compliant_users() + a.privileged_roles_without_mfa(),
            a.privileged_roles_without_mfa(),
        ))
    });
    let page = Page {
        title: format!("MFA across organization {}", report.organization_id),
        subtitle: format!("{} accounts, run {}", t.accounts, report.run_id),
        generated_at: report.generated_at.to_rfc3339(),
        version: env!("CARGO_PKG_VERSION"),
        org: true,
        totals: vec![
            total("accounts", "accounts", t.accounts, false),
            total(
                "compliant-accounts",
                "compliant accounts",
                t.compliant_accounts,
                false,
            ),
            total(
                "non-compliant-accounts",
                "accounts to fix",
                t.non_compliant_accounts,
                true,
            ),
            total("unreachable", "unreachable accounts", t.unreachable, true),
            total(
                "non-compliant",
                "non-compliant users",
                t.non_compliant_users,
                true,
            ),
            total(
                "roles-without-mfa",
                "privileged roles without MFA",
                t.privileged_roles_without_mfa,
                true,
            ),
            total("root-at-risk", "roots at risk", t.root_at_risk, true),
        ],
        statuses: bars(
            Status::iter()
                .map(|st| (st.as_str(), t.users.status(st)))
                .collect(),
        ),
        roles: role_bars(report.accounts.iter().flat_map(|a| a.roles.iter())),
        ranking: ranked
            .into_iter()
            .map(|a| Ranked {
                account_id: a.account_id.clone(),
                name: a.name.clone(),
                ou_path: a.ou_path.clone(),
                non_compliant: a.non_compliant_users(),
                roles_without_mfa: a.privileged_roles_without_mfa(),
                root: if a.root_at_risk() { "at risk" } else { "" },
            })
            .collect(),
        unreachable: (report.accounts.iter())
            .filter(|a| a.status == AccountStatus::Unreachable)
            .map(|a| Unreachable {
                account_id: a.account_id.clone(),
                name: a.name.clone(),
                ou_path: a.ou_path.clone(),
                error: a.error.clone().unwrap_or_default(),
            })
            .collect(),
        rows: (report.accounts.iter())
            .flat_map(|a| {
                let label = format!("{} {}", a.account_id, a.name);
                let users: Vec<Row> = a.findings.iter().map(|f| user_row(&label, f)).collect();
                let roles: Vec<Row> = a.roles.iter().map(|r| role_row(&label, r)).collect();
                users.into_iter().chain(roles)
            })
            .collect(),
    };
    render(&page)
}

fn render(page: &Page) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    // HTML auto-escaping by the template's name: every `{{ value }}` is escaped.
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    env.get_template("report.html")
        .and_then(|t| t.render(page))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
