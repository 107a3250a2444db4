//! Side-by-side measurement: each of the emulator's request costs printed beside its floor, the
//! same server's `GET /emulator/health`, measured in the same run, on loopback.
//!
//! One run starts the release emulator on a fresh SQLite file (virtual clock, so no timer fires),
//! creates `--jobs` jobs, then for each of `--rounds` rounds measures, `--seconds` each, the
//! floor and the request measured in alternation (`--slice-ms` each, so that both see the
//! machine's other load alike):
//!
//! - `GET /emulator/health` and `GET` of one job (random among the created ones) at
//!   `--get-connections` connections: throughput, p50, p99, and the ratio job / health;
//! - `GET /emulator/health` and a durable `PUT` of a new job (201 after commit) at
//!   `--put-connections` connections, and the ratio.
//!
//! Then the bytes on disk per job: database plus WAL after the load, and the database alone
//! after the shutdown's checkpoint, against the size of a job's `GET` body; per table and index
//! from SQLite's `dbstat`.
//!
//! The client is one thread with one event loop (like `wrk -t1`): each connection is kept
//! alive, sends a request and reads the whole answer before the next. It is written against
//! the raw socket so that its own cost per request stays far below the server's.
//!
//! ```sh
//! cargo build --release -p import-export-emulator --bins --examples
//! target/release/examples/floor [--rounds 3] [--seconds 3] [--jobs 2000] \
//!     [--get-connections 32] [--put-connections 64] [--slice-ms 500] \
//!     [--keep-log PATH]
//! ```
//!
//! The server logs as it does by default (`info`: one line per request, to a file); set
//! `RUST_LOG` to change that.
//!
//! Not a test: figures depend on the machine. `docs/emulator.md` ("Performance") records runs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.into())
}

fn number(name: &str, default: &str, most: u64) -> u64 {
    let n: u64 = arg(name, default).parse().unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!((1..=most).contains(&n), "{name}: {n}, expected 1 to {most}");
    n
}

fn binary() -> PathBuf {
    let here = std::env::current_exe().expect("own path");
    // target/<profile>/examples/floor -> target/<profile>/import-export-emulator
    here.parent().and_then(Path::parent).map(|p| p.join("import-export-emulator")).expect("binary beside")
}

/// The emulator, started on `db` with its log in `log`; killed when dropped (if still running).
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(db: &Path, log: &Path) -> Server {
        let mut child = Command::new(binary())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--clock",
                "virtual",
                "--start",
                "2026-01-05T09:00:00Z",
                "--db",
            ])
            .arg(db)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(log).expect("the server's log file")))
            .spawn()
            .expect("start the emulator (build it first: cargo build --release -p import-export-emulator)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
        let url = line.trim().strip_prefix("listening on ").expect("listening on …");
        let address = url.strip_prefix("http://").expect("http://…").to_string();
        Server { child, address }
    }

    /// SIGTERM and wait: the emulator finishes its requests and checkpoints the WAL.
    fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The run's folder, removed when dropped, also when a check fails (after the server, which is
/// declared after it, has been killed).
struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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

fn job_path(name: &str) -> String {
    format!(
        "/subscriptions/floor/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/{name}?api-version=2021-01-01"
    )
}

fn request(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").into_bytes();
    if !body.is_empty() {
        out.extend_from_slice(
            format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// What one request sends; `expect` is the status that counts as success.
struct Step {
    bytes: Vec<u8>,
    expect: u16,
}

/// One kept-alive connection's answers.
struct Tally {
    latencies: Vec<Duration>,
    errors: usize,
    body_bytes: usize,
}

/// Sends `bytes` whole.
async fn send(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads one whole answer (headers and a `Content-Length` body): its status and body length.
/// `buffer` keeps what arrived beyond it (nothing, without pipelining).
async fn receive(stream: &TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<(u16, usize)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).map_err(|_| bad("head not UTF-8"))?;
            let status: u16 =
                head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status"))?;
            let length: usize = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            let total = end + 4 + length;
            while buffer.len() < total {
                stream.readable().await?;
                match stream.try_read(&mut chunk) {
                    Ok(0) => return Err(bad("closed mid-answer")),
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            buffer.drain(..total);
            return Ok((status, length));
        }
        stream.readable().await?;
        match stream.try_read(&mut chunk) {
            Ok(0) => return Err(bad("closed")),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

/// One connection: requests `next(connection, i)` until `until`, or if `share` is given as
/// (total, connections), this connection's share of `total` requests.
async fn connection(
    address: String,
    c: usize,
    until: Instant,
    share: Option<(usize, usize)>,
    next: Rc<dyn Fn(usize, usize) -> Step>,
) -> Tally {
    let mut tally = Tally { latencies: Vec::new(), errors: 0, body_bytes: 0 };
    let Ok(stream) = TcpStream::connect(&address).await else {
        tally.errors += 1;
        return tally;
    };
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::new();
    let count = share.map(|(total, connections)| total / connections + usize::from(c < total % connections));
    let mut i = 0;
    while Instant::now() < until && count.is_none_or(|n| i < n) {
        let step = next(c, i);
        let started = Instant::now();
        let answer = match send(&stream, &step.bytes).await {
            Ok(()) => receive(&stream, &mut buffer).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok((status, length)) if status == step.expect => {
                tally.latencies.push(started.elapsed());
                tally.body_bytes = length;
            }
            Ok(_) => tally.errors += 1,
            Err(_) => {
                tally.errors += 1;
                break;
            }
        }
        i += 1;
    }
    tally
}

/// What one or more phases answered, put together.
#[derive(Default)]
struct Raw {
    latencies: Vec<Duration>,
    errors: usize,
    body_bytes: usize,
    elapsed: Duration,
}

/// What a phase measured.
struct Measured {
    rate: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
    body_bytes: usize,
    done: usize,
}

impl Raw {
    fn add(&mut self, other: Raw) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.body_bytes = self.body_bytes.max(other.body_bytes);
        self.elapsed += other.elapsed;
    }

    fn measured(mut self) -> Measured {
        self.latencies.sort_unstable();
        let n = self.latencies.len();
        let at = |q: f64| self.latencies.get(((n as f64 * q) as usize).min(n.saturating_sub(1))).copied();
        Measured {
            rate: n as f64 / self.elapsed.as_secs_f64(),
            p50: at(0.5).unwrap_or_default(),
            p99: at(0.99).unwrap_or_default(),
            errors: self.errors,
            body_bytes: self.body_bytes,
            done: n,
        }
    }
}

/// Runs `connections` connections for `length` (or `total` requests in all), on this thread.
fn phase(
    address: &str,
    connections: usize,
    length: Duration,
    total: Option<usize>,
    next: Rc<dyn Fn(usize, usize) -> Step>,
) -> Raw {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let local = tokio::task::LocalSet::new();
    let started = Instant::now();
    let until = started + length;
    let tallies: Vec<Tally> = local.block_on(&runtime, async {
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                tokio::task::spawn_local(connection(
                    address.to_string(),
                    c,
                    until,
                    total.map(|t| (t, connections)),
                    Rc::clone(&next),
                ))
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.expect("a connection's task"));
        }
        out
    });
    let mut raw = Raw { elapsed: started.elapsed(), ..Raw::default() };
    for tally in tallies {
        raw.latencies.extend(tally.latencies);
        raw.errors += tally.errors;
        raw.body_bytes = raw.body_bytes.max(tally.body_bytes);
    }
    raw
}

/// The floor and the measured requests in alternation, `slice` each, until each has run
/// `seconds`: both see the machine's other load alike.
fn side_by_side(
    address: &str,
    connections: usize,
    seconds: u64,
    slice: Duration,
    floor: &Rc<dyn Fn(usize, usize) -> Step>,
    measured: &Rc<dyn Fn(usize, usize) -> Step>,
) -> (Measured, Measured) {
    let (mut a, mut b) = (Raw::default(), Raw::default());
    let slices = (Duration::from_secs(seconds).as_secs_f64() / slice.as_secs_f64()).ceil().max(1.0) as usize;
    for _ in 0..slices {
        a.add(phase(address, connections, slice, None, Rc::clone(floor)));
        b.add(phase(address, connections, slice, None, Rc::clone(measured)));
    }
    (a.measured(), b.measured())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn line(what: &str, m: &Measured) {
    println!(
        "  {what:<34} {:>9.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} answers, {} errors)",
        m.rate,
        ms(m.p50),
        ms(m.p99),
        m.done,
        m.errors
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn with_suffix(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Bytes per table and index, from SQLite's `dbstat`: pages, payload, overflow pages.
fn dbstat(db: &Path, jobs: u64) {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the database");
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page_size");
    let mut statement = conn
        .prepare(
            "SELECT name, COUNT(*), SUM(pgsize), SUM(payload), SUM(unused), SUM(pagetype = 'overflow')
             FROM dbstat GROUP BY name ORDER BY SUM(pgsize) DESC",
        )
        .expect("dbstat (SQLite built with SQLITE_ENABLE_DBSTAT_VTAB)");
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .expect("dbstat rows");
    println!("  dbstat (page size {page} B), per job:");
    for row in rows {
        let (name, pages, bytes, payload, unused, overflow) = row.expect("a dbstat row");
        println!(
            "    {name:<40} {pages:>7} pages ({overflow:>6} overflow) {:>8.1} B/job: payload {:>7.1}, unused {:>7.1}",
            bytes as f64 / jobs as f64,
            payload as f64 / jobs as f64,
            unused as f64 / jobs as f64
        );
    }
    let average =
        |sql: &str| conn.query_row(sql, [], |r| r.get::<_, Option<f64>>(0)).ok().flatten().unwrap_or(0.0);
    println!(
        "    average stored text: record {:.0} B, keys {:.0} B",
        average("SELECT AVG(LENGTH(record)) FROM jobs"),
        average("SELECT AVG(LENGTH(keys)) FROM bitlocker_keys")
    );
}

fn main() {
    let rounds = number("--rounds", "3", 20) as usize;
    let seconds = number("--seconds", "3", 60);
    let jobs = number("--jobs", "2000", 100_000) as usize;
    let get_connections = number("--get-connections", "32", 1000) as usize;
    let put_connections = number("--put-connections", "64", 1000) as usize;
    let slice = Duration::from_millis(number("--slice-ms", "500", 60_000));
    let folder = Folder(std::env::temp_dir().join(format!("iee-floor-{}", std::process::id())));
    let dir = folder.0.clone();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let db = dir.join("floor.sqlite3");
    let server = Server::start(&db, &dir.join("server.log"));
    let address = server.address.clone();
    println!(
        "emulator at {address} (database {}); {rounds} rounds of {seconds} s per phase; {jobs} jobs to read",
        db.display()
    );

    let body = Rc::new(create_body());
    let health: Rc<dyn Fn(usize, usize) -> Step> =
        Rc::new(|_: usize, _: usize| Step { bytes: request("GET", "/emulator/health", b""), expect: 200 });
    // The jobs every GET picks from: `jobs` creates, spread over the connections.
    let b = Rc::clone(&body);
    let setup = phase(
        &address,
        put_connections,
        Duration::from_secs(600),
        Some(jobs),
        Rc::new(move |c, i| Step {
            bytes: request("PUT", &job_path(&format!("read-{c}-{i}")), &b),
            expect: 201,
        }),
    );
    assert_eq!((setup.errors, setup.latencies.len()), (0, jobs), "creating the jobs to read");
    let names = jobs;
    let gets: Vec<Vec<u8>> = (0..put_connections)
        .flat_map(|c| {
            let share = jobs / put_connections + usize::from(c < jobs % put_connections);
            (0..share).map(move |i| request("GET", &job_path(&format!("read-{c}-{i}")), b""))
        })
        .collect();
    assert_eq!(gets.len(), jobs);
    let gets = Rc::new(gets);

    let (mut get_ratio, mut get_p50, mut get_p99, mut put_ratio, mut put_rates, mut get_rates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut get_body = 0;
    let mut created = names;
    for round in 0..rounds {
        println!("round {}:", round + 1);
        let g = Rc::clone(&gets);
        let random = std::cell::Cell::new(0x9E37_79B9_7F4A_7C15 ^ round as u64);
        let get: Rc<dyn Fn(usize, usize) -> Step> = Rc::new(move |_, _| {
            // xorshift: a job at random among those created, the same sequence every run.
            let mut state = random.get();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            random.set(state);
            Step { bytes: g[(state % g.len() as u64) as usize].clone(), expect: 200 }
        });
        let (floor, get) = side_by_side(&address, get_connections, seconds, slice, &health, &get);
        line(&format!("GET /emulator/health, {get_connections} conn."), &floor);
        line(&format!("GET one job, {get_connections} conn."), &get);
        get_body = get.body_bytes;
        let b = Rc::clone(&body);
        // A new name for every request, across the slices' connections.
        let count = std::cell::Cell::new(0u64);
        let put: Rc<dyn Fn(usize, usize) -> Step> = Rc::new(move |_, _| {
            let n = count.get();
            count.set(n + 1);
            Step { bytes: request("PUT", &job_path(&format!("new-{round}-{n}")), &b), expect: 201 }
        });
        let (floor64, put) = side_by_side(&address, put_connections, seconds, slice, &health, &put);
        line(&format!("GET /emulator/health, {put_connections} conn."), &floor64);
        line(&format!("PUT a new job (durable), {put_connections} conn."), &put);
        created += put.done;
        println!(
            "  ratios: GET job / health {:.2}x (goal >= 0.5x); PUT / health {:.3}x (goal >= 0.15x)",
            get.rate / floor.rate,
            put.rate / floor64.rate
        );
        get_ratio.push(get.rate / floor.rate);
        get_p50.push(ms(get.p50));
        get_p99.push(ms(get.p99));
        get_rates.push((get.rate, floor.rate));
        put_rates.push((put.rate, floor64.rate));
        put_ratio.push(put.rate / floor64.rate);
    }

    let wal = with_suffix(&db, "-wal");
    let loaded = file_size(&db) + file_size(&wal);
    server.stop();
    let checkpointed = file_size(&db) + file_size(&wal);
    let stored: u64 = rusqlite::Connection::open(&db)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .expect("count the jobs");
    assert_eq!(stored as usize, created, "the database holds every acknowledged job");
    let per_job = |bytes: u64| bytes as f64 / stored as f64;
    println!("bytes on disk: {stored} jobs; a job's GET body is {get_body} B");
    println!(
        "  after the load (database + WAL): {loaded} B = {:.0} B/job = {:.2}x the body (goal <= 1.5x)",
        per_job(loaded),
        per_job(loaded) / get_body as f64
    );
    println!(
        "  after the checkpoint (database):  {checkpointed} B = {:.0} B/job = {:.2}x the body",
        per_job(checkpointed),
        per_job(checkpointed) / get_body as f64
    );
    dbstat(&db, stored);

    println!("summary, medians of {rounds} rounds:");
    println!(
        "| GET one job (random among {names}) vs GET /emulator/health, {get_connections} conn. | {:.0}/s vs {:.0}/s = {:.2}x | >= 0.5x |",
        median(get_rates.iter().map(|r| r.0).collect()),
        median(get_rates.iter().map(|r| r.1).collect()),
        median(get_ratio)
    );
    println!(
        "| GET p50 / p99, {get_connections} conn. | {:.2} ms / {:.2} ms | p99 <= 2 ms |",
        median(get_p50),
        median(get_p99)
    );
    println!(
        "| durable PUT of new jobs vs GET /emulator/health, {put_connections} conn. | {:.0}/s vs {:.0}/s = {:.3}x | >= 0.15x |",
        median(put_rates.iter().map(|r| r.0).collect()),
        median(put_rates.iter().map(|r| r.1).collect()),
        median(put_ratio)
    );
    println!(
        "| bytes on disk per job (database + WAL) vs the GET body | {:.0} B for {get_body} B = {:.2}x (checkpointed {:.2}x) | <= 1.5x |",
        per_job(loaded),
        per_job(loaded) / get_body as f64,
        per_job(checkpointed) / get_body as f64
    );
    // `--keep-log PATH`: the server's log (`RUST_LOG=writer=debug` shows the commit groups).
    let keep = arg("--keep-log", "");
    if !keep.is_empty() {
        std::fs::copy(dir.join("server.log"), &keep).expect("--keep-log: copy the server's log");
    }
    drop(folder);
}
