/**
 * The Service Bus emulation at the AMQP level, with rhea as the client: which receivers get Service
 * Bus semantics (a `com.microsoft:` link property, or a declared entity) and which keep the generic
 * behaviour of docs/broker.md (byte-exact deliveries, modified undeliverable-here dead-letters), the
 * wire form of the per-entity management node, and the checks of the `serviceBus` option.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import rhea from "rhea";
import { Broker, BrokerError } from "../../src/broker/index.js";
import {
  attachError,
  brokerFixture,
  collect,
  openReceiver,
  openSender,
  quiet,
  sendAll,
  until,
} from "./rhea-client.js";

type Ctx = rhea.EventContext;

const SERVICE_BUS_RECEIVER = { "com.microsoft:receiver-name": "test-receiver" };

function annotations(ctx: Ctx): Record<string, unknown> {
  return ctx.message?.message_annotations ?? {};
}

function tagOf(ctx: Ctx): Buffer {
  return Buffer.from((ctx.delivery as unknown as { tag: Buffer }).tag);
}

describe("broker: the Service Bus emulation at the AMQP level", () => {
  const { setup } = brokerFixture();

  it("a plain AMQP receiver of an undeclared queue gets the bytes as sent, 8-byte tags, and the generic outcomes", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "plain"), [{ body: "one" }, { body: "two" }]);
    const r = await openReceiver(c, { source: "plain", autoaccept: false, credit_window: 10 });
    const [one, two] = await collect(r, 2);
    assert.deepEqual(annotations(one!), {});
    assert.equal(one!.message?.delivery_count, undefined);
    assert.equal(tagOf(one!).length, 8);
    // modified undeliverable-here dead-letters (it does not defer) for a plain receiver.
    // (One outcome at a time: rhea sends dispositions of one tick as one range, with the first state.)
    one!.delivery!.modified({ undeliverable_here: true });
    await until(() => b.stats("plain").deadLetterCount === 1, "the dead-lettering");
    two!.delivery!.accept();
    await until(() => b.stats("plain").messageCount === 0, "the acceptance");
    assert.equal(b.stats("plain").deadLetterCount, 1);
  });

  it("a receiver with a com.microsoft: link property gets stamped messages, GUID tags and deferral", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "identified"), [{ body: "x", message_id: "m-1" }]);
    const r = await openReceiver(c, {
      source: "identified",
      autoaccept: false,
      credit_window: 10,
      properties: SERVICE_BUS_RECEIVER,
    });
    const [m] = await collect(r, 1);
    const a = annotations(m!);
    assert.equal(a["x-opt-sequence-number"], 1);
    assert.equal(a["x-opt-enqueue-sequence-number"], 1);
    assert.ok(a["x-opt-enqueued-time"] instanceof Date);
    assert.ok(a["x-opt-locked-until"] instanceof Date);
    assert.equal(a["x-opt-message-state"], 0);
    assert.equal(m!.message?.delivery_count, 0);
    assert.equal(m!.message.message_id, "m-1", "a sender's message-id is kept");
    assert.equal(m!.message.body, "x");
    assert.equal(tagOf(m!).length, 16);
    m!.delivery!.modified({ undeliverable_here: true });
    await until(() => b.stats("identified").messageCount === 0, "the deferral");
    assert.equal(b.stats("identified").deadLetterCount, 0, "deferred, not dead-lettered");
  });

  it("every receiver of a declared entity gets Service Bus semantics", async () => {
    const { c } = await setup({ serviceBus: { queues: { declared: { lockDuration: 30_000 } } } });
    await sendAll(await openSender(c, "declared"), [{ body: "d" }]);
    const r = await openReceiver(c, { source: "declared", autoaccept: false, credit_window: 10 });
    const [m] = await collect(r, 1);
    const until = annotations(m!)["x-opt-locked-until"] as Date;
    const ms = until.getTime() - Date.now();
    assert.ok(ms > 25_000 && ms <= 30_000, `locked for ${ms} ms`);
    assert.equal(tagOf(m!).length, 16);
    m!.delivery!.accept();
  });

  it("a topic refuses receivers and drops messages while it has no subscription", async () => {
    const { b, c } = await setup({ serviceBus: { topics: { lonely: {} } } });
    const e = await attachError(openReceiver(c, { source: "lonely", properties: SERVICE_BUS_RECEIVER }));
    assert.equal(e.condition, "amqp:not-allowed");
    assert.deepEqual(await sendAll(await openSender(c, "lonely"), [{ body: 1 }]), ["accepted"]);
    assert.equal(b.stats("lonely").messageCount, 0);
  });

  it("<entity>/$management answers as Service Bus does: statusCode only, correlation-id = message-id, 501 at once", async () => {
    const { b, c } = await setup();
    const node = "orders/$management";
    const replies = await openReceiver(c, { source: node, target: "reply-1", credit_window: 10 });
    const requests = await openSender(c, node);
    const got = collect(replies, 2);
    await sendAll(requests, [
      {
        message_id: "req-1",
        reply_to: "reply-1",
        application_properties: { operation: "com.microsoft:add-rule" },
        body: {},
      },
      {
        message_id: "req-2",
        reply_to: "reply-1",
        application_properties: { operation: "com.microsoft:peek-message" },
        body: { "from-sequence-number": rhea.types.wrap_long(1), "message-count": 10 },
      },
    ]);
    const [notImplemented, empty] = (await got).map((ctx) => ctx.message!);
    assert.equal(notImplemented!.correlation_id, "req-1");
    assert.equal(notImplemented!.application_properties?.["statusCode"], 501);
    assert.equal(notImplemented!.application_properties["status-code"], undefined);
    assert.equal(notImplemented!.application_properties["errorCondition"], "amqp:not-implemented");
    assert.match(String(notImplemented!.application_properties["statusDescription"]), /add-rule/);
    assert.equal(empty!.correlation_id, "req-2");
    assert.equal(empty!.application_properties?.["statusCode"], 204);
    // The node is not a queue, and the request was not stored anywhere.
    assert.ok(!b.queueNames().some((n) => n.includes("$management")));
    assert.deepEqual(await quiet(replies, 100), []);
  });

  it("get-message-sessions lists the sessions with messages or state, paged by skip and top", async () => {
    const { c } = await setup();
    await sendAll(await openSender(c, "listed"), [
      { body: 1, group_id: "a" },
      { body: 2, group_id: "b" },
      { body: 3, group_id: "a" },
      { body: 4 },
    ]);
    const replies = await openReceiver(c, {
      source: "listed/$management",
      target: "reply-2",
      credit_window: 10,
    });
    const requests = await openSender(c, "listed/$management");
    const ask = (id: string, operation: string, body: Record<string, unknown>): rhea.Message => ({
      message_id: id,
      reply_to: "reply-2",
      application_properties: { operation },
      body,
    });
    const got = collect(replies, 3);
    await sendAll(requests, [
      ask("state", "com.microsoft:set-session-state", {
        "session-id": "c",
        "session-state": Buffer.from("s"),
      }),
      ask("all", "com.microsoft:get-message-sessions", {
        skip: 0,
        top: 10,
        "last-updated-time": new Date(0),
      }),
      ask("page", "com.microsoft:get-message-sessions", {
        skip: 1,
        top: 1,
        "last-updated-time": new Date(0),
      }),
    ]);
    const [state, all, page] = (await got).map((ctx) => ctx.message!);
    assert.equal(state!.application_properties?.["statusCode"], 200);
    assert.deepEqual((all!.body as Record<string, unknown>)["sessions-ids"], ["a", "b", "c"]);
    assert.deepEqual((page!.body as Record<string, unknown>)["sessions-ids"], ["b"]);
    assert.equal((page!.body as Record<string, unknown>)["skip"], 2);
  });

  it("<entity>/$DeadLetterQueue in any case is the dead-letter queue", async () => {
    const { b, c } = await setup();
    await sendAll(await openSender(c, "dlq-alias"), [{ body: "bad" }]);
    const r = await openReceiver(c, { source: "dlq-alias", autoaccept: false, credit_window: 1 });
    (await collect(r, 1))[0]!.delivery!.reject({ condition: "amqp:internal-error" });
    await until(() => b.stats("dlq-alias").deadLetterCount === 1, "the dead-lettering");
    for (const name of [
      "dlq-alias/$DeadLetterQueue",
      "dlq-alias/$deadletterqueue",
      "dlq-alias/$deadletter",
    ]) {
      assert.equal(b.stats(name).messageCount, 1, name);
    }
    const d = await openReceiver(c, { source: "dlq-alias/$DEADLETTERQUEUE", credit_window: 1 });
    assert.equal((await collect(d, 1))[0]!.message?.body, "bad");
  });

  it("refuses malformed serviceBus options with a BrokerError naming the option", async () => {
    const cases: [unknown, RegExp][] = [
      [
        { queues: { q: { lockDuration: -1 } } },
        /serviceBus\.queues\['q'\]\.lockDuration must be an integer >= 1/,
      ],
      [{ queues: { q: { lockDurationMs: 5 } } }, /unknown option 'lockDurationMs'/],
      [
        { topics: { t: { subscriptions: { s: { requiresSession: "yes" } } } } },
        /requiresSession must be a boolean/,
      ],
      [{ queues: { x: {} }, topics: { x: {} } }, /both as a queue and as a topic/],
      [{ queues: [] }, /serviceBus\.queues must be an object/],
    ];
    for (const [serviceBus, message] of cases) {
      await assert.rejects(
        Broker.start({ serviceBus } as Parameters<typeof Broker.start>[0]),
        (e: unknown) => e instanceof BrokerError && message.test(e.message),
      );
    }
  });
});
