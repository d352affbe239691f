/**
 * Python uamqp 1.5.3 (Debian python3-uamqp, over TLS) with SAS token authentication against the
 * embedded broker: SASL MSSBCBS, a put-token on `$cbs`, messages on a guarded address, and
 * `mgmt_request(READ)` on `$management`. Driven by test/interop/python/uamqp_token_auth.py, which
 * prints one JSON object. Skipped locally when Python uamqp is missing; a failure under CI=true
 * (see test/support/peers.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Broker, type BrokerEvent, type BrokerOptions } from "../../src/broker/index.js";
import { FrameType, SaslInit, SaslMechanisms, writeCompositeFrame } from "../../src/frames/index.js";
import { SaslMssbcbsMechanism } from "../../src/sasl/mechanisms.js";
import { SaslClientNegotiator } from "../../src/sasl/sasl-client.js";
import { ByteWriter } from "../../src/util/byte-writer.js";
import { getTestCertificates, type TestCertificates } from "../support/certs.js";
import { peerSkip, runPython, type PythonResult } from "../support/peers.js";

const TIMEOUT = { timeout: 60_000 };
/** Bound of one script run: a peer that hangs is killed and the test fails (instead of hanging). */
const PYTHON_TIMEOUT_MS = 30_000;
const KEY_NAME = "RootManageSharedAccessKey";
const KEY = "dWFtcXAtdG9rZW4tYXV0aC1rZXk=";
const SCRIPT = readFileSync(new URL("./python/uamqp_token_auth.py", import.meta.url), "utf8");

type Mode = "round-trip" | "mgmt" | "refused";

interface Read {
  status: number;
  description: string | null;
  body: Record<string, unknown> | null;
  seconds: number;
}

interface TokenAuthResult {
  states?: Record<string, number>;
  received?: string[];
  read?: Read;
  readHyphenated?: Read;
  readOther?: Read;
  error?: string;
  message?: string;
  seconds: number;
}

describe(
  "Python uamqp with SAS token authentication (MSSBCBS + $cbs) against the broker",
  {
    skip: peerSkip("uamqp"),
  },
  () => {
    let certs: TestCertificates;
    let dir: string;
    let caFile: string;
    const brokers: Broker[] = [];
    before(async () => {
      certs = await getTestCertificates();
      dir = await mkdtemp(join(tmpdir(), "uamqp-token-auth-"));
      caFile = join(dir, "ca.pem");
      await writeFile(caFile, certs.ca);
    });
    after(async () => {
      for (const b of brokers) await b.close();
      await rm(dir, { recursive: true, force: true });
    });

    const start = async (options: BrokerOptions): Promise<{ broker: Broker; events: BrokerEvent[] }> => {
      const broker = await Broker.start({
        tls: { cert: certs.serverCert, key: certs.serverKey },
        ...options,
      });
      brokers.push(broker);
      const events: BrokerEvent[] = [];
      broker.observe((e) => {
        if (e.type !== "message") events.push(e);
      });
      return { broker, events };
    };

    /** Runs the script; it must finish (not hang) and succeed. */
    const run = async (
      broker: Broker,
      mode: Mode,
      queue: string,
      key = KEY,
      other?: string,
    ): Promise<TokenAuthResult> => {
      const args = [mode, String(broker.tlsPort), caFile, queue, KEY_NAME, key, ...(other ? [other] : [])];
      const r: PythonResult = await runPython(SCRIPT, args, { timeoutMs: PYTHON_TIMEOUT_MS });
      assert.equal(r.timedOut, false, `${mode} did not finish within ${PYTHON_TIMEOUT_MS} ms:\n${r.stderr}`);
      assert.equal(r.code, 0, `${mode} failed:\n${r.stderr}`);
      return JSON.parse(r.stdout) as TokenAuthResult;
    };

    const mechanisms = (events: BrokerEvent[]): (string | undefined)[] =>
      events.flatMap((e) => (e.type === "connection-open" ? [e.mechanism] : []));
    const putTokens = (events: BrokerEvent[]): (number | undefined)[] =>
      events.flatMap((e) =>
        e.type === "request" && e.request.node === "$cbs" ? [e.response?.statusCode] : [],
      );

    const queueStats = { consumer_count: 0, producer_count: 0, locked_count: 0, dead_letter_count: 0 };

    it("sends and receives 5 messages on a $cbs-guarded address of an open broker", TIMEOUT, async () => {
      const { broker, events } = await start({
        cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: (a) => a.startsWith("secure-") },
      });
      const r = await run(broker, "round-trip", "secure-orders");
      assert.deepEqual(r.states, { "MessageState.SendComplete": 5 });
      assert.deepEqual(
        r.received,
        Array.from({ length: 5 }, (_, i) => `token message ${i}`),
      );
      // Both clients chose MSSBCBS and put a token the broker granted before their links attached.
      assert.deepEqual(mechanisms(events), ["MSSBCBS", "MSSBCBS"]);
      assert.deepEqual(putTokens(events), [200, 200]);
      const attaches = events.filter((e) => e.type === "attach" && e.address === "secure-orders");
      assert.equal(attaches.length, 2);
      assert.ok(
        events.findIndex((e) => e.type === "request") < events.indexOf(attaches[0]!),
        "the token came before the first link",
      );
      assert.equal(broker.stats("secure-orders").messageCount, 0);
    });

    it(
      "mgmt_request(READ) answers within 5 s with the queue's counters, in both status spellings",
      TIMEOUT,
      async () => {
        const { broker } = await start({
          cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: (a) => a.startsWith("secure-") },
        });
        const r = await run(broker, "mgmt", "secure-stats");
        assert.deepEqual(r.states, { "MessageState.SendComplete": 3 });
        const expected = {
          status: 200,
          description: "OK",
          body: { name: "secure-stats", message_count: 3, ...queueStats },
        };
        for (const read of [r.read, r.readHyphenated]) {
          assert.ok(read !== undefined);
          const { seconds, ...rest } = read;
          assert.deepEqual(rest, expected);
          assert.ok(seconds < 5, `mgmt_request took ${seconds} s`);
        }
      },
    );

    it("a wrong key is refused with TokenAuthFailure (status 401), not a hang", TIMEOUT, async () => {
      const { broker, events } = await start({
        cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: (a) => a.startsWith("secure-") },
      });
      const r = await run(broker, "refused", "secure-orders", "d3Jvbmcta2V5");
      assert.equal(r.error, "TokenAuthFailure", r.message);
      assert.match(r.message ?? "", /401/);
      assert.ok(r.seconds < 10, `refused after ${r.seconds} s`);
      assert.ok(putTokens(events).length >= 1);
      assert.ok(putTokens(events).every((code) => code === 401));
      assert.equal(broker.stats("secure-orders").messageCount, 0);
    });

    it(
      "next to users: MSSBCBS offered because $cbs has keys; the client reaches only its token's queue",
      TIMEOUT,
      async () => {
        const { broker, events } = await start({
          sasl: { users: { alice: "s3cret" } },
          cbs: { keys: { [KEY_NAME]: KEY } },
        });
        broker.createQueue("alice-inbox");
        const trip = await run(broker, "round-trip", "orders");
        assert.equal(trip.received?.length, 5);
        const r = await run(broker, "mgmt", "orders", KEY, "alice-inbox");
        assert.ok(r.read !== undefined && r.readOther !== undefined, JSON.stringify(r));
        assert.equal(r.read.status, 200);
        assert.equal(r.read.body?.["message_count"], 3);
        assert.equal(r.readOther.status, 401);
        assert.match(r.readOther.description ?? "", /no valid token authorizes 'alice-inbox'/);
        assert.ok(mechanisms(events).every((m) => m === "MSSBCBS"));
        const wrong = await run(broker, "refused", "orders", "d3Jvbmcta2V5");
        assert.equal(wrong.error, "TokenAuthFailure", wrong.message);
      },
    );

    it(
      "next to users without keys MSSBCBS is not offered: the client is refused at once",
      TIMEOUT,
      async () => {
        const { broker, events } = await start({ sasl: { users: { alice: "s3cret" } } });
        const r = await run(broker, "refused", "orders");
        assert.ok(r.error !== undefined, `uamqp was not refused: ${JSON.stringify(r)}`);
        assert.ok(r.seconds < 10, `refused after ${r.seconds} s`);
        assert.deepEqual(mechanisms(events), []);
        assert.deepEqual(broker.queueNames(), []);
      },
    );

    it("sends the sasl-init our SaslMssbcbsMechanism makes, byte for byte", TIMEOUT, async () => {
      // A TLS listener that offers MSSBCBS and records the first frame uamqp answers with.
      const w = new ByteWriter(64);
      writeCompositeFrame(w, FrameType.Sasl, 0, SaslMechanisms, { saslServerMechanisms: ["MSSBCBS"] });
      const offer = Buffer.concat([Buffer.from("AMQP\x03\x01\x00\x00", "latin1"), w.toBuffer()]);
      let received = Buffer.alloc(0);
      let gotFrame: (frame: Buffer) => void = () => undefined;
      const frame = new Promise<Buffer>((resolve) => {
        gotFrame = resolve;
      });
      const server = createServer({ cert: certs.serverCert, key: certs.serverKey }, (s) => {
        s.on("error", () => undefined);
        s.on("data", (chunk: Buffer) => {
          if (received.length === 0) s.write(offer);
          received = Buffer.concat([received, chunk]);
          if (received.length >= 12 && received.length >= 8 + received.readUInt32BE(8)) {
            gotFrame(received.subarray(8, 8 + received.readUInt32BE(8)));
            s.destroy(); // uamqp's send then fails and the script ends
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as AddressInfo).port;
      const peer = runPython(SCRIPT, ["refused", String(port), caFile, "q", KEY_NAME, KEY], {
        timeoutMs: 15_000,
      });
      let timer: NodeJS.Timeout | undefined;
      try {
        const init = await Promise.race([
          frame,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("no sasl-init from uamqp within 15 s")), 15_000);
          }),
        ]);
        const step = new SaslClientNegotiator(new SaslMssbcbsMechanism(), undefined).onMechanisms({
          saslServerMechanisms: ["MSSBCBS"],
        });
        assert.ok("frame" in step);
        const ours = new ByteWriter(64);
        writeCompositeFrame(ours, FrameType.Sasl, 0, SaslInit, step.frame);
        assert.equal(received.subarray(0, 8).toString("latin1"), "AMQP\x03\x01\x00\x00");
        assert.equal(init.toString("hex"), Buffer.from(ours.toBuffer()).toString("hex"));
      } finally {
        clearTimeout(timer);
        server.close();
        assert.equal((await peer).timedOut, false, "the uamqp script did not end");
      }
    });
  },
);
