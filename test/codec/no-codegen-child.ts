/**
 * Run by no-codegen.test.ts in a child process started with `--disallow-code-generation-from-strings`:
 * every composite sample and a message must round-trip without the generated field readers and
 * writers. Prints "ok <count>" and the digest of every encoding (which the test compares with the
 * generated writers' digest) on success; throws otherwise.
 */
import assert from "node:assert/strict";
import { Disposition } from "../../src/codec/definitions/transport.js";
import { Decoder } from "../../src/codec/decoder.js";
import { DecodeError } from "../../src/errors/decode-error.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { Message } from "../../src/message/message.js";
import { compositeEncodingsDigest } from "./composite-samples.js";

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- checks that it is refused
assert.throws(() => new Function("return 1"), EvalError, "code generation must be disallowed here");
const { count, digest } = compositeEncodingsDigest((type, bytes, value) => {
  assert.deepEqual(type.decode(new Decoder(bytes)), value, type.name);
});
// A mandatory field that comes as null is refused by the generic check too.
const w = new ByteWriter(64);
Disposition.encode(w, { role: true, first: 7 });
const bytes = Buffer.from(w.view());
// Descriptor (3 bytes), list8 constructor, size and count: the first field, `role`, follows.
assert.equal(bytes[6], 0x41, "role is true");
bytes[6] = 0x40;
assert.throws(
  () => Disposition.decode(new Decoder(bytes)),
  (e: unknown) => e instanceof DecodeError && e.message.includes("role is mandatory but null"),
);
const m = Message.decode(
  new Message({ body: "x", properties: { messageId: "id-1", subject: "s", groupSequence: 7 } }).encode(),
);
const p = m.properties;
assert.ok(p);
assert.equal(p.messageId, "id-1");
assert.equal(p.groupSequence, 7);
console.log(`ok ${count}`);
console.log(`digest ${digest}`);
