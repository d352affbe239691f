/**
 * What each side puts on the wire: the broker (the engine's accepting side) writes every field of
 * every performative and SASL frame, nested composites included, for peers that read fields by
 * position (src/engine/performative-form.ts); our connecting side writes the shortest lists.
 * The bytes are recorded at the client's transport and decoded as plain lists.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Broker } from "../../src/broker/index.js";
import type { CompositeType } from "../../src/codec/composite.js";
import * as messaging from "../../src/codec/definitions/messaging.js";
import * as security from "../../src/codec/definitions/security.js";
import * as transport from "../../src/codec/definitions/transport.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import type { IncomingDelivery } from "../../src/engine/delivery.js";
import { SenderSettleMode } from "../../src/engine/link.js";
import { SaslAnonymousMechanism } from "../../src/sasl/mechanisms.js";
import { connectTcp } from "../../src/transport/tcp.js";
import {
  descriptorCode,
  nestedDescribed,
  tapTransport,
  wireFrames,
  type TappedTransport,
  type WireFrame,
} from "../support/wire-tap.js";

/** Field count of every composite of the definitions, by descriptor code. */
const FIELD_COUNT = new Map<number, { name: string; count: number }>();
for (const mod of [transport, messaging, security]) {
  for (const value of Object.values(mod) as unknown[]) {
    if (typeof value !== "object" || value === null || !("fields" in value) || !("code" in value)) continue;
    const type = value as CompositeType<object>;
    FIELD_COUNT.set(type.code, { name: type.name, count: type.fields.length });
  }
}

/** Asserts that `f` and every known composite nested in it carry all of their fields. */
function assertFull(f: WireFrame): void {
  const table = FIELD_COUNT.get(f.code);
  assert.ok(table, `${f.name} is a known frame`);
  assert.equal(f.fields.length, table.count, `${f.name} carries its ${table.count} fields`);
  for (const nested of nestedDescribed(f.fields)) {
    const inner = FIELD_COUNT.get(descriptorCode(nested));
    if (inner === undefined) continue; // e.g. a filter's own descriptor
    assert.ok(Array.isArray(nested.value), `${inner.name} in ${f.name} is a list`);
    assert.equal(
      (nested.value as unknown[]).length,
      inner.count,
      `${inner.name} in ${f.name} carries its ${inner.count} fields`,
    );
  }
}

const names = (frames: readonly WireFrame[]): Set<string> => new Set(frames.map((f) => f.name));

describe("performatives on the wire", () => {
  const brokers: Broker[] = [];
  after(async () => {
    for (const b of brokers) await b.close();
  });

  /** Runs a session through every kind of frame against a new broker; returns the recorded bytes. */
  async function exchange(): Promise<TappedTransport> {
    const b = await Broker.start({
      hooks: {
        "full-reject": { onDelivery: { outcome: "reject", condition: "amqp:internal-error" } },
        "full-refused": { refuseAttach: { condition: "amqp:unauthorized-access" } },
      },
    });
    brokers.push(b);
    // A small max-frame-size: the broker splits the big message into several TRANSFER frames.
    const conn = new AmqpConnection({
      sasl: new SaslAnonymousMechanism(),
      hostname: "localhost",
      maxFrameSize: 512,
    });
    const tap = tapTransport(await connectTcp({ host: b.host, port: b.port! }));
    conn.start(tap.transport);
    await conn.opened();
    const session = conn.createSession();
    await session.begun();

    // A producer: ATTACH (broker as receiver), FLOW, DISPOSITION accepted.
    const sender = session.attachSender({
      target: { address: "full-q" },
      sndSettleMode: SenderSettleMode.Unsettled,
    });
    await sender.attached();
    const big = Buffer.alloc(2000, 7);
    assert.equal((await sender.send(big))?.type, "accepted");
    assert.equal((await sender.send(Buffer.from([1, 2, 3])))?.type, "accepted");

    // DISPOSITION rejected, with its error.
    const rejecting = session.attachSender({ target: { address: "full-reject" } });
    await rejecting.attached();
    assert.equal((await rejecting.send(Buffer.from("x")))?.type, "rejected");

    // A consumer: ATTACH (broker as sender), TRANSFER frames (more=true, continuations).
    const receiver = session.attachReceiver({ source: { address: "full-q" }, autoCredit: 10 });
    const got: Buffer[] = [];
    await new Promise<void>((resolve) => {
      receiver.onDelivery = (d: IncomingDelivery) => {
        got.push(d.payload);
        receiver.settle(d);
        if (got.length === 2) resolve();
      };
    });
    assert.ok(got[0]!.equals(big));

    // A refused link: ATTACH then DETACH with an error.
    const refused = session.attachSender({ target: { address: "full-refused" } });
    await assert.rejects(refused.attached());

    await receiver.detach();
    await sender.detach();
    await rejecting.detach();
    await session.end();
    await conn.close();
    return tap;
  }

  it("the broker writes every field of every frame it sends, nested composites included", async () => {
    const frames = wireFrames((await exchange()).received);
    const kinds = names(frames);
    for (const name of [
      "SASL-MECHANISMS",
      "SASL-OUTCOME",
      "OPEN",
      "BEGIN",
      "ATTACH",
      "FLOW",
      "TRANSFER",
      "DISPOSITION",
      "DETACH",
      "END",
      "CLOSE",
    ]) {
      assert.ok(kinds.has(name), `the broker sent ${name}`);
    }
    for (const f of frames) assertFull(f);

    // The values strict peers compare or need must be there, not only the positions.
    const open = frames.find((f) => f.name === "OPEN")!;
    assert.notEqual(open.fields[2], null, "OPEN max-frame-size is set");
    const begin = frames.find((f) => f.name === "BEGIN")!;
    assert.notEqual(begin.fields[4], null, "BEGIN handle-max is set");
    const senderAttach = frames.find((f) => f.name === "ATTACH" && f.fields[2] === false)!;
    assert.notEqual(senderAttach.fields[9], null, "the broker's sending ATTACH has initial-delivery-count");
    const transfers = frames.filter((f) => f.name === "TRANSFER");
    assert.ok(transfers.length >= 4, "the 2000-byte message took several frames");
    assert.ok(
      transfers.some((t) => t.fields[5] === true),
      "a TRANSFER with more=true",
    );
    assert.ok(
      transfers.some((t) => t.fields[1] === null),
      "a continuation TRANSFER (delivery-id null)",
    );
    const rejected = frames.find(
      (f) => f.name === "DISPOSITION" && nestedDescribed(f.fields).some((d) => descriptorCode(d) === 0x25),
    );
    assert.ok(rejected, "a DISPOSITION with a rejected state");
    const refusal = frames.find((f) => f.name === "DETACH" && f.fields[2] !== null);
    assert.ok(refusal, "a DETACH with an error");
  });

  it("the broker's CLOSE with an error carries the error's three fields", async () => {
    const b = await Broker.start();
    brokers.push(b);
    const conn = new AmqpConnection({ sasl: new SaslAnonymousMechanism(), hostname: "localhost" });
    const tap = tapTransport(await connectTcp({ host: b.host, port: b.port! }));
    conn.start(tap.transport);
    await conn.opened();
    await b.stop({ error: { condition: "amqp:connection:forced" } });
    await conn.closed();
    const close = wireFrames(tap.received).find((f) => f.name === "CLOSE");
    assert.ok(close, "the broker sent CLOSE");
    assertFull(close);
    assert.equal(nestedDescribed(close.fields).length, 1, "CLOSE carries an error");
  });

  it("an ATTACH answering one with link properties carries a properties map (empty when we have none)", async () => {
    const b = await Broker.start();
    brokers.push(b);
    const conn = new AmqpConnection({ sasl: new SaslAnonymousMechanism(), hostname: "localhost" });
    const tap = tapTransport(await connectTcp({ host: b.host, port: b.port! }));
    conn.start(tap.transport);
    const session = conn.createSession();
    const withProps = session.attachSender({
      name: "with-properties",
      target: { address: "props-q" },
      properties: { "com.microsoft:timeout": 60000 },
    });
    const without = session.attachSender({ name: "without-properties", target: { address: "props-q" } });
    await Promise.all([withProps.attached(), without.attached()]);
    await conn.close();
    const attaches = wireFrames(tap.received).filter((f) => f.name === "ATTACH");
    const answer = (name: string): WireFrame => attaches.find((f) => f.fields[0] === name)!;
    assert.ok(answer("with-properties").fields[13] instanceof Map, "a properties map");
    assert.equal(answer("without-properties").fields[13], null, "no properties, none asked");
  });

  it("our connecting side writes the shortest lists (trailing absent fields dropped)", async () => {
    const frames = wireFrames((await exchange()).sent);
    for (const f of frames) {
      const table = FIELD_COUNT.get(f.code)!;
      assert.ok(f.fields.length <= table.count, `${f.name} within its table`);
      if (f.fields.length > 0) {
        assert.notEqual(f.fields[f.fields.length - 1], null, `${f.name} does not end with a null field`);
      }
    }
    const byName = (name: string): WireFrame => frames.find((f) => f.name === name)!;
    assert.ok(byName("OPEN").fields.length < 10);
    assert.ok(byName("TRANSFER").fields.length < 11);
    assert.equal(byName("CLOSE").fields.length, 0);
  });
});
