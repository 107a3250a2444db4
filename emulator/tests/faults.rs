//! The emulator under faults: what is accepted reads back, one process per database file, a
//! file deleted or replaced under it, another application's file, a timer that cannot fire,
//! the bearer scheme's spelling, a clock move firing more timers than its answer lists.

mod common;

use std::time::Duration;

use common::{create_body, fresh_dir, job_path, start, start_virtual, start_with_env};
use serde_json::{Value, json};

const LIST: &str = "/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs";

/// The largest job the bounds accept: 50 tags of the longest name and value, every text field
/// at 1,024 characters, ten drives with every detail at 1,024 characters.
fn largest_body() -> Value {
    let mut body = create_body();
    let tags: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("{i:02}{}", "n".repeat(510)), Value::String("v".repeat(256)))).collect();
    body["tags"] = Value::Object(tags);
    let text = |c: &str| Value::String(c.repeat(1024));
    let properties = &mut body["properties"];
    for field in [
        "recipientName",
        "streetAddress1",
        "streetAddress2",
        "city",
        "stateOrProvince",
        "postalCode",
        "countryOrRegion",
        "phone",
        "email",
    ] {
        properties["returnAddress"][field] = text("a");
    }
    properties["returnShipping"] = json!({"carrierName": text("c"), "carrierAccountNumber": text("n")});
    properties["diagnosticsPath"] = text("d");
    properties["storageAccountId"] = text("s");
    properties["driveList"] = Value::Array(
        (0..10)
            .map(|i| {
                json!({"driveId": format!("DRIVE{i}"), "bitLockerKey": text("k"), "manifestFile": text("m"),
                       "manifestHash": text("h"), "driveHeaderHash": text("x")})
            })
            .collect(),
    );
    body
}

#[test]
fn limits_the_largest_accepted_job_reads_back_and_one_tag_more_is_refused() {
    let emu = start_virtual("largest");
    let path = job_path("rg", "largest");
    let body = largest_body();
    let (status, created) = emu.call("PUT", &path, Some(&body));
    assert_eq!(status, 201, "{created}");
    let (status, got) = emu.call("GET", &path, None);
    assert_eq!((status, &got["tags"]), (200, &body["tags"]));
    let (status, list) = emu.call("GET", LIST, None);
    assert_eq!((status, list["value"].as_array().map(Vec::len)), (200, Some(1)));
    let (status, keys) = emu.call("POST", &format!("{path}/listBitLockerKeys"), None);
    assert_eq!((status, keys["value"].as_array().map(Vec::len)), (200, Some(10)), "{keys}");
    let (status, patched) = emu.call("PATCH", &path, Some(&json!({"tags": body["tags"]})));
    assert_eq!(status, 200, "{patched}");

    // One tag more, a tag value one character longer, a city one character longer: 400 naming
    // the field, and nothing changes.
    let before = emu.dump();
    let mut more = body.clone();
    more["tags"]["one-more"] = json!("v");
    let (status, refused) = emu.call("PATCH", &path, Some(&json!({"tags": more["tags"]})));
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("InvalidRequest")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().starts_with("tags: 51 tags"), "{refused}");
    let (status, refused) = emu.call("PUT", &job_path("rg", "more"), Some(&more));
    assert_eq!(status, 400, "{refused}");
    let mut long = create_body();
    long["tags"] = json!({"k": "v".repeat(257)});
    let (status, refused) = emu.call("PUT", &job_path("rg", "long"), Some(&long));
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().starts_with("tags.\"k\": 257 characters"));
    let mut city = create_body();
    city["properties"]["returnAddress"]["city"] = Value::String("c".repeat(1025));
    let (status, refused) = emu.call("PUT", &job_path("rg", "city"), Some(&city));
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["message"].as_str().unwrap().starts_with("properties.returnAddress.city: 1025"),
        "{refused}"
    );
    assert_eq!(emu.dump(), before, "a refused request changes nothing");

    let (status, _) = emu.call("DELETE", &path, None);
    assert_eq!(status, 200);
}

/// A body under the 1 MiB request limit whose record would be over what the reader accepts
/// (an export's blob lists, each entry within its bound) is refused before it is written.
#[test]
fn limits_a_record_larger_than_the_reader_accepts_is_refused_unwritten() {
    let emu = start_virtual("too-large");
    let mut body = create_body();
    body["properties"]["jobType"] = json!("Export");
    body["properties"]["driveList"] = json!([]);
    body["properties"]["export"] = json!({"blobList": {
        "blobPath": vec!["p".repeat(1024); 1000],
        "blobPathPrefix": vec!["q".repeat(1024); 10],
    }});
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    let before = emu.dump();
    let (status, refused) = emu.call("PUT", &job_path("rg", "export"), Some(&body));
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("bytes, more than"), "{refused}");
    assert_eq!(emu.dump(), before);
}

/// A damaged row with a due timer, on the system clock: named once, and the writer is not woken
/// every 10 ms to retry it.
#[test]
fn damaged_row_timer_is_not_retried_in_a_loop() {
    let dir = fresh_dir("damaged-timer");
    let db = dir.join("db.sqlite3");
    let mut emu = start(&db, &["--clock", "virtual", "--start", common::T0]);
    assert_eq!(emu.call("PUT", &job_path("rg", "bad"), Some(&create_body())).0, 201);
    assert!(emu.terminate());
    let conn = rusqlite::Connection::open(&db).unwrap();
    // Its deadline long past on the system clock, its record unreadable.
    conn.execute("UPDATE jobs SET record = '{\"formatVersion\": 1}', deadline = 1000 WHERE name = 'bad'", [])
        .unwrap();
    drop(conn);
    std::fs::write(common::log_of(&db), "").unwrap();
    let emu = start_with_env(&db, &[], &[("RUST_LOG", "info,writer=debug")]);
    std::thread::sleep(Duration::from_millis(1500));
    let (status, health) = emu.call("GET", "/emulator/health", None);
    assert_eq!((status, health["damagedRows"][0]["row"].as_str()), (200, Some("sub-1/rg/bad")), "{health}");
    let log = std::fs::read_to_string(common::log_of(&db)).unwrap();
    let named = log.lines().filter(|l| l.contains("jobs row sub-1/rg/bad")).count();
    let groups = log.lines().filter(|l| l.contains("group")).count();
    assert_eq!(named, 1, "{log}");
    assert!(groups < 10, "{groups} writer groups in 1.5 s: the timer is retried in a loop\n{log}");
}

/// Runs the binary on `db` to its end (bounded), for a start that must fail: whether it
/// exited 0, its stdout, its stderr.
fn run_to_exit(db: &std::path::Path) -> (bool, String, String) {
    let args = ["--listen", "127.0.0.1:0", "--clock", "virtual", "--db"].map(std::ffi::OsStr::new);
    let args: Vec<&std::ffi::OsStr> = args.into_iter().chain([db.as_os_str()]).collect();
    let (code, out, err) = common::run_to_exit(&args);
    (code == Some(0), out, err)
}

#[test]
fn owner_a_second_process_on_the_same_file_exits_before_listening() {
    let emu = start_virtual("second");
    let path = job_path("rg", "one");
    assert_eq!(emu.call("PUT", &path, Some(&create_body())).0, 201);
    let before = emu.dump();
    let (ok, out, err) = run_to_exit(&emu.db);
    assert!(!ok);
    assert_eq!(out, "", "it never listened");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains(&*emu.db.to_string_lossy()) && lines[0].contains("in use"), "{err}");
    // The owner goes on, and nothing changed.
    assert_eq!(emu.dump(), before);
    assert_eq!(emu.call("GET", &path, None).0, 200);
    assert_eq!(emu.call("PUT", &job_path("rg", "two"), Some(&create_body())).0, 201);
}

#[test]
fn owner_a_deleted_database_file_stops_acknowledging_writes() {
    let emu = start_virtual("deleted");
    assert_eq!(emu.call("PUT", &job_path("rg", "one"), Some(&create_body())).0, 201);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", emu.db.display()));
    }
    let (status, refused) = emu.call("PUT", &job_path("rg", "two"), Some(&create_body()));
    assert_eq!((status, refused["error"]["code"].as_str()), (503, Some("ServiceUnavailable")), "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("deleted") && message.contains(&*emu.db.to_string_lossy()), "{message}");
    assert_eq!(emu.call("PUT", &job_path("rg", "three"), Some(&create_body())).0, 503);
    let (status, health) = emu.call("GET", "/emulator/health", None);
    assert_eq!((status, &health["status"]), (503, &json!("degraded")), "{health}");
    let log = std::fs::read_to_string(common::log_of(&emu.db)).unwrap();
    let said = log.lines().filter(|l| l.contains("writer") && l.contains("was deleted")).count();
    assert_eq!(said, 1, "the writer says it once:\n{log}");
}

#[test]
fn owner_a_replaced_database_file_stops_acknowledging_writes() {
    let emu = start_virtual("replaced");
    assert_eq!(emu.call("PUT", &job_path("rg", "one"), Some(&create_body())).0, 201);
    let other = emu.db.with_file_name("other.sqlite3");
    std::fs::copy(&emu.db, &other).unwrap();
    std::fs::rename(&other, &emu.db).unwrap();
    let (status, refused) = emu.call("PUT", &job_path("rg", "two"), Some(&create_body()));
    assert_eq!(status, 503, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("replaced"), "{refused}");
}

#[test]
fn foreign_a_sqlite_file_of_another_application_is_refused_unchanged() {
    let dir = fresh_dir("foreign");
    let db = dir.join("theirs.sqlite3");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(&db).unwrap();
    let (ok, out, err) = run_to_exit(&db);
    assert!(!ok && out.is_empty());
    assert!(err.contains("another application's tables (table \"invoices\")"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "not one byte changed");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files.len(), 1, "no -wal or -shm beside it: {files:?}");
}

#[test]
fn auth_the_bearer_scheme_is_matched_without_regard_to_case() {
    let emu = start(&fresh_dir("bearer").join("db.sqlite3"), &["--token", "s3cret"]);
    let agent = common::agent();
    let status = |value: &str| {
        agent
            .get(format!("{}{LIST}?{}", emu.url, common::V))
            .header("Authorization", value)
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    for value in ["Bearer s3cret", "bearer s3cret", "BEARER s3cret", "bEaReR s3cret"] {
        assert_eq!(status(value), 200, "{value}");
    }
    for value in ["Bearer S3CRET", "Basic s3cret", "Bearers3cret", "Bearer", "s3cret"] {
        assert_eq!(status(value), 401, "{value}");
    }
}

/// 1,001 timers fire in one move: the answer lists the first 1,000 by time, says 1,001 fired
/// and that the list was cut.
#[test]
fn clock_a_move_answer_is_bounded() {
    let mut emu = start_virtual("bounded");
    assert_eq!(emu.call("PUT", &job_path("rg", "j0000"), Some(&create_body())).0, 201);
    assert!(emu.terminate());
    let mut conn = rusqlite::Connection::open(&emu.db).unwrap();
    let (record, deadline): (String, i64) =
        conn.query_row("SELECT record, deadline FROM jobs", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    let txn = conn.transaction().unwrap();
    for i in 1..=1000 {
        let name = format!("j{i:04}");
        let copy = record.replace("\"j0000\"", &format!("\"{name}\""));
        txn.execute(
            "INSERT INTO jobs VALUES ('sub-1', 'rg', ?1, ?2, ?3)",
            rusqlite::params![name, copy, deadline],
        )
        .unwrap();
    }
    txn.commit().unwrap();
    drop(conn);
    let emu = start(&emu.db, &["--clock", "virtual"]);
    let moved = emu.advance(15 * 86_400);
    assert_eq!(moved["firedCount"], json!(1001), "{}", moved["firedCount"]);
    assert_eq!(moved["firedTruncated"], json!(true));
    let fired = moved["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 1000);
    let ats: Vec<&str> = fired.iter().map(|f| f["event"]["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] <= w[1]), "in time order");
    let moved = emu.advance(1);
    assert_eq!((&moved["firedCount"], &moved["firedTruncated"]), (&json!(0), &json!(false)));
}
