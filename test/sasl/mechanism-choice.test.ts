/**
 * A connecting side with several SASL mechanisms (a token auth: MSSBCBS, then ANONYMOUS) uses the
 * first of its own list that the server offers, whatever the server's order; when none is
 * offered the error names them all. Through the engine too: the client negotiates with the
 * embedded broker's offer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthenticationException } from "../../src/errors/exceptions.js";
import {
  SaslAnonymousMechanism,
  SaslMssbcbsMechanism,
  SaslPlainMechanism,
} from "../../src/sasl/mechanisms.js";
import { SaslClientNegotiator } from "../../src/sasl/sasl-client.js";
import { Broker } from "../../src/broker/index.js";
import { AmqpConnection } from "../../src/engine/connection.js";
import { connectTcp } from "../../src/transport/tcp.js";

const tokenAuthChoice = [new SaslMssbcbsMechanism(), new SaslAnonymousMechanism()];

describe("SASL: the first offered of several mechanisms", () => {
  it("prefers our order: MSSBCBS when offered (in any position), else ANONYMOUS", () => {
    for (const offer of [
      ["MSSBCBS", "ANONYMOUS"],
      ["ANONYMOUS", "PLAIN", "MSSBCBS"],
    ]) {
      const neg = new SaslClientNegotiator(tokenAuthChoice, undefined);
      const step = neg.onMechanisms({ saslServerMechanisms: offer });
      assert.ok("send" in step && step.send === "init", JSON.stringify(step));
      assert.equal(step.frame.mechanism, "MSSBCBS");
      assert.equal(neg.mechanismName, "MSSBCBS");
    }
    const neg = new SaslClientNegotiator(tokenAuthChoice, "ns.example.net");
    const step = neg.onMechanisms({ saslServerMechanisms: ["PLAIN", "ANONYMOUS"] });
    assert.ok("send" in step && step.send === "init");
    assert.equal(step.frame.mechanism, "ANONYMOUS");
    assert.equal(step.frame.hostname, "ns.example.net");
  });

  it("names every mechanism of ours when the server offers none of them; the outcome names the chosen one", () => {
    const neg = new SaslClientNegotiator(tokenAuthChoice, undefined);
    const step = neg.onMechanisms({ saslServerMechanisms: ["PLAIN", "EXTERNAL"] });
    assert.ok("error" in step && step.error instanceof AuthenticationException);
    assert.match(
      step.error.message,
      /None of the SASL mechanisms MSSBCBS, ANONYMOUS is offered .*PLAIN, EXTERNAL/,
    );

    const plain = new SaslClientNegotiator(
      [new SaslPlainMechanism("u", "p"), new SaslAnonymousMechanism()],
      undefined,
    );
    plain.onMechanisms({ saslServerMechanisms: ["ANONYMOUS"] });
    const outcome = plain.onOutcome({ code: 1 });
    assert.ok("error" in outcome);
    assert.match(outcome.error.message, /mechanism ANONYMOUS/);
  });

  it("the engine negotiates from a list with a real offer (the broker without MSSBCBS: ANONYMOUS)", async () => {
    for (const [mechanisms, expected] of [
      [["PLAIN", "MSSBCBS", "ANONYMOUS"], "MSSBCBS"],
      [["PLAIN", "ANONYMOUS"], "ANONYMOUS"],
    ] as const) {
      const broker = await Broker.start({ sasl: { mechanisms } });
      const seen: (string | undefined)[] = [];
      broker.observe((e) => {
        if (e.type === "connection-open") seen.push(e.mechanism);
      });
      try {
        const conn = new AmqpConnection({ hostname: "127.0.0.1", sasl: tokenAuthChoice });
        conn.start(await connectTcp({ host: "127.0.0.1", port: broker.port!, timeoutMs: 5000 }));
        await conn.opened();
        await conn.close();
        assert.deepEqual(seen, [expected]);
      } finally {
        await broker.close();
      }
    }
  });
});
