//! Accepting connections: plain TCP or TLS, each served with HTTP/1.1 by hyper, under three
//! bounds that keep any local client from holding the emulator (`docs/emulator.md`,
//! "Connections"):
//!
//! - **header timeout**: a new connection has this long from its accept to deliver a whole
//!   request head (the TLS handshake included); a kept-alive one, from the first byte of its
//!   next request. Its body must then arrive within the same time. Trickling bytes does not
//!   extend it.
//! - **idle timeout**: a kept-alive connection waiting for its next request is closed after this
//!   long.
//! - **connection limit**: at most this many connections are open. When a new one arrives at the
//!   limit, the connection that has been *waiting* longest (silent, kept alive between requests,
//!   or still sending its request head: nothing in flight) is closed to make room, as nginx
//!   reuses its idle keep-alive connections; only when every open connection has a request in
//!   flight does accepting pause until one finishes. So `/emulator/health` answers at the limit,
//!   and idle clients never exhaust the process's descriptors (if the descriptor limit comes
//!   first, the same closing makes room).
//!
//! At shutdown the listener closes, waiting connections close at once, and every request in
//! flight is answered before [`run`] returns.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower_service::Service as _;

/// The bounds on connections.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a client has to send a request head (and then its body).
    pub header_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How many connections may be open at once (at least 1).
    pub max_connections: usize,
}

/// Serves `router` on `listener` (over TLS with `tls`) under `limits` until `shutdown`
/// completes, then lets every request in flight finish.
pub async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a clone; `recv` answers `None` when the last one has ended.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warnings = Warnings::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if is_out_of_descriptors(&e) => {
                // The process's descriptor limit came before --max-connections: make room as at
                // the limit, and try again.
                if warnings.due(Warning::Descriptors) {
                    tracing::warn!("accepting: {e}; closing the longest-waiting connection for each new one");
                }
                registry.evict_oldest_waiting();
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Err(e) => {
                if warnings.due(Warning::Accept) {
                    tracing::warn!("accepting: {e}");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = loop {
            match registry.admit(limits.max_connections) {
                Admission::Admitted { conn, evicted } => {
                    if evicted && warnings.due(Warning::Limit) {
                        tracing::warn!(
                            "{} connections open (--max-connections): closing the longest-waiting one for each new one",
                            limits.max_connections
                        );
                    }
                    break Some(conn);
                }
                Admission::Full => {
                    tokio::select! {
                        () = registry.freed.notified() => {}
                        () = &mut shutdown => break None,
                    }
                }
            }
        };
        let Some(conn) = conn else { break };
        let task = Task {
            conn,
            registry: Arc::clone(&registry),
            limits,
            stop: stop_rx.clone(),
            _alive: alive_tx.clone(),
        };
        tokio::spawn(task.serve(stream, tls.clone(), router.clone()));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(alive_tx);
    let _ = alive_rx.recv().await;
}

/// What the accept loop warns about: each at most once a minute, however often it happens.
#[derive(Clone, Copy)]
enum Warning {
    Limit,
    Descriptors,
    Accept,
}

#[derive(Default)]
struct Warnings([Option<Instant>; 3]);

impl Warnings {
    /// Whether `warning` is to be logged now (and then not for a minute).
    fn due(&mut self, warning: Warning) -> bool {
        let last = &mut self.0[warning as usize];
        let due = last.is_none_or(|at| at.elapsed() >= Duration::from_secs(60));
        if due {
            *last = Some(Instant::now());
        }
        due
    }
}

/// EMFILE or ENFILE (the same numbers on Linux and macOS).
fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

/// Where a connection is in its life, and since when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request head: a new connection, or bytes of the next request have come.
    Head,
    /// Kept alive between requests, nothing of the next one yet.
    Idle,
    /// A request's head is in, its body is still arriving.
    Body,
    /// A request is being answered.
    Busy,
}

/// One open connection, as the accept loop and its own task see it.
struct Conn {
    id: u64,
    state: Mutex<(Phase, Instant)>,
    /// Woken when the phase changes (its deadline moves).
    changed: Notify,
    /// Woken to close the connection and make room for a new one.
    evict: Notify,
}

impl Conn {
    fn phase(&self) -> (Phase, Instant) {
        *self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, from: &[Phase], to: Phase) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if from.contains(&state.0) {
            *state = (to, Instant::now());
            self.changed.notify_one();
        }
    }

    /// Whether nothing is in flight: it may be closed to make room, or at shutdown.
    fn is_waiting(&self) -> bool {
        matches!(self.phase().0, Phase::Head | Phase::Idle)
    }

    /// When it is closed if nothing happens (none while a request is answered).
    fn deadline(&self, limits: Limits) -> Option<Instant> {
        let (phase, since) = self.phase();
        match phase {
            Phase::Head | Phase::Body => Some(since + limits.header_timeout),
            Phase::Idle => Some(since + limits.idle_timeout),
            Phase::Busy => None,
        }
    }
}

/// The open connections.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// Woken when a connection ends.
    freed: Notify,
}

enum Admission {
    Admitted { conn: Arc<Conn>, evicted: bool },
    Full,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a new connection, closing the longest-waiting one if `max` are open.
    fn admit(&self, max: usize) -> Admission {
        let mut conns = self.lock();
        let evicted = conns.len() >= max;
        if evicted && !Self::evict_from(&mut conns) {
            return Admission::Full;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            state: Mutex::new((Phase::Head, Instant::now())),
            changed: Notify::new(),
            evict: Notify::new(),
        });
        conns.insert(id, Arc::clone(&conn));
        Admission::Admitted { conn, evicted }
    }

    fn evict_oldest_waiting(&self) {
        Self::evict_from(&mut self.lock());
    }

    /// Closes the connection that has waited longest; false if every one has a request in
    /// flight.
    fn evict_from(conns: &mut HashMap<u64, Arc<Conn>>) -> bool {
        let oldest = conns
            .values()
            .filter_map(|c| match c.phase() {
                (Phase::Head | Phase::Idle, since) => Some((since, c.id)),
                (Phase::Body | Phase::Busy, _) => None,
            })
            .min();
        let Some((_, id)) = oldest else { return false };
        if let Some(conn) = conns.remove(&id) {
            conn.evict.notify_one();
        }
        true
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
        self.freed.notify_one();
    }
}

/// A connection's task.
struct Task {
    conn: Arc<Conn>,
    registry: Arc<Registry>,
    limits: Limits,
    stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
}

/// Why a connection stops before hyper is done with it.
enum Cut {
    /// Its deadline passed.
    Timeout(Phase),
    /// Closed to make room for a new one.
    Evicted,
    /// Shutting down while it waits.
    Stopped,
}

impl Task {
    async fn serve(mut self, stream: TcpStream, tls: Option<TlsAcceptor>, router: Router) {
        match tls {
            None => self.http(stream, router).await,
            Some(acceptor) => {
                let handshake = {
                    let accept = acceptor.accept(stream);
                    tokio::select! {
                        shaken = accept => Ok(shaken),
                        cut = cut(&self.conn, self.limits, &mut self.stop) => Err(cut),
                    }
                };
                match handshake {
                    Ok(Ok(stream)) => self.http(stream, router).await,
                    Ok(Err(e)) => tracing::debug!("TLS handshake: {e}"),
                    Err(cut) => self.log(&cut),
                }
            }
        }
        self.registry.remove(self.conn.id);
    }

    /// Serves HTTP/1.1 on `io` until the client or a bound closes it.
    async fn http<I>(&mut self, io: I, router: Router)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let conn = Arc::clone(&conn);
            let mut router = router.clone();
            let empty = request.body().is_end_stream();
            conn.set(&[Phase::Head, Phase::Idle], if empty { Phase::Busy } else { Phase::Body });
            let request = request.map(|body| Watched { inner: body, conn: Some(Arc::clone(&conn)) });
            async move {
                let response = router.call(request).await;
                conn.set(&[Phase::Body, Phase::Busy], Phase::Idle);
                response
            }
        });
        let io = TokioIo::new(Reads { inner: io, conn: Arc::clone(&self.conn) });
        let connection = hyper::server::conn::http1::Builder::new()
            // This module keeps the time: hyper's own header timer would also close kept-alive
            // connections after the header timeout instead of the idle one.
            .header_read_timeout(None)
            .serve_connection(io, service);
        let mut connection = std::pin::pin!(connection);
        let mut stopping = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!("connection: {e}");
                    }
                    return;
                }
                cut = cut(&self.conn, self.limits, &mut self.stop), if !stopping => match cut {
                    Cut::Stopped if !self.conn.is_waiting() => {
                        // The request in flight is answered, then the connection closes.
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    other => {
                        self.log(&other);
                        return;
                    }
                },
                () = timeout(&self.conn, self.limits), if stopping => {
                    self.log(&Cut::Timeout(self.conn.phase().0));
                    return;
                }
            }
        }
    }

    fn log(&self, cut: &Cut) {
        match cut {
            Cut::Timeout(Phase::Head) => {
                tracing::debug!("closing a connection: no whole request head within the header timeout")
            }
            Cut::Timeout(Phase::Body) => {
                tracing::debug!("closing a connection: no whole request body within the header timeout")
            }
            Cut::Timeout(Phase::Idle | Phase::Busy) => tracing::debug!("closing a connection: idle timeout"),
            Cut::Evicted => tracing::debug!("closing a waiting connection: the connection limit is reached"),
            Cut::Stopped => {}
        }
    }
}

/// Completes when the connection must be cut: its deadline passed, it is to make room, or the
/// emulator stops.
async fn cut(conn: &Conn, limits: Limits, stop: &mut watch::Receiver<bool>) -> Cut {
    tokio::select! {
        () = timeout(conn, limits) => Cut::Timeout(conn.phase().0),
        () = conn.evict.notified() => Cut::Evicted,
        _ = stop.wait_for(|stop| *stop) => Cut::Stopped,
    }
}

/// Completes when the connection's deadline has passed.
async fn timeout(conn: &Conn, limits: Limits) {
    loop {
        let wake = match conn.deadline(limits) {
            Some(deadline) if deadline <= Instant::now() => return,
            Some(deadline) => deadline,
            // In flight: look again when it could have become idle and timed out.
            None => Instant::now() + limits.idle_timeout,
        };
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            () = conn.changed.notified() => {}
        }
    }
}

/// A connection's bytes, telling its [`Conn`] when the next request starts to arrive.
struct Reads<I> {
    inner: I,
    conn: Arc<Conn>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Reads<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.set(&[Phase::Idle], Phase::Head);
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Reads<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A request body, telling its [`Conn`] when it has all arrived (or was given up).
struct Watched {
    inner: Incoming,
    conn: Option<Arc<Conn>>,
}

impl Watched {
    fn done(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.set(&[Phase::Body], Phase::Busy);
        }
    }
}

impl Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) || self.inner.is_end_stream() {
            self.done();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.done();
    }
}
