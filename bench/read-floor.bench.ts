/**
 * The floor of any receiver: the CPU a Node process spends only reading from loopback TCP the bytes
 * that a case's messages take on the wire (as many messages as bench/api.bench.ts sends), doing
 * nothing with them. A writer process sends them as fast as the socket takes them (66 KB per
 * write, as a broker batches); a reader process reads them with `data` events (Node's default,
 * rhea's way), with `onread` into fresh memory per read (our connecting sockets, see
 * src/transport/socket-transport.ts), with `onread` into one buffer read into again, or that and
 * each message's bytes copied out into memory of its own, and reports its CPU from the first byte
 * to the last, and the part of it spent in the kernel.
 *
 *   node --import tsx bench/read-floor.bench.ts [--rounds=5]
 *
 * Bytes per message are those of bench/api.bench.ts: in the broker case a 16 B body travels in a
 * 59-byte TRANSFER frame, a 1 KiB body in a 1,068-byte one; in the p2p case (max-frame-size 64 KiB)
 * a 64 KiB body takes 65,600 bytes in two frames, a 1 MiB body 1,049,060 in seventeen.
 */
import { fork } from "node:child_process";
import { connect, createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { machineLine, median } from "./harness.js";

const CASES = [
  { name: "16 B", frameBytes: 59, messages: 50_000 },
  { name: "1 KiB", frameBytes: 1068, messages: 50_000 },
  { name: "64 KiB", frameBytes: 65_600, messages: 4000 },
  { name: "1 MiB", frameBytes: 1_049_060, messages: 300 },
] as const;
const MODES = ["data", "onread", "reused", "copied"] as const;
type Mode = (typeof MODES)[number];
interface Result {
  us: number;
  systemUs: number;
}

const argv = process.argv.slice(2);

if (argv[0] === "--reader") {
  // The reader: connects, reads `total` bytes, reports its CPU (from the first byte on).
  const [, portArg, totalArg, mode, messageArg] = argv as [string, string, string, Mode, string];
  const total = Number(totalArg);
  let got = 0;
  let t0: NodeJS.CpuUsage | undefined;
  const read = (n: number): void => {
    t0 ??= process.cpuUsage();
    got += n;
    if (got < total) return;
    const c = process.cpuUsage(t0);
    process.send?.({ us: c.user + c.system, systemUs: c.system } satisfies Result, () => process.exit(0));
  };
  if (mode === "onread") {
    connect({
      port: Number(portArg),
      host: "127.0.0.1",
      // Fresh memory per read, as a receiver that keeps views of what it read needs.
      onread: { buffer: () => Buffer.allocUnsafeSlow(65536), callback: (n: number) => (read(n), true) },
    });
  } else if (mode === "reused" || mode === "copied") {
    // One buffer read into again and again, memory that stays in the cache: the copy out of the
    // kernel alone. No receiver that hands messages to an application gets this low: its messages'
    // bytes must stay somewhere, and "copied" copies each message out of the buffer into memory of
    // its own (as Node.js allocates it: pooled below 4 KiB) to show what that costs.
    const memory = Buffer.allocUnsafeSlow(65536);
    const messageBytes = Number(messageArg);
    let message = Buffer.alloc(0);
    let fill = 0;
    const copy = (n: number): void => {
      let off = 0;
      while (off < n) {
        if (fill === message.length) {
          message = Buffer.allocUnsafe(messageBytes);
          fill = 0;
        }
        const k = Math.min(n - off, messageBytes - fill);
        memory.copy(message, fill, off, off + k);
        fill += k;
        off += k;
      }
    };
    connect({
      port: Number(portArg),
      host: "127.0.0.1",
      onread: {
        buffer: memory,
        callback: (n) => {
          if (mode === "copied") copy(n);
          read(n);
          return true;
        },
      },
    });
  } else {
    connect({ port: Number(portArg), host: "127.0.0.1" }).on("data", (d: Buffer) => {
      read(d.length);
    });
  }
} else {
  const rounds = Number(argv.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 5);
  let total = 0;
  let messageBytes = 0;
  const server = createServer((s) => {
    s.on("error", () => undefined);
    s.setNoDelay(true);
    const chunk = Buffer.alloc(66_000, 0x5a);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          s.once("drain", pump);
          return;
        }
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const self = fileURLToPath(import.meta.url);
  const readOnce = (mode: Mode): Promise<Result> =>
    new Promise((resolve, reject) => {
      const child = fork(self, ["--reader", String(port), String(total), mode, String(messageBytes)], {
        execArgv: ["--import", "tsx"],
      });
      child.once("message", (m) => resolve(m as Result));
      child.once("error", reject);
    });
  console.log(machineLine());
  console.log(`\nA case's messages' bytes read from loopback TCP, median of ${rounds} rounds:\n`);
  console.log("| case | messages | bytes | reads with | CPU µs per message | of it in the kernel |");
  console.log("| --- | --: | --: | --- | --: | --: |");
  for (const c of CASES) {
    total = c.messages * c.frameBytes;
    messageBytes = c.frameBytes;
    const results = new Map<Mode, Result[]>(MODES.map((m) => [m, []]));
    for (let r = 0; r < rounds; r++) for (const m of MODES) results.get(m)!.push(await readOnce(m));
    for (const m of MODES) {
      const rs = results.get(m)!;
      const perMsg = (x: number): string => (x / c.messages).toFixed(2);
      console.log(
        `| ${c.name} | ${c.messages.toLocaleString("en-US")} | ${total.toLocaleString("en-US")} | ${m} | ${perMsg(median(rs.map((x) => x.us)))} | ${perMsg(median(rs.map((x) => x.systemUs)))} |`,
      );
    }
  }
  server.close();
  process.exit(0);
}
