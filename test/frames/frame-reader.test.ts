import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { FrameReader, type FrameSink } from "../../src/frames/frame-reader.js";
import { FramingError } from "../../src/frames/framing-error.js";
import { protocolHeader, ProtocolId, type ProtocolHeader } from "../../src/frames/protocol-header.js";
import {
  writeCompositeFrame,
  writeEmptyFrame,
  writeTransferPerformative,
  beginFrame,
  endFrame,
} from "../../src/frames/frame-writer.js";
import { Open, Begin, Flow, Close } from "../../src/frames/performatives.js";
import { loadVectors } from "../support/vectors.js";

type Event = { header: ProtocolHeader } | { type: number; channel: number; body: string };

function collect(chunks: Buffer[], maxFrameSize = 1 << 20, headerFirst = true): Event[] {
  const events: Event[] = [];
  const sink: FrameSink = {
    onProtocolHeader(header) {
      events.push({ header });
    },
    onFrame(type, channel, buf, s, e) {
      events.push({ type, channel, body: buf.subarray(s, e).toString("hex") });
    },
  };
  const r = new FrameReader(sink, maxFrameSize);
  if (headerFirst) r.expectProtocolHeader();
  for (const c of chunks) r.push(c);
  return events;
}

/** A stream: AMQP header, then frames of every shape (empty, small, large, multi-channel). */
function fixtureStream(): Buffer {
  const w = new ByteWriter();
  w.bytes(protocolHeader(ProtocolId.Amqp));
  writeCompositeFrame(w, 0, 0, Open, {
    containerId: "c1",
    hostname: "h",
    maxFrameSize: 65536,
    offeredCapabilities: ["A", "B"],
  });
  writeCompositeFrame(w, 0, 3, Begin, { nextOutgoingId: 0, incomingWindow: 100, outgoingWindow: 100 });
  writeEmptyFrame(w);
  writeCompositeFrame(w, 0, 3, Flow, {
    incomingWindow: 1,
    nextOutgoingId: 2,
    outgoingWindow: 3,
    handle: 0,
    linkCredit: 500,
  });
  for (const size of [0, 1, 100, 3000]) {
    const at = beginFrame(w, 0, 7);
    writeTransferPerformative(w, {
      handle: 1,
      deliveryId: size,
      deliveryTag: Buffer.from([size & 0xff]),
      messageFormat: 0,
      settled: size % 2 === 0,
      more: false,
    });
    w.bytes(Buffer.alloc(size, size & 0xff));
    endFrame(w, at);
  }
  writeCompositeFrame(w, 0, 0, Close, {});
  for (const v of loadVectors().filter((x) => x.type === "frame")) w.bytes(Buffer.from(v.hex, "hex"));
  return w.toBuffer();
}

describe("FrameReader", () => {
  const stream = fixtureStream();
  const whole = collect([stream]);

  it("parses the fixture stream", () => {
    assert.ok(whole.length >= 12);
    assert.deepEqual(whole[0], { header: { id: 0, major: 1, minor: 0, revision: 0 } });
    assert.ok(
      whole.some((e) => "body" in e && e.body === ""),
      "the heartbeat is delivered with an empty body",
    );
  });

  it("yields identical frames when fed one byte at a time", () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
    assert.deepEqual(collect(chunks), whole);
  });

  it("yields identical frames at every two-chunk split point", () => {
    for (let i = 1; i < stream.length; i++) {
      assert.deepEqual(collect([stream.subarray(0, i), stream.subarray(i)]), whole, `split at ${i}`);
    }
  });

  it("yields identical frames at random split points", () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      let off = 0;
      while (off < stream.length) {
        const n = 1 + Math.floor(rand() * 700);
        chunks.push(Buffer.from(stream.subarray(off, off + n)));
        off += n;
      }
      assert.deepEqual(collect(chunks), whole);
    }
  });

  it("rejects a frame larger than max-frame-size before allocating it", () => {
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xf0, 2, 0, 0, 0]);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(
      () => collect([huge], 512, false),
      (e: unknown) => e instanceof FramingError && e.condition === "amqp:connection:framing-error",
    );
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
  });

  it("rejects a frame size below 8 and a bad data offset", () => {
    assert.throws(() => collect([Buffer.from([0, 0, 0, 4, 2, 0, 0, 0])], 512, false), FramingError);
    assert.throws(() => collect([Buffer.from([0, 0, 0, 8, 1, 0, 0, 0])], 512, false), FramingError);
    assert.throws(() => collect([Buffer.from([0, 0, 0, 8, 3, 0, 0, 0])], 512, false), FramingError);
  });

  it("rejects a stream that does not start with an AMQP header", () => {
    assert.throws(() => collect([Buffer.from("HTTP/1.1 200 OK\r\n")]), FramingError);
  });
});
