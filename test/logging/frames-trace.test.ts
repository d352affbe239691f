/**
 * `DEBUG=uamqp:frames node app.js`: with no code change, an application that sends and receives a
 * message through the embedded broker (SASL PLAIN, a token-like application property, session and
 * links pipelined behind the SASL layer) prints a readable frame trace on stderr: one line per frame,
 * each `<ISO time> uamqp:frames <connection id> <frame>`, in the order of the wire, and no secret.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PASSWORD, TOKEN, USER } from "./apps/secrets.js";
import { logLines, runApp, type LogLine } from "./run-app.js";

/**
 * The secrets of the application, in the encodings a trace could show them in. The user name is not
 * a secret (lifecycle lines name who logged in), but the frame trace shows no part of the SASL
 * initial response, which holds it.
 */
const SECRETS = [
  PASSWORD,
  Buffer.from(PASSWORD).toString("base64"),
  Buffer.from(PASSWORD).toString("hex"),
  Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString("base64"),
  Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString("hex"),
  TOKEN,
  "SECRETsig",
  "SharedAccessSignature",
];

function assertNoSecret(output: string, secrets: readonly string[] = SECRETS): void {
  for (const secret of secrets)
    assert.ok(!output.includes(secret), `the output shows ${JSON.stringify(secret)}`);
}

/** The frames of one connection: direction and performative of each, e.g. `-> [OPEN]`, in order. */
function framesOf(lines: readonly LogLine[], connection: string): string[] {
  return lines
    .filter((l) => l.text.startsWith(`${connection} `))
    .map((l) => /^\S+ ((?:->|<-) \[[A-Z-]+\])/.exec(l.text)?.[1] ?? l.text);
}

describe("DEBUG=uamqp:frames", () => {
  it("traces a send and a receive, one line per frame in wire order, with time and connection id, no secret", async () => {
    const run = await runApp("send-receive", { DEBUG: "uamqp:frames" });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "received hello\n");
    assertNoSecret(run.stderr, [...SECRETS, USER]);

    const lines = logLines(run.stderr);
    // Only the namespace asked for: not the broker's frames (uamqp:broker:frames), no lifecycle lines.
    assert.deepEqual([...new Set(lines.map((l) => l.namespace))], ["uamqp:frames"]);
    for (const l of lines) assert.match(l.text, /^conn-\d+ (?:->|<-) \[[A-Z-]+\]/, l.text);
    // Times are ISO timestamps, in order.
    const times = lines.map((l) => Date.parse(l.time));
    assert.ok(
      times.every((t, i) => Number.isFinite(t) && (i === 0 || t >= times[i - 1]!)),
      run.stderr,
    );

    const connections = [...new Set(lines.map((l) => l.text.split(" ")[0]!))];
    assert.deepEqual(connections, ["conn-1"], "one client connection");
    const frames = framesOf(lines, "conn-1");
    // The wire of a pipelined open: SASL first, then our AMQP header, OPEN, and the held BEGIN and ATTACH.
    assert.deepEqual(frames.slice(0, 9), [
      "-> [HEADER]",
      "<- [HEADER]",
      "<- [SASL-MECHANISMS]",
      "-> [SASL-INIT]",
      "<- [SASL-OUTCOME]",
      "-> [HEADER]",
      "-> [OPEN]",
      "-> [BEGIN]",
      "-> [ATTACH]",
    ]);
    const at = (frame: string): number => {
      const i = frames.indexOf(frame);
      assert.ok(i >= 0, `${frame} in the trace:\n${run.stderr}`);
      return i;
    };
    assert.ok(at("-> [SASL-INIT]") < at("-> [OPEN]"));
    assert.ok(at("-> [OPEN]") < at("-> [BEGIN]"));
    assert.ok(at("-> [BEGIN]") < at("-> [ATTACH]"));
    assert.ok(at("-> [ATTACH]") < at("-> [TRANSFER]"), "the send");
    assert.ok(at("-> [TRANSFER]") < at("<- [DISPOSITION]"), "its outcome");
    assert.ok(at("<- [DISPOSITION]") < at("<- [TRANSFER]"), "the receive");
    assert.ok(at("<- [TRANSFER]") < at("-> [DISPOSITION]"), "its settlement");
    assert.equal(frames.at(-1), "<- [CLOSE]");

    const text = (frame: string): string => lines.find((l) => l.text.includes(frame))!.text;
    // Readable: restricted values by name, the SASL response redacted, the payload as its size.
    assert.match(text("-> [SASL-INIT]"), /mechanism="PLAIN" initialResponse=<redacted>/);
    assert.match(text("<- [SASL-OUTCOME]"), /\{code=ok\}/);
    assert.match(text("-> [ATTACH]"), /role=sender sndSettleMode=unsettled rcvSettleMode=first/);
    assert.match(text("-> [ATTACH]"), /target=\{type="target" address="orders"\}/);
    assert.match(text("-> [TRANSFER]"), /^conn-1 -> \[TRANSFER\] ch=0 \{handle=0 .*\} \+\d+B$/);
    assert.match(text("<- [DISPOSITION]"), /role=receiver .*state=accepted/);
  });

  it("uamqp:* adds the lifecycle lines and the broker's frames, each connection by its id; exclusions apply", async () => {
    const all = await runApp("send-receive", { DEBUG: "uamqp:*" });
    assert.equal(all.code, 0, all.stderr);
    assertNoSecret(all.stderr);
    const lines = logLines(all.stderr);
    assert.deepEqual(
      new Set(lines.map((l) => l.namespace)),
      new Set(["uamqp:frames", "uamqp:broker:frames", "uamqp:connection", "uamqp:link", "uamqp:broker"]),
    );
    const broker = framesOf(lines, "broker-conn-1");
    assert.ok(broker.indexOf("<- [SASL-INIT]") < broker.indexOf("<- [OPEN]"), all.stderr);
    assert.ok(broker.includes("<- [TRANSFER]") && broker.includes("-> [TRANSFER]"), all.stderr);
    assert.ok(
      lines.some(
        (l) =>
          l.namespace === "uamqp:link" && /^conn-1 ch=0 sender "[^"]+" to "orders" attached$/.test(l.text),
      ),
      all.stderr,
    );
    assert.ok(
      lines.some(
        (l) =>
          l.namespace === "uamqp:connection" && /^conn-1 SASLPlain\(127\.0\.0\.1:\d+\) open /.test(l.text),
      ),
      all.stderr,
    );

    const some = await runApp("send-receive", { DEBUG: "uamqp:*,-uamqp:broker*,-uamqp:frames" });
    assert.equal(some.code, 0, some.stderr);
    assert.deepEqual(
      new Set(logLines(some.stderr).map((l) => l.namespace)),
      new Set(["uamqp:connection", "uamqp:link"]),
    );
  });

  it("prints nothing without a switch, and nothing for other libraries' namespaces", async () => {
    for (const env of [{}, { DEBUG: "rhea*,azure:*" }]) {
      const run = await runApp("send-receive", env);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "", JSON.stringify(env));
    }
  });
});
