import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import rhea from "rhea";
import { AmqpConnection } from "../../src/engine/connection.js";
import { SaslAnonymousMechanism, SaslPlainMechanism } from "../../src/sasl/mechanisms.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { startEngineServer, type EngineServer } from "../support/engine-server.js";
import { valueMessage, valueOf } from "../support/rhea-peer.js";
import { engineRoundTrip } from "../support/engine-round-trip.js";

async function clientTo(port: number, maxFrameSize?: number): Promise<AmqpConnection> {
  const conn = new AmqpConnection({
    sasl: new SaslPlainMechanism("user", "pass"),
    ...(maxFrameSize ? { maxFrameSize } : {}),
  });
  conn.start(await connectTcp({ host: "127.0.0.1", port }));
  return conn;
}

describe("engine round trips (our client ↔ our server role)", () => {
  let server: EngineServer;
  after(async () => {
    await server.close();
  });

  it("10,000 messages unsettled and 10,000 pre-settled come back byte-exact", async () => {
    server = await startEngineServer();
    const conn = await clientTo(server.port);
    const payloads = Array.from({ length: 10_000 }, (_, i) =>
      Buffer.concat([valueMessage(`m${i}`), randomBytes(i % 7)]),
    );
    assert.deepEqual(await engineRoundTrip(conn, "q-unsettled", payloads, false), payloads);
    assert.deepEqual(await engineRoundTrip(conn, "q-settled", payloads, true), payloads);
    await conn.close();
  });

  for (const maxFrameSize of [4096, 65536]) {
    it(`1 MiB messages with max-frame-size ${maxFrameSize} both ways`, async () => {
      const big = new AmqpConnection({ sasl: new SaslAnonymousMechanism(), maxFrameSize });
      big.start(await connectTcp({ host: "127.0.0.1", port: server.port }));
      const payloads = [randomBytes(1 << 20), randomBytes((1 << 20) + 17), randomBytes(3)];
      const got = await engineRoundTrip(big, `q-big-${maxFrameSize}`, payloads, false);
      assert.equal(got.length, 3);
      for (let i = 0; i < 3; i++) assert.ok(got[i]!.equals(payloads[i]!));
      await big.close();
    });
  }
});

describe("rhea client against our engine in server role", () => {
  let server: EngineServer;
  after(async () => {
    await server.close();
  });

  it("rhea sends 10,000 messages and receives them back byte-exact", async () => {
    server = await startEngineServer();
    const container = rhea.create_container({ id: "rhea-client" });
    const total = 10_000;
    const received: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const c = container.connect({
        host: "127.0.0.1",
        port: server.port,
        username: "user",
        password: "pass",
        reconnect: false,
      });
      c.on("connection_error", (ctx: rhea.EventContext) => reject(ctx.connection.error as Error));
      const snd = c.open_sender("rq");
      let sent = 0;
      let accepted = 0;
      snd.on("sendable", () => {
        while (snd.sendable() && sent < total) snd.send({ body: `r${sent++}` });
      });
      snd.on("accepted", () => {
        if (++accepted === total) {
          const rcv = c.open_receiver({ source: "rq", credit_window: 500 });
          rcv.on("message", (ctx: rhea.EventContext) => {
            received.push(ctx.message?.body);
            if (received.length === total) {
              c.close();
              resolve();
            }
          });
        }
      });
    });
    assert.deepEqual(
      received,
      Array.from({ length: total }, (_, i) => `r${i}`),
    );
    assert.equal(valueOf(valueMessage("x")), "x");
  });
});
