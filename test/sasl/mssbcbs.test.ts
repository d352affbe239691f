/**
 * SASL MSSBCBS on the connecting side: the sasl-init it makes is byte for byte the one Azure's
 * uamqp-C sends (sasl_mssbcbs.c gives no init bytes, and saslclientio.c then leaves the
 * initial-response out; no hostname). The expected frame was captured from Python uamqp 1.5.3 on the
 * wire; test/interop/uamqp-token-auth.test.ts captures it again from the live peer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthenticationException } from "../../src/errors/exceptions.js";
import { FrameType, SaslInit, writeCompositeFrame, type SaslInitFields } from "../../src/frames/index.js";
import { SaslMssbcbsMechanism } from "../../src/sasl/mechanisms.js";
import { SaslClientNegotiator } from "../../src/sasl/sasl-client.js";
import { ByteWriter } from "../../src/util/byte-writer.js";

/** Python uamqp's sasl-init frame: described list 0x41 with one field, the symbol MSSBCBS. */
const UAMQP_MSSBCBS_SASL_INIT = "0000001702010000005341c00a01a3074d535342434253";

function saslInitFrame(fields: SaslInitFields): string {
  const w = new ByteWriter(64);
  writeCompositeFrame(w, FrameType.Sasl, 0, SaslInit, fields);
  return Buffer.from(w.toBuffer()).toString("hex");
}

describe("SASL MSSBCBS mechanism (connecting side)", () => {
  it("is named MSSBCBS and has no initial response", () => {
    const m = new SaslMssbcbsMechanism();
    assert.equal(m.name, "MSSBCBS");
    assert.equal(m.initialResponse(), undefined);
  });

  it("sends the sasl-init uamqp-C sends when the server offers MSSBCBS among others", () => {
    const neg = new SaslClientNegotiator(new SaslMssbcbsMechanism(), undefined);
    const step = neg.onMechanisms({ saslServerMechanisms: ["PLAIN", "MSSBCBS", "ANONYMOUS"] });
    assert.ok("send" in step && step.send === "init", JSON.stringify(step));
    assert.deepEqual(step.frame, { mechanism: "MSSBCBS" });
    assert.equal(saslInitFrame(step.frame), UAMQP_MSSBCBS_SASL_INIT);
  });

  it("fails with an AuthenticationException naming the offer when the server does not offer it", () => {
    const neg = new SaslClientNegotiator(new SaslMssbcbsMechanism(), undefined);
    const step = neg.onMechanisms({ saslServerMechanisms: ["PLAIN"] });
    assert.ok("error" in step);
    assert.ok(step.error instanceof AuthenticationException);
    assert.match(step.error.message, /MSSBCBS is not offered.*PLAIN/);
  });
});
