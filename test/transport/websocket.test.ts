import assert from "node:assert/strict";
import { afterEach, before, describe, it } from "node:test";
import {
  ConnectTimeoutError,
  connectHttpProxy,
  connectWebSocket,
  listenWebSocket,
  ProxyError,
  TlsError,
  TransportError,
  WebSocketError,
  type Transport,
  type TransportServer,
  type WebSocketConnectOptions,
  type WebSocketListenOptions,
} from "../../src/transport/index.js";
import { AMQPAbortError } from "../../src/errors/index.js";
import { getTestCertificates, type TestCertificates } from "../support/certs.js";
import { Accepted, checkPause, pattern, record, rejection, settle, within } from "./helpers.js";
import { startConnectProxy, type TestProxy } from "./proxy-server.js";
import { stalledServer } from "./stalled-server.js";

const PATH = "/$servicebus/websocket/";
let certs: TestCertificates;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function wsServer(
  options: WebSocketListenOptions = {},
  accepted = new Accepted(),
): Promise<{ server: TransportServer; accepted: Accepted }> {
  const server = await listenWebSocket({ path: PATH, ...options }, accepted.onTransport);
  cleanup.push(() => server.close());
  return { server, accepted };
}

async function connect(options: WebSocketConnectOptions): Promise<Transport> {
  const t = await within(connectWebSocket({ timeoutMs: 5000, ...options }), "connectWebSocket");
  cleanup.push(() => t.destroy());
  return t;
}

async function proxy(credentials?: { username: string; password: string }): Promise<TestProxy> {
  const p = await startConnectProxy(credentials);
  cleanup.push(() => p.close());
  return p;
}

const PROXY_USER = { username: "proxy-user", password: "s3cr3t-proxy-pass" };

describe("WebSocket transport", { timeout: 60_000 }, () => {
  before(async () => {
    certs = await within(getTestCertificates(), "test certificates", 60_000);
  });

  it("round trip on a custom path with subprotocol AMQPWSB10; one message = one chunk", async () => {
    const { server, accepted } = await wsServer();
    const url = `ws://127.0.0.1:${server.port}${PATH}`;
    const t = await connect({ url });
    assert.equal(t.encrypted, false);
    assert.equal(t.description, `ws ${url}`);
    assert.equal(t.remoteAddress, "127.0.0.1");
    assert.equal(t.remotePort, server.port);
    const r = record(t);
    t.write(Buffer.from("one"));
    t.write(new Uint8Array([0x74, 0x77, 0x6f]));
    t.writev([Buffer.from("th"), Buffer.from("r"), Buffer.from("ee")]);
    const { recorder, transport } = await accepted.first();
    assert.equal((await recorder.waitBytes(11)).toString(), "onetwothree");
    assert.deepEqual(
      recorder.chunks.map((c) => c.toString()),
      ["one", "two", "three"],
      "each write (and each writev) is one binary message",
    );
    assert.equal((await r.waitBytes(11)).toString(), "onetwothree");
    assert.match(transport.description, /^ws from 127\.0\.0\.1:\d+$/);
  });

  it("large writes apply back-pressure: write returns false, onDrain follows, bytes are identical", async () => {
    const { server } = await wsServer();
    const t = await connect({ url: `ws://localhost:${server.port}${PATH}` });
    const r = record(t);
    const payload = pattern(2 * 1024 * 1024, 9);
    assert.equal(t.write(payload), false);
    await r.waitDrain();
    assert.ok((await r.waitBytes(payload.length)).equals(payload));
  });

  it("pause() stops reading until resume(): the messages sent meanwhile arrive after it, in order", async () => {
    const { server, accepted } = await wsServer({}, new Accepted(record));
    const t = await connect({ url: `ws://127.0.0.1:${server.port}${PATH}` });
    t.write(Buffer.from("first"));
    const { transport, recorder } = await accepted.first();
    await recorder.waitBytes(5);
    await checkPause(transport, t, recorder);
  });

  it("accepts the 'amqp' subprotocol too, and any path when none is configured", async () => {
    const { server } = await wsServer({ path: undefined });
    const t = await connect({ url: `ws://127.0.0.1:${server.port}/anything`, protocol: "amqp" });
    const r = record(t);
    t.write(Buffer.from("hi"));
    assert.equal((await r.waitBytes(2)).toString(), "hi");
  });

  it("a path without the trailing slash matches", async () => {
    const { server } = await wsServer();
    const t = await connect({ url: `ws://127.0.0.1:${server.port}/$servicebus/websocket` });
    assert.equal(t.encrypted, false);
  });

  it("a wrong path fails with WebSocketError 404, not retryable", async () => {
    const { server } = await wsServer();
    const error = await rejection(
      connectWebSocket({ url: `ws://127.0.0.1:${server.port}/other`, timeoutMs: 5000 }),
      "wrong path",
    );
    assert.ok(error instanceof WebSocketError, String(error));
    assert.equal(error.code, "AMQP_WEBSOCKET");
    assert.equal(error.statusCode, 404);
    assert.equal(error.retryable, false);
  });

  it("a subprotocol the server does not accept fails with WebSocketError 400", async () => {
    const { server } = await wsServer();
    const error = await rejection(
      connectWebSocket({ url: `ws://127.0.0.1:${server.port}${PATH}`, protocol: "mqtt", timeoutMs: 5000 }),
      "unsupported subprotocol",
    );
    assert.ok(error instanceof WebSocketError, String(error));
    assert.equal(error.statusCode, 400);
  });

  it("credentials and query of the URL never appear in the description", async () => {
    const { server } = await wsServer();
    const t = await connect({ url: `ws://user:pa55word@127.0.0.1:${server.port}${PATH}?sig=SECRETSIG` });
    assert.equal(t.description, `ws ws://127.0.0.1:${server.port}${PATH}`);
  });

  it("end() closes both sides cleanly, onClose exactly once", async () => {
    const { server, accepted } = await wsServer();
    const t = await connect({ url: `ws://127.0.0.1:${server.port}${PATH}` });
    const r = record(t);
    t.write(Buffer.from("bye"));
    const { recorder } = await accepted.first();
    await recorder.waitBytes(3);
    t.end();
    assert.equal(t.write(Buffer.from("late")), false);
    assert.equal(await r.waitClosed(), undefined);
    assert.equal(await recorder.waitClosed(), undefined);
    t.destroy(new Error("after close"));
    await settle();
    assert.equal(r.closeCalls, 1);
    assert.equal(recorder.closeCalls, 1);
    assert.equal(r.callsAfterClose, 0);
  });

  it("server close() destroys open transports: the client sees a retryable abnormal close", async () => {
    const { server } = await wsServer();
    const t = await connect({ url: `ws://127.0.0.1:${server.port}${PATH}` });
    const r = record(t);
    await within(server.close(), "server close");
    const error = await r.waitClosed();
    assert.ok(error instanceof TransportError, String(error));
    assert.equal(error.retryable, true);
    assert.match(error.message, /1006/);
    assert.equal(r.closeCalls, 1);
  });

  it("destroy(error) reports that error locally", async () => {
    const { server } = await wsServer();
    const t = await connect({ url: `ws://127.0.0.1:${server.port}${PATH}` });
    const r = record(t);
    const reason = new Error("engine failure");
    t.destroy(reason);
    assert.equal(await r.waitClosed(), reason);
  });

  it("wss: TLS with the test CA, encrypted on both sides", async () => {
    const { server, accepted } = await wsServer({
      tls: { cert: certs.serverCert, key: certs.serverKey },
    });
    const t = await connect({ url: `wss://localhost:${server.port}${PATH}`, ca: certs.ca });
    assert.equal(t.encrypted, true);
    assert.equal(t.peerCertificate?.subject?.["CN"], "localhost");
    const r = record(t);
    t.write(Buffer.from("secure"));
    assert.equal((await r.waitBytes(6)).toString(), "secure");
    const { transport } = await accepted.first();
    assert.equal(transport.encrypted, true);
    assert.match(transport.description, /^wss from /);
  });

  it("wss with the client certificate: visible as peerCertificate on the server", async () => {
    const { server, accepted } = await wsServer({
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: true },
    });
    await connect({
      url: `wss://localhost:${server.port}${PATH}`,
      ca: certs.ca,
      cert: certs.clientCert,
      key: certs.clientKey,
    });
    const { transport } = await accepted.first();
    assert.equal(transport.peerCertificate?.fingerprint256, certs.clientFingerprint256);
  });

  it("wss with a wrong hostname fails with AMQP_TLS", async () => {
    const { server } = await wsServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    const error = await rejection(
      connectWebSocket({
        url: `wss://127.0.0.1:${server.port}${PATH}`,
        servername: "wrong.example",
        ca: certs.ca,
        timeoutMs: 5000,
      }),
      "wss with a wrong servername",
    );
    assert.ok(error instanceof TlsError, String(error));
    assert.equal(error.retryable, false);
  });

  it("through an HTTP CONNECT proxy with Basic auth (ws://)", async () => {
    const { server } = await wsServer();
    const p = await proxy(PROXY_USER);
    const t = await connect({
      url: `ws://127.0.0.1:${server.port}${PATH}`,
      proxy: { host: "127.0.0.1", port: p.port, ...PROXY_USER },
    });
    assert.ok(t.description.endsWith(`via proxy 127.0.0.1:${p.port}`));
    assert.ok(!t.description.includes(PROXY_USER.password));
    const r = record(t);
    t.write(Buffer.from("tunnelled"));
    assert.equal((await r.waitBytes(9)).toString(), "tunnelled");
    assert.deepEqual(p.targets, [`127.0.0.1:${server.port}`]);
    assert.equal(
      p.authorizations[0],
      `Basic ${Buffer.from(`${PROXY_USER.username}:${PROXY_USER.password}`).toString("base64")}`,
    );
  });

  it("through an HTTP CONNECT proxy to wss://, hostname verified against the target", async () => {
    const { server } = await wsServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    const p = await proxy(PROXY_USER);
    const t = await connect({
      url: `wss://localhost:${server.port}${PATH}`,
      ca: certs.ca,
      proxy: { host: "127.0.0.1", port: p.port, ...PROXY_USER },
    });
    assert.equal(t.encrypted, true);
    const r = record(t);
    t.write(Buffer.from("secure tunnel"));
    assert.equal((await r.waitBytes(13)).toString(), "secure tunnel");
    assert.deepEqual(p.targets, [`localhost:${server.port}`]);
  });

  it("through a proxy, the TLS hostname is still verified (wrong servername fails with AMQP_TLS)", async () => {
    const { server } = await wsServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    const p = await proxy();
    const error = await rejection(
      connectWebSocket({
        url: `wss://127.0.0.1:${server.port}${PATH}`,
        servername: "wrong.example",
        ca: certs.ca,
        proxy: { host: "127.0.0.1", port: p.port },
        timeoutMs: 5000,
      }),
      "tunnelled wss with a wrong servername",
    );
    assert.ok(error instanceof TlsError, String(error));
    assert.equal(p.targets.length, 1, "the tunnel was opened");
  });

  it("wrong proxy credentials: ProxyError 407 with the status line, no password in the message", async () => {
    const { server } = await wsServer();
    const p = await proxy(PROXY_USER);
    const error = await rejection(
      connectWebSocket({
        url: `ws://127.0.0.1:${server.port}${PATH}`,
        proxy: { host: "127.0.0.1", port: p.port, username: PROXY_USER.username, password: "wrong-pass" },
        timeoutMs: 5000,
      }),
      "proxy with wrong credentials",
    );
    assert.ok(error instanceof ProxyError, String(error));
    assert.equal(error.code, "AMQP_PROXY");
    assert.equal(error.statusCode, 407);
    assert.equal(error.retryable, false);
    assert.match(error.message, /HTTP\/1\.1 407 Proxy Authentication Required/);
    assert.ok(!error.message.includes("wrong-pass"));
    assert.ok(!error.message.includes(Buffer.from(`${PROXY_USER.username}:wrong-pass`).toString("base64")));
    assert.ok(!String(error.stack).includes("wrong-pass"));
  });

  it("no proxy credentials when the proxy wants some: 407", async () => {
    const { server } = await wsServer();
    const p = await proxy(PROXY_USER);
    const error = await rejection(
      connectWebSocket({
        url: `ws://127.0.0.1:${server.port}${PATH}`,
        proxy: { host: "127.0.0.1", port: p.port },
        timeoutMs: 5000,
      }),
      "proxy without credentials",
    );
    assert.ok(error instanceof ProxyError);
    assert.equal(error.statusCode, 407);
    assert.equal(p.authorizations[0], undefined, "no Proxy-Authorization header without credentials");
  });

  it("a proxy that cannot reach the target answers 502: retryable ProxyError", async () => {
    const p = await proxy();
    const s = await stalledServer();
    await s.close(); // nothing listens on s.port any more
    const error = await rejection(
      connectHttpProxy({
        proxy: { host: "127.0.0.1", port: p.port },
        host: "127.0.0.1",
        port: s.port,
        timeoutMs: 5000,
      }),
      "proxy to a dead target",
    );
    assert.ok(error instanceof ProxyError, String(error));
    assert.equal(error.statusCode, 502);
    assert.equal(error.retryable, true);
  });

  it("an unreachable proxy: retryable ProxyError with the system code", async () => {
    const s = await stalledServer();
    await s.close();
    const error = await rejection(
      connectWebSocket({
        url: "ws://127.0.0.1:1/x",
        proxy: { host: "127.0.0.1", port: s.port, ...PROXY_USER },
        timeoutMs: 5000,
      }),
      "dead proxy",
    );
    assert.ok(error instanceof ProxyError, String(error));
    assert.equal(error.systemCode, "ECONNREFUSED");
    assert.equal(error.retryable, true);
    assert.ok(!error.message.includes(PROXY_USER.password));
  });

  it("timeoutMs bounds the opening handshake: ConnectTimeoutError", async () => {
    const s = await stalledServer();
    cleanup.push(() => s.close());
    const error = await rejection(
      connectWebSocket({ url: `ws://127.0.0.1:${s.port}${PATH}`, timeoutMs: 150 }),
      "handshake timeout",
    );
    assert.ok(error instanceof ConnectTimeoutError, String(error));
    assert.equal(error.retryable, true);
    await s.waitPeerClosed();
  });

  it("an AbortSignal cancels the connection through a stalled proxy", async () => {
    const s = await stalledServer(); // plays a proxy that never answers CONNECT
    cleanup.push(() => s.close());
    const controller = new AbortController();
    const pending = connectWebSocket({
      url: `ws://127.0.0.1:1${PATH}`,
      proxy: { host: "127.0.0.1", port: s.port },
      signal: controller.signal,
    });
    await s.waitAccepted();
    controller.abort();
    const error = await rejection(pending, "aborted proxy connect");
    assert.ok(error instanceof AMQPAbortError, String(error));
    await s.waitPeerClosed();
  });

  it("rejects URLs that are not ws:// or wss://", async () => {
    await assert.rejects(connectWebSocket({ url: "http://localhost/" }), TypeError);
    await assert.rejects(connectWebSocket({ url: "not a url" }), TypeError);
  });
});
