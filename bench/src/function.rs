//! A function under measurement: its name, its bootstrap, the event it is sent, and
//! how it is started (as Lambda would: the Runtime API's address and Lambda's
//! variables, on top of this process's environment).

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};

use crate::render_event;

#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub bootstrap: String,
    /// A file under events/.
    pub event_file: String,
    /// `_HANDLER` (a function's Handler setting): the Node peer's bootstrap loads the
    /// module it names; our Rust bootstraps ignore it.
    pub handler: String,
}

impl FunctionSpec {
    /// `NAME=BOOTSTRAP=EVENT[=HANDLER]`.
    pub fn parse(arg: &str) -> Result<Self, String> {
        let parts: Vec<&str> = arg.splitn(4, '=').collect();
        match parts.as_slice() {
            [name, bootstrap, event_file, rest @ ..] => Ok(Self {
                name: (*name).to_owned(),
                bootstrap: (*bootstrap).to_owned(),
                event_file: (*event_file).to_owned(),
                handler: rest.first().unwrap_or(&"bootstrap").to_string(),
            }),
            _ => Err(format!("{arg}: expected NAME=BOOTSTRAP=EVENT[=HANDLER]")),
        }
    }

    /// Its event with the `--var` values filled in.
    pub fn event(&self, vars: &[(String, String)]) -> String {
        let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        render_event(&self.event_file, &vars)
    }

    /// Starts the bootstrap against the Runtime API at `runtime_api`, as a function of
    /// `memory_mb` (the Node peer sizes its heap from it, as Lambda's Node runtime does;
    /// our Rust bootstraps ignore it). Logs go nowhere, and both runtimes are told to log
    /// warnings only (a log line per request is I/O the measurement should not depend on).
    pub fn spawn(&self, runtime_api: &str, memory_mb: usize) -> Result<Child, String> {
        Command::new(&self.bootstrap)
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .env("_HANDLER", &self.handler)
            .env("RUST_LOG", "warn")
            .env("AWS_LAMBDA_LOG_LEVEL", "WARN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", self.bootstrap))
    }
}

/// The command line of a harness: `--var NAME=VALUE` (the events' placeholders), its
/// own `--flag VALUE`s, and the functions.
pub struct Args {
    pub vars: Vec<(String, String)>,
    pub functions: Vec<FunctionSpec>,
    flags: HashMap<String, String>,
}

impl Args {
    /// Parses this process's arguments; `flags` are the ones the harness knows.
    pub fn parse(flags: &[&str]) -> Self {
        let mut parsed = Self {
            vars: Vec::new(),
            functions: Vec::new(),
            flags: HashMap::new(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .unwrap_or_else(|| panic!("{arg}: a value is missing"))
            };
            if arg == "--var" {
                let var = value();
                let (name, value) = var.split_once('=').expect("--var NAME=VALUE");
                parsed.vars.push((name.to_owned(), value.to_owned()));
            } else if let Some(flag) = arg.strip_prefix("--") {
                assert!(flags.contains(&flag), "unknown option {arg}");
                let value = value();
                parsed.flags.insert(flag.to_owned(), value);
            } else {
                parsed
                    .functions
                    .push(FunctionSpec::parse(&arg).unwrap_or_else(|e| panic!("{e}")));
            }
        }
        parsed
    }

    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }

    /// `--memory MB`: the memory setting the functions are started with; by default
    /// template.yaml's for the functions.
    pub fn memory_mb(&self) -> usize {
        self.number("memory", 256)
    }

    /// A numeric flag, or its default.
    pub fn number(&self, name: &str, default: usize) -> usize {
        self.flag(name).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| panic!("--{name}: not a number"))
        })
    }
}
