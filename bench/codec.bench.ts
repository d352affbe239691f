/**
 * Codec benchmark: our codec against rhea 3's, in the same process.
 *
 *   node --import tsx bench/codec.bench.ts [--duration=3000] [--only=<row substring>] [--ours-only]
 *
 * Each row alternates ours and rhea's in rounds (see `compare` in harness.ts) and reports the best
 * round of each, measured in CPU time. Not part of `npm test`; nothing here asserts on time.
 *
 * Cases:
 *  (a) a typical message: properties (message-id, correlation-id, content-type), 2 message
 *      annotations, 5 application properties of mixed types and a 256-byte string amqp-value body,
 *      encoded as its AMQP sections and decoded back to JS objects;
 *  (b) a map of 1000 entries (string keys, mixed values) encoded and decoded as one value;
 *  (c) the message of (a) through the public API: `new Message(...).encode()` and
 *      `Message.decode(bytes)` (a `Message` with its typed properties and sections);
 *  (d) the message of (c) encoded as a send encodes it (encode only): ours measured, then written
 *      into a reused writer as into a frame (`measureToWrite`, `writeTo`: what `MessageSender.send`
 *      and `SendClient` do), against rhea's `message.encode` (what its `send` does);
 *  (e) the frames a link exchanges besides its transfers: a FLOW (7 fields) and a DISPOSITION
 *      (role, first, last, settled, accepted) encoded as whole frames and decoded back to their
 *      fields (rhea: `frames.write_frame` and `frames.read_frame`).
 *
 * Both sides produce plain JS values on decode (rhea: `types.unwrap` after `Reader.read`).
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import rhea from "rhea";
import { readDescriptorKey, readFields } from "../src/codec/composite.js";
import { Decoder } from "../src/codec/decoder.js";
import { HeaderSection, PropertiesSection, SectionCode } from "../src/codec/definitions/messaging.js";
import { writeCompositeFrame } from "../src/frames/frame-writer.js";
import { Disposition, Flow, readPerformativeCode } from "../src/frames/performatives.js";
import { encodeValue, writeObjectMap } from "../src/codec/encoder.js";
import { writeSymbol } from "../src/codec/scalar-writers.js";
import { FormatCode as F } from "../src/codec/format-codes.js";
import { amqpEquals, decode, encode } from "../src/codec/index.js";
import { Message, dropMeasure } from "../src/message/message.js";
import { AMQPDouble, AMQPSymbol, type AMQPValue } from "../src/codec/values.js";
import { DecodeError } from "../src/errors/decode-error.js";
import { ByteWriter } from "../src/util/byte-writer.js";
import { compare, fmtOps, measure, printTable, type BenchResult } from "./harness.js";

const rheaTypes = (rhea as any).types;
const rheaMessage = (rhea as any).message;
// rhea's frame module (not exported; rhea has no `exports` map, so its file loads): `write_frame`,
// `read_frame` and a constructor per performative.
const rheaFrames = createRequire(import.meta.url)("rhea/lib/frames.js");

const durationArg = process.argv.find((a) => a.startsWith("--duration="));
const DURATION = durationArg ? Number(durationArg.slice("--duration=".length)) : 3000;
/** `--only=<substring>` runs only the matching rows (e.g. `--only="(a) message decode"`), for profiling. */
const onlyArg = process.argv.find((a) => a.startsWith("--only="));
const ONLY = onlyArg?.slice("--only=".length);
/** `--ours-only` skips rhea's side (for profiling our code). */
const OURS_ONLY = process.argv.includes("--ours-only");

// ---- (a) a typical message -------------------------------------------------------------------

const BODY = "x".repeat(200) + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"; // 256 chars
assert.equal(Buffer.byteLength(BODY), 256);
const CREATED = new Date(1_700_000_000_000);

interface OurMessage {
  header?: ReturnType<typeof HeaderSection.decodeBody>;
  properties: ReturnType<typeof PropertiesSection.decodeBody>;
  messageAnnotations: Record<string, AMQPValue>;
  applicationProperties: Record<string, AMQPValue>;
  body: AMQPValue;
}

const ourMessage: OurMessage = {
  properties: {
    messageId: "msg-00000000-0000-0000-0000-000000000001",
    correlationId: "corr-42",
    contentType: "application/json",
  },
  messageAnnotations: { "x-opt-partition-key": "pk-7", "x-opt-sequence-number": 12345 },
  applicationProperties: { name: "widget", count: 42, price: 12.5, urgent: true, created: CREATED },
  body: BODY,
};

const rheaMsg = {
  message_id: ourMessage.properties.messageId,
  correlation_id: ourMessage.properties.correlationId,
  content_type: ourMessage.properties.contentType,
  message_annotations: { ...ourMessage.messageAnnotations },
  application_properties: { ...ourMessage.applicationProperties },
  body: BODY,
};

const writer = new ByteWriter(1024);

function writeSectionDescriptor(w: ByteWriter, code: number): void {
  w.u8u8(F.Described, F.SmallUlong);
  w.u8(code);
}

/** Our message encoding: the four sections, built with the codec primitives. */
function ourEncodeMessage(m: OurMessage): Buffer {
  const w = writer;
  w.reset();
  PropertiesSection.encode(w, m.properties);
  writeSectionDescriptor(w, SectionCode.MessageAnnotations);
  writeObjectMap(w, m.messageAnnotations, writeSymbol);
  writeSectionDescriptor(w, SectionCode.ApplicationProperties);
  writeObjectMap(w, m.applicationProperties);
  writeSectionDescriptor(w, SectionCode.AmqpValue);
  encodeValue(w, m.body);
  return w.take();
}

function mapSection(d: Decoder, name: string): Record<string, AMQPValue> {
  const code = d.u8();
  if (code !== F.Map8 && code !== F.Map32) throw new DecodeError(`${name} expects a map`, d.pos - 1, code);
  return readFields(d, code, "message", name);
}

/** Our message decoding: sections back to a plain message object. */
function ourDecodeMessage(bytes: Buffer): OurMessage {
  const d = new Decoder(bytes);
  const m: Partial<OurMessage> = {};
  while (d.pos < d.end) {
    const at = d.pos;
    if (d.u8() !== F.Described) throw new DecodeError("expected a section", at);
    const key = readDescriptorKey(d);
    switch (key) {
      case SectionCode.Header: // rhea always writes one
        m.header = HeaderSection.decodeBody(d);
        break;
      case SectionCode.Properties:
        m.properties = PropertiesSection.decodeBody(d);
        break;
      case SectionCode.MessageAnnotations:
        m.messageAnnotations = mapSection(d, "messageAnnotations");
        break;
      case SectionCode.ApplicationProperties:
        m.applicationProperties = mapSection(d, "applicationProperties");
        break;
      case SectionCode.AmqpValue:
        m.body = d.value();
        break;
      default:
        throw new DecodeError("unexpected section", at);
    }
  }
  return m as OurMessage;
}

// ---- (b) a map of 1000 entries ---------------------------------------------------------------

function mixedValue(i: number): string | number | boolean | Date {
  switch (i % 5) {
    case 0:
      return `value-${i}`;
    case 1:
      return i * 7;
    case 2:
      return i + 0.25;
    case 3:
      return i % 2 === 0;
    default:
      return new Date(1_700_000_000_000 + i);
  }
}

const bigObject: Record<string, string | number | boolean | Date> = {};
for (let i = 0; i < 1000; i++) bigObject[`key-${i}`] = mixedValue(i);
const bigMap = new Map<AMQPValue, AMQPValue>(Object.entries(bigObject));

function rheaEncodeMap(o: object): Buffer {
  const w = new rheaTypes.Writer();
  w.write(rheaTypes.wrap_map(o));
  return w.toBuffer();
}

function rheaDecodeMap(b: Buffer): unknown {
  return rheaTypes.unwrap(new rheaTypes.Reader(b).read());
}

// ---- sanity checks: both sides agree on the bytes they exchange ------------------------------

const ourMsgBytes = ourEncodeMessage(ourMessage);
const rheaMsgBytes: Buffer = rheaMessage.encode(rheaMsg);
{
  const fromRhea = ourDecodeMessage(rheaMsgBytes);
  assert.equal(fromRhea.body, BODY);
  assert.equal(fromRhea.properties.messageId, ourMessage.properties.messageId);
  const inRhea = rheaMessage.decode(ourMsgBytes);
  assert.equal(inRhea.body, BODY);
  assert.equal(inRhea.application_properties.count, 42);
  assert.equal(inRhea.message_annotations["x-opt-sequence-number"], 12345);
  const back = ourDecodeMessage(ourMsgBytes);
  assert.ok(amqpEquals(back.applicationProperties["price"], new AMQPDouble(12.5)));
  assert.equal(back.messageAnnotations["x-opt-partition-key"], "pk-7");
}
const ourMapBytes = Buffer.from(encode(bigMap));
const rheaMapBytes = rheaEncodeMap(bigObject);
{
  const back = decode(ourMapBytes) as Map<AMQPValue, AMQPValue>;
  assert.equal(back.size, 1000);
  assert.ok(amqpEquals(back.get("key-2"), new AMQPDouble(2.25)));
  const inRhea = rheaDecodeMap(ourMapBytes) as Record<string, unknown>;
  assert.equal(inRhea["key-7"], 7.25);
  const fromRhea = decode(rheaMapBytes) as Map<AMQPValue, AMQPValue>;
  assert.equal(fromRhea.size, 1000);
  assert.ok(!(fromRhea.keys().next().value instanceof AMQPSymbol));
}

// ---- (c) the message of (a) through the public Message API -------------------------------------

function apiMessage(): Message {
  return new Message({
    body: BODY,
    bodyType: "value",
    properties: {
      messageId: "msg-00000000-0000-0000-0000-000000000001",
      correlationId: "corr-42",
      contentType: "application/json",
    },
    messageAnnotations: ourMessage.messageAnnotations,
    applicationProperties: ourMessage.applicationProperties,
  });
}
const apiBytes = apiMessage().encode();
{
  const back = Message.decode(apiBytes);
  assert.equal(back.value, BODY);
  assert.equal(back.properties?.messageId, ourMessage.properties.messageId);
  assert.equal(back.applicationProperties?.["count"], 42);
  const inRhea = rheaMessage.decode(Buffer.from(apiBytes));
  assert.equal(inRhea.body, BODY);
  assert.equal(Message.decode(rheaMsgBytes).value, BODY);
}

// ---- (d) the message of (c) as a send encodes it -----------------------------------------------

const sendMessage = apiMessage();
/** The frame buffer's stand-in: a send writes the message after the transfer performative. */
const frameWriter = new ByteWriter(64 * 1024);
function ourSendEncoding(): number {
  frameWriter.reset();
  const size = sendMessage.measureToWrite();
  sendMessage.writeTo(frameWriter);
  dropMeasure();
  return size;
}
assert.equal(ourSendEncoding(), apiBytes.length);
assert.deepEqual(frameWriter.view(), Buffer.from(apiBytes));

// ---- (e) a FLOW and a DISPOSITION frame ----------------------------------------------------------

const flowFields = {
  nextIncomingId: 4000,
  incomingWindow: 2048,
  nextOutgoingId: 1,
  outgoingWindow: 2048,
  handle: 0,
  deliveryCount: 3000,
  linkCredit: 1000,
};
const dispositionFields = {
  role: true,
  first: 3000,
  last: 3999,
  settled: true,
  state: { type: "accepted" as const },
};
const performativeWriter = new ByteWriter(256);
function ourPerformativesEncode(): number {
  const w = performativeWriter;
  w.reset();
  writeCompositeFrame(w, 0, 0, Flow, flowFields);
  writeCompositeFrame(w, 0, 0, Disposition, dispositionFields);
  return w.pos;
}
ourPerformativesEncode();
const ourPerformativeBytes = Buffer.from(performativeWriter.view());
const ourFlowEnd = ourPerformativeBytes.readUInt32BE(0);
/** Each frame's body (after its 8-byte header) decoded to its fields. */
function ourPerformativesDecode(): unknown {
  const flow = new Decoder(ourPerformativeBytes.subarray(8, ourFlowEnd));
  readPerformativeCode(flow);
  const disposition = new Decoder(ourPerformativeBytes.subarray(ourFlowEnd + 8));
  readPerformativeCode(disposition);
  return [Flow.decodeBody(flow), Disposition.decodeBody(disposition)];
}
const rheaFlow = {
  next_incoming_id: 4000,
  incoming_window: 2048,
  next_outgoing_id: 1,
  outgoing_window: 2048,
  handle: 0,
  delivery_count: 3000,
  link_credit: 1000,
};
const rheaDisposition = {
  role: true,
  first: 3000,
  last: 3999,
  settled: true,
  state: new rheaMessage.accepted().described(),
};
function rheaPerformativesEncode(): Buffer[] {
  return [
    rheaFrames.write_frame(rheaFrames.amqp_frame(0, rheaFrames.flow(rheaFlow).described())),
    rheaFrames.write_frame(rheaFrames.amqp_frame(0, rheaFrames.disposition(rheaDisposition).described())),
  ];
}
const rheaPerformativeBuffers = rheaPerformativesEncode();
const rheaPerformativeBytes = Buffer.concat(rheaPerformativeBuffers);
function rheaPerformativesDecode(): unknown {
  return [
    rheaFrames.read_frame(rheaPerformativeBuffers[0]),
    rheaFrames.read_frame(rheaPerformativeBuffers[1]),
  ];
}
{
  const [flow, disposition] = ourPerformativesDecode() as [Record<string, unknown>, Record<string, unknown>];
  assert.deepEqual(flow, flowFields);
  assert.deepEqual(disposition, dispositionFields);
  // Each side reads the other's frames.
  const theirFlow = rheaFrames.read_frame(ourPerformativeBytes.subarray(0, ourFlowEnd));
  const theirDisposition = rheaFrames.read_frame(ourPerformativeBytes.subarray(ourFlowEnd));
  assert.equal(theirFlow.performative.link_credit, 1000);
  assert.equal(theirDisposition.performative.last, 3999);
  const back = new Decoder(rheaPerformativeBuffers[1]!.subarray(8));
  readPerformativeCode(back);
  assert.equal(Disposition.decodeBody(back).last, 3999);
}

// ---- run --------------------------------------------------------------------------------------

interface Case {
  label: string;
  bytes: [number, number];
  /** Encode, then decode (none for a case of encoding only). */
  ours: [() => unknown, (() => unknown)?];
  rhea: [() => unknown, (() => unknown)?];
}

const cases: Case[] = [
  {
    label: "(a) message",
    bytes: [ourMsgBytes.length, rheaMsgBytes.length],
    ours: [() => ourEncodeMessage(ourMessage), () => ourDecodeMessage(ourMsgBytes)],
    rhea: [() => rheaMessage.encode(rheaMsg), () => rheaMessage.decode(rheaMsgBytes)],
  },
  {
    label: "(b) map of 1000",
    bytes: [ourMapBytes.length, rheaMapBytes.length],
    ours: [() => encode(bigMap), () => decode(ourMapBytes)],
    rhea: [() => rheaEncodeMap(bigObject), () => rheaDecodeMap(rheaMapBytes)],
  },
  {
    label: "(c) Message API",
    bytes: [apiBytes.length, rheaMsgBytes.length],
    ours: [() => apiMessage().encode(), () => Message.decode(apiBytes)],
    rhea: [() => rheaMessage.encode(rheaMsg), () => rheaMessage.decode(rheaMsgBytes)],
  },
  {
    label: "(d) as a send",
    bytes: [apiBytes.length, rheaMsgBytes.length],
    ours: [ourSendEncoding],
    rhea: [() => rheaMessage.encode(rheaMsg)],
  },
  {
    label: "(e) flow + disposition",
    bytes: [ourPerformativeBytes.length, rheaPerformativeBytes.length],
    ours: [ourPerformativesEncode, ourPerformativesDecode],
    rhea: [rheaPerformativesEncode, rheaPerformativesDecode],
  },
];

const rows: string[][] = [];
for (const c of cases) {
  for (const [i, op] of (["encode", "decode"] as const).entries()) {
    const label = `${c.label} ${op}`;
    const ours = c.ours[i];
    const theirs = c.rhea[i];
    if (ours === undefined || theirs === undefined) continue;
    if (ONLY !== undefined && !label.includes(ONLY)) continue;
    let o: BenchResult;
    let r: BenchResult | undefined;
    if (OURS_ONLY) o = measure(`ours ${label}`, ours, DURATION);
    else
      [o, r] = compare(
        [
          { name: `ours ${label}`, fn: ours },
          { name: `rhea ${label}`, fn: theirs },
        ],
        DURATION,
      ) as [BenchResult, BenchResult];
    rows.push([
      label,
      `${c.bytes[0]} / ${c.bytes[1]}`,
      fmtOps(o.opsPerSec),
      r ? fmtOps(r.opsPerSec) : "-",
      r ? `${(o.opsPerSec / r.opsPerSec).toFixed(1)}x` : "-",
    ]);
  }
}

console.log(
  `node ${process.version}, ${process.platform} ${process.arch}, duration ${DURATION} ms per case\n`,
);
printTable(["case", "bytes (ours / rhea)", "ours ops/s", "rhea ops/s", "ours / rhea"], rows);
