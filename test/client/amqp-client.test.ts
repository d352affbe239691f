import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { InvalidAddressError, type Source, type Target } from "../../src/address/index.js";
import { SASLAnonymous, SASLPlain } from "../../src/auth/amqp-auth.js";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { Connection } from "../../src/client/connection.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { sendMessage } from "../../src/client/helpers.js";
import type { AMQPError } from "../../src/errors/amqp-error.js";
import {
  AMQPConnectionError,
  AuthenticationException,
  ConnectionClose,
  LinkDetach,
  LinkRedirect,
  VendorConnectionClose,
} from "../../src/errors/exceptions.js";
import { Attach, Detach, type AttachFields } from "../../src/frames/performatives.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { startScriptedPeer } from "../support/scripted-peer.js";
import { recordStatus, startBroker, until, type TestBroker } from "./support.js";

describe("AMQPClient: addresses, auth, shared connections, peer errors", () => {
  let t: TestBroker;
  before(async () => {
    t = await startBroker({ sasl: { users: { "user@x": "p/w", alice: "secret" }, allowAnonymous: true } });
  });
  after(async () => {
    await t.broker.close();
  });

  it("URL credentials are percent-decoded and used for SASL PLAIN", async () => {
    const url = `amqp://user%40x:p%2Fw@127.0.0.1:${t.broker.port}/q39?x=1`;
    const client = new SendClient(url);
    assert.ok(client.auth instanceof SASLPlain);
    assert.equal(client.auth.username, "user@x");
    assert.equal(client.auth.tls, false);
    assert.equal(client.auth.port, t.broker.port);
    assert.equal(client.target.linkAddress, "q39");
    client.queueMessage(new Message({ body: "x" }));
    assert.deepEqual(await client.sendAllMessages(), [MessageState.SendComplete]);
    assert.equal(t.broker.stats("q39").messageCount, 1);
    const wrong = new SendClient(`amqp://user%40x:nope@127.0.0.1:${t.broker.port}/q39`);
    await assert.rejects(wrong.open(), AuthenticationException);
    assert.equal(wrong.state, "idle");
    await wrong.close();
  });

  it("an address without a path throws; without credentials the client uses SASL ANONYMOUS", () => {
    assert.throws(() => new SendClient(`amqp://127.0.0.1:${t.broker.port}`), InvalidAddressError);
    const client = new ReceiveClient(`amqps://example.com/q`);
    assert.ok(client.auth instanceof SASLAnonymous);
    assert.equal(client.auth.tls, true);
    assert.equal(client.auth.port, 5671);
    const plain = new ReceiveClient(`amqp://example.com/q`);
    assert.deepEqual([plain.auth?.tls, plain.auth?.port], [false, 5672]);
  });

  it("a given auth gets tls and port from an amqp:// URL when it leaves them unset", async () => {
    const auth = new SASLPlain("127.0.0.1", "alice", "secret");
    const states = await sendMessage(t.url("q-auth"), "x", { auth });
    assert.deepEqual(states, [MessageState.SendComplete]);
  });

  it("two clients on one shared connection (SASL PLAIN): one socket; closing one leaves the other working; redirect() throws", async () => {
    const before = t.broker.connectionCount;
    const conn = new Connection(
      "127.0.0.1",
      new SASLPlain("127.0.0.1", "alice", "secret", { tls: false, port: t.broker.port! }),
    );
    await sendMessage(t.url("s53a"), "a1", { auth: conn.auth });
    await sendMessage(t.url("s53b"), "b1", { auth: conn.auth });
    const a = new ReceiveClient(t.url("s53a"));
    const b = new ReceiveClient(t.url("s53b"));
    await a.open({ connection: conn });
    await b.open({ connection: conn });
    assert.equal(t.broker.connectionCount, before + 1);
    assert.equal(a.connection, conn);
    assert.equal(a.auth, conn.auth);
    assert.equal(a.isSharedConnection, true);
    assert.equal((await a.receiveMessageBatch())[0]?.toString(), "a1");
    assert.equal((await b.receiveMessageBatch())[0]?.toString(), "b1");
    const redirect = new LinkRedirect("amqp:link:redirect", { info: { hostname: "elsewhere" } });
    await assert.rejects(a.redirect(redirect), AMQPConnectionError);
    await assert.rejects(b.redirect(redirect), { condition: "amqp:not-allowed" });
    await a.close();
    assert.equal(conn.state, "open");
    await sendMessage(t.url("s53b"), "b2", { auth: conn.auth });
    assert.equal((await b.receiveMessageBatch())[0]?.toString(), "b2");
    await b.close();
    assert.equal(conn.state, "open");
    await conn.close();
  });

  it("Connection.redirect goes where the error points: another port on the same host, and a network-host apart from the OPEN hostname", async () => {
    const other = await startBroker();
    const conn = new Connection(
      "127.0.0.1",
      new SASLAnonymous("127.0.0.1", { tls: false, port: t.broker.port! }),
    );
    try {
      await conn.open();
      // Same hostname, another port: a move, not a no-op.
      await conn.redirect(
        new LinkRedirect("moved", { info: { hostname: "127.0.0.1", port: other.broker.port! } }),
      );
      assert.equal(conn.state, "open");
      assert.equal(other.broker.connectionCount, 1);
      assert.equal(conn.auth.transport.port, other.broker.port);
      // The TCP connection goes to network-host; OPEN carries the redirect's hostname.
      await conn.redirect(
        new LinkRedirect("moved", {
          info: { hostname: "redirected.invalid", "network-host": "127.0.0.1", port: t.broker.port! },
        }),
      );
      assert.equal(conn.state, "open");
      assert.equal(conn.hostname, "redirected.invalid");
      assert.equal(conn.auth.transport.customEndpointHostname, "127.0.0.1");
      assert.equal(other.broker.connectionCount, 0);
      const sender = new SendClient(t.url("redirected"));
      await sender.open({ connection: conn });
      const m = new Message({ body: "r" });
      await sender.sendMessage(m);
      assert.equal(m.state, MessageState.SendComplete);
      assert.equal(t.transfers("redirected").length, 1);
      await sender.close();
    } finally {
      await conn.close();
      await other.broker.close();
    }
  });

  it("the base AMQPClient opens a connection and a session; authComplete/clientReady report readiness", async () => {
    const client = new AMQPClient(t.url("base"), { auth: new SASLPlain("127.0.0.1", "alice", "secret") });
    assert.equal(await client.authComplete(), false);
    assert.equal(await client.clientReady(), false);
    const opening = client.open();
    assert.equal(await client.clientReady(), true);
    await opening;
    assert.equal(await client.authComplete(), true);
    assert.equal(client.connection?.state, "open");
    assert.ok(client.session);
    await client.close();
    assert.equal(client.state, "closed");
    await assert.rejects(client.open(), { code: "AMQP_CLIENT_SHUTDOWN" });
    await assert.rejects(client.clientReady(), { code: "AMQP_CLIENT_SHUTDOWN" });
  });

  it("an unreachable host fails open with a typed error; the client stays idle and can be opened later", async () => {
    const client = new SendClient("amqp://127.0.0.1:1/q", { reconnect: false });
    await assert.rejects(client.open(), { code: "AMQP_CONNECT_FAILED" });
    assert.equal(client.state, "idle");
    await client.close();
  });

  it("onAttach sees the peer's termini; desired capabilities and link properties reach the ATTACH", async () => {
    const seen: [Source | undefined, Target | undefined, AMQPError | undefined][] = [];
    const peer = await startScriptedPeer();
    try {
      const client = new ReceiveClient(`amqp://127.0.0.1:${peer.port}/metrics`, {
        desiredCapabilities: ["com.microsoft:enable-receiver-runtime-metric"],
        linkProperties: { "com.microsoft:epoch": 1 },
        onAttach: (source, target, _props, error) => seen.push([source, target, error]),
      });
      await client.open();
      const c = await peer.connection();
      const attach = c.attaches[0]!;
      assert.deepEqual(attach.desiredCapabilities, ["com.microsoft:enable-receiver-runtime-metric"]);
      assert.equal(attach.properties?.["com.microsoft:epoch"], 1);
      assert.equal(seen.length, 1);
      assert.equal(c.attaches[0]!.source?.address, "metrics");
      assert.equal(seen[0]![0]?.linkAddress, "metrics");
      assert.equal(seen[0]![1]?.linkAddress, client.clientName);
      assert.equal(seen[0]![2], undefined);
      await client.close();
    } finally {
      await peer.close();
    }
  });

  it("no credit before the ATTACH; the first FLOW carries credit = prefetch", async () => {
    const peer = await startScriptedPeer();
    try {
      const client = new ReceiveClient(`amqp://127.0.0.1:${peer.port}/q25`, { prefetch: 42 });
      await client.open();
      const c = await peer.connection();
      const attachAt = c.frames.findIndex((f) => f.name === "ATTACH");
      const flow = await c.frameWhere(
        (f) => f.name === "FLOW" && f.fields["handle"] !== undefined,
        "a link FLOW",
      );
      assert.ok(c.frames.indexOf(flow) > attachAt);
      assert.equal(flow.fields["linkCredit"], 42);
      await client.close();
    } finally {
      await peer.close();
    }
  });

  it("a peer ATTACH lacking a source: onAttach gets an AMQPConnectionError, the open rejects on the DETACH", async () => {
    const peer = await startScriptedPeer({ autoAttach: false }, (c) => {
      c.responder = (f, p) => {
        if (f.name !== "ATTACH") return;
        const a = f.fields as unknown as AttachFields;
        const { source: _source, ...rest } = a;
        p.frame(f.channel, Attach, { ...rest, role: !a.role, initialDeliveryCount: 0 });
        setTimeout(() => {
          p.frame(f.channel, Detach, {
            handle: a.handle,
            closed: true,
            error: { condition: "amqp:not-found", description: "no such node" },
          });
        }, 20);
      };
    });
    try {
      const errors: (AMQPError | undefined)[] = [];
      const client = new ReceiveClient(`amqp://127.0.0.1:${peer.port}/missing`, {
        reconnect: false,
        onAttach: (source, _target, _props, error) => {
          assert.equal(source, undefined);
          errors.push(error);
        },
      });
      const err = await client.open().then(
        () => assert.fail("should reject"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof LinkDetach);
      assert.equal(err.condition, "amqp:not-found");
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof AMQPConnectionError);
      await client.close();
    } finally {
      await peer.close();
    }
  });
});

describe("AMQPClient: redirects and connection close conditions", () => {
  it("link redirect surfaces as LinkRedirect; client.redirect(err, auth) resumes receiving at the new place", async () => {
    const target = await startBroker();
    const origin = await startBroker({
      hooks: {
        r1: {
          detachAfterAttach: {
            condition: "amqp:link:redirect",
            description: "moved",
            info: {
              hostname: "127.0.0.1",
              "network-host": "127.0.0.1",
              port: target.broker.port!,
              address: "r2",
            },
          },
        },
      },
    });
    try {
      await sendMessage(target.url("r2"), "moved here");
      const client = new ReceiveClient(origin.url("r1"), { reconnect: false });
      const err = await client.receiveMessageBatch({ timeout: 5000 }).then(
        () => assert.fail("should reject"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof LinkRedirect);
      assert.equal(err.hostname, "127.0.0.1");
      assert.equal(err.port, target.broker.port);
      assert.equal(err.address, "r2");
      assert.equal(client.state, "failed");
      await client.redirect(err, new SASLAnonymous("127.0.0.1", { tls: false }));
      assert.equal(client.state, "open");
      assert.equal(client.source.linkAddress, "r2");
      const batch = await client.receiveMessageBatch({ timeout: 5000 });
      assert.equal(batch[0]?.toString(), "moved here");
      await client.close();
    } finally {
      await origin.broker.close();
      await target.broker.close();
    }
  });

  it("with recovery on, a link redirect is followed automatically and reported", async () => {
    const target = await startBroker();
    const origin = await startBroker({
      hooks: {
        r1: {
          detachAfterAttach: {
            condition: "amqp:link:redirect",
            info: { hostname: "127.0.0.1", port: target.broker.port!, address: "r2" },
          },
        },
      },
    });
    try {
      await sendMessage(target.url("r2"), "followed");
      const client = new ReceiveClient(origin.url("r1"));
      const status = recordStatus(client);
      const batch = await client.receiveMessageBatch({ timeout: 5000 });
      assert.equal(batch[0]?.toString(), "followed");
      await until(() => target.broker.stats("r2").messageCount === 0, "the accept at the new place");
      const redirected = status.find((s) => s.type === "redirected");
      assert.ok(redirected?.type === "redirected");
      assert.equal(redirected.port, target.broker.port);
      assert.equal(redirected.address, "r2");
      assert.ok(status.some((s) => s.type === "reconnected"));
      await client.close();
      await until(() => status.at(-1)?.type === "closed", "the closed status");
    } finally {
      await origin.broker.close();
      await target.broker.close();
    }
  });

  it("CLOSE with a vendor condition → VendorConnectionClose (condition kept); amqp:connection:forced → retryable ConnectionClose", async () => {
    const t = await startBroker();
    try {
      const vendor = new ReceiveClient(t.url("c58"), { reconnect: false });
      const pending = vendor.receiveMessageBatch().then(
        () => assert.fail("should reject"),
        (e: unknown) => e,
      );
      await until(() => vendor.state === "open", "open");
      await t.broker.closeConnections({ condition: "com.microsoft:custom", description: "bye" });
      const e1 = await pending;
      assert.ok(e1 instanceof VendorConnectionClose);
      assert.equal(e1.condition, "com.microsoft:custom");
      assert.equal(vendor.state, "failed");
      await assert.rejects(vendor.receiveMessageBatch(), VendorConnectionClose);
      await vendor.close();

      const forced = new ReceiveClient(t.url("c58"), { reconnect: false });
      const p2 = forced.receiveMessageBatch().then(
        () => assert.fail("should reject"),
        (e: unknown) => e,
      );
      await until(() => forced.state === "open", "open");
      await t.broker.closeConnections({ condition: "amqp:connection:forced" });
      const e2 = await p2;
      assert.ok(e2 instanceof ConnectionClose);
      assert.ok(!(e2 instanceof VendorConnectionClose));
      assert.equal(e2.retryable, true);
      assert.equal(await forced.closed(), e2);
      await forced.close();
    } finally {
      await t.broker.close();
    }
  });
});
