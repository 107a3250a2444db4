//! Starting the emulator binary for a test, and talking to it over HTTP.

#![allow(dead_code, reason = "each test file uses its own part of this module")]

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

/// The test clock's origin.
pub const T0: &str = "2026-01-05T09:00:00Z";
/// Every ARM request's query.
pub const V: &str = "api-version=2021-01-01";

/// A running emulator, killed when dropped.
pub struct Emulator {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its database file.
    pub db: PathBuf,
    agent: ureq::Agent,
    token: Option<String>,
    /// The PostgreSQL schema it keeps its tables in, if it runs on PostgreSQL (dropped after
    /// the process is killed).
    pub schema: Option<std::sync::Arc<PgSchema>>,
}

/// A fresh folder for one test's database, under cargo's temporary folder for integration
/// tests (`target/tmp`): emptied when the next run reuses its name, so runs leave nothing behind
/// that grows.
pub fn fresh_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("emulator-tests")
        .join(format!("{name}-{}", N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the binary with `args` on port 0 and a database at `db`; waits for its first line.
/// Its log goes to [`log_of`]`(db)`, appended to across restarts.
pub fn start(db: &Path, args: &[&str]) -> Emulator {
    start_with_env(db, args, &[])
}

/// The file an emulator started by [`start`] on `db` logs to.
pub fn log_of(db: &Path) -> PathBuf {
    if db == Path::new(":memory:") {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("emulator-tests");
        std::fs::create_dir_all(&dir).unwrap();
        return dir.join("memory.log");
    }
    db.with_extension("log")
}

/// [`start`], with environment variables (`RUST_LOG`).
pub fn start_with_env(db: &Path, args: &[&str], env: &[(&str, &str)]) -> Emulator {
    let emulator = spawn(db, args, agent(), env);
    assert!(emulator.url.starts_with("http://127.0.0.1:"), "{}", emulator.url);
    emulator
}

/// [`start`] over HTTPS with `tls`'s certificate and key; the emulator's client trusts only
/// that certificate.
pub fn start_https(db: &Path, args: &[&str], tls: &TestCertificate) -> Emulator {
    let (cert, key) = (tls.cert.to_str().unwrap(), tls.key.to_str().unwrap());
    let args: Vec<&str> = args.iter().copied().chain(["--cert", cert, "--key", key]).collect();
    let emulator = spawn(db, &args, trusting(&tls.der), &[]);
    assert!(emulator.url.starts_with("https://127.0.0.1:"), "{}", emulator.url);
    emulator
}

fn spawn(db: &Path, args: &[&str], agent: ureq::Agent, env: &[(&str, &str)]) -> Emulator {
    spawn_on(db, db.as_os_str(), None, args, agent, env)
}

fn spawn_on(
    db: &Path,
    db_arg: &std::ffi::OsStr,
    schema: Option<std::sync::Arc<PgSchema>>,
    args: &[&str],
    agent: ureq::Agent,
    env: &[(&str, &str)],
) -> Emulator {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log_of(db)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_import-export-emulator"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(db_arg)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("the emulator starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line {line:?} is not `listening on SCHEME://HOST:PORT`"))
        .to_string();
    assert!(!url.ends_with(":0"), "{url}");
    let token = args.iter().position(|a| *a == "--token").map(|i| args[i + 1].to_string());
    Emulator { child: Some(child), url, db: db.to_path_buf(), agent, token, schema }
}

/// The PostgreSQL server the tests use (`DATABASE_URL`), or `None` after printing why the
/// test is skipped; under `CI=true` a missing server fails the test instead.
pub fn database_url(test: &str) -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: DATABASE_URL is not set, and CI must run the PostgreSQL tests (.ci/postgres run ...)"
            );
            // Past the test harness's capture, so the skip shows in every run.
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped: DATABASE_URL is not set (start a server with `.ci/postgres run cargo test ...`)"
            );
            None
        }
    }
}

/// A schema of one test's own in a PostgreSQL database, dropped (with its tables) when the last
/// emulator on it is gone.
pub struct PgSchema {
    /// The server's URL, as given.
    pub server: String,
    /// The schema's name.
    pub name: String,
    /// The URL emulators are given: the server's, with the schema as `search_path`.
    pub url: String,
}

impl PgSchema {
    /// A new, empty schema on `server`.
    pub fn new(server: &str, test: &str) -> std::sync::Arc<PgSchema> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t_{}_{}_{}",
            test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut client =
            postgres::Client::connect(server, postgres::NoTls).expect("the test's PostgreSQL server");
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")).unwrap();
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options=-c%20search_path%3D{name}");
        std::sync::Arc::new(PgSchema { server: server.to_string(), name, url })
    }

    /// A connection whose `search_path` is the schema.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("the test's PostgreSQL schema")
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// Starts an emulator with `args` on `schema`; it logs to `dir/emulator.log` (appended to).
pub fn start_pg(schema: &std::sync::Arc<PgSchema>, dir: &Path, args: &[&str]) -> Emulator {
    let emulator = spawn_on(
        &dir.join("emulator.sqlite3"),
        std::ffi::OsStr::new(&schema.url),
        Some(std::sync::Arc::clone(schema)),
        args,
        agent(),
        &[],
    );
    assert!(emulator.url.starts_with("http://127.0.0.1:"), "{}", emulator.url);
    emulator
}

/// Whether the engine-neutral tests run on PostgreSQL (`EMULATOR_TEST_ENGINE=postgres`, with
/// `DATABASE_URL`) instead of SQLite.
pub fn on_postgres() -> bool {
    std::env::var("EMULATOR_TEST_ENGINE").as_deref() == Ok("postgres")
}

/// A self-signed certificate for `127.0.0.1` and `localhost`, written into a test's folder.
pub struct TestCertificate {
    /// The certificate, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
    /// The certificate, DER: what a client trusts.
    pub der: Vec<u8>,
}

/// A new certificate and key, as PEM texts, and the certificate's DER.
pub fn certificate() -> (String, String, Vec<u8>) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("a certificate");
    (made.cert.pem(), made.signing_key.serialize_pem(), made.cert.der().to_vec())
}

/// Writes a certificate and key into `dir`; returns their paths.
pub fn write_pair(dir: &Path, cert: &str, key: &str) -> (PathBuf, PathBuf) {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    (cert_path, key_path)
}

/// A new [`TestCertificate`] in `dir`.
pub fn test_certificate(dir: &Path) -> TestCertificate {
    let (cert, key, der) = certificate();
    let (cert, key) = write_pair(dir, &cert, &key);
    TestCertificate { cert, key, der }
}

/// An HTTPS client that trusts only `der`, and answers every status as a response.
pub fn trusting(der: &[u8]) -> ureq::Agent {
    let root = ureq::tls::Certificate::from_der(der).to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![root])))
        .build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into()
}

/// Starts a virtual-clock emulator at [`T0`] on a fresh database.
pub fn start_virtual(name: &str) -> Emulator {
    if on_postgres() {
        let server = std::env::var("DATABASE_URL").expect("EMULATOR_TEST_ENGINE=postgres needs DATABASE_URL");
        return start_pg(
            &PgSchema::new(&server, name),
            &fresh_dir(name),
            &["--clock", "virtual", "--start", T0],
        );
    }
    start(&fresh_dir(name).join("db.sqlite3"), &["--clock", "virtual", "--start", T0])
}

/// An HTTP client that returns every status as a response.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// A job's ARM path.
pub fn job_path(rg: &str, name: &str) -> String {
    format!("/subscriptions/sub-1/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs/{name}")
}

/// The REST specification's CreateJob example body, with one drive (`9CA995BB`).
pub fn create_body() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/azure-rest-2021-01-01/CreateJob.json"
    ))
    .unwrap();
    let example: Value = serde_json::from_str(&text).unwrap();
    example["parameters"]["body"].clone()
}

/// The example's delivery package, for a ship.
pub fn ship_body() -> Value {
    serde_json::json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "FedEx", "trackingNumber": "123456789", "driveCount": 1, "shipDate": "2026-01-06"}}})
}

impl Emulator {
    /// Sends `method` to `path` (with the api-version added if it has no query) and `body`;
    /// returns the status and the JSON body (`Null` if empty).
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else if path.contains('?') || path.starts_with("/emulator") {
            format!("{}{path}", self.url)
        } else {
            format!("{}{path}?{V}", self.url)
        };
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        self.raw(method, &url, bytes.as_deref(), self.token.as_deref())
    }

    /// Sends raw bytes; returns the status and the JSON body (`Null` if empty).
    pub fn raw(&self, method: &str, url: &str, body: Option<&[u8]>, token: Option<&str>) -> (u16, Value) {
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        let request = request.body(body.map(<[u8]>::to_vec).unwrap_or_default()).unwrap();
        let mut response = self.agent.run(request).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// Moves the virtual clock; returns the answer.
    pub fn advance(&self, seconds: i64) -> Value {
        let (status, body) =
            self.call("POST", "/emulator/clock", Some(&serde_json::json!({"advanceSeconds": seconds})));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A datacenter operation.
    pub fn datacenter(&self, path: &str, op: Value) -> (u16, Value) {
        let mut op = op;
        op["path"] = Value::String(path.to_string());
        self.call("POST", "/emulator/datacenter", Some(&op))
    }

    /// Every row of the database, as text: what "nothing changed" compares.
    pub fn dump(&self) -> Vec<String> {
        match &self.schema {
            Some(schema) => dump_pg(schema),
            None => dump(&self.db),
        }
    }

    /// The process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Stops the process with SIGKILL (no cleanup at all).
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the process with SIGTERM and waits for it to exit; returns whether it exited 0.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return false };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        child.wait().map(|s| s.success()).unwrap_or(false)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Every row of the database at `db`, as text.
pub fn dump(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut out = Vec::new();
    for (table, order) in [
        ("jobs", "subscription, resource_group, name"),
        ("bitlocker_keys", "subscription, resource_group, name"),
        ("emulator", "key"),
    ] {
        let mut statement = conn.prepare(&format!("SELECT * FROM {table} ORDER BY {order}")).unwrap();
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                let mut line = format!("{table}:");
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i)?;
                    line.push_str(&format!(" {value:?}"));
                }
                Ok(line)
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

/// Every row of a PostgreSQL schema's tables, as text.
pub fn dump_pg(schema: &PgSchema) -> Vec<String> {
    let mut client = schema.client();
    let mut out = Vec::new();
    for (table, order) in [
        ("jobs", "subscription, resource_group, name"),
        ("bitlocker_keys", "subscription, resource_group, name"),
        ("emulator", "key"),
    ] {
        for row in client
            .query(&format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY {order}"), &[])
            .unwrap()
        {
            out.push(format!("{table}: {}", row.get::<_, String>(0)));
        }
    }
    out
}

/// Runs the binary with `args` until it exits (10 s at most); returns (exit code, stdout,
/// stderr).
pub fn run_to_exit(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_import-export-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the emulator starts");
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the emulator is still running after 10 s with {args:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
