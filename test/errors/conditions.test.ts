import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ErrorCondition,
  NO_RETRY_CONDITIONS,
  VendorCondition,
  isKnownCondition,
  isRetryableCondition,
} from "../../src/errors/index.js";
import { RETRYABLE, UAMQP_NO_RETRY } from "./condition-sets.js";

/** uamqp's `ErrorCodes` enum (`uamqp.constants.ErrorCodes`), name → value. */
const UAMQP_ERROR_CODES: Record<string, string> = {
  InternalServerError: "amqp:internal-error",
  IllegalState: "amqp:illegal-state",
  DecodeError: "amqp:decode-error",
  NotFound: "amqp:not-found",
  NotImplemented: "amqp:not-implemented",
  NotAllowed: "amqp:not-allowed",
  InvalidField: "amqp:invalid-field",
  ResourceLocked: "amqp:resource-locked",
  ResourceDeleted: "amqp:resource-deleted",
  UnauthorizedAccess: "amqp:unauthorized-access",
  FrameSizeTooSmall: "amqp:frame-size-too-small",
  ResourceLimitExceeded: "amqp:resource-limit-exceeded",
  PreconditionFailed: "amqp:precondition-failed",
  ConnectionRedirect: "amqp:connection:redirect",
  ConnectionCloseForced: "amqp:connection:forced",
  ConnectionFramingError: "amqp:connection:framing-error",
  SessionWindowViolation: "amqp:session:window-violation",
  SessionErrantLink: "amqp:session:errant-link",
  SessionHandleInUse: "amqp:session:handle-in-use",
  SessionUnattachedHandle: "amqp:session:unattached-handle",
  LinkRedirect: "amqp:link:redirect",
  LinkStolen: "amqp:link:stolen",
  LinkDetachForced: "amqp:link:detach-forced",
  LinkTransferLimitExceeded: "amqp:link:transfer-limit-exceeded",
  LinkMessageSizeExceeded: "amqp:link:message-size-exceeded",
  ClientError: "amqp:client-error",
  UnknownError: "amqp:unknown-error",
  VendorError: "amqp:vendor-error",
};

describe("ErrorCondition", () => {
  it("has every uamqp ErrorCodes member under its uamqp name", () => {
    for (const [name, value] of Object.entries(UAMQP_ERROR_CODES)) {
      assert.equal((ErrorCondition as Record<string, string>)[name], value, name);
    }
  });

  it("adds the three transaction conditions and nothing else", () => {
    assert.equal(ErrorCondition.TransactionUnknownId, "amqp:transaction:unknown-id");
    assert.equal(ErrorCondition.TransactionRollback, "amqp:transaction:rollback");
    assert.equal(ErrorCondition.TransactionTimeout, "amqp:transaction:timeout");
    assert.equal(Object.keys(ErrorCondition).length, Object.keys(UAMQP_ERROR_CODES).length + 3);
  });

  it("has unique amqp: values", () => {
    const values = Object.values(ErrorCondition);
    assert.equal(new Set(values).size, values.length);
    for (const v of values) assert.match(v, /^amqp:[a-z-]+(:[a-z-]+)?$/);
  });
});

describe("isKnownCondition", () => {
  it("is true for every ErrorCondition value", () => {
    for (const v of Object.values(ErrorCondition)) assert.equal(isKnownCondition(v), true, v);
  });

  it("is false for vendor conditions, unknown amqp: names and non-strings", () => {
    for (const v of Object.values(VendorCondition)) assert.equal(isKnownCondition(v), false, v);
    assert.equal(isKnownCondition("amqp:no-such-thing"), false);
    assert.equal(isKnownCondition("AMQP:NOT-FOUND"), false);
    assert.equal(isKnownCondition(undefined), false);
    assert.equal(isKnownCondition(42), false);
    assert.equal(isKnownCondition({ value: "amqp:not-found" }), false);
  });
});

describe("VendorCondition", () => {
  it("holds the common Azure conditions, all com.microsoft:", () => {
    assert.equal(VendorCondition.ServerBusy, "com.microsoft:server-busy");
    assert.equal(VendorCondition.Timeout, "com.microsoft:timeout");
    assert.equal(VendorCondition.ArgumentError, "com.microsoft:argument-error");
    assert.equal(VendorCondition.MessageLockLost, "com.microsoft:message-lock-lost");
    for (const v of Object.values(VendorCondition)) assert.match(v, /^com\.microsoft:[a-z-]+$/);
  });
});

describe("retryability of conditions", () => {
  it("NO_RETRY_CONDITIONS is exactly uamqp's no_retry set", () => {
    assert.deepEqual([...NO_RETRY_CONDITIONS].sort(), [...UAMQP_NO_RETRY].sort());
  });

  it("covers every known condition as either no-retry or retryable", () => {
    assert.deepEqual([...UAMQP_NO_RETRY, ...RETRYABLE].sort(), Object.values(ErrorCondition).sort());
  });

  for (const c of UAMQP_NO_RETRY) {
    it(`${c} is not retryable`, () => {
      assert.equal(isRetryableCondition(c), false);
    });
  }
  for (const c of RETRYABLE) {
    it(`${c} is retryable`, () => {
      assert.equal(isRetryableCondition(c), true);
    });
  }
  it("vendor conditions are retryable", () => {
    for (const v of [...Object.values(VendorCondition), "x:custom"]) {
      assert.equal(isRetryableCondition(v), true, v);
    }
  });
});
