/**
 * The `uamqp` command: demo, broker, send, receive, and its one-line errors and exit codes. Parsing
 * and output are tested by calling `main(argv, io)` in-process; a few tests run the real process:
 * the built bin as npm installs it, and the broker stopped by SIGTERM.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Broker } from "../../src/broker/broker.js";
import { BIN_TS, BUILT_BIN, ROOT, run, runProcess, startBroker, startBrokerProcess } from "./harness.js";

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
    assert.match(r.stdout, /producer and consumer: a process each/);
    // A run as fast as flow control allows, then one paced at half the rate it reached.
    const runs = /\| run +\| as fast as flow control allows +\| paced at ([\d,]+) msg\/s +\|/.exec(r.stdout);
    assert.ok(runs, r.stdout);
    const peak = /end-to-end throughput +\| ([\d,]+) msg\/s/.exec(r.stdout);
    assert.ok(peak, r.stdout);
    const paced = Number(runs[1]!.replace(/,/g, ""));
    const half = Number(peak[1]!.replace(/,/g, "")) / 2;
    assert.ok(Math.abs(paced - half) <= 1, `paced at ${paced} msg/s, half the peak is ${half}`);
    assert.match(r.stdout, /messages received intact\s+\|\s+3000 of 3000\s+\|\s+3000 of 3000/);
    assert.match(
      r.stdout,
      /latency p50 \/ p90 \/ p99 \/ max +\| [\d.]+ ms \/ [\d.]+ ms \/ [\d.]+ ms \/ [\d.]+ ms/,
    );
    assert.match(r.stdout, /CPU per message: producer \/ broker \/ consumer/);
    assert.match(r.stdout, /OK: every message arrived intact/);
  });

  it("demo --rate runs once at that rate; --in-process keeps the clients in the demo's process", async () => {
    const r = await run(["demo", "--count", "2000", "--rate", "4000", "--in-process", "--size", "100"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /producer and consumer: in this process/);
    assert.match(r.stdout, /\| run +\| paced at 4,000 msg\/s +\|\n/);
    assert.match(r.stdout, /messages received intact\s+\|\s+2000 of 2000\s+\|\n/);
    assert.match(r.stdout, /producer behind schedule \(max\) +\| [\d.]+ ms/);
    assert.match(r.stdout, /body size 100 B/);
    const rate = /end-to-end throughput +\| ([\d,]+) msg\/s/.exec(r.stdout);
    // 2000 messages at 4000 msg/s take half a second: the run cannot be much faster than its rate.
    assert.ok(rate && Number(rate[1]!.replace(/,/g, "")) <= 4400, r.stdout);
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

  it("a bad URL is one clear line and the command's usage, exit code 2", async () => {
    const r = await run(["send", "amqp://alice:pw-in-url@/q"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^uamqp: Invalid address "amqp:\/\/alice:\*\*\*@\/q": it has no host\nusage: uamqp send <url>/,
    );
    assert.ok(!r.stderr.includes("pw-in-url"));
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
    const e = await run(["demo", "--rate", "0"]);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /--rate must be a positive integer/);
    const c = await run(["demo", "--bogus"]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /usage: uamqp/);
    const d = await run(["broker", "--user", "nocolon"]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /--user expects name:password/);
  });

  it("broker prints its URL, serves clients, and stops when told", async () => {
    const cli = await startBroker(["--user", "bob:pw"]);
    try {
      const target = cli.url.replace("amqp://", "amqp://bob:pw@") + "/x";
      assert.equal((await run(["send", target])).code, 0);
      const r = await run(["receive", target, "--timeout", "2000"]);
      assert.equal(r.stdout.trim(), "hello");
    } finally {
      assert.equal(await cli.stop(), 0);
    }
    assert.match(cli.output(), /uamqp broker stopped/);
  });

  it("broker with --user refuses anonymous clients; --allow-anonymous lets them in", async () => {
    const locked = await startBroker(["--user", "bob:pw"]);
    try {
      assert.match(locked.output(), /^anonymous clients: refused; clients without SASL: refused$/m);
      const anonymous = await run(["send", `${locked.url}/x`]);
      assert.equal(anonymous.code, 1);
      assert.match(
        anonymous.stderr,
        /^uamqp: SASL mechanism ANONYMOUS is not offered by the server.*\(AMQP_AUTHENTICATION\)\n$/,
      );
    } finally {
      assert.equal(await locked.stop(), 0);
    }
    const open = await startBroker(["--user", "bob:pw", "--allow-anonymous"]);
    try {
      assert.match(open.output(), /^anonymous clients: allowed; clients without SASL: allowed$/m);
      assert.match(open.output(), /^sasl: mechanisms PLAIN, ANONYMOUS;/m);
      assert.equal((await run(["send", `${open.url}/x`])).code, 0);
    } finally {
      assert.equal(await open.stop(), 0);
    }
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
