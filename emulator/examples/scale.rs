//! Scale-out, side by side in one run: one emulator on SQLite, then 1, 2 and 4 emulators on one
//! PostgreSQL database (`DATABASE_URL`; a new schema each, dropped after). The same clients
//! on loopback spread their requests over the instances: durable writes (Create Job) for a
//! while, then reads (Get Job) of what they created; throughput and client-side latency
//! percentiles for each. Then a check that every create acknowledged reads back.
//!
//! ```sh
//! cargo build --release -p import-export-emulator --bins --examples
//! .ci/postgres run target/release/examples/scale [--clients 32] [--seconds 5]
//! ```
//!
//! Not a test: figures depend on the machine. `docs/emulator.md` records a run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.into())
}

fn binary() -> PathBuf {
    let here = std::env::current_exe().expect("own path");
    here.parent().and_then(Path::parent).map(|p| p.join("import-export-emulator")).expect("binary beside")
}

/// Starts one emulator on `db`; returns it and its URL.
fn start(db: &str, log: &Path) -> (Child, String) {
    let mut child = Command::new(binary())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--clock",
            "virtual",
            "--start",
            "2026-01-05T09:00:00Z",
            "--db",
            db,
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new().create(true).append(true).open(log).expect("the log file"),
        ))
        .spawn()
        .expect("start the emulator (build it first: cargo build --release -p import-export-emulator)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    let url = line.trim().strip_prefix("listening on ").expect("listening on …").to_string();
    (child, url)
}

fn create_body() -> Vec<u8> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/azure-rest-2021-01-01/CreateJob.json"
    ))
    .expect("the CreateJob example");
    let example: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    serde_json::to_vec(&example["parameters"]["body"]).expect("body")
}

fn path(url: &str, name: &str) -> String {
    format!(
        "{url}/subscriptions/scale/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/{name}?api-version=2021-01-01"
    )
}

/// `clients` threads for `seconds`, client `c`'s request `i` going to `urls[(c + i) % n]`:
/// each calls `step`, which says whether the answer was the one expected. Returns the
/// latencies, the errors, the names acknowledged, the time taken.
fn phase(
    urls: &[String],
    clients: usize,
    seconds: u64,
    step: impl Fn(&ureq::Agent, &str, usize, usize) -> Option<String> + Send + Sync + 'static,
) -> (Vec<Duration>, usize, Vec<String>, Duration) {
    let step = Arc::new(step);
    let urls = Arc::new(urls.to_vec());
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (step, stop, barrier, urls) =
                (Arc::clone(&step), Arc::clone(&stop), Arc::clone(&barrier), Arc::clone(&urls));
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .into();
                let (mut latencies, mut errors, mut names) = (Vec::new(), 0, Vec::new());
                barrier.wait();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let answer = step(&agent, &urls[(c + i) % urls.len()], c, i);
                    latencies.push(t.elapsed());
                    match answer {
                        Some(name) => names.push(name),
                        None => errors += 1,
                    }
                    i += 1;
                }
                (latencies, errors, names)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, mut errors, mut names) = (Vec::new(), 0, Vec::new());
    for thread in threads {
        let (l, e, n) = thread.join().expect("client thread");
        latencies.extend(l);
        errors += e;
        names.extend(n);
    }
    (latencies, errors, names, started.elapsed())
}

fn line(engine: &str, what: &str, latencies: &mut [Duration], errors: usize, elapsed: Duration) {
    latencies.sort();
    let n = latencies.len();
    let at = |q: f64| {
        latencies.get(((n as f64 * q) as usize).min(n.saturating_sub(1))).copied().unwrap_or_default()
    };
    println!(
        "| {engine} | {what} | {:.0}/s | {:.2} ms | {:.2} ms | {errors} |",
        n as f64 / elapsed.as_secs_f64(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
    );
}

/// Runs writes then reads against `urls` (the instances of one setup).
fn measure(engine: &str, urls: &[String], clients: usize, seconds: u64) {
    let body = Arc::new(create_body());
    let tag: String = engine.chars().filter(char::is_ascii_alphanumeric).collect();
    let (mut latencies, errors, created, elapsed) = phase(urls, clients, seconds, move |agent, url, c, i| {
        let name = format!("{tag}-{c}-{i}");
        let response = agent.put(path(url, &name)).content_type("application/json").send(&body[..]).ok()?;
        (response.status() == 201).then_some(name)
    });
    line(engine, "PUT (create)", &mut latencies, errors, elapsed);
    assert!(!created.is_empty(), "{engine}: no create succeeded");
    let names = Arc::new(created.clone());
    let (mut latencies, errors, _, elapsed) = phase(urls, clients, seconds, move |agent, url, c, i| {
        let name = &names[(c * 7919 + i * 104_729) % names.len()];
        let response = agent.get(path(url, name)).call().ok()?;
        (response.status() == 200).then(|| name.clone())
    });
    line(engine, "GET", &mut latencies, errors, elapsed);
    // Every acknowledged create reads back, through any instance.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let missing = created
        .iter()
        .enumerate()
        .filter(|(i, name)| {
            agent.get(path(&urls[i % urls.len()], name)).call().map(|r| r.status() != 200).unwrap_or(true)
        })
        .count();
    assert_eq!(missing, 0, "{engine}: {missing} acknowledged creates do not read back");
}

fn stop(children: Vec<Child>) {
    for mut child in children {
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
}

fn main() {
    let clients: usize = arg("--clients", "32").parse().expect("--clients N");
    let seconds: u64 = arg("--seconds", "5").parse().expect("--seconds N");
    let server =
        std::env::var("DATABASE_URL").expect("DATABASE_URL: a PostgreSQL server (.ci/postgres run …)");
    let dir = std::env::temp_dir().join(format!("emulator-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let log = dir.join("emulators.log");
    println!(
        "{clients} clients, {seconds} s per phase, on {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("| setup | requests | throughput | p50 | p99 | errors |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let sqlite = dir.join("db.sqlite3");
    let (child, url) = start(sqlite.to_str().expect("a UTF-8 path"), &log);
    measure("SQLite, 1 instance", &[url], clients, seconds);
    stop(vec![child]);
    for n in [1, 2, 4] {
        let schema = format!("scale_{}_{n}", std::process::id());
        let mut admin = postgres::Client::connect(&server, postgres::NoTls).expect("the PostgreSQL server");
        admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
            .expect("a schema");
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");
        let (children, urls): (Vec<Child>, Vec<String>) = (0..n).map(|_| start(&url, &log)).unzip();
        measure(
            &format!("PostgreSQL, {n} instance{}", if n == 1 { "" } else { "s" }),
            &urls,
            clients,
            seconds,
        );
        stop(children);
        admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).expect("drop the schema");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
