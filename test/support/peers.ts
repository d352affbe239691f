/**
 * Real AMQP 1.0 peers for interop suites (node:test): RabbitMQ 3.10 with the AMQP 1.0 plugin and the
 * project's Qpid Proton broker (scripts/peers/). Also Python helpers to drive Python uamqp / Proton clients
 * and Azure's azure-eventhub SDK.
 *
 * Policy: a peer that is not installed skips the suite locally (with the reason) but FAILS under `CI=true`.
 *
 * @example
 * ```ts
 * import { after, before, describe, it } from "node:test";
 * import { peerSkip, startPeer, type RunningPeer } from "../support/peers.js";
 *
 * describe("against RabbitMQ", { skip: peerSkip("rabbitmq") }, () => {
 *   let peer: RunningPeer;
 *   before(async () => { peer = await startPeer("rabbitmq"); });
 *   after(() => peer.stop());
 *   it("...", () => { ... peer.host, peer.port ... });
 * });
 * ```
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The real peers the scripts can start. */
export type PeerName = "rabbitmq" | "proton";

/** Whether something is installed, and why not. */
export type Availability = { ok: true } | { ok: false; reason: string };

/** A started peer; `stop()` is reference-counted across the `startPeer` calls of this process. */
export interface RunningPeer {
  readonly name: PeerName;
  readonly host: string;
  readonly port: number;
  /** Releases this handle; the peer stops (by PID, waiting for the exit) when the last handle is released. */
  stop(): Promise<void>;
}

/** What `runPython` returns. */
export interface PythonResult {
  /** Exit code, or null when the process was ended by a signal (see `signal`, `timedOut`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the process was killed because it ran longer than `timeoutMs`. */
  timedOut: boolean;
}

/** Options of `runPython`. */
export interface RunPythonOptions {
  /** Hard bound: the process is killed (SIGKILL) after this many milliseconds. */
  timeoutMs: number;
  /** Written to the process's stdin (then stdin is closed). */
  input?: string | Buffer;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** The interpreter that sees Debian's python3-qpid-proton and python3-uamqp (another python3 on PATH may not). */
export const PYTHON = "/usr/bin/python3";
/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PEERS_DIR = `${REPO_ROOT}scripts/peers`;
const HOST = "127.0.0.1";
const INSTALL_HINT = "run `bash scripts/peers/install.sh` (Debian, as root)";

/** Bounds of `startPeer` (the scripts' own readiness bounds are 60 s and 15 s). */
const START_TIMEOUT_MS: Record<PeerName, number> = { rabbitmq: 90_000, proton: 30_000 };
const STOP_TIMEOUT_MS = 60_000;

const availabilityCache = new Map<string, Availability>();

function cached(key: string, check: () => Availability): Availability {
  let result = availabilityCache.get(key);
  if (result === undefined) {
    result = check();
    availabilityCache.set(key, result);
  }
  return result;
}

function missingTools(): string | undefined {
  for (const tool of [PYTHON, "/usr/bin/setsid", "/bin/bash"]) {
    if (!existsSync(tool)) return `${tool} not found`;
  }
  return undefined;
}

/** Whether a Python module imports, with its `__version__`. */
export type ModuleCheck = { ok: true; version: string } | { ok: false; reason: string };
const moduleCache = new Map<string, ModuleCheck>();

/** Whether /usr/bin/python3 imports `module` (cached); `version` is its `__version__` ("" if none). */
function pythonImports(module: string): ModuleCheck {
  const hit = moduleCache.get(module);
  if (hit !== undefined) return hit;
  const r = spawnSync(PYTHON, ["-c", `import ${module}; print(getattr(${module}, "__version__", ""))`], {
    encoding: "utf8",
    timeout: 15_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  let result: ModuleCheck;
  if (r.error) result = { ok: false, reason: `${PYTHON} failed: ${r.error.message}` };
  else if (r.status !== 0) {
    const last = r.stderr.trim().split("\n").pop() ?? "";
    result = { ok: false, reason: `${PYTHON} cannot import ${module} (${last})` };
  } else result = { ok: true, version: r.stdout.trim() };
  moduleCache.set(module, result);
  return result;
}

function hasAmqp10Plugin(): boolean {
  const lib = "/usr/lib/rabbitmq/lib";
  if (!existsSync(lib)) return false;
  return readdirSync(lib)
    .filter((d) => d.startsWith("rabbitmq_server-"))
    .some((d) => {
      const plugins = `${lib}/${d}/plugins`;
      return existsSync(plugins) && readdirSync(plugins).some((p) => p.startsWith("rabbitmq_amqp1_0-"));
    });
}

/**
 * Checks (once per process) whether a peer can be started here.
 * @example
 * ```ts
 * const a = peerAvailable("proton");
 * if (!a.ok) console.log(a.reason);
 * ```
 */
export function peerAvailable(name: PeerName): Availability {
  return cached(name, () => {
    const tools = missingTools();
    if (tools !== undefined) return { ok: false, reason: `${name} cannot start: ${tools}` };
    if (name === "rabbitmq") {
      if (!existsSync("/usr/lib/rabbitmq/bin/rabbitmq-server") || !existsSync("/usr/bin/epmd")) {
        return { ok: false, reason: `RabbitMQ is not installed: ${INSTALL_HINT}` };
      }
      if (!hasAmqp10Plugin()) {
        return { ok: false, reason: `RabbitMQ has no rabbitmq_amqp1_0 plugin: ${INSTALL_HINT}` };
      }
      return { ok: true };
    }
    const proton = pythonImports("proton");
    return proton.ok
      ? { ok: true }
      : { ok: false, reason: `Qpid Proton is not installed: ${proton.reason}; ${INSTALL_HINT}` };
  });
}

/**
 * Checks (once per process) whether Python uamqp (Debian python3-uamqp) imports in /usr/bin/python3 and
 * the TLS front it needs can run. On success `version` is `uamqp.__version__`.
 */
export function uamqpAvailable(): ModuleCheck {
  const r = pythonImports("uamqp");
  if (!r.ok) return { ok: false, reason: `Python uamqp is not installed: ${r.reason}; ${INSTALL_HINT}` };
  const tls = tlsFrontAvailable(); // Python uamqp only speaks TLS: it needs the TLS front
  return tls.ok ? r : tls;
}

/**
 * Checks (once per process) whether Azure's `azure-eventhub` SDK (Debian python3-azure) imports in
 * /usr/bin/python3 in a version with its own pure-Python AMQP stack (5.11 or later), and its WebSocket
 * transport (python3-websocket) too. On success `version` is `azure.eventhub.__version__`.
 */
export function azureEventHubAvailable(): ModuleCheck {
  const r = pythonImports("azure.eventhub");
  if (!r.ok) return { ok: false, reason: `azure-eventhub is not installed: ${r.reason}; ${INSTALL_HINT}` };
  const [major = 0, minor = 0] = r.version.split(".").map(Number);
  if (major < 5 || (major === 5 && minor < 11)) {
    return {
      ok: false,
      reason: `azure-eventhub ${r.version} predates its own AMQP stack (5.11); ${INSTALL_HINT}`,
    };
  }
  const ws = pythonImports("websocket");
  if (!ws.ok)
    return { ok: false, reason: `python3-websocket is not installed: ${ws.reason}; ${INSTALL_HINT}` };
  return r;
}

/**
 * Checks (once per process) whether Azure's `azure-servicebus` SDK (Debian python3-azure, 7.x on
 * Python uamqp) imports in /usr/bin/python3. On success `version` is `azure.servicebus.__version__`.
 */
export function azureServiceBusAvailable(): ModuleCheck {
  const r = pythonImports("azure.servicebus");
  if (!r.ok) return { ok: false, reason: `azure-servicebus is not installed: ${r.reason}; ${INSTALL_HINT}` };
  return r;
}

/** Whether `startTlsFront` can run here (socat and openssl). */
export function tlsFrontAvailable(): Availability {
  return cached("tls-front", () => {
    for (const tool of ["/usr/bin/socat", "/usr/bin/openssl", "/usr/bin/setsid"]) {
      if (!existsSync(tool)) return { ok: false, reason: `${tool} not found (TLS front): ${INSTALL_HINT}` };
    }
    return { ok: true };
  });
}

/**
 * The `skip` option of a suite that needs `name`: `false` when available, else the reason.
 * Under `CI=true` a missing requirement throws instead (the test file fails).
 * @example
 * ```ts
 * describe("interop with Python uamqp", { skip: peerSkip("uamqp") }, () => { ... });
 * ```
 */
export function peerSkip(name: PeerName | "uamqp" | "azure-eventhub" | "azure-servicebus"): string | false {
  const a =
    name === "uamqp"
      ? uamqpAvailable()
      : name === "azure-eventhub"
        ? azureEventHubAvailable()
        : name === "azure-servicebus"
          ? azureServiceBusAvailable()
          : peerAvailable(name);
  if (a.ok) return false;
  if (process.env["CI"] === "true") {
    throw new Error(`${a.reason} (CI=true: a missing peer is a failure, not a skip)`);
  }
  return a.reason;
}

type Script = PeerName | "tls-front";

interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A server started through one of the scripts, shared within this process (reference-counted). */
interface Service {
  script: Script;
  instance: string;
  env: Record<string, string>;
  started: Promise<number>;
  refs: number;
  stopping?: Promise<void>;
}

const services = new Map<string, Service>();

function scriptEnv(service: Pick<Service, "instance" | "env">): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...service.env,
    INSTANCE: service.instance,
    OWNER_PID: String(process.pid),
    CLEAN: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  delete env["PORT"];
  delete env["READY_TIMEOUT"];
  return env;
}

function runScript(service: Service, command: "start" | "stop", timeoutMs: number): Promise<ScriptResult> {
  return new Promise((resolve) => {
    const child = spawn("/bin/bash", [`${PEERS_DIR}/${service.script}.sh`, command], {
      env: scriptEnv(service),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      stderr += String(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

async function launch(service: Service, timeoutMs: number): Promise<number> {
  const r = await runScript(service, "start", timeoutMs);
  const port = Number(r.stdout.trim().split("\n").pop());
  if (r.code === 0 && Number.isInteger(port) && port > 0) return port;
  await runScript(service, "stop", STOP_TIMEOUT_MS); // leftovers of a failed start
  const why = r.timedOut ? `timed out after ${timeoutMs} ms` : `exit code ${String(r.code)}`;
  throw new Error(`starting ${service.script} failed (${why}):\n${r.stderr}${r.stdout}`);
}

/** Starts (once) or joins the service under `key`; resolves with its port and a release function. */
async function acquire(
  key: string,
  script: Script,
  instance: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ port: number; release: () => Promise<void> }> {
  let service = services.get(key);
  if (service === undefined) {
    const created: Service = { script, instance, env, started: Promise.resolve(0), refs: 0 };
    created.started = launch(created, timeoutMs);
    services.set(key, created);
    service = created;
  }
  const s = service;
  s.refs += 1;
  let port: number;
  try {
    port = await s.started;
  } catch (err) {
    s.refs -= 1;
    throw err;
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    s.refs -= 1;
    if (s.refs > 0) return;
    s.stopping ??= (async () => {
      if (services.get(key) === s) services.delete(key);
      const r = await runScript(s, "stop", STOP_TIMEOUT_MS);
      if (r.code !== 0) throw new Error(`stopping ${script} failed (exit ${String(r.code)}):\n${r.stderr}`);
    })();
    await s.stopping;
  };
  return { port, release };
}

/** Options of `startPeer`. */
export interface StartPeerOptions {
  /**
   * Proton broker only: the connection capabilities its OPEN offers, encoded as an AMQP *list* of
   * symbols, the way Proton applications set them (scripts/peers/proton-broker.py,
   * `--offered-capabilities-list`). Default: none offered (Python uamqp refuses such a list).
   */
  offeredCapabilitiesList?: readonly string[];
}

/**
 * Starts a real peer on 127.0.0.1 (at most once per test process and options; later calls share it)
 * and resolves when it answers the AMQP SASL header. Throws when it is not installed or does not
 * start in time. Call `stop()` in an `after()` hook.
 * @example
 * ```ts
 * const proton = await startPeer("proton", { offeredCapabilitiesList: ["ANONYMOUS-RELAY"] });
 * ```
 */
export async function startPeer(name: PeerName, options: StartPeerOptions = {}): Promise<RunningPeer> {
  const a = peerAvailable(name);
  if (!a.ok) throw new Error(a.reason);
  const caps = options.offeredCapabilitiesList ?? [];
  if (caps.length > 0 && name !== "proton") throw new Error("offeredCapabilitiesList: Proton broker only");
  const variant =
    caps.length > 0
      ? `-caps-${caps
          .join("_")
          .replace(/[^A-Za-z0-9_-]/g, "_")
          .slice(0, 40)}`
      : "";
  const env: Record<string, string> = caps.length > 0 ? { OFFERED_CAPABILITIES: caps.join(",") } : {};
  const { port, release } = await acquire(
    `${name}${variant}`,
    name,
    `t${process.pid}${variant}`,
    env,
    START_TIMEOUT_MS[name],
  );
  return { name, host: HOST, port, stop: release };
}

/** A TLS front of a peer (see `startTlsFront`). */
export interface TlsFront {
  /** "localhost": the name in the certificate (its subjectAltName also holds IP 127.0.0.1). */
  readonly host: string;
  readonly port: number;
  /** The self-signed certificate to trust (PEM), e.g. Python uamqp's `verify=` or Node's `ca`. */
  readonly caFile: string;
  stop(): Promise<void>;
}

/**
 * Puts a TLS listener (socat, scripts/peers/tls-front.sh) in front of a started peer, for TLS-only
 * clients such as Python uamqp. Once per peer and process, like `startPeer`; stop it before the peer.
 * @example
 * ```ts
 * const tls = await startTlsFront(peer);
 * // amqps://localhost:${tls.port}/queue, trusting tls.caFile
 * ```
 */
export async function startTlsFront(peer: RunningPeer): Promise<TlsFront> {
  const a = tlsFrontAvailable();
  if (!a.ok) throw new Error(a.reason);
  const { port, release } = await acquire(
    `tls-front:${peer.name}`,
    "tls-front",
    `t${process.pid}-${peer.name}`,
    { TARGET_PORT: String(peer.port) },
    START_TIMEOUT_MS.proton,
  );
  return { host: "localhost", port, caFile: `${REPO_ROOT}.peers/tls/ca.pem`, stop: release };
}

// Safety net: a test file that ends without stopping its services still stops them (synchronously, by PID).
// (If the process is killed, the scripts' watchdog, keyed on OWNER_PID, stops them within a second.)
process.on("exit", () => {
  for (const service of [...services.values()].reverse()) {
    if (service.stopping !== undefined) continue;
    spawnSync("/bin/bash", [`${PEERS_DIR}/${service.script}.sh`, "stop"], {
      env: scriptEnv(service),
      stdio: "ignore",
      timeout: STOP_TIMEOUT_MS,
    });
  }
});

/**
 * Runs a Python snippet with /usr/bin/python3 (`python3 -c script args...`) within a hard time bound.
 * Resolves (never rejects) with the exit code, signal, stdout and stderr.
 * @example
 * ```ts
 * const r = await runPython("import sys, uamqp; print(uamqp.__version__, sys.argv[1])", ["x"], { timeoutMs: 10_000 });
 * assert.equal(r.code, 0, r.stderr);
 * ```
 */
export function runPython(
  script: string,
  args: readonly string[],
  options: RunPythonOptions,
): Promise<PythonResult> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, ["-c", script, ...args], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.on("error", (e) => {
      stderr += String(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on("error", () => undefined); // the script may exit without reading its input
    child.stdin.end(options.input ?? "");
  });
}
