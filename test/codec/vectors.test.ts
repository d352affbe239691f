import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { amqpEquals, decode, encode } from "../../src/codec/index.js";
import { fromPayload, loadVectors, usesAlternativeEncoding } from "../support/vectors.js";

const vectors = loadVectors().filter((v) => !["protocol-header", "frame", "sections"].includes(v.type));

describe("AMQP 1.0 vectors: primitive and described values", () => {
  it("has the vectors", () => {
    assert.ok(vectors.length > 90);
  });
  for (const v of vectors) {
    const expected = fromPayload(v.type, v.value);
    it(`decodes ${v.name}`, () => {
      const got = decode(Buffer.from(v.hex, "hex"));
      assert.ok(amqpEquals(got, expected), `decoded value differs from the vector value`);
    });
    if (!usesAlternativeEncoding(v)) {
      it(`encodes ${v.name} byte-exact`, () => {
        assert.equal(Buffer.from(encode(expected)).toString("hex"), v.hex);
      });
    }
    it(`re-encodes the decoded ${v.name} to the same AMQP value`, () => {
      const once = decode(Buffer.from(v.hex, "hex"));
      assert.ok(amqpEquals(decode(encode(once)), once));
    });
  }
});
