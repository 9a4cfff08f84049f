//! A minimal Lambda Runtime API on loopback: hands out one event, captures the answer.
//!
//! Enough of <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html> for a real
//! bootstrap binary to run one invocation exactly as in Lambda: `GET .../invocation/next`
//! returns the event once (later calls hang, as in Lambda between invocations), and
//! `POST .../response`, `.../error` and `init/error` are captured.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `POST /runtime/invocation/{id}/response`.
    Response(String),
    /// `POST /runtime/invocation/{id}/error`.
    Error(String),
    /// `POST /runtime/init/error`.
    InitError(String),
}

/// The stub server; dropped with the test.
pub struct RuntimeApi {
    /// `127.0.0.1:PORT`, for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    answers: Receiver<Answer>,
    first_next: Arc<Mutex<Option<Instant>>>,
}

/// The request ID handed to the function.
pub const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

impl RuntimeApi {
    /// Serves `event` to the first `next` call.
    pub fn serve(event: String) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (tx, answers) = channel();
        let event = Arc::new(Mutex::new(Some(event)));
        let first_next = Arc::new(Mutex::new(None));
        let first = first_next.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (tx, event, first) = (tx.clone(), event.clone(), first.clone());
                std::thread::spawn(move || connection(stream, &tx, &event, &first));
            }
        });
        RuntimeApi {
            address,
            answers,
            first_next,
        }
    }

    /// Waits (bounded) for the function's answer.
    pub fn answer(&self, timeout: Duration) -> Option<Answer> {
        self.answers.recv_timeout(timeout).ok()
    }

    /// When the function first asked for an event (its start-up is done by then).
    pub fn first_next_at(&self) -> Option<Instant> {
        *self.first_next.lock().unwrap()
    }

    /// The environment a bootstrap needs to run against this stub.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address.clone()),
            ("AWS_LAMBDA_FUNCTION_NAME", "mfa-enforcer-test".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test".into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/mfa-enforcer-test".into(),
            ),
        ]
    }
}

fn connection(
    stream: TcpStream,
    tx: &Sender<Answer>,
    event: &Mutex<Option<String>>,
    first: &Mutex<Option<Instant>>,
) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).to_string();
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        if path.ends_with("/runtime/invocation/next") {
            first.lock().unwrap().get_or_insert_with(Instant::now);
            let Some(payload) = event.lock().unwrap().take() else {
                // Lambda freezes the function here; so do we, until the test kills it.
                std::thread::sleep(Duration::from_secs(3600));
                return;
            };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 900_000;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Lambda-Runtime-Aws-Request-Id: {REQUEST_ID}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:mfa-enforcer-test\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n\r\n",
                payload.len()
            );
            let _ = writer.write_all(format!("{head}{payload}").as_bytes());
        } else {
            let answer = if path.ends_with("/response") {
                Answer::Response(body)
            } else if path.contains("/init/error") {
                Answer::InitError(body)
            } else {
                Answer::Error(body)
            };
            let _ = writer.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n");
            let _ = tx.send(answer);
        }
    }
}
