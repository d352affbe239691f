/**
 * Secrets stay secret on the Azure path: with `debug: true` the frame trace and every log line of
 * an open, a send, token refreshes, a management request and refused put-tokens hold no token,
 * key, signature or password; nor do `util.inspect` of the clients, the connection, its CBS
 * authentication and the errors, nor the error a peer echoing the token causes.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { inspect } from "node:util";
import { SASTokenAuth } from "../../src/auth/cbs-auth.js";
import { AMQPClient } from "../../src/client/amqp-client.js";
import { SendClient } from "../../src/client/send-client.js";
import { TokenAuthFailure } from "../../src/errors/exceptions.js";
import { Message } from "../../src/message/message.js";
import { setLogger } from "../../src/util/log.js";
import { rejectionOf } from "../support/waits.js";
import { HUB, KEY, KEY_NAME, putTokenHook, recordStatus, suiteResources, until } from "./support.js";

const PASSWORD = "pl4in-Passw0rd!";

/** The signature of a SAS token, as it appears in it (URL-encoded) and decoded. */
function signatures(token: string): string[] {
  const sig = /sig=([^&]+)/.exec(token)?.[1];
  assert.ok(sig, "a signature in the token");
  return [sig, decodeURIComponent(sig)];
}

describe("azure path: secrets in traces, logs, errors and inspect", () => {
  const { broker, keep } = suiteResources();
  after(() => {
    setLogger(undefined);
  });

  it("debug: true traces and every log line hold no token, key, signature or password", async () => {
    const b = await broker();
    b.broker.createQueue(HUB);
    const lines: string[] = [];
    const capture =
      (level: string) =>
      (message: string, ...args: unknown[]) => {
        lines.push(`${level} ${message} ${args.map((a) => inspect(a, { depth: 6 })).join(" ")}`);
      };
    setLogger({
      debug: capture("debug"),
      info: capture("info"),
      warn: capture("warn"),
      error: capture("error"),
    });

    // Open, send, two refreshes (the second refused once first), a management request.
    let refuseRefresh = true;
    b.broker.setHooks("$cbs", {
      onRequest: putTokenHook((n) => {
        if (n === 2 && refuseRefresh) {
          refuseRefresh = false;
          return { statusCode: 500, statusDescription: "try again" };
        }
        return undefined;
      }),
    });
    const auth = b.sasAuth(HUB, { expiry: 3000, retryPolicy: { retries: 0 } });
    const client = keep(new SendClient(b.url(HUB), { auth, debug: true }));
    const status = recordStatus(client);
    await client.sendMessage(new Message({ body: "traced" }));
    const reply = await client.mgmtRequest(
      new Message({ body: null, applicationProperties: { name: HUB } }),
      "READ",
    );
    assert.equal(reply.statusCode, 200);
    await until(() => status.some((s) => s.type === "tokenRefreshed"), "a refresh", 6000);

    // A wrong key, refused by a peer that quotes the token back in its description.
    b.broker.setHooks("$cbs", {
      onRequest: (r) => ({
        statusCode: 401,
        statusDescription: `bad token: ${typeof r.body === "string" ? r.body : ""}`,
      }),
    });
    const bad = SASTokenAuth.fromSharedAccessKey(b.uri(), KEY_NAME, "Wr0ngKey+/=", {
      tls: false,
      port: b.broker.port!,
      retryPolicy: { retries: 0 },
    });
    const badClient = keep(new AMQPClient(b.url(HUB), { auth: bad, debug: true }));
    const error = await rejectionOf(badClient.open(), "open with a wrong key");
    assert.ok(error instanceof TokenAuthFailure);
    assert.match(error.message, /bad token: <redacted>/);

    // SASL PLAIN credentials of a URL.
    const plain = keep(
      new SendClient(`amqp://user:${PASSWORD}@127.0.0.1:${b.broker.port}/plain`, { debug: true }),
    );
    await plain.sendMessage(new Message({ body: "plain" }));

    const tokens = b.requests("$cbs").map((r) => (typeof r.request.body === "string" ? r.request.body : ""));
    assert.ok(tokens.every((t) => t.startsWith("SharedAccessSignature ")));
    assert.ok(tokens.length >= 4);
    const secrets = [KEY, "Wr0ngKey+/=", PASSWORD, ...tokens, ...tokens.flatMap(signatures)];
    const text = lines.join("\n");
    assert.match(text, /amqp:frames/, "the trace is on");
    assert.match(text, /put-token|token refresh failed/);
    for (const s of secrets) assert.ok(!text.includes(s), `a secret in the logs: ${s.slice(0, 12)}…`);

    // inspect of what the application holds, and of the errors.
    const shown = [
      inspect(client, { depth: 6 }),
      inspect(badClient, { depth: 6 }),
      inspect(plain, { depth: 6 }),
      inspect(client.connection, { depth: 6 }),
      inspect(client.connection?.cbs, { depth: 6 }),
      inspect(client.session, { depth: 4 }),
      inspect(auth, { depth: 6 }),
      inspect(error, { depth: 6 }),
      inspect(status, { depth: 6 }),
      error.message,
      JSON.stringify(auth),
    ].join("\n");
    for (const s of secrets) assert.ok(!shown.includes(s), `a secret in inspect output: ${s.slice(0, 12)}…`);
  });
});
