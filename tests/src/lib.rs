//! Test support for integration tests: a moto server per test, seeding, and real binaries.
//!
//! - [`Moto`] starts moto server (from the venv `scripts/bootstrap.sh` makes) on a free
//!   loopback port with its request recorder on, and stops it on drop.
//! - [`Account`] seeds users, groups, policies, a topic with a subscribed queue, and reads
//!   moto's final state back.
//! - [`runtime_api`] is a minimal Lambda Runtime API, to drive a function binary as Lambda does.
//! - [`binary`] builds (if needed) and locates a workspace binary.
//! - [`template`] reads infra/template.yaml and what each role grants.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod cfn;
pub mod fault_proxy;
pub mod runtime_api;
pub mod template;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::Credentials;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The account moto serves for the `testing` credentials.
pub const ACCOUNT: &str = "123456789012";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The project's Python venv (`MFA_VENV`, default `<workspace>/.venv`).
pub fn venv() -> PathBuf {
    std::env::var_os("MFA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"))
}

/// The project's infra venv (`MFA_INFRA_VENV`, default `<workspace>/.venv-infra`): template
/// linters, the IAM policy evaluator and linter.
pub fn infra_venv() -> PathBuf {
    std::env::var_os("MFA_INFRA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv-infra"))
}

/// Runs one of `tests/policy_eval/`'s scripts in the infra venv with `input` on standard input
/// and returns its JSON answer.
pub fn policy_tool(script: &str, input: &serde_json::Value) -> serde_json::Value {
    python_tool(
        &infra_venv(),
        &workspace_root().join("tests/policy_eval").join(script),
        &[],
        &input.to_string(),
    )
}

/// Runs a Python script of the tests in `venv` with `args`, `input` on standard input, and
/// returns its JSON answer; a failing script fails the test with its standard error.
pub fn python_tool(venv: &Path, script: &Path, args: &[&str], input: &str) -> serde_json::Value {
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} not found: run scripts/bootstrap.sh (make test does)",
        python.display()
    );
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A moto server on a free loopback port, stopped on drop.
pub struct Moto {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Moto {
    /// Starts moto server and waits (bounded) until it answers.
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// Starts moto server with extra environment variables (`MOTO_IAM_LOAD_MANAGED_POLICIES`
    /// to have AWS's managed policies, which every other test does without: loading them
    /// slows every IAM request).
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let server = venv().join("bin/moto_server");
        assert!(
            server.exists(),
            "moto server not found at {}: run scripts/bootstrap.sh (or make setup) first",
            server.display()
        );
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("mfa-enforcer-moto-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = std::fs::File::create(dir.join("moto.log")).unwrap();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", dir.join("recording.jsonl"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let moto = Moto { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while http(port, "GET", "/moto-api/").is_err() {
            assert!(
                Instant::now() < deadline,
                "moto server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK configuration pointing at this server, hermetic (no profile, no metadata).
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .load()
            .await
    }

    /// An SDK configuration for `endpoint` (this server, or a proxy in front of it) with the
    /// production number of attempts (`MAX_ATTEMPTS`) on a faster clock: 10 ms backoffs
    /// instead of seconds, and `attempt_timeout` instead of a minute. Standard mode, not the
    /// production adaptive one: its client-side rate limiter is shared by every client of a
    /// process, so one test's injected throttling would slow the tests beside it (the
    /// adaptive mode is measured in `bench/pacing.py` instead).
    pub async fn sdk_config_fast_retries(
        &self,
        endpoint: &str,
        attempt_timeout: Duration,
    ) -> SdkConfig {
        use aws_config::retry::RetryConfig;
        use aws_config::timeout::TimeoutConfig;
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(mfa_enforcer::aws::MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(10))
                    .with_max_backoff(Duration::from_millis(100)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_attempt_timeout(attempt_timeout)
                    .build(),
            )
            .load()
            .await
    }

    /// Environment for a process that should talk to this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
    }

    /// Forgets every request recorded so far.
    pub fn reset_recording(&self) {
        http(self.port, "POST", "/moto-api/recorder/reset-recording").unwrap();
    }

    /// The API actions received since the last reset, in order (`iam:AttachUserPolicy`...).
    pub fn recorded_actions(&self) -> Vec<String> {
        self.recorded_calls()
            .into_iter()
            .map(|c| c.action)
            .collect()
    }

    /// The API calls received since the last reset, in order, with their parameters.
    pub fn recorded_calls(&self) -> Vec<Call> {
        let text = self.settled_recording();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).unwrap();
                call_of(&entry)
            })
            .collect()
    }

    /// The recording once moto has stopped writing it: a request a client abandoned (a dropped
    /// connection) may still be in moto's hands after the client exits, and a line read while
    /// it is written is half a line.
    fn settled_recording(&self) -> String {
        let path = self.dir.join("recording.jsonl");
        let read = || std::fs::read_to_string(&path).unwrap_or_default();
        let mut last = read();
        for _ in 0..100 {
            std::thread::sleep(Duration::from_millis(50));
            let now = read();
            if now == last && (now.is_empty() || now.ends_with('\n')) {
                return now;
            }
            last = now;
        }
        panic!("moto's recording never settled: {}", path.display())
    }

    /// Forgets every resource (moto's reset) and the recording.
    pub fn reset(&self) {
        http(self.port, "POST", "/moto-api/reset").unwrap();
        self.reset_recording();
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The recorded IAM actions that change state.
    pub fn recorded_iam_writes(&self) -> Vec<String> {
        self.recorded_actions()
            .into_iter()
            .filter(|a| {
                a.strip_prefix("iam:").is_some_and(|op| {
                    !(op.starts_with("Get")
                        || op.starts_with("List")
                        || op == "GenerateCredentialReport")
                })
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One recorded API call: `service:Action` and its query-protocol parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `iam:AttachUserPolicy`...
    pub action: String,
    /// Form or query parameters, URL-decoded (`UserName`, `PolicyArn`, `Tags.member.1.Key`...).
    pub params: std::collections::BTreeMap<String, String>,
    /// The request's body, decoded (a JSON protocol's document).
    pub body: String,
}

impl Call {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// The call of a recorded request: the SigV4 scope names the service; the action is the
/// query protocol's `Action` field or the JSON protocol's `X-Amz-Target`.
fn call_of(entry: &serde_json::Value) -> Option<Call> {
    let headers = entry["headers"].as_object()?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    };
    let service = header("Authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("?")
        .to_string();
    if let Some(target) = header("X-Amz-Target") {
        return Some(Call {
            action: format!("{service}:{}", target.rsplit('.').next()?),
            params: Default::default(),
            body: String::new(),
        });
    }
    let body = entry["body"].as_str().unwrap_or_default();
    let body = if entry["body_encoded"].as_bool() == Some(true) {
        String::from_utf8(base64_decode(body)).ok()?
    } else {
        body.to_string()
    };
    let url = entry["url"].as_str().unwrap_or_default();
    if let Some(action) = rest_action(&service, url) {
        return Some(Call {
            action,
            params: Default::default(),
            body,
        });
    }
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let params: std::collections::BTreeMap<String, String> = body
        .split('&')
        .chain(query.split('&'))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (url_decode(k), url_decode(v)))
        .collect();
    let action = format!("{service}:{}", params.get("Action")?);
    Some(Call {
        action,
        params,
        body: String::new(),
    })
}

/// The action of a REST-JSON request, which its path names (Security Hub's, the only such
/// service the enforcer calls): `securityhub:BatchImportFindings`, `securityhub:GetFindings`.
pub fn rest_action(service: &str, url: &str) -> Option<String> {
    if service != "securityhub" {
        return None;
    }
    let path = url.split('?').next().unwrap_or_default();
    let action = if path.ends_with("/findings/import") {
        "BatchImportFindings"
    } else if path.ends_with("/findings") {
        "GetFindings"
    } else {
        path.rsplit('/').next().unwrap_or("?")
    };
    Some(format!("securityhub:{action}"))
}

fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
    {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// A one-shot HTTP/1.0 request to 127.0.0.1 (control endpoints of moto); returns the body.
pub fn http(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    if !response.starts_with("HTTP/1.0 200") && !response.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(
            response.lines().next().unwrap_or_default().to_string(),
        ));
    }
    Ok(response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default())
}

/// An MFA device of a seeded user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// A virtual device with this name (`arn:aws:iam::ACCOUNT:mfa/NAME`).
    Virtual(String),
    /// A passkey or security key (a `u2f` serial).
    SecurityKey,
    /// A hardware TOTP token with this serial.
    Hardware(String),
}

/// How a seeded user looks.
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub console: bool,
    pub mfa: bool,
    pub devices: Vec<Device>,
    pub access_key: bool,
    pub groups: Vec<String>,
    pub deny_attached: bool,
    pub tags: Vec<(String, String)>,
}

impl UserSpec {
    pub fn console() -> Self {
        UserSpec {
            console: true,
            ..UserSpec::default()
        }
    }
    pub fn api_only() -> Self {
        UserSpec::default()
    }
    pub fn mfa(mut self) -> Self {
        self.mfa = true;
        self
    }
    /// An MFA device of a given kind (instead of a virtual one named after the user).
    pub fn device(mut self, device: Device) -> Self {
        self.devices.push(device);
        self
    }
    /// An active access key (console users have none unless asked).
    pub fn key(mut self) -> Self {
        self.access_key = true;
        self
    }
    pub fn group(mut self, group: &str) -> Self {
        self.groups.push(group.to_string());
        self
    }
    pub fn deny(mut self) -> Self {
        self.deny_attached = true;
        self
    }
    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.push((key.to_string(), value.to_string()));
        self
    }
}

/// A seeded account on a moto server, and its state read back.
pub struct Account {
    pub iam: aws_sdk_iam::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub deny_policy_arn: String,
    pub topic_arn: String,
    pub queue_url: String,
}

/// A policy document that allows everything: what a tampering makes the deny policy.
pub const TAMPERED_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The enforcement group every seeded account has (carrying the deny policy).
pub const GROUP: &str = "MFAEnforced";

impl Account {
    /// Creates the deny policy (document given), the enforcement group carrying it, and a topic
    /// with a subscribed queue.
    pub async fn seed(config: &SdkConfig, deny_policy_document: &str) -> Account {
        let iam = aws_sdk_iam::Client::new(config);
        let sns = aws_sdk_sns::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let deny_policy_arn = iam
            .create_policy()
            .policy_name("DenyWithoutMFA")
            .policy_document(deny_policy_document)
            .send()
            .await
            .unwrap()
            .policy
            .unwrap()
            .arn
            .unwrap();
        iam.create_group().group_name(GROUP).send().await.unwrap();
        iam.attach_group_policy()
            .group_name(GROUP)
            .policy_arn(&deny_policy_arn)
            .send()
            .await
            .unwrap();
        let topic_arn = sns
            .create_topic()
            .name("mfa-enforcer")
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let queue_url = sqs
            .create_queue()
            .queue_name("inbox")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let queue_arn = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:inbox");
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .unwrap();
        Account {
            iam,
            sns,
            sqs,
            deny_policy_arn,
            topic_arn,
            queue_url,
        }
    }

    /// Creates a user as specified.
    pub async fn user(&self, name: &str, spec: UserSpec) {
        let mut create = self.iam.create_user().user_name(name);
        for (k, v) in &spec.tags {
            create = create.tags(
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .unwrap(),
            );
        }
        create.send().await.unwrap();
        if spec.console {
            self.iam
                .create_login_profile()
                .user_name(name)
                .password(format!("Pw-{name}-123!"))
                .send()
                .await
                .unwrap();
        }
        if !spec.console || spec.access_key {
            self.iam
                .create_access_key()
                .user_name(name)
                .send()
                .await
                .unwrap();
        }
        if spec.mfa {
            self.enable_mfa(name).await;
        }
        for device in &spec.devices {
            self.enable_device(name, device).await;
        }
        for g in &spec.groups {
            if self.iam.get_group().group_name(g).send().await.is_err() {
                self.iam.create_group().group_name(g).send().await.unwrap();
            }
            self.iam
                .add_user_to_group()
                .group_name(g)
                .user_name(name)
                .send()
                .await
                .unwrap();
        }
        if spec.deny_attached {
            self.iam
                .attach_user_policy()
                .user_name(name)
                .policy_arn(&self.deny_policy_arn)
                .send()
                .await
                .unwrap();
        }
    }

    /// Settings for this account: its deny policy, the enforcement group, its topic, and
    /// `extra` variables on top (`("DRY_RUN", "false")`...).
    pub fn settings(&self, extra: &[(&str, &str)]) -> mfa_enforcer::settings::Settings {
        let mut vars = std::collections::BTreeMap::from([
            ("DENY_POLICY_ARN".to_string(), self.deny_policy_arn.clone()),
            ("ENFORCEMENT_GROUP".to_string(), GROUP.to_string()),
            ("TOPIC_ARN".to_string(), self.topic_arn.clone()),
        ]);
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        let raw = mfa_enforcer::settings::RawSettings::from_lookup(|k| vars.get(k).cloned());
        mfa_enforcer::settings::Settings::parse(&raw).unwrap()
    }

    /// Creates and enables a virtual MFA device for a user.
    pub async fn enable_mfa(&self, name: &str) {
        let device = self
            .iam
            .create_virtual_mfa_device()
            .virtual_mfa_device_name(name)
            .send()
            .await
            .unwrap();
        let serial = device.virtual_mfa_device.unwrap().serial_number;
        self.iam
            .enable_mfa_device()
            .user_name(name)
            .serial_number(serial)
            .authentication_code1("123456")
            .authentication_code2("654321")
            .send()
            .await
            .unwrap();
    }

    /// Enables an MFA device of any kind for a user.
    pub async fn enable_device(&self, name: &str, device: &Device) {
        let serial = match device {
            Device::Virtual(device_name) => {
                let created = self
                    .iam
                    .create_virtual_mfa_device()
                    .virtual_mfa_device_name(device_name)
                    .send()
                    .await
                    .unwrap();
                created.virtual_mfa_device.unwrap().serial_number
            }
            Device::SecurityKey => {
                format!("arn:aws:iam::{ACCOUNT}:u2f/user/{name}/securitykey-ABCDEFGHIJKLMNOP")
            }
            Device::Hardware(serial) => serial.clone(),
        };
        self.iam
            .enable_mfa_device()
            .user_name(name)
            .serial_number(serial)
            .authentication_code1("123456")
            .authentication_code2("654321")
            .send()
            .await
            .unwrap();
    }

    /// ARNs of the managed policies attached directly to a user.
    pub async fn attached(&self, user: &str) -> Vec<String> {
        let out = self
            .iam
            .list_attached_user_policies()
            .user_name(user)
            .send()
            .await
            .unwrap();
        out.attached_policies
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.policy_arn)
            .collect()
    }

    /// Makes a version of the deny policy that allows everything its default (a tampering).
    pub async fn tamper_deny_policy(&self) {
        self.iam
            .create_policy_version()
            .policy_arn(&self.deny_policy_arn)
            .policy_document(TAMPERED_POLICY)
            .set_as_default(true)
            .send()
            .await
            .unwrap();
    }

    /// Deletes one non-default version of the deny policy, as a tidy-up by hand would.
    pub async fn delete_deny_policy_version(&self, version_id: &str) {
        self.iam
            .delete_policy_version()
            .policy_arn(&self.deny_policy_arn)
            .version_id(version_id)
            .send()
            .await
            .unwrap();
    }

    /// The deny policy's versions, sorted: (id, is the default, holds the canonical document).
    /// The default is GetPolicy's `DefaultVersionId`: moto un-flags `IsDefaultVersion` in
    /// ListPolicyVersions when SetDefaultPolicyVersion names the version that already is the
    /// default (two restores at once do that); AWS does not.
    pub async fn deny_policy_versions(&self) -> Vec<(String, bool, bool)> {
        let arn = self.deny_policy_arn.as_str();
        let policy = self.iam.get_policy().policy_arn(arn).send().await.unwrap();
        let default = policy.policy.unwrap().default_version_id.unwrap();
        let listed = self.iam.list_policy_versions().policy_arn(arn).send().await;
        let mut out = Vec::new();
        for v in listed.unwrap().versions.unwrap() {
            let id = v.version_id.unwrap();
            let got = self
                .iam
                .get_policy_version()
                .policy_arn(arn)
                .version_id(&id)
                .send()
                .await
                .unwrap();
            let document = got.policy_version.unwrap().document.unwrap();
            let canonical = mfa_enforcer::policy::is_canonical(
                &mfa_enforcer::aws::decode_policy_document(&document),
            );
            out.push((id.clone(), id == default, canonical));
        }
        out.sort();
        out
    }

    /// Names of a user's groups.
    pub async fn groups_of(&self, user: &str) -> Vec<String> {
        let out = self
            .iam
            .list_groups_for_user()
            .user_name(user)
            .send()
            .await
            .unwrap();
        out.groups.into_iter().map(|g| g.group_name).collect()
    }

    /// Every message waiting in the queue (SNS envelopes, parsed), removed from the queue.
    pub async fn drain_queue(&self) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return all;
            }
            for m in messages {
                all.push(serde_json::from_str(m.body.as_deref().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// Builds a workspace binary (a no-op when up to date) and returns its path.
pub fn binary(package: &str, name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            package,
            "--bin",
            name,
        ])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "building {name} failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo did not report an executable for {name}"))
}

/// A fixture file under `tests/fixtures/`.
pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join("tests/fixtures").join(path)).unwrap()
}
