/**
 * `FrameOutput`, the write side of a connection: what a transport is given stays what was written,
 * whether the transport tells that it holds nothing any more (the writer then starts over in its
 * memory), still holds its chunks (they are never written again), or cannot tell (it gets copies).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FrameOutput } from "../../src/engine/frame-output.js";
import type { Transport } from "../../src/transport/transport.js";

/** A transport that records each chunk as given and a snapshot of its bytes at that moment. */
function recorder(held: () => number | undefined): {
  transport: Transport;
  given: Uint8Array[];
  atWrite: Buffer[];
} {
  const given: Uint8Array[] = [];
  const atWrite: Buffer[] = [];
  const take = (chunks: readonly Uint8Array[]): boolean => {
    for (const c of chunks) {
      given.push(c);
      atWrite.push(Buffer.from(c));
    }
    return true;
  };
  const transport = {
    write: (c: Uint8Array) => take([c]),
    writev: (cs: readonly Uint8Array[]) => take(cs),
    get heldBytes() {
      return held();
    },
  } as unknown as Transport;
  return { transport, given, atWrite };
}

/** Writes `ticks` flushes of frames of distinct bytes, `frames` per tick of `size` bytes, with a large view in between. */
function writeTicks(out: FrameOutput, ticks: number, frames: number, size: number): Buffer {
  const all: Buffer[] = [];
  for (let t = 0; t < ticks; t++) {
    for (let f = 0; f < frames; f++) {
      const b = Buffer.alloc(size, (t * frames + f) & 0xff);
      out.writer.bytes(b);
      all.push(b);
      if (f === 1) {
        const view = Buffer.alloc(20_000, 0xab);
        out.appendView(view);
        all.push(view);
      }
    }
    out.flush();
  }
  return Buffer.concat(all);
}

describe("FrameOutput: what the transport is given", () => {
  for (const [label, held] of [
    ["a transport that holds nothing once written (a socket)", () => 0],
    ["a transport that still holds what it was given", () => 1],
    ["a transport that cannot tell", () => undefined],
  ] as const) {
    it(`${label}: every chunk holds, in order, the bytes written, at the write and after later ticks`, () => {
      const out = new FrameOutput();
      const r = recorder(held);
      out.attach(r.transport);
      // Ticks small and large: the writer's memory grows to what a tick writes.
      const expected = Buffer.concat([writeTicks(out, 5, 10, 300), writeTicks(out, 3, 40, 9000)]);
      assert.ok(Buffer.concat(r.atWrite).equals(expected), "the bytes at each write");
      if (held() !== 0) {
        assert.ok(
          r.given.every((c, i) => Buffer.from(c).equals(r.atWrite[i]!)),
          "chunks the transport may still hold are never written again",
        );
      }
      assert.equal(out.bytesOut, expected.length);
    });
  }
});

/** Resolves after `turns` turns of the event loop's check phase (where scheduled flushes run). */
async function immediates(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe("FrameOutput: what `beforeFlush` writes", () => {
  it("goes out with the flush under way, which schedules no other", async () => {
    const out = new FrameOutput();
    const r = recorder(() => 0);
    out.attach(r.transport);
    let before = 0;
    out.beforeFlush = () => {
      before++;
      // As the connection's dispositions do: a frame, announced like any other.
      out.writer.bytes(Buffer.from("disposition"));
      out.frameWritten();
    };
    out.writer.bytes(Buffer.from("transfer;"));
    out.frameWritten();
    await immediates(3);
    assert.equal(Buffer.concat(r.atWrite).toString(), "transfer;disposition");
    assert.equal(r.atWrite.length, 1, "one write");
    // An empty flush scheduled by the disposition would have run `beforeFlush` once more.
    assert.equal(before, 1, "one flush");
  });

  it("past the inline threshold, still in the one flush, without running `beforeFlush` again", async () => {
    const out = new FrameOutput();
    const r = recorder(() => 0);
    out.attach(r.transport);
    let before = 0;
    const big = Buffer.alloc(300 * 1024, 7);
    out.beforeFlush = () => {
      before++;
      out.writer.bytes(big);
      out.frameWritten();
    };
    out.writer.bytes(Buffer.from("x"));
    out.frameWritten();
    await immediates(3);
    assert.equal(before, 1);
    assert.equal(r.atWrite.length, 1);
    assert.equal(Buffer.concat(r.atWrite).length, 1 + big.length);
  });
});

describe("FrameOutput: when a write goes out", () => {
  it("the first of a turn leaves when its tick is over, with what the tick's promise reactions wrote", async () => {
    const out = new FrameOutput();
    const r = recorder(() => 0);
    out.attach(r.transport);
    // Flush the first write, then start from a turn of its own (a fresh immediate).
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        // Queued before the write: by the time it runs, the write must have gone out.
        setImmediate(() => {
          assert.equal(Buffer.concat(r.atWrite).toString(), "request;next;", "before the next immediate");
          assert.equal(r.atWrite.length, 1, "in one write");
          resolve();
        });
        out.writer.bytes(Buffer.from("request;"));
        out.frameWritten();
        // A promise reaction of the same tick writes too (an application's next send).
        void Promise.resolve().then(() => {
          out.writer.bytes(Buffer.from("next;"));
          out.frameWritten();
        });
      });
    });
  });

  it("many ticks of one turn writing to one connection make at most two writes, not one each", async () => {
    const out = new FrameOutput();
    const r = recorder(() => 0);
    out.attach(r.transport);
    const ticks = 20;
    await new Promise<void>((resolve) => {
      // Twenty immediates of one check phase: twenty ticks of one turn (as reads of many producers'
      // sockets feeding one consumer's connection in one poll phase).
      for (let i = 0; i < ticks; i++) {
        setImmediate(() => {
          out.writer.bytes(Buffer.from(`${i};`));
          out.frameWritten();
        });
      }
      setImmediate(() => setImmediate(resolve));
    });
    await immediates(2);
    const expected = Array.from({ length: ticks }, (_, i) => `${i};`).join("");
    assert.equal(Buffer.concat(r.atWrite).toString(), expected);
    assert.ok(
      r.atWrite.length <= 2,
      `${r.atWrite.length} writes: the first tick's, then the rest of the turn's`,
    );
  });
});

describe("FrameOutput: when the peer begins to close", () => {
  it("a turn in which the peer sent DETACH, END or CLOSE writes at its end; the next turn writes early again", async () => {
    const out = new FrameOutput();
    const r = recorder(() => 0);
    out.attach(r.transport);
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        // An answer already scheduled to leave early in this tick, then the peer's END arrives.
        out.writer.bytes(Buffer.from("disposition;"));
        out.frameWritten();
        out.holdForTurn();
        out.writer.bytes(Buffer.from("end;"));
        out.frameWritten();
        // Two check phases on: the turn's end (the next check phase, from within this one) has come.
        setImmediate(() =>
          setImmediate(() => {
            assert.equal(Buffer.concat(r.atWrite).toString(), "disposition;end;");
            assert.equal(r.atWrite.length, 1);
            resolve();
          }),
        );
        void Promise.resolve().then(() => {
          // The tick and its promise reactions are over: nothing written yet.
          process.nextTick(() => assert.equal(r.atWrite.length, 0, "held until the turn's end"));
        });
      });
    });
    // A later turn: early again.
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        setImmediate(() => {
          assert.equal(r.atWrite.length, 2, "written before the next immediate");
          resolve();
        });
        out.writer.bytes(Buffer.from("transfer;"));
        out.frameWritten();
      });
    });
  });
});
