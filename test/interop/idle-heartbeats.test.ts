/**
 * The broker's idle time-out against Python clients: Qpid Proton's `BlockingConnection` and Python
 * uamqp 1.5.3 (over TLS) each wait for a message five idle time-outs long, on a broker announcing
 * one second, and are not closed: they send empty frames (heartbeats) while their application waits
 * (AMQP 1.0 section 2.4.5). Driven by test/interop/python/idle_heartbeats.py. Skipped locally when a
 * peer is not installed; a failure under CI=true (see test/support/peers.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Broker, type BrokerEvent } from "../../src/broker/index.js";
import { getTestCertificates } from "../support/certs.js";
import { peerSkip, runPython } from "../support/peers.js";

const TIMEOUT = { timeout: 60_000 };
// An idle time-out of a second leaves the heartbeats (every half second) room on a loaded machine.
const IDLE_TIMEOUT_MS = 1000;
const IDLE_MS = 5000;

async function runIdle(args: readonly string[]): Promise<{ idle: unknown[]; body: string | null }> {
  const script = readFileSync(new URL("./python/idle_heartbeats.py", import.meta.url), "utf8");
  const r = await runPython(script, args, { timeoutMs: 45_000 });
  assert.equal(r.timedOut, false, `idle_heartbeats.py ${args[0]} did not finish:\n${r.stderr}`);
  assert.equal(r.code, 0, `idle_heartbeats.py ${args[0]} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as { idle: unknown[]; body: string | null };
}

/** Connection closes the broker reported with an error (an idle close among them). */
function failedCloses(events: readonly BrokerEvent[]): unknown[] {
  return events.flatMap((e) => (e.type === "connection-close" && e.error !== undefined ? [e.error] : []));
}

describe("broker idle time-out: Python clients heartbeat", () => {
  it(
    "Qpid Proton (BlockingConnection) is not closed while it waits 5 idle time-outs",
    {
      ...TIMEOUT,
      skip: peerSkip("proton"),
    },
    async () => {
      await using broker = await Broker.start({ limits: { idleTimeoutMs: IDLE_TIMEOUT_MS } });
      const events: BrokerEvent[] = [];
      broker.observe((e) => events.push(e));
      const r = await runIdle(["proton", broker.url!, "proton-idle", String(IDLE_MS)]);
      assert.deepEqual(r, { idle: [], body: "after the silence" });
      assert.deepEqual(failedCloses(events), []);
    },
  );

  it(
    "Python uamqp is not closed while it waits 5 idle time-outs",
    {
      ...TIMEOUT,
      skip: peerSkip("uamqp"),
    },
    async () => {
      const certs = await getTestCertificates();
      const dir = await mkdtemp(join(tmpdir(), "uamqp-idle-"));
      try {
        const caFile = join(dir, "ca.pem");
        await writeFile(caFile, certs.ca);
        await using broker = await Broker.start({
          tls: { cert: certs.serverCert, key: certs.serverKey },
          limits: { idleTimeoutMs: IDLE_TIMEOUT_MS },
        });
        const events: BrokerEvent[] = [];
        broker.observe((e) => events.push(e));
        const r = await runIdle(["uamqp", String(broker.tlsPort), caFile, "uamqp-idle", String(IDLE_MS)]);
        assert.deepEqual(r, { idle: [], body: "after the silence" });
        assert.deepEqual(failedCloses(events), []);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
