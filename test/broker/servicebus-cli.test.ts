/**
 * `@azure/service-bus` against `uamqp broker` run as a separate process with its default options (as
 * a user starts it, here on a free port): the SDK's send, peek, peek-lock receive, lock renewal,
 * complete, defer and receive-by-sequence-number, dead-lettering and scheduling work through the CLI's
 * broker just as in-process.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { ServiceBusClient } from "@azure/service-bus";
import { within } from "../support/waits.js";
import { bodies, emulatorConnectionString, receiveN, seqs } from "./servicebus-sdk.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BANNER = /listening on amqp:\/\/127\.0\.0\.1:(\d+)/;
const START_MS = 20_000;

/** Starts `uamqp broker --port 0`; resolves with the process and the port its banner names. */
function startCli(): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", "broker", "--port", "0"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const started = new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = BANNER.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("close", (code) => {
      reject(new Error(`uamqp broker exited (${String(code)}) before its banner:\n${out}`));
    });
  });
  return within(started, "the banner of uamqp broker", START_MS).then(
    (port) => ({ child, port, output: () => out }),
    (e: unknown) => {
      child.kill("SIGKILL");
      throw e;
    },
  );
}

describe("@azure/service-bus against `uamqp broker` (a separate process)", { timeout: 60_000 }, () => {
  let cli: Awaited<ReturnType<typeof startCli>>;
  let client: ServiceBusClient;

  before(async () => {
    cli = await startCli();
    client = new ServiceBusClient(emulatorConnectionString(cli.port), {
      retryOptions: { maxRetries: 0, timeoutInMs: 10_000 },
    });
  });
  after(async () => {
    await within(client.close(), "closing the SDK client");
    const exited = new Promise((resolve) => cli.child.on("close", resolve));
    cli.child.kill("SIGTERM");
    try {
      await within(exited, "uamqp broker to exit on SIGTERM");
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  it("sends, peeks, receives with lock renewal, completes, defers, dead-letters and schedules", async () => {
    const q = "cli-orders";
    const sender = client.createSender(q);
    await sender.sendMessages([{ body: "o1" }, { body: "o2" }, { body: "o3" }]);
    const receiver = client.createReceiver(q);
    const peeked = await receiver.peekMessages(10);
    assert.deepEqual(bodies(peeked), ["o1", "o2", "o3"]);
    assert.deepEqual(seqs(peeked), [1, 2, 3]);

    const [o1, o2, o3] = await receiveN(receiver, 3, "three messages");
    assert.deepEqual(seqs([o1!, o2!, o3!]), [1, 2, 3]);
    const renewed = await receiver.renewMessageLock(o1!);
    assert.ok(renewed.getTime() >= o1!.lockedUntilUtc!.getTime());
    await receiver.completeMessage(o1!);
    await receiver.deferMessage(o2!);
    await receiver.deadLetterMessage(o3!, {
      deadLetterReason: "cli",
      deadLetterErrorDescription: "via the CLI",
    });

    const [deferred] = await receiver.receiveDeferredMessages([o2!.sequenceNumber!]);
    assert.equal(deferred!.body, "o2");
    await receiver.completeMessage(deferred!);

    const dlq = client.createReceiver(q, { subQueueType: "deadLetter" });
    const [dead] = await receiveN(dlq, 1, "the dead letter");
    assert.equal(dead!.deadLetterReason, "cli");
    await dlq.completeMessage(dead!);

    const at = new Date(Date.now() + 1000);
    const [seq] = await sender.scheduleMessages({ body: "later" }, at);
    assert.equal(Number(seq), 4);
    const [later] = await receiveN(receiver, 1, "the scheduled message", 10_000);
    assert.ok(Date.now() >= at.getTime() - 5);
    assert.equal(later!.body, "later");
    await receiver.completeMessage(later!);
    assert.deepEqual(await receiver.peekMessages(10, { fromSequenceNumber: o1!.sequenceNumber! }), []);
    assert.match(cli.output(), /uamqp broker listening on amqp:\/\/127\.0\.0\.1:\d+/);
  });
});
