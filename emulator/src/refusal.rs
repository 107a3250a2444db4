//! How the HTTP face renders a refusal: ARM's error body, and a database error as 500 or 503.
//! Every handler module uses it; it uses none of them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// An ARM error body with `status`.
pub fn arm_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": {"code": code, "message": message.into()}}))).into_response()
}

/// A database error, logged: 503 `ServiceUnavailable` when the emulator cannot take writes for
/// now (the disk is full, the file is gone, the writer stopped), 500 `InternalError` otherwise
/// (a damaged row, SQLite refused); the message names the place.
pub fn store_error(e: StoreError) -> Response {
    tracing::error!("{e}");
    match e {
        StoreError::Unavailable(m) => arm_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", m),
        StoreError::Sqlite(_) | StoreError::Damaged(_) | StoreError::Postgres(_) => {
            arm_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", e.to_string())
        }
    }
}
