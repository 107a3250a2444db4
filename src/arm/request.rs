//! Requests and responses as data, and how a refusal reads on the wire.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::types::{ErrorBody, ErrorResponse};
use crate::model::error::{Error, ErrorKind};

/// An HTTP method of the ARM API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "UPPERCASE")]
#[strum(serialize_all = "UPPERCASE")]
pub enum Method {
    /// Read a job, or list jobs.
    Get,
    /// Create a job.
    Put,
    /// Update a job's properties (cancel, ship, addresses, …).
    Patch,
    /// Delete a job.
    Delete,
    /// An action: `listBitLockerKeys`.
    Post,
}

impl Method {
    /// The method whose HTTP name is `name` (exactly: HTTP methods are case-sensitive), if this
    /// API takes it.
    pub fn from_http(name: &str) -> Option<Method> {
        match name {
            "GET" => Some(Method::Get),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            "POST" => Some(Method::Post),
            _ => None,
        }
    }
}

/// A request, as data: method, ARM path (with its query), optional JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, e.g. `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/j`.
    pub path: String,
    /// The JSON body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// A response, as data: status code and JSON body (none for `DELETE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl Response {
    /// The error inside a refusal's body (empty for a success).
    pub fn error_body(&self) -> ErrorBody {
        self.body
            .as_ref()
            .and_then(|b| serde_json::from_value::<ErrorResponse>(b.clone()).ok())
            .map(|e| e.error)
            .unwrap_or_default()
    }
}

/// A refusal as data: the status, ARM's error code and the message. A host renders it (ARM's
/// error body is `{"error": {"code", "message"}}`, [`Refusal::response`]); nothing needs to
/// read a refusal back out of a body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Refusal {
    /// The HTTP status: 400, 404, 405, 409 or 500.
    pub status: u16,
    /// ARM's error code: the core error's `code()` (`CancelNotAllowed`, …), `InvalidRequest`,
    /// `NotFound`, `MissingApiVersionParameter`, `InvalidApiVersionParameter`, `InternalError`.
    pub code: String,
    /// What is wrong, in a sentence; for a malformed request it starts with the part
    /// (`properties.jobType: …`).
    pub message: String,
}

impl Refusal {
    /// The refusal as ARM answers it: its status and ARM's error body.
    pub fn response(&self) -> Response {
        let body = ErrorResponse { error: self.error_body() };
        Response { status: self.status, body: serde_json::to_value(body).ok() }
    }

    /// ARM's error object of the refusal: its code and message.
    pub fn error_body(&self) -> ErrorBody {
        ErrorBody {
            code: Some(self.code.clone()),
            message: Some(self.message.clone()),
            ..ErrorBody::default()
        }
    }
}

impl From<Refusal> for Response {
    fn from(refusal: Refusal) -> Response {
        refusal.response()
    }
}

/// A refusal with `status`, `code` and `message`.
pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Refusal {
    Refusal { status, code: code.into(), message: message.into() }
}

/// 400 `InvalidRequest`: the request itself is wrong; the message starts with the field.
pub(crate) fn invalid(message: impl Into<String>) -> Refusal {
    error(400, "InvalidRequest", message)
}

/// A core refusal as an ARM answer: 404 for an unknown job, 409 when the job's state refuses,
/// 400 when the request itself is wrong. The code is the core error's `code()`.
pub(crate) fn refusal(e: &Error) -> Refusal {
    let status = match e.kind() {
        ErrorKind::NotFound => 404,
        ErrorKind::Conflict => 409,
        ErrorKind::BadRequest => 400,
    };
    error(status, e.code(), e.to_string())
}
