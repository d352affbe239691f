/**
 * rhea as the client of the embedded broker in tests: promise helpers to connect, attach, collect
 * messages and close, each waiting at most `WAIT_MS` so a broken broker fails instead of hanging.
 */
import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import { after } from "node:test";
import rhea from "rhea";
import { Broker, type BrokerOptions } from "../../src/broker/index.js";

export const WAIT_MS = 10_000;

type Ctx = rhea.EventContext;
/** A rhea link (sender or receiver). */
export type Link = rhea.Sender | rhea.Receiver;

/** The credit a rhea receiver holds (not in rhea's typings). */
export function creditOf(r: rhea.Receiver): number {
  return (r as unknown as { credit: number }).credit;
}

/** Resolves with the context of the first `ok` event, rejects on the first `fail` event (or time-out). */
export function waitEvent(
  emitter: EventEmitter | rhea.Connection | Link,
  ok: string,
  fail: readonly string[] = [],
  timeoutMs = WAIT_MS,
): Promise<Ctx> {
  const e = emitter as unknown as EventEmitter;
  return new Promise<Ctx>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      e.removeListener(ok, onOk);
      for (const f of fail) e.removeListener(f, onFail);
    };
    const onOk = (ctx: Ctx): void => {
      cleanup();
      resolve(ctx);
    };
    const onFail = (ctx: Ctx): void => {
      cleanup();
      const err = (ctx as { error?: unknown }).error;
      const remote = ctx.receiver?.error ?? ctx.sender?.error ?? ctx.connection.error;
      reject(Object.assign(new Error(`${fail.join("/")} instead of ${ok}`), { amqp: err ?? remote }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${ok}`));
    }, timeoutMs);
    e.on(ok, onOk);
    for (const f of fail) e.on(f, onFail);
  });
}

/** Opens a rhea connection to the broker (no SASL unless username/password are given). */
export async function connect(
  port: number,
  options: Partial<rhea.ConnectionOptions> = {},
): Promise<rhea.Connection> {
  const container = rhea.create_container();
  // Link and connection errors nobody listens for reach the container: keep them from throwing.
  container.on("error", () => undefined);
  const conn = container.connect({ host: "127.0.0.1", port, reconnect: false, ...options });
  conn.on("error", () => undefined);
  noticeSocketClose(conn);
  await waitEvent(conn, "connection_open", ["connection_error", "disconnected"]);
  return conn;
}

/**
 * rhea notices a lost socket by its `end` and `error` events only, not by `close`: a socket destroyed
 * on our side (as tests do to drop a consumer) leaves its heartbeat timers (armed from the broker's
 * idle time-out, and not unref'd) running for good, which keeps the test process alive. Telling rhea
 * at `close` stops them; `disconnected` gets a listener so that rhea does not print a warning.
 */
function noticeSocketClose(conn: rhea.Connection): void {
  const c = conn as unknown as { socket?: EventEmitter; eof?: () => void };
  conn.on("disconnected", () => undefined);
  c.socket?.once("close", () => {
    c.eof?.();
  });
}

/** Closes a rhea connection and waits until the socket is gone. */
export async function close(conn: rhea.Connection): Promise<void> {
  const e = conn as unknown as EventEmitter;
  if (conn.is_open()) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        e.removeListener("disconnected", done);
        e.removeListener("connection_close", done);
        resolve();
      };
      const timer = setTimeout(done, 5000);
      e.on("disconnected", done);
      e.on("connection_close", done);
      conn.close();
    });
  } else {
    conn.close();
  }
  const socket = (conn as unknown as { socket?: { destroy?: () => void } }).socket;
  if (typeof socket?.destroy === "function") socket.destroy();
}

/** The error of the link a rhea event is about, as `{ condition, description, info }`. */
export function linkError(ctx: Ctx): {
  condition: string | undefined;
  description: string | undefined;
  info: unknown;
} {
  const e = (ctx.sender ?? ctx.receiver)?.error as
    { condition?: string; description?: string; info?: unknown } | undefined;
  return { condition: e?.condition, description: e?.description, info: e?.info };
}

/** The remote ATTACH of a rhea link. */
function remoteAttach(l: Link): { source?: unknown; target?: unknown } | undefined {
  return (l as unknown as { remote: { attach?: { source?: unknown; target?: unknown } } }).remote.attach;
}

/** Waits for a link's attach; a refusal (null terminus then detach with an error) rejects. */
async function attached(l: Link, prefix: "sender" | "receiver"): Promise<void> {
  const e = l as unknown as EventEmitter;
  let error: Ctx | undefined;
  const onError = (ctx: Ctx): void => {
    error = ctx;
  };
  e.on(`${prefix}_error`, onError);
  try {
    await waitEvent(l, `${prefix}_open`, [`${prefix}_error`, `${prefix}_close`]);
    const a = remoteAttach(l);
    const terminus = prefix === "sender" ? a?.target : a?.source;
    // rhea keeps a null terminus as a typed null.
    const isNull =
      terminus === undefined ||
      terminus === null ||
      (terminus as { type?: { name?: string } }).type?.name === "Null";
    if (isNull) {
      const ctx = error ?? (await waitEvent(l, `${prefix}_error`));
      throw Object.assign(new Error("attach refused"), { amqp: linkError(ctx) });
    }
  } finally {
    e.removeListener(`${prefix}_error`, onError);
  }
}

/** Attaches a sender and waits until the broker answered (rejects when refused). */
export async function openSender(
  conn: rhea.Connection,
  options: rhea.SenderOptions | string,
): Promise<rhea.Sender> {
  const s = conn.open_sender(options);
  await attached(s, "sender");
  return s;
}

/** Attaches a receiver and waits until the broker answered (rejects when refused). */
export async function openReceiver(
  conn: rhea.Connection,
  options: rhea.ReceiverOptions | string,
): Promise<rhea.Receiver> {
  const r = conn.open_receiver(options);
  await attached(r, "receiver");
  return r;
}

/** The error a refused attach reports (the rejection of openSender/openReceiver). */
export async function attachError(
  p: Promise<unknown>,
): Promise<{ condition?: string | undefined; description?: string | undefined; info?: unknown }> {
  try {
    await p;
  } catch (e) {
    return (e as { amqp?: unknown }).amqp ?? {};
  }
  throw new Error("the attach was not refused");
}

/** Collects the next `n` messages of a receiver. */
export function collect(receiver: rhea.Receiver, n: number, timeoutMs = WAIT_MS): Promise<Ctx[]> {
  const got: Ctx[] = [];
  const e = receiver as unknown as EventEmitter;
  return new Promise<Ctx[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      e.removeListener("message", onMessage);
      reject(new Error(`timed out after ${got.length} of ${n} messages`));
    }, timeoutMs);
    const onMessage = (ctx: Ctx): void => {
      got.push(ctx);
      if (got.length === n) {
        clearTimeout(timer);
        e.removeListener("message", onMessage);
        resolve(got);
      }
    };
    if (n === 0) {
      clearTimeout(timer);
      resolve(got);
      return;
    }
    e.on("message", onMessage);
  });
}

/** Resolves when no message arrives on `receiver` for `ms` (returns what did arrive). */
export function quiet(receiver: rhea.Receiver, ms: number): Promise<Ctx[]> {
  const got: Ctx[] = [];
  const e = receiver as unknown as EventEmitter;
  const onMessage = (ctx: Ctx): void => {
    got.push(ctx);
  };
  e.on("message", onMessage);
  return new Promise<Ctx[]>((resolve) => {
    setTimeout(() => {
      e.removeListener("message", onMessage);
      resolve(got);
    }, ms);
  });
}

/** Sends messages and resolves when each is settled; returns the outcome events ("accepted" …). */
export function sendAll(
  sender: rhea.Sender,
  messages: readonly rhea.Message[],
  timeoutMs = WAIT_MS,
): Promise<string[]> {
  const outcomes: string[] = [];
  const e = sender as unknown as EventEmitter;
  return new Promise<string[]>((resolve, reject) => {
    let next = 0;
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${outcomes.length} of ${messages.length} outcomes`));
    }, timeoutMs);
    const record = (kind: string) => (): void => {
      outcomes.push(kind);
      if (outcomes.length === messages.length) {
        done();
        resolve(outcomes);
      }
    };
    const handlers: Record<string, () => void> = {
      accepted: record("accepted"),
      rejected: record("rejected"),
      released: record("released"),
      modified: record("modified"),
    };
    const pump = (): void => {
      while (next < messages.length && sender.sendable()) sender.send(messages[next++]!);
    };
    const done = (): void => {
      clearTimeout(timer);
      for (const [k, h] of Object.entries(handlers)) e.removeListener(k, h);
      e.removeListener("sendable", pump);
    };
    for (const [k, h] of Object.entries(handlers)) e.on(k, h);
    e.on("sendable", pump);
    pump();
  });
}

export { until } from "../support/waits.js";

/** One message sent to `address` on `conn` and received back: the broker serves this client. */
export async function roundTrip(
  conn: rhea.Connection,
  address: string,
  body = "still serving",
): Promise<void> {
  const r = await openReceiver(conn, address);
  const got = collect(r, 1);
  assert.deepEqual(await sendAll(await openSender(conn, address), [{ body }]), ["accepted"]);
  assert.equal((await got)[0]!.message?.body, body);
}

/**
 * The median of `n` round trips of one message from `sender` to `receiver` (attached to the same
 * queue), `before` called before each: for "another client's round trip stays within 2x its quiet
 * value" under a storm that `before` keeps up.
 */
export async function medianRoundTrip(
  sender: rhea.Sender,
  receiver: rhea.Receiver,
  n: number,
  before: () => void,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    before();
    const started = performance.now();
    const got = collect(receiver, 1, 60_000);
    assert.deepEqual(await sendAll(sender, [{ body: i }], 60_000), ["accepted"]);
    await got;
    times.push(performance.now() - started);
  }
  return times.sort((x, y) => x - y)[n >> 1]!;
}

/** Brokers and rhea connections of a test suite, all closed after it (see {@link brokerFixture}). */
export interface BrokerFixture {
  /** Starts a broker and connects rhea to it. */
  readonly setup: (options?: BrokerOptions) => Promise<{ b: Broker; c: rhea.Connection }>;
  /** Closes `x` (a broker or a rhea connection) after the suite too; returns it. */
  readonly keep: <T extends Broker | rhea.Connection>(x: T) => T;
}

/** Call inside a `describe`: registers an `after` hook that closes what the suite opened. */
export function brokerFixture(): BrokerFixture {
  const brokers: Broker[] = [];
  const conns: rhea.Connection[] = [];
  after(async () => {
    for (const c of conns) await close(c);
    for (const b of brokers) await b.close();
  });
  const keep = <T extends Broker | rhea.Connection>(x: T): T => {
    if (x instanceof Broker) brokers.push(x);
    else conns.push(x);
    return x;
  };
  return {
    keep,
    setup: async (options) => {
      const b = keep(await Broker.start(options));
      const c = keep(await connect(b.port!));
      return { b, c };
    },
  };
}
