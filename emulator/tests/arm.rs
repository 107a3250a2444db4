//! Every ARM operation in every state of a job, over HTTP, against a fresh database; the
//! datacenter endpoint; lists with `nextLink`; and every refusal leaves the database as it was.

mod common;

use common::{Emulator, create_body, job_path, ship_body, start_virtual};
use serde_json::{Value, json};

const DRIVE: &str = "9CA995BB";

/// Sends a request that must be refused with `status` and `code`, and checks that the database
/// holds exactly what it held before.
fn refused(emu: &Emulator, method: &str, path: &str, body: Option<&Value>, status: u16, code: &str) {
    let before = emu.dump();
    let (got, answer) = emu.call(method, path, body);
    assert_eq!((got, answer["error"]["code"].as_str()), (status, Some(code)), "{method} {path}: {answer}");
    assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    assert_eq!(emu.dump(), before, "{method} {path} answered {status} and changed the database");
}

/// The states a job goes through, in order.
const STATES: [&str; 7] =
    ["Creating", "Shipping", "Received", "Transferring", "Packaging", "Completed", "Closed"];

/// Creates job `name` and drives it to `state`.
fn drive_to(emu: &Emulator, name: &str, state: &str) -> String {
    let path = job_path("rg-states", name);
    let (status, body) = emu.call("PUT", &path, Some(&create_body()));
    assert_eq!(status, 201, "{body}");
    let steps: Vec<Value> = match state {
        "Creating" => vec![],
        "Shipping" => vec![json!("ship")],
        "Received" => vec![json!("ship"), json!({"op": "packageReceived", "drives": [DRIVE]})],
        "Transferring" => vec![
            json!("ship"),
            json!({"op": "packageReceived", "drives": [DRIVE]}),
            json!({"op": "startTransfer", "drive": DRIVE}),
        ],
        "Packaging" | "Closed" | "Completed" => {
            // A clean copy ends `Completed`; one with errors ends `Closed` (R-FLOW-6).
            let result = if state == "Closed" { "CompletedMoreInfo" } else { "Completed" };
            let mut steps = vec![json!("ship"), json!({"op": "packageReceived", "drives": [DRIVE]})];
            steps.push(json!({"op": "startTransfer", "drive": DRIVE}));
            steps.push(json!({"op": "progress", "drive": DRIVE, "bytes": 1000}));
            steps.push(json!({"op": "finishTransfer", "drive": DRIVE, "result": result}));
            if state != "Packaging" {
                steps.push(json!({"op": "shipBack"}));
            }
            steps
        }
        other => panic!("no state {other}"),
    };
    for step in steps {
        let (status, body) = match step.as_str() {
            Some("ship") => emu.call("PATCH", &path, Some(&ship_body())),
            Some("cancel") => {
                emu.call("PATCH", &path, Some(&json!({"properties": {"cancelRequested": true}})))
            }
            _ => emu.datacenter(&path, step.clone()),
        };
        assert_eq!(status, 200, "{step} on the way to {state}: {body}");
    }
    let (status, body) = emu.call("GET", &path, None);
    assert_eq!((status, body["properties"]["state"].as_str()), (200, Some(state)), "{body}");
    path
}

#[test]
fn every_operation_in_every_state() {
    let emu = start_virtual("states");
    for (i, state) in STATES.iter().enumerate() {
        // Get and listBitLockerKeys answer in every state and change nothing.
        let path = drive_to(&emu, &format!("get-{i}"), state);
        let before = emu.dump();
        let (status, body) = emu.call("GET", &path, None);
        assert_eq!(status, 200);
        assert_eq!(body["name"], json!(format!("get-{i}")));
        assert!(body["properties"]["driveList"][0].get("bitLockerKey").is_none(), "GET never shows a key");
        let (status, keys) = emu.call("POST", &format!("{path}/listBitLockerKeys"), None);
        assert_eq!(status, 200);
        assert_eq!(keys["value"][0]["driveId"], json!(DRIVE));
        assert_eq!(
            keys["value"][0]["bitLockerKey"],
            create_body()["properties"]["driveList"][0]["bitLockerKey"]
        );
        assert_eq!(emu.dump(), before, "reads change nothing");

        // Create on an existing name is ARM's create-or-update: the same PUT answers 200 and
        // writes nothing (R-PUT-1); one changing the job's type is refused (R-PUT-3), in every state.
        let before = emu.dump();
        let (status, again) = emu.call("PUT", &path, Some(&create_body()));
        assert_eq!((status, again["properties"]["state"].as_str()), (200, Some(*state)), "{again}");
        assert_eq!(emu.dump(), before, "the same PUT again changes nothing");
        let mut export = create_body();
        export["properties"]["jobType"] = json!("Export");
        refused(&emu, "PUT", &path, Some(&export), 409, "PropertyChangeNotAllowed");

        // Ship: only from Creating.
        let path = drive_to(&emu, &format!("ship-{i}"), state);
        if *state == "Creating" {
            let (status, body) = emu.call("PATCH", &path, Some(&ship_body()));
            assert_eq!((status, body["properties"]["state"].as_str()), (200, Some("Shipping")), "{body}");
        } else if *state == "Shipping" {
            refused(&emu, "PATCH", &path, Some(&ship_body()), 409, "InvalidStateTransition");
        } else {
            // The delivery package may change only in Creating and Shipping (R-UPDATE-2).
            refused(&emu, "PATCH", &path, Some(&ship_body()), 409, "UpdateNotAllowed");
        }

        // Cancel: accepted before Packaging (R-CANCEL-1), refused from Packaging on (R-CANCEL-2).
        let path = drive_to(&emu, &format!("cancel-{i}"), state);
        let cancel = json!({"properties": {"cancelRequested": true}});
        match *state {
            "Creating" | "Shipping" | "Received" | "Transferring" => {
                let (status, body) = emu.call("PATCH", &path, Some(&cancel));
                assert_eq!(
                    (status, &body["properties"]["cancelRequested"]),
                    (200, &json!(true)),
                    "{state}: {body}"
                );
            }
            _ => refused(&emu, "PATCH", &path, Some(&cancel), 409, "CancelNotAllowed"),
        }

        // Delete: in Creating or once finished (R-DELETE-1/2); then 404, and the keys are gone too.
        let path = drive_to(&emu, &format!("delete-{i}"), state);
        match *state {
            "Creating" | "Completed" | "Closed" => {
                let (status, body) = emu.call("DELETE", &path, None);
                assert_eq!((status, body), (200, Value::Null), "DELETE answers 200 without a body");
                refused(&emu, "GET", &path, None, 404, "JobNotFound");
                refused(&emu, "POST", &format!("{path}/listBitLockerKeys"), None, 404, "JobNotFound");
                assert!(
                    !emu.dump().iter().any(|row| row.contains(&format!("\"delete-{i}\""))),
                    "no row left"
                );
            }
            _ => refused(&emu, "DELETE", &path, None, 409, "DeleteNotAllowed"),
        }
    }
}

#[test]
fn datacenter_operations_follow_the_core() {
    let emu = start_virtual("datacenter");
    let path = drive_to(&emu, "dc", "Shipping");
    let op = |v: Value| emu.datacenter(&path, v);
    // Out of order: refused by the core, nothing changed.
    let before = emu.dump();
    let (status, body) = op(json!({"op": "startTransfer", "drive": DRIVE}));
    assert_eq!(
        (status, body["ok"].clone(), body["error"]["code"].as_str()),
        (409, json!(false), Some("InvalidStateTransition")),
        "{body}"
    );
    let (status, body) = op(json!({"op": "packageReceived", "drives": ["NOPE"]}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("DriveNotFound")), "{body}");
    let (status, body) = op(json!({"op": "explode"}));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("InvalidRequest")), "{body}");
    let (status, body) = op(json!({"op": "ship"}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("InvalidRequest")),
        "a customer's op: {body}"
    );
    let (status, body) = emu.datacenter(&job_path("rg-states", "nobody"), json!({"op": "shipBack"}));
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("JobNotFound")), "{body}");
    let (status, body) = emu.call("POST", "/emulator/datacenter", Some(&json!({"op": "shipBack"})));
    assert_eq!((status, body["ok"].clone()), (400, json!(false)), "no path: {body}");
    let (status, body) = emu.call(
        "POST",
        "/emulator/datacenter",
        Some(&json!({"path": path, "op": "shipBack", "at": common::T0})),
    );
    assert_eq!((status, body["ok"].clone()), (400, json!(false)), "at is the clock's: {body}");
    assert_eq!(emu.dump(), before, "refused datacenter operations change nothing");
    // In order: each answers {"ok": true} and the job moves.
    for (step, state) in [
        (json!({"op": "packageReceived", "drives": [DRIVE]}), "Received"),
        (json!({"op": "startTransfer", "drive": DRIVE}), "Transferring"),
        (json!({"op": "progress", "drive": DRIVE, "bytes": 4096}), "Transferring"),
        (json!({"op": "finishTransfer", "drive": DRIVE, "result": "Completed"}), "Packaging"),
        (json!({"op": "shipBack"}), "Completed"),
    ] {
        let (status, body) = op(step.clone());
        assert_eq!((status, body), (200, json!({"ok": true})), "{step}");
        let (_, job) = emu.call("GET", &path, None);
        assert_eq!(job["properties"]["state"], json!(state), "after {step}");
    }
    let (_, job) = emu.call("GET", &path, None);
    assert_eq!(job["properties"]["driveList"][0]["bytesSucceeded"], json!(4096));
}

#[test]
fn lists_page_with_next_link_and_scopes_ignore_case() {
    let emu = start_virtual("lists");
    for (rg, name) in [("rg-b", "j1"), ("RG-A", "j2"), ("rg-a", "j3"), ("rg-b", "j0")] {
        let (status, body) = emu.call("PUT", &job_path(rg, name), Some(&create_body()));
        assert_eq!(status, 201, "{body}");
    }
    // rg-a and RG-A are one resource group; its first spelling stays.
    let (status, body) = emu.call("GET", &job_path("rg-a", "j2"), None);
    assert_eq!(status, 200);
    assert!(body["id"].as_str().unwrap().contains("/resourceGroups/RG-A/"), "{body}");
    let (_, body) = emu.call("GET", &job_path("Rg-A", "j3"), None);
    assert!(body["id"].as_str().unwrap().contains("/resourceGroups/RG-A/"), "{body}");

    // A subscription's list, one job per page, following nextLink: by resource group, then name.
    let mut next = format!("/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs?{}&$top=1", common::V);
    let mut seen = Vec::new();
    for _ in 0..10 {
        let (status, page) = emu.call("GET", &next, None);
        assert_eq!(status, 200, "{page}");
        let value = page["value"].as_array().unwrap();
        assert!(value.len() <= 1);
        seen.extend(value.iter().map(|j| j["name"].as_str().unwrap().to_string()));
        match page.get("nextLink").and_then(Value::as_str) {
            Some(link) => {
                assert!(link.starts_with(&format!("{}/subscriptions/", emu.url)), "an absolute link: {link}");
                next = link.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, ["j2", "j3", "j0", "j1"]);

    // A resource group's list in one page.
    let (status, page) = emu.call(
        "GET",
        "/subscriptions/SUB-1/resourceGroups/rg-B/providers/Microsoft.ImportExport/jobs",
        None,
    );
    assert_eq!(status, 200);
    let names: Vec<&str> =
        page["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["j0", "j1"]);
    assert!(page.get("nextLink").is_none());
    // An empty scope lists nothing; a bad $top or $skipToken is refused.
    let (status, page) = emu.call("GET", "/subscriptions/other/providers/Microsoft.ImportExport/jobs", None);
    assert_eq!((status, page), (200, json!({"value": []})));
    let list = "/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs";
    refused(&emu, "GET", &format!("{list}?{}&$top=0", common::V), None, 400, "InvalidRequest");
    refused(&emu, "GET", &format!("{list}?{}&$top=101", common::V), None, 400, "InvalidRequest");
    refused(&emu, "GET", &format!("{list}?{}&$skipToken=zz", common::V), None, 400, "InvalidRequest");
}

#[test]
fn update_rules_and_malformed_bodies_change_nothing() {
    let emu = start_virtual("update");
    let path = drive_to(&emu, "u", "Creating");
    refused(
        &emu,
        "PATCH",
        &path,
        Some(&json!({"properties": {"cancelRequested": false}})),
        400,
        "InvalidRequest",
    );
    refused(&emu, "PATCH", &path, Some(&json!({"properties": {"state": "Closed"}})), 400, "InvalidRequest");
    refused(&emu, "PATCH", &path, Some(&json!({"properties": {"state": "Shipping"}})), 400, "InvalidRequest");
    refused(&emu, "PATCH", &path, None, 400, "InvalidRequest");
    refused(&emu, "PATCH", &job_path("rg-states", "nobody"), Some(&ship_body()), 404, "JobNotFound");
    refused(
        &emu,
        "PUT",
        &job_path("rg-states", "bad"),
        Some(&json!({"location": "x", "properties": {"jobType": 5}})),
        400,
        "InvalidRequest",
    );
    refused(&emu, "PUT", &job_path("rg-states", "bad"), Some(&json!([1, 2])), 400, "InvalidRequest");
    refused(&emu, "PUT", &job_path("rg-states", "bad"), None, 400, "InvalidRequest");
    refused(&emu, "PUT", &job_path("rg.", "bad"), Some(&create_body()), 400, "InvalidRequest");
    refused(
        &emu,
        "PUT",
        &job_path("rg-states", &"n".repeat(300)),
        Some(&create_body()),
        400,
        "InvalidRequest",
    );
    // Tags change in any state; the answer shows them.
    let (status, body) = emu.call("PATCH", &path, Some(&json!({"tags": {"team": "data"}})));
    assert_eq!((status, &body["tags"]), (200, &json!({"team": "data"})), "{body}");
}
