/**
 * The scripted AMQP peer of the tests, for the fault cases real peers do not produce. It sits at
 * the far end of any transport (one end of an in-memory pair, a TCP connection it accepted or
 * opened), records every protocol header and frame it receives, decoded with the library's own
 * performative definitions, and writes exactly the headers, frames and bytes the test scripts,
 * including invalid ones.
 *
 * Nothing is answered unless `autoAnswer` is set (the default of `startScriptedPeer`); then it plays
 * the accepting side by itself: protocol headers, SASL (ANONYMOUS and PLAIN offered, any
 * sasl-init accepted), OPEN, BEGIN, ATTACH mirrored with credit for the client's senders, CLOSE.
 */
import assert from "node:assert/strict";
import { Decoder } from "../../src/codec/decoder.js";
import type { CompositeType } from "../../src/codec/composite.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import type { ConnectionOptions } from "../../src/engine/options.js";
import type { AMQPError } from "../../src/errors/amqp-error.js";
import { AMQPConnectionError } from "../../src/errors/exceptions.js";
import { FrameReader, FrameType } from "../../src/frames/frame-reader.js";
import {
  beginFrame,
  endFrame,
  writeCompositeFrame,
  writeTransferPerformative,
  type TransferHead,
} from "../../src/frames/frame-writer.js";
import * as performatives from "../../src/frames/performatives.js";
import {
  Attach,
  Begin,
  Close,
  Disposition,
  Flow,
  Open,
  PerformativeCode as P,
  PerformativeName,
  readPerformativeCode,
  SaslMechanisms,
  SaslOutcome,
  type AttachFields,
  type OpenFields,
} from "../../src/frames/performatives.js";
import { ProtocolId, type ProtocolHeader } from "../../src/frames/protocol-header.js";
import { createMemoryTransportPair } from "../../src/transport/memory.js";
import { listenTcp } from "../../src/transport/tcp.js";
import type { Transport } from "../../src/transport/transport.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { rejectionOf, within } from "./waits.js";

function isComposite(v: unknown): v is CompositeType<object> {
  return (
    typeof v === "object" && v !== null && "decodeBody" in v && "code" in v && typeof v.code === "number"
  );
}

/** Every frame body the frames layer defines, by descriptor code: the library's table, not a copy. */
const BODIES = new Map(
  Object.values(performatives)
    .filter(isComposite)
    .map((c) => [c.code, c]),
);

/** One frame the peer received, decoded. */
export interface ScriptFrame {
  /** 0 = AMQP, 1 = SASL. */
  readonly type: number;
  readonly channel: number;
  readonly code: number;
  /** e.g. "OPEN", "SASL-OUTCOME". */
  readonly name: string;
  readonly fields: Record<string, unknown>;
  /** The bytes after the performative (a TRANSFER's payload). */
  readonly payload: Buffer;
}

/** The `error` field of a CLOSE, END or DETACH the peer received. */
export function frameError(f: ScriptFrame): { condition: string; description?: string } | undefined {
  return f.fields["error"] as { condition: string; description?: string } | undefined;
}

/** What the peer answers by itself. */
export interface PeerOptions {
  /**
   * Play the accepting side: protocol headers, SASL, OPEN, BEGIN, CLOSE, and ATTACH unless
   * `autoAttach` is false. Without it the peer answers nothing.
   * @defaultValue false (true for `startScriptedPeer`)
   */
  autoAnswer?: boolean;
  /** Answer each ATTACH with its mirror (and credit for a sender). @defaultValue true */
  autoAttach?: boolean;
  /** Credit granted to each attached sender of the other side. @defaultValue 100 */
  credit?: number;
  /** Settle every unsettled TRANSFER received with accepted. @defaultValue false */
  autoAccept?: boolean;
  /** Fields of the OPEN the peer answers with. */
  open?: Partial<OpenFields>;
}

/** Answers an incoming frame; set by the test. */
export type Responder = (f: ScriptFrame, peer: ScriptedPeer) => void;

/** One end of a transport: records what arrives, writes what the test scripts. */
export class ScriptedPeer {
  readonly transport: Transport;
  readonly headers: ProtocolHeader[] = [];
  readonly frames: ScriptFrame[] = [];
  /** Empty frames (heartbeats) received. */
  heartbeats = 0;
  /** Set once the transport closed. */
  closedWith: { error: Error | undefined } | undefined;
  /** What arrived that the peer could not parse, if anything (it stops reading then). */
  parseError: unknown;
  /** Called with every frame after the automatic answers. */
  responder: Responder | undefined;
  readonly #options: PeerOptions;
  readonly #reader: FrameReader;
  readonly #w = new ByteWriter(256);
  readonly #listeners = new Set<() => void>();

  constructor(transport: Transport, options: PeerOptions = {}) {
    this.transport = transport;
    this.#options = options;
    this.#reader = new FrameReader(
      {
        onProtocolHeader: (h) => {
          this.#onHeader(h);
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

  /** The ATTACH frames received so far. */
  get attaches(): AttachFields[] {
    return this.frames.filter((f) => f.code === P.Attach).map((f) => f.fields as unknown as AttachFields);
  }

  /** The next 8 bytes are a protocol header. */
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

  /**
   * Writes one TRANSFER frame carrying `payload`; the fields of `head` left out are left out of the
   * frame (`settled` and `more` false).
   */
  transfer(channel: number, head: Partial<TransferHead> & { handle: number }, payload: Uint8Array): void {
    this.#w.reset();
    const at = beginFrame(this.#w, 0, channel);
    writeTransferPerformative(this.#w, {
      deliveryId: undefined,
      deliveryTag: undefined,
      messageFormat: undefined,
      settled: false,
      more: false,
      ...head,
    });
    this.#w.bytes(payload);
    endFrame(this.#w, at);
    this.raw(this.#w.toBuffer());
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
   * Plays the accepting side of an AMQP-only handshake: waits for the other side's AMQP header and
   * OPEN, answers with ours.
   */
  async acceptAmqp(open: Partial<OpenFields> = {}): Promise<void> {
    await this.#until(() => this.headers.find((h) => h.id === ProtocolId.Amqp), "the AMQP header");
    this.header(ProtocolId.Amqp);
    await this.frameNamed("OPEN");
    this.frame(0, Open, { containerId: "scripted-peer", ...open });
  }

  /**
   * Plays the accepting side of SASL (ANONYMOUS/PLAIN offered, any sasl-init accepted), then
   * `acceptAmqp`.
   */
  async acceptSaslThenAmqp(open: Partial<OpenFields> = {}): Promise<void> {
    await this.headerNo(1);
    this.#offerSasl();
    await this.frameNamed("SASL-INIT");
    this.#acceptSasl();
    await this.acceptAmqp(open);
  }

  #offerSasl(): void {
    this.header(ProtocolId.Sasl);
    this.sasl(SaslMechanisms, { saslServerMechanisms: ["ANONYMOUS", "PLAIN"] });
  }

  #acceptSasl(): void {
    this.expectHeader();
    this.sasl(SaslOutcome, { code: 0 });
  }

  #onHeader(h: ProtocolHeader): void {
    this.headers.push(h);
    if (this.#options.autoAnswer) {
      if (h.id === ProtocolId.Sasl) this.#offerSasl();
      else this.header(ProtocolId.Amqp);
    }
    this.#changed();
  }

  #onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    if (start === end) {
      this.heartbeats++;
      return;
    }
    const d = new Decoder(buf, start, end);
    const code = readPerformativeCode(d);
    const body = BODIES.get(code);
    const fields = (body ? body.decodeBody(d) : {}) as Record<string, unknown>;
    const name = PerformativeName[code] ?? "?";
    const f: ScriptFrame = { type, channel, code, name, fields, payload: buf.subarray(d.pos, end) };
    this.frames.push(f);
    // The peer acting as a client: the AMQP header follows the outcome.
    if (type === FrameType.Sasl && code === P.SaslOutcome) this.expectHeader();
    if (this.#options.autoAnswer) this.#answer(f);
    this.responder?.(f, this);
    this.#changed();
  }

  #answer(f: ScriptFrame): void {
    const o = this.#options;
    switch (f.code) {
      case P.SaslInit:
        this.#acceptSasl();
        break;
      case P.Open:
        this.frame(0, Open, { containerId: "scripted-peer", maxFrameSize: 1 << 20, ...o.open });
        break;
      case P.Begin:
        this.frame(f.channel, Begin, {
          remoteChannel: f.channel,
          nextOutgoingId: 0,
          incomingWindow: 100000,
          outgoingWindow: 100000,
        });
        break;
      case P.Attach: {
        if (o.autoAttach === false) break;
        const a = f.fields as unknown as AttachFields;
        this.frame(f.channel, Attach, { ...a, role: !a.role, initialDeliveryCount: 0 });
        if (!a.role) {
          this.frame(f.channel, Flow, {
            nextIncomingId: 0,
            incomingWindow: 100000,
            nextOutgoingId: 0,
            outgoingWindow: 100000,
            handle: a.handle,
            deliveryCount: 0,
            linkCredit: o.credit ?? 100,
          });
        }
        break;
      }
      case P.Transfer:
        if (o.autoAccept && f.fields["settled"] !== true && f.fields["deliveryId"] !== undefined) {
          this.frame(f.channel, Disposition, {
            role: true,
            first: f.fields["deliveryId"] as number,
            settled: true,
            state: { type: "accepted" },
          });
        }
        break;
      case P.Close:
        this.frame(0, Close, {});
        break;
      default:
        break;
    }
  }

  #changed(): void {
    for (const l of [...this.#listeners]) l();
  }

  #until<T>(probe: () => T | undefined, what: string): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    let check = (): void => undefined;
    const found = new Promise<T>((resolve) => {
      check = () => {
        const v = probe();
        if (v === undefined) return;
        this.#listeners.delete(check);
        resolve(v);
      };
      this.#listeners.add(check);
    });
    return within(found, what).finally(() => this.#listeners.delete(check));
  }
}

/** A TCP listener whose every connection is a `ScriptedPeer`. */
export interface ScriptedPeerServer {
  readonly port: number;
  /** One peer per accepted connection, in order. */
  readonly peers: readonly ScriptedPeer[];
  /** The peer of the first connection (waits for it). */
  connection(): Promise<ScriptedPeer>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (any free port); each connection gets a `ScriptedPeer` with `options`
 * (`autoAnswer` on unless set to false), handed to `onConnection` before any of its bytes arrive.
 */
export async function startScriptedPeer(
  options: PeerOptions = {},
  onConnection?: (peer: ScriptedPeer) => void,
): Promise<ScriptedPeerServer> {
  const peers: ScriptedPeer[] = [];
  const arrived = new Set<() => void>();
  const server = await listenTcp({ host: "127.0.0.1", port: 0 }, (transport) => {
    const peer = new ScriptedPeer(transport, { autoAnswer: true, ...options });
    peers.push(peer);
    onConnection?.(peer);
    for (const l of [...arrived]) l();
  });
  return {
    port: server.port,
    peers,
    connection() {
      if (peers[0]) return Promise.resolve(peers[0]);
      let l = (): void => undefined;
      const first = new Promise<ScriptedPeer>((resolve) => {
        l = () => resolve(peers[0]!);
        arrived.add(l);
      });
      return within(first, "a connection to the scripted peer").finally(() => arrived.delete(l));
    },
    close: () => server.close(),
  };
}

/** A connection under test and the scripted peer at the other end of its transport. */
export interface ScriptedConnection {
  readonly conn: AmqpConnection;
  readonly peer: ScriptedPeer;
}

/**
 * Starts an `AmqpConnection` with `options` over an in-memory pair and returns it with a scripted
 * peer (answering nothing) on the other end. The connecting side writes its header at once; the
 * accepting side waits.
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
  const peer = new ScriptedPeer(theirs);
  const conn = new AmqpConnection({ closeTimeoutMs: 200, ...options });
  conn.start(ours);
  return { conn, peer };
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
  peer: ScriptedPeer,
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
export async function closeCleanly(conn: AmqpConnection, peer: ScriptedPeer): Promise<void> {
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
  peer: ScriptedPeer,
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
