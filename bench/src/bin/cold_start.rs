//! Cold start: the time from starting a function's process to its first response,
//! through a minimal Lambda Runtime API served here with one queued event.
//!
//! Usage: cold-start --runs N [--var NAME=VALUE]... NAME=BINARY=EVENT...
//! (EVENT: a file under events/, rendered with the --var values).
//! The function's environment is this process's (config, AWS endpoint, ...), plus the
//! Lambda variables the runtime reads. Binaries are run in turns, so drift on the
//! machine hits all of them alike. Prints one JSON line per binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chat_bench::{percentiles, render_event};

/// What the runtime API saw of one invocation.
enum Outcome {
    Response { at: Instant, body: String },
    Failed(String),
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
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// Serves the runtime API on `listener`: hands out `event` once, reports the answer.
fn serve(listener: TcpListener, event: Vec<u8>, report: mpsc::Sender<Outcome>) {
    let event = std::sync::Arc::new(std::sync::Mutex::new(Some(event)));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { break };
        let event = event.clone();
        let report = report.clone();
        std::thread::spawn(move || {
            let mut writer = stream.try_clone().expect("clone stream");
            let mut reader = BufReader::new(stream);
            while let Some((method, path, body)) = read_request(&mut reader) {
                if method == "GET" && path.ends_with("/invocation/next") {
                    let Some(event) = event.lock().unwrap().take() else {
                        // Second `next`: the measurement is over; leave it hanging.
                        std::thread::sleep(Duration::from_secs(3600));
                        return;
                    };
                    let deadline = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_millis()
                        + 30_000;
                    respond(
                        &mut writer,
                        "200 OK",
                        &[
                            ("content-type", "application/json".into()),
                            ("lambda-runtime-aws-request-id", "bench-request".into()),
                            ("lambda-runtime-deadline-ms", deadline.to_string()),
                            (
                                "lambda-runtime-invoked-function-arn",
                                "arn:aws:lambda:us-east-1:000000000000:function:bench".into(),
                            ),
                            (
                                "lambda-runtime-trace-id",
                                "Root=1-00000000-000000000000000000000000".into(),
                            ),
                        ],
                        &event,
                    );
                } else if method == "POST" && path.ends_with("/response") {
                    let at = Instant::now();
                    respond(&mut writer, "202 Accepted", &[], b"{}");
                    let _ = report.send(Outcome::Response {
                        at,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                } else {
                    respond(&mut writer, "202 Accepted", &[], b"{}");
                    let _ = report.send(Outcome::Failed(format!(
                        "{method} {path}: {}",
                        String::from_utf8_lossy(&body)
                    )));
                }
            }
        });
    }
}

/// One cold start of `binary`: milliseconds to the first response, and its status code.
fn cold_start(binary: &str, event: &[u8]) -> Result<(f64, u64), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let event = event.to_vec();
    std::thread::spawn(move || serve(listener, event, tx));
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{binary}: {e}"))?;
    let outcome = rx.recv_timeout(Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    match outcome {
        Ok(Outcome::Response { at, body }) => {
            let status = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["statusCode"].as_u64())
                .unwrap_or(0);
            Ok(((at - started).as_secs_f64() * 1000.0, status))
        }
        Ok(Outcome::Failed(why)) => Err(format!("{binary}: {why}")),
        Err(_) => Err(format!("{binary}: no response within 20 s")),
    }
}

fn main() {
    let mut runs = 30;
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut binaries: Vec<(String, String, String)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--var" => {
                let var = args.next().expect("--var NAME=VALUE");
                let (name, value) = var.split_once('=').expect("--var NAME=VALUE");
                vars.push((name.to_owned(), value.to_owned()));
            }
            other => {
                let mut parts = other.splitn(3, '=');
                let (Some(name), Some(path), Some(event)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    panic!("{other}: expected NAME=BINARY=EVENT")
                };
                binaries.push((name.to_owned(), path.to_owned(), event.to_owned()));
            }
        }
    }
    let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let events: Vec<Vec<u8>> = binaries
        .iter()
        .map(|(_, _, event)| render_event(event, &vars).into_bytes())
        .collect();

    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); binaries.len()];
    let mut statuses: Vec<u64> = vec![0; binaries.len()];
    // One unmeasured round warms the page cache for every binary.
    for (i, (_, binary, _)) in binaries.iter().enumerate() {
        cold_start(binary, &events[i]).unwrap_or_else(|e| panic!("{e}"));
    }
    for _ in 0..runs {
        for (i, (_, binary, _)) in binaries.iter().enumerate() {
            let (ms, status) = cold_start(binary, &events[i]).unwrap_or_else(|e| panic!("{e}"));
            samples[i].push(ms);
            statuses[i] = status;
        }
    }
    for (i, (name, _, event_file)) in binaries.iter().enumerate() {
        let (median, p10, p90) = percentiles(&mut samples[i]);
        println!(
            "{}",
            serde_json::json!({
                "name": name, "event": event_file, "runs": runs, "status": statuses[i],
                "median_ms": median, "p10_ms": p10, "p90_ms": p90,
            })
        );
    }
}
