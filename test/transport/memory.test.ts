import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMemoryTransportPair, TransportError } from "../../src/transport/index.js";
import { echo, pattern, record, Recorder, settle, within } from "./helpers.js";

describe("memory transport pair", { timeout: 30_000 }, () => {
  it("delivers writes asynchronously, never inside write()", async () => {
    const [a, b] = createMemoryTransportPair();
    const rb = record(b);
    a.write(Buffer.from("x"));
    assert.equal(rb.bytes, 0);
    assert.equal((await rb.waitBytes(1)).toString(), "x");
    a.destroy();
  });

  it("with chunkSize 1 delivers identical bytes one at a time, in both directions", async () => {
    const [a, b] = createMemoryTransportPair({ chunkSize: 1 });
    const ra = record(a);
    echo(b);
    const payload = pattern(3000, 7);
    a.writev([payload.subarray(0, 1000), payload.subarray(1000, 1001)]);
    a.write(payload.subarray(1001));
    const got = await ra.waitBytes(payload.length);
    assert.ok(got.equals(payload));
    assert.equal(ra.chunks.length, payload.length);
    assert.ok(ra.chunks.every((c) => c.length === 1));
    a.destroy();
  });

  it("re-chunks into pieces of chunkSize", async () => {
    const [a, b] = createMemoryTransportPair({ chunkSize: 4 });
    const rb = record(b);
    a.write(Buffer.from("0123456789"));
    await rb.waitBytes(10);
    assert.deepEqual(
      rb.chunks.map((c) => c.toString()),
      ["0123", "4567", "89"],
    );
    a.destroy();
  });

  it("delivered chunks do not alias the writer's buffer", async () => {
    const [a, b] = createMemoryTransportPair();
    const rb = record(b);
    const source = Buffer.from("abc");
    a.write(source);
    const got = await rb.waitBytes(3);
    source.fill(0x7a);
    assert.equal(got.toString(), "abc");
    assert.equal(rb.chunks[0]!.toString(), "abc");
    a.destroy();
  });

  it("queues data until the peer sets its handler", async () => {
    const [a, b] = createMemoryTransportPair();
    a.write(Buffer.from("early"));
    await settle();
    const rb = record(b);
    assert.equal((await rb.waitBytes(5)).toString(), "early");
    a.destroy();
  });

  it("simulates back-pressure with highWaterMark: false above it, onDrain once the peer received", async () => {
    const [a, b] = createMemoryTransportPair({ highWaterMark: 10 });
    const ra = record(a);
    assert.equal(a.write(Buffer.alloc(6)), true);
    assert.equal(a.write(Buffer.alloc(6)), false, "12 bytes queued > 10");
    assert.equal(a.bufferedBytes, 12);
    await settle();
    assert.equal(ra.drains, 0, "no drain while the peer has no handler");
    const rb = record(b);
    await ra.waitDrain();
    assert.equal(rb.bytes, 12);
    assert.equal(a.bufferedBytes, 0);
    assert.equal(ra.drains, 1);
    a.destroy();
  });

  it("pause() holds the peer's bytes, and its end, until resume()", async () => {
    const [a, b] = createMemoryTransportPair();
    const rb = record(b);
    b.pause();
    a.write(Buffer.from("held"));
    a.end();
    await settle();
    assert.equal(rb.bytes, 0, "nothing is delivered while paused");
    assert.equal(rb.closeCalls, 0, "nor the end behind the bytes");
    b.resume();
    assert.equal((await rb.waitBytes(4)).toString(), "held");
    assert.equal(await within(rb.closed, "the close after the held bytes"), undefined);
  });

  it("end() delivers queued bytes both ways, then closes both ends gracefully, once", async () => {
    const [a, b] = createMemoryTransportPair({ chunkSize: 2 });
    const ra = record(a);
    const rb = new Recorder();
    b.setHandler({
      onData(chunk) {
        rb.onData(chunk);
        b.write(Buffer.from(chunk.toString().toUpperCase()));
      },
      onDrain: () => rb.onDrain(),
      onClose: (e) => rb.onClose(e),
    });
    a.write(Buffer.from("last words"));
    a.end();
    assert.equal(a.write(Buffer.from("more")), false);
    assert.equal(await rb.waitClosed(), undefined);
    assert.equal(await ra.waitClosed(), undefined);
    assert.equal(rb.received().toString(), "last words");
    assert.equal(ra.received().toString(), "LAST WORDS", "the peer's replies arrive before the close");
    a.destroy();
    b.end();
    await settle();
    assert.equal(ra.closeCalls, 1);
    assert.equal(rb.closeCalls, 1);
    assert.equal(ra.callsAfterClose + rb.callsAfterClose, 0);
  });

  it("destroy(error): onClose(error) locally, a retryable reset at the peer, queued bytes dropped", async () => {
    const [a, b] = createMemoryTransportPair();
    const ra = record(a);
    const rb = record(b);
    const reason = new Error("gone");
    a.write(Buffer.from("dropped"));
    a.destroy(reason);
    assert.equal(a.write(Buffer.from("x")), false);
    assert.equal(await ra.waitClosed(), reason);
    const peerError = await rb.waitClosed();
    assert.ok(peerError instanceof TransportError);
    assert.equal(peerError.retryable, true);
    assert.equal(peerError.systemCode, "ECONNRESET");
    await settle();
    assert.equal(rb.bytes, 0);
    assert.equal(ra.closeCalls, 1);
    assert.equal(rb.closeCalls, 1);
  });

  it("destroy() without error closes the peer cleanly", async () => {
    const [a, b] = createMemoryTransportPair();
    const ra = record(a);
    const rb = record(b);
    b.destroy();
    assert.equal(await ra.waitClosed(), undefined);
    assert.equal(await rb.waitClosed(), undefined);
  });

  it("a close that happened before setHandler is delivered after the queued data", async () => {
    const [a, b] = createMemoryTransportPair();
    record(a);
    a.write(Buffer.from("data"));
    a.end();
    await settle();
    const events: string[] = [];
    await within(
      new Promise<void>((resolve) => {
        b.setHandler({
          onData: (c) => events.push(`data:${c.toString()}`),
          onDrain: () => events.push("drain"),
          onClose: (e) => {
            events.push(`close:${String(e)}`);
            resolve();
          },
        });
      }),
      "close of b",
    );
    assert.deepEqual(events, ["data:data", "close:undefined"]);
  });

  it("handlers may replace themselves while data is being delivered", async () => {
    const [a, b] = createMemoryTransportPair({ chunkSize: 3 });
    const second = record(b);
    const firstChunks: string[] = [];
    b.setHandler({
      onData(chunk) {
        firstChunks.push(chunk.toString());
        b.setHandler(second); // e.g. SASL done: the engine takes over
      },
      onDrain() {},
      onClose() {},
    });
    a.write(Buffer.from("abcdefghi"));
    await second.waitBytes(6);
    assert.deepEqual(firstChunks, ["abc"]);
    assert.equal(second.received().toString(), "defghi");
    a.destroy();
  });

  it("rejects a chunkSize below 1", () => {
    assert.throws(() => createMemoryTransportPair({ chunkSize: 0 }), RangeError);
  });
});
