/**
 * The `uamqp` command, run as a child process: demo, broker, send, receive, and its one-line errors
 * and exit codes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Broker } from "../../src/broker/broker.js";

const BIN = new URL("../../src/cli/bin.ts", import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", BIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
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

  it("unknown commands and bad options exit 2 with the usage", async () => {
    const a = await run(["nope"]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /unknown command "nope"/);
    const b = await run(["demo", "--count", "0"]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /--count must be a positive integer/);
    const c = await run(["demo", "--bogus"]);
    assert.equal(c.code, 2);
  });

  it("broker prints its URL, serves clients, and stops cleanly on SIGTERM", async () => {
    const broker = await startCliBroker(["--user", "bob:pw"]);
    const target = broker.url.replace("amqp://", "amqp://bob:pw@") + "/x";
    assert.equal((await run(["send", target])).code, 0);
    const r = await run(["receive", target, "--timeout", "2000"]);
    assert.equal(r.stdout.trim(), "hello");
    assert.equal(await broker.stop(), 0);
    assert.match(broker.output(), /uamqp broker stopped/);
  });

  it("broker with --user refuses anonymous clients; --allow-anonymous lets them in", async () => {
    const locked = await startCliBroker(["--user", "bob:pw"]);
    const anonymous = await run(["send", `${locked.url}/x`]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /ANONYMOUS is not offered by the server.*\(AMQP_AUTHENTICATION\)/);
    assert.equal(await locked.stop(), 0);
    const open = await startCliBroker(["--user", "bob:pw", "--allow-anonymous"]);
    assert.equal((await run(["send", `${open.url}/x`])).code, 0);
    assert.equal(await open.stop(), 0);
  });
});

/** `uamqp broker ARGS` in a child process, its URL read from the banner. */
async function startCliBroker(
  args: string[],
): Promise<{ url: string; output: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, ["--import", "tsx", BIN, "broker", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("broker did not start"));
    }, 30_000);
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (amqp:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return {
    url,
    output: () => out,
    stop: () =>
      new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve(code);
        });
        child.kill("SIGTERM");
      }),
  };
}
