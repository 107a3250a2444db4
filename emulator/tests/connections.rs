//! Connections are bounded: a client that is silent or slow with its request head or body is
//! dropped within `--header-timeout`, a kept-alive one within `--idle-timeout`, and at
//! `--max-connections` (or the process's descriptor limit) the longest-waiting connection makes
//! room, so `/emulator/health` keeps answering. Timeouts here are short, set by the flags.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh_dir, run_to_exit};

/// The emulator binary under `prefix` (e.g. `prlimit …`), with `args`, on a fresh database;
/// (process, `HOST:PORT`).
fn start(name: &str, prefix: &[&str], args: &[&str]) -> Running {
    let db = fresh_dir(name).join("db.sqlite3");
    let bin = env!("CARGO_BIN_EXE_import-export-emulator");
    let mut command = match prefix {
        [] => Command::new(bin),
        [program, rest @ ..] => {
            let mut c = Command::new(program);
            c.args(rest).arg(bin);
            c
        }
    };
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--clock", "virtual", "--db"])
        .arg(&db)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let address = line
        .trim_end()
        .strip_prefix("listening on ")
        .and_then(|u| u.split_once("://"))
        .map(|(_, a)| a.to_string())
        .unwrap_or_else(|| panic!("first line {line:?}"));
    Running { child: Some(child), address, db }
}

struct Running {
    child: Option<Child>,
    address: String,
    db: std::path::PathBuf,
}

impl Running {
    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.address).unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        stream
    }

    /// `GET /emulator/health` on a new connection (5 s at most): its status.
    fn health(&self) -> Option<u16> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        agent.get(format!("http://{}/emulator/health", self.address)).call().ok().map(|r| r.status().as_u16())
    }

    /// SIGTERM; whether it exited 0, and how long it took.
    fn terminate(&mut self) -> (bool, Duration) {
        let mut child = self.child.take().unwrap();
        let started = Instant::now();
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = started + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return (status.success(), started.elapsed());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return (false, started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether the server has closed `stream` (end of stream or reset), reading what it sent.
fn is_closed(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return false,
            Err(_) => return true,
        }
    }
}

/// Waits until every stream is closed by the server, at most `limit`, sending on each its
/// trickle (possibly empty) one byte every 50 ms meanwhile; returns when each closed (`None`:
/// still open at the limit).
fn closings(streams: &mut [(TcpStream, &[u8])], limit: Duration) -> Vec<Option<Duration>> {
    let started = Instant::now();
    let mut closed = vec![None; streams.len()];
    let mut sent = 0;
    while started.elapsed() < limit && closed.iter().any(Option::is_none) {
        for ((stream, trickle), closed) in streams.iter_mut().zip(&mut closed) {
            if closed.is_some() {
                continue;
            }
            if let Some(byte) = trickle.get(sent % trickle.len().max(1)) {
                let _ = stream.write_all(&[*byte]);
            }
            if is_closed(stream) {
                *closed = Some(started.elapsed());
            }
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    closed
}

/// `closings` of one stream that sends nothing.
fn closing(stream: TcpStream, limit: Duration) -> Vec<Option<Duration>> {
    closings(&mut [(stream, b"")], limit)
}

fn all_closed_between(closed: &[Option<Duration>], low: Duration, high: Duration, what: &str) {
    for (i, c) in closed.iter().enumerate() {
        let c = c.unwrap_or_else(|| panic!("{what} #{i} still open after {high:?}"));
        assert!(c >= low && c <= high, "{what} #{i} closed after {c:?}, not between {low:?} and {high:?}");
    }
}

/// One whole request on `stream` and its answer's status line and body (the answer's length is
/// `Content-Length`).
fn request(stream: &mut TcpStream, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    status.trim_end().to_string()
}

#[test]
fn silent_and_slow_clients_are_dropped_within_the_header_timeout() {
    let emulator = start("conn-slow", &[], &["--header-timeout", "1s", "--idle-timeout", "30s"]);
    let (low, high) = (Duration::from_millis(800), Duration::from_secs(6));

    let mut streams: Vec<(TcpStream, &[u8])> = Vec::new();
    for _ in 0..5 {
        streams.push((emulator.connect(), b""));
    }
    // Slowloris: a header byte every 50 ms; the trickle never extends the timeout.
    for _ in 0..5 {
        let mut s = emulator.connect();
        s.write_all(b"GET /emulator/health HTTP/1.1\r\n").unwrap();
        streams.push((s, b"X-Slow: aaaaaaaa\r\n"));
    }
    // A whole head, then a body that trickles.
    for _ in 0..3 {
        let mut s = emulator.connect();
        s.write_all(b"POST /emulator/clock HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{").unwrap();
        streams.push((s, b" "));
    }
    let closed = closings(&mut streams, high);
    all_closed_between(&closed[..5], low, high, "a silent connection");
    all_closed_between(&closed[5..10], low, high, "a slowloris connection");
    all_closed_between(&closed[10..], low, high, "a slow body");
    assert_eq!(emulator.health(), Some(200));
    // Nothing reached the clock: it is where it started.
    let mut check = emulator.connect();
    assert!(request(&mut check, "/emulator/clock").ends_with("200 OK"));
}

#[test]
fn a_silent_or_stalled_tls_handshake_is_dropped_within_the_header_timeout() {
    let dir = fresh_dir("conn-tls");
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let emulator = start("conn-tls-db", &[], &["--cert", cert, "--key", key, "--header-timeout", "1s"]);
    let mut streams: Vec<(TcpStream, &[u8])> = Vec::new();
    for _ in 0..3 {
        streams.push((emulator.connect(), b""));
    }
    // A TLS record header announcing a 512-byte ClientHello, whose bytes then trickle.
    for _ in 0..3 {
        let mut s = emulator.connect();
        s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).unwrap();
        streams.push((s, &[0u8]));
    }
    let closed = closings(&mut streams, Duration::from_secs(6));
    all_closed_between(&closed, Duration::from_millis(800), Duration::from_secs(6), "a stalled handshake");
}

#[test]
fn a_kept_alive_connection_waits_the_idle_timeout_and_its_next_head_the_header_timeout() {
    let emulator = start("conn-idle", &[], &["--header-timeout", "1s", "--idle-timeout", "3s"]);
    // Idle longer than the header timeout: still served.
    let mut kept = emulator.connect();
    assert!(request(&mut kept, "/emulator/health").ends_with("200 OK"));
    std::thread::sleep(Duration::from_millis(1800));
    assert!(!is_closed(&mut kept), "closed after the header timeout while idle between requests");
    assert!(request(&mut kept, "/emulator/health").ends_with("200 OK"));
    // Then idle until the idle timeout closes it.
    let closed = closing(kept, Duration::from_secs(10));
    all_closed_between(&closed, Duration::from_millis(2500), Duration::from_secs(10), "an idle connection");

    // A kept-alive connection whose next head trickles is closed by the header timeout, not the
    // idle one.
    let mut next = emulator.connect();
    assert!(request(&mut next, "/emulator/health").ends_with("200 OK"));
    next.write_all(b"GET /emulator/health HTTP/1.1\r\n").unwrap();
    let closed = closings(&mut [(next, b"X-Slow: a\r\n")], Duration::from_secs(10));
    all_closed_between(&closed, Duration::from_millis(800), Duration::from_millis(2800), "a slow next head");
}

#[test]
fn at_the_connection_limit_the_longest_waiting_connection_makes_room_and_health_answers() {
    let emulator = start(
        "conn-limit",
        &[],
        &["--max-connections", "8", "--header-timeout", "60s", "--idle-timeout", "60s"],
    );
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..20 {
        held.push(emulator.connect());
        // Accepted in this order, so "longest waiting" is the order they were opened in.
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..3 {
        assert_eq!(emulator.health(), Some(200), "health at the limit");
    }
    std::thread::sleep(Duration::from_millis(300));
    let open: Vec<bool> = held.iter_mut().map(|s| !is_closed(s)).collect();
    // The newest stay open; the oldest made room, for them and for each health check.
    assert!(open[16..].iter().all(|o| *o), "the newest connections were closed: {open:?}");
    assert!(open[..12].iter().all(|o| !*o), "the oldest connections are still open: {open:?}");
    assert!(open.iter().filter(|o| **o).count() <= 8, "more than 8 open: {open:?}");
}

#[test]
fn idle_clients_never_exhaust_the_descriptors() {
    // 64 descriptors for the whole process (database and readers included) and a connection
    // limit far above it: the descriptor limit is reached first, and makes room the same way.
    let emulator = start(
        "conn-nofile",
        &["prlimit", "--nofile=64:64", "--"],
        &["--max-connections", "10000", "--header-timeout", "60s", "--idle-timeout", "60s"],
    );
    let held: Vec<TcpStream> = (0..100).map(|_| emulator.connect()).collect();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..3 {
        assert_eq!(emulator.health(), Some(200), "health with every descriptor taken by idle clients");
    }
    drop(held);
}

#[test]
fn shutdown_closes_waiting_connections_at_once_and_the_database_cleanly() {
    let mut emulator = start("conn-shutdown", &[], &["--header-timeout", "60s", "--idle-timeout", "60s"]);
    let _silent: Vec<TcpStream> = (0..3).map(|_| emulator.connect()).collect();
    let mut kept = emulator.connect();
    assert!(request(&mut kept, "/emulator/health").ends_with("200 OK"));
    let mut slow = emulator.connect();
    slow.write_all(b"GET /emulator/health HTTP/1.1\r\n").unwrap();
    let (ok, took) = emulator.terminate();
    assert!(ok, "exit status after SIGTERM");
    assert!(took < Duration::from_secs(10), "shutdown waited {took:?} for waiting connections");
    let wal = emulator.db.with_extension("sqlite3-wal");
    assert!(!wal.exists(), "the WAL is still there: the database did not close");
    assert!(is_closed(&mut kept) && is_closed(&mut slow));
}

#[test]
fn bounds_that_are_zero_or_not_durations_are_refused_before_listening() {
    for (flag, value) in [
        ("--header-timeout", "0s"),
        ("--idle-timeout", "0ms"),
        ("--header-timeout", "5x"),
        ("--idle-timeout", "-1s"),
        ("--max-connections", "0"),
        ("--max-connections", "many"),
    ] {
        let given = format!("{flag}={value}");
        let args = ["--listen", "127.0.0.1:0", "--db", ":memory:", &given].map(std::ffi::OsStr::new);
        let (code, stdout, stderr) = run_to_exit(&args);
        assert_eq!(code, Some(2), "{flag} {value}: {stderr}");
        assert!(stdout.is_empty(), "{flag} {value}: it listened: {stdout}");
        assert!(stderr.contains(flag), "{flag} {value}: {stderr:?} does not name the flag");
    }
}
