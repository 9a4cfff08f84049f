//! The whole-account run: the credential report and the authorization details (no per-user
//! reads), the deny policy's default version beside them.

use super::confirm::confirm;
use super::deny_policy::{self, Depth};
use super::{act, announce::announce, decide, EngineError};
use crate::devices::{MfaDevice, MfaDeviceType};
use crate::finding::Finding;
use crate::notices::{exempt_digest, held_to_mfa};
use crate::ports::{AccountReader, Notifier, PolicyReader, PolicyWriter, Ports, RemediationWriter};
use crate::roles;
use crate::run_report::RunReport;
use crate::settings::Settings;
use crate::snapshot::{self, AccountSnapshot};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tracing::{info, warn};

/// Audits the whole account: credential report plus authorization details, and the deny
/// policy's default version beside them; no per-user reads except the live confirmation of
/// users about to be denied when the report is old.
///
/// Nothing is attached unless the deny policy's default version is canonical; when it is not,
/// a run with a writer repairs it from the versions that exist (see `engine/deny_policy.rs`).
///
/// Fails when the account cannot be read, and when the deny policy belongs to another account
/// than the one read (before any write); write and publish failures are recorded in the
/// report (outcome `failed`) and in its verdict.
pub async fn audit_account<R, W, N>(
    ports: Ports<'_, R, W, N>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<RunReport, EngineError>
where
    R: AccountReader + PolicyReader,
    W: RemediationWriter + PolicyWriter,
    N: Notifier,
{
    let (gathered, deny_policy) = tokio::join!(
        gather(ports.reader, settings, now),
        deny_policy::read(ports.reader, &settings.deny_policy_arn)
    );
    let (mut snapshot, report_age) = gathered?;
    // Before any write, and before a failed read of another account's policy can hide it: the
    // deny policy must be this account's.
    settings.check_deny_policy_account(&snapshot.account_id)?;
    let deny_policy = deny_policy?;
    let deny_policy =
        deny_policy::keep_canonical(ports.reader, ports.writer, deny_policy, Depth::Default)
            .await?;
    snapshot.deny_policy_canonical = deny_policy.canonical;
    let (mut findings, mut plan) = decide(&snapshot, settings, now, ports.writer.is_none());
    if !plan.guard.tripped && plan.planned_actions() > 0 && report_age > settings.confirm_after {
        info!(
            users = plan.users.iter().filter(|u| u.writes()).count(),
            report_age_minutes = report_age.num_minutes(),
            "report is older than CONFIRM_AFTER_MINUTES: confirming users live before denying them"
        );
        confirm(
            ports.reader,
            &snapshot,
            &mut findings,
            &mut plan,
            settings,
            now,
        )
        .await;
    }
    let mut report = act(ports.writer, &snapshot, findings, plan, settings, now).await;
    complete_devices(ports.reader, &mut report.findings, settings).await;
    report.record_roles(roles::judge(&snapshot.roles, &snapshot.managed_policies));
    let digest_found = deny_policy.exempt_digest.clone();
    report.record_deny_policy(deny_policy);
    report.exemptions_changed = digest_found != Some(exempt_digest(&report.findings))
        && !(digest_found.is_none() && report.summary.exempt == 0);
    announce(&ports, settings, now, &mut report, Vec::new()).await;
    Ok(report)
}

/// Reads the credential report and, beside it, the authorization details, and joins them;
/// returns the snapshot (its deny policy not yet judged) and the report's age. The two reads
/// do not depend on each other: under real latency, one after the other would add the
/// report's round trips (two or more) to every run.
async fn gather<R: AccountReader>(
    reader: &R,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(AccountSnapshot, chrono::Duration), EngineError> {
    let report = async {
        let fetched = reader
            .credential_report(settings.report_max_age, now)
            .await?;
        let rows = snapshot::report_users(&fetched.content)?;
        info!(
            users = rows.len(),
            generated_at = %fetched.generated_at,
            generated_by_this_run = fetched.generated_by_this_run,
            age_minutes = fetched.age(now).num_minutes(),
            "credential report read"
        );
        // Only the users' facts are kept, not the CSV: it is as large as they are.
        Ok::<_, EngineError>((rows, fetched.age(now), fetched.generated_at))
    };
    let details = async {
        Ok::<_, EngineError>(tokio::try_join!(
            reader.authorization_details(),
            reader.assigned_virtual_mfa_devices()
        )?)
    };
    let ((rows, report_age, generated_at), (details, devices)) = tokio::try_join!(report, details)?;
    let root_needs_check = AccountSnapshot::root_needs_password_check(&rows);
    info!(
        users = details.users.len(),
        groups = details.groups.len(),
        "authorization details read"
    );
    let root_password_present = if root_needs_check {
        match reader.root_password_present().await {
            Ok(present) => present,
            Err(e) => {
                warn!(error = %e, "could not read the account summary; root is treated as having a password");
                None
            }
        }
    } else {
        None
    };
    let mut snapshot =
        AccountSnapshot::join(rows, details, root_password_present, Some(generated_at));
    snapshot.attach_virtual_devices(devices);
    snapshot.judge_enforcement_group(settings);
    read_devices_of_phishing_scope(reader, &mut snapshot, settings).await;
    Ok((snapshot, report_age))
}

/// Reads every MFA device of the users `PHISHING_RESISTANT_FOR` names who have MFA (the
/// whole-account reads list only virtual devices), one ListMFADevices each; a user whose
/// devices cannot be read is not judged.
async fn read_devices_of_phishing_scope<R: AccountReader>(
    reader: &R,
    snapshot: &mut AccountSnapshot,
    settings: &Settings,
) {
    let scope = snapshot.phishing_scope(&settings.phishing_resistant_for);
    let users = scope
        .into_iter()
        .map(|i| (i, snapshot.users[i].name.clone()));
    let read = devices_of(reader, users, settings.max_concurrency).await;
    for (i, result) in read {
        let user = &mut snapshot.users[i];
        match result {
            Ok(serials) => {
                user.mfa_devices = serials.iter().map(|s| MfaDevice::from_serial(s)).collect();
                user.must_resist_phishing = true;
            }
            Err(e) => {
                warn!(user = %user.name, error = %e, "could not list the user's MFA devices; whether they resist phishing is not judged")
            }
        }
    }
}

/// Reads every MFA device of the users whose notice needs them: held to MFA by this run, with
/// access keys, and no device known that gives CLI sessions (a whole-account run knows only
/// the virtual ones). One ListMFADevices each; a failure leaves the notice with what is known.
async fn complete_devices<R: AccountReader>(
    reader: &R,
    findings: &mut [Finding],
    settings: &Settings,
) {
    // A passkey or security key in the list means it was read whole already (the phishing
    // scope's read): the account-wide read lists only virtual devices.
    let needed: Vec<(usize, String)> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            held_to_mfa(f)
                && f.access_keys.active > 0
                && !f.mfa_devices.iter().any(|d| {
                    d.kind.gives_cli_sessions() || d.kind == MfaDeviceType::PasskeyOrSecurityKey
                })
        })
        .map(|(i, f)| (i, f.user.clone()))
        .collect();
    let read = devices_of(reader, needed, settings.max_concurrency).await;
    for (i, result) in read {
        match result {
            Ok(serials) => {
                findings[i].mfa_devices =
                    serials.iter().map(|s| MfaDevice::from_serial(s)).collect();
            }
            Err(e) => {
                warn!(user = %findings[i].user, error = %e, "could not list the user's MFA devices; the notice says what is known")
            }
        }
    }
}

/// Every MFA device of each user named, one ListMFADevices each, `concurrency` at a time:
/// `(index, serials or why not)`, in the order they answered.
async fn devices_of<R: AccountReader>(
    reader: &R,
    users: impl IntoIterator<Item = (usize, String)>,
    concurrency: usize,
) -> Vec<(usize, Result<Vec<String>, crate::ports::AwsError>)> {
    stream::iter(users)
        .map(|(i, user)| async move { (i, reader.mfa_devices(&user).await) })
        .buffer_unordered(concurrency)
        .collect()
        .await
}
