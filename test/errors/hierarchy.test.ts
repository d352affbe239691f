import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AMQPAbortError,
  AMQPClientShutdown,
  AMQPConnectionError,
  AMQPError,
  AuthenticationException,
  ClientMessageError,
  ClientTimeout,
  ConnectionClose,
  ConnectionRedirect,
  DecodeError,
  EncodeError,
  ErrorCondition,
  LinkDetach,
  LinkRedirect,
  MessageAlreadySettled,
  MessageContentTooLarge,
  MessageException,
  MessageHandlerError,
  MessageModified,
  MessageRejected,
  MessageReleased,
  MessageResponse,
  MessageSendFailed,
  SessionEnd,
  TokenAuthFailure,
  TokenExpired,
  VendorConnectionClose,
  VendorLinkDetach,
  formatConditionMessage,
} from "../../src/errors/index.js";
import type * as AmqpErrorModule from "../../src/errors/amqp-error.js";
import * as exceptions from "../../src/errors/exceptions.js";
import { RETRYABLE, UAMQP_NO_RETRY } from "./condition-sets.js";

type AnyErrorClass = new (
  message: string,
  options?: { condition?: string; retryable?: boolean },
) => AMQPError;

/** Every class: its parent chain (nearest first), its stable code, its retryable default without condition. */
const TABLE: [AnyErrorClass, AnyErrorClass[], string, boolean][] = [
  [AMQPError, [], "AMQP_ERROR", false],
  [AMQPConnectionError, [AMQPError], "AMQP_CONNECTION", true],
  [ConnectionClose, [AMQPConnectionError, AMQPError], "AMQP_CONNECTION_CLOSED", true],
  [VendorConnectionClose, [ConnectionClose, AMQPConnectionError], "AMQP_CONNECTION_CLOSED_VENDOR", true],
  [SessionEnd, [AMQPConnectionError, AMQPError], "AMQP_SESSION_ENDED", true],
  [LinkDetach, [AMQPConnectionError, AMQPError], "AMQP_LINK_DETACHED", true],
  [VendorLinkDetach, [LinkDetach, AMQPConnectionError], "AMQP_LINK_DETACHED_VENDOR", true],
  [MessageHandlerError, [AMQPConnectionError, AMQPError], "AMQP_MESSAGE_HANDLER", true],
  [ClientTimeout, [AMQPError], "AMQP_TIMEOUT", true],
  [AMQPClientShutdown, [AMQPError], "AMQP_CLIENT_SHUTDOWN", false],
  [AMQPAbortError, [AMQPError], "AMQP_ABORTED", false],
  [AuthenticationException, [AMQPError], "AMQP_AUTHENTICATION", false],
  [TokenExpired, [AuthenticationException, AMQPError], "AMQP_TOKEN_EXPIRED", false],
  [TokenAuthFailure, [AuthenticationException, AMQPError], "AMQP_TOKEN_AUTH_FAILURE", false],
  [MessageResponse, [AMQPError], "AMQP_MESSAGE_RESPONSE", false],
  [MessageException, [MessageResponse, AMQPError], "AMQP_MESSAGE", true],
  [MessageSendFailed, [MessageException, MessageResponse], "AMQP_MESSAGE_SEND_FAILED", true],
  [MessageAlreadySettled, [MessageResponse, AMQPError], "AMQP_MESSAGE_ALREADY_SETTLED", false],
  [MessageReleased, [MessageResponse, AMQPError], "AMQP_MESSAGE_RELEASED", true],
  [MessageModified, [MessageResponse, AMQPError], "AMQP_MESSAGE_MODIFIED", true],
  [MessageContentTooLarge, [AMQPError], "AMQP_MESSAGE_TOO_LARGE", false],
];

describe("error hierarchy", () => {
  for (const [Cls, parents, code, retryable] of TABLE) {
    it(`${Cls.name}: code ${code}, parents, name, retryable=${retryable}`, () => {
      const e = new Cls("boom");
      assert.ok(e instanceof Cls);
      assert.ok(e instanceof Error);
      for (const P of parents) assert.ok(e instanceof P, `${Cls.name} instanceof ${P.name}`);
      assert.equal(e.code, code);
      assert.equal(e.name, Cls === AMQPAbortError ? "AbortError" : Cls.name);
      assert.equal(e.message, "boom");
      assert.equal(e.retryable, retryable);
      assert.equal(e.action, undefined);
    });
  }

  it("has unique codes", () => {
    const codes = TABLE.map(([, , c]) => c);
    const more = [
      new LinkRedirect("r").code,
      new ConnectionRedirect("r").code,
      new MessageRejected().code,
      new ClientMessageError("c").code,
      new DecodeError("d", 0).code,
      new EncodeError("e").code,
    ];
    assert.equal(new Set([...codes, ...more]).size, codes.length + more.length);
  });

  it("keeps sibling branches apart", () => {
    assert.equal(new LinkDetach("x") instanceof ConnectionClose, false);
    assert.equal(new ConnectionClose("x") instanceof LinkDetach, false);
    assert.equal(new SessionEnd("x") instanceof ConnectionClose, false);
    assert.equal(new SessionEnd("x") instanceof LinkDetach, false);
    assert.equal(new MessageReleased() instanceof MessageException, false);
    assert.equal(new MessageSendFailed("x") instanceof AMQPConnectionError, false);
    assert.equal(new MessageContentTooLarge() instanceof RangeError, false);
    assert.equal(new Error("plain") instanceof AMQPError, false);
    assert.equal((null as unknown) instanceof AMQPError, false);
  });

  it("redirect, rejected and client-message classes sit where uamqp puts them", () => {
    assert.ok(new LinkRedirect("r") instanceof LinkDetach);
    assert.ok(new ConnectionRedirect("r") instanceof ConnectionClose);
    assert.ok(new MessageRejected() instanceof MessageResponse);
    assert.ok(new ClientMessageError("c") instanceof MessageException);
    assert.equal(new LinkRedirect("r").code, "AMQP_LINK_REDIRECT");
    assert.equal(new ConnectionRedirect("r").code, "AMQP_CONNECTION_REDIRECT");
    assert.equal(new MessageRejected().code, "AMQP_MESSAGE_REJECTED");
    assert.equal(new ClientMessageError("c").code, "AMQP_CLIENT_MESSAGE");
  });

  it("keeps every name exported from exceptions.ts", () => {
    for (const name of [
      "AMQPConnectionError",
      "ConnectionClose",
      "VendorConnectionClose",
      "SessionEnd",
      "LinkDetach",
      "VendorLinkDetach",
      "LinkRedirect",
      "MessageHandlerError",
      "ClientTimeout",
      "AMQPClientShutdown",
      "AuthenticationException",
      "TokenExpired",
      "TokenAuthFailure",
      "MessageException",
      "MessageSendFailed",
      "ClientMessageError",
      "MessageRejected",
      "MessageReleased",
      "MessageModified",
      "MessageAlreadySettled",
      "MessageContentTooLarge",
    ]) {
      assert.equal(typeof (exceptions as Record<string, unknown>)[name], "function", name);
    }
  });

  it("carries condition, description, info and cause", () => {
    const cause = new Error("socket");
    const e = new LinkDetach("amqp:link:detach-forced: idle", {
      condition: "amqp:link:detach-forced",
      description: "idle",
      info: { k: "v" },
      cause,
    });
    assert.equal(e.condition, "amqp:link:detach-forced");
    assert.equal(e.description, "idle");
    assert.deepEqual(e.info, { k: "v" });
    assert.equal(e.cause, cause);
    assert.equal("cause" in new LinkDetach("x"), false);
  });

  it("formats uamqp's message text", () => {
    assert.equal(formatConditionMessage("amqp:not-found", "no queue q"), "amqp:not-found: no queue q");
    assert.equal(formatConditionMessage("amqp:not-found"), "amqp:not-found");
    assert.equal(formatConditionMessage("amqp:not-found", ""), "amqp:not-found");
  });

  it("keeps DecodeError's and EncodeError's constructors", () => {
    const d = new DecodeError("truncated", 7, 0xa1);
    assert.equal(d.offset, 7);
    assert.equal(d.formatCode, 0xa1);
    assert.equal(d.condition, ErrorCondition.DecodeError);
    assert.equal(d.retryable, false);
    assert.match(d.message, /truncated at offset 7 \(format code 0xa1\)/);
    const e = new EncodeError("bad");
    assert.equal(e.retryable, false);
    assert.equal(e.condition, undefined);
  });

  it("lets the client attach an advisory action", () => {
    const e = new LinkDetach("x");
    e.action = { retry: false, backoffMs: 0, incrementRetries: true };
    assert.equal(e.action.retry, false);
  });
});

describe("retryable derived from the condition", () => {
  const classes: AnyErrorClass[] = [
    AMQPError,
    ConnectionClose,
    VendorConnectionClose,
    LinkDetach,
    VendorLinkDetach,
    MessageException,
    MessageSendFailed,
    MessageReleased,
    ClientTimeout,
    AuthenticationException,
  ];
  for (const condition of UAMQP_NO_RETRY) {
    it(`${condition} makes every class non-retryable`, () => {
      for (const Cls of classes) {
        assert.equal(new Cls("x", { condition }).retryable, false, Cls.name);
      }
    });
  }
  for (const condition of [...RETRYABLE, "com.microsoft:server-busy", "x:custom"]) {
    it(`${condition} makes every class retryable`, () => {
      for (const Cls of classes) assert.equal(new Cls("x", { condition }).retryable, true, Cls.name);
    });
  }
  it("an explicit retryable wins over the condition", () => {
    assert.equal(new LinkDetach("x", { condition: "amqp:not-found", retryable: true }).retryable, true);
    assert.equal(
      new LinkDetach("x", { condition: "amqp:link:detach-forced", retryable: false }).retryable,
      false,
    );
    assert.equal(new MessageReleased("x", { retryable: false }).retryable, false);
  });
});

/** A second, independent instance of the amqp-error module (as if the package were installed twice). */
async function loadCopy(n: number): Promise<typeof AmqpErrorModule> {
  const specifier = `../../src/errors/amqp-error.js?copy=${n}`;
  return (await import(specifier)) as typeof AmqpErrorModule;
}

describe("cross-copy instanceof", () => {
  it("an error from another copy of AMQPError passes instanceof AMQPError", async () => {
    const other = await loadCopy(1);
    assert.notEqual(other.AMQPError, AMQPError);
    const foreign = new other.AMQPError("from the other copy");
    assert.ok(foreign instanceof AMQPError);
    assert.ok(new AMQPError("ours") instanceof other.AMQPError);
  });

  it("a subclass from another copy passes instanceof of the same-named class only", async () => {
    const other = await loadCopy(2);
    // The other copy's hierarchy, rebuilt on its own base class.
    class AMQPConnectionError extends other.AMQPError {}
    class LinkDetach extends AMQPConnectionError {}
    const foreign = new LinkDetach("detached");
    assert.ok(foreign instanceof AMQPError);
    assert.ok(foreign instanceof exceptions.LinkDetach);
    assert.ok(foreign instanceof exceptions.AMQPConnectionError);
    assert.equal(foreign instanceof exceptions.ConnectionClose, false);
    assert.equal(foreign instanceof exceptions.LinkRedirect, false);
  });

  it("an unbranded look-alike is not an AMQPError", () => {
    class LinkDetachLookAlike extends Error {}
    Object.defineProperty(LinkDetachLookAlike, "name", { value: "LinkDetach" });
    const fake = new LinkDetachLookAlike("x");
    assert.equal(fake instanceof AMQPError, false);
    assert.equal(fake instanceof LinkDetach, false);
    assert.equal({ code: "AMQP_ERROR" } instanceof AMQPError, false);
  });
});

describe("class-specific fields", () => {
  it("TokenAuthFailure: uamqp form (statusCode, description)", () => {
    const e = new TokenAuthFailure(401, "InvalidSignature");
    assert.equal(e.statusCode, 401);
    assert.equal(e.description, "InvalidSignature");
    assert.equal(e.message, "CBS token authentication failed: status 401: InvalidSignature");
    assert.equal(e.retryable, false);
    assert.equal(new TokenAuthFailure(403).message, "CBS token authentication failed: status 403");
  });

  it("TokenAuthFailure: retryable for 408, 429 and 5xx", () => {
    for (const s of [408, 429, 500, 503]) assert.equal(new TokenAuthFailure(s).retryable, true, String(s));
    for (const s of [400, 401, 403, 404]) assert.equal(new TokenAuthFailure(s).retryable, false, String(s));
    assert.equal(new TokenAuthFailure(401, "x", { retryable: true }).retryable, true);
  });

  it("TokenAuthFailure: message + options form", () => {
    const e = new TokenAuthFailure("refused", { statusCode: 500, description: "busy" });
    assert.equal(e.message, "refused");
    assert.equal(e.statusCode, 500);
    assert.equal(e.retryable, true);
    assert.equal(new TokenAuthFailure("refused").statusCode, undefined);
    assert.equal(new TokenAuthFailure("refused").retryable, false);
  });

  it("ClientMessageError takes condition, info and retryable from the wrapped AMQPError", () => {
    const inner = new MessageSendFailed("amqp:not-found: q", {
      condition: "amqp:not-found",
      description: "q",
      info: { a: 1 },
    });
    const failed = new Map<object, AMQPError>([[{ id: 1 }, inner]]);
    const e = new ClientMessageError("send failed", {
      cause: inner,
      failedMessages: failed,
      totalMessages: 3,
    });
    assert.equal(e.condition, "amqp:not-found");
    assert.equal(e.description, "q");
    assert.deepEqual(e.info, { a: 1 });
    assert.equal(e.retryable, false);
    assert.equal(e.cause, inner);
    assert.equal(e.failedMessages, failed);
    assert.equal(e.totalMessages, 3);
    assert.equal(e.numberFailed, 1);
  });

  it("ClientMessageError around a non-AMQP error is amqp:client-error, retryable", () => {
    const e = new ClientMessageError("oops", { cause: new TypeError("bad"), numberFailed: 2 });
    assert.equal(e.condition, ErrorCondition.ClientError);
    assert.equal(e.retryable, true);
    assert.equal(e.numberFailed, 2);
    assert.equal(e.failedMessages, undefined);
  });

  it("ClientMessageError.wrap builds the message from the wrapped error", () => {
    const timeout = new ClientTimeout("Message send timed out.", { retryable: false });
    const e = ClientMessageError.wrap(timeout, { totalMessages: 1, numberFailed: 1 });
    assert.equal(e.message, "amqp:client-error: Message send timed out.");
    assert.equal(e.cause, timeout);
    assert.equal(e.retryable, false);
    assert.equal(e.numberFailed, 1);
    const rejected = new MessageSendFailed("amqp:not-found: q", {
      condition: "amqp:not-found",
      description: "q",
    });
    assert.equal(ClientMessageError.wrap(rejected).message, "amqp:not-found: q");
    assert.equal(ClientMessageError.wrap("text").message, "amqp:client-error: text");
    assert.equal(ClientMessageError.wrap(42).message, "amqp:client-error");
  });

  it("MessageRejected defaults its condition to amqp:internal-error", () => {
    const e = new MessageRejected();
    assert.equal(e.condition, ErrorCondition.InternalServerError);
    assert.equal(e.retryable, true);
    const custom = new MessageRejected("no", { condition: "x:bad", description: "why", info: { k: "v" } });
    assert.equal(custom.condition, "x:bad");
    assert.equal(custom.description, "why");
    assert.deepEqual(custom.info, { k: "v" });
    assert.equal(new MessageRejected("no", { condition: "amqp:not-allowed" }).retryable, false);
  });

  it("MessageModified exposes its flags; undeliverableHere makes it non-retryable", () => {
    const plain = new MessageModified();
    assert.equal(plain.deliveryFailed, false);
    assert.equal(plain.undeliverableHere, false);
    assert.equal(plain.messageAnnotations, undefined);
    assert.equal(plain.retryable, true);
    const failed = new MessageModified("m", { deliveryFailed: true, messageAnnotations: { "x-opt-a": 1 } });
    assert.equal(failed.deliveryFailed, true);
    assert.deepEqual(failed.messageAnnotations, { "x-opt-a": 1 });
    assert.equal(failed.retryable, true);
    const here = new MessageModified("m", { deliveryFailed: true, undeliverableHere: true });
    assert.equal(here.undeliverableHere, true);
    assert.equal(here.retryable, false);
  });

  it("default messages of the response classes", () => {
    assert.equal(new MessageAlreadySettled().message, "Invalid operation: this message is already settled.");
    assert.equal(new MessageContentTooLarge().message, "Data set too large for a single message.");
    assert.equal(new AMQPAbortError().message, "The operation was aborted.");
  });

  it("MessageContentTooLarge carries size and maxSize", () => {
    const e = new MessageContentTooLarge("too big", { size: 2_000_000, maxSize: 1_048_576 });
    assert.equal(e.size, 2_000_000);
    assert.equal(e.maxSize, 1_048_576);
    assert.equal(e.retryable, false);
  });
});

describe("transport errors from the package root", () => {
  it("are exported, subclasses of TransportError and AMQPError, each with its code", async () => {
    const root = await import("../../src/index.js");
    const cases = [
      [root.ConnectFailedError, "AMQP_CONNECT_FAILED"],
      [root.ConnectTimeoutError, "AMQP_CONNECT_TIMEOUT"],
      [root.TlsError, "AMQP_TLS"],
      [root.ProxyError, "AMQP_PROXY"],
      [root.WebSocketError, "AMQP_WEBSOCKET"],
    ] as const;
    for (const [Cls, code] of cases) {
      const e = new Cls("x", { systemCode: "ECONNREFUSED", statusCode: 407 });
      assert.ok(e instanceof root.TransportError, Cls.name);
      assert.ok(e instanceof root.AMQPError, Cls.name);
      assert.equal(e.code, code);
      assert.equal(e.systemCode, "ECONNREFUSED");
      assert.equal(e.statusCode, 407);
    }
    assert.equal(new root.TransportError("x").code, "AMQP_TRANSPORT");
  });
});
