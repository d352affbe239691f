/**
 * The broker of test/broker/memory-rss.test.ts, in a process of its own so that its resident memory
 * can be measured: started with the options in `BROKER_OPTIONS` (JSON), it reports its port over
 * IPC, then answers `sample` requests with its RSS now, the peak since the last `reset` (sampled every
 * 10 ms, and on Linux the kernel's own high-water mark VmHWM), its byte count and a queue's stats.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Broker, type BrokerOptions, type QueueStats } from "../../src/broker/index.js";

/** What the test asks. */
export type ChildRequest =
  | { readonly type: "sample"; readonly address?: string }
  | { readonly type: "reset" }
  | { readonly type: "stop" };

/** What the child answers. */
export type ChildReply =
  | { readonly type: "ready"; readonly port: number }
  | {
      readonly type: "sample";
      readonly rss: number;
      /** Highest RSS since the last reset: sampled, or the kernel's VmHWM when larger. */
      readonly peakRss: number;
      /** Whether `peakRss` had the kernel's high-water mark to go by (Linux). */
      readonly kernelPeak: boolean;
      readonly byteCount: number;
      readonly stats: QueueStats | undefined;
    }
  | { readonly type: "reset" };

const STATUS = "/proc/self/status";

/** VmHWM (peak RSS) in bytes, or undefined where /proc is not there. */
function kernelPeak(): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(STATUS, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs); false where that is refused. */
function resetKernelPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

const send = (reply: ChildReply): void => {
  process.send?.(reply);
};

const options = JSON.parse(process.env["BROKER_OPTIONS"] ?? "{}") as BrokerOptions;
const broker = await Broker.start(options);
let peak = process.memoryUsage.rss();
let kernelReset = resetKernelPeak();
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 10);

process.on("message", (m: ChildRequest) => {
  switch (m.type) {
    case "sample": {
      const rss = process.memoryUsage.rss();
      peak = Math.max(peak, rss);
      const hwm = kernelReset ? kernelPeak() : undefined;
      send({
        type: "sample",
        rss,
        peakRss: Math.max(peak, hwm ?? 0),
        kernelPeak: hwm !== undefined,
        byteCount: broker.byteCount,
        stats: m.address === undefined ? undefined : broker.stats(m.address),
      });
      return;
    }
    case "reset":
      peak = process.memoryUsage.rss();
      kernelReset = resetKernelPeak();
      send({ type: "reset" });
      return;
    case "stop":
      clearInterval(sampler);
      void broker.close().then(() => process.exit(0));
  }
});
send({ type: "ready", port: broker.port! });
