/**
 * Azure's transport defaults: `AmqpOverWebsocket` without a port means
 * `wss://host:443/$servicebus/websocket/` with subprotocol `AMQPWSB10`; an HTTP proxy (even with
 * type `Amqp`) means `CONNECT host:443` (Basic auth when credentials are given), then WebSocket.
 *
 * Nothing listens on 443 here, so every connection goes through a capturing proxy on 127.0.0.1
 * that records the CONNECT request and the bytes sent into the tunnel, and relays them to a local
 * WebSocket server (which records the upgrade request and the TLS server name) or to the broker.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { after, afterEach, before, describe, it } from "node:test";
import { WebSocketServer } from "ws";
import { SASLAnonymous, SASLPlain, TransportType, type TransportOptions } from "../../src/auth/amqp-auth.js";
import { Broker } from "../../src/broker/index.js";
import { SendClient } from "../../src/client/send-client.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { getTestCertificates, type TestCertificates } from "../support/certs.js";
import { record, within } from "./helpers.js";

const HOST = "myns.example.net";
const PATH = "/$servicebus/websocket/";
const PROXY_USER = "azure-user";
const PROXY_PASSWORD = "p@ss:w0rd";
/** base64("azure-user:p@ss:w0rd") */
const PROXY_AUTHORIZATION = "Basic YXp1cmUtdXNlcjpwQHNzOncwcmQ=";

let certs: TestCertificates;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** What the capturing proxy saw of one CONNECT. */
interface Tunnel {
  readonly method: string | undefined;
  readonly target: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** The first bytes the client sent into the tunnel (up to 64 KiB). */
  sent: Buffer;
}

interface CapturingProxy {
  readonly port: number;
  readonly tunnels: Tunnel[];
  /** Where every tunnel leads, whatever its CONNECT target (a port on 127.0.0.1). */
  upstreamPort: number;
}

/** Tracks the sockets of a server so that closing it cannot hang on an open connection. */
function closeable(server: Server): void {
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  };
  server.on("connection", track);
  server.on("secureConnection", track);
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

async function listen(server: Server): Promise<number> {
  closeable(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** An HTTP CONNECT proxy that records each request and relays the tunnel to `upstreamPort`. */
async function capturingProxy(): Promise<CapturingProxy> {
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  const proxy = { port: 0, tunnels: [] as Tunnel[], upstreamPort: 0 };
  const relays = new Set<Socket>();
  cleanup.push(() => {
    for (const s of relays) s.destroy();
  });
  server.on("connect", (req, client: Socket, head: Buffer) => {
    const tunnel: Tunnel = { method: req.method, target: req.url, headers: req.headers, sent: head };
    proxy.tunnels.push(tunnel);
    client.on("error", () => undefined);
    const upstream = connect({ host: "127.0.0.1", port: proxy.upstreamPort });
    relays.add(client).add(upstream);
    upstream.on("error", () => client.destroy());
    upstream.once("connect", () => {
      client.on("data", (chunk: Buffer) => {
        if (tunnel.sent.length < 65536) tunnel.sent = Buffer.concat([tunnel.sent, chunk]);
      });
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  proxy.port = await listen(server);
  return proxy;
}

/** What the WebSocket server saw of one upgrade request. */
interface Upgrade {
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** The TLS server name (SNI) the client sent; undefined over plain HTTP. */
  readonly servername: string | undefined;
}

/** A WebSocket echo server (wss with the test certificate when `tls`) that accepts only AMQPWSB10. */
async function wsServer(tls: boolean): Promise<{ port: number; upgrades: Upgrade[] }> {
  const server: Server = tls
    ? createHttpsServer({ cert: certs.serverCert, key: certs.serverKey })
    : createHttpServer();
  const upgrades: Upgrade[] = [];
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: false,
    handleProtocols: (offered) => (offered.has("AMQPWSB10") ? "AMQPWSB10" : false),
  });
  wss.on("connection", (ws, req) => {
    const socket = req.socket as Partial<TLSSocket>;
    const sni = socket.servername;
    upgrades.push({
      url: req.url,
      headers: req.headers,
      servername: typeof sni === "string" ? sni : undefined,
    });
    ws.on("message", (data: Buffer) => ws.send(data));
  });
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  return { port: await listen(server), upgrades };
}

/** TLS for a server certificate made for localhost, reached under the name `HOST`: chain checked. */
function trustTestCa(): Pick<TransportOptions, "ca" | "tlsOptions"> {
  return { ca: certs.ca, tlsOptions: { checkServerIdentity: () => undefined } };
}

/** The host name of the SNI extension of a TLS ClientHello record, if any. */
function clientHelloSni(bytes: Buffer): string | undefined {
  // record(5) handshake type(1) length(3) version(2) random(32)
  let p = 5 + 4 + 2 + 32;
  p += 1 + bytes[p]!; // session id
  p += 2 + bytes.readUInt16BE(p); // cipher suites
  p += 1 + bytes[p]!; // compression methods
  const end = p + 2 + bytes.readUInt16BE(p);
  p += 2;
  while (p + 4 <= end) {
    const type = bytes.readUInt16BE(p);
    const length = bytes.readUInt16BE(p + 2);
    if (type === 0) {
      // server_name_list(2) name_type(1) name_length(2) name
      const nameLength = bytes.readUInt16BE(p + 4 + 3);
      return bytes.subarray(p + 4 + 5, p + 4 + 5 + nameLength).toString("latin1");
    }
    p += 4 + length;
  }
  return undefined;
}

/** Opens the auth's transport, checks an echo round trip through it, and closes it. */
async function connectAndEcho(auth: SASLAnonymous | SASLPlain): Promise<{ encrypted: boolean }> {
  const transport = await within(auth.connect(), "auth.connect()");
  cleanup.push(() => transport.destroy());
  const recorder = record(transport);
  transport.write(Buffer.from("AMQP\x00\x01\x00\x00", "latin1"));
  const echoed = await recorder.waitBytes(8, "the echo through the tunnel");
  assert.equal(echoed.toString("latin1"), "AMQP\x00\x01\x00\x00");
  return { encrypted: transport.encrypted };
}

describe("Azure transport defaults: WebSocket on 443, HTTP CONNECT proxy", { timeout: 60_000 }, () => {
  before(async () => {
    certs = await within(getTestCertificates(), "test certificates", 60_000);
  });

  it("AmqpOverWebsocket without a port is wss on 443; Amqp is TLS on 5671; a proxy forces WebSocket on 443", () => {
    const ws = new SASLAnonymous(HOST, { type: TransportType.AmqpOverWebsocket });
    assert.equal(ws.webSocket, true);
    assert.equal(ws.tls, true);
    assert.equal(ws.port, 443);
    const amqp = new SASLAnonymous(HOST, { type: TransportType.Amqp });
    assert.equal(amqp.webSocket, false);
    assert.equal(amqp.port, 5671);
    const proxied = new SASLAnonymous(HOST, {
      type: TransportType.Amqp,
      proxy: { host: "127.0.0.1", port: 3128 },
    });
    assert.equal(proxied.webSocket, true);
    assert.equal(proxied.tls, true);
    assert.equal(proxied.port, 443);
  });

  it("AmqpOverWebsocket through a proxy: CONNECT host:443 with Basic auth, TLS with SNI host, GET /$servicebus/websocket/ offering AMQPWSB10", async () => {
    const proxy = await capturingProxy();
    const server = await wsServer(true);
    proxy.upstreamPort = server.port;
    const auth = new SASLAnonymous(HOST, {
      type: TransportType.AmqpOverWebsocket,
      proxy: { host: "127.0.0.1", port: proxy.port, username: PROXY_USER, password: PROXY_PASSWORD },
      ...trustTestCa(),
    });
    const { encrypted } = await connectAndEcho(auth);
    assert.equal(encrypted, true);

    assert.equal(proxy.tunnels.length, 1);
    const tunnel = proxy.tunnels[0]!;
    assert.equal(tunnel.method, "CONNECT");
    assert.equal(tunnel.target, "myns.example.net:443");
    assert.equal(tunnel.headers.host, "myns.example.net:443");
    assert.equal(tunnel.headers["proxy-authorization"], PROXY_AUTHORIZATION);
    // TLS from the first byte of the tunnel: a handshake record holding a ClientHello for HOST.
    assert.equal(tunnel.sent[0], 0x16, "TLS handshake record");
    assert.equal(tunnel.sent[5], 0x01, "ClientHello");
    assert.equal(clientHelloSni(tunnel.sent), HOST);

    assert.equal(server.upgrades.length, 1);
    const upgrade = server.upgrades[0]!;
    assert.equal(upgrade.servername, HOST);
    assert.equal(upgrade.url, PATH);
    assert.equal(upgrade.headers["sec-websocket-protocol"], "AMQPWSB10");
    assert.equal(upgrade.headers.host, HOST);
  });

  it("type Amqp with a proxy still tunnels to host:443 and speaks wss", async () => {
    const proxy = await capturingProxy();
    const server = await wsServer(true);
    proxy.upstreamPort = server.port;
    const auth = new SASLPlain(HOST, "sas-key-name", "sas-key", {
      type: TransportType.Amqp,
      proxy: { host: "127.0.0.1", port: proxy.port, username: PROXY_USER, password: PROXY_PASSWORD },
      ...trustTestCa(),
    });
    const { encrypted } = await connectAndEcho(auth);
    assert.equal(encrypted, true);

    assert.deepEqual(
      proxy.tunnels.map((t) => [t.method, t.target, t.headers["proxy-authorization"]]),
      [["CONNECT", "myns.example.net:443", PROXY_AUTHORIZATION]],
    );
    assert.equal(clientHelloSni(proxy.tunnels[0]!.sent), HOST);
    assert.deepEqual(
      server.upgrades.map((u) => [u.servername, u.url, u.headers["sec-websocket-protocol"]]),
      [[HOST, PATH, "AMQPWSB10"]],
    );
  });

  it("without TLS and without proxy credentials: CONNECT host:80, no Proxy-Authorization, then the plain upgrade request", async () => {
    const proxy = await capturingProxy();
    const server = await wsServer(false);
    proxy.upstreamPort = server.port;
    const auth = new SASLAnonymous(HOST, {
      type: TransportType.AmqpOverWebsocket,
      tls: false,
      proxy: { host: "127.0.0.1", port: proxy.port },
    });
    const { encrypted } = await connectAndEcho(auth);
    assert.equal(encrypted, false);

    assert.equal(proxy.tunnels.length, 1);
    const tunnel = proxy.tunnels[0]!;
    assert.equal(tunnel.target, "myns.example.net:80");
    assert.equal(tunnel.headers["proxy-authorization"], undefined);
    const end = tunnel.sent.indexOf("\r\n\r\n");
    assert.ok(end > 0, "the upgrade request went through the tunnel");
    const [requestLine, ...headerLines] = tunnel.sent.subarray(0, end).toString("latin1").split("\r\n");
    assert.equal(requestLine, "GET /$servicebus/websocket/ HTTP/1.1");
    const headers = new Map(
      headerLines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    assert.equal(headers.get("sec-websocket-protocol"), "AMQPWSB10");
    assert.equal(headers.get("upgrade"), "websocket");
    assert.equal(headers.get("host"), HOST);
  });

  describe("SendClient over wss through the proxy, to the embedded broker", () => {
    let broker: Broker;
    before(async () => {
      broker = await Broker.start({
        tls: { cert: certs.serverCert, key: certs.serverKey },
        webSocket: { tls: true, path: PATH },
      });
    });
    after(async () => {
      await broker.close();
    });

    /** Sends one message to `address` on HOST (amqps://, no port); the proxy relays to the broker. */
    async function sendThroughProxy(
      address: string,
      options: ConstructorParameters<typeof SendClient>[1],
    ): Promise<void> {
      const client = new SendClient(`amqps://${HOST}/${address}`, {
        reconnect: false,
        openTimeout: 10_000,
        ...options,
      });
      cleanup.push(() => client.close());
      client.queueMessage(new Message({ body: "over wss" }));
      assert.deepEqual(await within(client.sendAllMessages(), "sendAllMessages"), [
        MessageState.SendComplete,
      ]);
      assert.equal(broker.stats(address).messageCount, 1);
    }

    async function proxyToBroker(): Promise<CapturingProxy> {
      const proxy = await capturingProxy();
      assert.ok(broker.wsPort !== undefined);
      proxy.upstreamPort = broker.wsPort;
      return proxy;
    }

    it("with an auth of type AmqpOverWebsocket and no port: CONNECT host:443, SNI host, the message arrives", async () => {
      const proxy = await proxyToBroker();
      await sendThroughProxy("azure-auth-q", {
        auth: new SASLAnonymous(HOST, {
          type: TransportType.AmqpOverWebsocket,
          proxy: { host: "127.0.0.1", port: proxy.port, username: PROXY_USER, password: PROXY_PASSWORD },
          ...trustTestCa(),
        }),
      });
      assert.deepEqual(
        proxy.tunnels.map((t) => [t.target, t.headers["proxy-authorization"], clientHelloSni(t.sent)]),
        [["myns.example.net:443", PROXY_AUTHORIZATION, HOST]],
      );
    });

    it("with transport options {type: AmqpOverWebsocket, proxy} on an amqps:// URL without a port: CONNECT host:443", async () => {
      const proxy = await proxyToBroker();
      await sendThroughProxy("azure-transport-q", {
        transport: {
          type: TransportType.AmqpOverWebsocket,
          proxy: { host: "127.0.0.1", port: proxy.port },
          ...trustTestCa(),
        },
      });
      assert.deepEqual(
        proxy.tunnels.map((t) => [t.target, clientHelloSni(t.sent)]),
        [["myns.example.net:443", HOST]],
      );
    });
  });
});
