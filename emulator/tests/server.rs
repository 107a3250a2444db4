//! The server itself: its first line, health, auth, api-version, routes and limits. Every
//! refusal answers ARM's error body and leaves the database exactly as it was.

mod common;

use common::{create_body, fresh_dir, job_path, start, start_virtual};
use serde_json::{Value, json};

/// What is sent, to which URL, with which body, and the status and code expected.
type Case = (&'static str, String, Option<Vec<u8>>, u16, &'static str);

/// `status` and `code` from an ARM error body.
fn code(answer: &(u16, Value)) -> (u16, Option<&str>) {
    (answer.0, answer.1["error"]["code"].as_str())
}

#[test]
fn health_and_the_first_line() {
    // `start` checks the first line: `listening on http://127.0.0.1:PORT`, PORT not 0.
    let emu = start(&fresh_dir("health").join("db.sqlite3"), &[]);
    let (status, body) = emu.call("GET", "/emulator/health", None);
    assert_eq!((status, &body["status"], &body["mode"]), (200, &json!("ok"), &json!("system")));
    let (status, clock) = emu.call("GET", "/emulator/clock", None);
    assert_eq!((status, &clock["mode"]), (200, &json!("system")));
    assert!(clock["now"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
}

#[test]
fn malformed_requests_are_refused_with_arm_bodies_and_change_nothing() {
    let emu = start_virtual("malformed");
    let path = job_path("rg", "keep");
    assert_eq!(emu.call("PUT", &path, Some(&create_body())).0, 201);
    let before = emu.dump();
    let url = |p: &str| format!("{}{p}", emu.url);
    let body = serde_json::to_vec(&create_body()).unwrap();
    let new = job_path("rg", "new");
    let cases: Vec<Case> = vec![
        ("unknown route", url("/nothing/here"), None, 404, "NotFound"),
        (
            "other provider",
            url(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/jobs/x?api-version=2021-01-01",
            ),
            None,
            404,
            "NotFound",
        ),
        ("too many segments", url(&format!("{new}/a/b?api-version=2021-01-01")), None, 404, "NotFound"),
        ("no api-version", url(&new), Some(body.clone()), 400, "MissingApiVersionParameter"),
        (
            "unsupported api-version",
            url(&format!("{new}?api-version=2019-01-01")),
            Some(body.clone()),
            400,
            "InvalidApiVersionParameter",
        ),
        (
            "api-version twice",
            url(&format!("{new}?api-version=2021-01-01&api-version=2016-11-01")),
            Some(body.clone()),
            400,
            "InvalidApiVersionParameter",
        ),
        (
            "not JSON",
            url(&format!("{new}?api-version=2021-01-01")),
            Some(b"{\"location\": ".to_vec()),
            400,
            "InvalidRequest",
        ),
        (
            "not UTF-8",
            url(&format!("{new}?api-version=2021-01-01")),
            Some(vec![0xff, 0xfe, b'{']),
            400,
            "InvalidRequest",
        ),
        (
            "deeply nested",
            url(&format!("{new}?api-version=2021-01-01")),
            Some(format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
            400,
            "InvalidRequest",
        ),
        (
            "a key twice",
            url(&format!("{new}?api-version=2021-01-01")),
            Some(br#"{"location": "West US", "location": "East US", "properties": {}}"#.to_vec()),
            400,
            "InvalidRequest",
        ),
        (
            "wrong method",
            url(&format!("{new}/listBitLockerKeys?api-version=2021-01-01")),
            None,
            405,
            "InvalidRequest",
        ),
        (
            "bad name",
            url(&format!("{}?api-version=2021-01-01", job_path("rg", "a%2Fb"))),
            Some(body.clone()),
            400,
            "InvalidRequest",
        ),
    ];
    for (what, url, body, status, expected) in cases {
        let method = match what {
            "wrong method" => "DELETE",
            "unknown route" | "other provider" | "too many segments" => "GET",
            _ => "PUT",
        };
        let answer = emu.raw(method, &url, body.as_deref(), None);
        assert_eq!(code(&answer), (status, Some(expected)), "{what}: {}", answer.1);
        assert_eq!(emu.dump(), before, "{what} changed the database");
    }
    // Over 1 MiB: refused on the declared length before any byte is read, or once 1 MiB has
    // been read from a body whose length was not declared.
    let put = format!("{new}?api-version=2021-01-01");
    for chunked in [false, true] {
        let answer = oversized(&emu.url, &put, chunked);
        assert!(answer.starts_with("HTTP/1.1 413"), "chunked {chunked}: {answer}");
        assert!(answer.contains("\"code\":\"RequestEntityTooLarge\""), "{answer}");
        assert_eq!(emu.dump(), before, "an oversized body changed the database");
    }
    // A key given twice is refused wherever it is, never read as its last value: a PATCH that
    // would cancel, tags given twice, a datacenter operation named twice.
    let patch = url(&format!("{path}?api-version=2021-01-01"));
    for twice in [
        r#"{"properties": {"cancelRequested": false, "cancelRequested": true}}"#,
        r#"{"tags": {"a": "1"}, "tags": {"b": "2"}}"#,
        r#"{"tags": {"a": "1", "a": "2"}}"#,
    ] {
        let answer = emu.raw("PATCH", &patch, Some(twice.as_bytes()), None);
        assert_eq!(code(&answer), (400, Some("InvalidRequest")), "{twice}: {}", answer.1);
        assert!(answer.1.to_string().contains("duplicate key"), "{twice}: {}", answer.1);
        assert_eq!(emu.dump(), before, "{twice} changed the database");
    }
    let op_twice =
        format!(r#"{{"path": "{path}", "op": "shipBack", "op": "packageReceived", "drives": ["D1"]}}"#);
    let answer = emu.raw("POST", &url("/emulator/datacenter"), Some(op_twice.as_bytes()), None);
    assert_eq!(answer.0, 400, "{}", answer.1);
    assert!(answer.1.to_string().contains("duplicate key"), "{}", answer.1);
    assert_eq!(emu.dump(), before, "a datacenter operation named twice changed the database");
    // A method ARM does not use.
    let answer = emu.raw("OPTIONS", &url(&format!("{path}?api-version=2021-01-01")), None, None);
    assert_eq!(code(&answer), (405, Some("InvalidRequest")));
    // Every published api-version is accepted.
    for version in ["2016-11-01", "2020-08-01", "2021-01-01"] {
        let answer = emu.raw("GET", &url(&format!("{path}?api-version={version}")), None, None);
        assert_eq!(answer.0, 200, "{version}");
    }
    assert_eq!(emu.dump(), before);
}

#[test]
fn with_a_token_only_its_bearer_gets_in() {
    let emu = start(&fresh_dir("auth").join("db.sqlite3"), &["--clock", "virtual", "--token", "s3cret"]);
    let url = format!("{}{}?api-version=2016-11-01", emu.url, job_path("rg", "a"));
    let body = serde_json::to_vec(&create_body()).unwrap();
    let before = emu.dump();
    for token in [None, Some("wrong"), Some("s3cret2"), Some("S3CRET"), Some("")] {
        let answer = emu.raw("PUT", &url, Some(&body), token);
        assert_eq!(code(&answer), (401, Some("AuthenticationFailed")), "{token:?}");
        let answer =
            emu.raw("POST", &format!("{}/emulator/clock", emu.url), Some(b"{\"advanceSeconds\": 5}"), token);
        assert_eq!(code(&answer), (401, Some("AuthenticationFailed")), "the clock is guarded too");
    }
    assert_eq!(emu.dump(), before, "a refused caller changes nothing");
    // Health stays open; the right token gets in.
    assert_eq!(emu.raw("GET", &format!("{}/emulator/health", emu.url), None, None).0, 200);
    assert_eq!(emu.raw("PUT", &url, Some(&body), Some("s3cret")).0, 201);
    assert_eq!(emu.raw("GET", &url, None, Some("s3cret")).0, 200);
}

#[test]
fn without_a_token_any_caller_gets_in() {
    let emu = start_virtual("noauth");
    let url = format!("{}{}?api-version=2016-11-01", emu.url, job_path("rg", "a"));
    let body = serde_json::to_vec(&create_body()).unwrap();
    assert_eq!(emu.raw("PUT", &url, Some(&body), None).0, 201);
    assert_eq!(emu.raw("GET", &url, None, Some("anything")).0, 200);
}

#[test]
fn sigterm_closes_the_database_cleanly() {
    let mut emu = start_virtual("sigterm");
    assert_eq!(emu.call("PUT", &job_path("rg", "a"), Some(&create_body())).0, 201);
    // Writes and reads enough to leave pages in the WAL and readers' connections open.
    for i in 0..40 {
        let name = format!("j{i}");
        assert_eq!(emu.call("PUT", &job_path("rg", &name), Some(&create_body())).0, 201);
        assert_eq!(emu.call("GET", &job_path("rg", &name), None).0, 200);
    }
    assert!(emu.terminate(), "exit status 0 after SIGTERM");
    let wal = emu.db.with_extension("sqlite3-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "the WAL is checkpointed on close");
    let again = start(&emu.db, &["--clock", "virtual"]);
    assert_eq!(again.call("GET", &job_path("rg", "a"), None).0, 200);
}

#[test]
fn memory_database_serves_reads_from_the_writer() {
    let emu = common::start(std::path::Path::new(":memory:"), &["--clock", "virtual", "--start", common::T0]);
    let path = job_path("rg", "m");
    assert_eq!(emu.call("PUT", &path, Some(&create_body())).0, 201);
    assert_eq!(emu.call("GET", &path, None).0, 200);
    let (status, page) = emu.call("GET", "/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs", None);
    assert_eq!((status, page["value"].as_array().map(Vec::len)), (200, Some(1)));
}

/// Sends a PUT whose body is over 1 MiB over a raw socket (the server answers before reading
/// it all, which a regular client reports as a broken pipe); returns the raw answer.
fn oversized(base: &str, path: &str, chunked: bool) -> String {
    use std::io::{Read, Write};
    let address = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let size = (1 << 20) + 1;
    let head = if chunked {
        format!(
            "PUT {path} HTTP/1.1\r\nHost: {address}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
    } else {
        format!(
            "PUT {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
        )
    };
    stream.write_all(head.as_bytes()).unwrap();
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            if chunked {
                let chunk = vec![b' '; 64 * 1024];
                for _ in 0..(size / chunk.len() + 1) {
                    let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                    if stream.write_all(&framed).is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n");
            }
        })
    };
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let _ = writer.join();
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_damaged_row_answers_500_naming_it_and_never_takes_its_neighbours_down() {
    let mut emu = start_virtual("damaged");
    assert_eq!(emu.call("PUT", &job_path("rg", "good"), Some(&create_body())).0, 201);
    assert_eq!(emu.call("PUT", &job_path("rg", "bad"), Some(&create_body())).0, 201);
    assert!(emu.terminate());
    let conn = rusqlite::Connection::open(&emu.db).unwrap();
    conn.execute("UPDATE jobs SET record = '{\"formatVersion\": 1, \"scope\": 5}' WHERE name = 'bad'", [])
        .unwrap();
    drop(conn);
    // Its timer is due on restart: the sweep names it in the log and goes on.
    let emu = start(&emu.db, &["--clock", "virtual", "--start", "2026-02-01T00:00:00Z"]);
    let (status, body) = emu.call("GET", &job_path("rg", "bad"), None);
    assert_eq!((status, body["error"]["code"].as_str()), (500, Some("InternalError")), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("jobs row sub-1/rg/bad: record:"), "{message}");
    let (status, _) = emu.call("GET", &job_path("rg", "good"), None);
    assert_eq!(status, 404, "the good job's timer fired despite the damaged row");
    // A list that would show it answers the readable jobs, page after page; the row is named
    // once in the log and in the health answer.
    assert_eq!(emu.call("PUT", &job_path("rg", "new"), Some(&create_body())).0, 201);
    assert_eq!(emu.call("PUT", &job_path("rg", "zz"), Some(&create_body())).0, 201);
    for _ in 0..3 {
        let (status, body) =
            emu.call("GET", "/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs", None);
        let names: Vec<&str> =
            body["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap()).collect();
        assert_eq!((status, names), (200, vec!["new", "zz"]), "{body}");
    }
    // `bad` sorts first: a page of one that would start at it shows the next readable job.
    let first = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.ImportExport/jobs?api-version=2021-01-01&$top=1";
    let (status, page) = emu.call("GET", first, None);
    assert_eq!((status, page["value"][0]["name"].as_str()), (200, Some("new")), "{page}");
    let (status, page) = emu.call("GET", page["nextLink"].as_str().unwrap(), None);
    assert_eq!((status, page["value"][0]["name"].as_str()), (200, Some("zz")), "{page}");
    assert!(page.get("nextLink").is_none(), "{page}");
    let (status, health) = emu.call("GET", "/emulator/health", None);
    assert_eq!((status, &health["status"]), (200, &json!("degraded")), "{health}");
    let damaged = health["damagedRows"].as_array().unwrap();
    assert_eq!(damaged.len(), 1, "{health}");
    assert_eq!(damaged[0]["row"], json!("sub-1/rg/bad"));
    let log = std::fs::read_to_string(common::log_of(&emu.db)).unwrap();
    let named =
        log.lines().filter(|l| l.contains("jobs row sub-1/rg/bad: record:") && l.contains("skipped")).count();
    assert_eq!(named, 1, "named once in the log:\n{log}");
    let (status, body) = emu.call(
        "GET",
        "/subscriptions/sub-1/resourceGroups/other/providers/Microsoft.ImportExport/jobs",
        None,
    );
    assert_eq!((status, body), (200, json!({"value": []})));
}

/// A stored row that reads as JSON but holds a job no history reaches under the policy (its
/// package overdue an hour after shipping, R-INPUT-3) is refused like any damaged row: never
/// served, never fired.
#[test]
fn a_row_the_rules_could_never_produce_is_refused_naming_it() {
    let mut emu = start_virtual("forged");
    let path = job_path("rg", "forged");
    assert_eq!(emu.call("PUT", &path, Some(&create_body())).0, 201);
    assert_eq!(emu.call("PATCH", &path, Some(&common::ship_body())).0, 200);
    assert!(emu.terminate());
    let conn = rusqlite::Connection::open(&emu.db).unwrap();
    let text: String =
        conn.query_row("SELECT record FROM jobs WHERE name = 'forged'", [], |row| row.get(0)).unwrap();
    let mut record: Value = serde_json::from_str(&text).unwrap();
    record["job"]["packageOverdue"] = json!(true);
    for drive in record["job"]["driveList"].as_array_mut().unwrap() {
        drive["state"] = json!("NeverReceived");
    }
    let forged = serde_json::to_string(&record).unwrap();
    assert!(forged.starts_with(r#"{"formatVersion":2"#), "the version stays first: {forged}");
    conn.execute("UPDATE jobs SET record = ?1 WHERE name = 'forged'", [&forged]).unwrap();
    drop(conn);
    let emu = start(&emu.db, &["--clock", "virtual"]);
    let (status, body) = emu.call("GET", &path, None);
    assert_eq!((status, body["error"]["code"].as_str()), (500, Some("InternalError")), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("jobs row sub-1/rg/forged: record: job:"), "{message}");
}
