/**
 * The Qpid Proton broker of scripts/peers, told to offer ANONYMOUS-RELAY the way applications set it
 * (a Python list of symbols), sends offered-capabilities as an AMQP list, not the array the
 * specification types the field as. Our decoder accepts it: the engine sees the capability, and a
 * client connects, sends and receives (before, the OPEN was refused with a DecodeError on the list).
 */
import assert from "node:assert/strict";
import { connect as connectNet } from "node:net";
import { after, before, describe, it } from "node:test";
import { Source, Target } from "../../src/address/index.js";
import { receiveMessage, sendMessage } from "../../src/client/helpers.js";
import { decode } from "../../src/codec/codec.js";
import { Open } from "../../src/codec/definitions/transport.js";
import { AMQPDescribed, AMQPSymbol } from "../../src/codec/values.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import { writeCompositeFrame } from "../../src/frames/frame-writer.js";
import { FrameType } from "../../src/frames/frame-reader.js";
import { MessageState } from "../../src/message/message-state.js";
import { SaslAnonymousMechanism } from "../../src/sasl/mechanisms.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { peerSkip, startPeer, type RunningPeer } from "../support/peers.js";

const TIMEOUT = { timeout: 60_000 };
const AMQP_HEADER = Buffer.from("AMQP\x00\x01\x00\x00", "latin1");

/**
 * The peer's OPEN, read from the wire: the AMQP header and an OPEN of ours go out (the broker lets
 * a client skip SASL), and the body of the first frame that comes back is decoded as a plain value.
 */
async function rawOpenOf(peer: RunningPeer): Promise<AMQPDescribed> {
  const w = new ByteWriter(64);
  w.bytes(AMQP_HEADER);
  writeCompositeFrame(w, FrameType.Amqp, 0, Open, { containerId: "raw-probe" });
  const socket = connectNet({ host: peer.host, port: peer.port });
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error("no OPEN from the peer within 10 s")), 10_000);
      socket.on("error", reject);
      socket.on("data", (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= 12 && got.length >= 8 + got.readUInt32BE(8)) {
          clearTimeout(timer);
          resolve(got);
        }
      });
      socket.write(w.toBuffer());
    });
    assert.deepEqual(bytes.subarray(0, 8), AMQP_HEADER);
    const frame = bytes.subarray(8, 8 + bytes.readUInt32BE(8));
    const body = frame.subarray(frame[4]! * 4);
    const open = decode(body);
    assert.ok(open instanceof AMQPDescribed);
    return open;
  } finally {
    socket.destroy();
  }
}

describe(
  "the Proton broker offering capabilities as a list",
  { skip: peerSkip("proton"), ...TIMEOUT },
  () => {
    let peer: RunningPeer;
    before(async () => {
      peer = await startPeer("proton", { offeredCapabilitiesList: ["ANONYMOUS-RELAY"] });
    }, TIMEOUT);
    after(async () => {
      await peer.stop();
    });

    it("sends offered-capabilities as an AMQP list of symbols (not an array)", async () => {
      const open = await rawOpenOf(peer);
      const fields = open.value as unknown[];
      assert.ok(Array.isArray(fields), "the OPEN is a list");
      // offered-capabilities is the 8th field; a list decodes to a JS array, an AMQP array would not.
      const caps = fields[7];
      assert.ok(Array.isArray(caps), `offered-capabilities is a list, got ${String(caps)}`);
      assert.deepEqual(caps, [new AMQPSymbol("ANONYMOUS-RELAY")]);
    });

    it("the engine decodes that OPEN: the capability is there", async () => {
      const conn = new AmqpConnection({ sasl: new SaslAnonymousMechanism(), hostname: "localhost" });
      conn.start(await connectTcp({ host: peer.host, port: peer.port }));
      await conn.opened();
      assert.deepEqual(conn.remote?.offeredCapabilities, ["ANONYMOUS-RELAY"]);
      await conn.close();
    });

    it("a client sends a message and receives it back", TIMEOUT, async () => {
      const q = `caps-list-${process.pid}-${Date.now()}`;
      const url = `amqp://${peer.host}:${peer.port}/${q}`;
      assert.deepEqual(await sendMessage(new Target(url), "over a list-capable OPEN"), [
        MessageState.SendComplete,
      ]);
      const got = await receiveMessage(new Source(url), { timeout: 10_000 });
      assert.ok(got, "the message came back");
      assert.equal(Buffer.from(got.data![0]!).toString(), "over a list-capable OPEN");
    });
  },
);
