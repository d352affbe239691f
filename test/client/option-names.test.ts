/**
 * One name per option: uamqp's camelCase names, in milliseconds. The former second names
 * (`timeoutMs`, `msgTimeoutMs`, `inactivityTimeoutMs`, `networkTrace`, `idleTimeoutMs`,
 * `keepAliveIntervalMs`, `connectionProperties`, `openTimeoutMs`) and misspelt names passed from
 * JavaScript are a TypeError naming the option and the nearest known name, on every options object
 * of the client layer.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { Connection } from "../../src/client/connection.js";
import { receiveMessage, receiveMessages, sendMessage } from "../../src/client/helpers.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { MgmtOperation } from "../../src/management/mgmt-operation.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { Session } from "../../src/client/session.js";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { Message } from "../../src/message/message.js";
import { setLogger } from "../../src/util/log.js";
import { startBroker, type TestBroker } from "./support.js";

/** Captures the logger's info lines while `fn` runs. */
async function traced(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const keep = (m: string): void => {
    lines.push(m);
  };
  setLogger({ debug: () => undefined, info: keep, warn: () => undefined, error: () => undefined });
  try {
    await fn();
  } finally {
    setLogger(undefined);
  }
  return lines;
}

/** Options as a JavaScript caller may pass them: the compiler does not check their names. */
function js<T>(options: Record<string, unknown>): T {
  return options as T;
}

/** The TypeError of an unknown option `name`, suggesting `nearest`, from `owner`. */
function unknownOption(name: string, nearest: string, owner: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof TypeError, `a TypeError, got ${String(e)}`);
    assert.match(e.message, new RegExp(`"${name}"`));
    assert.match(e.message, new RegExp(`did you mean "${nearest}"`));
    assert.ok(e.message.includes(owner), `${e.message} names ${owner}`);
    return true;
  };
}

describe("option names: one name per option", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker();
  });
  after(async () => {
    await t.broker.close();
  });
  afterEach(() => {
    setLogger(undefined);
  });

  it("receiveMessage / receiveMessages / receiveMessageBatch take timeout: an empty source resolves after it", async () => {
    // Were timeout ignored, these would wait for a message: the signal turns that into a failure.
    const signal = AbortSignal.timeout(5000);
    assert.equal(await receiveMessage(t.url("names-empty"), { timeout: 150, signal }), undefined);
    assert.deepEqual(
      await receiveMessages(t.url("names-empty"), { timeout: 150, maxBatchSize: 5, signal }),
      [],
    );
    const client = new ReceiveClient(t.url("names-batch"), { timeout: 60_000, shutdownAfterTimeout: false });
    try {
      assert.equal(client.timeout, 60_000);
      assert.deepEqual(await client.receiveMessageBatch({ timeout: 100, signal }), []);
    } finally {
      await client.close();
    }
  });

  it("debug traces the frames; idleTimeout and properties reach the OPEN", async () => {
    const lines = await traced(async () => {
      await sendMessage(t.url("names-trace"), "x", {
        debug: true,
        idleTimeout: 40_000,
        properties: { product: "names-test" },
      });
    });
    const open = lines.find((l) => l.includes("amqp:frames") && l.includes("OPEN") && l.includes("->"));
    assert.ok(open, `an outgoing OPEN in the trace:\n${lines.join("\n")}`);
    // Half of our idle time-out is announced (AMQP 1.0 section 2.4.5).
    assert.match(open, /idleTimeOut=20000/);
    assert.match(open, /names-test/);
  });

  it("the low-level Connection takes debug and idleTimeout", async () => {
    const lines = await traced(async () => {
      const port = Number(new URL(t.broker.url!).port);
      const conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }), {
        debug: true,
        idleTimeout: 30_000,
      });
      await conn.open({ timeout: 10_000 });
      await conn.close();
    });
    const open = lines.find((l) => l.includes("amqp:frames") && l.includes("OPEN") && l.includes("->"));
    assert.ok(open, `an outgoing OPEN in the trace:\n${lines.join("\n")}`);
    assert.match(open, /idleTimeOut=15000/);
  });

  it("the former second names are TypeErrors naming the option that replaced them", async () => {
    const url = t.url("names-x");
    const before = t.broker.connectionCount;
    assert.throws(
      () => new SendClient(url, js({ msgTimeoutMs: 5000 })),
      unknownOption("msgTimeoutMs", "msgTimeout", "SendClient"),
    );
    assert.throws(
      () => new ReceiveClient(url, js({ inactivityTimeoutMs: 5 })),
      unknownOption("inactivityTimeoutMs", "timeout", "ReceiveClient"),
    );
    assert.throws(
      () => new AMQPClient(url, js({ networkTrace: true })),
      unknownOption("networkTrace", "debug", "AMQPClient"),
    );
    assert.throws(
      () => new AMQPClient(url, js({ idleTimeoutMs: 1 })),
      unknownOption("idleTimeoutMs", "idleTimeout", "AMQPClient"),
    );
    assert.throws(
      () => new SendClient(url, js({ keepAliveIntervalMs: 1 })),
      unknownOption("keepAliveIntervalMs", "keepAliveInterval", "SendClient"),
    );
    assert.throws(
      () => new ReceiveClient(url, js({ connectionProperties: {} })),
      unknownOption("connectionProperties", "properties", "ReceiveClient"),
    );
    assert.throws(
      () => new AMQPClient(url, js({ openTimeoutMs: 1 })),
      unknownOption("openTimeoutMs", "openTimeout", "AMQPClient"),
    );
    await assert.rejects(
      receiveMessage(url, js({ timeoutMs: 1 })),
      unknownOption("timeoutMs", "timeout", "receiveMessage()"),
    );
    await assert.rejects(
      receiveMessages(url, js({ timeoutMs: 1 })),
      unknownOption("timeoutMs", "timeout", "receiveMessages()"),
    );
    await assert.rejects(
      sendMessage(url, "x", js({ networkTrace: true })),
      unknownOption("networkTrace", "debug", "sendMessage()"),
    );
    const auth = new SASLAnonymous("127.0.0.1", { tls: false, port: 1 });
    assert.throws(
      () => new Connection("127.0.0.1", auth, js({ networkTrace: true })),
      unknownOption("networkTrace", "debug", "Connection"),
    );
    assert.throws(
      () => new Connection("127.0.0.1", auth, js({ idleTimeoutMs: 1 })),
      unknownOption("idleTimeoutMs", "idleTimeout", "Connection"),
    );
    // Nothing was connected on the way.
    assert.equal(t.broker.connectionCount, before);
  });

  it("a misspelt option is a TypeError on every options object, before anything is sent", async () => {
    const url = t.url("names-typo");
    const before = t.broker.connectionCount;
    assert.throws(
      () => new SendClient(url, js({ timout: 1 })),
      unknownOption("timout", "msgTimeout", "SendClient"),
    );
    assert.throws(
      () => new ReceiveClient(url, js({ timout: 1 })),
      unknownOption("timout", "timeout", "ReceiveClient"),
    );
    assert.throws(
      () => new ReceiveClient(url, js({ prefech: 1 })),
      unknownOption("prefech", "prefetch", "ReceiveClient"),
    );
    assert.throws(
      () => new AMQPClient(url, js({ clientNmae: "a" })),
      unknownOption("clientNmae", "clientName", "AMQPClient"),
    );
    assert.throws(() => new AMQPClient(url, js({ prefetch: 1 })), TypeError); // a ReceiveClient option
    assert.throws(
      () => new AMQPClient(url, js({ reconnect: { maxAttemps: 1 } })),
      unknownOption("maxAttemps", "maxAttempts", "reconnect"),
    );
    await assert.rejects(
      sendMessage(url, "x", js({ msgTimout: 1 })),
      unknownOption("msgTimout", "msgTimeout", "sendMessage()"),
    );
    await assert.rejects(
      receiveMessages(url, js({ maxBatchSzie: 1 })),
      unknownOption("maxBatchSzie", "maxBatchSize", "receiveMessages()"),
    );
    assert.throws(
      () => new Connection("h", new SASLAnonymous("h"), js({ maxFramSize: 1 })),
      unknownOption("maxFramSize", "maxFrameSize", "Connection"),
    );

    const client = new ReceiveClient(url, { shutdownAfterTimeout: false });
    const sender = new SendClient(url);
    try {
      await assert.rejects(
        client.open(js({ timout: 1 })),
        unknownOption("timout", "timeout", "AMQPClient.open()"),
      );
      await assert.rejects(
        client.waitUntilReady(js({ timeoutMs: 1 })),
        unknownOption("timeoutMs", "timeout", "waitUntilReady()"),
      );
      await assert.rejects(
        client.receiveMessageBatch(js({ timeoutMs: 1 })),
        unknownOption("timeoutMs", "timeout", "receiveMessageBatch()"),
      );
      await assert.rejects(
        client.receiveMessages(() => undefined, js({ signl: undefined })),
        unknownOption("signl", "signal", "receiveMessages()"),
      );
      await assert.rejects(
        client.receiveMessagesIter(js({ signl: undefined })).next(),
        unknownOption("signl", "signal", "receiveMessagesIter()"),
      );
      await assert.rejects(
        sender.sendMessage(new Message({ body: "x" }), js({ closeOnDoen: true })),
        unknownOption("closeOnDoen", "closeOnDone", "sendMessage()"),
      );
      await assert.rejects(
        sender.sendAllMessages(js({ sginal: undefined })),
        unknownOption("sginal", "signal", "sendAllMessages()"),
      );
      await assert.rejects(
        sender.wait(js({ timeout: 1 })),
        unknownOption("timeout", "signal", "SendClient.wait()"),
      );
      assert.equal(t.broker.connectionCount, before);
    } finally {
      await client.close();
      await sender.close();
    }
  });

  it("management requests check their option names: mgmtRequest, MgmtOperation and execute", async () => {
    const port = Number(new URL(t.broker.url!).port);
    const before = t.broker.connectionCount;
    const client = new AMQPClient(t.url("names-mgmt"));
    const request = new Message({ body: null });
    try {
      await assert.rejects(
        client.mgmtRequest(request, "READ", js({ statusCodeFeild: "status-code" })),
        unknownOption("statusCodeFeild", "statusCodeField", "AMQPClient.mgmtRequest()"),
      );
      await assert.rejects(
        client.mgmtRequest(request, "READ", js({ timeoutMs: 1 })),
        unknownOption("timeoutMs", "timeout", "AMQPClient.mgmtRequest()"),
      );
      await assert.rejects(
        client.mgmtRequest(request, "READ", js({ op_type: "x" })),
        unknownOption("op_type", "opType", "AMQPClient.mgmtRequest()"),
      );
      assert.equal(t.broker.connectionCount, before);
    } finally {
      await client.close();
    }
    await using conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }));
    const session = conn.createSession();
    await assert.rejects(
      session.mgmtRequest(request, "READ", js({ descriptionField: "x" })),
      unknownOption("descriptionField", "descriptionFields", "Session.mgmtRequest()"),
    );
    assert.throws(
      () => new MgmtOperation(session, js({ throwOnErrorStatsu: false })),
      unknownOption("throwOnErrorStatsu", "throwOnErrorStatus", "MgmtOperation"),
    );
    await using mgmt = new MgmtOperation(session);
    await assert.rejects(
      mgmt.execute("READ", undefined, request, js({ timout: 1 })),
      unknownOption("timout", "timeout", "MgmtOperation.execute()"),
    );
  });

  it("the low-level Connection, Session, MessageSender and MessageReceiver check their options and calls", async () => {
    const port = Number(new URL(t.broker.url!).port);
    await using conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }));
    await assert.rejects(
      conn.open(js({ timeoutMs: 1 })),
      unknownOption("timeoutMs", "timeout", "Connection.open()"),
    );
    assert.throws(
      () => new Session(conn, js({ incomingWindw: 1 })),
      unknownOption("incomingWindw", "incomingWindow", "Session"),
    );
    assert.throws(
      () => conn.createSession(js({ handlMax: 1 })),
      unknownOption("handlMax", "handleMax", "Session"),
    );
    const session = conn.createSession();
    await assert.rejects(
      session.createSender("names-low", js({ timeoutMs: 1 })),
      unknownOption("timeoutMs", "timeout", "createSender()"),
    );
    await assert.rejects(
      session.createReceiver("names-low", js({ prefetc: 1 })),
      unknownOption("prefetc", "prefetch", "createReceiver()"),
    );
    assert.throws(
      () => new MessageSender(session, "me", "names-low", js({ maxMessageSze: 1 })),
      unknownOption("maxMessageSze", "maxMessageSize", "MessageSender"),
    );
    assert.throws(
      () => new MessageReceiver(session, "names-low", "me", js({ creditMod: "manual" })),
      unknownOption("creditMod", "creditMode", "MessageReceiver"),
    );
    const sender = await session.createSender("names-low", { timeout: 10_000 });
    await assert.rejects(
      sender.send(new Message({ body: "x" }), js({ timeoutMs: 1 })),
      unknownOption("timeoutMs", "timeout", "MessageSender.send()"),
    );
    const outcome = await sender.send(new Message({ body: "x" }), { timeout: 10_000 });
    assert.equal(outcome.state?.type, "accepted");
    const receiver = await session.createReceiver("names-low", { timeout: 10_000, creditMode: "manual" });
    assert.throws(
      () => receiver.resetLinkCredit(1, js({ drian: true })),
      unknownOption("drian", "drain", "resetLinkCredit()"),
    );
    await assert.rejects(
      receiver.open(js({ timeoutMs: 1 })),
      unknownOption("timeoutMs", "timeout", "MessageReceiver.open()"),
    );
  });

  it("open() takes timeout and the client openTimeout", async () => {
    const client = new AMQPClient(t.url("names-open"), { openTimeout: 10_000 });
    try {
      assert.equal(client.options.openTimeout, 10_000);
      await client.open({ timeout: 10_000 });
      assert.equal(client.state, "open");
    } finally {
      await client.close();
    }
  });
});
