//! Replays a scenario file and prints its transcript.
//!
//! ```text
//! cargo run --example replay -- FILE [--format json|text]
//! ```
//!
//! JSON lines by default (one per timer and per step); `--format text` prints the same story
//! as a timeline. Each line is written as soon as its step is decided, so memory holds the
//! scenario and one line, never the whole transcript. A file larger than
//! `MAX_SCENARIO_BYTES` (8 MiB) is refused after reading that much, a malformed file or bad
//! arguments exit with status 2 and a message naming the step and the field.

use std::io::{BufWriter, Read as _, Write};
use std::process::ExitCode;

use import_export_lifecycle::scenarios::{MAX_SCENARIO_BYTES, Replay, Scenario, Transcript};

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
    let source = match read_capped(&file) {
        Ok(source) => source,
        Err(e) => return fail(&format!("{file}: {e}")),
    };
    let scenario = match Scenario::from_json(&source) {
        Ok(scenario) => scenario,
        Err(e) => return fail(&format!("{file}: {e}")),
    };
    drop(source);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut written = Ok(());
    if let (true, Some(title)) = (text, &scenario.title) {
        written = out.write_all(Transcript::text_heading(title).as_bytes());
    }
    for line in Replay::new(&scenario) {
        if written.is_err() {
            break;
        }
        let shown = if text { line.to_text() } else { line.to_json() };
        written = writeln!(out, "{shown}");
    }
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("writing the transcript: {e}")),
    }
}

/// The file's text, refused past `MAX_SCENARIO_BYTES` without reading further, or when it is not
/// UTF-8.
fn read_capped(path: &str) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    let cap = u64::try_from(MAX_SCENARIO_BYTES).unwrap_or(u64::MAX);
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() > MAX_SCENARIO_BYTES {
        return Err(format!(
            "larger than {MAX_SCENARIO_BYTES} bytes (MAX_SCENARIO_BYTES), the most a scenario may hold"
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

fn fail(message: &str) -> ExitCode {
    // Messages quote the input escaped already (ScenarioError escapes what it quotes).
    eprintln!("{message}");
    ExitCode::from(2)
}
