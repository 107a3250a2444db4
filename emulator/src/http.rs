//! The HTTP face: ARM routes, the emulator's own routes (`/emulator/…`), bearer auth, limits,
//! and one log line per request.
//!
//! Every refusal, whatever its cause, answers with ARM's error body
//! `{"error": {"code", "message"}}`: 404 for a route the emulator does not serve, 413 for a body
//! over [`MAX_BODY`], 400 for a body that is not JSON or a missing or unsupported
//! `api-version`, 401 (`AuthenticationFailed`) without the bearer token when one is set. None of
//! them reaches the database.

// Handlers answer refusals as axum responses, early: the size of the `Err` does not matter here.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use import_export_lifecycle::arm::{self, Route};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::Mode;
use crate::host::{Host, Target};
use crate::refusal::{arm_error, store_error};

/// The largest request body accepted: 1 MiB.
pub const MAX_BODY: usize = 1 << 20;

/// What every handler shares.
pub struct App {
    /// The host: what answers, over the database.
    pub host: Host,
    /// The bearer token every request must carry, if set.
    pub token: Option<String>,
    /// `http://HOST:PORT`: the base of absolute `nextLink`s.
    pub base_url: String,
}

/// The router.
pub fn router(app: Arc<App>) -> Router {
    let refuse_method = || async {
        arm_error(StatusCode::METHOD_NOT_ALLOWED, "InvalidRequest", "method not allowed on this path")
    };
    Router::new()
        .route("/emulator/health", get(health).fallback(refuse_method))
        .route("/emulator/clock", get(get_clock).post(post_clock).fallback(refuse_method))
        .route("/emulator/datacenter", post(datacenter).fallback(refuse_method))
        .route("/emulator/jobs", get(jobs).fallback(refuse_method))
        .fallback(arm_route)
        .layer(middleware::from_fn_with_state(Arc::clone(&app), auth))
        // The page holds no data and must load to ask for the token: outside `auth`.
        .merge(crate::ui::router())
        .layer(middleware::from_fn(same_origin))
        .layer(middleware::from_fn(buffer))
        .layer(middleware::from_fn(log))
        .layer(middleware::from_fn(arm_headers))
        .with_state(app)
}

/// Refuses a request that changes something and that a browser sent from another page's origin
/// (403 `CrossOriginRequestRefused`): without `--token` a web page the user has open could
/// otherwise post to `/emulator/clock` or `/emulator/datacenter` (a plain-text `POST` needs no
/// preflight). Browsers name the page's origin in `Origin` on such requests; SDKs and `curl`
/// send none and are not affected, and the emulator's own page sends its own origin. Reads
/// change nothing and are let through.
async fn same_origin(request: Request, next: Next) -> Response {
    let reads = matches!(*request.method(), Method::GET | Method::HEAD);
    if let (false, Some(origin)) = (reads, request.headers().get(header::ORIGIN)) {
        let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        let own = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .is_some_and(|(_, authority)| host.is_some_and(|h| authority.eq_ignore_ascii_case(h)));
        if !own {
            return arm_error(
                StatusCode::FORBIDDEN,
                "CrossOriginRequestRefused",
                "a browser page of another origin may not change the emulator (its Origin is not this emulator's)",
            );
        }
    }
    next.run(request).await
}

/// ARM's headers on every answer, refusals included: a new `x-ms-request-id`, and
/// `x-ms-correlation-request-id`, the client's own when it sent one the emulator can echo (1 to
/// 64 letters, digits, `-`, `_`, `.` or `:`; a GUID is 36), else a new one. (`Accept-Language`
/// and `x-ms-client-tenant-id` are accepted and ignored, like every header no route reads.)
async fn arm_headers(request: Request, next: Next) -> Response {
    const CORRELATION: &str = "x-ms-correlation-request-id";
    let echoable = |v: &&HeaderValue| {
        (1..=64).contains(&v.len())
            && v.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    };
    let correlation = request.headers().get(CORRELATION).filter(echoable).cloned();
    let mut response = next.run(request).await;
    let new_id = || HeaderValue::from_str(&uuid::Uuid::new_v4().to_string());
    let headers = response.headers_mut();
    if let Ok(id) = new_id() {
        headers.insert("x-ms-request-id", id);
    }
    if let Some(id) = correlation.map_or_else(|| new_id().ok(), Some) {
        headers.insert(CORRELATION, id);
    }
    response
}

/// `GET /emulator/jobs`: every job the page draws (see [`crate::overview`]).
async fn jobs(State(app): State<Arc<App>>) -> Response {
    crate::overview::jobs(&app.host).await
}

/// One line per request: method, path, status, milliseconds. Never a body (keys travel there).
async fn log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(target: "requests", "{method} {path} {} {ms:.1}ms", response.status().as_u16());
    response
}

/// Reads the whole body (at most [`MAX_BODY`]: 413 beyond) before anything answers, so that a
/// refusal that does not need the body (401, 404, a bad `api-version`) still leaves the
/// connection clean for the client's next request on it.
async fn buffer(request: Request, next: Next) -> Response {
    let declared = declared_length(&request);
    let (parts, body) = request.into_parts();
    match read_body(body, declared).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(refusal) => refusal,
    }
}

/// Lets a request in if no token is set, or if it carries `Authorization: Bearer TOKEN`.
/// `GET /emulator/health` is always let in.
async fn auth(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let Some(token) = &app.token else { return next.run(request).await };
    if request.uri().path() == "/emulator/health" {
        return next.run(request).await;
    }
    let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
    if given.is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
        return next.run(request).await;
    }
    let mut response = arm_error(
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
        "Authentication failed: the request needs the header `Authorization: Bearer <token>` with the emulator's --token.",
    );
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// The credentials of an `Authorization` value in the `Bearer` scheme, whose name is matched
/// without regard to case (RFC 7235, section 2.1): `Bearer`, `bearer`, `BEARER`.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| credentials.trim_start_matches(' '))
}

/// Compares two secrets in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads the body, at most [`MAX_BODY`] bytes: 413 beyond.
async fn read_body(body: Body, declared: Option<usize>) -> Result<Bytes, Response> {
    let too_large = || {
        arm_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("body: more than {MAX_BODY} bytes (1 MiB)"),
        )
    };
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| too_large())
}

/// Parses a JSON body; an empty body is `None`.
fn parse_json(bytes: &[u8]) -> Result<Option<Value>, Response> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    strict_json(bytes)
        .map(Some)
        .map_err(|e| arm_error(StatusCode::BAD_REQUEST, "InvalidRequest", format!("body: {e}")))
}

/// Reads a body as JSON with the crate's strict reader: a key given twice in one object is
/// refused (a plain `serde_json::Value` would keep the last one, so `{"cancelRequested": false,
/// "cancelRequested": true}` would cancel), and so is text that is not UTF-8.
fn strict_json(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    import_export_lifecycle::strict::value_from_json(text).map_err(|e| format!("not JSON: {e}"))
}

fn declared_length(request: &Request) -> Option<usize> {
    request.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// `GET /emulator/health`: 200 `ok`, or `degraded` with the rows found damaged; 503 once the
/// database file is gone and writes are refused.
async fn health(State(app): State<Arc<App>>) -> Response {
    let now = match app.host.shared_now().await {
        Ok(now) => now,
        Err(e) => return store_error(e),
    };
    let (damaged, lost) = app.host.health();
    let status = if lost.is_some() || !damaged.is_empty() { "degraded" } else { "ok" };
    let mut body = json!({"status": status, "now": now.to_string(), "mode": app.host.mode()});
    if !damaged.is_empty() {
        body["damagedRows"] = Value::Array(damaged);
    }
    match lost {
        Some(why) => {
            body["writesRefused"] = Value::String(why);
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
        None => axum::Json(body).into_response(),
    }
}

async fn get_clock(State(app): State<Arc<App>>) -> Response {
    match app.host.shared_now().await {
        Ok(now) => axum::Json(json!({"now": now.to_string(), "mode": app.host.mode()})).into_response(),
        Err(e) => store_error(e),
    }
}

/// `POST /emulator/clock`: `{"advanceSeconds": N}` or `{"set": RFC3339}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockMove {
    advance_seconds: Option<i64>,
    set: Option<Timestamp>,
}

async fn post_clock(State(app): State<Arc<App>>, request: Request) -> Response {
    if app.host.mode() == Mode::System {
        return arm_error(
            StatusCode::CONFLICT,
            "ClockNotVirtual",
            "the emulator runs on the system clock; start it with --clock virtual to move time",
        );
    }
    let declared = declared_length(&request);
    let bytes = match read_body(request.into_body(), declared).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let bad = |m: String| arm_error(StatusCode::BAD_REQUEST, "InvalidRequest", m);
    let moved: ClockMove = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return bad(format!("body: {e}; expected {{\"advanceSeconds\": N}} or {{\"set\": RFC3339}}"));
        }
    };
    let target = match (moved.advance_seconds, moved.set) {
        (Some(n), None) if n < 0 => return bad(format!("advanceSeconds: {n}; the clock only moves forward")),
        (Some(n), None) => Target::Advance(SignedDuration::from_secs(n)),
        (None, Some(t)) => Target::Set(t),
        (Some(_), Some(_)) | (None, None) => {
            return bad("body: give exactly one of advanceSeconds and set".into());
        }
    };
    match app.host.move_clock(target).await {
        Ok(Ok(moved)) => axum::Json(json!({
            "now": moved.now.to_string(),
            "mode": Mode::Virtual,
            "fired": moved.fired,
            "firedCount": moved.count,
            "firedTruncated": moved.count > moved.fired.len(),
        }))
        .into_response(),
        Ok(Err(message)) => bad(message),
        Err(e) => store_error(e),
    }
}

/// `POST /emulator/datacenter`: `{"path": ".../jobs/{name}", "op": ..., ...}`.
async fn datacenter(State(app): State<Arc<App>>, request: Request) -> Response {
    let declared = declared_length(&request);
    let bytes = match read_body(request.into_body(), declared).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let refused = |status: StatusCode, code: &str, message: String| {
        (status, axum::Json(json!({"ok": false, "error": {"code": code, "message": message}})))
            .into_response()
    };
    let value = match strict_json(&bytes) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => return refused(StatusCode::BAD_REQUEST, "InvalidRequest", "body: a JSON object".into()),
        Err(e) => return refused(StatusCode::BAD_REQUEST, "InvalidRequest", format!("body: {e}")),
    };
    let mut fields = value;
    if fields.contains_key("at") {
        return refused(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "at: the emulator's clock says when; move it with POST /emulator/clock".into(),
        );
    }
    let path = match fields.remove("path") {
        Some(Value::String(path)) => path,
        Some(_) => return refused(StatusCode::BAD_REQUEST, "InvalidRequest", "path: a string".into()),
        None => return refused(StatusCode::BAD_REQUEST, "InvalidRequest", "path: missing".into()),
    };
    let (scope, command) = match arm::datacenter_command(&path, &Value::Object(fields)) {
        Ok(parsed) => parsed,
        Err(refusal) => return datacenter_refusal(&refusal),
    };
    match app.host.datacenter(scope, command).await {
        Ok(Ok(())) => axum::Json(json!({"ok": true})).into_response(),
        Ok(Err(refusal)) => datacenter_refusal(&refusal),
        Err(e) => store_error(e),
    }
}

/// A refused datacenter operation: the ARM layer's status (404, 409, 400, 500) with
/// `{"ok": false, "error": {"code", "message"}}`.
fn datacenter_refusal(refusal: &arm::Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"ok": false, "error": {"code": refusal.code, "message": refusal.message}});
    (status, axum::Json(body)).into_response()
}

/// An ARM refusal on the wire: its status and ARM's error body.
fn arm_refusal(refusal: &arm::Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    arm_error(status, &refusal.code, refusal.message.clone())
}

/// Every route that is not the emulator's own: the ARM layer reads the method, the path and
/// the query ([`arm::route_http`]: 404 for a path of no Import/Export resource, 400 for a
/// missing or unpublished `api-version` or a malformed name, 405 for a method the path does
/// not take); then the body is read and the request answered.
async fn arm_route(State(app): State<Arc<App>>, request: Request) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_string(), |p| p.as_str().to_string());
    let route = match arm::route_http(request.method().as_str(), &target) {
        Ok((_, route)) => route,
        Err(refusal) => return arm_refusal(&refusal),
    };
    let declared = declared_length(&request);
    let bytes = match read_body(request.into_body(), declared).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let body = match parse_json(&bytes) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let answer = match route {
        Route::Job(job) => app.host.job(job, body).await,
        Route::List(list) => app.host.list(list).await,
        Route::Provider(provider) => Ok(app.host.provider(&provider)),
    };
    match answer {
        Ok(response) => to_http(&app, response),
        Err(e) => store_error(e),
    }
}

/// An ARM answer on the wire. A `nextLink` becomes an absolute URL on this emulator.
fn to_http(app: &App, response: arm::Response) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match response.body {
        None => status.into_response(),
        Some(mut body) => {
            if let Some(Value::String(link)) = body.get_mut("nextLink")
                && link.starts_with('/')
            {
                *link = format!("{}{link}", app.base_url);
            }
            (status, axum::Json(body)).into_response()
        }
    }
}
