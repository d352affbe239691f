/**
 * A frame-level script peer over an in-memory transport pair, for connection edge cases: the test
 * writes exactly the protocol headers and frames it wants (including invalid ones) and reads back
 * every header and frame the engine wrote, decoded. Nothing is answered automatically, except that
 * a protocol header is expected again after a SASL outcome arrives (the peer acting as a client).
 */
import assert from "node:assert/strict";
import { Decoder } from "../../src/codec/decoder.js";
import type { CompositeType } from "../../src/codec/composite.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import type { AMQPError } from "../../src/errors/amqp-error.js";
import { AMQPConnectionError } from "../../src/errors/exceptions.js";
import type { ConnectionOptions } from "../../src/engine/options.js";
import { FrameReader, FrameType } from "../../src/frames/frame-reader.js";
import { writeCompositeFrame } from "../../src/frames/frame-writer.js";
import {
  Attach,
  Begin,
  Close,
  Detach,
  Disposition,
  End,
  Flow,
  Open,
  PerformativeCode as P,
  PerformativeName,
  readPerformativeCode,
  SaslChallenge,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  SaslResponse,
  Transfer,
  type OpenFields,
} from "../../src/frames/performatives.js";
import { ProtocolId, type ProtocolHeader } from "../../src/frames/protocol-header.js";
import { createMemoryTransportPair } from "../../src/transport/memory.js";
import type { Transport } from "../../src/transport/transport.js";
import { ByteWriter } from "../../src/util/byte-writer.js";

const BY_CODE: Record<number, CompositeType<object>> = {
  [P.Open]: Open,
  [P.Begin]: Begin,
  [P.Attach]: Attach,
  [P.Flow]: Flow,
  [P.Transfer]: Transfer,
  [P.Disposition]: Disposition,
  [P.Detach]: Detach,
  [P.End]: End,
  [P.Close]: Close,
  [P.SaslMechanisms]: SaslMechanisms,
  [P.SaslInit]: SaslInit,
  [P.SaslChallenge]: SaslChallenge,
  [P.SaslResponse]: SaslResponse,
  [P.SaslOutcome]: SaslOutcome,
};

/** How long a wait may take before the script reports a hang. */
export const HANG_MS = 2000;

/** One frame the engine wrote, decoded. */
export interface ScriptFrame {
  /** 0 = AMQP, 1 = SASL. */
  readonly type: number;
  readonly channel: number;
  readonly code: number;
  /** e.g. "OPEN", "SASL-OUTCOME". */
  readonly name: string;
  readonly fields: Record<string, unknown>;
}

/** The `error` field of a CLOSE, END or DETACH the engine wrote. */
export function frameError(f: ScriptFrame): { condition: string; description?: string } | undefined {
  return f.fields["error"] as { condition: string; description?: string } | undefined;
}

/** Rejects with a "hang" error when `p` does not settle within `ms`. */
export async function within<T>(p: Promise<T>, what: string, ms = HANG_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`hang: ${what} did not settle within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Marks `p` as handled now (it may reject before the test looks at it) and returns it. */
export function observe<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** The rejection reason of `p` (fails when `p` resolves, or hangs). */
export async function rejectionOf(p: Promise<unknown>, what: string): Promise<unknown> {
  const r = await within(
    p.then(
      () => ({ resolved: true as const }),
      (error: unknown) => ({ resolved: false as const, error }),
    ),
    what,
  );
  if (r.resolved) throw new Error(`${what} resolved; expected a rejection`);
  return r.error;
}

/** The peer end of a pair: records what the engine writes, writes what the test scripts. */
export class FrameScript {
  readonly transport: Transport;
  readonly headers: ProtocolHeader[] = [];
  readonly frames: ScriptFrame[] = [];
  /** Empty frames received. */
  heartbeats = 0;
  /** Set once the transport closed. */
  closedWith: { error: Error | undefined } | undefined;
  /** What the engine wrote that this script could not parse, if anything. */
  parseError: unknown;
  readonly #reader: FrameReader;
  readonly #w = new ByteWriter(256);
  readonly #listeners = new Set<() => void>();

  constructor(transport: Transport) {
    this.transport = transport;
    this.#reader = new FrameReader(
      {
        onProtocolHeader: (h) => {
          this.headers.push(h);
          this.#changed();
        },
        onFrame: (type, channel, buf, start, end) => {
          this.#onFrame(type, channel, buf, start, end);
        },
      },
      1 << 24,
    );
    this.#reader.expectProtocolHeader();
    transport.setHandler({
      onData: (chunk) => {
        try {
          this.#reader.push(chunk);
        } catch (e) {
          this.parseError = e;
          this.#reader.stop();
        }
      },
      onDrain: () => undefined,
      onClose: (error) => {
        this.closedWith = { error };
        this.#changed();
      },
    });
  }

  /** The next 8 bytes from the engine are a protocol header. */
  expectHeader(): void {
    this.#reader.expectProtocolHeader();
  }

  /** Writes a protocol header (any id and version). */
  header(id: number, major = 1, minor = 0, revision = 0): void {
    this.raw(Buffer.from([0x41, 0x4d, 0x51, 0x50, id, major, minor, revision]));
  }

  /** Writes one frame (type 0 = AMQP, 1 = SASL). */
  frame<T extends object>(channel: number, composite: CompositeType<T>, value: T, type = 0): void {
    this.#w.reset();
    writeCompositeFrame(this.#w, type, channel, composite, value);
    this.raw(this.#w.toBuffer());
  }

  /** Writes one SASL frame. */
  sasl<T extends object>(composite: CompositeType<T>, value: T): void {
    this.frame(0, composite, value, FrameType.Sasl);
  }

  raw(bytes: Uint8Array): void {
    this.transport.write(bytes);
  }

  /** Waits for the first frame matching `pred` (fails rather than hangs). */
  frameWhere(pred: (f: ScriptFrame) => boolean, what: string): Promise<ScriptFrame> {
    return this.#until(() => this.frames.find(pred), what);
  }

  /** Waits for the first frame named `name` (e.g. "CLOSE"). */
  frameNamed(name: string): Promise<ScriptFrame> {
    return this.frameWhere((f) => f.name === name, `a ${name} frame`);
  }

  /** Waits for the `n`th protocol header (1-based). */
  headerNo(n: number): Promise<ProtocolHeader> {
    return this.#until(() => this.headers[n - 1], `protocol header #${n}`);
  }

  /** Waits until the transport is closed. */
  async ended(): Promise<void> {
    await this.#until(() => this.closedWith, "the transport to close");
  }

  /** Frames named `name` received so far. */
  count(name: string): number {
    return this.frames.filter((f) => f.name === name).length;
  }

  /**
   * Plays the accepting side of an AMQP-only handshake: waits for the engine's AMQP header and
   * OPEN, answers with ours.
   */
  async acceptAmqp(open: Partial<OpenFields> = {}): Promise<void> {
    await this.#until(() => this.headers.find((h) => h.id === ProtocolId.Amqp), "the AMQP header");
    this.header(ProtocolId.Amqp);
    await this.frameNamed("OPEN");
    this.frame(0, Open, { containerId: "frame-script", ...open });
  }

  /**
   * Plays the accepting side of SASL (ANONYMOUS/PLAIN offered, any sasl-init accepted), then
   * `acceptAmqp`.
   */
  async acceptSaslThenAmqp(open: Partial<OpenFields> = {}): Promise<void> {
    await this.headerNo(1);
    this.header(ProtocolId.Sasl);
    this.sasl(SaslMechanisms, { saslServerMechanisms: ["ANONYMOUS", "PLAIN"] });
    await this.frameNamed("SASL-INIT");
    this.expectHeader();
    this.sasl(SaslOutcome, { code: 0 });
    await this.acceptAmqp(open);
  }

  #onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    if (start === end) {
      this.heartbeats++;
      return;
    }
    const d = new Decoder(buf, start, end);
    const code = readPerformativeCode(d);
    const composite = BY_CODE[code];
    const fields = (composite ? composite.decodeBody(d) : {}) as Record<string, unknown>;
    this.frames.push({ type, channel, code, name: PerformativeName[code] ?? "?", fields });
    if (type === FrameType.Sasl && code === P.SaslOutcome) this.expectHeader();
    this.#changed();
  }

  #changed(): void {
    for (const l of [...this.#listeners]) l();
  }

  #until<T>(probe: () => T | undefined, what: string): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return within(
      new Promise<T>((resolve) => {
        const check = (): void => {
          const v = probe();
          if (v === undefined) return;
          this.#listeners.delete(check);
          resolve(v);
        };
        this.#listeners.add(check);
      }),
      what,
    );
  }
}

/** An error class of src/errors. */
export type ErrorClass = abstract new (...args: never[]) => AMQPError;

/** `e` is an instance of `cls` carrying `condition`. */
export function assertTyped(e: unknown, cls: ErrorClass, condition: string): asserts e is AMQPError {
  assert.ok(
    e instanceof cls,
    `expected ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
  );
  assert.equal(e.condition, condition, `condition of ${e.name}: ${e.message}`);
}

/** The connection ended: closed() resolves with the error, the transport is gone, nothing new starts. */
export async function assertEnded(
  conn: AmqpConnection,
  peer: FrameScript,
  cls: ErrorClass,
  condition: string,
  wasOpened = false,
): Promise<AMQPError> {
  const err = await within(conn.closed(), "connection.closed()");
  assertTyped(err, cls, condition);
  assert.equal(conn.error, err);
  assert.equal(conn.isOpen, false);
  assert.equal(conn.isClosing, true);
  await peer.ended();
  assert.equal(peer.parseError, undefined, "everything we wrote was well-formed");
  assert.throws(() => conn.createSession());
  if (!wasOpened) {
    const opened = await rejectionOf(conn.opened(), "connection.opened()");
    assertTyped(opened, cls, condition);
  }
  return err;
}

/** Closes cleanly: our CLOSE, the peer's answer, closed() resolves with no error. */
export async function closeCleanly(conn: AmqpConnection, peer: FrameScript): Promise<void> {
  const closing = conn.close();
  const close = await peer.frameNamed("CLOSE");
  assert.equal(frameError(close), undefined);
  peer.frame(0, Close, {});
  await within(closing, "connection.close()");
  assert.equal(await conn.closed(), undefined);
  await peer.ended();
}

/**
 * The peer broke the protocol after the AMQP layer started: we write CLOSE with `condition`, every
 * pending promise rejects with it, and once the peer answers the CLOSE the connection is closed.
 */
export async function assertProtocolClose(
  conn: AmqpConnection,
  peer: FrameScript,
  condition: string,
  pending: readonly [string, Promise<unknown>][],
): Promise<void> {
  const close = await peer.frameNamed("CLOSE");
  assert.equal(frameError(close)?.condition, condition);
  assert.equal(peer.count("CLOSE"), 1);
  peer.frame(0, Close, {});
  for (const [what, p] of pending) assertTyped(await rejectionOf(p, what), AMQPConnectionError, condition);
  await assertEnded(conn, peer, AMQPConnectionError, condition, true);
}

/** A connection under test and the script peer at the other end of its transport. */
export interface ScriptedConnection {
  readonly conn: AmqpConnection;
  readonly peer: FrameScript;
}

/**
 * Starts an `AmqpConnection` with `options` over an in-memory pair and returns it with the script
 * peer on the other end. The connecting side writes its header at once; the accepting side waits.
 *
 * @example
 * ```ts
 * const { conn, peer } = scriptedConnection({ closeTimeoutMs: 100 });
 * await peer.acceptAmqp();
 * peer.frame(0, Open, { containerId: "again" }); // a second OPEN
 * ```
 */
export function scriptedConnection(options: ConnectionOptions = {}): ScriptedConnection {
  const [ours, theirs] = createMemoryTransportPair();
  const peer = new FrameScript(theirs);
  const conn = new AmqpConnection({ closeTimeoutMs: 200, ...options });
  conn.start(ours);
  return { conn, peer };
}
