//! Hostile input and forged state: every way an untrusted caller was once able to slip
//! something past the crate, replayed as a named regression test. Each test feeds the input as
//! an attacker would write it and checks that it is refused with a message naming the place,
//! and that the refusal changed nothing.

mod common;

use import_export_lifecycle::arm::{Config, Service, run_script};
use import_export_lifecycle::{Event, Job, Policy, Registry, Scenario};

/// A scenario of one step at `at`.
fn one_step_at(at: &str) -> String {
    format!(r#"{{"steps": [{{"at": "{at}", "op": "list"}}]}}"#)
}

/// A stored job in `Creating` whose three instants are `at`.
fn job_at(at: &str) -> String {
    format!(
        r#"{{"formatVersion": 1, "name": "job-1", "jobType": "Import", "state": "Creating", "cancelRequested": false,
            "driveList": [{{"driveId": "D1", "state": "Specified", "bytesSucceeded": 0}}],
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
