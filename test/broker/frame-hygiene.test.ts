/**
 * The broker against clients that break the rules of the connection layer or flood it with frames:
 * a frame other than OPEN first, an AMQP frame inside SASL, a channel above the channel-max the
 * broker announced, and a client writing megabytes of cheap frames while another client works. The
 * misbehaving clients are scripted frame by frame over TCP; the well-behaved one is rhea.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Broker } from "../../src/broker/index.js";
import { writeCompositeFrame } from "../../src/frames/frame-writer.js";
import { Attach, Begin, Close, Detach, Open } from "../../src/frames/performatives.js";
import { ProtocolId } from "../../src/frames/protocol-header.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { frameError, ScriptedPeer } from "../support/scripted-peer.js";
import {
  brokerFixture,
  close as closeRhea,
  connect,
  medianRoundTrip,
  openReceiver,
  openSender,
  roundTrip,
  until,
} from "./rhea-client.js";

const BEGIN = { nextOutgoingId: 0, incomingWindow: 100_000, outgoingWindow: 100_000 };

/** A raw client: connected, protocol header `id` sent (nothing else). */
async function rawClient(b: Broker, id: number = ProtocolId.Amqp): Promise<ScriptedPeer> {
  const peer = new ScriptedPeer(await connectTcp({ host: "127.0.0.1", port: b.port! }));
  peer.header(id);
  return peer;
}

/** rhea still works against `b`. */
async function stillServes(b: Broker, address: string): Promise<void> {
  const c = await connect(b.port!);
  try {
    await roundTrip(c, address);
  } finally {
    await closeRhea(c);
  }
}

describe("broker: connection-layer rules", () => {
  const { setup, keep } = brokerFixture();

  it("a BEGIN as the first frame gets the broker's OPEN and a CLOSE with amqp:not-allowed, and is not answered", async () => {
    const { b } = await setup();
    const peer = await rawClient(b);
    peer.frame(0, Begin, BEGIN);
    const close = await peer.frameNamed("CLOSE");
    assert.equal(frameError(close)?.condition, "amqp:not-allowed");
    assert.deepEqual(
      peer.frames.map((f) => f.name),
      ["OPEN", "CLOSE"],
    );
    peer.frame(0, Close, {});
    await peer.ended();
    await until(() => b.connectionCount === 1, "the connection to go");
    await stillServes(b, "after-early-begin");
  });

  it("an AMQP frame inside SASL closes the socket at once, without a SASL outcome", async () => {
    const b = keep(
      await Broker.start({ sasl: { users: { alice: "pw" } }, limits: { handshakeTimeoutMs: 60_000 } }),
    );
    const peer = await rawClient(b, ProtocolId.Sasl);
    await peer.frameNamed("SASL-MECHANISMS");
    peer.frame(0, Open, { containerId: "skips-the-login" });
    // Long before the handshake time-out.
    await peer.ended();
    assert.deepEqual(
      peer.frames.map((f) => f.name),
      ["SASL-MECHANISMS"],
    );
    await until(() => b.connectionCount === 0, "the connection to go");
  });

  it("a BEGIN on a channel above the channel-max (maxSessionsPerConnection - 1) closes with amqp:connection:framing-error", async () => {
    const { b } = await setup({ limits: { maxSessionsPerConnection: 4 } });
    const peer = await rawClient(b);
    peer.frame(0, Open, { containerId: "channels" });
    const open = await peer.frameNamed("OPEN");
    assert.equal(open.fields["channelMax"], 3);
    peer.frame(3, Begin, BEGIN);
    assert.equal((await peer.frameNamed("BEGIN")).fields["remoteChannel"], 3);
    peer.frame(4, Begin, BEGIN);
    const close = await peer.frameNamed("CLOSE");
    assert.equal(frameError(close)?.condition, "amqp:connection:framing-error");
    assert.equal(peer.count("BEGIN"), 1, "the BEGIN on channel 4 is not answered");
    await peer.ended();
    await until(() => b.connectionCount === 1, "the connection to go");
    await stillServes(b, "after-channel-max");
  });
});

describe("broker: frame floods", () => {
  const { setup } = brokerFixture();

  it("a client writing 4 MiB bursts of ATTACH/DETACH pairs leaves another client's round trip within 2x its quiet value", async (t) => {
    const { b, c } = await setup();
    const s = await openSender(c, "bystander");
    const r = await openReceiver(c, "bystander");
    const quiet = await medianRoundTrip(s, r, 9, () => undefined);
    const flooder = await rawClient(b);
    flooder.frame(0, Open, { containerId: "flooder" });
    flooder.frame(0, Begin, BEGIN);
    await flooder.frameNamed("BEGIN");
    // From here on the flooder reads the broker's answers without decoding them.
    let answered = 0;
    let closed = false;
    flooder.transport.setHandler({
      onData: (chunk) => {
        answered += chunk.length;
      },
      onDrain: () => undefined,
      onClose: () => {
        closed = true;
      },
    });
    // A producer attached and detached again, in 62 bytes: each pair makes the broker create and
    // tear down a link, and answer both frames. Before frame handling yielded, one 4 MiB burst
    // blocked the broker's event loop for tenths of a second at a time.
    const w = new ByteWriter(64);
    writeCompositeFrame(w, 0, 0, Attach, {
      name: "f",
      handle: 0,
      role: false,
      source: { address: "x" },
      target: { type: "target", address: "flooded" },
      initialDeliveryCount: 0,
    });
    writeCompositeFrame(w, 0, 0, Detach, { handle: 0, closed: true });
    const pair = w.toBuffer();
    const burst = Buffer.concat(Array.from({ length: Math.ceil((4 << 20) / pair.length) }, () => pair));
    const stormed = await medianRoundTrip(s, r, 9, () => {
      flooder.raw(burst);
    });
    // Not a benchmark: a bound a loaded 2-core machine keeps (a small quiet value gets a floor of
    // 50 ms of slack), which the unsliced handling of these bursts broke by tens of milliseconds.
    const bound = Math.max(2 * quiet, quiet + 50);
    t.diagnostic(`median round trip: ${quiet.toFixed(1)} ms quiet, ${stormed.toFixed(1)} ms under the flood`);
    assert.ok(
      stormed <= bound,
      `round trip ${stormed.toFixed(1)} ms under the flood, ${quiet.toFixed(1)} ms quiet`,
    );
    // The flood was handled, not dropped: the broker answered it and kept the flooder.
    assert.ok(answered > 0);
    assert.equal(closed, false, "the flood is valid AMQP: the flooder is not closed");
    flooder.transport.destroy();
    await until(() => b.connectionCount === 1, "the flooder to go", 60_000);
  });
});
