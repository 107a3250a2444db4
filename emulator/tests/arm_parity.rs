//! The emulator answers ARM requests exactly as the ARM layer does (`--example arm` is that
//! layer over a file): the same tricky paths and queries, sent to both, get the same status and
//! the same error code. The emulator reads no ARM itself; this proves it on the cases where a
//! second reader would disagree: percent-encoded segments and parameter names, case, repeated
//! and unknown parameters, a missing or unpublished `api-version`, empty segments, foreign
//! providers, unknown methods.

mod common;

use common::{T0, create_body, start_virtual};
use import_export_lifecycle::arm::{Config, Method, Request, Service, route_http};
use import_export_lifecycle::{Policy, Timestamp};
use serde_json::{Value, json};

const JOBS: &str = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.ImportExport/jobs";

/// A request (method, path and query, body) and the status and code both must answer.
type Case = (&'static str, String, Option<Value>, (u16, Option<&'static str>));

/// Sends `target` exactly as written (no `api-version` added).
fn send(emu: &common::Emulator, method: &str, target: &str, body: Option<&Value>) -> (u16, Value) {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
    emu.raw(method, &format!("{}{target}", emu.url), bytes.as_deref(), None)
}

/// `status` and error `code` (if any) of an answer.
fn outcome(status: u16, body: &Value) -> (u16, Option<String>) {
    (status, body["error"]["code"].as_str().map(str::to_string))
}

#[test]
fn the_emulator_and_the_arm_layer_answer_tricky_requests_alike() {
    let emu = start_virtual("arm-parity");
    let at: Timestamp = T0.parse().unwrap();
    let mut layer = Service::new(Config::default(), Policy::default());
    let create = format!("{JOBS}/j?api-version=2021-01-01");
    assert_eq!(emu.call("PUT", &create, Some(&create_body())).0, 201);
    let put = Request { method: Method::Put, path: create, body: Some(create_body()) };
    assert_eq!(layer.handle(at, &put).answer.status, 201);

    let j = format!("{JOBS}/j");
    let v = "api-version=2021-01-01";
    // (method, path and query, body, the answer both must give)
    let cases: Vec<Case> = vec![
        ("GET", format!("{j}?{v}"), None, (200, None)),
        ("GET", format!("{j}?api%2Dversion=2021-01-01"), None, (200, None)),
        ("GET", format!("{j}?api%2dversion=2016-11-01"), None, (200, None)),
        ("GET", format!("{j}?API-VERSION=2020-08-01"), None, (200, None)),
        ("GET", format!("{j}?{v}&unknown=1&$filter=x"), None, (200, None)),
        ("GET", format!("{j}?&{v}&"), None, (200, None)),
        ("GET", j.clone(), None, (400, Some("MissingApiVersionParameter"))),
        ("GET", format!("{j}?unknown=2021-01-01"), None, (400, Some("MissingApiVersionParameter"))),
        ("GET", format!("{j}?api-version="), None, (400, Some("InvalidApiVersionParameter"))),
        ("GET", format!("{j}?api-version"), None, (400, Some("InvalidApiVersionParameter"))),
        ("GET", format!("{j}?api-version=2019-01-01"), None, (400, Some("InvalidApiVersionParameter"))),
        ("GET", format!("{j}?api-version=2021-01-01%20"), None, (400, Some("InvalidApiVersionParameter"))),
        ("GET", format!("{j}?{v}&{v}"), None, (400, Some("InvalidApiVersionParameter"))),
        ("GET", format!("{j}?{v}&API-Version=2016-11-01"), None, (400, Some("InvalidApiVersionParameter"))),
        ("GET", format!("{j}?{v}&api%2Dversion=2021-01-01"), None, (400, Some("InvalidApiVersionParameter"))),
        // Percent-encoded segments are read decoded; fixed segments match without case.
        (
            "GET",
            format!("/subscriptions/sub-1/resourceGroups/r%67/providers/Microsoft.ImportExport/jobs/%6A?{v}"),
            None,
            (200, None),
        ),
        (
            "GET",
            format!("/SUBSCRIPTIONS/SUB-1/RESOURCEGROUPS/RG/PROVIDERS/microsoft.importexport/JOBS/j?{v}"),
            None,
            (200, None),
        ),
        ("GET", format!("{j}/?{v}"), None, (200, None)),
        (
            "GET",
            format!("/subscriptions/sub-1/resourceGroups/r%2Fg/providers/Microsoft.ImportExport/jobs/j?{v}"),
            None,
            (400, Some("InvalidRequest")),
        ),
        (
            "GET",
            format!("/subscriptions/sub-1/resourceGroups/%FF/providers/Microsoft.ImportExport/jobs/j?{v}"),
            None,
            (400, Some("InvalidRequest")),
        ),
        ("GET", format!("{JOBS}/bad%20name?{v}"), None, (400, Some("InvalidRequest"))),
        ("GET", format!("{JOBS}/nobody?{v}"), None, (404, Some("JobNotFound"))),
        // Not an Import/Export path: 404, before the api-version is looked at.
        (
            "GET",
            format!("/subscriptions/sub-1/resourceGroups/rg//providers/Microsoft.ImportExport/jobs/j?{v}"),
            None,
            (404, Some("NotFound")),
        ),
        (
            "GET",
            "/subscriptions/sub-1/resourceGroups/rg//providers/Microsoft.ImportExport/jobs/j".into(),
            None,
            (404, Some("NotFound")),
        ),
        (
            "GET",
            format!("/subscriptions//resourceGroups/rg/providers/Microsoft.ImportExport/jobs/j?{v}"),
            None,
            (404, Some("NotFound")),
        ),
        (
            "GET",
            format!("/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Storage/jobs/j?{v}"),
            None,
            (404, Some("NotFound")),
        ),
        (
            "GET",
            "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Storage/jobs/j".into(),
            None,
            (404, Some("NotFound")),
        ),
        ("GET", format!("{j}/a/b?{v}"), None, (404, Some("NotFound"))),
        ("POST", format!("{j}/other?{v}"), None, (404, Some("NotFound"))),
        ("GET", format!("/nothing/here?{v}"), None, (404, Some("NotFound"))),
        // Lists and their parameters.
        ("GET", format!("{JOBS}?{v}&$top=1"), None, (200, None)),
        ("GET", format!("{JOBS}?{v}&%24TOP=1"), None, (200, None)),
        ("GET", format!("/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs?{v}"), None, (200, None)),
        ("GET", format!("{JOBS}?{v}&$top=0"), None, (400, Some("InvalidRequest"))),
        ("GET", format!("{JOBS}?{v}&$top=1&$Top=2"), None, (400, Some("InvalidRequest"))),
        ("GET", format!("{JOBS}?{v}&$skipToken=garbage"), None, (400, Some("InvalidRequest"))),
        ("GET", format!("{JOBS}?$top=1"), None, (400, Some("MissingApiVersionParameter"))),
        // Actions and methods.
        ("POST", format!("{j}/listBitLockerKeys?{v}"), None, (200, None)),
        ("POST", format!("{j}/LISTBITLOCKERKEYS?{v}"), None, (200, None)),
        ("DELETE", format!("{j}/listBitLockerKeys?{v}"), None, (405, Some("InvalidRequest"))),
        ("PUT", format!("{JOBS}?{v}"), Some(create_body()), (405, Some("InvalidRequest"))),
        ("POST", format!("{j}?{v}"), None, (405, Some("InvalidRequest"))),
        (
            "PATCH",
            format!("{j}?{v}"),
            Some(json!({"properties": {"cancelRequested": false}})),
            (400, Some("InvalidRequest")),
        ),
        (
            "PATCH",
            format!("{j}?{v}"),
            Some(json!({"properties": {"state": "Received"}})),
            (400, Some("InvalidRequest")),
        ),
        ("PUT", format!("{j}?{v}"), Some(create_body()), (200, None)),
        ("GET", format!("{j}/listBitLockerKeys?{v}"), None, (200, None)),
        // The provider's own resources, and $filter.
        ("GET", format!("/providers/Microsoft.ImportExport/locations?{v}"), None, (200, None)),
        ("GET", format!("/providers/microsoft.importexport/LOCATIONS/West%20US?{v}"), None, (200, None)),
        ("GET", format!("/providers/Microsoft.ImportExport/locations/westus?{v}"), None, (200, None)),
        (
            "GET",
            format!("/providers/Microsoft.ImportExport/locations/mars?{v}"),
            None,
            (404, Some("NotFound")),
        ),
        (
            "GET",
            format!("/providers/Microsoft.ImportExport/locations/westus/x?{v}"),
            None,
            (404, Some("NotFound")),
        ),
        (
            "GET",
            "/providers/Microsoft.ImportExport/locations".to_string(),
            None,
            (400, Some("MissingApiVersionParameter")),
        ),
        ("GET", format!("/providers/Microsoft.ImportExport/operations?{v}"), None, (200, None)),
        (
            "DELETE",
            format!("/providers/Microsoft.ImportExport/operations?{v}"),
            None,
            (405, Some("InvalidRequest")),
        ),
        ("GET", format!("/providers/Other.Provider/operations?{v}"), None, (404, Some("NotFound"))),
        ("GET", format!("{JOBS}?{v}&$filter=state%20eq%20%27Creating%27"), None, (200, None)),
        ("GET", format!("{JOBS}?{v}&$FILTER=jobType+eq+'Import'"), None, (200, None)),
        (
            "GET",
            format!("{JOBS}?{v}&$filter=state%20ne%20%27Creating%27"),
            None,
            (400, Some("InvalidRequest")),
        ),
        (
            "GET",
            format!("{JOBS}?{v}&$filter=name%20eq%20%27a%27&$filter=name%20eq%20%27b%27"),
            None,
            (400, Some("InvalidRequest")),
        ),
    ];
    for (method, target, body, expected) in &cases {
        let (status, answer) = send(&emu, method, target, body.as_ref());
        let emulator = outcome(status, &answer);
        let request =
            Request { method: Method::from_http(method).unwrap(), path: target.clone(), body: body.clone() };
        let response = layer.handle(at, &request).answer;
        let arm = outcome(response.status, response.body.as_ref().unwrap_or(&Value::Null));
        let expected = (expected.0, expected.1.map(str::to_string));
        assert_eq!(emulator, arm, "{method} {target}: the emulator and the ARM layer disagree ({answer})");
        assert_eq!(arm, expected, "{method} {target}");
    }
    // A method the ARM API does not use: the layer reads it too (405, after the path).
    for (method, target, expected) in [
        ("OPTIONS", format!("{j}?{v}"), (405, "InvalidRequest")),
        ("HEAD", format!("{JOBS}?{v}"), (405, "InvalidRequest")),
        ("OPTIONS", j.clone(), (400, "MissingApiVersionParameter")),
        ("OPTIONS", "/nothing".to_string(), (404, "NotFound")),
    ] {
        let refusal = route_http(method, &target).unwrap_err();
        assert_eq!((refusal.status, refusal.code.as_str()), expected, "{method} {target}");
        let (status, answer) = send(&emu, method, &target, None);
        if method == "HEAD" {
            assert_eq!(status, refusal.status, "{method} {target}");
        } else {
            assert_eq!(outcome(status, &answer), (refusal.status, Some(refusal.code)), "{method} {target}");
        }
    }
}
