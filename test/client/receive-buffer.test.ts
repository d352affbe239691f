import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReceiveBuffer } from "../../src/client/receive-buffer.js";
import { Message } from "../../src/message/index.js";

describe("ReceiveBuffer", () => {
  const msg = (i: number): Message => new Message({ body: String(i) });

  it("hands messages out in arrival order across wrap-arounds and growth", () => {
    const b = new ReceiveBuffer();
    const pushed: Message[] = [];
    const taken: Message[] = [];
    let n = 0;
    // Pushes outrun shifts (growth), then the buffer drains and fills again (wrap-around).
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 150; i++) {
        const m = msg(n++);
        pushed.push(m);
        b.push(m);
        if (i % 3 === 0) taken.push(b.shift()!);
      }
      assert.equal(b.length, pushed.length - taken.length);
      taken.push(...b.take(40));
      while (b.length > 7) taken.push(b.shift()!);
    }
    taken.push(...b.take(1000));
    assert.equal(b.length, 0);
    assert.equal(b.shift(), undefined);
    assert.deepEqual(b.take(5), []);
    assert.equal(taken.length, pushed.length);
    taken.forEach((m, i) => assert.equal(m, pushed[i], `message ${i}`));
  });

  it("clear() drops every message; the buffer is usable afterwards", () => {
    const b = new ReceiveBuffer();
    for (let i = 0; i < 100; i++) b.push(msg(i));
    b.clear();
    assert.equal(b.length, 0);
    assert.equal(b.shift(), undefined);
    const m = msg(1);
    b.push(m);
    assert.equal(b.length, 1);
    assert.equal(b.shift(), m);
  });
});
