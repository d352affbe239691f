import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import rhea from "rhea";
import WebSocket from "ws";
import { Broker, BrokerError, type BrokerEvent } from "../../src/broker/index.js";
import { getTestCertificates, type TestCertificates } from "../support/certs.js";
import {
  close,
  collect,
  connect,
  openReceiver,
  openSender,
  sendAll,
  until,
  waitEvent,
} from "./rhea-client.js";

/** Connects with rhea from explicit options; resolves on open, rejects on failure. */
async function rawConnect(options: Record<string, unknown>): Promise<rhea.Connection> {
  const container = rhea.create_container();
  container.on("error", () => undefined);
  const c = container.connect({ reconnect: false, ...options } as rhea.ConnectionOptions);
  c.on("error", () => undefined);
  await waitEvent(c, "connection_open", ["connection_error", "disconnected"]);
  return c;
}

describe("broker: SASL, TLS and WebSocket", () => {
  const brokers: Broker[] = [];
  const conns: rhea.Connection[] = [];
  let certs: TestCertificates;
  before(async () => {
    certs = await getTestCertificates();
  });
  after(async () => {
    for (const c of conns) await close(c);
    for (const b of brokers) await b.close();
  });
  const start = async (options?: Parameters<typeof Broker.start>[0]): Promise<Broker> => {
    const b = await Broker.start(options);
    brokers.push(b);
    return b;
  };

  it("authenticates PLAIN users from the options and refuses wrong passwords", async () => {
    const b = await start({ sasl: { users: { guest: "guest" } } });
    const identities: (string | undefined)[] = [];
    b.observe((e: BrokerEvent) => {
      if (e.type === "connection-open") identities.push(e.identity);
    });
    const ok = await connect(b.port!, { username: "guest", password: "guest" });
    conns.push(ok);
    assert.deepEqual(identities, ["guest"]);
    await assert.rejects(connect(b.port!, { username: "guest", password: "wrong" }));
    await assert.rejects(connect(b.port!, { username: "nobody", password: "guest" }));
  });

  it("accepts ANONYMOUS and clients without SASL by default, and refuses them when only PLAIN is offered", async () => {
    const open = await start();
    conns.push(await connect(open.port!, { username: "anyone" }));
    conns.push(await connect(open.port!));
    const strict = await start({ sasl: { mechanisms: ["PLAIN"], users: { u: "p" } } });
    await assert.rejects(connect(strict.port!));
    await assert.rejects(connect(strict.port!, { username: "anyone" }));
    conns.push(await connect(strict.port!, { username: "u", password: "p" }));
  });

  it("serves amqps with the given certificate", async () => {
    const b = await start({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    assert.ok(b.tlsPort !== undefined && b.tlsPort > 0);
    assert.equal(b.tlsUrl, `amqps://127.0.0.1:${b.tlsPort}`);
    const c = await rawConnect({
      transport: "tls",
      host: "localhost",
      port: b.tlsPort,
      ca: certs.ca,
      servername: "localhost",
      username: "u",
      password: "p",
    });
    conns.push(c);
    const r = await openReceiver(c, "secure");
    const got = collect(r, 1);
    await sendAll(await openSender(c, "secure"), [{ body: "over tls" }]);
    assert.equal((await got)[0]!.message?.body, "over tls");
  });

  it("port: null opens no plain listener: TLS clients connect, plain AMQP does not, also after restart", async () => {
    const b = await start({ port: null, tls: { cert: certs.serverCert, key: certs.serverKey } });
    const tlsOnly = async (): Promise<void> => {
      assert.equal(b.port, undefined);
      assert.equal(b.url, undefined);
      assert.ok(b.tlsPort !== undefined && b.tlsPort > 0);
      const c = await rawConnect({
        transport: "tls",
        host: "localhost",
        port: b.tlsPort,
        ca: certs.ca,
        servername: "localhost",
        username: "u",
        password: "p",
      });
      conns.push(c);
      const r = await openReceiver(c, "tls-only");
      const got = collect(r, 1);
      await sendAll(await openSender(c, "tls-only"), [{ body: "tls only" }]);
      assert.equal((await got)[0]!.message?.body, "tls only");
      // The only port the broker opened speaks TLS: plain AMQP on it gets no OPEN.
      await assert.rejects(rawConnect({ host: "127.0.0.1", port: b.tlsPort, idle_time_out: 2000 }));
    };
    await tlsOnly();
    const tlsPort = b.tlsPort;
    await b.stop();
    await b.restart();
    assert.equal(b.tlsPort, tlsPort);
    await tlsOnly();
  });

  it("port: null without tls or webSocket is a BrokerError (nothing could connect)", async () => {
    await assert.rejects(Broker.start({ port: null }), (e: unknown) => {
      assert.ok(e instanceof BrokerError, String(e));
      assert.match(e.message, /port: null .*tls or webSocket/);
      return true;
    });
    const wsOnly = await start({ port: null, webSocket: {} });
    assert.equal(wsOnly.url, undefined);
    assert.match(wsOnly.wsUrl ?? "", /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it("authenticates SASL EXTERNAL with a TLS client certificate when requestCert is set", async () => {
    const b = await start({
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: true },
    });
    const identities: (string | undefined)[] = [];
    b.observe((e: BrokerEvent) => {
      if (e.type === "connection-open") identities.push(e.identity);
    });
    const c = await rawConnect({
      transport: "tls",
      host: "localhost",
      port: b.tlsPort,
      ca: certs.ca,
      servername: "localhost",
      cert: certs.clientCert,
      key: certs.clientKey,
      enable_sasl_external: true,
    });
    conns.push(c);
    assert.deepEqual(identities, [certs.clientCommonName]);
    // EXTERNAL is not offered on the plain TCP listener.
    await assert.rejects(rawConnect({ host: "127.0.0.1", port: b.port, sasl_mechanisms: { EXTERNAL: {} } }));
  });

  it("serves AMQP over WebSocket on the configured path", async () => {
    const b = await start({ webSocket: { path: "/$servicebus/websocket/" } });
    assert.equal(b.wsUrl, `ws://127.0.0.1:${b.wsPort}/$servicebus/websocket/`);
    const wsConnect = rhea.websocket_connect(WebSocket);
    const c = await rawConnect({ connection_details: wsConnect(b.wsUrl, ["AMQPWSB10"], {}) });
    conns.push(c);
    const r = await openReceiver(c, "over-ws");
    const got = collect(r, 2);
    await sendAll(await openSender(c, "over-ws"), [{ body: 1 }, { body: 2 }]);
    assert.equal((await got).length, 2);
    await until(() => b.connectionCount === 1, "the connection count");
  });
});
