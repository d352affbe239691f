/**
 * The engine over every transport: TLS with a generated certificate (right CA connects, wrong host
 * name fails typed), WebSocket, and WebSocket through an HTTP CONNECT proxy — each a round trip.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { SASLAnonymous, SASLExternal, TransportType } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { AMQPError } from "../../src/errors/amqp-error.js";
import { Message } from "../../src/message/message.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { listenTls } from "../../src/transport/tls.js";
import { listenWebSocket } from "../../src/transport/websocket-server.js";
import { getTestCertificates } from "../support/certs.js";
import { startEngineServer, type EngineServer } from "../support/engine-server.js";
import { until } from "../support/waits.js";
import { startConnectProxy, type TestProxy } from "../transport/proxy-server.js";

async function roundTrip(conn: Connection, address: string): Promise<string[]> {
  const session = conn.createSession();
  const sender = new MessageSender(session, "me", address);
  await sender.open();
  for (let i = 0; i < 20; i++) {
    const o = await sender.send(new Message({ body: `m${i}` }));
    assert.equal(o.result, MessageSendResult.Ok);
  }
  const got: string[] = [];
  const receiver = new MessageReceiver(session, address, "me", {
    onMessageReceived: (m) => {
      got.push(Buffer.from(m.data![0]!).toString());
      void m.accept();
    },
  });
  await receiver.open();
  await until(() => got.length >= 20, "20 messages");
  return got;
}

const expected = Array.from({ length: 20 }, (_, i) => `m${i}`);

describe("engine over TLS, WebSocket and a proxy", () => {
  const servers: EngineServer[] = [];
  const proxies: TestProxy[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    for (const p of proxies) await p.close();
  });

  it("TLS: the right CA connects and round-trips; a wrong host name fails with AMQP_TLS", async () => {
    const certs = await getTestCertificates();
    const server = await startEngineServer({}, (on) =>
      listenTls({ host: "127.0.0.1", port: 0, cert: certs.serverCert, key: certs.serverKey }, on),
    );
    servers.push(server);
    const ok = new Connection(
      "localhost",
      new SASLAnonymous("localhost", { port: server.port, ca: certs.ca }),
    );
    assert.deepEqual(await roundTrip(ok, "tls-q"), expected);
    assert.equal(ok.engine.transport?.encrypted, true);
    await ok.close();

    const bad = new Connection(
      "wrong.example",
      new SASLAnonymous("wrong.example", {
        port: server.port,
        ca: certs.ca,
        customEndpointHostname: "127.0.0.1",
      }),
    );
    const err = await bad.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AMQPError);
    assert.equal(err.code, "AMQP_TLS");
    assert.equal(err.retryable, false);
  });

  it("SASL EXTERNAL: the TLS client certificate authenticates; without one the connection is refused", async () => {
    const certs = await getTestCertificates();
    const server = await startEngineServer({ saslServer: { mechanisms: ["EXTERNAL"] } }, (on) =>
      listenTls(
        {
          host: "127.0.0.1",
          port: 0,
          cert: certs.serverCert,
          key: certs.serverKey,
          ca: certs.ca,
          requestCert: true,
          rejectUnauthorized: false,
        },
        on,
      ),
    );
    servers.push(server);
    const ok = new Connection(
      "localhost",
      new SASLExternal("localhost", {
        port: server.port,
        ca: certs.ca,
        cert: certs.clientCert,
        key: certs.clientKey,
      }),
    );
    assert.deepEqual(await roundTrip(ok, "external-q"), expected);
    assert.equal(server.connections.at(-1)?.saslIdentity, certs.clientCommonName);
    await ok.close();
    const noCert = new Connection(
      "localhost",
      new SASLExternal("localhost", { port: server.port, ca: certs.ca }),
    );
    const err = await noCert.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AMQPError);
    assert.equal(err.code, "AMQP_AUTHENTICATION");
  });

  it("WebSocket (subprotocol AMQPWSB10, Azure path) round trip", async () => {
    const server = await startEngineServer({}, (on) =>
      listenWebSocket({ host: "127.0.0.1", port: 0, path: "/$servicebus/websocket/" }, on),
    );
    servers.push(server);
    const conn = new Connection(
      "localhost",
      new SASLAnonymous("localhost", {
        type: TransportType.AmqpOverWebsocket,
        tls: false,
        port: server.port,
      }),
    );
    assert.deepEqual(await roundTrip(conn, "ws-q"), expected);
    await conn.close();
  });

  it("WebSocket over TLS through an HTTP CONNECT proxy with Basic auth round trip", async () => {
    const certs = await getTestCertificates();
    const server = await startEngineServer({}, (on) =>
      listenWebSocket(
        {
          host: "127.0.0.1",
          port: 0,
          path: "/$servicebus/websocket/",
          tls: { cert: certs.serverCert, key: certs.serverKey },
        },
        on,
      ),
    );
    servers.push(server);
    const proxy = await startConnectProxy({ username: "pu", password: "pp" });
    proxies.push(proxy);
    const conn = new Connection(
      "localhost",
      new SASLAnonymous("localhost", {
        port: server.port,
        ca: certs.ca,
        proxy: { host: "127.0.0.1", port: proxy.port, username: "pu", password: "pp" },
      }),
    );
    assert.deepEqual(await roundTrip(conn, "proxy-q"), expected);
    assert.deepEqual(proxy.targets, [`localhost:${server.port}`]);
    await conn.close();
  });
});
