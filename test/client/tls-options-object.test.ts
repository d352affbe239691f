/**
 * `transport.tls` as `tls.connect` options (an escape hatch to every TLS setting): turns TLS on, and its fields
 * (ca, servername, minVersion…) are used; explicit fields still win.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { Broker } from "../../src/broker/index.js";
import { Connection } from "../../src/client/connection.js";
import { sendMessage, receiveMessage } from "../../src/client/helpers.js";
import { AMQPError } from "../../src/errors/amqp-error.js";
import { MessageState } from "../../src/message/message-state.js";
import { rejectionOf } from "../support/waits.js";
import { getTestCertificates, type TestCertificates } from "../support/certs.js";

describe("transport.tls as tls.connect options", () => {
  let b: Broker;
  let certs: TestCertificates;
  let port: number;
  before(async () => {
    certs = await getTestCertificates();
    b = await Broker.start({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    port = b.tlsPort!;
  });
  after(async () => {
    await b.close();
  });

  it("an options object turns TLS on and its ca and minVersion are used", async () => {
    const auth = new SASLAnonymous("localhost", { port, tls: { ca: certs.ca, minVersion: "TLSv1.2" } });
    assert.equal(auth.tls, true);
    const conn = new Connection("localhost", auth);
    try {
      await conn.open({ timeout: 10_000 });
      assert.equal(conn.state, "open");
    } finally {
      await conn.close();
    }
  });

  it("without the ca of the object, the same server is not trusted (the object's ca is what made it work)", async () => {
    const conn = new Connection("localhost", new SASLAnonymous("localhost", { port, tls: {} }));
    const e = await rejectionOf(conn.open({ timeout: 10_000 }), "open()");
    assert.ok(e instanceof AMQPError && e.code === "AMQP_TLS", String(e));
    await conn.close();
  });

  it("the object's servername is checked against the certificate; an explicit servername wins", async () => {
    const wrong = new Connection(
      "localhost",
      new SASLAnonymous("localhost", { port, tls: { ca: certs.ca, servername: "wrong.example" } }),
    );
    const e = await rejectionOf(wrong.open({ timeout: 10_000 }), "open()");
    assert.ok(e instanceof AMQPError && e.code === "AMQP_TLS", String(e));
    await wrong.close();
    const fixed = new Connection(
      "localhost",
      new SASLAnonymous("localhost", {
        port,
        servername: "localhost",
        tls: { ca: certs.ca, servername: "wrong.example" },
      }),
    );
    try {
      await fixed.open({ timeout: 10_000 });
    } finally {
      await fixed.close();
    }
  });

  it("clients take it through the transport option, over an amqp:// URL too", async () => {
    const url = `amqp://localhost:${port}/tls-object`;
    const transport = { tls: { ca: certs.ca } };
    assert.deepEqual(await sendMessage(url, "over tls", { transport }), [MessageState.SendComplete]);
    const m = await receiveMessage(url, { transport, timeout: 5000 });
    assert.equal(m?.toString(), "over tls");
  });

  it("tls: false stays plain TCP", () => {
    const auth = new SASLAnonymous("localhost", { tls: false });
    assert.equal(auth.tls, false);
    assert.equal(auth.port, 5672);
  });
});
