/**
 * The two clients of `uamqp demo` (src/cli/demo.ts): a producer (`SendClient`) and a consumer
 * (`ReceiveClient`, PeekLock with auto-complete), each in a process of its own (src/cli/demo-worker.ts)
 * or in the demo's process (`--in-process`). A run ("phase") moves `count` messages: as fast as
 * flow control lets them (rate 0), or at a fixed rate.
 *
 * A message's body is its sequence number (float64), the time it was handed to `queueMessage`
 * (float64, ms of the monotonic clock, which every process of the machine shares), then a pattern
 * derived from the sequence number that the consumer checks.
 */
import { ReceiveClient } from "../client/receive-client.js";
import { SendClient } from "../client/send-client.js";
import { Message } from "../message/message.js";
import { MessageSendResult } from "../message/send-result.js";
import { percentile } from "./progress.js";
import { asBuffer } from "../util/buffer-view.js";

/** Milliseconds of the monotonic clock (`process.hrtime`): comparable between processes of a machine. */
export function clockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** One run of the producer and the consumer. */
export interface PhaseSpec {
  /** Sequence number of the phase's first message (phases number their messages one after another). */
  readonly base: number;
  readonly count: number;
  /** Body size in bytes (at least 16). */
  readonly size: number;
  /** Messages per second; 0 = as fast as flow control lets them. */
  readonly rate: number;
}

/** What the producer measured in a phase. */
export interface ProducerReport {
  /** Messages the broker accepted. */
  readonly accepted: number;
  readonly failed: number;
  /** When the first message was queued and when the last outcome arrived (clockMs). */
  readonly startMs: number;
  readonly endMs: number;
  /** Paced phases: how far the producer fell behind its schedule at worst (ms). */
  readonly maxLagMs: number;
  /** CPU time of this process during the phase (µs; user + system). */
  readonly cpuUs: number;
}

/** What the consumer measured in a phase. */
export interface ConsumerReport {
  readonly received: number;
  readonly corrupt: number;
  readonly duplicates: number;
  readonly bytes: number;
  /** When the last message of the phase arrived (clockMs). */
  readonly endMs: number;
  /** Latency from `queueMessage` to the consumer's loop, ms: p50, p90, p99, max. */
  readonly latency: readonly [number, number, number, number];
  /** CPU time of this process during the phase (µs; user + system). */
  readonly cpuUs: number;
}

/** Messages kept queued or in flight by the producer at most (its window; the broker's credit bounds it too). */
const PRODUCER_WINDOW = 4000;
/** Transfers awaiting their outcome at most. */
const IN_FLIGHT = 2000;
/** The consumer's credit. */
const PREFETCH = 2000;
/** A phase fails when nothing moves for this long. */
const STALL_MS = 30_000;
/** Paced phases queue what is due every this many ms. */
const PACE_MS = 1;

function bodyFor(seq: number, size: number, t: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  b.writeDoubleBE(seq, 0);
  b.writeDoubleBE(t, 8);
  for (let k = 16; k < size; k++) b[k] = (seq + k) & 0xff;
  return b;
}

/** The sequence number of an intact body of `size` bytes, else undefined. */
function check(b: Uint8Array, size: number): number | undefined {
  if (b.length !== size) return undefined;
  const seq = asBuffer(b).readDoubleBE(0);
  for (let k = 16; k < size; k++) if (b[k] !== ((seq + k) & 0xff)) return undefined;
  return seq;
}

/** CPU time of this process since `since` (a `process.cpuUsage()`), µs. */
export function cpuSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

/** Rejects when `progress()` has not changed for {@link STALL_MS}. */
function watchdog(what: string, progress: () => number): { stop(): void; stalled: Promise<never> } {
  let last = -1;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    const look = (): void => {
      const now = progress();
      if (now === last) {
        reject(new Error(`${what}: no progress for ${STALL_MS / 1000} s`));
        return;
      }
      last = now;
      timer = setTimeout(look, STALL_MS);
    };
    look();
  });
  stalled.catch(() => undefined);
  return {
    stop: () => {
      clearTimeout(timer);
    },
    stalled,
  };
}

/** The demo's producer. */
export class DemoProducer {
  readonly #client: SendClient;

  constructor(url: string) {
    this.#client = new SendClient(url, { maxInFlight: IN_FLIGHT });
  }

  async open(): Promise<void> {
    await this.#client.open();
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  /** Sends the phase's messages; `progress` hears the count of accepted ones now and then. */
  async run(phase: PhaseSpec, progress: (accepted: number) => void): Promise<ProducerReport> {
    const client = this.#client;
    const { base, count, size, rate } = phase;
    let queued = 0;
    let accepted = 0;
    let failed = 0;
    let endMs = 0;
    let maxLagMs = 0;
    let wake: (() => void) | undefined;
    const onComplete = (result: MessageSendResult): void => {
      if (result === MessageSendResult.Ok) accepted++;
      else failed++;
      endMs = clockMs();
      if (wake && queued - accepted - failed <= PRODUCER_WINDOW / 2) {
        const w = wake;
        wake = undefined;
        w();
      }
    };
    const queue = (n: number): void => {
      const t = clockMs();
      const batch: Message[] = [];
      for (let i = 0; i < n; i++) {
        const m = new Message({ body: bodyFor(base + queued + i, size, t) });
        m.onSendComplete = onComplete;
        batch.push(m);
      }
      client.queueMessage(...batch);
      queued += n;
    };
    const reporter = setInterval(() => progress(accepted), 100);
    const dog = watchdog("the producer", () => accepted + failed);
    const cpu = process.cpuUsage();
    const startMs = clockMs();
    try {
      while (queued < count) {
        let n = Math.min(count - queued, PRODUCER_WINDOW - (queued - accepted - failed));
        if (rate > 0) {
          const now = clockMs();
          const due = Math.min(count, Math.floor(((now - startMs) * rate) / 1000) + 1);
          n = Math.min(n, due - queued);
          if (n > 0) {
            // How late the first of these is: the pacing tick, or a window kept full by the broker.
            maxLagMs = Math.max(maxLagMs, now - (startMs + (queued * 1000) / rate));
            queue(n);
          }
          const next = startMs + ((queued + 1) * 1000) / rate;
          await Promise.race([
            new Promise((r) => setTimeout(r, Math.max(PACE_MS, next - clockMs()))),
            dog.stalled,
          ]);
          continue;
        }
        if (n > 0) {
          queue(n);
          continue;
        }
        await Promise.race([new Promise<void>((r) => (wake = r)), dog.stalled]);
      }
      await Promise.race([client.wait(), dog.stalled]);
    } finally {
      clearInterval(reporter);
      dog.stop();
    }
    progress(accepted);
    return { accepted, failed, startMs, endMs, maxLagMs, cpuUs: cpuSince(cpu) };
  }
}

/** The demo's consumer. */
export class DemoConsumer {
  readonly #client: ReceiveClient;

  constructor(url: string) {
    this.#client = new ReceiveClient(url, { prefetch: PREFETCH });
  }

  async open(): Promise<void> {
    await this.#client.open();
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  /** Receives the phase's messages (each accepted); `progress` hears the count now and then. */
  async run(phase: PhaseSpec, progress: (received: number) => void): Promise<ConsumerReport> {
    const { base, count, size } = phase;
    const seen = new Uint8Array(count);
    const latencies = new Float64Array(count);
    let received = 0;
    let corrupt = 0;
    let duplicates = 0;
    let bytes = 0;
    let endMs = 0;
    const reporter = setInterval(() => progress(received), 100);
    const abort = new AbortController();
    const dog = watchdog("the consumer", () => received + corrupt + duplicates);
    const cpu = process.cpuUsage();
    dog.stalled.catch((e: unknown) => abort.abort(e));
    try {
      // With autoComplete each message is accepted when the loop asks for the next one.
      for await (const m of this.#client.messages({ signal: abort.signal })) {
        const data = m.data?.[0];
        const seq = data ? check(data, size) : undefined;
        const i = seq === undefined ? -1 : seq - base;
        if (i < 0 || i >= count) {
          corrupt++;
        } else if (seen[i]) {
          duplicates++;
        } else {
          seen[i] = 1;
          endMs = clockMs();
          latencies[received++] = endMs - Buffer.from(data!.buffer, data!.byteOffset, 16).readDoubleBE(8);
          bytes += data!.length;
        }
        if (received === count) break;
      }
    } finally {
      clearInterval(reporter);
      dog.stop();
    }
    if (received < count)
      throw new Error(`the consumer's stream ended after ${received} of ${count} messages`);
    const cpuUs = cpuSince(cpu);
    progress(received);
    const sorted = latencies.sort();
    const p = (q: number): number => percentile(sorted, q);
    return { received, corrupt, duplicates, bytes, endMs, latency: [p(50), p(90), p(99), p(100)], cpuUs };
  }
}

/** What `uamqp demo` asks a client process (src/cli/demo-worker.ts) over its IPC channel. */
export type WorkerRequest = { readonly type: "run"; readonly phase: PhaseSpec } | { readonly type: "stop" };

/** What a client process answers. */
export type WorkerReply =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly n: number }
  | { readonly type: "done"; readonly report: ProducerReport | ConsumerReport }
  | { readonly type: "error"; readonly message: string };
