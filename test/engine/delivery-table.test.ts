/**
 * The table of unsettled deliveries by delivery-id: a ring for ids in about the order they were
 * assigned, a map for the ones left far behind or older than the ring; serial wrap-around.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeliveryTable } from "../../src/engine/delivery-table.js";

/** A table compared, operation by operation, against a Map (the reference). */
class Checked {
  readonly table = new DeliveryTable<string>();
  readonly reference = new Map<number, string>();

  set(id: number): void {
    this.table.set(id, `d${id}`);
    this.reference.set(id, `d${id}`);
    this.check(id);
  }

  delete(id: number): void {
    assert.equal(this.table.delete(id), this.reference.delete(id), `delete ${id}`);
    this.check(id);
  }

  check(id: number): void {
    assert.equal(this.table.get(id), this.reference.get(id), `get ${id}`);
    assert.equal(this.table.size, this.reference.size, "size");
  }

  checkAll(): void {
    for (const [id, d] of this.reference) assert.equal(this.table.get(id), d, `get ${id}`);
    const entries = this.table.entries();
    assert.equal(entries.length, this.reference.size);
    assert.deepEqual(new Map(entries), this.reference);
  }
}

describe("DeliveryTable", () => {
  it("ids settled in order: every delivery found, none left over", () => {
    const c = new Checked();
    for (let id = 0; id < 5000; id++) {
      c.set(id);
      if (id >= 300) c.delete(id - 300);
    }
    c.checkAll();
    for (let id = 4700; id < 5000; id++) c.delete(id);
    assert.equal(c.table.size, 0);
    assert.equal(c.table.get(4999), undefined);
  });

  it("a delivery left behind while thousands after it settle is still found, and settles", () => {
    const c = new Checked();
    c.set(7);
    for (let id = 8; id < 200_000; id++) {
      c.set(id);
      c.delete(id);
    }
    c.checkAll();
    assert.equal(c.table.get(7), "d7");
    c.delete(7);
    assert.equal(c.table.size, 0);
  });

  it("gaps (ids of other links or pre-settled deliveries), ids out of order, older and far-ahead ids", () => {
    const c = new Checked();
    for (let id = 100; id < 2000; id += 3) c.set(id);
    c.set(50); // older than the oldest
    c.set(1_000_000); // far ahead
    c.set(1999); // into a gap
    c.set(400); // replaces
    c.checkAll();
    for (let id = 100; id < 2000; id += 6) c.delete(id);
    c.delete(50);
    c.delete(51); // never filed
    c.checkAll();
    for (const id of [...c.reference.keys()]) c.delete(id);
    assert.equal(c.table.size, 0);
    assert.deepEqual(c.table.entries(), []);
  });

  it("delivery-ids wrapping around 2^32", () => {
    const c = new Checked();
    const start = 0xffffffff - 100;
    for (let i = 0; i < 400; i++) {
      const id = (start + i) >>> 0;
      c.set(id);
      if (i >= 50 && i % 2 === 0) c.delete((start + i - 50) >>> 0);
    }
    c.checkAll();
    c.table.clear();
    assert.equal(c.table.size, 0);
    assert.equal(c.table.get(start), undefined);
  });

  it("a random mix of operations agrees with a Map", () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const c = new Checked();
    let next = 0xfffff000;
    for (let i = 0; i < 50_000; i++) {
      const r = random(10);
      if (r < 5) {
        next = (next + 1 + (random(4) === 0 ? random(3000) : 0)) >>> 0;
        c.set(next);
      } else if (r < 9) {
        const keys = [...c.reference.keys()];
        if (keys.length > 0) c.delete(keys[random(Math.min(keys.length, r < 8 ? 5 : keys.length))]!);
      } else {
        c.check((next - random(5000)) >>> 0);
      }
    }
    c.checkAll();
  });
});
