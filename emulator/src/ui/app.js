// The emulator's page: reads GET /emulator/jobs, draws each job and its stage timeline, and acts
// through POST /emulator/clock, POST /emulator/datacenter and the ARM API.
//
// Every value that comes from a job (names, tags, locations, messages) reaches the page through
// textContent or setAttribute on a fixed attribute name: never as markup.
"use strict";

(function () {
  const API_VERSION = "2021-01-01";
  const TOKEN_KEY = "import-export-emulator.token";
  const SVG = "http://www.w3.org/2000/svg";
  const REFRESH_MS = 5000;
  // What each of the service's timers does when it fires.
  const TIMER_EFFECT = {
    CreatingExpired: "removes the job (never shipped)",
    NeverReceived: "drives become NeverReceived (package overdue)",
    OverdueClosed: "the operators close the job",
    RetentionExpired: "removes the job (retention ended)",
  };

  let token = sessionStorage.getItem(TOKEN_KEY);
  let needsToken = false;
  let busy = false;
  let clockNow = null;
  // The newest read started; an action counts as one, so that a read started before it never
  // draws over what it did.
  let latest = 0;

  const byId = (id) => document.getElementById(id);

  // An element with fixed attributes and children (text or nodes).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  class Unauthorized extends Error {}

  // One request to the emulator, with the bearer token if there is one. Never puts the token
  // in a URL.
  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
    });
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = text;
    }
    if (response.status === 401) {
      askToken(token ? "The emulator refused this token." : "This emulator needs its --token.");
      throw new Unauthorized();
    }
    return { status: response.status, data };
  }

  function askToken(reason) {
    needsToken = true;
    byId("token-reason").textContent = reason;
    byId("token").hidden = false;
    byId("token-input").focus();
  }

  function saveToken() {
    const given = byId("token-input").value;
    byId("token-input").value = "";
    token = given || null;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    needsToken = false;
    byId("token").hidden = true;
    refresh();
  }

  // --- what the last action did -------------------------------------------------------------

  function showResult(ok, title, lines, rule) {
    const box = byId("result");
    box.replaceChildren();
    box.hidden = false;
    box.dataset.outcome = ok ? "ok" : "refused";
    box.append(el("strong", {}, title));
    if (rule) box.append(" ", el("span", { class: "rule" }, rule));
    for (const line of lines) box.append(el("div", { class: "line" }, line));
  }

  // A refusal, as the API said it: status, code, message (which names the rule).
  function showRefusal(what, status, data) {
    const error = (data && data.error) || {};
    const code = typeof error.code === "string" ? error.code : "";
    const message = typeof error.message === "string" ? error.message : JSON.stringify(data);
    const rule = (message.match(/\[(R-[A-Z0-9-]+)\]/) || [])[1];
    showResult(false, `${what}: refused, ${status} ${code}`, [message], rule ? "rule " + rule : null);
  }

  // --- actions -----------------------------------------------------------------------------

  async function act(what, method, path, body, describe) {
    if (busy) return;
    busy = true;
    latest += 1;
    try {
      const { status, data } = await call(method, path, body);
      const ok = status >= 200 && status < 300 && !(data && data.ok === false);
      if (ok) showResult(true, `${what}: done`, describe ? describe(data) : []);
      else showRefusal(what, status, data);
    } catch (e) {
      if (!(e instanceof Unauthorized)) showResult(false, `${what}: failed`, [String(e)]);
    } finally {
      busy = false;
    }
    await refresh();
  }

  function firedLines(data) {
    const lines = [`the clock is at ${data.now}`];
    for (const fired of data.fired || []) {
      const event = fired.event || {};
      lines.push(`fired at ${event.at}: ${event.event || JSON.stringify(event)} on ${fired.id}`);
    }
    if ((data.fired || []).length === 0) lines.push("no timer fired");
    return lines;
  }

  function moveClock(body, what) {
    act(what, "POST", "/emulator/clock", body, firedLines);
  }

  function jobPath(job) {
    return (
      "/subscriptions/" + encodeURIComponent(job.subscription) +
      "/resourceGroups/" + encodeURIComponent(job.resourceGroup) +
      "/providers/Microsoft.ImportExport/jobs/" + encodeURIComponent(job.name)
    );
  }

  function datacenter(job, what, operation) {
    const body = Object.assign({ path: jobPath(job) }, operation);
    act(`${what} (${job.name})`, "POST", "/emulator/datacenter", body);
  }

  function customer(job, what, properties) {
    const path = jobPath(job) + "?api-version=" + API_VERSION;
    act(`${what} (${job.name})`, "PATCH", path, { properties }, (data) => [
      `the job is ${data && data.properties ? data.properties.state : "?"}`,
    ]);
  }

  // --- drawing -----------------------------------------------------------------------------

  function duration(fromIso, toIso) {
    let s = Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000);
    const sign = s < 0 ? "-" : "+";
    s = Math.abs(s);
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return `${sign}${d}d${h ? " " + h + "h" : ""}`;
    if (h > 0) return `${sign}${h}h${m ? " " + m + "m" : ""}`;
    if (m > 0) return `${sign}${m}m`;
    return `${sign}${s % 60}s`;
  }

  function bytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let v = n;
    let i = 0;
    while (v >= 1000 && i < units.length - 1) {
      v /= 1000;
      i += 1;
    }
    return `${n.toLocaleString("en-US")} B` + (i > 0 ? ` (${v.toFixed(1)} ${units[i]})` : "");
  }

  // The stage timeline: each state entered, now, and the next timer, left to right.
  function timeline(job) {
    const nodes = job.stages.map((s) => ({ kind: "stage", label: s.stageName, at: s.stageTime }));
    nodes.push({ kind: "now", label: "now", at: clockNow });
    const next = job.nextDeadline;
    if (next) nodes.push({ kind: next.removesJob ? "removal" : "timer", label: next.timer, at: next.at });
    const step = 150;
    const width = 70 * 2 + step * (nodes.length - 1);
    const picture = svg("svg", {
      class: "timeline",
      width,
      height: 74,
      viewBox: `0 0 ${width} 74`,
      role: "img",
      "aria-label": "stage timeline",
    });
    const y = 30;
    const x = (i) => 70 + i * step;
    for (let i = 1; i < nodes.length; i++) {
      const pending = nodes[i].kind !== "stage" && nodes[i].kind !== "now";
      picture.append(svg("line", { x1: x(i - 1), y1: y, x2: x(i), y2: y, class: pending ? "pending" : "past" }));
      picture.append(
        svg("text", { x: (x(i - 1) + x(i)) / 2, y: y - 6, class: "gap" }, duration(nodes[i - 1].at, nodes[i].at)),
      );
    }
    nodes.forEach((node, i) => {
      const cx = x(i);
      let shape;
      if (node.kind === "stage") {
        shape = svg("circle", { cx, cy: y, r: 7, class: "stage state-" + node.label });
      } else if (node.kind === "now") {
        shape = svg("circle", { cx, cy: y, r: 6, class: "now" });
      } else {
        shape = svg("path", { d: `M ${cx} ${y - 9} L ${cx + 9} ${y} L ${cx} ${y + 9} L ${cx - 9} ${y} Z`, class: node.kind });
      }
      shape.append(svg("title", {}, `${node.label} at ${node.at}`));
      picture.append(shape);
      picture.append(svg("text", { x: cx, y: 12, class: "name " + node.kind }, node.label));
      const [date, time] = String(node.at).replace("Z", "").split("T");
      picture.append(svg("text", { x: cx, y: 52, class: "when" }, date || ""));
      picture.append(svg("text", { x: cx, y: 66, class: "when" }, (time || "") + (time ? "Z" : "")));
    });
    return picture;
  }

  function nextText(job) {
    const next = job.nextDeadline;
    if (!next) return "no timer pending: the job waits for the customer or the datacenter";
    const effect = TIMER_EFFECT[next.timer] || "";
    return `next: ${next.timer} at ${next.at} (${duration(clockNow, next.at)} from now): ${effect}`;
  }

  function button(label, cls, onClick, attrs) {
    const b = el("button", Object.assign({ type: "button", class: cls }, attrs || {}), label);
    b.addEventListener("click", onClick);
    return b;
  }

  function drivesTable(job) {
    const table = el("table", { class: "drives" });
    table.append(el("tr", {}, el("th", {}, "drive"), el("th", {}, "state"), el("th", {}, "bytes copied"), el("th", {}, "datacenter")));
    for (const drive of job.drives) {
      const id = drive.driveId;
      const actions = el(
        "td",
        { class: "actions" },
        button("start copy", "op-startTransfer", () => datacenter(job, `start copy of ${id}`, { op: "startTransfer", drive: id }), { "data-drive": id }),
        button("copy 1 TB", "op-progress", () => datacenter(job, `copy 1 TB of ${id}`, { op: "progress", drive: id, bytes: 1e12 }), { "data-drive": id }),
        button("finish copy", "op-finishTransfer", () => datacenter(job, `finish copy of ${id}`, { op: "finishTransfer", drive: id, result: "Completed" }), { "data-drive": id }),
      );
      table.append(
        el(
          "tr",
          { class: "drive", "data-drive": id },
          el("td", { class: "drive-id" }, id),
          el("td", { class: "drive-state state-" + drive.state }, drive.state),
          el("td", { class: "drive-bytes" }, bytes(drive.bytesSucceeded)),
          actions,
        ),
      );
    }
    return table;
  }

  function jobCard(job) {
    const card = el("article", { class: "job", "data-id": job.id, "data-name": job.name, "data-state": job.state });
    const flags = el("span", { class: "flags" });
    if (job.cancelRequested) flags.append(el("span", { class: "flag cancel" }, "cancelRequested"));
    if (job.packageOverdue) flags.append(el("span", { class: "flag overdue" }, "package overdue"));
    card.append(
      el(
        "h3",
        {},
        el("span", { class: "job-name" }, job.name),
        " ",
        el("span", { class: "badge state-" + job.state }, job.state),
        " ",
        el("span", { class: "cancel-requested" }, "cancelRequested: " + job.cancelRequested),
        " ",
        flags,
      ),
    );
    const tags = el("dl", { class: "tags" });
    for (const [key, value] of Object.entries(job.tags || {})) {
      tags.append(el("dt", {}, key), el("dd", { class: "tag-value" }, value));
    }
    card.append(
      el(
        "div",
        { class: "meta" },
        el("span", {}, el("span", { class: "label" }, "location "), el("span", { class: "location" }, job.location)),
        el("span", {}, el("span", { class: "label" }, "tags "), tags),
      ),
    );
    card.append(el("div", { class: "picture" }, timeline(job)));
    card.append(el("p", { class: "next" }, nextText(job)));
    card.append(drivesTable(job));
    const driveIds = job.drives.map((d) => d.driveId);
    const caps = job.capabilities || {};
    const refused = caps.refusedBy || {};
    const cancel = button("request cancel", "op-cancel", () => customer(job, "cancel", { cancelRequested: true }));
    if (!caps.isCancellable && refused.isCancellable) cancel.title = "refused by " + refused.isCancellable;
    const ship = button("ship (customer)", "op-ship", () =>
      customer(job, "ship", {
        state: "Shipping",
        deliveryPackage: {
          carrierName: "FedEx",
          trackingNumber: "emulator-page",
          driveCount: driveIds.length,
          shipDate: String(clockNow).slice(0, 10),
        },
      }),
    );
    card.append(
      el(
        "div",
        { class: "job-actions" },
        el("span", { class: "label" }, "customer"),
        ship,
        cancel,
        el("span", { class: "label" }, "datacenter"),
        button("receive package", "op-packageReceived", () => datacenter(job, "receive package", { op: "packageReceived", drives: driveIds })),
        button("ship back", "op-shipBack", () => datacenter(job, "ship back", { op: "shipBack" })),
      ),
    );
    return card;
  }

  function render(view) {
    clockNow = view.now;
    byId("now").textContent = view.now;
    byId("now").setAttribute("datetime", view.now);
    byId("mode").textContent = view.mode + " clock";
    const fixed = view.mode !== "virtual";
    for (const b of document.querySelectorAll("#clock-controls button[data-seconds], #set")) b.disabled = fixed;
    byId("set-at").disabled = fixed;

    const groups = new Map();
    for (const job of view.jobs) {
      const subKey = job.subscription.toLowerCase();
      if (!groups.has(subKey)) groups.set(subKey, { name: job.subscription, groups: new Map() });
      const rgs = groups.get(subKey).groups;
      const rgKey = job.resourceGroup.toLowerCase();
      if (!rgs.has(rgKey)) rgs.set(rgKey, { name: job.resourceGroup, jobs: [] });
      rgs.get(rgKey).jobs.push(job);
    }
    const main = byId("jobs");
    main.replaceChildren();
    if (view.jobs.length === 0) main.append(el("p", { class: "empty" }, "No jobs yet: create one through the ARM API (PUT …/jobs/{name})."));
    for (const sub of groups.values()) {
      const section = el("section", { class: "subscription" }, el("h2", {}, "subscription ", el("code", {}, sub.name)));
      for (const rg of sub.groups.values()) {
        const group = el("section", { class: "resource-group" }, el("h2", { class: "rg" }, "resource group ", el("code", {}, rg.name)));
        for (const job of rg.jobs) group.append(jobCard(job));
        section.append(group);
      }
      main.append(section);
    }
    if (view.total > view.jobs.length) {
      main.append(el("p", { class: "more" }, `${view.total - view.jobs.length} more jobs are not shown.`));
    }
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || "0") + 1);
  }

  async function refresh() {
    if (needsToken) return;
    const mine = ++latest;
    try {
      const { status, data } = await call("GET", "/emulator/jobs");
      if (mine !== latest) return;
      if (status === 200) render(data);
      else showRefusal("reading the jobs", status, data);
    } catch (e) {
      if (!(e instanceof Unauthorized)) showResult(false, "reading the jobs: failed", [String(e)]);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const b of document.querySelectorAll("#clock-controls button[data-seconds]")) {
      b.addEventListener("click", () => {
        const seconds = Number(b.dataset.seconds);
        moveClock({ advanceSeconds: seconds }, `clock ${b.textContent}`);
      });
    }
    byId("set").addEventListener("click", () => {
      const at = byId("set-at").value.trim();
      moveClock({ set: at }, `clock to ${at}`);
    });
    byId("refresh").addEventListener("click", refresh);
    byId("token-save").addEventListener("click", saveToken);
    byId("token-input").addEventListener("keydown", (e) => {
      if (e.key === "Enter") saveToken();
    });
    refresh();
    setInterval(() => {
      if (!busy && document.visibilityState === "visible") refresh();
    }, REFRESH_MS);
  });
})();
