//! The stored forms of `docs/formats.md`: every example there reads back as its type, checked,
//! and writes out again unchanged; a record of another format version is refused.

use std::collections::BTreeSet;

use import_export_lifecycle::{Command, Event, FORMAT_VERSION, Job, Policy, Registry};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const FORMATS: &str = include_str!("../docs/formats.md");

/// Every `<!-- stored form: NAME -->` example of the document, in order: (name, JSON).
fn examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = FORMATS.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("<!-- stored form: ").and_then(|l| l.strip_suffix(" -->")) else {
            continue;
        };
        assert_eq!(lines.next(), Some("```json"), "the form {name} is followed by a json block");
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        out.push((name.to_string(), body.join("\n")));
    }
    out
}

/// Reads `json` as `T` and writes it out again: the same JSON value.
fn reads_and_writes_back<T: Serialize + DeserializeOwned>(name: &str, json: &str) {
    let value: T = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("the {name} example does not read: {e}\n{json}"));
    let written = serde_json::to_value(&value).unwrap();
    let original: Value = serde_json::from_str(json).unwrap();
    assert_eq!(written, original, "the {name} example is not what the crate writes");
}

#[test]
fn every_stored_form_example_reads_back_and_writes_out_unchanged() {
    let examples = examples();
    let names: BTreeSet<&str> = examples.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["arm record", "bitlocker keys", "command", "event", "job", "policy", "registry"])
    );
    for (name, json) in &examples {
        match name.as_str() {
            "job" => reads_and_writes_back::<Job>(name, json),
            "event" => reads_and_writes_back::<Event>(name, json),
            "command" => reads_and_writes_back::<Command>(name, json),
            "policy" => reads_and_writes_back::<Policy>(name, json),
            "registry" => reads_and_writes_back::<Registry>(name, json),
            #[cfg(feature = "arm")]
            "arm record" => reads_and_writes_back::<import_export_lifecycle::arm::Record>(name, json),
            #[cfg(feature = "arm")]
            "bitlocker keys" => {
                reads_and_writes_back::<import_export_lifecycle::arm::BitLockerKeys>(name, json);
                let keys: import_export_lifecycle::arm::BitLockerKeys = serde_json::from_str(json).unwrap();
                assert!(!format!("{keys:?}").contains("238810"), "Debug never shows a key");
            }
            #[cfg(not(feature = "arm"))]
            "arm record" | "bitlocker keys" => {}
            other => panic!("docs/formats.md names a form the test does not know: {other}"),
        }
    }
}

/// The job example with its `formatVersion` (written first) replaced by `version`, or removed.
fn job_with_version(version: Option<&str>) -> String {
    let (_, json) = examples().into_iter().find(|(n, _)| n == "job").unwrap();
    let written = format!(r#""formatVersion": {FORMAT_VERSION},"#);
    assert!(json.starts_with(&format!("{{\n  {written}")), "the job example starts with its format version");
    let replacement = version.map_or(String::new(), |v| format!(r#""formatVersion": {v},"#));
    json.replacen(&written, &replacement, 1)
}

#[test]
fn a_record_of_another_format_version_is_refused_with_an_error_that_says_so() {
    assert_eq!(FORMAT_VERSION, 2);
    for known in ["1", "2"] {
        let read: Job = serde_json::from_str(&job_with_version(Some(known))).unwrap();
        assert_eq!(
            serde_json::to_value(&read).unwrap()["formatVersion"],
            FORMAT_VERSION,
            "written in the current version"
        );
    }
    for other in [3, 0, 99] {
        let e =
            serde_json::from_str::<Job>(&job_with_version(Some(&other.to_string()))).unwrap_err().to_string();
        assert!(
            e.contains(&format!("unsupported format version {other}: this reader knows versions 1 to 2")),
            "{e}"
        );
    }
    let e = serde_json::from_str::<Job>(&job_with_version(Some("-1"))).unwrap_err().to_string();
    assert!(e.contains("unsupported format version -1"), "{e}");
    let e = serde_json::from_str::<Job>(&job_with_version(Some(r#""1""#))).unwrap_err().to_string();
    assert!(e.contains("expected a format version from 1 to 2"), "{e}");
    let e = serde_json::from_str::<Job>(&job_with_version(None)).unwrap_err().to_string();
    assert!(e.contains("missing field `formatVersion`"), "{e}");
}

#[test]
fn a_newer_record_with_a_field_this_reader_does_not_know_is_refused_by_its_version_first() {
    let json = job_with_version(Some(r#"3, "futureField": true"#));
    let e = serde_json::from_str::<Job>(&json).unwrap_err().to_string();
    assert!(e.contains("unsupported format version 3"), "the version is checked first: {e}");
}

#[test]
fn a_registry_of_another_format_version_is_refused() {
    let (_, json) = examples().into_iter().find(|(n, _)| n == "registry").unwrap();
    let e =
        serde_json::from_str::<Registry>(&json.replacen(r#""formatVersion": 2"#, r#""formatVersion": 3"#, 1))
            .unwrap_err()
            .to_string();
    assert!(e.contains("unsupported format version 3"), "{e}");
}
