/**
 * docs/azure-emulator.md and examples/event-hubs.ts as a user meets them: the ten-line
 * test the docs show is the one below (verbatim, but for the import of the broker), and it passes;
 * the example runs and prints what the docs say it prints.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const docs = readFileSync(`${root}docs/azure-emulator.md`, "utf8");

// doc:start
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from "@azure/event-hubs";
import { Broker } from "../../src/broker/index.js";

test("events go through a local event hub", { timeout: 30_000 }, async () => {
  await using broker = await Broker.start();
  const cs = `Endpoint=sb://127.0.0.1:${broker.port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`;
  const producer = new EventHubProducerClient(cs, "orders");
  const consumer = new EventHubConsumerClient("$Default", cs, "orders");
  await producer.sendBatch([{ body: "one" }, { body: "two" }], { partitionId: "0" });
  const got: unknown[] = [];
  await new Promise<void>((done) => {
    const processEvents = (events: { body: unknown }[]): Promise<void> => {
      got.push(...events.map((e) => e.body));
      if (got.length === 2) done();
      return Promise.resolve();
    };
    const processError = (): Promise<void> => Promise.resolve();
    consumer.subscribe("0", { processEvents, processError }, { startPosition: earliestEventPosition });
  });
  assert.deepEqual(got, ["one", "two"]);
  await Promise.all([consumer.close(), producer.close()]);
});
// doc:end

describe("docs/azure-emulator.md", () => {
  it("shows the test above", () => {
    const source = readFileSync(fileURLToPath(import.meta.url), "utf8");
    const snippet = source
      .slice(source.indexOf("// doc:start\n") + "// doc:start\n".length, source.indexOf("// doc:end"))
      .replace('from "../../src/broker/index.js"', 'from "uamqp/broker"');
    assert.ok(docs.includes(snippet), "the docs show the test of this file");
  });
});

describe("examples/event-hubs.ts", () => {
  it("sends by partition id and key, reads everything back and prints the partitions' properties", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "examples/event-hubs.ts"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0]!, /^partition 0 {2}#0 {2}offset 0 {2}\S+ {2}"boot"$/);
    assert.ok(
      lines.some((l) =>
        /^partition 1 {2}#1 {2}offset \d+ {2}\S+ {2}\{"celsius":21\.7\} {2}key kitchen$/.test(l),
      ),
    );
    assert.match(lines.at(-2)!, /^partition 0: sequence numbers 0\.\.1, last offset \d+, empty: false$/);
    assert.match(lines.at(-1)!, /^partition 1: sequence numbers 0\.\.1, last offset \d+, empty: false$/);
  });
});
