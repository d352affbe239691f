/**
 * `uamqp demo`: starts the embedded broker on a free port, and a producer (`SendClient`) and a
 * consumer (`ReceiveClient`) in a process each (src/cli/demo-worker.ts; `--in-process` keeps them in
 * this one), moves N messages through the broker as fast as flow control lets them, then N more at
 * half the rate that reached (or at `--rate`), shows live progress and a table of throughput and
 * latency, and succeeds only if every message arrived intact.
 *
 * A process each is how a producer, a broker and a consumer run in practice, and it shows each
 * one's CPU per message; on the project's 2-core VM neither arrangement was measurably faster with
 * these clients (docs/cli.md, "uamqp demo").
 */
import { fork, type ChildProcess } from "node:child_process";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Broker } from "../broker/broker.js";
import {
  booleanFlag,
  parseCommand,
  positiveInt,
  stringFlag,
  type CliIo,
  type CliOutput,
  type CommandSpec,
} from "./args.js";
import {
  clockMs,
  cpuSince,
  DemoConsumer,
  DemoProducer,
  type ConsumerReport,
  type PhaseSpec,
  type ProducerReport,
  type WorkerReply,
  type WorkerRequest,
} from "./demo-roles.js";
import { commandHelp } from "./help.js";
import { table } from "./progress.js";

export const DEMO_COMMAND: CommandSpec = {
  name: "demo",
  summary: "start the embedded broker, send and receive N messages through it, show throughput and latency",
  description: [
    "Starts the embedded broker on a free port of 127.0.0.1, and a producer (SendClient) and a consumer (ReceiveClient, PeekLock, each message accepted) in a process each. It sends --count messages as fast as flow control lets them, then --count more at half the rate that reached (the latency of a broker that keeps up), shows live progress, then a table of throughput, latency and CPU per message for each run. Latency is from queueMessage to the consumer's loop. Exits 0 when every message arrived intact, 1 otherwise.",
  ],
  flags: [
    {
      name: "count",
      type: "string",
      value: "N",
      help: "how many messages to send and receive in each run (default 100000)",
    },
    {
      name: "size",
      type: "string",
      value: "BYTES",
      help: "body size of each message, at least 16 (default 64)",
    },
    {
      name: "rate",
      type: "string",
      value: "N",
      help: "one run only, at N messages per second (default: as fast as flow control lets them, then at half that rate)",
    },
    {
      name: "in-process",
      type: "boolean",
      help: "run the producer and the consumer in this process instead of a process each (to compare the two arrangements)",
    },
  ],
  examples: ["uamqp demo", "uamqp demo --count 10000 --size 1024", "uamqp demo --rate 20000"],
};

/** `uamqp demo ARGS`: parses the flags and runs {@link runDemo}. */
export async function runDemoCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(DEMO_COMMAND, args);
  if (parsed.help) {
    io.stdout.write(commandHelp(DEMO_COMMAND));
    return 0;
  }
  const rate = stringFlag(parsed, "rate");
  return runDemo({
    count: positiveInt(stringFlag(parsed, "count"), 100_000, "--count"),
    size: Math.max(16, positiveInt(stringFlag(parsed, "size"), 64, "--size")),
    ...(rate !== undefined ? { rate: positiveInt(rate, 0, "--rate") } : {}),
    inProcess: booleanFlag(parsed, "in-process"),
    out: io.stdout,
  });
}

export interface DemoOptions {
  /** Messages per run. */
  count: number;
  /** Body size in bytes (at least 16). */
  size: number;
  /** One run at this many messages per second; unset: a run as fast as flow control allows, then one at half its rate. */
  rate?: number;
  /** The producer and the consumer in this process. @defaultValue false: a process each */
  inProcess?: boolean;
  out?: CliOutput;
}

/** A producer or a consumer, here or in a process of its own. */
interface DemoClient<R> {
  run(phase: PhaseSpec, progress: (n: number) => void): Promise<R>;
  close(): Promise<void>;
}

/** Bound on a client process's start (tsx compiles the sources when the demo runs from them). */
const START_MS = 60_000;

/** A client process (src/cli/demo-worker.ts next to this module, under tsx when this is the source). */
async function clientProcess<R>(role: "producer" | "consumer", url: string): Promise<DemoClient<R>> {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const child: ChildProcess = fork(join(dirname(here), `demo-worker${ext}`), [role, url], {
    // From the sources (tests, development) the process needs the TypeScript loader this one has.
    execArgv: ext === ".ts" ? ["--import", import.meta.resolve("tsx")] : [],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-2000);
  });
  let onReply: ((r: WorkerReply) => void) | undefined;
  let onGone: ((e: Error) => void) | undefined;
  let gone: Error | undefined;
  child.on("message", (r: WorkerReply) => onReply?.(r));
  child.on("exit", (code, signal) => {
    gone = new Error(
      `the ${role} process exited (${code ?? signal ?? "?"})${stderr ? `: ${stderr.trim()}` : ""}`,
    );
    onGone?.(gone);
  });
  const next = <T>(handle: (r: WorkerReply, resolve: (v: T) => void) => void, ms?: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (gone) {
        reject(gone);
        return;
      }
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(
              () => reject(new Error(`the ${role} process did not start within ${ms / 1000} s`)),
              ms,
            );
      const done = (): void => {
        clearTimeout(timer);
        onReply = undefined;
        onGone = undefined;
      };
      onGone = (e) => {
        done();
        reject(e);
      };
      onReply = (r) => {
        if (r.type === "error") {
          done();
          reject(new Error(`${role}: ${r.message}`));
          return;
        }
        handle(r, (v) => {
          done();
          resolve(v);
        });
      };
    });
  try {
    await next<true>((r, resolve) => {
      if (r.type === "ready") resolve(true);
    }, START_MS);
  } catch (e) {
    child.kill();
    throw e;
  }
  const send = (q: WorkerRequest): void => {
    child.send(q);
  };
  return {
    run: (phase, progress) => {
      const result = next<R>((r, resolve) => {
        if (r.type === "progress") progress(r.n);
        else if (r.type === "done") resolve(r.report as R);
      });
      send({ type: "run", phase });
      return result;
    },
    close: async () => {
      if (gone) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const timer = setTimeout(() => child.kill(), 10_000);
      send({ type: "stop" });
      await exited;
      clearTimeout(timer);
    },
  };
}

interface PhaseResult {
  readonly phase: PhaseSpec;
  readonly producer: ProducerReport;
  readonly consumer: ConsumerReport;
  /** End-to-end: from the first message queued to the last received, msg/s. */
  readonly throughput: number;
  readonly elapsedS: number;
  /** CPU time of this process (the broker, and with `--in-process` the clients too), µs. */
  readonly hereCpuUs: number;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const { count, size } = options;
  const broker = await Broker.start({ port: 0 });
  out.write(`embedded broker listening on ${broker.url}\n`);
  const url = `${broker.url}/demo`;
  const results: PhaseResult[] = [];
  /** What is closed at the end, whatever happened. */
  const opened: DemoClient<unknown>[] = [];
  try {
    const { producer, consumer } = await startClients(url, options.inProcess === true, opened);
    out.write(
      `producer and consumer: ${options.inProcess === true ? "in this process" : "a process each"}\n`,
    );
    // Fresh processes run their first messages several times slower (the JIT has not compiled the
    // code yet): a warm-up run first, so that the table shows what the clients and the broker do.
    const warmUp = Math.min(count, WARM_UP);
    const w = await runPhase(out, producer, consumer, { base: 0, count: warmUp, size, rate: 0 }, "warm-up");
    if (!intact(w)) results.push(w);
    else {
      let base = warmUp;
      results.push(await runPhase(out, producer, consumer, { base, count, size, rate: options.rate ?? 0 }));
      base += count;
      if (options.rate === undefined) {
        const half = Math.max(1, Math.floor(results[0]!.throughput / 2));
        results.push(await runPhase(out, producer, consumer, { base, count, size, rate: half }));
      }
    }
  } finally {
    await Promise.all(opened.map((c) => c.close()));
    await broker.close();
  }
  const ok = results.every(intact);
  out.write(`\n${report(results, size, options.inProcess === true)}\n\n`);
  out.write(ok ? "OK: every message arrived intact.\n" : "FAILED: some messages were lost or corrupted.\n");
  return ok ? 0 : 1;
}

/** The producer and the consumer, open; each is added to `opened` as soon as it is. */
async function startClients(
  url: string,
  inProcess: boolean,
  opened: DemoClient<unknown>[],
): Promise<{ producer: DemoClient<ProducerReport>; consumer: DemoClient<ConsumerReport> }> {
  if (inProcess) {
    const producer = new DemoProducer(url);
    const consumer = new DemoConsumer(url);
    opened.push(producer, consumer);
    await Promise.all([producer.open(), consumer.open()]);
    return { producer, consumer };
  }
  const started = <R>(c: DemoClient<R>): DemoClient<R> => {
    opened.push(c);
    return c;
  };
  // Both settle before a failure is thrown, so that the one that started is closed too.
  const [p, c] = await Promise.allSettled([
    clientProcess<ProducerReport>("producer", url).then(started),
    clientProcess<ConsumerReport>("consumer", url).then(started),
  ]);
  if (p.status === "rejected") throw p.reason;
  if (c.status === "rejected") throw c.reason;
  return { producer: p.value, consumer: c.value };
}

/** Messages of the warm-up run (at most `--count`). */
const WARM_UP = 20_000;

function intact(r: PhaseResult): boolean {
  return r.consumer.received === r.phase.count && r.consumer.corrupt === 0 && r.producer.failed === 0;
}

const rate = (n: number): string => `${Math.round(n).toLocaleString("en")} msg/s`;

function phaseName(p: PhaseSpec): string {
  return p.rate === 0 ? "as fast as flow control allows" : `paced at ${rate(p.rate)}`;
}

async function runPhase(
  out: CliOutput,
  producer: DemoClient<ProducerReport>,
  consumer: DemoClient<ConsumerReport>,
  phase: PhaseSpec,
  name = phaseName(phase),
): Promise<PhaseResult> {
  const { count } = phase;
  let sent = 0;
  let received = 0;
  const t0 = clockMs();
  const cpu = process.cpuUsage();
  const draw = (final = false): void => {
    const s = Math.max((clockMs() - t0) / 1000, 0.001);
    const line = `${name}: sent ${String(sent).padStart(7)}/${count}  received ${String(received).padStart(7)}/${count}  ${rate(received / s)}`;
    if (out.isTTY === true) out.write(`\r${line}${final ? "\n" : ""}`);
    else if (final) out.write(`${line}\n`);
  };
  const timer = setInterval(() => draw(), 100);
  try {
    const receiving = consumer.run(phase, (n) => (received = n));
    const [p, c] = await Promise.all([producer.run(phase, (n) => (sent = n)), receiving]);
    sent = p.accepted;
    received = c.received;
    const elapsedS = (c.endMs - p.startMs) / 1000;
    return {
      phase,
      producer: p,
      consumer: c,
      throughput: c.received / elapsedS,
      elapsedS,
      hereCpuUs: cpuSince(cpu),
    };
  } finally {
    clearInterval(timer);
    draw(true);
  }
}

function report(results: readonly PhaseResult[], size: number, inProcess: boolean): string {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const us = (x: number): string => `${x.toFixed(1)} µs`;
  const column = (r: PhaseResult): string[] => {
    const { phase, producer: p, consumer: c } = r;
    return [
      phaseName(phase),
      `${c.received} of ${phase.count}`,
      `${p.accepted} of ${phase.count}`,
      `${c.corrupt} / ${c.duplicates} / ${p.failed}`,
      rate(p.accepted / ((p.endMs - p.startMs) / 1000)),
      rate(r.throughput),
      c.latency.map(ms).join(" / "),
      phase.rate === 0 ? "-" : ms(p.maxLagMs),
      inProcess
        ? `${us(r.hereCpuUs / phase.count)} in all`
        : `${us(p.cpuUs / phase.count)} / ${us(r.hereCpuUs / phase.count)} / ${us(c.cpuUs / phase.count)}`,
      `${r.elapsedS.toFixed(2)} s`,
    ];
  };
  const columns = results.map(column);
  const labels = [
    "run",
    "messages received intact",
    "messages sent (accepted)",
    "corrupt / duplicate / failed",
    "send throughput",
    "end-to-end throughput",
    "latency p50 / p90 / p99 / max",
    "producer behind schedule (max)",
    inProcess ? "CPU per message" : "CPU per message: producer / broker / consumer",
    "elapsed",
  ];
  return (
    table(labels.map((label, i) => [label, ...columns.map((col) => col[i]!)])) +
    `\n\nbody size ${size} B; latency: from queueMessage in the producer to the consumer's loop; ` +
    `a warm-up run went first (not in the table)`
  );
}
