/**
 * Robustness of the embedded broker against raw TCP clients (node:net) that send a valid AMQP or
 * SASL header, then arbitrary or mutated frames, then end, reset or fall silent.
 *
 * Properties:
 * - hostile streams: whatever arrives, the broker writes only well-formed frames, closes with an
 *   `amqp:` condition when it closes with an error, lets the connection go once the socket is gone
 *   (`connectionCount` back to 0), never raises an uncaught exception, and keeps serving (a normal
 *   rhea client sends and receives afterwards);
 * - interrupted deliveries: a producer that sends complete messages (single- or multi-frame), starts
 *   one more and breaks off (garbage, a framing error, a SASL frame, out-of-order performatives, an
 *   abort, a reset, silence) leaves exactly its complete messages in the queue — no partial message,
 *   each decoding with `Message.decode` to what was sent.
 *
 * The broker stores message payloads as opaque bytes, so the first property does not decode what a
 * hostile stream stored (a well-framed TRANSFER may carry any bytes); the second property does.
 *
 * Runs are seeded; `FUZZ_RUNS=<n>` multiplies the number of runs and `FUZZ_SEED=<n>` changes the seed.
 */
import assert from "node:assert/strict";
import { connect as netConnect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Broker } from "../../src/broker/index.js";
import type { CompositeType } from "../../src/codec/composite.js";
import { Decoder } from "../../src/codec/decoder.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import type { IncomingDelivery } from "../../src/engine/delivery.js";
import { FrameReader, FrameType } from "../../src/frames/frame-reader.js";
import {
  Attach,
  Begin,
  Close,
  Detach,
  End,
  Flow,
  Open,
  PerformativeCode as P,
  PerformativeName,
  readPerformativeCode,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  Transfer,
} from "../../src/frames/performatives.js";
import { Message } from "../../src/message/message.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { within } from "../support/waits.js";
import { close, collect, connect, openReceiver, openSender, sendAll, until } from "../broker/rhea-client.js";
import { encodeFrame, fuzzFrame, HEARTBEAT, ProcessFaults, type FuzzFrame } from "./frame-arbitraries.js";

const SEED = Number(process.env["FUZZ_SEED"] ?? 0xb40c);
const SCALE = Math.max(1, Number(process.env["FUZZ_RUNS"] ?? 1));
const HANG_MS = 3000;

const AMQP_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);
const SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);

const BY_CODE: Record<number, CompositeType<object>> = {
  [P.Open]: Open,
  [P.Begin]: Begin,
  [P.Attach]: Attach,
  [P.Flow]: Flow,
  [P.Detach]: Detach,
  [P.End]: End,
  [P.Close]: Close,
  [P.SaslMechanisms]: SaslMechanisms,
  [P.SaslOutcome]: SaslOutcome,
};

interface Received {
  readonly name: string;
  readonly channel: number;
  readonly fields: Record<string, unknown>;
}

/** A client on a bare socket: writes bytes, parses (and checks) everything the broker writes. */
class RawClient {
  readonly socket: Socket;
  readonly frames: Received[] = [];
  headers = 0;
  /** What the broker wrote that does not parse (must stay undefined). */
  parseError: unknown;
  readonly gone: Promise<void>;
  #listeners = new Set<() => void>();
  readonly #reader: FrameReader;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.#reader = new FrameReader(
      {
        onProtocolHeader: () => {
          this.headers++;
          this.#changed();
        },
        onFrame: (type, channel, buf, start, end) => {
          if (start === end) return;
          const d = new Decoder(buf, start, end);
          const code = readPerformativeCode(d);
          const composite = BY_CODE[code];
          const fields = (composite ? composite.decodeBody(d) : {}) as Record<string, unknown>;
          this.frames.push({ name: PerformativeName[code] ?? "?", channel, fields });
          if (type === FrameType.Sasl && code === P.SaslOutcome) this.#reader.expectProtocolHeader();
          this.#changed();
        },
      },
      1 << 24,
    );
    this.#reader.expectProtocolHeader();
    socket.on("data", (chunk) => {
      try {
        this.#reader.push(chunk);
      } catch (e) {
        this.parseError = e;
        this.#reader.stop();
      }
    });
    socket.on("error", () => undefined);
    this.gone = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = netConnect({ host: "127.0.0.1", port });
    socket.setNoDelay(true);
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
      "the TCP connect",
    );
    return new RawClient(socket);
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Waits for the first frame from index `from` on that matches. */
  frame(pred: (f: Received) => boolean, what: string, from = 0): Promise<Received> {
    return within(
      new Promise<Received>((resolve) => {
        const check = (): void => {
          const f = this.frames.slice(from).find(pred);
          if (f === undefined) return;
          this.#listeners.delete(check);
          resolve(f);
        };
        this.#listeners.add(check);
        check();
      }),
      what,
      HANG_MS,
    );
  }

  #changed(): void {
    for (const l of [...this.#listeners]) l();
  }
}

const beginFields = { nextOutgoingId: 0, incomingWindow: 100_000, outgoingWindow: 100_000 };

/** Frames that attach a producer (handle 0 on channel 0) to `address`. */
function producerFrames(address: string): Buffer[] {
  return [
    encodeFrame(0, 0, Begin, beginFields),
    encodeFrame(0, 0, Attach, {
      name: `fuzz-${address}`,
      handle: 0,
      role: false,
      sndSettleMode: 2,
      source: { address: "fuzz-client" },
      target: { type: "target", address },
      initialDeliveryCount: 0,
    }),
  ];
}

/** Runs `test` with an uncaught-exception/unhandled-rejection recorder installed; asserts none. */
async function noProcessFaults(test: () => Promise<void>): Promise<void> {
  const faults = new ProcessFaults();
  faults.install();
  try {
    await test();
    await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(faults.faults, []);
  } finally {
    faults.uninstall();
  }
}

/** Waits until the broker holds no connection (the raw sockets are gone). */
function noConnections(b: Broker, what: string): Promise<void> {
  return until(() => b.connectionCount === 0, `connectionCount 0 ${what}`, HANG_MS);
}

/** The broker still serves a normal client: a rhea send and receive through `address`. */
async function rheaRoundTrip(b: Broker, address: string): Promise<void> {
  const c = await connect(b.port!);
  try {
    const r = await openReceiver(c, address);
    const got = collect(r, 1);
    assert.deepEqual(await sendAll(await openSender(c, address), [{ body: "still serving" }]), ["accepted"]);
    assert.equal((await got)[0]!.message?.body, "still serving");
  } finally {
    await close(c);
  }
}

/** Receives every message of `address` with an engine client; returns the raw payloads. */
async function drain(b: Broker, address: string): Promise<Buffer[]> {
  const n = b.stats(address).messageCount;
  const conn = new AmqpConnection({ closeTimeoutMs: 500 });
  conn.start(await connectTcp({ host: "127.0.0.1", port: b.port! }));
  try {
    const session = conn.createSession();
    const receiver = session.attachReceiver({ source: { address }, autoCredit: 100 });
    const got: Buffer[] = [];
    await within(
      new Promise<void>((resolve) => {
        if (n === 0) resolve();
        receiver.onDelivery = (d: IncomingDelivery) => {
          got.push(Buffer.from(d.payload));
          receiver.settle(d);
          if (got.length === n) resolve();
        };
      }),
      `draining ${n} messages of ${address}`,
      HANG_MS,
    );
    await within(receiver.detach(), "receiver.detach()", HANG_MS);
    return got;
  } finally {
    await within(conn.close(), "connection.close()", HANG_MS);
  }
}

// ---- hostile streams ------------------------------------------------------------------------------

type Preamble = "amqp-open" | "amqp-producer" | "sasl-raw" | "sasl-then-amqp";
type Ending = "end" | "destroy" | "silent";

interface HostileRun {
  readonly preamble: Preamble;
  readonly frames: readonly FuzzFrame[];
  /** Write the frames one by one with a pause, or all at once. */
  readonly trickle: boolean;
  readonly ending: Ending;
}

const hostileRun: fc.Arbitrary<HostileRun> = fc.record({
  preamble: fc.constantFrom<Preamble>("amqp-open", "amqp-producer", "sasl-raw", "sasl-then-amqp"),
  frames: fc.array(fuzzFrame, { minLength: 1, maxLength: 5 }),
  trickle: fc.boolean(),
  ending: fc.constantFrom<Ending>("end", "destroy", "silent"),
});

async function hostile(b: Broker, run: HostileRun): Promise<void> {
  const c = await RawClient.connect(b.port!);
  try {
    switch (run.preamble) {
      case "amqp-open":
        c.write(Buffer.concat([AMQP_HEADER, encodeFrame(0, 0, Open, { containerId: "fuzz" })]));
        break;
      case "amqp-producer":
        c.write(
          Buffer.concat([
            AMQP_HEADER,
            encodeFrame(0, 0, Open, { containerId: "fuzz" }),
            ...producerFrames("fuzz-raw"),
          ]),
        );
        break;
      case "sasl-raw":
        c.write(SASL_HEADER);
        break;
      case "sasl-then-amqp": {
        c.write(SASL_HEADER);
        await c.frame((f) => f.name === "SASL-MECHANISMS", "SASL-MECHANISMS");
        c.write(encodeFrame(FrameType.Sasl, 0, SaslInit, { mechanism: "ANONYMOUS" }));
        const outcome = await c.frame((f) => f.name === "SASL-OUTCOME", "SASL-OUTCOME");
        assert.equal(outcome.fields["code"], 0);
        c.write(Buffer.concat([AMQP_HEADER, encodeFrame(0, 0, Open, { containerId: "fuzz" })]));
        break;
      }
    }
    for (const f of run.frames) {
      c.write(f.bytes);
      if (run.trickle) await new Promise((r) => setTimeout(r, 1));
    }
    switch (run.ending) {
      case "end":
        c.socket.end();
        break;
      case "destroy":
        c.socket.destroy();
        break;
      case "silent":
        // Wait for the broker's answer before going quiet: a fixed pause alone loses the race on a
        // loaded machine (the timer fires before the broker's read), which is not what is tested here.
        await until(() => c.headers >= 1 || c.socket.destroyed, "the broker's protocol header", HANG_MS);
        await new Promise((r) => setTimeout(r, 15));
        c.socket.destroy();
        break;
    }
    // "end": the broker must close its side too (no half-open connection is kept).
    await within(c.gone, "the socket to close", HANG_MS);
    await noConnections(b, "after the socket closed");
    assert.equal(c.parseError, undefined, "everything the broker wrote parses");
    if (run.ending !== "destroy") assert.ok(c.headers >= 1, "the broker answered with a protocol header");
    for (const f of c.frames.filter((x) => ["CLOSE", "END", "DETACH"].includes(x.name))) {
      const e = f.fields["error"] as { condition?: unknown } | undefined;
      if (e !== undefined) assert.match(String(e.condition), /^amqp:/, `${f.name} condition`);
    }
  } finally {
    c.socket.destroy();
  }
}

// ---- interrupted deliveries ---------------------------------------------------------------------

type Disruption =
  | "none"
  | "garbage"
  | "oversized"
  | "undersized"
  | "sasl-frame"
  | "second-open"
  | "second-begin"
  | "unattached-transfer"
  | "other-delivery-id"
  | "abort"
  | "detach"
  | "end"
  | "close";

interface PartialRun {
  /** Complete messages: how many frames each is split into. */
  readonly complete: readonly number[];
  /** The interrupted message: [frames sent, frames it would have]. */
  readonly partial: readonly [number, number];
  readonly disruption: Disruption;
  readonly garbage: Buffer;
  readonly ending: Ending;
}

const partialRun: fc.Arbitrary<PartialRun> = fc.record({
  complete: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
  partial: fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
    .map(([sent, extra]) => [sent, sent + extra] as const),
  disruption: fc.constantFrom<Disruption>(
    "none",
    "garbage",
    "oversized",
    "undersized",
    "sasl-frame",
    "second-open",
    "second-begin",
    "unattached-transfer",
    "other-delivery-id",
    "abort",
    "detach",
    "end",
    "close",
  ),
  garbage: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b)),
  ending: fc.constantFrom<Ending>("end", "destroy", "silent"),
});

const PARTIAL_Q = "fuzz-partial";

/** The frames of one delivery split into `parts` (of which the first `sent` are returned). */
function transferFrames(id: number, payload: Buffer, parts: number, sent = parts): Buffer[] {
  const out: Buffer[] = [];
  const step = Math.ceil(payload.length / parts);
  for (let i = 0; i < sent; i++) {
    const chunk = payload.subarray(i * step, Math.min(payload.length, (i + 1) * step));
    const first = i === 0;
    out.push(
      encodeFrame(
        0,
        0,
        Transfer,
        {
          handle: 0,
          ...(first ? { deliveryId: id, deliveryTag: Buffer.from(`t${id}`), messageFormat: 0 } : {}),
          more: i < parts - 1,
        },
        chunk,
      ),
    );
  }
  return out;
}

let runNo = 0;

/** One producer run; returns the bodies of the complete messages it sent. */
async function interrupted(b: Broker, run: PartialRun): Promise<string[]> {
  const n = ++runNo;
  const before = b.stats(PARTIAL_Q).messageCount;
  const c = await RawClient.connect(b.port!);
  try {
    c.write(
      Buffer.concat([
        AMQP_HEADER,
        encodeFrame(0, 0, Open, { containerId: "fuzz" }),
        ...producerFrames(PARTIAL_Q),
      ]),
    );
    await c.frame((f) => f.name === "FLOW" && f.fields["handle"] !== undefined, "the producer's credit");
    const bodies: string[] = [];
    const out: Buffer[] = [];
    let id = 0;
    for (const parts of run.complete) {
      const body = `run ${n} message ${id} ${"x".repeat(40)}`;
      bodies.push(body);
      out.push(...transferFrames(id++, Buffer.from(new Message({ body }).encode()), parts));
    }
    const partialBody = Buffer.from(new Message({ body: `run ${n} partial ${"y".repeat(40)}` }).encode());
    out.push(...transferFrames(id, partialBody, run.partial[1], run.partial[0]));
    const intruder = Buffer.from(new Message({ body: `run ${n} intruder` }).encode());
    switch (run.disruption) {
      case "none":
        break;
      case "garbage":
        out.push(run.garbage);
        break;
      case "oversized": {
        const h = Buffer.from(HEARTBEAT);
        h.writeUInt32BE(0x7fffffff, 0);
        out.push(h);
        break;
      }
      case "undersized": {
        const h = Buffer.from(HEARTBEAT);
        h.writeUInt32BE(4, 0);
        out.push(h);
        break;
      }
      case "sasl-frame":
        out.push(encodeFrame(FrameType.Sasl, 0, SaslOutcome, { code: 0 }));
        break;
      case "second-open":
        out.push(encodeFrame(0, 0, Open, { containerId: "again" }));
        break;
      case "second-begin":
        out.push(encodeFrame(0, 0, Begin, beginFields));
        break;
      case "unattached-transfer":
        out.push(
          encodeFrame(
            0,
            0,
            Transfer,
            { handle: 9, deliveryId: id + 1, deliveryTag: Buffer.from("u") },
            intruder,
          ),
        );
        break;
      case "other-delivery-id":
        out.push(
          encodeFrame(
            0,
            0,
            Transfer,
            { handle: 0, deliveryId: id + 1, deliveryTag: Buffer.from("o"), messageFormat: 0 },
            intruder,
          ),
        );
        break;
      case "abort":
        out.push(encodeFrame(0, 0, Transfer, { handle: 0, more: false, aborted: true }));
        break;
      case "detach":
        out.push(encodeFrame(0, 0, Detach, { handle: 0, closed: true }));
        break;
      case "end":
        out.push(encodeFrame(0, 0, End, {}));
        break;
      case "close":
        out.push(encodeFrame(0, 0, Close, {}));
        break;
    }
    c.write(Buffer.concat(out));
    if (run.ending !== "end") {
      // Let the broker read what was written before the reset: a fixed pause alone loses the race on
      // a loaded machine. The complete messages come first in the stream, so they are stored before
      // whatever follows them is read; the caller then checks that nothing more was stored.
      await until(
        () => b.stats(PARTIAL_Q).messageCount - before >= bodies.length || c.socket.destroyed,
        "the broker to store the complete messages",
        HANG_MS,
      );
    }
    switch (run.ending) {
      case "end":
        c.socket.end();
        break;
      case "destroy":
        await new Promise((r) => setTimeout(r, 5));
        c.socket.destroy();
        break;
      case "silent":
        await new Promise((r) => setTimeout(r, 15));
        c.socket.destroy();
        break;
    }
    await within(c.gone, "the socket to close", HANG_MS);
    await noConnections(b, "after the producer's socket closed");
    assert.equal(c.parseError, undefined, "everything the broker wrote parses");
    return bodies;
  } finally {
    c.socket.destroy();
  }
}

describe("fuzz: the broker against raw TCP clients", () => {
  let b: Broker;
  before(async () => {
    b = await Broker.start({ limits: { handshakeTimeoutMs: 2000 } });
  });
  after(async () => {
    await b.close();
  });

  it("hostile streams after a valid AMQP or SASL header: the broker stays up, well-behaved and empty of connections", async () => {
    await noProcessFaults(async () => {
      await fc.assert(
        fc.asyncProperty(hostileRun, (run) => hostile(b, run)),
        { seed: SEED, numRuns: 300 * SCALE },
      );
      await noConnections(b, "after the hostile runs");
      await rheaRoundTrip(b, "after-hostile");
      assert.equal(b.connectionCount, 0);
    });
  });

  it("a producer that breaks off mid-delivery leaves exactly its complete messages, each decodable", async () => {
    await noProcessFaults(async () => {
      const expected: string[] = [];
      await fc.assert(
        fc.asyncProperty(partialRun, async (run) => {
          const before = b.stats(PARTIAL_Q).messageCount;
          const bodies = await interrupted(b, run);
          assert.equal(
            b.stats(PARTIAL_Q).messageCount - before,
            bodies.length,
            "the queue gained exactly the complete messages",
          );
          expected.push(...bodies);
        }),
        { seed: SEED + 1, numRuns: 150 * SCALE },
      );
      assert.ok(expected.length > 0, "some runs sent complete messages");
      const stored = await drain(b, PARTIAL_Q);
      const decoded = stored.map((p) => {
        const data = Message.decode(p).data;
        assert.equal(data?.length, 1, "one data section");
        return Buffer.from(data[0]!).toString();
      });
      assert.deepEqual([...decoded].sort(), [...expected].sort());
      assert.equal(b.stats(PARTIAL_Q).messageCount, 0);
      await noConnections(b, "after draining");
      await rheaRoundTrip(b, "after-partial");
    });
  });
});
