import assert from "node:assert/strict";
import { setImmediate as nextMacrotask } from "node:timers/promises";
import { describe, it } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { Message } from "../../src/message/message.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

describe("decoding received messages with the shared decoder", () => {
  it("decodes messages from ranges of one buffer, then of another, each from its own bytes", () => {
    const parts = ["alpha", "beta", "gamma"].map((body) => Buffer.from(new Message({ body }).encode()));
    const read = Buffer.concat(parts);
    const other = Buffer.concat([Buffer.alloc(3), Buffer.from(new Message({ body: "delta" }).encode())]);
    const got: string[] = [];
    let at = 0;
    for (const p of parts) {
      got.push(Message.decodeRange(read, at, at + p.length, {}).toString());
      at += p.length;
    }
    got.push(Message.decodeRange(other, 3, other.length, {}).toString());
    got.push(Message.decodeRange(read, 0, parts[0]!.length, {}).toString());
    assert.deepEqual(got, ["alpha", "beta", "gamma", "delta", "alpha"]);
  });

  it("lets go of the bytes once the step that decoded them ends", async () => {
    let ref: WeakRef<Buffer> | undefined;
    (() => {
      // A value body: the decoded message holds no view of the bytes, only the decoder could.
      const bytes = Buffer.from(new Message({ body: 42, bodyType: "value" }).encode());
      ref = new WeakRef(bytes);
      assert.equal(Message.decodeRange(bytes, 0, bytes.length, {}).value, 42);
    })();
    await nextMacrotask();
    gc();
    assert.equal(ref.deref(), undefined);
  });
});
