//! Which job or list a request names: the method, the path and the query, read in one order.

use super::{JobOperation, JobRequest, ListRequest, ListScope, ProviderRequest, Route};
use crate::arm::path::{self, Target};
use crate::arm::request::{Method, Refusal, Request, error};

/// Says what `request` names, or the refusal that answers it at once, as [`route_http`] does.
///
/// # Errors
///
/// See [`route_http`].
pub fn route(request: &Request) -> Result<Route, Refusal> {
    route_target(request.method, &request.path)
}

/// Says what a request names, from its HTTP method's name (`"GET"`, exactly as sent) and its
/// target (path and query, as sent): everything a host reads of a request before its body.
/// The method comes back as this layer's [`Method`].
///
/// # Errors
///
/// The refusal that answers the request, found in this order: the path's shape (404
/// `NotFound`), `api-version` (400 `MissingApiVersionParameter` or
/// `InvalidApiVersionParameter`), the other query parameters and the names (400
/// `InvalidRequest` naming the part), then the method (405 for one the path does not take).
pub fn route_http(method: &str, target: &str) -> Result<(Method, Route), Refusal> {
    let parsed = read_target(target)?;
    let method = Method::from_http(method).ok_or_else(|| not_allowed(method))?;
    Ok((method, to_route(method, parsed)?))
}

/// The path and query of a request, with its `api-version` required.
fn read_target(target: &str) -> Result<path::ArmPath, Refusal> {
    let parsed = path::parse(target).map_err(|e| e.refusal())?;
    if parsed.query.api_version.is_none() {
        return Err(path::PathError::MissingApiVersion.refusal());
    }
    Ok(parsed)
}

fn route_target(method: Method, target: &str) -> Result<Route, Refusal> {
    to_route(method, read_target(target)?)
}

fn not_allowed(method: impl std::fmt::Display) -> Refusal {
    error(405, "InvalidRequest", format!("method {method} is not allowed on this path"))
}

fn to_route(method: Method, parsed: path::ArmPath) -> Result<Route, Refusal> {
    let job = |scope, name, operation| Ok(Route::Job(JobRequest { scope, name, operation }));
    match (method, parsed.target) {
        (Method::Put, Target::Job { scope, name }) => job(scope, name, JobOperation::Create),
        (Method::Get, Target::Job { scope, name }) => job(scope, name, JobOperation::Get),
        (Method::Patch, Target::Job { scope, name }) => job(scope, name, JobOperation::Update),
        (Method::Delete, Target::Job { scope, name }) => job(scope, name, JobOperation::Delete),
        // The published SDKs send POST; the legacy JavaScript SDK (2016-11-01) sends GET.
        (Method::Post | Method::Get, Target::BitLockerKeys { scope, name }) => {
            job(scope, name, JobOperation::ListBitLockerKeys)
        }
        (Method::Get, Target::Locations) => Ok(Route::Provider(ProviderRequest::Locations)),
        (Method::Get, Target::Location { name }) => Ok(Route::Provider(ProviderRequest::Location(name))),
        (Method::Get, Target::Operations) => Ok(Route::Provider(ProviderRequest::Operations)),
        (Method::Get, Target::ResourceGroupJobs { scope }) => Ok(Route::List(ListRequest {
            scope: ListScope::ResourceGroup(scope),
            query: parsed.query,
            path: parsed.path,
        })),
        (Method::Get, Target::SubscriptionJobs { subscription }) => Ok(Route::List(ListRequest {
            scope: ListScope::Subscription(subscription),
            query: parsed.query,
            path: parsed.path,
        })),
        (method, _) => Err(not_allowed(method)),
    }
}
