/**
 * examples/: every example runs as a user runs it (`tsx`, the package name mapped to src/ by
 * tsconfig.json), ends by itself within a bound, exits 0 and prints what it demonstrates. The send
 * and receive examples also run against a broker given by URL.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Broker } from "../../src/broker/index.js";

const root = new URL("../../", import.meta.url).pathname;
const RUN_TIMEOUT_MS = 30_000;

/** What each example must print (every pattern, in any order). */
const EXPECTED: Record<string, readonly RegExp[]> = {
  "high-level-messaging.ts": [
    /^sendMessage: SendComplete$/m,
    /^receiveMessage: Hello world$/m,
    /^receiveMessages: batch 0, batch 1, batch 2$/m,
    /^empty queue: undefined after 500 ms$/m,
  ],
  "send.ts": [
    /^pending: 10$/m,
    /^first message: Ok$/m,
    /^sent 10 of 10 messages to /m,
    /^sendMessage: accepted$/m,
    /^bounded: 20 of 20 sent, at most 5 pending \(waited for room [1-9]\d* times\)$/m,
  ],
  "receive.ts": [
    /^batch of 3: hello 0, hello 1, hello 2$/m,
    /^hello 9$/m,
    /^received 10 messages from .*; client closed$/m,
  ],
  "settlement.ts": [
    /^locked on the broker: 4$/m,
    /^accept: true$/m,
    /^reject: true$/m,
    /^release: true$/m,
    /^modify: true$/m,
    /^accept again: false$/m,
    /^redelivered: release me \(delivery count 0\)$/m,
    /^redelivered: modify me \(delivery count 1\)$/m,
    /^dead-lettered: reject me$/m,
    /^ReceiveAndDelete: pre-settled, accept\(\) → false$/m,
    /^left on the broker: 0$/m,
  ],
  "batch.ts": [
    /^one envelope: 1, format 0x80013700 \(true\), 50 sections$/m,
    /^received 50 messages; first: reading 0 \{ device: 'd1' \}$/m,
    /^too large: AMQP_MESSAGE_TOO_LARGE: /m,
    /^multiMessages: \d+ envelopes, each ≤ 16384 bytes: true$/m,
    /^on the broker: 40 messages$/m,
  ],
  "filters.ts": [
    /→ link address \/queue\/orders; shown as amqps:\/\/user%40corp:\*\*\*@broker\.example:5671\/queue\/orders\?x=1$/m,
    /^Azure keeps uamqp's form: amqps:\/\/my-ns\.servicebus\.windows\.net\/orders$/m,
    /^filter apache\.org:selector-filter:string: amqp\.annotation\.x-opt-offset > '@latest'$/m,
    /^now: amqp\.annotation\.x-opt-sequence-number > 1500$/m,
    /^broker attached .*hub\/Partitions\/0, filter amqp\.annotation\.x-opt-sequence-number > -1$/m,
    /^received: an event$/m,
  ],
  "sasl.ts": [
    /^broker: PLAIN login as alice$/m,
    /^auth: SASLPlain\(127\.0\.0\.1:\d+\)$/m,
    /^received: via URL credentials$/m,
    /^wrong password: AMQP_AUTHENTICATION /m,
    /^anonymous: AMQP_AUTHENTICATION /m,
  ],
  "token-auth.ts": [/^token type: {2}servicebus\.windows\.net:sastoken$/m, /token: '<redacted>'/],
  "sessions.ts": [
    /^connections on the broker: 1; shared: true$/m,
    /^received: over a shared connection$/m,
    /^connection after one client closed: open$/m,
    /^audit: 1, billing: 1$/m,
  ],
  "error-policy.ts": [
    /^gave up after 2 retries, 3 decisions, ≥ [1-9]\d\d+ ms: com\.microsoft:server-busy$/m,
    /^status: disconnected$/m,
    /^status: reconnecting \(attempt 1\)$/m,
    /^status: reconnected$/m,
    /^new broker holds 1 message\(s\)$/m,
    /^status: closed$/m,
  ],
  "low-level-links.ts": [
    /^send: result Ok, state accepted$/m,
    /^refused: result Error, amqp:not-allowed$/m,
    /^credit before: 0$/m,
    /^after resetLinkCredit\(2\): 2 messages$/m,
    /^received: job 0, job 1, job 2, job 3, job 4, job 5 \(pre-settled\)$/m,
  ],
  "event-hubs.ts": [/^partition 0: sequence numbers 0\.\.\d+, last offset \d+, empty: false$/m],
  "servicebus-emulator.ts": [/^# pass [1-9]\d*$/m, /^# fail 0$/m],
  "management.ts": [/^received after \d+ s: still authorized$/m],
  "lock-renewal.ts": [
    /^renew 4: status 200$/m,
    /^accept after 2\.4 s: true$/m,
    /^after its lock expired: forgotten job, delivery count 1$/m,
    /^late accept of the first delivery: .*com\.microsoft:message-lock-lost/m,
    /^accept of the redelivery: true$/m,
    /^messages left: 0$/m,
  ],
  "types.ts": [
    /^text +→ string$/m,
    /^1099511627776 +→ long$/m,
    /ulong: 9223372036854775808n/,
    /^count is uint 3; big is bigint$/m,
    /annotations: \{ 'x-opt-sequence-number': 42n \}/,
  ],
};

interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly ms: number;
}

/** Runs an example with tsx from the repository root (async, so a broker in this process keeps serving). */
function runExample(file: string, args: readonly string[] = []): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Run as a user runs it: an example written as a node:test file must not report to this runner
    // (which talks to its children in a binary protocol).
    const env = { ...process.env };
    delete env["NODE_TEST_CONTEXT"];
    const child = spawn(process.execPath, ["--import", "tsx", join("examples", file), ...args], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, out, ms: Date.now() - started });
    });
  });
}

const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".ts"))
  .sort();

describe("examples", () => {
  it("every example is listed here and in examples/README.md, and imports the package by name", () => {
    assert.deepEqual(examples, Object.keys(EXPECTED).sort());
    const readme = readFileSync(join(root, "examples/README.md"), "utf8");
    for (const file of examples) {
      assert.ok(readme.includes(`(${file})`), `examples/README.md links ${file}`);
      const code = readFileSync(join(root, "examples", file), "utf8");
      const imports = [...code.matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(
        imports.some((i) => i === "uamqp" || i === "uamqp/broker"),
        `${file} imports "uamqp" or "uamqp/broker"`,
      );
      for (const spec of imports) {
        assert.ok(!spec.startsWith("."), `${file} imports ${spec}: use the package name`);
      }
    }
  });

  for (const file of examples) {
    it(`${file} runs and ends by itself`, async () => {
      const r = await runExample(file);
      assert.equal(r.signal, null, `${file} did not end within ${RUN_TIMEOUT_MS} ms:\n${r.out}`);
      assert.equal(r.status, 0, r.out);
      for (const pattern of EXPECTED[file] ?? []) assert.match(r.out, pattern);
      console.log(`${file}: ${r.ms} ms`);
    });
  }

  it("send.ts and receive.ts take a broker URL", async () => {
    await using broker = await Broker.start({ port: 0 });
    const url = `${broker.url}/from-argv`;
    const sent = await runExample("send.ts", [url, "4"]);
    assert.equal(sent.status, 0, sent.out);
    assert.match(sent.out, /^sent 4 of 4 messages to amqp:\/\/127\.0\.0\.1:\d+\/from-argv$/m);
    assert.equal(broker.stats("from-argv").messageCount, 5); // and the one sendMessage sends
    const received = await runExample("receive.ts", [url]);
    assert.equal(received.status, 0, received.out);
    assert.match(received.out, /^received 5 messages from /m);
    assert.equal(broker.stats("from-argv").messageCount, 0);
  });
});
