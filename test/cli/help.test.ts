/**
 * `--help` on every command: exit 0, on stdout, every flag listed with its explanation, an example;
 * and unknown flags: exit 2, one line naming the flag (and the flag probably meant), then the
 * command's usage.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { configKeys } from "../../src/cli/broker-config.js";
import { ROOT, run } from "./harness.js";

/** The flags each command must list (written out here so that a flag that disappears fails). */
const FLAGS: Record<string, readonly string[]> = {
  demo: ["--count N", "--size BYTES", "--rate N", "--in-process"],
  broker: [
    "--host HOST",
    "--port PORT",
    "--no-plain",
    "--container-id ID",
    "--tls-cert FILE",
    "--tls-key FILE",
    "--tls-port PORT",
    "--tls-passphrase TEXT",
    "--tls-ca FILE",
    "--tls-request-cert",
    "--tls-cert-optional",
    "--ws-port PORT",
    "--ws-path PATH",
    "--wss",
    "--user NAME:PASSWORD",
    "--allow-anonymous",
    "--allow-no-sasl",
    "--mechanisms LIST",
    "--failed-login-delay MS",
    "--no-sasl",
    "--max-connections N",
    "--max-sessions-per-connection N",
    "--max-links-per-session N",
    "--max-links-per-connection N",
    "--max-message-size BYTES",
    "--max-queue-depth N",
    "--max-queue-bytes BYTES",
    "--max-total-bytes BYTES",
    "--max-queues N",
    "--producer-credit N",
    "--max-frame-size BYTES",
    "--idle-timeout MS",
    "--handshake-timeout MS",
    "--tcp-keep-alive MS",
    "--max-connections-per-source N",
    "--attach-timeout MS",
    "--queue NAME",
    "--no-auto-create",
    "--max-delivery-count N",
    "--lock-duration MS",
    "--max-locked-per-consumer N",
    "--drop-expired",
    "--no-split-batches",
    "--cbs-key NAME:KEY",
    "--cbs-guard ADDRESS",
    "--grant WHO:RIGHTS:ADDRESSES",
    "--config FILE",
  ],
  send: [
    "--count N",
    "--body TEXT",
    "--size BYTES",
    "--settled",
    "--timeout MS",
    "--ca FILE",
    "--open-timeout MS",
    "--debug",
  ],
  receive: ["--count N", "--timeout MS", "--ca FILE", "--open-timeout MS", "--debug"],
  version: [],
};

describe("uamqp --help", () => {
  it("docs/cli.md documents every command, every flag and every configuration key", () => {
    const doc = readFileSync(`${ROOT}docs/cli.md`, "utf8");
    for (const [command, flags] of Object.entries(FLAGS)) {
      const section = doc.split(`\n## uamqp ${command}\n`)[1]?.split("\n## ")[0];
      assert.ok(section !== undefined, `a section for uamqp ${command}`);
      for (const flag of flags) {
        const name = flag.split(" ")[0]!;
        assert.ok(section.includes(`\`${name}`), `${command} ${name}`);
      }
    }
    for (const key of configKeys()) {
      if (["hooks", "queues.resolve", "cbs.validateJwt"].includes(key)) continue;
      const leaf = key.split(".").at(-1)!;
      assert.ok(doc.includes(`\`${key}`) || doc.includes(`\`${leaf}\``), key);
    }
  });

  it("uamqp --help lists every command with a summary, exit 0", async () => {
    const r = await run(["--help"]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    for (const command of Object.keys(FLAGS))
      assert.match(r.stdout, new RegExp(`^  ${command} +\\S.*$`, "m"));
    assert.match(r.stdout, /Exit codes: 0 success, 1 .*, 2 /);
  });

  for (const [command, flags] of Object.entries(FLAGS)) {
    it(`uamqp ${command} --help (and -h) explains every flag and gives an example, exit 0`, async () => {
      const r = await run([command, "--help"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, new RegExp(`^usage: uamqp ${command}( <url>)? \\[options\\]\\n`));
      for (const flag of [...flags, "-h, --help"]) {
        // The flag, then its explanation on the same line or the next one.
        const escaped = flag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        assert.match(r.stdout, new RegExp(`^  ${escaped}(?: +\\S|\\n {10,}\\S)`, "m"), `${command}: ${flag}`);
      }
      const listed = r.stdout.match(/^ {2}(?:-h, )?--[a-z-]+/gm) ?? [];
      assert.equal(listed.length, flags.length + 1, `${command} lists exactly its flags`);
      assert.match(r.stdout, new RegExp(`\\nexamples?:\\n  uamqp ${command}`));
      const short = await run([command, "-h"]);
      assert.equal(short.code, 0);
      assert.equal(short.stdout, r.stdout);
      const viaHelp = await run(["help", command]);
      assert.equal(viaHelp.stdout, r.stdout);
    });
  }

  it("gives units and defaults: the broker's ports, limits and time-outs, receive's wait and its exit 1", async () => {
    const broker = (await run(["broker", "--help"])).stdout.replace(/\n {3,}/g, " ");
    assert.match(broker, /--port PORT +AMQP \(TCP\) port; 0 picks a free port \(default 5672\)/);
    assert.match(broker, /--tls-port PORT +AMQPS \(TLS\) port; 0 picks a free port \(default 5671\)/);
    assert.match(broker, /--max-connections N +.*\(default 10000\)/);
    assert.match(broker, /--idle-timeout MS +.*0 = none \(default 60000\)/);
    assert.match(broker, /--tcp-keep-alive MS +.*0 = off \(default 30000\)/);
    assert.match(broker, /--lock-duration MS +.*\(default 60000\)/);
    assert.match(broker, /--max-locked-per-consumer N +.*\(default 1000\)/);
    assert.match(broker, /--max-message-size BYTES +.*\(default 16777216\)/);
    assert.match(broker, /--max-connections-per-source N +.*\(default 1000\)/);
    assert.match(broker, /--attach-timeout MS +.*0 = never \(default 30000\)/);
    assert.match(broker, /--user NAME:PASSWORD +.*; repeatable/);
    const receive = (await run(["receive", "--help"])).stdout.replace(/\n {3,}/g, " ");
    assert.match(receive, /--timeout MS +how long to wait for the next message .* \(default 5000\)/);
    assert.match(receive, /with none at all \(an empty queue\) it says so and exits 1/);
  });

  it("--help wins over other flags and arguments", async () => {
    const r = await run(["send", "amqp://127.0.0.1:1/q", "--count", "3", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: uamqp send <url>/);
  });

  it("an unknown flag exits 2 with one line naming it (and the flag meant) and the command's usage", async () => {
    for (const [command, bad, reason] of [
      ["broker", "--max-conections", "unknown option '--max-conections' (did you mean --max-connections?)"],
      ["send", "--debgu", "unknown option '--debgu' (did you mean --debug?)"],
      ["receive", "--zzz", "unknown option '--zzz'"],
      ["demo", "-x", "unknown option '-x'"],
      ["version", "--bogus", "unknown option '--bogus'"],
    ] as const) {
      const args =
        command === "send" || command === "receive" ? [command, "amqp://h/q", bad] : [command, bad];
      const r = await run(args);
      assert.equal(r.code, 2, command);
      assert.equal(r.stdout, "");
      const positional = command === "send" || command === "receive" ? " <url>" : "";
      assert.equal(
        r.stderr,
        `uamqp: ${reason}\nusage: uamqp ${command}${positional} [options]\n'uamqp ${command} --help' explains every option.\n`,
      );
    }
  });

  it("a flag without its value, a value given to a switch and a stray argument are one-line errors, exit 2", async () => {
    const cases = [
      [["broker", "--port"], "uamqp: --port needs a value (PORT)"],
      [["send", "amqp://h/q", "--ca", "--debug"], "uamqp: --ca needs a value (FILE)"],
      [["send", "amqp://h/q", "--debug=yes"], "uamqp: --debug takes no value"],
      [["broker", "extra"], "uamqp: unexpected argument 'extra'"],
      [["receive"], "uamqp: receive needs a URL, e.g. amqp://127.0.0.1:5672/queue"],
      [["help", "nope"], 'uamqp: unknown command "nope"'],
    ] as const;
    for (const [args, line] of cases) {
      const r = await run([...args]);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr.split("\n")[0], line);
    }
  });
});
