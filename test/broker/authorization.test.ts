/**
 * Authorization rules (docs/broker.md, "Authorization"): per user and per token rights (`send`,
 * `listen`, `manage`) on addresses, enforced on ATTACH, on the anonymous relay's `to`, on every
 * management request, and for the tokens put on `$cbs`. rhea is the client (a peer nobody here
 * wrote); our own client checks the typed error it raises for a refused link.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { isServiceBusError, ServiceBusClient } from "@azure/service-bus";
import type rhea from "rhea";
import {
  Broker,
  BrokerError,
  type BrokerAuthorizationRule,
  type BrokerEvent,
  type BrokerOptions,
} from "../../src/broker/index.js";
import { SendClient } from "../../src/client/send-client.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { LinkDetach } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { setLogger } from "../../src/util/log.js";
import { getTestCertificates } from "../support/certs.js";
import { rejectionOf, within } from "../support/waits.js";
import { inAnHour, nodeRequest, putToken, sasToken } from "./cbs-client.js";
import {
  attachError,
  brokerFixture,
  collect,
  connect,
  linkError,
  openReceiver,
  openSender,
  sendAll,
  until,
  waitEvent,
} from "./rhea-client.js";

const USERS = { alice: "pw-alice", bob: "pw-bob", carol: "pw-carol" };
const LISTEN_KEY = "bGlzdGVuLW9ubHkta2V5";
const ROOT_KEY = "cm9vdC1tYW5hZ2Uta2V5";
const KEYS = { ListenOnly: LISTEN_KEY, RootManageSharedAccessKey: ROOT_KEY };

/** rhea's client options for SASL MSSBCBS (token authentication): the mechanism name, no response. */
const MSSBCBS: Partial<rhea.ConnectionOptions> = {
  sasl_mechanisms: {
    MSSBCBS: () => ({
      start: (callback: (error: unknown, response: unknown) => void) => {
        callback(undefined, undefined);
      },
    }),
  },
} as unknown as Partial<rhea.ConnectionOptions>;

const status = (m: rhea.Message): unknown => m.application_properties?.["statusCode"];
const statusText = (m: rhea.Message): string => String(m.application_properties?.["statusDescription"]);

/** The broker of most tests: three users; alice sends and listens, bob only listens, carol manages. */
const RULES: readonly BrokerAuthorizationRule[] = [
  { user: "alice", rights: ["send", "listen"], addresses: ["orders", "billing/*"] },
  { user: "bob", rights: ["listen"], addresses: ["orders"] },
  { user: "carol", rights: ["manage"], addresses: ["orders"] },
];

describe("broker: authorization rules", () => {
  const { keep } = brokerFixture();
  afterEach(() => {
    setLogger(undefined);
  });

  const start = async (options: BrokerOptions): Promise<Broker> =>
    keep(await Broker.start({ ...options, sasl: { users: USERS, failedLoginDelayMs: 0, ...options.sasl } }));
  const login = async (b: Broker, user: keyof typeof USERS): Promise<rhea.Connection> =>
    keep(await connect(b.port!, { username: user, password: USERS[user] }));
  const denials = (b: Broker): Extract<BrokerEvent, { type: "denied" }>[] => {
    const seen: Extract<BrokerEvent, { type: "denied" }>[] = [];
    b.observe((e) => {
      if (e.type === "denied") seen.push(e);
    });
    return seen;
  };

  it("a user without the right cannot attach a sender or a receiver; one with it can", async () => {
    const b = await start({ authorization: { rules: RULES } });
    const seen = denials(b);
    const bob = await login(b, "bob");
    const refused = await attachError(openSender(bob, "orders"));
    assert.equal(refused.condition, "amqp:unauthorized-access");
    assert.equal(refused.description, "the right 'send' on 'orders' is not granted to user 'bob'");
    // A refused attach creates no queue (queues are created on first use here).
    const elsewhere = await attachError(openReceiver(bob, "payroll"));
    assert.equal(elsewhere.description, "the right 'listen' on 'payroll' is not granted to user 'bob'");
    assert.ok(!b.queueNames().includes("payroll"));

    const alice = await login(b, "alice");
    await sendAll(await openSender(alice, "orders"), [{ body: "order 1" }]);
    const got = await collect(await openReceiver(bob, "orders"), 1);
    assert.equal(got[0]?.message?.body, "order 1");
    assert.equal((await attachError(openSender(alice, "payroll"))).condition, "amqp:unauthorized-access");

    assert.equal(b.deniedRequests, 3);
    assert.deepEqual(
      seen.map((e) => [e.what, e.address, e.condition]),
      [
        ["attach", "orders", "amqp:unauthorized-access"],
        ["attach", "payroll", "amqp:unauthorized-access"],
        ["attach", "payroll", "amqp:unauthorized-access"],
      ],
    );
  });

  it("a message through the anonymous relay to an address without 'send' is rejected; the link stays up", async () => {
    const b = await start({ authorization: { rules: RULES } });
    const alice = await login(b, "alice");
    const relay = await openSender(alice, { target: {} });
    const rejected = new Promise<unknown>((resolve) => {
      relay.once("rejected", (ctx: rhea.EventContext) => {
        resolve((ctx.delivery?.remote_state as { error?: unknown } | undefined)?.error);
      });
    });
    assert.deepEqual(
      await sendAll(relay, [
        { to: "orders", body: "in" },
        { to: "payroll", body: "out" },
        { to: "billing/eu", body: "in too" },
      ]),
      ["accepted", "rejected", "accepted"],
    );
    const error = (await rejected) as { condition?: string; description?: string };
    assert.equal(error.condition, "amqp:unauthorized-access");
    assert.equal(error.description, "the right 'send' on 'payroll' is not granted to user 'alice'");
    assert.ok(relay.is_open());
    assert.deepEqual(await sendAll(relay, [{ to: "orders", body: "again" }]), ["accepted"]);
    assert.equal(b.stats("orders").messageCount, 2);
    assert.ok(!b.queueNames().includes("payroll"));
    assert.equal(b.deniedRequests, 1);
  });

  it("$management READ, CREATE and DELETE need 'manage' on the entity (401 naming it); with it they work", async () => {
    const b = await start({ authorization: { rules: RULES } });
    const alice = await login(b, "alice");
    await sendAll(await openSender(alice, "orders"), [{ body: "one" }, { body: "two" }]);
    for (const operation of ["READ", "DELETE", "CREATE"]) {
      const res = await nodeRequest(alice, "$management", { operation, type: "q", name: "orders" });
      assert.equal(status(res), 401, operation);
      assert.equal(res.application_properties?.["errorCondition"], "amqp:unauthorized-access");
      assert.equal(statusText(res), "the right 'manage' on 'orders' is not granted to user 'alice'");
      assert.equal(res.body, null, operation);
    }
    assert.equal(b.stats("orders").messageCount, 2);
    const created = await nodeRequest(alice, "$management", { operation: "CREATE", name: "fresh" });
    assert.equal(status(created), 401);
    assert.ok(!b.queueNames().includes("fresh"));
    // A request naming no entity cannot be authorized while rules are configured.
    assert.equal(status(await nodeRequest(alice, "$management", { operation: "READ" })), 401);
    assert.equal(b.deniedRequests, 5);

    const carol = await login(b, "carol");
    const read = await nodeRequest(carol, "$management", { operation: "READ", name: "orders" });
    assert.equal(status(read), 200);
    assert.equal((read.body as Record<string, unknown>)["message_count"], 2);
    assert.equal(
      status(await nodeRequest(carol, "$management", { operation: "DELETE", name: "orders" })),
      200,
    );
    assert.equal(
      status(await nodeRequest(carol, "$management", { operation: "CREATE", name: "orders" })),
      201,
    );
    // `orders` covers what is under it, not what merely starts with its letters.
    assert.equal(
      status(await nodeRequest(carol, "$management", { operation: "CREATE", name: "orders/archive" })),
      201,
    );
    assert.equal(
      status(await nodeRequest(carol, "$management", { operation: "CREATE", name: "orders-old" })),
      401,
    );
    assert.equal(b.deniedRequests, 6);
  });

  it("names cover what is under them, a trailing * is a prefix, * is every address; case matters", async () => {
    const b = await start({
      authorization: {
        rules: [
          // Service Bus's spelling, as a JSON configuration may write it.
          { user: "alice", rights: ["Send" as "send"], addresses: ["orders"] },
          { user: "alice", rights: ["send"], addresses: ["billing/*", "tmp-*"] },
          { user: "bob", rights: ["send", "listen"], addresses: ["*"] },
          { user: "*", rights: ["listen"], addresses: ["public/*"] },
        ],
      },
    });
    const alice = await login(b, "alice");
    for (const address of ["orders", "orders/$DeadLetterQueue", "billing/eu", "tmp-1", "tmp-"]) {
      await openSender(alice, address);
    }
    for (const address of ["billing", "billingx", "orders-old", "ORDERS", "TMP-2", "other"]) {
      assert.equal((await attachError(openSender(alice, address))).condition, "amqp:unauthorized-access");
    }
    // Rights are per right: alice may send to orders, not listen on it.
    assert.equal((await attachError(openReceiver(alice, "orders"))).condition, "amqp:unauthorized-access");
    await openReceiver(alice, "public/news");
    const bob = await login(b, "bob");
    await openSender(bob, "anything/at/all");
    await openReceiver(bob, "other");
    const carol = await login(b, "carol");
    await openReceiver(carol, "public/news");
    assert.equal((await attachError(openSender(carol, "public/news"))).condition, "amqp:unauthorized-access");
  });

  it("anonymous clients get what the anonymous rules grant, nothing else", async () => {
    const b = await start({
      sasl: { allowAnonymous: true },
      authorization: {
        rules: [
          { anonymous: true, rights: ["listen"], addresses: ["public/*"] },
          { user: "alice", rights: ["send"], addresses: ["public/*"] },
        ],
      },
    });
    const alice = await login(b, "alice");
    await sendAll(await openSender(alice, "public/news"), [{ body: "hello all" }]);
    const anon = keep(await connect(b.port!));
    const got = await collect(await openReceiver(anon, "public/news"), 1);
    assert.equal(got[0]?.message?.body, "hello all");
    const refused = await attachError(openSender(anon, "public/news"));
    assert.equal(
      refused.description,
      "the right 'send' on 'public/news' is not granted to anonymous clients",
    );
  });

  it("an EXTERNAL identity (the client certificate's CN) is a user the rules can name", async () => {
    const certs = await getTestCertificates();
    const b = keep(
      await Broker.start({
        tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: true },
        sasl: { mechanisms: ["EXTERNAL"] },
        authorization: {
          rules: [{ user: certs.clientCommonName, rights: ["send"], addresses: ["devices/*"] }],
        },
      }),
    );
    const device = keep(
      await connect(b.tlsPort!, {
        transport: "tls",
        host: "localhost",
        ca: certs.ca,
        servername: "localhost",
        cert: certs.clientCert,
        key: certs.clientKey,
        enable_sasl_external: true,
      } as Partial<rhea.ConnectionOptions>),
    );
    await sendAll(await openSender(device, "devices/7"), [{ body: "reading" }]);
    const refused = await attachError(openReceiver(device, "devices/7"));
    assert.equal(
      refused.description,
      `the right 'listen' on 'devices/7' is not granted to user '${certs.clientCommonName}'`,
    );
  });

  it("without sasl.users a PLAIN name proves nothing: such a client counts as anonymous", async () => {
    const b = keep(
      await Broker.start({
        authorization: { rules: [{ anonymous: true, rights: ["listen"], addresses: ["public/*"] }] },
      }),
    );
    const mallory = keep(await connect(b.port!, { username: "alice", password: "made-up" }));
    await openReceiver(mallory, "public/news");
    const refused = await attachError(openSender(mallory, "public/news"));
    assert.equal(
      refused.description,
      "the right 'send' on 'public/news' is not granted to anonymous clients",
    );
  });

  it("an empty rule list denies every address, yet $cbs and a client's own dynamic nodes stay open", async () => {
    const b = await start({ authorization: { rules: [] }, cbs: { keys: KEYS } });
    const alice = await login(b, "alice");
    assert.equal((await attachError(openSender(alice, "orders"))).condition, "amqp:unauthorized-access");
    // Its own dynamic node: attach, and send to it through the relay.
    const r = await openReceiver(alice, { source: { dynamic: true } as unknown as rhea.Source });
    const address = (r as unknown as { remote: { attach: { source: { address: string } } } }).remote.attach
      .source.address;
    const relay = await openSender(alice, { target: {} });
    const got = collect(r, 1);
    assert.deepEqual(await sendAll(relay, [{ to: address, body: "to myself" }]), ["accepted"]);
    assert.equal((await got)[0]?.message?.body, "to myself");
    // Another client's dynamic node is an address like any other.
    const bob = await login(b, "bob");
    const bobRelay = await openSender(bob, { target: {} });
    assert.deepEqual(await sendAll(bobRelay, [{ to: address, body: "intruder" }]), ["rejected"]);
    // $cbs answers (the token grants nothing: no rule names its key).
    const token = sasToken("sb://ns/orders", inAnHour(), ROOT_KEY, "RootManageSharedAccessKey");
    assert.equal((await putToken(alice, token, "sb://ns/orders")).code, 200);
    assert.equal((await attachError(openSender(alice, "orders"))).condition, "amqp:unauthorized-access");
  });

  it("a SAS token grants what the rules give its key name: a listen-only key cannot send", async () => {
    const b = await start({
      cbs: { keys: KEYS },
      authorization: {
        rules: [
          { keyName: "ListenOnly", rights: ["listen"], addresses: ["*"] },
          { keyName: "RootManageSharedAccessKey", rights: ["manage", "send", "listen"], addresses: ["*"] },
        ],
      },
    });
    const seen = denials(b);
    // An MSSBCBS client next to users: it has only its tokens.
    const c = keep(await connect(b.port!, MSSBCBS));
    const listenToken = sasToken("sb://ns/orders", inAnHour(), LISTEN_KEY, "ListenOnly");
    assert.equal((await putToken(c, listenToken, "sb://ns/orders")).code, 200);
    await openReceiver(c, "orders");
    const refused = await attachError(openSender(c, "orders"));
    assert.equal(refused.condition, "amqp:unauthorized-access");
    assert.equal(
      refused.description,
      "the right 'send' on 'orders' is not granted to the tokens of this connection (key 'ListenOnly')",
    );
    const relay = await openSender(c, { target: {} });
    assert.deepEqual(await sendAll(relay, [{ to: "orders", body: "x" }]), ["rejected"]);
    // The token covers its audience only.
    assert.match(
      String((await attachError(openReceiver(c, "billing"))).description),
      /no valid token authorizes 'billing'/,
    );
    const read = await nodeRequest(c, "$management", { operation: "READ", name: "orders" });
    assert.equal(status(read), 401);
    assert.match(statusText(read), /the right 'manage' on 'orders' is not granted to the tokens/);
    assert.equal(b.deniedRequests, 4);
    assert.deepEqual(
      seen.map((e) => e.what),
      ["attach", "message", "attach", "request"],
    );

    // A second client with the root key's token may do all three.
    const root = keep(await connect(b.port!, MSSBCBS));
    const rootToken = sasToken("sb://ns/orders", inAnHour(), ROOT_KEY, "RootManageSharedAccessKey");
    assert.equal((await putToken(root, rootToken, "sb://ns/orders")).code, 200);
    await sendAll(await openSender(root, "orders"), [{ body: "from root" }]);
    assert.equal(status(await nodeRequest(root, "$management", { operation: "READ", name: "orders" })), 200);
  });

  it("on a guarded address only the tokens' rights count, not the login's", async () => {
    const b = await start({
      cbs: { keys: KEYS, guardedAddresses: ["vault"] },
      authorization: {
        rules: [
          { user: "alice", rights: ["send", "listen", "manage"], addresses: ["*"] },
          { keyName: "ListenOnly", rights: ["listen"], addresses: ["*"] },
        ],
      },
    });
    const alice = await login(b, "alice");
    await openSender(alice, "open-queue");
    assert.match(
      String((await attachError(openSender(alice, "vault"))).description),
      /no valid token authorizes 'vault'/,
    );
    const token = sasToken("sb://ns/vault", inAnHour(), LISTEN_KEY, "ListenOnly");
    assert.equal((await putToken(alice, token, "sb://ns/vault")).code, 200);
    await openReceiver(alice, "vault");
    const refused = await attachError(openSender(alice, "vault"));
    assert.equal(
      refused.description,
      "the right 'send' on 'vault' is not granted to the tokens of this connection (key 'ListenOnly')",
    );
  });

  it("a JWT grants the rights its validator read (Service Bus claims), and they end with it", async () => {
    let expiresAtMs = Infinity;
    const b = await start({
      cbs: {
        validateJwt: (jwt) => {
          // The claim as Service Bus spells it.
          if (jwt === "sender-jwt") return { rights: ["Send" as "send"], expiresAtMs };
          return jwt === "bare-jwt";
        },
      },
      authorization: { rules: [] },
    });
    const c = keep(await connect(b.port!, MSSBCBS));
    assert.equal((await putToken(c, "bare-jwt", "sb://ns/other", "jwt")).code, 200);
    assert.equal((await attachError(openSender(c, "other"))).condition, "amqp:unauthorized-access");
    assert.equal((await putToken(c, "sender-jwt", "sb://ns/orders", "jwt")).code, 200);
    await sendAll(await openSender(c, "orders"), [{ body: "by jwt" }]);
    const refused = await attachError(openReceiver(c, "orders"));
    assert.equal(
      refused.description,
      "the right 'listen' on 'orders' is not granted to the tokens of this connection (a JWT)",
    );
    // On an unguarded address a link that only a token's right allowed is detached when it expires.
    const d = keep(await connect(b.port!, MSSBCBS));
    expiresAtMs = Date.now() + 300;
    assert.equal((await putToken(d, "sender-jwt", "sb://ns/orders", "jwt")).code, 200);
    const s = d.open_sender("orders");
    const detached = await waitEvent(s, "sender_error");
    assert.equal(linkError(detached).condition, "amqp:unauthorized-access");
    // The first client's sender stays: its token does not expire.
    await until(() => b.stats("orders").producerCount === 1, "the expired link to go");
  });

  it("<entity>/$management: peek and lock operations need 'listen', schedule and cancel need 'send'", async () => {
    const b = await start({
      authorization: {
        rules: [
          { user: "alice", rights: ["send"], addresses: ["orders"] },
          { user: "bob", rights: ["listen"], addresses: ["orders"] },
        ],
      },
    });
    const entityRequest = async (c: rhea.Connection, operation: string): Promise<rhea.Message> => {
      const replyTo = `replies-${operation}`;
      const replies = await openReceiver(c, { source: "orders/$management", target: replyTo });
      const requests = await openSender(c, "orders/$management");
      const got = collect(replies, 1);
      await sendAll(requests, [
        {
          message_id: 1,
          reply_to: replyTo,
          application_properties: { operation },
          body: new Map<string, unknown>([["message-count", 5]]),
        },
      ]);
      const res = (await got)[0]!.message!;
      replies.close();
      requests.close();
      return res;
    };
    const alice = await login(b, "alice");
    const bob = await login(b, "bob");
    await sendAll(await openSender(alice, "orders"), [{ body: "peek me" }]);
    const peekByBob = await entityRequest(bob, "com.microsoft:peek-message");
    assert.equal(status(peekByBob), 200);
    const peekByAlice = await entityRequest(alice, "com.microsoft:peek-message");
    assert.equal(status(peekByAlice), 401);
    assert.equal(statusText(peekByAlice), "the right 'listen' on 'orders' is not granted to user 'alice'");
    const scheduleByBob = await entityRequest(bob, "com.microsoft:schedule-message");
    assert.equal(status(scheduleByBob), 401);
    assert.equal(statusText(scheduleByBob), "the right 'send' on 'orders' is not granted to user 'bob'");
    // Alice may schedule: her (empty) request gets as far as its body check.
    assert.equal(status(await entityRequest(alice, "com.microsoft:schedule-message")), 400);
    // Anything else needs 'manage'.
    assert.equal(status(await entityRequest(bob, "com.microsoft:add-rule")), 401);
    assert.equal(b.deniedRequests, 3);
  });

  it("an Event Hubs READ of a hub needs any right on it; a queue READ needs 'manage'", async () => {
    const b = await start({
      authorization: { rules: [{ user: "alice", rights: ["send"], addresses: ["telemetry"] }] },
    });
    const alice = await login(b, "alice");
    const hub = await nodeRequest(alice, "$management", {
      operation: "READ",
      type: "com.microsoft:eventhub",
      name: "telemetry",
    });
    assert.equal(status(hub), 200);
    await openSender(alice, "telemetry/Partitions/0");
    const stats = await nodeRequest(alice, "$management", {
      operation: "READ",
      type: "q",
      name: "telemetry",
    });
    assert.equal(status(stats), 401);
    const other = await nodeRequest(alice, "$management", {
      operation: "READ",
      type: "com.microsoft:eventhub",
      name: "other",
    });
    assert.equal(
      statusText(other),
      "none of the rights 'send', 'listen', 'manage' on 'other' is granted to user 'alice'",
    );
  });

  it("a denial is logged on uamqp:broker at warn, naming the right and the address", async () => {
    const b = await start({ authorization: { rules: RULES } });
    const lines: string[] = [];
    setLogger({ warn: (m: string) => lines.push(m) });
    const bob = await login(b, "bob");
    await attachError(openSender(bob, "orders"));
    await until(() => lines.some((l) => l.includes("denied")), "the log line");
    const line = lines.find((l) => l.includes("denied"))!;
    assert.match(
      line,
      /uamqp:broker broker-conn-\d+ denied attach for "orders": amqp:unauthorized-access: the right 'send' on 'orders' is not granted to user 'bob'$/,
    );
    assert.ok(!line.includes("pw-bob"));
  });

  it("our client raises a typed, non-retryable LinkDetach for a refused sender or receiver", async () => {
    const b = await start({ authorization: { rules: RULES } });
    const url = (user: keyof typeof USERS, address: string): string =>
      `amqp://${user}:${USERS[user]}@127.0.0.1:${b.port!}/${address}`;
    const sender = new SendClient(url("bob", "orders"));
    try {
      const e = await sender.sendMessage(new Message({ body: "x" })).then(
        () => assert.fail("should reject"),
        (err: unknown) => err,
      );
      assert.ok(e instanceof LinkDetach, String(e));
      assert.equal(e.code, "AMQP_LINK_DETACHED");
      assert.equal(e.condition, "amqp:unauthorized-access");
      assert.equal(e.description, "the right 'send' on 'orders' is not granted to user 'bob'");
      assert.equal(e.retryable, false);
    } finally {
      await sender.close();
    }
    const receiver = new ReceiveClient(url("carol", "orders"));
    try {
      const e = await receiver.receiveMessageBatch({ maxBatchSize: 1, timeout: 5000 }).then(
        () => assert.fail("should reject"),
        (err: unknown) => err,
      );
      assert.ok(e instanceof LinkDetach, String(e));
      assert.equal(e.condition, "amqp:unauthorized-access");
      assert.equal(e.description, "the right 'listen' on 'orders' is not granted to user 'carol'");
    } finally {
      await receiver.close();
    }
    assert.equal(b.deniedRequests, 2);
  });

  it("refuses to start with a malformed rule, or one naming what the broker cannot verify (BrokerError)", async () => {
    const refused = async (options: BrokerOptions, reason: RegExp): Promise<void> => {
      let started: Broker | undefined;
      await assert.rejects(
        Broker.start(options).then((b) => {
          started = b; // closed below, so that a failure cannot keep the process alive
        }),
        (e: unknown) => e instanceof BrokerError && reason.test(e.message),
      );
      await started?.close();
    };
    const users = { sasl: { users: USERS } };
    const rule = (r: unknown): BrokerOptions => ({
      ...users,
      cbs: { keys: KEYS },
      authorization: { rules: [r as BrokerAuthorizationRule] },
    });
    await refused(
      rule({ rights: ["send"], addresses: ["q"] }),
      /rules\[0\] must name exactly one of user, keyName or anonymous \(it names none\)/,
    );
    await refused(
      rule({ user: "alice", keyName: "ListenOnly", rights: ["send"], addresses: ["q"] }),
      /it names user and keyName/,
    );
    await refused(
      rule({ user: "alice", rights: ["read"], addresses: ["q"] }),
      /rules\[0\]\.rights holds "read"/,
    );
    await refused(
      rule({ user: "alice", rights: [], addresses: ["q"] }),
      /rules\[0\]\.rights must be a non-empty list/,
    );
    await refused(rule({ user: "alice", rights: ["send"], addresses: [] }), /rules\[0\]\.addresses must be/);
    await refused(
      rule({ user: "alice", rights: ["send"], addresses: ["a*b"] }),
      /'\*' may only end an address/,
    );
    await refused(
      rule({ user: "alice", rights: ["send"], addresses: ["q"], users: "x" }),
      /unknown key 'users'/,
    );
    await refused(rule({ anonymous: false, rights: ["send"], addresses: ["q"] }), /anonymous must be true/);
    await refused(
      rule({ keyName: "Nope", rights: ["send"], addresses: ["q"] }),
      /'Nope', which cbs\.keys does not hold/,
    );
    await refused(
      { authorization: { rules: [{ user: "alice", rights: ["send"], addresses: ["q"] }] } },
      /PLAIN accepts any name and password/,
    );
    await refused(
      { ...users, authorization: { rules: [{ keyName: "K", rights: ["send"], addresses: ["q"] }] } },
      /SAS tokens are not verified: configure cbs\.keys/,
    );
    await refused({ authorization: {} as never }, /authorization\.rules must be a list/);
    // EXTERNAL only: a user name is a certificate's, so a rule may name it without sasl.users.
    const external = await Broker.start({
      sasl: { mechanisms: ["EXTERNAL"] },
      authorization: { rules: [{ user: "client.example", rights: ["send"], addresses: ["q"] }] },
    });
    await external.close();
  });
});

describe("broker: authorization rules with @azure/service-bus", { timeout: 60_000 }, () => {
  const { keep } = brokerFixture();

  it("a connection string's key name gets the rights the rules give it: a send-only key cannot receive", async () => {
    const keys = { SendOnly: "c2VuZC1vbmx5LWtleQ==", ListenOnly: LISTEN_KEY };
    const b = keep(
      await Broker.start({
        cbs: { keys },
        authorization: {
          rules: [
            { keyName: "SendOnly", rights: ["send"], addresses: ["orders"] },
            { keyName: "ListenOnly", rights: ["listen"], addresses: ["orders"] },
          ],
        },
      }),
    );
    const connectionString = (keyName: keyof typeof keys): string =>
      `Endpoint=sb://127.0.0.1:${b.port!};SharedAccessKeyName=${keyName};SharedAccessKey=${keys[keyName]};UseDevelopmentEmulator=true`;
    const retryOptions = { maxRetries: 0, timeoutInMs: 10_000 };
    const sending = new ServiceBusClient(connectionString("SendOnly"), { retryOptions });
    const listening = new ServiceBusClient(connectionString("ListenOnly"), { retryOptions });
    try {
      await sending.createSender("orders").sendMessages({ body: "order 1" });
      const refused = await rejectionOf(
        sending.createReceiver("orders").receiveMessages(1, { maxWaitTimeInMs: 1000 }),
        "a receive with a send-only key",
      );
      assert.ok(isServiceBusError(refused), String(refused));
      assert.equal(refused.code, "UnauthorizedAccess");
      assert.match(refused.message, /the right 'listen' on 'orders' is not granted/);

      const got = await listening.createReceiver("orders").receiveMessages(1, { maxWaitTimeInMs: 5000 });
      assert.deepEqual(
        got.map((m) => m.body),
        ["order 1"],
      );
      const sendRefused = await rejectionOf(
        listening.createSender("orders").sendMessages({ body: "x" }),
        "a send with a listen-only key",
      );
      assert.ok(isServiceBusError(sendRefused), String(sendRefused));
      assert.equal(sendRefused.code, "UnauthorizedAccess");
    } finally {
      await within(sending.close(), "closing the sending client");
      await within(listening.close(), "closing the listening client");
    }
  });
});
