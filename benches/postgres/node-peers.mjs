// The Node.js PostgreSQL peers of asyncop's benchmark: graphile-worker and pg-boss
// (pinned in package.json / package-lock.json; `npm ci` in benches/postgres).
// benches/postgres/peers.py runs one cell per call, on a fresh database:
//
//   node node-peers.mjs PEER WORKLOAD URL N      -> one JSON line: {"seconds": s} or {"p50": ms, "p99": ms}
//   node node-peers.mjs PEER child-w4 URL        (a W4 worker process; "ready", waits for "go")
//   node node-peers.mjs PEER child-latency URL N (the latency worker process)
//
// PEER is graphile-worker or pg-boss; WORKLOAD is W1, W2, W3, W4, W5 or latency-xproc,
// with the same meaning as in benches/postgres/main.rs. Exit status 3 means an
// exactly-once violation (a job handled twice, or not at all): peers.py then fails
// the whole run; any other failure (1) only fails this peer's cell.
import { createInterface } from "node:readline";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { run, makeWorkerUtils, Logger } from "graphile-worker";
import PgBoss from "pg-boss";

const THREADS = 4;
const PROCESSES = 4;
const BATCH = 100;
// One submit every 20 ms: every implementation keeps up (see py_peers.py).
const LATENCY_GAP_MS = 20;
const QUEUE = "bench";
// ~100 bytes of JSON per job, as asyncop's 100-byte payload.
const PAD = "x".repeat(80);

class ExactlyOnce extends Error {}

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quiet = new Logger(() => () => {});

/** Fails unless `handled` holds each of 0..n-1 exactly once. */
function checkHandled(handled, n) {
  const seen = new Set(handled);
  const missing = [...Array(n).keys()].filter((i) => !seen.has(i)).length;
  if (handled.length !== n || seen.size !== n || missing) {
    const dup = handled.length - seen.size;
    throw new ExactlyOnce(`${handled.length} handled for ${n} jobs (${dup} duplicates, ${missing} missing)`);
  }
}

async function sql(url, text) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

// -- graphile-worker ----------------------------------------------------------------
// Its own defaults: concurrency 1 per worker process (W3: concurrency 4 in one
// process), pollInterval 2 s with LISTEN/NOTIFY, no local queue, one completeJob
// per job. W5 turns on its documented batching (performance.md): a local queue
// of 100 jobs fetched at once, and completions batched (completeJobBatchDelay 0).
// Completed jobs are deleted, so "every job completed" is an empty jobs table.
const graphile = {
  async setup(url) {
    const utils = await makeWorkerUtils({ connectionString: url, logger: quiet });
    await utils.migrate();
    return utils;
  },
  // t: the submit's wall-clock stamp (latency only).
  async submit(utils, i, t) {
    await utils.addJob(QUEUE, { i, t, pad: PAD });
  },
  async prefill(utils, n) {
    for (let s = 0; s < n; s += 1000) {
      const specs = [];
      for (let i = s; i < Math.min(n, s + 1000); i++) specs.push({ identifier: QUEUE, payload: { i, pad: PAD } });
      await utils.addJobs(specs);
    }
  },
  async finish(utils) {
    await utils.release();
  },
  /** A connected pool, made before the clock starts: asyncop's handles connect at open too. */
  async pool(url, concurrency = 1) {
    const pool = new pg.Pool({ connectionString: url, max: Math.max(10, concurrency + 2) });
    pool.on("error", (e) => console.error(`graphile-worker pool: ${e.message}`));
    pool.on("connect", (c) => c.on("error", (e) => console.error(`graphile-worker client: ${e.message}`)));
    const clients = await Promise.all([...Array(concurrency + 1)].map(() => pool.connect()));
    clients.forEach((c) => c.release());
    return pool;
  },
  /** Starts a runner on `pool` whose handler calls `onJob(payload)`; returns {stop}. */
  async worker(pool, { concurrency = 1, batched = false, onJob, onEmpty }) {
    const preset = batched ? { worker: { localQueue: { size: BATCH }, completeJobBatchDelay: 0 } } : undefined;
    const runner = await run({
      pgPool: pool,
      concurrency,
      noHandleSignals: true,
      logger: quiet,
      preset,
      taskList: { [QUEUE]: async (payload) => onJob(payload) },
    });
    if (onEmpty) runner.events.on("worker:getJob:empty", onEmpty);
    return {
      stop: async () => {
        await runner.stop();
        await pool.end();
      },
    };
  },
  async left(url) {
    const rows = await sql(url, "SELECT count(*)::int AS n FROM graphile_worker.jobs");
    return { left: rows[0].n, completed: null };
  },
};

// -- pg-boss --------------------------------------------------------------------------
// pg-boss's work() sleeps its polling interval (default 2 s, at least 0.5 s) after
// every fetch, even one that found jobs: a worker with batchSize 1 does at most
// 2 jobs/s. Its documented alternative for control over fetching is fetch() +
// complete(), which the drains use (W2-W4: batchSize 1; W5: batchSize 100, one
// complete of the 100 ids). The latency worker uses work() at the minimum
// interval (0.5 s) with a batch of 100 so that it keeps up with the submitter.
// Completed jobs stay in pgboss.job with state 'completed'.
const pgboss = {
  async open(url) {
    const boss = new PgBoss({ connectionString: url });
    boss.on("error", (e) => console.error(`pg-boss: ${e.message}`));
    await boss.start();
    await boss.createQueue(QUEUE);
    return boss;
  },
  setup(url) {
    return pgboss.open(url);
  },
  async submit(boss, i, t) {
    await boss.send(QUEUE, { i, t, pad: PAD });
  },
  async prefill(boss, n) {
    for (let s = 0; s < n; s += 1000) {
      const jobs = [];
      for (let i = s; i < Math.min(n, s + 1000); i++) jobs.push({ name: QUEUE, data: { i, pad: PAD } });
      await boss.insert(jobs);
    }
  },
  async finish(boss) {
    await boss.stop({ graceful: false, wait: true });
  },
  /** fetch + complete until a fetch is empty. */
  async drain(boss, batchSize, handled) {
    for (;;) {
      const jobs = await boss.fetch(QUEUE, { batchSize });
      if (!jobs.length) return;
      for (const job of jobs) handled.push(job.data.i);
      const r = await boss.complete(QUEUE, jobs.map((j) => j.id));
      if (r.affected !== jobs.length) throw new ExactlyOnce(`complete affected ${r.affected} of ${jobs.length}`);
    }
  },
  async left(url) {
    const rows = await sql(url, `SELECT count(*) FILTER (WHERE state <> 'completed')::int AS left,
      count(*) FILTER (WHERE state = 'completed')::int AS done FROM pgboss.job WHERE name = '${QUEUE}'`);
    return { left: rows[0].left, completed: rows[0].done };
  },
};

const PEERS = { "graphile-worker": graphile, "pg-boss": pgboss };

// -- workloads --------------------------------------------------------------------------

async function checkDb(peer, url, n) {
  const { left, completed } = await peer.left(url);
  if (left !== 0 || (completed !== null && completed !== n)) {
    throw new ExactlyOnce(`${left} jobs left, ${completed ?? "?"} completed after the drain of ${n}`);
  }
}

/** One in-process drain (W2, W3, W5); returns seconds. */
async function drainHere(name, peer, url, n, workload) {
  const handled = [];
  let started;
  if (name === "pg-boss") {
    const boss = await pgboss.open(url);
    started = nowMs();
    const loops = workload === "W3" ? THREADS : 1;
    const batch = workload === "W5" ? BATCH : 1;
    await Promise.all([...Array(loops)].map(() => pgboss.drain(boss, batch, handled)));
    const seconds = (nowMs() - started) / 1000;
    await pgboss.finish(boss);
    checkHandled(handled, n);
    return seconds;
  }
  let done;
  const all = new Promise((r) => (done = r));
  const onJob = (p) => {
    handled.push(p.i);
    if (handled.length === n) done();
  };
  const concurrency = workload === "W3" ? THREADS : 1;
  const pool = await graphile.pool(url, concurrency);
  started = nowMs();
  const w = await graphile.worker(pool, { concurrency, batched: workload === "W5", onJob });
  await all;
  // stop() waits for the jobs in flight, and flushes batched completions.
  await w.stop();
  const seconds = (nowMs() - started) / 1000;
  checkHandled(handled, n);
  return seconds;
}

function spawnChild(args) {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  const waiters = [];
  lines.on("line", (l) => (waiters.length ? waiters.shift()(l) : queue.push(l)));
  lines.on("close", () => waiters.splice(0).forEach((w) => w(null)));
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)));
  const exited = new Promise((r) => child.on("exit", (code) => r(code)));
  return { child, next, exited };
}

/** A child's lines after "ready"/"go", up to "end". */
async function results(c) {
  const rows = [];
  for (;;) {
    const line = await c.next();
    if (line === null) throw new Error(`a child exited early (status ${await c.exited})`);
    if (line === "end") return rows;
    rows.push(line.split(" ").map(Number));
  }
}

async function runCell(name, workload, url, n) {
  const peer = PEERS[name];
  const h = await peer.setup(url);
  try {
    if (workload === "W1") {
      const started = nowMs();
      for (let i = 0; i < n; i++) await peer.submit(h, i);
      const seconds = (nowMs() - started) / 1000;
      const { left } = await peer.left(url);
      if (left !== n) throw new ExactlyOnce(`${left} jobs queued after ${n} submits`);
      return { seconds };
    }
    if (workload === "latency-xproc") {
      const c = spawnChild([name, "child-latency", url, String(n)]);
      if ((await c.next()) !== "ready") throw new Error("the latency child did not say ready");
      await sleep(200);
      for (let i = 0; i < n; i++) {
        await peer.submit(h, i, nowMs());
        await sleep(LATENCY_GAP_MS);
      }
      const rows = await results(c);
      checkHandled(rows.map((r) => r[0]), n);
      await checkDb(peer, url, n);
      const samples = rows.map((r) => r[1]).sort((a, b) => a - b);
      const pct = (p) => samples[Math.min(samples.length, Math.max(1, Math.ceil(p * samples.length))) - 1];
      return { p50: pct(0.5), p99: pct(0.99) };
    }
    await peer.prefill(h, n);
    let seconds;
    if (workload === "W4") {
      const children = [...Array(PROCESSES)].map(() => spawnChild([name, "child-w4", url]));
      for (const c of children) if ((await c.next()) !== "ready") throw new Error("a W4 child did not say ready");
      const started = nowMs();
      children.forEach((c) => c.child.stdin.write("go\n"));
      const rows = (await Promise.all(children.map(results))).flat();
      seconds = (nowMs() - started) / 1000;
      for (const c of children) if ((await c.exited) !== 0) throw new Error("a W4 child failed");
      checkHandled(rows.map((r) => r[0]), n);
    } else {
      seconds = await drainHere(name, peer, url, n, workload);
    }
    await checkDb(peer, url, n);
    return { seconds };
  } finally {
    await peer.finish(h);
  }
}

/** A W4 worker: opens, says ready, waits for go, drains until the queue is empty. */
async function childW4(name, url) {
  const handled = [];
  const stdin = createInterface({ input: process.stdin });
  const go = new Promise((r) => stdin.once("line", r));
  if (name === "pg-boss") {
    const boss = await pgboss.open(url);
    console.log("ready");
    await go;
    await pgboss.drain(boss, 1, handled);
    await pgboss.finish(boss);
  } else {
    let empty;
    const drained = new Promise((r) => (empty = r));
    const pool = await graphile.pool(url);
    console.log("ready");
    await go;
    // The queue was filled before "go": the first empty fetch means it is drained.
    const w = await graphile.worker(pool, { onJob: (p) => handled.push(p.i), onEmpty: () => empty() });
    await drained;
    await w.stop();
  }
  stdin.close();
  process.stdout.write(handled.map((i) => `${i}\n`).join("") + "end\n");
}

/** The latency worker: takes `n` jobs as they come, records submit→start. */
async function childLatency(name, url, n) {
  const rows = [];
  let done;
  const all = new Promise((r) => (done = r));
  const onJob = (p) => {
    rows.push(`${p.i} ${(nowMs() - p.t).toFixed(4)}`);
    if (rows.length === n) done();
  };
  let stop;
  if (name === "pg-boss") {
    const boss = await pgboss.open(url);
    const options = { batchSize: BATCH, pollingIntervalSeconds: 0.5 };
    await boss.work(QUEUE, options, async (jobs) => jobs.forEach((j) => onJob(j.data)));
    // work() does not wait for its complete(): let the last ones land first.
    stop = async () => {
      for (let t = 0; t < 2000 && (await pgboss.left(url)).left; t++) await sleep(5);
      await pgboss.finish(boss);
    };
  } else {
    const w = await graphile.worker(await graphile.pool(url), { onJob });
    stop = () => w.stop();
  }
  console.log("ready");
  await all;
  await stop();
  process.stdout.write(rows.map((r) => `${r}\n`).join("") + "end\n");
}

async function main([name, workload, url, n]) {
  if (!PEERS[name]) throw new Error(`unknown peer ${name}`);
  if (workload === "child-w4") return childW4(name, url);
  if (workload === "child-latency") return childLatency(name, url, Number(n));
  console.log(JSON.stringify(await runCell(name, workload, url, Number(n))));
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e) => {
    console.error(`node-peers: ${e instanceof ExactlyOnce ? "EXACTLY-ONCE VIOLATION: " : ""}${e.stack || e}`);
    process.exit(e instanceof ExactlyOnce ? 3 : 1);
  },
);
