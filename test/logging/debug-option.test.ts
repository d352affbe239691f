/**
 * `debug: true` prints the frame trace to stderr when no logger was set, and `setLogger()` takes
 * effect for every line written after it, also on connections created before it.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it, mock } from "node:test";
import { Broker } from "../../src/broker/index.js";
import { SASLAnonymous } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { Session } from "../../src/client/session.js";
import { Message } from "../../src/message/message.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { setLogger } from "../../src/util/log.js";
import { logLines, runApp } from "./run-app.js";

describe("debug: true", () => {
  it("without setLogger(): the frame trace goes to stderr; without debug, nothing does", async () => {
    const traced = await runApp("debug-option", {}, ["true"]);
    assert.equal(traced.code, 0, traced.stderr);
    assert.equal(traced.stdout, "open\n");
    const frames = logLines(traced.stderr).map((l) => `${l.namespace} ${l.text.replace(/ ch=.*/, "")}`);
    assert.deepEqual(frames, [
      "uamqp:frames conn-1 -> [HEADER] SASL 1.0.0",
      "uamqp:frames conn-1 <- [HEADER] SASL 1.0.0",
      "uamqp:frames conn-1 <- [SASL-MECHANISMS]",
      "uamqp:frames conn-1 -> [SASL-INIT]",
      "uamqp:frames conn-1 <- [SASL-OUTCOME]",
      "uamqp:frames conn-1 -> [HEADER] AMQP 1.0.0",
      "uamqp:frames conn-1 -> [OPEN]",
      "uamqp:frames conn-1 <- [HEADER] AMQP 1.0.0",
      "uamqp:frames conn-1 <- [OPEN]",
      "uamqp:frames conn-1 -> [CLOSE]",
      "uamqp:frames conn-1 <- [CLOSE]",
    ]);

    const quiet = await runApp("debug-option", {}, ["false"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
  });
});

describe("setLogger()", () => {
  let broker: Broker;
  let port: number;
  before(async () => {
    broker = await Broker.start({ host: "127.0.0.1", port: 0 });
    port = Number(new URL(broker.url!).port);
  });
  after(async () => {
    await broker.close();
  });
  afterEach(() => {
    setLogger(undefined);
  });

  it("set after new Connection(): the connection's frames and lifecycle lines reach it", async () => {
    const conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }), {
      debug: true,
    });
    const session = new Session(conn);
    const sender = new MessageSender(session, "me", "set-later");
    const lines: { level: string; line: string }[] = [];
    const at = (level: string) => (line: string) => lines.push({ level, line });
    setLogger({ debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") });
    await Promise.all([conn.open({ timeout: 10_000 }), sender.open({ timeout: 10_000 })]);
    const { result } = await sender.send(new Message({ body: "x" }), { timeout: 10_000 });
    assert.equal(result, MessageSendResult.Ok);
    await conn.close();

    const id = conn.logId;
    const frames = lines.filter((l) => l.line.includes(` uamqp:frames ${id} `));
    assert.ok(frames.length > 0 && frames.every((l) => l.level === "info"), JSON.stringify(lines, null, 1));
    assert.ok(frames.some((l) => l.line.includes(" -> [TRANSFER] ")));
    const lifecycle = (ns: string, level: string, text: RegExp): boolean =>
      lines.some((l) => l.level === level && l.line.includes(` ${ns} ${id} `) && text.test(l.line));
    assert.ok(lifecycle("uamqp:connection", "info", / open \(container-id /), JSON.stringify(lines, null, 1));
    assert.ok(lifecycle("uamqp:link", "info", /sender "[^"]+" to "set-later" attached$/));
    assert.ok(lifecycle("uamqp:connection", "debug", / closed$/));
  });

  it("set, then removed: lines written after the removal do not reach it", async () => {
    const conn = new Connection("127.0.0.1", new SASLAnonymous("127.0.0.1", { tls: false, port }), {
      debug: true,
    });
    const lines: string[] = [];
    setLogger({ info: (l) => lines.push(l) });
    await conn.open({ timeout: 10_000 });
    const seen = lines.length;
    assert.ok(seen > 0);
    setLogger(undefined);
    // Without a logger, stderr would get the frames of the close: keep this process's stderr clean.
    const stderr: string[] = [];
    const write = mock.method(process.stderr, "write", (chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    try {
      await conn.close();
    } finally {
      write.mock.restore();
    }
    assert.equal(lines.length, seen, "nothing after setLogger(undefined)");
    assert.ok(
      stderr.some((l) => l.includes(` uamqp:frames ${conn.logId} -> [CLOSE]`)),
      "debug: true goes back to stderr",
    );
  });
});
