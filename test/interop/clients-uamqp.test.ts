/**
 * Cross-client with the library we replace: Python uamqp 1.5.3 (over TLS to the embedded broker)
 * sends, our ReceiveClient receives; our SendClient sends, Python uamqp receives. Bodies,
 * properties, application properties and message annotations keep their AMQP types.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Broker } from "../../src/broker/broker.js";
import { ReceiveClient } from "../../src/client/receive-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { AMQPShort, AMQPSymbol, AMQPUuid } from "../../src/codec/values.js";
import { Message } from "../../src/message/message.js";
import { MessageState } from "../../src/message/message-state.js";
import { getTestCertificates } from "../support/certs.js";
import { peerSkip, runPython } from "../support/peers.js";
import { gather } from "../support/waits.js";

const TIMEOUT = { timeout: 90_000 };
const script = new URL("./python/uamqp_cross.py", import.meta.url).pathname;

async function py<T>(args: string[]): Promise<T> {
  const { readFile } = await import("node:fs/promises");
  const r = await runPython(await readFile(script, "utf8"), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

describe("cross-client with Python uamqp 1.5.3", { skip: peerSkip("uamqp"), ...TIMEOUT }, () => {
  let broker: Broker;
  let dir: string;
  let caFile: string;
  let ca: string;
  before(async () => {
    const certs = await getTestCertificates();
    ca = certs.ca;
    dir = await mkdtemp(join(tmpdir(), "uamqp-cross-"));
    caFile = join(dir, "ca.pem");
    await writeFile(caFile, certs.ca);
    broker = await Broker.start({ tls: { cert: certs.serverCert, key: certs.serverKey } });
  });
  after(async () => {
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  });

  const url = (q: string): string => `amqps://localhost:${broker.tlsPort}/${q}`;

  it("messages sent by Python uamqp arrive in our ReceiveClient with their AMQP types", TIMEOUT, async () => {
    const count = 50;
    const r = await py<{ states: Record<string, number> }>([
      "send",
      String(broker.tlsPort),
      caFile,
      "from-python",
      String(count),
    ]);
    assert.deepEqual(r.states, { "MessageState.SendComplete": count });
    await using receiver = new ReceiveClient(url("from-python"), { transport: { ca } });
    const got = await gather(
      count,
      () => receiver.receiveMessageBatch({ maxBatchSize: 50, timeout: 10_000 }),
      `${count} messages`,
      60_000,
    );
    const m = got[3]!;
    assert.equal(m.toString(), "python 3");
    assert.equal(m.properties?.messageId, "py-3");
    assert.equal(m.properties.subject, "cross");
    const ap = m.applicationProperties!;
    assert.equal(ap["int"], 3); // int stays int (JS number)
    assert.equal(ap["long"], 3n + (1n << 40n)); // long stays long (bigint)
    assert.ok(ap["short"] instanceof AMQPShort && ap["short"].value === 7);
    assert.ok(ap["symbol"] instanceof AMQPSymbol && ap["symbol"].value === "sym-3"); // symbol stays symbol
    assert.ok(ap["when"] instanceof Date && ap["when"].toISOString() === "2024-01-02T03:04:05.000Z"); // timestamp
    assert.ok(ap["id"] instanceof AMQPUuid && ap["id"].toString() === "f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
    assert.equal(ap["flag"], true);
    assert.equal(ap["text"], "t3");
    assert.equal(m.messageAnnotations?.["x-opt-index"], 3n);
  });

  it("messages sent by our SendClient arrive in Python uamqp with their AMQP types", TIMEOUT, async () => {
    const count = 20;
    const sent: Buffer[] = [];
    const stop = broker.observe((e) => {
      if (e.type === "message") sent.push(Buffer.from(e.payload));
    });
    await using sender = new SendClient(url("to-python"), { transport: { ca } });
    sender.queueMessage(
      ...Array.from(
        { length: count },
        (_, i) =>
          new Message({
            body: `ts ${i}`,
            properties: { messageId: `ts-${i}`, subject: "cross" },
            applicationProperties: {
              int: i,
              long: BigInt(i) << 40n,
              symbol: new AMQPSymbol(`s${i}`),
              when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
              id: new AMQPUuid("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
              text: `t${i}`,
            },
            messageAnnotations: { "x-opt-index": BigInt(i) },
          }),
      ),
    );
    assert.deepEqual(
      await sender.sendAllMessages({ closeOnDone: false }),
      Array(count).fill(MessageState.SendComplete),
    );
    const r = await py<{
      received: {
        applicationProperties: Record<string, [string, string]>;
        messageAnnotations: Record<string, unknown>;
        body: string;
      }[];
    }>(["receive", String(broker.tlsPort), caFile, "to-python", String(count)]);
    assert.equal(r.received.length, count);
    // uamqp decoded every value (its Python API turns strings and symbols into bytes and
    // timestamps into ms)…
    assert.equal(r.received[5]!.body, "ts 5");
    assert.deepEqual(r.received[5]!.applicationProperties, {
      int: ["int", "5"],
      long: ["int", String(5n << 40n)],
      symbol: ["bytes", "s5"],
      when: ["int", String(Date.UTC(2024, 0, 2, 3, 4, 5))],
      id: ["UUID", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"],
      text: ["bytes", "t5"],
    });
    // …from bytes that carried the AMQP types we chose (the broker forwards them unchanged).
    stop();
    const wire = Message.decode(sent.find((p) => Message.decode(p).toString() === "ts 5")!);
    const ap = wire.applicationProperties!;
    assert.equal(ap["int"], 5);
    assert.equal(ap["long"], 5n << 40n);
    assert.ok(ap["symbol"] instanceof AMQPSymbol);
    assert.ok(ap["when"] instanceof Date);
    assert.ok(ap["id"] instanceof AMQPUuid);
    assert.deepEqual(r.received[5]!.messageAnnotations, { "x-opt-index": 5 });
  });
});
