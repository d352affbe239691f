/**
 * The parent's side of the public-API benchmarks: starting worker processes (`worker.ts` under tsx,
 * `uamqp_worker.py` under Debian's Python) and `uamqp broker`, talking to them (protocol.ts), and
 * reading a process's CPU time and peak RSS from /proc. Every wait is bounded.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { REPLY_PREFIX, type Command, type Done, type Ended, type WorkerConfig } from "./protocol.js";

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));
const PY_WORKER = fileURLToPath(new URL("./uamqp_worker.py", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Debian's Python, which has python3-uamqp (another python3 earlier on PATH may not). */
export const PYTHON = "/usr/bin/python3";

/** Bound on a worker's start-up (tsx compiles on first start). */
const START_TIMEOUT_MS = 60_000;

type ReplyKey = "ready" | "armed" | "done" | "progress" | "ended" | "stopped";

/** A worker process and its mailbox of replies, one queue per kind of reply. */
export class Worker {
  readonly name: string;
  readonly child: ChildProcess;
  #boxes = new Map<ReplyKey, unknown[]>();
  #waiters = new Map<ReplyKey, ((v: unknown) => void)[]>();
  #failure: Error | undefined;
  #onFailure: ((e: Error) => void)[] = [];

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (!line.startsWith(REPLY_PREFIX)) {
        process.stderr.write(`[${name}] ${line}\n`);
        return;
      }
      const msg = JSON.parse(line.slice(REPLY_PREFIX.length)) as Record<string, unknown>;
      if ("error" in msg) {
        this.#fail(new Error(`${name}: ${String(msg["error"])}`));
        return;
      }
      const key = Object.keys(msg)[0] as ReplyKey;
      const waiter = this.#waiters.get(key)?.shift();
      if (waiter) waiter(msg[key]);
      else this.#box(key).push(msg[key]);
    });
    child.once("exit", (code, signal) => {
      this.#fail(new Error(`${name} exited (${code ?? signal ?? "?"})`));
    });
  }

  /** Starts `worker.ts` (or the Python worker) with `config`; resolves with its `ready` reply. */
  static async start(
    name: string,
    config: WorkerConfig,
    options: { python?: boolean; nodeFlags?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
  ): Promise<{ worker: Worker; port: number | undefined }> {
    const child =
      options.python === true
        ? spawn(PYTHON, [PY_WORKER, JSON.stringify(config)], { stdio: ["pipe", "pipe", "inherit"] })
        : spawn(
            process.execPath,
            [...(options.nodeFlags ?? []), "--import", "tsx", WORKER, JSON.stringify(config)],
            {
              stdio: ["pipe", "pipe", "inherit"],
              cwd: REPO_ROOT,
              ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
            },
          );
    const worker = new Worker(name, child);
    const ready = (await worker.#expect("ready", START_TIMEOUT_MS)) as { port?: number };
    return { worker, port: ready.port };
  }

  #box(key: ReplyKey): unknown[] {
    let b = this.#boxes.get(key);
    if (!b) this.#boxes.set(key, (b = []));
    return b;
  }

  #fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    for (const f of this.#onFailure) f(e);
  }

  /** The next reply of kind `key`, within `timeoutMs`. */
  #expect(key: ReplyKey, timeoutMs: number): Promise<unknown> {
    const boxed = this.#box(key);
    if (boxed.length > 0) return Promise.resolve(boxed.shift());
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no '${key}' within ${timeoutMs} ms`));
      }, timeoutMs);
      let waiters = this.#waiters.get(key);
      if (!waiters) this.#waiters.set(key, (waiters = []));
      waiters.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
      this.#onFailure.push((e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  #send(c: Command): void {
    this.child.stdin!.write(`${JSON.stringify(c)}\n`);
  }

  /** `run`: resolves when the worker is armed (for a receiver: its link is attached). */
  async run(count: number, warmup: boolean, timeoutMs: number): Promise<void> {
    this.#send({ cmd: "run", count, ...(warmup ? { warmup } : {}) });
    await this.#expect("armed", timeoutMs);
  }

  /** The worker's `done` of the current run. */
  async done(timeoutMs: number): Promise<Done> {
    return (await this.#expect("done", timeoutMs)) as Done;
  }

  /** Messages received so far in the current run. */
  async progress(timeoutMs = 10_000): Promise<number> {
    this.#send({ cmd: "progress" });
    return (await this.#expect("progress", timeoutMs)) as number;
  }

  /** `end`: the worker's CPU time and peak RSS for the run. */
  async end(timeoutMs = 30_000): Promise<Ended> {
    this.#send({ cmd: "end" });
    return (await this.#expect("ended", timeoutMs)) as Ended;
  }

  /** Asks the worker to close and exit; kills it if it does not within 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    try {
      this.#send({ cmd: "stop" });
    } catch {
      // stdin already closed
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- uamqp broker -----------------------------------------------------------------------------------

/** A running `uamqp broker` (or another server process) and its ports. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly tlsPort?: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts `uamqp broker` on free ports of 127.0.0.1: `node dist/cli/bin.js` when `built`, else the
 * sources under tsx (`node --import tsx src/cli/bin.ts`); resolves once it printed its listeners.
 * `options.dist` runs another build instead (a baseline for A/B runs), `options.nodeFlags` are given
 * to node (`--cpu-prof`).
 */
export async function startBroker(
  extraArgs: readonly string[],
  built: boolean,
  options: { dist?: string; nodeFlags?: readonly string[] } = {},
): Promise<ServerProcess> {
  const entry =
    options.dist !== undefined
      ? [join(options.dist, "cli/bin.js")]
      : built
        ? ["dist/cli/bin.js"]
        : ["--import", "tsx", "src/cli/bin.ts"];
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      ...entry,
      "broker",
      "--port",
      "0",
      "--max-queue-depth",
      "10000000",
      ...extraArgs,
    ],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const ports = await new Promise<{ port: number; tlsPort?: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("uamqp broker did not start within 60 s")), 60_000);
    const found: { port?: number; tlsPort?: number } = {};
    const wantTls = extraArgs.includes("--tls-cert");
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const plain = /listening on amqp:\/\/[^:]+:(\d+)/.exec(line);
      const tls = /listening on amqps:\/\/[^:]+:(\d+)/.exec(line);
      if (plain) found.port = Number(plain[1]);
      if (tls) found.tlsPort = Number(tls[1]);
      if (found.port !== undefined && (!wantTls || found.tlsPort !== undefined)) {
        clearTimeout(timer);
        resolve({ port: found.port, ...(found.tlsPort !== undefined ? { tlsPort: found.tlsPort } : {}) });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`uamqp broker exited (${String(code)})`));
    });
  });
  return {
    name: "uamqp broker",
    pid: child.pid!,
    port: ports.port,
    tlsPort: ports.tlsPort,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

// ---- /proc ------------------------------------------------------------------------------------------

let clockTicks: number | undefined;

/**
 * CPU time (user + system) of process `pid` so far, in µs: the sum over its threads of the time
 * the scheduler ran them (`/proc/<pid>/task/<tid>/schedstat`, in ns), so that short runs are
 * measured too; where that is missing, `/proc/<pid>/stat` (10 ms resolution on most kernels).
 */
export function procCpuUs(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // The thread ended meanwhile.
      }
    }
    if (ns > 0) return ns / 1000;
  } catch {
    // No schedstat: the coarser count below.
  }
  const t = procCpuSplitUs(pid);
  return t.user + t.system;
}

/** CPU time of process `pid` so far in user mode and in the kernel (its system calls), in µs. */
export function procCpuSplitUs(pid: number): { user: number; system: number } {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: (Number(fields[11]) * 1e6) / clockTicks, system: (Number(fields[12]) * 1e6) / clockTicks };
}

/**
 * The read and write system calls process `pid` made so far (`syscr`, `syscw` of `/proc/<pid>/io`:
 * socket reads and writes count there, epoll and timers do not).
 */
export function procSyscalls(pid: number): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  return {
    reads: Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? NaN),
    writes: Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? NaN),
  };
}

/** Peak RSS (VmHWM) of process `pid`, in KiB. */
export function procPeakRssKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}
