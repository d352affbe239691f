/**
 * Memory of a `SendClient` whose peer never grants credit, under a producer that queues in a loop
 * far beyond the default bounds (`maxPendingMessages`, `maxPendingBytes`): what the client holds
 * stays at the bound, every call beyond it is refused with `PendingLimitExceeded`, and the loop
 * ends in a few seconds. Measured after a full garbage collection (`--expose-gc` set at run time),
 * as heap plus array-buffer memory. Alone in its file, so no other test's garbage is counted.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { DEFAULTS, PendingLimitExceeded, SendClient } from "../../src/index.js";
import { Message } from "../../src/message/message.js";
import { startScriptedPeer, type ScriptedPeerServer } from "../support/scripted-peer.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const MiB = 1024 * 1024;

/** Heap and array-buffer memory in use after a full collection. */
function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** What a producer loop did: attempts, refusals, the time it took, and the memory it left held. */
interface LoopResult {
  readonly queued: number;
  readonly refused: number;
  readonly ms: number;
  readonly grewBy: number;
}

/** Queues `attempts` messages made by `make`, one call each, counting the refused ones. */
function produce(client: SendClient, attempts: number, make: (i: number) => Message): LoopResult {
  const before = used();
  const started = performance.now();
  let refused = 0;
  for (let i = 0; i < attempts; i++) {
    try {
      client.queueMessage(make(i));
    } catch (e) {
      if (!(e instanceof PendingLimitExceeded)) throw e;
      refused++;
    }
  }
  const ms = performance.now() - started;
  return { queued: attempts - refused, refused, ms, grewBy: used() - before };
}

describe("SendClient memory under a producer loop against a peer that never grants credit", () => {
  let peer: ScriptedPeerServer;
  before(async () => {
    peer = await startScriptedPeer({ credit: 0 });
  });
  after(async () => {
    await peer.close();
  });

  it("small messages: 3× maxPendingMessages attempted, the default bound held, memory bounded", async (t) => {
    await using client = new SendClient(`amqp://127.0.0.1:${peer.port}/small`);
    await client.open();
    const bound = DEFAULTS.maxPendingMessages;
    const r = produce(client, 3 * bound, (i) => new Message({ body: `message ${i}`.padEnd(100, ".") }));
    t.diagnostic(
      `${r.queued} queued, ${r.refused} refused in ${Math.round(r.ms)} ms; held ${(r.grewBy / MiB).toFixed(1)} MiB (${Math.round(r.grewBy / r.queued)} B per message)`,
    );
    assert.equal(r.queued, bound);
    assert.equal(r.refused, 2 * bound);
    assert.equal(client.pendingMessages.length, bound);
    // About 0.5 KiB per pending 100-byte message: ~50 MiB at the bound; three times that unbounded.
    assert.ok(r.grewBy < 100 * MiB, `held ${(r.grewBy / MiB).toFixed(1)} MiB`);
    assert.ok(r.ms < 30_000, `the loop took ${Math.round(r.ms)} ms`);
  });

  it("64 KiB messages: 4× maxPendingBytes attempted, the default byte bound held, memory bounded", async (t) => {
    await using client = new SendClient(`amqp://127.0.0.1:${peer.port}/large`);
    await client.open();
    const size = 64 * 1024;
    const attempts = (4 * DEFAULTS.maxPendingBytes) / size;
    const r = produce(client, attempts, () => new Message({ body: Buffer.alloc(size, 0x61) }));
    t.diagnostic(
      `${r.queued} queued (${(client.pendingBytes / MiB).toFixed(1)} MiB encoded), ${r.refused} refused in ${Math.round(r.ms)} ms; held ${(r.grewBy / MiB).toFixed(1)} MiB`,
    );
    assert.ok(client.pendingBytes <= DEFAULTS.maxPendingBytes);
    // Full but for less than one message.
    assert.ok(client.pendingBytes > DEFAULTS.maxPendingBytes - size - 64);
    assert.ok(r.refused >= attempts * 0.74, `${r.refused} of ${attempts} refused`);
    // The payloads at the bound (64 MiB) and a margin; unbounded it would be 256 MiB.
    assert.ok(r.grewBy < DEFAULTS.maxPendingBytes + 16 * MiB, `held ${(r.grewBy / MiB).toFixed(1)} MiB`);
    assert.ok(r.ms < 30_000, `the loop took ${Math.round(r.ms)} ms`);
  });
});
