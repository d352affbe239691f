/**
 * One process of the public-API benchmarks (`bench/api.bench.ts` starts it; the protocol is in
 * `bench/api/protocol.ts`). Its role and library come from its first argument:
 *
 * - connecting sides (what is measured): our public API, `Connection` + `Session` + `MessageSender` /
 *   `MessageReceiver` ("low") or `SendClient` / `ReceiveClient` ("client"), always with `Message`
 *   objects, and rhea;
 * - listening peers: the library has no public listener for peer-to-peer use, so ours is the engine's
 *   accepting side (`AmqpConnection` in the server role over `listenTcp`, as the broker uses it), and
 *   rhea's is `container.listen`;
 * - request/response ends, raw TCP ping-pong, and rhea's server as a simple queue broker.
 */
import { createHook } from "node:async_hooks";
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from "node:perf_hooks";
import { createServer, connect, type Socket } from "node:net";
import { openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { inspect } from "node:util";
import { createInterface } from "node:readline";
import rhea from "rhea";
import type {
  Connection as ConnectionT,
  Message,
  MessageReceiver as MessageReceiverT,
  ReceiveClient as ReceiveClientT,
  SendOutcome,
  Session as SessionT,
} from "../../src/index.js";
import type { AmqpConnection } from "../../src/engine/connection.js";
import type { SenderLink } from "../../src/engine/sender-link.js";
import { api, engineConnection, engineLink, tcp } from "./lib.js";
import {
  REPLY_PREFIX,
  type Command,
  type Done,
  type Endpoint,
  type EventLoopDelay,
  type Reply,
  type WorkerConfig,
} from "./protocol.js";

const {
  Connection,
  Message: MessageClass,
  MessageReceiver,
  MessageSender,
  MessageSendResult,
  MessageState,
  ReceiveClient,
  ReceiverSettleMode,
  SASLAnonymous,
  SendClient,
  SenderSettleMode,
  Session,
} = api;
const EngineSettleMode = engineLink.SenderSettleMode;
const { listenTcp } = tcp;

/** Largest message any of our links here accepts or sends (the 100 MiB event-loop case needs more than the default). */
const MAX_MESSAGE_SIZE = 256 * 2 ** 20;
/** Bound on connecting and attaching. */
const OPEN_TIMEOUT_MS = 30_000;

const config = JSON.parse(process.argv[2] ?? "{}") as WorkerConfig;

/** `bench/api.bench.ts --node-flags`: a line at the start and the end of each run, between what V8 prints. */
const MARK_RUNS = process.env["BENCH_MARK_RUNS"] === "1";

function reply(r: Reply): void {
  process.stdout.write(`${REPLY_PREFIX}${JSON.stringify(r)}\n`);
}

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** The process's CPU time so far (user + system, every thread), µs. */
function cpuNowUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

/** Read and write system calls of this process so far (Linux), NaN elsewhere. */
function ioCalls(): { reads: number; writes: number } {
  try {
    const io = readFileSync("/proc/self/io", "utf8");
    return {
      reads: Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? NaN),
      writes: Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? NaN),
    };
  } catch {
    return { reads: NaN, writes: NaN };
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The body of every message: `size` bytes. */
function bodyOf(size: number): Buffer {
  return Buffer.alloc(size, 0x5a);
}

/** A complete AMQP message of one data section holding `size` bytes (what the engine peers send). */
function dataMessage(size: number): Buffer {
  return Buffer.from(new MessageClass({ body: bodyOf(size) }).encode());
}

/** What a role does in a run. */
interface Role {
  /**
   * Starts a run of `count` messages; resolves once the other side may start (a receiver: its link is
   * attached). Calls `done` once when its part is over.
   */
  start(
    count: number,
    done: (d: {
      count: number;
      endNs: number;
      firstNs?: number;
      firstCpuUs?: number;
      latenciesUs?: number[];
    }) => void,
    fail: (e: unknown) => void,
  ): Promise<void>;
  /** Messages received so far in this run (receivers). */
  progress?(): { count: number; endNs: number };
  /** After the clocks stopped: per-run cleanup (a receiver detaches its link). */
  finish?(): Promise<void>;
  /** Closes everything. */
  close(): Promise<void>;
}

/** `{ ready }` is sent by the caller once the role is set up; listening roles report their port. */
interface Setup {
  readonly role: Role;
  readonly port?: number;
}

// ---- our public API: senders ------------------------------------------------------------------------

async function lowConnection(
  ep: Endpoint,
  maxFrameSize: number,
): Promise<{ conn: ConnectionT; session: SessionT }> {
  const host = ep.host;
  const auth = new SASLAnonymous(host, {
    tls: ep.ca !== undefined,
    port: ep.port,
    ...(ep.ca !== undefined ? { ca: ep.ca } : {}),
  });
  const conn = new Connection(host, auth, { maxFrameSize });
  await conn.open({ timeout: OPEN_TIMEOUT_MS });
  return { conn, session: new Session(conn) };
}

function urlOf(ep: Endpoint): string {
  return `${ep.ca !== undefined ? "amqps" : "amqp"}://${ep.host}:${ep.port}/${ep.address}`;
}

/** `MessageSender.send(new MessageClass(...))`, keeping up to `window` sends unanswered. */
async function lowSender(c: Extract<WorkerConfig, { role: "send" }>): Promise<Setup> {
  const { conn, session } = await lowConnection(c.endpoint, c.maxFrameSize);
  const sender = new MessageSender(session, "bench-sender", c.endpoint.address, {
    sendSettleMode: c.settled ? SenderSettleMode.Settled : SenderSettleMode.Unsettled,
    maxMessageSize: MAX_MESSAGE_SIZE,
  });
  await sender.open({ timeout: OPEN_TIMEOUT_MS });
  const body = bodyOf(c.size);
  return {
    role: {
      start(count, done, fail) {
        let sent = 0;
        let landed = 0;
        let inFlight = 0;
        const onOutcome = (o: SendOutcome): void => {
          if (o.result !== MessageSendResult.Ok) {
            fail(new Error(`send ended ${o.result}: ${o.error?.message ?? ""}`));
            return;
          }
          inFlight--;
          if (++landed === count) done({ count, endNs: nowNs() });
          else pump();
        };
        const pump = (): void => {
          while (inFlight < c.window && sent < count) {
            sent++;
            inFlight++;
            sender.send(new MessageClass({ body })).then(onOutcome, fail);
          }
        };
        pump();
        return Promise.resolve();
      },
      async close() {
        await sender.close();
        await conn.close();
      },
    },
  };
}

/** `SendClient`: `queueMessage` of every message of the run, then `sendAllMessages` (uamqp's pattern). */
async function clientSender(c: Extract<WorkerConfig, { role: "send" }>): Promise<Setup> {
  const client = new SendClient(urlOf(c.endpoint), {
    maxFrameSize: c.maxFrameSize,
    maxMessageSize: MAX_MESSAGE_SIZE,
    sendSettleMode: c.settled ? SenderSettleMode.Settled : SenderSettleMode.Unsettled,
    maxInFlight: c.window,
    // Every message of a run is queued at once (uamqp's pattern): runs go beyond the default bounds
    // (200,000 messages; 4000 of 64 KiB, whose body bytes are one shared buffer).
    maxPendingMessages: Infinity,
    maxPendingBytes: Infinity,
    reconnect: false,
    ...(c.endpoint.ca !== undefined ? { transport: { ca: c.endpoint.ca } } : {}),
  });
  await client.open({ timeout: OPEN_TIMEOUT_MS });
  const body = bodyOf(c.size);
  return {
    role: {
      start(count, done, fail) {
        for (let i = 0; i < count; i++) client.queueMessage(new MessageClass({ body }));
        client.sendAllMessages({ closeOnDone: false }).then((states) => {
          const failed = states.filter((s) => s !== MessageState.SendComplete).length;
          if (failed > 0) fail(new Error(`${failed} of ${count} messages not sent`));
          else done({ count, endNs: nowNs() });
        }, fail);
        return Promise.resolve();
      },
      async close() {
        await client.close();
      },
    },
  };
}

// ---- the engine on the connecting side (the reference) ---------------------------------------------

async function engineClient(ep: Endpoint, maxFrameSize: number): Promise<AmqpConnection> {
  if (ep.ca !== undefined) throw new Error("the engine reference runs over plain TCP only");
  const conn = new engineConnection.AmqpConnection({ maxFrameSize });
  conn.start(await tcp.connectTcp({ host: ep.host, port: ep.port }));
  await conn.opened();
  return conn;
}

/** `SenderLink.send` of a message encoded once, keeping up to `window` sends unanswered. */
async function engineSender(c: Extract<WorkerConfig, { role: "send" }>): Promise<Setup> {
  const conn = await engineClient(c.endpoint, c.maxFrameSize);
  const link = conn.createSession().attachSender({
    source: { address: "bench-engine-sender" },
    target: { address: c.endpoint.address },
    sndSettleMode: c.settled ? EngineSettleMode.Settled : EngineSettleMode.Unsettled,
  });
  await link.attached();
  const payload = dataMessage(c.size);
  return {
    role: {
      start(count, done, fail) {
        let sent = 0;
        let landed = 0;
        let inFlight = 0;
        const onOutcome = (): void => {
          inFlight--;
          if (++landed === count) done({ count, endNs: nowNs() });
          else pump();
        };
        const pump = (): void => {
          while (inFlight < c.window && sent < count) {
            sent++;
            inFlight++;
            link.send(payload).then(onOutcome, fail);
          }
        };
        pump();
        return Promise.resolve();
      },
      async close() {
        await conn.close();
      },
    },
  };
}

/** A `ReceiverLink` per run with auto credit; each unsettled delivery settled `accepted`. */
async function engineReceiver(c: Extract<WorkerConfig, { role: "recv" }>): Promise<Setup> {
  const conn = await engineClient(c.endpoint, c.maxFrameSize);
  const session = conn.createSession();
  let link: ReturnType<typeof session.attachReceiver> | undefined;
  let counter: Counter | undefined;
  return {
    role: {
      async start(count, done) {
        const k = new Counter(count, done);
        counter = k;
        const l = session.attachReceiver({
          source: { address: c.endpoint.address },
          target: { address: "bench-engine-receiver" },
          sndSettleMode: c.settled ? EngineSettleMode.Settled : EngineSettleMode.Unsettled,
          autoCredit: c.credit,
        });
        link = l;
        l.onDelivery = (d) => {
          if (!d.settled) l.settle(d);
          k.add();
        };
        await l.attached();
      },
      progress: () => counter?.progress() ?? { count: 0, endNs: 0 },
      async finish() {
        await link?.detach();
        link = undefined;
      },
      async close() {
        await link?.detach();
        await conn.close();
      },
    },
  };
}

// ---- our public API: receivers ----------------------------------------------------------------------

/** Counts the messages of a run; `count` 0 counts until the run ends. */
class Counter {
  count = 0;
  firstNs = 0;
  /** The process's CPU time (user + system, µs) when the first message arrived. */
  firstCpuUs = 0;
  lastNs = 0;
  /** A clock reading is scheduled for the end of this turn of the event loop. */
  #stamping = false;
  constructor(
    readonly target: number,
    readonly done: (d: { count: number; endNs: number; firstNs?: number; firstCpuUs?: number }) => void,
  ) {}
  /**
   * One more message; true when it was the last one the run waits for. The clock is read at the
   * first and the last message, and otherwise once per turn of the event loop (after the messages
   * that turn delivered): a reading per message would be counted as client CPU, of every library
   * alike.
   */
  add(): boolean {
    const n = ++this.count;
    if (n === 1) {
      this.firstNs = nowNs();
      this.firstCpuUs = cpuNowUs();
    }
    if (n === this.target) {
      const t = nowNs();
      this.lastNs = t;
      this.done({ count: n, endNs: t, firstNs: this.firstNs, firstCpuUs: this.firstCpuUs });
      return true;
    }
    if (!this.#stamping) {
      this.#stamping = true;
      setImmediate(this.#stamp);
    }
    return false;
  }
  readonly #stamp = (): void => {
    this.#stamping = false;
    this.lastNs = nowNs();
  };
  progress(): { count: number; endNs: number } {
    return { count: this.count, endNs: this.lastNs };
  }
}

/** A `MessageReceiver` per run (`onMessageReceived`, `accept()` each message in PeekLock). */
async function lowReceiver(c: Extract<WorkerConfig, { role: "recv" }>): Promise<Setup> {
  const { conn, session } = await lowConnection(c.endpoint, c.maxFrameSize);
  let receiver: MessageReceiverT | undefined;
  let counter: Counter | undefined;
  return {
    role: {
      async start(count, done) {
        const k = new Counter(count, done);
        counter = k;
        receiver = new MessageReceiver(session, c.endpoint.address, "bench-receiver", {
          prefetch: c.credit,
          maxMessageSize: MAX_MESSAGE_SIZE,
          receiveSettleMode: c.settled ? ReceiverSettleMode.ReceiveAndDelete : ReceiverSettleMode.PeekLock,
          onMessageReceived: (m) => {
            if (!c.settled) void m.accept();
            k.add();
          },
        });
        await receiver.open({ timeout: OPEN_TIMEOUT_MS });
      },
      progress: () => counter?.progress() ?? { count: 0, endNs: 0 },
      async finish() {
        await receiver?.close();
        receiver = undefined;
      },
      async close() {
        await receiver?.close();
        await conn.close();
      },
    },
  };
}

/** A `ReceiveClient` per run, read with `for await` (autoComplete accepts each message in PeekLock). */
function clientReceiver(c: Extract<WorkerConfig, { role: "recv" }>): Promise<Setup> {
  let client: ReceiveClientT | undefined;
  let counter: Counter | undefined;
  let loop: Promise<void> | undefined;
  const stopRun = async (): Promise<void> => {
    const cl = client;
    client = undefined;
    await cl?.close();
    await loop;
  };
  return Promise.resolve({
    role: {
      async start(count, done, fail) {
        const k = new Counter(count, done);
        counter = k;
        const cl = new ReceiveClient(urlOf(c.endpoint), {
          prefetch: c.credit,
          maxFrameSize: c.maxFrameSize,
          maxMessageSize: MAX_MESSAGE_SIZE,
          receiveSettleMode: c.settled ? ReceiverSettleMode.ReceiveAndDelete : ReceiverSettleMode.PeekLock,
          reconnect: false,
          ...(c.endpoint.ca !== undefined ? { transport: { ca: c.endpoint.ca } } : {}),
        });
        client = cl;
        await cl.open({ timeout: OPEN_TIMEOUT_MS });
        loop = (async () => {
          for await (const _m of cl) {
            if (k.add()) break;
          }
        })().catch(fail);
      },
      progress: () => counter?.progress() ?? { count: 0, endNs: 0 },
      finish: stopRun,
      close: stopRun,
    },
  });
}

// ---- rhea -------------------------------------------------------------------------------------------

function rheaConnect(ep: Endpoint, maxFrameSize: number, id: string): Promise<rhea.Connection> {
  const container = rhea.create_container({ id });
  const options: rhea.ConnectionOptions = {
    host: ep.host,
    port: ep.port,
    max_frame_size: maxFrameSize,
    reconnect: false,
    // TCP_NODELAY, as our transport sets it: without it a request/response over rhea waits for the
    // peer's delayed ACK (Nagle's algorithm) and takes about 45 ms instead of a fraction of a ms.
    noDelay: true,
    ...(ep.ca !== undefined ? { transport: "tls", ca: ep.ca, servername: "localhost" } : {}),
  };
  const conn = container.connect(options);
  return new Promise((resolve, reject) => {
    conn.once("connection_open", () => resolve(conn));
    conn.once("connection_error", (ctx: rhea.EventContext) =>
      reject(new Error(JSON.stringify(ctx.connection.error))),
    );
    conn.once("disconnected", (ctx: rhea.EventContext) =>
      reject(new Error(`disconnected: ${String(ctx.error)}`)),
    );
  });
}

/** rhea's sender: `send({ body })` while `sendable()`. */
async function rheaSender(c: Extract<WorkerConfig, { role: "send" }>): Promise<Setup> {
  const conn = await rheaConnect(c.endpoint, c.maxFrameSize, "bench-rhea-sender");
  const sender = conn.open_sender({
    target: { address: c.endpoint.address },
    snd_settle_mode: c.settled ? 1 : 0,
  });
  await new Promise<void>((resolve) => sender.once("sendable", () => resolve()));
  const body = bodyOf(c.size);
  let onSendable: () => void = () => undefined;
  let onAccepted: () => void = () => undefined;
  let onFailed: (what: string) => void = () => undefined;
  sender.on("sendable", () => onSendable());
  sender.on("accepted", () => onAccepted());
  for (const what of ["rejected", "released", "modified"]) sender.on(what, () => onFailed(what));
  return {
    role: {
      start(count, done, fail) {
        let sent = 0;
        let accepted = 0;
        onFailed = (what) => fail(new Error(`a message was ${what}`));
        onAccepted = () => {
          if (++accepted === count) done({ count, endNs: nowNs() });
        };
        onSendable = () => {
          while (sent < count && sender.sendable()) {
            sender.send({ body: rhea.message.data_section(body) });
            sent++;
          }
          if (c.settled && sent === count) {
            onSendable = () => undefined;
            done({ count, endNs: nowNs() });
          }
        };
        onSendable();
        return Promise.resolve();
      },
      close: () => rheaClose(conn),
    },
  };
}

/** rhea's receiver: a link per run with `credit_window` and `autoaccept`. */
async function rheaReceiver(c: Extract<WorkerConfig, { role: "recv" }>): Promise<Setup> {
  const conn = await rheaConnect(c.endpoint, c.maxFrameSize, "bench-rhea-receiver");
  let receiver: rhea.Receiver | undefined;
  let counter: Counter | undefined;
  return {
    role: {
      start(count, done) {
        const k = new Counter(count, done);
        counter = k;
        const r = conn.open_receiver({
          source: { address: c.endpoint.address },
          credit_window: c.credit,
          // Also for pre-settled deliveries: rhea frees its session window only for locally settled ones.
          autoaccept: true,
          snd_settle_mode: c.settled ? 1 : 0,
        });
        receiver = r;
        r.on("message", () => {
          k.add();
        });
        return new Promise((resolve) => r.once("receiver_open", () => resolve()));
      },
      progress: () => counter?.progress() ?? { count: 0, endNs: 0 },
      async finish() {
        const r = receiver;
        receiver = undefined;
        if (!r) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          r.once("receiver_close", () => {
            clearTimeout(timer);
            resolve();
          });
          r.close();
        });
      },
      close: () => rheaClose(conn),
    },
  };
}

function rheaClose(conn: rhea.Connection): Promise<void> {
  return new Promise<void>((resolve) => {
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

/** The address of a terminus rhea reports (its typings say a string; a peer may have sent none). */
function addressOf(terminus: unknown, fallback: string): string {
  const a = (terminus as { address?: unknown } | undefined)?.address;
  return typeof a === "string" ? a : fallback;
}

/**
 * Sets the sender settle mode of a link rhea accepted, before rhea sends its ATTACH (the typings do
 * not show `local`).
 */
function settleMode(s: rhea.Sender, settled: boolean): void {
  (s as unknown as { local: { attach: { snd_settle_mode: number } } }).local.attach.snd_settle_mode = settled
    ? 1
    : 0;
}

/** `container.listen` on a free port of 127.0.0.1. */
async function rheaListen(
  container: rhea.Container,
  maxFrameSize?: number,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = container.listen({
    port: 0,
    host: "127.0.0.1",
    noDelay: true,
    ...(maxFrameSize !== undefined ? { max_frame_size: maxFrameSize } : {}),
  });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

// ---- listening peers --------------------------------------------------------------------------------

/** Our engine's accepting side, as the broker uses it (SASL ANONYMOUS or none). */
function engineServerConnection(maxFrameSize: number): AmqpConnection {
  return new engineConnection.AmqpConnection({
    role: "server",
    containerId: "bench-peer",
    maxFrameSize,
    saslServer: { mechanisms: ["ANONYMOUS"] },
  });
}

/** Receives on every link a peer attaches as a sender; settles each delivery `accepted`. */
async function sink(c: Extract<WorkerConfig, { role: "sink" }>): Promise<Setup> {
  let counter: Counter | undefined;
  const add = (): void => {
    counter?.add();
  };
  const role = (closeServer: () => Promise<void>): Role => ({
    start(count, done) {
      counter = new Counter(count, done);
      return Promise.resolve();
    },
    progress: () => counter?.progress() ?? { count: 0, endNs: 0 },
    close: closeServer,
  });
  if (c.lib === "engine") {
    const connections: AmqpConnection[] = [];
    const server = await listenTcp({ host: "127.0.0.1", port: 0 }, (transport) => {
      const conn = engineServerConnection(c.maxFrameSize);
      connections.push(conn);
      conn.onRemoteBegin = (session) => {
        session.onRemoteAttach = (attach) => {
          const address =
            attach.target?.type === "target" && typeof attach.target.address === "string"
              ? attach.target.address
              : "sink";
          const link = session.acceptLink(attach, { target: { address }, autoCredit: c.credit });
          if ("onDelivery" in link) {
            link.onDelivery = (d) => {
              if (!d.settled) link.settle(d);
              add();
            };
          }
        };
      };
      conn.start(transport);
    });
    return {
      port: server.port,
      role: role(async () => {
        await Promise.all(connections.map((x) => x.close()));
        await server.close();
      }),
    };
  }
  const container = rhea.create_container({
    id: "bench-rhea-sink",
    credit_window: c.credit,
  });
  container.on("receiver_open", (ctx: rhea.EventContext) => {
    const r = ctx.receiver!;
    r.set_target({ address: addressOf(r.target, "sink") });
  });
  container.on("message", add);
  const l = await rheaListen(container, c.maxFrameSize);
  return { port: l.port, role: role(l.close) };
}

/** Sends on the latest link a peer attached as a receiver, keeping up to `window` sends unanswered. */
async function source(c: Extract<WorkerConfig, { role: "source" }>): Promise<Setup> {
  if (c.lib === "engine") {
    const payload = dataMessage(c.size);
    let current: SenderLink | undefined;
    const connections: AmqpConnection[] = [];
    const server = await listenTcp({ host: "127.0.0.1", port: 0 }, (transport) => {
      const conn = engineServerConnection(c.maxFrameSize);
      connections.push(conn);
      conn.onRemoteBegin = (session) => {
        session.onRemoteAttach = (attach) => {
          const address = typeof attach.source?.address === "string" ? attach.source.address : "source";
          const link = session.acceptLink(attach, {
            source: { address },
            ...(attach.target?.type === "target" ? { target: attach.target } : {}),
            sndSettleMode: c.settled ? EngineSettleMode.Settled : EngineSettleMode.Unsettled,
          });
          if ("onCredit" in link) current = link;
        };
      };
      conn.start(transport);
    });
    return {
      port: server.port,
      role: {
        start(count, done, fail) {
          const link = current;
          if (!link) return Promise.reject(new Error("no receiving link attached"));
          let sent = 0;
          let landed = 0;
          let inFlight = 0;
          const onOutcome = (): void => {
            inFlight--;
            if (++landed === count) done({ count, endNs: nowNs() });
            else pump();
          };
          const pump = (): void => {
            while (inFlight < c.window && sent < count) {
              sent++;
              inFlight++;
              link.send(payload).then(onOutcome, fail);
            }
          };
          pump();
          return Promise.resolve();
        },
        async close() {
          await Promise.all(connections.map((x) => x.close()));
          await server.close();
        },
      },
    };
  }
  const body = bodyOf(c.size);
  const container = rhea.create_container({ id: "bench-rhea-source" });
  let current: rhea.Sender | undefined;
  let onSendable: () => void = () => undefined;
  let onAccepted: () => void = () => undefined;
  container.on("sender_open", (ctx: rhea.EventContext) => {
    const s = ctx.sender!;
    s.set_source({ address: addressOf(s.source, "source") });
    settleMode(s, c.settled);
    current = s;
  });
  container.on("sendable", () => onSendable());
  container.on("accepted", () => onAccepted());
  const l = await rheaListen(container, c.maxFrameSize);
  return {
    port: l.port,
    role: {
      start(count, done) {
        const s = current;
        if (!s) return Promise.reject(new Error("no receiving link attached"));
        let sent = 0;
        let accepted = 0;
        onAccepted = () => {
          if (++accepted === count) done({ count, endNs: nowNs() });
        };
        onSendable = () => {
          while (sent < count && s.sendable()) {
            s.send({ body: rhea.message.data_section(body) });
            sent++;
          }
          if (c.settled && sent === count) {
            onSendable = () => undefined;
            done({ count, endNs: nowNs() });
          }
        };
        onSendable();
        return Promise.resolve();
      },
      close: l.close,
    },
  };
}

// ---- request / response -----------------------------------------------------------------------------

/** The outcome of an answer (sent pre-settled): only a failure is worth a word. */
const ANSWER_RECEIPT = {
  settled(): void {},
  failed(_context: unknown, error: unknown): void {
    console.error(error);
  },
};

/** Answers every request on the link its reply-to names (attached by the requester beforehand). */
async function responder(c: Extract<WorkerConfig, { role: "responder" }>): Promise<Setup> {
  const idle: Role = {
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  if (c.lib === "engine") {
    const replyLinks = new Map<string, SenderLink>();
    const connections: AmqpConnection[] = [];
    const server = await listenTcp({ host: "127.0.0.1", port: 0 }, (transport) => {
      const conn = engineServerConnection(65536);
      connections.push(conn);
      conn.onRemoteBegin = (session) => {
        session.onRemoteAttach = (attach) => {
          if (attach.role) {
            const address = typeof attach.source?.address === "string" ? attach.source.address : "";
            const link = session.acceptLink(attach, {
              source: { address },
              sndSettleMode: EngineSettleMode.Settled,
            });
            if ("onCredit" in link) replyLinks.set(address, link);
            return;
          }
          const link = session.acceptLink(attach, { target: { address: "requests" }, autoCredit: 100 });
          if (!("onDelivery" in link)) return;
          link.onDelivery = (d) => {
            const request = MessageClass.decode(d.payload);
            link.settle(d);
            const to = request.properties?.replyTo;
            const out = to !== undefined ? replyLinks.get(to) : undefined;
            if (!out) return;
            const answer = new MessageClass({
              body: request.data?.[0],
              properties: { correlationId: request.properties?.messageId },
            });
            // Encoded straight into the frame, without a promise (the engine's `transfer`).
            out.transfer(answer, answer.encodedSize, ANSWER_RECEIPT, undefined);
          };
        };
      };
      conn.start(transport);
    });
    return {
      port: server.port,
      role: {
        ...idle,
        async close() {
          await Promise.all(connections.map((x) => x.close()));
          await server.close();
        },
      },
    };
  }
  const container = rhea.create_container({
    id: "bench-rhea-responder",
    credit_window: 100,
  });
  const replySenders = new Map<string, rhea.Sender>();
  container.on("sender_open", (ctx: rhea.EventContext) => {
    const s = ctx.sender!;
    const address = addressOf(s.source, "");
    s.set_source({ address });
    settleMode(s, true);
    replySenders.set(address, s);
  });
  container.on("receiver_open", (ctx: rhea.EventContext) => {
    ctx.receiver!.set_target({ address: "requests" });
  });
  container.on("message", (ctx: rhea.EventContext) => {
    const m = ctx.message!;
    const out = m.reply_to !== undefined ? replySenders.get(m.reply_to) : undefined;
    out?.send({ ...(m.message_id !== undefined ? { correlation_id: m.message_id } : {}), body: m.body });
  });
  const l = await rheaListen(container);
  return { port: l.port, role: { ...idle, close: l.close } };
}

/** Sends requests one at a time; a round trip ends when both the answer and the request's outcome are in. */
async function requester(c: Extract<WorkerConfig, { role: "requester" }>): Promise<Setup> {
  const replyTo = `replies-${process.pid}`;
  const body = bodyOf(c.size);
  if (c.lib === "low") {
    const { conn, session } = await lowConnection(c.endpoint, 65536);
    const sender = new MessageSender(session, "bench-requester", c.endpoint.address);
    let answered: ((m: Message) => void) | undefined;
    const receiver = new MessageReceiver(session, replyTo, "bench-requester", {
      receiveSettleMode: ReceiverSettleMode.ReceiveAndDelete,
      prefetch: 100,
      onMessageReceived: (m) => answered?.(m),
    });
    await Promise.all([
      sender.open({ timeout: OPEN_TIMEOUT_MS }),
      receiver.open({ timeout: OPEN_TIMEOUT_MS }),
    ]);
    return {
      role: {
        start(count, done, fail) {
          void (async () => {
            const latencies: number[] = [];
            for (let i = 0; i < count; i++) {
              const id = `request-${i}`;
              const t0 = process.hrtime.bigint();
              const answer = new Promise<Message>((resolve) => (answered = resolve));
              const [outcome, m] = await Promise.all([
                sender.send(new MessageClass({ body, properties: { messageId: id, replyTo } })),
                answer,
              ]);
              latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
              if (outcome.result !== MessageSendResult.Ok) throw new Error(`request ${i}: ${outcome.result}`);
              if (m.properties?.correlationId !== id)
                throw new Error(`request ${i}: answer to ${inspect(m.properties?.correlationId)}`);
            }
            done({ count, endNs: nowNs(), latenciesUs: latencies });
          })().catch(fail);
          return Promise.resolve();
        },
        async close() {
          await Promise.all([sender.close(), receiver.close()]);
          await conn.close();
        },
      },
    };
  }
  const conn = await rheaConnect(c.endpoint, 65536, "bench-rhea-requester");
  const sender = conn.open_sender({ target: { address: c.endpoint.address } });
  const receiver = conn.open_receiver({
    source: { address: replyTo },
    credit_window: 100,
    // The answers come settled; rhea frees its session window only for deliveries settled here too.
    autoaccept: true,
    snd_settle_mode: 1,
  });
  await Promise.all([
    new Promise<void>((resolve) => sender.once("sendable", () => resolve())),
    new Promise<void>((resolve) => receiver.once("receiver_open", () => resolve())),
  ]);
  let onAccepted: () => void = () => undefined;
  let onAnswer: (m: rhea.Message) => void = () => undefined;
  sender.on("accepted", () => onAccepted());
  receiver.on("message", (ctx: rhea.EventContext) => onAnswer(ctx.message!));
  return {
    role: {
      start(count, done, fail) {
        void (async () => {
          const latencies: number[] = [];
          for (let i = 0; i < count; i++) {
            const id = `request-${i}`;
            const t0 = process.hrtime.bigint();
            const accepted = new Promise<void>((resolve) => (onAccepted = resolve));
            const answer = new Promise<rhea.Message>((resolve) => (onAnswer = resolve));
            sender.send({ message_id: id, reply_to: replyTo, body: rhea.message.data_section(body) });
            const [, m] = await Promise.all([accepted, answer]);
            latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
            if (m.correlation_id !== id)
              throw new Error(`request ${i}: answer to ${String(m.correlation_id)}`);
          }
          done({ count, endNs: nowNs(), latenciesUs: latencies });
        })().catch(fail);
        return Promise.resolve();
      },
      close: () => rheaClose(conn),
    },
  };
}

/** Raw TCP echo server (the floor of request/response on this machine). */
async function tcpEcho(): Promise<Setup> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on("data", (d) => s.write(d));
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : 0,
    role: {
      start: () => Promise.resolve(),
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    },
  };
}

async function tcpPing(c: Extract<WorkerConfig, { role: "tcp-ping" }>): Promise<Setup> {
  const socket = connect({ host: c.endpoint.host, port: c.endpoint.port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const ping = bodyOf(c.size);
  let pending = 0;
  let back: () => void = () => undefined;
  socket.on("data", (d) => {
    pending -= d.length;
    if (pending <= 0) back();
  });
  return {
    role: {
      start(count, done, fail) {
        void (async () => {
          const latencies: number[] = [];
          for (let i = 0; i < count; i++) {
            const t0 = process.hrtime.bigint();
            pending = ping.length;
            await new Promise<void>((resolve) => {
              back = resolve;
              socket.write(ping);
            });
            latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
          }
          done({ count, endNs: nowNs(), latenciesUs: latencies });
        })().catch(fail);
        return Promise.resolve();
      },
      close: () => {
        socket.destroy();
        return Promise.resolve();
      },
    },
  };
}

// ---- rhea's server as a broker ----------------------------------------------------------------------

/**
 * A simple queue broker on rhea's `container.listen`: a message is accepted when it arrives and kept
 * in its address's FIFO; consumers of the address get messages round robin as their credit allows,
 * unsettled; an accepted delivery is done, a released or modified one goes back to the queue.
 */
async function rheaBroker(c: Extract<WorkerConfig, { role: "rhea-broker" }>): Promise<Setup> {
  interface Queue {
    readonly items: rhea.Message[];
    head: number;
    readonly consumers: rhea.Sender[];
    next: number;
  }
  const queues = new Map<string, Queue>();
  const queueOf = (address: string): Queue => {
    let q = queues.get(address);
    if (!q) queues.set(address, (q = { items: [], head: 0, consumers: [], next: 0 }));
    return q;
  };
  const dispatch = (q: Queue): void => {
    while (q.head < q.items.length && q.consumers.length > 0) {
      let sent = false;
      for (let tries = 0; tries < q.consumers.length && q.head < q.items.length; tries++) {
        const s = q.consumers[q.next++ % q.consumers.length]!;
        if (!s.sendable()) continue;
        const m = q.items[q.head]!;
        q.items[q.head++] = undefined as unknown as rhea.Message;
        const d = s.send(m) as rhea.Delivery & { benchMessage?: rhea.Message };
        d.benchMessage = m;
        sent = true;
      }
      if (!sent) break;
    }
    if (q.head > 4096 && q.head * 2 > q.items.length) {
      q.items.splice(0, q.head);
      q.head = 0;
    }
  };
  const container = rhea.create_container({
    id: "bench-rhea-broker",
    credit_window: c.credit,
  });
  container.sasl_server_mechanisms.enable_anonymous();
  container.on("receiver_open", (ctx: rhea.EventContext) => {
    const r = ctx.receiver!;
    r.set_target({ address: addressOf(r.target, "") });
  });
  container.on("sender_open", (ctx: rhea.EventContext) => {
    const s = ctx.sender!;
    const address = addressOf(s.source, "");
    s.set_source({ address });
    queueOf(address).consumers.push(s);
  });
  const forget = (ctx: rhea.EventContext): void => {
    const s = ctx.sender;
    if (!s) return;
    for (const q of queues.values()) {
      const i = q.consumers.indexOf(s);
      if (i >= 0) q.consumers.splice(i, 1);
    }
  };
  container.on("sender_close", forget);
  container.on("message", (ctx: rhea.EventContext) => {
    const q = queueOf(addressOf(ctx.receiver!.target, ""));
    q.items.push(ctx.message!);
    dispatch(q);
  });
  container.on("sendable", (ctx: rhea.EventContext) => {
    dispatch(queueOf(addressOf(ctx.sender!.source, "")));
  });
  const requeue = (ctx: rhea.EventContext): void => {
    const m = (ctx.delivery as (rhea.Delivery & { benchMessage?: rhea.Message }) | undefined)?.benchMessage;
    if (!m) return;
    const q = queueOf(addressOf(ctx.sender!.source, ""));
    q.items.push(m);
    dispatch(q);
  };
  container.on("released", requeue);
  container.on("modified", requeue);
  const l = await rheaListen(container);
  return { port: l.port, role: { start: () => Promise.resolve(), close: l.close } };
}

// ---- the command loop -------------------------------------------------------------------------------

async function setUp(c: WorkerConfig): Promise<Setup> {
  switch (c.role) {
    case "send":
      if (c.lib === "low") return lowSender(c);
      if (c.lib === "client") return clientSender(c);
      if (c.lib === "rhea") return rheaSender(c);
      if (c.lib === "engine") return engineSender(c);
      break;
    case "recv":
      if (c.lib === "low") return lowReceiver(c);
      if (c.lib === "client") return clientReceiver(c);
      if (c.lib === "rhea") return rheaReceiver(c);
      if (c.lib === "engine") return engineReceiver(c);
      break;
    case "sink":
      return sink(c);
    case "source":
      return source(c);
    case "responder":
      return responder(c);
    case "requester":
      return requester(c);
    case "tcp-echo":
      return tcpEcho();
    case "tcp-ping":
      return tcpPing(c);
    case "rhea-broker":
      return rheaBroker(c);
  }
  throw new Error(`no worker for ${JSON.stringify(c)}`);
}

let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ["gc"] });

function eldOf(h: IntervalHistogram, busiest: BusiestTurn): EventLoopDelay {
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  return {
    mean: ms(h.mean),
    p50: ms(h.percentile(50)),
    p99: ms(h.percentile(99)),
    max: ms(h.max),
    samples: h.count,
    busiestTurnCpuMs: Math.round(busiest.stop() * 100) / 100,
  };
}

/**
 * The main thread's CPU time so far, in ms: from Linux's `/proc/thread-self/schedstat` (nanoseconds
 * on a CPU; opened here, on the main thread, so the descriptor stays that thread's), else the
 * process's CPU time (every thread, GC helpers too).
 */
const mainThreadCpuMs: () => number = (() => {
  try {
    const fd = openSync("/proc/thread-self/schedstat", "r");
    const buf = Buffer.alloc(64);
    const read = (): number => {
      const n = readSync(fd, buf, 0, buf.length, 0);
      return Number(buf.toString("latin1", 0, n).split(" ")[0]) / 1e6;
    };
    if (Number.isFinite(read())) return read;
  } catch {
    // Not Linux: the process's CPU time.
  }
  return () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
})();

/**
 * The longest the event loop was held, in the main thread's CPU time: between ticks of a 1 ms timer,
 * at most the wall time between them. Unlike the delay itself it does not grow while other processes
 * have the cores, so it tells a long synchronous stretch from a loaded machine.
 */
class BusiestTurn {
  #max = 0;
  #lastMs = performance.now();
  #lastCpuMs = mainThreadCpuMs();
  readonly #timer = setInterval(() => {
    const now = performance.now();
    const cpuMs = mainThreadCpuMs();
    this.#max = Math.max(this.#max, Math.min(now - this.#lastMs, cpuMs - this.#lastCpuMs));
    this.#lastMs = now;
    this.#lastCpuMs = cpuMs;
  }, 1);

  /** Stops the timer; the longest turn seen, in ms. */
  stop(): number {
    clearInterval(this.#timer);
    return this.#max;
  }
}

/**
 * With `BENCH_COUNT_ASYNC=1`, every async resource created during a measured run is counted by type
 * (promises, timers, ticks, immediates): what a message costs beyond CPU time.
 */
const asyncCounts = new Map<string, number>();
let countingAsync = false;
if (process.env["BENCH_COUNT_ASYNC"] === "1") {
  createHook({
    init(_id, type) {
      if (countingAsync) asyncCounts.set(type, (asyncCounts.get(type) ?? 0) + 1);
    },
  }).enable();
}

/** With `BENCH_WINDOWS_FILE` set (profiling), the measured windows are written there (µs, monotonic). */
const windowsFile = process.env["BENCH_WINDOWS_FILE"];
const windows: [number, number][] = [];

async function main(): Promise<void> {
  const { role, port } = await setUp(config);
  const readyRssKiB = Math.round(process.memoryUsage().rss / 1024);
  reply({ ready: port !== undefined ? { port } : {} });
  let run:
    | {
        startNs: number;
        cpu: NodeJS.CpuUsage;
        gcCount: number;
        gcMs: number;
        minorFaults: number;
        waits: number;
        io: { reads: number; writes: number };
        warmup: boolean;
      }
    | undefined;
  let histogram: IntervalHistogram | undefined;
  const fail = (e: unknown): void => {
    reply({ error: asError(e).stack ?? String(e) });
    process.exit(1);
  };
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const command = JSON.parse(line) as Command;
    switch (command.cmd) {
      case "run": {
        let busiest: BusiestTurn | undefined;
        if ("eld" in config && config.eld) {
          histogram = monitorEventLoopDelay({ resolution: 1 });
          histogram.enable();
          busiest = new BusiestTurn();
          // The histogram records from its second tick on (its first only starts the clock): let
          // ticks pass first, so that a synchronous stretch at the very start of the run (SendClient
          // queueing every message) is counted.
          await new Promise((r) => setTimeout(r, 5));
        }
        if (MARK_RUNS) process.stdout.write(`=== run ${command.warmup === true ? "warm-up" : "measured"}\n`);
        const startNs = nowNs();
        run = {
          startNs,
          cpu: process.cpuUsage(),
          gcCount,
          gcMs,
          minorFaults: process.resourceUsage().minorPageFault,
          waits: process.resourceUsage().voluntaryContextSwitches,
          io: ioCalls(),
          warmup: command.warmup === true,
        };
        asyncCounts.clear();
        countingAsync = true;
        const h = histogram;
        const startCpuUs = run.cpu.user + run.cpu.system;
        let finished = false;
        await role.start(
          command.count,
          ({ firstCpuUs, ...d }) => {
            if (finished) return;
            finished = true;
            const setup = firstCpuUs === undefined ? {} : { setupCpuUs: firstCpuUs - startCpuUs };
            if (!h || !busiest) {
              const out: Done = { ...d, ...setup, startNs };
              reply({ done: out });
              return;
            }
            // Both see a stretch at their next tick only: let ticks pass, so that a long step that
            // ended the run (the last frame of a large message, and handing it over) is counted.
            setTimeout(() => {
              h.disable();
              const out: Done = { ...d, ...setup, startNs, eld: eldOf(h, busiest) };
              reply({ done: out });
            }, 5);
          },
          fail,
        );
        reply({ armed: true });
        break;
      }
      case "progress":
        reply({ progress: role.progress?.().count ?? 0 });
        break;
      case "end": {
        const r = run;
        if (!r) throw new Error("end without run");
        const cpu = process.cpuUsage(r.cpu);
        if (MARK_RUNS) process.stdout.write("=== end of run\n");
        countingAsync = false;
        const endedAt = nowNs();
        const io = ioCalls();
        const p = role.progress?.();
        histogram?.disable();
        histogram = undefined;
        if (windowsFile !== undefined && !r.warmup) windows.push([r.startNs / 1000, endedAt / 1000]);
        reply({
          ended: {
            cpuUs: cpu.user + cpu.system,
            systemUs: cpu.system,
            maxRssKiB: process.resourceUsage().maxRSS,
            readyRssKiB,
            gcCount: gcCount - r.gcCount,
            gcMs: Math.round((gcMs - r.gcMs) * 10) / 10,
            minorFaults: process.resourceUsage().minorPageFault - r.minorFaults,
            readCalls: io.reads - r.io.reads,
            writeCalls: io.writes - r.io.writes,
            waits: process.resourceUsage().voluntaryContextSwitches - r.waits,
            ...(p ? { count: p.count, endNs: p.endNs } : {}),
            ...(asyncCounts.size > 0 ? { asyncResources: Object.fromEntries(asyncCounts) } : {}),
          },
        });
        await role.finish?.();
        run = undefined;
        break;
      }
      case "stop":
        await role.close();
        if (windowsFile !== undefined) writeFileSync(windowsFile, JSON.stringify(windows));
        reply({ stopped: true });
        process.exit(0);
    }
  }
  // stdin closed: the parent is gone.
  await role.close();
  process.exit(0);
}

main().catch((e: unknown) => {
  reply({ error: asError(e).stack ?? String(e) });
  process.exit(1);
});
