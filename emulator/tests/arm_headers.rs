//! ARM's response headers: every answer, refusals included, carries a new `x-ms-request-id`
//! and an `x-ms-correlation-request-id` (the client's echoed when it is safe to echo, else a new
//! one); `Accept-Language` and `x-ms-client-tenant-id` are accepted and ignored.

mod common;

use std::collections::HashSet;

use common::{V, create_body, job_path, start_virtual};

/// Sends a request with `headers`; (status, request id, correlation id, body).
fn send(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> (u16, String, String, serde_json::Value) {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    let request = request.header("Content-Type", "application/json").body(bytes).unwrap();
    let mut response = common::agent().run(request).unwrap();
    let header = |name: &str| {
        let values: Vec<_> = response.headers().get_all(name).iter().collect();
        assert_eq!(values.len(), 1, "{name}: {values:?}");
        values[0].to_str().unwrap().to_string()
    };
    let (request_id, correlation) = (header("x-ms-request-id"), header("x-ms-correlation-request-id"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let value = if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap() };
    (status, request_id, correlation, value)
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn every_answer_carries_a_request_id_and_the_clients_correlation_id() {
    let emulator = start_virtual("arm-headers");
    let job = format!("{}{}?{V}", emulator.url, job_path("rg", "job-1"));
    let ignored =
        [("Accept-Language", "fr-FR"), ("x-ms-client-tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47")];
    let correlation = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let mut request_ids = HashSet::new();

    // Answers and refusals of every kind: created, read, emulator routes, 404, 400, 405.
    let with_client_id = [ignored[0], ignored[1], ("x-ms-correlation-request-id", correlation)];
    let cases: [(&str, String, Option<serde_json::Value>, u16); 6] = [
        ("PUT", job.clone(), Some(create_body()), 201),
        ("GET", job.clone(), None, 200),
        ("GET", format!("{}/emulator/health", emulator.url), None, 200),
        ("GET", format!("{}/nowhere", emulator.url), None, 404),
        ("GET", format!("{}{}", emulator.url, job_path("rg", "job-1")), None, 400),
        ("DELETE", format!("{}/emulator/health", emulator.url), None, 405),
    ];
    for (method, url, body, expected) in &cases {
        let (status, request_id, echoed, value) = send(url, method, &with_client_id, body.as_ref());
        assert_eq!(status, *expected, "{method} {url}: {value}");
        assert_eq!(echoed, correlation, "{method} {url}: the client's correlation id is echoed");
        assert!(is_guid(&request_id), "{method} {url}: x-ms-request-id {request_id:?}");
        assert!(request_ids.insert(request_id), "{method} {url}: a request id given twice");
        if status >= 400 {
            assert!(value["error"]["code"].is_string(), "{method} {url}: ARM's error body, got {value}");
        }
        // Without a correlation id of its own, the client gets a new one.
        let (_, _, fresh, _) = send(url, method, &ignored, body.as_ref());
        assert!(is_guid(&fresh) && fresh != correlation, "{method} {url}: new correlation id {fresh:?}");
    }

    // What cannot be echoed safely is replaced: too long, or characters outside the set.
    let long = "a".repeat(65);
    for unsafe_value in [long.as_str(), "a b", "x;y", "\"quoted\"", "<script>"] {
        let (status, _, echoed, _) =
            send(&job, "GET", &[("x-ms-correlation-request-id", unsafe_value)], None);
        assert_eq!(status, 200);
        assert!(is_guid(&echoed), "{unsafe_value:?} became {echoed:?}, not a new GUID");
    }
    let longest = "b".repeat(64);
    for fine in [longest.as_str(), "req_1.2:3-x"] {
        let (_, _, echoed, _) = send(&job, "GET", &[("x-ms-correlation-request-id", fine)], None);
        assert_eq!(echoed, fine);
    }
}
