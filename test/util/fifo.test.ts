import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Fifo } from "../../src/util/fifo.js";

/** A deterministic pseudo-random sequence (so that a failure can be replayed). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("Fifo", () => {
  it("agrees with an array under random pushes, shifts, insertions, removals, filters and searches (growth, wrap-around)", () => {
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      const f = new Fifo<number>();
      const model: number[] = [];
      let next = 0;
      for (let step = 0; step < 20_000; step++) {
        const r = random();
        if (r < 0.45) {
          f.push(next);
          model.push(next++);
        } else if (r < 0.8) {
          assert.equal(f.shift(), model.shift());
        } else if (r < 0.88) {
          if (model.length === 0) continue;
          const i = Math.floor(random() * model.length);
          assert.equal(f.removeAt(i), model.splice(i, 1)[0]);
        } else if (r < 0.95) {
          const i = Math.floor(random() * (model.length + 1));
          f.insertAt(i, next);
          model.splice(i, 0, next++);
          assert.equal(f.at(i), model[i]);
        } else if (r < 0.99) {
          const mod = 2 + Math.floor(random() * 5);
          f.retain((x) => x % mod !== 0);
          model.splice(0, model.length, ...model.filter((x) => x % mod !== 0));
        } else {
          const i = Math.floor(random() * (model.length + 2)) - 1;
          assert.equal(f.at(i), model[i]);
          // Present (the item at i) or not (-1, or past the end): where the array finds it.
          const item = i >= 0 && i < model.length ? model[i]! : next + 1;
          assert.equal(f.indexOf(item), model.indexOf(item));
        }
        assert.equal(f.length, model.length, `seed ${seed}, step ${step}`);
      }
      assert.deepEqual(f.toArray(), model);
    }
  });

  it("at() is undefined outside 0..length-1; shift() of an empty fifo is undefined", () => {
    const f = new Fifo<string>();
    assert.equal(f.shift(), undefined);
    f.push("a");
    f.push("b");
    assert.equal(f.at(-1), undefined);
    assert.equal(f.at(0), "a");
    assert.equal(f.at(1), "b");
    assert.equal(f.at(2), undefined);
  });

  it("clear() drops every item and the fifo is usable afterwards, also after a large burst", () => {
    const f = new Fifo<number>();
    for (let i = 0; i < 70_000; i++) f.push(i);
    for (let i = 0; i < 70_000; i++) assert.equal(f.shift(), i);
    assert.equal(f.length, 0);
    f.push(1);
    f.push(2);
    f.clear();
    assert.equal(f.length, 0);
    assert.equal(f.shift(), undefined);
    f.push(3);
    assert.deepEqual(f.toArray(), [3]);
  });
});
