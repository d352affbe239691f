/**
 * A broker with users locks the door: ANONYMOUS and clients without SASL are refused unless
 * `allowAnonymous` says otherwise, and failed logins are answered ever more slowly per source address.
 * rhea is the client throughout (a peer nobody here wrote).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type rhea from "rhea";
import { Broker, BrokerError, type BrokerEvent, type BrokerOptions } from "../../src/broker/index.js";
import { saslExchange } from "./raw-sasl.js";
import { close, collect, connect, openReceiver, openSender, sendAll } from "./rhea-client.js";

const offeredMechanisms = async (port: number): Promise<string[]> => (await saslExchange(port)).offered;

describe("broker: authentication with configured users", () => {
  const brokers: Broker[] = [];
  const conns: rhea.Connection[] = [];
  after(async () => {
    for (const c of conns) await close(c);
    for (const b of brokers) await b.close();
  });
  const start = async (options: BrokerOptions): Promise<Broker> => {
    const b = await Broker.start({ port: 0, ...options });
    brokers.push(b);
    return b;
  };
  const keep = (c: rhea.Connection): rhea.Connection => {
    conns.push(c);
    return c;
  };

  it("refuses ANONYMOUS and clients without SASL; an anonymous client never reads alice's message", async () => {
    const b = await start({ sasl: { users: { alice: "s3cret" } } });
    const opened: (string | undefined)[] = [];
    b.observe((e: BrokerEvent) => {
      if (e.type === "connection-open") opened.push(e.identity);
    });
    const alice = keep(await connect(b.port!, { username: "alice", password: "s3cret" }));
    const sender = await openSender(alice, "alice-inbox");
    await sendAll(sender, [{ body: "for alice only" }]);

    // SASL ANONYMOUS (rhea sends it for a user name without a password) and no SASL layer at all.
    await assert.rejects(connect(b.port!, { username: "anyone" }));
    await assert.rejects(connect(b.port!));
    assert.deepEqual(opened, ["alice"]);
    assert.equal(b.stats("alice-inbox").messageCount, 1);

    const reader = keep(await connect(b.port!, { username: "alice", password: "s3cret" }));
    const got = await collect(await openReceiver(reader, "alice-inbox"), 1);
    assert.equal(got[0]?.message?.body, "for alice only");
  });

  it("does not offer ANONYMOUS next to users", async () => {
    const b = await start({ sasl: { users: { alice: "s3cret" } } });
    const mechanisms = await offeredMechanisms(b.port!);
    assert.deepEqual(mechanisms, ["PLAIN"]);
  });

  it("lets anonymous clients in next to the users only with allowAnonymous", async () => {
    const b = await start({ sasl: { users: { alice: "s3cret" }, allowAnonymous: true } });
    keep(await connect(b.port!, { username: "anyone" }));
    keep(await connect(b.port!));
    keep(await connect(b.port!, { username: "alice", password: "s3cret" }));
    await assert.rejects(connect(b.port!, { username: "alice", password: "wrong" }));
    assert.deepEqual(await offeredMechanisms(b.port!), ["PLAIN", "MSSBCBS", "ANONYMOUS"]);
  });

  it("refuses to start with users and ANONYMOUS (or no SASL) offered by accident", async () => {
    const refused = async (options: BrokerOptions): Promise<void> => {
      let started: Broker | undefined;
      await assert.rejects(
        Broker.start({ port: 0, ...options }).then((b) => {
          started = b; // closed below, so that a failure cannot keep the process alive
        }),
        (e: unknown) => e instanceof BrokerError && /allowAnonymous/.test(e.message),
      );
      await started?.close();
    };
    await refused({ sasl: { users: { a: "b" }, mechanisms: ["PLAIN", "ANONYMOUS"] } });
    await refused({ sasl: { users: { a: "b" }, allowNoSasl: true } });
  });

  it("an open broker (no users) still lets everybody in", async () => {
    const b = await start({});
    keep(await connect(b.port!, { username: "anyone" }));
    keep(await connect(b.port!));
    keep(await connect(b.port!, { username: "x", password: "y" }));
  });

  it("delays each further failed login from the same source, and a success resets the delay", async () => {
    const b = await start({ sasl: { users: { alice: "s3cret" }, failedLoginDelayMs: 400 } });
    const timeFailure = async (): Promise<number> => {
      const t0 = performance.now();
      await assert.rejects(connect(b.port!, { username: "alice", password: "guess" }));
      return performance.now() - t0;
    };
    const first = await timeFailure(); // 50 ms
    const second = await timeFailure(); // 100 ms
    const third = await timeFailure(); // 200 ms
    const fourth = await timeFailure(); // 400 ms (the ceiling)
    const fifth = await timeFailure(); // still 400 ms
    assert.ok(first >= 45, `first failure after ${first} ms`);
    assert.ok(second >= 95, `second failure after ${second} ms`);
    assert.ok(third >= 195, `third failure after ${third} ms`);
    assert.ok(fourth >= 395 && fifth >= 395, `ceiling: ${fourth} ms, ${fifth} ms`);
    assert.ok(fifth < 2000, `the ceiling holds: ${fifth} ms`);
    keep(await connect(b.port!, { username: "alice", password: "s3cret" }));
    const afterSuccess = await timeFailure();
    assert.ok(afterSuccess < 395, `reset after a success: ${afterSuccess} ms`);
  });
});
