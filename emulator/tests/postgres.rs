//! Several emulator processes on one PostgreSQL database (`DATABASE_URL`; each test in a
//! schema of its own): what one emulator guarantees holds for all of them together. Without
//! `DATABASE_URL` each test prints why it is skipped, and fails under `CI=true`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::{Emulator, PgSchema, T0, create_body, fresh_dir, job_path, ship_body, start_pg};
use serde_json::{Value, json};

/// `n` virtual-clock emulators at [`T0`] on a new schema, or `None` (skipped) without a server.
fn instances(test: &str, n: usize, args: &[&str]) -> Option<(Arc<PgSchema>, Vec<Emulator>)> {
    let server = common::database_url(test)?;
    let schema = PgSchema::new(&server, test);
    let dir = fresh_dir(test);
    let emulators = (0..n).map(|_| start_pg(&schema, &dir, args)).collect();
    Some((schema, emulators))
}

const VIRTUAL: [&str; 4] = ["--clock", "virtual", "--start", T0];

#[test]
fn racing_creates_of_one_name_through_several_instances_have_one_winner() {
    let Some((_schema, emus)) = instances("pg-creates", 4, &VIRTUAL) else { return };
    for round in 0..6 {
        let path = job_path("rg-race", &format!("job-{round}"));
        let barrier = Barrier::new(emus.len());
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = emus
                .iter()
                .map(|emu| {
                    let (barrier, path) = (&barrier, &path);
                    s.spawn(move || {
                        barrier.wait();
                        emu.call("PUT", path, Some(&create_body())).0
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "round {round}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s < 500), "round {round}: {statuses:?}");
        let seen: BTreeSet<String> =
            emus.iter().map(|emu| emu.call("GET", &path, None).1.to_string()).collect();
        assert_eq!(seen.len(), 1, "every instance serves the same job: {seen:?}");
    }
}

#[test]
fn a_list_pages_consistently_through_any_instances_next_link() {
    let Some((_schema, emus)) = instances("pg-lists", 3, &VIRTUAL) else { return };
    let mut names = Vec::new();
    for i in 0..23 {
        let name = format!("j{i:02}");
        let (status, body) =
            emus[i % 3].call("PUT", &job_path(&format!("rg-{}", i % 4), &name), Some(&create_body()));
        assert_eq!(status, 201, "{body}");
        names.push(name);
    }
    let (status, mut page) = emus[0].call(
        "GET",
        "/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs?api-version=2021-01-01&$top=4",
        None,
    );
    assert_eq!(status, 200, "{page}");
    let mut listed = Vec::new();
    for hop in 1.. {
        listed.extend(
            page["value"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_string()),
        );
        let Some(link) = page["nextLink"].as_str() else { break };
        // Follow the link on another instance: the position is in the link, not in a process.
        let (from, to) = (&emus[(hop - 1) % 3], &emus[hop % 3]);
        let link = link.replacen(&from.url, &to.url, 1);
        let (status, next) = to.call("GET", &link, None);
        assert_eq!(status, 200, "{next}");
        page = next;
    }
    let mut expected: Vec<(String, String)> =
        (0..23).map(|i| (format!("rg-{}", i % 4), names[i].clone())).collect();
    expected.sort();
    assert_eq!(listed, expected.into_iter().map(|(_, n)| n).collect::<Vec<_>>());
}

/// A create body with four drives, and their ids.
fn four_drives() -> (Value, Vec<String>) {
    let mut body = create_body();
    let drive = body["properties"]["driveList"][0].clone();
    let ids: Vec<String> = (0..4).map(|i| format!("9CA995B{i}")).collect();
    body["properties"]["driveList"] = Value::Array(
        ids.iter()
            .map(|id| {
                let mut d = drive.clone();
                d["driveId"] = json!(id);
                d
            })
            .collect(),
    );
    (body, ids)
}

#[test]
fn concurrent_datacenter_progress_through_different_instances_loses_no_update() {
    let Some((_schema, emus)) = instances("pg-progress", 4, &VIRTUAL) else { return };
    for round in 0..3 {
        let path = job_path("rg-dc", &format!("job-{round}"));
        let (body, drives) = four_drives();
        let (status, answer) = emus[0].call("PUT", &path, Some(&body));
        assert_eq!(status, 201, "{answer}");
        let mut ship = ship_body();
        ship["properties"]["deliveryPackage"]["driveCount"] = json!(4);
        let (status, answer) = emus[1].call("PATCH", &path, Some(&ship));
        assert_eq!(status, 200, "{answer}");
        let (status, answer) = emus[2].datacenter(&path, json!({"op": "packageReceived", "drives": drives}));
        assert_eq!(status, 200, "{answer}");
        // Each instance moves its own drive through the copy at once (progress adds bytes): a
        // write decided on a
        // record another instance changed meanwhile would undo that instance's step, and its
        // next step would be refused, or the drive end short of its bytes.
        let barrier = Barrier::new(4);
        std::thread::scope(|s| {
            for (emu, drive) in emus.iter().zip(&drives) {
                let (barrier, path) = (&barrier, &path);
                s.spawn(move || {
                    barrier.wait();
                    let mut steps = vec![json!({"op": "startTransfer", "drive": drive})];
                    steps.extend(
                        (1..=8).map(|k| json!({"op": "progress", "drive": drive, "bytes": 1000 * k})),
                    );
                    steps.push(json!({"op": "finishTransfer", "drive": drive, "result": "Completed"}));
                    for step in steps {
                        let (status, answer) = emu.datacenter(path, step.clone());
                        assert_eq!((status, &answer), (200, &json!({"ok": true})), "{step}");
                    }
                });
            }
        });
        for emu in &emus {
            let (_, job) = emu.call("GET", &path, None);
            let list = job["properties"]["driveList"].as_array().unwrap();
            assert_eq!(list.len(), 4, "{job}");
            for drive in list {
                assert_eq!(drive["bytesSucceeded"], json!(36_000), "progress adds up: {drive}");
                assert_eq!(drive["state"], json!("Completed"), "{drive}");
            }
            assert_eq!(job["properties"]["state"], json!("Packaging"), "{job}");
        }
    }
}

#[test]
fn one_virtual_clock_for_every_instance_and_start_only_moves_it_forward() {
    let Some((schema, emus)) = instances("pg-clock", 3, &VIRTUAL) else { return };
    emus[0].advance(3600);
    for emu in &emus {
        let (_, clock) = emu.call("GET", "/emulator/clock", None);
        assert_eq!(clock["now"], json!("2026-01-05T10:00:00Z"), "{clock}");
    }
    // A new instance takes the database's time; a --start before it is refused.
    let args = |start: &str| -> Vec<std::ffi::OsString> {
        ["--listen", "127.0.0.1:0", "--db", &schema.url, "--clock", "virtual", "--start", start]
            .iter()
            .map(Into::into)
            .collect()
    };
    let refused = args(T0);
    let (code, _, stderr) = common::run_to_exit(&refused.iter().map(AsRef::as_ref).collect::<Vec<_>>());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("already at 2026-01-05T10:00:00Z; it only moves forward"), "{stderr}");
    let later = start_pg(
        &schema,
        &fresh_dir("pg-clock-later"),
        &["--clock", "virtual", "--start", "2026-01-07T09:00:00Z"],
    );
    let plain = start_pg(&schema, &fresh_dir("pg-clock-plain"), &["--clock", "virtual"]);
    for emu in emus.iter().chain([&later, &plain]) {
        let (_, clock) = emu.call("GET", "/emulator/clock", None);
        assert_eq!(clock["now"], json!("2026-01-07T09:00:00Z"), "{clock}");
    }
    let (status, body) = emus[1].call("POST", "/emulator/clock", Some(&json!({"set": T0})));
    assert_eq!(status, 400, "backwards is refused: {body}");
}

#[test]
fn every_timer_fires_once_when_all_instances_move_the_clock_together() {
    let Some((_schema, emus)) = instances("pg-timers", 4, &VIRTUAL) else { return };
    let jobs = 40;
    for i in 0..jobs {
        // Staggered deadlines: the clock is moved in steps of hours through them.
        if i % 10 == 0 && i > 0 {
            emus[0].advance(3 * 3600);
        }
        let (status, body) =
            emus[i % 4].call("PUT", &job_path("rg-t", &format!("t{i:02}")), Some(&create_body()));
        assert_eq!(status, 201, "{body}");
    }
    let fired = Mutex::new(Vec::new());
    let moves = 24;
    let barrier = Barrier::new(4);
    std::thread::scope(|s| {
        for emu in &emus {
            let (fired, barrier) = (&fired, &barrier);
            s.spawn(move || {
                barrier.wait();
                for _ in 0..moves {
                    let answer = emu.advance(6 * 3600);
                    assert_eq!(answer["firedTruncated"], json!(false), "{answer}");
                    let events = answer["fired"].as_array().unwrap().clone();
                    assert_eq!(answer["firedCount"], json!(events.len()), "{answer}");
                    fired.lock().unwrap().push(events);
                }
            });
        }
    });
    let answers = fired.into_inner().unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for event in answers.iter().flatten() {
        *seen
            .entry(format!("{} {} {}", event["id"], event["event"]["event"], event["event"]["at"]))
            .or_default() += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "a timer in two answers: {seen:?}");
    let expired: BTreeSet<String> = answers
        .iter()
        .flatten()
        .filter(|e| e["event"]["event"] == json!("creatingExpired"))
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    // 4 × 24 six-hour moves: 24 days, past every job's 14 days; one more move finds none left.
    let last = emus[2].advance(14 * 24 * 3600);
    let late: BTreeSet<String> = last["fired"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["event"] == json!("creatingExpired"))
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert!(expired.is_disjoint(&late), "fired twice: {:?}", expired.intersection(&late).collect::<Vec<_>>());
    assert_eq!(
        expired.len() + late.len(),
        jobs,
        "every job's timer fired once: {} + {}",
        expired.len(),
        late.len()
    );
    let expected_now = "2026-02-12T18:00:00Z";
    for emu in &emus {
        let (_, clock) = emu.call("GET", "/emulator/clock", None);
        assert_eq!(clock["now"], json!(expected_now), "every move counted once: {clock}");
    }
}

/// Writes creates through `emus` from `threads` threads until `stop`; returns the names each
/// was told were created (201), with the instance index.
fn write_load(
    emus: &[&Emulator],
    threads: usize,
    stop: &AtomicBool,
    prefix: &str,
) -> Vec<(usize, String, Instant)> {
    let acked = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..threads {
            let acked = &acked;
            s.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let which = (t + i) % emus.len();
                    let name = format!("{prefix}-{t}-{i}");
                    i += 1;
                    let url = format!("{}{}?{}", emus[which].url, job_path("rg-load", &name), common::V);
                    let body = serde_json::to_vec(&create_body()).unwrap();
                    let request = ureq::http::Request::builder()
                        .method("PUT")
                        .uri(&url)
                        .header("Content-Type", "application/json")
                        .body(body)
                        .unwrap();
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(10)))
                        .build()
                        .into();
                    match agent.run(request) {
                        Ok(response) if response.status() == 201 => {
                            acked.lock().unwrap().push((which, name, Instant::now()));
                        }
                        Ok(response) => {
                            let status = response.status().as_u16();
                            assert!(status == 503, "{name}: {status}");
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        // A killed instance's connection: not acknowledged.
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            });
        }
    });
    acked.into_inner().unwrap()
}

#[test]
fn kill_9_of_one_instance_under_write_load_loses_nothing_it_acknowledged() {
    let Some((_schema, mut emus)) = instances("pg-kill", 2, &VIRTUAL) else { return };
    let stop = AtomicBool::new(false);
    let (survivor, victim) = {
        let (a, b) = emus.split_at_mut(1);
        (&a[0], &mut b[0])
    };
    let victim_url = victim.url.clone();
    let killed_at = std::thread::scope(|s| {
        let victim_ref: &Emulator = victim;
        let load = s.spawn(|| write_load(&[survivor, victim_ref], 4, &stop, "k"));
        std::thread::sleep(Duration::from_millis(600));
        // The load borrows the victim: it is killed through its pid, and reaped below.
        let pid = victim_ref.pid();
        let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        let killed = Instant::now();
        std::thread::sleep(Duration::from_millis(600));
        stop.store(true, Ordering::Relaxed);
        (load.join().unwrap(), killed)
    });
    victim.kill9();
    let (acked, killed) = killed_at;
    let on_victim = acked.iter().filter(|(w, _, _)| *w == 1).count();
    let after = acked.iter().filter(|(w, _, at)| *w == 0 && *at > killed).count();
    assert!(on_victim > 0, "the victim acknowledged writes before it was killed ({victim_url})");
    assert!(after > 0, "the survivor went on serving after the kill");
    for (_, name, _) in &acked {
        let (status, body) = survivor.call("GET", &job_path("rg-load", name), None);
        assert_eq!(status, 200, "{name} was acknowledged: {body}");
    }
}

/// A throwaway cluster of this test's own (`.ci/postgres start`), stopped and removed on drop.
struct OwnCluster {
    dir: PathBuf,
    url: String,
}

impl OwnCluster {
    fn script() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/postgres")
    }

    fn start(test: &str) -> Option<OwnCluster> {
        let dir = std::env::temp_dir().join(format!("emulator-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out =
            std::process::Command::new("bash").arg(Self::script()).arg("start").arg(&dir).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let Some(url) = stdout.trim().strip_prefix("export DATABASE_URL=") else {
            let _ = std::fs::remove_dir_all(&dir);
            let why = String::from_utf8_lossy(&out.stderr);
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: no cluster of its own: {why}");
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped: cannot start a PostgreSQL cluster of its own: {why}"
            );
            return None;
        };
        Some(OwnCluster { url: url.to_string(), dir })
    }

    fn restart(&self, down_seconds: u32) {
        let status = std::process::Command::new("bash")
            .arg(Self::script())
            .arg("restart")
            .arg(&self.dir)
            .arg(down_seconds.to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash").arg(Self::script()).arg("stop").arg(&self.dir).status();
    }
}

#[test]
fn the_database_restarted_under_load_answers_503_then_recovers_by_itself() {
    // Only with a server to test against at all (as every test here), then on a cluster of its
    // own: restarting the shared one would disturb the other tests.
    if common::database_url("pg-restart").is_none() {
        return;
    }
    let Some(cluster) = OwnCluster::start("pg-restart") else { return };
    let schema = PgSchema::new(&cluster.url, "pg_restart");
    let dir = fresh_dir("pg-restart");
    let emus = [start_pg(&schema, &dir, &VIRTUAL), start_pg(&schema, &dir, &VIRTUAL)];
    let stop = AtomicBool::new(false);
    let (acked, restarted) = std::thread::scope(|s| {
        let load = s.spawn(|| write_load(&[&emus[0], &emus[1]], 4, &stop, "r"));
        std::thread::sleep(Duration::from_millis(500));
        let (_, clock) = emus[0].call("GET", "/emulator/clock", None);
        assert_eq!(clock["now"], json!(T0));
        // Down for two seconds: requests meanwhile answer 503 (the load asserts nothing else).
        let during = s.spawn(|| {
            std::thread::sleep(Duration::from_millis(1200));
            emus[0].call("GET", &job_path("rg-load", "none"), None)
        });
        cluster.restart(2);
        let restarted = Instant::now();
        let (status, body) = during.join().unwrap();
        assert_eq!((status, body["error"]["code"].as_str()), (503, Some("ServiceUnavailable")), "{body}");
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        (load.join().unwrap(), restarted)
    });
    let after = acked.iter().filter(|(_, _, at)| *at > restarted).count();
    assert!(after > 0, "writes succeed again once the database is back, with no restart of the emulators");
    for (_, name, _) in &acked {
        let (status, body) = emus[1].call("GET", &job_path("rg-load", name), None);
        assert_eq!(status, 200, "{name} was acknowledged: {body}");
    }
}

#[test]
fn a_database_of_another_layout_version_or_application_or_asking_for_tls_is_refused_unchanged() {
    let Some(server) = common::database_url("pg-refused") else { return };
    let run = |url: &str| {
        let args: Vec<std::ffi::OsString> =
            ["--listen", "127.0.0.1:0", "--db", url].iter().map(Into::into).collect();
        common::run_to_exit(&args.iter().map(AsRef::as_ref).collect::<Vec<_>>())
    };
    // Another version of this layout.
    let schema = PgSchema::new(&server, "pg_version");
    let first = start_pg(&schema, &fresh_dir("pg-version"), &VIRTUAL);
    drop(first);
    schema.client().execute("UPDATE emulator SET value = '99' WHERE key = 'schema'", &[]).unwrap();
    let before = common::dump_pg(&schema);
    let (code, _, stderr) = run(&schema.url);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("emulator.schema: version \"99\", this emulator reads version 1"), "{stderr}");
    assert_eq!(common::dump_pg(&schema), before, "nothing changed");
    // Another application's tables.
    let foreign = PgSchema::new(&server, "pg_foreign");
    foreign.client().batch_execute("CREATE TABLE invoices (id INT PRIMARY KEY)").unwrap();
    let (code, _, stderr) = run(&foreign.url);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("another application's tables (\"invoices\")"), "{stderr}");
    let tables: i64 = foreign
        .client()
        .query_one(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "no table was made beside it");
    // TLS to the database is not offered: refused before connecting, saying so.
    let separator = if server.contains('?') { '&' } else { '?' };
    let (code, _, stderr) = run(&format!("{server}{separator}sslmode=require"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("sslmode=require: this emulator does not speak TLS to PostgreSQL"), "{stderr}");
}

#[test]
fn instances_on_the_system_clock_sweeping_together_fire_each_due_timer_once() {
    let Some(server) = common::database_url("pg-sweep") else { return };
    let schema = PgSchema::new(&server, "pg_sweep");
    // Jobs made at T0 (long past on the system clock): every one's 14-day timer is due.
    let dir = fresh_dir("pg-sweep");
    let maker = start_pg(&schema, &dir, &VIRTUAL);
    let jobs = 60;
    for i in 0..jobs {
        let (status, body) =
            maker.call("PUT", &job_path("rg-sweep", &format!("s{i:02}")), Some(&create_body()));
        assert_eq!(status, 201, "{body}");
    }
    drop(maker);
    let log = dir.join("emulator.log");
    let before = std::fs::read_to_string(&log).unwrap_or_default().len();
    let sweepers: Vec<Emulator> = (0..3).map(|_| start_pg(&schema, &dir, &["--clock", "system"])).collect();
    let fired = || -> Vec<String> {
        let text = std::fs::read_to_string(&log).unwrap();
        text[before..]
            .lines()
            .filter(|l| l.contains("timer fired") && l.contains("change=CreatingExpired"))
            .filter_map(|l| l.split("job=").nth(1)?.split(' ').next().map(str::to_string))
            .collect()
    };
    let started = Instant::now();
    while fired().len() < jobs && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    // And a little longer: a second firing would show now.
    std::thread::sleep(Duration::from_millis(1500));
    let fired = fired();
    let unique: BTreeSet<&String> = fired.iter().collect();
    assert_eq!((fired.len(), unique.len()), (jobs, jobs), "each due timer fired once: {fired:?}");
    for emu in &sweepers {
        let (_, job) = emu.call("GET", &job_path("rg-sweep", "s07"), None);
        assert_ne!(job["properties"]["state"], json!("Creating"), "{job}");
    }
}
