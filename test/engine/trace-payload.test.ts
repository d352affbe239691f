/**
 * Python uamqp printed tokens in its network trace; ours does not. With the trace on, a TRANSFER is
 * traced as its performative plus the payload size only, never the message (a CBS put-token carries
 * the SAS token in its body), in both directions and for every frame of a multi-frame transfer; and
 * the SASL PLAIN password shows up on neither side of the exchange, in no encoding.
 */
import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import { SASLAnonymous, SASLPlain } from "../../src/auth/amqp-auth.js";
import { Connection } from "../../src/client/connection.js";
import { MessageReceiver } from "../../src/client/message-receiver.js";
import { MessageSender } from "../../src/client/message-sender.js";
import { Session } from "../../src/client/session.js";
import type { ConnectionOptions as EngineConnectionOptions } from "../../src/engine/options.js";
import { Message } from "../../src/message/message.js";
import { MessageSendResult } from "../../src/message/send-result.js";
import { setLogger } from "../../src/util/log.js";
import { startEngineServer, type EngineServer } from "../support/engine-server.js";
import { until } from "../support/waits.js";

const SIG = "SECRETsigQ2hlY2tNZVBsZWFzZQ%3D%3D";
const SAS_TOKEN = `SharedAccessSignature sr=amqp%3A%2F%2Fmyns.example.net%2Fq&sig=${SIG}&se=1900000000&skn=RootManageSharedAccessKey`;
const APP_SECRET = "Endpoint=sb://myns.example.net/;SharedAccessKey=APPSECRETa1b2c3d4e5";

/** Strings that must never appear in any trace line. */
const FORBIDDEN = [SIG, "SECRETsig", "SharedAccessSignature", "APPSECRET", "SharedAccessKey="];

const servers: EngineServer[] = [];
after(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterEach(() => {
  setLogger(undefined);
});

/** The start of a client frame-trace line: time, namespace, connection id. */
const FRAME_PREFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z uamqp:frames conn-\d+ /;

/**
 * Routes the library logger's info lines of the frame trace (where the client's trace goes) into
 * an array, without their time and connection id; other lines must not be `uamqp:frames` lines.
 */
function captureLogger(): string[] {
  const lines: string[] = [];
  setLogger({
    debug: () => undefined,
    info: (m) => {
      if (m.includes(" uamqp:frames ")) {
        assert.match(m, FRAME_PREFIX);
        lines.push(m.replace(FRAME_PREFIX, ""));
      }
    },
    warn: () => undefined,
    error: () => undefined,
  });
  return lines;
}

/** An engine server whose own trace lines are recorded too. */
async function tracedServer(options: EngineConnectionOptions = {}): Promise<{
  server: EngineServer;
  lines: string[];
}> {
  const lines: string[] = [];
  const server = await startEngineServer({ ...options, trace: (line) => lines.push(line) });
  servers.push(server);
  return { server, lines };
}

function assertNoSecret(lines: readonly string[], secrets: readonly string[], who: string): void {
  for (const line of lines) {
    for (const secret of secrets) {
      assert.ok(!line.includes(secret), `${who} trace line leaks ${JSON.stringify(secret)}: ${line}`);
    }
  }
}

const TRANSFER_LINE = /^(->|<-) \[TRANSFER\] ch=\d+ \{(.*)\} \+(\d+)B$/;
/** What a TRANSFER performative may show: numbers, flags and the delivery tag's size. */
const TRANSFER_FIELD =
  /^(?:(?:handle|deliveryId|messageFormat)=\d+|rcvSettleMode=(?:first|second)|deliveryTag=<\d+ bytes>|(?:settled|more|resume|aborted|batchable)=(?:true|false))$/;

/** The TRANSFER lines of one direction: `more` flag and payload size of each. */
function transfers(lines: readonly string[], direction: "->" | "<-"): { more: boolean; size: number }[] {
  const out: { more: boolean; size: number }[] = [];
  for (const line of lines) {
    if (!line.includes("[TRANSFER]")) continue;
    const m = TRANSFER_LINE.exec(line);
    assert.ok(m, `unexpected TRANSFER trace line: ${line}`);
    const fields = m[2]!.split(/ (?=[a-zA-Z]+=)/);
    for (const field of fields) assert.match(field, TRANSFER_FIELD, `unexpected TRANSFER field in: ${line}`);
    if (m[1] === direction) out.push({ more: fields.includes("more=true"), size: Number(m[3]) });
  }
  return out;
}

/** A put-token-like message: the token in the body, secrets in the application properties. */
function secretMessage(padding = ""): Message {
  return new Message({
    body: SAS_TOKEN + padding,
    applicationProperties: {
      operation: "put-token",
      type: "servicebus.windows.net:sastoken",
      name: "amqp://myns.example.net/q",
      connection: APP_SECRET,
    },
  });
}

/** Sends `message` to `address` and receives it back on the same session; returns the payload size. */
async function sendAndReceive(
  conn: Connection,
  server: EngineServer,
  address: string,
  message: Message,
): Promise<{ payloadSize: number; received: Message }> {
  const session = new Session(conn);
  const sender = new MessageSender(session, "me", address);
  await Promise.all([conn.open(), sender.open()]);
  const outcome = await sender.send(message);
  assert.equal(outcome.result, MessageSendResult.Ok);
  const stored = server.queues.get(address)?.[0];
  assert.ok(stored, "the server stored the message");
  const payloadSize = stored.length;
  const got: Message[] = [];
  const receiver = new MessageReceiver(session, address, "me", { onMessageReceived: (m) => got.push(m) });
  await receiver.open();
  await until(() => got.length >= 1, "the message");
  return { payloadSize, received: got[0]! };
}

describe("network trace: payloads and SASL secrets are never traced", () => {
  it("a TRANSFER whose body and application properties hold a SAS token: performative and size only, both ways", async () => {
    const { server, lines: serverLines } = await tracedServer();
    const lines = captureLogger();
    const conn = new Connection(
      "localhost",
      new SASLAnonymous("localhost", { tls: false, port: server.port }),
      {
        debug: true,
      },
    );
    const { payloadSize, received } = await sendAndReceive(conn, server, "trace-q", secretMessage());
    await conn.close();
    setLogger(undefined);

    // The message really carried the secrets (so their absence from the trace means something).
    assert.equal(received.toString(), SAS_TOKEN);
    assert.equal(received.applicationProperties?.["connection"], APP_SECRET);

    assert.ok(lines.length > 0, "trace lines through the logger");
    assert.deepEqual(transfers(lines, "->"), [{ more: false, size: payloadSize }]);
    assert.deepEqual(transfers(lines, "<-"), [{ more: false, size: payloadSize }]);
    assert.deepEqual(transfers(serverLines, "<-"), [{ more: false, size: payloadSize }]);
    assert.deepEqual(transfers(serverLines, "->"), [{ more: false, size: payloadSize }]);
    assert.ok(lines.some((l) => l.startsWith("-> [ATTACH]")));
    assert.ok(lines.some((l) => l.startsWith("<- [DISPOSITION]")));

    assertNoSecret(lines, FORBIDDEN, "client");
    assertNoSecret(serverLines, FORBIDDEN, "server");
  });

  it("a multi-frame transfer (max frame 512) traces every frame's size, never a piece of the token", async () => {
    const { server, lines: serverLines } = await tracedServer({ maxFrameSize: 512 });
    const lines = captureLogger();
    const conn = new Connection(
      "localhost",
      new SASLAnonymous("localhost", { tls: false, port: server.port }),
      {
        debug: true,
        maxFrameSize: 512,
      },
    );
    // The token repeated: many frames, each holding some part of it.
    const padding = ` ${SAS_TOKEN}`.repeat(20);
    const { payloadSize, received } = await sendAndReceive(conn, server, "trace-big", secretMessage(padding));
    await conn.close();
    setLogger(undefined);
    assert.equal(received.toString(), SAS_TOKEN + padding);

    for (const [who, direction, traced] of [
      ["client", "->", lines],
      ["client", "<-", lines],
      ["server", "<-", serverLines],
      ["server", "->", serverLines],
    ] as const) {
      const frames = transfers(traced, direction);
      assert.ok(frames.length > 1, `${who} ${direction}: several frames (got ${frames.length})`);
      assert.deepEqual(
        frames.map((f) => f.more),
        [...frames.slice(1).map(() => true), false],
        `${who} ${direction}: more=true on all but the last frame`,
      );
      assert.equal(
        frames.reduce((n, f) => n + f.size, 0),
        payloadSize,
        `${who} ${direction}: the frame sizes add up to the payload`,
      );
    }
    assertNoSecret(lines, FORBIDDEN, "client");
    assertNoSecret(serverLines, FORBIDDEN, "server");
  });

  it("SASL PLAIN: the password appears on neither side, in no encoding; the SASL-INIT line is exact", async () => {
    const user = "trace-user";
    const password = "Pl41n-p4ssw0rd-SECRET";
    const { server, lines: serverLines } = await tracedServer({
      saslServer: { mechanisms: ["PLAIN"], users: { [user]: password } },
    });
    const lines = captureLogger();
    const conn = new Connection(
      "localhost",
      new SASLPlain("localhost", user, password, { tls: false, port: server.port }),
      { debug: true },
    );
    await conn.open();
    await conn.close();
    setLogger(undefined);

    const initialResponse = Buffer.from(`\u0000${user}\u0000${password}`, "utf8");
    const encodings = [
      password,
      initialResponse.toString("base64"),
      Buffer.from(password).toString("base64"),
      Buffer.from(password).toString("hex"),
      initialResponse.toString("hex"),
    ];
    assertNoSecret(lines, encodings, "client");
    assertNoSecret(serverLines, encodings, "server");
    // The user name is part of the initial response: not shown either.
    assertNoSecret([...lines, ...serverLines], [user], "client or server");

    assert.ok(
      lines.includes(
        '-> [SASL-INIT] ch=0 {mechanism="PLAIN" initialResponse=<redacted> hostname="localhost"}',
      ),
      lines.join("\n"),
    );
    assert.ok(
      serverLines.includes(
        '<- [SASL-INIT] ch=0 {mechanism="PLAIN" initialResponse=<redacted> hostname="localhost"}',
      ),
      serverLines.join("\n"),
    );
    // The exchange succeeded: the redaction is in the trace only.
    assert.ok(lines.includes("<- [SASL-OUTCOME] ch=0 {code=ok}"), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("<- [OPEN]")));
  });
});
