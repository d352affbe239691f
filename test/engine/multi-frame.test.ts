/**
 * Deliveries in many TRANSFER frames, written by a scripted peer: they arrive byte-exact whatever
 * the frame boundaries, aborted ones are dropped without disturbing the next, and the link's
 * max-message-size holds to the byte.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { AmqpConnection } from "../../src/engine/connection.js";
import type { IncomingDelivery } from "../../src/engine/delivery.js";
import type { ReceiverLink } from "../../src/engine/receiver-link.js";
import { Message } from "../../src/message/index.js";
import { SaslAnonymousMechanism } from "../../src/sasl/mechanisms.js";
import { createMemoryTransportPair } from "../../src/transport/memory.js";
import { connectTcp } from "../../src/transport/tcp.js";
import {
  ScriptedPeer,
  frameError,
  startScriptedPeer,
  type ScriptedPeerServer,
} from "../support/scripted-peer.js";
import { until, within } from "../support/waits.js";

let server: ScriptedPeerServer | undefined;
const conns: AmqpConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) await c.close();
  await server?.close();
  server = undefined;
});

interface Receiving {
  readonly link: ReceiverLink;
  readonly peer: ScriptedPeer;
  readonly handle: number;
  readonly got: IncomingDelivery[];
}

async function receiving(options: { maxMessageSize?: number } = {}): Promise<Receiving> {
  server = await startScriptedPeer();
  const conn = new AmqpConnection({ sasl: new SaslAnonymousMechanism(), closeTimeoutMs: 300 });
  conns.push(conn);
  conn.start(await connectTcp({ host: "127.0.0.1", port: server.port }));
  const link = conn.createSession().attachReceiver({ source: { address: "s" }, autoCredit: 20, ...options });
  const got: IncomingDelivery[] = [];
  link.onDelivery = (d) => got.push(d);
  await link.attached();
  const peer = await server.connection();
  return { link, peer, handle: peer.attaches[0]!.handle, got };
}

/**
 * Writes `payload` as delivery `deliveryId` in frames of `frame` bytes; `emptyLast` ends it with an
 * empty frame (more=false) after the last bytes, `abortAfter` aborts it after that many frames.
 */
function send(
  r: Receiving,
  deliveryId: number,
  payload: Buffer,
  frame: number,
  options: { emptyLast?: boolean; abortAfter?: number } = {},
): void {
  const count = Math.max(1, Math.ceil(payload.length / frame));
  for (let i = 0; i < count; i++) {
    const aborted = options.abortAfter === i;
    const last = i === count - 1 && options.emptyLast !== true;
    r.peer.transfer(
      0,
      {
        handle: r.handle,
        ...(i === 0 ? { deliveryId, deliveryTag: Buffer.from([deliveryId]), messageFormat: 0 } : {}),
        more: !last && !aborted,
        ...(aborted ? { aborted: true } : {}),
      },
      aborted ? Buffer.alloc(0) : payload.subarray(i * frame, (i + 1) * frame),
    );
    if (aborted) return;
  }
  if (options.emptyLast === true) r.peer.transfer(0, { handle: r.handle, more: false }, Buffer.alloc(0));
}

const bodyOf = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
};

const encoded = (body: Buffer, subject = "multi-frame"): Buffer =>
  Buffer.from(new Message({ properties: { messageId: "m", subject }, body }).encode());

describe("multi-frame deliveries (scripted peer)", () => {
  it("a message of a few MiB in 1000-byte frames arrives byte-exact, its Data body intact", async () => {
    const r = await receiving();
    const body = bodyOf(3 * 2 ** 20 + 17);
    const bytes = encoded(body);
    send(r, 0, bytes, 1000);
    await until(() => r.got.length === 1, "the delivery");
    assert.ok(r.got[0]!.payload.equals(bytes));
    const m = Message.decode(r.got[0]!.payload);
    assert.equal(m.data?.length, 1);
    assert.ok(Buffer.from(m.data[0]!).equals(body));
  });

  it("a payload that ends exactly at a frame boundary arrives byte-exact, with and without an empty last frame", async () => {
    const r = await receiving();
    const frame = 4096;
    // Pad the subject until the encoding is a whole number of frames.
    let pad = 0;
    let bytes = encoded(bodyOf(20 * frame), "");
    while (bytes.length % frame !== 0) {
      pad += frame - (bytes.length % frame);
      bytes = encoded(bodyOf(20 * frame), "x".repeat(pad));
    }
    send(r, 0, bytes, frame, { emptyLast: true });
    send(r, 1, bytes, frame);
    await until(() => r.got.length === 2, "both deliveries");
    assert.deepEqual(
      r.got.map((d) => d.deliveryId),
      [0, 1],
    );
    for (const d of r.got) assert.ok(d.payload.equals(bytes));
  });

  it("deliveries kept by the application stay byte-exact, tags included, while frames straddle reads of every size", async () => {
    for (const chunkSize of [1, 13, 512, 1499, 1500, 4096, 7919]) {
      const [ours, theirs] = createMemoryTransportPair({ chunkSize });
      const peer = new ScriptedPeer(theirs, { autoAnswer: true });
      const conn = new AmqpConnection({ closeTimeoutMs: 300 });
      conns.push(conn);
      conn.start(ours);
      const link = conn.createSession().attachReceiver({ source: { address: "s" }, autoCredit: 100 });
      const got: IncomingDelivery[] = [];
      link.onDelivery = (d) => got.push(d);
      await within(link.attached(), "attached");
      const r: Receiving = { link, peer, handle: peer.attaches[0]!.handle, got };
      // Multi-frame deliveries (their frames copied, the reader's memory reused) between deliveries
      // in one frame (kept as views), each with its own bytes.
      const sent: Buffer[] = [];
      for (let id = 0; id < 24; id++) {
        const payload = Buffer.alloc(id % 2 === 0 ? 5000 + id : 800 + id);
        for (let k = 0; k < payload.length; k++) payload[k] = (id * 53 + k * 7) & 0xff;
        sent.push(payload);
        r.peer.transfer(
          0,
          {
            handle: r.handle,
            deliveryId: id,
            deliveryTag: Buffer.from([id, 0xa0 + id]),
            messageFormat: 0,
            more: id % 2 === 0,
          },
          id % 2 === 0 ? payload.subarray(0, 1500) : payload,
        );
        if (id % 2 === 0) {
          for (let off = 1500; off < payload.length; off += 1500) {
            r.peer.transfer(
              0,
              { handle: r.handle, more: off + 1500 < payload.length },
              payload.subarray(off, off + 1500),
            );
          }
        }
      }
      await until(() => got.length === sent.length, `every delivery (chunks of ${chunkSize})`);
      got.forEach((d, id) => {
        assert.deepEqual([...d.tag], [id, 0xa0 + id], `tag of ${id}, chunks of ${chunkSize}`);
        assert.ok(d.payload.equals(sent[id]!), `payload of ${id}, chunks of ${chunkSize}`);
      });
    }
  });

  it("an aborted delivery is dropped after several frames; the next multi-frame delivery arrives byte-exact", async () => {
    const r = await receiving();
    const first = encoded(bodyOf(100_000));
    const second = encoded(bodyOf(70_001), "second");
    send(r, 0, first, 8192, { abortAfter: 5 });
    send(r, 1, second, 8192);
    await until(() => r.got.length === 1, "the delivery after the aborted one");
    assert.equal(r.got[0]!.deliveryId, 1);
    assert.ok(r.got[0]!.payload.equals(second));
    assert.equal(r.link.unsettled, 1);
  });

  it("max-message-size: a message of exactly the limit arrives byte-exact; one byte more detaches the link", async () => {
    const bytes = encoded(bodyOf(300_000));
    const r = await receiving({ maxMessageSize: bytes.length });
    send(r, 0, bytes, 10_000);
    await until(() => r.got.length === 1, "the message of the limit's size");
    assert.ok(r.got[0]!.payload.equals(bytes));
    const over = Buffer.concat([bytes, Buffer.from([0x40])]); // one more value: 1 byte over
    send(r, 1, over, 10_000);
    const detach = await r.peer.frameNamed("DETACH");
    assert.equal(frameError(detach)?.condition, "amqp:link:message-size-exceeded");
    assert.equal(r.got.length, 1);
  });

  it("max-message-size: a body section announcing more than the limit is refused once the bytes pass it", async () => {
    const r = await receiving({ maxMessageSize: 50_000 });
    // A Data section that announces 4 GiB - 1 bytes, and 60,000 of them.
    const bytes = Buffer.concat([
      Buffer.from([0x00, 0x53, 0x75, 0xb0, 0xff, 0xff, 0xff, 0xff]),
      bodyOf(60_000),
    ]);
    send(r, 0, bytes, 4096, { emptyLast: true });
    const detach = await r.peer.frameNamed("DETACH");
    assert.equal(frameError(detach)?.condition, "amqp:link:message-size-exceeded");
    assert.equal(r.got.length, 0);
  });
});
