//! HTTPS: `--cert` and `--key` serve TLS with a certificate made here, driven by a client that
//! trusts only that certificate; every bad certificate or key stops the emulator before it
//! listens, with one line naming the file and the problem.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{T0, V, certificate, create_body, fresh_dir, job_path, run_to_exit, trusting, write_pair};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_import-export-emulator");

/// A running emulator, killed when dropped.
struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_https(db: &Path, cert: &Path, key: &Path) -> Running {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--clock", "virtual", "--start", T0, "--db"])
        .arg(db)
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line {line:?}"))
        .to_string();
    Running { child, url }
}

fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), ureq::Error> {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Content-Type", "application/json")
        .body(body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default())
        .unwrap();
    let mut response = agent.run(request)?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string()?;
    Ok((status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() }))
}

#[test]
fn https_serves_with_the_given_certificate_and_next_links_stay_on_https() {
    let dir = fresh_dir("https");
    let (cert, key, der) = certificate();
    let (cert_path, key_path) = write_pair(&dir, &cert, &key);
    let emulator = start_https(&dir.join("db.sqlite3"), &cert_path, &key_path);
    let port = emulator.url.strip_prefix("https://127.0.0.1:").expect("listening on https://127.0.0.1:PORT");
    assert!(port.parse::<u16>().is_ok_and(|p| p != 0), "{}", emulator.url);
    let agent = trusting(&der);

    let (status, health) = call(&agent, "GET", &format!("{}/emulator/health", emulator.url), None).unwrap();
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")), "{health}");
    // The certificate names localhost too.
    let localhost = format!("https://localhost:{port}/emulator/health");
    assert_eq!(call(&agent, "GET", &localhost, None).unwrap().0, 200);

    for name in ["job-1", "job-2"] {
        let url = format!("{}{}?{V}", emulator.url, job_path("rg", name));
        let (status, body) = call(&agent, "PUT", &url, Some(&create_body())).unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let list =
        format!("{}/subscriptions/sub-1/providers/Microsoft.ImportExport/jobs?{V}&$top=1", emulator.url);
    let (status, page) = call(&agent, "GET", &list, None).unwrap();
    assert_eq!(status, 200, "{page}");
    let next = page["nextLink"].as_str().expect("a nextLink after one of two jobs");
    assert!(next.starts_with(&format!("{}/", emulator.url)), "nextLink {next} is not on {}", emulator.url);
    let (status, rest) = call(&agent, "GET", next, None).unwrap();
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["value"].as_array().map(Vec::len), Some(1), "{rest}");

    // A client that does not trust this certificate is refused by its own TLS.
    let (_, _, other) = certificate();
    let refused = call(&trusting(&other), "GET", &format!("{}/emulator/health", emulator.url), None);
    assert!(refused.is_err(), "a client trusting another certificate got in: {refused:?}");
    // Plain HTTP on the TLS port gets no answer.
    let plain = format!("http://127.0.0.1:{port}/emulator/health");
    let plain = call(&common::agent(), "GET", &plain, None);
    assert!(!matches!(plain, Ok((200, _))), "plain HTTP answered on the HTTPS port: {plain:?}");
}

#[test]
fn https_bad_certificate_or_key_exits_before_listening_naming_the_file() {
    let dir = fresh_dir("https-bad");
    let (cert, key, _) = certificate();
    let (_, other_key, _) = certificate();
    let (cert_path, key_path) = write_pair(&dir, &cert, &key);
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let missing = dir.join("missing.pem");
    let garbage = write("garbage.pem", "not a certificate at all\n");
    let broken = write("broken.pem", "-----BEGIN CERTIFICATE-----\nMIIB!!!\n");
    let mismatched = write("other-key.pem", &other_key);
    let db = dir.join("db.sqlite3");
    let cases: [(&Path, &Path, &Path, &str); 7] = [
        (&missing, &key_path, &missing, "cannot be read"),
        (&cert_path, &missing, &missing, "cannot be read"),
        (&garbage, &key_path, &garbage, "no certificate in it"),
        (&broken, &key_path, &broken, "not a PEM certificate chain"),
        (&cert_path, &garbage, &garbage, "no private key in it"),
        // A certificate where the key should be: no key in it.
        (&cert_path, &cert_path, &cert_path, "no private key in it"),
        (&cert_path, &mismatched, &mismatched, "not the private key of the certificate"),
    ];
    for (cert, key, named, problem) in cases {
        let args = ["--listen", "127.0.0.1:0", "--db"].map(std::ffi::OsStr::new);
        let mut all: Vec<&std::ffi::OsStr> = args.to_vec();
        all.extend([db.as_os_str(), "--cert".as_ref(), cert.as_os_str(), "--key".as_ref(), key.as_os_str()]);
        let (code, stdout, stderr) = run_to_exit(&all);
        assert_eq!(code, Some(1), "--cert {cert:?} --key {key:?}: {stderr}");
        assert!(stdout.is_empty(), "it listened: {stdout}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line, got {stderr:?}");
        assert!(
            lines[0].contains(&named.display().to_string()) && lines[0].contains(problem),
            "{:?} does not name {named:?} and {problem:?}",
            lines[0]
        );
        // Refused before the database was opened: nothing was made.
        assert!(!db.exists(), "the database was created");
    }

    // One flag of the two is refused by the flag parser, also before anything listens.
    for flag in ["--cert", "--key"] {
        let args = ["--listen", "127.0.0.1:0", "--db", ":memory:", flag].map(std::ffi::OsStr::new);
        let mut all = args.to_vec();
        all.push(cert_path.as_os_str());
        let (code, stdout, stderr) = run_to_exit(&all);
        assert_eq!(code, Some(2), "{flag} alone: {stderr}");
        assert!(stdout.is_empty(), "it listened: {stdout}");
        let other = if flag == "--cert" { "--key" } else { "--cert" };
        assert!(stderr.contains(other), "{flag} alone: {stderr:?} does not name {other}");
    }
}
