//! Cold start: the time from starting a function's process to its first response,
//! through a minimal Lambda Runtime API served here with one queued event.
//!
//! Usage: cold-start --runs N [--memory MB] [--var NAME=VALUE]... NAME=BOOTSTRAP=EVENT[=HANDLER]...
//! (EVENT: a file under events/, rendered with the --var values; HANDLER: `_HANDLER`,
//! which the Node peer's bootstrap reads).
//! The function's environment is this process's (config, AWS endpoint, ...), plus the
//! Lambda variables the runtime reads. Functions are run in turns, so drift on the
//! machine hits all of them alike. Prints one JSON line per function.

use std::time::{Duration, Instant};

use chat_bench::function::{Args, FunctionSpec};
use chat_bench::percentiles;
use chat_bench::runtime_api::RuntimeApi;

/// One cold start: milliseconds from spawning the process to its first response, and
/// that response's status code.
fn cold_start(
    function: &FunctionSpec,
    event: &[u8],
    memory_mb: usize,
) -> Result<(f64, u64), String> {
    let api = RuntimeApi::start().map_err(|e| e.to_string())?;
    api.queue(event.to_vec());
    let started = Instant::now();
    let mut child = function.spawn(api.address(), memory_mb)?;
    let answer = api.answer(Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let answer = answer.map_err(|why| format!("{}: {why}", function.name))?;
    Ok((
        (answer.answered - started).as_secs_f64() * 1000.0,
        answer.status,
    ))
}

fn main() {
    let args = Args::parse(&["runs", "memory"]);
    let runs = args.number("runs", 30);
    let functions = &args.functions;
    let events: Vec<Vec<u8>> = functions
        .iter()
        .map(|f| f.event(&args.vars).into_bytes())
        .collect();

    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); functions.len()];
    let mut statuses: Vec<u64> = vec![0; functions.len()];
    // One unmeasured round warms the page cache for every function.
    for (function, event) in functions.iter().zip(&events) {
        cold_start(function, event, args.memory_mb()).unwrap_or_else(|e| panic!("{e}"));
    }
    for _ in 0..runs {
        for (i, function) in functions.iter().enumerate() {
            let (ms, status) = cold_start(function, &events[i], args.memory_mb())
                .unwrap_or_else(|e| panic!("{e}"));
            samples[i].push(ms);
            statuses[i] = status;
        }
    }
    for (i, function) in functions.iter().enumerate() {
        let (median, p10, p90) = percentiles(&mut samples[i]);
        println!(
            "{}",
            serde_json::json!({
                "name": function.name, "event": function.event_file, "runs": runs,
                "status": statuses[i], "median_ms": median, "p10_ms": p10, "p90_ms": p90,
            })
        );
    }
}
