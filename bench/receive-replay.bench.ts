/**
 * The receiving client's own CPU per message, without the network: what `uamqp broker` sends a
 * consumer is recorded once (through a loopback tee, in a process of its own), then replayed into
 * fresh clients in one process over an in-process transport pair, 64 KiB per turn of the event
 * loop, as a socket would deliver it. What the clients write back (dispositions, flows) is dropped.
 * No system calls, no other process: the numbers
 * move only with the library's receive path, so small changes to it can be compared in a minute.
 *
 *   node --import tsx bench/receive-replay.bench.ts [--size=16] [--count=50000] [--rounds=10]
 *     [--only=engine|MessageReceiver|ReceiveClient] [--lib=dist|src|/path/to/dist] [--threads] [--save=FILE]
 *
 * `--threads` prints each round's CPU per thread (the early rounds' extra cost is V8 compiling again
 * on its helper threads); `--save` writes the recorded stream to a file.
 *
 * A profile of the measured rounds (from the third on) only: the replaying process's main thread
 * writes its profile last (the recording process and tsx's loader thread write theirs too), and
 * the report reads the windows from the file next to it:
 *
 *   BENCH_WINDOWS_FILE=/tmp/r.windows.json node --cpu-prof --cpu-prof-dir=/tmp/r \
 *     --import tsx bench/receive-replay.bench.ts --only=ReceiveClient
 *   f=$(ls -t /tmp/r/*.0.*.cpuprofile | head -1); cp /tmp/r.windows.json "${f%.cpuprofile}.windows.json"
 *   node --import tsx bench/api/profile-report.ts "$f"
 *
 * The recorded consumer has credit for every message (one FLOW), so the replayed stream does not
 * depend on when the client granted credit; the clients replayed into use the benchmark's credit
 * of 1000, as `bench/api.bench.ts` does, and write their FLOWs into the void.
 */
import { once } from "node:events";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, connect as netConnect, type AddressInfo, type Socket } from "node:net";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import type { AmqpSession as EngineSession } from "../src/engine/session.js";
import type { Transport, TransportHandler } from "../src/transport/transport.js";
import { machineLine, median } from "./harness.js";

// The build (what users run) unless `--lib=src`, or `--lib=/path/to/another/dist` (A/B runs): see
// bench/api/lib.ts.
const libArg = process.argv.find((a) => a.startsWith("--lib="))?.slice(6);
process.env["BENCH_LIB"] = libArg === "src" ? "src" : libArg?.startsWith("/") === true ? libArg : "dist";
const lib = await import("./api/lib.js");
const {
  Connection,
  Message,
  MessageReceiver,
  MessageSender,
  ReceiveClient,
  ReceiverSettleMode,
  SASLAnonymous,
  Session,
} = lib.api;
const { SenderSettleMode: EngineSettleMode } = lib.engineLink;
const { Broker } = lib.broker;
const { createMemoryTransportPair } = lib.memory;
type SASLAnonymous = InstanceType<typeof SASLAnonymous>;

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const SIZE = Number(arg("size", "16"));
const COUNT = Number(arg("count", "50000"));
const ROUNDS = Number(arg("rounds", "10"));
const ONLY = arg("only", "");
const CREDIT = 1000;
const CHUNK = 64 * 1024;
const ADDRESS = "replay";
/** The recorded link's name: as long as a `ReceiveClient`'s random one, which replaces it in replays. */
const LINK_NAME = "receiver-link-00000000-0000-0000-0000-000000000000";
const RANDOM_NAME = /receiver-link-[0-9a-f-]{36}/;

// ---- recording ----------------------------------------------------------------------------------

async function record(): Promise<Buffer> {
  const broker = await Broker.start({ port: 0 });
  const port = broker.port!;
  const auth = (p: number): SASLAnonymous => new SASLAnonymous("127.0.0.1", { tls: false, port: p });
  const conn = new Connection("127.0.0.1", auth(port));
  await conn.open({ timeout: 10_000 });
  const sender = new MessageSender(new Session(conn), "replay-sender", ADDRESS);
  await sender.open({ timeout: 10_000 });
  const body = Buffer.alloc(SIZE, 0x5a);
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < COUNT; i++) sends.push(sender.send(new Message({ body })));
  await Promise.all(sends);
  await conn.close();

  const chunks: Buffer[] = [];
  const tee = createServer((c: Socket) => {
    const up = netConnect(port, "127.0.0.1");
    c.pipe(up);
    up.on("data", (d: Buffer) => {
      chunks.push(d);
      c.write(d);
    });
    c.on("close", () => up.destroy());
  });
  tee.listen(0, "127.0.0.1");
  await once(tee, "listening");
  const rconn = new Connection("127.0.0.1", auth((tee.address() as AddressInfo).port));
  await rconn.open({ timeout: 10_000 });
  let n = 0;
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  const receiver = new MessageReceiver(new Session(rconn), ADDRESS, "replay-receiver", {
    name: LINK_NAME,
    prefetch: COUNT,
    onMessageReceived: (m) => {
      void m.accept();
      if (++n === COUNT) finish();
    },
  });
  await receiver.open({ timeout: 10_000 });
  await all;
  await rconn.close();
  tee.close();
  await broker.close();
  // The stream ends where the broker answered the recorder's DETACH, END or CLOSE.
  const recorded = Buffer.concat(chunks);
  for (const [start, , step] of frames(recorded, { 0x16: Step.Flow, 0x17: Step.Flow, 0x18: Step.Flow })) {
    if (step === Step.Flow) return recorded.subarray(0, start);
  }
  return recorded;
}

// ---- replay -------------------------------------------------------------------------------------

/**
 * The client events the recorded peer answered, in their order: a replayed frame is handed over once
 * the client has reached the event it answers (so that a BEGIN does not arrive before the client
 * began its session).
 */
const Step = { SaslHeader: 0, SaslInit: 1, AmqpHeader: 2, Begin: 3, Attach: 4, Flow: 5 } as const;
type Step = number;

/** Performative descriptor codes (AMQP 1.0 §2.7, §5.3.3). */
const STEP_OF_CLIENT: Record<number, Step> = {
  0x41: Step.SaslInit,
  0x11: Step.Begin,
  0x12: Step.Attach,
  0x13: Step.Flow,
};
const STEP_OF_PEER: Record<number, Step> = {
  0x40: Step.SaslHeader, // sasl-mechanisms
  0x44: Step.SaslInit, // sasl-outcome
  0x10: Step.AmqpHeader, // open
  0x11: Step.Begin,
  0x12: Step.Attach,
};

/** Splits AMQP bytes into protocol headers and frames: [start, end, step it needs or answers]. */
function* frames(b: Buffer, stepOf: Record<number, Step>): Generator<[number, number, Step | undefined]> {
  let at = 0;
  while (at + 8 <= b.length) {
    if (b.toString("latin1", at, at + 4) === "AMQP") {
      yield [at, at + 8, b[at + 4] === 3 ? Step.SaslHeader : Step.AmqpHeader];
      at += 8;
      continue;
    }
    const size = b.readUInt32BE(at);
    if (size < 8 || at + size > b.length) return;
    const body = at + b[at + 4]! * 4;
    const code = size > body - at + 2 && b[body] === 0 && b[body + 1] === 0x53 ? b[body + 2]! : -1;
    yield [at, at + size, stepOf[code]];
    at += size;
  }
}

/**
 * The recorded peer, at the far end of an in-process transport pair: it hands the client the
 * recorded bytes as far as the client's progress allows (the handshake frame by frame, then 64 KiB
 * per turn: the pair's high-water mark holds the next write until the client took the last) and
 * drops what the client writes.
 */
class ReplayPeer implements TransportHandler {
  readonly #transport: Transport;
  readonly #stream: Buffer;
  /** Where the recorded link name is, and the client's name for it (written over it on the way). */
  readonly #nameAt: number;
  #name: string | undefined;
  /** Where each recorded handshake frame ends and the client step it needs. */
  readonly #marks: { end: number; needs: Step }[] = [];
  #at = 0;
  #reached = -1;

  constructor(transport: Transport, stream: Buffer) {
    this.#transport = transport;
    this.#stream = stream;
    this.#nameAt = stream.indexOf(LINK_NAME, 0, "latin1");
    let needs: Step = Step.SaslHeader;
    for (const [, end, step] of frames(stream, STEP_OF_PEER)) {
      // The first frame after the ATTACH answers the client's first FLOW, and so does the rest.
      needs = step ?? (needs >= Step.Attach ? Step.Flow : needs);
      if (needs === Step.Flow) break;
      this.#marks.push({ end, needs });
    }
  }

  /** What the client wrote: how far it got (and its link's name). */
  onData(chunk: Buffer): void {
    if (this.#reached >= Step.Flow) return;
    // The client's ATTACH names its link: the recorded answer is given the same name.
    const name = RANDOM_NAME.exec(chunk.toString("latin1"))?.[0];
    if (name !== undefined) this.#name = name;
    for (const [, , step] of frames(chunk, STEP_OF_CLIENT)) {
      if (step !== undefined && step > this.#reached) this.#reached = step;
    }
    this.#feed();
  }

  onDrain(): void {
    this.#feed();
  }

  onClose(): void {
    // Nothing to let go of.
  }

  #feed(): void {
    let end = this.#at;
    while (this.#marks.length > 0 && this.#marks[0]!.needs <= this.#reached) end = this.#marks.shift()!.end;
    if (end > this.#at) {
      // The handshake, with the client's link name.
      const bytes = Buffer.from(this.#stream.subarray(this.#at, end));
      if (this.#name !== undefined && this.#nameAt >= this.#at && this.#nameAt < end) {
        bytes.write(this.#name, this.#nameAt - this.#at, "latin1");
      }
      this.#at = end;
      this.#transport.write(bytes);
    }
    if (this.#marks.length > 0 || this.#reached < Step.Flow) return;
    // The transfers: the pair copies what it delivers, as a socket read gives fresh memory.
    while (this.#at < this.#stream.length) {
      const next = Math.min(this.#stream.length, this.#at + CHUNK);
      const more = this.#transport.write(this.#stream.subarray(this.#at, next));
      this.#at = next;
      if (!more) return;
    }
  }
}

/** SASL ANONYMOUS over an in-process pair whose far end replays `stream`. */
class ReplayAuth extends SASLAnonymous {
  last: Transport | undefined;
  constructor(readonly stream: Buffer) {
    super("127.0.0.1", { tls: false, port: 1 });
  }
  override connect(): Promise<Transport> {
    const [ours, theirs] = createMemoryTransportPair({ highWaterMark: CHUNK });
    theirs.setHandler(new ReplayPeer(theirs, this.stream));
    this.last = ours;
    return Promise.resolve(ours);
  }
  override withHost(): SASLAnonymous {
    return this;
  }
}

interface Contender {
  readonly name: string;
  /** Receives COUNT messages from `stream`; resolves with the CPU µs from open to the last message. */
  run(stream: Buffer): Promise<number>;
}

/**
 * Opens a connection that replays `stream`, then measures the CPU from `attach` (which attaches a
 * receiver and calls `received` for each message) until the last message arrived.
 */
async function replayedConnection(
  stream: Buffer,
  attach: (conn: InstanceType<typeof Connection>, received: () => void) => void,
): Promise<number> {
  const auth = new ReplayAuth(stream);
  const conn = new Connection("127.0.0.1", auth);
  await conn.open({ timeout: 10_000 });
  let n = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const t0 = process.cpuUsage();
  attach(conn, () => {
    if (++n === COUNT) done();
  });
  await all;
  const cpu = process.cpuUsage(t0);
  auth.last?.destroy();
  void conn.close();
  return cpu.user + cpu.system;
}

const ALL: Contender[] = [
  {
    name: "engine ReceiverLink",
    run: (stream) =>
      replayedConnection(stream, (conn, received) => {
        const engine: EngineSession = new Session(conn).engine;
        const l = engine.attachReceiver({
          name: LINK_NAME,
          source: { address: ADDRESS },
          target: { address: "replay-engine" },
          sndSettleMode: EngineSettleMode.Unsettled,
          autoCredit: CREDIT,
        });
        l.onDelivery = (d) => {
          if (!d.settled) l.settle(d);
          received();
        };
      }),
  },
  {
    name: "MessageReceiver",
    run: (stream) =>
      replayedConnection(stream, (conn, received) => {
        new MessageReceiver(new Session(conn), ADDRESS, "replay-receiver", {
          name: LINK_NAME,
          prefetch: CREDIT,
          receiveSettleMode: ReceiverSettleMode.PeekLock,
          onMessageReceived: (m) => {
            void m.accept();
            received();
          },
        });
      }),
  },
  {
    name: "ReceiveClient",
    async run(stream) {
      const t0 = process.cpuUsage();
      const auth = new ReplayAuth(stream);
      const cl = new ReceiveClient(`amqp://127.0.0.1:1/${ADDRESS}`, {
        auth,
        prefetch: CREDIT,
        reconnect: false,
      });
      let n = 0;
      for await (const _m of cl) if (++n === COUNT) break;
      const cpu = process.cpuUsage(t0);
      auth.last?.destroy();
      void cl.close();
      return cpu.user + cpu.system;
    },
  },
];
const contenders = ALL.filter((c) => ONLY === "" || ONLY.split("|").some((o) => c.name.includes(o)));

const SAVE = arg("save", "");
if (argv.includes("--record-only")) {
  writeFileSync(SAVE, await record());
  process.exit(0);
}
/**
 * Recorded in a process of its own: the broker's work (50,000 messages stored, then sent) would
 * otherwise shape this process's heap (which allocation sites V8 decides to allocate in the old
 * generation) before the clients run.
 */
function recordInChild(): Buffer {
  const file = join(mkdtempSync(join(tmpdir(), "replay-")), "stream.bin");
  // Recorded with this tree's build, whatever `--lib` the replay measures.
  const own = process.argv.slice(1).filter((a) => !a.startsWith("--lib="));
  const args = [...process.execArgv, ...own, "--record-only", `--save=${file}`];
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`recording failed (exit ${String(r.status)})`);
  const bytes = readFileSync(file);
  rmSync(file);
  if (SAVE !== "") writeFileSync(SAVE, bytes);
  return bytes;
}
const stream = recordInChild();
console.log(machineLine());
console.log(`recorded ${stream.length} bytes: ${COUNT} messages of ${SIZE} B from uamqp broker`);
const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
const THREADS = argv.includes("--threads");
/** The heap's spaces after a round (MB): where the collections' work comes from. */
function heapLine(): string {
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  const spaces = getHeapSpaceStatistics()
    .filter((sp) => sp.space_name === "new_space" || sp.space_name === "old_space")
    .map((sp) => `${sp.space_name} ${mb(sp.space_used_size)}/${mb(sp.space_size)}`);
  const m = process.memoryUsage();
  return `${spaces.join(", ")}, array buffers ${mb(m.arrayBuffers)}`;
}
/** Collections by kind (minor: scavenges; major: mark-compacts) and their pauses, with `--threads`. */
const gcs = { minor: 0, major: 0, ms: 0 };
if (THREADS) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
      else gcs.major++;
      gcs.ms += e.duration;
    }
  }).observe({ entryTypes: ["gc"] });
}
/** CPU time (ms) of each thread of this process so far: the main one and V8's helpers (GC, compiler). */
const threadsMs = (): Map<string, number> => {
  const m = new Map<string, number>();
  for (const t of readdirSync("/proc/self/task")) {
    const name = readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim();
    m.set(`${t} ${name}`, Number(readFileSync(`/proc/self/task/${t}/schedstat`, "utf8").split(" ")[0]) / 1e6);
  }
  return m;
};
/** The measured rounds' clock windows (µs), for bench/api/profile-report.ts. */
const windows: [number, number][] = [];
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
for (let r = -1; r < ROUNDS; r++) {
  for (const c of contenders) {
    const t = nowUs();
    const th0 = THREADS ? threadsMs() : undefined;
    const gc0 = { ...gcs };
    const us = await c.run(stream);
    if (th0 !== undefined) {
      // The observer hears of the last collections a turn later.
      await new Promise((resolve) => setImmediate(resolve));
      const th1 = threadsMs();
      const busy = [...th1].map(([k, v]) => `${k} ${(v - (th0.get(k) ?? 0)).toFixed(1)}`);
      console.log(
        `${c.name} round ${r}: ${(us / 1000).toFixed(1)} ms CPU; GCs ${gcs.minor - gc0.minor} minor, ` +
          `${gcs.major - gc0.major} major, ${(gcs.ms - gc0.ms).toFixed(1)} ms paused; ms per thread: ` +
          busy.filter((x) => !x.endsWith(" 0.0")).join(", ") +
          `; heap: ${heapLine()}`,
      );
    }
    if (r < 0) continue;
    results.get(c.name)!.push(us / COUNT);
    if (r >= 2) windows.push([t, nowUs()]); // past the early rounds' recompilation
  }
}
// Under `node --cpu-prof --cpu-prof-name=X.cpuprofile`, BENCH_WINDOWS_FILE=X.windows.json keeps
// the report to the measured rounds.
const windowsFile = process.env["BENCH_WINDOWS_FILE"];
if (windowsFile !== undefined) writeFileSync(windowsFile, JSON.stringify(windows));
for (const [name, v] of results) {
  const sorted = [...v].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(20)} CPU µs/msg best ${sorted[0]!.toFixed(3)} median ${median(v).toFixed(3)} (${ROUNDS} rounds: ${v.map((x) => x.toFixed(2)).join(" ")})`,
  );
}
process.exit(0);
