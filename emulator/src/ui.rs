//! The page for people: `GET /emulator/ui` shows every job the emulator holds, its stage
//! timeline and the clock, with buttons that move the virtual clock and run the datacenter's
//! steps. `/` redirects to it.
//!
//! The page is three files embedded in the binary (HTML, CSS, a little JavaScript): no build
//! step, nothing loaded from anywhere but the emulator, which the Content-Security-Policy says
//! to the browser. It holds no data: it reads `GET /emulator/jobs` and acts through
//! `POST /emulator/clock`, `POST /emulator/datacenter` and the ARM API, like any client. So it
//! is served without the token (it must be, to ask for it), while every request it makes
//! carries the token as `Authorization: Bearer` when the emulator has one. Every value from a
//! job is put on the page as text, never as markup.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::refusal::arm_error;

const PAGE: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/app.js");
const STYLE: &str = include_str!("ui/app.css");

/// What the browser may load and run for the page: its own script and style only, requests to
/// the emulator only, no inline script or style, no frames, no forms sent anywhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page's routes: `/`, `/emulator/ui` and its two files. They need no token.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let refuse_method = || async {
        arm_error(StatusCode::METHOD_NOT_ALLOWED, "InvalidRequest", "method not allowed on this path")
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/emulator/ui") }).fallback(refuse_method))
        .route(
            "/emulator/ui",
            get(|| async { asset("text/html; charset=utf-8", PAGE) }).fallback(refuse_method),
        )
        .route(
            "/emulator/ui/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }).fallback(refuse_method),
        )
        .route(
            "/emulator/ui/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }).fallback(refuse_method),
        )
}

/// One of the page's files, with the headers that keep the browser to it.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
