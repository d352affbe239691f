/**
 * Running the `uamqp` command in tests: in-process through `main(argv, io)` with captured output
 * (`run`, `startBroker`), or as a child process (`runProcess`, `startBrokerProcess`). Every wait is
 * bounded.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "../../src/cli/args.js";
import { main } from "../../src/cli/main.js";
import { getTestCertificates } from "../support/certs.js";
import { within } from "../support/waits.js";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const BIN_TS = join(ROOT, "src/cli/bin.ts");
export const BUILT_BIN = join(ROOT, "dist/cli/bin.js");
/** Bound of one command: the slowest, `demo`, moves 3000 messages. */
export const RUN_MS = 60_000;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Collects what a command writes; `onWrite` sees stdout as it grows. */
export function capture(
  onWrite?: () => void,
): CliIo & { readonly out: () => string; readonly err: () => string } {
  let stdout = "";
  let stderr = "";
  return {
    stdout: {
      write: (text: string) => {
        stdout += text;
        onWrite?.();
        return true;
      },
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
        return true;
      },
    },
    out: () => stdout,
    err: () => stderr,
  };
}

/** `uamqp ARGS`, in this process. */
export async function run(args: string[]): Promise<Run> {
  const io = capture();
  const code = await within(main(args, io), `uamqp ${args.join(" ")}`, RUN_MS);
  return { code, stdout: io.out(), stderr: io.err() };
}

/** `uamqp ARGS` as a child process (`node BIN ARGS`, with tsx for the TypeScript source). */
export function spawnBin(bin: string, args: string[]): ReturnType<typeof spawn> {
  const loader = bin.endsWith(".ts") ? ["--import", "tsx"] : [];
  return spawn(process.execPath, [...loader, bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a child process to its end (killed after `RUN_MS`). */
export function runProcess(bin: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawnBin(bin, args);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A running `uamqp broker`: its URLs (read from the banner), its output, and how it stops. */
export interface CliBroker {
  /** The first listener of the banner: amqp:// unless the plain listener is off (`--no-plain`). */
  readonly url: string;
  readonly output: () => string;
  /** Stops it and resolves with the exit code. */
  readonly stop: () => Promise<number | null>;
}

/** Waits until the banner is complete (its last line, `cbs: …`) and returns its first listener URL. */
function bannerUrl(output: () => string, subscribe: (check: () => void) => void): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      const check = (): void => {
        const text = output();
        const m = /listening on (\S+)/.exec(text);
        if (m && /^cbs: /m.test(text)) resolve(m[1]!);
      };
      subscribe(check);
      check();
    }),
    "the broker's banner",
    RUN_MS,
  );
}

/**
 * `uamqp broker --port 0 ARGS` in this process, stopped through `io.signal`; `portZero: false` leaves
 * `--port` out (for `--no-plain`, or a config file's `port`).
 */
export async function startBroker(args: string[], { portZero = true } = {}): Promise<CliBroker> {
  const controller = new AbortController();
  let check = (): void => undefined;
  const io = { ...capture(() => check()), signal: controller.signal };
  const exit = main(["broker", ...(portZero ? ["--port", "0"] : []), ...args], io);
  const url = await Promise.race([
    bannerUrl(io.out, (c) => (check = c)),
    exit.then((code) => {
      throw new Error(`the broker exited with ${code}: ${io.err()}`);
    }),
  ]);
  return {
    url,
    output: io.out,
    stop: () => {
      controller.abort();
      return within(exit, "the broker to stop", RUN_MS);
    },
  };
}

/** `uamqp broker --port 0 ARGS` as a child process, stopped by SIGTERM. */
export async function startBrokerProcess(args: string[]): Promise<CliBroker> {
  const child = spawnBin(BIN_TS, ["broker", "--port", "0", ...args]);
  let out = "";
  const exit = new Promise<number | null>((resolve) => child.on("close", resolve));
  const url = await bannerUrl(
    () => out,
    (check) =>
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        check();
      }),
  ).catch((e: unknown) => {
    child.kill("SIGKILL");
    throw e;
  });
  return {
    url,
    output: () => out,
    stop: async () => {
      child.kill("SIGTERM");
      try {
        return await within(exit, "the broker process to exit on SIGTERM", RUN_MS);
      } finally {
        child.kill("SIGKILL");
      }
    },
  };
}

/** The listener URL of `scheme` in a broker's banner. */
export function listenerUrl(output: string, scheme: "amqp" | "amqps" | "ws" | "wss"): string | undefined {
  return new RegExp(`^uamqp broker listening on (${scheme}://\\S+)$`, "m").exec(output)?.[1];
}

/** A temporary directory for files a test writes (config files, PEM files); `remove()` deletes it. */
export function tempDir(): { readonly path: (name: string) => string; readonly remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "uamqp-cli-"));
  return {
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The test PKI written as PEM files into `dir`: `ca.pem`, `server.pem`, `server.key`, `other-ca.pem`. */
export async function writeCertificates(dir: { readonly path: (name: string) => string }): Promise<{
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly otherCa: string;
}> {
  const certs = await getTestCertificates();
  const files = {
    ca: dir.path("ca.pem"),
    cert: dir.path("server.pem"),
    key: dir.path("server.key"),
    otherCa: dir.path("other-ca.pem"),
  };
  writeFileSync(files.ca, certs.ca);
  writeFileSync(files.cert, certs.serverCert);
  writeFileSync(files.key, certs.serverKey);
  writeFileSync(files.otherCa, certs.otherCa);
  return files;
}
