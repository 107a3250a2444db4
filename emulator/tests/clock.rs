//! The virtual clock: moved by `POST /emulator/clock`, firing every due timer at its own
//! deadline; refused in `system` mode and backwards.

mod common;

use common::{create_body, fresh_dir, job_path, ship_body, start, start_virtual};
use serde_json::json;

const DAY: i64 = 86_400;

#[test]
fn a_job_left_in_creating_expires_after_14_days() {
    let emu = start_virtual("creating");
    let path = job_path("rg", "j");
    assert_eq!(emu.call("PUT", &path, Some(&create_body())).0, 201);
    let moved = emu.advance(14 * DAY - 1);
    assert_eq!(moved["fired"], json!([]));
    assert_eq!(emu.call("GET", &path, None).0, 200);
    let moved = emu.advance(1);
    assert_eq!(moved["now"], json!("2026-01-19T09:00:00Z"));
    let fired = moved["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 1, "{moved}");
    assert_eq!(fired[0]["event"]["event"], json!("creatingExpired"));
    assert_eq!(fired[0]["event"]["at"], json!("2026-01-19T09:00:00Z"));
    assert!(
        fired[0]["id"]
            .as_str()
            .unwrap()
            .ends_with("/resourceGroups/rg/providers/Microsoft.ImportExport/jobs/j")
    );
    assert_eq!(emu.call("GET", &path, None).0, 404);
    assert!(
        emu.dump().iter().all(|row| !row.starts_with("jobs:") && !row.starts_with("bitlocker_keys:")),
        "record and keys removed"
    );
}

#[test]
fn a_finished_job_is_kept_90_days_to_the_second() {
    let emu = start_virtual("retention");
    let path = job_path("rg", "done");
    assert_eq!(emu.call("PUT", &path, Some(&create_body())).0, 201);
    assert_eq!(emu.call("PATCH", &path, Some(&ship_body())).0, 200);
    let drive = "9CA995BB";
    for op in [
        json!({"op": "packageReceived", "drives": [drive]}),
        json!({"op": "startTransfer", "drive": drive}),
        json!({"op": "finishTransfer", "drive": drive, "result": "Completed"}),
    ] {
        assert_eq!(emu.datacenter(&path, op).0, 200);
    }
    // Finished at T0 + 1 day.
    emu.advance(DAY);
    assert_eq!(emu.datacenter(&path, json!({"op": "shipBack"})).0, 200);
    let (_, job) = emu.call("GET", &path, None);
    assert_eq!(job["properties"]["state"], json!("Completed"));
    // Several jumps that all end before the deadline fire nothing.
    emu.advance(45 * DAY);
    let moved = emu.advance(45 * DAY - 1);
    assert_eq!(moved["now"], json!("2026-04-06T08:59:59Z"));
    assert_eq!(moved["fired"], json!([]));
    assert_eq!(emu.call("GET", &path, None).0, 200, "visible at 90 days minus one second");
    let moved = emu.call("POST", "/emulator/clock", Some(&json!({"set": "2026-04-06T09:00:00Z"}))).1;
    assert_eq!(moved["fired"][0]["event"]["event"], json!("retentionExpired"));
    assert_eq!(moved["fired"][0]["event"]["at"], json!("2026-04-06T09:00:00Z"));
    assert_eq!(emu.call("GET", &path, None).0, 404, "gone at 90 days");
}

#[test]
fn one_jump_fires_every_timer_at_its_own_deadline_in_order() {
    let emu = start_virtual("jump");
    // Created at T0, T0+1d, T0+2d: each expires 14 days after its own creation.
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        if i > 0 {
            emu.advance(DAY);
        }
        assert_eq!(emu.call("PUT", &job_path("rg", name), Some(&create_body())).0, 201);
    }
    // A cancelled job whose package never comes completes after 14 days in Shipping and is then
    // kept 90 days from that deadline, not from when the clock was moved.
    let path = job_path("rg", "never");
    assert_eq!(emu.call("PUT", &path, Some(&create_body())).0, 201);
    assert_eq!(emu.call("PATCH", &path, Some(&ship_body())).0, 200);
    assert_eq!(emu.call("PATCH", &path, Some(&json!({"properties": {"cancelRequested": true}}))).0, 200);
    let moved = emu.advance(30 * DAY);
    let fired: Vec<(String, String)> = moved["fired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (f["event"]["at"].as_str().unwrap().to_string(), f["event"]["job"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        fired,
        [
            ("2026-01-19T09:00:00Z".to_string(), "a".to_string()),
            ("2026-01-20T09:00:00Z".to_string(), "b".to_string()),
            ("2026-01-21T09:00:00Z".to_string(), "c".to_string()),
            ("2026-01-21T09:00:00Z".to_string(), "never".to_string()),
        ],
        "{moved}"
    );
    let (_, job) = emu.call("GET", &path, None);
    assert_eq!(job["properties"]["state"], json!("Completed"));
    assert_eq!(job["systemData"]["lastModifiedAt"], json!("2026-01-21T09:00:00Z"), "{job}");
}

#[test]
fn the_clock_only_moves_forward_and_only_when_virtual() {
    let emu = start_virtual("backward");
    let before = emu.dump();
    for body in [
        json!({"advanceSeconds": -1}),
        json!({"set": "2026-01-05T08:59:59Z"}),
        json!({"set": "yesterday"}),
        json!({}),
        json!({"advanceSeconds": 1, "set": "2027-01-01T00:00:00Z"}),
        json!({"advanceSeconds": 1, "extra": true}),
    ] {
        let (status, answer) = emu.call("POST", "/emulator/clock", Some(&body));
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some("InvalidRequest")),
            "{body}: {answer}"
        );
    }
    assert_eq!(emu.dump(), before, "a refused move changes nothing");
    assert_eq!(emu.call("GET", "/emulator/clock", None).1, json!({"now": common::T0, "mode": "virtual"}));

    let system = start(&fresh_dir("system").join("db.sqlite3"), &[]);
    let (status, answer) = system.call("POST", "/emulator/clock", Some(&json!({"advanceSeconds": 1})));
    assert_eq!((status, answer["error"]["code"].as_str()), (409, Some("ClockNotVirtual")));
}

#[test]
fn a_restart_resumes_the_virtual_clock_and_start_moves_it_forward() {
    let mut emu = start_virtual("resume");
    let path = job_path("rg", "j");
    assert_eq!(emu.call("PUT", &path, Some(&create_body())).0, 201);
    emu.advance(DAY);
    assert!(emu.terminate());
    let db = emu.db.clone();
    let emu = start(&db, &["--clock", "virtual"]);
    assert_eq!(emu.call("GET", "/emulator/clock", None).1["now"], json!("2026-01-06T09:00:00Z"));
    drop(emu);
    // --start earlier than the stored time is refused; later moves the clock and fires timers.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_import-export-emulator"))
        .args(["--listen", "127.0.0.1:0", "--clock", "virtual", "--start", "2026-01-01T00:00:00Z", "--db"])
        .arg(&db)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    let emu = start(&db, &["--clock", "virtual", "--start", "2026-02-01T00:00:00Z"]);
    assert_eq!(emu.call("GET", &path, None).0, 404, "expired on 2026-01-19 while the clock jumped");
}

/// The machine's time, shifted by `seconds`, as RFC 3339 (to prepare jobs whose deadlines fall
/// near the real now).
fn real_now_plus(seconds: i64) -> String {
    #[allow(clippy::disallowed_methods, reason = "the system clock is what this test is about")]
    let now = jiff::Timestamp::now();
    (now + jiff::SignedDuration::from_secs(seconds)).to_string()
}

/// Rows of the `jobs` table.
fn job_rows(db: &std::path::Path) -> usize {
    common::dump(db).iter().filter(|row| row.starts_with("jobs:")).count()
}

#[test]
fn on_the_system_clock_timers_fire_on_their_own_and_at_startup() {
    let db = fresh_dir("system-timers").join("db.sqlite3");
    // Two jobs made on a virtual clock: one whose 14 days in Creating ended a day ago, one whose
    // end comes 6 seconds from now.
    let mut emu = start(&db, &["--clock", "virtual", "--start", &real_now_plus(-15 * DAY)]);
    assert_eq!(emu.call("PUT", &job_path("rg", "overdue"), Some(&create_body())).0, 201);
    let soon: jiff::Timestamp = real_now_plus(6).parse().unwrap();
    let created = (soon - jiff::SignedDuration::from_secs(14 * DAY)).to_string();
    emu.call("POST", "/emulator/clock", Some(&json!({"set": created})));
    assert_eq!(emu.call("PUT", &job_path("rg", "soon"), Some(&create_body())).0, 201);
    assert!(emu.terminate());
    assert_eq!(job_rows(&db), 2);

    // On the system clock: the overdue timer fires before the emulator listens, the other one
    // when its deadline comes, with no request to trigger it.
    let emu = start(&db, &[]);
    let now = || real_now_plus(0).parse::<jiff::Timestamp>().unwrap();
    if now() < soon - jiff::SignedDuration::from_secs(1) {
        assert_eq!(job_rows(&db), 1, "the overdue job expired at startup");
    }
    let give_up = soon + jiff::SignedDuration::from_secs(15);
    while job_rows(&db) > 0 && now() < give_up {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(job_rows(&db), 0, "the deadline task fired the other timer on its own");
    assert!(now() >= soon, "and not before its deadline");
    drop(emu);
}
