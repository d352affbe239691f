import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type rhea from "rhea";
import {
  collect,
  openReceiver,
  openSender,
  quiet,
  sendAll,
  until,
  waitEvent,
  creditOf,
  type Link,
  brokerFixture,
} from "./rhea-client.js";

const dynamic = { dynamic: true } as unknown as rhea.Source;

type Ctx = rhea.EventContext;

function remoteAddress(l: Link, which: "source" | "target"): string {
  const a = (l as unknown as { remote: { attach: Record<string, { address?: string } | undefined> } }).remote
    .attach;
  return a[which]!.address!;
}

describe("broker: dynamic nodes, anonymous relay, drain, $management", () => {
  const { setup } = brokerFixture();

  it("gives a receiver with a dynamic source a temporary queue, deleted when it detaches", async () => {
    const { b, c } = await setup();
    const r = await openReceiver(c, { source: dynamic });
    const address = remoteAddress(r, "source");
    assert.match(address, /^\$dynamic\//);
    assert.ok(b.queueNames().includes(address));
    const got = collect(r, 2);
    await sendAll(await openSender(c, address), [{ body: 1 }, { body: 2 }]);
    assert.deepEqual(
      (await got).map((m) => m.message?.body),
      [1, 2],
    );
    r.close();
    await until(() => !b.queueNames().includes(address), "the temporary queue to go");
  });

  it("gives a sender with a dynamic target a temporary queue", async () => {
    const { b, c } = await setup();
    const s = await openSender(c, { target: { dynamic: true } });
    const address = remoteAddress(s, "target");
    assert.match(address, /^\$dynamic\//);
    await sendAll(s, [{ body: "to-dyn" }]);
    assert.equal(b.stats(address).messageCount, 1);
    const r = await openReceiver(c, address);
    assert.equal((await collect(r, 1))[0]!.message?.body, "to-dyn");
  });

  it("routes messages of a sender with a null target by their 'to' (anonymous relay)", async () => {
    const { b, c } = await setup({ queues: { autoCreate: false, names: ["r1", "r2"] } });
    const s = await openSender(c, { target: {} });
    const rejected: unknown[] = [];
    s.on("rejected", (ctx: Ctx) => {
      rejected.push(
        (ctx.delivery?.remote_state as { error?: { condition?: string } } | undefined)?.error?.condition,
      );
    });
    const outcomes = await sendAll(s, [
      { to: "r1", body: "one" },
      { to: `amqp://127.0.0.1:${b.port}/r2`, body: "two" },
      { to: "nowhere", body: "lost" },
      { body: "no-to" },
    ]);
    assert.deepEqual(outcomes.sort(), ["accepted", "accepted", "rejected", "rejected"]);
    assert.deepEqual(rejected, ["amqp:not-found", "amqp:not-found"]);
    assert.equal(b.stats("r1").messageCount, 1);
    assert.equal(b.stats("r2").messageCount, 1);
    assert.ok(!b.queueNames().includes("nowhere"));
  });

  it("drains: sends what is available, then gives back the remaining credit", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "drain"), [{ body: 1 }, { body: 2 }, { body: 3 }]);
    const r = await openReceiver(c, { source: "drain", credit_window: 0 });
    const got = collect(r, 3);
    const drained = waitEvent(r, "receiver_drained");
    r.drain = true;
    r.add_credit(10);
    assert.equal((await got).length, 3);
    await drained;
    assert.equal(creditOf(r), 0);
    await until(() => b.stats("drain").messageCount === 0, "the accepts");
    // Nothing more arrives for a message sent after the drain (no credit left).
    await sendAll(await openSender(c, "drain"), [{ body: 4 }]);
    assert.equal((await quiet(r, 50)).length, 0);
    assert.equal(b.stats("drain").messageCount, 1);
  });

  it("answers $management READ with the message count, to the receiver named by reply-to", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "counted"), [{ body: 1 }, { body: 2 }, { body: 3 }]);
    const replies = await openReceiver(c, { source: "$management", target: "mgmt-client-1" });
    const requests = await openSender(c, "$management");
    const got = collect(replies, 1);
    await sendAll(requests, [
      {
        message_id: 77,
        reply_to: "mgmt-client-1",
        application_properties: { operation: "READ", type: "com.microsoft:queue", name: "counted" },
        body: null,
      },
    ]);
    const res = (await got)[0]!.message!;
    assert.equal(res.correlation_id, 77);
    assert.equal(res.application_properties?.["statusCode"], 200);
    assert.equal(res.application_properties["status-code"], 200);
    assert.equal(typeof res.application_properties["statusDescription"], "string");
    const body = res.body as Record<string, unknown>;
    assert.equal(body["message_count"], 3);
    assert.equal(body["consumer_count"], 0);
    assert.equal(b.stats("counted").messageCount, 3);
  });

  it("handles $management CREATE, DELETE, 404 and unknown operations (501), replying to a dynamic address", async () => {
    // Auto-creation on, so that CREATE may add a queue (READ and DELETE still create nothing).
    const { b, c } = await setup();
    const replies = await openReceiver(c, { source: dynamic });
    const replyTo = remoteAddress(replies, "source");
    const requests = await openSender(c, "$management");
    const ask = async (operation: string, name: string): Promise<rhea.Message> => {
      const got = collect(replies, 1);
      await sendAll(requests, [
        {
          message_id: `${operation}-${name}`,
          reply_to: replyTo,
          application_properties: { operation, type: "q", name },
          body: null,
        },
      ]);
      const m = (await got)[0]!.message!;
      assert.equal(m.correlation_id, `${operation}-${name}`);
      return m;
    };
    const status = (m: rhea.Message): unknown => m.application_properties?.["statusCode"];
    assert.equal(status(await ask("READ", "made")), 404);
    assert.equal(status(await ask("CREATE", "made")), 201);
    assert.ok(b.queueNames().includes("made"));
    assert.equal(status(await ask("CREATE", "made")), 409);
    assert.equal(status(await ask("READ", "made")), 200);
    assert.equal(status(await ask("DELETE", "made")), 200);
    assert.ok(!b.queueNames().includes("made"));
    const unknown = await ask("PURGE", "made");
    assert.equal(status(unknown), 501);
    assert.match(String(unknown.application_properties?.["statusDescription"]), /PURGE/);
  });

  it("answers 500 when an onRequest hook throws, and keeps the connection", async () => {
    const { b, c } = await setup();
    b.setHooks("$management", {
      onRequest: (req) => {
        if (req.operation === "EXPLODE") throw new Error("hook failed");
        return undefined;
      },
    });
    const replies = await openReceiver(c, { source: "$management" });
    const requests = await openSender(c, "$management");
    const got = collect(replies, 2);
    await sendAll(requests, [
      { message_id: 1, application_properties: { operation: "EXPLODE", name: "x" }, body: null },
      { message_id: 2, application_properties: { operation: "READ", name: "missing" }, body: null },
    ]);
    const [first, second] = (await got).map((m) => m.message?.application_properties ?? {});
    assert.equal(first!["statusCode"], 500);
    assert.equal(first!["statusDescription"], "hook failed");
    assert.equal(second!["statusCode"], 404);
  });

  it("answers requests without reply-to on the $management receiver of the same connection", async () => {
    const { c } = await setup();
    const replies = await openReceiver(c, { source: "$management" });
    const got = collect(replies, 1);
    await sendAll(await openSender(c, "$management"), [
      {
        message_id: 1,
        application_properties: { operation: "READ", name: "hub", type: "com.microsoft:eventhub" },
        body: null,
      },
    ]);
    const res = (await got)[0]!.message!;
    assert.equal(res.application_properties?.["status-code"], 200);
    assert.deepEqual((res.body as Record<string, unknown>)["partition_ids"], ["0", "1"]);
  });
});
