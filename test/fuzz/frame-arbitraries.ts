/**
 * fast-check arbitraries for frame-level fuzzing of a connection (shared by the connection and
 * broker fuzz suites): performatives built from the composite tables with small, often wrong channel
 * and handle numbers, then corrupted at the frame level (mutated bytes, lying size and data-offset
 * fields, truncation, frames bigger than the max-frame-size, SASL frames, random bytes).
 *
 * Each generated item is a {@link FuzzFrame}: the bytes to write and a label for failure reports.
 */
import fc from "fast-check";
import type { CompositeType } from "../../src/codec/composite.js";
import { FrameType } from "../../src/frames/frame-reader.js";
import { beginFrame, endFrame, writeCompositeFrame } from "../../src/frames/frame-writer.js";
import {
  Attach,
  Begin,
  Close,
  Detach,
  Disposition,
  End,
  Flow,
  Open,
  SaslChallenge,
  SaslInit,
  SaslMechanisms,
  SaslOutcome,
  SaslResponse,
  Transfer,
} from "../../src/frames/performatives.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { mutateBytes, mutationOf, type Mutation } from "./byte-mutations.js";

/** One piece of the byte stream a fuzzing peer writes. */
export interface FuzzFrame {
  /** What it is, for the counterexample report (e.g. "FLOW ch1 size-lie"). */
  readonly label: string;
  readonly bytes: Buffer;
  /** The frame is a CLOSE performative (a clean end of the connection may follow). */
  readonly close?: boolean;
}

/** A peer channel the fuzz frames never use (the property probes the connection on it). */
export const PROBE_CHANNEL = 0x7777;

const w = new ByteWriter(1024);

/** Encodes one frame (performative `composite` with `value`, then `payload`). */
export function encodeFrame<T extends object>(
  type: number,
  channel: number,
  composite: CompositeType<T>,
  value: T,
  payload?: Uint8Array,
): Buffer {
  w.reset();
  if (payload === undefined) {
    writeCompositeFrame(w, type, channel, composite, value);
  } else {
    const at = beginFrame(w, type, channel);
    composite.encode(w, value);
    w.bytes(payload);
    endFrame(w, at);
  }
  return Buffer.from(w.toBuffer());
}

/** An empty frame (heartbeat). */
export const HEARTBEAT = Buffer.from([0, 0, 0, 8, 2, 0, 0, 0]);

const handle = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 7) },
  { weight: 1, arbitrary: fc.constantFrom(0xffff, 0xffffffff) },
  { weight: 1, arbitrary: fc.nat() },
);
const channel = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constantFrom(1, 3) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => (c === PROBE_CHANNEL ? 0 : c)) },
);
const serial = fc.oneof(fc.constantFrom(0, 1, 2), fc.nat(), fc.constant(0xffffffff));
const window = fc.oneof(fc.constantFrom(0, 1, 100), fc.nat());
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 3 });
const error = opt(
  fc.record({
    condition: fc.constantFrom("amqp:internal-error", "amqp:not-allowed", "x:custom", ""),
    description: opt(fc.string({ maxLength: 8 })),
  }),
);
const state = opt(
  fc.constantFrom(
    { type: "accepted" as const },
    { type: "released" as const },
    { type: "rejected" as const, error: { condition: "amqp:internal-error" } },
    { type: "modified" as const, deliveryFailed: true },
  ),
);
const smallBytes = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));

type Perf = { label: string; composite: CompositeType<object>; value: object; payload?: Buffer };
const perf = <T extends object>(
  label: string,
  composite: CompositeType<T>,
  value: fc.Arbitrary<T>,
): fc.Arbitrary<Perf> => value.map((v) => ({ label, composite, value: v }));

/** The session and link performatives, with plausible but often wrong fields (handles, ids). */
const linkPerformatives: fc.Arbitrary<Perf>[] = [
  perf(
    "BEGIN",
    Begin,
    fc.record({
      remoteChannel: opt(fc.constantFrom(0, 1, 2, 0xffff)),
      nextOutgoingId: serial,
      incomingWindow: window,
      outgoingWindow: window,
      handleMax: opt(fc.constantFrom(0, 1, 0xffffffff)),
    }),
  ),
  perf(
    "ATTACH",
    Attach,
    fc.record({
      name: fc.constantFrom("sender", "receiver", "fuzz"),
      handle,
      role: fc.boolean(),
      sndSettleMode: opt(fc.constantFrom(0, 1, 2, 9)),
      rcvSettleMode: opt(fc.constantFrom(0, 1, 9)),
      source: opt(fc.constant({ address: "q" })),
      target: opt(fc.constant({ type: "target" as const, address: "q" })),
      initialDeliveryCount: opt(serial),
      maxMessageSize: opt(fc.constantFrom(0n, 1n, 1000n)),
    }),
  ),
  perf(
    "FLOW",
    Flow,
    fc.record({
      nextIncomingId: opt(serial),
      incomingWindow: window,
      nextOutgoingId: serial,
      outgoingWindow: window,
      handle: opt(handle),
      deliveryCount: opt(serial),
      linkCredit: opt(window),
      available: opt(window),
      drain: opt(fc.boolean()),
      echo: opt(fc.boolean()),
    }),
  ),
  fc
    .tuple(
      fc.record({
        handle,
        deliveryId: opt(serial),
        deliveryTag: opt(smallBytes),
        messageFormat: opt(fc.constantFrom(0, 1, 0x80013700)),
        settled: opt(fc.boolean()),
        more: opt(fc.boolean()),
        rcvSettleMode: opt(fc.constantFrom(0, 1, 7)),
        state,
        resume: opt(fc.boolean()),
        aborted: opt(fc.boolean()),
      }),
      fc.oneof(
        smallBytes,
        fc.constant(Buffer.from([0x00, 0x53, 0x77, 0xa1, 0x02, 0x68, 0x69])),
        fc.integer({ min: 0, max: 3000 }).map((n) => Buffer.alloc(n, 0x41)),
      ),
    )
    .map(([value, payload]) => ({
      label: "TRANSFER",
      composite: Transfer,
      value,
      payload,
    })),
  perf(
    "DISPOSITION",
    Disposition,
    fc.record({ role: fc.boolean(), first: serial, last: opt(serial), settled: opt(fc.boolean()), state }),
  ),
  perf("DETACH", Detach, fc.record({ handle, closed: opt(fc.boolean()), error })),
  perf("END", End, fc.record({ error })),
];

const saslPerformatives: fc.Arbitrary<Perf>[] = [
  perf(
    "SASL-MECHANISMS",
    SaslMechanisms,
    fc.record({ saslServerMechanisms: fc.constantFrom(["ANONYMOUS"], ["PLAIN", "X"]) }),
  ),
  perf(
    "SASL-INIT",
    SaslInit,
    fc.record({
      mechanism: fc.constantFrom("ANONYMOUS", "PLAIN", "NOPE"),
      initialResponse: opt(smallBytes),
    }),
  ),
  perf("SASL-CHALLENGE", SaslChallenge, fc.record({ challenge: smallBytes })),
  perf("SASL-RESPONSE", SaslResponse, fc.record({ response: smallBytes })),
  perf("SASL-OUTCOME", SaslOutcome, fc.record({ code: fc.constantFrom(0, 1, 2, 9) })),
];

/** Every performative, with plausible but often wrong fields. */
export const performative: fc.Arbitrary<Perf> = fc.oneof(
  ...linkPerformatives.map((arbitrary) => ({ weight: 4, arbitrary })),
  {
    weight: 2,
    arbitrary: perf(
      "OPEN",
      Open,
      fc.record({
        containerId: fc.constantFrom("fuzz", ""),
        maxFrameSize: opt(fc.constantFrom(0, 512, 1 << 20)),
      }),
    ),
  },
  { weight: 2, arbitrary: perf("CLOSE", Close, fc.record({ error })) },
  ...saslPerformatives.map((arbitrary) => ({ weight: 1, arbitrary })),
);

/** A session or link performative on channel 0, well-formed (the handles and ids are still wrong). */
export const linkFrame: fc.Arbitrary<FuzzFrame> = fc.oneof(...linkPerformatives).map((p) => ({
  label: `${p.label} ch0`,
  bytes: encodeFrame(FrameType.Amqp, 0, p.composite, p.value, p.payload),
}));

const mutation = mutationOf(["set", "insert", "delete", "flip"]);

/** Applies byte mutations (not to the 8-byte frame header, whose fields have their own corruptions). */
function mutateBody(bytes: Buffer, ms: readonly Mutation[]): Buffer {
  const head = [...bytes.subarray(0, 8)];
  const b = mutateBytes(bytes.subarray(8), ms);
  // Keep the size field honest: only the body lies.
  const out = Buffer.from([...head, ...b]);
  out.writeUInt32BE(out.length, 0);
  return out;
}

/** How a well-formed frame is spoiled (or not). */
type Corruption =
  | { kind: "none" }
  | { kind: "mutate"; ms: Mutation[] }
  | { kind: "size"; size: number }
  | { kind: "doff"; doff: number }
  | { kind: "type"; type: number }
  | { kind: "truncate"; keep: number };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 4,
    arbitrary: fc
      .array(mutation, { minLength: 1, maxLength: 3 })
      .map((ms) => ({ kind: "mutate" as const, ms })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(0, 1, 7, 8, 9, 511, 512, 513, 4096, 65536, 65537, 0x7fffffff, 0xffffffff),
        fc.nat(),
      )
      .map((size) => ({ kind: "size" as const, size })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, 1, 3, 0xff).map((doff) => ({ kind: "doff" as const, doff })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1, 2, 0x7f, 0xff).map((type) => ({ kind: "type" as const, type })),
  },
  { weight: 1, arbitrary: fc.nat().map((keep) => ({ kind: "truncate" as const, keep })) },
);

function corrupt(bytes: Buffer, c: Corruption): { bytes: Buffer; tag: string } {
  switch (c.kind) {
    case "none":
      return { bytes, tag: "" };
    case "mutate":
      return { bytes: mutateBody(bytes, c.ms), tag: ` mutated` };
    case "size": {
      const b = Buffer.from(bytes);
      b.writeUInt32BE(c.size, 0);
      return { bytes: b, tag: ` size=${c.size} (really ${bytes.length})` };
    }
    case "doff": {
      const b = Buffer.from(bytes);
      b[4] = c.doff;
      return { bytes: b, tag: ` doff=${c.doff}` };
    }
    case "type": {
      const b = Buffer.from(bytes);
      b[5] = c.type;
      return { bytes: b, tag: ` type=${c.type}` };
    }
    case "truncate": {
      const keep = c.keep % bytes.length;
      return { bytes: bytes.subarray(0, keep), tag: ` truncated to ${keep}/${bytes.length}` };
    }
  }
}

const SASL_CODES = new Set([
  "SASL-MECHANISMS",
  "SASL-INIT",
  "SASL-CHALLENGE",
  "SASL-RESPONSE",
  "SASL-OUTCOME",
]);

/** A performative frame, on a random channel, maybe of the wrong frame type, maybe corrupted. */
export const performativeFrame: fc.Arbitrary<FuzzFrame> = fc
  .tuple(performative, channel, fc.integer({ min: 0, max: 9 }), corruption)
  .map(([p, ch, typeDie, c]) => {
    const sasl = SASL_CODES.has(p.label);
    // SASL bodies mostly go in SASL frames, AMQP bodies mostly in AMQP frames; sometimes crossed.
    const type = (typeDie === 0) === sasl ? FrameType.Amqp : FrameType.Sasl;
    const raw = encodeFrame(type, sasl ? 0 : ch, p.composite, p.value, p.payload);
    const { bytes, tag } = corrupt(raw, c);
    return {
      label: `${p.label}${type === FrameType.Sasl ? " (sasl frame)" : ""} ch${sasl ? 0 : ch}${tag}`,
      bytes,
      close: p.label === "CLOSE",
    };
  });

/** Anything a hostile peer may write after the handshake. */
export const fuzzFrame: fc.Arbitrary<FuzzFrame> = fc.oneof(
  { weight: 10, arbitrary: performativeFrame },
  {
    weight: 2,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((b) => ({ label: `random ${Buffer.from(b).toString("hex")}`, bytes: Buffer.from(b) })),
  },
  { weight: 1, arbitrary: fc.constant({ label: "heartbeat", bytes: HEARTBEAT }) },
  {
    // A frame with an honest size that is bigger than any max-frame-size the peers agreed on.
    weight: 1,
    arbitrary: fc.integer({ min: 70_000, max: 140_000 }).map((n) => {
      const b = Buffer.alloc(n);
      b.writeUInt32BE(n, 0);
      b[4] = 2;
      return { label: `oversized frame of ${n} bytes`, bytes: b };
    }),
  },
);

/**
 * Where a byte stream of frames stops, as a frame reader with `maxFrameSize` sees it: at a frame
 * boundary ("boundary"), inside a frame ("partial": the reader is waiting for more bytes), or at a
 * size/data-offset it must refuse ("framing-error").
 */
export function streamEnd(bytes: Buffer, maxFrameSize: number): "boundary" | "partial" | "framing-error" {
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 8) return "partial";
    const size = bytes.readUInt32BE(off);
    const doff = bytes[off + 4]!;
    if (size < 8 || size > maxFrameSize || doff < 2 || doff * 4 > size) return "framing-error";
    if (off + size > bytes.length) return "partial";
    off += size;
  }
  return "boundary";
}

/** Resources (by type) that are not in `before`: e.g. a timer or socket left behind. */
export function leakedResources(before: readonly string[], after: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const r of before) left.set(r, (left.get(r) ?? 0) + 1);
  const extra: string[] = [];
  for (const r of after) {
    const n = left.get(r) ?? 0;
    if (n > 0) left.set(r, n - 1);
    else extra.push(r);
  }
  return extra;
}

/** Records uncaught exceptions and unhandled rejections while installed. */
export class ProcessFaults {
  readonly faults: string[] = [];
  readonly #onException = (e: unknown): void => {
    this.faults.push(`uncaughtException: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  };
  readonly #onRejection = (e: unknown): void => {
    this.faults.push(`unhandledRejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  };

  install(): void {
    process.on("uncaughtException", this.#onException);
    process.on("unhandledRejection", this.#onRejection);
  }

  uninstall(): void {
    process.off("uncaughtException", this.#onException);
    process.off("unhandledRejection", this.#onRejection);
  }
}

/** Waits `n` turns of the event loop (memory transports deliver in `setImmediate` batches). */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}
