// The System Jobs page in a real headless Chromium (the system's, via playwright-core).
// Usage: node test.mjs  (env: SERVE = the `serve` example binary, CHROMIUM, SHOTS, and TARGET:
// an empty PostgreSQL database's URL, or unset for a new SQLite file)
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

const SERVE = process.env.SERVE;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.SHOTS || "target/screenshots";
const work = mkdtempSync(join(tmpdir(), "asyncop-web-"));
const db = process.env.TARGET || join(work, "queue.db");
const base = 18000 + (process.pid % 1000) * 3;
const servers = [];
let passed = 0;

function start(args, port) {
  const child = spawn(SERVE, [db, "--bind", `127.0.0.1:${port}`, ...args], { stdio: ["ignore", "inherit", "pipe"] });
  servers.push(child);
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
      process.stderr.write(d);
      if (err.includes("serving the System Jobs page")) resolve(`http://127.0.0.1:${port}`);
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}
function exitOf(args) {
  return new Promise((resolve) => {
    const child = spawn(SERVE, [db, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => resolve({ code, err }));
  });
}
async function step(name, body) {
  process.stdout.write(`- ${name} ... `);
  await body();
  passed += 1;
  console.log("ok");
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function jobs(page, url, query) {
  const r = await page.request.get(`${url}/api/jobs?${query}`);
  assert.equal(r.status(), 200);
  return (await r.json()).jobs;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const url = await start(["--demo"], base);
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  page.setDefaultTimeout(10000);

  await step("the page loads the grid, the counts chart and goes live", async () => {
    await page.goto(url);
    await page.locator("#grid tbody tr[data-id]").first().waitFor();
    await page.locator('#counts .bar-row[data-state="Ready"]').waitFor();
    await page.locator("#live.on").waitFor();
  });

  await step("filter by type and by name prefix", async () => {
    await page.fill('#filters input[name="type"]', "200");
    await page.click("#apply");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#grid tbody tr[data-id]")];
      return rows.length > 0 && rows.every((r) => r.children[3].textContent === "200");
    });
    await page.fill('#filters input[name="type"]', "");
    await page.fill('#filters input[name="name"]', "report-");
    await page.click("#apply");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#grid tbody tr[data-id]")];
      return rows.length === 3 && rows.every((r) => r.children[2].textContent.startsWith("report-"));
    });
  });

  await step("open a running job: every field, progress bar, attempts", async () => {
    await page.waitForFunction(() => document.querySelector('#grid tr[data-id="1"] .status')?.textContent === "InProgress");
    await page.click('#grid tr[data-id="1"] a.open');
    await page.locator('#detail .detail[data-id="1"]').waitFor();
    assert.match(await page.textContent("#detail-state"), /Locked\/InProgress/);
    assert.ok(await page.locator("#detail .progress progress").count());
    assert.match(await page.textContent("#detail .fields"), /Output size/);
    await page.waitForFunction(() => Number(document.querySelector("#detail .progress progress").value) > 0);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, "grid.png"), fullPage: true });
    await page.locator("#detail").screenshot({ path: join(SHOTS, "detail.png") });
  });

  await step("cancel the running job: Canceling, then Canceled, live", async () => {
    await page.click('#detail [data-detail-action="cancel"]');
    await page.waitForFunction(() => document.querySelector("#result")?.textContent.includes("Job 1: Locked/Canceling"));
    await page.waitForFunction(() => document.querySelector("#detail-state")?.textContent.includes("Locked/Canceling"));
    await page.waitForFunction(() => document.querySelector("#detail-state")?.textContent.includes("Completed/Canceled"));
    await page.waitForFunction(() => document.querySelector('#grid tr[data-id="1"] .status')?.textContent === "Canceled");
  });

  await step("a refused action shows its code and message", async () => {
    await page.click('#detail [data-detail-action="cancel"]');
    await page.waitForFunction(() => /Job 1: AsyncOperationInvalidStateChange \(0x80044162\): .+cannot change/.test(document.querySelector("#result .refused")?.textContent || ""));
  });

  await step("postpone a job with the date-time picker (UTC)", async () => {
    await page.fill('#filters input[name="name"]', "archive");
    await page.click("#apply");
    // Wait for the filtered grid: until it is applied, the rows shown are the old ones.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#grid tbody tr[data-id]")];
      return rows.length > 0 && rows.every((tr) => tr.textContent.includes("archive"));
    });
    const id = await page.getAttribute("#grid tbody tr[data-id]", "data-id");
    await page.check(`#grid tr[data-id="${id}"] .pick`);
    await page.fill("#postpone-until", "2030-01-02T03:04");
    await page.click('#bulk [data-action="postpone"]');
    await page.waitForFunction((id) => document.querySelector("#result .ok")?.textContent === `Job ${id}: Suspended/Waiting`, id);
    await page.waitForFunction((id) => document.querySelector(`#grid tr[data-id="${id}"]`)?.children[11].textContent === "2030-01-02 03:04:00", id);
    const [job] = (await jobs(page, url, "name=archive"));
    assert.equal(job.postpone_until, Date.UTC(2030, 0, 2, 3, 4));
  });

  await step("hold a type: claims skip it; release: they run again", async () => {
    await page.fill("#hold-type", "300");
    await page.click("#hold");
    await page.waitForFunction(() => document.querySelector("#result .ok")?.textContent === "type 300 held");
    await page.locator('#counts .type.held[data-type="300"]').waitFor();
    await sleep(600);
    const done = (await jobs(page, url, "type=300&state=Completed&limit=500")).length;
    await sleep(1500);
    assert.equal((await jobs(page, url, "type=300&state=Completed&limit=500")).length, done, "no claim of a held type");
    assert.ok((await jobs(page, url, "type=300&state=Ready&limit=500")).length >= 3, "held jobs wait Ready");
    await page.click("#release");
    await page.waitForFunction(() => document.querySelector("#result .ok")?.textContent === "type 300 released");
    for (let i = 0; i < 50 && (await jobs(page, url, "type=300&state=Ready&limit=500")).length > 1; i++) await sleep(200);
    assert.ok((await jobs(page, url, "type=300&state=Ready&limit=500")).length <= 1, "released jobs are claimed");
  });

  await step("CSRF: a POST without the token, or from another origin, is refused", async () => {
    const body = { action: "pause", ids: [2] };
    const none = await page.request.post(`${url}/api/actions`, { data: body });
    assert.equal(none.status(), 403);
    assert.match(await none.text(), /CSRF/);
    const csrf = await page.getAttribute('meta[name="csrf-token"]', "content");
    const cross = await page.request.post(`${url}/api/actions`, { data: body, headers: { "X-CSRF-Token": csrf, Origin: "http://evil.example" } });
    assert.equal(cross.status(), 403);
    assert.match(await cross.text(), /cross-origin/);
    const get = await page.request.get(`${url}/api/actions`);
    assert.equal(get.status(), 405);
  });

  await step("read-only: no buttons, every change refused (403)", async () => {
    const ro = await start(["--read-only"], base + 1);
    const p = await browser.newPage();
    await p.goto(ro);
    await p.locator("#grid tbody tr[data-id]").first().waitFor();
    await p.locator("#read-only-badge").waitFor();
    assert.equal(await p.locator("#bulk").count(), 0);
    assert.equal(await p.locator("[data-row-action]").count(), 0);
    const csrf = await p.getAttribute('meta[name="csrf-token"]', "content");
    const r = await p.request.post(`${ro}/api/actions`, { data: { action: "cancel", ids: [2] }, headers: { "X-CSRF-Token": csrf } });
    assert.equal(r.status(), 403);
    assert.match(await r.text(), /read-only/);
    await p.close();
  });

  await step("a non-loopback bind needs a token; the token is then required", async () => {
    const refused = await exitOf(["--bind", "0.0.0.0:0"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /without a token/);
    const t = await start(["--token", "s3cret"], base + 2);
    const p = await browser.newPage();
    assert.equal((await p.goto(t)).status(), 401);
    assert.equal((await p.goto(`${t}/?token=s3cret`)).status(), 200);
    await p.locator("#grid tbody tr[data-id]").first().waitFor();
    assert.equal((await p.request.get(`${t}/metrics`, { headers: { Authorization: "Bearer s3cret" } })).status(), 200);
    await p.close();
  });

  await step("/metrics parses as Prometheus text", async () => {
    const text = await (await page.request.get(`${url}/metrics`)).text();
    const samples = text.split("\n").filter((l) => l && !l.startsWith("#"));
    for (const l of samples) assert.match(l, /^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$/, l);
    assert.ok(samples.some((l) => l.startsWith('asyncop_operations{state="Completed",status="Canceled",type="100"} 1')));
    assert.ok(samples.some((l) => l.startsWith("asyncop_oldest_ready_age_seconds ")));
  });
  console.log(`${passed} browser checks passed on ${process.env.TARGET ? "PostgreSQL" : "SQLite"}`);
} finally {
  await browser.close();
  for (const s of servers) s.kill();
}
