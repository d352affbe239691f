/**
 * Token refresh on a timer, whatever the application does: a receiver with 3-second tokens keeps
 * its link for 10 s; a refresh that fails and then succeeds keeps the link; one that fails until
 * the expiry ends pending and later calls with `TokenExpired`; a JWT callback returning the same
 * token causes no put-token; a token that cannot be renewed expires; a refresh window longer than
 * the lifetime is paced; a reconnect authenticates before it re-attaches; the timers are unref'd.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JWTTokenAuth, SASTokenAuth } from "../../src/auth/cbs-auth.js";
import { createSASToken } from "../../src/auth/sas-token.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import type { ClientStatus } from "../../src/client/client-status.js";
import { TokenExpired } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { gather, rejectionOf } from "../support/waits.js";
import { HUB, KEY, KEY_NAME, putTokenHook, recordStatus, suiteResources, until } from "./support.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The expiry a put-token carried (its `expiration` application property), in ms. */
function expirationOf(e: { request: { applicationProperties: ReadonlyMap<string, unknown> } }): number {
  const v = e.request.applicationProperties.get("expiration");
  assert.ok(v instanceof Date);
  return v.getTime();
}

const tokenEvents = (status: ClientStatus[]): string[] =>
  status.filter((s) => s.type.startsWith("token")).map((s) => s.type);

describe("azure path: token refresh", () => {
  const { broker, keep } = suiteResources();

  it("a receiver whose token lives 3 s keeps receiving for 10 s across its expiries, with no call from the application; a put-token per refresh", async (ctx) => {
    const b = await broker();
    const receiver = keep(
      new ReceiveClient(b.url(HUB), { auth: b.sasAuth(HUB, { expiry: 3000 }), prefetch: 100 }),
    );
    const status = recordStatus(receiver);
    await receiver.open();
    const rx = b.opens()[0]!.connectionId;
    const sender = keep(new SendClient(b.url(HUB), { auth: b.sasAuth() }));

    // 10 s of traffic while the receiver is left alone (its messages wait in its buffer).
    const t0 = Date.now();
    let sent = 0;
    while (Date.now() - t0 < 10_000) {
      await sender.sendMessage(new Message({ body: `m${sent++}` }));
      await sleep(400);
    }
    const end = Date.now();
    const got = await gather(sent, () => receiver.receiveMessageBatch({ maxBatchSize: 100 }), "all messages");
    assert.deepEqual(
      got.map((m) => m.toString()),
      Array.from({ length: sent }, (_, i) => `m${i}`),
    );

    const puts = b.requests("$cbs", rx);
    assert.ok(puts.every((p) => p.response?.statusCode === 200));
    const expired = puts.filter((p) => expirationOf(p) <= end).length;
    assert.ok(expired >= 3, `${expired} tokens expired during the run`);
    assert.ok(puts.length >= 4, `${puts.length} put-tokens`);
    // Each refresh came in the last 10 % of the previous token's life (before it expired).
    const leads: number[] = [];
    for (let k = 1; k < puts.length; k++) {
      const lead = expirationOf(puts[k - 1]!) - puts[k]!.at;
      leads.push(lead);
      assert.ok(lead > 0 && lead <= 450, `refresh ${k} came ${lead} ms before the expiry`);
    }
    // One receiver link all along; the status stream reports the refreshes, nothing was lost.
    assert.equal(b.attaches(HUB, "receiver"), 1);
    const types = status.map((s) => s.type);
    assert.ok(!types.includes("linkDetached") && !types.includes("disconnected"), types.join(","));
    assert.equal(types.filter((t) => t === "tokenRefreshed").length, puts.length - 1);
    ctx.diagnostic(
      `${puts.length} put-tokens in ${end - t0} ms; refreshes ${leads.join(", ")} ms before expiry`,
    );
  });

  it("a refresh refused twice and then granted keeps the link (tokenRefreshFailed, tokenRefreshFailed, tokenRefreshed)", async (ctx) => {
    const b = await broker();
    const sender = keep(new SendClient(b.url(HUB), { auth: b.sasAuth() })); // put-token 1 (1 h)
    await sender.open();
    // Counted from here: the receiver's put-token on open (1) passes; its first refresh (2) and the
    // next attempt (3) are refused; the one after (4) passes.
    b.broker.setHooks("$cbs", {
      onRequest: putTokenHook((n) =>
        n === 2 || n === 3 ? { statusCode: 500, statusDescription: "flaky" } : undefined,
      ),
    });
    const auth = b.sasAuth(HUB, { expiry: 3000, refreshWindow: 1500, retryPolicy: { retries: 0 } });
    const receiver = keep(new ReceiveClient(b.url(HUB), { auth }));
    const status = recordStatus(receiver);
    await receiver.open();
    const rx = b.opens().at(-1)!.connectionId;
    const first = b.requests("$cbs", rx)[0]!;
    await until(() => status.some((s) => s.type === "tokenRefreshed"), "a successful refresh", 5000);
    assert.deepEqual(tokenEvents(status), ["tokenRefreshFailed", "tokenRefreshFailed", "tokenRefreshed"]);
    const failed = status.find((s) => s.type === "tokenRefreshFailed");
    assert.ok(failed?.type === "tokenRefreshFailed");
    assert.match(failed.error.message, /status 500: flaky/);
    assert.ok(failed.retryAt <= failed.expiresAt);

    // Past the first token's expiry the same link still receives.
    await until(() => Date.now() > expirationOf(first) + 200, "the first token's expiry");
    await sender.sendMessage(new Message({ body: "after the first expiry" }));
    const [m] = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 });
    assert.equal(m?.toString(), "after the first expiry");
    assert.equal(b.attaches(HUB, "receiver"), 1);
    // (Later refreshes, every 1.5 s, are granted.)
    const puts = b.requests("$cbs", rx);
    const codes = puts.map((p) => p.response?.statusCode);
    assert.deepEqual(codes.slice(0, 4), [200, 500, 500, 200]);
    assert.ok(codes.slice(4).every((c) => c === 200));
    assert.deepEqual(tokenEvents(status).slice(0, 3), [
      "tokenRefreshFailed",
      "tokenRefreshFailed",
      "tokenRefreshed",
    ]);
    ctx.diagnostic(
      `refresh attempts at +${puts
        .slice(1)
        .map((p) => p.at - first.at)
        .join(", +")} ms after the first put`,
    );
  });

  it("a refresh refused until the expiry: the pending receiveMessageBatch and every later call reject with TokenExpired", async (ctx) => {
    const b = await broker();
    const sender = keep(new SendClient(b.url(HUB), { auth: b.sasAuth() }));
    await sender.open(); // put-token 1
    // Counted from here: the receiver's put-token on open (1) passes, every refresh is refused.
    b.broker.setHooks("$cbs", {
      onRequest: putTokenHook((n) => (n >= 2 ? { statusCode: 500, statusDescription: "down" } : undefined)),
    });
    const auth = b.sasAuth(HUB, { expiry: 3000 });
    const receiver = keep(new ReceiveClient(b.url(HUB), { auth }));
    const status = recordStatus(receiver);
    await receiver.open();
    const rx = b.opens().at(-1)!.connectionId;
    const expiresAt = expirationOf(b.requests("$cbs", rx)[0]!);

    const pending = receiver.receiveMessageBatch();
    const e = await rejectionOf(pending, "the pending receive", 6000);
    const at = Date.now();
    assert.ok(e instanceof TokenExpired, String(e));
    assert.match(e.message, /expired at .*the last refresh failed: .*status 500: down/);
    assert.ok(
      at >= expiresAt - 5 && at < expiresAt + 1000,
      `TokenExpired ${at - expiresAt} ms after the expiry`,
    );
    const later = await rejectionOf(receiver.receiveMessageBatch({ timeout: 100 }), "a later receive");
    assert.ok(later instanceof TokenExpired);
    assert.equal(receiver.state, "failed");
    assert.ok(tokenEvents(status).includes("tokenRefreshFailed"));
    // The guarded link the broker detaches at the expiry starts no recovery: the token's expiry wins.
    assert.ok(!status.some((s) => s.type === "reconnecting"), status.map((s) => s.type).join(","));
    const closed = status.at(-1);
    assert.ok(closed?.type === "closed" && closed.error instanceof TokenExpired);
    // Refreshing stops with the expiry.
    const attempts = b.requests("$cbs", rx).length;
    await sleep(300);
    assert.equal(b.requests("$cbs", rx).length, attempts);
    ctx.diagnostic(
      `${attempts - 1} refresh put-tokens refused; TokenExpired ${at - expiresAt} ms after the expiry`,
    );
  });

  it("a token that cannot be renewed (a SAS token without its key) expires: TokenExpired, no refresh put-token", async () => {
    const b = await broker();
    const uri = b.uri();
    const token = createSASToken(KEY_NAME, KEY, encodeURIComponent(uri), 2000);
    const auth = new SASTokenAuth(uri, uri, token, { tls: false, port: b.broker.port! });
    assert.equal(auth.canRefresh, false);
    const receiver = keep(new ReceiveClient(b.url(HUB), { auth }));
    await receiver.open();
    const e = await rejectionOf(receiver.receiveMessageBatch(), "receive past the expiry", 5000);
    assert.ok(e instanceof TokenExpired);
    assert.match(e.message, /could not be renewed/);
    assert.equal(b.requests("$cbs").length, 1);
  });

  it("JWT: a refresh whose getToken returns the same token puts nothing; a new token is put and reported", async () => {
    const b = await broker({
      cbs: {
        guardedAddresses: [HUB],
        validateJwt: (token) => token.startsWith("eyJ") && { expiresAtMs: Date.now() + 10_000 },
      },
    });
    const uri = b.uri();
    const first = { token: "eyJ.first", expiresOnTimestamp: Date.now() + 2700 };
    const second = { token: "eyJ.second", expiresOnTimestamp: Date.now() + 6000 };
    let calls = 0;
    // A refresh window longer than the first token's lifetime: a refresh is due at once.
    const auth = new JWTTokenAuth(uri, uri, () => (++calls <= 2 ? first : second), {
      tls: false,
      port: b.broker.port!,
      refreshWindow: 3000,
    });
    const client = keep(new ReceiveClient(b.url(HUB), { auth }));
    const status = recordStatus(client);
    await client.open();
    await until(
      () => calls >= 3 && status.some((s) => s.type === "tokenRefreshed"),
      "the second token put",
      5000,
    );
    const puts = b.requests("$cbs");
    // calls 1 (the open) and 2 (same token: no put-token), 3 (new token: put).
    assert.deepEqual(
      puts.map((p) => p.request.body),
      ["eyJ.first", "eyJ.second"],
    );
    assert.equal(client.connection?.cbs?.status, "ok");
    assert.equal(client.connection.cbs.expiresAt, second.expiresOnTimestamp);
  });

  it("a refresh window longer than the token's lifetime is paced, not a tight loop", async () => {
    const b = await broker();
    const auth = b.sasAuth(HUB, { expiry: 3000, refreshWindow: 60_000 });
    const client = keep(new ReceiveClient(b.url(HUB), { auth }));
    await client.open();
    const t0 = Date.now();
    await sleep(2000);
    const puts = b.requests("$cbs").filter((p) => p.at >= t0).length;
    assert.ok(puts >= 1 && puts <= 6, `${puts} put-tokens in 2 s`);
    assert.equal(client.state, "open");
  });

  it("after a dropped connection the client authenticates on the new one before it re-attaches", async () => {
    const b = await broker();
    const receiver = keep(
      new ReceiveClient(b.url(HUB), { auth: b.sasAuth(), reconnect: { initialMs: 20, maxMs: 100 } }),
    );
    const status = recordStatus(receiver);
    await receiver.open();
    await b.broker.closeConnections();
    await until(() => status.some((s) => s.type === "reconnected"), "the reconnect");
    const second = b.opens()[1]!.connectionId;
    const put = b.requests("$cbs", second)[0];
    const attach = b.events.find(
      (e) => e.type === "attach" && e.connectionId === second && e.address === HUB,
    );
    assert.ok(put && attach, "put-token and attach on the new connection");
    assert.ok(put.at <= attach.at);
    assert.equal(put.response?.statusCode, 200);
  });

  it("the refresh timers do not keep the process alive (unref'd)", async () => {
    const b = await broker();
    const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timeouts();
    const client = keep(new ReceiveClient(b.url(HUB), { auth: b.sasAuth(HUB, { expiry: 60_000 }) }));
    await client.open();
    assert.equal(client.connection?.cbs?.status, "ok");
    assert.ok(client.connection.cbs.refreshAt !== undefined);
    assert.equal(timeouts(), before);
  });
});
