/**
 * A `$cbs` put-token carries the token in its body: with every switch on (all namespaces, the
 * lowest level), neither the client's nor the broker's lines show any part of it; the request is
 * seen as its frames' sizes and the links' names and addresses only.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TOKEN } from "./apps/secrets.js";
import { logLines, runApp } from "./run-app.js";

describe("$cbs put-token under the trace", () => {
  it("DEBUG=* UAMQP_LOG_LEVEL=debug: the token appears in no line", async () => {
    const run = await runApp("put-token", { DEBUG: "*", UAMQP_LOG_LEVEL: "debug" });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "status 200\n", "the broker took the token");
    for (const piece of [TOKEN, "SharedAccessSignature", "SECRETsig", "sig=", "skn=app"]) {
      assert.ok(!run.stderr.includes(piece), `the output shows ${JSON.stringify(piece)}`);
    }
    const lines = logLines(run.stderr);
    // Both sides traced the request and the response: as sizes.
    for (const [namespace, direction] of [
      ["uamqp:frames", "->"],
      ["uamqp:frames", "<-"],
      ["uamqp:broker:frames", "->"],
      ["uamqp:broker:frames", "<-"],
    ] as const) {
      assert.ok(
        lines.some(
          (l) =>
            l.namespace === namespace &&
            new RegExp(` ${direction} \\[TRANSFER\\] .*\\} \\+\\d+B$`).test(l.text),
        ),
        `${namespace} ${direction} TRANSFER in:\n${run.stderr}`,
      );
    }
    assert.ok(lines.some((l) => l.namespace === "uamqp:link" && / to "\$cbs" attached$/.test(l.text)));
  });
});
