//! A browser page of another origin cannot change the emulator: without `--token`, a web page
//! the user has open could otherwise post to `/emulator/clock` or `/emulator/datacenter` with a
//! plain-text body, which browsers send without asking. SDKs and `curl` send no `Origin`.

mod common;

use common::{create_body, job_path, start_virtual};

fn send(emu: &common::Emulator, method: &str, path: &str, origin: Option<&str>, body: &str) -> u16 {
    let mut request = ureq::http::Request::builder().method(method).uri(format!("{}{path}", emu.url));
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    let request = request.header("Content-Type", "text/plain").body(body.as_bytes().to_vec()).unwrap();
    let response = common::agent().run(request).unwrap();
    response.status().as_u16()
}

#[test]
fn a_page_of_another_origin_changes_nothing_and_the_emulators_own_page_and_clients_may() {
    let emu = start_virtual("origin");
    assert_eq!(emu.call("PUT", &job_path("rg", "j"), Some(&create_body())).0, 201);
    let before = emu.dump();
    let clock = r#"{"advanceSeconds": 86400}"#;
    let ship_back = format!(r#"{{"path": "{}", "op": "shipBack"}}"#, job_path("rg", "j"));
    for origin in ["https://attacker.example", "null", "http://127.0.0.1:1"] {
        assert_eq!(send(&emu, "POST", "/emulator/clock", Some(origin), clock), 403, "{origin}");
        assert_eq!(send(&emu, "POST", "/emulator/datacenter", Some(origin), &ship_back), 403, "{origin}");
        let path = format!("{}?{}", job_path("rg", "j"), common::V);
        assert_eq!(send(&emu, "DELETE", &path, Some(origin), ""), 403, "{origin}");
    }
    assert_eq!(emu.dump(), before, "nothing changed");
    assert_eq!(emu.call("GET", "/emulator/clock", None).1["now"], common::T0);
    // Reads from anywhere answer (a browser keeps the answer from the other page).
    assert_eq!(send(&emu, "GET", "/emulator/health", Some("https://attacker.example"), ""), 200);
    // The emulator's own origin, and clients that send none, may.
    let own = emu.url.clone();
    assert_eq!(send(&emu, "POST", "/emulator/clock", Some(&own), clock), 200);
    assert_eq!(send(&emu, "POST", "/emulator/clock", None, clock), 200);
}
