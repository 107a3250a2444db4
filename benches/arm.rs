//! Timings of the ARM layer: a `GET` among one and among ten thousand resource groups, ten
//! thousand `PUT`s each in its own resource group against ten thousand in one, and the
//! per-record functions on a record already loaded.
//!
//! ```text
//! cargo bench --bench arm
//! ```
//!
//! Every service is built before timing starts; the clock is simulated from a fixed origin and
//! no timer is due while timing. Bodies are the REST specification's `CreateJob` example.

use std::sync::LazyLock;

use divan::{Bencher, black_box};
use import_export_lifecycle::Timestamp;
use import_export_lifecycle::arm::{
    BitLockerKeys, Context, JobOperation, JobRequest, Method, Record, Request, Route, Scope, Service, Write,
    handle_job, route,
};
use serde_json::Value;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

const SUB: &str = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

fn origin() -> Timestamp {
    "2026-01-05T09:00:00Z".parse().unwrap()
}

/// A day after every create: nothing is due.
fn quiet_now() -> Timestamp {
    "2026-01-06T09:00:00Z".parse().unwrap()
}

static BODY: LazyLock<Value> = LazyLock::new(|| {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/azure-rest-2021-01-01/CreateJob.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fixture["parameters"]["body"].clone()
});

fn job_path(group: &str, job: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.ImportExport/jobs/{job}?api-version=2021-01-01"
    )
}

fn put(group: &str, job: &str) -> Request {
    Request { method: Method::Put, path: job_path(group, job), body: Some(BODY.clone()) }
}

/// A service whose `groups` resource groups hold one job each.
fn service_with_groups(groups: usize) -> Service {
    let mut service = Service::new(Default::default(), Default::default());
    for i in 0..groups {
        let answer = service.handle(origin(), &put(&format!("rg-{i:05}"), "job")).answer;
        assert_eq!(answer.status, 201);
    }
    service
}

/// `GET` of one job, among 1 and among 10,000 resource groups: the same cost is the target.
#[divan::bench(args = [1, 10_000], sample_count = 1000, sample_size = 100)]
fn get_among_groups(bencher: Bencher, groups: usize) {
    let mut service = service_with_groups(groups);
    let request =
        Request { method: Method::Get, path: job_path(&format!("rg-{:05}", groups / 2), "job"), body: None };
    assert_eq!(service.handle(quiet_now(), &request).answer.status, 200);
    bencher.bench_local(|| black_box(service.handle(quiet_now(), black_box(&request))));
}

/// 10,000 `PUT`s into an empty service: each in its own resource group, or all in one.
#[divan::bench(args = ["10k groups", "one group"], sample_count = 5, sample_size = 1)]
fn puts_10k(bencher: Bencher, layout: &str) {
    let requests: Vec<Request> = (0..10_000)
        .map(|i| match layout {
            "one group" => put("rg", &format!("job-{i:05}")),
            _ => put(&format!("rg-{i:05}"), "job"),
        })
        .collect();
    bencher.with_inputs(|| Service::new(Default::default(), Default::default())).bench_local_values(
        |mut service| {
            for request in &requests {
                black_box(service.handle(origin(), request));
            }
            service
        },
    );
}

/// The per-record functions, on a record already loaded (what a one-row-per-job host pays
/// besides its storage).
mod per_record {
    use super::*;

    fn loaded() -> (Context, Record, BitLockerKeys) {
        let context = Context::default();
        let request = JobRequest {
            scope: Scope { subscription: SUB.into(), resource_group: "rg".into() },
            name: "job".try_into().unwrap(),
            operation: JobOperation::Create,
        };
        let answer = handle_job(&context, None, None, origin(), &request, Some(&BODY));
        match (answer.record, answer.keys) {
            (Write::Put(record), Write::Put(keys)) => (context, *record, *keys),
            _ => panic!("created"),
        }
    }

    /// `route` and `handle_job` for a `GET`.
    #[divan::bench(sample_count = 1000, sample_size = 100)]
    fn get(bencher: Bencher) {
        let (context, record, keys) = loaded();
        let request = Request { method: Method::Get, path: job_path("rg", "job"), body: None };
        bencher.bench_local(|| {
            let Ok(Route::Job(job)) = route(black_box(&request)) else { panic!("a job") };
            black_box(handle_job(&context, Some(&record), Some(&keys), quiet_now(), &job, None))
        });
    }

    /// A record's stored JSON: written, then read back (checked).
    #[divan::bench(sample_count = 1000, sample_size = 10)]
    fn record_json_round_trip(bencher: Bencher) {
        let (_, record, _) = loaded();
        bencher.bench_local(|| {
            let text = serde_json::to_string(black_box(&record)).unwrap();
            black_box(serde_json::from_str::<Record>(&text).unwrap())
        });
    }
}
