/**
 * `SocketReads`, the memory a connecting socket reads into (`onread`): driven here as Node drives
 * it (ask for memory, fill some of it, report how much), without a socket.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SocketReads } from "../../src/transport/socket-transport.js";

/** Reads `bytes` the way Node does: into the memory `buffer()` offers, at most its length. */
function read(reads: SocketReads, bytes: Buffer): Buffer {
  const into = reads.options.buffer();
  const n = Math.min(bytes.length, into.length);
  bytes.copy(into, 0, 0, n);
  reads.options.callback(n, into);
  return into;
}

const filled = (size: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length: size }, (_, i) => (seed + i) & 0xff));

function collecting(target: () => Buffer | undefined = () => undefined): {
  reads: SocketReads;
  got: Buffer[];
} {
  const got: Buffer[] = [];
  const reads = new SocketReads();
  reads.bind((chunk) => got.push(chunk), target);
  return { reads, got };
}

describe("SocketReads", () => {
  it("a small read is copied out and its memory read into again", () => {
    const { reads, got } = collecting();
    const a = filled(100, 4);
    const b = filled(200, 5);
    const first = read(reads, a);
    const second = read(reads, b);
    assert.equal(second, first, "the same memory");
    assert.ok(got[0]!.equals(a), "the copy keeps the first read's bytes");
    assert.ok(got[1]!.equals(b));
    assert.notEqual(got[0]!.buffer, first.buffer);
  });

  it("a large read takes its memory with it: the next read goes into fresh memory, the bytes stay", () => {
    const { reads, got } = collecting();
    const a = filled(20_000, 1);
    const b = filled(30_000, 2);
    const first = read(reads, a);
    const second = read(reads, b);
    assert.equal(got[0]!.buffer, first.buffer, "not copied");
    assert.notEqual(second.buffer, first.buffer);
    assert.ok(got[0]!.equals(a), "the first read's bytes are intact after the second read");
    assert.ok(got[1]!.equals(b));
  });

  it("reads into the memory the handler offers when it offers some", () => {
    const target = Buffer.alloc(50_000);
    const { reads, got } = collecting(() => target);
    const a = filled(30_000, 6);
    assert.equal(read(reads, a), target);
    assert.equal(got[0]!.buffer, target.buffer);
    assert.ok(got[0]!.equals(a));
  });
});
