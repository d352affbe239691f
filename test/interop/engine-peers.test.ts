/**
 * Our engine as a client against real brokers: RabbitMQ 3.10 (AMQP 1.0 plugin) and the Qpid Proton
 * broker of scripts/peers. SASL ANONYMOUS and PLAIN; 10,000 messages round trip byte-exact,
 * unsettled and pre-settled; 1 MiB messages with max-frame-size 4096 and 65536.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { AmqpConnection } from "../../src/engine/connection.js";
import { SaslAnonymousMechanism, SaslPlainMechanism, type SaslMechanism } from "../../src/sasl/mechanisms.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { peerSkip, startPeer, type PeerName, type RunningPeer } from "../support/peers.js";
import { dataMessage } from "../support/payloads.js";
import { engineRoundTrip } from "../support/engine-round-trip.js";

const TIMEOUT = { timeout: 120_000 };

/**
 * RabbitMQ rewrites the header and adds a properties section (`to`): keep the sections we sent,
 * which end the received payload byte-exact.
 */
function sentPart(payload: Buffer, sent: Buffer): Buffer {
  return payload.length >= sent.length ? payload.subarray(payload.length - sent.length) : payload;
}

async function connect(
  peer: RunningPeer,
  sasl: SaslMechanism,
  maxFrameSize = 65536,
): Promise<AmqpConnection> {
  const conn = new AmqpConnection({ sasl, hostname: "localhost", maxFrameSize });
  conn.start(await connectTcp({ host: peer.host, port: peer.port }));
  await conn.opened();
  return conn;
}

function suite(name: PeerName, addressOf: (q: string) => string, plain: SaslMechanism | undefined): void {
  describe(`engine client against ${name}`, { skip: peerSkip(name), ...TIMEOUT }, () => {
    let peer: RunningPeer;
    before(async () => {
      peer = await startPeer(name);
    }, TIMEOUT);
    after(async () => {
      await peer.stop();
    });

    it(
      "SASL ANONYMOUS: 10,000 messages unsettled and 10,000 pre-settled round trip byte-exact",
      TIMEOUT,
      async () => {
        const conn = await connect(peer, new SaslAnonymousMechanism());
        const payloads = Array.from({ length: 10_000 }, (_, i) =>
          dataMessage(Buffer.from(`m-${i}-${randomBytes(4).toString("hex")}`)),
        );
        const q = `eng-${name}-${Date.now()}`;
        const a = await engineRoundTrip(conn, addressOf(`${q}-u`), payloads, false);
        assert.deepEqual(
          a.map((p, i) => sentPart(p, payloads[i]!)),
          payloads,
        );
        const b = await engineRoundTrip(conn, addressOf(`${q}-s`), payloads, true);
        assert.deepEqual(
          b.map((p, i) => sentPart(p, payloads[i]!)),
          payloads,
        );
        await conn.close();
      },
    );

    if (plain) {
      it("SASL PLAIN connects and sends", TIMEOUT, async () => {
        const conn = await connect(peer, plain);
        const payloads = [dataMessage(Buffer.from("plain"))];
        const got = await engineRoundTrip(conn, addressOf(`plain-${Date.now()}`), payloads, false);
        assert.deepEqual(
          got.map((p, i) => sentPart(p, payloads[i]!)),
          payloads,
        );
        await conn.close();
      });
    }

    for (const maxFrameSize of [4096, 65536]) {
      it(`1 MiB messages with max-frame-size ${maxFrameSize}`, TIMEOUT, async () => {
        const conn = await connect(peer, new SaslAnonymousMechanism(), maxFrameSize);
        const payloads = [dataMessage(randomBytes(1 << 20)), dataMessage(randomBytes(1 << 20))];
        const got = await engineRoundTrip(
          conn,
          addressOf(`big-${maxFrameSize}-${Date.now()}`),
          payloads,
          false,
        );
        assert.equal(got.length, 2);
        for (let i = 0; i < 2; i++) assert.ok(sentPart(got[i]!, payloads[i]!).equals(payloads[i]!));
        await conn.close();
      });
    }
  });
}

suite("rabbitmq", (q) => `/queue/${q}`, new SaslPlainMechanism("guest", "guest"));
suite("proton", (q) => q, undefined);
