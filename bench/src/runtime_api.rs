//! A minimal Lambda Runtime API on loopback: hands out the events it is given, one
//! invocation at a time, and reports each answer with the instants it was handed out
//! and answered. Enough for our bootstraps and the Node peer's runtime loop; a `next`
//! with nothing queued waits, as Lambda's does between invocations.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the runtime API saw of one invocation.
#[derive(Debug)]
pub struct Answer {
    /// When the event was written to the function's `next` request.
    pub handed_out: Instant,
    /// When its response arrived.
    pub answered: Instant,
    /// The status code of the API Gateway response (0 when it had none).
    pub status: u64,
}

enum Report {
    HandedOut(Instant),
    Response(Instant, Vec<u8>),
    Failed(String),
}

/// One function's runtime API. Dropping it stops handing out events.
pub struct RuntimeApi {
    address: String,
    events: Sender<Vec<u8>>,
    reports: Receiver<Report>,
}

impl RuntimeApi {
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let (events, queued) = mpsc::channel();
        let (report, reports) = mpsc::channel();
        std::thread::spawn(move || serve(listener, Arc::new(Mutex::new(queued)), report));
        Ok(Self {
            address,
            events,
            reports,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Queues one event: the function's next `next` gets it.
    pub fn queue(&self, event: Vec<u8>) {
        let _ = self.events.send(event);
    }

    /// Waits for the answer to the event queued before.
    pub fn answer(&self, timeout: Duration) -> Result<Answer, String> {
        let deadline = Instant::now() + timeout;
        let mut handed_out = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.reports.recv_timeout(left) {
                Ok(Report::HandedOut(at)) => handed_out = Some(at),
                Ok(Report::Response(answered, body)) => {
                    let handed_out = handed_out.ok_or("a response to no event")?;
                    let status = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["statusCode"].as_u64())
                        .unwrap_or(0);
                    return Ok(Answer {
                        handed_out,
                        answered,
                        status,
                    });
                }
                Ok(Report::Failed(why)) => return Err(why),
                Err(_) => return Err(format!("no response within {timeout:?}")),
            }
        }
    }

    /// Queues `event` and waits for its answer.
    pub fn invoke(&self, event: Vec<u8>, timeout: Duration) -> Result<Answer, String> {
        self.queue(event);
        self.answer(timeout)
    }
}

/// Reads one HTTP/1.1 request: (method, path, body). `None` when the peer closed.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

/// Writes the whole answer at once: head and body in separate small writes would wait
/// for the client's delayed ACK (Nagle), tens of milliseconds per invocation on a
/// kept-alive connection.
fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut answer = head.into_bytes();
    answer.extend_from_slice(body);
    let _ = stream.write_all(&answer);
}

/// The headers Lambda sends with an event.
fn invocation_headers(request_id: String) -> Vec<(&'static str, String)> {
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    vec![
        ("content-type", "application/json".into()),
        ("lambda-runtime-aws-request-id", request_id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:bench".into(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000".into(),
        ),
    ]
}

fn serve(listener: TcpListener, queued: Arc<Mutex<Receiver<Vec<u8>>>>, report: Sender<Report>) {
    let invocations = Arc::new(AtomicU64::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { break };
        let _ = stream.set_nodelay(true);
        let (queued, report, invocations) = (queued.clone(), report.clone(), invocations.clone());
        std::thread::spawn(move || {
            let mut writer = stream.try_clone().expect("clone stream");
            let mut reader = BufReader::new(stream);
            while let Some((method, path, body)) = read_request(&mut reader) {
                if method == "GET" && path.ends_with("/invocation/next") {
                    // Waits for the harness to queue an event; ends with the harness.
                    let Ok(event) = queued.lock().unwrap().recv() else {
                        return;
                    };
                    let n = invocations.fetch_add(1, Ordering::Relaxed);
                    let _ = report.send(Report::HandedOut(Instant::now()));
                    respond(
                        &mut writer,
                        "200 OK",
                        &invocation_headers(format!("bench-request-{n}")),
                        &event,
                    );
                } else if method == "POST" && path.ends_with("/response") {
                    let at = Instant::now();
                    respond(&mut writer, "202 Accepted", &[], b"{}");
                    let _ = report.send(Report::Response(at, body));
                } else {
                    respond(&mut writer, "202 Accepted", &[], b"{}");
                    let _ = report.send(Report::Failed(format!(
                        "{method} {path}: {}",
                        String::from_utf8_lossy(&body)
                    )));
                }
            }
        });
    }
}
