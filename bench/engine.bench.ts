/**
 * Peer-to-peer throughput on loopback, ours against rhea in the same run.
 * Our sender (client role) → our receiver (server role); rhea sender → rhea receiver.
 *
 *   node --import tsx bench/engine.bench.ts [--quick] [--only=<case name substring>] [--ours-only | --rhea-only]
 *
 * Both sides use the same max-frame-size (1 MiB), settle mode and receiver credit (`CREDIT`); the
 * sender attaches with a source (rhea's sender sends an empty one), and the clock starts when the
 * sender first has credit (rhea's first `sendable`), so the attach handshake is not measured.
 */
import type { AddressInfo } from "node:net";
import rhea from "rhea";
import { AmqpConnection } from "../src/engine/connection.js";
import { SenderSettleMode } from "../src/engine/link.js";
import { listenTcp } from "../src/transport/tcp.js";
import { connectTcp } from "../src/transport/tcp.js";

interface Case {
  name: string;
  size: number;
  count: number;
  settled: boolean;
}

const quick = process.argv.includes("--quick");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const oursOnly = process.argv.includes("--ours-only");
const rheaOnly = process.argv.includes("--rhea-only");
const scale = quick ? 0.2 : 1;
const CASES: Case[] = [
  { name: "16 B pre-settled", size: 16, count: 300_000, settled: true },
  { name: "16 B unsettled", size: 16, count: 200_000, settled: false },
  { name: "1 KiB unsettled", size: 1024, count: 100_000, settled: false },
  { name: "64 KiB unsettled", size: 65536, count: 4_000, settled: false },
  { name: "1 MiB unsettled", size: 1 << 20, count: 300, settled: false },
]
  .filter((c) => only === undefined || c.name.includes(only))
  .map((c) => ({ ...c, count: Math.max(50, Math.floor(c.count * scale)) }));

/** Link credit granted by both receivers (rhea's `credit_window`, our `autoCredit`). */
const CREDIT = 1000;

/** A data-section message of `size` body bytes. */
function payloadOf(size: number): Buffer {
  const head =
    size < 256
      ? Buffer.from([0x00, 0x53, 0x75, 0xa0, size])
      : Buffer.from([0x00, 0x53, 0x75, 0xb0, 0, 0, 0, 0]);
  if (size >= 256) head.writeUInt32BE(size, 4);
  return Buffer.concat([head, Buffer.alloc(size, 7)]);
}

async function ours(c: Case): Promise<number> {
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = await listenTcp({ host: "127.0.0.1", port: 0 }, (transport) => {
    const conn = new AmqpConnection({ role: "server", maxFrameSize: 1 << 20 });
    conn.onRemoteBegin = (session) => {
      session.onRemoteAttach = (attach) => {
        const link = session.acceptLink(attach, { target: { address: "bench" }, autoCredit: CREDIT });
        if ("onDelivery" in link) {
          link.onDelivery = (d) => {
            if (!d.settled) link.settle(d);
            if (++received === c.count) done();
          };
        }
      };
    };
    conn.start(transport);
  });
  const conn = new AmqpConnection({ maxFrameSize: 1 << 20 });
  conn.start(await connectTcp({ host: "127.0.0.1", port: server.port }));
  const sender = conn.createSession().attachSender({
    source: { address: "bench-sender" },
    target: { address: "bench" },
    sndSettleMode: c.settled ? SenderSettleMode.Settled : SenderSettleMode.Unsettled,
  });
  await sender.attached();
  if (sender.linkCredit <= 0) await new Promise<void>((r) => (sender.onCredit = r));
  sender.onCredit = undefined;
  const payload = payloadOf(c.size);
  const start = process.hrtime.bigint();
  // Keep a bounded window of sends in flight; each send() resolves on settlement.
  const window = c.size >= 65536 ? 64 : 10_000;
  let inFlight = 0;
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inFlight < window && sent < c.count) {
        inFlight++;
        sent++;
        sender.send(payload).then(
          () => {
            inFlight--;
            if (sent < c.count) pump();
            else if (inFlight === 0) resolve();
          },
          (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))),
        );
      }
    };
    pump();
  });
  await finished;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await conn.close();
  await server.close();
  return c.count / secs;
}

async function theirs(c: Case): Promise<number> {
  const payload = payloadOf(c.size);
  const body = rhea.message.data_section(payload.subarray(c.size < 256 ? 5 : 8));
  const serverContainer = rhea.create_container({ id: "rhea-recv", credit_window: CREDIT });
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  serverContainer.on("receiver_open", (ctx: rhea.EventContext) => {
    ctx.receiver!.set_target({ address: "bench" });
  });
  serverContainer.on("message", () => {
    if (++received === c.count) done();
  });
  const server = serverContainer.listen({
    port: 0,
    host: "127.0.0.1",
    max_frame_size: 1 << 20,
  });
  await new Promise<void>((r) => server.once("listening", () => r()));
  const port = (server.address() as AddressInfo).port;
  const client = rhea.create_container({ id: "rhea-send" });
  const conn = client.connect({ host: "127.0.0.1", port, max_frame_size: 1 << 20, reconnect: false });
  const sender = conn.open_sender({ target: "bench", snd_settle_mode: c.settled ? 1 : 0 });
  let sent = 0;
  let start = 0n;
  let settledCount = 0;
  const allSettled = new Promise<void>((resolve) => {
    if (c.settled) resolve();
    sender.on("accepted", () => {
      if (++settledCount === c.count) resolve();
    });
  });
  sender.on("sendable", () => {
    if (start === 0n) start = process.hrtime.bigint();
    while (sender.sendable() && sent < c.count) {
      sender.send({ body });
      sent++;
    }
  });
  await finished;
  await allSettled;
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  conn.close();
  await new Promise<void>((r) => server.close(() => r()));
  return c.count / secs;
}

const rows: string[][] = [];
for (const c of CASES) {
  const o = rheaOnly ? NaN : await ours(c);
  const r = oursOnly ? NaN : await theirs(c);
  rows.push([
    c.name,
    String(c.count),
    Math.round(o).toLocaleString("en"),
    Math.round(r).toLocaleString("en"),
    (o / r).toFixed(1) + "x",
  ]);
  console.log(`${c.name}: ours ${Math.round(o)} msg/s, rhea ${Math.round(r)} msg/s`);
}
console.log("\n| case | messages | ours msg/s | rhea msg/s | ratio |\n| --- | --- | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
process.exit(0);
