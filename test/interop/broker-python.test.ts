/**
 * The embedded broker with real Python peers: Qpid Proton's `BlockingConnection` (plain TCP, SASL
 * ANONYMOUS) and Python uamqp 1.5.3 (TLS only), each driven by a script in test/interop/python/ that
 * prints one JSON object. Skipped locally when a peer is not installed; a failure under CI=true (see
 * test/support/peers.ts).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Broker, type BrokerEvent } from "../../src/broker/index.js";
import { AMQPDouble, AMQPSymbol, AMQPUuid } from "../../src/codec/values.js";
import { readSections } from "../../src/message/decode.js";
import { getTestCertificates } from "../support/certs.js";
import { peerSkip, runPython, type PythonResult } from "../support/peers.js";

const TIMEOUT = { timeout: 70_000 };
const PYTHON_TIMEOUT_MS = 55_000;

function script(name: string): string {
  return readFileSync(new URL(`./python/${name}`, import.meta.url), "utf8");
}

/** Runs a script of test/interop/python/ and parses the JSON it prints. */
async function runScript<T>(name: string, args: readonly string[]): Promise<T> {
  const r: PythonResult = await runPython(script(name), args, { timeoutMs: PYTHON_TIMEOUT_MS });
  assert.equal(r.timedOut, false, `${name} did not finish within ${PYTHON_TIMEOUT_MS} ms:\n${r.stderr}`);
  assert.equal(r.code, 0, `${name} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const queueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString("hex")}`;

/** Records the broker's events; `stop()` removes the listener. */
function record(broker: Broker): { events: BrokerEvent[]; stop: () => void } {
  const events: BrokerEvent[] = [];
  const stop = broker.observe((e) => {
    // The payload may be a view of a buffer the broker reuses: keep a copy.
    events.push(e.type === "message" ? { ...e, payload: Buffer.from(e.payload) } : e);
  });
  return { events, stop };
}

/** Waits (bounded) until the queue holds no message, ready or locked. */
async function drained(broker: Broker, queue: string): Promise<void> {
  for (let i = 0; i < 200 && broker.stats(queue).messageCount > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(
    { messageCount: broker.stats(queue).messageCount, lockedCount: broker.stats(queue).lockedCount },
    { messageCount: 0, lockedCount: 0 },
    `queue ${queue} is not empty`,
  );
}

interface ProtonRoundTrip {
  sent: string[];
  received: string[];
  outcomes: Record<string, number>;
  mismatches: unknown[];
  first: { id: string; properties: Record<string, string>; body: string };
}

interface ProtonArrival {
  step: string;
  body: string;
  deliveryCount: number;
  bare: string;
  full: string;
}

interface ProtonPeekLock {
  sent: Record<string, string>;
  sentFull: Record<string, string>;
  steps: ProtonArrival[];
}

describe(
  "embedded broker with Qpid Proton's Python client (BlockingConnection)",
  { skip: peerSkip("proton") },
  () => {
    let broker: Broker;
    before(async () => {
      broker = await Broker.start();
    });
    after(async () => {
      await broker.close();
    });

    it("carries 10,000 messages from Proton and back, byte-exact", TIMEOUT, async () => {
      const queue = queueName("proton-rt");
      const count = 10_000;
      const { events, stop } = record(broker);
      let r: ProtonRoundTrip;
      try {
        r = await runScript<ProtonRoundTrip>("proton_round_trip.py", [broker.url!, queue, String(count)]);
      } finally {
        stop();
      }
      assert.deepEqual(r.outcomes, { ACCEPTED: count });
      assert.deepEqual(r.mismatches, [], "messages differ once decoded by Proton");
      assert.equal(r.first.id, "m-0");
      assert.equal(r.first.body, "'text 0'");

      // What the broker got is exactly what Proton encoded, and Proton got exactly that back.
      const stored = events.filter(
        (e): e is Extract<BrokerEvent, { type: "message" }> => e.type === "message" && e.address === queue,
      );
      assert.equal(stored.length, count);
      assert.ok(stored.every((e) => e.messageFormat === 0 && !e.settled));
      assert.deepEqual(
        stored.map((e) => sha256(e.payload)),
        r.sent,
        "the broker stored other bytes than Proton sent",
      );
      assert.equal(r.received.length, count);
      assert.deepEqual(r.received, r.sent, "Proton received other bytes than it sent");

      // Our decoder reads Proton's encodings (the types of the application properties included).
      stored.forEach((e, i) => {
        const m = readSections(e.payload);
        const p = m.applicationProperties ?? {};
        assert.equal(p["index"], BigInt(i)); // Proton sends a Python int as a long
        assert.equal(p["text"], `välue ${i}`);
        assert.equal(p["flag"], i % 2 === 1);
        assert.ok(p["ratio"] instanceof AMQPDouble && p["ratio"].value === i / 8);
        assert.deepEqual(p["blob"], Buffer.from([i % 256, (i >> 8) % 256]));
        assert.ok(p["id"] instanceof AMQPUuid);
        assert.ok(p["sym"] instanceof AMQPSymbol && p["sym"].value === `s${i % 5}`);
        assert.equal(m.properties?.messageId, `m-${i}`);
        if (i % 4 === 0) assert.deepEqual(m.body, { type: "value", value: `text ${i}` });
      });
      await drained(broker, queue);
    });

    it(
      "PeekLock: redelivers after release, modified and a dropped connection, with the right delivery-count",
      TIMEOUT,
      async () => {
        const queue = queueName("proton-pl");
        const { events, stop } = record(broker);
        let r: ProtonPeekLock;
        try {
          r = await runScript<ProtonPeekLock>("proton_peeklock.py", [broker.url!, queue]);
        } finally {
          stop();
        }
        const seen = r.steps.map((s) => [s.step, s.body, s.deliveryCount]);
        assert.deepEqual(seen, [
          ["first", "p0", 0],
          // Proton's release() (delivered=True) settles with modified *without* delivery-failed, which is
          // not a failed delivery attempt (AMQP 1.0 §3.4.5): the count stays.
          ["after release()", "p0", 0],
          ["after modified(delivery-failed)", "p0", 1],
          ["after release(delivered=False)", "p0", 1],
          ["held by B", "p1", 0],
          ["held by B", "p2", 0],
          ["after B dropped", "p1", 1],
          ["after B dropped", "p2", 1],
        ]);
        // The first delivery is byte-exact; redeliveries differ in the header section only.
        assert.equal(r.steps[0]!.full, r.sentFull["p0"]);
        for (const s of r.steps)
          assert.equal(s.bare, r.sent[s.body], `${s.step} ${s.body}: the bare message differs`);

        // The outcomes Proton sent, as the broker read them.
        const outcomes = events.flatMap((e) =>
          e.type === "outcome" && e.address === queue ? [e.state] : [],
        );
        assert.deepEqual(
          outcomes.map((s) =>
            s?.type === "modified" ? `modified failed=${String(s.deliveryFailed === true)}` : s?.type,
          ),
          ["modified failed=false", "modified failed=true", "released", "accepted"],
        );
        // Connection B went away without CLOSE while holding p1 and p2.
        const holder = events.find(
          (e) => e.type === "attach" && e.role === "receiver" && e.address === `${queue}-drop`,
        );
        assert.ok(holder);
        const closeOfHolder = events.find(
          (e) => e.type === "connection-close" && e.connectionId === holder.connectionId,
        );
        assert.ok(
          closeOfHolder?.type === "connection-close" && closeOfHolder.error !== undefined,
          "B closed cleanly",
        );
        await drained(broker, queue);
        await drained(broker, `${queue}-drop`);
      },
    );
  },
);

interface UamqpRoundTrip {
  states: Record<string, number>;
  received: { body: string; properties: Record<string, unknown> }[];
}

describe("embedded broker with Python uamqp over TLS", { skip: peerSkip("uamqp") }, () => {
  let broker: Broker;
  let dir: string;
  let caFile: string;
  before(async () => {
    const certs = await getTestCertificates();
    dir = await mkdtemp(join(tmpdir(), "uamqp-broker-python-"));
    caFile = join(dir, "ca.pem");
    await writeFile(caFile, certs.ca);
    broker = await Broker.start({ tls: { cert: certs.serverCert, key: certs.serverKey } });
  });
  after(async () => {
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  });

  const bodyOf = (i: number): Buffer =>
    Buffer.concat([Buffer.from(`uamqp message ${i} `), Buffer.alloc(i % 50, i % 256)]);
  const rawOf = (i: number): Buffer => Buffer.from([0x21 + (i % 90), 0xc3, 0xa9, 0x7e]);

  it(
    "SendClient sends 1,000 messages with typed application properties; ReceiveClient gets them all",
    TIMEOUT,
    async () => {
      const queue = queueName("uamqp");
      const count = 1000;
      const { events, stop } = record(broker);
      let r: UamqpRoundTrip;
      try {
        r = await runScript<UamqpRoundTrip>("uamqp_round_trip.py", [
          String(broker.tlsPort),
          caFile,
          queue,
          String(count),
        ]);
      } finally {
        stop();
      }
      assert.deepEqual(r.states, { "MessageState.SendComplete": count });
      assert.equal(r.received.length, count);
      r.received.forEach((m, i) => {
        assert.equal(m.body, bodyOf(i).toString("hex"), `message ${i}: body`);
        // uamqp hands string values out as bytes.
        assert.deepEqual(
          m.properties,
          {
            index: i,
            big: (i + 1) * 2 ** 40,
            text: { hex: Buffer.from(`välue-${i}`).toString("hex") },
            even: i % 2 === 0,
            raw: { hex: rawOf(i).toString("hex") },
          },
          `message ${i}: application properties`,
        );
      });

      // On the wire (as the broker stored it): int, long, string, boolean; bytes went as a string
      // (uamqp 1.5.3 encodes Python `bytes` as an AMQP string, not as binary).
      const stored = events.filter(
        (e): e is Extract<BrokerEvent, { type: "message" }> => e.type === "message" && e.address === queue,
      );
      assert.equal(stored.length, count);
      stored.forEach((e, i) => {
        const m = readSections(e.payload);
        assert.deepEqual(m.applicationProperties, {
          index: i,
          big: BigInt(i + 1) << 40n,
          text: `välue-${i}`,
          even: i % 2 === 0,
          raw: rawOf(i).toString("utf8"),
        });
        assert.deepEqual(m.body, { type: "data", sections: [bodyOf(i)] });
      });
      await drained(broker, queue);
    },
  );
});
