import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decode } from "../../src/codec/codec.js";
import { Decoder } from "../../src/codec/decoder.js";
import { AMQPDescribed } from "../../src/codec/values.js";
import { Transfer } from "../../src/codec/definitions/transport.js";
import { DecodeError } from "../../src/errors/decode-error.js";
import { writeTransferPerformative } from "../../src/frames/frame-writer.js";
import { readPerformativeCode, type TransferFields } from "../../src/frames/performatives.js";
import {
  blankTransfer,
  decodeTransferBody,
  hasTransferTag,
  transferTag,
} from "../../src/frames/transfer-decoder.js";
import { ByteWriter } from "../../src/util/byte-writer.js";

function viaFast(bytes: Buffer): TransferFields {
  const d = new Decoder(bytes);
  readPerformativeCode(d);
  return decodeTransferBody(d);
}

function viaGeneric(bytes: Buffer): TransferFields {
  return Transfer.decode(new Decoder(bytes));
}

const stateArb = fc.constantFrom(
  undefined,
  { type: "accepted" as const },
  { type: "released" as const },
  { type: "rejected" as const, error: { condition: "amqp:not-found", description: "x" } },
  { type: "modified" as const, deliveryFailed: true },
);

const transferArb = fc.record(
  {
    handle: fc.nat({ max: 0xffffffff }),
    deliveryId: fc.nat({ max: 0xffffffff }),
    deliveryTag: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    messageFormat: fc.nat({ max: 0xffffffff }),
    settled: fc.boolean(),
    more: fc.boolean(),
    rcvSettleMode: fc.constantFrom(0, 1),
    state: stateArb,
    resume: fc.boolean(),
    aborted: fc.boolean(),
    batchable: fc.boolean(),
  },
  { requiredKeys: ["handle"] },
);

describe("hand-written transfer decoder", () => {
  it("agrees with the generic composite decoder on arbitrary transfers", () => {
    fc.assert(
      fc.property(transferArb, (t) => {
        const w = new ByteWriter();
        const clean = Object.fromEntries(
          Object.entries(t).filter(([, v]) => v !== undefined),
        ) as TransferFields;
        Transfer.encode(w, clean);
        const bytes = w.toBuffer();
        assert.deepEqual(viaFast(bytes), viaGeneric(bytes));
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it("decoding into one reused object leaves nothing of the transfer before", () => {
    const out = blankTransfer();
    fc.assert(
      fc.property(transferArb, transferArb, (a, b) => {
        for (const t of [a, b]) {
          const w = new ByteWriter();
          Transfer.encode(
            w,
            Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as TransferFields,
          );
          const bytes = w.toBuffer();
          const d = new Decoder(bytes);
          readPerformativeCode(d);
          const got = decodeTransferBody(d, out);
          // The tag is left in the frame: its range points at the bytes the generic decoder reads.
          const { tagStart, tagEnd, ...fields } = got;
          assert.equal(tagEnd >= tagStart, true);
          assert.equal(fields.deliveryTag, undefined);
          assert.equal(tagStart >= 0, t.deliveryTag !== undefined);
          fields.deliveryTag = transferTag(got, bytes);
          const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
          assert.deepEqual(defined, viaGeneric(bytes));
          assert.equal(hasTransferTag(got), t.deliveryTag !== undefined);
          if (tagStart >= 0) assert.equal(transferTag(got, bytes)!.buffer, bytes.buffer); // a view, no copy
        }
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it("decodes what the hot-path writer produces", () => {
    const w = new ByteWriter();
    writeTransferPerformative(w, {
      handle: 3,
      deliveryId: 9,
      deliveryTag: Buffer.from([1, 2]),
      messageFormat: 0x80013700,
      settled: true,
      more: true,
    });
    assert.deepEqual(viaFast(w.toBuffer()), {
      handle: 3,
      deliveryId: 9,
      deliveryTag: Buffer.from([1, 2]),
      messageFormat: 0x80013700,
      settled: true,
      more: true,
    });
  });

  it("the full form has all 11 fields, decodes like the short form, and keeps its size when more flips", () => {
    const heads = [
      {
        handle: 3,
        deliveryId: 9,
        deliveryTag: Buffer.from([1, 2]),
        messageFormat: 0,
        settled: false,
        more: false,
      },
      {
        handle: 3,
        deliveryId: undefined,
        deliveryTag: undefined,
        messageFormat: undefined,
        settled: true,
        more: true,
      },
      {
        handle: 0,
        deliveryId: 1,
        deliveryTag: undefined,
        messageFormat: 0,
        settled: false,
        more: false,
        rcvSettleMode: 1,
      },
      {
        handle: 70000,
        deliveryId: 2,
        deliveryTag: Buffer.from([5]),
        messageFormat: 0,
        settled: false,
        more: false,
        aborted: true,
      },
    ];
    for (const head of heads) {
      const short = new ByteWriter();
      writeTransferPerformative(short, head);
      const full = new ByteWriter();
      writeTransferPerformative(full, head, true);
      const fields = decode(full.toBuffer());
      assert.ok(fields instanceof AMQPDescribed && Array.isArray(fields.value));
      assert.equal(fields.value.length, 11);
      assert.deepEqual(viaFast(full.toBuffer()), viaGeneric(full.toBuffer()));
      // The full form writes settled and more even when false (their default).
      assert.deepEqual(viaFast(full.toBuffer()), {
        settled: false,
        more: false,
        ...viaFast(short.toBuffer()),
      });
      const flipped = new ByteWriter();
      writeTransferPerformative(flipped, { ...head, more: !head.more }, true);
      assert.equal(flipped.pos, full.pos);
    }
  });

  it("raises DecodeError for a transfer without a handle and for truncated input", () => {
    const bad = [
      [0x00, 0x53, 0x14, 0x45],
      [0x00, 0x53, 0x14, 0xc0, 0x03, 0x02, 0x40, 0x40],
      [0x00, 0x53, 0x14, 0xc0, 0x10, 0x02, 0x43],
      // A tag longer than the list holds: its range is checked before it is kept.
      [0x00, 0x53, 0x14, 0xc0, 0x06, 0x03, 0x43, 0x43, 0xa0, 0x09, 0x01],
    ].map((b) => Buffer.from(b));
    for (const bytes of bad) {
      assert.throws(() => viaFast(bytes), DecodeError);
      // The same into a reused object (the tag left in the frame).
      const d = new Decoder(bytes);
      readPerformativeCode(d);
      assert.throws(() => decodeTransferBody(d, blankTransfer()), DecodeError);
    }
  });

  it("never throws anything but DecodeError on mutated transfers", () => {
    fc.assert(
      fc.property(transferArb, fc.nat(), fc.nat({ max: 255 }), (t, pos, byte) => {
        const w = new ByteWriter();
        Transfer.encode(
          w,
          Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as TransferFields,
        );
        const bytes = w.toBuffer();
        bytes[pos % bytes.length] = byte;
        try {
          viaFast(bytes);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { seed: 11, numRuns: 1000 },
    );
  });
});
