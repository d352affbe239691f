/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, e.g. those `bench/api.bench.ts --cpu-prof` writes):
 * where the time went by source folder, the functions with the most self time and the most inclusive
 * time, with the positions of the functions in the TypeScript sources, and (for the build, whose
 * lines follow the sources) the hottest source lines of the top functions.
 *
 *   node --import tsx bench/api/profile-report.ts <file.cpuprofile>... [--all] [--top=N]
 *
 * When `<name>.windows.json` lies next to `<name>.cpuprofile` (the benchmark's worker writes the
 * monotonic-clock windows of its measured runs there), only samples inside those windows count, so
 * start-up, module loading and warm-up are left out; `--all` counts every sample.
 *
 * Positions: the profile's line and column numbers are those of the code V8 ran (the build in
 * `dist/`, or tsx's output of the sources with `--lib=src`); this script imports each profiled module
 * the same way and maps the positions back through the source maps Node keeps for them
 * (`process.setSourceMapsEnabled`, `module.findSourceMap`).
 */
import { existsSync, readFileSync } from "node:fs";
import { findSourceMap, type SourceMap } from "node:module";
import { printTable } from "../harness.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith("--"));
const all = args.includes("--all");
const topArg = args.find((a) => a.startsWith("--top="));
const TOP = topArg !== undefined ? Number(topArg.slice(6)) : 25;
if (files.length === 0) {
  console.error(
    "usage: node --import tsx bench/api/profile-report.ts <file.cpuprofile>... [--all] [--top=N]",
  );
  process.exit(2);
}

process.setSourceMapsEnabled(true);
const maps = new Map<string, SourceMap | undefined>();

/** Imports the profiled TypeScript module once, so that Node holds its source map. */
async function sourceMapOf(url: string): Promise<SourceMap | undefined> {
  if (maps.has(url)) return maps.get(url);
  let map: SourceMap | undefined;
  if (url.startsWith("file://") && /\/(src|dist)\/.*\.(ts|js)$/.test(url)) {
    try {
      await import(url);
      map = findSourceMap(url);
    } catch {
      map = undefined;
    }
  }
  maps.set(url, map);
  return map;
}

/** `src/client/message-sender.ts` for a file URL of this repository; node's internals as they are. */
function shortUrl(url: string): string {
  const m = /\/(src|dist|bench|test|node_modules)\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  return url.replace(/^file:\/\//, "");
}

/** `file:line` (1-based, in the TypeScript source when a source map is known). */
function position(url: string, line0: number, col0: number): string {
  if (url === "") return "";
  const map = maps.get(url);
  if (map && line0 >= 0) {
    const e = map.findEntry(line0, col0) as { originalLine?: number; originalSource?: string };
    if (typeof e.originalLine === "number") {
      return `${shortUrl(e.originalSource ?? url)}:${e.originalLine + 1}`;
    }
  }
  return `${shortUrl(url)}:${line0 + 1}`;
}

/**
 * The source line (1-based) of a line of generated code (1-based), when the generated code keeps
 * lines (tsc's build does; tsx's output is one line per module, so its line ticks say nothing).
 */
function sourceLine(url: string, line1: number): number | undefined {
  const map = maps.get(url);
  if (!map || !url.includes("/dist/")) return undefined;
  const e = map.findEntry(line1 - 1, 100_000) as { originalLine?: number; generatedLine?: number };
  return typeof e.originalLine === "number" && e.generatedLine === line1 - 1 ? e.originalLine + 1 : undefined;
}

/** Source folders and libraries the time is billed to. */
function areaOf(url: string): string | undefined {
  const m = /\/(?:src|dist)\/([^/]+)\//.exec(url);
  if (m) return `src/${m[1]}`;
  if (url.includes("/node_modules/rhea/")) return "rhea";
  if (url.includes("/bench/")) return "bench (the benchmark's own code)";
  return undefined;
}

const pct = (v: number, total: number): string => `${((v / total) * 100).toFixed(1)} %`;

async function report(file: string): Promise<void> {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const windowsFile = file.replace(/\.cpuprofile$/, ".windows.json");
  const windows =
    !all && existsSync(windowsFile)
      ? (JSON.parse(readFileSync(windowsFile, "utf8")) as [number, number][])
      : [];
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  for (const n of profile.nodes) await sourceMapOf(n.callFrame.url);

  // Samples per leaf node, inside the measured windows.
  const leafCounts = new Map<number, number>();
  let t = profile.startTime;
  let taken = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (windows.length > 0 && !windows.some(([a, b]) => t >= a && t <= b)) continue;
    const id = profile.samples[i]!;
    leafCounts.set(id, (leafCounts.get(id) ?? 0) + 1);
    taken++;
  }
  const nameOf = (n: ProfileNode): string => n.callFrame.functionName || "(anonymous)";
  const keyOf = (n: ProfileNode): string => {
    const f = n.callFrame;
    const where = position(f.url, f.lineNumber, f.columnNumber);
    return where === "" ? nameOf(n) : `${nameOf(n)} ${where}`;
  };

  let busy = 0;
  let idle = 0;
  const selfByArea = new Map<string, number>();
  const billedByArea = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const inclusiveByFn = new Map<string, number>();
  const nodesOfFn = new Map<string, ProfileNode[]>();
  const add = (m: Map<string, number>, k: string, v: number): void => {
    m.set(k, (m.get(k) ?? 0) + v);
  };
  for (const [id, count] of leafCounts) {
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName;
    if (fn === "(idle)") {
      idle += count;
      continue;
    }
    busy += count;
    const key = keyOf(n);
    add(selfByFn, key, count);
    let list = nodesOfFn.get(key);
    if (!list) nodesOfFn.set(key, (list = []));
    if (!list.includes(n)) list.push(n);
    if (fn === "(garbage collector)" || fn === "(program)") {
      add(selfByArea, fn, count);
      add(billedByArea, fn, count);
    } else {
      const own = areaOf(n.callFrame.url);
      add(selfByArea, own ?? "Node.js / V8 internals", count);
      let billed = own;
      for (let p = parent.get(id); billed === undefined && p !== undefined; p = parent.get(p)) {
        billed = areaOf(byId.get(p)!.callFrame.url);
      }
      add(billedByArea, billed ?? "Node.js / V8 (no library frame above)", count);
    }
    // Inclusive: every function of ours on the stack, once per sample.
    const seen = new Set<string>();
    for (let p: number | undefined = id; p !== undefined; p = parent.get(p)) {
      const pn = byId.get(p)!;
      if (areaOf(pn.callFrame.url)?.startsWith("src/") !== true) continue;
      const k = keyOf(pn);
      if (seen.has(k)) continue;
      seen.add(k);
      add(inclusiveByFn, k, count);
    }
  }

  const ms = (
    (taken * (profile.endTime - profile.startTime)) /
    Math.max(1, profile.samples.length) /
    1000
  ).toFixed(0);
  console.log(`\n### ${file}\n`);
  console.log(
    `${taken} samples (about ${ms} ms) ${windows.length > 0 ? `in ${windows.length} measured run(s)` : "over the whole process"}; ` +
      `busy ${busy}, idle ${idle} (${pct(idle, Math.max(1, taken))} idle). Shares below are of the busy samples.\n`,
  );
  const areas = [...new Set([...selfByArea.keys(), ...billedByArea.keys()])].sort(
    (a, b) => (billedByArea.get(b) ?? 0) - (billedByArea.get(a) ?? 0),
  );
  printTable(
    ["where", "self", "with the runtime work it called"],
    areas.map((a) => [a, pct(selfByArea.get(a) ?? 0, busy), pct(billedByArea.get(a) ?? 0, busy)]),
  );
  console.log("\nTop self time:\n");
  const topSelf = [...selfByFn].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  printTable(
    ["function", "self"],
    topSelf.map(([k, v]) => [k, pct(v, busy)]),
  );
  console.log("\nTop inclusive time, functions in src/:\n");
  printTable(
    ["function", "inclusive"],
    [...inclusiveByFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([k, v]) => [k, pct(v, busy)]),
  );
  // Line ticks count the whole profile (V8 does not time-stamp them), not only the measured runs.
  const lines: string[][] = [];
  for (const [k] of topSelf) {
    const ns = nodesOfFn.get(k) ?? [];
    const url = ns[0]?.callFrame.url ?? "";
    const ticks = new Map<number, number>();
    for (const n of ns) {
      for (const pt of n.positionTicks ?? []) {
        const line = sourceLine(url, pt.line);
        if (line !== undefined) ticks.set(line, (ticks.get(line) ?? 0) + pt.ticks);
      }
    }
    const total = [...ticks.values()].reduce((a, b) => a + b, 0);
    const hot = [...ticks]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([line, n]) => `:${line} ${pct(n, Math.max(1, total))}`);
    if (hot.length > 0) lines.push([k, hot.join(", ")]);
  }
  if (lines.length > 0) {
    console.log("\nHottest source lines of the top self-time functions (line ticks of the whole profile):\n");
    printTable(["function", "lines (share of the function's ticks)"], lines);
  }
}

for (const f of files) await report(f);
