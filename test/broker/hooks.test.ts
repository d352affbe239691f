import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type rhea from "rhea";
import { Broker, type BrokerEvent } from "../../src/broker/index.js";
import {
  attachError,
  close,
  collect,
  connect,
  linkError,
  openReceiver,
  openSender,
  quiet,
  sendAll,
  until,
  waitEvent,
  brokerFixture,
} from "./rhea-client.js";

type Ctx = rhea.EventContext;

function remoteState(ctx: Ctx): Record<string, unknown> {
  return ctx.delivery?.remote_state ?? {};
}

/** Converts rhea's decoded info map (keys may be typed) to a plain object. */
function plain(info: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (info && typeof info === "object") {
    for (const [k, v] of Object.entries(info as Record<string, unknown>)) out[k] = v;
  }
  return out;
}

describe("broker: test hooks and controls", () => {
  const { setup, keep } = brokerFixture();

  it("onDelivery: rejects, releases or modifies every message sent to the address", async () => {
    const { b, c } = await setup({
      hooks: {
        "reject-me": {
          onDelivery: { outcome: "reject", condition: "amqp:internal-error", description: "boom" },
        },
        "release-me": { onDelivery: { outcome: "release" } },
      },
    });
    b.setHooks("modify-me", {
      onDelivery: { outcome: "modify", deliveryFailed: true, undeliverableHere: false },
    });
    const rej = await openSender(c, "reject-me");
    const states: Record<string, unknown>[] = [];
    rej.on("rejected", (ctx: Ctx) => states.push(remoteState(ctx)));
    assert.deepEqual(await sendAll(rej, [{ body: 1 }]), ["rejected"]);
    const error = states[0]!["error"] as { condition: string; description: string };
    assert.equal(error.condition, "amqp:internal-error");
    assert.equal(error.description, "boom");
    assert.deepEqual(await sendAll(await openSender(c, "release-me"), [{ body: 1 }]), ["released"]);
    const mod = await openSender(c, {
      target: { address: "modify-me" },
      treat_modified_as_released: false,
    } as rhea.SenderOptions);
    const modStates: Record<string, unknown>[] = [];
    mod.on("modified", (ctx: Ctx) => modStates.push(remoteState(ctx)));
    assert.deepEqual(await sendAll(mod, [{ body: 1 }]), ["modified"]);
    assert.equal(modStates[0]!["delivery_failed"], true);
    assert.equal(modStates[0]!["undeliverable_here"], false);
    for (const q of ["reject-me", "release-me", "modify-me"]) assert.equal(b.stats(q).messageCount, 0);
    b.setHooks("release-me", undefined);
    assert.deepEqual(await sendAll(await openSender(c, "release-me"), [{ body: 1 }]), ["accepted"]);
  });

  it("refuseAttach: refuses links to the address with the given error", async () => {
    const { c } = await setup({
      hooks: {
        locked: { refuseAttach: { condition: "com.microsoft:entity-disabled", description: "disabled" } },
      },
    });
    const err = await attachError(openReceiver(c, "locked"));
    assert.equal(err.condition, "com.microsoft:entity-disabled");
    assert.equal(err.description, "disabled");
  });

  it("detachAfterAttach: attaches, then detaches with a redirect and its info", async () => {
    const info = {
      hostname: "elsewhere.example",
      "network-host": "127.0.0.1",
      port: 5999,
      address: "q-moved",
    };
    const { c } = await setup({
      hooks: {
        moved: { detachAfterAttach: { condition: "amqp:link:redirect", description: "moved", info } },
      },
    });
    const s = c.open_sender("moved");
    const opened = waitEvent(s, "sender_open");
    const errored = waitEvent(s, "sender_error");
    await opened;
    const err = linkError(await errored);
    assert.equal(err.condition, "amqp:link:redirect");
    assert.deepEqual(plain(err.info), info);
  });

  it("neverSettle: leaves the messages unsettled and stores nothing", async () => {
    const { b, c } = await setup({ hooks: { blackhole: { neverSettle: true } } });
    const s = await openSender(c, "blackhole");
    const outcomes: string[] = [];
    for (const k of ["accepted", "rejected", "released", "modified"]) s.on(k, () => outcomes.push(k));
    const seen: BrokerEvent[] = [];
    const stop = b.observe((e) => {
      if (e.type === "message") seen.push(e);
    });
    s.send({ body: "into the void" });
    await until(() => seen.length === 1, "the broker to receive it");
    stop();
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(outcomes, []);
    assert.equal(b.stats("blackhole").messageCount, 0);
  });

  it("closeConnections: closes every connection with the given error", async () => {
    const { b, c } = await setup();
    const closed = waitEvent(c, "connection_error");
    await b.closeConnections({ condition: "amqp:connection:forced", description: "maintenance" });
    const ctx = await closed;
    assert.equal((ctx.connection.error as { condition?: string }).condition, "amqp:connection:forced");
    assert.equal(b.connectionCount, 0);
  });

  it("detachLinks: detach-forced and redirect with info on every link of an address", async () => {
    const { b, c } = await setup();
    const r = await openReceiver(c, "busy");
    const s = await openSender(c, "busy");
    await openReceiver(c, "other");
    const rErr = waitEvent(r, "receiver_error");
    const sErr = waitEvent(s, "sender_error");
    assert.equal(b.detachLinks("busy"), 2);
    assert.equal(linkError(await rErr).condition, "amqp:link:detach-forced");
    assert.equal(linkError(await sErr).condition, "amqp:link:detach-forced");
    assert.equal(b.stats("busy").consumerCount, 0);
    assert.equal(b.stats("other").consumerCount, 1);
    const r2 = await openReceiver(c, "busy");
    const redirected = waitEvent(r2, "receiver_error");
    const info = { hostname: "h2", "network-host": "127.0.0.1", port: 1234, address: "busy2" };
    assert.equal(b.detachLinks("busy", { condition: "amqp:link:redirect", description: "go", info }), 1);
    const err = linkError(await redirected);
    assert.equal(err.condition, "amqp:link:redirect");
    assert.deepEqual(plain(err.info), info);
  });

  it("stop/restart: closes everything, keeps the messages and listens on the same port again", async () => {
    const { b, c } = await setup();
    const port = b.port!;
    await sendAll(await openSender(c, "durable"), [{ body: "a" }, { body: "b" }]);
    const r = await openReceiver(c, { source: "durable", credit_window: 0, autoaccept: false });
    const first = collect(r, 1);
    r.add_credit(1);
    await first;
    const lost = waitEvent(c, "disconnected");
    await b.stop();
    await lost;
    assert.equal(b.connectionCount, 0);
    await assert.rejects(connect(port));
    await b.restart();
    assert.equal(b.port, port);
    const c2 = await connect(port);
    keep(c2);
    const r2 = await openReceiver(c2, "durable");
    const got = await collect(r2, 2);
    assert.deepEqual(
      got.map((m) => [m.message?.body, m.message?.delivery_count ?? 0]),
      [
        ["a", 1],
        ["b", 0],
      ],
    );
  });

  it("stop({ abrupt: true }) drops the sockets without a CLOSE", async () => {
    const { b, c } = await setup();
    let closeFrame = false;
    c.on("connection_close", () => {
      closeFrame = true;
    });
    const lost = waitEvent(c, "disconnected");
    await b.stop({ abrupt: true });
    await lost;
    assert.equal(closeFrame, false);
    await b.restart();
    const c2 = await connect(b.port!);
    keep(c2);
  });

  it("observe: reports connections, attaches, messages and consumer outcomes", async () => {
    const b = await Broker.start();
    keep(b);
    const events: BrokerEvent[] = [];
    b.observe((e) => events.push(e));
    const c = await connect(b.port!, { username: "alice", password: "secret" });
    await sendAll(await openSender(c, "watched"), [{ body: "w" }]);
    const r = await openReceiver(c, { source: "watched", autoaccept: false });
    const [m] = await collect(r, 1);
    m!.delivery?.reject({ condition: "x:nope" });
    await until(() => events.some((e) => e.type === "outcome"), "the outcome");
    await close(c);
    await until(() => events.some((e) => e.type === "connection-close"), "the close");
    const types = events.map((e) => e.type);
    assert.deepEqual(
      [...new Set(types)],
      ["connection-open", "attach", "message", "outcome", "connection-close"],
    );
    const open = events.find((e) => e.type === "connection-open");
    assert.equal(open?.type === "connection-open" ? open.identity : undefined, "alice");
    const outcome = events.find((e) => e.type === "outcome");
    assert.equal(outcome?.type === "outcome" ? outcome.state?.type : undefined, "rejected");
    const message = events.find((e) => e.type === "message");
    assert.equal(message?.type === "message" ? message.address : undefined, "watched");
    assert.equal((await quiet(r, 10)).length, 0);
  });
});
