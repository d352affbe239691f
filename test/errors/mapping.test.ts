import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Decoder } from "../../src/codec/decoder.js";
import { DeliveryState } from "../../src/codec/definitions/messaging.js";
import { Close, Detach, End } from "../../src/codec/definitions/transport.js";
import { AMQPSymbol } from "../../src/codec/values.js";
import {
  AMQPError,
  ClientTimeout,
  ConnectionClose,
  ConnectionRedirect,
  ErrorCondition,
  LinkDetach,
  LinkRedirect,
  MessageException,
  MessageModified,
  MessageReleased,
  MessageSendFailed,
  SessionEnd,
  VendorConnectionClose,
  VendorLinkDetach,
  connectionErrorFromClose,
  linkErrorFromDetach,
  sessionErrorFromEnd,
  sendErrorFromOutcome,
  toErrorFields,
} from "../../src/errors/index.js";
import { ByteWriter } from "../../src/util/byte-writer.js";

function roundTrip<T>(type: { encode(w: ByteWriter, v: T): void; decode(d: Decoder): T }, v: T): T {
  const w = new ByteWriter();
  type.encode(w, v);
  return type.decode(new Decoder(w.toBuffer()));
}

/** Encodes and decodes a union value. */
function roundTripUnion(v: DeliveryState): DeliveryState {
  const w = new ByteWriter();
  DeliveryState.encode(w, v);
  return DeliveryState.decode(new Decoder(w.toBuffer()));
}

describe("connectionErrorFromClose", () => {
  it("known condition → ConnectionClose with uamqp's message text", () => {
    const e = connectionErrorFromClose({ condition: "amqp:connection:forced", description: "idle" });
    assert.equal(e.constructor, ConnectionClose);
    assert.equal(e.condition, "amqp:connection:forced");
    assert.equal(e.description, "idle");
    assert.equal(e.message, "amqp:connection:forced: idle");
    assert.equal(e.retryable, true);
  });

  it("known no-retry condition → non-retryable ConnectionClose", () => {
    const e = connectionErrorFromClose({ condition: "amqp:connection:framing-error" });
    assert.equal(e.constructor, ConnectionClose);
    assert.equal(e.message, "amqp:connection:framing-error");
    assert.equal(e.retryable, false);
  });

  it("vendor condition → VendorConnectionClose, condition preserved", () => {
    const e = connectionErrorFromClose({ condition: "com.microsoft:custom", info: { k: 1 } });
    assert.ok(e instanceof VendorConnectionClose);
    assert.ok(e instanceof ConnectionClose);
    assert.equal(e.condition, "com.microsoft:custom");
    assert.deepEqual(e.info, { k: 1 });
    assert.equal(e.retryable, true);
  });

  it("amqp:connection:redirect → ConnectionRedirect with the new host", () => {
    const e = connectionErrorFromClose({
      condition: "amqp:connection:redirect",
      info: { hostname: "h2", port: 5671 },
    });
    assert.ok(e instanceof ConnectionRedirect);
    assert.equal(e.hostname, "h2");
    assert.equal(e.retryable, false);
  });

  it("no error → ConnectionClose(amqp:unknown-error), retryable", () => {
    const cause = new Error("socket");
    const e = connectionErrorFromClose(undefined, { cause });
    assert.equal(e.constructor, ConnectionClose);
    assert.equal(e.condition, ErrorCondition.UnknownError);
    assert.equal(e.retryable, true);
    assert.equal(e.cause, cause);
    assert.match(e.message, /^amqp:unknown-error: /);
  });

  it("accepts the codec's decoded CLOSE error", () => {
    const close = roundTrip(Close, {
      error: { condition: "amqp:not-allowed", description: "nope", info: { x: "y" } },
    });
    const e = connectionErrorFromClose(close.error);
    assert.equal(e.condition, "amqp:not-allowed");
    assert.deepEqual(e.info, { x: "y" });
    assert.equal(e.retryable, false);
  });
});

describe("sessionErrorFromEnd", () => {
  it("known condition → SessionEnd, a session-scope error and not a ConnectionClose", () => {
    const e = sessionErrorFromEnd({ condition: "amqp:session:window-violation", description: "too many" });
    assert.equal(e.constructor, SessionEnd);
    assert.equal(e.code, "AMQP_SESSION_ENDED");
    assert.equal(e instanceof ConnectionClose, false);
    assert.equal(e instanceof LinkDetach, false);
    assert.equal(e.condition, "amqp:session:window-violation");
    assert.equal(e.description, "too many");
    assert.equal(e.message, "amqp:session:window-violation: too many");
    assert.equal(e.retryable, false);
  });

  it("vendor condition → SessionEnd, condition and info kept, retryable", () => {
    const e = sessionErrorFromEnd({ condition: "com.microsoft:custom", info: { k: 1 } });
    assert.equal(e.constructor, SessionEnd);
    assert.equal(e.condition, "com.microsoft:custom");
    assert.deepEqual(e.info, { k: 1 });
    assert.equal(e.retryable, true);
  });

  it("no error → SessionEnd(amqp:unknown-error), retryable, with the cause", () => {
    const cause = new Error("why");
    const e = sessionErrorFromEnd(undefined, { cause });
    assert.equal(e.constructor, SessionEnd);
    assert.equal(e.condition, ErrorCondition.UnknownError);
    assert.equal(e.retryable, true);
    assert.equal(e.cause, cause);
    assert.match(e.message, /^amqp:unknown-error: /);
  });

  it("accepts the codec's decoded END error", () => {
    const end = roundTrip(End, { error: { condition: "amqp:session:errant-link", info: { x: "y" } } });
    const e = sessionErrorFromEnd(end.error);
    assert.equal(e.condition, "amqp:session:errant-link");
    assert.deepEqual(e.info, { x: "y" });
  });
});

describe("linkErrorFromDetach", () => {
  it("known condition → LinkDetach", () => {
    const e = linkErrorFromDetach({ condition: "amqp:link:detach-forced", description: "idle" });
    assert.equal(e.constructor, LinkDetach);
    assert.equal(e.message, "amqp:link:detach-forced: idle");
    assert.equal(e.retryable, true);
    assert.equal(linkErrorFromDetach({ condition: "amqp:unauthorized-access" }).retryable, false);
  });

  it("amqp:link:redirect → LinkRedirect with info fields", () => {
    const e = linkErrorFromDetach({
      condition: "amqp:link:redirect",
      description: "moved",
      info: { hostname: "h", "network-host": "n", port: 5671, address: "q" },
    });
    assert.ok(e instanceof LinkRedirect);
    assert.deepEqual([e.hostname, e.networkHost, e.port, e.address], ["h", "n", 5671, "q"]);
    assert.equal(e.retryable, false);
    assert.equal(e.message, "amqp:link:redirect: moved");
  });

  it("vendor condition → VendorLinkDetach", () => {
    const e = linkErrorFromDetach({ condition: "com.microsoft:partition-not-owned" });
    assert.ok(e instanceof VendorLinkDetach);
    assert.equal(e.condition, "com.microsoft:partition-not-owned");
    assert.equal(e.retryable, true);
  });

  it("no error → LinkDetach(amqp:unknown-error)", () => {
    const e = linkErrorFromDetach(undefined);
    assert.equal(e.constructor, LinkDetach);
    assert.equal(e.condition, ErrorCondition.UnknownError);
    assert.equal(e.retryable, true);
  });

  it("accepts the codec's decoded DETACH error with symbol-keyed info", () => {
    const w = new ByteWriter();
    Detach.encode(w, {
      handle: 0,
      closed: true,
      error: { condition: "amqp:link:redirect", info: { hostname: "h9", port: new AMQPSymbol("5679") } },
    });
    const detach = Detach.decode(new Decoder(w.toBuffer()));
    const e = linkErrorFromDetach(detach.error);
    assert.ok(e instanceof LinkRedirect);
    assert.equal(e.hostname, "h9");
    assert.equal(e.port, 5679);
  });
});

describe("sendErrorFromOutcome", () => {
  it("accepted and declared are not errors", () => {
    assert.equal(sendErrorFromOutcome({ type: "accepted" }), undefined);
    assert.equal(sendErrorFromOutcome({ type: "declared" }), undefined);
  });

  it("rejected with a known condition → MessageSendFailed", () => {
    const e = sendErrorFromOutcome({
      type: "rejected",
      error: { condition: "amqp:not-found", description: "no q", info: { a: 1 } },
    });
    assert.ok(e instanceof MessageSendFailed);
    assert.equal(e.condition, "amqp:not-found");
    assert.equal(e.message, "amqp:not-found: no q");
    assert.deepEqual(e.info, { a: 1 });
    assert.equal(e.retryable, false);
    const retry = sendErrorFromOutcome({ type: "rejected", error: { condition: "amqp:internal-error" } });
    assert.ok(retry instanceof MessageSendFailed);
    assert.equal(retry.retryable, true);
  });

  it("rejected with a vendor condition → MessageException (not MessageSendFailed)", () => {
    const e = sendErrorFromOutcome({ type: "rejected", error: { condition: "com.microsoft:server-busy" } });
    assert.ok(e instanceof MessageException);
    assert.equal(e instanceof MessageSendFailed, false);
    assert.equal(e.condition, "com.microsoft:server-busy");
    assert.equal(e.retryable, true);
  });

  it("rejected without error → MessageSendFailed(amqp:unknown-error), retryable", () => {
    const e = sendErrorFromOutcome({ type: "rejected" });
    assert.ok(e instanceof MessageSendFailed);
    assert.equal(e.condition, ErrorCondition.UnknownError);
    assert.equal(e.retryable, true);
  });

  it("released → retryable MessageReleased", () => {
    const e = sendErrorFromOutcome({ type: "released" });
    assert.ok(e instanceof MessageReleased);
    assert.equal(e.retryable, true);
    assert.equal(e.condition, undefined);
  });

  it("modified with undeliverableHere → not retryable", () => {
    const e = sendErrorFromOutcome({
      type: "modified",
      deliveryFailed: true,
      undeliverableHere: true,
      messageAnnotations: { "x-opt-k": "v" },
    });
    assert.ok(e instanceof MessageModified);
    assert.equal(e.deliveryFailed, true);
    assert.equal(e.undeliverableHere, true);
    assert.deepEqual(e.messageAnnotations, { "x-opt-k": "v" });
    assert.equal(e.retryable, false);
  });

  it("modified with deliveryFailed only (or no flags) → retryable", () => {
    const e = sendErrorFromOutcome({ type: "modified", deliveryFailed: true });
    assert.ok(e instanceof MessageModified);
    assert.equal(e.undeliverableHere, false);
    assert.equal(e.retryable, true);
    const none = sendErrorFromOutcome({ type: "modified" });
    assert.ok(none instanceof MessageModified);
    assert.equal(none.deliveryFailed, false);
    assert.equal(none.retryable, true);
  });

  it("transactional-state maps its inner outcome", () => {
    const txn = Buffer.from([1, 2, 3, 4]);
    assert.equal(
      sendErrorFromOutcome({ type: "transactional-state", outcome: { type: "accepted" } }),
      undefined,
    );
    const e = sendErrorFromOutcome({
      type: "transactional-state",
      outcome: { type: "rejected", error: { condition: "amqp:transaction:rollback" } },
    });
    assert.ok(e instanceof MessageSendFailed);
    assert.equal(e.condition, "amqp:transaction:rollback");
    const decoded = roundTripUnion({ type: "transactional-state", txnId: txn });
    const none = sendErrorFromOutcome(decoded);
    assert.ok(none instanceof MessageSendFailed);
    assert.equal(none.condition, ErrorCondition.UnknownError);
  });

  it("unexpected outcomes → MessageSendFailed(amqp:unknown-error)", () => {
    for (const type of ["received", "unknown"]) {
      const e = sendErrorFromOutcome({ type });
      assert.ok(e instanceof MessageSendFailed, type);
      assert.equal(e.condition, ErrorCondition.UnknownError);
      assert.ok(e.message.includes(type));
    }
  });

  it("accepts the codec's decoded delivery states", () => {
    const rejected = roundTripUnion({
      type: "rejected",
      error: { condition: "amqp:precondition-failed", description: "dup" },
    });
    const e = sendErrorFromOutcome(rejected);
    assert.ok(e instanceof MessageSendFailed);
    assert.equal(e.message, "amqp:precondition-failed: dup");
    const modified = roundTripUnion({ type: "modified", undeliverableHere: true });
    const m = sendErrorFromOutcome(modified);
    assert.ok(m instanceof MessageModified);
    assert.equal(m.retryable, false);
  });
});

describe("toErrorFields", () => {
  it("keeps an AMQPError's condition, description and info", () => {
    const e = linkErrorFromDetach({
      condition: "amqp:link:stolen",
      description: "elsewhere",
      info: { a: 1 },
    });
    assert.deepEqual(toErrorFields(e), {
      condition: "amqp:link:stolen",
      description: "elsewhere",
      info: { a: 1 },
    });
  });

  it("uses the message (minus the condition prefix) when there is no description", () => {
    assert.deepEqual(toErrorFields(new LinkDetach("amqp:link:stolen", { condition: "amqp:link:stolen" })), {
      condition: "amqp:link:stolen",
    });
    assert.deepEqual(
      toErrorFields(new LinkDetach("amqp:link:stolen: by b", { condition: "amqp:link:stolen" })),
      { condition: "amqp:link:stolen", description: "by b" },
    );
  });

  it("gives errors without a condition the default condition", () => {
    assert.deepEqual(toErrorFields(new TypeError("bad handler")), {
      condition: "amqp:internal-error",
      description: "bad handler",
    });
    assert.deepEqual(toErrorFields(new ClientTimeout("slow"), "amqp:client-error"), {
      condition: "amqp:client-error",
      description: "slow",
    });
    assert.deepEqual(toErrorFields(new AMQPError("")), { condition: "amqp:internal-error" });
    assert.deepEqual(toErrorFields(undefined), { condition: "amqp:internal-error" });
    assert.deepEqual(toErrorFields(42, "x:y"), { condition: "x:y" });
  });

  it("passes plain error fields through", () => {
    assert.deepEqual(toErrorFields({ condition: "x:bad", description: "why", info: { k: "v" } }), {
      condition: "x:bad",
      description: "why",
      info: { k: "v" },
    });
    assert.deepEqual(toErrorFields({ condition: "x:bad", description: 5, info: new Map() }), {
      condition: "x:bad",
    });
  });

  it("round-trips through the codec's CLOSE", () => {
    const fields = toErrorFields(
      new ConnectionClose("amqp:connection:forced: bye", {
        condition: "amqp:connection:forced",
        description: "bye",
      }),
    );
    const close = roundTrip(Close, { error: fields as { condition: string; description?: string } });
    assert.deepEqual(close.error, { condition: "amqp:connection:forced", description: "bye" });
  });
});
