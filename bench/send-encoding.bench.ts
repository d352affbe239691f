/**
 * What a send spends encoding a message, the two ways the library can do it, in one process:
 * measured (`encodedSize`) and then encoded again into the frame (`writeTo`), as sends did before
 * 1ddcd4c, against measured with `measureToWrite` and then copied into the frame from what the
 * measure encoded (what `MessageSender.send` and `SendClient` do now; see bench/README.md, "One
 * flush per write, one encoding per send").
 *
 *   node --import tsx bench/send-encoding.bench.ts [--duration=3000]
 *
 * Ours only (rhea's side of the same encoding is row (d) of bench/codec.bench.ts). CPU time, best of
 * alternating rounds (`compare` in harness.ts). Not part of `npm test`.
 */
import assert from "node:assert/strict";
import { Message, dropMeasure } from "../src/message/message.js";
import { AMQPSymbol } from "../src/codec/values.js";
import { ByteWriter } from "../src/util/byte-writer.js";
import { compare, fmtOps, machineLine, printTable } from "./harness.js";

const durationArg = process.argv.find((a) => a.startsWith("--duration="));
const DURATION = durationArg ? Number(durationArg.slice("--duration=".length)) : 3000;

const messages: [string, Message][] = [
  [
    "typical: properties, 2 annotations, 5 application properties, 256-character value body",
    new Message({
      body: "x".repeat(256),
      bodyType: "value",
      properties: { messageId: "id-1", correlationId: "c-1", contentType: "application/json" },
      messageAnnotations: { "x-opt-a": 1, "x-opt-b": new AMQPSymbol("b") },
      applicationProperties: { a: "s", b: 1, c: 1.5, d: true, e: new Date(0) },
    }),
  ],
  [
    "request: message-id, reply-to, 16 B Data body",
    new Message({ body: Buffer.alloc(16), properties: { messageId: "request-1", replyTo: "replies-1" } }),
  ],
  ["16 B Data body, nothing else", new Message({ body: Buffer.alloc(16) })],
];

/** The frame buffer's stand-in: a send writes the message after the transfer performative. */
const frame = new ByteWriter(64 * 1024);

const rows: string[][] = [];
for (const [label, m] of messages) {
  const twice = (): number => {
    frame.reset();
    const size = m.encodedSize;
    m.writeTo(frame);
    return size;
  };
  const once = (): number => {
    frame.reset();
    const size = m.measureToWrite();
    m.writeTo(frame);
    dropMeasure();
    return size;
  };
  const want = Buffer.from(m.encode());
  for (const way of [twice, once]) {
    assert.equal(way(), want.length);
    assert.deepEqual(frame.view(), want);
  }
  const [a, b] = compare(
    [
      { name: "encoded again", fn: twice },
      { name: "copied", fn: once },
    ],
    DURATION,
  );
  rows.push([
    label,
    String(want.length),
    `${(1e9 / a!.opsPerSec).toFixed(0)} ns (${fmtOps(a!.opsPerSec)}/s)`,
    `${(1e9 / b!.opsPerSec).toFixed(0)} ns (${fmtOps(b!.opsPerSec)}/s)`,
  ]);
}

console.log(`${machineLine()}\n`);
printTable(["message", "bytes", "measured, then encoded again", "measured, then copied"], rows);
