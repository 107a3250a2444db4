//! The ARM layer: the service's fixtures, each operation in each state, the sample
//! script, and properties over arbitrary requests.

use import_export_lifecycle::arm::types::{JobResponse, PutJobParameters, UpdateJobParameters};
use import_export_lifecycle::arm::{
    Caller, Catalogue, Config, Method, Request, Response, Service, run_script,
};
use import_export_lifecycle::{FORMAT_VERSION, Policy, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/azure-rest-2021-01-01");
const SUB: &str = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

fn fixture(name: &str) -> Value {
    let path = format!("{FIXTURES}/{name}");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn path(group: &str, job: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.ImportExport/jobs/{job}?api-version=2021-01-01"
    )
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The service as the fixtures' datacenter and caller describe it.
/// `path` with an `api-version`, which every ARM request carries, unless it names one already.
fn with_version(path: &str) -> String {
    let lower = path.to_ascii_lowercase();
    if lower.contains("api-version") || lower.contains("api%2dversion") {
        path.to_string()
    } else if path.contains('?') {
        format!("{path}&api-version=2021-01-01")
    } else {
        format!("{path}?api-version=2021-01-01")
    }
}

/// A request whose path carries an `api-version` (see [`with_version`]).
fn req(method: Method, path: &str, body: Option<Value>) -> Request {
    Request { method, path: with_version(path), body }
}

fn service() -> Service {
    let created = fixture("CreateJob.json");
    let shipping = created["responses"]["201"]["body"]["properties"]["shippingInformation"].clone();
    let config = Config {
        locations: west_us_shipping_to(&shipping),
        caller: Some(Caller { name: "string".into(), kind: "application".into() }),
        ..Config::default()
    };
    Service::new(config, Policy::default())
}

/// A catalogue of one location, West US, whose address is `shipping` (the specification's job
/// examples show West US's with another phone number than its location example).
fn west_us_shipping_to(shipping: &Value) -> Catalogue {
    let mut properties = shipping.clone();
    let extra = properties.as_object_mut().unwrap().remove("additionalInformation").unwrap();
    properties["additionalShippingInformation"] = extra;
    properties["supportedCarriers"] = json!(["FedEx"]);
    let west = json!({"id": "/providers/Microsoft.ImportExport/locations/westus", "name": "West US",
                      "type": "Microsoft.ImportExport/locations", "properties": properties});
    Catalogue::from_json(&json!({ "value": [west] }).to_string()).unwrap()
}

fn send(service: &mut Service, when: &str, method: Method, path: &str, body: Option<Value>) -> Response {
    service.handle(at(when), &req(method, path, body)).answer
}

fn without_timestamps(mut body: Value) -> Value {
    if let Some(system) = body.get_mut("systemData").and_then(Value::as_object_mut) {
        system.remove("createdAt");
        system.remove("lastModifiedAt");
    }
    body
}

#[test]
fn arm_every_fixture_parses_and_round_trips() {
    for name in ["CreateJob.json", "GetExportJob.json", "DeleteJob.json"] {
        let f = fixture(name);
        if let Some(body) = f["parameters"].get("body") {
            let put: PutJobParameters = serde_json::from_value(body.clone()).unwrap();
            assert_eq!(serde_json::to_value(&put).unwrap(), *body, "{name}: request body");
        }
        for (status, response) in f["responses"].as_object().unwrap() {
            if let Some(body) = response.get("body") {
                let job: JobResponse = serde_json::from_value(body.clone()).unwrap();
                assert_eq!(serde_json::to_value(&job).unwrap(), *body, "{name}: {status} body");
            }
        }
    }
}

#[test]
fn arm_create_job_answers_the_fixtures_response_field_for_field() {
    let f = fixture("CreateJob.json");
    let mut service = service();
    let response = send(
        &mut service,
        "2026-01-05T09:00:00Z",
        Method::Put,
        &path("myResourceGroup", "myJob"),
        Some(f["parameters"]["body"].clone()),
    );
    assert_eq!(response.status, 201);
    let expected = without_timestamps(f["responses"]["201"]["body"].clone());
    assert_eq!(without_timestamps(response.body.unwrap()), expected);
    // GET answers the same.
    let got =
        send(&mut service, "2026-01-05T09:01:00Z", Method::Get, &path("myResourceGroup", "myJob"), None);
    assert_eq!((got.status, without_timestamps(got.body.unwrap())), (200, expected));
}

#[test]
fn arm_bitlocker_keys_only_from_their_action() {
    let f = fixture("CreateJob.json");
    let mut service = service();
    let created = send(
        &mut service,
        "2026-01-05T09:00:00Z",
        Method::Put,
        &path("g", "j"),
        Some(f["parameters"]["body"].clone()),
    );
    assert!(!created.body.unwrap().to_string().contains("bitLockerKey"));
    let keys = send(
        &mut service,
        "2026-01-05T09:00:00Z",
        Method::Post,
        &format!(
            "/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.ImportExport/jobs/j/listBitLockerKeys"
        ),
        None,
    );
    assert_eq!(
        keys.body.unwrap()["value"][0]["bitLockerKey"],
        f["parameters"]["body"]["properties"]["driveList"][0]["bitLockerKey"]
    );
}

#[test]
fn arm_delete_answers_200_without_body_like_the_fixture() {
    let f = fixture("CreateJob.json");
    let mut service = service();
    send(
        &mut service,
        "2026-01-05T09:00:00Z",
        Method::Put,
        &path("myResourceGroup", "myJob"),
        Some(f["parameters"]["body"].clone()),
    );
    let deleted =
        send(&mut service, "2026-01-05T10:00:00Z", Method::Delete, &path("myResourceGroup", "myJob"), None);
    assert_eq!(deleted, Response { status: 200, body: None });
    assert_eq!(fixture("DeleteJob.json")["responses"]["200"], json!({}));
    let again =
        send(&mut service, "2026-01-05T10:00:01Z", Method::Get, &path("myResourceGroup", "myJob"), None);
    assert_eq!(again.status, 404);
    assert_eq!(again.body.unwrap()["error"]["code"], "JobNotFound");
}

#[test]
fn arm_same_name_in_two_resource_groups_is_two_jobs() {
    let f = fixture("CreateJob.json");
    let body = f["parameters"]["body"].clone();
    let mut service = service();
    assert_eq!(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("a", "job"), Some(body.clone())).status,
        201
    );
    assert_eq!(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("b", "job"), Some(body.clone())).status,
        201
    );
    // The same PUT again is ARM's create-or-update of the same job: 200 (R-PUT-1).
    assert_eq!(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("a", "job"), Some(body)).status,
        200
    );
    let cancel = json!({"properties": {"cancelRequested": true}});
    let cancelled =
        send(&mut service, "2026-01-05T10:00:00Z", Method::Patch, &path("a", "job"), Some(cancel));
    assert_eq!(cancelled.body.unwrap()["properties"]["state"], "Completed");
    let other = send(&mut service, "2026-01-05T10:00:00Z", Method::Get, &path("b", "job"), None);
    assert_eq!(other.body.unwrap()["properties"]["state"], "Creating");
    let list = send(
        &mut service,
        "2026-01-05T10:00:00Z",
        Method::Get,
        &format!("/subscriptions/{SUB}/providers/Microsoft.ImportExport/jobs?$top=1"),
        None,
    );
    assert_eq!(list.body.unwrap()["value"].as_array().unwrap().len(), 1);
}

#[test]
fn arm_malformed_requests_answer_400_naming_the_field() {
    let mut service = service();
    let cases = [
        (
            Method::Put,
            path("g", "j"),
            Some(json!({"location": "West US", "properties": {"jobType": 5}})),
            "properties.jobType",
        ),
        (Method::Put, path("g", "j"), Some(json!({"properties": {"jobType": "Import"}})), "location"),
        (
            Method::Put,
            path("g", "j"),
            Some(
                json!({"location": "x", "properties": {"jobType": "Import", "driveList": [{"driveId": ""}]}}),
            ),
            "properties.driveList[0].driveId",
        ),
        (
            Method::Put,
            path("g", "j"),
            Some(json!({"location": "x", "properties": {"jobType": "Sideways"}})),
            "properties.jobType",
        ),
        (Method::Put, path("g", "bad name"), Some(json!({})), "path"),
        (
            Method::Get,
            format!("/subscriptions/{SUB}/providers/Microsoft.ImportExport/jobs?$top=0"),
            None,
            "$top",
        ),
    ];
    for (method, p, body, field) in cases {
        let response = send(&mut service, "2026-01-05T09:00:00Z", method, &p, body);
        assert_eq!(response.status, 400, "{p}");
        let message = response.body.unwrap()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(field), "{message:?} names {field}");
    }
    // A path of no Import/Export resource is no route at all: 404.
    assert_not_import_export(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Get, "/nonsense", None),
        "/nonsense",
    );
}

/// PATCH semantics, one state at a time: what each update does, as status and code.
#[test]
fn arm_each_operation_in_each_state() {
    let f = fixture("CreateJob.json");
    let body = f["parameters"]["body"].clone();
    let drive = "9CA995BB";
    let package = json!({"carrierName": "FedEx", "trackingNumber": "1"});
    // How to bring a fresh job to each state: datacenter steps after the create.
    let states: [(&str, &[Value]); 7] = [
        ("Creating", &[]),
        ("Shipping", &[json!({"ship": true})]),
        ("Received", &[json!({"ship": true}), json!({"op": "packageReceived", "drives": [drive]})]),
        (
            "Transferring",
            &[
                json!({"ship": true}),
                json!({"op": "packageReceived", "drives": [drive]}),
                json!({"op": "startTransfer", "drive": drive}),
            ],
        ),
        (
            "Packaging",
            &[
                json!({"ship": true}),
                json!({"op": "packageReceived", "drives": [drive]}),
                json!({"op": "startTransfer", "drive": drive}),
                json!({"op": "finishTransfer", "drive": drive, "result": "Completed"}),
            ],
        ),
        (
            "Completed",
            &[
                json!({"ship": true}),
                json!({"op": "packageReceived", "drives": [drive]}),
                json!({"op": "startTransfer", "drive": drive}),
                json!({"op": "finishTransfer", "drive": drive, "result": "Completed"}),
                json!({"op": "shipBack"}),
            ],
        ),
        (
            "Closed",
            &[
                json!({"ship": true}),
                json!({"op": "packageReceived", "drives": [drive]}),
                json!({"op": "startTransfer", "drive": drive}),
                json!({"op": "finishTransfer", "drive": drive, "result": "CompletedMoreInfo"}),
                json!({"op": "shipBack"}),
            ],
        ),
    ];
    let requests: [(&str, Method, Option<Value>); 8] = [
        ("get", Method::Get, None),
        ("cancel", Method::Patch, Some(json!({"properties": {"cancelRequested": true}}))),
        (
            "ship",
            Method::Patch,
            Some(json!({"properties": {"state": "Shipping", "deliveryPackage": package}})),
        ),
        ("state \"\"", Method::Patch, Some(json!({"properties": {"state": ""}}))),
        ("logLevel", Method::Patch, Some(json!({"properties": {"logLevel": "Error"}}))),
        ("tags", Method::Patch, Some(json!({"tags": {"team": "data"}}))),
        ("cancelRequested false", Method::Patch, Some(json!({"properties": {"cancelRequested": false}}))),
        ("delete", Method::Delete, None),
    ];
    let mut table = String::from("state        | request               | status | code / state after\n");
    for (state, steps) in &states {
        for (label, method, request_body) in &requests {
            let mut service = service();
            let p = path("g", "j");
            assert_eq!(
                send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &p, Some(body.clone())).status,
                201
            );
            for (i, step) in steps.iter().enumerate() {
                let when =
                    Timestamp::from_second(at("2026-01-06T09:00:00Z").as_second() + i as i64 * 3600).unwrap();
                if step.get("ship").is_some() {
                    let r = service.handle(
                        when,
                        &Request {
                            method: Method::Patch,
                            path: p.clone(),
                            body: Some(
                                json!({"properties": {"state": "Shipping", "deliveryPackage": package}}),
                            ),
                        },
                    );
                    assert_eq!(r.answer.status, 200);
                } else {
                    assert_eq!(service.datacenter(when, &p, step).answer, Ok(()), "{step}");
                }
            }
            let before = service.clone();
            let response = send(&mut service, "2026-01-08T09:00:00Z", *method, &p, request_body.clone());
            let after = match &response.body {
                Some(b) if b.get("error").is_some() => b["error"]["code"].as_str().unwrap_or("").to_string(),
                Some(b) => b["properties"]["state"].as_str().map(|s| format!("-> {s}")).unwrap_or_default(),
                None => "(no body)".into(),
            };
            if response.status >= 400 {
                let mut unchanged = before.clone();
                let _ = unchanged.handle_timeout(at("2026-01-08T09:00:00Z"));
                assert_eq!(service, unchanged, "a {} answer changed the service", response.status);
            }
            table.push_str(&format!("{state:<12} | {label:<21} | {:<6} | {after}\n", response.status));
        }
    }
    insta::assert_snapshot!("arm_operations_by_state", table);
}

#[test]
fn arm_shipping_needs_a_delivery_package_and_a_return_address() {
    let mut service = service();
    let p = path("g", "j");
    let bare = json!({"location": "West US", "properties": {"jobType": "Export"}});
    assert_eq!(send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &p, Some(bare)).status, 201);
    let ship = json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "UPS", "trackingNumber": "9"}}});
    let r = send(&mut service, "2026-01-05T10:00:00Z", Method::Patch, &p, Some(ship.clone()));
    assert_eq!(r.status, 400);
    assert!(r.body.unwrap()["error"]["message"].as_str().unwrap().starts_with("properties.returnAddress"));
    let address = json!({"properties": {"returnAddress": {"recipientName": "Ann", "city": "Oslo"}}});
    assert_eq!(send(&mut service, "2026-01-05T11:00:00Z", Method::Patch, &p, Some(address)).status, 200);
    let r = send(
        &mut service,
        "2026-01-05T12:00:00Z",
        Method::Patch,
        &p,
        Some(json!({"properties": {"state": "Shipping"}})),
    );
    assert!(r.body.unwrap()["error"]["message"].as_str().unwrap().starts_with("properties.deliveryPackage"));
    let r = send(&mut service, "2026-01-05T13:00:00Z", Method::Patch, &p, Some(ship));
    assert_eq!(r.status, 200);
    let job = r.body.unwrap();
    assert_eq!(job["properties"]["state"], "Shipping");
    assert_eq!(job["properties"]["deliveryPackage"]["carrierName"], "UPS");
    let r = send(
        &mut service,
        "2026-01-05T14:00:00Z",
        Method::Patch,
        &p,
        Some(json!({"properties": {"state": "Received"}})),
    );
    assert!(r.body.unwrap()["error"]["message"].as_str().unwrap().starts_with("properties.state"));
    let _: UpdateJobParameters =
        serde_json::from_value(json!({"properties": {"state": null, "cancelRequested": null}})).unwrap();
}

#[test]
fn arm_sample_script() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/arm/sample.jsonl")).unwrap();
    let config: Config = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/arm/config.json")).unwrap(),
    )
    .unwrap();
    let mut service = Service::new(config, Policy::default());
    let out = run_script(&mut service, &text).unwrap();
    insta::assert_snapshot!("arm_sample_script", out);
}

#[test]
fn arm_script_refuses_a_malformed_line_naming_it() {
    let mut service = service();
    let e = run_script(&mut service, "{\"at\": \"2026-01-05T09:00:00Z\", \"method\": \"GET\", \"path\": \"/x\"}\n{\"method\": \"GET\", \"path\": \"/x\"}\n").unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (2, Some("at")));
    let e = run_script(
        &mut service,
        "{\"at\": \"2026-01-05T09:00:00Z\", \"method\": \"FETCH\", \"path\": \"/x\"}",
    )
    .unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (1, Some("method")));
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("Import".to_string()),
            Just("Export".to_string()),
            Just("Shipping".to_string()),
            Just(String::new()),
            "[a-zA-Z0-9 ]{0,8}".prop_map(String::from)
        ]
        .prop_map(Value::from),
    ];
    let keys = prop_oneof![
        Just("properties"),
        Just("location"),
        Just("jobType"),
        Just("driveList"),
        Just("driveId"),
        Just("state"),
        Just("cancelRequested"),
        Just("deliveryPackage"),
        Just("returnAddress"),
        Just("tags"),
        Just("logLevel"),
        Just("x"),
    ];
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(keys.clone().prop_map(String::from), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_request() -> impl Strategy<Value = Request> {
    let method = prop_oneof![
        Just(Method::Get),
        Just(Method::Put),
        Just(Method::Patch),
        Just(Method::Delete),
        Just(Method::Post)
    ];
    let p = prop_oneof![
        Just(path("g", "j")),
        Just(path("h", "j")),
        Just(format!("/subscriptions/{SUB}/providers/Microsoft.ImportExport/jobs")),
        Just(format!(
            "/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.ImportExport/jobs/j/listBitLockerKeys"
        )),
        "[/a-zA-Z$?=&]{0,30}".prop_map(String::from),
    ];
    (method, p, prop::option::of(arb_json())).prop_map(|(method, path, body)| req(method, &path, body))
}

/// Any request, valid or not, answers 2xx or 4xx; a 4xx answer changes nothing.
///
/// The service is built from the fixtures before the generated cases run, so a missing fixture
/// fails this test plainly instead of being saved as a generated failure.
#[test]
fn arm_any_request_answers_2xx_or_4xx_and_a_4xx_changes_nothing() {
    let mut started = service();
    let f = fixture("CreateJob.json");
    send(
        &mut started,
        "2026-01-05T09:00:00Z",
        Method::Put,
        &path("g", "j"),
        Some(f["parameters"]["body"].clone()),
    );
    let config = ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/arm.txt"))),
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let outcome = runner.run(&prop::collection::vec(arb_request(), 1..8), |requests| {
        let mut service = started.clone();
        for (i, request) in requests.iter().enumerate() {
            let now =
                Timestamp::from_second(at("2026-01-05T10:00:00Z").as_second() + i as i64 * 86_400).unwrap();
            let _ = service.handle_timeout(now);
            let before = service.clone();
            let exchange = service.handle(now, request);
            let status = exchange.answer.status;
            prop_assert!(
                (200..300).contains(&status) || (400..500).contains(&status),
                "{status} for {request:?}"
            );
            if status >= 400 {
                prop_assert_eq!(&service, &before, "a {} changed the service: {:?}", status, request);
            }
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

const BITLOCKER_KEY: &str = "238810-662376-448998-450120-652806-203390-606320-483076";

fn group_jobs(group: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.ImportExport/jobs")
}

fn subscription_jobs() -> String {
    format!("/subscriptions/{SUB}/providers/Microsoft.ImportExport/jobs")
}

fn create_body() -> Value {
    fixture("CreateJob.json")["parameters"]["body"].clone()
}

fn names(response: Response) -> Vec<String> {
    assert_eq!(response.status, 200, "{:?}", response.body);
    response.body.unwrap()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["name"].as_str().unwrap().to_string())
        .collect()
}

/// A path that is not an Import/Export path answers 404 `NotFound`, naming the path.
fn assert_not_import_export(response: Response, p: &str) {
    assert_eq!(response.status, 404, "{p}: {:?}", response.body);
    let body = response.body.unwrap();
    assert_eq!(body["error"]["code"], "NotFound", "{p}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("path"), "{p}: {message:?} names the path");
}

/// Each fixed segment of a job path, misspelt in turn: 404 naming the path, and nothing created.
#[test]
fn arm_a_job_path_with_a_wrong_fixed_segment_is_404_naming_the_path() {
    let wrong = [
        format!("/subscription/{SUB}/resourceGroups/g/providers/Microsoft.ImportExport/jobs"),
        format!("/subscriptions/{SUB}/resourcegroupz/g/providers/Microsoft.ImportExport/jobs"),
        format!("/subscriptions/{SUB}/resourceGroups/g/provider/Microsoft.ImportExport/jobs"),
        format!("/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.Storage/jobs"),
        format!("/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.ImportExport/job"),
    ];
    let mut service = service();
    for base in &wrong {
        let job = format!("{base}/j?api-version=2021-01-01");
        let r = send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &job, Some(create_body()));
        assert_not_import_export(r, &job);
        let r = send(&mut service, "2026-01-05T09:00:00Z", Method::Get, &job, None);
        assert_not_import_export(r, &job);
        let list = format!("{base}?api-version=2021-01-01");
        let r = send(&mut service, "2026-01-05T09:00:00Z", Method::Get, &list, None);
        assert_not_import_export(r, &list);
        let keys = format!("{base}/j/listBitLockerKeys");
        let r = send(&mut service, "2026-01-05T09:00:00Z", Method::Post, &keys, None);
        assert_not_import_export(r, &keys);
    }
    assert_eq!(service, self::service(), "a refused path created nothing");
    // The same segments spelt right, in another case, name the job (ARM ignores their case).
    let upper = format!(
        "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/g/PROVIDERS/microsoft.importexport/JOBS/j?api-version=2021-01-01"
    );
    assert_eq!(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &upper, Some(create_body())).status,
        201
    );
    assert_eq!(send(&mut service, "2026-01-05T09:00:01Z", Method::Get, &path("g", "j"), None).status, 200);
}

/// Each fixed segment of the subscription's list path, misspelt in turn: 404 naming the path.
#[test]
fn arm_a_subscription_list_path_with_a_wrong_fixed_segment_is_404_naming_the_path() {
    let mut service = service();
    assert_eq!(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(create_body())).status,
        201
    );
    let wrong = [
        format!("/subscription/{SUB}/providers/Microsoft.ImportExport/jobs"),
        format!("/subscriptions/{SUB}/provider/Microsoft.ImportExport/jobs"),
        format!("/subscriptions/{SUB}/providers/Microsoft.Storage/jobs"),
        format!("/subscriptions/{SUB}/providers/Microsoft.ImportExport/job"),
    ];
    for p in &wrong {
        let r = send(&mut service, "2026-01-05T09:00:00Z", Method::Get, p, None);
        assert_not_import_export(r, p);
    }
    let right = format!("{}?api-version=2021-01-01", subscription_jobs());
    assert_eq!(names(send(&mut service, "2026-01-05T09:00:00Z", Method::Get, &right, None)), ["j"]);
    let upper = format!("/Subscriptions/{SUB}/Providers/MICROSOFT.IMPORTEXPORT/Jobs");
    assert_eq!(names(send(&mut service, "2026-01-05T09:00:00Z", Method::Get, &upper, None)), ["j"]);
}

/// `GET …/resourceGroups/{rg}/…/jobs` lists that resource group's jobs by name, and only them.
#[test]
fn arm_a_resource_group_list_shows_only_that_groups_jobs() {
    let mut service = service();
    for (group, job) in [("a", "y"), ("a", "x"), ("b", "z"), ("c", "w")] {
        assert_eq!(
            send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path(group, job), Some(create_body()))
                .status,
            201
        );
    }
    let list =
        |service: &mut Service, p: &str| names(send(service, "2026-01-05T10:00:00Z", Method::Get, p, None));
    assert_eq!(list(&mut service, &group_jobs("a")), ["x", "y"]);
    assert_eq!(list(&mut service, &format!("{}?api-version=2021-01-01", group_jobs("b"))), ["z"]);
    assert_eq!(list(&mut service, &format!("{}/", group_jobs("c"))), ["w"]);
    assert_eq!(list(&mut service, &group_jobs("empty")), Vec::<String>::new());
    assert_eq!(list(&mut service, &format!("{}?$top=1", group_jobs("a"))), ["x"]);
    assert_eq!(list(&mut service, &format!("{}?$top=100", group_jobs("a"))), ["x", "y"]);
    // The subscription's list: by resource group, then name.
    assert_eq!(list(&mut service, &subscription_jobs()), ["x", "y", "z", "w"]);
    // A list of another subscription shows none of them.
    let other = "/subscriptions/other/resourceGroups/a/providers/Microsoft.ImportExport/jobs";
    assert_eq!(list(&mut service, other), Vec::<String>::new());
    // Each listed job is what GET shows.
    let listed =
        send(&mut service, "2026-01-05T10:00:00Z", Method::Get, &group_jobs("b"), None).body.unwrap();
    let got = send(&mut service, "2026-01-05T10:00:00Z", Method::Get, &path("b", "z"), None).body.unwrap();
    assert_eq!(listed["value"][0], got);
}

/// After a job's name only `listBitLockerKeys` (any case) is an action; anything else is 400.
#[test]
fn arm_only_list_bitlocker_keys_follows_a_job_name() {
    let mut service = service();
    assert_eq!(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(create_body())).status,
        201
    );
    let job = format!("{}/j", group_jobs("g"));
    for action in ["somethingElse", "listBitLockerKey", "listBitLockerKeys/more", "j/listBitLockerKeys"] {
        let p = format!("{job}/{action}");
        let before = service.clone();
        for method in [Method::Post, Method::Get] {
            let r = send(&mut service, "2026-01-05T09:00:00Z", method, &p, None);
            assert_not_import_export(r, &p);
        }
        assert_eq!(service, before);
    }
    for action in ["listBitLockerKeys", "listbitlockerkeys", "listBitLockerKeys?api-version=2021-01-01"] {
        let p = format!("{job}/{action}");
        let r = send(&mut service, "2026-01-05T09:00:00Z", Method::Post, &p, None);
        assert_eq!(r.status, 200, "{p}");
        assert_eq!(
            r.body.unwrap(),
            json!({"value": [{"driveId": "9CA995BB", "bitLockerKey": BITLOCKER_KEY}]})
        );
    }
    // The action is a POST in the specification; the legacy JavaScript SDK (2016-11-01) sends
    // GET, which answers the same. Another method is refused as a method.
    let r =
        send(&mut service, "2026-01-05T09:00:00Z", Method::Get, &format!("{job}/listBitLockerKeys"), None);
    assert_eq!(r.status, 200);
    let r =
        send(&mut service, "2026-01-05T09:00:00Z", Method::Delete, &format!("{job}/listBitLockerKeys"), None);
    assert_eq!(r.status, 405);
}

/// The service's next deadline is its registries' earliest: none without jobs, else what the
/// core registry holding the same job would say.
#[test]
fn arm_next_deadline_is_the_core_registrys() {
    use import_export_lifecycle::{Command, DriveId, JobName, JobType, Registry};
    let mut service = service();
    assert_eq!(service.next_deadline(), None);
    let core_deadline = |when: &str| {
        let mut registry = Registry::new(Policy::default());
        let create = Command::Create {
            job: JobName::new("j").unwrap(),
            job_type: JobType::Import,
            drives: vec![DriveId::new("9CA995BB").unwrap()],
        };
        assert!(registry.execute(at(when), &create).result.is_ok());
        registry.next_deadline().map(|d| d.at)
    };
    // The later job sits in the scope that sorts first: the service takes the earliest of all.
    send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("b", "j"), Some(create_body()));
    send(&mut service, "2026-01-06T09:00:00Z", Method::Put, &path("a", "j"), Some(create_body()));
    let first = core_deadline("2026-01-05T09:00:00Z");
    assert!(first.is_some_and(|d| d > at("2026-01-06T09:00:00Z")));
    assert_eq!(service.next_deadline(), first);
    // Once the first has fired, the other job's deadline is next.
    let fired = service.handle_timeout(first.unwrap());
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].scope.resource_group, "b");
    assert_eq!(service.next_deadline(), core_deadline("2026-01-06T09:00:00Z"));
    // Without jobs again, no deadline.
    assert_eq!(send(&mut service, "2026-01-07T09:00:00Z", Method::Delete, &path("a", "j"), None).status, 200);
    assert_eq!(service.next_deadline(), None);
}

/// A shipped job shows the package the customer sent and its type, on PATCH, GET and list.
#[test]
fn arm_a_shipped_job_shows_its_delivery_package_and_job_type() {
    let mut service = service();
    let export = json!({"location": "West US", "properties": {"jobType": "Export", "returnAddress": {"city": "Oslo"}}});
    for (p, body) in [(path("g", "imp"), create_body()), (path("g", "exp"), export)] {
        assert_eq!(send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &p, Some(body)).status, 201);
        let ship = json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "UPS", "trackingNumber": "1Z999"}}});
        let shipped = send(&mut service, "2026-01-05T10:00:00Z", Method::Patch, &p, Some(ship));
        assert_eq!(shipped.status, 200);
        let got = send(&mut service, "2026-01-05T11:00:00Z", Method::Get, &p, None);
        for job in [shipped.body.unwrap(), got.body.unwrap()] {
            assert_eq!(job["properties"]["state"], "Shipping");
            assert_eq!(
                job["properties"]["deliveryPackage"],
                json!({"carrierName": "UPS", "trackingNumber": "1Z999"})
            );
        }
    }
    let listed =
        send(&mut service, "2026-01-05T11:00:00Z", Method::Get, &group_jobs("g"), None).body.unwrap();
    let types: Vec<(&str, &str)> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["name"].as_str().unwrap(), j["properties"]["jobType"].as_str().unwrap()))
        .collect();
    assert_eq!(types, [("exp", "Export"), ("imp", "Import")]);
}

/// An export job starts without drives; the drives the datacenter received appear, each with
/// its `driveId`.
#[test]
fn arm_received_export_drives_show_their_ids() {
    let mut service = service();
    let p = path("g", "exp");
    let export = json!({"location": "West US", "properties": {"jobType": "Export", "returnAddress": {"city": "Oslo"}}});
    let created = send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &p, Some(export));
    assert_eq!(created.body.unwrap()["properties"]["driveList"], json!([]));
    let ship = json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "UPS", "trackingNumber": "7"}}});
    assert_eq!(send(&mut service, "2026-01-05T10:00:00Z", Method::Patch, &p, Some(ship)).status, 200);
    let received = json!({"op": "packageReceived", "drives": ["D1", "D2"]});
    assert_eq!(service.datacenter(at("2026-01-06T09:00:00Z"), &p, &received).answer, Ok(()));
    let job = send(&mut service, "2026-01-06T10:00:00Z", Method::Get, &p, None).body.unwrap();
    assert_eq!(job["properties"]["state"], "Received");
    assert_eq!(
        job["properties"]["driveList"],
        json!([{"driveId": "D1", "state": "Received"}, {"driveId": "D2", "state": "Received"}])
    );
}

/// `bytesSucceeded` appears once a drive has started copying: a drive shipped back after a
/// cancel, never copied, shows none; one shipped back after copying shows its bytes.
#[test]
fn arm_bytes_succeeded_only_for_drives_that_were_copied() {
    let drive = "9CA995BB";
    let run = |copy: bool| {
        let mut service = service();
        let p = path("g", "j");
        assert_eq!(
            send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &p, Some(create_body())).status,
            201
        );
        let ship = json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "UPS", "trackingNumber": "7"}}});
        assert_eq!(send(&mut service, "2026-01-05T10:00:00Z", Method::Patch, &p, Some(ship)).status, 200);
        let mut ops = vec![json!({"op": "packageReceived", "drives": [drive]})];
        if copy {
            ops.push(json!({"op": "startTransfer", "drive": drive}));
            ops.push(json!({"op": "progress", "drive": drive, "bytes": 1}));
            ops.push(json!({"op": "finishTransfer", "drive": drive, "result": "Completed"}));
        }
        for (i, op) in ops.iter().enumerate() {
            let when =
                Timestamp::from_second(at("2026-01-06T09:00:00Z").as_second() + i as i64 * 60).unwrap();
            assert_eq!(service.datacenter(when, &p, op).answer, Ok(()), "{op}");
        }
        if !copy {
            let cancel = json!({"properties": {"cancelRequested": true}});
            let r = send(&mut service, "2026-01-06T10:00:00Z", Method::Patch, &p, Some(cancel));
            assert_eq!(r.status, 200);
            assert_eq!(r.body.unwrap()["properties"]["driveList"][0].get("bytesSucceeded"), None);
        }
        let back = json!({"op": "shipBack"});
        assert_eq!(service.datacenter(at("2026-01-06T11:00:00Z"), &p, &back).answer, Ok(()));
        let job = send(&mut service, "2026-01-06T12:00:00Z", Method::Get, &p, None).body.unwrap();
        job["properties"]["driveList"][0].clone()
    };
    let never_copied = run(false);
    assert_eq!(never_copied["state"], "ShippedBack");
    assert_eq!(never_copied.get("bytesSucceeded"), None, "{never_copied}");
    let copied = run(true);
    assert_eq!(copied["state"], "ShippedBack");
    assert_eq!(copied["bytesSucceeded"], 1);
}

/// A job gone, deleted or removed by its timer, has no BitLocker keys to list either.
#[test]
fn arm_a_gone_job_has_no_bitlocker_keys() {
    let mut service = service();
    let keys = |group: &str| format!("{}/j/listBitLockerKeys", group_jobs(group));
    for group in ["deleted", "expired"] {
        assert_eq!(
            send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path(group, "j"), Some(create_body()))
                .status,
            201
        );
        assert_eq!(send(&mut service, "2026-01-05T09:00:00Z", Method::Post, &keys(group), None).status, 200);
    }
    assert_eq!(
        send(&mut service, "2026-01-05T10:00:00Z", Method::Delete, &path("deleted", "j"), None).status,
        200
    );
    let r = send(&mut service, "2026-01-05T10:00:01Z", Method::Post, &keys("deleted"), None);
    assert_eq!((r.status, r.body.unwrap()["error"]["code"].clone()), (404, json!("JobNotFound")));
    // The other stays in Creating until its timer removes it.
    let expiry = service.next_deadline().unwrap();
    let before = Timestamp::from_second(expiry.as_second() - 1).unwrap();
    assert_eq!(service.handle(before, &req(Method::Post, &keys("expired"), None)).answer.status, 200);
    let exchange = service.handle(expiry, &req(Method::Post, &keys("expired"), None));
    assert_eq!(exchange.timers.len(), 1);
    let r = exchange.answer;
    assert_eq!((r.status, r.body.unwrap()["error"]["code"].clone()), (404, json!("JobNotFound")));
    // A job of the same name created afterwards shows only its own keys.
    let bare = json!({"location": "West US", "properties": {"jobType": "Import", "driveList": [{"driveId": "OTHER"}]}});
    assert_eq!(
        service.handle(expiry, &req(Method::Put, &path("expired", "j"), Some(bare))).answer.status,
        201
    );
    let r = service.handle(expiry, &req(Method::Post, &keys("expired"), None)).answer;
    assert_eq!(r, Response { status: 200, body: Some(json!({"value": []})) });
}

// ---------------------------------------------------------------------------------------------
// The ARM record of one job, answered on its own.

use import_export_lifecycle::arm::{
    BitLockerKeys, Context, JobOperation, JobRequest, Record, Route, Scope, Write, handle_job,
    handle_provider, route,
};

fn context() -> Context {
    service().context().clone()
}

fn job_request(group: &str, job: &str, operation: JobOperation) -> JobRequest {
    JobRequest {
        scope: Scope { subscription: SUB.into(), resource_group: group.into() },
        name: import_export_lifecycle::JobName::new(job).unwrap(),
        operation,
    }
}

/// A record and its keys as `PUT` with the fixture's body makes them.
fn created_record() -> (Record, BitLockerKeys) {
    let answer = handle_job(
        &context(),
        None,
        None,
        at("2026-01-05T09:00:00Z"),
        &job_request("g", "j", JobOperation::Create),
        Some(&create_body()),
    );
    assert_eq!(answer.answer.status, 201, "{:?}", answer.answer.body);
    match (answer.record, answer.keys) {
        (Write::Put(record), Write::Put(keys)) => (*record, *keys),
        other => panic!("a create writes a record and keys: {other:?}"),
    }
}

#[test]
fn arm_record_json_has_format_version_first_and_never_a_key() {
    let (record, keys) = created_record();
    let text = serde_json::to_string(&record).unwrap();
    assert!(text.starts_with(&format!("{{\"formatVersion\":{FORMAT_VERSION},")), "{text}");
    assert!(!text.contains(BITLOCKER_KEY), "the record holds a key: {text}");
    assert!(!text.contains("bitLockerKey"), "{text}");
    let back: Record = serde_json::from_str(&text).unwrap();
    assert_eq!(back, record);
    let keys_text = serde_json::to_string(&keys).unwrap();
    assert!(keys_text.starts_with(&format!("{{\"formatVersion\":{FORMAT_VERSION},")), "{keys_text}");
    assert!(keys_text.contains(BITLOCKER_KEY));
    assert_eq!(serde_json::from_str::<BitLockerKeys>(&keys_text).unwrap(), keys);
    assert_eq!(keys.get("9CA995BB"), Some(BITLOCKER_KEY));
}

/// An ARM record of format version 1 (`tests/fixtures/arm-record-format-1.json`) kept the
/// package the customer described in `properties.deliveryPackage`, beside the job. It still
/// reads: the package moves into the job, and the record is written back as version 2 holds it
/// (`tests/fixtures/arm-record-format-2.json`), which reads back unchanged. A record of version 2
/// that keeps the package in its properties is refused, naming the place.
#[test]
fn r_input_3_arm_records_of_format_versions_1_and_2_read() {
    let v1: Value = serde_json::from_str(include_str!("fixtures/arm-record-format-1.json")).unwrap();
    let v2: Value = serde_json::from_str(include_str!("fixtures/arm-record-format-2.json")).unwrap();
    let from_v1: Record = serde_json::from_value(v1.clone()).expect("a version-1 record reads");
    let package = from_v1.job().delivery_package().expect("the package moved into the job");
    assert_eq!((package.carrier_name.as_deref(), package.drive_count), (Some("FedEx"), Some(1)));
    assert_eq!(serde_json::to_value(&from_v1).unwrap(), v2, "written back as version 2");
    let from_v2: Record = serde_json::from_value(v2.clone()).expect("a version-2 record reads");
    assert_eq!(from_v2, from_v1);
    assert_eq!(serde_json::to_value(&from_v2).unwrap(), v2);
    // What the job shows is the package it holds, whole.
    let shown = serde_json::to_value(from_v2.resource(&Config::default())).unwrap();
    assert_eq!(
        shown["properties"]["deliveryPackage"],
        json!({"carrierName": "FedEx", "trackingNumber": "123456789", "driveCount": 1, "shipDate": "2026-01-06"})
    );
    let mut both = v2;
    both["properties"]["deliveryPackage"] = v1["properties"]["deliveryPackage"].clone();
    let e = serde_json::from_value::<Record>(both).unwrap_err().to_string();
    assert!(e.contains("properties.deliveryPackage") && e.contains("format version 2"), "{e}");
}

#[test]
fn arm_record_and_keys_refuse_an_unknown_format_version() {
    let (record, keys) = created_record();
    for (what, mut value) in
        [("record", serde_json::to_value(&record).unwrap()), ("keys", serde_json::to_value(&keys).unwrap())]
    {
        value["formatVersion"] = json!(FORMAT_VERSION + 1);
        let e = match what {
            "record" => serde_json::from_value::<Record>(value).unwrap_err().to_string(),
            _ => serde_json::from_value::<BitLockerKeys>(value).unwrap_err().to_string(),
        };
        let refusal = format!(
            "unsupported format version {}: this reader knows versions 1 to {FORMAT_VERSION}",
            FORMAT_VERSION + 1
        );
        assert!(e.contains(&refusal), "{what}: {e}");
    }
    let mut value = serde_json::to_value(&record).unwrap();
    value.as_object_mut().unwrap().remove("formatVersion");
    assert!(serde_json::from_value::<Record>(value).unwrap_err().to_string().contains("formatVersion"));
}

/// A stored record cannot carry a key or a field the service owns, nor details of a drive the
/// job does not have.
#[test]
fn arm_record_refuses_a_key_or_a_service_field_in_its_drives() {
    let (record, _) = created_record();
    let value = serde_json::to_value(&record).unwrap();
    for (field, extra) in [
        ("bitLockerKey", json!(BITLOCKER_KEY)),
        ("copyStatus", json!("Completed")),
        ("state", json!("Completed")),
        ("bytesSucceeded", json!(5)),
    ] {
        let mut forged = value.clone();
        forged["properties"]["driveList"][0][field] = extra;
        let e = serde_json::from_value::<Record>(forged).unwrap_err().to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
    let mut forged = value.clone();
    forged["properties"]["driveList"][0]["driveId"] = json!("OTHER");
    let e = serde_json::from_value::<Record>(forged).unwrap_err().to_string();
    assert!(e.contains("not a drive of job"), "{e}");
    let mut forged = value;
    forged["scope"]["resourceGroup"] = json!("..");
    let e = serde_json::from_value::<Record>(forged).unwrap_err().to_string();
    assert!(e.contains("resource group"), "{e}");
}

/// Secrets never leak into logs: `Debug` of the keys, and of an answer that carries them, names
/// the drives only.
#[test]
fn arm_bitlocker_keys_debug_never_prints_a_key() {
    let (_, keys) = created_record();
    let shown = format!("{keys:?} {keys:#?}");
    assert!(!shown.contains(BITLOCKER_KEY), "{shown}");
    assert!(shown.contains("9CA995BB"), "{shown}");
    let answer = handle_job(
        &context(),
        None,
        None,
        at("2026-01-05T09:00:00Z"),
        &job_request("g", "j", JobOperation::Create),
        Some(&create_body()),
    );
    assert!(!format!("{answer:?}").contains(BITLOCKER_KEY));
}

/// A record whose 14 days in `Creating` passed is removed inside whatever call comes next: the
/// answer reports the timer, 404s, and says to delete the record and its keys.
#[test]
fn arm_handle_job_fires_the_records_due_timer_first() {
    let (record, keys) = created_record();
    let expiry = record.next_deadline(&Policy::default()).unwrap().at;
    for operation in [JobOperation::Get, JobOperation::ListBitLockerKeys, JobOperation::Delete] {
        let answer = handle_job(
            &context(),
            Some(&record),
            Some(&keys),
            expiry,
            &job_request("g", "j", operation),
            None,
        );
        assert_eq!(answer.answer.status, 404, "{operation:?}");
        assert_eq!((answer.record, answer.keys), (Write::Remove, Write::Remove), "{operation:?}");
        assert_eq!(answer.events.len(), 1);
        assert_eq!(answer.events[0].timer(), Some(import_export_lifecycle::Timer::CreatingExpired));
    }
    // A second before, the job is there and nothing is written.
    let before = Timestamp::from_second(expiry.as_second() - 1).unwrap();
    let answer = handle_job(
        &context(),
        Some(&record),
        Some(&keys),
        before,
        &job_request("g", "j", JobOperation::Get),
        None,
    );
    assert_eq!((answer.answer.status, answer.record, answer.events), (200, Write::Unchanged, vec![]));
}

/// A refused request returns the record unchanged, and writes nothing.
#[test]
fn arm_handle_job_refusal_writes_nothing() {
    let (record, keys) = created_record();
    let mut export = create_body();
    export["properties"]["jobType"] = json!("Export");
    let refusals = [
        (JobOperation::Create, Some(export)),
        (JobOperation::Update, Some(json!({"properties": {"cancelRequested": false}}))),
        (JobOperation::Update, Some(json!({"properties": {"state": "Shipping"}}))),
        (JobOperation::Update, Some(json!({"properties": {"state": "Received"}}))),
        (JobOperation::ListBitLockerKeys, None),
    ];
    for (operation, body) in refusals {
        let answer = handle_job(
            &context(),
            Some(&record),
            Some(&keys),
            at("2026-01-06T09:00:00Z"),
            &job_request("g", "j", operation),
            body.as_ref(),
        );
        let refused = operation != JobOperation::ListBitLockerKeys;
        assert_eq!(answer.answer.status >= 400, refused, "{operation:?} {body:?}");
        assert_eq!((answer.record, answer.keys, answer.events), (Write::Unchanged, Write::Unchanged, vec![]));
    }
    // The record of another job is a host error: 500, nothing written.
    let answer = handle_job(
        &context(),
        Some(&record),
        None,
        at("2026-01-06T09:00:00Z"),
        &job_request("g", "other", JobOperation::Get),
        None,
    );
    assert_eq!((answer.answer.status, answer.record), (500, Write::Unchanged));
}

#[test]
fn arm_route_names_the_job_or_the_list() {
    let get = req(Method::Get, &path("G", "j"), None);
    match route(&get) {
        Ok(Route::Job(request)) => assert_eq!(request, job_request("G", "j", JobOperation::Get)),
        other => panic!("{other:?}"),
    }
    let list = req(Method::Get, &group_jobs("g"), None);
    assert!(matches!(route(&list), Ok(Route::List(_))));
    let wrong = req(Method::Put, &group_jobs("g"), None);
    assert_eq!(route(&wrong).unwrap_err().status, 405);
}

/// The service's serde form is versioned, round-trips (keys included, apart from the records),
/// and refuses a job stored twice.
#[test]
fn arm_service_serde_form_is_versioned_and_refuses_duplicates() {
    let mut service = service();
    for group in ["a", "B"] {
        assert_eq!(
            send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path(group, "j"), Some(create_body()))
                .status,
            201
        );
    }
    let value = serde_json::to_value(&service).unwrap();
    assert!(
        serde_json::to_string(&service)
            .unwrap()
            .starts_with(&format!("{{\"formatVersion\":{FORMAT_VERSION},"))
    );
    for record in value["records"].as_array().unwrap() {
        assert!(!record.to_string().contains(BITLOCKER_KEY));
    }
    let back: Service = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(back, service);
    let mut twice = value.clone();
    let first = twice["records"][0].clone();
    twice["records"].as_array_mut().unwrap().push(first);
    let e = serde_json::from_value::<Service>(twice).unwrap_err().to_string();
    assert!(e.contains("appears twice"), "{e}");
    let mut recased = value.clone();
    let mut first = recased["records"][0].clone();
    first["scope"]["resourceGroup"] = json!("A");
    first["job"]["name"] = json!("k");
    recased["records"].as_array_mut().unwrap().push(first);
    let e = serde_json::from_value::<Service>(recased).unwrap_err().to_string();
    assert!(e.contains("spelt"), "{e}");
    let mut version = value;
    version["formatVersion"] = json!(FORMAT_VERSION + 1);
    let e = serde_json::from_value::<Service>(version).unwrap_err().to_string();
    assert!(e.contains("unsupported format version 3"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// ARM names, read as ARM reads them.

fn path_in(subscription: &str, group: &str, job: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ImportExport/jobs/{job}"
    )
}

fn message(response: &Response) -> String {
    response.body.as_ref().and_then(|b| b["error"]["message"].as_str()).unwrap_or_default().to_string()
}

/// `rg` and `RG` are one resource group, in one subscription however it is spelt; the job's `id`
/// keeps the spelling of the request that created the group's first job.
#[test]
fn arm_names_subscription_and_resource_group_compare_without_case() {
    let mut service = service();
    let t = "2026-01-05T09:00:00Z";
    assert_eq!(send(&mut service, t, Method::Put, &path("myRG", "j"), Some(create_body())).status, 201);
    // The same PUT in another spelling is the same job's: 200, nothing changed (R-PUT-1).
    let again = send(&mut service, t, Method::Put, &path("MYRG", "j"), Some(create_body()));
    assert_eq!(again.status, 200);
    assert!(again.body.unwrap()["id"].as_str().unwrap().contains("/resourceGroups/myRG/"));
    let upper_sub = SUB.to_uppercase();
    for p in [path("myrg", "j"), path_in(&upper_sub, "MyRg", "j")] {
        let got = send(&mut service, t, Method::Get, &p, None);
        assert_eq!(got.status, 200, "{p}");
        let id = got.body.unwrap()["id"].as_str().unwrap().to_string();
        assert!(id.starts_with(&format!("/subscriptions/{SUB}/resourceGroups/myRG/")), "{id}");
    }
    // A second job in the group, asked for in another spelling, is shown in the group's.
    let other = send(&mut service, t, Method::Put, &path("MYRG", "k"), Some(create_body()));
    assert!(other.body.unwrap()["id"].as_str().unwrap().contains("/resourceGroups/myRG/"));
    assert_eq!(names(send(&mut service, t, Method::Get, &group_jobs("MyRG"), None)), ["j", "k"]);
    let list = format!("/subscriptions/{upper_sub}/providers/Microsoft.ImportExport/jobs");
    assert_eq!(names(send(&mut service, t, Method::Get, &list, None)), ["j", "k"]);
    // Job names are compared exactly, as this model's `JobName` is.
    assert_eq!(send(&mut service, t, Method::Get, &path("myRG", "J"), None).status, 404);
    // Once the group's last job is gone, the next create spells it anew.
    for job in ["j", "k"] {
        assert_eq!(send(&mut service, t, Method::Delete, &path("MYRG", job), None).status, 200);
    }
    let anew = send(&mut service, t, Method::Put, &path("MyRg", "j"), Some(create_body()));
    assert!(anew.body.unwrap()["id"].as_str().unwrap().contains("/resourceGroups/MyRg/"));
}

/// Path segments are percent-decoded before they are read: `r%67` is `rg`.
#[test]
fn arm_names_path_segments_are_percent_decoded() {
    let mut service = service();
    let t = "2026-01-05T09:00:00Z";
    let encoded =
        format!("/subscriptions/{SUB}/resourceGroups/r%67/providers/Microsoft.ImportExport/jobs/j%6Fb");
    assert_eq!(send(&mut service, t, Method::Put, &encoded, Some(create_body())).status, 201);
    let got = send(&mut service, t, Method::Get, &path("rg", "job"), None);
    assert_eq!(got.status, 200);
    assert!(
        got.body.unwrap()["id"]
            .as_str()
            .unwrap()
            .ends_with("/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/job")
    );
    let fixed = format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ImportExport/job%73/job");
    assert_eq!(send(&mut service, t, Method::Get, &fixed, None).status, 200);
    // A slash encoded inside a segment stays inside it, and is not a resource group character.
    let slash =
        format!("/subscriptions/{SUB}/resourceGroups/r%2Fg/providers/Microsoft.ImportExport/jobs/job");
    let r = send(&mut service, t, Method::Get, &slash, None);
    assert_eq!(r.status, 400);
    assert!(message(&r).starts_with("path: resource group"), "{}", message(&r));
    // Bytes that are not UTF-8 once decoded are refused, naming the segment.
    let bad = format!("/subscriptions/{SUB}/resourceGroups/%FF/providers/Microsoft.ImportExport/jobs/job");
    let r = send(&mut service, t, Method::Get, &bad, None);
    assert_eq!(r.status, 400);
    assert!(message(&r).starts_with("path: segment 4"), "{}", message(&r));
}

/// A 100,000-character, `..` or control-character segment is refused with 400 naming it, and
/// the message stays short; nothing is created.
#[test]
fn arm_names_a_huge_dot_dot_or_control_character_segment_is_refused() {
    let mut service = service();
    let t = "2026-01-05T09:00:00Z";
    let huge = "a".repeat(100_000);
    let cases = [
        (path_in(SUB, &huge, "j"), "path: resource group"),
        (path_in(SUB, "..", "j"), "path: resource group"),
        (path_in(SUB, "a%07b", "j"), "path: resource group"),
        (path_in(SUB, "a%1B[31mb", "j"), "path: resource group"),
        (path_in(SUB, "a b", "j"), "path: resource group"),
        (path_in(&huge, "g", "j"), "path: subscription"),
        (path_in("..", "g", "j"), "path: subscription"),
        (path_in("s%0As", "g", "j"), "path: subscription"),
        (path_in(SUB, "g", &huge), "path: job name"),
        (path_in(SUB, "g", ".."), "path: job name"),
        (path_in(SUB, "g", "j%00"), "path: job name"),
    ];
    for (p, named) in &cases {
        let r = send(&mut service, t, Method::Put, p, Some(create_body()));
        assert_eq!(r.status, 400, "{named}");
        let m = message(&r);
        assert!(m.starts_with(named), "{m:?} names {named}");
        assert!(m.len() < 300, "a refusal quotes at most a bounded part of the input: {} bytes", m.len());
        assert!(!m.chars().any(|c| c.is_control()), "{m:?}");
    }
    assert_eq!(service, self::service(), "a refused name created nothing");
}

/// Azure's naming rules for a resource group: 1 to 90 letters, digits, underscores, hyphens,
/// periods and parentheses, not ending in a period.
#[test]
fn arm_names_resource_group_follows_azures_naming_rules() {
    let t = "2026-01-05T09:00:00Z";
    let accepted = ["a".repeat(90), "(my_rg-1.0)".into(), "Ré-groupe".into(), "rg.v2".into()];
    for group in &accepted {
        let mut service = service();
        let encoded: String = group.bytes().map(|b| format!("%{b:02X}")).collect();
        let r = send(&mut service, t, Method::Put, &path_in(SUB, &encoded, "j"), Some(create_body()));
        assert_eq!(r.status, 201, "{group}: {}", message(&r));
    }
    for (group, why) in
        [("a".repeat(91), "longer than"), ("rg.".into(), "ends in a period"), ("r+g".into(), "holds")]
    {
        let mut service = service();
        let r = send(&mut service, t, Method::Put, &path_in(SUB, &group, "j"), Some(create_body()));
        assert_eq!(r.status, 400, "{group}");
        assert!(message(&r).contains(why), "{group}: {}", message(&r));
    }
}

/// Drive fields the service owns are never taken from a customer's `PUT`: not stored, not
/// echoed on a `Specified` drive.
#[test]
fn arm_names_service_owned_drive_fields_are_never_echoed() {
    let mut service = service();
    let mut body = create_body();
    let drive = &mut body["properties"]["driveList"][0];
    drive["copyStatus"] = json!("Completed");
    drive["percentComplete"] = json!(100);
    drive["verboseLogUri"] = json!("https://evil.example/verbose");
    drive["errorLogUri"] = json!("https://evil.example/error");
    drive["manifestUri"] = json!("https://evil.example/manifest");
    drive["bytesSucceeded"] = json!(123);
    drive["state"] = json!("Completed");
    body["properties"]["state"] = json!("Completed");
    body["properties"]["percentComplete"] = json!(100);
    body["properties"]["returnPackage"] = json!({"carrierName": "X"});
    body["properties"]["incompleteBlobListUri"] = json!("https://evil.example/blobs");
    body["properties"]["provisioningState"] = json!("Failed");
    let created = send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(body));
    assert_eq!(created.status, 201);
    let got = send(&mut service, "2026-01-05T09:00:01Z", Method::Get, &path("g", "j"), None);
    for job in [created.body.unwrap(), got.body.unwrap()] {
        let d = &job["properties"]["driveList"][0];
        let fields: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, ["driveHeaderHash", "driveId", "manifestFile", "manifestHash", "state"], "{d}");
        assert_eq!(d["state"], "Specified");
        let p = &job["properties"];
        assert_eq!(p["state"], "Creating");
        assert_eq!(p["provisioningState"], "Succeeded");
        for field in ["percentComplete", "returnPackage", "incompleteBlobListUri"] {
            assert_eq!(p.get(field), None, "{field}");
        }
    }
    let stored = serde_json::to_string(
        service.record(&Scope { subscription: SUB.into(), resource_group: "g".into() }, "j").unwrap(),
    )
    .unwrap();
    assert!(!stored.contains("evil.example") && !stored.contains("copyStatus"), "{stored}");
}

/// Query parameter names match without regard to case; a bad value is refused naming the
/// parameter, never ignored.
#[test]
fn arm_names_query_parameters_are_strict() {
    let mut service = service();
    let t = "2026-01-05T09:00:00Z";
    for job in ["a", "b"] {
        assert_eq!(send(&mut service, t, Method::Put, &path("g", job), Some(create_body())).status, 201);
    }
    for query in [
        "$top=+1",
        "$top=abc",
        "$TOP=abc",
        "%24top=abc",
        "$top=0",
        "$top=",
        "$top=1&$top=2",
        "$top=1e1",
        "$top=%201",
    ] {
        let r = send(&mut service, t, Method::Get, &format!("{}?{query}", group_jobs("g")), None);
        assert_eq!(r.status, 400, "{query}");
        assert!(message(&r).starts_with("query `$top`"), "{query}: {}", message(&r));
    }
    let r = send(&mut service, t, Method::Get, &format!("{}?$top=101", group_jobs("g")), None);
    assert_eq!(r.status, 400);
    assert!(message(&r).contains("100"), "{}", message(&r));
    for query in ["$Top=1", "%24TOP=1", "$top=01"] {
        let r = send(&mut service, t, Method::Get, &format!("{}?{query}", group_jobs("g")), None);
        assert_eq!(names(r), ["a"], "{query}");
    }
    for query in ["$skipToken=nonsense", "$skiptoken=g%2Fa%20b", "$skipToken=a&$skipToken=b"] {
        let r = send(&mut service, t, Method::Get, &format!("{}?{query}", group_jobs("g")), None);
        assert_eq!(r.status, 400, "{query}");
        assert!(message(&r).starts_with("query `$skipToken`"), "{query}: {}", message(&r));
    }
}

// ---------------------------------------------------------------------------------------------
// Lists, one page at a time.

/// Follows `nextLink` from `first` to the end; returns the pages' names.
fn pages(service: &mut Service, first: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    while let Some(p) = next.take() {
        let r = send(service, "2026-01-05T10:00:00Z", Method::Get, &p, None);
        assert_eq!(r.status, 200, "{p}: {:?}", r.body);
        let body = r.body.unwrap();
        next = body.get("nextLink").map(|l| l.as_str().unwrap().to_string());
        out.push(
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["name"].as_str().unwrap().to_string())
                .collect(),
        );
        assert!(out.len() < 100, "the pages end");
    }
    out
}

#[test]
fn arm_lists_page_by_100_with_a_next_link() {
    let mut service = service();
    let bare = json!({"location": "West US", "properties": {"jobType": "Export"}});
    let mut all = Vec::new();
    for i in 0..250 {
        let job = format!("job-{i:03}");
        assert_eq!(
            send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", &job), Some(bare.clone()))
                .status,
            201
        );
        all.push(job);
    }
    let got = pages(&mut service, &format!("{}?api-version=2021-01-01", group_jobs("g")));
    assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
    assert_eq!(got.concat(), all);
    let first = send(
        &mut service,
        "2026-01-05T10:00:00Z",
        Method::Get,
        &format!("{}?api-version=2021-01-01", group_jobs("g")),
        None,
    );
    let link = first.body.unwrap()["nextLink"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}?api-version=2021-01-01&", group_jobs("g"))), "{link}");
    assert!(link.contains("$skipToken="), "{link}");
    // $top is the page size, carried from page to page.
    let got = pages(&mut service, &format!("{}?$top=30", group_jobs("g")));
    assert_eq!(got.len(), 9);
    assert!(got[..8].iter().all(|p| p.len() == 30));
    assert_eq!(got.concat(), all);
    // Exactly a page's worth: no nextLink.
    let mut small = self::service();
    for job in ["a", "b"] {
        send(&mut small, "2026-01-05T09:00:00Z", Method::Put, &path("g", job), Some(bare.clone()));
    }
    assert_eq!(pages(&mut small, &format!("{}?$top=2", group_jobs("g"))), [["a", "b"]]);
}

/// A subscription's list pages across resource groups, ordered without regard to case.
#[test]
fn arm_lists_a_subscription_pages_across_resource_groups() {
    let mut service = service();
    let bare = json!({"location": "West US", "properties": {"jobType": "Export"}});
    let mut all = Vec::new();
    for group in ["alpha", "Beta", "gamma"] {
        for job in ["x", "y", "z"] {
            send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path(group, job), Some(bare.clone()));
            all.push(job.to_string());
        }
    }
    send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path_in("other", "alpha", "w"), Some(bare));
    let got = pages(&mut service, &format!("{}?$top=2", subscription_jobs()));
    assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2, 2, 1]);
    assert_eq!(got.concat(), all);
    let page = send(
        &mut service,
        "2026-01-05T10:00:00Z",
        Method::Get,
        &format!("{}?$top=4", subscription_jobs()),
        None,
    );
    let body = page.body.unwrap();
    let groups: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().split('/').nth(4).unwrap())
        .collect();
    assert_eq!(groups, ["alpha", "alpha", "alpha", "Beta"]);
}

/// A job created after the page that would have held it is not shown; one created after the
/// last page's position is.
#[test]
fn arm_lists_a_job_created_between_pages_shows_by_where_it_sorts() {
    let mut service = service();
    let bare = json!({"location": "West US", "properties": {"jobType": "Export"}});
    for job in ["b", "d"] {
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", job), Some(bare.clone()));
    }
    let first =
        send(&mut service, "2026-01-05T10:00:00Z", Method::Get, &format!("{}?$top=1", group_jobs("g")), None);
    let body = first.body.unwrap();
    assert_eq!(body["value"][0]["name"], "b");
    let next = body["nextLink"].as_str().unwrap().to_string();
    for job in ["a", "c"] {
        send(&mut service, "2026-01-05T10:00:00Z", Method::Put, &path("g", job), Some(bare.clone()));
    }
    assert_eq!(pages(&mut service, &next).concat(), ["c", "d"]);
}

// ---------------------------------------------------------------------------------------------
// Proof: a host that keeps each record as JSON in a map answers exactly as `Service` does.

mod common;

use import_export_lifecycle::arm::{
    Exchange, JobAnswer, ListScope, Refusal, ScopedEvent, datacenter_command, handle_datacenter,
    handle_timeout, list_page,
};
use std::collections::{BTreeMap, BTreeSet};

/// A record's key in the JSON host: subscription and resource group as ARM compares them, and
/// the job's name. Its order is the lists' order.
type Key = (String, String, String);

fn key_of(scope: &Scope, name: &str) -> Key {
    let k = scope.key();
    (k.subscription, k.resource_group, name.to_string())
}

/// A durable host as an embedder writes one: each record stored as JSON text under its key,
/// keys in another map (the vault), a deadline index; every answer from the per-record
/// functions. Nothing of `Service` is used.
struct JsonHost {
    context: Context,
    records: BTreeMap<Key, String>,
    vault: BTreeMap<Key, String>,
    deadlines: BTreeSet<(Timestamp, Key)>,
}

impl JsonHost {
    fn new(context: Context) -> JsonHost {
        JsonHost { context, records: BTreeMap::new(), vault: BTreeMap::new(), deadlines: BTreeSet::new() }
    }

    fn load(&self, key: &Key) -> Option<Record> {
        self.records.get(key).map(|text| serde_json::from_str(text).expect("a stored record reads back"))
    }

    fn load_keys(&self, key: &Key) -> Option<BitLockerKeys> {
        self.vault.get(key).map(|text| serde_json::from_str(text).expect("stored keys read back"))
    }

    fn write<T>(&mut self, key: &Key, answer: JobAnswer<T>) -> T {
        let policy = self.context.policy;
        if answer.record != Write::Unchanged {
            if let Some(old) = self.load(key).and_then(|r| r.next_deadline(&policy)) {
                self.deadlines.remove(&(old.at, key.clone()));
            }
        }
        match answer.record {
            Write::Unchanged => {}
            Write::Put(record) => {
                if let Some(new) = record.next_deadline(&policy) {
                    self.deadlines.insert((new.at, key.clone()));
                }
                self.records.insert(key.clone(), serde_json::to_string(&*record).unwrap());
            }
            Write::Remove => {
                self.records.remove(key);
            }
        }
        match answer.keys {
            Write::Unchanged => {}
            Write::Put(keys) => {
                self.vault.insert(key.clone(), serde_json::to_string(&*keys).unwrap());
            }
            Write::Remove => {
                self.vault.remove(key);
            }
        }
        answer.answer
    }

    /// The spelling of a scope that already holds a job, else the request's.
    fn canonical(&self, scope: &Scope) -> Scope {
        let k = scope.key();
        let start = (k.subscription.clone(), k.resource_group.clone(), String::new());
        self.records
            .range(start..)
            .next()
            .filter(|(key, _)| key.0 == k.subscription && key.1 == k.resource_group)
            .and_then(|(key, _)| self.load(key))
            .map(|r| r.scope().clone())
            .unwrap_or_else(|| scope.clone())
    }

    fn sweep(&mut self, now: Timestamp) -> Vec<ScopedEvent> {
        let mut fired = Vec::new();
        while let Some((at, key)) = self.deadlines.first().cloned() {
            if at > now {
                break;
            }
            let record = self.load(&key).expect("the index names stored records");
            let answer = handle_timeout(&self.context, &record, now);
            fired.extend(
                answer.events.iter().map(|e| ScopedEvent { scope: record.scope().clone(), event: e.clone() }),
            );
            self.write(&key, answer);
        }
        fired
    }

    fn timers(scope: &Scope, events: &[import_export_lifecycle::Event]) -> Vec<ScopedEvent> {
        events
            .iter()
            .filter(|e| e.timer().is_some())
            .map(|e| ScopedEvent { scope: scope.clone(), event: e.clone() })
            .collect()
    }

    fn handle(&mut self, now: Timestamp, request: &Request) -> Exchange<Response> {
        let mut timers = self.sweep(now);
        let answer = match route(request) {
            Err(refusal) => refusal.response(),
            Ok(Route::Provider(provider)) => handle_provider(&self.context, &provider),
            Ok(Route::List(list)) => {
                let records: Vec<Record> = match &list.scope {
                    ListScope::ResourceGroup(scope) => {
                        let k = scope.key();
                        let start = (k.subscription.clone(), k.resource_group.clone(), String::new());
                        self.records
                            .range(start..)
                            .take_while(|(key, _)| key.0 == k.subscription && key.1 == k.resource_group)
                            .map(|(key, _)| self.load(key).unwrap())
                            .collect()
                    }
                    ListScope::Subscription(subscription) => {
                        let s = subscription.to_ascii_lowercase();
                        self.records
                            .range((s.clone(), String::new(), String::new())..)
                            .take_while(|(key, _)| key.0 == s)
                            .map(|(key, _)| self.load(key).unwrap())
                            .collect()
                    }
                };
                list_page(&self.context, now, &list, &records)
            }
            Ok(Route::Job(mut job)) => {
                job.scope = self.canonical(&job.scope);
                let key = key_of(&job.scope, job.name.as_str());
                let (record, keys) = (self.load(&key), self.load_keys(&key));
                let answer = handle_job(
                    &self.context,
                    record.as_ref(),
                    keys.as_ref(),
                    now,
                    &job,
                    request.body.as_ref(),
                );
                timers.extend(Self::timers(&job.scope, &answer.events));
                self.write(&key, answer)
            }
        };
        Exchange { timers, answer }
    }

    fn datacenter(&mut self, now: Timestamp, path: &str, operation: &Value) -> Exchange<Result<(), Refusal>> {
        let mut timers = self.sweep(now);
        let (scope, command) = match datacenter_command(path, operation) {
            Ok(parsed) => parsed,
            Err(body) => return Exchange { timers, answer: Err(body) },
        };
        let scope = self.canonical(&scope);
        let key = key_of(&scope, command.job().as_str());
        let record = self.load(&key);
        let answer = handle_datacenter(&self.context, record.as_ref(), now, &command);
        timers.extend(Self::timers(&scope, &answer.events));
        Exchange { timers, answer: self.write(&key, answer) }
    }

    fn all(&self) -> Vec<Record> {
        self.records.keys().map(|k| self.load(k).unwrap()).collect()
    }
}

/// One step of a generated history.
#[derive(Debug, Clone)]
enum Step {
    Request(Method, String, Option<Value>),
    Datacenter(String, Value),
    /// Follow the last `nextLink` a list answered, if any.
    NextPage,
}

fn arb_step() -> impl Strategy<Value = Step> {
    let sub = prop_oneof![Just(SUB.to_string()), Just(SUB.to_uppercase()), Just("other".to_string())];
    let group = prop_oneof![Just("g"), Just("G"), Just("h"), Just("(x)")];
    let job = prop_oneof![Just("a"), Just("b"), Just("c")];
    let job_path = (sub.clone(), group.clone(), job).prop_map(|(s, g, j)| path_in(&s, g, j));
    let package = json!({"carrierName": "UPS", "trackingNumber": "1"});
    let export = json!({"location": "West US", "properties": {"jobType": "Export", "returnAddress": {"city": "Oslo"}}});
    let put_body = prop_oneof![Just(create_body()), Just(export)];
    let patch_body = prop_oneof![
        Just(json!({"properties": {"cancelRequested": true}})),
        Just(json!({"properties": {"state": "Shipping", "deliveryPackage": package}})),
        Just(json!({"properties": {"logLevel": "Error"}})),
        Just(json!({"tags": {"t": "1"}})),
        Just(json!({"properties": {"cancelRequested": false}})),
    ];
    let op = prop_oneof![
        Just(json!({"op": "packageReceived", "drives": ["9CA995BB"]})),
        Just(json!({"op": "packageReceived", "drives": ["D1", "D2"]})),
        Just(json!({"op": "startTransfer", "drive": "9CA995BB"})),
        Just(json!({"op": "startTransfer", "drive": "D1"})),
        Just(json!({"op": "progress", "drive": "9CA995BB", "bytes": 5})),
        Just(json!({"op": "finishTransfer", "drive": "9CA995BB", "result": "Completed"})),
        Just(json!({"op": "finishTransfer", "drive": "D1", "result": "CompletedMoreInfo"})),
        Just(json!({"op": "shipBack"})),
    ];
    let top = prop_oneof![Just(""), Just("?$top=1"), Just("?$top=2"), Just("?$TOP=x")];
    prop_oneof![
        3 => (job_path.clone(), put_body).prop_map(|(p, b)| Step::Request(Method::Put, p, Some(b))),
        2 => job_path.clone().prop_map(|p| Step::Request(Method::Get, p, None)),
        3 => (job_path.clone(), patch_body).prop_map(|(p, b)| Step::Request(Method::Patch, p, Some(b))),
        1 => job_path.clone().prop_map(|p| Step::Request(Method::Delete, p, None)),
        1 => job_path.clone().prop_map(|p| Step::Request(Method::Post, format!("{p}/listBitLockerKeys"), None)),
        1 => (sub.clone(), group, top.clone()).prop_map(|(s, g, t)| Step::Request(
            Method::Get,
            format!("/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ImportExport/jobs{t}"),
            None
        )),
        1 => (sub, top).prop_map(|(s, t)| Step::Request(
            Method::Get,
            format!("/subscriptions/{s}/providers/Microsoft.ImportExport/jobs{t}"),
            None
        )),
        1 => Just(Step::NextPage),
        3 => (job_path, op).prop_map(|(p, o)| Step::Datacenter(p, o)),
    ]
}

/// How far the clock moves before a step: often not at all, sometimes past a timer, sometimes
/// back.
fn arb_move() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => Just(0i64),
        3 => 1i64..7_200,
        1 => Just(86_400 * 14),
        1 => Just(86_400 * 15),
        1 => Just(86_400 * 90),
        1 => -86_400i64..0,
    ]
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::default()),
        Just(Policy {
            retention_days: 0,
            creating_expiry_days: 0,
            shipping_expiry_days: 0,
            ..Policy::default()
        }),
        Just(Policy {
            retention_days: 1,
            creating_expiry_days: 1,
            shipping_expiry_days: 1,
            ..Policy::default()
        }),
    ]
}

/// At `now`, a list, a `GET` and `listBitLockerKeys` agree on which jobs exist (each asked of
/// its own copy of the service, so none sees what another fired).
fn one_truth_about_existence(service: &Service, now: Timestamp) -> Result<(), TestCaseError> {
    let mut listed = BTreeSet::new();
    for subscription in [SUB, "other"] {
        let list = format!("/subscriptions/{subscription}/providers/Microsoft.ImportExport/jobs");
        let body = service.clone().handle(now, &req(Method::Get, &list, None)).answer.body;
        for job in body.as_ref().and_then(|b| b["value"].as_array()).into_iter().flatten() {
            listed.insert(job["id"].as_str().unwrap_or_default().to_lowercase());
        }
    }
    for record in service.records() {
        let job = format!("{}/providers/Microsoft.ImportExport/jobs/{}", record.scope(), record.name());
        let get = service.clone().handle(now, &req(Method::Get, &job.clone(), None));
        let keys = format!("{job}/listBitLockerKeys");
        let keys = service.clone().handle(now, &req(Method::Post, &keys, None));
        let in_list = listed.contains(&job.to_lowercase());
        prop_assert_eq!(get.answer.status == 200, in_list, "GET and the list disagree on {} at {}", job, now);
        prop_assert_eq!(
            keys.answer.status == 200,
            in_list,
            "listBitLockerKeys and the list disagree on {}",
            job
        );
    }
    Ok(())
}

/// The JSON host and `Service` answer every step alike, timers included, and hold the same
/// records afterwards, under every policy (0-day ones too) and with clocks that go back.
#[test]
fn arm_a_json_record_host_answers_exactly_as_the_service() {
    let config = ProptestConfig {
        cases: common::cases(128),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/arm.txt"))),
        ..ProptestConfig::default()
    };
    let started = service();
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (arb_policy(), prop::collection::vec((arb_move(), arb_step()), 1..40));
    let outcome = runner.run(&strategy, |(policy, steps)| {
        let context = Context { policy, ..started.context().clone() };
        let mut service = Service::with_context(context.clone());
        let mut host = JsonHost::new(context);
        let mut now = at("2026-01-05T09:00:00Z");
        let mut next_link: Option<String> = None;
        for (i, (move_by, step)) in steps.iter().enumerate() {
            now = Timestamp::from_second(now.as_second() + move_by).unwrap();
            let (by_service, by_host) = match step {
                Step::Request(method, p, body) => {
                    let request = req(*method, &p.clone(), body.clone());
                    let (s, h) = (service.handle(now, &request), host.handle(now, &request));
                    if let Some(link) = s.answer.body.as_ref().and_then(|b| b.get("nextLink")) {
                        next_link = link.as_str().map(str::to_string);
                    }
                    (serde_json::to_value(s).unwrap(), serde_json::to_value(h).unwrap())
                }
                Step::NextPage => {
                    let Some(link) = next_link.clone() else { continue };
                    let request = req(Method::Get, &link, None);
                    let (s, h) = (service.handle(now, &request), host.handle(now, &request));
                    (serde_json::to_value(s).unwrap(), serde_json::to_value(h).unwrap())
                }
                Step::Datacenter(p, op) => {
                    let (s, h) = (service.datacenter(now, p, op), host.datacenter(now, p, op));
                    (serde_json::to_value(s).unwrap(), serde_json::to_value(h).unwrap())
                }
            };
            prop_assert_eq!(&by_service, &by_host, "step {}: {:?} at {}", i, step, now);
            let records: Vec<Record> = service.records().cloned().collect();
            prop_assert_eq!(records, host.all(), "records after step {}", i);
            prop_assert_eq!(service.next_deadline(), host.deadlines.first().map(|(at, _)| *at));
            if *move_by < 0 || i + 1 == steps.len() {
                one_truth_about_existence(&service, now)?;
            }
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// With a 0-day retention and a clock that goes back, a finished job is gone for every answer:
/// the first request at the earlier instant reports the timer that removes it (whichever
/// request it is), and neither `GET` nor `listBitLockerKeys` shows anything of it afterwards.
#[test]
fn arm_a_removed_job_shows_nothing_with_a_zero_day_policy_and_a_clock_that_goes_back() {
    let zero = Policy { retention_days: 0, ..Policy::default() };
    let p = path("g", "j");
    let keys = with_version(&format!("{}/j/listBitLockerKeys", group_jobs("g")));
    for first in [Method::Delete, Method::Get, Method::Post] {
        let mut service = Service::with_context(Context { policy: zero, ..context() });
        let t = |s: &str| at(s);
        assert_eq!(
            service
                .handle(t("2026-01-05T09:00:00Z"), &req(Method::Put, &p.clone(), Some(create_body())))
                .answer
                .status,
            201
        );
        let ship = json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "UPS", "trackingNumber": "1"}}});
        assert_eq!(
            service
                .handle(t("2026-01-05T10:00:00Z"), &req(Method::Patch, &p.clone(), Some(ship)))
                .answer
                .status,
            200
        );
        for (when, op) in [
            ("2026-01-06T09:00:00Z", json!({"op": "packageReceived", "drives": ["9CA995BB"]})),
            ("2026-01-06T10:00:00Z", json!({"op": "startTransfer", "drive": "9CA995BB"})),
            (
                "2026-01-06T11:00:00Z",
                json!({"op": "finishTransfer", "drive": "9CA995BB", "result": "Completed"}),
            ),
            ("2026-01-06T12:00:00Z", json!({"op": "shipBack"})),
        ] {
            assert_eq!(service.datacenter(t(when), &p, &op).answer, Ok(()), "{op}");
        }
        // Completed at 12:00 with 0 days of retention: removed at 12:00. The clock goes back.
        let earlier = t("2026-01-06T11:30:00Z");
        // A list at the earlier instant does not show it either (it fires nothing: the next
        // request on the job reports the timer).
        let mut listed = service.clone();
        for list in [group_jobs("g"), subscription_jobs()] {
            let exchange = listed.handle(earlier, &req(Method::Get, &list, None));
            assert_eq!(names(exchange.answer), Vec::<String>::new());
        }
        let request = Request {
            method: first,
            path: if first == Method::Post { keys.clone() } else { p.clone() },
            body: None,
        };
        let exchange = service.handle(earlier, &request);
        assert_eq!(exchange.answer.status, 404, "{first}");
        assert_eq!(exchange.timers.len(), 1, "{first}: the removal is reported by the request that fired it");
        assert_eq!(exchange.timers[0].event.timer(), Some(import_export_lifecycle::Timer::RetentionExpired));
        for method in [Method::Get, Method::Post, Method::Delete] {
            let path = if method == Method::Post { keys.clone() } else { p.clone() };
            let again = service.handle(earlier, &Request { method, path, body: None });
            assert_eq!((again.answer.status, again.timers.len()), (404, 0), "{first} then {method}");
        }
        assert_eq!(
            names(service.handle(earlier, &req(Method::Get, &group_jobs("g"), None)).answer),
            Vec::<String>::new()
        );
        assert_eq!(service.records().count(), 0);
        assert!(
            !serde_json::to_string(&service).unwrap().contains(BITLOCKER_KEY),
            "the key is gone with the job"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// PATCH goes through the core's update (R-UPDATE-1 to R-UPDATE-7)

fn patch(service: &mut Service, when: &str, body: Value) -> Response {
    send(service, when, Method::Patch, &path("g", "j"), Some(body))
}

fn last_modified_at(response: &Response) -> Value {
    response.body.as_ref().unwrap()["systemData"]["lastModifiedAt"].clone()
}

#[test]
fn r_update_7_an_arm_patch_in_creating_restarts_the_clock_and_moves_last_modified_at() {
    let mut service = service();
    let created =
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(create_body()));
    assert_eq!(last_modified_at(&created), json!("2026-01-05T09:00:00Z"));
    assert_eq!(service.next_deadline(), Some(at("2026-01-19T09:00:00Z")));
    // Ten days in, a change of tags only: accepted, recorded, and the two weeks start again.
    let patched = patch(&mut service, "2026-01-15T09:00:00Z", json!({"tags": {"team": "storage"}}));
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(last_modified_at(&patched), json!("2026-01-15T09:00:00Z"));
    assert_eq!(patched.body.as_ref().unwrap()["tags"], json!({"team": "storage"}));
    assert_eq!(service.next_deadline(), Some(at("2026-01-29T09:00:00Z")));
    let get =
        |service: &mut Service, when: &str| send(service, when, Method::Get, &path("g", "j"), None).status;
    assert_eq!(get(&mut service, "2026-01-29T08:59:59Z"), 200);
    assert_eq!(get(&mut service, "2026-01-29T09:00:00Z"), 404);
    // A body that changes nothing records nothing.
    let mut service = self::service();
    send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(create_body()));
    let nothing = patch(&mut service, "2026-01-06T09:00:00Z", json!({"properties": {"state": ""}}));
    assert_eq!((nothing.status, last_modified_at(&nothing)), (200, json!("2026-01-05T09:00:00Z")));
    assert_eq!(service.next_deadline(), Some(at("2026-01-19T09:00:00Z")));
}

#[test]
fn r_update_6_an_arm_patch_is_decided_by_the_core_and_is_all_or_nothing() {
    let mut service = service();
    send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(create_body()));
    let ship = json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "FedEx", "trackingNumber": "1"},
        "returnAddress": {"recipientName": "r", "streetAddress1": "s", "city": "c", "postalCode": "p",
            "countryOrRegion": "US", "phone": "1", "email": "e@x"}}});
    assert_eq!(patch(&mut service, "2026-01-06T09:00:00Z", ship).status, 200);
    for (when, op) in [
        ("2026-01-07T09:00:00Z", json!({"op": "packageReceived", "drives": ["9CA995BB"]})),
        ("2026-01-08T09:00:00Z", json!({"op": "startTransfer", "drive": "9CA995BB"})),
    ] {
        let line = json!({"at": when, "path": path("g", "j"), "op": op["op"], "drives": op.get("drives"), "drive": op.get("drive")});
        let mut line = line.as_object().unwrap().clone();
        line.retain(|_, v| !v.is_null());
        let out = run_script(&mut service, &Value::Object(line).to_string()).unwrap();
        assert!(out.contains("\"ok\":true"), "{out}");
    }
    // Transferring: the return address may still change (R-UPDATE-1), the log level no longer
    // (R-UPDATE-3); the two together are refused whole, and the tags sent with them are not kept.
    let before = send(&mut service, "2026-01-08T10:00:00Z", Method::Get, &path("g", "j"), None);
    let refused = patch(
        &mut service,
        "2026-01-08T10:00:00Z",
        json!({"tags": {"a": "b"}, "properties": {"returnShipping": {"carrierName": "UPS", "carrierAccountNumber": "1"}, "logLevel": "Verbose"}}),
    );
    assert_eq!(refused.status, 409);
    let error = &refused.body.as_ref().unwrap()["error"];
    assert_eq!(error["code"], "UpdateNotAllowed");
    assert!(error["message"].as_str().unwrap().contains("field logLevel"), "{error}");
    assert!(error["message"].as_str().unwrap().ends_with("[R-UPDATE-3]"), "{error}");
    let after = send(&mut service, "2026-01-08T10:00:00Z", Method::Get, &path("g", "j"), None);
    assert_eq!(after.body, before.body, "a refused PATCH changes nothing");
    let accepted = patch(
        &mut service,
        "2026-01-08T11:00:00Z",
        json!({"properties": {"returnShipping": {"carrierName": "UPS", "carrierAccountNumber": "1"}}}),
    );
    assert_eq!(accepted.status, 200);
    let body = accepted.body.unwrap();
    assert_eq!(body["properties"]["returnShipping"]["carrierName"], "UPS");
    assert_eq!(body["systemData"]["lastModifiedAt"], "2026-01-08T11:00:00Z");
    assert_eq!(body["properties"]["state"], "Transferring");
}

#[test]
fn r_update_4_an_arm_patch_replaces_the_drive_list_and_its_keys_in_creating_only() {
    let mut service = service();
    send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(create_body()));
    let drives = json!({"properties": {"driveList": [
        {"driveId": "NEW1", "bitLockerKey": "111111-111111-111111-111111-111111-111111-111111-111111", "manifestFile": "\\m.xml"},
        {"driveId": "NEW2"}
    ]}});
    let replaced = patch(&mut service, "2026-01-06T09:00:00Z", drives.clone());
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    let body = replaced.body.unwrap();
    let ids: Vec<&str> = body["properties"]["driveList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["driveId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["NEW1", "NEW2"]);
    assert!(!body.to_string().contains("bitLockerKey"), "a PATCH never echoes a key");
    let keys = send(
        &mut service,
        "2026-01-06T09:00:00Z",
        Method::Post,
        &format!(
            "/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.ImportExport/jobs/j/listBitLockerKeys"
        ),
        None,
    );
    assert_eq!(
        keys.body.unwrap()["value"],
        json!([{"driveId": "NEW1", "bitLockerKey": "111111-111111-111111-111111-111111-111111-111111-111111"}])
    );
    // The checks of create: a drive twice is malformed.
    let twice = patch(
        &mut service,
        "2026-01-06T10:00:00Z",
        json!({"properties": {"driveList": [{"driveId": "A"}, {"driveId": "A"}]}}),
    );
    assert_eq!((twice.status, twice.body.unwrap()["error"]["code"].clone()), (400, json!("InvalidRequest")));
    // Once shipped, the drives are in the post.
    let ship = json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "FedEx", "trackingNumber": "1"}}});
    assert_eq!(patch(&mut service, "2026-01-07T09:00:00Z", ship).status, 200);
    let late = patch(&mut service, "2026-01-08T09:00:00Z", drives);
    assert_eq!(late.status, 409);
    assert!(late.body.unwrap()["error"]["message"].as_str().unwrap().ends_with("[R-UPDATE-4]"));
}

/// A `PATCH` that changes nothing answers the job and writes nothing.
#[test]
fn arm_handle_job_a_patch_that_changes_nothing_writes_nothing() {
    let (record, keys) = created_record();
    for body in [json!({}), json!({"properties": {}}), json!({"properties": {"state": ""}})] {
        let answer = handle_job(
            &context(),
            Some(&record),
            Some(&keys),
            at("2026-01-06T09:00:00Z"),
            &job_request("g", "j", JobOperation::Update),
            Some(&body),
        );
        assert_eq!(answer.answer.status, 200, "{body}");
        assert_eq!(
            (answer.record, answer.keys, answer.events),
            (Write::Unchanged, Write::Unchanged, vec![]),
            "{body}"
        );
    }
}

/// The JSON blocks of `docs/arm.md`'s section on records, in order.
fn record_examples_in_the_docs() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/arm.md")).unwrap();
    let section = text.split("## One record per job").nth(1).expect("the section exists");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .split("```json\n")
        .skip(1)
        .map(|block| {
            serde_json::from_str(block.split("```").next().unwrap_or_default()).expect("a JSON block")
        })
        .collect()
}

/// `docs/arm.md` shows a record and its keys exactly as a `PUT` makes them, and both read back.
#[test]
fn arm_record_example_in_the_docs_is_what_put_makes() {
    let context = Context {
        config: Config {
            caller: Some(Caller { name: "ann@contoso.com".into(), kind: "User".into() }),
            ..Config::default()
        },
        ..Context::default()
    };
    let body = json!({"location": "West US", "tags": {"team": "data"}, "properties": {
        "jobType": "Import",
        "storageAccountId": "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/resourceGroups/myResourceGroup/providers/Microsoft.ClassicStorage/storageAccounts/test",
        "logLevel": "Verbose",
        "returnAddress": {"recipientName": "Ann", "city": "Oslo"},
        "driveList": [{"driveId": "9CA995BB", "bitLockerKey": BITLOCKER_KEY, "manifestFile": "\\8a0c23f7.manifest", "manifestHash": "4228EC5D8E048CB9", "copyStatus": "Completed"}]
    }});
    let answer = handle_job(
        &context,
        None,
        None,
        at("2026-01-05T09:00:00Z"),
        &job_request("myResourceGroup", "myJob", JobOperation::Create),
        Some(&body),
    );
    let (Write::Put(record), Write::Put(keys)) = (answer.record, answer.keys) else {
        panic!("a create writes both")
    };
    let examples = record_examples_in_the_docs();
    assert_eq!(examples.len(), 2, "a record and its keys");
    assert_eq!(serde_json::to_value(&*record).unwrap(), examples[0]);
    assert_eq!(serde_json::to_value(&*keys).unwrap(), examples[1]);
    assert_eq!(serde_json::from_value::<Record>(examples[0].clone()).unwrap(), *record);
    assert_eq!(serde_json::from_value::<BitLockerKeys>(examples[1].clone()).unwrap(), *keys);
}

/// `Write::apply` is what a host does with a stored value: keep it, replace it, or drop it.
#[test]
fn arm_write_apply_keeps_replaces_or_removes() {
    assert_eq!(Write::Unchanged.apply(Some(1)), Some(1));
    assert_eq!(Write::<i32>::Unchanged.apply(None), None);
    assert_eq!(Write::Put(Box::new(2)).apply(Some(1)), Some(2));
    assert_eq!(Write::Put(Box::new(2)).apply(None), Some(2));
    assert_eq!(Write::Remove.apply(Some(1)), None);
}

/// A drive's manifest fields are kept one by one: a drive given only one of them shows it.
#[test]
fn arm_a_drive_keeps_each_manifest_field_given_alone() {
    let mut service = service();
    let body = json!({"location": "West US", "properties": {"jobType": "Import", "driveList": [
        {"driveId": "D1", "manifestFile": "\\one.manifest"},
        {"driveId": "D2", "manifestHash": "AB12"},
        {"driveId": "D3", "driveHeaderHash": "0:1:CD34"},
        {"driveId": "D4"}
    ]}});
    assert_eq!(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(body)).status,
        201
    );
    let job = send(&mut service, "2026-01-05T09:00:01Z", Method::Get, &path("g", "j"), None).body.unwrap();
    assert_eq!(
        job["properties"]["driveList"],
        json!([
            {"driveId": "D1", "manifestFile": "\\one.manifest", "state": "Specified"},
            {"driveId": "D2", "manifestHash": "AB12", "state": "Specified"},
            {"driveId": "D3", "driveHeaderHash": "0:1:CD34", "state": "Specified"},
            {"driveId": "D4", "state": "Specified"}
        ])
    );
}

/// A subscription id has at most 64 characters: 64 are accepted, 65 refused.
#[test]
fn arm_names_a_subscription_id_has_at_most_64_characters() {
    let t = "2026-01-05T09:00:00Z";
    let mut service = service();
    let r = send(&mut service, t, Method::Put, &path_in(&"s".repeat(64), "g", "j"), Some(create_body()));
    assert_eq!(r.status, 201, "{}", message(&r));
    let r = send(&mut service, t, Method::Put, &path_in(&"s".repeat(65), "g", "j"), Some(create_body()));
    assert_eq!(r.status, 400);
    assert!(message(&r).contains("longer than 64"), "{}", message(&r));
}

/// A refusal quotes the name it refuses (escaped), so the caller sees which one.
#[test]
fn arm_names_a_refusal_quotes_the_refused_name() {
    let mut service = service();
    let r = send(&mut service, "2026-01-05T09:00:00Z", Method::Get, &path_in(SUB, "bad%07group", "j"), None);
    assert!(message(&r).contains("\"bad\\u{7}group\""), "{}", message(&r));
    let long = "a".repeat(100);
    let r = send(&mut service, "2026-01-05T09:00:00Z", Method::Get, &path_in(SUB, &long, "j"), None);
    assert!(message(&r).contains(&format!("\"{}\"… (100 characters)", "a".repeat(40))), "{}", message(&r));
}

/// `list_page` skips the records a host passes that are not in the list's scope, or not after
/// its `$skipToken`: passing more is safe.
#[test]
fn arm_list_page_skips_records_out_of_scope_or_before_the_token() {
    let mut service = service();
    for (group, job) in [("a", "x"), ("a", "y"), ("b", "z")] {
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path(group, job), Some(create_body()));
    }
    let other = send(
        &mut service,
        "2026-01-05T09:00:00Z",
        Method::Put,
        &path_in("other", "a", "w"),
        Some(create_body()),
    );
    assert_eq!(other.status, 201);
    let every: Vec<Record> = service.records().cloned().collect();
    assert_eq!(every.len(), 4);
    let page = |p: &str| {
        let Ok(Route::List(list)) = route(&req(Method::Get, p, None)) else { panic!("a list: {p}") };
        names(list_page(&context(), at("2026-01-05T10:00:00Z"), &list, &every))
    };
    assert_eq!(page(&group_jobs("A")), ["x", "y"]);
    assert_eq!(page(&subscription_jobs()), ["x", "y", "z"]);
    let token = import_export_lifecycle::arm::ListPosition {
        resource_group: "a".into(),
        name: import_export_lifecycle::JobName::new("x").unwrap(),
    }
    .token();
    assert_eq!(page(&format!("{}?$skipToken={token}", subscription_jobs())), ["y", "z"]);
}

/// The service answers with the context it was given, and shows it.
#[test]
fn arm_service_keeps_its_context() {
    let zero = Context { policy: Policy { retention_days: 0, ..Policy::default() }, ..context() };
    assert_eq!(Service::with_context(zero.clone()).context(), &zero);
    assert_eq!(
        service().context().config.caller,
        Some(Caller { name: "string".into(), kind: "application".into() })
    );
}

/// The status, code and rule of a refusal, and the service unchanged by it (R-REFUSE-1).
fn refused_patch(service: &mut Service, when: &str, p: &str, body: Value) -> (u16, String, String) {
    let before = service.clone();
    let r = send(service, when, Method::Patch, p, Some(body));
    assert_eq!(*service, before, "a refused PATCH changes nothing");
    let error = r.error_body();
    let message = error.message.unwrap_or_default();
    let rule = message.rsplit('[').next().unwrap_or_default().trim_end_matches(']').to_string();
    (r.status, error.code.unwrap_or_default(), rule)
}

/// R-FLOW-8, and the order of a PATCH's refusals (docs/spec.md, *Which refusal wins*): the
/// fields the body changes are checked first (R-UPDATE-*), then the shipment's or the cancel's
/// state (R-FLOW-1, R-CANCEL-1/2), then the shipment's details (R-FLOW-8: returnAddress, then
/// deliveryPackage).
#[test]
fn r_flow_8_a_shipment_needs_its_details_and_the_state_is_refused_first() {
    let mut service = service();
    let p = path("g", "j");
    let bare = json!({"location": "West US", "properties": {"jobType": "Export"}});
    assert_eq!(send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &p, Some(bare)).status, 201);
    let drives = json!([{"driveId": "D1"}]);
    let package = json!({"carrierName": "UPS", "trackingNumber": "9"});
    let address = json!({"recipientName": "Ann", "city": "Oslo"});
    let at = "2026-01-05T10:00:00Z";

    // In Creating, nothing known: the return address is missing first, then the package.
    let ship = json!({"properties": {"state": "Shipping"}});
    assert_eq!(refused_patch(&mut service, at, &p, ship), (400, "InvalidRequest".into(), "R-FLOW-8".into()));
    let r = send(&mut service, at, Method::Patch, &p, Some(json!({"properties": {"state": "Shipping"}})));
    assert!(r.error_body().message.unwrap().starts_with("properties.returnAddress"));
    let with_address = json!({"properties": {"state": "Shipping", "returnAddress": address}});
    let r = send(&mut service, at, Method::Patch, &p, Some(with_address.clone()));
    assert_eq!(r.status, 400);
    assert!(r.error_body().message.unwrap().starts_with("properties.deliveryPackage"));

    // Ship + a field its state refuses: the field's rule wins over the missing details.
    let ship_and_drives = json!({"properties": {"state": "Shipping", "driveList": drives}});
    assert_eq!(
        refused_patch(&mut service, at, &p, ship_and_drives),
        (409, "UpdateNotAllowed".into(), "R-UPDATE-4".into())
    );

    // Shipped with both: accepted.
    let full =
        json!({"properties": {"state": "Shipping", "returnAddress": address, "deliveryPackage": package}});
    assert_eq!(send(&mut service, "2026-01-05T11:00:00Z", Method::Patch, &p, Some(full.clone())).status, 200);
    // Ship again: the state refuses (R-FLOW-1), whatever the body names.
    for body in [json!({"properties": {"state": "Shipping"}}), full] {
        assert_eq!(
            refused_patch(&mut service, "2026-01-05T12:00:00Z", &p, body),
            (409, "InvalidStateTransition".into(), "R-FLOW-1".into())
        );
    }
    // Ship + a field refused in Shipping: the field first (R-UPDATE-4 before R-FLOW-1).
    let body = json!({"properties": {"state": "Shipping", "driveList": drives}});
    assert_eq!(
        refused_patch(&mut service, "2026-01-05T12:00:00Z", &p, body),
        (409, "UpdateNotAllowed".into(), "R-UPDATE-4".into())
    );

    // A job cancelled in Creating (Completed) that never had a package: shipping it is refused
    // by its state (R-FLOW-1), not by the missing package (R-FLOW-8).
    let q = path("g", "k");
    let bare = json!({"location": "West US", "properties": {"jobType": "Export"}});
    assert_eq!(send(&mut service, "2026-01-05T13:00:00Z", Method::Put, &q, Some(bare)).status, 201);
    let cancel = json!({"properties": {"cancelRequested": true}});
    assert_eq!(send(&mut service, "2026-01-05T13:00:00Z", Method::Patch, &q, Some(cancel)).status, 200);
    assert_eq!(
        refused_patch(&mut service, "2026-01-05T14:00:00Z", &q, json!({"properties": {"state": "Shipping"}})),
        (409, "InvalidStateTransition".into(), "R-FLOW-1".into())
    );
    // Cancel + an update its state refuses: the update first (R-UPDATE-3 before R-CANCEL-2).
    let body = json!({"properties": {"cancelRequested": true, "logLevel": "Error"}});
    assert_eq!(
        refused_patch(&mut service, "2026-01-05T14:00:00Z", &q, body),
        (409, "UpdateNotAllowed".into(), "R-UPDATE-3".into())
    );
    // Cancel + an update its state accepts (tags, R-UPDATE-5): the cancel's state refuses.
    let body = json!({"tags": {"a": "b"}, "properties": {"cancelRequested": true}});
    assert_eq!(
        refused_patch(&mut service, "2026-01-05T14:00:00Z", &q, body),
        (409, "CancelNotAllowed".into(), "R-CANCEL-2".into())
    );
}

/// `api-version` is required, read by its decoded name without regard to case, and one of the
/// published versions; a path of no Import/Export resource is 404 before it is looked at.
#[test]
fn arm_api_version_is_required_and_one_of_the_published_versions() {
    use import_export_lifecycle::arm::{ApiVersion, route_http};
    let mut service = service();
    let base = format!("/subscriptions/{SUB}/resourceGroups/g/providers/Microsoft.ImportExport/jobs/j");
    assert_eq!(
        send(&mut service, "2026-01-05T09:00:00Z", Method::Put, &path("g", "j"), Some(create_body())).status,
        201
    );
    let before = service.clone();
    let get = |service: &mut Service, query: &str| {
        let r = service.handle(
            at("2026-01-05T10:00:00Z"),
            &Request { method: Method::Get, path: format!("{base}{query}"), body: None },
        );
        (r.answer.status, r.answer.error_body().code)
    };
    for version in ApiVersion::ALL {
        assert_eq!(get(&mut service, &format!("?api-version={version}")), (200, None));
        assert_eq!(get(&mut service, &format!("?API%2DVERSION={}", version.as_str())), (200, None));
    }
    let missing = (400, Some("MissingApiVersionParameter".to_string()));
    let invalid = (400, Some("InvalidApiVersionParameter".to_string()));
    assert_eq!(get(&mut service, ""), missing);
    assert_eq!(get(&mut service, "?apiversion=2021-01-01"), missing);
    for query in
        ["?api-version=", "?api-version=2019-01-01", "?api-version=2021-01-01&Api-Version=2021-01-01"]
    {
        assert_eq!(get(&mut service, query), invalid, "{query}");
    }
    assert_eq!(service, before, "a refused request changes nothing");
    let refusal = route_http("GET", "/subscriptions/s/providers/Microsoft.Storage/jobs").unwrap_err();
    assert_eq!((refusal.status, refusal.code.as_str()), (404, "NotFound"));
    let refusal = route_http("OPTIONS", &format!("{base}?api-version=2021-01-01")).unwrap_err();
    assert_eq!((refusal.status, refusal.code.as_str()), (405, "InvalidRequest"));
}
