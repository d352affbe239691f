/**
 * Smoke tests of the real peers (scripts/peers/): each starts, answers the SASL header, and carries
 * messages byte-exact for rhea (the reference JS client). Skipped locally when a peer is not installed;
 * a failure under CI=true (see test/support/peers.ts).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect as netConnect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import rhea from "rhea";
import type { Connection, EventContext } from "rhea";
import { AMQPArray, AMQPDescribed, AMQPSymbol, AMQPuLong, decodeAt } from "../../src/codec/index.js";
import {
  peerSkip,
  runPython,
  startPeer,
  startTlsFront,
  uamqpAvailable,
  type RunningPeer,
  type TlsFront,
} from "../support/peers.js";

const SASL_HEADER = Buffer.from("AMQP\x03\x01\x00\x00", "latin1");
const TIMEOUT = { timeout: 60_000 };

// rhea decodes format-0 transfers before handing them out: keep the raw payload of every decoded message.
const rawPayloads = new WeakMap<object, Buffer>();
const rheaDecode = rhea.message.decode.bind(rhea.message);
rhea.message.decode = (buffer) => {
  const m = rheaDecode(buffer);
  rawPayloads.set(m, Buffer.from(buffer));
  return m;
};
function rawOf(ctx: EventContext): Buffer {
  const raw = ctx.message === undefined ? undefined : rawPayloads.get(ctx.message);
  assert.ok(raw, "no raw payload captured for the message");
  return raw;
}

/** Sends the SASL protocol header; resolves with the peer's header and its sasl-mechanisms. */
function saslExchange(peer: RunningPeer): Promise<{ header: Buffer; mechanisms: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: peer.host, port: peer.port });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error("no SASL answer within 10 s")), 10_000);
    function fail(e: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    }
    socket.on("connect", () => socket.write(SASL_HEADER));
    socket.on("error", fail);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 12) return;
      const frameSize = data.readUInt32BE(8);
      if (data.length < 8 + frameSize) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        const body = data.subarray(8 + 4 * data.readUInt8(12), 8 + frameSize);
        const frame = decodeAt(body).value;
        assert.ok(frame instanceof AMQPDescribed);
        assert.ok(
          frame.descriptor instanceof AMQPuLong && frame.descriptor.value === 0x40n,
          "sasl-mechanisms",
        );
        assert.ok(Array.isArray(frame.value));
        const mechs: unknown = frame.value[0];
        const list = mechs instanceof AMQPArray ? mechs.value : [mechs];
        resolve({
          header: data.subarray(0, 8),
          mechanisms: list.map((m) => (m instanceof AMQPSymbol ? m.value : String(m))),
        });
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

function withTimeout<T>(
  what: string,
  ms: number,
  run: (resolve: (v: T) => void, reject: (e: Error) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    run(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** SASL: PLAIN with username + password, ANONYMOUS with a username only, none without a username. */
interface Credentials {
  username?: string;
  password?: string;
}

function open(peer: RunningPeer, credentials: Credentials = {}): Promise<Connection> {
  const container = rhea.create_container();
  return withTimeout("connection open", 15_000, (resolve, reject) => {
    const conn = container.connect({ host: peer.host, port: peer.port, reconnect: false, ...credentials });
    conn.once("connection_open", () => resolve(conn));
    conn.once("connection_error", (ctx) =>
      reject(new Error(`connection error: ${String(ctx.connection.error)}`)),
    );
    conn.once("disconnected", (ctx) => reject(new Error(`disconnected: ${String(ctx.error)}`)));
  });
}

function close(conn: Connection): Promise<void> {
  if (!conn.is_open()) return Promise.resolve();
  return withTimeout("connection close", 10_000, (resolve) => {
    conn.once("connection_close", () => resolve());
    conn.once("disconnected", () => resolve());
    conn.close();
  });
}

/** Sends raw message payloads (format 0) and resolves once all are accepted. */
function sendAll(conn: Connection, address: string, payloads: readonly Buffer[]): Promise<void> {
  return withTimeout(`send to ${address}`, 30_000, (resolve, reject) => {
    const sender = conn.open_sender({ target: { address } });
    let next = 0;
    let accepted = 0;
    const pump = (): void => {
      while (next < payloads.length && sender.sendable()) sender.send(payloads[next++]!, undefined, 0);
    };
    sender.on("sendable", pump);
    sender.on("accepted", () => {
      if (++accepted === payloads.length) {
        sender.close();
        resolve();
      }
    });
    sender.on("rejected", () => reject(new Error("a message was rejected")));
    sender.on("released", () => reject(new Error("a message was released")));
    sender.on("sender_error", (ctx) => reject(new Error(`sender error: ${String(ctx.sender?.error)}`)));
  });
}

/** Receives `count` messages (auto-accepted) and resolves with their raw payloads. */
function receiveAll(conn: Connection, address: string, count: number): Promise<Buffer[]> {
  return withTimeout(`receive from ${address}`, 30_000, (resolve, reject) => {
    const receiver = conn.open_receiver({ source: { address }, credit_window: 50 });
    const got: Buffer[] = [];
    receiver.on("message", (ctx) => {
      got.push(rawOf(ctx));
      if (got.length === count) {
        receiver.close();
        resolve(got);
      }
    });
    receiver.on("receiver_error", (ctx) =>
      reject(new Error(`receiver error: ${String(ctx.receiver?.error)}`)),
    );
  });
}

/** 100 varied messages encoded by rhea: properties, application properties, string / binary / empty bodies. */
function smokeMessages(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 100; i++) {
    const body =
      i % 4 === 0
        ? `text ${i} ${"é".repeat(i)}`
        : i % 4 === 1
          ? rhea.message.data_section(randomBytes(i * 13))
          : i % 4 === 2
            ? rhea.message.data_section(Buffer.alloc(0))
            : { k: i, nested: { flag: true } };
    out.push(
      rhea.message.encode({
        message_id: `m-${i}`,
        subject: i % 2 === 0 ? "even" : "odd",
        content_type: "application/octet-stream",
        application_properties: { i, s: `v${i}` },
        body: i === 99 ? rhea.message.data_section(randomBytes(300_000)) : body,
      }),
    );
  }
  return out;
}

/** The payload without its leading header section (0x00 0x53 0x70 <list>), if it has one. */
function withoutHeader(payload: Buffer): Buffer {
  if (payload.length < 3 || payload[0] !== 0x00 || payload[1] !== 0x53 || payload[2] !== 0x70) return payload;
  return payload.subarray(decodeAt(payload, 0).offset);
}

/** The text of a payload's single data section (decoded with our codec). */
function dataBody(payload: Buffer): string {
  for (let offset = 0; offset < payload.length;) {
    const { value, offset: next } = decodeAt(payload, offset);
    offset = next;
    if (
      value instanceof AMQPDescribed &&
      value.descriptor instanceof AMQPuLong &&
      value.descriptor.value === 0x75n
    ) {
      assert.ok(value.value instanceof Uint8Array, "data section holds binary");
      return Buffer.from(value.value).toString();
    }
  }
  assert.fail("no data section");
}

function deliveryCount(ctx: EventContext): number {
  return ctx.message?.delivery_count ?? 0;
}

describe("peer: RabbitMQ 3.10 (AMQP 1.0 plugin)", { skip: peerSkip("rabbitmq") }, () => {
  let peer: RunningPeer;
  before(async () => {
    peer = await startPeer("rabbitmq");
  });
  after(async () => {
    await peer.stop();
  });

  it("answers the SASL header and offers PLAIN and ANONYMOUS", TIMEOUT, async () => {
    const { header, mechanisms } = await saslExchange(peer);
    assert.deepEqual(header, SASL_HEADER);
    assert.ok(mechanisms.includes("PLAIN"), mechanisms.join(","));
    assert.ok(mechanisms.includes("ANONYMOUS"), mechanisms.join(","));
  });

  it(
    "carries 100 messages to /queue/... and back, bare message byte-exact (PLAIN guest)",
    TIMEOUT,
    async () => {
      const conn = await open(peer, { username: "guest", password: "guest" });
      try {
        const address = `/queue/smoke-${randomBytes(6).toString("hex")}`;
        const sent = smokeMessages();
        await sendAll(conn, address, sent);
        const got = await receiveAll(conn, address, sent.length);
        // RabbitMQ replaces the header section with its own; everything after it comes back as sent.
        got.forEach((payload, i) => {
          assert.equal(payload[2], 0x70, `message ${i} starts with a header`);
          assert.ok(withoutHeader(payload).equals(withoutHeader(sent[i]!)), `message ${i} differs`);
        });
      } finally {
        await close(conn);
      }
    },
  );

  it("accepts SASL ANONYMOUS (acting as guest)", TIMEOUT, async () => {
    const conn = await open(peer, { username: "anonymous" });
    await close(conn);
  });
});

// Python uamqp sends to and receives from the Proton broker (through the TLS front); rhea does the other half.
const UAMQP_ROUND_TRIP = `
import json, sys, uamqp
from uamqp import authentication
port, ca, queue, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def auth():
    return authentication.SASLAnonymous("localhost", port=port, verify=ca)
target = "amqps://localhost:%d/%s" % (port, queue)
if mode == "send":
    client = uamqp.SendClient(target, auth=auth())
    for i in range(3):
        client.queue_message(uamqp.Message(("from uamqp %d" % i).encode()))
    print(json.dumps([str(s) for s in client.send_all_messages()]))
    client.close()
else:
    client = uamqp.ReceiveClient(target, auth=auth(), timeout=10000)
    got = []
    while len(got) < 3:
        batch = client.receive_message_batch(max_batch_size=3 - len(got))
        if not batch:
            break
        for m in batch:
            got.append(b"".join(m.get_data()).decode())
            m.accept()
    client.close()
    print(json.dumps(got))
`;

describe("peer: Qpid Proton broker (scripts/peers/proton-broker.py)", { skip: peerSkip("proton") }, () => {
  let peer: RunningPeer;
  before(async () => {
    peer = await startPeer("proton");
  });
  after(async () => {
    await peer.stop();
  });
  const queue = (): string => `smoke-${randomBytes(6).toString("hex")}`;

  it("answers the SASL header and offers ANONYMOUS", TIMEOUT, async () => {
    const { header, mechanisms } = await saslExchange(peer);
    assert.deepEqual(header, SASL_HEADER);
    assert.deepEqual(mechanisms, ["ANONYMOUS"]);
  });

  it("carries 100 messages and back byte-exact (SASL ANONYMOUS)", TIMEOUT, async () => {
    const conn = await open(peer, { username: "anonymous" });
    try {
      const address = queue();
      const sent = smokeMessages();
      await sendAll(conn, address, sent);
      const got = await receiveAll(conn, address, sent.length);
      got.forEach((payload, i) => assert.ok(payload.equals(sent[i]!), `message ${i} differs`));
    } finally {
      await close(conn);
    }
  });

  it("accepts a client that skips SASL", TIMEOUT, async () => {
    const conn = await open(peer);
    try {
      const address = queue();
      const [payload] = smokeMessages();
      await sendAll(conn, address, [payload!]);
      const [got] = await receiveAll(conn, address, 1);
      assert.ok(got?.equals(payload!));
    } finally {
      await close(conn);
    }
  });

  it("redelivers a released message with delivery-count 1", TIMEOUT, async () => {
    const conn = await open(peer, { username: "anonymous" });
    try {
      const address = queue();
      const sent = rhea.message.encode({ message_id: "r1", body: "release me" });
      await sendAll(conn, address, [sent]);
      const seen = await withTimeout<{ count: number; raw: Buffer }[]>("redelivery", 20_000, (resolve) => {
        const receiver = conn.open_receiver({ source: { address }, autoaccept: false });
        const arrivals: { count: number; raw: Buffer }[] = [];
        receiver.on("message", (ctx) => {
          arrivals.push({ count: deliveryCount(ctx), raw: rawOf(ctx) });
          if (arrivals.length === 1) ctx.delivery?.release();
          else {
            ctx.delivery?.accept();
            receiver.close();
            resolve(arrivals);
          }
        });
      });
      assert.equal(seen.length, 2);
      assert.equal(seen[0]!.count, 0);
      assert.ok(seen[0]!.raw.equals(sent));
      assert.equal(seen[1]!.count, 1);
      assert.ok(withoutHeader(seen[1]!.raw).equals(withoutHeader(sent)), "redelivered bare message differs");
    } finally {
      await close(conn);
    }
  });

  it("redelivers the unsettled deliveries of a disconnected receiver", TIMEOUT, async () => {
    const address = queue();
    const sent = [0, 1, 2].map((i) => rhea.message.encode({ message_id: `d${i}`, body: `unsettled ${i}` }));
    const first = await open(peer, { username: "anonymous" });
    await sendAll(first, address, sent);
    await withTimeout("first receipt", 20_000, (resolve) => {
      const receiver = first.open_receiver({ source: { address }, autoaccept: false });
      let n = 0;
      receiver.on("message", () => {
        if (++n === sent.length) resolve(undefined);
      });
    });
    // Drop the TCP connection without settling, closing or detaching anything.
    const socket = (first as unknown as { socket: Socket }).socket;
    await withTimeout("socket teardown", 10_000, (resolve) => {
      socket.once("close", () => resolve(undefined));
      socket.destroy();
    });

    const second = await open(peer, { username: "anonymous" });
    try {
      const got = await withTimeout<EventContext[]>("redelivery", 20_000, (resolve) => {
        const receiver = second.open_receiver({ source: { address } });
        const arrivals: EventContext[] = [];
        receiver.on("message", (ctx) => {
          arrivals.push(ctx);
          if (arrivals.length === sent.length) resolve(arrivals);
        });
      });
      got.forEach((ctx, i) => {
        assert.equal(deliveryCount(ctx), 1, `message ${i}: delivery-count`);
        assert.ok(withoutHeader(rawOf(ctx)).equals(withoutHeader(sent[i]!)), `message ${i} differs`);
      });
    } finally {
      await close(second);
    }
  });

  describe("with Python uamqp through the TLS front", { skip: peerSkip("uamqp") }, () => {
    let tls: TlsFront;
    before(async () => {
      tls = await startTlsFront(peer);
    });
    after(async () => {
      await tls.stop();
    });

    it("uamqp sends what rhea receives, and receives what rhea sends", TIMEOUT, async () => {
      const toRhea = `uamqp-${randomBytes(6).toString("hex")}`;
      const sent = await runPython(UAMQP_ROUND_TRIP, [String(tls.port), tls.caFile, toRhea, "send"], {
        timeoutMs: 30_000,
      });
      assert.equal(sent.code, 0, sent.stderr);
      assert.deepEqual(JSON.parse(sent.stdout), Array(3).fill("MessageState.SendComplete"));

      const conn = await open(peer, { username: "anonymous" });
      try {
        const got = await receiveAll(conn, toRhea, 3);
        assert.deepEqual(
          got.map((raw) => dataBody(raw)),
          ["from uamqp 0", "from uamqp 1", "from uamqp 2"],
        );
        const toUamqp = `rhea-${randomBytes(6).toString("hex")}`;
        const payloads = [0, 1, 2].map((i) =>
          rhea.message.encode({ body: rhea.message.data_section(Buffer.from(`from rhea ${i}`)) }),
        );
        await sendAll(conn, toUamqp, payloads);
        const received = await runPython(
          UAMQP_ROUND_TRIP,
          [String(tls.port), tls.caFile, toUamqp, "receive"],
          {
            timeoutMs: 30_000,
          },
        );
        assert.equal(received.code, 0, received.stderr);
        assert.deepEqual(JSON.parse(received.stdout), ["from rhea 0", "from rhea 1", "from rhea 2"]);
      } finally {
        await close(conn);
      }
    });
  });
});

describe("peer: Python uamqp (python3-uamqp)", { skip: peerSkip("uamqp") }, () => {
  it("imports in /usr/bin/python3 and reports its version", TIMEOUT, async () => {
    const r = await runPython("import sys, uamqp; print(uamqp.__version__); print(sys.argv[1])", ["arg-ok"], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const [version, arg] = r.stdout.trim().split("\n");
    assert.match(version ?? "", /^\d+\.\d+\.\d+/);
    assert.equal(arg, "arg-ok");
    const a = uamqpAvailable();
    assert.ok(a.ok);
    assert.equal(a.version, version);
  });

  it("runPython reports a failing script and kills a hanging one", TIMEOUT, async () => {
    const failing = await runPython("import sys; sys.stderr.write('boom'); sys.exit(3)", [], {
      timeoutMs: 20_000,
    });
    assert.equal(failing.code, 3);
    assert.equal(failing.stderr, "boom");
    assert.equal(failing.timedOut, false);
    const hanging = await runPython("import time; time.sleep(60)", [], { timeoutMs: 300 });
    assert.equal(hanging.timedOut, true);
    assert.equal(hanging.code, null);
    assert.equal(hanging.signal, "SIGKILL");
  });
});
