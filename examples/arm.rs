//! Feeds ARM requests and datacenter operations, one JSON object per line, to the model and
//! prints the answers as JSON lines.
//!
//! ```text
//! cargo run --example arm -- FILE [--config CONFIG.json]
//! ```
//!
//! CONFIG holds what the host supplies (the datacenter's `shippingInformation`, the caller for
//! `systemData`); see `docs/arm.md`. A line that cannot be read stops the run with a message
//! naming the line and the field, and exit status 2.

use std::process::ExitCode;

use import_export_lifecycle::Policy;
use import_export_lifecycle::arm::{Config, Service, run_script};

const USAGE: &str = "usage: cargo run --example arm -- FILE [--config CONFIG.json]";

fn main() -> ExitCode {
    let mut file = None;
    let mut config = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => match args.next() {
                Some(path) => config = Some(path),
                None => return fail(USAGE),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if file.is_none() => file = Some(arg),
            _ => return fail(&format!("unexpected argument {arg:?}\n{USAGE}")),
        }
    }
    let Some(file) = file else { return fail(USAGE) };
    let config: Config = match config {
        None => Config::default(),
        Some(path) => match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
        {
            Ok(config) => config,
            Err(e) => return fail(&format!("{path}: {e}")),
        },
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) => return fail(&format!("{file}: {e}")),
    };
    let mut service = Service::new(config, Policy::default());
    match run_script(&mut service, &text) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("{file}: {e}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(2)
}
