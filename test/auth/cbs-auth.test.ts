/**
 * The token auth classes without a connection: construction and its typed errors, the token cache
 * (getToken/updateToken, one fetch shared by concurrent callers, bounded by `timeout`), refresh
 * timing, TokenRetryPolicy, SASL mechanisms, transport options, `withHost` copies, and
 * `customEndpointHostname` (a real TCP connect).
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import {
  AMQPAbortError,
  AuthenticationException,
  CBSAuth,
  ClientTimeout,
  DEFAULT_PUT_TOKEN_TIMEOUT_MS,
  JWTTokenAuth,
  SASTokenAuth,
  TokenExpired,
  TokenRetryPolicy,
  TransportType,
  type AccessToken,
} from "../../src/index.js";

const URI = "sb://ns.servicebus.windows.net/orders";
const T0 = 1_800_000_000_000;
let now = T0;

function useClock(): void {
  now = T0;
  mock.method(Date, "now", () => now);
}

/** A SAS token string expiring at `seMs` (its content does not matter to the constructor). */
function tokenExpiringAt(seMs: number): string {
  return `SharedAccessSignature sr=x&sig=y&se=${Math.floor(seMs / 1000)}&skn=k`;
}

describe("SASTokenAuth", () => {
  beforeEach(useClock);
  afterEach(() => mock.restoreAll());

  it("uamqp's defaults: token type, 10 s put-token timeout, 3 retries without backoff, host from the uri", () => {
    const auth = new SASTokenAuth(URI, URI, tokenExpiringAt(T0 + 3_600_000));
    assert.ok(auth instanceof CBSAuth);
    assert.equal(auth.tokenType, "servicebus.windows.net:sastoken");
    assert.equal(auth.timeout, 10_000);
    assert.equal(DEFAULT_PUT_TOKEN_TIMEOUT_MS, 10_000);
    assert.equal(auth.retryPolicy.retries, 3);
    assert.equal(auth.retryPolicy.backoff, 0);
    assert.equal(auth.refreshWindow, undefined);
    assert.equal(auth.hostname, "ns.servicebus.windows.net");
    assert.equal(auth.audience, URI);
    assert.equal(auth.uri, URI);
    assert.equal(auth.port, 5671);
    assert.equal(auth.tls, true);
  });

  it("expiry: the token's se= field, else expiresAt (ms or Date), else expiresIn", () => {
    const token = tokenExpiringAt(T0 + 7_200_000);
    assert.equal(new SASTokenAuth(URI, URI, token).expiresAtMs, T0 + 7_200_000);
    assert.equal(new SASTokenAuth(URI, URI, "opaque", { expiresAt: T0 + 60_000 }).expiresAtMs, T0 + 60_000);
    assert.equal(
      new SASTokenAuth(URI, URI, "opaque", { expiresAt: new Date(T0 + 90_000) }).expiresAtMs,
      T0 + 90_000,
    );
    assert.equal(new SASTokenAuth(URI, URI, "opaque", { expiresIn: 30_000 }).expiresAtMs, T0 + 30_000);
    assert.throws(() => new SASTokenAuth(URI, URI, "opaque"), /no se= field; give expiresAt or expiresIn/);
  });

  it("a token that expires within a second and cannot be renewed: TokenExpired at construction", () => {
    assert.throws(() => new SASTokenAuth(URI, URI, "t", { expiresAt: T0 + 999 }), TokenExpired);
    assert.throws(() => new SASTokenAuth(URI, URI, tokenExpiringAt(T0 - 5000)), /already expired/);
    assert.ok(new SASTokenAuth(URI, URI, "t", { expiresAt: T0 + 1000 }));
  });

  it("with a key name and key an expired token is replaced at the first getToken()", async () => {
    const auth = new SASTokenAuth(URI, URI, tokenExpiringAt(T0 - 5000), {
      keyName: "RootManageSharedAccessKey",
      sharedAccessKey: "k+/=",
    });
    assert.equal(auth.isExpired(), true);
    const t = await auth.getToken();
    assert.equal(t.expiresOnTimestamp, T0 + 3_600_000, "one hour when the given one had no lifetime left");
    assert.match(t.token, /&skn=RootManageSharedAccessKey$/);
    assert.equal(auth.token, t.token);
    assert.equal(auth.isExpired(), false);
  });

  it("refresh timing: 10 % of the lifetime by default, refreshWindow when given", () => {
    const auth = SASTokenAuth.fromSharedAccessKey(URI, "n", "k");
    assert.equal(auth.expiresAtMs, T0 + 3_600_000);
    assert.equal(auth.refreshAtMs(), T0 + 3_600_000 - 360_000);
    const windowed = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", {
      expiry: 60_000,
      refreshWindow: 15_000,
    });
    assert.equal(windowed.refreshAtMs(), T0 + 60_000 - 15_000);
    const odd = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", { expiry: 60_999 });
    assert.equal(odd.expiresAtMs, T0 + 60_000, "whole seconds");
    assert.equal(odd.refreshAtMs(), T0 + 60_000 - 6_000);
  });

  it("getToken keeps the token until the refresh is due, then makes a new one; updateToken always does", async () => {
    const auth = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", { expiry: 60_000 });
    const first = auth.token!;
    now = T0 + 53_999;
    assert.equal((await auth.getToken()).token, first);
    now = T0 + 54_000; // 10 % before expiry
    const second = await auth.getToken();
    assert.notEqual(second.token, first);
    assert.equal(second.expiresOnTimestamp, T0 + 114_000);
    assert.equal(auth.token, second.token);
    assert.equal(auth.refreshAtMs(), T0 + 114_000 - 6_000);
    now = T0 + 55_000;
    const third = await auth.updateToken();
    assert.equal(third.expiresOnTimestamp, T0 + 115_000);
    assert.match(third.token, new RegExp(`&se=${(T0 + 115_000) / 1000}&`));
  });

  it("without a key: the given token serves until it expires, then TokenExpired; no refresh time", async () => {
    const auth = new SASTokenAuth(URI, URI, tokenExpiringAt(T0 + 60_000));
    assert.equal(auth.canRefresh, false);
    assert.equal(auth.refreshAtMs(), undefined);
    now = T0 + 59_000;
    assert.equal((await auth.updateToken()).token, tokenExpiringAt(T0 + 60_000));
    now = T0 + 60_000;
    await assert.rejects(
      auth.getToken(),
      (e: unknown) => e instanceof TokenExpired && /cannot be renewed/.test(e.message),
    );
  });

  it("key name and key from the uri's user name and password (uamqp's unquote_plus); the signed uri has no user info", async () => {
    const withCredentials = "sb://Root%20Key:se%2Bcret@ns.servicebus.windows.net/orders";
    const auth = new SASTokenAuth(URI, withCredentials, tokenExpiringAt(T0 + 60_000));
    assert.equal(auth.keyName, "Root Key");
    assert.equal(auth.canRefresh, true);
    assert.equal(auth.hostname, "ns.servicebus.windows.net");
    now = T0 + 1000;
    const renewed = await auth.updateToken();
    const expected = SASTokenAuth.fromSharedAccessKey(URI, "Root Key", "se+cret", { expiry: 60_000 }).token;
    assert.equal(renewed.token, expected);
    assert.doesNotMatch(renewed.token, /cret/);
  });

  it("bad arguments: typed errors", () => {
    assert.throws(() => new SASTokenAuth("", URI, "t", { expiresIn: 5000 }), TypeError);
    assert.throws(
      () => new SASTokenAuth(URI, "not a url", "t", { expiresIn: 5000 }),
      /absolute URL with a host/,
    );
    assert.throws(() => new SASTokenAuth(URI, "sb:///nohost", "t", { expiresIn: 5000 }), TypeError);
    assert.throws(() => new SASTokenAuth(URI, URI, "", { expiresIn: 5000 }), TypeError);
    assert.throws(() => new SASTokenAuth(URI, URI, "t", { expiresIn: 5000, timeout: 0 }), RangeError);
    assert.throws(() => new SASTokenAuth(URI, URI, "t", { expiresIn: 5000, timeout: 2 ** 31 }), RangeError);
    assert.throws(() => new SASTokenAuth(URI, URI, "t", { expiresIn: 5000, refreshWindow: -1 }), RangeError);
    assert.throws(() => new SASTokenAuth(URI, URI, "t", { expiresIn: 5000, tokenType: "" }), TypeError);
    assert.throws(() => new SASTokenAuth(URI, URI, "t", { expiresAt: Number.NaN }), TypeError);
    assert.throws(() => new SASTokenAuth(URI, URI, "t", { expiresAt: new Date("nope") }), TypeError);
    assert.throws(
      () => new SASTokenAuth(URI, URI, "t", { expiresIn: 5000, keyName: "n", sharedAccessKey: "" }),
      /the key is empty/,
    );
    assert.throws(() => SASTokenAuth.fromSharedAccessKey(URI, "", "k"), TypeError);
    assert.throws(() => SASTokenAuth.fromSharedAccessKey(URI, "n", ""), TypeError);
    assert.throws(() => SASTokenAuth.fromSharedAccessKey(URI, "n", "k", { expiry: 500 }), RangeError);
    assert.throws(() => SASTokenAuth.fromSharedAccessKey("nohost", "n", "k"), TypeError);
  });

  it("every transport option of the SASL auths: WebSocket, proxy, port, TLS, connect timeout", () => {
    const ws = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", { type: TransportType.AmqpOverWebsocket });
    assert.equal(ws.webSocket, true);
    assert.equal(ws.port, 443);
    const proxied = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", {
      proxy: { host: "proxy.local", port: 3128, username: "u", password: "p" },
      connectTimeoutMs: 5000,
      webSocket: { path: "/custom" },
    });
    assert.equal(proxied.webSocket, true);
    assert.deepEqual(proxied.transport.proxy, {
      host: "proxy.local",
      port: 3128,
      username: "u",
      password: "p",
    });
    assert.equal(proxied.transport.connectTimeoutMs, 5000);
    const plain = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", { tls: false });
    assert.equal(plain.port, 5672);
    const custom = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", {
      port: 15671,
      rejectUnauthorized: false,
    });
    assert.equal(custom.port, 15671);
    // The CBS options do not leak into the transport settings.
    const t = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", {
      refreshWindow: 1000,
      timeout: 5000,
      expiry: 60_000,
    }).transport as Record<string, unknown>;
    for (const name of [
      "refreshWindow",
      "timeout",
      "expiry",
      "retryPolicy",
      "tokenType",
      "sharedAccessKey",
      "keyName",
    ]) {
      assert.equal(name in t, false, name);
    }
  });
});

describe("customEndpointHostname", () => {
  let server: Server;
  const accepted: Socket[] = [];
  afterEach(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("connects to that host while hostname, audience and uri stay the endpoint's", async () => {
    server = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const auth = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", {
      customEndpointHostname: "127.0.0.1",
      tls: false,
      port,
      connectTimeoutMs: 5000,
    });
    assert.equal(auth.hostname, "ns.servicebus.windows.net");
    assert.equal(auth.audience, URI);
    const transport = await auth.connect();
    try {
      assert.equal(transport.remoteAddress, "127.0.0.1");
      assert.equal(transport.remotePort, port);
    } finally {
      transport.destroy();
    }
    assert.equal(auth.withHost("other.example").transport.customEndpointHostname, "127.0.0.1");
  });
});

describe("JWTTokenAuth", () => {
  beforeEach(useClock);
  afterEach(() => mock.restoreAll());

  it("getToken must be a function: TypeError at construction", () => {
    assert.throws(() => new JWTTokenAuth(URI, URI, "token" as unknown as () => AccessToken), TypeError);
    assert.throws(
      () => new JWTTokenAuth(URI, URI, undefined as unknown as () => AccessToken),
      /must be a function/,
    );
  });

  it("no token before the first getToken(); type jwt; a synchronous callback", async () => {
    let calls = 0;
    const auth = new JWTTokenAuth(URI, URI, () => {
      calls++;
      return { token: `jwt-${calls}`, expiresOnTimestamp: T0 + 3_600_000 };
    });
    assert.equal(auth.tokenType, "jwt");
    assert.equal(auth.token, undefined);
    assert.equal(auth.expiresAtMs, undefined);
    assert.equal(auth.refreshAtMs(), undefined);
    assert.equal(auth.isExpired(), false);
    assert.equal(calls, 0, "nothing fetched at construction");
    assert.deepEqual(await auth.getToken(), { token: "jwt-1", expiresOnTimestamp: T0 + 3_600_000 });
    assert.equal(auth.token, "jwt-1");
    assert.equal(auth.refreshAtMs(), T0 + 3_600_000 - 360_000);
    assert.equal((await auth.getToken()).token, "jwt-1");
    assert.equal(calls, 1);
  });

  it("an async callback, given an abortSignal (the @azure/core-auth GetTokenOptions shape)", async () => {
    let signal: AbortSignal | undefined;
    const auth = new JWTTokenAuth(URI, URI, async (options) => {
      signal = options.abortSignal;
      await new Promise((r) => setImmediate(r));
      return { token: "async", expiresOnTimestamp: T0 + 60_000 };
    });
    assert.equal((await auth.getToken()).token, "async");
    assert.ok(signal instanceof AbortSignal);
    assert.equal(signal.aborted, false);
  });

  it("uamqp's sample: window 5 min, token for 4.5 min → refresh due at once; same token kept; a 5.5-min token → due in 30 s", async () => {
    const tokens: AccessToken[] = [
      { token: "A", expiresOnTimestamp: T0 + 270_000 },
      { token: "A", expiresOnTimestamp: T0 + 270_000 },
      { token: "B", expiresOnTimestamp: T0 + 330_000 },
    ];
    const auth = new JWTTokenAuth(URI, URI, () => tokens.shift(), { refreshWindow: 300_000 });
    assert.equal((await auth.getToken()).token, "A");
    assert.equal(auth.refreshAtMs(), T0 - 30_000, "in the past: refresh required");
    assert.equal((await auth.getToken()).token, "A", "the callback gave the same token");
    const b = await auth.getToken();
    assert.equal(b.token, "B");
    assert.equal(auth.refreshAtMs(), T0 + 30_000);
  });

  it("refreshAfterTimestamp of the issuer wins when it is earlier", async () => {
    const auth = new JWTTokenAuth(URI, URI, () => ({
      token: "t",
      expiresOnTimestamp: T0 + 3_600_000,
      refreshAfterTimestamp: T0 + 1_800_000,
    }));
    await auth.getToken();
    assert.equal(auth.refreshAtMs(), T0 + 1_800_000);
    const late = new JWTTokenAuth(URI, URI, () => ({
      token: "t",
      expiresOnTimestamp: T0 + 3_600_000,
      refreshAfterTimestamp: T0 + 3_500_000,
    }));
    await late.getToken();
    assert.equal(late.refreshAtMs(), T0 + 3_240_000);
  });

  it("concurrent callers (several connections) share one callback call", async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const auth = new JWTTokenAuth(URI, URI, async () => {
      calls++;
      await gate;
      return { token: "shared", expiresOnTimestamp: T0 + 60_000 };
    });
    const copy = auth.withHost("other.example");
    const all = Promise.all([auth.getToken(), auth.getToken(), copy.getToken(), auth.updateToken()]);
    release();
    const got = await all;
    assert.deepEqual(
      got.map((t) => t.token),
      ["shared", "shared", "shared", "shared"],
    );
    assert.equal(calls, 1);
    assert.equal(copy.token, "shared");
  });

  it("failures are typed: thrown → AuthenticationException (retryable, cause kept); null → AuthenticationException", async () => {
    const cause = new Error("identity service unavailable");
    const failing = new JWTTokenAuth(URI, URI, () => {
      throw cause;
    });
    await assert.rejects(failing.getToken(), (e: unknown) => {
      assert.ok(e instanceof AuthenticationException);
      assert.equal(e.retryable, true);
      assert.equal(e.cause, cause);
      assert.match(e.message, /getToken\(\) failed \(Error: identity service unavailable\)/);
      return true;
    });
    const rejecting = new JWTTokenAuth(URI, URI, () => Promise.reject(cause));
    await assert.rejects(rejecting.getToken(), AuthenticationException);
    const empty = new JWTTokenAuth(URI, URI, () => null);
    await assert.rejects(empty.getToken(), /returned no token/);
    // A failure is not kept: the next call asks again.
    let n = 0;
    const flaky = new JWTTokenAuth(URI, URI, () => {
      if (n++ === 0) throw new Error("once");
      return { token: "ok", expiresOnTimestamp: T0 + 60_000 };
    });
    await assert.rejects(flaky.getToken(), AuthenticationException);
    assert.equal((await flaky.getToken()).token, "ok");
  });

  it("a token in seconds, an expired token, a malformed result: TokenExpired (with a hint) / TypeError", async () => {
    const seconds = new JWTTokenAuth(URI, URI, () => ({
      token: "t",
      expiresOnTimestamp: (T0 + 60_000) / 1000,
    }));
    await assert.rejects(
      seconds.getToken(),
      (e: unknown) => e instanceof TokenExpired && /not seconds/.test(e.message),
    );
    const expired = new JWTTokenAuth(URI, URI, () => ({ token: "t", expiresOnTimestamp: T0 }));
    await assert.rejects(expired.getToken(), TokenExpired);
    const shapeless = new JWTTokenAuth(URI, URI, () => ({ access_token: "t" }) as unknown as AccessToken);
    await assert.rejects(shapeless.getToken(), TypeError);
    const noExpiry = new JWTTokenAuth(URI, URI, () => ({ token: "t" }) as unknown as AccessToken);
    await assert.rejects(noExpiry.getToken(), /expiresOnTimestamp must be a finite number/);
  });

  it("a callback that never settles: ClientTimeout after `timeout`, its abortSignal aborted; the next call asks again", async () => {
    mock.restoreAll(); // real clock: the bound is a real timer
    let signal: AbortSignal | undefined;
    let calls = 0;
    const auth = new JWTTokenAuth(
      URI,
      URI,
      (options) => {
        calls++;
        signal = options.abortSignal;
        return new Promise<AccessToken>(() => undefined);
      },
      { timeout: 50 },
    );
    const started = Date.now();
    await assert.rejects(
      auth.getToken(),
      (e: unknown) => e instanceof ClientTimeout && /within 50 ms/.test(e.message),
    );
    assert.ok(Date.now() - started >= 45);
    assert.equal(signal?.aborted, true);
    await assert.rejects(auth.getToken(), ClientTimeout);
    assert.equal(calls, 2);
  });

  it("a caller's signal stops its own wait (AMQPAbortError); the shared fetch goes on for the others", async () => {
    let release!: (t: AccessToken) => void;
    const auth = new JWTTokenAuth(URI, URI, () => new Promise<AccessToken>((r) => (release = r)));
    const controller = new AbortController();
    const aborted = auth.getToken({ signal: controller.signal });
    const other = auth.getToken();
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, AMQPAbortError);
    release({ token: "late", expiresOnTimestamp: T0 + 60_000 });
    assert.equal((await other).token, "late");
    await assert.rejects(auth.getToken({ signal: AbortSignal.abort() }), AMQPAbortError);
  });

  it("tokenType and the CBS options can be set (a SAS token from a callback, for instance)", async () => {
    const auth = new JWTTokenAuth(
      URI,
      URI,
      () => ({ token: "SharedAccessSignature …", expiresOnTimestamp: T0 + 1000 }),
      {
        tokenType: "servicebus.windows.net:sastoken",
        refreshWindow: 500,
        timeout: 3000,
        retryPolicy: { retries: 1, backoff: 250 },
      },
    );
    assert.equal(auth.tokenType, "servicebus.windows.net:sastoken");
    assert.equal(auth.timeout, 3000);
    assert.ok(auth.retryPolicy instanceof TokenRetryPolicy);
    assert.equal(auth.retryPolicy.retries, 1);
    assert.equal(auth.retryPolicy.backoff, 250);
    await auth.getToken();
    assert.equal(auth.refreshAtMs(), T0 + 500);
  });
});

describe("TokenRetryPolicy", () => {
  it("uamqp's defaults: 3 retries, backoff 0 ms", () => {
    const p = new TokenRetryPolicy();
    assert.equal(p.retries, 3);
    assert.equal(p.backoff, 0);
    const q = new TokenRetryPolicy({ retries: 0, backoff: 1500 });
    assert.equal(q.retries, 0);
    assert.equal(q.backoff, 1500);
  });

  it("bad values: RangeError", () => {
    assert.throws(() => new TokenRetryPolicy({ retries: -1 }), RangeError);
    assert.throws(() => new TokenRetryPolicy({ retries: 1.5 }), RangeError);
    assert.throws(() => new TokenRetryPolicy({ backoff: -1 }), RangeError);
    assert.throws(() => new TokenRetryPolicy({ backoff: Number.NaN }), RangeError);
    assert.throws(() => new TokenRetryPolicy({ backoff: 2 ** 31 }), RangeError);
  });
});

describe("SASL mechanisms and reuse", () => {
  it("MSSBCBS is preferred, ANONYMOUS the fallback and the single mechanism", () => {
    const auth = SASTokenAuth.fromSharedAccessKey(URI, "n", "k");
    assert.equal(auth.mechanism().name, "ANONYMOUS");
    assert.deepEqual([...(auth.mechanism().initialResponse() ?? [])], []);
    assert.deepEqual(
      auth.saslMechanisms().map((m) => m.name),
      ["MSSBCBS", "ANONYMOUS"],
    );
  });

  it("withHost: same class, new host and transport, same audience and token cache", async () => {
    const auth = SASTokenAuth.fromSharedAccessKey(URI, "n", "k", { refreshWindow: 1000 });
    const copy = auth.withHost("10.0.0.1", { tls: false, port: 5672 });
    assert.ok(copy instanceof SASTokenAuth);
    assert.equal(copy.hostname, "10.0.0.1");
    assert.equal(copy.port, 5672);
    assert.equal(copy.audience, auth.audience);
    assert.equal(copy.keyName, "n");
    assert.equal(copy.refreshWindow, 1000);
    assert.equal(copy.token, auth.token);
    const renewed = await copy.updateToken();
    assert.equal(auth.token, renewed.token, "one cache for both");
    assert.equal(auth.withHost("h").transport, auth.transport, "keeps the transport unless given");
  });
});
