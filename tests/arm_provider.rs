//! The provider-level parts of the ARM layer: the catalogue of locations, the operations list,
//! and the `$filter` grammar of the job lists. Each test names the rule of `docs/arm.md` it
//! proves.

use import_export_lifecycle::arm::{Catalogue, Filter, LOCATION_TYPE, operations_body};
use import_export_lifecycle::{Command, DriveId, JobName, JobState, JobType, Registry, Timestamp};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/azure-rest-2021-01-01/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn arm_locations_1_the_builtin_catalogue_is_the_specifications_locations() {
    let catalogue = Catalogue::builtin();
    let listed: Vec<Value> =
        fixture("ListLocations.json")["responses"]["200"]["body"]["value"].as_array().unwrap().clone();
    let got = fixture("GetLocation.json")["responses"]["200"]["body"].clone();
    let mut expected = vec![got];
    expected.extend(listed);
    assert_eq!(catalogue.list_body(), json!({ "value": expected }));
    assert!(catalogue.iter().all(|l| l.resource_type == LOCATION_TYPE));
}

#[test]
fn arm_locations_2_a_location_is_found_by_either_spelling() {
    let catalogue = Catalogue::builtin();
    for spelling in ["West US", "westus", "WESTUS", "West Us", "WestUS"] {
        let location = catalogue.get(spelling).unwrap_or_else(|| panic!("{spelling}"));
        assert_eq!(location.id, "/providers/Microsoft.ImportExport/locations/westus");
        assert_eq!(location.shipping_information().city.as_deref(), Some("Santa Clara"));
    }
    assert_eq!(catalogue.get("australiasoutheast").unwrap().name, "Australia Southeast");
    for unknown in ["", "west", "westus2", "West US 2", "/providers/Microsoft.ImportExport/locations/westus"]
    {
        assert!(catalogue.get(unknown).is_none(), "{unknown:?}");
    }
}

#[test]
fn arm_locations_3_a_catalogue_file_is_read_strictly_and_errors_name_the_place() {
    let one = |location: Value| json!({ "value": [location] }).to_string();
    let good = json!({"id": "/providers/Microsoft.ImportExport/locations/northeurope", "name": "North Europe",
                      "type": "Microsoft.ImportExport/locations", "properties": {"city": "Dublin", "supportedCarriers": ["DHL"]}});
    let catalogue = Catalogue::from_json(&one(good.clone())).unwrap();
    assert_eq!(catalogue.get("northeurope").unwrap().properties.city.as_deref(), Some("Dublin"));

    let with = |field: &str, value: Value| {
        let mut location = good.clone();
        location[field] = value;
        one(location)
    };
    let refused = [
        (with("id", json!("/providers/Other/locations/x")), "value[0].id:"),
        (with("id", json!("/providers/Microsoft.ImportExport/locations/North")), "value[0].id:"),
        (with("id", json!("/providers/Microsoft.ImportExport/locations/")), "value[0].id:"),
        (with("type", json!("Microsoft.ImportExport/jobs")), "value[0].type:"),
        (with("name", json!(" ")), "value[0].name: empty"),
        (with("name", json!("x".repeat(257))), "value[0].name: 257 characters"),
        (with("unknown", json!(1)), "unknown field `unknown`"),
        (json!({"value": []}).to_string(), "value: holds no location"),
        (json!({"value": [good, good]}).to_string(), "value[1]: \"North Europe\" is spelt like value[0]"),
        ("[]".to_string(), "invalid type"),
        (r#"{"value": [], "value": []}"#.to_string(), "value"),
        (" ".repeat((1 << 20) + 1), "at most 1048576"),
    ];
    for (text, expected) in refused {
        let error = Catalogue::from_json(&text).unwrap_err();
        assert!(error.contains(expected), "{error:?} should contain {expected:?}");
    }
    let mut cased = good.clone();
    cased["name"] = json!("north europe");
    cased["id"] = json!("/providers/Microsoft.ImportExport/locations/other");
    let twice = json!({"value": [good, cased]}).to_string();
    assert!(Catalogue::from_json(&twice).unwrap_err().contains("is spelt like"));
}

#[test]
fn arm_operations_1_the_operations_are_the_specifications() {
    assert_eq!(operations_body(), fixture("ListOperations.json")["responses"]["200"]["body"]);
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn arm_filter_1_equality_on_state_type_and_name_joined_by_and() {
    let mut registry = Registry::default();
    let name = |n: &str| JobName::new(n).unwrap();
    let create =
        |job: &str, job_type, drives: Vec<DriveId>| Command::Create { job: name(job), job_type, drives };
    registry
        .execute(
            t("2026-01-05T09:00:00Z"),
            &create("imp", JobType::Import, vec![DriveId::new("D1").unwrap()]),
        )
        .result
        .unwrap();
    registry.execute(t("2026-01-05T09:00:00Z"), &create("exp", JobType::Export, vec![])).result.unwrap();
    let ship = Command::Ship { job: name("imp"), carrier: None, tracking_number: None };
    registry.execute(t("2026-01-06T09:00:00Z"), &ship).result.unwrap();
    let jobs: Vec<_> = registry.iter().cloned().collect();
    let matching = |filter: &str| {
        let filter = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let mut names: Vec<String> =
            jobs.iter().filter(|j| filter.matches(j)).map(|j| j.name().to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(matching("state eq 'Shipping'"), ["imp"]);
    assert_eq!(matching("properties/state eq 'creating'"), ["exp"]);
    assert_eq!(matching("jobType eq 'Export'"), ["exp"]);
    assert_eq!(matching("Properties/JobType EQ 'import'"), ["imp"]);
    assert_eq!(matching("name eq 'imp'"), ["imp"]);
    assert_eq!(matching("name eq 'IMP'"), Vec::<String>::new(), "names compare exactly");
    assert_eq!(matching("  jobType eq 'Import'  and  state eq 'Shipping' "), ["imp"]);
    assert_eq!(matching("jobType eq 'Import' and state eq 'Creating'"), Vec::<String>::new());
    assert_eq!(matching("name eq 'it''s'"), Vec::<String>::new());
    assert_eq!(jobs.iter().find(|j| j.name().as_str() == "imp").unwrap().state(), JobState::Shipping);
}

#[test]
fn arm_filter_2_anything_else_is_refused_naming_the_unsupported_part() {
    let refused = [
        ("state ne 'Creating'", "\"state ne 'Creating'\" is not supported"),
        ("state eq 'Creating' or name eq 'x'", "\"or name eq 'x'\" is not supported"),
        ("startswith(name, 'sdk')", "\"startswith(name, 'sdk')\" is not supported"),
        ("(state eq 'Creating')", "is not supported"),
        ("location eq 'West US'", "\"location eq 'West US'\" is not supported"),
        ("properties/name eq 'x'", "is not supported"),
        ("state eq Creating", "\"Creating\" is not supported"),
        ("state eq 'Creating", "has no closing quote"),
        ("state eq 'Cancelled'", "state \"Cancelled\" is not one of Creating, Shipping"),
        ("jobType eq 'Both'", "jobType \"Both\" is not one of Import, Export"),
        ("", "is not supported"),
        ("state eq 'Creating' and", "is not supported"),
        ("stateeq 'Creating'", "is not supported"),
    ];
    for (filter, expected) in refused {
        let error = Filter::parse(filter).unwrap_err();
        assert!(error.starts_with("query `$filter`: "), "{error}");
        assert!(error.contains(expected), "{filter:?}: {error:?} should contain {expected:?}");
    }
    let long = vec!["name eq 'x'"; 17].join(" and ");
    assert!(Filter::parse(&long).unwrap_err().contains("more than 16 clauses"));
    assert!(Filter::parse(&"x".repeat(1025)).unwrap_err().contains("longer than 1024"));
}
