//! Load generator: 64 concurrent clients on loopback against a fresh emulator, first durable
//! writes (Create Job), then reads (Get Job); throughput and latency percentiles; then a check
//! that the database holds exactly the jobs the clients were told were created; then the time
//! a restart takes on a database of 100,000 jobs, and a listing of them all through `nextLink`
//! (the whole, then page 1 and the last page again). The server's own log (in the run's temporary
//! folder) gives its side of the latencies: arrival to answer, without the clients' time.
//!
//! ```sh
//! cargo build --release -p import-export-emulator --bins --examples
//! target/release/examples/load [--clients 64] [--seconds 10] [--jobs 100000]
//! ```
//!
//! Not a test: figures depend on the machine. `docs/emulator.md` records a run.

use std::collections::BTreeSet;
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
    // target/<profile>/examples/load -> target/<profile>/import-export-emulator
    here.parent().and_then(Path::parent).map(|p| p.join("import-export-emulator")).expect("binary beside")
}

struct Server {
    child: Child,
    url: String,
}

fn start(db: &Path, log: &Path) -> (Server, Duration) {
    let started = Instant::now();
    let mut child = Command::new(binary())
        .args(["--listen", "127.0.0.1:0", "--clock", "virtual", "--start", "2026-01-05T09:00:00Z", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "requests=info,writer=debug".into()))
        .stderr(Stdio::from(
            std::fs::OpenOptions::new().create(true).append(true).open(log).expect("the server's log file"),
        ))
        .spawn()
        .expect("start the emulator (build it first: cargo build --release -p import-export-emulator)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    let url = line.trim().strip_prefix("listening on ").expect("listening on …").to_string();
    (Server { child, url }, started.elapsed())
}

fn stop(mut server: Server) {
    let _ = Command::new("kill").arg("-TERM").arg(server.child.id().to_string()).status();
    let _ = server.child.wait();
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
        "{url}/subscriptions/load/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/{name}?api-version=2021-01-01"
    )
}

struct Phase {
    latencies: Vec<Duration>,
    errors: usize,
    created: Vec<String>,
    elapsed: Duration,
}

/// Runs `clients` threads for `seconds`, each calling `step(client, i)` in a loop.
fn phase(
    clients: usize,
    seconds: u64,
    step: impl Fn(&ureq::Agent, usize, usize) -> (bool, Option<String>) + Send + Sync + 'static,
) -> Phase {
    let step = Arc::new(step);
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (step, stop, barrier) = (Arc::clone(&step), Arc::clone(&stop), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let agent: ureq::Agent =
                    ureq::Agent::config_builder().http_status_as_error(false).build().into();
                let (mut latencies, mut errors, mut created) = (Vec::new(), 0, Vec::new());
                barrier.wait();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let (ok, name) = step(&agent, c, i);
                    latencies.push(t.elapsed());
                    if ok {
                        created.extend(name);
                    } else {
                        errors += 1;
                    }
                    i += 1;
                }
                (latencies, errors, created)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut out = Phase { latencies: Vec::new(), errors: 0, created: Vec::new(), elapsed: Duration::ZERO };
    for thread in threads {
        let (latencies, errors, created) = thread.join().expect("client thread");
        out.latencies.extend(latencies);
        out.errors += errors;
        out.created.extend(created);
    }
    out.elapsed = started.elapsed();
    out
}

fn report(what: &str, phase: &mut Phase) {
    phase.latencies.sort();
    let n = phase.latencies.len();
    let at = |q: f64| {
        phase.latencies.get(((n as f64 * q) as usize).min(n.saturating_sub(1))).copied().unwrap_or_default()
    };
    println!(
        "{what}: {n} requests in {:.1} s = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; errors {}",
        phase.elapsed.as_secs_f64(),
        n as f64 / phase.elapsed.as_secs_f64(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        phase.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        phase.errors
    );
}

/// The server's own view, from its log: each request's time from arrival to answer (one line
/// per request: `PUT /… 201 2.1ms`), without the clients' share of the machine, and the size
/// of the commit groups.
fn server_side(log: &Path) {
    let text = std::fs::read_to_string(log).expect("the server's log");
    for (method, status) in [("PUT", "201"), ("GET", "200")] {
        let mut ms: Vec<f64> = text
            .lines()
            .filter_map(|line| line.split_once(&format!(" {method} "))?.1.strip_suffix("ms"))
            .filter_map(|rest| {
                let mut words = rest.split(' ');
                let (_path, code, took) = (words.next()?, words.next()?, words.next()?);
                if code == status { took.parse().ok() } else { None }
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms.get(((ms.len() as f64 * q) as usize).min(ms.len().saturating_sub(1))).copied();
        println!(
            "  server side, {method} {status}: {} requests; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms.len(),
            at(0.5).unwrap_or_default(),
            at(0.99).unwrap_or_default(),
            ms.last().copied().unwrap_or_default()
        );
    }
    // `writer: group size=N committed=true ms=X`
    let groups: Vec<(usize, f64)> = text
        .lines()
        .filter(|line| line.contains(" group "))
        .filter_map(|line| {
            let size = line.split("size=").nth(1)?.split(' ').next()?.parse().ok()?;
            let ms = line.split("ms=").nth(1)?.split(' ').next()?.parse().ok()?;
            Some((size, ms))
        })
        .collect();
    let requests: usize = groups.iter().map(|g| g.0).sum();
    let busy: f64 = groups.iter().map(|g| g.1).sum();
    // `writer: commit commit_ms=X` (at trace level only)
    let commits: f64 =
        text.lines().filter_map(|line| line.split("commit_ms=").nth(1)?.trim().parse::<f64>().ok()).sum();
    if commits > 0.0 {
        println!("  writer: {commits:.0} ms of it committing (fsync)");
    }
    if requests > 0 {
        println!(
            "  writer: {} commit groups, {:.1} requests each on average; busy {:.0} ms in all, {:.0} µs per request",
            groups.len(),
            requests as f64 / groups.len() as f64,
            busy,
            busy * 1000.0 / requests as f64
        );
    }
}

/// Lists the subscription of `jobs` jobs through its `nextLink`s, 100 a page: the whole
/// listing's time, then page 1 and the last page (the 1,000th of 100,000 jobs) fetched again 21
/// times each, their median. Keyset pagination makes each page one index range, so the last
/// page costs what the first does.
fn list_through(agent: &ureq::Agent, url: &str, jobs: usize) {
    let first =
        format!("{url}/subscriptions/load/providers/Microsoft.ImportExport/jobs?api-version=2021-01-01");
    let fetch = |link: &str| -> (f64, serde_json::Value) {
        let t = Instant::now();
        let mut response = agent.get(link).call().expect("a list page");
        assert_eq!(response.status().as_u16(), 200, "{link}");
        let body: serde_json::Value = response.body_mut().read_json().expect("a JSON page");
        (t.elapsed().as_secs_f64() * 1000.0, body)
    };
    let (mut next, mut last, mut pages, mut seen) = (Some(first.clone()), first.clone(), 0usize, 0usize);
    let started = Instant::now();
    while let Some(link) = next.take() {
        let (_, body) = fetch(&link);
        pages += 1;
        seen += body["value"].as_array().map_or(0, Vec::len);
        next = body["nextLink"].as_str().map(str::to_string);
        last = link;
    }
    let whole = started.elapsed().as_secs_f64();
    assert_eq!(seen, jobs, "the listing shows every job once");
    let median = |link: &str| {
        let mut times: Vec<f64> = (0..21).map(|_| fetch(link).0).collect();
        times.sort_by(f64::total_cmp);
        times[10]
    };
    println!(
        "list of {jobs} jobs: {seen} shown in {pages} pages in {whole:.1} s; median of 21: page 1 {:.1} ms, page {pages} {:.1} ms",
        median(&first),
        median(&last)
    );
}

fn main() {
    let clients: usize = arg("--clients", "64").parse().expect("--clients N");
    let seconds: u64 = arg("--seconds", "10").parse().expect("--seconds N");
    let jobs: usize = arg("--jobs", "100000").parse().expect("--jobs N");
    let dir = std::env::temp_dir().join(format!("iee-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let db = dir.join("load.sqlite3");
    let log = dir.join("server.log");
    let (server, _) = start(&db, &log);
    println!(
        "emulator at {} (database {}), {clients} clients, {seconds} s per phase",
        server.url,
        db.display()
    );

    // Durable writes: each client creates jobs of its own; a 201 means committed.
    let body = Arc::new(create_body());
    let url = server.url.clone();
    let mut writes = phase(clients, seconds, move |agent, c, i| {
        let name = format!("c{c}-{i}");
        let answer = agent.put(&path(&url, &name)).header("Content-Type", "application/json").send(&body[..]);
        match answer {
            Ok(r) if r.status() == 201 => (true, Some(name)),
            _ => (false, None),
        }
    });
    report("durable writes (PUT, 201 after commit)", &mut writes);

    // Reads: Get Job on the jobs just created.
    let names = Arc::new(writes.created.clone());
    let url = server.url.clone();
    let mut reads = phase(clients, seconds, move |agent, c, i| {
        let name = &names[(c * 7919 + i * 104_729) % names.len()];
        match agent.get(&path(&url, name)).call() {
            Ok(mut r) if r.status() == 200 => (r.body_mut().read_to_vec().is_ok(), None),
            _ => (false, None),
        }
    });
    report("reads (GET)", &mut reads);
    stop(server);
    server_side(&log);

    // The database holds exactly what the clients were told.
    let conn = rusqlite::Connection::open(&db).expect("open the database");
    let mut statement = conn.prepare("SELECT name FROM jobs").expect("query");
    let stored: BTreeSet<String> =
        statement.query_map([], |r| r.get(0)).expect("rows").map(|r| r.expect("row")).collect();
    let told: BTreeSet<String> = writes.created.iter().cloned().collect();
    let keys: i64 = conn.query_row("SELECT COUNT(*) FROM bitlocker_keys", [], |r| r.get(0)).expect("count");
    println!(
        "database after the run: {} jobs, {keys} key rows; clients were told {} creates; identical: {}",
        stored.len(),
        told.len(),
        stored == told && usize::try_from(keys).ok() == Some(told.len())
    );
    assert_eq!(stored, told, "the database must hold exactly the acknowledged jobs");

    // Startup on a database of `jobs` jobs: copies of one stored record under new names.
    let (template_name, record, deadline, key_text): (String, String, Option<i64>, String) = conn
        .query_row(
            "SELECT j.name, j.record, j.deadline, k.keys FROM jobs j JOIN bitlocker_keys k USING (subscription, resource_group, name) LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("a template row");
    drop(statement);
    let mut conn = conn;
    let txn = conn.transaction().expect("transaction");
    txn.execute("DELETE FROM jobs", []).expect("clear");
    txn.execute("DELETE FROM bitlocker_keys", []).expect("clear");
    let quoted = format!("\"{template_name}\"");
    for i in 0..jobs {
        let name = format!("startup-{i}");
        let record = record.replace(&quoted, &format!("\"{name}\""));
        txn.execute(
            "INSERT INTO jobs VALUES ('load', 'rg', ?1, ?2, ?3)",
            rusqlite::params![name, record, deadline],
        )
        .expect("insert");
        txn.execute(
            "INSERT INTO bitlocker_keys VALUES ('load', 'rg', ?1, ?2)",
            rusqlite::params![name, key_text],
        )
        .expect("insert");
    }
    txn.commit().expect("commit");
    drop(conn);
    let started = Instant::now();
    let (server, to_line) = start(&db, &dir.join("startup.log"));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let status =
        agent.get(&path(&server.url, &format!("startup-{}", jobs - 1))).call().map(|r| r.status().as_u16());
    let to_answer = started.elapsed();
    println!(
        "startup with {jobs} jobs: first line after {:.0} ms, first answer ({:?}) after {:.0} ms",
        to_line.as_secs_f64() * 1000.0,
        status,
        to_answer.as_secs_f64() * 1000.0
    );
    list_through(&agent, &server.url, jobs);
    stop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
