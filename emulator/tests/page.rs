//! The page (`/emulator/ui`) in a real browser: headless Chromium driven through WebDriver
//! (`chromedriver`'s HTTP API). A reviewer's walk: load the page, move the clock, receive a
//! package, copy a drive, cancel while it copies, be refused with the rule named, finish, ship
//! back and watch retention remove the job; a hostile tag is shown as text and runs
//! nothing. With and without `--token`. Each run saves a screenshot of the job mid-life.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! tests fail under `CI=true` and are skipped, with the reason printed, elsewhere.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Emulator, T0, create_body, job_path, ship_body};
use serde_json::{Value, json};

/// A value no page may run or render as markup: if it became an element, `img` would count it
/// and its handler would set `window.__xss` (the page's CSP forbids inline handlers too).
const HOSTILE: &str = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>";

/// How long one condition on the page may take to hold.
const WAIT: Duration = Duration::from_secs(15);

/// Where the screenshots go: under cargo's temporary folder for integration tests.
fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("page");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A program on `PATH`, or at one of `fallbacks`.
fn find_program(name: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    on_path.chain(fallbacks.iter().map(PathBuf::from)).find(|p| p.is_file())
}

/// Headless Chromium under chromedriver, one WebDriver session; both stopped when dropped.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a Chromium session with a fresh profile, or says why it cannot.
    fn start(name: &str) -> Result<Browser, String> {
        let chromium = std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .or_else(|| find_program("chromium", &["/usr/bin/chromium", "/usr/bin/chromium-browser"]))
            .ok_or("no chromium (Debian: apt-get install chromium chromium-driver)")?;
        let chromedriver = find_program("chromedriver", &["/usr/bin/chromedriver"])
            .ok_or("no chromedriver (Debian: apt-get install chromium-driver)")?;
        let profile = common::fresh_dir(&format!("chromium-{name}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for chromedriver: {e}"))?
            .port();
        let log = std::fs::File::create(profile.join("chromedriver.log")).map_err(|e| e.to_string())?;
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", chromedriver.display()))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
            profile,
        };
        let started = Instant::now();
        loop {
            let ready =
                browser.agent.get(format!("{}/status", browser.base)).call().ok().and_then(|mut r| {
                    r.body_mut().read_json::<Value>().ok().map(|v| v["value"]["ready"] == true)
                });
            if ready == Some(true) {
                break;
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err("chromedriver did not become ready in 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--window-size=1280,1000".into(),
            format!("--user-data-dir={}", browser.profile.join("profile").display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // A self-signed certificate of an HTTPS emulator is the test's own.
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let (status, answer) = browser.request("POST", "/session", Some(&capabilities));
        if status != 200 {
            let why = answer["value"]["message"].as_str().map_or_else(|| answer.to_string(), str::to_string);
            return Err(format!("chromium did not start under chromedriver: {status} {why}"));
        }
        browser.session = answer["value"]["sessionId"].as_str().ok_or("no sessionId")?.to_string();
        Ok(browser)
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Content-Type", "application/json")
            .body(body.map(|b| b.to_string()).unwrap_or_default())
            .unwrap();
        let mut response =
            self.agent.run(request).unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = response.status().as_u16();
        let value = response.body_mut().read_json::<Value>().unwrap_or(Value::Null);
        (status, value)
    }

    /// A WebDriver command of this session; its `value`.
    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if method == "GET" { None } else { Some(&body) };
        let (status, answer) = self.request(method, &format!("/session/{}{path}", self.session), body);
        assert_eq!(status, 200, "WebDriver {method} {path}: {answer}");
        answer["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({"url": url}));
    }

    /// Runs `script` (a function body) in the page with `args`; its result.
    fn exec(&self, script: &str, args: Value) -> Value {
        self.command("POST", "/execute/sync", json!({"script": script, "args": args}))
    }

    /// Waits until `script` returns `true`; panics naming `what` (and the page's text) if it
    /// does not within [`WAIT`].
    fn wait(&self, what: &str, script: &str, args: Value) {
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if self.exec(script, args.clone()) == true {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let text = self.exec("return document.body.innerText", json!([]));
        panic!("the page never showed {what} within {WAIT:?}; it shows:\n{}", text.as_str().unwrap_or(""));
    }

    fn element(&self, css: &str) -> String {
        let found = self.command("POST", "/element", json!({"using": "css selector", "value": css}));
        found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).unwrap().to_string()
    }

    /// Clicks the element `css` selects, as a user would.
    fn click(&self, css: &str) {
        let id = self.element(css);
        self.command("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// Types `text` into the element `css` selects.
    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.command("POST", &format!("/element/{id}/value"), json!({"text": text}));
    }

    /// The text content of the first element `css` selects, or `None`.
    fn text(&self, css: &str) -> Option<String> {
        let script = "const e = document.querySelector(arguments[0]); return e ? e.textContent : null";
        self.exec(script, json!([css])).as_str().map(str::to_string)
    }

    fn screenshot(&self, path: &Path) {
        let data = self.command("GET", "/screenshot", Value::Null);
        let png = base64_decode(data.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(self.profile.join("profile"));
    }
}

/// Standard base64 (WebDriver's screenshot encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c:?}"),
    };
    let digits: Vec<u8> =
        text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// A browser, or `None` with the reason printed when none can be started outside CI.
fn browser_or_skip(name: &str) -> Option<Browser> {
    match Browser::start(name) {
        Ok(browser) => Some(browser),
        Err(reason) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true: the page's browser test needs chromium and chromedriver: {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: {reason}");
            None
        }
    }
}

/// The selector of a job's card.
fn card(name: &str) -> String {
    format!("article.job[data-name=\"{name}\"]")
}

/// Clicks a job's button and waits for the page to say the action's outcome, then for the
/// refresh after it.
fn click_and_wait(browser: &Browser, css: &str, outcome: &str) {
    browser.exec(
        "document.getElementById('result').dataset.outcome = ''; document.body.dataset.loaded = '0'",
        json!([]),
    );
    browser.click(css);
    browser.wait(
        &format!("outcome {outcome} after clicking {css}"),
        "return document.getElementById('result').dataset.outcome === arguments[0] && document.body.dataset.loaded !== '0'",
        json!([outcome]),
    );
}

/// Waits until a job's card shows `state`.
fn wait_state(browser: &Browser, name: &str, state: &str) {
    browser.wait(
        &format!("{name} in {state}"),
        "const c = document.querySelector(arguments[0]); return !!c && c.dataset.state === arguments[1]",
        json!([card(name), state]),
    );
}

/// The walk, on an emulator at `emulator.url`.
///
/// Over HTTPS (`--cert/--key`) it runs unchanged: start the emulator with a test certificate
/// (`rcgen`), let `common::start` accept an `https://` first line and `common::Emulator` speak
/// TLS trusting that certificate (ureq's `rustls` feature), then call `walk`; the browser
/// session already accepts the test's self-signed certificate (`acceptInsecureCerts`).
fn walk(emulator: &Emulator, browser: &Browser, token: Option<&str>, shot: &str) {
    // Two subscriptions, two resource groups; a hostile tag on one job (its location must be one
    // the emulator ships to, R-PUT-4).
    let walked = job_path("rg-walk", "job-walk");
    assert_eq!(emulator.call("PUT", &walked, Some(&create_body())).0, 201);
    assert_eq!(emulator.call("PATCH", &walked, Some(&ship_body())).0, 200);
    let mut hostile = create_body();
    hostile["tags"] = json!({ HOSTILE: HOSTILE, "team": "data" });
    let hostile_path =
        "/subscriptions/sub-2/resourceGroups/rg-other/providers/Microsoft.ImportExport/jobs/job-hostile";
    assert_eq!(emulator.call("PUT", hostile_path, Some(&hostile)).0, 201);

    // `/` leads to the page.
    browser.goto(&format!("{}/", emulator.url));
    browser.wait("the page", "return location.pathname === '/emulator/ui'", json!([]));
    if let Some(token) = token {
        browser.wait("the token form", "return !document.getElementById('token').hidden", json!([]));
        assert_eq!(browser.exec("return document.querySelectorAll('article.job').length", json!([])), 0);
        // A wrong token is refused, and the page asks again.
        browser.type_into("#token-input", "wrong");
        browser.click("#token-save");
        browser.wait(
            "the token refused",
            "return !document.getElementById('token').hidden && document.getElementById('token-reason').textContent.includes('refused')",
            json!([]),
        );
        assert_eq!(browser.exec("return document.querySelectorAll('article.job').length", json!([])), 0);
        browser.type_into("#token-input", token);
        browser.click("#token-save");
    }
    wait_state(browser, "job-walk", "Shipping");
    assert_eq!(browser.text("#now").as_deref(), Some(T0));
    assert!(browser.text("#mode").unwrap().contains("virtual"));
    // The token never goes into a URL.
    let href = browser.exec("return location.href", json!([]));
    assert_eq!(href, json!(format!("{}/emulator/ui", emulator.url)));

    // Grouped by subscription, then resource group.
    let groups = browser.exec(
        "return [...document.querySelectorAll('section.subscription')].map(s => [s.querySelector('h2').textContent, [...s.querySelectorAll('section.resource-group > h2')].map(h => h.textContent)])",
        json!([]),
    );
    assert_eq!(
        groups,
        json!([
            ["subscription sub-1", ["resource group rg-walk"]],
            ["subscription sub-2", ["resource group rg-other"]]
        ])
    );

    // The hostile values are text: nothing became an element, nothing ran.
    let hostile_card = card("job-hostile");
    assert_eq!(browser.text(&format!("{hostile_card} .location")).as_deref(), Some("West US"));
    assert_eq!(browser.text(&format!("{hostile_card} .tags dt")).as_deref(), Some(HOSTILE));
    assert_eq!(browser.text(&format!("{hostile_card} .tag-value")).as_deref(), Some(HOSTILE));
    assert_eq!(
        browser.exec("return document.querySelectorAll('img, script:not([src])').length", json!([])),
        0
    );
    assert_eq!(browser.exec("return typeof window.__xss", json!([])), "undefined");
    // Its timeline ends in the two weeks a job may sit in Creating.
    let next = browser.text(&format!("{hostile_card} .next")).unwrap();
    assert!(next.contains("CreatingExpired at 2026-01-19T09:00:00Z"), "{next}");
    assert!(next.contains("removes the job"), "{next}");

    // A day later the package arrives; a day after that the drive copies 1 TB.
    let walk_card = card("job-walk");
    click_and_wait(browser, "#advance-day", "ok");
    assert_eq!(browser.text("#now").as_deref(), Some("2026-01-06T09:00:00Z"));
    assert_eq!(emulator.call("GET", "/emulator/clock", None).1["now"], "2026-01-06T09:00:00Z");
    click_and_wait(browser, &format!("{walk_card} button.op-packageReceived"), "ok");
    wait_state(browser, "job-walk", "Received");
    click_and_wait(browser, "#advance-day", "ok");
    click_and_wait(browser, &format!("{walk_card} button.op-startTransfer[data-drive=\"9CA995BB\"]"), "ok");
    wait_state(browser, "job-walk", "Transferring");
    click_and_wait(browser, &format!("{walk_card} button.op-progress"), "ok");
    let bytes = browser.text(&format!("{walk_card} tr.drive .drive-bytes")).unwrap();
    assert!(bytes.starts_with("1,000,000,000,000 B"), "{bytes}");

    // Cancel while copying: accepted, the drive goes on.
    click_and_wait(browser, &format!("{walk_card} button.op-cancel"), "ok");
    browser.wait(
        "cancelRequested: true",
        "return document.querySelector(arguments[0]).textContent === 'cancelRequested: true'",
        json!([format!("{walk_card} .cancel-requested")]),
    );
    let (_, job) = emulator.call("GET", &walked, None);
    assert_eq!(job["properties"]["state"], "Transferring");
    assert_eq!(job["properties"]["cancelRequested"], true);

    // Shipping back before the copy ends is refused, the rule named, and nothing changes.
    let before = emulator.dump();
    click_and_wait(browser, &format!("{walk_card} button.op-shipBack"), "refused");
    assert_eq!(browser.text("#result .rule").as_deref(), Some("rule R-FLOW-6"));
    let said = browser.text("#result").unwrap();
    assert!(said.contains("409 InvalidStateTransition"), "{said}");
    assert!(said.contains("shipBack refused for job 'job-walk' in state Transferring"), "{said}");
    assert_eq!(emulator.dump(), before, "a refused step changes nothing");

    // The timeline shows every state entered, now and no timer (the job is under way).
    let stages = browser.exec(
        "return [...document.querySelectorAll(arguments[0] + ' svg text.name')].map(t => t.textContent)",
        json!([walk_card]),
    );
    assert_eq!(stages, json!(["Creating", "Shipping", "Received", "Transferring", "now"]));
    browser.screenshot(&output_dir().join(format!("{shot}.png")));

    // The copy ends, the drives go back: Completed, kept 90 days, then removed.
    click_and_wait(browser, &format!("{walk_card} button.op-finishTransfer"), "ok");
    wait_state(browser, "job-walk", "Packaging");
    click_and_wait(browser, &format!("{walk_card} button.op-shipBack"), "ok");
    wait_state(browser, "job-walk", "Completed");
    let next = browser.text(&format!("{walk_card} .next")).unwrap();
    assert!(next.contains("RetentionExpired at 2026-04-07T09:00:00Z"), "{next}");
    click_and_wait(browser, "#advance-90", "ok");
    let said = browser.text("#result").unwrap();
    assert!(said.contains("retentionExpired"), "{said}");
    browser.wait("job-walk removed", "return !document.querySelector(arguments[0])", json!([walk_card]));
    assert_eq!(emulator.call("GET", &walked, None).0, 404);

    // An instant typed in moves the clock there; one before it is refused, as the API says.
    browser.type_into("#set-at", "2026-05-01T00:00:00Z");
    click_and_wait(browser, "#set", "ok");
    assert_eq!(browser.text("#now").as_deref(), Some("2026-05-01T00:00:00Z"));
    browser.exec("document.getElementById('set-at').value = ''", json!([]));
    browser.type_into("#set-at", "2026-01-01T00:00:00Z");
    click_and_wait(browser, "#set", "refused");
    let said = browser.text("#result").unwrap();
    assert!(said.contains("400 InvalidRequest") && said.contains("only moves forward"), "{said}");
}

#[test]
fn page_walks_a_job_through_cancel_while_copying_to_its_removal_over_http() {
    let Some(browser) = browser_or_skip("http") else { return };
    let emulator = common::start_virtual("page-http");
    walk(&emulator, &browser, None, "http");
}

#[test]
fn page_with_token_asks_for_it_and_sends_it_as_a_bearer_header_over_http() {
    let Some(browser) = browser_or_skip("http-token") else { return };
    let db = common::fresh_dir("page-http-token").join("db.sqlite3");
    let emulator = common::start(&db, &["--clock", "virtual", "--start", T0, "--token", "s3cret"]);
    // The page loads without the token (it holds no data); its data needs it.
    let (status, _) = emulator.raw("GET", &format!("{}/emulator/ui", emulator.url), None, None);
    assert_eq!(status, 200);
    let (status, body) = emulator.raw("GET", &format!("{}/emulator/jobs", emulator.url), None, None);
    assert_eq!(status, 401, "{body}");
    let (status, _) = emulator.raw("GET", &format!("{}/emulator/jobs", emulator.url), None, Some("s3cret"));
    assert_eq!(status, 200);
    walk(&emulator, &browser, Some("s3cret"), "http-token");
}

#[test]
fn page_walks_a_job_through_cancel_while_copying_to_its_removal_over_https() {
    let Some(browser) = browser_or_skip("https") else { return };
    let dir = common::fresh_dir("page-https");
    let tls = common::test_certificate(&dir);
    let emulator = common::start_https(&dir.join("db.sqlite3"), &["--clock", "virtual", "--start", T0], &tls);
    walk(&emulator, &browser, None, "https");
}

#[test]
fn page_with_token_asks_for_it_and_sends_it_as_a_bearer_header_over_https() {
    let Some(browser) = browser_or_skip("https-token") else { return };
    let dir = common::fresh_dir("page-https-token");
    let tls = common::test_certificate(&dir);
    let args = ["--clock", "virtual", "--start", T0, "--token", "s3cret"];
    let emulator = common::start_https(&dir.join("db.sqlite3"), &args, &tls);
    walk(&emulator, &browser, Some("s3cret"), "https-token");
}

/// The page's files and `GET /emulator/jobs`, without a browser: the headers that keep a
/// browser to the emulator, the redirect, and what the page reads.
#[test]
fn page_is_served_without_the_token_under_a_strict_csp_and_its_data_needs_the_token() {
    let db = common::fresh_dir("page-plain").join("db.sqlite3");
    let emulator = common::start(&db, &["--clock", "virtual", "--start", T0, "--token", "t"]);
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let response = agent.get(format!("{}/", emulator.url)).call().unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/emulator/ui");
    for (path, kind) in [
        ("/emulator/ui", "text/html"),
        ("/emulator/ui/app.js", "text/javascript"),
        ("/emulator/ui/app.css", "text/css"),
    ] {
        let response = agent.get(format!("{}{path}", emulator.url)).call().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let headers = response.headers();
        assert!(headers["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"), "{csp}");
        assert!(csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
    // The page loads nothing from outside the emulator.
    let html = agent
        .get(format!("{}/emulator/ui", emulator.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("//"), "{html}");
    let (status, body) = emulator.raw("POST", &format!("{}/emulator/ui", emulator.url), None, None);
    assert_eq!((status, body["error"]["code"].as_str()), (405, Some("InvalidRequest")));

    // Its data needs the token; with it, every job across subscriptions, in key order.
    let (status, body) = emulator.raw("GET", &format!("{}/emulator/jobs", emulator.url), None, None);
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("AuthenticationFailed")));
    let other = "/subscriptions/SUB-0/resourceGroups/RG/providers/Microsoft.ImportExport/jobs/job-b";
    assert_eq!(emulator.call("PUT", other, Some(&create_body())).0, 201);
    let shipped = job_path("rg", "job-a");
    assert_eq!(emulator.call("PUT", &shipped, Some(&create_body())).0, 201);
    emulator.advance(3600);
    assert_eq!(emulator.call("PATCH", &shipped, Some(&ship_body())).0, 200);
    let (status, view) = emulator.call("GET", "/emulator/jobs", None);
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["now"], "2026-01-05T10:00:00Z");
    assert_eq!(view["mode"], "virtual");
    assert_eq!(view["total"], 2);
    let jobs = view["jobs"].as_array().unwrap();
    assert_eq!(jobs[0]["id"], other);
    assert_eq!(
        (jobs[0]["subscription"].as_str(), jobs[0]["resourceGroup"].as_str()),
        (Some("SUB-0"), Some("RG"))
    );
    let job = &jobs[1];
    assert_eq!(job["name"], "job-a");
    assert_eq!(job["state"], "Shipping");
    assert_eq!(job["cancelRequested"], false);
    assert_eq!(job["drives"], json!([{"driveId": "9CA995BB", "state": "Specified", "bytesSucceeded": 0}]));
    assert_eq!(
        job["stages"],
        json!([
            {"stageName": "Creating", "stageTime": "2026-01-05T09:00:00Z"},
            {"stageName": "Shipping", "stageTime": "2026-01-05T10:00:00Z"}
        ])
    );
    assert_eq!(job["nextDeadline"]["timer"], "NeverReceived");
    assert_eq!(job["nextDeadline"]["removesJob"], false);
    assert_eq!(job["capabilities"]["isCancellable"], true);
    assert_eq!(
        jobs[0]["nextDeadline"],
        json!({"at": "2026-01-19T09:00:00Z", "timer": "CreatingExpired", "removesJob": true})
    );
    // Reading them changes nothing.
    let before = emulator.dump();
    assert_eq!(emulator.call("GET", "/emulator/jobs", None).0, 200);
    assert_eq!(emulator.dump(), before);
}
