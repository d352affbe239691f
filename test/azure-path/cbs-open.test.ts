/**
 * Token authentication when a client opens: SASL MSSBCBS (else ANONYMOUS), one put-token on `$cbs`
 * (its wire form), the data link only after it, refusals (`TokenAuthFailure` after the retry
 * policy, counted again for every authentication), no answer (`ClientTimeout`), JWT through the
 * broker's `validateJwt`, 20 messages through a guarded address, and the low-level `Connection`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JWTTokenAuth, SASTokenAuth } from "../../src/auth/cbs-auth.js";
import { TokenRetryPolicy } from "../../src/auth/token-retry-policy.js";
import { createSASToken, quotePlus } from "../../src/auth/sas-token.js";
import { parseSasToken } from "../../src/broker/index.js";
import { Connection } from "../../src/client/connection.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { AuthenticationException, ClientTimeout, TokenAuthFailure } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { gather, rejectionOf } from "../support/waits.js";
import { HUB, KEY, KEY_NAME, putTokenHook, suiteResources } from "./support.js";

describe("azure path: CBS put-token on open", () => {
  const { broker, keep } = suiteResources();

  it("fromSharedAccessKey: SASL MSSBCBS, then one put-token (amqp-value string body, operation, type, name, expiration) answered 200, before the data link attaches", async () => {
    const b = await broker();
    const auth = b.sasAuth();
    const client = keep(new SendClient(b.url(HUB), { auth }));
    await client.sendMessage(new Message({ body: "one" }));

    const [open] = b.opens();
    assert.equal(open?.mechanism, "MSSBCBS");
    const puts = b.requests("$cbs");
    assert.equal(puts.length, 1);
    const put = puts[0]!;
    assert.equal(put.request.operation, "put-token");
    assert.equal(put.request.type, "servicebus.windows.net:sastoken");
    assert.equal(put.request.name, b.uri());
    assert.equal(put.response?.statusCode, 200);
    const expiration = put.request.applicationProperties.get("expiration");
    assert.ok(expiration instanceof Date);
    assert.equal(expiration.getTime(), auth.expiresAtMs);

    // On the wire: an AmqpValue string body (not a Data section), a ulong message-id, reply-to.
    const [sent] = b.sentTo("$cbs");
    assert.ok(sent);
    assert.equal(sent.bodyType, "value");
    assert.equal(sent.value, auth.token);
    assert.equal(typeof sent.properties?.messageId, "bigint");
    assert.match(sent.properties?.replyTo ?? "", /^\$cbs-reply-/);

    // The data link attached after the put-token was answered.
    const attach = b.events.find((e) => e.type === "attach" && e.address === HUB);
    assert.ok(attach && attach.at >= put.at, "the hub link attached after the put-token");
    assert.equal(b.broker.stats(HUB).messageCount, 1);
  });

  it("falls back to SASL ANONYMOUS when the server does not offer MSSBCBS", async () => {
    const b = await broker({ sasl: { mechanisms: ["ANONYMOUS"] } });
    const client = keep(new SendClient(b.url(HUB), { auth: b.sasAuth() }));
    await client.sendMessage(new Message({ body: "anon" }));
    assert.equal(b.opens()[0]?.mechanism, "ANONYMOUS");
    assert.equal(b.requests("$cbs").length, 1);
  });

  it("a SendClient and a ReceiveClient with fromSharedAccessKey move 20 messages through a guarded address", async () => {
    const b = await broker();
    const sender = keep(new SendClient(b.url(HUB), { auth: b.sasAuth() }));
    const receiver = keep(new ReceiveClient(b.url(HUB), { auth: b.sasAuth() }));
    const messages = Array.from({ length: 20 }, (_, i) => new Message({ body: `m${i}` }));
    sender.queueMessage(...messages);
    const states = await sender.sendAllMessages({ closeOnDone: false });
    assert.deepEqual(states, Array(20).fill(MessageState.SendComplete));
    const got = await gather(20, () => receiver.receiveMessageBatch({ maxBatchSize: 20 }), "20 messages");
    assert.deepEqual(
      got.map((m) => m.toString()),
      messages.map((m) => m.toString()),
    );
    // One put-token per connection, each granted.
    const puts = b.requests("$cbs");
    assert.equal(puts.length, 2);
    assert.ok(puts.every((p) => p.response?.statusCode === 200));
  });

  it("without a token the guarded address refuses the link: the put-token is what opens it", async () => {
    const b = await broker();
    // The same broker refuses a client without token auth (SASL ANONYMOUS) on the guarded address.
    const plain = keep(new SendClient(b.url(HUB), { reconnect: false }));
    const e = await rejectionOf(plain.sendMessage(new Message({ body: "x" })), "unauthorized send");
    assert.match((e as Error).message, /unauthorized-access|not authorized|token/i);
    assert.equal(b.broker.stats(HUB).messageCount, 0);
  });

  it("a wrong key: 1 + 3 refused put-tokens, then TokenAuthFailure(401) well within the put-token timeout, and no more attempts", async () => {
    const b = await broker();
    const bad = SASTokenAuth.fromSharedAccessKey(b.uri(), KEY_NAME, "not-the-key", {
      tls: false,
      port: b.broker.port!,
      timeout: 2000,
    });
    const client = keep(new SendClient(b.url(HUB), { auth: bad }));
    const t0 = Date.now();
    const e = await rejectionOf(client.sendMessage(new Message({ body: "x" })), "send with a wrong key");
    const elapsed = Date.now() - t0;
    assert.ok(e instanceof TokenAuthFailure, String(e));
    assert.equal(e.statusCode, 401);
    assert.equal(e.retryable, false);
    assert.match(e.message, /signature/);
    assert.ok(elapsed < 2000, `${elapsed} ms`);
    assert.equal(b.requests("$cbs").length, 4);
    // The failed open is not retried: nothing more reaches $cbs while the client sits idle.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.requests("$cbs").length, 4);
    assert.equal(client.state, "idle");
  });

  it("401 four times: exactly 4 put-tokens (1 + 3 retries); the count starts again for the next authentication", async () => {
    const b = await broker();
    b.broker.setHooks("$cbs", {
      onRequest: putTokenHook(() => ({ statusCode: 401, statusDescription: "nope" })),
    });
    const client = keep(new AMQPClient(b.url(HUB), { auth: b.sasAuth() }));
    const first = await rejectionOf(client.open(), "first open");
    assert.ok(first instanceof TokenAuthFailure);
    assert.equal(first.statusCode, 401);
    assert.equal(first.description, "nope");
    assert.equal(b.requests("$cbs").length, 4);
    // uamqp never reset the count: a second authentication would have failed at once.
    const second = await rejectionOf(client.open(), "second open");
    assert.ok(second instanceof TokenAuthFailure);
    assert.equal(b.requests("$cbs").length, 8);
  });

  it("a put-token refused twice and then granted opens the client (3 put-tokens); retries wait the policy's backoff", async () => {
    const b = await broker();
    b.broker.setHooks("$cbs", {
      onRequest: putTokenHook((n) => (n <= 2 ? { statusCode: 503, statusDescription: "busy" } : undefined)),
    });
    const auth = b.sasAuth(HUB, { retryPolicy: new TokenRetryPolicy({ retries: 3, backoff: 100 }) });
    const client = keep(new SendClient(b.url(HUB), { auth }));
    await client.sendMessage(new Message({ body: "after retries" }));
    const puts = b.requests("$cbs");
    assert.deepEqual(
      puts.map((p) => p.response?.statusCode),
      [503, 503, 200],
    );
    assert.ok(puts[1]!.at - puts[0]!.at >= 90, "backoff before the first retry");
    assert.ok(puts[2]!.at - puts[1]!.at >= 90, "backoff before the second retry");
  });

  it("no answer to the put-token: ClientTimeout after the auth's timeout, one put-token", async () => {
    const b = await broker();
    b.broker.setHooks("$cbs", { onRequest: putTokenHook(() => "ignore") });
    const client = keep(new AMQPClient(b.url(HUB), { auth: b.sasAuth(HUB, { timeout: 700 }) }));
    const t0 = Date.now();
    const e = await rejectionOf(client.open(), "open without a put-token answer");
    const elapsed = Date.now() - t0;
    assert.ok(e instanceof ClientTimeout, String(e));
    assert.match(e.message, /authorization \(put-token\) on \$cbs timed out after 700 ms/);
    assert.ok(elapsed >= 690 && elapsed < 3000, `${elapsed} ms`);
    assert.equal(b.requests("$cbs").length, 1);
  });

  it("no answer to the put-token with the default timeout: ClientTimeout after about 10 s", async () => {
    const b = await broker();
    b.broker.setHooks("$cbs", { onRequest: putTokenHook(() => "ignore") });
    const client = keep(new AMQPClient(b.url(HUB), { auth: b.sasAuth() }));
    const t0 = Date.now();
    const e = await rejectionOf(client.open(), "open without a put-token answer", 20_000);
    const elapsed = Date.now() - t0;
    assert.ok(e instanceof ClientTimeout, String(e));
    assert.match(e.message, /10000 ms/);
    assert.ok(elapsed >= 9_990 && elapsed < 15_000, `${elapsed} ms`);
  });

  it("a broker without a $cbs node: an AuthenticationException naming the CBS links", async () => {
    const b = await broker();
    b.broker.setHooks("$cbs", { refuseAttach: { condition: "amqp:not-found", description: "no $cbs here" } });
    const client = keep(new AMQPClient(b.url(HUB), { auth: b.sasAuth() }));
    const e = await rejectionOf(client.open(), "open without $cbs");
    assert.ok(e instanceof AuthenticationException, String(e));
    assert.match((e as Error).message, /CBS authentication links/);
  });

  it("JWTTokenAuth: the getToken callback's token is put (type jwt) and authorized by the broker's validateJwt", async () => {
    const seen: { token: string; audience: string }[] = [];
    const b = await broker({
      cbs: {
        guardedAddresses: [HUB],
        validateJwt: (token, audience) => {
          seen.push({ token, audience });
          return token === "eyJ.good.jwt" ? { expiresAtMs: Date.now() + 3_600_000 } : false;
        },
      },
    });
    const uri = b.uri();
    let calls = 0;
    const auth = new JWTTokenAuth(
      uri,
      uri,
      () => {
        calls++;
        return { token: "eyJ.good.jwt", expiresOnTimestamp: Date.now() + 3_600_000 };
      },
      { tls: false, port: b.broker.port! },
    );
    const sender = keep(new SendClient(b.url(HUB), { auth }));
    await sender.sendMessage(new Message({ body: "jwt" }));
    assert.equal(calls, 1);
    assert.deepEqual(seen, [{ token: "eyJ.good.jwt", audience: uri }]);
    assert.equal(b.requests("$cbs")[0]?.request.type, "jwt");
    assert.equal(b.broker.stats(HUB).messageCount, 1);

    const refused = new JWTTokenAuth(
      uri,
      uri,
      () => ({ token: "eyJ.bad", expiresOnTimestamp: Date.now() + 60_000 }),
      {
        tls: false,
        port: b.broker.port!,
        retryPolicy: { retries: 0 },
      },
    );
    const e = await rejectionOf(new AMQPClient(b.url(HUB), { auth: refused }).open(), "refused JWT");
    assert.ok(e instanceof TokenAuthFailure);
    assert.equal(e.statusCode, 401);
  });

  it("a key name with a space and a plus (quote_plus: '+' and '%2B') is accepted by the broker's $cbs", async () => {
    const keyName = "send only+listen";
    assert.equal(parseSasToken(createSASToken(quotePlus(keyName), KEY, "sr", 60_000))?.skn, keyName);
    const b = await broker({ cbs: { keys: { [keyName]: KEY }, guardedAddresses: [HUB] } });
    const auth = SASTokenAuth.fromSharedAccessKey(b.uri(), keyName, KEY, {
      tls: false,
      port: b.broker.port!,
    });
    assert.match(auth.token ?? "", /skn=send\+only%2Blisten$/);
    const client = keep(new SendClient(b.url(HUB), { auth }));
    await client.sendMessage(new Message({ body: "spaced key name" }));
    assert.equal(b.requests("$cbs")[0]?.response?.statusCode, 200);
  });

  it("low-level Connection with a token auth: open() puts the token; Session.createSender then reaches the guarded address", async () => {
    const b = await broker();
    const auth = b.sasAuth();
    const conn = keep(new Connection(auth.hostname, auth));
    await conn.open();
    assert.equal(b.requests("$cbs").length, 1);
    assert.equal(conn.cbs?.status, "ok");
    const session = conn.createSession();
    const sender = await session.createSender(HUB, { timeout: 5000 });
    const outcome = await sender.send(new Message({ body: "low-level" }));
    assert.equal(outcome.result, MessageSendResult.Ok);
    assert.equal(b.broker.stats(HUB).messageCount, 1);
    // open() again: the token is in force, nothing is put.
    await conn.open();
    assert.equal(b.requests("$cbs").length, 1);

    // A wrong key: open() rejects with TokenAuthFailure.
    const bad = SASTokenAuth.fromSharedAccessKey(b.uri(), KEY_NAME, `${KEY}x`, {
      tls: false,
      port: b.broker.port!,
      retryPolicy: { retries: 0 },
    });
    const badConn = keep(new Connection(bad.hostname, bad));
    const e = await rejectionOf(badConn.open(), "low-level open with a wrong key");
    assert.ok(e instanceof TokenAuthFailure);
  });
});
