//! `import-export-emulator`: a local Azure Import/Export service. It answers the ARM API over
//! HTTP with the `import_export_lifecycle` crate's pure functions, keeps one SQLite row per job
//! (committed before any answer is sent), and runs on the machine's clock or on a virtual one
//! that tests move. See `docs/emulator.md`.

#![forbid(unsafe_code)]

mod clock;
mod host;
mod http;
mod listen;
mod overview;
mod pg_store;
mod readers;
mod refusal;
mod store;
mod tls;
mod ui;
mod writer;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use import_export_lifecycle::arm;
use jiff::Timestamp;
use tokio::sync::watch;

use crate::clock::{Clock, Mode};
use crate::host::{Host, Shared};
use crate::http::App;
use crate::readers::Readers;
use crate::store::{Location, Owner};
use crate::writer::Writer;

/// A local Azure Import/Export emulator: the ARM API over HTTP, durable in SQLite, with a
/// clock tests can move.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port). Without --token, anyone who can reach
    /// it is let in: keep it on loopback.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: String,
    /// The SQLite file (created if absent), `:memory:` for a database that ends with the
    /// process, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (also `postgresql://`,
    /// with libpq parameters such as `?sslmode=disable`) for a PostgreSQL database that any
    /// number of emulators share. TLS to PostgreSQL is not offered: `sslmode=require` is refused.
    #[arg(long, default_value = "import-export-emulator.sqlite3")]
    db: String,
    /// `system`: the machine's clock. `virtual`: stands still until POST /emulator/clock moves it.
    #[arg(long, value_enum, default_value_t = Mode::System)]
    clock: Mode,
    /// Where a virtual clock starts (RFC 3339) on a new database (default: now). On a database
    /// that has a virtual time already, it may only move the clock forward.
    #[arg(long)]
    start: Option<Timestamp>,
    /// A bearer token every request must carry (`Authorization: Bearer TOKEN`).
    #[arg(long)]
    token: Option<String>,
    /// The locations jobs may be created in, replacing the built-in catalogue: a JSON file in
    /// the shape of List Locations' answer (`{"value": [Location, …]}`), read strictly at start.
    #[arg(long, value_name = "FILE")]
    locations: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (leaf first; needs --key).
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// The PEM private key of --cert's certificate (needs --cert).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// How long a client has to send a request's head (from connecting, TLS handshake included,
    /// or from the first byte of a kept-alive connection's next request), and then its body.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    header_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    idle_timeout: Duration,
    /// How many connections may be open at once. At the limit, the one waiting longest for a
    /// request is closed to make room for each new one.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
}

/// A duration flag: `10s`, `500ms`, `2m` (or ISO 8601, `PT10S`); more than zero.
fn duration(text: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration =
        text.parse().map_err(|e| format!("{e} (write e.g. 10s, 500ms, 2m)"))?;
    match Duration::try_from(parsed) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err("must be more than zero".into()),
    }
}

/// How many reader threads answer reads beside the writer.
const READERS: usize = 4;

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("import-export-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("import-export-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        (None, None) => None,
        (Some(_), None) => return Err("--cert needs --key".into()),
        (None, Some(_)) => return Err("--key needs --cert".into()),
    };
    let shared = Arc::new(shared(args.locations.as_deref())?);
    if pg_store::is_url(&args.db) {
        return serve_postgres(args, tls, shared).await;
    }
    let location = Location::parse(&args.db);
    let started = std::time::Instant::now();
    let in_db = |e: store::StoreError| format!("--db {}: {e}", args.db);
    // One process per file: the lock is taken before SQLite opens it, so a second emulator
    // changes nothing and exits here, before listening.
    let owner = match &location {
        Location::File(path) => Some(Arc::new(Owner::claim(path).map_err(in_db)?)),
        Location::Memory => None,
    };
    let conn = store::open_writer(&location).map_err(in_db)?;
    let stored_now =
        match store::get_setting(&conn, "virtualNow").map_err(in_db)? {
            Some(text) => Some(text.parse::<Timestamp>().map_err(|e| {
                format!("--db {}: emulator.virtualNow: {text:?} is not RFC 3339: {e}", args.db)
            })?),
            None => None,
        };
    let start = clock::start_at(args.clock, stored_now, args.start)?;
    let clock = Arc::new(Clock::new(args.clock, start));
    let (deadlines_tx, deadlines_rx) = watch::channel(None);
    let hooks = host::hooks(Arc::clone(&shared), deadlines_tx);
    let (writer, writer_thread) = Writer::start(conn, owner.clone(), Arc::clone(&clock), hooks);
    let readers = match &location {
        Location::File(path) => Some(Arc::new(Readers::start(path, READERS).map_err(in_db)?)),
        Location::Memory => None,
    };
    let host = Host::new(writer.clone(), readers.clone(), Arc::clone(&clock), shared);

    // Rebuild: fire every timer that came due while the emulator was down (each at its own
    // deadline), move a virtual clock to --start if asked, and remember the virtual time.
    let mode = args.clock;
    let move_to = args.start.filter(|s| stored_now.is_some_and(|stored| *s > stored));
    host.rebuild(move_to).await.map_err(in_db)?;
    tracing::info!("database ready in {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);

    let timers: Option<Timers> = match mode {
        Mode::System => Some(Box::pin(sleep_to_deadlines(writer.clone(), deadlines_rx))),
        Mode::Virtual => None,
    };
    listen_and_serve(&args, tls, host, timers).await?;
    tracing::info!("shutting down: in-flight requests are done, closing the database");
    // The readers close first, so that the writer's connection is the database's last: it
    // checkpoints the WAL into the main file and removes it, leaving one self-contained file.
    if let Some(readers) = readers {
        readers.stop();
    }
    drop(writer);
    writer_thread.join();
    // The lock's descriptor closes last, once SQLite has closed the file (see `store::Owner`).
    drop(owner);
    tracing::info!("database closed");
    Ok(())
}

/// The task that fires timers on the system clock, started once the emulator listens.
type Timers = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Listens, prints `listening on URL`, starts `timers`, and serves `host` until SIGTERM or
/// Ctrl-C and the requests in flight are done.
async fn listen_and_serve(
    args: &Args,
    tls: Option<tokio_rustls::TlsAcceptor>,
    host: Host,
    timers: Option<Timers>,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let address = listener.local_addr().map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base_url = format!("{scheme}://{address}");
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on {base_url}");
        let _ = stdout.flush();
    }
    let timers = timers.map(tokio::spawn);
    let app = Arc::new(App { host, token: args.token.clone(), base_url });
    let limits = listen::Limits {
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
    };
    listen::run(listener, tls, http::router(app), limits, shutdown_signal()).await;
    if let Some(task) = timers {
        task.abort();
        let _ = task.await;
    }
    Ok(())
}

/// `--db postgres://…`: the tables are made (or checked) in the database, the virtual clock
/// taken from it (or given to it), and this emulator serves beside any others on it.
/// What every request shares: the ARM layer's context, with `--locations`' catalogue if given.
fn shared(locations: Option<&std::path::Path>) -> Result<Shared, String> {
    let mut shared = Shared::default();
    if let Some(path) = locations {
        let named = |e: String| format!("--locations {}: {e}", path.display());
        let file = std::fs::File::open(path).map_err(|e| named(e.to_string()))?;
        let mut text = String::new();
        let limit = arm::MAX_CATALOGUE_BYTES as u64 + 1;
        std::io::Read::read_to_string(&mut std::io::Read::take(file, limit), &mut text)
            .map_err(|e| named(e.to_string()))?;
        shared.context.config.locations = arm::Catalogue::from_json(&text).map_err(named)?;
    }
    Ok(shared)
}

async fn serve_postgres(
    args: Args,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) -> Result<(), String> {
    let started = std::time::Instant::now();
    let shown = redacted(&args.db);
    let in_db = |e: store::StoreError| format!("--db {shown}: {e}");
    let pool = pg_store::pool(&args.db).map_err(|e| format!("--db {shown}: {e}"))?;
    pg_store::prepare(&pool).await.map_err(in_db)?;
    let clock = Arc::new(Clock::new(args.clock, args.start.unwrap_or_else(clock::system_now)));
    let pg = host::postgres::Pg::new(pool, clock, shared);
    pg.start(args.start).await.map_err(in_db)??;
    tracing::info!("database ready in {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    let timers: Option<Timers> = match args.clock {
        Mode::System => Some(Box::pin(pg.clone().run_timers())),
        Mode::Virtual => None,
    };
    listen_and_serve(&args, tls, Host::on_postgres(pg.clone()), timers).await?;
    tracing::info!("shutting down: in-flight requests are done, closing the database connections");
    pg.close();
    Ok(())
}

/// A database URL with its password (if any) replaced by `***`, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// In `system` mode: sleeps until the earliest deadline, then lets the writer fire what is due
/// (it sweeps before every group), and again.
async fn sleep_to_deadlines(writer: Writer, mut deadlines: watch::Receiver<Option<i64>>) {
    // How long to wait before retrying a deadline that did not move: doubled on each miss, so a
    // timer that cannot fire never wakes the writer in a tight loop.
    let mut retry = Duration::from_millis(10);
    loop {
        let next = *deadlines.borrow_and_update();
        match next {
            None => {
                if deadlines.changed().await.is_err() {
                    return;
                }
            }
            Some(ms) => {
                let now_ms = clock::system_now().as_millisecond();
                // The column rounds down: wake one millisecond after, when the exact deadline
                // has passed.
                let wait = Duration::from_millis(u64::try_from(ms + 1 - now_ms).unwrap_or(0));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {
                        if let Err(e) = writer.run(|_, _| Ok(())).await {
                            // Once the file is gone nothing commits again: the writer said so.
                            if writer.lost().is_some() {
                                return;
                            }
                            tracing::error!("firing due timers: {e}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        // A deadline that did not move (nothing fired) is not retried at once.
                        if *deadlines.borrow() == Some(ms) {
                            tokio::time::sleep(retry).await;
                            retry = (retry * 2).min(Duration::from_secs(5));
                        } else {
                            retry = Duration::from_millis(10);
                        }
                    }
                    changed = deadlines.changed() => {
                        if changed.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
