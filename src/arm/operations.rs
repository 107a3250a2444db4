//! The provider's *Operations*: what a caller may be granted on `Microsoft.ImportExport`, as
//! `GET /providers/Microsoft.ImportExport/operations` lists it.
//!
//! The list is the service's own, as its REST specification's `ListOperations.json` example
//! (api-version 2021-01-01) answers it; role definitions and tools such as `az provider
//! operation show` read it.

/// The body of *List Operations*, as the service answers it.
const OPERATIONS: &str = include_str!("operations.json");

/// The body of *List Operations*: `{"value": [{"name", "display": {…}}, …]}`.
pub fn operations_body() -> serde_json::Value {
    // The embedded text is the specification's example, read back by this module's tests.
    serde_json::from_str(OPERATIONS).unwrap_or_else(|_| serde_json::json!({ "value": [] }))
}
