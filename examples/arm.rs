//! Feeds ARM requests and datacenter operations, one JSON object per line, to the model and
//! prints the answers as JSON lines.
//!
//! ```text
//! cargo run --example arm -- FILE [--config CONFIG.json]
//! ```
//!
//! CONFIG holds what the host supplies (the datacenter's `shippingInformation`, the caller for
//! `systemData`); see `docs/arm.md`. Each line's answers are written as soon as the line is
//! handled, so memory holds one line and the jobs, never the whole output. A line that cannot
//! be read (or is longer than `MAX_LINE_BYTES`, 64 KiB) stops the run, after the answers of
//! every line before it, with a message naming the line and the field, and exit status 2.

use std::io::{BufRead, BufReader, BufWriter, Read as _, Write};
use std::process::ExitCode;

use import_export_lifecycle::Policy;
use import_export_lifecycle::arm::{Config, MAX_LINE_BYTES, Service, run_line};

const USAGE: &str = "usage: cargo run --example arm -- FILE [--config CONFIG.json]";

/// The largest config file read, in bytes.
const MAX_CONFIG_BYTES: u64 = 64 << 10;

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
    let config = match config {
        None => Config::default(),
        Some(path) => match read_config(&path) {
            Ok(config) => config,
            Err(e) => return fail(&format!("{path}: {e}")),
        },
    };
    let input = match std::fs::File::open(&file) {
        Ok(input) => BufReader::new(input),
        Err(e) => return fail(&format!("{file}: {e}")),
    };
    let mut service = Service::new(config, Policy::default());
    let mut out = BufWriter::new(std::io::stdout().lock());
    let outcome = run(&mut service, input, &mut out);
    let flushed = out.flush();
    match (outcome, flushed) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(e), _) => fail(&format!("{file}: {e}")),
        (Ok(()), Err(e)) => fail(&format!("writing the answers: {e}")),
    }
}

/// Runs every line of `input`, writing each line's answers before reading the next.
fn run(service: &mut Service, mut input: impl BufRead, out: &mut impl Write) -> Result<(), String> {
    let cap = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX);
    let mut buffer = Vec::new();
    for n in 1.. {
        buffer.clear();
        // Reads at most one byte past the cap, so an endless line costs no more than that.
        let read = (&mut input).take(cap + 1).read_until(b'\n', &mut buffer).map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        if buffer.last() == Some(&b'\n') {
            buffer.pop();
        }
        if buffer.len() > MAX_LINE_BYTES {
            return Err(format!(
                "line {n}: longer than {MAX_LINE_BYTES} bytes (MAX_LINE_BYTES), the most a line may hold"
            ));
        }
        let line = std::str::from_utf8(&buffer).map_err(|e| format!("line {n}: not UTF-8: {e}"))?;
        for answer in run_line(service, n, line).map_err(|e| e.to_string())? {
            writeln!(out, "{answer}").map_err(|e| format!("writing the answers: {e}"))?;
        }
    }
    Ok(())
}

/// The config file, read strictly and at most `MAX_CONFIG_BYTES` of it.
fn read_config(path: &str) -> Result<Config, String> {
    let mut text = String::new();
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    file.take(MAX_CONFIG_BYTES + 1).read_to_string(&mut text).map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!("larger than {MAX_CONFIG_BYTES} bytes, the most a config may hold"));
    }
    import_export_lifecycle::strict::from_json(&text).map_err(|e| e.to_string())
}

fn fail(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(2)
}
