//! The scenario library of `docs/scenarios/`: every file replays, and its transcript (the
//! timeline a person reads, then the JSON lines) is a reviewed snapshot.

use import_export_lifecycle::scenarios::{Line, Scenario, ScenarioError, Transcript, replay};

fn transcript(file: &str) -> Transcript {
    let path = format!("{}/docs/scenarios/{file}.json", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap();
    let scenario = Scenario::from_json(&source).unwrap_or_else(|e| panic!("{path}: {e}"));
    replay(&scenario)
}

fn shown(t: &Transcript) -> String {
    format!("{}\n{}", t.to_text(), t.to_json_lines())
}

macro_rules! scenarios {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                insta::assert_snapshot!($file, shown(&transcript($file)));
            }
        )*
        const FILES: &[&str] = &[$($file),*];
    };
}

scenarios! {
    cancel_while_copying => "cancel-while-copying",
    clean_import => "clean-import",
    clean_export => "clean-export",
    cancel_in_creating => "cancel-in-creating",
    cancel_in_shipping => "cancel-in-shipping",
    cancel_in_received => "cancel-in-received",
    cancel_between_drives => "cancel-between-drives",
    cancel_refused_in_packaging => "cancel-refused-in-packaging",
    cancel_refused_in_completed => "cancel-refused-in-completed",
    repeated_cancel => "repeated-cancel",
    delete_in_creating => "delete-in-creating",
    delete_in_completed => "delete-in-completed",
    ends_closed_then_deleted => "ends-closed-then-deleted",
    delete_refused_under_way => "delete-refused-under-way",
    retention_boundary => "retention-boundary",
    creating_expiry => "creating-expiry",
    package_never_arrives => "package-never-arrives",
    drive_missing_from_package => "drive-missing-from-package",
    name_reused_after_delete => "name-reused-after-delete",
    bad_input => "bad-input",
    narrow_cancel_window => "narrow-cancel-window",
    update_restarts_creating_clock => "update-restarts-creating-clock",
    update_refused_in_packaging => "update-refused-in-packaging",
    drive_list_replaced_in_creating => "drive-list-replaced-in-creating",
    operators_close_overdue_job => "operators-close-overdue-job",
    late_package_during_the_wait => "late-package-during-the-wait",
    cancel_during_the_wait => "cancel-during-the-wait",
}

#[test]
fn every_scenario_file_has_a_snapshot_test() {
    let dir = format!("{}/docs/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut tested: Vec<String> = FILES.iter().map(|f| f.to_string()).collect();
    tested.sort();
    assert_eq!(on_disk, tested, "add the new scenario to the scenarios! list");
    assert!(tested.len() >= 15);
}

#[test]
fn every_scenario_has_a_title_and_its_transcript_survives_json() {
    for file in FILES {
        let t = transcript(file);
        assert!(t.title.as_deref().is_some_and(|s| !s.is_empty()), "{file} has no title");
        let back: Vec<Line> = t.to_json_lines().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(back, t.lines, "{file}");
    }
}

/// The transcript format: timer lines and step lines with exactly these keys.
#[test]
fn transcript_lines_have_the_documented_shape() {
    let text = transcript("cancel-while-copying").to_json_lines();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let timer = lines.iter().find(|l| l.get("timer").is_some()).unwrap();
    assert_eq!(
        timer,
        &serde_json::json!({"at": "2026-04-12T09:00:00Z", "timer": "RetentionExpired", "job": "job-1"})
    );
    let refused = lines.iter().find(|l| l["ok"] == false).unwrap();
    assert_eq!(refused["error"]["code"], "InvalidStateTransition");
    assert_eq!(refused["op"], "startTransfer");
    let accepted = &lines[0];
    let job = &accepted["job"];
    for key in ["name", "jobType", "state", "cancelRequested", "driveList", "removalAt"] {
        assert!(job.get(key).is_some(), "the job view has {key}");
    }
    for key in ["driveId", "state", "bytesSucceeded"] {
        assert!(job["driveList"][0].get(key).is_some(), "a drive has {key}");
    }
}

fn refused(text: &str) -> ScenarioError {
    Scenario::from_json(text).expect_err(text)
}

#[test]
fn malformed_files_are_refused_naming_the_step_and_the_field() {
    let step = |s: &str| {
        format!(
            r#"{{"steps": [{{"at": "2026-01-05T09:00:00Z", "op": "create", "job": "j", "type": "Export"}}, {s}]}}"#
        )
    };
    let cases = [
        (step(r#"{"at": "yesterday", "op": "cancel", "job": "j"}"#), Some(2), Some("at")),
        (step(r#"{"op": "cancel", "job": "j"}"#), Some(2), Some("at")),
        (step(r#"{"at": "2026-01-05T09:00:00Z", "op": "explode", "job": "j"}"#), Some(2), Some("op")),
        (step(r#"{"at": "2026-01-05T09:00:00Z", "op": "cancel"}"#), Some(2), Some("job")),
        (step(r#"{"at": "2026-01-05T09:00:00Z", "op": "cancel", "job": ""}"#), Some(2), Some("job")),
        (
            step(r#"{"at": "2026-01-05T09:00:00Z", "op": "cancel", "job": "j", "drive": "D1"}"#),
            Some(2),
            Some("drive"),
        ),
        (
            step(
                r#"{"at": "2026-01-05T09:00:00Z", "op": "progress", "job": "j", "drive": "D1", "bytes": -1}"#,
            ),
            Some(2),
            Some("bytes"),
        ),
        (
            step(
                r#"{"at": "2026-01-05T09:00:00Z", "op": "finishTransfer", "job": "j", "drive": "D1", "result": "Done"}"#,
            ),
            Some(2),
            Some("result"),
        ),
        (step(r#"{"at": "2026-01-05T08:59:59Z", "op": "cancel", "job": "j"}"#), Some(2), Some("at")),
        (step(r#"[1, 2]"#), Some(2), None),
        (r#"{"steps": [], "tilte": "typo"}"#.to_string(), None, Some("tilte")),
        (r#"{"steps": [], "policy": {"retentionDays": "ninety"}}"#.to_string(), None, Some("policy")),
        (r#"{"title": "no steps"}"#.to_string(), None, Some("steps")),
        ("not json".to_string(), None, None),
    ];
    for (text, at_step, field) in cases {
        let e = refused(&text);
        assert_eq!((e.step, e.field.as_deref()), (at_step, field), "{text}: {e}");
    }
    let e = refused(&step(r#"{"at": "2026-01-05T08:59:59Z", "op": "cancel", "job": "j"}"#));
    assert_eq!(
        e.to_string(),
        "step 2, field `at`: 2026-01-05T08:59:59Z is earlier than the previous step's 2026-01-05T09:00:00Z; steps never go back in time"
    );
}

#[test]
fn optional_title_and_policy() {
    let s = Scenario::from_json(r#"{"steps": [{"at": "2026-01-05T09:00:00Z", "op": "list"}]}"#).unwrap();
    assert_eq!(s.title, None);
    assert_eq!(s.policy, import_export_lifecycle::Policy::default());
    let s = Scenario::from_json(r#"{"policy": {"retentionDays": 1}, "steps": []}"#).unwrap();
    assert_eq!(s.policy.retention_days, 1);
    assert_eq!(s.policy.creating_expiry_days, 14);
}
