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
    // The caps are inclusive: 16 clauses and 1,024 characters are read, one more is refused.
    let at_cap = vec!["name eq 'x'"; 16].join(" and ");
    assert!(Filter::parse(&at_cap).is_ok());
    let long = vec!["name eq 'x'"; 17].join(" and ");
    assert!(Filter::parse(&long).unwrap_err().contains("more than 16 clauses"));
    let padded = format!("name eq '{}'", "x".repeat(1024 - "name eq ''".len()));
    assert_eq!(padded.chars().count(), 1024);
    assert!(Filter::parse(&padded).is_ok());
    assert!(Filter::parse(&"x".repeat(1025)).unwrap_err().contains("longer than 1024"));
}

mod through_the_service {
    use import_export_lifecycle::arm::{Config, Method, Request, Response, Service};
    use import_export_lifecycle::{Policy, Timestamp};
    use serde_json::{Value, json};

    const SUB: &str = "sub-1";

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn send(service: &mut Service, method: Method, path: &str, body: Option<Value>) -> Response {
        let sep = if path.contains('?') { '&' } else { '?' };
        let request = Request { method, path: format!("{path}{sep}api-version=2021-01-01"), body };
        service.handle(at("2026-01-05T09:00:00Z"), &request).answer
    }

    fn job(rg: &str, name: &str) -> String {
        format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ImportExport/jobs/{name}")
    }

    fn create_body() -> Value {
        super::fixture("CreateJob.json")["parameters"]["body"].clone()
    }

    fn code(response: &Response) -> Value {
        response.body.as_ref().map(|b| b["error"]["code"].clone()).unwrap_or(Value::Null)
    }

    fn service() -> Service {
        Service::new(Config::default(), Policy::default())
    }

    #[test]
    fn arm_provider_1_locations_and_operations_answer_at_the_provider_level() {
        let mut service = service();
        let listed = send(&mut service, Method::Get, "/providers/Microsoft.ImportExport/locations", None);
        assert_eq!(listed.status, 200);
        assert_eq!(listed.body.unwrap()["value"].as_array().unwrap().len(), 3);
        for spelling in ["West%20US", "westus", "WestUS"] {
            let path = format!("/providers/microsoft.importexport/Locations/{spelling}");
            let one = send(&mut service, Method::Get, &path, None);
            assert_eq!(one.status, 200, "{spelling}");
            assert_eq!(one.body.unwrap(), super::fixture("GetLocation.json")["responses"]["200"]["body"]);
        }
        let unknown =
            send(&mut service, Method::Get, "/providers/Microsoft.ImportExport/locations/mars", None);
        assert_eq!((unknown.status, code(&unknown)), (404, json!("NotFound")));
        let ops = send(&mut service, Method::Get, "/providers/Microsoft.ImportExport/operations", None);
        assert_eq!(ops.body.unwrap(), super::fixture("ListOperations.json")["responses"]["200"]["body"]);
        let put =
            send(&mut service, Method::Put, "/providers/Microsoft.ImportExport/operations", Some(json!({})));
        assert_eq!(put.status, 405);
    }

    #[test]
    fn r_put_4_a_job_outside_the_catalogue_is_refused_and_an_accepted_one_shows_where_to_ship() {
        let mut service = service();
        let mut body = create_body();
        body["location"] = json!("Mars Central");
        let refused = send(&mut service, Method::Put, &job("rg", "j"), Some(body));
        assert_eq!((refused.status, code(&refused)), (400, json!("LocationNotAvailableForResourceType")));
        assert!(service.records().next().is_none(), "the refusal wrote nothing");
        let mut body = create_body();
        body["location"] = json!("australiaeast");
        let created = send(&mut service, Method::Put, &job("rg", "j"), Some(body));
        assert_eq!(created.status, 201);
        let shipping = &created.body.unwrap()["properties"]["shippingInformation"];
        assert_eq!(shipping["city"], json!("Macquarie Park"));
    }

    #[test]
    fn r_put_1_the_same_put_again_answers_200_and_changes_nothing() {
        let mut service = service();
        assert_eq!(send(&mut service, Method::Put, &job("rg", "j"), Some(create_body())).status, 201);
        let before = service.clone();
        let again = send(&mut service, Method::Put, &job("rg", "j"), Some(create_body()));
        assert_eq!(again.status, 200);
        assert_eq!(again.body.unwrap()["properties"]["state"], json!("Creating"));
        assert_eq!(service, before, "nothing changed");
        let mut spelt = create_body();
        spelt["location"] = json!("westus");
        assert_eq!(send(&mut service, Method::Put, &job("rg", "j"), Some(spelt)).status, 200);
        assert_eq!(service, before, "the other spelling of the location is the same location");
    }

    #[test]
    fn r_put_2_a_put_that_changes_updatable_fields_is_that_update_under_its_rules() {
        let mut service = service();
        assert_eq!(send(&mut service, Method::Put, &job("rg", "j"), Some(create_body())).status, 201);
        let mut tagged = create_body();
        tagged["tags"] = json!({"team": "data"});
        tagged["properties"]["returnAddress"]["city"] = json!("Oslo");
        let updated = send(&mut service, Method::Put, &job("rg", "j"), Some(tagged.clone()));
        assert_eq!(updated.status, 200);
        let body = updated.body.unwrap();
        assert_eq!(
            (body["tags"].clone(), body["properties"]["returnAddress"]["city"].clone()),
            (json!({"team": "data"}), json!("Oslo"))
        );
        // Shipped and received, the drive list may no longer change (R-UPDATE-4): the PUT is refused as the PATCH is.
        let ship = json!({"properties": {"state": "Shipping", "deliveryPackage": {"carrierName": "FedEx", "trackingNumber": "1"}}});
        assert_eq!(send(&mut service, Method::Patch, &job("rg", "j"), Some(ship)).status, 200);
        let before = service.clone();
        let mut other_drive = tagged.clone();
        other_drive["properties"]["driveList"][0]["driveId"] = json!("OTHER");
        let refused = send(&mut service, Method::Put, &job("rg", "j"), Some(other_drive));
        assert_eq!((refused.status, code(&refused)), (409, json!("UpdateNotAllowed")));
        assert!(refused.body.unwrap()["error"]["message"].as_str().unwrap().contains("R-UPDATE-4"));
        assert_eq!(service, before, "the refusal changed nothing");
        // Tags change in any state (R-UPDATE-5); a PUT without tags replaces them with none.
        let untagged = send(&mut service, Method::Put, &job("rg", "j"), Some(create_body()));
        assert_eq!(untagged.status, 200);
        assert_eq!(untagged.body.unwrap()["properties"]["state"], json!("Shipping"));
    }

    #[test]
    fn r_put_3_a_put_that_changes_what_no_update_can_is_refused_naming_the_field() {
        let mut service = service();
        assert_eq!(send(&mut service, Method::Put, &job("rg", "j"), Some(create_body())).status, 201);
        let before = service.clone();
        type Change = fn(&mut Value);
        let changes: [(&str, Change); 4] = [
            ("properties.jobType", |b| b["properties"]["jobType"] = json!("Export")),
            ("properties.storageAccountId", |b| b["properties"]["storageAccountId"] = json!("/other")),
            ("location", |b| b["location"] = json!("Australia East")),
            ("properties.diagnosticsPath", |b| b["properties"]["diagnosticsPath"] = json!("elsewhere")),
        ];
        for (field, change) in changes {
            let mut body = create_body();
            change(&mut body);
            let refused = send(&mut service, Method::Put, &job("rg", "j"), Some(body));
            assert_eq!((refused.status, code(&refused)), (409, json!("PropertyChangeNotAllowed")), "{field}");
            let message = refused.body.unwrap()["error"]["message"].as_str().unwrap().to_string();
            assert!(message.starts_with(field) && message.ends_with("[R-PUT-3]"), "{message}");
            assert_eq!(service, before, "{field}: the refusal changed nothing");
        }
    }

    #[test]
    fn arm_filter_3_a_filtered_list_pages_through_next_link_keeping_its_filter() {
        let mut service = service();
        let mut export = create_body();
        export["properties"]["jobType"] = json!("Export");
        export["properties"].as_object_mut().unwrap().remove("driveList");
        for (name, body) in [
            ("a", &create_body()),
            ("b", &export),
            ("c", &create_body()),
            ("d", &export),
            ("e", &create_body()),
        ] {
            assert_eq!(
                send(&mut service, Method::Put, &job("rg", name), Some(body.clone())).status,
                201,
                "{name}"
            );
        }
        let mut path = format!(
            "/subscriptions/{SUB}/providers/Microsoft.ImportExport/jobs?$top=1&$filter=jobType%20eq%20%27Import%27"
        );
        let mut names = Vec::new();
        loop {
            let page = send(&mut service, Method::Get, &path, None).body.unwrap();
            names.extend(
                page["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_string()),
            );
            match page["nextLink"].as_str() {
                Some(link) => {
                    assert!(link.contains("$filter=jobType%20eq%20%27Import%27"), "{link}");
                    path = link.replace("api-version=2021-01-01&", "");
                }
                None => break,
            }
        }
        assert_eq!(names, ["a", "c", "e"]);
        let plus = send(
            &mut service,
            Method::Get,
            &format!(
                "/subscriptions/{SUB}/providers/Microsoft.ImportExport/jobs?$filter=jobType+eq+'Export'"
            ),
            None,
        );
        assert_eq!(plus.body.unwrap()["value"].as_array().unwrap().len(), 2);
        let refused = send(
            &mut service,
            Method::Get,
            &format!(
                "/subscriptions/{SUB}/providers/Microsoft.ImportExport/jobs?$filter=state%20ne%20%27Creating%27"
            ),
            None,
        );
        assert_eq!((refused.status, code(&refused)), (400, json!("InvalidRequest")));
        assert!(refused.body.unwrap()["error"]["message"].as_str().unwrap().starts_with("query `$filter`: "));
    }
}
