/**
 * The `uamqp` command: demo, broker, send, receive, and its one-line errors and exit codes. Parsing
 * and output are tested by calling `main(argv, io)` in-process; a few tests run the real process:
 * the built bin as npm installs it, and the broker stopped by SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Broker } from "../../src/broker/broker.js";
import type { CliIo } from "../../src/cli/args.js";
import { main } from "../../src/cli/main.js";
import { within } from "../support/waits.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN_TS = join(ROOT, "src/cli/bin.ts");
const BUILT_BIN = join(ROOT, "dist/cli/bin.js");
/** Bound of one command: the slowest, `demo`, moves 3000 messages. */
const RUN_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Collects what a command writes; `onWrite` sees stdout as it grows. */
function capture(onWrite?: () => void): CliIo & { readonly out: () => string; readonly err: () => string } {
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
async function run(args: string[]): Promise<Run> {
  const io = capture();
  const code = await within(main(args, io), `uamqp ${args.join(" ")}`, RUN_MS);
  return { code, stdout: io.out(), stderr: io.err() };
}

/** `uamqp ARGS` as a child process (`node BIN ARGS`, with tsx for the TypeScript source). */
function spawnBin(bin: string, args: string[]): ReturnType<typeof spawn> {
  const loader = bin.endsWith(".ts") ? ["--import", "tsx"] : [];
  return spawn(process.execPath, [...loader, bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a child process to its end (killed after `RUN_MS`). */
function runProcess(bin: string, args: string[]): Promise<Run> {
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

/** A running `uamqp broker`: its URL (read from the banner), its output, and how it stops. */
interface CliBroker {
  readonly url: string;
  readonly output: () => string;
  /** Stops it and resolves with the exit code. */
  readonly stop: () => Promise<number | null>;
}

/** Waits for the "listening on" banner in what `output()` has collected so far. */
function bannerUrl(output: () => string, subscribe: (check: () => void) => void): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      const check = (): void => {
        const m = /listening on (amqp:\/\/\S+)/.exec(output());
        if (m) resolve(m[1]!);
      };
      subscribe(check);
      check();
    }),
    "the broker's banner",
    RUN_MS,
  );
}

/** `uamqp broker --port 0 ARGS` in this process, stopped through `io.signal`. */
async function startBroker(args: string[]): Promise<CliBroker> {
  const controller = new AbortController();
  let check = (): void => undefined;
  const io = { ...capture(() => check()), signal: controller.signal };
  const exit = main(["broker", "--port", "0", ...args], io);
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
async function startBrokerProcess(args: string[]): Promise<CliBroker> {
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

/** Why the built bin cannot be tested here, or false. CI builds first, so there it must be tested. */
function builtBinSkip(): string | false {
  if (process.env["CI"] === "true") return false;
  if (!existsSync(BUILT_BIN)) return "dist/ not built (npm run build)";
  const built = statSync(BUILT_BIN).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > built,
    );
  return newer(join(ROOT, "src")) ? "dist/ is older than src/ (npm run build)" : false;
}

describe("uamqp command", () => {
  let broker: Broker;
  before(async () => {
    broker = await Broker.start({ port: 0, sasl: { mechanisms: ["PLAIN"], users: { alice: "secret" } } });
  });
  after(async () => {
    await broker.close();
  });

  it("demo sends and receives through the embedded broker and exits 0 when every message arrived", async () => {
    const r = await run(["demo", "--count", "3000"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /embedded broker listening on amqp:\/\/127\.0\.0\.1:\d+/);
    assert.match(r.stdout, /messages received intact\s+\|\s+3000 of 3000/);
    assert.match(r.stdout, /latency p50/);
    assert.match(r.stdout, /OK: every message arrived intact/);
  });

  it("send and receive against a broker, with credentials from the URL", async () => {
    const url = `amqp://alice:secret@127.0.0.1:${broker.port}/cli-q`;
    const s = await run(["send", url, "--count", "3", "--body", "hi there"]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /sent 3 of 3 message\(s\) to amqp:\/\/alice:\*\*\*@/);
    assert.ok(!s.stdout.includes("secret"));
    const r = await run(["receive", url, "--count", "3", "--timeout", "2000"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["hi there", "hi there", "hi there"]);
    assert.equal(r.stderr, "received 3 message(s)\n");
  });

  it("a wrong password is one clear line and exit code 1, without the password", async () => {
    const r = await run(["send", `amqp://alice:wrong-pw@127.0.0.1:${broker.port}/q`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^uamqp: authentication failed.*\(AMQP_AUTHENTICATION\)\n$/);
    assert.ok(!r.stderr.includes("wrong-pw"));
  });

  it("a refused connection is one clear line and exit code 1", async () => {
    const r = await run(["send", "amqp://127.0.0.1:1/q"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^uamqp: cannot connect to .*\(AMQP_CONNECT_FAILED\)\n$/);
  });

  it("a bad URL is one clear line and a non-zero exit code", async () => {
    const r = await run(["send", "not a url"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^uamqp: Invalid address.*\(AMQP_INVALID_ADDRESS\)\n$/);
  });

  it("version (and --version) prints the package version and the platform, exit 0", async () => {
    for (const arg of ["version", "--version"]) {
      const r = await run([arg]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^uamqp \d+\.\d+\.\d+; node v\d+/);
    }
  });

  it("no command prints the usage and exits 2; help exits 0", async () => {
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /^usage: uamqp <command>/);
    const help = await run(["--help"]);
    assert.equal(help.code, 0);
    assert.equal(help.stdout, none.stdout);
  });

  it("unknown commands and bad options exit 2 with the usage", async () => {
    const a = await run(["nope"]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /unknown command "nope"/);
    const b = await run(["demo", "--count", "0"]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /--count must be a positive integer/);
    assert.match(b.stderr, /usage: uamqp/);
    const c = await run(["demo", "--bogus"]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /usage: uamqp/);
    const d = await run(["broker", "--user", "nocolon"]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /--user expects name:password/);
  });

  it("broker prints its URL, serves clients, and stops when told", async () => {
    const cli = await startBroker(["--user", "bob:pw"]);
    const target = cli.url.replace("amqp://", "amqp://bob:pw@") + "/x";
    assert.equal((await run(["send", target])).code, 0);
    const r = await run(["receive", target, "--timeout", "2000"]);
    assert.equal(r.stdout.trim(), "hello");
    assert.equal(await cli.stop(), 0);
    assert.match(cli.output(), /uamqp broker stopped/);
  });

  it("broker with --user refuses anonymous clients; --allow-anonymous lets them in", async () => {
    const locked = await startBroker(["--user", "bob:pw"]);
    const anonymous = await run(["send", `${locked.url}/x`]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /ANONYMOUS is not offered by the server.*\(AMQP_AUTHENTICATION\)/);
    assert.equal(await locked.stop(), 0);
    const open = await startBroker(["--user", "bob:pw", "--allow-anonymous"]);
    assert.equal((await run(["send", `${open.url}/x`])).code, 0);
    assert.equal(await open.stop(), 0);
  });
});

describe("uamqp command as a process", () => {
  it("the broker process serves clients and exits 0 on SIGTERM", async () => {
    const cli = await startBrokerProcess(["--user", "bob:pw"]);
    const target = cli.url.replace("amqp://", "amqp://bob:pw@") + "/x";
    assert.equal((await run(["send", target])).code, 0);
    assert.equal((await run(["receive", target, "--timeout", "2000"])).stdout.trim(), "hello");
    assert.equal(await cli.stop(), 0);
    assert.match(cli.output(), /uamqp broker stopped/);
  });

  it("a failing command's exit code and one-line error reach the process", async () => {
    const r = await runProcess(BIN_TS, ["send", "amqp://127.0.0.1:1/q"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^uamqp: cannot connect to .*\(AMQP_CONNECT_FAILED\)\n$/);
  });

  it("the built bin, as npm installs it, runs with plain node", { skip: builtBinSkip() }, async () => {
    const v = await runProcess(BUILT_BIN, ["--version"]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^uamqp \d+\.\d+\.\d+; node v\d+/);
    const bad = await runProcess(BUILT_BIN, ["nope"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command "nope"/);
  });
});
