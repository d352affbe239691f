/**
 * Run by no-codegen.test.ts in a child process started with `--disallow-code-generation-from-strings`:
 * every composite sample and a message must round-trip without the generated field readers.
 * Prints "ok <count>" on success; throws otherwise.
 */
import assert from "node:assert/strict";
import { Decoder } from "../../src/codec/decoder.js";
import { Message } from "../../src/message/message.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { compositeSamples } from "./composite-samples.js";

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- checks that it is refused
assert.throws(() => new Function("return 1"), EvalError, "code generation must be disallowed here");
let count = 0;
for (const { type, full, minimal } of compositeSamples) {
  for (const value of [full, minimal]) {
    const w = new ByteWriter(64);
    type.encode(w, value);
    assert.deepEqual(type.decode(new Decoder(w.toBuffer())), value, type.name);
    count++;
  }
}
const m = Message.decode(
  new Message({ body: "x", properties: { messageId: "id-1", subject: "s", groupSequence: 7 } }).encode(),
);
const p = m.properties;
assert.ok(p);
assert.equal(p.messageId, "id-1");
assert.equal(p.groupSequence, 7);
console.log(`ok ${count}`);
