/**
 * The public API measured: ours against rhea (and Python uamqp) in the same run, every client in a
 * process of its own, several alternating rounds after a warm-up, best and median of each.
 *
 *   node --import tsx bench/api.bench.ts [--case=p2p,rr,broker,ceiling,eld,python] [--quick] [--rounds=N]
 *     [--scale=X] [--only=<contender or size substring>[,…]] [--lib=dist|src] [--no-build] [--cpu-prof[=DIR]]
 *     [--count-async] [--json=FILE] [--node-flags="<flags for the measured processes>"]
 *
 * Cases (bench/README.md says what each measures and how):
 * - p2p: one sending and one receiving process over loopback, 16 B pre-settled, 16 B / 1 KiB / 64 KiB /
 *   1 MiB unsettled, max-frame-size 64 KiB. Ours is the public API (`MessageSender` / `MessageReceiver`,
 *   `SendClient` / `ReceiveClient`, with `Message` objects) on the connecting side and the engine's
 *   accepting side as the listening peer (the library has no public peer-to-peer listener); rhea is
 *   `container.connect` against `container.listen`.
 * - rr: sequential request/response round trips, p50 / p99 / p99.9 (and raw TCP ping-pong as the floor).
 * - broker: producers, then consumers, of each library through `uamqp broker` (a separate process).
 * - ceiling: 2 producer and 2 consumer processes on one queue of `uamqp broker`, and of rhea's own
 *   server acting as a simple queue broker, 16 B.
 * - eld: event-loop delay in the receiving process while one 100 MiB message arrives, and in the sending
 *   process while it sends 100,000 messages.
 * - python: Python uamqp (Debian python3-uamqp) against ours and rhea through `uamqp broker` over TLS.
 *
 * Client CPU is `process.cpuUsage()` of the client's process from the start of a run until every process
 * of the run reported its part done (µs per message); msg/s is wall-clock. `--cpu-prof` runs the measured
 * process of each matching contender under `node --cpu-prof` (see bench/api/profile-report.ts).
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import rhea from "rhea";
import { getTestCertificates } from "../test/support/certs.js";
import { machineLine, median, printTable, quantile } from "./harness.js";
import {
  procCpuSplitUs,
  procCpuUs,
  procPeakRssKiB,
  procSyscalls,
  PYTHON,
  REPO_ROOT,
  startBroker,
  type ServerProcess,
  Worker,
} from "./api/procs.js";
import type {
  ClientLib,
  Done,
  Endpoint,
  Ended,
  EventLoopDelay,
  PeerLib,
  WorkerConfig,
} from "./api/protocol.js";

// ---- options ----------------------------------------------------------------------------------------

const argv = process.argv.slice(2);

/** `--name=value` or `--name value`; `true` for a bare flag. */
function opt(name: string): string | true | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) {
      const next = argv[i + 1];
      return next !== undefined && !next.startsWith("--") ? next : true;
    }
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

const ALL_CASES = ["p2p", "rr", "broker", "ceiling", "eld", "python"] as const;
type CaseName = (typeof ALL_CASES)[number];
const caseOpt = opt("case");
const cases: CaseName[] = typeof caseOpt === "string" ? (caseOpt.split(",") as CaseName[]) : [...ALL_CASES];
for (const c of cases) if (!ALL_CASES.includes(c)) throw new Error(`unknown case ${c}`);
const quick = opt("quick") === true;
const roundsOpt = opt("rounds");
const ROUNDS = typeof roundsOpt === "string" ? Number(roundsOpt) : quick ? 2 : 5;
const scaleOpt = opt("scale");
const SCALE = typeof scaleOpt === "string" ? Number(scaleOpt) : quick ? 0.1 : 1;
const onlyOpt = opt("only");
/** `--only=A,B`: any of the substrings (e.g. `--only=Receive,rhea` keeps rhea beside our receivers). */
const ONLY = typeof onlyOpt === "string" ? onlyOpt.split(/[,|]/).filter((o) => o !== "") : undefined;
const libOpt = opt("lib");
/**
 * What the workers and `uamqp broker` run: the build (`dist/`, built first unless `--no-build`), as
 * users do, or the sources under tsx (`--lib=src`; see bench/api/lib.ts for why that costs more).
 */
const LIB: "dist" | "src" = libOpt === "src" ? "src" : "dist";
const BUILT = LIB === "dist";
const profOpt = opt("cpu-prof");
const PROFILE_DIR =
  profOpt === undefined ? undefined : resolve(typeof profOpt === "string" ? profOpt : "bench/profiles");
const jsonOpt = opt("json");
/**
 * `--node-flags="--a --b"`: more flags for each measured process of ours and rhea's (V8's own
 * traces, `--perf-basic-prof` for a system profiler), the same for every library.
 */
const nodeFlagsOpt = opt("node-flags");
const EXTRA_NODE_FLAGS =
  typeof nodeFlagsOpt === "string" ? nodeFlagsOpt.split(/\s+/).filter((f) => f !== "") : [];
/** Count the async resources (promises, timers…) each measured process creates per message. */
const COUNT_ASYNC = opt("count-async") === true;
/** Bound on any one run. */
const RUN_TIMEOUT_MS = 120_000;
/** Receiver credit (rhea's `credit_window`, our `prefetch` and the engine peer's auto credit). */
const CREDIT = 1000;
const FRAME = 65536;

const scaled = (n: number, min = 1): number => Math.max(min, Math.round(n * SCALE));
const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "-";
const mb = (kib: number): string => fmt(kib / 1024);
/** Peak RSS over the rounds, and how far above the process's RSS before its first run it went. */
const peakCell = (es: readonly Ended[]): string => {
  const peak = Math.max(...es.map((e) => e.maxRssKiB));
  const base = Math.min(...es.map((e) => e.readyRssKiB));
  return `${mb(peak)} (+${mb(peak - base)})`;
};
/**
 * Median garbage collections of a process per run and their median pause total: the receiver of large
 * messages collects more when its reads are small (bench/README.md, "Large messages").
 */
const gcCell = (es: readonly Ended[]): string =>
  `${median(es.map((e) => e.gcCount ?? NaN))} (${fmt(median(es.map((e) => e.gcMs ?? NaN)))})`;
const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(1)}x` : "-");
/** `--only=A,B` or `--only="A|B"`: any of the alternatives (e.g. `--only="SendClient|rhea"` keeps rhea in the run). */
const matches = (...names: string[]): boolean =>
  ONLY === undefined || names.some((n) => ONLY.some((o) => n.includes(o)));

const RHEA_VERSION = (createRequire(import.meta.url)("rhea/package.json") as { version: string }).version;

const report: Record<string, unknown> = { machine: machineLine(), rounds: ROUNDS, scale: SCALE };

// ---- running contenders -----------------------------------------------------------------------------

const started = new Set<Worker>();

async function start(
  name: string,
  config: WorkerConfig,
  options: { python?: boolean; measured?: boolean } = {},
): Promise<{ worker: Worker; port: number | undefined }> {
  let nodeFlags: string[] = [];
  let env: NodeJS.ProcessEnv | undefined;
  let profileDir: string | undefined;
  let slug = "";
  if (options.measured === true && PROFILE_DIR !== undefined && options.python !== true) {
    slug = name.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
    // One directory per process: with tsx the module hooks run on a thread of their own, which writes
    // a profile too; the main thread's is kept (see collectProfile).
    profileDir = join(PROFILE_DIR, `${slug}.d`);
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
    nodeFlags = ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-interval=250"];
    env = { BENCH_WINDOWS_FILE: join(PROFILE_DIR, `${slug}.windows.json`) };
  }
  if (options.measured === true && COUNT_ASYNC && options.python !== true)
    env = { ...env, BENCH_COUNT_ASYNC: "1" };
  if (options.measured === true && options.python !== true && EXTRA_NODE_FLAGS.length > 0) {
    nodeFlags = [...nodeFlags, ...EXTRA_NODE_FLAGS];
    // Lines between the runs, so that what the flags print can be told apart by run.
    env = { ...env, BENCH_MARK_RUNS: "1" };
  }
  const r = await Worker.start(name, config, {
    ...(options.python === true ? { python: true } : {}),
    nodeFlags,
    env: { ...env, BENCH_LIB: LIB },
  });
  started.add(r.worker);
  if (profileDir !== undefined) profiled.set(r.worker, { dir: profileDir, slug });
  return r;
}

const profiled = new Map<Worker, { dir: string; slug: string }>();

/**
 * After a profiled worker exited: keeps its main thread's profile (`CPU.<date>.<time>.<pid>.0.<n>`,
 * thread id 0) as `<slug>.cpuprofile` next to its windows file.
 */
function collectProfile(w: Worker): void {
  const p = profiled.get(w);
  if (!p || PROFILE_DIR === undefined) return;
  profiled.delete(w);
  const main = readdirSync(p.dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (main === undefined) {
    console.log(`no main-thread profile of ${w.name} in ${p.dir}`);
    return;
  }
  const target = join(PROFILE_DIR, `${p.slug}.cpuprofile`);
  renameSync(join(p.dir, main), target);
  rmSync(p.dir, { recursive: true, force: true });
  console.log(`profile of ${w.name}: ${target}`);
}

async function stopAll(workers: Iterable<Worker>): Promise<void> {
  await Promise.all(
    [...workers].map(async (w) => {
      started.delete(w);
      await w.stop();
      collectProfile(w);
    }),
  );
}

/** Rows of async resources per message (`--count-async`), printed after each case. */
const asyncRows: string[][] = [];

/** Notes the async resources per message of a measured process (median round by promise count). */
function noteAsync(what: string, ended: readonly Ended[], perRound: number): void {
  const withCounts = ended.filter((e) => e.asyncResources !== undefined);
  if (withCounts.length === 0) return;
  const byPromises = [...withCounts].sort(
    (a, b) => (a.asyncResources!["PROMISE"] ?? 0) - (b.asyncResources!["PROMISE"] ?? 0),
  );
  const e = byPromises[byPromises.length >> 1]!;
  const counts = e.asyncResources!;
  const per = (type: string): string => fmt((counts[type] ?? 0) / perRound, 2);
  const others = Object.entries(counts)
    .filter(([t]) => !["PROMISE", "Timeout", "TickObject", "Immediate"].includes(t))
    .map(([t, n]) => `${t} ${fmt(n / perRound, 2)}`)
    .join(", ");
  asyncRows.push([what, per("PROMISE"), per("Timeout"), per("TickObject"), per("Immediate"), others]);
}

function printAsync(): void {
  if (asyncRows.length === 0) return;
  console.log("\nAsync resources created per message in the measured process (async_hooks init):\n");
  printTable(["process", "promises", "timers", "process.nextTick", "setImmediate", "other"], asyncRows);
  asyncRows.length = 0;
}

/** One run through a sender and a receiver process (either may be the listening peer). */
interface PairRound {
  rate: number;
  send: Ended & { done: Done };
  recv: Ended & { done: Done };
}

async function pairRound(send: Worker, recv: Worker, count: number, warmup: boolean): Promise<PairRound> {
  await recv.run(count, warmup, RUN_TIMEOUT_MS);
  await send.run(count, warmup, RUN_TIMEOUT_MS);
  const [ds, dr] = await Promise.all([send.done(RUN_TIMEOUT_MS), recv.done(RUN_TIMEOUT_MS)]);
  const [es, er] = await Promise.all([send.end(), recv.end()]);
  const wallNs = Math.max(ds.endNs, dr.endNs) - ds.startNs;
  return { rate: count / (wallNs / 1e9), send: { ...es, done: ds }, recv: { ...er, done: dr } };
}

/**
 * A process's CPU time per message in a run: a receiver's from its first message on (see
 * `Done.setupCpuUs`: connecting and attaching are not per message, and the contenders' set-ups
 * differ), anyone else's over the whole run.
 */
function cpuPerMessage(e: Ended, d: Done, count: number): number {
  return (e.cpuUs - (d.setupCpuUs ?? 0)) / count;
}

/**
 * One process's part alone (a producer filling a queue, a consumer draining it, a requester). A
 * receiver's rate counts from its first message, as its CPU does (`cpuPerMessage`).
 */
async function soloRound(
  w: Worker,
  count: number,
  warmup: boolean,
): Promise<{ rate: number; ended: Ended; done: Done }> {
  await w.run(count, warmup, RUN_TIMEOUT_MS);
  const done = await w.done(RUN_TIMEOUT_MS);
  const ended = await w.end();
  return { rate: count / ((done.endNs - (done.firstNs ?? done.startNs)) / 1e9), ended, done };
}

/**
 * Runs `rounds` rounds of every contender, alternating (A B C A B C …) after one warm-up round each,
 * so that load from other work on the machine is spread over all of them.
 */
async function alternate<C, R>(
  contenders: readonly C[],
  round: (c: C, warmup: boolean) => Promise<R>,
  rounds = ROUNDS,
): Promise<R[][]> {
  for (const c of contenders) await round(c, true);
  const results: R[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) results[i]!.push(await round(contenders[i]!, false));
  }
  return results;
}

const best = (xs: number[]): number => Math.max(...xs);
const least = (xs: number[]): number => Math.min(...xs);

// ---- p2p --------------------------------------------------------------------------------------------

interface P2pCase {
  readonly name: string;
  readonly size: number;
  readonly settled: boolean;
  readonly count: number;
}

/** Sends kept unanswered by our senders (SendClient's `maxInFlight`): large messages are bounded in memory. */
const windowFor = (size: number): number => (size >= 65536 ? 64 : 1000);

const P2P_CASES: P2pCase[] = [
  { name: "16 B pre-settled", size: 16, settled: true, count: scaled(200_000, 200) },
  { name: "16 B unsettled", size: 16, settled: false, count: scaled(100_000, 200) },
  { name: "1 KiB unsettled", size: 1024, settled: false, count: scaled(50_000, 200) },
  { name: "64 KiB unsettled", size: 65536, settled: false, count: scaled(4000, 50) },
  { name: "1 MiB unsettled", size: 1 << 20, settled: false, count: scaled(300, 20) },
];

interface P2pContender {
  readonly name: string;
  /** Which side is the public API / rhea client under test. */
  readonly side: "send" | "recv";
  readonly lib: ClientLib;
  readonly peer: PeerLib;
}

const P2P_CONTENDERS: P2pContender[] = [
  { name: "ours MessageSender → engine peer", side: "send", lib: "low", peer: "engine" },
  { name: "ours SendClient → engine peer", side: "send", lib: "client", peer: "engine" },
  { name: "rhea sender → rhea peer", side: "send", lib: "rhea", peer: "rhea" },
  { name: "engine SenderLink (reference) → engine peer", side: "send", lib: "engine", peer: "engine" },
  { name: "engine peer → ours MessageReceiver", side: "recv", lib: "low", peer: "engine" },
  { name: "engine peer → ours ReceiveClient", side: "recv", lib: "client", peer: "engine" },
  { name: "rhea peer → rhea receiver", side: "recv", lib: "rhea", peer: "rhea" },
  { name: "engine peer → engine ReceiverLink (reference)", side: "recv", lib: "engine", peer: "engine" },
];

interface Pair {
  readonly send: Worker;
  readonly recv: Worker;
}

/** Starts the listening peer, then the connecting client under test. */
async function startPair(
  c: { name: string; side: "send" | "recv"; lib: ClientLib; peer: PeerLib },
  label: string,
  size: number,
  settled: boolean,
  window: number,
  eld: boolean,
): Promise<Pair> {
  if (c.side === "send") {
    const peer = await start(`${c.name} (peer)`, {
      role: "sink",
      lib: c.peer,
      credit: CREDIT,
      maxFrameSize: FRAME,
    });
    const endpoint: Endpoint = { host: "127.0.0.1", port: peer.port!, address: "p2p" };
    const client = await start(
      `${c.name}, ${label}`,
      { role: "send", lib: c.lib, endpoint, size, settled, window, maxFrameSize: FRAME, eld },
      { measured: true },
    );
    return { send: client.worker, recv: peer.worker };
  }
  const peer = await start(`${c.name} (peer)`, {
    role: "source",
    lib: c.peer,
    size,
    settled,
    window,
    maxFrameSize: FRAME,
  });
  const endpoint: Endpoint = { host: "127.0.0.1", port: peer.port!, address: "p2p" };
  const client = await start(
    `${c.name}, ${label}`,
    { role: "recv", lib: c.lib, endpoint, settled, credit: CREDIT, maxFrameSize: FRAME, eld },
    { measured: true },
  );
  return { send: peer.worker, recv: client.worker };
}

async function p2p(): Promise<void> {
  console.log(
    "\n## p2p: one sender and one receiver process over loopback (max-frame-size 64 KiB, credit 1000)\n",
  );
  const rows: string[][] = [];
  const out: unknown[] = [];
  for (const k of P2P_CASES) {
    const contenders = P2P_CONTENDERS.filter((c) => matches(c.name, k.name));
    if (contenders.length === 0) continue;
    const pairs = await Promise.all(
      contenders.map((c) => startPair(c, k.name, k.size, k.settled, windowFor(k.size), false)),
    );
    try {
      const results = await alternate(pairs, (p, warmup) => pairRound(p.send, p.recv, k.count, warmup));
      const rheaOf = (side: "send" | "recv"): PairRound[] | undefined => {
        const i = contenders.findIndex((c) => c.lib === "rhea" && c.side === side);
        return i >= 0 ? results[i] : undefined;
      };
      contenders.forEach((c, i) => {
        const rs = results[i]!;
        const client = rs.map((r) => (c.side === "send" ? r.send : r.recv));
        const peer = rs.map((r) => (c.side === "send" ? r.recv : r.send));
        const cpu = client.map((e) => cpuPerMessage(e, e.done, k.count));
        const rh = rheaOf(c.side);
        const rhCpu =
          rh
            ?.map((r) => (c.side === "send" ? r.send : r.recv))
            .map((e) => cpuPerMessage(e, e.done, k.count)) ?? [];
        const rates = rs.map((r) => r.rate);
        rows.push([
          k.name,
          c.name,
          String(k.count),
          fmt(best(rates)),
          fmt(median(rates)),
          fmt(least(cpu), 1),
          fmt(median(cpu), 1),
          fmt(median(peer.map((e) => cpuPerMessage(e, e.done, k.count))), 1),
          c.lib === "rhea" || !rh ? "" : ratio(median(rates), median(rh.map((r) => r.rate))),
          c.lib === "rhea" || !rh ? "" : ratio(median(rhCpu), median(cpu)),
          peakCell(rs.map((r) => r.send)),
          peakCell(rs.map((r) => r.recv)),
          gcCell(rs.map((r) => r.recv)),
        ]);
        out.push({ case: k.name, contender: c.name, count: k.count, rounds: rs });
        noteAsync(`${k.name}: ${c.name}`, client, k.count);
      });
    } finally {
      await stopAll(pairs.flatMap((p) => [p.send, p.recv]));
    }
    console.log(`done: ${k.name}`);
  }
  printTable(
    [
      "case",
      "contender",
      "messages",
      "msg/s best",
      "msg/s median",
      "client CPU µs/msg best",
      "median",
      "peer CPU µs/msg",
      "msg/s vs rhea",
      "CPU vs rhea",
      "sender peak RSS MB (+ over start)",
      "receiver peak RSS MB (+ over start)",
      "receiver GCs (ms) per run",
    ],
    rows,
  );
  printAsync();
  report["p2p"] = out;
}

// ---- request / response -----------------------------------------------------------------------------

async function rr(): Promise<void> {
  const count = scaled(10_000, 200);
  console.log(`\n## request/response: ${count} sequential round trips per round, p2p over loopback\n`);
  const contenders = [
    {
      name: "ours MessageSender + MessageReceiver ↔ engine responder",
      lib: "low" as const,
      peer: "engine" as const,
    },
    { name: "rhea ↔ rhea responder", lib: "rhea" as const, peer: "rhea" as const },
    { name: "raw TCP ping-pong (floor)", lib: "tcp" as const, peer: "tcp" as const },
  ].filter((c) => matches(c.name));
  const pairs = await Promise.all(
    contenders.map(async (c) => {
      const server =
        c.peer === "tcp"
          ? await start(`${c.name} (echo)`, { role: "tcp-echo" })
          : await start(`${c.name} (responder)`, { role: "responder", lib: c.peer });
      const endpoint: Endpoint = { host: "127.0.0.1", port: server.port!, address: "requests" };
      const client =
        c.lib === "tcp"
          ? await start(c.name, { role: "tcp-ping", endpoint, size: 64 })
          : await start(c.name, { role: "requester", lib: c.lib, endpoint, size: 16 }, { measured: true });
      return { server: server.worker, client: client.worker };
    }),
  );
  try {
    const results = await alternate(pairs, (p, warmup) => soloRound(p.client, count, warmup));
    const rows: string[][] = [];
    const sortedOf = (i: number): number[] =>
      results[i]!.flatMap((r) => r.done.latenciesUs ?? []).sort((a, b) => a - b);
    const rheaIndex = contenders.findIndex((c) => c.lib === "rhea");
    const rheaP50 = rheaIndex >= 0 ? quantile(sortedOf(rheaIndex), 0.5) : NaN;
    const summary = contenders.map((c, i) => {
      const rs = results[i]!;
      const all = sortedOf(i);
      const roundP50 = rs.map((r) =>
        quantile(
          [...(r.done.latenciesUs ?? [])].sort((a, b) => a - b),
          0.5,
        ),
      );
      const p = { p50: quantile(all, 0.5), p99: quantile(all, 0.99), p999: quantile(all, 0.999) };
      rows.push([
        c.name,
        fmt(p.p50),
        fmt(p.p99),
        fmt(p.p999),
        fmt(least(roundP50)),
        fmt(median(rs.map((r) => r.ended.cpuUs / count)), 1),
        c.lib === "low" ? `${(p.p50 / rheaP50).toFixed(2)}x` : "",
      ]);
      return {
        contender: c.name,
        ...p,
        cpuUs: rs.map((r) => r.ended.cpuUs / count),
        // Without the kernel's part: the library's own work per round trip, which moves less with the machine.
        userCpuUs: rs.map((r) => (r.ended.cpuUs - (r.ended.systemUs ?? 0)) / count),
      };
    });
    printTable(
      [
        "requester",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "best round p50 µs",
        "requester CPU µs/round trip",
        "p50 vs rhea",
      ],
      rows,
    );
    contenders.forEach((c, i) =>
      noteAsync(
        c.name,
        results[i]!.map((r) => r.ended),
        count,
      ),
    );
    printAsync();
    report["rr"] = summary;
  } finally {
    await stopAll(pairs.flatMap((p) => [p.server, p.client]));
  }
}

// ---- through the broker -----------------------------------------------------------------------------

interface BrokerContender {
  readonly name: string;
  readonly lib: ClientLib;
}

const BROKER_CONTENDERS: BrokerContender[] = [
  { name: "ours SendClient / ReceiveClient", lib: "client" },
  { name: "ours MessageSender / MessageReceiver", lib: "low" },
  { name: "rhea", lib: "rhea" },
  { name: "engine SenderLink / ReceiverLink (reference)", lib: "engine" },
];

/**
 * Producer then consumer per round: the producer sends `count` messages into the queue (unsettled,
 * every outcome awaited), then the consumer attaches and receives them (PeekLock, each accepted).
 * The consumer's clock includes attaching its link (and a `ReceiveClient`'s or Python's connection).
 */
async function phases(
  title: string,
  broker: ServerProcess,
  contenders: readonly BrokerContender[],
  sizes: readonly { name: string; size: number; count: number }[],
  tls: { ca: string; port: number } | undefined,
  baseline: ClientLib,
): Promise<unknown[]> {
  const rows: string[][] = [];
  const out: unknown[] = [];
  for (const k of sizes) {
    const chosen = contenders.filter((c) => matches(c.name, k.name));
    if (chosen.length === 0) continue;
    const procs = await Promise.all(
      chosen.map(async (c) => {
        const python = c.lib === "python";
        const endpoint: Endpoint = {
          host: "127.0.0.1",
          port: tls ? tls.port : broker.port,
          address: `bench-${c.lib}-${k.size}`,
          ...(tls ? { ca: tls.ca } : {}),
        };
        const producer = await start(
          `${c.name} producer ${k.size}`,
          {
            role: "send",
            lib: c.lib,
            endpoint,
            size: k.size,
            settled: false,
            window: 1000,
            maxFrameSize: FRAME,
            eld: false,
          },
          { python, measured: true },
        );
        const consumer = await start(
          `${c.name} consumer ${k.size}`,
          {
            role: "recv",
            lib: c.lib,
            endpoint,
            settled: false,
            credit: CREDIT,
            maxFrameSize: FRAME,
            eld: false,
          },
          { python, measured: true },
        );
        return { producer: producer.worker, consumer: consumer.worker };
      }),
    );
    try {
      const results = await alternate(procs, async (p, warmup) => {
        const b0 = procCpuUs(broker.pid);
        const send = await soloRound(p.producer, k.count, warmup);
        const b1 = procCpuUs(broker.pid);
        const recv = await soloRound(p.consumer, k.count, warmup);
        const b2 = procCpuUs(broker.pid);
        return { send, recv, brokerSendUs: (b1 - b0) / k.count, brokerRecvUs: (b2 - b1) / k.count };
      });
      const baseIndex = chosen.findIndex((c) => c.lib === baseline);
      chosen.forEach((c, i) => {
        const rs = results[i]!;
        const sendCpu = rs.map((r) => cpuPerMessage(r.send.ended, r.send.done, k.count));
        const recvCpu = rs.map((r) => cpuPerMessage(r.recv.ended, r.recv.done, k.count));
        const setupMs = rs.map((r) => (r.recv.done.setupCpuUs ?? NaN) / 1000);
        const rh = baseIndex >= 0 && baseIndex !== i ? results[baseIndex]! : undefined;
        const sendRate = median(rs.map((r) => r.send.rate));
        const recvRate = median(rs.map((r) => r.recv.rate));
        rows.push([
          k.name,
          c.name,
          String(k.count),
          fmt(best(rs.map((r) => r.send.rate))),
          fmt(sendRate),
          rh ? ratio(sendRate, median(rh.map((r) => r.send.rate))) : "",
          fmt(median(sendCpu), 1),
          rh
            ? ratio(median(rh.map((r) => cpuPerMessage(r.send.ended, r.send.done, k.count))), median(sendCpu))
            : "",
          fmt(best(rs.map((r) => r.recv.rate))),
          fmt(recvRate),
          rh ? ratio(recvRate, median(rh.map((r) => r.recv.rate))) : "",
          fmt(median(recvCpu), 1),
          rh
            ? ratio(median(rh.map((r) => cpuPerMessage(r.recv.ended, r.recv.done, k.count))), median(recvCpu))
            : "",
          fmt(median(setupMs), 1),
          `${fmt(median(rs.map((r) => r.brokerSendUs)), 1)} / ${fmt(median(rs.map((r) => r.brokerRecvUs)), 1)}`,
        ]);
        out.push({ case: k.name, contender: c.name, count: k.count, rounds: rs });
        noteAsync(
          `${k.name}: ${c.name}, producer`,
          rs.map((r) => r.send.ended),
          k.count,
        );
        noteAsync(
          `${k.name}: ${c.name}, consumer`,
          rs.map((r) => r.recv.ended),
          k.count,
        );
      });
    } finally {
      await stopAll(procs.flatMap((p) => [p.producer, p.consumer]));
    }
  }
  console.log(title);
  printTable(
    [
      "case",
      "client",
      "messages",
      "send msg/s best",
      "median",
      `vs ${baseline}`,
      "send CPU µs/msg",
      `CPU vs ${baseline}`,
      "receive msg/s best",
      "median",
      `vs ${baseline}`,
      "receive CPU µs/msg",
      `CPU vs ${baseline}`,
      "consumer set-up CPU ms",
      "broker CPU µs/msg (send / receive)",
    ],
    rows,
  );
  printAsync();
  return out;
}

async function throughBroker(): Promise<void> {
  console.log("\n## through uamqp broker (a separate process): producer, then consumer, of each library\n");
  const broker = await startBroker([], BUILT);
  try {
    report["broker"] = await phases(
      `\nThrough uamqp broker (${BUILT ? "dist/cli/bin.js" : "src/cli/bin.ts under tsx"}), unsettled, credit / prefetch / in-flight 1000:\n`,
      broker,
      BROKER_CONTENDERS,
      [
        { name: "16 B", size: 16, count: scaled(50_000, 500) },
        { name: "1 KiB", size: 1024, count: scaled(50_000, 500) },
      ],
      undefined,
      "rhea",
    );
    report["brokerPeakRssMB"] = procPeakRssKiB(broker.pid) / 1024;
  } finally {
    await broker.stop();
  }
}

// ---- the broker's ceiling ---------------------------------------------------------------------------

async function ceiling(): Promise<void> {
  const perProducer = scaled(100_000, 1000);
  const libOpt = opt("ceiling-lib");
  const lib: ClientLib = typeof libOpt === "string" ? (libOpt as ClientLib) : "engine";
  console.log(
    `\n## broker ceiling: 2 producer + 2 consumer processes (${lib}) on one queue, 16 B, ${perProducer} messages per producer${typeof opt("idle-links") === "string" ? `, ${String(opt("idle-links"))} idle consumers and producers` : ""}\n`,
  );
  const baselineOpt = opt("baseline");
  const baseline = typeof baselineOpt === "string" ? resolve(baselineOpt) : undefined;
  /** With `--cpu-prof`, each `uamqp broker` process of the case runs under the profiler. */
  const brokerProfile = (slug: string): { nodeFlags?: string[] } => {
    if (PROFILE_DIR === undefined) return {};
    mkdirSync(PROFILE_DIR, { recursive: true });
    return {
      nodeFlags: [
        "--cpu-prof",
        `--cpu-prof-dir=${PROFILE_DIR}`,
        `--cpu-prof-name=${slug}.cpuprofile`,
        "--cpu-prof-interval=250",
      ],
    };
  };
  const brokers: {
    name: string;
    start: () => Promise<{ pid: number; port: number; stop: () => Promise<void> }>;
  }[] = [
    { name: "uamqp broker", start: () => startBroker([], BUILT, brokerProfile("ceiling-uamqp-broker")) },
    // `--baseline=DIR`: the broker of another build (a `dist/` directory) in the same run, for A/B.
    ...(baseline !== undefined
      ? [
          {
            name: "uamqp broker (baseline)",
            start: () =>
              startBroker([], true, { dist: baseline, ...brokerProfile("ceiling-uamqp-broker-baseline") }),
          },
        ]
      : []),
    {
      name: "rhea container.listen as a queue broker",
      start: async () => {
        const s = await start("rhea broker", { role: "rhea-broker", credit: CREDIT });
        return { pid: s.worker.child.pid!, port: s.port!, stop: () => stopAll([s.worker]) };
      },
    },
  ].filter((b) => matches(b.name));
  if (brokers.length === 0) return;
  const idleOpt = opt("idle-links");
  /**
   * `--idle-links=N`: N consumers without credit and N producers that send nothing on the queue
   * besides the measured clients (one rhea connection from this process), which a broker should not
   * have to look at per message.
   */
  const idle = typeof idleOpt === "string" ? Number(idleOpt) : 0;
  const idleConnections: rhea.Connection[] = [];
  const setups: {
    broker: string;
    server: { pid: number; port: number; stop: () => Promise<void> };
    producers: Worker[];
    consumers: Worker[];
  }[] = [];
  /** Every server started, stopped at the end even when a later one fails to start. */
  const servers: { stop: () => Promise<void> }[] = [];
  try {
    for (const b of brokers) {
      const server = await b.start();
      servers.push(server);
      if (idle > 0) idleConnections.push(await idleLinks(server.port, "ceiling", idle));
      const endpoint: Endpoint = { host: "127.0.0.1", port: server.port, address: "ceiling" };
      const spawnClient = (role: "send" | "recv", n: number) =>
        start(
          `ceiling ${role} ${n} via ${b.name}`,
          role === "send"
            ? { role, lib, endpoint, size: 16, settled: false, window: 1000, maxFrameSize: FRAME, eld: false }
            : { role, lib, endpoint, settled: false, credit: CREDIT, maxFrameSize: FRAME, eld: false },
        );
      const [p1, p2, c1, c2] = await Promise.all([
        spawnClient("send", 1),
        spawnClient("send", 2),
        spawnClient("recv", 1),
        spawnClient("recv", 2),
      ]);
      setups.push({
        broker: b.name,
        server,
        producers: [p1.worker, p2.worker],
        consumers: [c1.worker, c2.worker],
      });
    }
    const results = await alternate(setups, async (s, warmup) => {
      const b0 = procCpuSplitUs(s.server.pid);
      const cpu0 = procCpuUs(s.server.pid);
      const io0 = procSyscalls(s.server.pid);
      for (const c of s.consumers) await c.run(0, warmup, RUN_TIMEOUT_MS);
      for (const p of s.producers) await p.run(perProducer, warmup, RUN_TIMEOUT_MS);
      const sent = await Promise.all(s.producers.map((p) => p.done(RUN_TIMEOUT_MS)));
      const deadline = Date.now() + 120_000;
      for (;;) {
        const got = (await Promise.all(s.consumers.map((c) => c.progress()))).reduce((a, b) => a + b, 0);
        if (got >= 2 * perProducer) break;
        if (Date.now() > deadline)
          throw new Error(`${s.broker}: ${got} of ${2 * perProducer} received in time`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const pe = await Promise.all(s.producers.map((p) => p.end()));
      const ce = await Promise.all(s.consumers.map((c) => c.end()));
      const brokerUs = procCpuUs(s.server.pid) - cpu0;
      const b1 = procCpuSplitUs(s.server.pid);
      const io1 = procSyscalls(s.server.pid);
      const startNs = Math.min(...sent.map((d) => d.startNs));
      const endNs = Math.max(...ce.map((e) => e.endNs ?? 0));
      const total = 2 * perProducer;
      return {
        rate: total / ((endNs - startNs) / 1e9),
        brokerUs: brokerUs / total,
        brokerSystemUs: (b1.system - b0.system) / total,
        brokerWrites: ((io1.writes - io0.writes) * 1000) / total,
        brokerReads: ((io1.reads - io0.reads) * 1000) / total,
        producerUs: pe.reduce((a, e) => a + e.cpuUs, 0) / total,
        consumerUs: ce.reduce((a, e) => a + e.cpuUs, 0) / total,
        split: ce.map((e) => e.count ?? 0),
      };
    });
    const rows = setups.map((s, i) => {
      const rs = results[i]!;
      const rhea = setups.findIndex((x) => x.broker.startsWith("rhea"));
      return [
        s.broker,
        fmt(best(rs.map((r) => r.rate))),
        fmt(median(rs.map((r) => r.rate))),
        fmt(median(rs.map((r) => r.brokerUs)), 2),
        fmt(median(rs.map((r) => r.brokerSystemUs)), 1),
        `${fmt(median(rs.map((r) => r.brokerWrites)), 1)} / ${fmt(median(rs.map((r) => r.brokerReads)), 1)}`,
        fmt(median(rs.map((r) => r.producerUs)), 1),
        fmt(median(rs.map((r) => r.consumerUs)), 1),
        rhea >= 0 && rhea !== i
          ? ratio(median(rs.map((r) => r.rate)), median(results[rhea]!.map((r) => r.rate)))
          : "",
        rs.map((r) => r.split.join("/")).join(", "),
      ];
    });
    printTable(
      [
        "broker",
        "msg/s best",
        "median",
        "broker CPU µs/msg",
        "of it in the kernel",
        "broker writes / reads per 1000 msg",
        "producer CPU µs/msg",
        "consumer CPU µs/msg",
        "vs rhea",
        "consumer split per round",
      ],
      rows,
    );
    report["ceiling"] = setups.map((s, i) => ({ broker: s.broker, rounds: results[i] }));
  } finally {
    for (const c of idleConnections) c.close();
    for (const s of setups) await stopAll([...s.producers, ...s.consumers]);
    for (const server of servers) await server.stop();
  }
}

/** `n` receivers without credit and `n` senders that send nothing on `address`, attached. */
async function idleLinks(port: number, address: string, n: number): Promise<rhea.Connection> {
  const container = rhea.create_container();
  const conn = container.connect({ host: "127.0.0.1", port, reconnect: false });
  const links: (rhea.Receiver | rhea.Sender)[] = [];
  for (let i = 0; i < n; i++) {
    links.push(conn.open_receiver({ source: address, credit_window: 0 }));
    links.push(conn.open_sender(address));
  }
  const deadline = Date.now() + 30_000;
  while (!links.every((l) => l.is_open())) {
    if (Date.now() > deadline) throw new Error(`${n} idle consumers and producers did not attach in 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return conn;
}

// ---- event-loop delay -------------------------------------------------------------------------------

const eldCells = (e: EventLoopDelay | undefined): string[] =>
  e ? [fmt(e.p50, 1), fmt(e.p99, 1), fmt(e.max, 1)] : ["-", "-", "-"];

/** The busiest turn (CPU ms) of the worst of `rounds`. */
const busiestCell = (rounds: readonly (EventLoopDelay | undefined)[]): string =>
  fmt(Math.max(...rounds.map((e) => e?.busiestTurnCpuMs ?? 0)), 1);

async function eld(): Promise<void> {
  const big = 100 * 2 ** 20;
  console.log("\n## event-loop delay (monitorEventLoopDelay, 1 ms resolution), p2p over loopback\n");
  const receivers = P2P_CONTENDERS.filter((c) => c.side === "recv" && matches(c.name, "100 MiB"));
  const rounds = Math.max(1, Math.min(ROUNDS, 3));
  const rows: string[][] = [];
  const out: Record<string, unknown> = {};
  if (receivers.length > 0) {
    const pairs = [];
    for (const c of receivers) pairs.push(await startPair(c, "100 MiB", big, false, 1, true));
    try {
      const results = await alternate(pairs, (p, warmup) => pairRound(p.send, p.recv, 1, warmup), rounds);
      receivers.forEach((c, i) => {
        const rs = results[i]!;
        const worst = rs.reduce((a, r) =>
          (r.recv.done.eld?.max ?? 0) > (a.recv.done.eld?.max ?? 0) ? r : a,
        );
        rows.push([
          `receiving one 100 MiB message: ${c.name}`,
          `${fmt(median(rs.map((r) => (r.recv.done.endNs - r.send.done.startNs) / 1e6)))} ms`,
          ...eldCells(worst.recv.done.eld),
          busiestCell(rs.map((r) => r.recv.done.eld)),
          peakCell(rs.map((r) => r.recv)),
        ]);
      });
      out["receive100MiB"] = receivers.map((c, i) => ({ contender: c.name, rounds: results[i] }));
    } finally {
      await stopAll(pairs.flatMap((p) => [p.send, p.recv]));
    }
  }
  const count = scaled(100_000, 1000);
  const senders = P2P_CONTENDERS.filter((c) => c.side === "send" && matches(c.name, "100k"));
  if (senders.length > 0) {
    const pairs = await Promise.all(senders.map((c) => startPair(c, "send 100k", 16, false, 1000, true)));
    try {
      const results = await alternate(pairs, (p, warmup) => pairRound(p.send, p.recv, count, warmup), rounds);
      senders.forEach((c, i) => {
        const rs = results[i]!;
        const worst = rs.reduce((a, r) =>
          (r.send.done.eld?.p99 ?? 0) > (a.send.done.eld?.p99 ?? 0) ? r : a,
        );
        rows.push([
          `sending ${count} × 16 B unsettled: ${c.name}`,
          `${fmt(median(rs.map((r) => r.rate)))} msg/s`,
          ...eldCells(worst.send.done.eld),
          busiestCell(rs.map((r) => r.send.done.eld)),
          peakCell(rs.map((r) => r.send)),
        ]);
      });
      out["send100k"] = senders.map((c, i) => ({ contender: c.name, rounds: results[i] }));
    } finally {
      await stopAll(pairs.flatMap((p) => [p.send, p.recv]));
    }
  }
  console.log(`worst of ${rounds} round(s) after a warm-up:\n`);
  printTable(
    [
      "case",
      "time / rate (median)",
      "delay p50 ms",
      "p99 ms",
      "max ms",
      "busiest turn CPU ms",
      "peak RSS MB (+ over start)",
    ],
    rows,
  );
  report["eld"] = out;
}

// ---- Python uamqp over TLS --------------------------------------------------------------------------

async function python(): Promise<void> {
  console.log("\n## Python uamqp against ours and rhea through uamqp broker over TLS\n");
  // Said plainly, rather than as a worker's traceback: a machine without the peers installed.
  if (spawnSync(PYTHON, ["-c", "import uamqp"], { stdio: "ignore" }).status !== 0) {
    throw new Error(
      `${PYTHON} cannot import uamqp: install Debian's python3-uamqp (bash scripts/peers/install.sh installs every peer)`,
    );
  }
  const certs = await getTestCertificates();
  const dir = mkdtempSync(join(tmpdir(), "uamqp-bench-tls-"));
  const certFile = join(dir, "server.crt");
  const keyFile = join(dir, "server.key");
  const caFile = join(dir, "ca.crt");
  writeFileSync(certFile, certs.serverCert);
  writeFileSync(keyFile, certs.serverKey);
  writeFileSync(caFile, certs.ca);
  const broker = await startBroker(["--tls-cert", certFile, "--tls-key", keyFile, "--tls-port", "0"], BUILT);
  try {
    report["python"] = await phases(
      "\nThrough uamqp broker over TLS (amqps), unsettled, credit / prefetch 1000:\n",
      broker,
      [
        { name: "Python uamqp 1.5 SendClient / ReceiveClient", lib: "python" },
        { name: "ours SendClient / ReceiveClient (TLS)", lib: "client" },
        { name: "ours MessageSender / MessageReceiver (TLS)", lib: "low" },
        { name: "rhea (TLS)", lib: "rhea" },
      ],
      [{ name: "16 B over TLS", size: 16, count: scaled(20_000, 200) }],
      { ca: certs.ca, port: broker.tlsPort! },
      "python",
    );
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main -------------------------------------------------------------------------------------------

if (BUILT && opt("no-build") !== true) {
  console.log("building dist/ (npm run build) so that the library runs as users run it…");
  const b = spawnSync("npm", ["run", "build", "--silent"], { cwd: REPO_ROOT, stdio: "inherit" });
  if (b.status !== 0) throw new Error("npm run build failed");
}
console.log(machineLine());
console.log(`library: ${BUILT ? "dist/ (the build)" : "src/ under tsx"}; rhea ${RHEA_VERSION}`);
console.log(`rounds: ${ROUNDS} after a warm-up round, counts scaled by ${SCALE}`);
const run: Record<CaseName, () => Promise<void>> = { p2p, rr, broker: throughBroker, ceiling, eld, python };
let failed = false;
for (const c of cases) {
  try {
    await run[c]();
  } catch (e) {
    failed = true;
    console.error(`case ${c} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    await stopAll([...started]);
  }
}
if (typeof jsonOpt === "string") writeFileSync(jsonOpt, JSON.stringify(report, null, 1));
await stopAll([...started]);
process.exit(failed ? 1 : 0);
