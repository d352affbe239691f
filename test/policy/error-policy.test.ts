import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AMQPError,
  AMQPConnectionError,
  ClientMessageError,
  ClientTimeout,
  ConnectionClose,
  LinkDetach,
  MessageHandlerError,
  MessageModified,
  MessageReleased,
  MessageSendFailed,
  VendorConnectionClose,
  VendorLinkDetach,
  MessageException,
  linkErrorFromDetach,
  sendErrorFromOutcome,
} from "../../src/errors/index.js";
import { ErrorAction, ErrorPolicy } from "../../src/policy/index.js";
import { RETRYABLE, UAMQP_NO_RETRY } from "../errors/condition-sets.js";

describe("ErrorAction", () => {
  it("defaults backoffMs to 0 and incrementRetries to true", () => {
    const a = new ErrorAction({ retry: true });
    assert.deepEqual([a.retry, a.backoffMs, a.incrementRetries], [true, 0, true]);
    const b = new ErrorAction({ retry: false, backoffMs: 250, incrementRetries: false });
    assert.deepEqual([b.retry, b.backoffMs, b.incrementRetries], [false, 250, false]);
  });

  it("has uamqp's ErrorAction.retry / ErrorAction.fail constants", () => {
    assert.equal(ErrorAction.retry, true);
    assert.equal(ErrorAction.fail, false);
    assert.equal(new ErrorAction({ retry: ErrorAction.fail }).retry, false);
  });

  it("rejects bad input", () => {
    assert.throws(() => new ErrorAction({ retry: true, backoffMs: -1 }), RangeError);
    assert.throws(() => new ErrorAction({ retry: true, backoffMs: Number.NaN }), RangeError);
    assert.throws(() => new ErrorAction({ retry: true, backoffMs: Infinity }), RangeError);
    assert.throws(() => new ErrorAction({ retry: "yes" as unknown as boolean }), TypeError);
  });

  it("from() keeps instances and converts plain fields", () => {
    const a = new ErrorAction({ retry: true });
    assert.equal(ErrorAction.from(a), a);
    const b = ErrorAction.from({ retry: true, backoffMs: 2000 });
    assert.ok(b instanceof ErrorAction);
    assert.equal(b.backoffMs, 2000);
  });
});

describe("ErrorPolicy construction", () => {
  it("defaults maxRetries to 3 and exposes uamqp's no_retry set", () => {
    const p = new ErrorPolicy();
    assert.equal(p.maxRetries, 3);
    assert.deepEqual([...p.noRetry].sort(), [...UAMQP_NO_RETRY].sort());
    assert.equal(ErrorPolicy.NO_RETRY.size, 20);
  });

  it("accepts maxRetries 0 and Infinity, rejects negative or fractional", () => {
    assert.equal(new ErrorPolicy({ maxRetries: 0 }).maxRetries, 0);
    assert.equal(new ErrorPolicy({ maxRetries: Infinity }).maxRetries, Infinity);
    assert.throws(() => new ErrorPolicy({ maxRetries: -1 }), RangeError);
    assert.throws(() => new ErrorPolicy({ maxRetries: 1.5 }), RangeError);
    assert.throws(() => new ErrorPolicy({ maxRetries: Number.NaN }), RangeError);
  });
});

describe("ErrorPolicy decisions", () => {
  const policy = new ErrorPolicy();
  const methods = ["onMessageError", "onLinkError", "onConnectionError"] as const;

  for (const method of methods) {
    it(`${method}: fails on every no-retry condition${method === "onConnectionError" ? " but resource-limit-exceeded" : ""}`, () => {
      for (const condition of UAMQP_NO_RETRY) {
        // A peer's CLOSE with resource-limit-exceeded (an idle time-out) is retried (docs/errors.md).
        if (method === "onConnectionError" && condition === "amqp:resource-limit-exceeded") continue;
        const a = policy[method](new AMQPError(condition, { condition }));
        assert.equal(a.retry, false, condition);
      }
    });
    it(`${method}: retries every other known condition, counting retries, without backoff`, () => {
      for (const condition of RETRYABLE) {
        const a = policy[method](new AMQPError(condition, { condition }));
        assert.deepEqual([a.retry, a.incrementRetries, a.backoffMs], [true, true, 0], condition);
      }
    });
    it(`${method}: without a condition, follows error.retryable`, () => {
      assert.equal(policy[method](new AMQPError("x", { retryable: true })).retry, true);
      assert.equal(policy[method](new AMQPError("x")).retry, false);
    });
  }

  it("onConnectionError retries amqp:connection:forced", () => {
    const e = new ConnectionClose("forced", { condition: "amqp:connection:forced" });
    assert.equal(policy.onConnectionError(e).retry, true);
  });

  it("onConnectionError retries amqp:resource-limit-exceeded (a peer's idle time-out), the other methods do not", () => {
    const e = new ConnectionClose("idle", { condition: "amqp:resource-limit-exceeded" });
    assert.equal(policy.onConnectionError(e).retry, true);
    assert.equal(policy.actionFor(e).retry, true);
    assert.equal(policy.onLinkError(e).retry, false);
    assert.equal(policy.onMessageError(e).retry, false);
    assert.deepEqual([...ErrorPolicy.CONNECTION_RETRY], ["amqp:resource-limit-exceeded"]);
  });

  it("onMessageError: released retries, modified(undeliverableHere) fails", () => {
    assert.equal(policy.onMessageError(new MessageReleased()).retry, true);
    assert.equal(policy.onMessageError(new MessageModified("m", { deliveryFailed: true })).retry, true);
    assert.equal(policy.onMessageError(new MessageModified("m", { undeliverableHere: true })).retry, false);
  });

  it("onUnrecognizedError retries when there is no onError", () => {
    const a = policy.onUnrecognizedError(new AMQPError("busy", { condition: "com.microsoft:server-busy" }));
    assert.equal(a.retry, true);
    assert.equal(a.backoffMs, 0);
  });

  it("onUnrecognizedError delegates to onError (plain object result)", () => {
    const seen: AMQPError[] = [];
    const p = new ErrorPolicy({
      onError: (e) => {
        seen.push(e);
        return { retry: true, backoffMs: 2000 };
      },
    });
    const err = new VendorLinkDetach("busy", { condition: "com.microsoft:server-busy" });
    const a = p.onUnrecognizedError(err);
    assert.ok(a instanceof ErrorAction);
    assert.deepEqual([a.retry, a.backoffMs, a.incrementRetries], [true, 2000, true]);
    assert.deepEqual(seen, [err]);
  });

  it("onUnrecognizedError returns onError's ErrorAction as is, and lets it fail", () => {
    const fail = new ErrorAction({ retry: false });
    const p = new ErrorPolicy({ onError: () => fail });
    assert.equal(p.onUnrecognizedError(new AMQPError("x", { condition: "x:y" })), fail);
  });

  it("onError is not consulted for known conditions", () => {
    let calls = 0;
    const p = new ErrorPolicy({
      onError: () => {
        calls++;
        return { retry: false };
      },
    });
    assert.equal(p.onLinkError(new LinkDetach("x", { condition: "amqp:link:detach-forced" })).retry, true);
    assert.equal(p.actionFor(new LinkDetach("x", { condition: "amqp:link:detach-forced" })).retry, true);
    assert.equal(calls, 0);
  });

  it("an invalid onError result throws a TypeError", () => {
    const p = new ErrorPolicy({ onError: () => ({}) as unknown as ErrorAction });
    assert.throws(() => p.onUnrecognizedError(new AMQPError("x", { condition: "x:y" })), TypeError);
  });
});

describe("ErrorPolicy.actionFor routing", () => {
  const calls: string[] = [];
  class Recording extends ErrorPolicy {
    override onUnrecognizedError(e: AMQPError): ErrorAction {
      calls.push("unrecognized");
      return super.onUnrecognizedError(e);
    }
    override onMessageError(e: AMQPError): ErrorAction {
      calls.push("message");
      return super.onMessageError(e);
    }
    override onLinkError(e: AMQPError): ErrorAction {
      calls.push("link");
      return super.onLinkError(e);
    }
    override onConnectionError(e: AMQPError): ErrorAction {
      calls.push("connection");
      return super.onConnectionError(e);
    }
  }
  const p = new Recording({ onError: () => ({ retry: false }) });
  const route = (e: AMQPError): [string | undefined, boolean] => {
    calls.length = 0;
    const a = p.actionFor(e);
    return [calls[0], a.retry];
  };

  it("vendor conditions go to onUnrecognizedError → onError", () => {
    assert.deepEqual(route(new VendorLinkDetach("v", { condition: "com.microsoft:server-busy" })), [
      "unrecognized",
      false,
    ]);
    assert.deepEqual(route(new VendorConnectionClose("v", { condition: "com.microsoft:x" })), [
      "unrecognized",
      false,
    ]);
    const rejected = sendErrorFromOutcome({
      type: "rejected",
      error: { condition: "com.microsoft:timeout" },
    });
    assert.ok(rejected instanceof MessageException);
    assert.deepEqual(route(rejected), ["unrecognized", false]);
  });

  it("links, handlers, connections and messages go to their methods", () => {
    assert.deepEqual(route(linkErrorFromDetach({ condition: "amqp:link:stolen" })), ["link", false]);
    assert.deepEqual(route(new MessageHandlerError("h")), ["link", true]);
    assert.deepEqual(route(new ConnectionClose("c", { condition: "amqp:connection:forced" })), [
      "connection",
      true,
    ]);
    assert.deepEqual(route(new AMQPConnectionError("socket closed")), ["connection", true]);
    assert.deepEqual(route(new MessageSendFailed("m", { condition: "amqp:not-found" })), ["message", false]);
    assert.deepEqual(route(new MessageReleased()), ["message", true]);
    assert.deepEqual(route(ClientMessageError.wrap(new TypeError("t"))), ["message", true]);
  });

  it("other errors follow their retryable flag", () => {
    assert.deepEqual(route(new ClientTimeout("t")), [undefined, true]);
    assert.deepEqual(route(new AMQPError("plain")), [undefined, false]);
  });
});
