// Starts the emulator over HTTPS with a certificate made for this run, then runs the SDK test
// (sdk.test.mjs, node's own test runner) against it, trusting that certificate the way a user
// does: NODE_EXTRA_CA_CERTS names it, nothing else is trusted for 127.0.0.1.
//
//     npm ci && EMULATOR_BIN=../../../target/debug/import-export-emulator node run.mjs
//
// Everything it starts is stopped and everything it writes is removed, whatever the outcome;
// a run that takes more than three minutes is killed.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const binary = resolve(process.env.EMULATOR_BIN ?? join(root, "target/debug/import-export-emulator"));
const token = "t";
const folder = mkdtempSync(join(tmpdir(), "emulator-js-sdk-"));
const cert = join(folder, "cert.pem");
const key = join(folder, "key.pem");
let emulator = null;

function cleanUp() {
  if (emulator && emulator.exitCode === null) emulator.kill("SIGKILL");
  rmSync(folder, { recursive: true, force: true });
}

function fail(message) {
  console.error(`run.mjs: ${message}`);
  cleanUp();
  process.exit(1);
}

const deadline = setTimeout(() => fail("the SDK test took more than 180 s"), 180_000);

// A self-signed certificate for the loopback address and its name, valid for two days.
const made = spawnSync("openssl", [
  "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
  "-days", "2", "-subj", "/CN=localhost",
  "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  "-keyout", key, "-out", cert,
], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
if (made.status !== 0) fail(`openssl could not make a certificate: ${made.error ?? made.stderr}`);

emulator = spawn(binary, [
  "--listen", "127.0.0.1:0", "--db", join(folder, "db.sqlite3"),
  "--clock", "virtual", "--start", "2026-01-05T09:00:00Z", "--token", token,
  "--cert", cert, "--key", key,
], { stdio: ["ignore", "pipe", "inherit"] });
emulator.on("error", (e) => fail(`cannot start ${binary}: ${e.message}`));

const firstLine = await new Promise((resolveLine) => {
  const lines = createInterface({ input: emulator.stdout });
  lines.once("line", (line) => resolveLine(line));
  emulator.once("exit", (code) => resolveLine(`(the emulator exited with ${code} before listening)`));
});
const prefix = "listening on https://127.0.0.1:";
if (!firstLine.startsWith(prefix)) fail(`unexpected first line: ${firstLine}`);
const url = firstLine.slice("listening on ".length);

const test = spawn(process.execPath, ["--test", join(here, "sdk.test.mjs")], {
  stdio: "inherit",
  env: { ...process.env, EMULATOR_URL: url, EMULATOR_TOKEN: token, NODE_EXTRA_CA_CERTS: cert },
});
const status = await new Promise((r) => test.once("exit", (code, signal) => r(code ?? (signal ? 1 : 0))));

emulator.kill("SIGTERM");
const stopped = await new Promise((r) => {
  const timer = setTimeout(() => r(false), 10_000);
  emulator.once("exit", (code) => { clearTimeout(timer); r(code === 0); });
});
clearTimeout(deadline);
cleanUp();
if (!stopped) {
  console.error("run.mjs: the emulator did not stop cleanly within 10 s of SIGTERM");
  process.exit(1);
}
process.exit(status);
