//! Hostile input and forged state: every way an untrusted caller was once able to slip
//! something past the crate, replayed as a named regression test. Each test feeds the input as
//! an attacker would write it and checks that it is refused with a message naming the place,
//! and that the refusal changed nothing.

mod common;

use import_export_lifecycle::arm::{Config, Service, run_script};
use import_export_lifecycle::scenarios::Scenario;
use import_export_lifecycle::{Event, Job, Policy, Registry};

/// A scenario of one step at `at`.
fn one_step_at(at: &str) -> String {
    format!(r#"{{"steps": [{{"at": "{at}", "op": "list"}}]}}"#)
}

/// A stored job in `Creating` whose three instants are `at`.
fn job_at(at: &str) -> String {
    format!(
        r#"{{"formatVersion": 1, "name": "job-1", "jobType": "Import", "state": "Creating", "cancelRequested": false,
            "driveList": [{{"driveId": "D1", "state": "Specified", "bytesSucceeded": 0}}],
            "stages": [{{"stageName": "Creating", "stageTime": "{at}"}}],
            "createdAt": "{at}", "stateEnteredAt": "{at}", "updatedAt": "{at}"}}"#
    )
}

const LOOSE_INSTANTS: [&str; 8] = [
    "20260101T000000Z",
    "2026-01-01T00Z",
    "2026-01-01T00:00Z",
    "2026-01-01T00:00:00+0530",
    "2026-01-01T00:00:00+25:59:59",
    "2026-01-01T00:00:00+05:30:00",
    "2026-01-01 00:00:00Z",
    "2026-01-01T00:00:00",
];

#[test]
fn r_input_1_instants_looser_than_rfc_3339_are_refused_on_every_surface() {
    for at in LOOSE_INSTANTS {
        let e = Scenario::from_json(&one_step_at(at)).unwrap_err();
        assert_eq!((e.step, e.field.as_deref()), (Some(1), Some("at")), "{at}: {e}");
        assert!(e.message.contains("RFC 3339"), "{e}");
        let e = serde_json::from_str::<Job>(&job_at(at)).unwrap_err();
        assert!(e.to_string().contains("RFC 3339"), "{at}: {e}");
        let event = format!(r#"{{"at": "{at}", "job": "job-1", "event": "deleted"}}"#);
        assert!(serde_json::from_str::<Event>(&event).is_err(), "{at}");
        let line = format!(
            r#"{{"at": "{at}", "method": "GET", "path": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ImportExport/jobs"}}"#
        );
        let mut service = Service::new(Config::default(), Policy::default());
        let e = run_script(&mut service, &line).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (1, Some("at")), "{at}: {e}");
    }
    // The profile itself, with an offset, is read on every surface.
    assert!(Scenario::from_json(&one_step_at("2026-01-01T05:30:00+05:30")).is_ok());
    let job: Job = serde_json::from_str(&job_at("2026-01-01T05:30:00+05:30")).unwrap();
    assert_eq!(job.created_at().to_string(), "2026-01-01T00:00:00Z");
}

#[test]
fn r_input_1_a_leap_second_is_refused_saying_so() {
    // Once read as :59 at any minute, and then a real leap second failed "never go back in time".
    for at in ["2026-01-01T12:00:60Z", "2016-12-31T23:59:60Z"] {
        let e = Scenario::from_json(&one_step_at(at)).unwrap_err();
        assert!(e.message.contains("leap seconds"), "{e}");
        let e = serde_json::from_str::<Job>(&job_at(at)).unwrap_err();
        assert!(e.to_string().contains("leap seconds"), "{e}");
    }
}

#[test]
fn r_input_1_an_instant_out_of_range_names_the_supported_range() {
    let e = Scenario::from_json(&one_step_at("9999-12-31T23:59:59Z")).unwrap_err();
    assert!(
        e.message.contains("supported range, -009999-01-02T01:59:59Z to 9999-12-30T22:00:00.999999999Z"),
        "{e}"
    );
}

#[test]
fn r_input_1_every_instant_the_model_holds_survives_json() {
    use import_export_lifecycle::Timestamp;
    for at in [Timestamp::MIN, Timestamp::MAX] {
        let job: Job = serde_json::from_str(&job_at(&at.to_string())).unwrap();
        assert_eq!(job.created_at(), at);
        let registry = Registry::default();
        let text = serde_json::to_string(&registry).unwrap();
        assert_eq!(serde_json::from_str::<Registry>(&text).unwrap(), registry);
    }
}

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";

fn job_path(group: &str, job: &str) -> String {
    format!("{SUB}/resourceGroups/{group}/providers/Microsoft.ImportExport/jobs/{job}?api-version=2021-01-01")
}

/// The PUT body of the sample script's first line: an import job with drives.
fn put_body() -> serde_json::Value {
    let sample = include_str!("../docs/arm/sample.jsonl");
    let first: serde_json::Value = serde_json::from_str(sample.lines().next().unwrap()).unwrap();
    first["body"].clone()
}

/// A script line: `{"at", "method", "path", "body"}`.
fn request(at: &str, method: &str, path: &str, body: Option<serde_json::Value>) -> String {
    let mut line = serde_json::json!({ "at": at, "method": method, "path": path });
    if let Some(body) = body {
        line["body"] = body;
    }
    line.to_string()
}

/// Runs `lines` on a fresh service and returns each line's last answer (status and body).
fn answers(service: &mut Service, lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let out = import_export_lifecycle::arm::run_line(service, i + 1, line).unwrap();
            serde_json::from_str(out.last().unwrap()).unwrap()
        })
        .collect()
}

fn created(service: &mut Service) -> String {
    let path = job_path("rg", "job-1");
    let put = request("2026-01-05T09:00:00Z", "PUT", &path, Some(put_body()));
    assert_eq!(answers(service, &[put])[0]["status"], 201);
    path
}

#[test]
fn r_input_1_an_arm_body_that_is_an_array_is_refused_and_changes_nothing() {
    let mut service = Service::new(Config::default(), Policy::default());
    let path = created(&mut service);
    let get = request("2026-01-05T09:00:01Z", "GET", &path, None);
    let before = answers(&mut service, std::slice::from_ref(&get));
    for body in [
        serde_json::json!([null, {"cancelRequested": true}]),
        serde_json::json!([]),
        serde_json::json!({"properties": [true]}),
    ] {
        let patch = request("2026-01-05T09:00:01Z", "PATCH", &path, Some(body.clone()));
        let answer = &answers(&mut service, &[patch])[0];
        assert_eq!(answer["status"], 400, "{body}: {answer}");
        assert_eq!(answers(&mut service, std::slice::from_ref(&get)), before, "{body} changed the job");
    }
    let mut array = vec![serde_json::json!("West US"), serde_json::Value::Null];
    array.push(put_body()["properties"].clone());
    let put = request("2026-01-05T09:00:01Z", "PUT", &job_path("rg", "job-2"), Some(array.into()));
    assert_eq!(answers(&mut service, &[put])[0]["status"], 400);
    let get2 = request("2026-01-05T09:00:01Z", "GET", &job_path("rg", "job-2"), None);
    assert_eq!(answers(&mut service, &[get2])[0]["status"], 404);
}

#[test]
fn r_input_1_stored_forms_and_configs_are_never_read_from_arrays() {
    use import_export_lifecycle::strict::from_json;
    let e = Scenario::from_json(r#"{"policy": [0, 0, 0, "CreatingOnly"], "steps": []}"#).unwrap_err();
    assert_eq!((e.step, e.field.as_deref()), (None, Some("policy")), "{e}");
    assert!(from_json::<Config>("[]").is_err());
    assert!(from_json::<Policy>(r#"[0, 0, 0, "CreatingOnly"]"#).is_err());
    assert!(serde_json::from_str::<Policy>(r#"[0, 0, 0, "CreatingOnly"]"#).is_err());
    let registry = r#"[1, [0, 0, 0, "BeforePackaging"], []]"#;
    assert!(serde_json::from_str::<Registry>(registry).is_err());
    let registry = r#"{"formatVersion": 1, "policy": [0, 0, 0, "BeforePackaging"], "jobs": []}"#;
    assert!(serde_json::from_str::<Registry>(registry).is_err());
    let job: serde_json::Value = serde_json::from_str(&job_at("2026-01-05T09:00:00Z")).unwrap();
    let as_array: Vec<serde_json::Value> = job.as_object().unwrap().values().cloned().collect();
    assert!(serde_json::from_str::<Job>(&serde_json::Value::from(as_array).to_string()).is_err());
    let mut drive_as_array = job.clone();
    drive_as_array["driveList"][0] = serde_json::json!(["D1", "Specified", 0]);
    assert!(serde_json::from_str::<Job>(&drive_as_array.to_string()).is_err());
    for event in [
        r#"["2026-01-05T09:00:00Z", "job-1", "deleted"]"#,
        r#"{"at": "2026-01-05T09:00:00Z", "job": "job-1", "event": "shipped", "deliveryPackage": ["FedEx", "1"]}"#,
    ] {
        assert!(serde_json::from_str::<Event>(event).is_err(), "{event}");
    }
    assert!(serde_json::from_str::<import_export_lifecycle::Command>(r#"["cancel", "job-1"]"#).is_err());
    // The object forms are read as before.
    assert!(serde_json::from_str::<Event>(r#"{"at": "2026-01-05T09:00:00Z", "job": "job-1", "event": "shipped", "deliveryPackage": {"carrierName": "FedEx"}}"#).is_ok());
    assert!(from_json::<Config>("{}").is_ok());
}

#[test]
fn r_input_1_a_duplicate_key_is_refused_naming_it() {
    let mut service = Service::new(Config::default(), Policy::default());
    let path = created(&mut service);
    let line =
        format!(r#"{{"at": "2026-01-05T09:00:01Z", "method": "GET", "method": "DELETE", "path": "{path}"}}"#);
    let e = import_export_lifecycle::arm::run_line(&mut service, 7, &line).unwrap_err();
    assert_eq!(e.line, 7);
    assert!(e.message.contains("duplicate key `method`"), "{e}");
    let get = request("2026-01-05T09:00:02Z", "GET", &path, None);
    assert_eq!(answers(&mut service, &[get])[0]["status"], 200, "the job is still there");

    let step = r#"{"at": "2026-01-05T09:00:00Z", "op": "create", "job": "a", "job": "b", "type": "Export"}"#;
    let e = Scenario::from_json(&format!(r#"{{"steps": [{step}]}}"#)).unwrap_err();
    assert_eq!((e.step, e.field.as_deref()), (Some(1), Some("job")), "{e}");
    assert!(e.message.contains("duplicate key `job`"), "{e}");
    let e = Scenario::from_json(r#"{"steps": [], "steps": []}"#).unwrap_err();
    assert!(e.message.contains("duplicate key `steps`"), "{e}");
    let event = r#"{"at": "2026-01-05T09:00:00Z", "job": "job-1", "job": "job-2", "event": "deleted"}"#;
    assert!(serde_json::from_str::<Event>(event).unwrap_err().to_string().contains("duplicate key `job`"));
    let mut job = job_at("2026-01-05T09:00:00Z");
    job = job.replacen(r#""state": "Creating","#, r#""state": "Creating", "state": "Completed","#, 1);
    assert!(serde_json::from_str::<Job>(&job).is_err());
}

#[test]
fn r_input_1_errors_name_the_step_or_line_and_the_field() {
    let step =
        r#"{"at": "2026-01-05T09:00:00Z", "op": "progress", "job": "j", "drive": "D1", "bytes": 1e400}"#;
    let e = Scenario::from_json(&format!(r#"{{"steps": [{step}, {step}]}}"#)).unwrap_err();
    assert_eq!((e.step, e.field.as_deref()), (Some(1), Some("bytes")), "{e}");
    assert!(e.to_string().starts_with("step 1, field `bytes`: "), "{e}");

    let mut service = Service::new(Config::default(), Policy::default());
    let path = created(&mut service);
    let line = format!(r#"{{"at": "2026-01-05T09:00:01Z", "path": "{path}", "op": "shipBack", "extra": 1}}"#);
    let e = import_export_lifecycle::arm::run_line(&mut service, 3, &line).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (3, Some("extra")), "{e}");
    assert!(e.message.contains("unknown field for `shipBack`"), "{e}");
    let line = format!(
        r#"{{"at": "2026-01-05T09:00:01Z", "path": "{path}", "op": "progress", "drive": "D1", "job": "x"}}"#
    );
    let e = import_export_lifecycle::arm::run_line(&mut service, 4, &line).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("job"), "{e}");
}

#[test]
fn r_input_1_a_scenario_read_with_serde_runs_the_checks_of_from_json() {
    let back_in_time = r#"{"steps": [
        {"at": "2026-01-05T09:00:00Z", "op": "list"},
        {"at": "2026-01-05T08:00:00Z", "op": "list"}]}"#;
    let e = serde_json::from_str::<Scenario>(back_in_time).unwrap_err();
    assert!(e.to_string().contains("steps never go back in time"), "{e}");
    assert!(Scenario::from_json(back_in_time).is_err());
    let fine = r#"{"steps": [{"at": "2026-01-05T09:00:00Z", "op": "list"}]}"#;
    assert_eq!(serde_json::from_str::<Scenario>(fine).unwrap(), Scenario::from_json(fine).unwrap());
    // A scenario survives its own JSON.
    let scenario = Scenario::from_json(fine).unwrap();
    let text = serde_json::to_string(&scenario).unwrap();
    assert_eq!(Scenario::from_json(&text).unwrap(), scenario);
}

#[test]
fn r_input_1_text_output_escapes_control_characters() {
    use import_export_lifecycle::scenarios::{Replay, Transcript, replay};
    let title = "\u{1b}[31mred\u{1b}[0m\n2026-01-05T09:00:00Z  step 9   delete  job-1  removed";
    let scenario = Scenario::from_json(
        &serde_json::json!({
            "title": title,
            "steps": [{"at": "2026-01-05T09:00:00Z", "op": "create", "job": "job-1", "type": "Export"}],
        })
        .to_string(),
    )
    .unwrap();
    let text = replay(&scenario).to_text();
    assert!(!text.contains('\u{1b}'), "{text}");
    assert_eq!(text.lines().count(), 3, "a title is one line, then a blank one, then the step: {text}");
    assert!(text.starts_with("\\u{1b}[31mred\\u{1b}[0m\\n2026-01-05T09:00:00Z"), "{text}");
    assert_eq!(Transcript::text_heading(title), text.lines().next().unwrap().to_string() + "\n\n");
    // The streamed lines are the collected ones.
    let streamed: Vec<String> = Replay::new(&scenario).map(|line| line.to_text()).collect();
    assert_eq!(streamed.join("\n") + "\n", text.split_once("\n\n").unwrap().1);
    // Errors that quote the input quote it escaped.
    let e =
        Scenario::from_json(r#"{"steps": [{"at": "2026-01-05T09:00:00Z", "op": "\u001b[2J"}]}"#).unwrap_err();
    assert!(!e.to_string().contains('\u{1b}') && e.to_string().contains("\\u{1b}[2J"), "{e}");
    let e = run_script(&mut Service::new(Config::default(), Policy::default()), "{\"at\": \"\u{1b}[2J\"}")
        .unwrap_err();
    assert!(!e.to_string().contains('\u{1b}'), "{e}");
}

#[test]
fn r_input_1_inputs_past_their_caps_are_refused_naming_the_cap() {
    use import_export_lifecycle::arm::MAX_LINE_BYTES;
    use import_export_lifecycle::scenarios::{MAX_SCENARIO_BYTES, MAX_STEPS, MAX_TITLE_CHARS};
    let big = format!(r#"{{"steps": [], "title": "{}"}}"#, "x".repeat(MAX_SCENARIO_BYTES));
    assert!(Scenario::from_json(&big).unwrap_err().message.contains(&MAX_SCENARIO_BYTES.to_string()));
    let long_title = format!(r#"{{"steps": [], "title": "{}"}}"#, "x".repeat(MAX_TITLE_CHARS + 1));
    let e = Scenario::from_json(&long_title).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("title"));
    assert!(e.message.contains(&MAX_TITLE_CHARS.to_string()), "{e}");
    let step = r#"{"at": "2026-01-05T09:00:00Z", "op": "list"}"#;
    let many = format!(r#"{{"steps": [{}]}}"#, vec![step; MAX_STEPS + 1].join(","));
    let e = Scenario::from_json(&many).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("steps"));
    assert!(e.message.contains(&MAX_STEPS.to_string()), "{e}");
    let line = format!(
        r#"{{"at": "2026-01-05T09:00:00Z", "method": "GET", "path": "{}"}}"#,
        "x".repeat(MAX_LINE_BYTES)
    );
    let e = run_script(&mut Service::new(Config::default(), Policy::default()), &line).unwrap_err();
    assert!(e.message.contains(&MAX_LINE_BYTES.to_string()), "{e}");
}

#[test]
fn r_input_1_stored_arm_records_are_read_strictly() {
    use import_export_lifecycle::arm::{BitLockerKeys, Record};
    let mut service = Service::new(Config::default(), Policy::default());
    created(&mut service);
    let stored = serde_json::to_value(&service).unwrap();
    let record = stored["records"][0].clone();
    assert!(serde_json::from_value::<Record>(record.clone()).is_ok());
    let as_array: Vec<serde_json::Value> = record.as_object().unwrap().values().cloned().collect();
    assert!(serde_json::from_str::<Record>(&serde_json::Value::from(as_array).to_string()).is_err());
    let mut job_as_array = record.clone();
    let job: Vec<serde_json::Value> = record["job"].as_object().unwrap().values().cloned().collect();
    job_as_array["job"] = job.into();
    assert!(serde_json::from_str::<Record>(&job_as_array.to_string()).is_err());
    let text = record.to_string().replacen(r#""location":"#, r#""location":"East US","location":"#, 1);
    let e = serde_json::from_str::<Record>(&text).unwrap_err();
    assert!(e.to_string().contains("duplicate"), "{e}");
    let keys = r#"{"formatVersion": 1, "keys": {"D1": "a", "D1": "b"}}"#;
    let e = serde_json::from_str::<BitLockerKeys>(keys).unwrap_err();
    assert!(e.to_string().contains("duplicate key `D1`"), "{e}");
    assert!(serde_json::from_str::<Service>(&serde_json::json!([]).to_string()).is_err());
    assert_eq!(serde_json::from_value::<Service>(stored).unwrap(), service);
}

/// A job the operators closed (R-TIMER-6) is recorded at the end of their wait and nowhere
/// else: shipped 2026-01-06T09:00Z, overdue 14 days later, closed 30 days after that, at
/// 2026-02-19T09:00Z. Stored closed an hour earlier or a day later, no history reaches it.
#[test]
fn r_input_3_a_job_the_operators_closed_is_read_only_closed_at_their_deadline() {
    let closed_at = |at: &str| {
        format!(
            r#"{{"formatVersion": 1, "name": "job-1", "jobType": "Import", "state": "Closed", "cancelRequested": false,
                "driveList": [{{"driveId": "D1", "state": "NeverReceived", "bytesSucceeded": 0}}],
                "deliveryPackage": {{"carrierName": "FedEx"}}, "packageOverdue": true,
                "stages": [{{"stageName": "Creating", "stageTime": "2026-01-05T09:00:00Z"}},
                           {{"stageName": "Shipping", "stageTime": "2026-01-06T09:00:00Z"}},
                           {{"stageName": "Closed", "stageTime": "{at}"}}],
                "createdAt": "2026-01-05T09:00:00Z", "stateEnteredAt": "{at}", "updatedAt": "{at}"}}"#
        )
    };
    let job: serde_json::Value = serde_json::from_str(&closed_at("2026-02-19T09:00:00Z")).unwrap();
    serde_json::from_str::<Registry>(&registry_of(job)).unwrap();
    for at in ["2026-02-19T08:00:00Z", "2026-02-20T09:00:00Z"] {
        let job: serde_json::Value = serde_json::from_str(&closed_at(at)).unwrap();
        let e = serde_json::from_str::<Registry>(&registry_of(job)).unwrap_err();
        assert!(e.to_string().contains("closed at another instant than the operators close it"), "{at}: {e}");
    }
}

/// A stored registry of one job, under the default policy.
fn registry_of(job: serde_json::Value) -> String {
    let policy = serde_json::to_value(Policy::default()).unwrap();
    serde_json::json!({ "formatVersion": 1, "policy": policy, "jobs": [job] }).to_string()
}

/// A stored job: `fields` over an import job in `Creating` with one drive, its stages every
/// state on the way at `createdAt`, then its state at `stateEnteredAt`.
fn forged(fields: serde_json::Value) -> serde_json::Value {
    let mut job: serde_json::Value = serde_json::from_str(&job_at("2026-01-05T09:00:00Z")).unwrap();
    for (k, v) in fields.as_object().unwrap() {
        job[k] = v.clone();
    }
    // Every state on the way, entered when the job was created, then its own.
    let path = ["Creating", "Shipping", "Received", "Transferring", "Packaging"];
    let state = job["state"].as_str().unwrap_or("Creating").to_string();
    let mut stages: Vec<serde_json::Value> = path
        .iter()
        .take_while(|s| **s != state)
        .map(|s| serde_json::json!({"stageName": s, "stageTime": job["createdAt"]}))
        .collect();
    stages.push(serde_json::json!({"stageName": state, "stageTime": job["stateEnteredAt"]}));
    job["stages"] = stages.into();
    job
}

#[test]
fn r_input_3_forged_stored_jobs_are_refused_naming_what_is_wrong() {
    use serde_json::json;
    let t = |s: &str| s.to_string();
    let drives = |list: &[(&str, &str, u64)]| {
        list.iter()
            .map(|(id, s, b)| json!({"driveId": id, "state": s, "bytesSucceeded": b}))
            .collect::<Vec<_>>()
    };
    let cases = [
        (
            "bytes on a Specified drive",
            json!({"driveList": drives(&[("D1", "Specified", 5)])}),
            "never started copying has bytesSucceeded",
        ),
        (
            "bytes on a Received drive",
            json!({"state": "Received", "stateEnteredAt": t("2026-01-06T09:00:00Z"), "updatedAt": t("2026-01-06T09:00:00Z"),
                   "deliveryPackage": {"carrierName": "FedEx"}, "driveList": drives(&[("D1", "Received", 5)])}),
            "never started copying has bytesSucceeded",
        ),
        (
            "a Closed uncancelled import job whose drives all NeverReceived",
            json!({"state": "Closed", "stateEnteredAt": t("2026-01-06T09:00:00Z"), "updatedAt": t("2026-01-06T09:00:00Z"),
                   "driveList": drives(&[("D1", "NeverReceived", 0)])}),
            "do not fit its state",
        ),
        (
            "a Completed uncancelled export job with no drives",
            json!({"jobType": "Export", "state": "Completed", "stateEnteredAt": t("2026-01-06T09:00:00Z"),
                   "updatedAt": t("2026-01-06T09:00:00Z"), "driveList": []}),
            "do not fit its state",
        ),
        (
            "packageOverdue an hour after shipping",
            json!({"state": "Shipping", "packageOverdue": true, "stateEnteredAt": t("2026-01-06T09:00:00Z"),
                   "updatedAt": t("2026-01-06T10:00:00Z"), "driveList": drives(&[("D1", "NeverReceived", 0)])}),
            "overdue before the shipping period ended",
        ),
        (
            "a Creating job whose stateEnteredAt is after createdAt",
            json!({"stateEnteredAt": t("2026-01-10T09:00:00Z"), "updatedAt": t("2026-01-10T09:00:00Z")}),
            "its stages are not its history",
        ),
        (
            "updatedAt after the job's own removal deadline",
            json!({"state": "Completed", "stateEnteredAt": t("2026-01-06T09:00:00Z"), "updatedAt": t("2026-04-06T09:00:00Z"),
                   "deliveryPackage": {"carrierName": "FedEx"}, "driveList": drives(&[("D1", "ShippedBack", 5)])}),
            "at or after its own timer's deadline",
        ),
        (
            "a deliveryPackage that names nothing",
            json!({"deliveryPackage": {}}),
            "a deliveryPackage names at least one of its details",
        ),
    ];
    for (what, fields, phrase) in cases {
        let job = forged(fields);
        let e = serde_json::from_str::<Registry>(&registry_of(job.clone())).unwrap_err();
        assert!(e.to_string().contains(phrase), "{what}: {e}");
    }
    // The one boundary each rule leaves: the job just before it is accepted.
    let fine = [
        json!({"state": "Completed", "stateEnteredAt": t("2026-01-06T09:00:00Z"), "updatedAt": t("2026-04-06T08:59:59Z"),
               "deliveryPackage": {"carrierName": "FedEx"}, "driveList": drives(&[("D1", "ShippedBack", 5)])}),
        json!({"state": "Shipping", "packageOverdue": true, "stateEnteredAt": t("2026-01-06T09:00:00Z"),
               "updatedAt": t("2026-01-20T09:00:00Z"), "driveList": drives(&[("D1", "NeverReceived", 0)])}),
    ];
    for fields in fine {
        let job = forged(fields);
        serde_json::from_str::<Registry>(&registry_of(job.clone())).unwrap_or_else(|e| panic!("{job}: {e}"));
    }
}

#[test]
fn r_gone_1_a_read_at_an_earlier_instant_agrees_with_a_command_under_a_zero_day_policy() {
    use import_export_lifecycle::{Command, JobName, JobType, Timestamp};
    let policy = Policy { retention_days: 0, ..Policy::default() };
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let job = JobName::new("job-1").unwrap();
    let mut registry = Registry::new(policy);
    registry
        .execute(
            at("2026-01-05T09:00:00Z"),
            &Command::Create { job: job.clone(), job_type: JobType::Export, drives: vec![] },
        )
        .result
        .unwrap();
    // A cancel in Creating completes the job at once: under a 0-day retention its timer is due
    // at that very instant.
    registry.execute(at("2026-01-05T10:00:00Z"), &Command::Cancel { job: job.clone() }).result.unwrap();
    let earlier = at("2026-01-05T09:30:00Z");
    let mut reader = registry.clone();
    let read = reader.get(earlier, &job);
    let command = registry.clone().execute(earlier, &Command::Delete { job: job.clone() });
    assert_eq!(read.result.as_ref().map(|_| ()).unwrap_err().code(), "JobNotFound", "the read shows the job");
    assert_eq!(command.result.unwrap_err().code(), "JobNotFound");
    assert_eq!(read.timers, command.timers, "both report the timer that fired");
    assert_eq!(read.timers.len(), 1);
    assert!(registry.clone().list(earlier).result.unwrap().is_empty());
}

#[test]
fn r_gone_1_no_arm_answer_shows_a_removed_job_under_a_zero_day_policy() {
    let policy = Policy { retention_days: 0, ..Policy::default() };
    let mut service = Service::new(Config::default(), policy);
    let sample: Vec<&str> = include_str!("../docs/arm/sample.jsonl").lines().collect();
    // The sample's job to its ship-back, at 2026-01-12T09:00:00Z: it is Completed, and under a
    // 0-day retention removed at that very instant.
    for (n, i) in [0usize, 4, 6, 7, 8, 9, 11].into_iter().enumerate() {
        let out = import_export_lifecycle::arm::run_line(&mut service, n + 1, sample[i]).unwrap();
        let answer: serde_json::Value = serde_json::from_str(out.last().unwrap()).unwrap();
        assert!(
            answer["status"].as_u64().is_none_or(|s| s < 300) && answer["ok"] != false,
            "line {i}: {answer}"
        );
    }
    let job = "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/resourceGroups/myResourceGroup/providers/Microsoft.ImportExport/jobs/myJob";
    let keys = request(
        "2026-01-12T07:00:00Z",
        "POST",
        &format!("{job}/listBitLockerKeys?api-version=2021-01-01"),
        None,
    );
    let out = import_export_lifecycle::arm::run_line(&mut service, 20, &keys).unwrap();
    assert!(out.iter().any(|l| l.contains("RetentionExpired")), "the timer that fired is reported: {out:?}");
    let answer: serde_json::Value = serde_json::from_str(out.last().unwrap()).unwrap();
    assert_eq!(answer["status"], 404, "{answer}");
    assert!(!out.iter().any(|l| l.contains("bitLockerKey\"")), "no key of a removed job: {out:?}");
    for (method, path) in [
        ("DELETE", format!("{job}?api-version=2021-01-01")),
        ("GET", format!("{job}?api-version=2021-01-01")),
    ] {
        let line = request("2026-01-12T06:00:00Z", method, &path, None);
        let out = import_export_lifecycle::arm::run_line(&mut service, 21, &line).unwrap();
        let answer: serde_json::Value = serde_json::from_str(out.last().unwrap()).unwrap();
        assert_eq!(answer["status"], 404, "{method}: {answer}");
    }
}

// ---------------------------------------------------------------------------------------------
// Every input surface, fed random bytes and random JSON: a clear error or a correct answer,
// never a panic, and a refusal changes nothing.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: common::cases(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/hostile.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Keys the input surfaces read, so random objects reach past the first check.
const KEYS: &[&str] = &[
    "at",
    "op",
    "job",
    "type",
    "drives",
    "drive",
    "bytes",
    "result",
    "method",
    "path",
    "body",
    "steps",
    "title",
    "policy",
    "formatVersion",
    "name",
    "jobType",
    "state",
    "cancelRequested",
    "driveList",
    "driveId",
    "bytesSucceeded",
    "stages",
    "stageName",
    "stageTime",
    "createdAt",
    "stateEnteredAt",
    "updatedAt",
    "event",
    "properties",
    "location",
    "retentionDays",
    "jobs",
    "records",
    "keys",
];

/// Random JSON text: scalars of every kind (instants loose and strict, control characters,
/// numbers out of range), arrays, objects whose keys may repeat, nested up to 8 levels.
fn arb_json() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("1e400".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "2026-01-05T09:00:00Z",
            "20260101T000000Z",
            "2026-01-01T23:59:60Z",
            "Creating",
            "Import",
            "Export",
            "D1",
            "job-1",
            "GET",
            "PUT",
            "PATCH",
            "DELETE",
            "create",
            "list",
            "ship",
            "\u{1b}[31m",
            "a\nb",
            "",
            "9999-12-31T23:59:59Z",
        ])
        .prop_map(|s| serde_json::Value::from(s).to_string()),
    ];
    scalar.prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|fields| {
                let fields: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// A valid document made hostile: an object turned into the array of its values, a key
/// repeated, or the whole wrapped in an array or nested deeply.
fn mutate(valid: &serde_json::Value, how: u8, depth: usize) -> String {
    let text = valid.to_string();
    match how % 4 {
        0 => {
            fn arrays(v: &serde_json::Value, pick: &mut usize) -> serde_json::Value {
                match v {
                    serde_json::Value::Object(map) => {
                        *pick = pick.wrapping_sub(1);
                        let values: Vec<serde_json::Value> = map.values().map(|x| arrays(x, pick)).collect();
                        if *pick == 0 {
                            serde_json::Value::Array(values)
                        } else {
                            serde_json::Value::Object(
                                map.iter().map(|(k, x)| (k.clone(), arrays(x, pick))).collect(),
                            )
                        }
                    }
                    serde_json::Value::Array(items) => items.iter().map(|x| arrays(x, pick)).collect(),
                    other => other.clone(),
                }
            }
            let mut pick = depth + 1;
            arrays(valid, &mut pick).to_string()
        }
        1 => match text.find("\":") {
            // Repeat the first key with another value.
            Some(i) => {
                let start = text[..i].rfind('"').unwrap_or(0);
                format!("{}{}:null,{}", &text[..start], &text[start..=i], &text[start..])
            }
            None => text,
        },
        2 => format!("[{text}]"),
        _ => format!("{}{text}{}", "[".repeat(depth * 40), "]".repeat(depth * 40)),
    }
}

/// The valid documents the mutations start from: a stored job, a registry, an event, a
/// scenario, a script line.
fn valid_documents() -> Vec<serde_json::Value> {
    let job: serde_json::Value = serde_json::from_str(&job_at("2026-01-05T09:00:00Z")).unwrap();
    vec![
        job.clone(),
        serde_json::from_str(&registry_of(job)).unwrap(),
        serde_json::json!({"at": "2026-01-05T09:00:00Z", "job": "job-1", "event": "shipped", "deliveryPackage": {"carrierName": "FedEx"}}),
        serde_json::json!({"title": "t", "policy": {"retentionDays": 1}, "steps": [{"at": "2026-01-05T09:00:00Z", "op": "create", "job": "j", "type": "Export"}]}),
        serde_json::from_str(include_str!("../docs/arm/sample.jsonl").lines().next().unwrap()).unwrap(),
    ]
}

/// Feeds `text` to every input surface. Each answers an error that names a place or a value
/// that reads back as itself; a refused script line leaves the service as it was.
fn feed(text: &str) -> Result<(), TestCaseError> {
    use import_export_lifecycle::arm::{BitLockerKeys, Record};
    use import_export_lifecycle::strict::from_json;
    use import_export_lifecycle::{Command, instant};
    fn round_trips<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
        text: &str,
    ) -> Result<(), TestCaseError> {
        if let Ok(value) = serde_json::from_str::<T>(text) {
            let again: T = serde_json::from_str(&serde_json::to_string(&value).unwrap()).map_err(|e| {
                TestCaseError::fail(format!("accepted {text}, but its own JSON is refused: {e}"))
            })?;
            prop_assert_eq!(again, value);
        }
        Ok(())
    }
    round_trips::<Job>(text)?;
    round_trips::<Registry>(text)?;
    round_trips::<Event>(text)?;
    round_trips::<Command>(text)?;
    round_trips::<Policy>(text)?;
    round_trips::<Record>(text)?;
    round_trips::<BitLockerKeys>(text)?;
    round_trips::<Service>(text)?;
    let _ = from_json::<Config>(text);
    let _ = instant::parse(text);
    match Scenario::from_json(text) {
        Ok(scenario) => {
            let again = Scenario::from_json(&serde_json::to_string(&scenario).unwrap()).unwrap();
            prop_assert_eq!(again, scenario);
        }
        Err(e) => {
            let clean = !e.message.is_empty() && !e.to_string().contains('\u{1b}');
            prop_assert!(clean, "an unclear or unescaped error: {:?}", e);
        }
    }
    let mut service = Service::new(Config::default(), Policy::default());
    created(&mut service);
    let before = service.clone();
    match import_export_lifecycle::arm::run_line(&mut service, 2, text) {
        Ok(_) => {}
        Err(e) => {
            prop_assert_eq!(e.line, 2);
            prop_assert!(service == before, "a refused line changed the service");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// R-INPUT-1: random bytes on every surface.
    #[test]
    fn r_input_1_random_bytes_get_a_clear_error_on_every_input_surface(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        feed(&String::from_utf8_lossy(&bytes))?;
    }

    /// R-INPUT-1: random JSON (arrays, repeated keys, nesting) on every surface.
    #[test]
    fn r_input_1_random_json_gets_a_clear_error_or_a_correct_answer_on_every_input_surface(text in arb_json()) {
        feed(&text)?;
    }

    /// R-INPUT-1, R-INPUT-3: valid documents turned hostile (an object as an array, a key twice,
    /// wrapped, nested deep) are refused on every surface that would have read them.
    #[test]
    fn r_input_1_valid_documents_made_hostile_are_refused(doc in 0usize..5, how in any::<u8>(), depth in 0usize..6) {
        let valid = &valid_documents()[doc];
        let text = mutate(valid, how, depth);
        feed(&text)?;
        let refused = |t: &str| {
            serde_json::from_str::<Job>(t).is_err()
                && serde_json::from_str::<Registry>(t).is_err()
                && serde_json::from_str::<Event>(t).is_err()
                && Scenario::from_json(t).is_err()
        };
        let original = valid.to_string();
        if text != original {
            prop_assert!(refused(&text), "a hostile form was read: {}", text);
            let mut service = Service::new(Config::default(), Policy::default());
            let line = import_export_lifecycle::arm::run_line(&mut service, 1, &text);
            prop_assert!(line.is_err(), "a hostile script line was run: {}", text);
        }
    }
}
