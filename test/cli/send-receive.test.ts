/**
 * `uamqp send` and `uamqp receive`: `--ca` for a broker with a self-signed CA, the `--debug` frame
 * trace on stderr without the password, and a one-line reason with its error code for every
 * non-zero exit (empty queue, time-outs, TLS, refused or unsettled messages).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Broker } from "../../src/broker/broker.js";
import { getLogger, setLogger } from "../../src/util/log.js";
import { run, tempDir, writeCertificates } from "./harness.js";

const dir = tempDir();
let pem: Awaited<ReturnType<typeof writeCertificates>>;
let broker: Broker;
/** amqp://alice:pw1234@127.0.0.1:port */
let base: string;

describe("uamqp send and receive", () => {
  before(async () => {
    pem = await writeCertificates(dir);
    broker = await Broker.start({
      port: 0,
      tls: { cert: readFileSync(pem.cert), key: readFileSync(pem.key), port: 0 },
      sasl: { users: { alice: "pw1234" } },
      hooks: {
        stuck: { neverSettle: true },
        refusing: {
          onDelivery: { outcome: "reject", condition: "amqp:precondition-failed", description: "no thanks" },
        },
      },
    });
    base = `amqp://alice:pw1234@127.0.0.1:${broker.port}`;
  });
  after(async () => {
    await broker.close();
    dir.remove();
  });

  it("--ca trusts a broker's self-signed CA; without it the TLS failure says to use --ca", async () => {
    const url = `amqps://alice:pw1234@127.0.0.1:${broker.tlsPort}/tls-q`;
    const ok = await run(["send", url, "--ca", pem.ca, "--body", "over tls"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(
      ok.stdout,
      `sent 1 of 1 message(s) to amqps://alice:***@127.0.0.1:${broker.tlsPort}/tls-q\n`,
    );
    const got = await run(["receive", url, "--ca", pem.ca]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, "over tls\n");

    const untrusted = await run(["send", url]);
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.stderr,
      /^uamqp: .*certificate.*\(AMQP_TLS\); trust the broker's CA with --ca FILE\n$/,
    );
    const wrongCa = await run(["send", url, "--ca", pem.otherCa]);
    assert.equal(wrongCa.code, 1);
    assert.match(wrongCa.stderr, /^uamqp: .*\(AMQP_TLS\)\n$/);
    assert.ok(!untrusted.stderr.includes("pw1234") && !wrongCa.stderr.includes("pw1234"));
  });

  it("--debug prints every frame to stderr, one line each, and never the password", async () => {
    // The password also appears in the address (the queue's name, printed as such on stdout): the
    // trace masks it there too, so no line of the trace can carry it.
    const url = `${base}/debug-pw1234`;
    const s = await run(["send", url, "--debug"]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(
      s.stdout,
      `sent 1 of 1 message(s) to amqp://alice:***@127.0.0.1:${broker.port}/debug-pw1234\n`,
    );
    // Every line: time, namespace, connection id; frames under uamqp:frames, the connection's and
    // links' lifecycle lines under their namespaces (and the in-process broker's under uamqp:broker).
    const lines = s.stderr.split("\n").filter((l) => l !== "");
    const LINE =
      /^\d{4}-\d\d-\d\dT[\d:.]+Z (uamqp:frames|uamqp:connection|uamqp:link|uamqp:broker) (?:broker-)?conn-\d+ (.*)$/;
    for (const l of lines) assert.match(l, LINE);
    const frames = lines.filter((l) => LINE.exec(l)![1] === "uamqp:frames").map((l) => LINE.exec(l)![2]!);
    for (const frame of [
      "-> [SASL-INIT]",
      "<- [SASL-OUTCOME]",
      "-> [OPEN]",
      "<- [OPEN]",
      "-> [ATTACH]",
      "<- [ATTACH]",
      "-> [TRANSFER]",
      "<- [DISPOSITION]",
      "-> [CLOSE]",
    ]) {
      assert.ok(
        frames.some((l) => l.startsWith(frame)),
        `${frame} in\n${s.stderr}`,
      );
    }
    assert.ok(
      frames.findIndex((l) => l.startsWith("-> [OPEN]")) <
        frames.findIndex((l) => l.startsWith("-> [ATTACH]")),
      `OPEN before ATTACH, as on the wire:\n${s.stderr}`,
    );
    assert.match(s.stderr, /-> \[ATTACH\] .*"debug-\*\*\*"/);
    const r = await run(["receive", url, "--debug"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello\n");
    assert.match(r.stderr, /^\S+Z uamqp:frames conn-\d+ <- \[TRANSFER\] /m);
    assert.match(r.stderr, /^received 1 message\(s\)$/m);
    for (const out of [s.stderr, r.stderr]) assert.ok(!out.includes("pw1234"));
    // Without --debug: no trace.
    const quiet = await run(["send", url]);
    assert.equal(quiet.stderr, "");
  });

  it("--debug puts back the logger the program had", async () => {
    const seen: string[] = [];
    setLogger({ info: (m: string) => seen.push(m) });
    try {
      const s = await run(["send", `${base}/debug-logger`, "--debug"]);
      assert.equal(s.code, 0, s.stderr);
      assert.deepEqual(seen, [], "the trace went to the command's stderr only");
      getLogger().info("after");
      assert.deepEqual(seen, ["after"]);
    } finally {
      setLogger(undefined);
    }
  });

  it("receive on an empty queue says nothing arrived within the time-out and exits 1", async () => {
    const started = Date.now();
    const r = await run(["receive", `${base}/empty`, "--timeout", "300"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `uamqp: no message arrived at amqp://alice:***@127.0.0.1:${broker.port}/empty within 300 ms\n`,
    );
    assert.ok(Date.now() - started >= 300);
  });

  it("receive stops when no further message arrives within the time-out and exits 0 with what it got", async () => {
    assert.equal((await run(["send", `${base}/two`, "--count", "2", "--body", "m"])).code, 0);
    const r = await run(["receive", `${base}/two`, "--count", "5", "--timeout", "300"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "m\nm\n");
    assert.equal(r.stderr, "received 2 message(s)\n");
  });

  it("a broker that never answers is one line with the open time-out and the error code, exit 1", async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      for (const command of ["send", "receive"]) {
        const r = await run([command, `amqp://alice:pw1234@127.0.0.1:${port}/q`, "--open-timeout", "300"]);
        assert.equal(r.code, 1, command);
        assert.match(
          r.stderr,
          new RegExp(
            `^uamqp: no answer from amqp://alice:\\*\\*\\*@127\\.0\\.0\\.1:${port}/q within 300 ms: .*\\(AMQP_TIMEOUT\\)\\n$`,
          ),
        );
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("a message the broker never settles, or rejects, is one line with the reason, exit 1", async () => {
    const stuck = await run(["send", `${base}/stuck`, "--timeout", "300"]);
    assert.equal(stuck.code, 1);
    assert.equal(stuck.stdout, `sent 0 of 1 message(s) to amqp://alice:***@127.0.0.1:${broker.port}/stuck\n`);
    assert.match(stuck.stderr, /^uamqp: 1 of 1 message\(s\) not accepted: .*300 ms.*\(AMQP_TIMEOUT\)\n$/);
    const rejected = await run(["send", `${base}/refusing`, "--count", "2"]);
    assert.equal(rejected.code, 1);
    assert.match(
      rejected.stderr,
      /^uamqp: 2 of 2 message\(s\) not accepted: amqp:precondition-failed: no thanks \(AMQP_MESSAGE_SEND_FAILED\)\n$/,
    );
  });

  it("--body and --size together, and --ca on a plain URL, are usage errors, exit 2", async () => {
    const both = await run(["send", `${base}/q`, "--body", "x", "--size", "3"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^uamqp: give --body or --size, not both\nusage: uamqp send <url>/);
    const plain = await run(["send", `${base}/q`, "--ca", pem.ca]);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /^uamqp: --ca applies to amqps:\/\/ and wss:\/\/ URLs, not amqp:\/\/\n/);
  });
});
