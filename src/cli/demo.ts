/**
 * `uamqp demo`: starts the embedded broker on a free port, sends and receives N messages through
 * it, shows live progress and a final table, and succeeds only if every message arrived intact.
 */
import { Broker } from "../broker/broker.js";
import { ReceiveClient } from "../client/receive-client.js";
import { DEFAULTS } from "../client/client-options.js";
import { SendClient } from "../client/send-client.js";
import { Message } from "../message/message.js";
import { MessageState } from "../message/message-state.js";
import {
  parseCommand,
  positiveInt,
  stringFlag,
  type CliIo,
  type CliOutput,
  type CommandSpec,
} from "./args.js";
import { commandHelp } from "./help.js";
import { percentile, table } from "./progress.js";

export const DEMO_COMMAND: CommandSpec = {
  name: "demo",
  summary: "start the embedded broker, send and receive N messages through it, show throughput and latency",
  description: [
    "Starts the embedded broker on a free port of 127.0.0.1, sends --count messages to it and receives them on a second connection, shows live progress, then a table of throughput and latency. Exits 0 when every message arrived intact, 1 otherwise.",
  ],
  flags: [
    {
      name: "count",
      type: "string",
      value: "N",
      help: "how many messages to send and receive (default 100000)",
    },
    {
      name: "size",
      type: "string",
      value: "BYTES",
      help: "body size of each message, at least 16 (default 64)",
    },
  ],
  examples: ["uamqp demo", "uamqp demo --count 10000 --size 1024"],
};

/** `uamqp demo ARGS`: parses the flags and runs {@link runDemo}. */
export async function runDemoCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(DEMO_COMMAND, args);
  if (parsed.help) {
    io.stdout.write(commandHelp(DEMO_COMMAND));
    return 0;
  }
  return runDemo({
    count: positiveInt(stringFlag(parsed, "count"), 100_000, "--count"),
    size: Math.max(16, positiveInt(stringFlag(parsed, "size"), 64, "--size")),
    out: io.stdout,
  });
}

export interface DemoOptions {
  count: number;
  /** Body size in bytes (at least 16). */
  size: number;
  out?: CliOutput;
}

/** Body: 8-byte index, 8-byte send time (ms, float), then a fill pattern derived from the index. */
function bodyFor(i: number, size: number, t: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  b.writeDoubleBE(i, 0);
  b.writeDoubleBE(t, 8);
  for (let k = 16; k < size; k++) b[k] = (i + k) & 0xff;
  return b;
}

function check(b: Uint8Array, size: number): number | undefined {
  if (b.length !== size) return undefined;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  const i = buf.readDoubleBE(0);
  for (let k = 16; k < size; k++) if (b[k] !== ((i + k) & 0xff)) return undefined;
  return i;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { count, size } = options;
  const broker = await Broker.start({ port: 0 });
  out.write(`embedded broker listening on ${broker.url}\n`);
  const url = `${broker.url}/demo`;
  const seen = new Uint8Array(count);
  let received = 0;
  let corrupt = 0;
  let duplicates = 0;
  let bytesIn = 0;
  const latencies: number[] = [];
  const sender = new SendClient(url, { maxInFlight: 2000 });
  const receiver = new ReceiveClient(url, { prefetch: 2000 });
  await Promise.all([sender.open(), receiver.open()]);

  const start = performance.now();
  let acked = 0;
  let failed = 0;
  let sendDoneAt = start;
  const draw = (final = false): void => {
    const t = (performance.now() - start) / 1000;
    const line = `sent ${String(acked).padStart(7)}/${count}  received ${String(received).padStart(7)}/${count}  ${Math.round(received / Math.max(t, 0.001)).toLocaleString("en")} msg/s`;
    if (out.isTTY) out.write(`\r${line}${final ? "\n" : ""}`);
    else if (final) out.write(`${line}\n`);
  };
  const timer = setInterval(() => draw(), 100);

  const receiving = (async () => {
    const deadline = setTimeout(() => void receiver.close(), 60_000);
    // autoComplete: each message is accepted when the loop receives it.
    for await (const m of receiver) {
      const data = m.data?.[0];
      const i = data ? check(data, size) : undefined;
      if (i === undefined || i < 0 || i >= count) corrupt++;
      else if (seen[i]) duplicates++;
      else {
        seen[i] = 1;
        received++;
        bytesIn += data!.length;
        latencies.push(performance.now() - Buffer.from(data!.buffer, data!.byteOffset, 16).readDoubleBE(8));
      }
      if (received === count) break;
    }
    clearTimeout(deadline);
  })();

  // One chunk is pending at a time: it must fit the client's byte bound (a body and its section
  // header per message).
  const chunk = Math.max(1, Math.min(10_000, Math.floor(DEFAULTS.maxPendingBytes / (size + 16))));
  for (let first = 0; first < count; first += chunk) {
    const batch: Message[] = [];
    for (let i = first; i < Math.min(count, first + chunk); i++) {
      const m = new Message({ body: bodyFor(i, size, performance.now()) });
      m.onSendComplete = () => {
        if (m.state === MessageState.SendComplete) acked++;
        else failed++;
      };
      batch.push(m);
    }
    sender.queueMessage(...batch);
    await sender.sendAllMessages({ closeOnDone: false });
  }
  sendDoneAt = performance.now();
  await receiving;
  const end = performance.now();
  clearInterval(timer);
  draw(true);
  await Promise.all([sender.close(), receiver.close()]);
  await broker.close();

  latencies.sort((a, b) => a - b);
  const secs = (end - start) / 1000;
  const ok = received === count && corrupt === 0 && failed === 0;
  out.write(
    "\n" +
      table([
        ["metric", "value"],
        ["messages sent (accepted)", `${acked} of ${count}`],
        ["messages received intact", `${received} of ${count}`],
        ["corrupt / duplicate / failed", `${corrupt} / ${duplicates} / ${failed}`],
        ["body size", `${size} B`],
        [
          "send throughput",
          `${Math.round(acked / ((sendDoneAt - start) / 1000)).toLocaleString("en")} msg/s`,
        ],
        ["end-to-end throughput", `${Math.round(received / secs).toLocaleString("en")} msg/s`],
        [
          "latency p50 / p90 / p99 / max",
          [50, 90, 99, 100].map((p) => `${percentile(latencies, p).toFixed(1)} ms`).join(" / "),
        ],
        ["payload bytes received", bytesIn.toLocaleString("en")],
        ["elapsed", `${secs.toFixed(2)} s`],
      ]) +
      "\n\n" +
      (ok ? "OK: every message arrived intact.\n" : "FAILED: some messages were lost or corrupted.\n"),
  );
  return ok ? 0 : 1;
}
