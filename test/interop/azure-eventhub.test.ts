/**
 * Azure's own Python SDK against the embedded broker: `azure-eventhub` 5.11+ (Debian python3-azure),
 * whose pure-Python AMQP stack reads performative fields by position (see
 * src/engine/performative-form.ts). It opens a connection, attaches `$cbs`, puts a SAS token for a
 * guarded event hub and sends a batch; the SDK's own field reads are the test. Driven by
 * test/interop/python/eventhub_producer.py over AMQP over WebSocket (TLS, the SDK's
 * `custom_endpoint_address`, with its network trace on) and over AMQP over TLS; then a batch with a
 * partition key goes to the hub's partitions and the SDK's consumer reads it back from the earliest
 * event. Skipped locally when the SDK is not installed; a failure under CI=true (see
 * test/support/peers.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Broker, type BrokerEvent } from "../../src/broker/index.js";
import { mapPartitionKeyToId } from "../../node_modules/@azure/event-hubs/dist/esm/impl/partitionKeyToIdMapper.js";
import { readSections } from "../../src/message/decode.js";
import { getTestCertificates } from "../support/certs.js";
import { azureEventHubAvailable, peerSkip, runPython } from "../support/peers.js";

const TIMEOUT = { timeout: 90_000 };
const PYTHON_TIMEOUT_MS = 60_000;
const KEY_NAME = "RootManageSharedAccessKey";
const KEY = Buffer.from("a key of the embedded broker").toString("base64");
const SCRIPT = readFileSync(new URL("./python/eventhub_producer.py", import.meta.url), "utf8");

/** The Data sections of a batch message (format 0x80013700): each one an encoded message. */
function eventBodies(payload: Buffer): string[] {
  const batch = readSections(payload);
  assert.equal(batch.body.type, "data");
  return batch.body.sections.map((inner) => {
    const event = readSections(inner);
    assert.equal(event.body.type, "data");
    return Buffer.concat(event.body.sections).toString();
  });
}

describe(
  "azure-eventhub (Azure's Python SDK) against the embedded broker",
  { skip: peerSkip("azure-eventhub") },
  () => {
    let broker: Broker;
    let dir: string;
    let caFile: string;
    before(async () => {
      const certs = await getTestCertificates();
      dir = await mkdtemp(join(tmpdir(), "uamqp-eventhub-"));
      caFile = join(dir, "ca.pem");
      await writeFile(caFile, certs.ca);
      broker = await Broker.start({
        tls: { cert: certs.serverCert, key: certs.serverKey },
        webSocket: { tls: true },
        cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: (address) => address.startsWith("hub-") },
      });
    });
    after(async () => {
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    });

    for (const transport of ["wss", "tls"] as const) {
      it(
        `sends a batch over ${transport === "wss" ? "AMQP over WebSocket" : "AMQP over TLS"}, after a put-token on $cbs`,
        TIMEOUT,
        async () => {
          const hub = `hub-${transport}-${process.pid}`;
          const events: BrokerEvent[] = [];
          const stop = broker.observe((e) =>
            events.push(e.type === "message" ? { ...e, payload: Buffer.from(e.payload) } : e),
          );
          const port = transport === "wss" ? broker.wsPort : broker.tlsPort;
          assert.ok(port !== undefined);
          const trace = transport === "wss" ? "1" : "0";
          let r;
          try {
            r = await runPython(SCRIPT, [String(port), caFile, hub, KEY_NAME, KEY, transport, trace], {
              timeoutMs: PYTHON_TIMEOUT_MS,
            });
          } finally {
            stop();
          }
          assert.equal(
            r.timedOut,
            false,
            `the SDK did not finish within ${PYTHON_TIMEOUT_MS} ms:\n${r.stderr}`,
          );
          assert.equal(r.code, 0, `the SDK failed:\n${r.stderr.slice(-4000)}`);
          const out = JSON.parse(r.stdout) as { version: string; sent: string[] };
          const sdk = azureEventHubAvailable();
          assert.ok(sdk.ok);
          assert.equal(out.version, sdk.version, "the SDK version the suite checked ran");

          // The SDK authorized itself through $cbs (the hub is guarded: no token, no link).
          const putTokens = events.filter(
            (e): e is Extract<BrokerEvent, { type: "request" }> =>
              e.type === "request" && e.request.node === "$cbs" && e.request.operation === "put-token",
          );
          assert.ok(putTokens.length >= 1, "a put-token reached $cbs");
          assert.ok(
            putTokens.every((e) => e.response?.statusCode === 200),
            "every put-token was accepted",
          );
          assert.ok(
            putTokens.some((e) => e.request.name?.endsWith(`/${hub}`)),
            "a token for the hub",
          );

          // What it sent is one batch message holding the events.
          const messages = events.filter(
            (e): e is Extract<BrokerEvent, { type: "message" }> => e.type === "message" && e.address === hub,
          );
          assert.equal(messages.length, 1, "one batch");
          assert.equal(messages[0]!.messageFormat, 0x80013700);
          assert.deepEqual(eventBodies(messages[0]!.payload), out.sent);
          // The SDK is an Event Hubs client: its sends to the hub's name went to the hub's partitions.
          const stats = broker.eventHubStats(hub);
          assert.ok(stats, "the hub exists");
          assert.equal(
            stats.partitions.reduce((n, p) => n + p.eventCount, 0),
            out.sent.length,
          );
          assert.equal(broker.stats(hub).messageCount, 0, "no queue holds them");
        },
      );
    }

    it("sends a batch with a partition key and receives it from the earliest event", TIMEOUT, async () => {
      const hub = `hub-round-trip-${process.pid}`;
      const port = broker.tlsPort;
      assert.ok(port !== undefined);
      const r = await runPython(
        SCRIPT,
        [String(port), caFile, hub, KEY_NAME, KEY, "tls", "0", "round-trip"],
        {
          timeoutMs: PYTHON_TIMEOUT_MS,
        },
      );
      assert.equal(r.timedOut, false, `the SDK did not finish within ${PYTHON_TIMEOUT_MS} ms:\n${r.stderr}`);
      assert.equal(r.code, 0, `the SDK failed:\n${r.stderr.slice(-4000)}`);
      const out = JSON.parse(r.stdout) as {
        sent: string[];
        received: {
          body: string;
          partition: string;
          sequence_number: number;
          offset: string;
          enqueued_time: number;
          partition_key: string;
        }[];
      };
      const partition = String(mapPartitionKeyToId("py-key", 2));
      const p = broker.eventHubStats(hub)?.partitions[Number(partition)];
      assert.ok(p);
      assert.deepEqual(
        out.received.map((e) => e.body),
        out.sent,
      );
      assert.deepEqual(
        out.received.map((e) => [e.partition, e.sequence_number, e.partition_key]),
        out.sent.map((_, i) => [partition, i, "py-key"]),
      );
      assert.equal(out.received[0]!.offset, "0");
      assert.equal(out.received.at(-1)!.offset, p.lastEnqueuedOffset);
      assert.equal(out.received.at(-1)!.enqueued_time, p.lastEnqueuedTimeUtc.getTime());
      for (let i = 1; i < out.received.length; i++) {
        assert.ok(Number(out.received[i]!.offset) > Number(out.received[i - 1]!.offset));
      }
    });
  },
);
