/**
 * Our client engine against rhea in the server role (a store-and-forward server on rhea):
 * 10,000 messages byte-exact unsettled and pre-settled, SASL ANONYMOUS and PLAIN, and 1 MiB
 * messages at max-frame-size 4096 and 65536. Also rhea as a pre-settled client of our server role.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import rhea from "rhea";
import { AmqpConnection } from "../../src/engine/connection.js";
import { SaslAnonymousMechanism, SaslPlainMechanism, type SaslMechanism } from "../../src/sasl/mechanisms.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { startEngineServer, type EngineServer } from "../support/engine-server.js";
import { rawPayloadOf, startRheaQueueServer, type RheaServer } from "../support/rhea-peer.js";
import { dataMessage } from "../support/payloads.js";
import { engineRoundTrip } from "../support/engine-round-trip.js";

async function roundTrip(
  port: number,
  sasl: SaslMechanism,
  address: string,
  payloads: Buffer[],
  settled: boolean,
  maxFrameSize = 65536,
): Promise<Buffer[]> {
  const conn = new AmqpConnection({ sasl, maxFrameSize });
  conn.start(await connectTcp({ host: "127.0.0.1", port }));
  try {
    return await engineRoundTrip(conn, address, payloads, settled);
  } finally {
    await conn.close();
  }
}

describe("our client engine against rhea (server role)", () => {
  let server: RheaServer;
  before(async () => {
    server = await startRheaQueueServer();
  });
  after(async () => {
    await server.close();
  });

  const payloads = Array.from({ length: 10_000 }, (_, i) =>
    dataMessage(Buffer.from(`m${i}-${randomBytes(3).toString("hex")}`)),
  );

  it("SASL ANONYMOUS: 10,000 unsettled messages round trip byte-exact", async () => {
    assert.deepEqual(
      await roundTrip(server.port, new SaslAnonymousMechanism(), "rq-u", payloads, false),
      payloads,
    );
  });

  it("SASL PLAIN: 10,000 pre-settled messages round trip byte-exact", async () => {
    assert.deepEqual(
      await roundTrip(server.port, new SaslPlainMechanism("user", "pass"), "rq-s", payloads, true),
      payloads,
    );
  });

  for (const maxFrameSize of [4096, 65536]) {
    it(`1 MiB messages at max-frame-size ${maxFrameSize}`, async () => {
      const big = [dataMessage(randomBytes(1 << 20)), dataMessage(randomBytes(1 << 20))];
      const got = await roundTrip(
        server.port,
        new SaslAnonymousMechanism(),
        `rq-big-${maxFrameSize}`,
        big,
        false,
        maxFrameSize,
      );
      assert.ok(got[0]!.equals(big[0]!) && got[1]!.equals(big[1]!));
    });
  }
});

describe("rhea client against our engine (server role)", () => {
  let server: EngineServer;
  before(async () => {
    server = await startEngineServer({ maxFrameSize: 4096 });
  });
  after(async () => {
    await server.close();
  });

  async function rheaRoundTrip(
    address: string,
    bodies: Buffer[],
    settled: boolean,
    port = server.port,
    maxFrameSize = 4096,
  ): Promise<Buffer[]> {
    const container = rhea.create_container({ id: `rhea-${address}` });
    const got: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const c = container.connect({
        host: "127.0.0.1",
        port,
        reconnect: false,
        max_frame_size: maxFrameSize,
      });
      c.on("connection_error", (ctx: rhea.EventContext) => reject(ctx.connection.error as Error));
      const snd = c.open_sender({ target: address, snd_settle_mode: settled ? 1 : 0 });
      let sent = 0;
      let acked = 0;
      const openReceiver = (): void => {
        const rcv = c.open_receiver({ source: address, credit_window: 200 });
        rcv.on("message", (ctx: rhea.EventContext) => {
          got.push(rawPayloadOf(ctx.message)!);
          if (got.length === bodies.length) {
            c.close();
            resolve();
          }
        });
      };
      snd.on("sendable", () => {
        while (snd.sendable() && sent < bodies.length) {
          snd.send(bodies[sent++]!, undefined, 0);
          if (settled && sent === bodies.length) setTimeout(openReceiver, 50);
        }
      });
      if (!settled) {
        snd.on("accepted", () => {
          if (++acked === bodies.length) openReceiver();
        });
      }
    });
    return got;
  }

  it("rhea sends 10,000 pre-settled messages and receives them back byte-exact", async () => {
    const bodies = Array.from({ length: 10_000 }, (_, i) => dataMessage(Buffer.from(`p${i}`)));
    assert.deepEqual(await rheaRoundTrip("rhea-presettled", bodies, true), bodies);
  });

  it("rhea sends 1 MiB messages (max-frame-size 4096) and receives them back byte-exact", async () => {
    const bodies = [dataMessage(randomBytes(1 << 20)), dataMessage(randomBytes(1 << 20))];
    const got = await rheaRoundTrip("rhea-big", bodies, false);
    assert.ok(got[0]!.equals(bodies[0]!) && got[1]!.equals(bodies[1]!));
  });

  it("rhea sends 1 MiB messages (max-frame-size 65536) and receives them back byte-exact", async () => {
    const big = await startEngineServer({ maxFrameSize: 65536 });
    try {
      const bodies = [dataMessage(randomBytes(1 << 20)), dataMessage(randomBytes(1 << 20))];
      const got = await rheaRoundTrip("rhea-big-64k", bodies, false, big.port, 65536);
      assert.ok(got[0]!.equals(bodies[0]!) && got[1]!.equals(bodies[1]!));
    } finally {
      await big.close();
    }
  });
});
