/**
 * Broker throughput on loopback: a rhea sender → a broker → a rhea receiver, through our embedded
 * broker and through RabbitMQ 3.10 (AMQP 1.0 plugin, scripts/peers/rabbitmq.sh).
 *
 *   node --import tsx bench/broker.bench.ts [--quick] [--rounds N] [--no-rabbitmq] [--profile]
 *
 * Each case sends `count` data-section messages unsettled (rhea's default sender: settled by the
 * broker's `accepted`), the receiver keeps a credit window of 1000 and accepts every message, and the
 * clock runs from the first send until every message was received and every send was accepted. A
 * warm-up of 5000 messages goes first.
 * Brokers: ours in this process (it shares the one JS thread with both rhea clients), ours in a
 * child process (a thread of its own, like RabbitMQ), and RabbitMQ. The best of `--rounds` (default 2)
 * rounds is kept. `--profile` instead runs the in-process case once under the V8 CPU profiler
 * (node:inspector, like `--cpu-prof`) and prints where the CPU time went, by source folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Session } from "node:inspector/promises";
import { fileURLToPath } from "node:url";
import rhea from "rhea";
import { Broker } from "../src/broker/index.js";
import { peerAvailable, startPeer, type RunningPeer } from "../test/support/peers.js";
import { printTable } from "./harness.js";

const args = process.argv.slice(2);
const CREDIT_WINDOW = 1000;
/** Messages sent through each broker before each measured case. */
const WARM_UP = 5000;
/** No case may take longer than this (a stuck broker fails the bench instead of hanging it). */
const CASE_TIMEOUT_MS = 120_000;

interface Endpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The address of queue `name` at this broker. */
  readonly address: (name: string) => string;
  readonly credentials?: { username: string; password: string };
  readonly stop: () => Promise<void>;
}

interface Case {
  readonly name: string;
  readonly size: number;
  readonly count: number;
}

function option(name: string, fallback: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

// ---- the child-process broker ---------------------------------------------------------------------

/** `--serve`: run an embedded broker, print its port, stop when stdin closes. */
async function serve(): Promise<void> {
  const broker = await Broker.start();
  process.stdout.write(`PORT ${broker.port}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    void broker.close().then(() => process.exit(0));
  });
}

async function childBroker(): Promise<Endpoint> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--serve"],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the child broker did not start within 30 s")), 30_000);
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the child broker exited (${String(code)})`));
    });
  });
  return {
    name: "embedded broker (child process)",
    host: "127.0.0.1",
    port,
    address: (name) => name,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin?.end();
      }),
  };
}

async function inProcessBroker(): Promise<Endpoint> {
  const broker = await Broker.start();
  return {
    name: "embedded broker (in process)",
    host: "127.0.0.1",
    port: broker.port!,
    address: (name) => name,
    stop: () => broker.close(),
  };
}

async function rabbitmq(): Promise<Endpoint> {
  const peer: RunningPeer = await startPeer("rabbitmq");
  return {
    name: "RabbitMQ 3.10",
    host: peer.host,
    port: peer.port,
    address: (name) => `/queue/${name}`,
    credentials: { username: "guest", password: "guest" },
    stop: () => peer.stop(),
  };
}

// ---- one measured run -----------------------------------------------------------------------------

let runId = 0;

/** Sends `c.count` messages through the broker; resolves with messages per second. */
async function run(ep: Endpoint, c: Case): Promise<number> {
  const address = ep.address(`bench-${process.pid}-${++runId}`);
  const container = rhea.create_container({ id: `bench-${runId}` });
  const conn = container.connect({
    host: ep.host,
    port: ep.port,
    reconnect: false,
    ...(ep.credentials ?? {}),
  });
  const body = rhea.message.data_section(Buffer.alloc(c.size, 0x5a));
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${ep.name} ${c.name}: not done within ${CASE_TIMEOUT_MS} ms`)),
        CASE_TIMEOUT_MS,
      );
      const fail = (what: string) => (ctx: rhea.EventContext) => {
        clearTimeout(timer);
        const err = ctx.receiver?.error ?? ctx.sender?.error ?? ctx.connection.error;
        reject(new Error(`${ep.name}: ${what} ${JSON.stringify(err ?? null)}`));
      };
      conn.on("connection_error", fail("connection error"));
      conn.on("disconnected", fail("disconnected"));
      let received = 0;
      let accepted = 0;
      let sent = 0;
      let start = 0n;
      const finish = (): void => {
        if (received < c.count || accepted < c.count) return;
        clearTimeout(timer);
        resolve(c.count / (Number(process.hrtime.bigint() - start) / 1e9));
      };
      const receiver = conn.open_receiver({
        source: { address },
        credit_window: CREDIT_WINDOW,
        autoaccept: true,
      });
      receiver.on("receiver_error", fail("receiver error"));
      receiver.on("message", () => {
        received++;
        finish();
      });
      receiver.once("receiver_open", () => {
        // Attach the sender once the queue has its consumer (RabbitMQ declares the queue here).
        const sender = conn.open_sender({ target: { address } });
        sender.on("sender_error", fail("sender error"));
        sender.on("rejected", fail("rejected"));
        sender.on("released", fail("released"));
        sender.on("accepted", () => {
          accepted++;
          finish();
        });
        sender.on("sendable", () => {
          if (start === 0n) start = process.hrtime.bigint();
          while (sent < c.count && sender.sendable()) {
            sender.send({ body });
            sent++;
          }
        });
      });
    });
  } finally {
    conn.removeAllListeners("disconnected");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      conn.once("connection_close", () => {
        clearTimeout(timer);
        resolve();
      });
      conn.once("disconnected", () => {
        clearTimeout(timer);
        resolve();
      });
      conn.close();
    });
  }
}

// ---- profile ---------------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  hitCount?: number;
  children?: number[];
}

/** Source folders and libraries the time is billed to. */
const OWNERS: [string, (url: string) => boolean][] = [
  ["src/broker", (u) => u.includes("/src/broker/")],
  ["src/engine", (u) => u.includes("/src/engine/")],
  ["src/frames", (u) => u.includes("/src/frames/")],
  ["src/codec", (u) => u.includes("/src/codec/")],
  ["src/transport", (u) => u.includes("/src/transport/")],
  ["src/ (other)", (u) => u.includes("/src/")],
  ["rhea", (u) => u.includes("/node_modules/rhea/")],
  ["bench script", (u) => u.includes("/bench/")],
];
const OWNER_NAMES = [...OWNERS.map(([n]) => n), "Node.js / V8 (no library frame above)", "garbage collector"];

function ownerOf(url: string): string | undefined {
  return OWNERS.find(([, test]) => test(url))?.[0];
}

/**
 * Bills every sample to a row: its own frame's folder when that is ours or rhea's (`self`); else
 * (native code, node: internals such as socket writes and buffer copies) the nearest such frame up
 * the stack (`inclusive of the runtime work it caused`).
 */
function billing(nodes: ProfileNode[]): {
  self: Map<string, number>;
  billed: Map<string, number>;
  busy: number;
} {
  const parent = new Map<number, ProfileNode>();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n);
  const self = new Map<string, number>();
  const billed = new Map<string, number>();
  let busy = 0;
  const add = (m: Map<string, number>, k: string, v: number): void => {
    m.set(k, (m.get(k) ?? 0) + v);
  };
  for (const n of nodes) {
    const hits = n.hitCount ?? 0;
    const fn = n.callFrame.functionName;
    if (hits === 0 || fn === "(idle)") continue;
    busy += hits;
    if (fn === "(garbage collector)") {
      add(self, "garbage collector", hits);
      add(billed, "garbage collector", hits);
      continue;
    }
    const own = ownerOf(n.callFrame.url);
    add(self, own ?? "Node.js / V8 (no library frame above)", hits);
    let owner = own;
    for (let p = parent.get(n.id); owner === undefined && p !== undefined; p = parent.get(p.id)) {
      owner = ownerOf(p.callFrame.url);
    }
    add(billed, owner ?? "Node.js / V8 (no library frame above)", hits);
  }
  return { self, billed, busy };
}

async function profile(c: Case): Promise<void> {
  const ep = await inProcessBroker();
  const session = new Session();
  session.connect();
  try {
    await run(ep, { ...c, count: WARM_UP });
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    const rate = await run(ep, c);
    const { profile: p } = await session.post("Profiler.stop");
    const nodes = p.nodes as ProfileNode[];
    const { self, billed, busy } = billing(nodes);
    const pct = (v: number | undefined): string => `${(((v ?? 0) / busy) * 100).toFixed(1)} %`;
    console.log(
      `\nCPU profile: ${c.name}, ${c.count} messages, broker and both rhea clients in one process ` +
        `(${Math.round(rate).toLocaleString("en-US")} msg/s while profiled)\n`,
    );
    printTable(
      ["where", "self time", "with the runtime work it caused"],
      OWNER_NAMES.map((name) => [name, pct(self.get(name)), pct(billed.get(name))]),
    );
    const byFunction = new Map<string, number>();
    for (const n of nodes) {
      if (n.callFrame.functionName === "(idle)") continue;
      const where = n.callFrame.url.replace(/^.*\/(src|node_modules|bench)\//, "$1/");
      const key = `${n.callFrame.functionName || "(anonymous)"} ${where}`.trim();
      byFunction.set(key, (byFunction.get(key) ?? 0) + (n.hitCount ?? 0));
    }
    const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 10);
    console.log("\nTop functions (self time):\n");
    printTable(
      ["function", "share"],
      top.map(([k, v]) => [k, pct(v)]),
    );
  } finally {
    session.disconnect();
    await ep.stop();
  }
}

// ---- main ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const quick = args.includes("--quick");
  const count = quick ? 10_000 : 50_000;
  const cases: Case[] = [
    { name: "16 B unsettled", size: 16, count },
    { name: "1 KiB unsettled", size: 1024, count },
  ];
  if (args.includes("--profile")) {
    await profile(cases[0]!);
    await profile(cases[1]!);
    return;
  }
  const rounds = option("--rounds", quick ? 1 : 2);
  const factories: (() => Promise<Endpoint>)[] = [inProcessBroker, childBroker];
  if (!args.includes("--no-rabbitmq")) {
    const a = peerAvailable("rabbitmq");
    if (a.ok) factories.push(rabbitmq);
    else console.log(`RabbitMQ skipped: ${a.reason}`);
  }
  const rows: string[][] = [];
  for (const make of factories) {
    const ep = await make();
    try {
      for (const c of cases) {
        await run(ep, { ...c, count: WARM_UP }); // JIT, connection setup paths, RabbitMQ's queue processes
        let best = 0;
        for (let r = 0; r < rounds; r++) best = Math.max(best, await run(ep, c));
        console.log(`${ep.name}, ${c.name}: ${Math.round(best).toLocaleString("en-US")} msg/s`);
        rows.push([ep.name, c.name, String(c.count), Math.round(best).toLocaleString("en-US")]);
      }
    } finally {
      await ep.stop();
    }
  }
  console.log(
    `\nrhea sender → broker → rhea receiver, credit window ${CREDIT_WINDOW}, best of ${rounds} round(s)\n`,
  );
  printTable(["broker", "case", "messages", "msg/s"], rows);
}

if (args.includes("--serve")) await serve();
else {
  await main();
  process.exit(0);
}
