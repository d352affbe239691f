/**
 * Acceptance test of bounded broker memory (issue 17): a producer sends 64 KiB messages, and another
 * 1 MiB messages, as fast as credit allows into a queue nobody reads, for MEMORY_TEST_SECONDS each
 * (5 s unless set; the 60 s run is MEMORY_TEST_SECONDS=30). Each size has a broker of its own
 * in a child process, with a 32 MiB total, so that what one leaves to the allocator does not count
 * against the other; its peak RSS must stay within its RSS before any traffic plus the limit plus a 64 MiB
 * margin (docs/broker.md, "Memory": messages in flight, socket and frame buffers, garbage not yet
 * collected). The producer is held back by credit (what it has accepted stops growing while the queue
 * is full, its credit is 0 with messages waiting, nothing is rejected), and a consumer then receives
 * every accepted message exactly once.
 *
 * rhea queues what `send()` is given while `sendable()` (up to its session window) and writes it as
 * credit comes, so the producer keeps at most as many messages unsettled as the broker could ever
 * grant at once: the broker's credit, not this bound, is what holds it back.
 */
import assert from "node:assert/strict";
import { fork, type ChildProcess } from "node:child_process";
import type { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import rhea from "rhea";
import type { BrokerOptions } from "../../src/broker/index.js";
import { within } from "../support/waits.js";
import type { ChildReply, ChildRequest } from "./memory-broker-child.js";
import { close, collect, connect, openReceiver, openSender, quiet } from "./rhea-client.js";

const MiB = 1024 * 1024;
const LIMIT = 32 * MiB;
const MARGIN = 64 * MiB;
const OVERHEAD = 256;
const SECONDS = Number(process.env["MEMORY_TEST_SECONDS"] ?? 5);
const CHILD = fileURLToPath(new URL("./memory-broker-child.ts", import.meta.url));

type Sample = Extract<ChildReply, { type: "sample" }>;

/** The broker process and a way to ask it. */
class BrokerProcess {
  readonly #child: ChildProcess;
  readonly #waiting: ((r: ChildReply) => void)[] = [];

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (m: ChildReply) => {
      this.#waiting.shift()?.(m);
    });
  }

  static async start(options: BrokerOptions): Promise<{ proc: BrokerProcess; port: number }> {
    const child = fork(CHILD, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, BROKER_OPTIONS: JSON.stringify(options) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const proc = new BrokerProcess(child);
    const ready = await within(proc.#next(), "the broker process to start", 30_000);
    if (ready.type !== "ready") throw new Error(`the broker process answered ${ready.type}`);
    return { proc, port: ready.port };
  }

  #next(): Promise<ChildReply> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async ask(request: ChildRequest): Promise<ChildReply> {
    const reply = this.#next();
    this.#child.send(request);
    return within(reply, `the broker's answer to ${request.type}`);
  }

  async sample(address?: string): Promise<Sample> {
    const r = await this.ask({ type: "sample", ...(address !== undefined ? { address } : {}) });
    if (r.type !== "sample") throw new Error(`the broker process answered ${r.type}`);
    return r;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.send({ type: "stop" } satisfies ChildRequest);
    try {
      await within(exited, "the broker process to exit", 10_000);
    } catch {
      child.kill("SIGKILL");
    }
  }
}

/** What one phase measured. */
interface PhaseResult {
  readonly sent: number;
  readonly waiting: number;
  readonly accepted: number;
  readonly rejected: number;
  /** RSS when the phase began (what earlier phases left behind included). */
  readonly startRss: number;
  readonly peakRss: number;
  /** RSS when the phase ended, the queue full. */
  readonly endRss: number;
  readonly kernelPeak: boolean;
  readonly queueBytes: number;
}

const fmt = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

for (const [label, size] of [
  ["64 KiB", 64 * 1024],
  ["1 MiB", MiB],
] as const) {
  describe(
    `broker memory: an unread queue under ${label} messages (a broker process of its own)`,
    { timeout: 60_000 + SECONDS * 4_000 },
    () => {
      let broker: BrokerProcess;
      let port = 0;
      let baseline = 0;
      const conns: rhea.Connection[] = [];

      before(async () => {
        ({ proc: broker, port } = await BrokerProcess.start({
          limits: { maxTotalBytes: LIMIT, maxQueueBytes: LIMIT },
        }));
        // The broker's RSS before any traffic, with one connection made and gone (code paths loaded).
        const warm = await connect(port);
        await openSender(warm, "warm-up");
        await close(warm);
        baseline = (await broker.sample()).rss;
      });

      after(async () => {
        for (const c of conns) await close(c);
        await broker.stop();
      });

      /**
       * Sends `size`-byte messages to `address` as fast as credit allows for SECONDS; checks that the
       * accepted count stops growing once the queue is full, then drains and checks every id.
       */
      async function phase(address: string, size: number): Promise<PhaseResult> {
        await broker.ask({ type: "reset" });
        const startRss = (await broker.sample()).rss;
        const c = await connect(port);
        conns.push(c);
        const s = await openSender(c, address);
        // The most credit the broker could grant for messages of this size at once, and a little more.
        const maxUnsettled = Math.ceil(LIMIT / size) + 8;
        const body = rhea.message.data_section(Buffer.alloc(size, 0x61));
        const acceptedIds = new Set<string>();
        let sent = 0;
        let rejected = 0;
        let sending = true;
        const e = s as unknown as EventEmitter;
        const pump = (): void => {
          while (sending && s.sendable() && sent - acceptedIds.size - rejected < maxUnsettled) {
            const id = `${address}-${sent++}`;
            s.send({ message_id: id, body }, Buffer.from(id));
          }
        };
        e.on("accepted", (ctx: rhea.EventContext) => {
          acceptedIds.add(String(ctx.delivery?.tag.toString()));
          pump();
        });
        e.on("rejected", () => {
          rejected++;
          pump();
        });
        e.on("sendable", pump);
        pump();

        const end = Date.now() + SECONDS * 1000;
        // Full: the queue reached its byte limit (credit is withheld from then on).
        let full: { at: number; accepted: number } | undefined;
        let acceptedAfterFull: number | undefined;
        while (Date.now() < end) {
          await new Promise((r) => setTimeout(r, 100));
          const q = (await broker.sample(address)).stats!;
          if (full === undefined && q.byteCount >= LIMIT)
            full = { at: Date.now(), accepted: acceptedIds.size };
          // Half a second after it filled, outcomes of what was in flight have arrived: mark the count.
          if (full !== undefined && acceptedAfterFull === undefined && Date.now() >= full.at + 500) {
            acceptedAfterFull = acceptedIds.size;
          }
        }
        sending = false;
        assert.ok(full !== undefined, `the queue never filled (accepted ${acceptedIds.size})`);
        assert.ok(acceptedAfterFull !== undefined, "the phase is too short to watch the full queue");
        const atEnd = await broker.sample(address);
        assert.equal(
          acceptedIds.size,
          acceptedAfterFull,
          "the producer kept getting messages accepted while full",
        );
        assert.equal(
          (s as unknown as { credit: number }).credit,
          0,
          "the full queue's producer still has credit",
        );
        const waiting = sent - acceptedIds.size - rejected;
        assert.ok(waiting > 0, "the producer had nothing waiting for credit");
        assert.equal(rejected, 0, "a single producer held back by credit gets nothing rejected");
        // What waits for credit in rhea was never sent, let alone acknowledged: it goes with the connection.
        await close(c);
        const queueBytes = atEnd.stats!.byteCount;
        assert.ok(
          queueBytes >= LIMIT && queueBytes <= LIMIT + size + 1024 + OVERHEAD,
          `queue bytes ${queueBytes}`,
        );
        assert.equal(atEnd.byteCount, queueBytes, "the broker's total is this queue's bytes");
        assert.equal(atEnd.stats!.messageCount, acceptedIds.size);

        // A consumer gets every accepted message exactly once.
        const consumer = await connect(port);
        conns.push(consumer);
        const r = await openReceiver(consumer, { source: address, credit_window: 20 });
        const got = await collect(r, acceptedIds.size, 60_000);
        const ids = got.map((m) => String(m.message?.message_id));
        assert.equal(new Set(ids).size, ids.length, "a message was received twice");
        assert.deepEqual(new Set(ids), acceptedIds);
        assert.equal((await quiet(r, 200)).length, 0, "more messages than were accepted");
        const drained = await broker.sample(address);
        assert.equal(drained.stats!.messageCount, 0);
        assert.equal(drained.stats!.byteCount, 0);
        assert.equal(drained.byteCount, 0);
        await close(consumer);
        return {
          sent,
          waiting,
          startRss,
          accepted: acceptedIds.size,
          rejected,
          peakRss: atEnd.peakRss,
          endRss: atEnd.rss,
          kernelPeak: atEnd.kernelPeak,
          queueBytes,
        };
      }

      it(`${label} messages: RSS within baseline + limit + margin, producer held by credit, nothing lost`, async () => {
        const r = await phase(`rss-${label.replace(" ", "")}`, size);
        const bound = baseline + LIMIT + MARGIN;
        console.log(
          `# ${label} x ${SECONDS} s: accepted ${r.accepted} (${fmt(r.queueBytes)} counted), rejected ${r.rejected}, ` +
            `${r.waiting} waiting for credit at the end; ` +
            `RSS baseline ${fmt(baseline)}, at the start ${fmt(r.startRss)}, peak ${fmt(r.peakRss)}${r.kernelPeak ? " (VmHWM)" : ""}, at the end ${fmt(r.endRss)}, bound ${fmt(bound)}`,
        );
        assert.ok(r.peakRss <= bound, `peak RSS ${fmt(r.peakRss)} above ${fmt(bound)}`);
      });
    },
  );
}
