/**
 * Run by no-codegen.test.ts in a child process started with `--disallow-code-generation-from-strings`:
 * every composite sample and a message must round-trip without the generated field readers and
 * writers. Prints "ok <count>" and the digest of every encoding (which the test compares with the
 * generated writers' digest) on success; throws otherwise.
 */
import assert from "node:assert/strict";
import { Decoder } from "../../src/codec/decoder.js";
import { Message } from "../../src/message/message.js";
import { compositeEncodingsDigest } from "./composite-samples.js";

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- checks that it is refused
assert.throws(() => new Function("return 1"), EvalError, "code generation must be disallowed here");
const { count, digest } = compositeEncodingsDigest((type, bytes, value) => {
  assert.deepEqual(type.decode(new Decoder(bytes)), value, type.name);
});
const m = Message.decode(
  new Message({ body: "x", properties: { messageId: "id-1", subject: "s", groupSequence: 7 } }).encode(),
);
const p = m.properties;
assert.ok(p);
assert.equal(p.messageId, "id-1");
assert.equal(p.groupSequence, 7);
console.log(`ok ${count}`);
console.log(`digest ${digest}`);
