//! Warm requests: the time of one request to a function that is already running, and
//! the function's peak memory after many of them.
//!
//! Usage: warm-requests [--rounds R] [--warmup W] [--requests N] [--memory MB]
//!                      [--unique-body-field F] [--var NAME=VALUE]...
//!                      NAME=BOOTSTRAP=EVENT[=HANDLER]...
//!
//! Each round starts every function afresh, each behind its own local Runtime API, sends
//! each W unmeasured requests (the first one is its cold start), then N measured ones.
//! The functions take turns request by request, so drift on the machine hits all alike.
//! A request is timed from the event handed to the function's `next` to its response:
//! what Lambda bills as the invocation's duration. Also the CPU time each process used
//! over the measured requests (from /proc/PID/stat: the part of a request Lambda's
//! memory-proportional CPU share stretches), and after the last request each process's
//! peak resident memory (`VmHWM`): what Lambda reports as "Max Memory Used".
//!
//! `--unique-body-field F` gives each request's JSON body a fresh value of field F (an
//! idempotency key: sent again, it would make a repeat instead of a new write).
//!
//! Prints one JSON line per function: the requests' median / p10 / p90 (all rounds),
//! the statuses answered, and the CPU time per request and the peak memory, each as
//! median / p10 / p90 over the rounds.

use std::collections::BTreeMap;
use std::process::Child;
use std::time::Duration;

use chat_bench::function::{Args, FunctionSpec};
use chat_bench::percentiles;
use chat_bench::runtime_api::RuntimeApi;
use serde_json::Value;

/// A function started for one round.
struct Running {
    api: RuntimeApi,
    child: Child,
}

impl Running {
    fn start(function: &FunctionSpec, memory_mb: usize) -> Self {
        let api = RuntimeApi::start().expect("a local Runtime API");
        let child = function
            .spawn(api.address(), memory_mb)
            .unwrap_or_else(|e| panic!("{e}"));
        Self { api, child }
    }

    /// Peak resident set size in KiB: the `VmHWM` line of /proc/PID/status.
    fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status of a running function");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a VmHWM line")
    }

    /// CPU time the process has used so far (all its threads, user and system), from
    /// /proc/PID/stat, in clock ticks of 10 ms (Linux's USER_HZ).
    fn cpu_ms(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("/proc/PID/stat of a running function");
        // The fields after the command name, which is in parentheses: state is the 3rd
        // field, utime the 14th and stime the 15th.
        let fields: Vec<&str> = stat[stat.rfind(')').expect("a stat line") + 2..]
            .split_whitespace()
            .collect();
        let ticks = |i: usize| fields[i - 3].parse::<f64>().expect("a tick count");
        (ticks(14) + ticks(15)) * 10.0
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `event` with `field` of its JSON body set to `value`.
fn with_body_field(event: &str, field: &str, value: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_str(event).expect("an event is JSON");
    let mut body: Value =
        serde_json::from_str(event["body"].as_str().expect("an event with a body"))
            .expect("a JSON body");
    body[field] = Value::String(value.to_owned());
    event["body"] = Value::String(body.to_string());
    event.to_string().into_bytes()
}

/// What one function gave over all rounds.
#[derive(Default)]
struct Measured {
    request_ms: Vec<f64>,
    statuses: BTreeMap<u64, usize>,
    cpu_ms_per_request: Vec<f64>,
    peak_memory_kib: Vec<f64>,
}

fn main() {
    let args = Args::parse(&[
        "rounds",
        "warmup",
        "requests",
        "memory",
        "unique-body-field",
    ]);
    let (rounds, warmup, requests) = (
        args.number("rounds", 3),
        args.number("warmup", 20),
        args.number("requests", 1000),
    );
    let unique_field = args.flag("unique-body-field");
    let functions = &args.functions;
    let events: Vec<String> = functions.iter().map(|f| f.event(&args.vars)).collect();
    // Unique across runs on the same table too.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis();
    let event_for = |i: usize, round: usize, n: usize| match unique_field {
        Some(field) => {
            let value = format!("bench-{run}-{}-{round}-{n}", functions[i].name);
            with_body_field(&events[i], field, &value)
        }
        None => events[i].clone().into_bytes(),
    };

    let mut measured: Vec<Measured> = functions.iter().map(|_| Measured::default()).collect();
    for round in 0..rounds {
        let running: Vec<Running> = functions
            .iter()
            .map(|f| Running::start(f, args.memory_mb()))
            .collect();
        let mut cpu_before = vec![0.0; running.len()];
        for n in 0..warmup + requests {
            for (i, function) in running.iter().enumerate() {
                if n == warmup {
                    cpu_before[i] = function.cpu_ms();
                }
                let answer = function
                    .api
                    .invoke(event_for(i, round, n), Duration::from_secs(20))
                    .unwrap_or_else(|why| panic!("{}: {why}", functions[i].name));
                if n >= warmup {
                    let ms = (answer.answered - answer.handed_out).as_secs_f64() * 1000.0;
                    measured[i].request_ms.push(ms);
                    *measured[i].statuses.entry(answer.status).or_default() += 1;
                }
            }
        }
        for (i, function) in running.into_iter().enumerate() {
            let cpu_ms = function.cpu_ms() - cpu_before[i];
            measured[i]
                .cpu_ms_per_request
                .push(cpu_ms / requests as f64);
            measured[i]
                .peak_memory_kib
                .push(function.peak_memory_kib() as f64);
            function.stop();
        }
    }
    for (function, m) in functions.iter().zip(&mut measured) {
        let (median, p10, p90) = percentiles(&mut m.request_ms);
        let (cpu, cpu_p10, cpu_p90) = percentiles(&mut m.cpu_ms_per_request);
        let (peak, peak_p10, peak_p90) = percentiles(&mut m.peak_memory_kib);
        let statuses: BTreeMap<String, usize> = m
            .statuses
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "name": function.name, "event": function.event_file, "rounds": rounds,
                "memory_mb": args.memory_mb(),
                "warmup": warmup, "requests": requests, "statuses": statuses,
                "median_ms": median, "p10_ms": p10, "p90_ms": p90,
                "cpu_ms_per_request": cpu, "cpu_ms_per_request_p10": cpu_p10,
                "cpu_ms_per_request_p90": cpu_p90,
                "peak_memory_kib": peak, "peak_memory_p10_kib": peak_p10,
                "peak_memory_p90_kib": peak_p90,
            })
        );
    }
}
