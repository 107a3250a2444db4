//! The provider's routes beside jobs, over HTTP: Locations (the built-in catalogue, or one from
//! `--locations FILE`), Operations, `$filter` on the job lists, and ARM's create-or-update.
//! Every rule is the ARM layer's (`docs/arm.md`); these tests prove the emulator serves them.

mod common;

use common::{T0, V, create_body, fresh_dir, job_path, run_to_exit, start, start_virtual};
use serde_json::{Value, json};

fn names(list: &Value) -> Vec<String> {
    list["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn locations_and_operations_are_served_at_the_provider_level() {
    let emu = start_virtual("provider-routes");
    let (status, list) = emu.call("GET", &format!("/providers/Microsoft.ImportExport/locations?{V}"), None);
    assert_eq!(status, 200);
    let listed: Vec<&str> =
        list["value"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["West US", "Australia East", "Australia Southeast"]);
    for spelling in ["West%20US", "westus"] {
        let (status, one) =
            emu.call("GET", &format!("/providers/Microsoft.ImportExport/locations/{spelling}?{V}"), None);
        assert_eq!((status, one["properties"]["city"].clone()), (200, json!("Santa Clara")), "{spelling}");
    }
    let (status, body) =
        emu.call("GET", &format!("/providers/Microsoft.ImportExport/locations/mars?{V}"), None);
    assert_eq!((status, body["error"]["code"].clone()), (404, json!("NotFound")));
    let (status, ops) = emu.call("GET", &format!("/providers/Microsoft.ImportExport/operations?{V}"), None);
    assert_eq!(status, 200);
    assert!(
        ops["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == json!("Microsoft.ImportExport/jobs/read"))
    );
}

#[test]
fn r_put_4_a_job_is_created_only_in_a_catalogued_location_and_shows_its_address() {
    let emu = start_virtual("provider-location");
    let before = emu.dump();
    let mut body = create_body();
    body["location"] = json!("Mars Central");
    let (status, refused) = emu.call("PUT", &job_path("rg", "j"), Some(&body));
    assert_eq!(
        (status, refused["error"]["code"].clone()),
        (400, json!("LocationNotAvailableForResourceType"))
    );
    assert_eq!(emu.dump(), before, "the refusal wrote nothing");
    let (status, created) = emu.call("PUT", &job_path("rg", "j"), Some(&create_body()));
    assert_eq!(status, 201);
    assert_eq!(
        created["properties"]["shippingInformation"]["streetAddress1"],
        json!("2045 Lafayette Street")
    );
}

#[test]
fn r_put_1_r_put_3_the_same_put_is_200_and_a_fixed_field_is_refused() {
    let emu = start_virtual("provider-put");
    assert_eq!(emu.call("PUT", &job_path("rg", "j"), Some(&create_body())).0, 201);
    let before = emu.dump();
    let (status, again) = emu.call("PUT", &job_path("rg", "j"), Some(&create_body()));
    assert_eq!((status, again["name"].clone()), (200, json!("j")));
    assert_eq!(emu.dump(), before, "the same PUT again writes nothing");
    let mut moved = create_body();
    moved["location"] = json!("Australia East");
    let (status, refused) = emu.call("PUT", &job_path("rg", "j"), Some(&moved));
    assert_eq!((status, refused["error"]["code"].clone()), (409, json!("PropertyChangeNotAllowed")));
    assert_eq!(emu.dump(), before, "the refusal wrote nothing");
    let mut tagged = create_body();
    tagged["tags"] = json!({"run": "2"});
    let (status, updated) = emu.call("PUT", &job_path("rg", "j"), Some(&tagged));
    assert_eq!((status, updated["tags"].clone()), (200, json!({"run": "2"})));
}

#[test]
fn a_filtered_list_pages_through_next_link_and_an_unsupported_filter_is_refused() {
    let emu = start_virtual("provider-filter");
    let mut export = create_body();
    export["properties"]["jobType"] = json!("Export");
    export["properties"].as_object_mut().unwrap().remove("driveList");
    for (name, body) in [("a", create_body()), ("b", export.clone()), ("c", create_body()), ("d", export)] {
        assert_eq!(emu.call("PUT", &job_path("rg", name), Some(&body)).0, 201, "{name}");
    }
    let jobs = "/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs";
    let mut url = format!("{jobs}?{V}&$top=1&$filter=jobType%20eq%20%27Import%27");
    let mut seen = Vec::new();
    loop {
        let (status, page) = emu.call("GET", &url, None);
        assert_eq!(status, 200, "{page}");
        seen.extend(names(&page));
        match page["nextLink"].as_str() {
            Some(link) => {
                assert!(link.starts_with(&emu.url), "{link}");
                url = link.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, ["a", "c"]);
    let (status, refused) = emu.call("GET", &format!("{jobs}?{V}&$filter=startswith(name,%27a%27)"), None);
    assert_eq!((status, refused["error"]["code"].clone()), (400, json!("InvalidRequest")));
    assert!(refused["error"]["message"].as_str().unwrap().contains("startswith(name,'a')"), "{refused}");
}

#[test]
fn locations_flag_replaces_the_catalogue_and_a_bad_file_exits_before_listening() {
    let dir = fresh_dir("provider-locations-flag");
    let file = dir.join("locations.json");
    let north = json!({"value": [{"id": "/providers/Microsoft.ImportExport/locations/northeurope", "name": "North Europe",
        "type": "Microsoft.ImportExport/locations", "properties": {"city": "Dublin", "supportedCarriers": ["DHL"]}}]});
    std::fs::write(&file, north.to_string()).unwrap();
    let emu = start(
        &dir.join("db.sqlite3"),
        &["--clock", "virtual", "--start", T0, "--locations", file.to_str().unwrap()],
    );
    let mut body = create_body();
    assert_eq!(
        emu.call("PUT", &job_path("rg", "west"), Some(&body)).0,
        400,
        "West US is not in this catalogue"
    );
    body["location"] = json!("northeurope");
    let (status, created) = emu.call("PUT", &job_path("rg", "north"), Some(&body));
    assert_eq!(
        (status, created["properties"]["shippingInformation"]["city"].clone()),
        (201, json!("Dublin"))
    );
    drop(emu);

    let bad = dir.join("bad.json");
    for (text, expected) in [
        (r#"{"value": []}"#.to_string(), "value: holds no location"),
        ("not json".to_string(), "expected"),
        (r#"{"value": [{"id": "/x", "name": "X", "type": "Microsoft.ImportExport/locations", "properties": {}}]}"#.to_string(), "value[0].id"),
    ] {
        std::fs::write(&bad, text).unwrap();
        let db = dir.join("never.sqlite3");
        let args = ["--db".as_ref(), db.as_os_str(), "--listen".as_ref(), "127.0.0.1:0".as_ref(), "--locations".as_ref(), bad.as_os_str()];
        let (code, stdout, stderr) = run_to_exit(&args);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stdout.is_empty(), "nothing listened: {stdout}");
        assert!(stderr.contains(&format!("--locations {}", bad.display())) && stderr.contains(expected), "{stderr}");
        assert!(!db.exists(), "the database was never opened");
    }
    let missing = dir.join("missing.json");
    let (code, _, stderr) = run_to_exit(&[
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--locations".as_ref(),
        missing.as_os_str(),
    ]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("missing.json"), "{stderr}");
}
