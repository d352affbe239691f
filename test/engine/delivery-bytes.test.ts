/**
 * `DeliveryBytes`: the payload of a multi-frame delivery, gathered frame by frame into one buffer
 * sized from the size fields the bytes announce.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DeliveryBytes } from "../../src/engine/delivery-bytes.js";
import { Message } from "../../src/message/index.js";

const SEED = 0x6a7e21;

/** `bytes` cut into frames of the given sizes (the last frame takes the rest). */
function frames(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const n of sizes) {
    if (at >= bytes.length) break;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  if (at < bytes.length) out.push(bytes.subarray(at));
  return out;
}

function gather(parts: readonly Buffer[], limit = 0): DeliveryBytes {
  const g = new DeliveryBytes(parts[0]!, limit);
  for (const p of parts.slice(1)) g.append(p);
  return g;
}

const encoded = (m: Message): Buffer => Buffer.from(m.encode());

describe("DeliveryBytes", () => {
  it("gathers any message cut anywhere (frames of 1 byte, cuts inside size fields, empty frames) byte-exact", () => {
    const message = fc.record({
      body: fc.oneof(
        fc.integer({ min: 0, max: 70_000 }).map((n) => Buffer.alloc(n, 0xa5)),
        fc.array(
          fc.integer({ min: 0, max: 3000 }).map((n) => Buffer.alloc(n, 0x5a)),
          { minLength: 1, maxLength: 4 },
        ),
        fc.string({ maxLength: 400 }).map((s) => ({ value: s })),
      ),
      subject: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
      footer: fc.boolean(),
    });
    fc.assert(
      fc.property(
        message,
        fc.array(fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 10, max: 20_000 })), {
          minLength: 1,
          maxLength: 40,
        }),
        (m, sizes) => {
          const body = m.body;
          const bytes = encoded(
            new Message({
              ...(Array.isArray(body) || Buffer.isBuffer(body)
                ? { body }
                : { body: body.value, bodyType: "value" }),
              ...(m.subject !== undefined ? { properties: { subject: m.subject } } : {}),
              ...(m.footer ? { footer: { "x-opt-hash": Buffer.alloc(40, 1) } } : {}),
            }),
          );
          const got = gather(frames(bytes, sizes));
          assert.equal(got.size, bytes.length);
          assert.ok(got.bytes().equals(bytes));
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  for (const footer of [false, true]) {
    it(`reserves a body section announced in the first frame once: no later frame moves the bytes${footer ? " (a footer after it)" : ""}`, () => {
      const bytes = encoded(
        new Message({
          properties: { messageId: "m-1", subject: "big" },
          body: Buffer.alloc(3 << 20, 7),
          ...(footer ? { footer: { "x-opt-hash": Buffer.alloc(64, 1) } } : {}),
        }),
      );
      const parts = frames(bytes, new Array<number>(Math.ceil(bytes.length / 16_384)).fill(16_384));
      const g = new DeliveryBytes(parts[0]!, 0);
      const first = g.bytes().buffer;
      for (const p of parts.slice(1)) g.append(p);
      assert.equal(g.bytes().buffer, first);
      assert.ok(g.bytes().buffer.byteLength <= bytes.length * (1 + 1 / 64));
      assert.ok(g.bytes().equals(bytes));
    });
  }

  it("gathers sections beyond the announced one (a footer, more Data sections) byte-exact", () => {
    const bytes = encoded(
      new Message({
        body: [Buffer.alloc(100_000, 1), Buffer.alloc(50_000, 2)],
        footer: { "x-opt-hash": Buffer.alloc(32, 3) },
      }),
    );
    for (const frame of [512, 16_384, 65_536]) {
      const got = gather(frames(bytes, new Array<number>(Math.ceil(bytes.length / frame)).fill(frame)));
      assert.ok(got.bytes().equals(bytes), `frames of ${frame} bytes`);
    }
  });

  it("reserves no more than the limit, whatever size a value announces, and still gathers what arrives", () => {
    // A Data section announcing 4 GiB - 1 bytes, followed by a megabyte of it.
    const head = Buffer.from([0x00, 0x53, 0x75, 0xb0, 0xff, 0xff, 0xff, 0xff]);
    const g = new DeliveryBytes(head, 1 << 16);
    assert.ok(g.bytes().buffer.byteLength <= 1 << 16);
    const rest = Buffer.alloc(1 << 20, 9);
    for (let at = 0; at < rest.length; at += 4096) g.append(rest.subarray(at, at + 4096));
    assert.equal(g.size, head.length + rest.length);
    assert.ok(g.bytes().equals(Buffer.concat([head, rest])));
  });

  it("copies each frame: the frame buffers may be reused once appended", () => {
    const bytes = encoded(new Message({ body: Buffer.alloc(10_000, 4) }));
    const scratch = Buffer.alloc(1000);
    const copyOf = (at: number): Buffer => {
      const n = bytes.copy(scratch, 0, at, at + 1000);
      return scratch.subarray(0, n);
    };
    const g = new DeliveryBytes(copyOf(0), 0);
    for (let at = 1000; at < bytes.length; at += 1000) g.append(copyOf(at));
    scratch.fill(0);
    assert.ok(g.bytes().equals(bytes));
  });
});
