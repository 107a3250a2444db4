//! Replays a scenario file and prints its transcript.
//!
//! ```text
//! cargo run --example replay -- FILE [--format json|text]
//! ```
//!
//! JSON lines by default (one per timer and per step); `--format text` prints the same story
//! as an aligned timeline. A malformed file, or bad arguments, exit with status 2 and a message
//! naming the step and the field.

use std::process::ExitCode;

use import_export_lifecycle::{Scenario, replay};

const USAGE: &str = "usage: cargo run --example replay -- FILE [--format json|text]";

fn main() -> ExitCode {
    let mut file = None;
    let mut text = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--format" => match args.next().as_deref() {
                Some("text") => text = true,
                Some("json") => text = false,
                other => return fail(&format!("--format takes json or text, not {other:?}\n{USAGE}")),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if file.is_none() => file = Some(arg),
            _ => return fail(&format!("unexpected argument {arg:?}\n{USAGE}")),
        }
    }
    let Some(file) = file else {
        return fail(USAGE);
    };
    let source = match std::fs::read_to_string(&file) {
        Ok(source) => source,
        Err(e) => return fail(&format!("{file}: {e}")),
    };
    let scenario = match Scenario::from_json(&source) {
        Ok(scenario) => scenario,
        Err(e) => return fail(&format!("{file}: {e}")),
    };
    let transcript = replay(&scenario);
    if text {
        print!("{}", transcript.to_text());
    } else {
        print!("{}", transcript.to_json_lines());
    }
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(2)
}
