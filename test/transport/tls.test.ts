import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import type { TlsOptions } from "node:tls";
import { afterEach, before, describe, it } from "node:test";
import {
  ConnectTimeoutError,
  connectTls,
  listenTls,
  TlsError,
  type Transport,
  type TransportServer,
} from "../../src/transport/index.js";
import { AMQPAbortError } from "../../src/errors/index.js";
import { getTestCertificates, type TestCertificates } from "../support/certs.js";
import { Accepted, pattern, record, rejection, within } from "./helpers.js";
import { stalledServer } from "./stalled-server.js";

let certs: TestCertificates;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function tlsServer(
  options: { requestCert?: boolean; tlsOptions?: TlsOptions } = {},
): Promise<{ server: TransportServer; accepted: Accepted }> {
  const accepted = new Accepted();
  const server = await listenTls(
    { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, ...options },
    accepted.onTransport,
  );
  cleanup.push(() => server.close());
  return { server, accepted };
}

function keep(t: Transport): Transport {
  cleanup.push(() => t.destroy());
  return t;
}

describe("TLS transport", { timeout: 60_000 }, () => {
  before(async () => {
    certs = await within(getTestCertificates(), "test certificates", 60_000);
  });

  it("connects with the right CA: encrypted, round trip, server certificate checked for localhost", async () => {
    const { server, accepted } = await tlsServer();
    const t = keep(
      await within(
        connectTls({ host: "localhost", port: server.port, ca: certs.ca, timeoutMs: 5000 }),
        "connect",
      ),
    );
    assert.equal(t.encrypted, true);
    assert.equal(t.description, `tls localhost:${server.port}`);
    assert.ok(t.peerCertificate !== undefined, "the verified server certificate is visible");
    assert.equal(t.peerCertificate.subject?.["CN"], "localhost");
    const r = record(t);
    const payload = pattern(200_000, 3);
    t.write(payload);
    assert.ok((await r.waitBytes(payload.length)).equals(payload));
    const { transport } = await accepted.first();
    assert.equal(transport.encrypted, true);
    assert.equal(transport.peerCertificate, undefined, "no client certificate was requested");
  });

  it("connects to an IP literal whose address is in the certificate (no SNI)", async () => {
    const { server } = await tlsServer();
    const t = keep(
      await within(
        connectTls({ host: "127.0.0.1", port: server.port, ca: certs.ca, timeoutMs: 5000 }),
        "connect",
      ),
    );
    assert.equal(t.encrypted, true);
  });

  it("wrong hostname (servername wrong.example) fails with AMQP_TLS, not retryable", async () => {
    const { server } = await tlsServer();
    const error = await rejection(
      connectTls({
        host: "127.0.0.1",
        port: server.port,
        servername: "wrong.example",
        ca: certs.ca,
        timeoutMs: 5000,
      }),
      "connect with a wrong servername",
    );
    assert.ok(error instanceof TlsError, String(error));
    assert.equal(error.code, "AMQP_TLS");
    assert.equal(error.retryable, false);
    assert.equal(error.systemCode, "ERR_TLS_CERT_ALTNAME_INVALID");
  });

  it("an untrusted CA fails verification with AMQP_TLS", async () => {
    const { server } = await tlsServer();
    const error = await rejection(
      connectTls({ host: "localhost", port: server.port, ca: certs.otherCa, timeoutMs: 5000 }),
      "connect with an unrelated CA",
    );
    assert.ok(error instanceof TlsError, String(error));
    assert.equal(error.retryable, false);
  });

  it("rejectUnauthorized: false connects despite an untrusted CA, without a verified peer certificate", async () => {
    const { server } = await tlsServer();
    const t = keep(
      await within(
        connectTls({ host: "localhost", port: server.port, rejectUnauthorized: false, timeoutMs: 5000 }),
        "connect without verification",
      ),
    );
    assert.equal(t.encrypted, true);
    assert.equal(t.peerCertificate, undefined);
  });

  it("the client certificate is visible as peerCertificate on the accepting side", async () => {
    const { server, accepted } = await tlsServer({ requestCert: true });
    const t = keep(
      await within(
        connectTls({
          host: "localhost",
          port: server.port,
          ca: certs.ca,
          cert: certs.clientCert,
          key: certs.clientKey,
          timeoutMs: 5000,
        }),
        "connect with a client certificate",
      ),
    );
    record(t);
    const { transport } = await accepted.first();
    const cert = transport.peerCertificate;
    assert.ok(cert?.subject !== undefined, "the server sees the verified client certificate");
    assert.equal(cert.subject["CN"], certs.clientCommonName);
    assert.equal(cert.subject["O"], "uamqp tests");
    assert.equal(cert.fingerprint256, certs.clientFingerprint256);
  });

  it("a server requiring a client certificate refuses a client without one", async () => {
    const { server, accepted } = await tlsServer({ requestCert: true });
    // With TLS 1.3 the client may complete its side of the handshake before the server's alert.
    const outcome = await within(
      connectTls({ host: "localhost", port: server.port, ca: certs.ca, timeoutMs: 5000 }).then(
        async (t) => {
          keep(t);
          return record(t).waitClosed();
        },
        (error: unknown) => error,
      ),
      "the refusal",
    );
    assert.ok(outcome instanceof Error, "the connection fails");
    assert.equal(accepted.transports.length, 0, "no transport is handed to the server");
  });

  it("a client that never sends its ClientHello is dropped after tlsOptions.handshakeTimeout", async () => {
    const { server, accepted } = await tlsServer({ tlsOptions: { handshakeTimeout: 200 } });
    const started = performance.now();
    const silent = netConnect({ host: "127.0.0.1", port: server.port });
    cleanup.push(() => {
      silent.destroy();
    });
    silent.on("error", () => undefined);
    silent.resume();
    await within(new Promise((resolve) => silent.once("close", resolve)), "the silent socket to be dropped");
    const ms = performance.now() - started;
    assert.ok(ms >= 180, `dropped after ${ms.toFixed(0)} ms, not before the time-out`);
    assert.equal(accepted.transports.length, 0);
  });

  describe("against a server that never completes the handshake", () => {
    it("timeoutMs rejects with ConnectTimeoutError (retryable) and closes the socket", async () => {
      const s = await stalledServer();
      cleanup.push(() => s.close());
      const error = await rejection(
        connectTls({ host: "localhost", port: s.port, ca: certs.ca, timeoutMs: 150 }),
        "handshake timeout",
      );
      assert.ok(error instanceof ConnectTimeoutError, String(error));
      assert.equal(error.code, "AMQP_CONNECT_TIMEOUT");
      assert.equal(error.retryable, true);
      assert.match(error.message, /timed out after 150 ms/);
      await s.waitPeerClosed();
    });

    it("an AbortSignal cancels the handshake with AMQPAbortError and closes the socket", async () => {
      const s = await stalledServer();
      cleanup.push(() => s.close());
      const controller = new AbortController();
      const pending = connectTls({
        host: "localhost",
        port: s.port,
        ca: certs.ca,
        signal: controller.signal,
      });
      await s.waitAccepted();
      controller.abort();
      const error = await rejection(pending, "aborted handshake");
      assert.ok(error instanceof AMQPAbortError, String(error));
      assert.equal(error.code, "AMQP_ABORTED");
      await s.waitPeerClosed();
    });
  });
});
