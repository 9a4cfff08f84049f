//! A fault-injecting HTTP proxy in front of moto: the faults AWS produces and moto does not.
//!
//! Point `AWS_ENDPOINT_URL` (or an SDK config) at [`FaultProxy::endpoint`]. Every request is
//! classified as `service:Action` (the SigV4 scope names the service; the query protocol's
//! `Action` field or the JSON protocol's `X-Amz-Target` names the action), then, by the first
//! [`Rule`] that matches it and wins its dice roll, answered with a fault instead of moto's
//! answer:
//!
//! - [`Fault::Throttle`]: HTTP 400 `Throttling` / `Rate exceeded`, as IAM throttles;
//! - [`Fault::Status500`] and [`Fault::Status503`]: `InternalFailure` / `ServiceUnavailable`;
//! - [`Fault::Drop`]: the connection closed with no answer at all;
//! - [`Fault::Slow`]: the real answer, late.
//!
//! Rules can change between runs ([`FaultProxy::set_rules`]); the dice are a seeded generator,
//! so a test is repeatable. What was injected and what was forwarded is counted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A fault the proxy can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 with the `Throttling` code and `Rate exceeded`, as IAM answers.
    Throttle,
    /// HTTP 500 `InternalFailure`.
    Status500,
    /// HTTP 503 `ServiceUnavailable`.
    Status503,
    /// The connection is closed after the request, without an answer.
    Drop,
    /// The real answer, after this delay.
    Slow(Duration),
    /// HTTP 403 `AccessDenied`: a role that does not exist, or does not trust the caller.
    Denied,
}

impl Fault {
    /// Every kind, with `slow` as given.
    pub fn kinds(slow: Duration) -> [Fault; 5] {
        [
            Fault::Throttle,
            Fault::Status500,
            Fault::Status503,
            Fault::Drop,
            Fault::Slow(slow),
        ]
    }

    /// A short name for tables: throttle, 500, 503, drop, slow.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::Status500 => "500",
            Fault::Status503 => "503",
            Fault::Drop => "drop",
            Fault::Slow(_) => "slow",
            Fault::Denied => "denied",
        }
    }
}

/// Injects `fault` into a share `rate` (0.0 to 1.0) of the requests whose action matches.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `service:Action`, `service:*` or `*`; several patterns separated by `|`.
    pub actions: String,
    /// What to inject.
    pub fault: Fault,
    /// The share of matching requests that get it.
    pub rate: f64,
    /// Only requests whose body (or query) contains this text (`RoleArn=...` naming an
    /// account, URL-encoded as the SDK sends it).
    pub body_contains: Option<String>,
}

impl Rule {
    /// A rule.
    pub fn new(actions: &str, fault: Fault, rate: f64) -> Rule {
        Rule {
            actions: actions.to_string(),
            fault,
            rate,
            body_contains: None,
        }
    }

    /// The same rule, only for requests whose body contains `text`.
    pub fn when_body_contains(mut self, text: &str) -> Rule {
        self.body_contains = Some(text.to_string());
        self
    }

    fn matches(&self, action: &str, body: &str) -> bool {
        if let Some(text) = &self.body_contains {
            if !body.contains(text.as_str()) {
                return false;
            }
        }
        self.actions.split('|').any(|pattern| match pattern {
            "*" => true,
            p => match p.strip_suffix('*') {
                Some(prefix) => action.starts_with(prefix),
                None => action == p,
            },
        })
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    dice: u64,
    /// `service:Action fault` -> count.
    injected: BTreeMap<String, u32>,
    /// `service:Action` -> count of requests forwarded to moto.
    forwarded: BTreeMap<String, u32>,
}

impl State {
    /// SplitMix64: a repeatable roll in [0, 1).
    fn roll(&mut self) -> f64 {
        self.dice = self.dice.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.dice;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as f64 / (u64::MAX as f64 + 1.0)
    }

    fn decide(&mut self, action: &str, body: &str) -> Option<Fault> {
        let rules: Vec<Rule> = self
            .rules
            .iter()
            .filter(|r| r.matches(action, body))
            .cloned()
            .collect();
        for rule in rules {
            if self.roll() < rule.rate {
                *self
                    .injected
                    .entry(format!("{action} {}", rule.fault.name()))
                    .or_default() += 1;
                return Some(rule.fault);
            }
        }
        None
    }
}

/// The proxy, on a free loopback port, on its own runtime; stopped on drop.
pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultProxy {
    /// Starts a proxy to moto at `upstream_port`, with no rules, its dice seeded with `seed`.
    pub fn start(upstream_port: u16, seed: u64) -> FaultProxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        // Bound here, served there: this may be called from inside another runtime.
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            dice: seed,
            ..State::default()
        }));
        let shared = state.clone();
        runtime.spawn(async move {
            let listener = TcpListener::from_std(listener).unwrap();
            while let Ok((client, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(client, upstream_port, state).await;
                });
            }
        });
        FaultProxy {
            port,
            state,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Replaces the rules; the first matching rule that wins its roll decides.
    pub fn set_rules(&self, rules: Vec<Rule>) {
        self.state.lock().unwrap().rules = rules;
    }

    /// Faults injected so far, `service:Action fault` -> count.
    pub fn injected(&self) -> BTreeMap<String, u32> {
        self.state.lock().unwrap().injected.clone()
    }

    /// Requests forwarded to moto so far, `service:Action` -> count.
    pub fn forwarded(&self) -> BTreeMap<String, u32> {
        self.state.lock().unwrap().forwarded.clone()
    }

    /// Forgets the counts (not the rules).
    pub fn reset_counts(&self) {
        let mut state = self.state.lock().unwrap();
        state.injected.clear();
        state.forwarded.clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// One request as read from the client.
struct Request {
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<String> {
        String::from_utf8_lossy(&self.head)
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    }

    /// `service:Action`, as bench/countproxy.py names it.
    fn action(&self) -> String {
        let service = self
            .header("Authorization")
            .and_then(|a| a.split("Credential=").nth(1).map(str::to_string))
            .and_then(|c| c.split('/').nth(3).map(str::to_string))
            .unwrap_or_else(|| "?".to_string());
        if let Some(target) = self.header("X-Amz-Target") {
            return format!(
                "{service}:{}",
                target.rsplit('.').next().unwrap_or_default()
            );
        }
        let head = String::from_utf8_lossy(&self.head);
        if let Some(action) = head
            .split_whitespace()
            .nth(1)
            .and_then(|path| crate::rest_action(&service, path))
        {
            return action;
        }
        let query = head
            .split_whitespace()
            .nth(1)
            .and_then(|path| path.split_once('?'))
            .map(|(_, q)| q.to_string())
            .unwrap_or_default();
        let body = String::from_utf8_lossy(&self.body);
        body.split('&')
            .chain(query.split('&'))
            .find_map(|kv| kv.strip_prefix("Action="))
            .map(|a| format!("{service}:{a}"))
            .unwrap_or_else(|| format!("{service}:?"))
    }
}

async fn read_request(client: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            let head = buffer[..end + 4].to_vec();
            let length: usize = String::from_utf8_lossy(&head)
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            while buffer.len() < head.len() + length {
                read_more(client, buffer).await?;
            }
            let body = buffer[head.len()..head.len() + length].to_vec();
            buffer.drain(..head.len() + length);
            return Some(Request { head, body });
        }
        read_more(client, buffer).await?;
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Serves one client connection (keep-alive: many requests).
async fn serve(mut client: TcpStream, upstream_port: u16, state: Arc<Mutex<State>>) -> Option<()> {
    client.set_nodelay(true).ok()?;
    let mut buffer = Vec::new();
    loop {
        let request = read_request(&mut client, &mut buffer).await?;
        let action = request.action();
        let body = String::from_utf8_lossy(&request.body).to_string()
            + &String::from_utf8_lossy(&request.head);
        let fault = state.lock().unwrap().decide(&action, &body);
        let response = match fault {
            Some(Fault::Drop) => return None,
            Some(Fault::Throttle) => error_response(400, "Sender", "Throttling", "Rate exceeded"),
            Some(Fault::Status500) => error_response(
                500,
                "Receiver",
                "InternalFailure",
                "injected internal failure",
            ),
            Some(Fault::Status503) => error_response(
                503,
                "Receiver",
                "ServiceUnavailable",
                "injected service unavailable",
            ),
            Some(Fault::Denied) => error_response(
                403,
                "Sender",
                "AccessDenied",
                "injected: not authorized to perform sts:AssumeRole",
            ),
            Some(Fault::Slow(delay)) => {
                tokio::time::sleep(delay).await;
                forward(&request, upstream_port, &state, &action).await?
            }
            None => forward(&request, upstream_port, &state, &action).await?,
        };
        // Head and body in one write: split writes stall on delayed ACKs.
        client.write_all(&response).await.ok()?;
    }
}

/// Sends the request to moto on a fresh connection and returns its answer, re-framed with a
/// `Content-Length` for the client's keep-alive connection.
async fn forward(
    request: &Request,
    upstream_port: u16,
    state: &Arc<Mutex<State>>,
    action: &str,
) -> Option<Vec<u8>> {
    *state
        .lock()
        .unwrap()
        .forwarded
        .entry(action.to_string())
        .or_default() += 1;
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))
        .await
        .ok()?;
    upstream.set_nodelay(true).ok()?;
    let head = String::from_utf8_lossy(&request.head);
    let mut lines = head.lines().filter(|l| !l.is_empty());
    let mut out = format!("{}\r\n", lines.next()?);
    for line in lines.filter(|l| {
        let name = l.split(':').next().unwrap_or_default().trim();
        !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive")
    }) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&request.body);
    upstream.write_all(&bytes).await.ok()?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer).await.ok()?;
    let end = find(&answer, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&answer[..end]).to_string();
    let mut body = answer[end + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next()?.replacen("HTTP/1.0", "HTTP/1.1", 1);
    let mut out = format!("{status}\r\n");
    let mut chunked = false;
    for line in lines {
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = line.to_ascii_lowercase().contains("chunked");
            continue;
        }
        if ["connection", "keep-alive", "content-length"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    if chunked {
        body = dechunk(&body)?;
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut response = out.into_bytes();
    response.extend_from_slice(&body);
    Some(response)
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(body, b"\r\n")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// An AWS query-protocol error answer (IAM and SNS speak it).
fn error_response(status: u16, kind: &str, code: &str, message: &str) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let body = format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>fault-proxy</RequestId></ErrorResponse>"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nx-amzn-RequestId: fault-proxy\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_actions_services_and_everything() {
        let rule = |p: &str| Rule::new(p, Fault::Throttle, 1.0);
        assert!(rule("*").matches("iam:AttachUserPolicy", ""));
        assert!(rule("iam:*").matches("iam:AttachUserPolicy", ""));
        assert!(!rule("iam:*").matches("sns:Publish", ""));
        assert!(rule("sns:Publish|sns:PublishBatch").matches("sns:PublishBatch", ""));
        assert!(!rule("iam:AttachUserPolicy").matches("iam:AttachGroupPolicy", ""));
        let one_account = rule("sts:AssumeRole").when_body_contains("111122223333");
        assert!(one_account.matches(
            "sts:AssumeRole",
            "RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole"
        ));
        assert!(!one_account.matches(
            "sts:AssumeRole",
            "RoleArn=arn%3Aaws%3Aiam%3A%3A444455556666%3Arole"
        ));
    }

    #[test]
    fn the_dice_are_repeatable_and_near_the_rate() {
        let roll = |seed| {
            let mut state = State {
                rules: vec![Rule::new("*", Fault::Status500, 0.1)],
                dice: seed,
                ..State::default()
            };
            (0..10_000)
                .filter(|_| state.decide("iam:GetUser", "").is_some())
                .count()
        };
        assert_eq!(roll(7), roll(7));
        let hits = roll(7);
        assert!((800..1200).contains(&hits), "{hits} of 10000 at 10%");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").as_deref(),
            Some(&b"abcde"[..])
        );
    }
}
