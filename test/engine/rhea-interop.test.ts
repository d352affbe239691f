import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type rhea from "rhea";
import { AmqpConnection } from "../../src/engine/connection.js";
import { SaslAnonymousMechanism, SaslPlainMechanism } from "../../src/sasl/mechanisms.js";
import { connectTcp } from "../../src/transport/tcp.js";
import { startRheaServer, valueMessage, valueOf, type RheaServer } from "../support/rhea-peer.js";

describe("engine (client role) against rhea (server role)", () => {
  const servers: RheaServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it("opens, attaches a sender and sends 1000 unsettled messages that rhea accepts", async () => {
    const received: string[] = [];
    const server = await startRheaServer((c) => {
      c.on("message", (ctx: rhea.EventContext) => {
        received.push(String(ctx.message?.body));
      });
    });
    servers.push(server);
    const conn = new AmqpConnection({ sasl: new SaslAnonymousMechanism(), hostname: "localhost" });
    conn.start(await connectTcp({ host: "127.0.0.1", port: server.port }));
    const session = conn.createSession();
    const sender = session.attachSender({ target: { address: "q1" }, source: { address: "me" } });
    await sender.attached();
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => sender.send(valueMessage(`m${i}`))),
    );
    assert.equal(outcomes.length, 1000);
    assert.ok(outcomes.every((o) => o?.type === "accepted"));
    assert.deepEqual(
      received,
      Array.from({ length: 1000 }, (_, i) => `m${i}`),
    );
    await conn.close();
    assert.equal(await conn.closed(), undefined);
  });

  it("receives messages from a rhea sender with automatic credit and settles them", async () => {
    const settled: string[] = [];
    const server = await startRheaServer((c) => {
      (
        c as unknown as {
          sasl_server_mechanisms: { enable_plain(f: (u: string, p: string) => boolean): void };
        }
      ).sasl_server_mechanisms.enable_plain((u, p) => u === "u" && p === "p");
      c.on("sender_open", (ctx: rhea.EventContext) => {
        let n = 0;
        const send = (): void => {
          while (ctx.sender!.sendable() && n < 500) ctx.sender!.send({ body: `r${n++}` });
        };
        ctx.sender!.on("sendable", send);
        send();
      });
      c.on("accepted", (ctx: rhea.EventContext) => {
        settled.push(String(ctx.delivery?.id));
      });
    });
    servers.push(server);
    const conn = new AmqpConnection({ sasl: new SaslPlainMechanism("u", "p"), hostname: "localhost" });
    conn.start(await connectTcp({ host: "127.0.0.1", port: server.port }));
    const session = conn.createSession();
    const receiver = session.attachReceiver({
      source: { address: "q2" },
      target: { address: "me" },
      autoCredit: 100,
    });
    const bodies: string[] = [];
    const done = new Promise<void>((resolve) => {
      receiver.onDelivery = (d) => {
        bodies.push(String(valueOf(d.payload)));
        receiver.settle(d);
        if (bodies.length === 500) resolve();
      };
    });
    await receiver.attached();
    await done;
    assert.deepEqual(
      bodies,
      Array.from({ length: 500 }, (_, i) => `r${i}`),
    );
    // rhea sees our settlements a little later: wait (bounded) for all of them.
    for (let i = 0; i < 400 && settled.length < 500; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(settled.length, 500);
    await conn.close();
  });

  it("reports a wrong SASL mechanism as AuthenticationException", async () => {
    const server = await startRheaServer(() => undefined, { sasl_mechanisms: { ANONYMOUS: {} } });
    servers.push(server);
    const conn = new AmqpConnection({ sasl: new SaslPlainMechanism("u", "secret-password") });
    conn.start(await connectTcp({ host: "127.0.0.1", port: server.port }));
    const err = await conn.opened().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error);
    assert.equal((err as { name: string }).name, "AuthenticationException");
    assert.ok(!err.message.includes("secret-password"));
  });
});
