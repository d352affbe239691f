/**
 * A tiny benchmark harness: warm up, then run a function in batches for a fixed wall-clock
 * duration and report operations per second. No dependencies, so the benches run with
 * `node --import tsx bench/<name>.bench.ts`.
 */

/** Result of one measured case. */
export interface BenchResult {
  readonly name: string;
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
}

import os from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

/**
 * A full GC, so that garbage left by one contender (and the GC threads still working on it) is not
 * billed to the next. Works without `--expose-gc` on the command line.
 */
function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

/** Keeps results alive so the JIT cannot drop the measured work. */
export let sink: unknown;

/** Calibrates a batch size that takes about `targetMs` (after warming `fn` up for `warmupMs`). */
function calibrate(fn: () => unknown, warmupMs: number, targetMs: number): number {
  let batch = 1;
  const warmEnd = now() + warmupMs;
  while (now() < warmEnd) {
    for (let i = 0; i < batch; i++) sink = fn();
    if (batch < 1 << 16) batch *= 2;
  }
  const t0 = now();
  for (let i = 0; i < batch; i++) sink = fn();
  const perOp = Math.max((now() - t0) / batch, 1e-6);
  return Math.max(1, Math.round(targetMs / perOp));
}

/**
 * Milliseconds of CPU time used by this process (user + system, all threads). CPU time rather than
 * wall-clock time: on a machine shared with other work, time spent descheduled does not count.
 */
function now(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `batch` calls of `fn` in a loop until `durationMs` have elapsed; returns ops/s. */
function runFor(name: string, fn: () => unknown, batch: number, durationMs: number): BenchResult {
  collectGarbage();
  // The collection may have thrown away optimized code (it embeds objects weakly): warm up again.
  for (let i = 0; i < batch; i++) sink = fn();
  let ops = 0;
  const start = now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    elapsed = now() - start;
  }
  return { name, ops, seconds: elapsed / 1000, opsPerSec: ops / (elapsed / 1000) };
}

/**
 * Runs `fn` repeatedly: `warmupMs` of warm-up, then batches until `durationMs` have elapsed.
 * The batch size adapts so that the clock is read rarely.
 */
export function measure(name: string, fn: () => unknown, durationMs = 1500, warmupMs = 400): BenchResult {
  return runFor(name, fn, calibrate(fn, warmupMs, 20), durationMs);
}

/**
 * Measures several functions in alternating rounds (A B A B …) for `durationMs` each in total and
 * keeps each one's best round: on a shared machine, load that comes and goes then hits all of
 * them alike instead of whichever happened to run at the time.
 */
export function compare(
  fns: readonly { name: string; fn: () => unknown }[],
  durationMs = 1500,
  rounds = 10,
  warmupMs = 300,
): BenchResult[] {
  const batches = fns.map((f) => calibrate(f.fn, warmupMs, 10));
  const best: BenchResult[] = fns.map((f) => ({ name: f.name, ops: 0, seconds: 0, opsPerSec: 0 }));
  for (let r = 0; r < rounds; r++) {
    fns.forEach((f, i) => {
      const res = runFor(f.name, f.fn, batches[i]!, durationMs / rounds);
      if (res.opsPerSec > best[i]!.opsPerSec) best[i] = res;
    });
  }
  return best;
}

/** Formats a number of operations per second with thousands separators. */
export function fmtOps(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Prints rows as an aligned Markdown table. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |";
  console.log(line(header));
  console.log(
    "| " + widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ") + " |",
  );
  for (const r of rows) console.log(line(r));
}

/** The median of `values` (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The `q`-quantile (0..1) of `sorted` (ascending), nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * One line that says where numbers were taken: CPU model, cores, memory, OS, Node version and the load
 * average when the line was made (other work on a shared machine lowers every figure).
 */
export function machineLine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? "unknown CPU";
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  return (
    `machine: ${model}, ${cpus.length} cores, ${gib} GiB, ${os.type()} ${os.release()}, ` +
    `Node ${process.version}, load average ${load}, ${new Date().toISOString().slice(0, 16)}Z`
  );
}
