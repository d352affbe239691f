import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { FrameReader, type FrameSink, type ReadSlice } from "../../src/frames/frame-reader.js";
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

/**
 * Transfer frames with payloads of `sizes` (payload byte k of frame i is `(i * 37 + k * 11) & 0xff`),
 * and their bodies as a reader given the whole stream at once sees them (hex).
 */
function transferStream(sizes: readonly number[]): { bytes: Buffer; bodies: string[] } {
  const w = new ByteWriter();
  sizes.forEach((size, i) => {
    const at = beginFrame(w, 0, 1);
    writeTransferPerformative(w, {
      handle: 0,
      deliveryId: i,
      deliveryTag: Buffer.from([i]),
      messageFormat: 0,
      settled: false,
      more: false,
    });
    const payload = Buffer.alloc(size);
    for (let k = 0; k < size; k++) payload[k] = (i * 37 + k * 11) & 0xff;
    w.bytes(payload);
    endFrame(w, at);
  });
  const bytes = w.toBuffer();
  const bodies: string[] = [];
  const r = new FrameReader(
    {
      onProtocolHeader() {},
      onFrame(_type, _channel, buf, s, e) {
        bodies.push(buf.subarray(s, e).toString("hex"));
      },
    },
    1 << 20,
  );
  r.push(Buffer.from(bytes));
  return { bytes, bodies };
}

/** What a sink that keeps some frames saw: every body (hex), and the views it kept with their bytes then. */
interface Seen {
  readonly seen: string[];
  readonly kept: { view: Buffer; hex: string }[];
}

/**
 * A reader whose sink keeps frame i when `keeps(i)` and releases the others, recording into `into`;
 * `onBuf` sees the buffer of each frame.
 */
function keepingReader(
  keeps: (i: number) => boolean,
  into: Seen,
  onBuf?: (buf: Buffer) => void,
): FrameReader {
  let i = 0;
  const r: FrameReader = new FrameReader(
    {
      onProtocolHeader() {},
      onFrame(_type, _channel, buf, s, e) {
        const view = buf.subarray(s, e);
        into.seen.push(view.toString("hex"));
        onBuf?.(buf);
        if (keeps(i++)) into.kept.push({ view, hex: view.toString("hex") });
        else r.releaseFrame();
      },
    },
    1 << 20,
  );
  return r;
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

  describe("memory of assembled frames the sink releases", () => {
    /** Transfer frames of sizes that make the reader reuse its spare, outgrow it and skip it. */
    const { bytes: frames, bodies } = transferStream([300, 1200, 500, 2000, 40, 1900, 700, 2000, 0, 1300, 5]);

    /** Feeds `stream` in chunks of `size`; `keeps(i)` tells whether the sink keeps frame i. */
    function collectInto(
      stream: Buffer,
      size: number,
      keeps: (i: number) => boolean,
      seen: string[],
      kept: { view: Buffer; hex: string }[] = [],
    ): void {
      const r = keepingReader(keeps, { seen, kept });
      for (let off = 0; off < stream.length; off += size)
        r.push(Buffer.from(stream.subarray(off, off + size)));
    }

    it("a sink that releases every frame sees every frame byte-exact, at every chunk size and two-chunk split", () => {
      for (let size = 1; size <= frames.length; size += size < 64 ? 1 : 37) {
        const seen: string[] = [];
        collectInto(frames, size, () => false, seen);
        assert.deepEqual(seen, bodies, `chunks of ${size} bytes`);
      }
      for (let at = 1; at < frames.length; at++) {
        const seen: string[] = [];
        const r: FrameReader = new FrameReader(
          {
            onProtocolHeader() {},
            onFrame(_type, _channel, buf, s, e) {
              seen.push(buf.subarray(s, e).toString("hex"));
              r.releaseFrame();
            },
          },
          1 << 20,
        );
        r.push(Buffer.from(frames.subarray(0, at)));
        r.push(Buffer.from(frames.subarray(at)));
        assert.deepEqual(seen, bodies, `split at ${at}`);
      }
    });

    it("frames the sink keeps stay intact while later frames are assembled, whichever frames it releases", () => {
      const patterns: [string, (i: number) => boolean][] = [
        ["every other frame kept", (i) => i % 2 === 0],
        ["every third frame kept", (i) => i % 3 === 0],
        ["only the large frames released", (i) => i % 4 !== 1],
        ["every frame kept", () => true],
      ];
      for (const [name, keeps] of patterns) {
        for (const size of [1, 7, 100, 333, 1024, 2100, 4096]) {
          const seen: string[] = [];
          const kept: { view: Buffer; hex: string }[] = [];
          collectInto(frames, size, keeps, seen, kept);
          assert.deepEqual(seen, bodies, `${name}, chunks of ${size}`);
          assert.ok(kept.length > 0);
          for (const k of kept) assert.equal(k.view.toString("hex"), k.hex, `${name}, chunks of ${size}`);
        }
      }
    });
  });

  describe("reading in place (readInto)", () => {
    /**
     * Feeds `bytes` as a transport that asks where to read does: into the reader's memory when it
     * offers some (at most `size` bytes a read), else into fresh chunks of `size`.
     */
    function readThrough(
      bytes: Buffer,
      size: number,
      minBytes: number,
      keeps: (i: number) => boolean,
    ): { seen: string[]; kept: { view: Buffer; hex: string }[]; inPlace: number; inAssembly: number } {
      const seen: string[] = [];
      const kept: { view: Buffer; hex: string }[] = [];
      let target: Buffer | undefined;
      let inAssembly = 0;
      const r = keepingReader(keeps, { seen, kept }, (buf) => {
        if (target !== undefined && buf.buffer === target.buffer) inAssembly++;
      });
      let inPlace = 0;
      for (let off = 0; off < bytes.length;) {
        target = r.readInto(minBytes);
        if (target !== undefined) {
          assert.ok(target.length >= minBytes, "an offer holds at least minBytes");
          const n = Math.min(size, target.length, bytes.length - off);
          bytes.copy(target, 0, off, off + n);
          r.push(target.subarray(0, n));
          inPlace++;
          off += n;
        } else {
          const n = Math.min(size, bytes.length - off);
          r.push(Buffer.from(bytes.subarray(off, off + n)));
          off += n;
        }
      }
      return { seen, kept, inPlace, inAssembly };
    }

    /** Transfer frames, some far larger than the chunks they are fed in. */
    const { bytes, bodies } = transferStream([5000, 20, 12_000, 0, 3000, 7, 9000]);

    it("frames read into the memory it offers arrive byte-exact, kept or released, at every chunk size", () => {
      const patterns: [string, (i: number) => boolean][] = [
        ["every frame released", () => false],
        ["every frame kept", () => true],
        ["every other frame kept", (i) => i % 2 === 0],
      ];
      for (const [name, keeps] of patterns) {
        for (const size of [1, 9, 100, 1000, 4096, 7000, 20_000]) {
          for (const minBytes of [1, 2048]) {
            const { seen, kept, inPlace, inAssembly } = readThrough(bytes, size, minBytes, keeps);
            const where = `${name}, reads of ${size}, minBytes ${minBytes}`;
            assert.deepEqual(seen, bodies, where);
            for (const k of kept) assert.equal(k.view.toString("hex"), k.hex, where);
            if (size < 12_000) assert.ok(inPlace > 0, `${where}: some reads go in place`);
            // With every rest offered, the last read of a frame goes in place: it arrives in that memory.
            if (size < 12_000 && minBytes === 1)
              assert.ok(inAssembly > 0, `${where}: frames completed in place arrive in the assembly memory`);
          }
        }
      }
    });

    it("offers nothing without a frame being assembled, for fewer than minBytes missing, while yielded and once stopped", () => {
      const r = new FrameReader({ onProtocolHeader() {}, onFrame() {} }, 1 << 20);
      assert.equal(r.readInto(1), undefined, "nothing assembled yet");
      const first = bytes.readUInt32BE(0); // the 5000-byte transfer's frame size
      r.push(Buffer.from(bytes.subarray(0, 100)));
      const target = r.readInto(1000);
      assert.ok(target !== undefined);
      assert.equal(target.length, first - 100, "the rest of the frame");
      assert.equal(r.readInto(first - 99), undefined, "fewer than minBytes missing");
      r.stop();
      assert.equal(r.readInto(1), undefined, "stopped");

      // A slice that ends after every frame: the reader holds the rest and offers nothing until it read it.
      const frames: number[] = [];
      const y: FrameReader = new FrameReader(
        {
          onProtocolHeader() {},
          onFrame(_t, _c, _b, s, e) {
            frames.push(e - s);
          },
        },
        1 << 20,
        { ms: 0, minFrames: 1 },
      );
      const second = first + bytes.readUInt32BE(first);
      y.push(Buffer.from(bytes.subarray(0, second + 100)));
      assert.equal(y.yielded, true);
      assert.equal(y.readInto(1), undefined, "yielded");
      while (y.yielded) y.resume();
      assert.ok(y.readInto(1) !== undefined, "read on: the third frame is being assembled");
    });
  });

  describe("time slices", () => {
    /** Slices of one frame each: the reader stops after every frame. */
    const EVERY_FRAME: ReadSlice = { ms: 0, minFrames: 1 };

    /** A reader with `slice` over the fixture stream, and what it delivered so far. */
    function sliced(slice: ReadSlice | undefined): { r: FrameReader; events: Event[] } {
      const events: Event[] = [];
      const r = new FrameReader(
        {
          onProtocolHeader(header) {
            events.push({ header });
          },
          onFrame(type, channel, buf, s, e) {
            events.push({ type, channel, body: buf.subarray(s, e).toString("hex") });
          },
        },
        1 << 20,
        slice,
      );
      r.expectProtocolHeader();
      return { r, events };
    }

    it("with slices of 0 ms and one frame: every resume() delivers the next frame, in order", () => {
      const { r, events } = sliced(EVERY_FRAME);
      r.push(stream);
      assert.equal(events.length, 1, "the header, then the slice is over");
      assert.equal(r.yielded, true);
      let resumes = 0;
      while (r.yielded) {
        const before: number = events.length;
        r.resume();
        resumes++;
        assert.equal(events.length, before + 1, `resume ${resumes} delivers exactly one frame`);
      }
      assert.deepEqual(events, whole);
      assert.equal(resumes, whole.length - 1);
    });

    it("holds what is pushed while it is yielded and reads it in order, at every split point", () => {
      for (const size of [1, 7, 64, 700]) {
        const { r, events } = sliced(EVERY_FRAME);
        for (let off = 0; off < stream.length; off += size) {
          r.push(Buffer.from(stream.subarray(off, off + size)));
          // Held chunks are not read while the reader is yielded.
          if (r.yielded) {
            const before = events.length;
            r.push(Buffer.alloc(0));
            assert.equal(events.length, before);
          }
        }
        while (r.yielded) r.resume();
        assert.deepEqual(events, whole, `chunks of ${size} bytes`);
      }
    });

    it("drain() reads everything held at once, whatever the slice", () => {
      const { r, events } = sliced(EVERY_FRAME);
      r.push(stream.subarray(0, 100));
      r.push(stream.subarray(100));
      assert.equal(r.yielded, true);
      r.drain();
      assert.equal(r.yielded, false);
      assert.deepEqual(events, whole);
    });

    it("by default a slice delivers 64 frames at least, however long they take", () => {
      const w = new ByteWriter();
      w.bytes(protocolHeader(ProtocolId.Amqp));
      for (let i = 0; i < 100; i++) writeEmptyFrame(w);
      const hundred = w.toBuffer();
      const { r, events } = sliced({ ms: 0 });
      r.push(hundred.subarray(0, 8 + 50 * 8));
      assert.equal(events.length, 51, "a burst under the floor is read whole");
      assert.equal(r.yielded, false);
      r.push(hundred.subarray(8 + 50 * 8));
      assert.equal(events.length, 64, "then the slice ends at the floor");
      assert.equal(r.yielded, true);
      r.resume();
      assert.equal(events.length, 101);
    });

    /** A reader over a header and `frames` frames of `size` bytes whose first frame takes 10 ms. */
    function slowFirst(frames: number, size: number): { r: FrameReader; delivered: () => number } {
      const w = new ByteWriter();
      w.bytes(protocolHeader(ProtocolId.Amqp));
      for (let i = 0; i < frames; i++) {
        if (size === 8) {
          writeEmptyFrame(w);
          continue;
        }
        const at = beginFrame(w, 0, 0);
        w.bytes(Buffer.alloc(size - 8));
        endFrame(w, at);
      }
      let delivered = 0;
      const r = new FrameReader(
        {
          onProtocolHeader() {
            delivered++;
          },
          onFrame() {
            delivered++;
            // The first frame takes longer than the whole slice.
            if (delivered === 2) {
              const until = performance.now() + 10;
              while (performance.now() < until);
            }
          },
        },
        1 << 20,
        { ms: 5, minFrames: 1 },
      );
      r.expectProtocolHeader();
      r.push(w.toBuffer());
      return { r, delivered: () => delivered };
    }

    it("past the floor small frames are timed 8 at a time: a slice that ran over ends at the next 8th", () => {
      const { r, delivered } = slowFirst(40, 8);
      // Timed at the floor (1: the header), then after 8 more: the 9th ends the slice.
      assert.equal(delivered(), 9);
      assert.equal(r.yielded, true);
      r.resume();
      assert.equal(delivered(), 41);
    });

    it("frames of 56 KiB or more are timed one by one", () => {
      const { r, delivered } = slowFirst(4, 56 * 1024);
      assert.equal(delivered(), 2, "the slow frame ends the slice");
      assert.equal(r.yielded, true);
      r.resume();
      assert.equal(delivered(), 5);
    });

    it("stop() drops what is held; no slice (the default) never yields", () => {
      const { r, events } = sliced(EVERY_FRAME);
      r.push(stream);
      r.stop();
      assert.equal(r.yielded, false);
      r.resume();
      assert.equal(events.length, 1);
      const unlimited = sliced(undefined);
      unlimited.r.push(stream);
      assert.equal(unlimited.r.yielded, false);
      assert.deepEqual(unlimited.events, whole);
    });

    it("a framing error in held bytes is thrown by resume()", () => {
      const { r } = sliced(EVERY_FRAME);
      r.push(
        Buffer.concat([stream.subarray(0, 8), Buffer.from([0, 0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0])]),
      );
      assert.equal(r.yielded, true);
      r.resume();
      assert.throws(() => {
        r.resume();
      }, FramingError);
      assert.equal(r.stopped, true);
    });
  });
});
