/**
 * Azure's Python SDK `azure-servicebus` 7.8 (Debian python3-azure, on Python uamqp) against the
 * embedded broker: it authenticates with SASL MSSBCBS and a `$cbs` put-token, sends three messages,
 * peeks them through `<queue>/$management`, receives them in PeekLock mode and completes each, then
 * peeks nothing. Over AMQP over TLS (the SDK dials its AMQPS port, pointed at the broker's TLS port)
 * and over AMQP over WebSocket (`custom_endpoint_address`, wss at `/$servicebus/websocket/`), with
 * the test CA. Driven by test/interop/python/servicebus_client.py. Skipped locally when the SDK is
 * missing; a failure under CI=true (see test/support/peers.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Broker, type BrokerEvent } from "../../src/broker/index.js";
import { getTestCertificates } from "../support/certs.js";
import { peerSkip, runPython } from "../support/peers.js";

const TIMEOUT = { timeout: 90_000 };
const PYTHON_TIMEOUT_MS = 60_000;
const KEY_NAME = "RootManageSharedAccessKey";
const KEY = Buffer.from("a key of the embedded broker").toString("base64");
const SCRIPT = readFileSync(new URL("./python/servicebus_client.py", import.meta.url), "utf8");

interface Received {
  body: string;
  sequence_number: number;
  delivery_count: number;
  lock_token: string;
  locked_until: string | null;
  enqueued_time: string | null;
}

interface ServiceBusResult {
  version: string;
  peeked: { body: string; sequence_number: number; state: string }[];
  received: Received[];
  peeked_after: string[];
  seconds: number;
}

describe(
  "azure-servicebus (Azure's Python SDK) against the embedded broker",
  { skip: peerSkip("azure-servicebus") },
  () => {
    let broker: Broker;
    let dir: string;
    let caFile: string;
    before(async () => {
      const certs = await getTestCertificates();
      dir = await mkdtemp(join(tmpdir(), "uamqp-servicebus-"));
      caFile = join(dir, "ca.pem");
      await writeFile(caFile, certs.ca);
      broker = await Broker.start({
        tls: { cert: certs.serverCert, key: certs.serverKey },
        webSocket: { tls: true, path: "/$servicebus/websocket/" },
        cbs: { keys: { [KEY_NAME]: KEY } },
      });
    });
    after(async () => {
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    });

    for (const transport of ["tls", "wss"] as const) {
      it(
        `sends, peeks, receives and completes over ${transport === "tls" ? "AMQP over TLS" : "AMQP over WebSocket"}`,
        TIMEOUT,
        async () => {
          const queue = `py-${transport}`;
          const events: BrokerEvent[] = [];
          const stop = broker.observe((e) => {
            if (e.type === "connection-open" || e.type === "request") events.push(e);
          });
          const port = transport === "tls" ? broker.tlsPort : broker.wsPort;
          let r;
          try {
            r = await runPython(SCRIPT, [String(port), caFile, queue, KEY_NAME, KEY, transport], {
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
          assert.equal(r.code, 0, r.stderr);
          const out = JSON.parse(r.stdout) as ServiceBusResult;
          assert.match(out.version, /^7\./);
          const sent = [0, 1, 2].map((i) => `python message ${i} via ${transport}`);
          assert.deepEqual(
            out.peeked.map((p) => [p.body, p.sequence_number, p.state]),
            sent.map((b, i) => [b, i + 1, "ServiceBusMessageState.ACTIVE"]),
          );
          assert.deepEqual(
            out.received.map((m) => [m.body, m.sequence_number, m.delivery_count]),
            sent.map((b, i) => [b, i + 1, 0]),
          );
          for (const m of out.received) {
            assert.match(m.lock_token, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
            assert.ok(
              m.locked_until !== null && Date.parse(m.locked_until) > Date.parse(m.enqueued_time ?? ""),
            );
          }
          assert.deepEqual(out.peeked_after, []);
          assert.equal(broker.stats(queue).messageCount, 0, "every message completed");
          // Token authentication: MSSBCBS, then put-tokens the broker verified against its key.
          const mechanisms = events.flatMap((e) => (e.type === "connection-open" ? [e.mechanism] : []));
          assert.ok(mechanisms.length > 0 && mechanisms.every((m) => m === "MSSBCBS"), String(mechanisms));
          const tokens = events.flatMap((e) =>
            e.type === "request" && e.request.node === "$cbs" ? [e.response?.statusCode] : [],
          );
          assert.ok(tokens.length > 0 && tokens.every((s) => s === 200), String(tokens));
          const peeks = events.flatMap((e) =>
            e.type === "request" && e.request.node === `${queue}/$management` ? [e.request.operation] : [],
          );
          assert.deepEqual(peeks, ["com.microsoft:peek-message", "com.microsoft:peek-message"]);
        },
      );
    }
  },
);
